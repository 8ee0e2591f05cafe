// The widget's side of the chat protocol (docs/protocol.md, widget), without any view: the socket,
// the conversation as the customer sees it, and what is still to be sent. A view subscribes and
// draws `chat.state`; it acts through the methods.
//
// Each message is kept by its number (seq), so a resent or replayed one shows once and one that
// comes early is put in its place. A message the customer wrote is pending until its ack, and
// kept in storage until then, so a reload sends it again (the same client_id: recorded once). A
// message the engine refused is shown once, with the reason, and dropped: it is never resent.

const RETRY = new Set(["store_unavailable", "rate_limited", "busy"]);  // nothing recorded; the same message later
const RETRY_AFTER_MS = 3000;
const GAP_WAIT_MS = 3000;

function newId() {
  return (globalThis.crypto && crypto.randomUUID) ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

export class Chat {
  constructor({ url, filesUrl, topic, language, vouched, storage, storageKey, onEvent }) {
    this.url = url;
    this.filesUrl = filesUrl;  // where files are uploaded (POST, the token as bearer), before a message names them
    this.topic = topic;
    this.language = language;
    this.vouched = vouched;          // what the page says of its visitor, sent once greeted
    this.storage = storage;
    this.key = storageKey;
    this.onEvent = onEvent || (() => {});
    const saved = this._load();
    this.token = saved.token || null;
    this.unsent = saved.pending || [];  // [{client_id, text}] written but not acknowledged
    this.leaving = saved.leaving || null;  // a message being left (outside office hours), until it is filed
    this.state = {
      connection: "connecting",
      contact: null,      // the open chat: {id, state}
      items: [],          // what the log shows: messages and notes, in order
      typing: false,
      queue: null,        // while waiting: {position, expected_wait_s}
      rating: null,       // a chat that ended, to rate: {contactId, sent}
      office: null,       // {open, opens_at, time_zone}: when the office is closed, when it opens
      limits: { max_message_chars: 4000 },
      leaveForm: false,   // the form to leave a message is shown
      leave: this.leaving ? { status: "sending" } : null,  // the message being left: {status, code, problem, field}
      left: saved.left || null,  // the message left: {ticket, email, answerBy, name}
      open: !!saved.open,
      tab: ["callme", "call"].includes(saved.tab) ? saved.tab : "chat",  // which tab the window shows (kept from page to page)
      unread: 0,
    };
    this._listeners = new Set();
    this._taps = new Set();       // what else speaks over this socket (a call): told every message
    this.elsewhere = new Set();   // contacts of this customer that are not the chat (a call's)
    this._seqs = new Map();       // contact_id -> Set of seqs shown
    this._unbroken = new Map();   // contact_id -> highest seq with none missing below
    this._gapTimer = null;
    this._typingTimer = null;
    this._lastTypingSent = 0;
    this._greeted = false;
    this._backoff = 500;
    this.ws = null;
    for (const p of this.unsent) this._add({ kind: "message", from: "customer", text: p.text, clientId: p.client_id, status: "pending", files: p.shown });
  }

  // ---- what a view uses
  subscribe(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }
  /** Every message the socket brings, for another part of the widget that speaks over it (a call). */
  listen(fn) { this._taps.add(fn); return () => this._taps.delete(fn); }
  setOpen(open) {
    this._set({ open, unread: open ? 0 : this.state.unread });
    this._save();
    if (open) this._seen();
  }
  /** Tell the agent what the customer has seen: the chat's messages so far, while the window is open. */
  _seen() {
    const contact = this.state.contact;
    if (!contact || !this.state.open || (typeof document !== "undefined" && document.hidden)) return;
    const seq = this._unbroken.get(contact.id) || 0;
    if (seq > (this._readSent || 0) && contact.state === "assigned") {
      this._readSent = seq;
      this._send({ type: "read", contact_id: contact.id, seq });
    }
  }
  write(text) {
    if (!text.trim()) return false;
    const limit = this.state.limits.max_message_chars;
    if (limit && [...text].length > limit) return false;  // the view says so; nothing is sent
    const clientId = newId();
    this.unsent.push({ client_id: clientId, text });
    this._save();
    this._add({ kind: "message", from: "customer", text, clientId, status: "pending" });
    this._sendMessage({ client_id: clientId, text });
    return true;
  }
  /** Send a file: uploaded first (checked against the limits before), then a message names it. */
  async sendFile(file) {
    const limits = this.state.limits;
    const clientId = newId();
    const shown = [{ name: file.name, size: file.size, type: file.type }];
    this._add({ kind: "message", from: "customer", text: "", files: shown, clientId, status: "pending" });
    const refuse = (why) => {
      const mine = this.state.items.find((i) => i.clientId === clientId);
      if (mine) this._replace(mine, { ...mine, status: "failed", ...why });
    };
    if (limits.max_file_mb && file.size > limits.max_file_mb * 1048576) return refuse({ code: "invalid_field", problem: "file_too_large", limit: limits.max_file_mb });
    if (limits.file_types && file.type && !limits.file_types.includes(file.type)) return refuse({ code: "invalid_field", problem: "type_not_allowed" });
    let answer;
    let body = {};
    try {
      answer = await fetch(this.filesUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.token}`, "Content-Type": file.type || "application/octet-stream", "X-File-Name": encodeURIComponent(file.name) },
        body: file,
      });
      body = await answer.json();
    } catch {
      return refuse({ code: "upload_failed" });
    }
    if (!answer.ok) return refuse({ code: body.error, problem: body.problem, limit: body.limit });
    const p = { client_id: clientId, text: "", files: [body.id], shown };
    this.unsent.push(p);
    this._save();
    this._sendMessage(p);
    return undefined;
  }
  /** Save a file of the conversation (one the agent sent, or the customer's own): fetched with the token. */
  async download(file) {
    let answer;
    try {
      answer = await fetch(`${this.filesUrl}/${encodeURIComponent(file.id)}`, { headers: { Authorization: `Bearer ${this.token}` } });
    } catch {
      answer = null;
    }
    if (!answer || !answer.ok) { this._note("error", { code: "download_failed" }); return; }
    const url = URL.createObjectURL(await answer.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = file.name;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }
  typing() {
    const now = Date.now();
    if (now - this._lastTypingSent > 2000) { this._lastTypingSent = now; this._send({ type: "typing" }); }
  }
  leave() { this._send({ type: "leave" }); }
  rate(score, comment) {
    const r = this.state.rating;
    if (r && !r.sent) this._send({ type: "rate", contact_id: r.contactId, score, comment, ref: `rate:${r.contactId}` });
  }
  dismissRating() { this._set({ rating: null }); }
  /** Show the chat or the call-me tab (the window opens with it). */
  setTab(tab) { this._set({ tab, open: true, unread: tab === "chat" ? 0 : this.state.unread }); this._save(); }
  showLeaveForm(shown) { this._set({ leaveForm: shown }); }
  /** Leave a message to be answered by email: sent (again, the same client_id) until the engine files it. */
  leaveMessage({ name, email, text }) {
    this.leaving = { client_id: newId(), name, email, text };
    this._save();
    this._set({ leave: { status: "sending" } });
    this._sendLeaving();
  }
  _sendLeaving() {
    const l = this.leaving;
    if (l) this._send({ type: "leave_message", ...l, ref: `left:${l.client_id}` });
  }
  _messageLeft(m) {
    if (!this.leaving || this.leaving.client_id !== m.client_id) return;
    const left = { ticket: m.ticket, email: m.email, answerBy: m.answer_by, name: this.leaving.name };
    this.leaving = null;
    this._set({ left, leave: null, leaveForm: false });
    this._save();
  }
  /** Whether an agent answered in this chat: only then is there something to rate. */
  _spoke(contactId) { return this.state.items.some((i) => i.contactId === contactId && i.from === "agent"); }
  send(message) { return this._send(message); }
  /** A token the widget got elsewhere (the call-me tab's first request): the chat's from its next hello. */
  adoptToken(token) { if (!this.token) { this.token = token; this._save(); } }
  drop() { if (this.ws) this.ws.close(); }

  connect() {
    const ws = this.ws = new WebSocket(this.url);
    ws.onopen = () => {
      this._backoff = 500;
      const hello = { type: "hello", topic: this.topic, language: this.language };
      if (this.token) hello.token = this.token;
      const contact = this.state.contact;
      if (contact) { hello.contact_id = contact.id; hello.last_seq = this._unbroken.get(contact.id) || 0; }
      this._send(hello);
    };
    ws.onmessage = (event) => {
      let m;
      try { m = JSON.parse(event.data); } catch { return; }
      for (const one of Array.isArray(m) ? m : [m]) {
        if (!(one.contact_id && this.elsewhere.has(one.contact_id))) this._handle(one);
        for (const tap of this._taps) tap(one);
        this.onEvent(one);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this._set({ connection: "lost" });
      setTimeout(() => this.connect(), this._backoff);
      this._backoff = Math.min(this._backoff * 2, 10000);
    };
  }

  // ---- the protocol
  _handle(m) {
    switch (m.type) {
      case "welcome": return this._welcome(m);
      case "message": return this._message(m);
      case "transcript": return (m.messages || []).forEach((one) => this._message(one));
      case "ack": return this._ack(m);
      case "typing":
        clearTimeout(this._typingTimer);
        this._typingTimer = setTimeout(() => this._set({ typing: false }), 4000);
        return this._set({ typing: true });
      case "queue":
        if (this.state.contact && this.state.contact.id === m.contact_id) this._set({ queue: { position: m.position, wait: m.expected_wait_s } });
        return undefined;
      case "agent_joined":
        this._set({ queue: null, contact: this.state.contact && { ...this.state.contact, state: "assigned" } });
        return this._note("joined", { agent: m.agent });
      case "agent_left":
        this._set({ contact: this.state.contact && { ...this.state.contact, state: "queued" } });
        return this._note("left");
      case "ended":
        if (this.state.contact && this.state.contact.id === m.contact_id) this._set({ contact: null, typing: false, queue: null });
        if (this._spoke(m.contact_id)) this._set({ rating: { contactId: m.contact_id, sent: false } });
        return this._note("ended");
      case "message_left": return this._messageLeft(m);
      case "rated":
        return this._set({ rating: { contactId: m.contact_id, sent: true } });
      case "error": return this._error(m);
      default: return undefined;
    }
  }

  _welcome(m) {
    this.token = m.token;
    this._save();
    const contact = m.contact && m.contact.state !== "closed" ? m.contact : null;
    this._set({ connection: "open", contact, limits: { ...this.state.limits, ...(m.limits || {}) }, office: m.office || null });
    if (!this._greeted) {
      this._greeted = true;
      this._send({ type: "page_view", url: location.href, title: document.title });
      if (Object.keys(this.vouched).length) this._send({ type: "identify", ...this.vouched });
    }
    for (const p of this.unsent) this._sendMessage(p);
    this._sendLeaving();
  }

  _message(m) {
    const seen = this._seqs.get(m.contact_id) || new Set();
    this._seqs.set(m.contact_id, seen);
    if (seen.has(m.seq)) return;
    seen.add(m.seq);
    if (!this.state.contact || this.state.contact.id !== m.contact_id) {
      if (m.from === "customer" || !this.state.contact) this._set({ contact: { id: m.contact_id, state: "queued" } });
    }
    const mine = m.client_id && this.state.items.find((i) => i.clientId === m.client_id && !i.seq);
    const item = { kind: "message", from: m.from === "customer" ? "customer" : "agent", text: m.text, at: m.at,
      seq: m.seq, contactId: m.contact_id, clientId: m.client_id, status: "sent", files: m.files };
    if (mine) this._replace(mine, item);
    else this._add(item);
    if (item.from === "agent") {
      this._set({ typing: false, unread: this.state.open ? 0 : this.state.unread + 1 });
      if (this.state.contact && this.state.contact.state !== "assigned") this._set({ contact: { ...this.state.contact, state: "assigned" } });
    }
    this._forget(m.client_id);
    this._advance(m.contact_id);
    if (item.from === "agent") this._seen();
  }

  _ack(m) {
    const mine = this.state.items.find((i) => i.clientId === m.client_id && !i.seq);
    if (mine) {
      const seen = this._seqs.get(m.contact_id) || new Set();
      this._seqs.set(m.contact_id, seen);
      seen.add(m.seq);
      this._replace(mine, { ...mine, seq: m.seq, contactId: m.contact_id, status: "sent" });
      this._advance(m.contact_id);
    }
    if (!this.state.contact || this.state.contact.id !== m.contact_id) this._set({ contact: { id: m.contact_id, state: "queued" } });
    this._forget(m.client_id);
  }

  _error(m) {
    if (typeof m.ref === "string" && m.ref.startsWith("call:")) return;  // the call's own
    if (m.ref && this.leaving && m.ref === `left:${this.leaving.client_id}`) return this._leaveFailed(m);
    const mine = m.ref && this.state.items.find((i) => i.clientId === m.ref && i.status === "pending");
    if (!mine) { this._note("error", { code: m.code, problem: m.problem, limit: m.limit }); return; }
    if (RETRY.has(m.code)) {
      setTimeout(() => { const p = this.unsent.find((u) => u.client_id === m.ref); if (p) this._sendMessage(p); }, RETRY_AFTER_MS);
      return;
    }
    this._replace(mine, { ...mine, status: "failed", code: m.code, problem: m.problem, limit: m.limit });
    this._forget(m.ref);  // refused: shown once, never sent again
  }

  _leaveFailed(m) {
    if (RETRY.has(m.code) && m.code !== "rate_limited") {  // nothing filed: the same message again shortly
      setTimeout(() => this._sendLeaving(), RETRY_AFTER_MS);
      return;
    }
    this.leaving = null;  // refused: said once, with the field to mend; the form keeps what was typed
    this._save();
    this._set({ leave: { status: "failed", code: m.code, problem: m.problem, field: m.field, limit: m.limit } });
  }

  _sendMessage(p) {
    const m = { type: "message", client_id: p.client_id, text: p.text, ref: p.client_id };  // p.shown: for the view only
    if (p.files) m.files = p.files;
    this._send(m);
  }

  _send(message) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(message)); return true; }
    return false;
  }

  // The highest seq with none missing below; a gap that lasts is asked for, as the protocol allows.
  _advance(contactId) {
    const seen = this._seqs.get(contactId);
    let n = this._unbroken.get(contactId) || 0;
    while (seen.has(n + 1)) n += 1;
    this._unbroken.set(contactId, n);
    clearTimeout(this._gapTimer);
    if ([...seen].some((s) => s > n)) {
      this._gapTimer = setTimeout(() => this._send({ type: "transcript", contact_id: contactId, after_seq: n }), GAP_WAIT_MS);
    }
  }

  _forget(clientId) {
    if (!clientId) return;
    const before = this.unsent.length;
    this.unsent = this.unsent.filter((p) => p.client_id !== clientId);
    if (this.unsent.length !== before) this._save();
  }

  // ---- the log: messages of one contact in seq order; what has no seq yet (pending) after them
  _add(item) {
    const items = this.state.items.slice();
    let at = items.length;
    if (item.seq) {
      const later = items.findIndex((i) => i.kind === "message" && ((i.contactId === item.contactId && i.seq > item.seq) || i.status === "pending"));
      if (later >= 0) at = later;
    }
    items.splice(at, 0, item);
    this._set({ items });
  }
  _replace(old, item) {
    const items = this.state.items.filter((i) => i !== old);
    this.state = { ...this.state, items };
    this._add(item);
  }
  _note(what, values = {}) { this._add({ kind: "note", what, values, at: Date.now() / 1000 }); }

  _set(changes) {
    this.state = { ...this.state, ...changes };
    for (const fn of this._listeners) fn(this.state);
  }

  _load() {
    try { return JSON.parse(this.storage.getItem(this.key) || "{}") || {}; } catch { return {}; }
  }
  _save() {
    try {
      this.storage.setItem(this.key, JSON.stringify({ token: this.token, pending: this.unsent, open: this.state.open,
        tab: this.state.tab, leaving: this.leaving, left: this.state.left }));
    } catch { /* storage full or refused: the chat goes on, unsaved */ }
  }
}

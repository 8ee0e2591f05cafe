// The desk's side of its protocol (docs/protocol.md, agent desk), without any view: the socket,
// what the agent has (offers, contacts, their conversations and mails), and what is still to be
// sent. A view subscribes and draws `desk.state`; it acts through the methods.
//
// A reply is shown pending until its ack and sent again after a reconnect with the same
// client_id (recorded once). A draft belongs to its contact: kept per agent and contact in
// storage, so switching between contacts or reloading the page keeps each half-written answer.

import { Dialler } from "./dialler.js";
import { Softphone } from "./softphone.js";
import { SUPERVISION_HANDLERS, Supervision } from "./supervision.js";

const SESSION_KEY = "desk-token";

function newId() {
  return (globalThis.crypto && crypto.randomUUID) ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

export class Desk {
  constructor({ storage, session, notify }) {
    this.storage = storage;     // localStorage: drafts, settings
    this.session = session;     // sessionStorage: the token
    this.notify = notify || (() => {});
    this.token = session.getItem(SESSION_KEY);
    this.ws = null;
    this._backoff = 500;
    this._unsent = {};          // client_id -> the reply frame, until acked
    this._accepting = new Set();
    this._listeners = new Set();
    this.phone = new Softphone({ send: (m) => this._send(m), onChange: (calls) => this._set({ calls }) });
    this.dialler = new Dialler({ onChange: (dials) => this._set({ dials }), send: (m) => this._send(m) });
    this.supervision = new Supervision(this);
    this.state = {
      dials: {},                // contact id -> a callback's call through the gateway: {phase, muted, held, since, quality, ended}
      dialSetups: {},           // contact id -> dial_setup's answer: {tel, gateway}
      calls: {},                // contact id -> the softphone's call: {phase, muted, held, since, quality, ended}
      phase: this.token ? "desk" : "login",
      loginError: null,         // {code} or {text}
      connection: "connecting",
      agent: null,
      status: "away",
      statusReason: "",
      dispositions: [],
      timeZone: undefined,
      offers: [],               // [{offer, deadline}]
      contacts: {},             // id -> {contact, customer, messages: [], pending: [], mails, reply, unread, notes: []}
      current: null,
      history: {},              // customer id -> events, newest last
      typing: null,             // contact id the customer is typing in
      error: null,              // {code, ...} of the current contact's last refused action
      signedOut: null,          // why the session ended, to show on the sign-in form
      floor: { waiting: [], waiting_total: 0, agents: null },  // the waiting contacts, and every agent
      dashboard: null,          // supervisors: the live dashboard as last sent
      dashboardOpen: true,      // supervisors: the dashboard is in front (else the conversation)
      monitored: {},            // supervisors: contact id -> {contact, customer, messages, mails} listened in on
      watching: null,           // the contact id listened in on in front
      supervisorNotice: null,   // the last supervisor action done: {kind, ...}
      staffingAdvice: null,     // the engine's last answer to the staffing what-if (staffing_advice)
      staffingError: null,      // or why it refused the figures ({field, problem, ...})
      qualitySample: null,      // supervisors: this week's sample to review
      reviewing: null,          // supervisors: the finished conversation being reviewed, with the form
      reviewsOpen: false,       // the agent's own reviews are in front
      reportsOpen: false,       // supervisors: the reports page is in front
      myReviews: null,          // the agent's reviews, newest first
      reviewForm: null,
      reviewNotice: null,       // a review just added to the agent's
      transferSkills: [],
      search: null,             // {query, customers} of the last search
      colleagues: null,         // {contactId, agents}: whom a contact could be transferred to, as asked
      viewing: null,            // a customer found by search, shown in the side panel
      suggestions: {},          // contact id -> the pre-written replies suggested for its latest message
      found: null,              // {contactId, query, replies}: what "/" found as the agent types
      checked: {},              // contact id -> {text, findings}: the writing rules over its draft
      libraryOpen: false,       // the reply library's editor is in front of the agent
      library: null,            // {replies, owner, team}: the replies this agent may edit
      replySource: null,        // {reply_id, source, version, history} of the reply being edited
      libraryError: null,       // the last save's refusal ({code, message, problems})
      replySaved: null,         // {reply_id, version, deleted} of the last save
    };
  }

  subscribe(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }

  // ---- signing in and out
  async login(username, password) {
    this._set({ loginError: null });
    let response, body;
    try {
      response = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password }) });
      body = await response.json();
    } catch {
      this._set({ loginError: { code: "unreachable" } });
      return;
    }
    if (!response.ok) {
      this._set({ loginError: { code: body.error || "error", retry: Number(response.headers.get("Retry-After")) || 0 } });
      return;
    }
    this.token = body.token;
    this.session.setItem(SESSION_KEY, this.token);
    this._set({ phase: "desk", signedOut: null });
    this.connect();
  }
  async logout() {
    try { await fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${this.token}` } }); } catch { /* gone anyway */ }
    this._signedOut("logout");
  }
  _signedOut(reason) {
    this.session.removeItem(SESSION_KEY);
    this.token = null;
    if (this.ws) { this.ws.onclose = null; try { this.ws.close(); } catch { /* closed */ } this.ws = null; }
    this._set({ phase: "login", signedOut: reason, agent: null, offers: [], contacts: {}, current: null });
  }

  // ---- the socket
  connect() {
    const ws = this.ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/desk`);
    this._set({ connection: "connecting" });
    ws.onopen = () => { this._backoff = 500; this._send({ type: "hello", token: this.token }); };
    ws.onmessage = (event) => {
      let m;
      try { m = JSON.parse(event.data); } catch { return; }
      for (const one of Array.isArray(m) ? m : [m]) this._handle(one);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      if (event.code === 4401) { this._signedOut("ended"); return; }
      this._set({ connection: "lost" });
      setTimeout(() => this.connect(), this._backoff);
      this._backoff = Math.min(this._backoff * 2, 10000);
    };
  }
  _send(message) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(message)); return true; }
    return false;
  }

  // ---- acts
  setStatus(status) { this._send({ type: "set_status", status }); }
  accept(offerId) { this._accepting.add(offerId); this._send({ type: "accept", offer_id: offerId }); }
  reject(offerId) { this._send({ type: "reject", offer_id: offerId }); }
  /** How the agent's call to a callback's number went (at: the hour agreed, for call_back_later). */
  callbackOutcome(contactId, outcome, at) { this._send({ type: "callback_outcome", contact_id: contactId, outcome, at: at ?? null }); }
  select(contactId) {
    const c = this.state.contacts[contactId];
    if (!c) { this._set({ current: null, error: null, typing: null }); return; }
    this._setContact(contactId, { unread: 0 });
    this._set({ current: contactId, error: null, typing: null, dashboardOpen: false });
    this._send({ type: "history", customer_id: c.contact.customer_id });
    this.suggest(contactId);
  }
  /** Ask for the replies that answer the contact's latest customer message (asked again as messages come);
   *  a call or a callback has no message to answer in writing. */
  suggest(contactId) {
    const c = this.state.contacts[contactId];
    const written = c && (c.contact.channel === "chat" || c.contact.channel === "email");
    if (written && c.contact.state === "assigned") this._send({ type: "suggest", contact_id: contactId });
  }
  findReplies(contactId, query) { this._send({ type: "find_replies", contact_id: contactId, query }); }
  checkDraft(contactId, text) { this._send({ type: "check_draft", contact_id: contactId, text }); }
  replyUsed(contactId, replyId) { this._send({ type: "reply_used", contact_id: contactId, reply_id: replyId }); }
  // ---- the reply library (supervisors: the team's replies; everyone: their own)
  openLibrary(open = true) {
    this._set({ libraryOpen: open, libraryError: null, replySaved: null, replySource: null });
    if (open) this._send({ type: "library" });
  }
  loadReply(replyId) { this._set({ libraryError: null, replySaved: null }); this._send({ type: "reply_source", reply_id: replyId }); }
  newReply(replyId, source) { this._set({ libraryError: null, replySaved: null, replySource: { reply_id: replyId, source, version: 0, history: [] } }); }
  saveReply(replyId, source, base) { this._set({ libraryError: null }); this._send({ type: "save_reply", reply_id: replyId, source, base }); }
  deleteReply(replyId, base) { this._set({ libraryError: null }); this._send({ type: "delete_reply", reply_id: replyId, base }); }
  /** A word for the team's dictionary; the current draft is checked again once it is in. */
  addWord(word) { this._send({ type: "add_word", word }); }
  next(step = 1) {
    const ids = this.contactIds();
    if (!ids.length) return;
    const at = ids.indexOf(this.state.current);
    this.select(ids[(at + step + ids.length) % ids.length]);
  }
  reply(text, { replyTo, cc } = {}, files = []) {
    const id = this.state.current;
    const c = id && this.state.contacts[id];
    if (!c || !text.trim() || c.contact.state !== "assigned") return false;
    const clientId = newId();
    const email = c.contact.channel === "email";
    const frame = { type: email ? "email_reply" : "reply", contact_id: id, client_id: clientId, text, ref: clientId };
    if (email && replyTo) frame.reply_to = replyTo;
    if (email && cc && cc.length) frame.cc = cc;
    if (files.length) frame.attachments = files.map((f) => ({ reply: f.reply, name: f.name }));
    this._unsent[clientId] = frame;
    this._setContact(id, { pending: [...c.pending, { clientId, text, files: files.map((f) => f.name) }] });
    this._send(frame);
    this.setDraft(id, "");
    return true;
  }
  typing(contactId) {
    const now = Date.now();
    if (now - (this._lastTyping || 0) > 2000) { this._lastTyping = now; this._send({ type: "typing", contact_id: contactId }); }
  }
  addNote(contactId, text) {
    if (!text.trim() || !this.state.contacts[contactId]) return false;
    this._send({ type: "note", contact_id: contactId, text, ref: `note:${contactId}` });
    this.setDraft(contactId, "");
    return true;
  }
  /** The contact's internal notes: those in the customer's history, and those written since. */
  notes(contactId) {
    const c = this.state.contacts[contactId];
    if (!c) return [];
    const recorded = (this.state.history[c.contact.customer_id] || [])
      .filter((e) => e.kind === "note" && e.contact_id === contactId)
      .map((e) => ({ agentId: e.actor.replace(/^agent:/, ""), text: e.data.text, at: e.at }));
    const seen = new Set(recorded.map((n) => `${n.at}:${n.text}`));
    return [...recorded, ...c.internal.filter((n) => !seen.has(`${n.at}:${n.text}`))].sort((a, b) => a.at - b.at);
  }
  search(query) {
    if (query.trim().length < 2) { this._set({ search: null }); return; }
    this._send({ type: "search", query: query.trim(), ref: "search" });
  }
  view(customer) {
    this._set({ viewing: customer, error: null });
    if (customer) this._send({ type: "history", customer_id: customer.id, ref: "view" });
  }
  /** Ask who could take this contact now (answered by ``colleagues``). */
  askColleagues(contactId) {
    this._set({ colleagues: null });
    this._send({ type: "colleagues", contact_id: contactId });
  }
  transfer(contactId, target) {
    this._send({ type: "transfer", contact_id: contactId, ...target, ref: `transfer:${contactId}` });
  }
  close(contactId, disposition) { this._send({ type: "close", contact_id: contactId, disposition, ref: `close:${contactId}` }); }
  linkIdentity(contactId, kind, value) { this._send({ type: "link_identity", contact_id: contactId, kind, value }); }

  // ---- drafts: per agent and contact, kept across switching and reloading
  _draftKey(contactId) { return `desk-draft:${this.state.agent ? this.state.agent.id : ""}:${contactId}`; }
  draft(contactId) { return this.storage.getItem(this._draftKey(contactId)) || ""; }
  setDraft(contactId, text) {
    try {
      if (text) this.storage.setItem(this._draftKey(contactId), text);
      else this.storage.removeItem(this._draftKey(contactId));
    } catch { /* storage full: the draft lives in the page only */ }
  }

  contactIds() {
    return Object.values(this.state.contacts)
      .sort((a, b) => a.contact.enqueued_at - b.contact.enqueued_at)
      .map((c) => c.contact.id);
  }

  // ---- the protocol
  _handle(m) {
    const handler = HANDLERS[m.type];
    if (handler) handler(this, m);
  }

  _welcome(m) {
    const contacts = {};
    for (const p of m.contacts || []) contacts[p.contact.id] = this._entry(p, null);
    const offers = (m.offers || []).map((o) => ({ offer: o, deadline: Date.now() + o.timeout_s * 1000 }));
    const current = contacts[this.state.current] ? this.state.current : (Object.keys(contacts)[0] || null);
    this._set({ connection: "connected", agent: m.agent, status: m.agent.status === "offline" ? "away" : m.agent.status,
      statusReason: m.agent.status_reason || "", dispositions: m.dispositions || [], timeZone: (m.office || {}).time_zone,
      transferSkills: m.transfer_skills || [],
      offers, contacts, current, error: null });
    for (const frame of Object.values(this._unsent)) this._send(frame);  // the same client_id: recorded once
    if (current) this.select(current);
    for (const p of m.contacts || []) this._takeCall(p.contact);
    this.phone.ring(offers.some((o) => o.offer.contact.channel === "call"));
  }

  /** A call the agent holds: the softphone gets ready for the customer's browser. */
  _takeCall(contact) {
    if (contact.channel === "call" && contact.state === "assigned") this.phone.take(contact);
    if (contact.channel === "callback" && contact.state === "assigned" && !this.state.dialSetups[contact.id]) {
      this._send({ type: "dial_setup", contact_id: contact.id });
    }
  }
  /** Call a callback's number through the gateway, from the desk. */
  dial(contactId) {
    const setup = this.state.dialSetups[contactId];
    if (setup && setup.gateway) this.dialler.dial(contactId, setup.gateway);
  }

  _entry(p, old) {
    const messages = mergeMessages(old ? old.messages : [], p.messages || []);
    const sent = new Set(messages.map((x) => x.client_id).filter(Boolean));
    return {
      contact: p.contact, customer: p.customer, reply: p.reply || null, mails: p.mails || [],
      messages, pending: (old ? old.pending : []).filter((x) => !sent.has(x.clientId)),
      unread: old ? old.unread : 0, notes: old ? old.notes : [], internal: old ? old.internal : [],
      wrapUntil: old ? old.wrapUntil : null,
      readSeq: old ? old.readSeq : 0,
    };
  }

  _assigned(m) {
    const old = this.state.contacts[m.contact.id];
    const offers = this.state.offers.filter((o) => o.offer.contact.id !== m.contact.id);
    const contacts = { ...this.state.contacts, [m.contact.id]: this._entry(m, old) };
    const newMail = old && (m.mails || []).length > old.mails.length && this.state.current !== m.contact.id;
    if (newMail) contacts[m.contact.id].unread = old.unread + 1;
    this._set({ offers, contacts });
    this._takeCall(m.contact);
    this.phone.ring(offers.some((o) => o.offer.contact.channel === "call"));
    if (!old && !this.state.current) this.select(m.contact.id);
    else if (!old && this._accepting.size) { this._accepting.clear(); this.select(m.contact.id); }
  }

  _message(m) {
    const c = this.state.contacts[m.contact_id];
    if (!c) return;
    if (m.client_id) delete this._unsent[m.client_id];
    const messages = mergeMessages(c.messages, [m]);
    if (messages.length === c.messages.length) return;  // each seq is shown once
    const seen = this.state.current === m.contact_id && !document.hidden;
    this._setContact(m.contact_id, {
      messages,
      pending: c.pending.filter((x) => x.clientId !== m.client_id),
      unread: seen || m.from !== "customer" ? c.unread : c.unread + 1,
    });
    if (m.from === "customer") {
      if (this.state.current === m.contact_id) this.suggest(m.contact_id);
      if (this.state.typing === m.contact_id) this._set({ typing: null });
      if (document.hidden || this.state.current !== m.contact_id) this.notify("message", { contact: c, text: m.text || (m.files || []).map((f) => f.name).join(", ") });
    }
  }

  _contactState(m) {
    const c = this.state.contacts[m.contact_id];
    if (!c) return;
    if (m.state === "closed" || m.state === "transferred" || m.state === "scheduled") {  // scheduled: a callback to try later
      const contacts = { ...this.state.contacts };
      delete contacts[m.contact_id];
      this.phone.drop(m.contact_id);
      this.dialler.drop(m.contact_id);
      this.setDraft(m.contact_id, "");
      const current = this.state.current === m.contact_id ? null : this.state.current;
      this._set({ contacts, current, error: current === this.state.current ? this.state.error : null });
      if (!current) { const next = this.contactIds()[0]; if (next) this.select(next); }
      return;
    }
    const wrapUntil = m.state === "wrap_up" ? Date.now() + (m.wrap_up_s || 0) * 1000 : null;
    this._setContact(m.contact_id, { contact: { ...c.contact, state: m.state }, wrapUntil });
  }

  _error(m) {
    if (m.code === "unauthorized") { this._signedOut("unauthorized"); return; }
    if (this.state.libraryOpen) { this._set({ libraryError: m }); return; }
    const pending = m.ref && this._unsent[m.ref];
    if (pending) {
      delete this._unsent[m.ref];
      const c = this.state.contacts[pending.contact_id];
      if (c) this._setContact(pending.contact_id, { pending: c.pending.filter((x) => x.clientId !== m.ref) });
      if (["store_unavailable", "rate_limited", "busy"].includes(m.code)) {
        this._unsent[m.ref] = pending;  // nothing recorded: sent again after a while
        setTimeout(() => this._send(pending), 3000);
        return;
      }
    }
    if (m.ref === "staffing:advice") { this._set({ staffingError: m }); return; }
    if (m.ref && /^(status|move|monitor|review):/.test(m.ref)) { this._set({ supervisorNotice: { kind: "error", ...m } }); return; }
    this._set({ error: m });
  }

  _note(contactId, what) {
    const c = this.state.contacts[contactId];
    if (c) this._setContact(contactId, { notes: [...c.notes, { what, at: Date.now() / 1000 }] });
  }

  _setContact(id, changes) {
    const c = this.state.contacts[id];
    if (!c) return;
    this._set({ contacts: { ...this.state.contacts, [id]: { ...c, ...changes } } });
  }
  _set(changes) {
    this.state = { ...this.state, ...changes };
    for (const fn of this._listeners) fn(this.state);
  }
}

function mergeMessages(old, more) {
  const bySeq = new Map(old.map((m) => [m.seq, m]));
  for (const m of more) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const HANDLERS = {
  welcome: (d, m) => d._welcome(m),
  offer: (d, m) => {
    if (d.state.offers.some((o) => o.offer.offer_id === m.offer_id)) return;
    d._set({ offers: [...d.state.offers, { offer: m, deadline: Date.now() + m.timeout_s * 1000 }] });
    d.notify("offer", { offer: m });
    if (m.contact.channel === "call") d.phone.ring(true);
  },
  offer_details: (d, m) => d._set({
    offers: d.state.offers.map((o) => (o.offer.contact.id === m.contact_id ? { ...o, who: m.customer_name } : o)),
  }),
  offer_closed: (d, m) => {
    d._set({ offers: d.state.offers.filter((o) => o.offer.offer_id !== m.offer_id) });
    d.phone.ring(d.state.offers.some((o) => o.offer.contact.channel === "call"));
    // Accepted in another tab of this agent's: fetch the contact here too.
    if (m.reason === "accepted" && !d._accepting.has(m.offer_id) && !d.state.contacts[m.contact_id]) d._send({ type: "open", contact_id: m.contact_id });
  },
  assigned: (d, m) => d._assigned(m),
  message: (d, m) => d._message(m),
  transcript: (d, m) => (m.messages || []).forEach((one) => d._message(one)),
  ack: (d, m) => { delete d._unsent[m.client_id]; },
  email_queued: (d, m) => {
    delete d._unsent[m.client_id];
    const c = d.state.contacts[m.contact_id];
    if (c) d._setContact(m.contact_id, { pending: c.pending.filter((x) => x.clientId !== m.client_id) });
    d._send({ type: "open", contact_id: m.contact_id });  // the sent mail, as recorded
  },
  email: (d, m) => { if (d.state.contacts[m.contact_id]) d._send({ type: "open", contact_id: m.contact_id }); },
  email_sent: (d, m) => { if (d.state.contacts[m.contact_id]) d._send({ type: "open", contact_id: m.contact_id }); },
  typing: (d, m) => {
    clearTimeout(d._typingTimer);
    d._typingTimer = setTimeout(() => d._set({ typing: null }), 4000);
    d._set({ typing: m.contact_id });
  },
  customer_left: (d, m) => {
    const c = d.state.contacts[m.contact_id];
    if (!c) return;
    d._setContact(m.contact_id, { contact: { ...c.contact, left_at: Date.now() / 1000 } });
    d._note(m.contact_id, "customer_left");
  },
  contact_state: (d, m) => d._contactState(m),
  call_ice: (d, m) => d.phone.handle(m),
  dial_setup: (d, m) => d._set({ dialSetups: { ...d.state.dialSetups, [m.contact_id]: m } }),
  call_signal: (d, m) => d.phone.handle(m),
  call_held: (d, m) => d.phone.handle(m),
  call_ended: (d, m) => d.phone.handle(m),
  callback_outcome: () => {},  // the contact's move (wrap-up, or scheduled again) comes as contact_state
  status: (d, m) => d._set({ status: m.status === "offline" ? "away" : m.status, statusReason: m.reason || "" }),
  note_added: (d, m) => {
    const c = d.state.contacts[m.contact_id];
    if (c) d._setContact(m.contact_id, { internal: [...c.internal, { agentId: m.agent_id, text: m.text, at: m.at }] });
  },
  read: (d, m) => {
    const c = d.state.contacts[m.contact_id];
    if (c && m.seq > (c.readSeq || 0)) d._setContact(m.contact_id, { readSeq: m.seq });
  },
  history_added: (d, m) => {
    const e = m.event;
    const known = d.state.history[e.customer_id];
    if (!known || known.some((x) => x.id === e.id)) return;  // asked for with the next history, or seen
    d._set({ history: { ...d.state.history, [e.customer_id]: [...known, e] } });
  },
  colleagues: (d, m) => d._set({ colleagues: { contactId: m.contact_id, agents: m.agents || [] } }),
  suggestions: (d, m) => d._set({ suggestions: { ...d.state.suggestions, [m.contact_id]: m.replies || [] } }),
  draft_checked: (d, m) => d._set({ checked: { ...d.state.checked, [m.contact_id]: { text: m.text, findings: m.findings || [] } } }),
  library: (d, m) => d._set({ library: { replies: m.replies || [], owner: m.owner, team: !!m.team } }),
  reply_source: (d, m) => d._set({ replySource: { reply_id: m.reply_id, source: m.source, version: m.version, history: m.history || [] } }),
  reply_saved: (d, m) => {  // the list and the reply again, as saved (its new version and history)
    d._send({ type: "library" });
    if (!m.deleted) d._send({ type: "reply_source", reply_id: m.reply_id });
    const saved = { reply_id: m.reply_id, version: m.version, deleted: !!m.deleted };
    d._set({ replySaved: saved, libraryError: null, ...(m.deleted ? { replySource: null } : {}) });
  },
  word_added: (d) => {
    const id = d.state.current;
    if (id) d.checkDraft(id, d.draft(id));
  },
  replies_found: (d, m) => d._set({ found: { contactId: m.contact_id, query: m.query, replies: m.replies || [] } }),
  search_results: (d, m) => d._set({ search: { query: m.query, customers: m.customers || [] } }),
  floor: (d, m) => d._set({ floor: { waiting: m.waiting || [], waiting_total: m.waiting_total || 0, agents: m.agents || null } }),
  history: (d, m) => d._set({ history: { ...d.state.history, [m.customer_id]: m.events.slice().reverse() } }),
  session_ended: (d, m) => d._signedOut(m.reason),
  linked: (d, m) => d._note(m.contact_id, "linked"),
  error: (d, m) => d._error(m),
  ...SUPERVISION_HANDLERS,
};

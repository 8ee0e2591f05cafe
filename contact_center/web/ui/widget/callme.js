// The call-me button's side of the REST API (docs/protocol.md, "Callbacks"), without any view: the
// hours that may be booked, the customer's callback (its queue number, live place and expected
// wait, or its booked hour) and the links that cancel or move it. The callback is kept in storage
// so that it follows the customer from page to page; its place is asked again every few seconds
// while the window shows it. The widget's token is shared with the chat: a page without one gets
// a new visitor's with its first request.

const REFRESH_MS = 5000;

export class CallMe {
  constructor({ apiUrl, language, topic, storage, storageKey, token }) {
    this.apiUrl = apiUrl;            // .../api/callbacks
    this.language = language;
    this.topic = topic;
    this.storage = storage;
    this.key = `${storageKey}:callback`;
    this.token = token;              // { get(): string|null, set(token) }: the chat's
    this._listeners = new Set();
    this._timer = null;
    this.state = { slots: null, zone: null, booking: this._load(), status: "idle", error: null };
  }

  subscribe(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }

  async _call(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = this.token.get();
    if (token) headers.Authorization = `Bearer ${token}`;
    let answer;
    try {
      answer = await fetch(`${this.apiUrl}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    } catch {
      return { ok: false, body: { error: "unreachable" } };
    }
    let parsed = {};
    try { parsed = await answer.json(); } catch { /* an empty or odd body */ }
    return { ok: answer.ok, status: answer.status, body: parsed };
  }

  /** The hours that may be booked now, each {start, end, free}. */
  async loadSlots() {
    const answer = await this._call("GET", "/slots");
    if (answer.ok) this._set({ slots: answer.body.slots, zone: answer.body.time_zone });
    else this._set({ slots: [], error: answer.body });
  }

  /** Ask to be called at ``phone``: as soon as possible (``at`` null) or at the slot starting ``at``. */
  async ask(phone, at) {
    this._set({ status: "sending", error: null });
    const answer = await this._call("POST", "", { phone, at: at ?? null, language: this.language, topic: this.topic });
    if (!answer.ok) return this._set({ status: "failed", error: answer.body });
    if (answer.body.token) this.token.set(answer.body.token);
    this._keep(answer.body.callback);
    this._set({ status: "idle" });
  }

  /** The callback as it is now (its place moves up as others are called). */
  async refresh() {
    const booking = this.state.booking;
    if (!booking) return;
    const answer = await this._call("GET", `/${encodeURIComponent(booking.contact_id)}`);
    if (answer.ok) this._keep({ ...answer.body.callback, links: { ...booking.links, ...answer.body.callback.links } });
    else if (answer.status === 404 || answer.status === 401) this._keep(null);  // not this visitor's any more
  }

  async cancel() {
    const booking = this.state.booking;
    if (!booking || !booking.links.cancel) return;
    this._set({ status: "sending", error: null });
    const answer = await this._call("POST", "/cancel", { token: booking.links.cancel });
    if (!answer.ok) return this._set({ status: "failed", error: answer.body });
    this._keep(answer.body.callback);
    this._set({ status: "idle" });
  }

  async reschedule(at) {
    const booking = this.state.booking;
    if (!booking || !booking.links.reschedule) return;
    this._set({ status: "sending", error: null });
    const answer = await this._call("POST", "/reschedule", { token: booking.links.reschedule, at });
    if (!answer.ok) return this._set({ status: "failed", error: answer.body });
    this._keep(answer.body.callback);
    this._set({ status: "idle" });
    this.loadSlots();
  }

  /** Forget a callback that is over, to ask for another. */
  clear() { this._keep(null); }

  /** While the window shows the callback: its place asked again every few seconds. */
  watch(on) {
    clearInterval(this._timer);
    this._timer = on ? setInterval(() => this.refresh(), REFRESH_MS) : null;
    if (on) this.refresh();
  }

  _keep(booking) {
    this._set({ booking });
    try {
      if (booking) this.storage.setItem(this.key, JSON.stringify(booking));
      else this.storage.removeItem(this.key);
    } catch { /* storage refused: kept for this page only */ }
  }

  _load() {
    try { return JSON.parse(this.storage.getItem(this.key) || "null"); } catch { return null; }
  }

  _set(changes) {
    this.state = { ...this.state, ...changes };
    for (const fn of this._listeners) fn(this.state);
  }
}

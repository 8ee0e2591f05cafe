// Dialling a callback's number from the desk through the SIP gateway ([gateway]): a SIP-over-WebSocket
// softphone (JsSIP) that calls the number as the company's caller ID, with the credentials the engine
// made for this agent (dial_setup). Ringing, answered, mute, hold and hang-up; the call's figures from
// getStats. Without a gateway the desk shows the tel: link for the agent's own phone.
import * as JsSIP from "jssip";
import { callFigures } from "../widget/call.js";

const STATS_EVERY_MS = 2000;

export class Dialler {
  constructor({ media, onChange, send }) {
    this.media = media || (typeof navigator !== "undefined" ? navigator.mediaDevices : null);
    this.send = send || (() => {});  // the desk's socket: how each call went is recorded
    this.onChange = onChange || (() => {});
    this.calls = {};     // contact id -> {phase: dialling|ringing|talking|ended, muted, held, since, quality, ended}
    this._lines = {};    // contact id -> {ua, session, audio, stats}
  }

  /** Call the callback's number through the gateway (``setup``: dial_setup's ``gateway``). */
  dial(contactId, setup) {
    if (this._lines[contactId]) return;
    const socket = new JsSIP.WebSocketInterface(setup.ws_url);
    const ua = new JsSIP.UA({ sockets: [socket], uri: setup.uri, authorization_user: setup.username,
      password: setup.password, register: false, session_timers: false, display_name: setup.caller_id });
    const line = this._lines[contactId] = { ua, session: null, audio: null, stats: null };
    this._update(contactId, { phase: "dialling", muted: false, held: false, since: null, quality: null, ended: null });
    ua.on("connected", () => {
      if (line.session) return;
      const session = line.session = ua.call(setup.target, {
        mediaConstraints: { audio: true, video: false },
        pcConfig: { iceServers: setup.ice_servers || [] },
      });
      session.on("peerconnection", (e) => e.peerconnection.addEventListener("track", (t) => this._play(line, t.streams[0])));
      if (session.connection) session.connection.addEventListener("track", (t) => this._play(line, t.streams[0]));
      session.on("progress", () => this._update(contactId, { phase: "ringing" }));
      session.on("confirmed", () => this._talking(contactId, line));
      session.on("ended", (e) => this._over(contactId, e.originator === "remote" ? "customer" : "agent", e.cause));
      session.on("failed", (e) => this._over(contactId, e.originator === "remote" ? "customer" : "agent", e.cause));
      session.on("hold", () => this._update(contactId, { held: true }));
      session.on("unhold", () => this._update(contactId, { held: false }));
    });
    ua.on("disconnected", () => { if (!line.session) this._over(contactId, "agent", "gateway_unreachable"); });
    ua.start();
  }

  hangUp(contactId) {
    const line = this._lines[contactId];
    if (line && line.session && !line.session.isEnded()) line.session.terminate();
    else if (line) this._over(contactId, "agent", "Canceled");
  }

  mute(contactId, on) {
    const line = this._lines[contactId];
    if (line && line.session) (on ? line.session.mute({ audio: true }) : line.session.unmute({ audio: true }));
    this._update(contactId, { muted: on });
  }

  hold(contactId, on) {
    const line = this._lines[contactId];
    if (line && line.session) (on ? line.session.hold() : line.session.unhold());
  }

  /** The figures of the call now (getStats): round trip, jitter, packets. */
  figures(contactId) {
    const line = this._lines[contactId];
    return callFigures(line && line.session ? line.session.connection : null);
  }

  _talking(contactId, line) {
    this._update(contactId, { phase: "talking", since: Date.now() });
    clearInterval(line.stats);
    line.stats = setInterval(async () => {
      line.figures = await this.figures(contactId);
      this._update(contactId, { quality: line.figures });
    }, STATS_EVERY_MS);
  }

  _play(line, stream) {
    if (!stream) return;
    if (!line.audio) { line.audio = new Audio(); line.audio.autoplay = true; }
    line.audio.srcObject = stream;
    const playing = line.audio.play();
    if (playing && playing.catch) playing.catch(() => {});
  }

  _over(contactId, by, cause) {
    const line = this._lines[contactId];
    if (!line) return;
    clearInterval(line.stats);
    delete this._lines[contactId];
    if (line.audio) line.audio.srcObject = null;
    try { line.ua.stop(); } catch { /* stopped */ }
    const since = (this.calls[contactId] || {}).since;
    this.send({ type: "callback_dialled", contact_id: contactId, by, cause: String(cause || "").slice(0, 64),
      duration_s: since ? (Date.now() - since) / 1000 : 0, ...(line.figures || {}), ref: `dial:${contactId}` });
    this._update(contactId, { phase: "ended", held: false, ended: { by, cause: String(cause || "") } });
  }

  /** The callback left the desk: any call of it is over. */
  drop(contactId) {
    this.hangUp(contactId);
    delete this.calls[contactId];
    this.onChange(this.calls);
  }

  _update(contactId, changes) {
    this.calls = { ...this.calls, [contactId]: { ...(this.calls[contactId] || {}), ...changes } };
    this.onChange(this.calls);
  }
}

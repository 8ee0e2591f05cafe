// The desk's softphone for click-to-call (docs/protocol.md, "Calls"): the agent's side of a WebRTC call
// with a customer's browser, its signalling over the desk's socket. The customer's browser offers once
// the agent has answered; the desk answers with its microphone. Mute is this side's alone; hold is
// told to the customer (and silences both ways here). A call whose connection fails is hung up as such;
// one whose sound is not flowing connect_timeout_s after it was answered is hung up by the customer's
// browser, or, a few seconds later, by the desk (a customer's browser gone quiet).
import { callFigures } from "../widget/call.js";

const STATS_EVERY_MS = 2000;
const BACKSTOP_S = 5;  // after the customer's own timeout: a customer's browser that went quiet

export class Softphone {
  constructor({ send, media, onChange }) {
    this.send = send;
    this.media = media || (typeof navigator !== "undefined" ? navigator.mediaDevices : null);
    this.onChange = onChange || (() => {});
    this.calls = {};       // contact id -> {phase, muted, held, since, quality, error}
    this._peers = {};      // contact id -> {pc, mic, audio, ice, early, remoteSet, signals, timer}
    this._ringing = null;
  }

  call(contactId) { return this.calls[contactId] || null; }

  /** A call the agent holds (answered, or shown again after a reload): get ready for the customer's offer. */
  take(contact) {
    const id = contact.id;
    if (this._peers[id] || contact.phase === "ended") return;
    const peer = this._peers[id] = { pc: null, mic: null, audio: null, early: [], remoteSet: false, signals: 0 };
    this._update(id, { phase: "connecting", muted: false, held: contact.phase === "held", since: null, quality: null, error: null });
    peer.ready = Promise.all([
      new Promise((resolve) => { peer.gotIce = resolve; }),
      this.media.getUserMedia({ audio: true, video: false }).then((mic) => { peer.mic = mic; }),
    ]).catch(() => { this._update(id, { error: "no_microphone" }); throw new Error("no microphone"); });
    peer.ready.catch(() => {});
    this.send({ type: "call_ice", contact_id: id, ref: `call:${id}` });
    peer.timer = setTimeout(() => {
      if (this.calls[id] && this.calls[id].phase === "connecting") this.hangUp(id, "no_media");
    }, ((contact.connect_timeout_s || 20) + BACKSTOP_S) * 1000);  // the customer's browser gives up first
  }

  /** What the engine said of a call (call_ice, call_signal, call_held, call_ended). */
  handle(m) {
    const peer = this._peers[m.contact_id];
    if (m.type === "call_ended") { this._ended(m.contact_id, m); return; }
    if (!peer) return;
    if (m.type === "call_ice") { peer.ice = { iceServers: m.ice_servers || [], iceTransportPolicy: m.ice_transport_policy || "all" }; peer.gotIce(); }
    else if (m.type === "call_signal") this._signal(m.contact_id, peer, m.signal);
    else if (m.type === "call_held") { this._hear(peer, !m.on); this._update(m.contact_id, { held: !!m.on }); }
  }

  async _signal(id, peer, signal) {
    try {
      if (signal.type === "offer") {
        await peer.ready;
        this._closePc(peer);
        const pc = peer.pc = new RTCPeerConnection(peer.ice);
        peer.remoteSet = false;
        for (const track of peer.mic.getAudioTracks()) pc.addTrack(track, peer.mic);
        pc.ontrack = (event) => this._play(peer, event.streams[0] || new MediaStream([event.track]));
        pc.onicecandidate = (event) => this._out(id, peer, event.candidate ? { type: "candidate", ...event.candidate.toJSON() } : { type: "candidate", candidate: "" });
        pc.onconnectionstatechange = () => this._state(id, peer, pc);
        await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
        peer.remoteSet = true;
        for (const c of peer.early.splice(0)) await pc.addIceCandidate(c);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this._out(id, peer, { type: "answer", sdp: pc.localDescription.sdp });
      } else if (signal.type === "candidate" && signal.candidate) {
        const c = { candidate: signal.candidate, sdpMid: signal.sdpMid, sdpMLineIndex: signal.sdpMLineIndex, usernameFragment: signal.usernameFragment };
        if (peer.pc && peer.remoteSet) await peer.pc.addIceCandidate(c);
        else peer.early.push(c);
      }
    } catch {
      if (this.calls[id] && !this.calls[id].error) this.hangUp(id, "media_failed");
    }
  }

  _state(id, peer, pc) {
    if (peer.pc !== pc) return;
    if (pc.connectionState === "connected" && this.calls[id].phase === "connecting") {
      clearTimeout(peer.timer);
      this._update(id, { phase: "talking", since: this.calls[id].since || Date.now() });
      this.send({ type: "call_connected", contact_id: id, ref: `call:${id}` });
      clearInterval(peer.stats);
      peer.stats = setInterval(async () => this._update(id, { quality: await callFigures(peer.pc) }), STATS_EVERY_MS);
    } else if (pc.connectionState === "failed") {
      this.hangUp(id, "media_failed");
    }
  }

  mute(id, on) {
    const peer = this._peers[id];
    if (peer && peer.mic) for (const track of peer.mic.getAudioTracks()) track.enabled = !on && !(this.calls[id] || {}).held;
    this._update(id, { muted: on });
  }

  hold(id, on) {
    const peer = this._peers[id];
    if (peer && peer.mic) for (const track of peer.mic.getAudioTracks()) track.enabled = !on && !this.calls[id].muted;
    this.send({ type: "call_hold", contact_id: id, on, ref: `call:${id}` });
  }

  async hangUp(id, reason = "hung_up") {
    const peer = this._peers[id];
    await this._figures(id, peer);
    this.send({ type: "call_hangup", contact_id: id, reason, ref: `call:${id}` });
    this._stop(id, { by: "agent", reason });
  }

  async _ended(id, m) {
    const peer = this._peers[id];
    if (!peer && !this.calls[id]) return;
    await this._figures(id, peer);
    this._stop(id, m);
  }

  /** The contact left the desk (closed, transferred): its call, if any, is over here (its figures sent first). */
  async drop(id) {
    const peer = this._peers[id];
    if (peer) {
      await this._figures(id, peer);
      this._stop(id, null);
    }
    delete this.calls[id];
    this.onChange(this.calls);
  }

  /** Ring while a call is offered to this agent (a tone made here: nothing to download). */
  ring(on) {
    if (on === !!this._ringing || typeof AudioContext === "undefined") return;
    if (!on) { this._ringing.close(); this._ringing = null; return; }
    const ctx = this._ringing = new AudioContext();
    const gain = ctx.createGain();
    gain.connect(ctx.destination);
    gain.gain.value = 0;
    for (const f of [440, 480]) { const o = ctx.createOscillator(); o.frequency.value = f; o.connect(gain); o.start(); }
    for (let s = 0; s < 60; s += 6) { gain.gain.setValueAtTime(0.1, ctx.currentTime + s); gain.gain.setValueAtTime(0, ctx.currentTime + s + 2); }
  }

  async _figures(id, peer) {
    if (!peer || !peer.pc || peer.figuresSent) return;
    peer.figuresSent = true;
    const figures = await callFigures(peer.pc);
    this.send({ type: "call_stats", contact_id: id, ...figures, signals: peer.signals, ref: `call:${id}` });
  }

  _out(id, peer, signal) {
    peer.signals += 1;
    this.send({ type: "call_signal", contact_id: id, signal, ref: `call:${id}` });
  }

  _hear(peer, on) { if (peer.audio) peer.audio.muted = !on; }

  _play(peer, stream) {
    if (!peer.audio) { peer.audio = new Audio(); peer.audio.autoplay = true; }
    peer.audio.srcObject = stream;
    const playing = peer.audio.play();
    if (playing && playing.catch) playing.catch(() => {});
  }

  _closePc(peer) {
    clearInterval(peer.stats);
    if (peer.pc) { peer.pc.onconnectionstatechange = null; try { peer.pc.close(); } catch { /* closed */ } }
    peer.pc = null;
  }

  _stop(id, ended) {
    const peer = this._peers[id];
    if (peer) {
      clearTimeout(peer.timer);
      this._closePc(peer);
      if (peer.mic) for (const track of peer.mic.getTracks()) track.stop();
      if (peer.audio) peer.audio.srcObject = null;
      delete this._peers[id];
    }
    if (ended) this._update(id, { phase: "ended", held: false, ended: { by: ended.by, reason: ended.reason } });
  }

  _update(id, changes) {
    this.calls = { ...this.calls, [id]: { ...(this.calls[id] || {}), ...changes } };
    this.onChange(this.calls);
  }
}

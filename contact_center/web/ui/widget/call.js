// Click-to-call, the customer's side (docs/protocol.md, "Calls"), without any view: a voice call from
// this page to an agent's desk. The microphone is asked for first (no call is queued without one);
// the call waits in the queue like a chat, with its place; when an agent answers, this browser
// offers the sound (WebRTC) and the engine carries the signalling over the chat's socket. The call
// lives in this page: a dropped socket takes it back when it reconnects, a page left ends it. When
// the sound cannot flow, both sides are told and the customer is offered a callback instead.

const STATUS_EVERY_MS = 5000;
const STATS_EVERY_MS = 2000;
const FALLBACK = new Set(["media_failed", "no_media"]);

export async function callFigures(pc) {
  // What getStats says of the call: round-trip time, jitter and packets, for both sides' records, and
  // the route of its sound (this side's candidate type: "relay" through TURN).
  const figures = {};
  if (!pc) return figures;
  let report;
  try { report = await pc.getStats(); } catch { return figures; }
  let pair = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) || pair;
    else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && !pair) pair = s;
    else if (s.type === "inbound-rtp" && s.kind === "audio") {
      figures.jitter_ms = (s.jitter || 0) * 1000;
      figures.packets_lost = Math.max(0, s.packetsLost || 0);
      figures.packets_received = s.packetsReceived || 0;
      figures.bytes_received = s.bytesReceived || 0;
    } else if (s.type === "outbound-rtp" && s.kind === "audio") {
      figures.packets_sent = s.packetsSent || 0;
      figures.bytes_sent = s.bytesSent || 0;
    } else if (s.type === "remote-inbound-rtp" && s.kind === "audio" && s.roundTripTime !== undefined) {
      figures.remote_rtt_ms = s.roundTripTime * 1000;
    }
  });
  if (pair && pair.currentRoundTripTime !== undefined) figures.rtt_ms = pair.currentRoundTripTime * 1000;
  else if (figures.remote_rtt_ms !== undefined) figures.rtt_ms = figures.remote_rtt_ms;
  delete figures.remote_rtt_ms;
  const local = pair && report.get(pair.localCandidateId);
  if (local && local.candidateType) figures.route = local.candidateType;
  return figures;
}

export class Call {
  constructor({ chat, media }) {
    this.chat = chat;
    this.media = media || (typeof navigator !== "undefined" ? navigator.mediaDevices : null);
    this._listeners = new Set();
    this._reset();
    this.state = { phase: "idle", contactId: null, position: null, wait: null, held: false, muted: false,
      since: null, ended: null, error: null, quality: null, offerCallbackAt: null };
    chat.listen((m) => this._handle(m));
  }

  subscribe(fn) { this._listeners.add(fn); return () => this._listeners.delete(fn); }

  /** Call the company from this page: the microphone first, then the call is queued. */
  async place() {
    if (this.state.phase !== "idle" && this.state.phase !== "ended" && this.state.phase !== "failed") return;
    this._reset();
    this._set({ phase: "asking", ended: null, error: null, held: false, muted: false, quality: null });
    try {
      this.mic = await this.media.getUserMedia({ audio: true, video: false });
    } catch {
      this._set({ phase: "failed", error: { code: "no_microphone" } });
      return;
    }
    if (!this._send({ type: "call_place", ref: "call:place" })) this._failed({ code: "unreachable" });
    else this._set({ phase: "placing" });
  }

  /** Hang up: a call still waiting is given up; one answered ends for both sides. */
  async hangUp(reason = "hung_up") {
    const id = this.state.contactId;
    if (!id || this.state.phase === "ended") { this._stop(); this._set({ phase: "idle" }); return; }
    await this._sendFigures();
    this._send({ type: "call_hangup", contact_id: id, reason, ref: "call:hangup" });
    this._over({ by: "customer", reason });
  }

  /** Mute this side's microphone (the agent hears nothing; nothing is told). */
  mute(on) {
    if (this.mic) for (const track of this.mic.getAudioTracks()) track.enabled = !on;
    this._set({ muted: on });
  }

  // ---- the protocol
  _handle(m) {
    const mine = m.contact_id && m.contact_id === this.state.contactId;
    switch (m.type) {
      case "welcome":  // a new socket: this page's call (if any) is taken back
        if (this.state.contactId && this.state.phase !== "ended") this._send({ type: "call_resume", contact_id: this.state.contactId, ref: "call:resume" });
        return;
      case "call_placed": return this._placed(m);
      case "call_status":
        if (!mine) return;
        if (m.phase === "ended") return this._over({ by: "agent", reason: "hung_up" });
        return this._set({ position: m.position, wait: m.expected_wait_s });
      case "agent_joined": if (mine) this._answered(); return;
      case "agent_left": if (mine) this._transferring(); return;
      case "call_signal": if (mine) this._signal(m.signal); return;
      case "call_held": if (mine) this._set({ held: !!m.on }); return;
      case "call_ended": if (mine) this._ended(m); return;
      case "ended": if (mine) this._ended({ by: "agent", reason: "hung_up" }); return;
      case "error":
        if (typeof m.ref === "string" && m.ref.startsWith("call:") && m.ref !== "call:stats") {
          if (m.ref === "call:place") return this._failed(m);
          if (m.code === "call_not_live" || m.code === "forbidden" || m.code === "not_found") return this._over({ by: "agent", reason: "hung_up" });
        }
        return undefined;
      default: return undefined;
    }
  }

  _placed(m) {
    this.chat.elsewhere.add(m.contact_id);
    this.ice = { iceServers: m.ice_servers || [], iceTransportPolicy: m.ice_transport_policy || "all" };
    this.connectTimeoutMs = (m.connect_timeout_s || 20) * 1000;
    const waitingSince = Date.now();
    this._set({ phase: m.state === "assigned" ? "connecting" : "waiting", contactId: m.contact_id, position: m.position,
      wait: m.expected_wait_s, offerCallbackAt: waitingSince + (m.offer_callback_after_s || 120) * 1000 });
    clearInterval(this._statusTimer);
    this._statusTimer = setInterval(() => {
      if (this.state.phase === "waiting") this._send({ type: "call_status", contact_id: this.state.contactId, ref: "call:status" });
    }, STATUS_EVERY_MS);
  }

  async _answered() {
    this._closePeer();
    this._set({ phase: "connecting", position: null, held: false });
    const pc = this.pc = new RTCPeerConnection(this.ice);
    this._remoteSet = false;
    this._early = [];
    for (const track of this.mic.getAudioTracks()) pc.addTrack(track, this.mic);
    pc.ontrack = (event) => this._play(event.streams[0] || new MediaStream([event.track]));
    pc.onicecandidate = (event) => this._signalOut(event.candidate ? { type: "candidate", ...event.candidate.toJSON() } : { type: "candidate", candidate: "" });
    pc.onconnectionstatechange = () => this._peerState(pc);
    clearTimeout(this._connectTimer);
    this._connectTimer = setTimeout(() => { if (this.pc === pc && this.state.phase === "connecting") this.hangUp("media_failed"); }, this.connectTimeoutMs);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this._signalOut({ type: "offer", sdp: pc.localDescription.sdp });
  }

  async _signal(signal) {
    const pc = this.pc;
    if (!pc || !signal) return;
    try {
      if (signal.type === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
        this._remoteSet = true;
        for (const c of this._early.splice(0)) await pc.addIceCandidate(c);
      } else if (signal.type === "candidate" && signal.candidate) {
        const c = { candidate: signal.candidate, sdpMid: signal.sdpMid, sdpMLineIndex: signal.sdpMLineIndex, usernameFragment: signal.usernameFragment };
        if (this._remoteSet) await pc.addIceCandidate(c);
        else this._early.push(c);
      }
    } catch {
      this.hangUp("media_failed");
    }
  }

  _peerState(pc) {
    if (this.pc !== pc) return;
    if (pc.connectionState === "connected" && this.state.phase === "connecting") {
      clearTimeout(this._connectTimer);
      this._set({ phase: "talking", since: this.state.since || Date.now() });
      this._send({ type: "call_connected", contact_id: this.state.contactId, ref: "call:connected" });
      clearInterval(this._statsTimer);
      this._statsTimer = setInterval(async () => this._set({ quality: await callFigures(this.pc) }), STATS_EVERY_MS);
    } else if (pc.connectionState === "failed") {
      this.hangUp("media_failed");
    }
  }

  _transferring() {
    this._closePeer();
    this._set({ phase: "waiting", held: false });
  }

  async _ended(m) {
    if (this.state.phase === "ended") return;
    await this._sendFigures();
    this._over(m);
  }

  _over(m) {
    this._stop();
    this._set({ phase: "ended", held: false, ended: { by: m.by, reason: m.reason, fallback: FALLBACK.has(m.reason) } });
  }

  async _sendFigures() {
    if (!this.pc || this._figuresSent) return;
    this._figuresSent = true;
    const figures = await callFigures(this.pc);
    this._send({ type: "call_stats", contact_id: this.state.contactId, ...figures, signals: this.signalsSent, ref: "call:stats" });
  }

  _failed(m) {
    this._stop();
    this._set({ phase: "failed", error: { code: m.code, opens_at: m.opens_at } });
  }

  _signalOut(signal) {
    this.signalsSent += 1;
    this._send({ type: "call_signal", contact_id: this.state.contactId, signal, ref: "call:signal" });
  }

  _play(stream) {
    if (!this.audio) { this.audio = new Audio(); this.audio.autoplay = true; }
    this.audio.srcObject = stream;
    const playing = this.audio.play();
    if (playing && playing.catch) playing.catch(() => { /* autoplay refused: the call's button press allows it */ });
  }

  _closePeer() {
    clearTimeout(this._connectTimer);
    clearInterval(this._statsTimer);
    if (this.pc) { this.pc.onconnectionstatechange = null; try { this.pc.close(); } catch { /* closed */ } }
    this.pc = null;
  }

  _stop() {
    this._closePeer();
    clearInterval(this._statusTimer);
    if (this.mic) for (const track of this.mic.getTracks()) track.stop();
    this.mic = null;
    if (this.audio) this.audio.srcObject = null;
  }

  _reset() {
    this.pc = null;
    this.signalsSent = 0;
    this._figuresSent = false;
    this._early = [];
  }

  _send(message) { return this.chat.send(message); }

  _set(changes) {
    this.state = { ...this.state, ...changes };
    for (const fn of this._listeners) fn(this.state);
  }
}

// A callback in front of the agent: the number to dial (a tel: link for the agent's own phone),
// which try this is, and how the call went. "Call back later" books one of the hours still free.
import { useEffect, useState } from "preact/hooks";
import { formatMoment } from "../shared/i18n.js";

const OUTCOMES = ["reached", "no_answer", "busy", "wrong_number", "call_back_later"];

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// The number called from the desk through the SIP gateway: ringing, talking (mute, hold, hang up), ended.
function DeskDial({ desk, c, dial, t }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!dial || dial.phase !== "talking") return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [dial && dial.phase]);
  if (!dial || dial.phase === "ended") {
    return (
      <p class="callback-dial">
        <button type="button" id="dial-desk" class="dial" onClick={() => desk.dial(c.id)}>{t("desk.callback.dial_desk", { phone: c.phone })}</button>
        {dial && dial.ended ? <span class="dial-ended" role="status">{t("desk.callback.dial_ended", { cause: dial.ended.cause })}</span> : null}
      </p>
    );
  }
  const status = dial.phase === "talking"
    ? t(dial.held ? "desk.call.on_hold" : "desk.call.talking", { time: clock(now - dial.since) })
    : t(`desk.callback.${dial.phase}`);
  const q = dial.quality;
  return (
    <div class="callback-dial">
      <p id="dial-status" class="call-status" role="status" data-phase={dial.phase}>{status}</p>
      {q && q.rtt_ms !== undefined ? <p class="call-quality" data-received={q.packets_received} data-sent={q.packets_sent}>{t("desk.call.quality", { rtt: Math.round(q.rtt_ms), jitter: Math.round(q.jitter_ms || 0), lost: q.packets_lost || 0 })}</p> : null}
      <div class="call-actions" role="group" aria-label={t("desk.callback.title")}>
        <button type="button" id="dial-mute" aria-pressed={dial.muted ? "true" : "false"} disabled={dial.phase !== "talking"}
          onClick={() => desk.dialler.mute(c.id, !dial.muted)}>{t(dial.muted ? "desk.call.unmute" : "desk.call.mute")}</button>
        <button type="button" id="dial-hold" aria-pressed={dial.held ? "true" : "false"} disabled={dial.phase !== "talking"}
          onClick={() => desk.dialler.hold(c.id, !dial.held)}>{t(dial.held ? "desk.call.resume" : "desk.call.hold")}</button>
        <button type="button" id="dial-hangup" class="hangup" onClick={() => desk.dialler.hangUp(c.id)}>{t("desk.call.hang_up")}</button>
      </div>
    </div>
  );
}

export function CallbackPanel({ desk, entry, state, t }) {
  const c = entry.contact;
  const [later, setLater] = useState(false);
  const [slots, setSlots] = useState(null);
  const [at, setAt] = useState("");
  useEffect(() => {
    if (!later || slots) return;
    fetch("/api/callbacks/slots").then((r) => (r.ok ? r.json() : { slots: [] })).then((body) => {
      setSlots(body.slots);
      if (body.slots.length) setAt(String(body.slots[0].start));
    }).catch(() => setSlots([]));
  }, [later]);
  if (c.state !== "assigned") return null;
  function record(outcome) {
    if (outcome === "call_back_later" && !later) { setLater(true); return; }
    desk.callbackOutcome(c.id, outcome, outcome === "call_back_later" ? Number(at) : null);
  }
  const setup = state.dialSetups[c.id];
  const gateway = setup && setup.gateway;
  return (
    <section class="callback" aria-label={t("desk.callback.title")}>
      {gateway ? <DeskDial desk={desk} c={c} dial={state.dials[c.id]} t={t} /> : null}
      <p class="callback-number">
        <a id="dial" class={gateway ? "dial own-phone" : "dial"} href={c.tel}>{t(gateway ? "desk.callback.dial_own" : "desk.callback.dial", { phone: c.phone })}</a>
        <span class="callback-try">{t("desk.callback.try", { n: (c.failed || 0) + 1, of: c.attempts })}</span>
      </p>
      {c.slot ? <p class="callback-booked">{t("desk.callback.booked", { when: formatMoment(c.slot, t.language, state.timeZone) })}</p> : null}
      <div class="callback-outcomes" role="group" aria-label={t("desk.callback.outcome")}>
        {OUTCOMES.map((o) => (
          <button key={o} type="button" class={`outcome ${o}`} data-outcome={o} onClick={() => record(o)}
            disabled={o === "call_back_later" && later && !at}>{t(`desk.callback.${o}`)}</button>
        ))}
      </div>
      {later ? (
        <label class="callback-later">{t("desk.callback.later_at")}
          <select id="callback-at" value={at} onChange={(e) => setAt(e.currentTarget.value)}>
            {(slots || []).map((s) => <option key={s.start} value={String(s.start)}>{formatMoment(s.start, t.language, state.timeZone)}</option>)}
          </select>
        </label>
      ) : null}
    </section>
  );
}

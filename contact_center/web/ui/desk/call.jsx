// A click-to-call call in front of the agent: its state and time, the line's quality, mute, hold and
// hang-up. After the call the outcome is the wrap-up's disposition (the close row below).
import { useEffect, useState } from "preact/hooks";

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function Quality({ q, t }) {
  if (!q || q.rtt_ms === undefined) return null;
  return (
    <p class="call-quality" data-received={q.packets_received} data-sent={q.packets_sent}>
      {t("desk.call.quality", { rtt: Math.round(q.rtt_ms), jitter: Math.round(q.jitter_ms || 0), lost: q.packets_lost || 0 })}
    </p>
  );
}

export function CallPanel({ desk, entry, state, t }) {
  const c = entry.contact;
  const call = state.calls[c.id] || { phase: c.phase === "ended" ? "ended" : "connecting" };
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (call.phase !== "talking") return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [call.phase]);
  const phone = desk.phone;
  const live = call.phase === "talking" || call.phase === "connecting";
  let status = t(`desk.call.${call.phase}`, { time: call.since ? clock(now - call.since) : "0:00" });
  if (call.phase === "talking" && call.held) status = t("desk.call.on_hold");
  if (call.phase === "ended" && call.ended) status = t(`desk.call.ended_${call.ended.by === "customer" ? "customer" : "agent"}`, { reason: t(`desk.call.reason.${call.ended.reason}`, {}, call.ended.reason) });
  return (
    <section class="call" aria-label={t("desk.call.title")}>
      <p id="call-status" class="call-status" role="status" data-phase={call.phase}>{status}</p>
      {call.error ? <p class="call-error" role="alert">{t(`desk.call.error.${call.error}`)}</p> : null}
      <Quality q={call.quality} t={t} />
      {live && c.state === "assigned" ? (
        <div class="call-actions" role="group" aria-label={t("desk.call.title")}>
          <button type="button" id="call-mute" aria-pressed={call.muted ? "true" : "false"} onClick={() => phone.mute(c.id, !call.muted)}>
            {t(call.muted ? "desk.call.unmute" : "desk.call.mute")}
          </button>
          <button type="button" id="call-hold" aria-pressed={call.held ? "true" : "false"} disabled={call.phase !== "talking"}
            onClick={() => phone.hold(c.id, !call.held)}>{t(call.held ? "desk.call.resume" : "desk.call.hold")}</button>
          <button type="button" id="call-hangup" class="hangup" onClick={() => phone.hangUp(c.id)}>{t("desk.call.hang_up")}</button>
        </div>
      ) : null}
    </section>
  );
}

// The call tab: talk to an agent from this page (click-to-call). A button, the microphone asked for,
// the place in line while it waits, the call's time, mute and hang-up while it lasts; when the sound
// could not flow, or nobody is there to answer, a callback is offered instead.
import { useEffect, useState } from "preact/hooks";
import { formatDuration, formatMoment } from "../shared/i18n.js";

function useCall(call) {
  const [state, setState] = useState(call.state);
  useEffect(() => call.subscribe(setState), [call]);
  return state;
}

function useNow(on) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function CallBackInstead({ chat, call, t, hangUp, callme }) {
  if (!callme) return null;
  return (
    <button type="button" class="call-fallback" onClick={() => { if (hangUp) call.hangUp(); chat.setTab("callme"); }}>
      {t("widget.call.callback_instead")}
    </button>
  );
}

function Failed({ state, chat, call, callme, t }) {
  const e = state.error || {};
  const text = e.code === "office_closed" && e.opens_at
    ? t("widget.call.closed", { when: formatMoment(e.opens_at, t.language) })
    : t(`widget.call.error.${e.code}`, {}, t("error.generic"));
  return (
    <div class="call-box failed">
      <p class="call-error" role="alert">{text}</p>
      <button type="button" class="call-start" onClick={() => call.place()}>{t("widget.call.again")}</button>
      <CallBackInstead chat={chat} call={call} callme={callme} t={t} />
    </div>
  );
}

export function CallView({ call, chat, callme, t }) {
  const state = useCall(call);
  const now = useNow(["waiting", "talking", "connecting"].includes(state.phase));
  const phase = state.phase;
  if (phase === "failed") return <Failed state={state} chat={chat} call={call} callme={callme} t={t} />;
  if (phase === "idle") {
    return (
      <div class="call-box idle">
        <p>{t("widget.call.intro")}</p>
        <button type="button" class="call-start" onClick={() => call.place()}>{t("widget.call.start")}</button>
      </div>
    );
  }
  if (phase === "ended") {
    const e = state.ended || {};
    return (
      <div class="call-box ended">
        <p class="call-status" role="status">{e.fallback ? t("widget.call.dropped") : t(e.by === "agent" ? "widget.call.ended_agent" : "widget.call.ended")}</p>
        {e.fallback ? <CallBackInstead chat={chat} call={call} callme={callme} t={t} /> : null}
        <button type="button" class="call-start" onClick={() => call.place()}>{t("widget.call.again")}</button>
      </div>
    );
  }
  const waiting = phase === "waiting" || phase === "placing";
  return (
    <div class={`call-box ${phase}`}>
      <p class="call-status" role="status" data-phase={phase}>
        {phase === "asking" ? t("widget.call.asking") : null}
        {waiting ? t("widget.call.waiting") : null}
        {phase === "connecting" ? t("widget.call.connecting") : null}
        {phase === "talking" && !state.held ? t("widget.call.talking", { time: clock(now - state.since) }) : null}
        {phase === "talking" && state.held ? t("widget.call.held") : null}
      </p>
      {waiting && state.position ? (
        <p class="call-place">
          {t("widget.place", { count: state.position })}
          {state.wait ? ` · ${t("widget.expected_wait", { wait: formatDuration(state.wait, t.language) })}` : ""}
        </p>
      ) : null}
      {waiting && state.offerCallbackAt && now > state.offerCallbackAt ? (
        <p class="call-offer">{t("widget.call.long_wait")} <CallBackInstead chat={chat} call={call} callme={callme} t={t} hangUp /></p>
      ) : null}
      <div class="call-actions">
        {phase === "talking" ? (
          <button type="button" class="call-mute" aria-pressed={state.muted ? "true" : "false"} onClick={() => call.mute(!state.muted)}>
            {t(state.muted ? "widget.call.unmute" : "widget.call.mute")}
          </button>
        ) : null}
        <button type="button" class="call-hangup" onClick={() => call.hangUp()}>{t("widget.call.hang_up")}</button>
      </div>
    </div>
  );
}

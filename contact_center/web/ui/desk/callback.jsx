// A callback in front of the agent: the number to dial (a tel: link for the agent's own phone),
// which try this is, and how the call went. "Call back later" books one of the hours still free.
import { useEffect, useState } from "preact/hooks";
import { formatMoment } from "../shared/i18n.js";

const OUTCOMES = ["reached", "no_answer", "busy", "wrong_number", "call_back_later"];

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
  return (
    <section class="callback" aria-label={t("desk.callback.title")}>
      <p class="callback-number">
        <a id="dial" class="dial" href={c.tel}>{t("desk.callback.dial", { phone: c.phone })}</a>
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

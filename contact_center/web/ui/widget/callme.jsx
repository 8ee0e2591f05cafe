// The call-me tab: a phone number and "as soon as possible" or an hour of the customer's choosing
// (shown in their own time zone), then the callback: its queue number, its place and expected
// wait or its hour, with buttons to move or cancel it.
import { useEffect, useState } from "preact/hooks";
import { formatDuration, formatMoment } from "../shared/i18n.js";

const OPEN = new Set(["scheduled", "queued", "offered", "assigned"]);

function useCallMe(callme) {
  const [state, setState] = useState(callme.state);
  useEffect(() => callme.subscribe(setState), [callme]);
  return state;
}

export function callError(error, t) {
  if (!error) return "";
  if (error.problem) {
    const text = t(`error.${error.problem}`, { limit: error.limit ?? "" }, "");
    if (text) return text;
  }
  return t(`error.${error.error}`, { limit: error.limit ?? "" }, t("error.generic"));
}

function dayOf(at, language) {
  return new Intl.DateTimeFormat(language, { weekday: "long", day: "numeric", month: "long" }).format(new Date(at * 1000));
}

function hourOf(at, language) {
  return new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit" }).format(new Date(at * 1000));
}

// The free slots by the customer's own day, then by hour.
export function SlotPicker({ slots, t, value, onChange }) {
  const days = [];
  for (const slot of slots || []) {
    const day = dayOf(slot.start, t.language);
    if (!days.length || days[days.length - 1].day !== day) days.push({ day, slots: [] });
    days[days.length - 1].slots.push(slot);
  }
  const chosenDay = days.find((d) => d.slots.some((s) => s.start === value)) || days[0];
  if (!days.length) return <p class="callme-none" role="status">{t("widget.callme.no_slots")}</p>;
  return (
    <div class="callme-slots">
      <label>{t("widget.callme.day")}
        <select name="day" value={chosenDay.day} onChange={(e) => onChange(days.find((d) => d.day === e.currentTarget.value).slots[0].start)}>
          {days.map((d) => <option key={d.day} value={d.day}>{d.day}</option>)}
        </select>
      </label>
      <label>{t("widget.callme.hour")}
        <select name="hour" value={String(value ?? chosenDay.slots[0].start)} onChange={(e) => onChange(Number(e.currentTarget.value))}>
          {chosenDay.slots.map((s) => <option key={s.start} value={String(s.start)}>{hourOf(s.start, t.language)}</option>)}
        </select>
      </label>
      <p class="callme-zone">{t("widget.callme.your_time", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })}</p>
    </div>
  );
}

function AskForm({ callme, state, t }) {
  const [phone, setPhone] = useState("");
  const [when, setWhen] = useState("asap");
  const [at, setAt] = useState(null);
  const sending = state.status === "sending";
  const failed = state.status === "failed" ? state.error : null;
  const chosen = at ?? (state.slots && state.slots[0] ? state.slots[0].start : null);
  function submit(event) {
    event.preventDefault();
    if (!sending && phone.trim()) callme.ask(phone.trim(), when === "asap" ? null : chosen);
  }
  return (
    <form class="callme" aria-label={t("widget.callme.title")} onSubmit={submit}>
      <p class="callme-title">{t("widget.callme.title")}</p>
      <label>{t("widget.callme.phone")}
        <input name="phone" type="tel" autocomplete="tel" required maxLength={40} value={phone}
          aria-invalid={failed && failed.field === "phone" ? "true" : undefined} onInput={(e) => setPhone(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t("widget.callme.when")}</legend>
        <label><input type="radio" name="when" value="asap" checked={when === "asap"} onChange={() => setWhen("asap")} />{t("widget.callme.asap")}</label>
        <label><input type="radio" name="when" value="later" checked={when === "later"} onChange={() => setWhen("later")} />{t("widget.callme.later")}</label>
      </fieldset>
      {when === "later" ? <SlotPicker slots={state.slots} t={t} value={chosen} onChange={setAt} /> : null}
      {failed ? <p class="callme-error" role="alert">{t("widget.callme.failed", { reason: callError(failed, t) })}</p> : null}
      <button type="submit" class="callme-send" disabled={sending || (when === "later" && chosen === null)}>
        {t(sending ? "widget.sending" : "widget.callme.send")}
      </button>
    </form>
  );
}

function Booked({ callme, state, t }) {
  const b = state.booking;
  const [moving, setMoving] = useState(false);
  const [asking, setAsking] = useState(false);
  const [at, setAt] = useState(null);
  const calling = b.state === "assigned" || b.state === "offered";
  const failed = state.status === "failed" ? state.error : null;
  return (
    <section class="callme-booked" aria-label={t("widget.callme.booked")}>
      <p class="callme-number" role="status">{t("widget.callme.number", { number: b.queue_number, phone: b.phone })}</p>
      {calling ? <p class="callme-now" role="status">{t("widget.callme.calling")}</p> : null}
      {!calling && b.state === "queued" && b.place ? (
        <p class="callme-place">
          {t("widget.callme.place", { count: b.place })}
          {b.expected_wait_s ? ` · ${t("widget.expected_wait", { wait: formatDuration(b.expected_wait_s, t.language) })}` : ""}
        </p>
      ) : null}
      {!calling && b.state === "scheduled" && b.slot ? (
        <p class="callme-at">{t("widget.callme.at", { when: formatMoment(b.slot, t.language) })}</p>
      ) : null}
      {!calling && b.state === "scheduled" && !b.slot ? <p class="callme-at">{t("widget.callme.again")}</p> : null}
      {failed ? <p class="callme-error" role="alert">{t("widget.callme.failed", { reason: callError(failed, t) })}</p> : null}
      {moving ? (
        <form class="callme-move" onSubmit={(e) => { e.preventDefault(); const chosen = at ?? state.slots?.[0]?.start; if (chosen) { callme.reschedule(chosen); setMoving(false); } }}>
          <SlotPicker slots={state.slots} t={t} value={at ?? state.slots?.[0]?.start} onChange={setAt} />
          <button type="submit" class="callme-move-send">{t("widget.callme.move_send")}</button>
          <button type="button" class="callme-move-back" onClick={() => setMoving(false)}>{t("widget.callme.back")}</button>
        </form>
      ) : null}
      {!calling && !moving && !asking ? (
        <div class="callme-actions">
          {b.links && b.links.reschedule ? <button type="button" class="callme-change" onClick={() => { callme.loadSlots(); setMoving(true); }}>{t("widget.callme.change")}</button> : null}
          {b.links && b.links.cancel ? <button type="button" class="callme-cancel" onClick={() => setAsking(true)}>{t("widget.callme.cancel")}</button> : null}
        </div>
      ) : null}
      {asking ? (
        <div class="confirm" role="alertdialog" aria-label={t("widget.callme.cancel_confirm")}>
          <span>{t("widget.callme.cancel_confirm")}</span>
          <button type="button" class="callme-cancel-yes" onClick={() => { callme.cancel(); setAsking(false); }}>{t("widget.callme.cancel_yes")}</button>
          <button type="button" class="callme-cancel-no" onClick={() => setAsking(false)}>{t("widget.callme.cancel_no")}</button>
        </div>
      ) : null}
    </section>
  );
}

function Over({ callme, state, t }) {
  const b = state.booking;
  const key = b.outcome === "cancelled" ? "widget.callme.cancelled" : "widget.callme.over";
  return (
    <section class="callme-over">
      <p role="status">{t(key, { number: b.queue_number })}</p>
      <button type="button" class="callme-again" onClick={() => callme.clear()}>{t("widget.callme.another")}</button>
    </section>
  );
}

export function CallMeView({ callme, t }) {
  const state = useCallMe(callme);
  useEffect(() => {
    callme.loadSlots();
    callme.watch(true);
    return () => callme.watch(false);
  }, [callme]);
  if (!state.booking) return <AskForm callme={callme} state={state} t={t} />;
  if (OPEN.has(state.booking.state)) return <Booked callme={callme} state={state} t={t} />;
  return <Over callme={callme} state={state} t={t} />;
}

// The page a callback's confirmation links to: #cancel=<token> or #reschedule=<token>. The token is
// the credential (docs/protocol.md, "Callbacks"); it rides in the fragment, which browsers never
// send to a server, so it stays out of every access log and Referer on the way here.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import en from "../locales/widget/en.json";
import id from "../locales/widget/id.json";
import { formatMoment, pickLanguage, texts, translator } from "../shared/i18n.js";
import { SlotPicker, callError } from "../widget/callme.jsx";

async function post(path, body) {
  try {
    const answer = await fetch(`/api/callbacks/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { ok: answer.ok, body: await answer.json() };
  } catch {
    return { ok: false, body: { error: "unreachable" } };
  }
}

function Done({ booking, t }) {
  if (booking.state === "closed") return <p class="done" role="status">{t("widget.callme.cancelled", { number: booking.queue_number })}</p>;
  return <p class="done" role="status">{t("widget.callme.moved", { number: booking.queue_number, when: formatMoment(booking.slot, t.language) })}</p>;
}

function Page({ purpose, token, t }) {
  const [slots, setSlots] = useState(null);
  const [at, setAt] = useState(null);
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  const [sending, setSending] = useState(false);
  useEffect(() => {
    if (purpose !== "reschedule") return;
    fetch("/api/callbacks/slots").then((r) => r.json()).then((b) => setSlots(b.slots || [])).catch(() => setSlots([]));
  }, [purpose]);
  if (!token) return <p role="alert">{t("widget.callme.page_no_link")}</p>;
  if (done) return <Done booking={done} t={t} />;
  async function act(event) {
    event.preventDefault();
    setSending(true);
    const chosen = at ?? (slots && slots[0] ? slots[0].start : null);
    const answer = await post(purpose, purpose === "cancel" ? { token } : { token, at: chosen });
    setSending(false);
    if (answer.ok) setDone(answer.body.callback);
    else setError(answer.body);
  }
  return (
    <form onSubmit={act} aria-label={t(`widget.callme.page_${purpose}`)}>
      <h1>{t(`widget.callme.page_${purpose}`)}</h1>
      {purpose === "reschedule" ? <SlotPicker slots={slots} t={t} value={at ?? slots?.[0]?.start} onChange={setAt} /> : null}
      {error ? <p class="error" role="alert">{t("widget.callme.page_failed", { reason: error.error === "forbidden" ? t("widget.callme.page_spent") : callError(error, t) })}</p> : null}
      <button type="submit" disabled={sending || (purpose === "reschedule" && !(slots && slots.length))}>
        {t(purpose === "cancel" ? "widget.callme.cancel_yes" : "widget.callme.move_send")}
      </button>
    </form>
  );
}

const params = new URLSearchParams(location.hash.slice(1));
const purpose = params.has("reschedule") ? "reschedule" : "cancel";
const language = pickLanguage(new URLSearchParams(location.search).get("lang"));
document.documentElement.lang = language;
history.replaceState(null, "", location.pathname + location.search);  // the token off the address bar and history
render(<Page purpose={purpose} token={params.get(purpose)} t={translator(texts({ en, id }), language)} />, document.getElementById("app"));

// Listening in: a conversation the supervisor reads as it happens (nothing is sent from here).
// A chat's messages in order; an email's thread. Customer text is set as text, never as HTML.
import { formatMoment } from "../shared/i18n.js";

function who(m, t) {
  if (m.from === "customer") return t("desk.dash.monitor.customer");
  if (String(m.from || "").startsWith("agent:")) return t("desk.dash.monitor.agent");
  return t("desk.dash.monitor.system");
}

export function Monitor({ desk, entry, t, zone }) {
  const c = entry.contact;
  const name = (entry.customer && entry.customer.name) || t("desk.customer.unnamed");
  return (
    <section class="monitor" aria-labelledby="monitor-title" id="monitor">
      <h3 id="monitor-title">{t("desk.dash.monitor.title", { name, channel: t(`desk.channel.${c.channel}`) })}</h3>
      <button type="button" id="monitor-stop" onClick={() => desk.supervision.stop(c.id)}>{t("desk.dash.monitor.stop")}</button>
      <ol id="monitor-messages" aria-live="polite">
        {entry.messages.map((m) => (
          <li key={m.seq} class={m.from === "customer" ? "customer" : "agent"}>
            <span class="who">{who(m, t)}</span> <span class="text">{m.text}</span>{" "}
            <time class="quiet">{formatMoment(m.at, t.language, zone, { date: false })}</time>
          </li>
        ))}
        {entry.mails.map((mail) => (
          <li key={mail.id} class={mail.direction === "in" ? "customer" : "agent"}>
            <span class="who">{mail.from_name || mail.from}</span> <strong>{mail.subject}</strong>
            <p class="text">{mail.text}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}

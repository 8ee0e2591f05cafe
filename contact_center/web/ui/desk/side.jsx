// Beside the conversation: the offers waiting for an answer, the agent's contacts, and the
// customer with their history.
import { useEffect, useState } from "preact/hooks";
import { formatDuration, formatMoment } from "../shared/i18n.js";
import { customerName } from "./conversation.jsx";

function useTick(every) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [every]);
  return now;
}

/** A value band by its configured name, in the agent's language. */
export function Band({ band, t }) {
  if (!band) return null;
  const name = band.name[t.language] || band.name.en;
  return <span class={`band band-${band.level}`}>{t("desk.band", { band: name })}</span>;
}

function OfferCard({ desk, item, t }) {
  const now = useTick(250);
  const o = item.offer;
  const c = o.contact;
  const left = Math.max(0, Math.ceil((item.deadline - now) / 1000));
  const waited = Math.max(0, now / 1000 - c.enqueued_at);
  const skills = (c.skills || []).map((s) => s[0]).join(", ");
  return (
    <li class="offer" data-offer={o.offer_id} aria-label={t("desk.offer.label", { channel: t(`desk.channel.${c.channel}`) })}>
      <div class="offer-what"><b>{t(`desk.channel.${c.channel}`)}</b>{c.subject && c.channel !== "chat" ? ` · ${c.subject}` : ""} <Band band={c.value_band} t={t} /></div>
      {item.who !== undefined ? <div class="offer-who">{item.who || t("desk.visitor", { id: c.customer_id.slice(0, 6) })}</div> : null}
      {c.channel === "chat" && c.subject ? <blockquote class="offer-first">{c.subject}</blockquote> : null}
      <div class="offer-skills">{skills}</div>
      <div class="offer-wait">{t("desk.offer.waited", { wait: formatDuration(waited, t.language) })}</div>
      <div class="countdown" role="timer">{t("desk.offer.left", { count: left })}</div>
      <button type="button" class="accept" onClick={() => desk.accept(o.offer_id)}>{t("desk.accept")}</button>
      <button type="button" class="reject" onClick={() => desk.reject(o.offer_id)}>{t("desk.reject")}</button>
    </li>
  );
}

export function Offers({ desk, state, t }) {
  return (
    <section aria-labelledby="offers-title">
      <h2 id="offers-title">{t("desk.offers")}</h2>
      <ul id="offers">{state.offers.map((item) => <OfferCard key={item.offer.offer_id} desk={desk} item={item} t={t} />)}</ul>
      {state.offers.length ? null : <p class="quiet">{t(state.status === "available" ? "desk.offers.none" : "desk.offers.not_available")}</p>}
    </section>
  );
}

function preview(entry, t) {
  const last = entry.messages[entry.messages.length - 1];
  if (last) return last.text || (last.files || []).map((f) => f.name).join(", ");
  const mail = entry.mails[entry.mails.length - 1];
  return mail ? (mail.subject || t("desk.mail.no_subject")) : "";
}

function ContactItem({ desk, entry, current, t, zone }) {
  const c = entry.contact;
  const marks = [t(`desk.channel.${c.channel}`), t(`desk.state.${c.state}`)];
  if (c.left_at) marks.push(t("desk.customer_left"));
  return (
    <li data-contact={c.id} class={`${current ? "active" : ""}${entry.unread ? " unread" : ""}`}>
      <button type="button" class="contact" aria-current={current ? "true" : undefined} onClick={() => desk.select(c.id)}>
        <span class="name">{customerName(entry, t)}</span>
        {entry.unread ? <span class="badge" aria-label={t("desk.unread", { count: entry.unread })}>{entry.unread}</span> : null}
        <span class="marks">{marks.join(" · ")}</span>
        {c.channel === "email" && c.due_at && !c.answered_at ? (
          <span class={`due${c.breached_at ? " breached" : ""}`}>{c.breached_at ? t("desk.breached") : t("desk.due_at", { at: formatMoment(c.due_at, t.language, zone) })}</span>
        ) : null}
        <span class="preview">{preview(entry, t)}</span>
      </button>
    </li>
  );
}

export function Contacts({ desk, state, t }) {
  const ids = desk.contactIds();
  return (
    <section aria-labelledby="contacts-title">
      <h2 id="contacts-title">{t("desk.my_contacts")}</h2>
      <ul id="contacts">{ids.map((id) => <ContactItem key={id} desk={desk} entry={state.contacts[id]} current={id === state.current} t={t} zone={state.timeZone} />)}</ul>
      {ids.length ? null : <p class="quiet">{t("desk.contacts.none")}</p>}
    </section>
  );
}

function Claim({ desk, contactId, claim, t }) {
  const [armed, setArmed] = useState(false);
  const [sent, setSent] = useState(false);
  return (
    <div class="claim">
      <span>{t("desk.customer.claims", { value: claim[1] })}</span>
      <button type="button" class={`link-claim${armed ? " armed" : ""}`} disabled={sent} aria-label={t("desk.customer.confirm_label", { value: claim[1] })}
        onClick={() => { if (!armed) { setArmed(true); return; } desk.linkIdentity(contactId, claim[0], claim[1]); setSent(true); }}>
        {armed ? t("desk.customer.sure") : t("desk.customer.confirm")}
      </button>
    </div>
  );
}

/** The language the customer writes in, as the contact asks for it (a chat's ``lang_`` skill). */
function Language({ contact, t }) {
  const skill = (contact.skills || []).find((s) => s[0].startsWith("lang_"));
  if (!skill) return null;
  const code = skill[0].slice(5);
  return <div class="customer-language">{t("desk.customer.language", { language: t(`desk.language.${code}`, {}, code) })}</div>;
}

export function CustomerPanel({ desk, state, t }) {
  const entry = state.current && state.contacts[state.current];
  const cu = state.viewing || (entry && entry.customer);
  return (
    <section aria-labelledby="customer-title">
      <h2 id="customer-title">{t("desk.customer")}</h2>
      <div id="customer">
        {cu ? (
          <>
            <div class="customer-name">{cu.name || t("desk.customer.unnamed")} <Band band={cu.value_band} t={t} /></div>
            {!state.viewing && entry ? <Language contact={entry.contact} t={t} /> : null}
            {(cu.identities || []).filter((i) => i[0] !== "visitor").map((i) => (
              <div key={`${i[0]}:${i[1]}`} class="identity verified">{t("desk.customer.verified", { kind: t(`desk.identity.${i[0]}`, {}, i[0]), value: i[1] })}</div>
            ))}
            {!state.viewing && entry ? (cu.claims || []).map((claim) => <Claim key={`${claim[0]}:${claim[1]}`} desk={desk} contactId={entry.contact.id} claim={claim} t={t} />) : null}
            {state.viewing ? <button type="button" id="view-back" onClick={() => desk.view(null)}>{t("desk.search.back")}</button> : null}
          </>
        ) : null}
      </div>
    </section>
  );
}

/** The customer's past contacts, each once (this one's messages are in the transcript), and the pages they saw. */
export function History({ state, t }) {
  const entry = state.current && state.contacts[state.current];
  const customerId = state.viewing ? state.viewing.id : entry && entry.contact.customer_id;
  const here = state.viewing ? null : entry && entry.contact.id;  // this contact's messages are in the transcript
  const events = (customerId && state.history[customerId]) || [];
  const pages = events.filter((e) => e.kind === "page_view");
  const past = new Map();
  for (const e of events) {
    if (!e.contact_id || e.contact_id === here) continue;
    const item = past.get(e.contact_id) || { id: e.contact_id, channel: e.channel, at: e.at, messages: [], outcome: null };
    if (e.kind === "message") item.messages.push(e);
    if (["contact.closed", "contact.abandoned", "contact.wrap_up"].includes(e.kind)) item.outcome = e;
    if (e.kind === "rating") item.rating = e.data;
    past.set(e.contact_id, item);
  }
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t("desk.history")}</h2>
      <div id="history">
      <ol class="past-contacts">
        {[...past.values()].map((p) => (
          <li key={p.id} class="past">
            <details>
              <summary>
                {`${t(`desk.channel.${p.channel}`, {}, p.channel || "")} · ${formatMoment(p.at, t.language, state.timeZone)}`}
                {p.outcome ? ` · ${t(`desk.outcome.${p.outcome.kind}`, {}, p.outcome.kind)}` : ""}
                {p.rating ? ` · ${t("desk.rated", { score: p.rating.score })}` : ""}
              </summary>
              {p.rating && p.rating.comment ? <div class="past-rating">{p.rating.comment}</div> : null}
              {p.messages.map((m) => <div key={m.id} class={`past-msg ${m.actor === "customer" ? "customer" : "agent"}`}>{m.data.text}</div>)}
            </details>
          </li>
        ))}
      </ol>
      {pages.length ? (
        <>
          <h3>{t("desk.pages")}</h3>
          <ul class="pages">{pages.slice(-10).map((e) => <li key={e.id}><span class="page-title">{e.data.title || e.data.url}</span> <time>{formatMoment(e.at, t.language, state.timeZone)}</time></li>)}</ul>
        </>
      ) : null}
      </div>
    </section>
  );
}

function WaitingItem({ w, t, zone, now }) {
  const marks = [t(`desk.channel.${w.channel}`), t("desk.waiting_for", { wait: formatDuration(now / 1000 - w.enqueued_at, t.language) })];
  return (
    <li class={`waiting${w.breached ? " breached" : w.at_risk ? " at-risk" : ""}`} data-waiting={w.id}>
      <span class="name">{w.customer_name || t("desk.visitor", { id: w.id.slice(0, 6) })}</span>
      <Band band={w.value_band} t={t} />
      {w.breached ? <span class="mark breached">{t("desk.breached")}</span> : w.at_risk ? <span class="mark at-risk">{t("desk.at_risk")}</span> : null}
      <span class="marks">{marks.join(" · ")}</span>
      {w.channel === "email" && w.due_at ? <span class="due">{t("desk.due_at", { at: formatMoment(w.due_at, t.language, zone) })}</span> : null}
    </li>
  );
}

/** The waiting queue, read only: what comes next, in the order it is served. */
export function WaitingList({ state, t }) {
  const now = useTick(5000);
  const { waiting, waiting_total: total } = state.floor;
  return (
    <section aria-labelledby="waiting-title">
      <h2 id="waiting-title">{t("desk.waiting", { count: total })}</h2>
      <ol id="waiting">{waiting.map((w) => <WaitingItem key={w.id} w={w} t={t} zone={state.timeZone} now={now} />)}</ol>
      {total > waiting.length ? <p class="quiet">{t("desk.waiting_more", { count: total - waiting.length })}</p> : null}
    </section>
  );
}

/** Customers by a name's start, an email address, a phone number or a ticket. */
export function Search({ desk, state, t }) {
  const [query, setQuery] = useState("");
  const results = state.search;
  return (
    <section role="search" aria-labelledby="search-title">
      <h2 id="search-title">{t("desk.search")}</h2>
      <form class="search" onSubmit={(e) => { e.preventDefault(); desk.search(query); }}>
        <input id="search" type="search" value={query} aria-label={t("desk.search.label")} placeholder={t("desk.search.placeholder")}
          onInput={(e) => setQuery(e.currentTarget.value)} />
        <button type="submit" id="search-go">{t("desk.search.go")}</button>
      </form>
      {results ? (
        <ul id="search-results" aria-label={t("desk.search.results", { count: results.customers.length })}>
          {results.customers.length ? results.customers.map((cu) => (
            <li key={cu.id}>
              <button type="button" class="result" onClick={() => desk.view(cu)}>
                <span class="name">{cu.name || t("desk.customer.unnamed")}</span> <Band band={cu.value_band} t={t} />
                <span class="marks">{(cu.identities || []).filter((i) => i[0] !== "visitor").map((i) => i[1]).join(" · ")}</span>
              </button>
            </li>
          )) : <li class="quiet">{t("desk.search.none", { query: results.query })}</li>}
        </ul>
      ) : null}
    </section>
  );
}

// Quality monitoring: the supervisor's weekly sample and review form; the agent's own reviews.
// The conversation reviewed is shown as it was recorded, customer text always as text.
import { useEffect, useState } from "preact/hooks";
import { formatMoment } from "../shared/i18n.js";

function label(criterion, t) {
  return criterion.labels[t.language] || criterion.labels.en || criterion.id;
}

function scoreText(score, t) {
  return new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(score);
}

export function QualitySample({ desk, state, t }) {
  const sample = state.qualitySample;
  return (
    <section aria-labelledby="quality-title">
      <h3 id="quality-title">{t("desk.quality.title")}</h3>
      <button type="button" id="quality-load" onClick={() => desk.supervision.qualitySample()}>{t("desk.quality.load")}</button>
      {sample ? (
        <ul id="quality-sample">
          {sample.agents.length ? sample.agents.map((a) => (
            <li key={a.agent_id}>
              <strong>{a.name}</strong>{" "}
              {a.contacts.map((c) => (
                <button type="button" key={c.id} class="link" onClick={() => desk.supervision.openReview(c.id)}
                  aria-label={t("desk.quality.review_of", { name: a.name, channel: t(`desk.channel.${c.channel}`) })}>
                  {t(`desk.channel.${c.channel}`)}{c.review ? ` (${scoreText(c.review.score, t)})` : ` (${t("desk.quality.unreviewed")})`}
                </button>
              ))}
            </li>
          )) : <li>{t("desk.quality.none")}</li>}
        </ul>
      ) : null}
    </section>
  );
}

function Transcript({ r, t, zone }) {
  return (
    <ol class="review-transcript" aria-label={t("desk.quality.transcript")}>
      {r.messages.map((m) => (
        <li key={`m${m.seq}`} class={m.from === "customer" ? "customer" : "agent"}>
          <span class="who">{m.from === "customer" ? t("desk.dash.monitor.customer") : t("desk.dash.monitor.agent")}</span>{" "}
          <span class="text">{m.text}</span> <time class="quiet">{formatMoment(m.at, t.language, zone, { date: false })}</time>
        </li>
      ))}
      {r.mails.map((mail) => (
        <li key={mail.id} class={mail.direction === "in" ? "customer" : "agent"}>
          <span class="who">{mail.from_name || mail.from}</span> <strong>{mail.subject}</strong><p class="text">{mail.text}</p>
        </li>
      ))}
      {r.events.filter((e) => e.kind.startsWith("call.")).map((e) => (
        <li key={`e${e.id}`} class="event"><span class="quiet">{e.kind}</span> {e.data.duration_s ? `${e.data.duration_s} s` : ""}</li>
      ))}
    </ol>
  );
}

export function ReviewPanel({ desk, state, t, zone }) {
  const r = state.reviewing;
  const [scores, setScores] = useState({});
  const [comment, setComment] = useState("");
  useEffect(() => {
    setScores(r && r.review ? r.review.scores : {});
    setComment(r && r.review ? r.review.comment : "");
  }, [r && r.contact.id, r && r.review && r.review.at]);
  if (!r) return null;
  const form = r.form;
  const name = (r.customer && r.customer.name) || t("desk.customer.unnamed");
  const complete = form.criteria.every((c) => scores[c.id]);
  return (
    <section class="review" id="review" aria-labelledby="review-title">
      <h3 id="review-title">{t("desk.quality.reviewing", { agent: r.agent_name, name, channel: t(`desk.channel.${r.contact.channel}`) })}</h3>
      <Transcript r={r} t={t} zone={zone} />
      <form id="review-form" onSubmit={(e) => { e.preventDefault(); if (complete) desk.supervision.saveReview(r.contact.id, scores, comment); }}>
        {form.criteria.map((c) => (
          <label key={c.id}>{label(c, t)} <span class="quiet">×{c.weight}</span>{" "}
            <select value={scores[c.id] || ""} onChange={(e) => setScores({ ...scores, [c.id]: Number(e.currentTarget.value) })}>
              <option value="">{t("desk.quality.choose")}</option>
              {Array.from({ length: form.scale }, (_, i) => i + 1).map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
        ))}
        <label>{t("desk.quality.comment")} <textarea id="review-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} /></label>
        <button type="submit" id="review-save" disabled={!complete}>{t("desk.quality.save")}</button>{" "}
        <button type="button" onClick={() => desk.supervision.closeReview()}>{t("desk.quality.close")}</button>
      </form>
      {r.review ? <p id="review-score" role="status">{t("desk.quality.score", { score: scoreText(r.review.score, t) })}</p> : null}
    </section>
  );
}

export function MyReviews({ desk, state, t }) {
  const reviews = state.myReviews || [];
  return (
    <main class="conversation reviews" aria-labelledby="my-reviews-title">
      <h2 id="my-reviews-title">{t("desk.quality.mine")}</h2>
      <button type="button" onClick={() => desk.supervision.myReviews(false)}>{t("desk.quality.close")}</button>
      <ul id="my-reviews">
        {reviews.length ? reviews.map((r) => (
          <li key={r.contact_id}>
            <strong>{t("desk.quality.score", { score: scoreText(r.score, t) })}</strong>{" "}
            <span>{t(`desk.channel.${r.channel}`)} · {formatMoment(r.at, t.language, state.timeZone)} · {r.reviewer_name}</span>
            {r.comment ? <p class="text">{r.comment}</p> : null}
            <dl class="figures">{Object.entries(r.scores).map(([id, n]) => [<dt key={`t${id}`}>{criterionName(state, id, t)}</dt>, <dd key={`d${id}`}>{n}</dd>])}</dl>
          </li>
        )) : <li>{t("desk.quality.no_reviews")}</li>}
      </ul>
    </main>
  );
}

function criterionName(state, id, t) {
  const c = state.reviewForm && state.reviewForm.criteria.find((x) => x.id === id);
  return c ? label(c, t) : id;
}

// The rest of the reports page (./reports.jsx) for the same period and range: the email promise per period,
// how soon contacts were answered (the share answered within each time, a chart per channel) and how long
// they took, each agent's figures, callbacks' outcomes, the customers' ratings and the replies used.
import { CHANNEL_COLOURS, Chart, percent } from "./charts.jsx";

function number(value, t, digits = 1) {
  return value === null || value === undefined ? t("desk.dash.none") : new Intl.NumberFormat(t.language, { maximumFractionDigits: digits }).format(value);
}

function Empty({ t }) {
  return <p class="quiet">{t("desk.reports.empty")}</p>;
}

function edgeLabel(seconds, t) {
  if (seconds < 60) return t("desk.reports.edge.s", { n: seconds });
  if (seconds < 3600) return t("desk.reports.edge.min", { n: seconds / 60 });
  return t("desk.reports.edge.h", { n: seconds / 3600 });
}

export function EmailPromise({ email, t }) {
  return (
    <section aria-labelledby="report-promise-title">
      <h4 id="report-promise-title">{t("desk.reports.promise", { target: percent(email.target, t) })}</h4>
      {email.periods.length ? (
      <table id="report-promise">
        <thead><tr>{["period", "arrived", "met", "breached", "pending", "share"].map((k) => <th key={k} scope="col">{t(`desk.reports.promise_col.${k}`)}</th>)}</tr></thead>
        <tbody>
          {email.periods.map((p) => (
            <tr key={p.start}><th scope="row">{p.start}</th><td>{p.arrived}</td><td>{p.met}</td><td>{p.breached}</td><td>{p.pending}</td>
              <td class={p.on_target === null ? "" : p.on_target ? "on-target" : "off-target"}>{percent(p.share, t)}</td></tr>
          ))}
        </tbody>
      </table>
      ) : <Empty t={t} />}
    </section>
  );
}

/** Each channel's share answered within each of the report's answer times, over the whole range. */
export function AnswerTimes({ report, t }) {
  const edges = report.answer_edges_s.slice(1);
  const totals = report.totals.filter((x) => x.answered > 0);
  const within = (x) => {
    const counts = Object.values(x.answer_times);
    let sum = 0;
    return edges.map((_, i) => { sum += counts[i]; return (sum / x.answered) * 100; });
  };
  const xs = edges.map((_, i) => i);
  const labelled = totals.map((x) => `${t(`desk.channel.${x.channel}`)} ${percent(within(x)[2] / 100, t)}`).join(", ");
  return (
    <section aria-labelledby="report-answer-title">
      <h4 id="report-answer-title">{t("desk.reports.answer_times")}</h4>
      {totals.length ? null : <Empty t={t} />}
      {totals.length ? (
        <Chart id="report-answer-chart" title={t("desk.reports.answer_chart")} yRange={[0, 100]} width={640} height={200}
          label={t("desk.reports.answer_label", { within: edgeLabel(edges[2], t), shares: labelled })}
          xValues={(i) => edgeLabel(edges[i], t)} xLabel={t("desk.reports.within_axis")}
          series={totals.map((x) => ({ label: t(`desk.channel.${x.channel}`), stroke: CHANNEL_COLOURS[x.channel] }))}
          data={[xs, ...totals.map(within)]} />
      ) : null}
      {totals.length ? (
      <table id="report-answer-times">
        <thead><tr><th scope="col">{t("desk.reports.col.channel")}</th>{edges.map((e) => <th key={e} scope="col">{t("desk.reports.within", { time: edgeLabel(e, t) })}</th>)}</tr></thead>
        <tbody>
          {totals.map((x) => <tr key={x.channel}><th scope="row">{t(`desk.channel.${x.channel}`)}</th>{within(x).map((v, i) => <td key={i}>{percent(v / 100, t)}</td>)}</tr>)}
        </tbody>
      </table>
      ) : null}
    </section>
  );
}

export function HandleTimes({ report, t }) {
  const edges = report.handle_edges_s;
  const totals = report.totals.filter((x) => x.handled > 0);
  const bucket = (i) => (i + 1 < edges.length ? `${edgeLabel(edges[i], t)}–${edgeLabel(edges[i + 1], t)}` : t("desk.reports.over", { time: edgeLabel(edges[i], t) }));
  return (
    <section aria-labelledby="report-handle-title">
      <h4 id="report-handle-title">{t("desk.reports.handle_times")}</h4>
      {totals.length ? (
      <table id="report-handle-times">
        <thead><tr><th scope="col">{t("desk.reports.col.channel")}</th>{edges.map((e, i) => <th key={e} scope="col">{bucket(i)}</th>)}</tr></thead>
        <tbody>
          {totals.map((x) => <tr key={x.channel}><th scope="row">{t(`desk.channel.${x.channel}`)}</th>{Object.values(x.handle_times).map((n, i) => <td key={i}>{n}</td>)}</tr>)}
        </tbody>
      </table>
      ) : <Empty t={t} />}
    </section>
  );
}

export function Agents({ report, names, t }) {
  return (
    <section aria-labelledby="report-agents-title">
      <h4 id="report-agents-title">{t("desk.reports.agents")}</h4>
      <table id="report-agents">
        <thead><tr>{["agent", "handled", "aht", "rating", "fcr", "staffed", "occupancy"].map((k) => <th key={k} scope="col">{t(`desk.reports.agent_col.${k}`)}</th>)}</tr></thead>
        <tbody>
          {report.agents.map((a) => (
            <tr key={a.agent_id} data-agent={a.agent_id}>
              <th scope="row">{names[a.agent_id] || a.agent_id}</th><td>{a.handled}</td><td>{number(a.aht_s, t)}</td>
              <td>{a.rated ? t("desk.reports.rating", { mean: number(a.mean_rating, t, 2), count: a.rated }) : t("desk.dash.none")}</td>
              <td>{percent(a.fcr, t)}</td><td>{number(a.staffed_s / 3600, t)}</td><td>{percent(a.occupancy, t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Callbacks({ report, t }) {
  const outcomes = Object.entries(report.callback_outcomes).sort((a, b) => b[1] - a[1]);
  return (
    <section aria-labelledby="report-callbacks-title">
      <h4 id="report-callbacks-title">{t("desk.reports.callbacks", { count: outcomes.reduce((n, [, k]) => n + k, 0) })}</h4>
      {outcomes.length ? null : <Empty t={t} />}
      <ul id="report-callbacks">
        {outcomes.map(([outcome, n]) => <li key={outcome}>{t(`desk.disposition.${outcome}`, {}, t(`desk.state.${outcome}`, {}, outcome.replace(/_/g, " ")))}: {n}</li>)}
      </ul>
    </section>
  );
}

export function Ratings({ ratings, t }) {
  const rated = ratings.periods.reduce((n, p) => n + p.rated, 0);
  const satisfied = ratings.periods.reduce((n, p) => n + (p.scores["4"] || 0) + (p.scores["5"] || 0), 0);
  return (
    <section aria-labelledby="report-ratings-title">
      <h4 id="report-ratings-title">{t("desk.reports.ratings", { count: rated, csat: percent(rated ? satisfied / rated : null, t) })}</h4>
      {rated ? (
      <table id="report-ratings">
        <thead><tr>{["period", "rated", "mean", "csat"].map((k) => <th key={k} scope="col">{t(`desk.reports.rating_col.${k}`)}</th>)}</tr></thead>
        <tbody>
          {ratings.periods.filter((p) => p.rated).map((p) => (
            <tr key={p.start}><th scope="row">{p.start}</th><td>{p.rated}</td><td>{number(p.mean, t, 2)}</td><td>{percent(p.satisfied, t)}</td></tr>
          ))}
        </tbody>
      </table>
      ) : <Empty t={t} />}
    </section>
  );
}

export function RepliesUsed({ replies, t }) {
  return (
    <section aria-labelledby="report-replies-title">
      <h4 id="report-replies-title">{t("desk.reports.replies", { count: replies.replies.reduce((n, r) => n + r.uses, 0) })}</h4>
      {replies.replies.length ? null : <Empty t={t} />}
      <ol id="report-replies">
        {replies.replies.slice(0, 10).map((r) => <li key={r.id}>{r.title || r.id}: {r.uses}</li>)}
      </ol>
    </section>
  );
}

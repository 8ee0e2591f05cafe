// The supervisor's reports page: the service report for a period and a range (GET /api/reports/service),
// as a table per period and channel, a chart of each channel's service level against its target, and the
// same as CSV and PNG (fetched with the supervisor's token); below it the email promise, answer and handle
// times, agents, callbacks, ratings and replies used for the same span (./report_details.jsx).
import { useState } from "preact/hooks";
import { CHANNEL_COLOURS, Chart, percent } from "./charts.jsx";
import { authed, dataUrl, saveAs } from "./mail.jsx";
import { Agents, AnswerTimes, Callbacks, EmailPromise, HandleTimes, Ratings, RepliesUsed } from "./report_details.jsx";

const PERIODS = ["day", "week", "month", "quarter", "half", "year"];

function today() {
  return new Date().toISOString().slice(0, 10);
}

function seconds(value, t) {
  return value === null || value === undefined ? t("desk.dash.none") : new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(value);
}

function ReportTable({ report, t }) {
  return (
    <table id="report-table">
      <thead><tr>
        {["period", "channel", "arrived", "answered", "sl", "asa", "aht", "abandoned", "fcr"].map((k) => <th key={k} scope="col">{t(`desk.reports.col.${k}`)}</th>)}
      </tr></thead>
      <tbody>
        {report.periods.map((p) => (
          <tr key={`${p.start}-${p.channel}`}>
            <th scope="row">{p.start}</th><td>{t(`desk.channel.${p.channel}`)}</td><td>{p.arrived}</td><td>{p.answered}</td>
            <td>{percent(p.service_level, t)}</td><td>{seconds(p.asa_s, t)}</td><td>{seconds(p.aht_s, t)}</td>
            <td>{percent(p.abandon_rate, t)}</td><td>{percent(p.fcr, t)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReportChart({ report, t }) {
  const starts = [...new Set(report.periods.map((p) => p.start))].sort();
  const channels = [...new Set(report.periods.map((p) => p.channel))].sort();
  const xs = starts.map((s) => Date.parse(`${s}T00:00:00Z`) / 1000);
  const data = [xs, ...channels.map((ch) => starts.map((s) => {
    const row = report.periods.find((p) => p.start === s && p.channel === ch);
    return row && row.service_level !== null ? row.service_level * 100 : null;
  }))];
  const series = channels.map((ch) => ({ label: t(`desk.channel.${ch}`), stroke: CHANNEL_COLOURS[ch] }));
  const totals = report.totals.map((x) => `${t(`desk.channel.${x.channel}`)} ${percent(x.service_level, t)}`).join(", ");
  const day = 86_400;  // one period alone: a day either side, not uPlot's years around it
  const xRange = xs.length === 1 ? [xs[0] - day, xs[0] + day] : null;
  return <Chart id="report-chart" title={t("desk.reports.chart")} label={t("desk.reports.chart_label", { totals })} xTime xRange={xRange}
    xLabel={t("desk.reports.col.period")}
    yRange={[0, 100]} series={series} data={data} width={640} height={220} />;
}

export function Reports({ desk, state, t }) {
  const [period, setPeriod] = useState("month");
  const [to, setTo] = useState(today());
  const [from, setFrom] = useState(`${today().slice(0, 4)}-01-01`);
  const [report, setReport] = useState(null);
  const [more, setMore] = useState(null);  // {email, ratings, replies} for the same span
  const [png, setPng] = useState(null);
  const [error, setError] = useState("");
  const span = `period=${period}&from=${from}&to=${to}`;
  const query = `/api/reports/service?${span}`;
  const read = (path) => authed(`${path}?${span}`, desk.token).then((blob) => blob.text()).then((text) => JSON.parse(text));
  const show = () => {
    setError("");
    Promise.all(["/api/reports/service", "/api/reports/email", "/api/reports/ratings", "/api/reports/replies"].map(read)).then(
      ([service, email, ratings, replies]) => { setReport(service); setMore({ email, ratings, replies }); setPng(null); },
      () => setError(t("desk.reports.failed")),
    );
  };
  const names = Object.fromEntries(((state.dashboard && state.dashboard.agents) || []).map((a) => [a.id, a.name]));
  return (
    <main class="conversation reports" aria-labelledby="reports-title">
      <h2 id="reports-title">{t("desk.reports.title")}</h2>
      <button type="button" onClick={() => desk.supervision.openReports(false)}>{t("desk.quality.close")}</button>
      <form id="report-form" onSubmit={(e) => { e.preventDefault(); show(); }}>
        <label for="report-period">{t("desk.reports.period")}</label>{" "}
        <select id="report-period" value={period} onChange={(e) => setPeriod(e.currentTarget.value)}>
          {PERIODS.map((p) => <option key={p} value={p}>{t(`desk.reports.period.${p}`)}</option>)}
        </select>{" "}
        <label for="report-from">{t("desk.reports.from")}</label>{" "}
        <input id="report-from" type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />{" "}
        <label for="report-to">{t("desk.reports.to")}</label>{" "}
        <input id="report-to" type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />{" "}
        <button type="submit" id="report-show">{t("desk.reports.show")}</button>
      </form>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {report ? (
        <section aria-labelledby="report-result">
          <h3 id="report-result">{t("desk.reports.result", { from: report.from, to: report.to })}</h3>
          <p>{t("desk.reports.occupancy", { occupancy: percent(report.occupancy, t) })} · {t("desk.reports.quality", { n: report.quality.reviews, score: report.quality.mean_score ?? t("desk.dash.none") })}</p>
          <ReportChart report={report} t={t} />
          <ReportTable report={report} t={t} />
          <button type="button" id="report-csv" onClick={() => saveAs(`${query}&format=csv`, `service-${period}-${from}-${to}.csv`, desk.token, () => setError(t("desk.reports.failed")))}>{t("desk.reports.csv")}</button>{" "}
          <button type="button" id="report-png" onClick={() => dataUrl(`${query}&format=png&lang=${t.language}`, desk.token).then(setPng, () => setError(t("desk.reports.failed")))}>{t("desk.reports.png")}</button>
          {png ? <img id="report-image" src={png} alt={t("desk.reports.chart")} /> : null}
          {more ? <EmailPromise email={more.email} t={t} /> : null}
          <AnswerTimes report={report} t={t} />
          <HandleTimes report={report} t={t} />
          <Agents report={report} names={names} t={t} />
          <Callbacks report={report} t={t} />
          {more ? <Ratings ratings={more.ratings} t={t} /> : null}
          {more ? <RepliesUsed replies={more.replies} t={t} /> : null}
        </section>
      ) : null}
    </main>
  );
}

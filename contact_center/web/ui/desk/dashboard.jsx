// The supervisor's live dashboard (docs/protocol.md, the dashboard): the email promise against its
// line with the emails at risk and past due, each channel's line and service level, the queue over
// the last half hour, the agents (their status can be set, their contacts moved or listened in on),
// the callbacks due within the hour and staffing (./staffing.jsx).
import { formatDuration, formatMoment } from "../shared/i18n.js";
import { CHANNEL_COLOURS, Chart, percent } from "./charts.jsx";
import { AgentsBoard } from "./dashboard_agents.jsx";
import { Monitor } from "./monitor.jsx";
import { QualitySample, ReviewPanel } from "./quality.jsx";
import { Staffing } from "./staffing.jsx";
import { CHANNELS } from "./supervision.js";

function ContactButton({ desk, c, t, label }) {
  return (
    <button type="button" class="link" aria-label={t(label, { name: c.customer_name || t("desk.customer.unnamed") })}
      onClick={() => desk.supervision.monitor(c.id)}>
      {c.customer_name || t("desk.customer.unnamed")}
    </button>
  );
}

function PromiseList({ desk, id, title, items, t, zone }) {
  return (
    <section aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>{t(title, { count: items.length })}</h4>
      <ul id={id}>
        {items.map((c) => (
          <li key={c.id} data-contact={c.id}>
            <ContactButton desk={desk} c={c} t={t} label="desk.dash.open_contact" />{" "}
            <span class="quiet">{c.ticket} · {c.subject}</span>{" "}
            <span>{t("desk.dash.due", { at: formatMoment(c.due_at, t.language, zone, { date: false }) })}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Promise({ desk, dash, t }) {
  const e = dash.email;
  const zone = dash.office.time_zone;
  const line = (s) => (s && s.service_level !== null ? (s.service_level >= e.target ? "on-target" : "off-target") : "");
  return (
    <section class="promise" aria-labelledby="promise-title">
      <h3 id="promise-title">{t("desk.dash.promise", { target: percent(e.target, t), hours: e.within_h })}</h3>
      <dl class="figures">
        <dt>{t("desk.dash.today")}</dt>
        <dd id="promise-today" class={line(e.today)}>{percent(e.today && e.today.service_level, t)}</dd>
        <dt>{t("desk.dash.week")}</dt>
        <dd id="promise-week" class={line(e.week)}>{percent(e.week && e.week.service_level, t)}</dd>
      </dl>
      <PromiseList desk={desk} id="promise-at-risk" title="desk.dash.at_risk" items={e.at_risk} t={t} zone={zone} />
      <PromiseList desk={desk} id="promise-breached" title="desk.dash.breached" items={e.breached} t={t} zone={zone} />
    </section>
  );
}

function ChannelCard({ c, dash, t }) {
  const wait = c.oldest_at === null ? null : dash.now - c.oldest_at;
  const hours = c.hours.map((_, h) => h);
  const data = [hours, c.hours.map((v) => (v === null ? null : v * 100)), hours.map(() => c.target * 100)];
  const name = t(`desk.channel.${c.channel}`);
  return (
    <article class="channel-card" aria-labelledby={`channel-${c.channel}-title`} data-channel={c.channel}>
      <h4 id={`channel-${c.channel}-title`}>{name}</h4>
      <dl class="figures">
        <dt>{t("desk.dash.waiting")}</dt><dd id={`waiting-${c.channel}`}>{c.waiting}</dd>
        <dt>{t("desk.dash.longest")}</dt><dd id={`longest-${c.channel}`}>{wait === null ? t("desk.dash.none") : formatDuration(wait, t.language)}</dd>
        <dt>{t("desk.dash.sl_today", { within: c.threshold_s })}</dt>
        <dd id={`sl-today-${c.channel}`}>{percent(c.today && c.today.service_level, t)}</dd>
        <dt>{t("desk.dash.sl_week")}</dt><dd id={`sl-week-${c.channel}`}>{percent(c.week && c.week.service_level, t)}</dd>
        <dt>{t("desk.dash.target")}</dt><dd>{percent(c.target, t)}</dd>
        <dt>{t("desk.dash.abandoned")}</dt><dd id={`abandoned-${c.channel}`}>{percent(c.today && c.today.abandon_rate, t)}</dd>
        <dt>{t("desk.dash.answered")}</dt><dd id={`answered-${c.channel}`}>{c.today ? c.today.answered : 0}</dd>
      </dl>
      <Chart id={`chart-sl-${c.channel}`} title={t("desk.dash.sl_by_hour")} width={300} height={140} yRange={[0, 100]}
        label={t("desk.dash.sl_by_hour_label", { channel: name, today: percent(c.today && c.today.service_level, t), target: percent(c.target, t) })}
        series={[{ label: t("desk.dash.sl"), stroke: CHANNEL_COLOURS[c.channel] }, { label: t("desk.dash.target"), stroke: "#cf222e", dash: [6, 4] }]}
        data={data} />
    </article>
  );
}

function QueueChart({ desk, t }) {
  const s = desk.supervision.series;
  const series = CHANNELS.map((ch) => ({ label: t(`desk.channel.${ch}`), stroke: CHANNEL_COLOURS[ch] }));
  const now = CHANNELS.map((ch) => `${t(`desk.channel.${ch}`)} ${s[ch].length ? s[ch][s[ch].length - 1] : 0}`).join(", ");
  return <Chart id="chart-queue" title={t("desk.dash.queue_chart")} label={t("desk.dash.queue_label", { now })} xTime
    series={series} data={[s.at.slice(), ...CHANNELS.map((ch) => s[ch].slice())]} />;
}

function CallbacksDue({ desk, dash, t }) {
  const zone = dash.office.time_zone;
  return (
    <section aria-labelledby="callbacks-due-title">
      <h3 id="callbacks-due-title">{t("desk.dash.callbacks_due", { count: dash.callbacks_due.length })}</h3>
      <ul id="callbacks-due">
        {dash.callbacks_due.map((c) => (
          <li key={c.id}>
            <ContactButton desk={desk} c={c} t={t} label="desk.dash.open_contact" />{" "}
            <span>{formatMoment(c.due_at, t.language, zone, { date: false })}</span>{" "}
            {c.queue_number ? <span class="quiet">#{c.queue_number}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Dashboard({ desk, state, t }) {
  const dash = state.dashboard;
  if (!dash) return <main class="conversation dashboard" aria-label={t("desk.dash.title")}><p role="status">{t("desk.dash.loading")}</p></main>;
  const watching = state.watching && state.monitored[state.watching];
  return (
    <main class="conversation dashboard" aria-labelledby="dashboard-title">
      <h2 id="dashboard-title">{t("desk.dash.title")}</h2>
      <button type="button" id="reports-button" onClick={() => desk.supervision.openReports(true)}>{t("desk.reports.title")}</button>
      {state.supervisorNotice ? <p class="notice" role="status">{t(`desk.dash.notice.${state.supervisorNotice.kind}`, state.supervisorNotice, state.supervisorNotice.message || "")}</p> : null}
      {watching ? <Monitor desk={desk} entry={watching} t={t} zone={dash.office.time_zone} /> : null}
      <ReviewPanel desk={desk} state={state} t={t} zone={dash.office.time_zone} />
      <Promise desk={desk} dash={dash} t={t} />
      <section aria-labelledby="channels-title">
        <h3 id="channels-title">{t("desk.dash.channels")}</h3>
        <div class="channel-cards">{dash.channels.map((c) => <ChannelCard key={c.channel} c={c} dash={dash} t={t} />)}</div>
        <QueueChart desk={desk} t={t} />
      </section>
      <AgentsBoard desk={desk} dash={dash} state={state} t={t} />
      <CallbacksDue desk={desk} dash={dash} t={t} />
      <Staffing desk={desk} dash={dash} state={state} t={t} />
      <QualitySample desk={desk} state={state} t={t} />
    </main>
  );
}

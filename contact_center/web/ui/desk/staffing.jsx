// Staffing on the supervisor's dashboard: today's agents staffed beside the agents each hour's arrivals
// needed, and a what-if: figures the supervisor enters (or takes from today's) worked out by the engine
// (`staffing_advice`, Erlang C, Erlang A with a patience, email's workload) into the agents they need.
import { useState } from "preact/hooks";
import { formatDuration } from "../shared/i18n.js";
import { Chart, percent } from "./charts.jsx";
import { CHANNELS } from "./supervision.js";

function dashChannel(dash, channel) {
  return dash.channels.find((c) => c.channel === channel);
}

function StaffedToday({ dash, t }) {
  const hours = dash.staffed.map((_, h) => h).filter((h) => CHANNELS.some((ch) => (dashChannel(dash, ch).staffing[h] || {}).arrivals));
  const needed = (h) => CHANNELS.reduce((n, ch) => n + ((dashChannel(dash, ch).staffing[h] || {}).needed || 0), 0);
  const all = dash.staffed.map((_, h) => h);
  return (
    <>
      <Chart id="chart-staffing" title={t("desk.dash.staffing_chart")} label={t("desk.dash.staffing_label")}
        series={[{ label: t("desk.dash.staffed"), stroke: "#1f6feb" }, { label: t("desk.dash.needed"), stroke: "#cf222e" }]}
        data={[all, dash.staffed, all.map((h) => needed(h))]} />
      <table id="staffing">
        <thead><tr><th scope="col">{t("desk.dash.hour")}</th><th scope="col">{t("desk.dash.staffed")}</th>
          {CHANNELS.map((ch) => <th key={ch} scope="col">{t("desk.dash.needed_for", { channel: t(`desk.channel.${ch}`) })}</th>)}</tr></thead>
        <tbody>
          {hours.map((h) => (
            <tr key={h}><th scope="row">{`${String(h).padStart(2, "0")}:00`}</th>
              <td>{new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(dash.staffed[h])}</td>
              {CHANNELS.map((ch) => { const s = dashChannel(dash, ch).staffing[h]; return <td key={ch}>{s ? `${s.needed} (${s.arrivals})` : ""}</td>; })}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Today's figures of a channel as the form's: its busiest hour so far, the handle time measured, its target. */
function measured(dash, channel) {
  const c = dashChannel(dash, channel);
  const hours = c.staffing || [];
  const busiest = hours.reduce((most, h) => Math.max(most, h.arrivals), 0);
  const handle = hours.length ? hours[0].handle_s : 300;
  if (channel === "email") {
    return { channel, arrivals: busiest, handle, backlog: c.waiting, clear: dash.email.within_h, target: "", within: "", patience: "", shrinkage: "" };
  }
  return { channel, arrivals: busiest, handle, target: Math.round((c.target ?? 0.8) * 100), within: c.threshold_s ?? 20, patience: "", shrinkage: 0, backlog: "", clear: "" };
}

function request(f) {
  const n = (v) => (v === "" || v === null || v === undefined ? null : Number(v));
  if (f.channel === "email") {
    return { workload: "email", arrivals_per_hour: n(f.arrivals), handle_s: n(f.handle), backlog: n(f.backlog), clear_within_h: n(f.clear) };
  }
  return { arrivals_per_hour: n(f.arrivals), handle_s: n(f.handle), target: n(f.target) / 100, within_s: n(f.within),
    patience_s: n(f.patience), shrinkage: (n(f.shrinkage) || 0) / 100 };
}

function Field({ id, label, value, onInput, hint }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} type="number" step="any" min="0" value={value} onInput={(e) => onInput(e.currentTarget.value)} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint ? <span id={`${id}-hint`} class="quiet">{hint}</span> : null}
    </div>
  );
}

function seconds(value, t) {
  if (value === null || value === undefined) return t("desk.staffing.no_end");
  if (value >= 60) return formatDuration(value, t.language);
  return new Intl.NumberFormat(t.language, { style: "unit", unit: "second", unitDisplay: "short", maximumFractionDigits: 1 }).format(value);
}

function QueueAdvice({ a, t }) {
  const n = a.needed;
  return (
    <>
      <p id="staffing-needed" class="headline">{t("desk.staffing.needed", { count: n.agents, target: percent(a.target, t), within: a.within_s })}</p>
      {a.shrinkage ? <p id="staffing-scheduled">{t("desk.staffing.scheduled", { count: a.scheduled, shrinkage: percent(a.shrinkage, t) })}</p> : null}
      <p class="quiet">{t(`desk.staffing.model.${a.model}`, { traffic: new Intl.NumberFormat(t.language, { maximumFractionDigits: 2 }).format(n.traffic) })}</p>
      <table id="staffing-table">
        <thead><tr>{["agents", "sl", "waiting", "asa", "occupancy", ...(a.model === "erlang_a" ? ["abandoned"] : [])].map((k) => <th key={k} scope="col">{t(`desk.staffing.col.${k}`)}</th>)}</tr></thead>
        <tbody>
          {a.table.map((row) => (
            <tr key={row.agents} class={row.agents === n.agents ? "chosen" : ""} aria-current={row.agents === n.agents ? "true" : undefined}>
              <th scope="row">{row.agents}</th><td>{percent(row.service_level, t)}</td><td>{percent(row.waiting, t)}</td>
              <td>{seconds(row.asa_s, t)}</td><td>{percent(row.occupancy, t)}</td>
              {a.model === "erlang_a" ? <td>{percent(row.abandoned, t)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function EmailAdvice({ a, t }) {
  const hours = (v) => new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(v);
  return (
    <>
      <p id="staffing-needed" class="headline">{t("desk.staffing.email_needed", { count: a.agents, occupancy: percent(a.max_occupancy, t) })}</p>
      <p>{t("desk.staffing.email_work", { arrivals: hours(a.arrival_hours), backlog: hours(a.backlog_hours), clear: a.clear_within_h })}</p>
    </>
  );
}

function errorText(e, t) {
  const field = t(`desk.staffing.field.${e.field}`, {}, e.field || "");
  const scale = ["target", "shrinkage", "max_occupancy"].includes(e.field) ? 100 : 1;  // shares, entered as percentages
  if (e.problem === "out_of_range") {
    return t(e.above ? "desk.staffing.bad.above" : "desk.staffing.bad.range", { field, least: e.least * scale, most: e.most * scale });
  }
  if (e.problem === "unmet") return t("desk.staffing.bad.unmet");
  if (e.field) return t("desk.staffing.bad.number", { field });
  return e.message || e.code;
}

function WhatIf({ desk, dash, state, t }) {
  const [f, setF] = useState(() => measured(dash, "chat"));
  const set = (key) => (value) => setF({ ...f, [key]: value });
  const email = f.channel === "email";
  const advice = state.staffingAdvice;
  const shown = advice && (advice.workload === "email") === email ? advice : null;
  return (
    <section aria-labelledby="what-if-title" class="what-if">
      <h4 id="what-if-title">{t("desk.staffing.title")}</h4>
      <form id="staffing-form" noValidate onSubmit={(e) => { e.preventDefault(); desk.supervision.staffingAdvice(request(f)); }}>
        <div class="field">
          <label for="staffing-channel">{t("desk.staffing.channel")}</label>
          <select id="staffing-channel" value={f.channel} onChange={(e) => setF(measured(dash, e.currentTarget.value))}>
            {CHANNELS.map((ch) => <option key={ch} value={ch}>{t(`desk.channel.${ch}`)}</option>)}
          </select>
        </div>
        <Field id="staffing-arrivals" label={t("desk.staffing.field.arrivals_per_hour")} value={f.arrivals} onInput={set("arrivals")} />
        <Field id="staffing-handle" label={t("desk.staffing.field.handle_s")} value={f.handle} onInput={set("handle")} />
        {email ? (
          <>
            <Field id="staffing-backlog" label={t("desk.staffing.field.backlog")} value={f.backlog} onInput={set("backlog")} />
            <Field id="staffing-clear" label={t("desk.staffing.field.clear_within_h")} value={f.clear} onInput={set("clear")} />
          </>
        ) : (
          <>
            <Field id="staffing-target" label={t("desk.staffing.field.target")} value={f.target} onInput={set("target")} />
            <Field id="staffing-within" label={t("desk.staffing.field.within_s")} value={f.within} onInput={set("within")} />
            <Field id="staffing-patience" label={t("desk.staffing.field.patience_s")} value={f.patience} onInput={set("patience")} hint={t("desk.staffing.patience_hint")} />
            <Field id="staffing-shrinkage" label={t("desk.staffing.field.shrinkage")} value={f.shrinkage} onInput={set("shrinkage")} />
          </>
        )}
        <button type="button" id="staffing-measured" onClick={() => setF(measured(dash, f.channel))}>{t("desk.staffing.measured")}</button>{" "}
        <button type="submit" id="staffing-work-out">{t("desk.staffing.work_out")}</button>
      </form>
      {state.staffingError ? <p class="error" role="alert" id="staffing-error">{errorText(state.staffingError, t)}</p> : null}
      <div id="staffing-advice" aria-live="polite">
        {shown && !state.staffingError ? (email ? <EmailAdvice a={shown} t={t} /> : <QueueAdvice a={shown} t={t} />) : null}
      </div>
    </section>
  );
}

export function Staffing({ desk, dash, state, t }) {
  return (
    <section aria-labelledby="staffing-title">
      <h3 id="staffing-title">{t("desk.dash.staffing")}</h3>
      <StaffedToday dash={dash} t={t} />
      <WhatIf desk={desk} dash={dash} state={state} t={t} />
    </section>
  );
}

// The agents on the supervisor's dashboard: how many in each status, then each agent with its
// status (the supervisor may set it), what it holds (listen in, or move it to a colleague or a
// skill), its occupancy today and how many contacts it closed today.
import { useState } from "preact/hooks";
import { formatDuration } from "../shared/i18n.js";
import { percent } from "./charts.jsx";

const SETTABLE = ["available", "away", "busy"];

function statusOf(a) {
  return a.connected ? a.status : "offline";
}

function Move({ desk, c, agents, skills, t }) {
  const [target, setTarget] = useState("");
  const name = c.customer_name || t("desk.customer.unnamed");
  return (
    <form class="move" onSubmit={(e) => {
      e.preventDefault();
      if (!target) return;
      const [kind, value] = target.split(":");
      desk.supervision.move(c.id, kind === "agent" ? { agent_id: value } : { skill: value });
      setTarget("");
    }}>
      <select aria-label={t("desk.dash.move_to", { name })} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
        <option value="">{t("desk.dash.move_choose")}</option>
        {agents.map((a) => <option key={a.id} value={`agent:${a.id}`}>{a.name}</option>)}
        {skills.map((s) => <option key={s} value={`skill:${s}`}>{t("desk.dash.skill", { skill: s })}</option>)}
      </select>
      <button type="submit" aria-label={t("desk.dash.move_go", { name })}>{t("desk.dash.move")}</button>
    </form>
  );
}

function AgentRow({ desk, a, dash, state, t }) {
  const others = dash.agents.filter((b) => b.id !== a.id && b.connected && b.role === "agent");
  const since = a.status_since ? formatDuration(dash.now - a.status_since, t.language) : "";
  return (
    <tr data-agent={a.id}>
      <th scope="row">{a.name}</th>
      <td>
        <select aria-label={t("desk.dash.status_of", { name: a.name })} value={statusOf(a)}
          onChange={(e) => desk.supervision.setAgentStatus(a.id, e.currentTarget.value)}>
          {!a.connected ? <option value="offline" disabled>{t("desk.agents.offline")}</option> : null}
          {SETTABLE.map((s) => <option key={s} value={s} disabled={!a.connected && s === "available"}>{t(`desk.status.${s}`)}</option>)}
        </select>{" "}
        <span class="quiet">{since}</span>
      </td>
      <td>
        <ul class="held">
          {a.contacts.map((c) => (
            <li key={c.id}>
              <span>{t(`desk.channel.${c.channel}`)}: {c.customer_name || t("desk.customer.unnamed")}</span>{" "}
              <button type="button" aria-label={t("desk.dash.listen", { name: c.customer_name || t("desk.customer.unnamed") })}
                onClick={() => desk.supervision.monitor(c.id)}>{t("desk.dash.listen_short")}</button>
              {c.state === "assigned" ? <Move desk={desk} c={c} agents={others} skills={state.transferSkills || []} t={t} /> : null}
            </li>
          ))}
        </ul>
      </td>
      <td>{percent(a.occupancy, t)}</td>
      <td>{a.handled_today}</td>
    </tr>
  );
}

export function AgentsBoard({ desk, dash, state, t }) {
  const staff = dash.agents.filter((a) => a.role === "agent");
  const counts = {};
  for (const a of staff) counts[statusOf(a)] = (counts[statusOf(a)] || 0) + 1;
  return (
    <section aria-labelledby="dash-agents-title">
      <h3 id="dash-agents-title">{t("desk.agents")}</h3>
      <p id="agent-counts">{["available", "busy", "away", "offline"].map((s) => t("desk.dash.count", { status: t(`desk.status.${s}`, {}, t("desk.agents.offline")), count: counts[s] || 0 })).join(" · ")}</p>
      <table id="dash-agents">
        <thead><tr>
          <th scope="col">{t("desk.agents.name")}</th><th scope="col">{t("desk.status")}</th>
          <th scope="col">{t("desk.dash.holding")}</th><th scope="col">{t("desk.dash.occupancy")}</th>
          <th scope="col">{t("desk.dash.handled")}</th>
        </tr></thead>
        <tbody>{staff.map((a) => <AgentRow key={a.id} desk={desk} a={a} dash={dash} state={state} t={t} />)}</tbody>
      </table>
    </section>
  );
}

// The supervisor's side of the desk's protocol (docs/protocol.md, the dashboard): the dashboard
// as the engine last sent it, the queue's depth over the last half hour (sampled from each
// dashboard), the conversations being listened in on, and the supervisor's actions. No view here.

const SERIES_S = 30 * 60;  // how far back the live queue chart looks

export const CHANNELS = ["chat", "call", "callback", "email"];

export class Supervision {
  constructor(desk) {
    this.desk = desk;
    this.series = { at: [], chat: [], call: [], callback: [], email: [] };  // engine time, depth per channel
  }

  open(open) { this.desk._set({ dashboardOpen: open }); }
  setAgentStatus(agentId, status) {
    this.desk._send({ type: "set_agent_status", agent_id: agentId, status, ref: `status:${agentId}` });
  }
  move(contactId, target) {
    this.desk._send({ type: "move_contact", contact_id: contactId, ...target, ref: `move:${contactId}` });
  }
  monitor(contactId) {
    this.desk._set({ dashboardOpen: true, watching: contactId });
    this.desk._send({ type: "monitor", contact_id: contactId, ref: `monitor:${contactId}` });
  }
  stop(contactId) {
    const monitored = { ...this.desk.state.monitored };
    delete monitored[contactId];
    this.desk._set({ monitored, watching: null });
    this.desk._send({ type: "stop_monitoring", contact_id: contactId });
  }

  staffingAdvice(figures) {
    this.desk._set({ staffingError: null });
    this.desk._send({ type: "staffing_advice", ...figures, ref: "staffing:advice" });
  }

  openReports(open) { this.desk._set({ reportsOpen: open }); }
  qualitySample() { this.desk._send({ type: "quality_sample" }); }
  openReview(contactId) { this.desk._send({ type: "review_open", contact_id: contactId, ref: `review:${contactId}` }); }
  closeReview() { this.desk._set({ reviewing: null }); }
  saveReview(contactId, scores, comment) {
    this.desk._send({ type: "review_save", contact_id: contactId, scores, comment, ref: `review:${contactId}` });
  }
  myReviews(open) {
    this.desk._set({ reviewsOpen: open });
    if (open) this.desk._send({ type: "my_reviews" });
  }

  /** The dashboard's latest; its queue depths join the live series (the oldest beyond half an hour drop). */
  dashboard(m) {
    const s = this.series;
    if (!s.at.length || m.now > s.at[s.at.length - 1]) {
      s.at.push(m.now);
      for (const c of m.channels) if (c.channel in s) s[c.channel].push(c.waiting);
      while (s.at.length && s.at[0] < m.now - SERIES_S) for (const key of Object.keys(s)) s[key].shift();
    }
    this.desk._set({ dashboard: m, supervisorNotice: null });
  }

  monitoring(m) {
    const entry = { contact: m.contact, customer: m.customer, messages: m.messages || [], mails: m.mails || [] };
    this.desk._set({ monitored: { ...this.desk.state.monitored, [m.contact.id]: entry } });
  }

  monitoredMessage(m) {
    const entry = this.desk.state.monitored[m.contact_id];
    if (!entry || entry.messages.some((x) => x.seq === m.seq)) return;
    const messages = [...entry.messages, m].sort((a, b) => a.seq - b.seq);
    this.desk._set({ monitored: { ...this.desk.state.monitored, [m.contact_id]: { ...entry, messages } } });
  }
}

export const SUPERVISION_HANDLERS = {
  dashboard: (d, m) => d.supervision.dashboard(m),
  monitoring: (d, m) => d.supervision.monitoring(m),
  monitored_message: (d, m) => d.supervision.monitoredMessage(m),
  monitoring_stopped: () => {},
  quality_sample: (d, m) => d._set({ qualitySample: m }),
  review_open: (d, m) => d._set({ reviewing: m, dashboardOpen: true }),
  review_saved: (d, m) => {
    const reviewing = d.state.reviewing && d.state.reviewing.contact.id === m.review.contact_id ? { ...d.state.reviewing, review: m.review } : d.state.reviewing;
    d._set({ reviewing, supervisorNotice: { kind: "review_saved", score: m.review.score } });
    d.supervision.qualitySample();
  },
  review_added: (d, m) => {
    d._set({ myReviews: [m.review, ...(d.state.myReviews || []).filter((r) => r.contact_id !== m.review.contact_id)], reviewNotice: m.review });
  },
  my_reviews: (d, m) => d._set({ myReviews: m.reviews || [], reviewForm: m.form }),
  agent_status_set: (d, m) => d._set({ supervisorNotice: { kind: "status_set", agent_id: m.agent_id, status: m.status } }),
  staffing_advice: (d, m) => d._set({ staffingAdvice: m, staffingError: null }),
  contact_moved: (d, m) => d._set({ supervisorNotice: { kind: "moved", contact_id: m.contact_id } }),
};

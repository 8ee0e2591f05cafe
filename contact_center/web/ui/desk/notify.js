// A sound and a browser notification for an offer, and for a customer's message while the tab is
// hidden; the agent can mute both (kept in storage). The sound is made by the page (Web Audio), so
// nothing is fetched for it.

const MUTE_KEY = "desk-muted";

export class Notifier {
  constructor(storage, t) {
    this.storage = storage;
    this.t = t;
    this.muted = storage.getItem(MUTE_KEY) === "1";
    this.audio = null;
  }

  setMuted(muted) {
    this.muted = muted;
    this.storage.setItem(MUTE_KEY, muted ? "1" : "0");
  }

  /** Ask for the browser's permission, once, from a click of the agent's (browsers want a gesture). */
  ask() {
    if (typeof Notification !== "undefined" && Notification.permission === "default") Notification.requestPermission();
  }

  tell(kind, detail) {
    if (this.muted) return;
    const hidden = document.hidden;
    if (kind === "message" && !hidden) return;  // the list shows it; only a hidden tab needs telling
    this.beep(kind === "offer" ? 880 : 660);
    if (hidden && typeof Notification !== "undefined" && Notification.permission === "granted") {
      const body = kind === "offer" ? this.t("desk.notify.offer_body", { channel: this.t(`desk.channel.${detail.offer.contact.channel}`) }) : detail.text;
      const note = new Notification(this.t(kind === "offer" ? "desk.notify.offer" : "desk.notify.message"), { body, tag: kind });
      note.onclick = () => { window.focus(); note.close(); };
    }
  }

  beep(frequency) {
    try {
      this.audio = this.audio || new AudioContext();
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(this.audio.destination);
      osc.start();
      osc.stop(this.audio.currentTime + 0.18);
    } catch { /* no audio here: the notification still says it */ }
  }
}

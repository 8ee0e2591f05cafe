// The agent desk: sign-in, then the offers, the agent's contacts, the conversation in front of
// them and the customer beside it. Every text comes from the translation files; the agent picks
// the language (the browser's by default). All customer text is rendered as text, never as HTML.
import { useEffect, useState } from "preact/hooks";
import { LANGUAGE_NAMES } from "../shared/i18n.js";
import { Conversation, errorText } from "./conversation.jsx";
import { Dashboard } from "./dashboard.jsx";
import { MyReviews } from "./quality.jsx";
import { Reports } from "./reports.jsx";
import { Library } from "./library.jsx";
import { Contacts, CustomerPanel, History, Offers, Search, WaitingList } from "./side.jsx";

function useDesk(desk) {
  const [state, setState] = useState(desk.state);
  useEffect(() => desk.subscribe(setState), [desk]);
  return state;
}

function signInError(state, t) {
  if (state.loginError) {
    const e = state.loginError;
    if (e.code === "too_many_attempts" || e.code === "account_locked") return t(`desk.login.${e.code}`, { wait: Math.ceil(e.retry || 0) });
    return t(`desk.login.${e.code}`, {}, t("desk.login.failed"));
  }
  return state.signedOut && state.signedOut !== "logout" ? t("desk.session_ended", { reason: t(`desk.ended.${state.signedOut}`, {}, state.signedOut) }) : "";
}

function Login({ desk, state, t }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  return (
    <section id="login" class="login">
      <h1>{t("desk.title")}</h1>
      <form id="login-form" onSubmit={(e) => { e.preventDefault(); desk.login(username, password); }}>
        <label>{t("desk.login.username")} <input id="username" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} /></label>
        <label>{t("desk.login.password")} <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        <button type="submit" id="login-button">{t("desk.login.sign_in")}</button>
        <p id="login-error" class="error" role="alert">{signInError(state, t)}</p>
      </form>
    </section>
  );
}

const STATUSES = ["available", "away", "busy"];

function Header({ desk, state, t, settings }) {
  const me = state.agent;
  return (
    <header class="top">
      <span id="agent-name">{me ? `${me.name} (${me.username})` : ""}</span>
      <label>{t("desk.status")}{" "}
        <select id="status" value={state.status} onChange={(e) => { settings.notifier.ask(); desk.setStatus(e.currentTarget.value); }}>
          {STATUSES.map((s) => <option key={s} value={s}>{t(`desk.status.${s}`)}</option>)}
        </select>
      </label>
      <span id="connection" class={`connection ${state.connection}`} role="status">{t(`desk.connection.${state.connection}`)}</span>
      <label>{t("desk.language")}{" "}
        <select id="language" value={t.language} onChange={(e) => settings.setLanguage(e.currentTarget.value)}>
          {Object.entries(LANGUAGE_NAMES).map(([code, name]) => <option key={code} value={code} lang={code}>{name}</option>)}
        </select>
      </label>
      <button type="button" id="mute" aria-pressed={settings.muted ? "true" : "false"} onClick={() => settings.setMuted(!settings.muted)}>
        {t(settings.muted ? "desk.unmute" : "desk.mute")}
      </button>
      {me && me.role === "supervisor" ? (
        <button type="button" id="dashboard-button" aria-pressed={state.dashboardOpen ? "true" : "false"}
          onClick={() => desk.supervision.open(!state.dashboardOpen)}>{t("desk.dash.button")}</button>
      ) : null}
      <button type="button" id="reviews-button" aria-pressed={state.reviewsOpen ? "true" : "false"}
        onClick={() => desk.supervision.myReviews(!state.reviewsOpen)}>{t("desk.quality.mine")}</button>
      <button type="button" id="library-button" aria-pressed={state.libraryOpen ? "true" : "false"} onClick={() => desk.openLibrary(!state.libraryOpen)}>
        {t("desk.library.button")}
      </button>
      <button type="button" id="help-button" onClick={() => settings.setHelp(true)}>{t("desk.help")}</button>
      <button type="button" id="logout" onClick={() => desk.logout()}>{t("desk.sign_out")}</button>
    </header>
  );
}

function ReviewNotice({ desk, state, t }) {
  const r = state.reviewNotice;
  if (!r) return null;
  return (
    <p id="review-notice" class="notice" role="status">
      {t("desk.quality.added", { score: new Intl.NumberFormat(t.language, { maximumFractionDigits: 1 }).format(r.score), by: r.reviewer_name })}{" "}
      <button type="button" onClick={() => { desk._set({ reviewNotice: null }); desk.supervision.myReviews(true); }}>{t("desk.quality.read")}</button>
    </p>
  );
}

function StatusNotice({ state, t }) {
  if (state.status === "available" || !state.statusReason) return null;
  return <p id="status-notice" class="notice" role="alert">{t(`desk.status_reason.${state.statusReason}`, {}, "")}</p>;
}

export const SHORTCUTS = [
  ["Alt+A", "desk.key.accept"],
  ["Alt+R", "desk.key.reject"],
  ["Alt+↓", "desk.key.next"],
  ["Alt+↑", "desk.key.previous"],
  ["Enter", "desk.key.send"],
  ["Ctrl+Enter", "desk.key.send_email"],
  ["Alt+C", "desk.key.close"],
  ["Alt+1, 2, 3", "desk.key.suggestion"],
  ["?", "desk.key.help"],
];

function Help({ t, close }) {
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title">
      <div class="help">
        <h2 id="help-title">{t("desk.help.title")}</h2>
        <dl>{SHORTCUTS.map(([key, what]) => [<dt key={`k${key}`}><kbd>{key}</kbd></dt>, <dd key={`d${key}`}>{t(what)}</dd>])}</dl>
        <button type="button" id="help-close" autofocus onClick={close}>{t("desk.help.close")}</button>
      </div>
    </div>
  );
}

/** The desk's keys: Alt with a letter, so that typing in the reply box never triggers one. */
function useShortcuts(desk, setHelp) {
  useEffect(() => {
    function onKey(e) {
      const typing = e.target && ["TEXTAREA", "INPUT", "SELECT"].includes(e.target.tagName);
      if (e.key === "?" && !typing) { e.preventDefault(); setHelp(true); return; }
      if (e.key === "Escape") { setHelp(false); return; }
      if (!e.altKey) return;
      const state = desk.state;  // as it is now, not as it was at the last render
      const offer = state.offers[0];
      const key = e.key.toLowerCase();
      if (key === "a" && offer) desk.accept(offer.offer.offer_id);
      else if (key === "r" && offer) desk.reject(offer.offer.offer_id);
      else if (e.key === "ArrowDown") desk.next(1);
      else if (e.key === "ArrowUp") desk.next(-1);
      else if (key === "c" && state.current) document.getElementById("close-contact")?.click();
      else if (/^Digit[1-3]$/.test(e.code) && state.current) {  // the first, second or third suggestion
        const pick = document.querySelectorAll("#suggestions button.pick")[Number(e.code.slice(5)) - 1];
        if (!pick) return;
        pick.click();
      }
      else return;
      e.preventDefault();
    }
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [desk]);
}

export function App({ desk, settings }) {
  const state = useDesk(desk);
  const t = settings.t;
  const [help, setHelp] = useState(false);
  useShortcuts(desk, setHelp);
  useEffect(() => { document.documentElement.lang = settings.language; document.title = t("desk.title"); }, [settings.language]);
  if (state.phase === "login") return <Login desk={desk} state={state} t={t} />;
  const me = { id: state.agent ? state.agent.id : "", token: desk.token, onError: (error) => desk._set({ error }) };
  return (
    <div id="desk" class="desk">
      <Header desk={desk} state={state} t={t} settings={{ ...settings, setHelp }} />
      <StatusNotice state={state} t={t} />
      <ReviewNotice desk={desk} state={state} t={t} />
      <aside class="left" aria-label={t("desk.work")}>
        <Search desk={desk} state={state} t={t} />
        <Offers desk={desk} state={state} t={t} />
        <Contacts desk={desk} state={state} t={t} />
        <WaitingList state={state} t={t} />
      </aside>
      {state.libraryOpen ? <Library desk={desk} state={state} t={t} /> : state.reviewsOpen ? <MyReviews desk={desk} state={state} t={t} /> : state.reportsOpen ? <Reports desk={desk} state={state} t={t} /> : state.agent && state.agent.role === "supervisor" && (state.dashboardOpen || !state.current) ? (
        <Dashboard desk={desk} state={state} t={t} />
      ) : <Conversation desk={desk} state={state} t={t} me={me} />}
      <aside class="right" aria-label={t("desk.customer")}>
        <CustomerPanel desk={desk} state={state} t={t} />
        <History state={state} t={t} />
      </aside>
      {!state.current && state.error ? <p class="error" role="alert">{errorText(state.error, t)}</p> : null}
      {help ? <Help t={t} close={() => setHelp(false)} /> : null}
    </div>
  );
}

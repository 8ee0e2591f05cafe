// The agent desk's page (docs/protocol.md, agent desk).
import { render } from "preact";
import { useState } from "preact/hooks";
import en from "../locales/desk/en.json";
import id from "../locales/desk/id.json";
import { pickLanguage, texts, translator } from "../shared/i18n.js";
import { App } from "./app.jsx";
import { Notifier } from "./notify.js";
import { Desk } from "./store.js";

const LANGUAGE_KEY = "desk-language";
const TEXTS = texts({ en, id });

function Root({ desk, notifier }) {
  const [language, setLanguageState] = useState(pickLanguage(localStorage.getItem(LANGUAGE_KEY)));
  const [muted, setMutedState] = useState(notifier.muted);
  const t = translator(TEXTS, language);
  notifier.t = t;
  const settings = {
    language,
    t,
    setLanguage: (value) => { localStorage.setItem(LANGUAGE_KEY, value); setLanguageState(value); },
    muted,
    setMuted: (value) => { notifier.setMuted(value); setMutedState(value); },
    notifier,
  };
  return <App desk={desk} settings={settings} />;
}

const notifier = new Notifier(localStorage, translator(TEXTS, "en"));
const desk = new Desk({ storage: localStorage, session: sessionStorage, notify: (kind, detail) => notifier.tell(kind, detail) });
render(<Root desk={desk} notifier={notifier} />, document.getElementById("app"));
if (desk.token) desk.connect();

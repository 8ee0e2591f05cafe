// Contact-center chat widget. Embed with one tag:
//   <script src="https://support.example.com/widget.js" data-topic="general" data-language="id" async></script>
// A site whose visitor is signed in vouches for them with the identifier it signed (README, "Security"):
//   data-identifier="vip@example.com" data-identifier-hash="<HMAC-SHA256 of it, hex>" [data-name="..."]
// data-email, data-phone and data-name alone are the visitor's claims, shown to agents as unverified.
// Without data-language the widget speaks the browser's language (English or Indonesian).
// The window has a call-me tab (data-callme="off" leaves it out); any element of the page marked
// data-contact-center-callme is a call-me button: a click opens the window at that tab. The call tab
// talks to an agent from the page (data-call="off" leaves it out); an element marked
// data-contact-center-call opens it.
// Protocol: docs/protocol.md (widget).
import { render } from "preact";
import en from "../locales/widget/en.json";
import id from "../locales/widget/id.json";
import { pickLanguage, texts, translator } from "../shared/i18n.js";
import { Widget } from "./app.jsx";
import { Call, callFigures } from "./call.js";
import { CallMe } from "./callme.js";
import { Chat } from "./chat.js";
import css from "./widget.css";

function start(script) {
  const base = new URL(script.src, location.href);
  const language = pickLanguage(script.getAttribute("data-language"));
  const vouched = {};
  for (const key of ["identifier", "identifier-hash", "email", "phone", "name"]) {
    const value = script.getAttribute(`data-${key}`);
    if (value) vouched[key.replace("-", "_")] = value;
  }
  const listeners = {};  // the page's own handlers: identified, code_sent, error
  const chat = new Chat({
    url: `${base.protocol === "https:" ? "wss://" : "ws://"}${base.host}/ws/chat`,
    filesUrl: `${base.origin}/api/chat/files`,
    topic: script.getAttribute("data-topic") || "general",
    language,
    vouched,
    storage: localStorage,
    storageKey: `contact-center:${base.host}`,
    onEvent: (m) => (listeners[m.type] || []).forEach((fn) => { try { fn(m); } catch { /* the page's own */ } }),
  });

  // Inside a shadow root, so the host page's styles do not leak in; a constructed stylesheet is
  // not inline style, so it works under a page's strict Content-Security-Policy.
  const host = document.createElement("div");
  host.setAttribute("data-contact-center-widget", "");
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet !== "undefined" && CSSStyleSheet.prototype.replaceSync) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  const callme = script.getAttribute("data-callme") === "off" ? null : new CallMe({
    apiUrl: `${base.origin}/api/callbacks`,
    language,
    topic: script.getAttribute("data-topic") || "general",
    storage: localStorage,
    storageKey: `contact-center:${base.host}`,
    token: { get: () => chat.token, set: (token) => chat.adoptToken(token) },
  });
  const calls = script.getAttribute("data-call") !== "off" && typeof RTCPeerConnection !== "undefined"
    && navigator.mediaDevices ? new Call({ chat }) : null;
  render(<Widget chat={chat} callme={callme} call={calls} t={translator(texts({ en, id }), language)} />, root);
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (callme && target && target.closest("[data-contact-center-callme]")) { event.preventDefault(); chat.setTab("callme"); }
    if (calls && target && target.closest("[data-contact-center-call]")) { event.preventDefault(); chat.setTab("call"); }
  });

  // Page API: open the window; identify the visitor ({identifier, identifier_hash} the site signed,
  // or claims: {email, phone, name}); let the visitor prove an address by a mailed code; listen to
  // what the engine says (identified, code_sent, error); drop the socket (it reconnects by itself).
  window.ContactCenterWidget = {
    open: () => chat.setOpen(true),
    callMe: () => chat.setTab("callme"),
    call: () => chat.setTab("call"),
    callFigures: () => (calls ? callFigures(calls.pc) : Promise.resolve({})),  // the call's line, from getStats
    identify: (details) => chat.send({ type: "identify", ...details }),
    verifyEmail: (email) => chat.send({ type: "verify_email", email }),
    confirmCode: (code) => chat.send({ type: "verify_code", code: String(code) }),
    on: (type, fn) => { (listeners[type] = listeners[type] || []).push(fn); },
    dropConnection: () => chat.drop(),
  };
  chat.connect();
}

const script = document.currentScript;
if (script && !window.ContactCenterWidget) start(script);

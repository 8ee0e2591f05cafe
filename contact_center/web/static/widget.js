/* Contact-center chat widget. Embed with one tag:
 *   <script src="https://support.example.com/widget.js" data-topic="general" data-language="id" async></script>
 * A site whose visitor is signed in vouches for them with the identifier it signed (README, "Security"):
 *   data-identifier="vip@example.com" data-identifier-hash="<HMAC-SHA256 of it, hex>" [data-name="..."]
 * data-email, data-phone and data-name alone are the visitor's claims, shown to agents as unverified.
 * Protocol: docs/protocol.md (widget). All customer and agent text is rendered as text, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.ContactCenterWidget) return;
  var base = new URL(script.src, location.href);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws/chat";
  var topic = script.getAttribute("data-topic") || "general";
  var language = script.getAttribute("data-language") || "en";
  var KEY = "contact-center:" + base.host;
  var TEXT = {
    en: { open: "Chat with us", title: "Customer service", placeholder: "Type your message…", send: "Send",
          end: "End chat", typing: "Agent is typing…", joined: " joined the chat", ended: "The chat has ended.",
          waiting: "Connecting…", reconnecting: "Connection lost, reconnecting…", left: "The agent left; you are back in the queue." },
    id: { open: "Chat dengan kami", title: "Layanan pelanggan", placeholder: "Tulis pesan Anda…", send: "Kirim",
          end: "Akhiri chat", typing: "Agen sedang mengetik…", joined: " bergabung dalam chat", ended: "Chat telah berakhir.",
          waiting: "Menghubungkan…", reconnecting: "Koneksi terputus, menyambung ulang…", left: "Agen keluar; Anda kembali ke antrean." }
  };
  var t = TEXT[language] || TEXT.en;
  var vouched = {};  // what the page says of its visitor, sent once the socket is greeted
  ["identifier", "identifier-hash", "email", "phone", "name"].forEach(function (key) {
    var value = script.getAttribute("data-" + key);
    if (value) vouched[key.replace("-", "_")] = value;
  });
  var listeners = {};  // the page's own handlers: identified, code_sent, error
  function tell(m) { (listeners[m.type] || []).forEach(function (fn) { try { fn(m); } catch (e) { /* the page's */ } }); }

  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { saved = {}; }
  var state = { token: saved.token || null, pending: saved.pending || [], contactId: null };
  function save() { localStorage.setItem(KEY, JSON.stringify({ token: state.token, pending: state.pending })); }

  // ---- UI, inside a shadow root so the host page's styles do not leak in
  var host = document.createElement("div");
  host.setAttribute("data-contact-center-widget", "");
  document.body.appendChild(host);
  var root = host.attachShadow({ mode: "open" });
  var css = [
    ":host{all:initial}",
    ".btn{position:fixed;right:20px;bottom:20px;background:#0b6e4f;color:#fff;border:0;border-radius:24px;padding:12px 18px;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}",
    ".box{position:fixed;right:20px;bottom:80px;width:340px;height:460px;background:#fff;border:1px solid #ccd;border-radius:10px;display:none;flex-direction:column;font:14px system-ui,sans-serif;box-shadow:0 4px 16px rgba(0,0,0,.2);overflow:hidden}",
    ".box.open{display:flex}",
    ".head{background:#0b6e4f;color:#fff;padding:10px 12px;font-weight:600;display:flex;justify-content:space-between;align-items:center}",
    ".head button{background:transparent;color:#fff;border:1px solid #fff;border-radius:4px;cursor:pointer;font-size:12px}",
    ".log{flex:1;overflow-y:auto;padding:10px;background:#f6f8f7}",
    ".msg{margin:4px 0;padding:6px 10px;border-radius:12px;max-width:80%;white-space:pre-wrap;word-wrap:break-word}",
    ".customer{background:#d7efe5;margin-left:auto}",
    ".agent{background:#fff;border:1px solid #dde}",
    ".pending{opacity:.6}",
    ".sys{color:#666;font-size:12px;text-align:center;margin:6px 0}",
    ".typing{color:#666;font-size:12px;height:16px;padding:0 10px}",
    ".row{display:flex;border-top:1px solid #dde}",
    "textarea{flex:1;border:0;padding:8px;resize:none;font:14px system-ui,sans-serif;height:44px}",
    ".send{background:#0b6e4f;color:#fff;border:0;padding:0 14px;cursor:pointer}"
  ].join("\n");
  // A constructed stylesheet is not inline style: it works under a page's strict CSP.
  if ("adoptedStyleSheets" in root && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet(); sheet.replaceSync(css); root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style"); style.textContent = css; root.appendChild(style);
  }
  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text) n.textContent = text; return n; }
  var button = el("button", "btn", t.open);
  var box = el("div", "box");
  var head = el("div", "head"); head.appendChild(el("span", "", t.title));
  var endButton = el("button", "end", t.end); head.appendChild(endButton);
  var log = el("div", "log");
  var typing = el("div", "typing");
  var row = el("div", "row");
  var input = el("textarea"); input.placeholder = t.placeholder; input.setAttribute("aria-label", t.placeholder);
  var send = el("button", "send", t.send);
  row.appendChild(input); row.appendChild(send);
  box.appendChild(head); box.appendChild(log); box.appendChild(typing); box.appendChild(row);
  root.appendChild(button); root.appendChild(box);
  button.addEventListener("click", function () { box.classList.toggle("open"); if (box.classList.contains("open")) input.focus(); });

  // Each conversation's messages by seq; "unbroken" is its highest seq with none missing below: what a
  // reconnect resumes from. A message may come after a higher one (the ack of our own message can
  // overtake the agent's replies): it is put in its place by seq.
  var convs = {};      // contact_id -> {shown: {seq: element}, unbroken, ended, gapTimer}
  var pendingEls = {}; // client_id -> element
  function conv(id) { return convs[id] || (convs[id] = { shown: {}, unbroken: 0, ended: false, gapTimer: null }); }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function system(text) { log.appendChild(el("div", "sys", text)); scroll(); }
  function bubble(from, text, cls) { var n = el("div", "msg " + from + (cls ? " " + cls : ""), text); log.appendChild(n); scroll(); return n; }
  function place(node, contactId, seq) {
    node.setAttribute("data-seq", String(seq)); node.setAttribute("data-contact", contactId);
    var before = null;
    Array.prototype.some.call(log.children, function (n) {
      if (n === node) return false;
      var later = n.getAttribute("data-contact") === contactId && Number(n.getAttribute("data-seq")) > seq;
      if (later || n.classList.contains("pending")) { before = n; return true; }
      return false;
    });
    log.insertBefore(node, before); scroll();
  }
  function record(contactId, seq, node) {
    var c = conv(contactId);
    c.shown[seq] = node;
    while (c.shown[c.unbroken + 1]) c.unbroken += 1;
    clearTimeout(c.gapTimer); c.gapTimer = null;
    var missing = Object.keys(c.shown).some(function (s) { return Number(s) > c.unbroken; });
    // The server fills gaps itself; a gap that lasts is asked for, as the protocol allows.
    if (missing) c.gapTimer = setTimeout(function () { sendJson({ type: "transcript", contact_id: contactId, after_seq: c.unbroken }); }, 3000);
  }
  function current(contactId) {
    if (contactId !== state.contactId && !conv(contactId).ended) state.contactId = contactId;  // a new chat
  }
  function showMessage(m) {
    var c = conv(m.contact_id);
    current(m.contact_id);
    if (c.shown[m.seq]) return;
    var mine = m.client_id && pendingEls[m.client_id], node;
    if (mine) { mine.classList.remove("pending"); node = mine; delete pendingEls[m.client_id]; }
    else { node = bubble(m.from === "customer" ? "customer" : "agent", m.text); }
    place(node, m.contact_id, m.seq);
    record(m.contact_id, m.seq, node);
    if (m.from !== "customer") typing.textContent = "";
  }

  // ---- socket
  var ws = null, backoff = 500, firstWelcome = true, typingTimer = null, lastTypingSent = 0, statusEl = null;
  function sendJson(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () {
      backoff = 500;
      var hello = { type: "hello", topic: topic, language: language };
      if (state.token) hello.token = state.token;
      if (state.contactId) { hello.contact_id = state.contactId; hello.last_seq = conv(state.contactId).unbroken; }
      sendJson(hello);
    };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      // A frame carries one message, or an array of them in order.
      if (Array.isArray(m)) { m.forEach(handle); } else { handle(m); }
    };
    ws.onclose = function () {
      if (!statusEl) statusEl = el("div", "sys", t.reconnecting);
      log.appendChild(statusEl);
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
    };
  }
  function handle(m) {
    switch (m.type) {
      case "welcome":
        if (statusEl) { statusEl.remove(); statusEl = null; }
        state.token = m.token; save();
        if (!m.contact || m.contact.id !== state.contactId) { state.contactId = m.contact ? m.contact.id : null; }
        if (firstWelcome) {
          firstWelcome = false;
          sendJson({ type: "page_view", url: location.href, title: document.title });
          if (Object.keys(vouched).length) sendJson(Object.assign({ type: "identify" }, vouched));
        }
        state.pending.forEach(function (p) { sendJson({ type: "message", client_id: p.client_id, text: p.text }); });
        break;
      case "message": showMessage(m); break;
      case "transcript": (m.messages || []).forEach(showMessage); break;
      case "ack": {
        current(m.contact_id);
        var own = pendingEls[m.client_id], c = conv(m.contact_id);
        if (own && !c.shown[m.seq]) {
          own.classList.remove("pending"); delete pendingEls[m.client_id];
          place(own, m.contact_id, m.seq); record(m.contact_id, m.seq, own);
        }
        state.pending = state.pending.filter(function (p) { return p.client_id !== m.client_id; }); save();
        break;
      }
      case "typing":
        typing.textContent = t.typing; clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typing.textContent = ""; }, 4000);
        break;
      case "agent_joined": system(m.agent + t.joined); break;
      case "agent_left": system(t.left); break;
      case "ended":
        conv(m.contact_id).ended = true; system(t.ended);
        if (state.contactId === m.contact_id) state.contactId = null;  // the next message opens a new chat
        break;
      case "error": system("⚠ " + m.message); break;
    }
    tell(m);
  }
  function submit() {
    var text = input.value;
    if (!text.trim()) return;
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    state.pending.push({ client_id: id, text: text }); save();
    pendingEls[id] = bubble("customer", text, "pending");
    input.value = "";
    sendJson({ type: "message", client_id: id, text: text });
  }
  send.addEventListener("click", submit);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); return; }
    var now = Date.now();
    if (now - lastTypingSent > 2000) { lastTypingSent = now; sendJson({ type: "typing" }); }
  });
  endButton.addEventListener("click", function () { sendJson({ type: "leave" }); });

  // Page API: open the box; identify the visitor ({identifier, identifier_hash} the site signed, or claims:
  // {email, phone, name}); let the visitor prove an address by a mailed code; listen to what the engine
  // says (identified, code_sent, error); drop the socket (it reconnects by itself).
  window.ContactCenterWidget = {
    open: function () { box.classList.add("open"); },
    identify: function (details) { sendJson(Object.assign({ type: "identify" }, details)); },
    verifyEmail: function (email) { sendJson({ type: "verify_email", email: email }); },
    confirmCode: function (code) { sendJson({ type: "verify_code", code: String(code) }); },
    on: function (type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    dropConnection: function () { if (ws) ws.close(); }
  };
  connect();
})();

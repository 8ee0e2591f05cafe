/* Agent desk: one websocket for offers, conversations and history (docs/protocol.md, desk).
 * Every piece of customer or agent text goes into the page with textContent, never as HTML. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem("desk-token");
  var ws = null, backoff = 500, me = null, clockSkew = 0;
  var offers = {};    // offer_id -> {offer, el, deadline}
  var contacts = {};  // contact_id -> {contact, customer, messages: {seq: msg}, pending: {client_id: el}, unread}
  var current = null, typingTimer = null, lastTyping = 0;
  var accepting = {};  // offer ids this tab accepted (other tabs open the contact themselves)
  var unsent = {};    // client_id -> reply not yet acknowledged; sent again after a reconnect

  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text !== undefined) n.textContent = text; return n; }
  function showError(text) { $("desk-error").textContent = text || ""; }
  function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
  function fmtTime(ts) { return new Date(ts * 1000).toLocaleString(); }
  function newId() { return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random(); }

  // ---- login
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    $("login-error").textContent = "";
    fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        if (!r.ok) { $("login-error").textContent = r.body.message || "Sign-in failed"; return; }
        token = r.body.token; sessionStorage.setItem("desk-token", token); start();
      })
      .catch(function () { $("login-error").textContent = "The server cannot be reached"; });
  });
  $("logout").addEventListener("click", function () {
    fetch("/api/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).finally(function () {
      sessionStorage.removeItem("desk-token"); location.reload();
    });
  });

  function start() { $("login").hidden = true; $("desk").hidden = false; connect(); }
  // The session ended (signed out elsewhere, expired, ended or disabled by a supervisor): back to sign-in.
  function signedOut(text) {
    sessionStorage.removeItem("desk-token"); token = null;
    if (ws) { ws.onclose = null; try { ws.close(); } catch (e) { /* closed already */ } }
    $("desk").hidden = true; $("login").hidden = false; $("login-error").textContent = text;
  }

  // ---- socket
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/desk";
    ws = new WebSocket(url);
    $("connection").textContent = "connecting…";
    ws.onopen = function () { backoff = 500; send({ type: "hello", token: token }); };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      // A frame carries one message, or an array of them in order.
      if (Array.isArray(m)) { m.forEach(handle); } else { handle(m); }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4401) { signedOut("Your session has ended. Please sign in again."); return; }
      $("connection").textContent = "disconnected, reconnecting…";
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
    };
  }

  function handle(m) {
    switch (m.type) {
      case "welcome": welcome(m); break;
      case "offer": addOffer(m); break;
      case "offer_closed":
        removeOffer(m.offer_id);
        // Accepted in another tab of this agent's: fetch the contact here too.
        if (m.reason === "accepted" && !accepting[m.offer_id] && !contacts[m.contact_id]) send({ type: "open", contact_id: m.contact_id });
        break;
      case "assigned": removeOfferFor(m.contact.id); upsertContact(m); select(m.contact.id); break;
      case "message": addMessage(m); break;
      case "ack": delete unsent[m.client_id]; break;
      case "email_queued": emailQueued(m); break;
      case "email": case "email_sent": if (contacts[m.contact_id]) send({ type: "open", contact_id: m.contact_id }); break;
      case "typing": if (current === m.contact_id) { $("typing").textContent = "Customer is typing…"; clearTimeout(typingTimer); typingTimer = setTimeout(function () { $("typing").textContent = ""; }, 4000); } break;
      case "customer_left":
        note(m.contact_id, "The customer left the chat.");
        if (contacts[m.contact_id]) { contacts[m.contact_id].contact.left_at = Date.now() / 1000; renderContactItem(contacts[m.contact_id]); }
        break;
      case "contact_state": contactState(m); break;
      case "status": $("status").value = m.status; break;
      case "history": renderHistory(m); break;
      case "session_ended": signedOut("Your session has ended (" + String(m.reason).replace(/_/g, " ") + "). Please sign in again."); break;
      case "linked": note(m.contact_id, "Identity confirmed: linked to the customer who holds it."); break;
      case "transcript": (m.messages || []).forEach(addMessage); break;
      case "error":
        if (m.code === "unauthorized") { signedOut("Please sign in again: " + m.message); return; }
        showError(m.message); break;
    }
  }

  function welcome(m) {
    me = m.agent;
    $("agent-name").textContent = me.name + " (" + me.username + ")";
    $("connection").textContent = "connected";
    $("status").value = me.status === "offline" ? "away" : me.status;
    var sel = $("disposition"); sel.textContent = "";
    (m.dispositions || []).forEach(function (d) { var o = el("option", "", d.replace(/_/g, " ")); o.value = d; sel.appendChild(o); });
    Object.keys(offers).forEach(removeOffer);
    (m.offers || []).forEach(addOffer);
    (m.contacts || []).forEach(upsertContact);
    if (!current && m.contacts && m.contacts.length) select(m.contacts[0].contact.id);
    Object.keys(unsent).forEach(function (id) { send(unsent[id]); });  // the same client_id: recorded once
    showError("");
  }

  // ---- offers with a countdown
  function addOffer(o) {
    if (offers[o.offer_id]) return;
    var li = el("li"); li.setAttribute("data-offer", o.offer_id);
    li.appendChild(el("div", "", o.contact.channel + " · " + (o.contact.skills || []).map(function (s) { return s[0]; }).join(", ")));
    var count = el("div", "countdown"); li.appendChild(count);
    var accept = el("button", "accept", "Accept"), reject = el("button", "reject", "Reject");
    accept.addEventListener("click", function () { accepting[o.offer_id] = true; send({ type: "accept", offer_id: o.offer_id }); });
    reject.addEventListener("click", function () { send({ type: "reject", offer_id: o.offer_id }); });
    li.appendChild(accept); li.appendChild(reject);
    $("offers").appendChild(li);
    var deadline = Date.now() + o.timeout_s * 1000;
    var entry = { offer: o, el: li, timer: null };
    function tick() { var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000)); count.textContent = left + " s to answer"; }
    tick(); entry.timer = setInterval(tick, 250);
    offers[o.offer_id] = entry;
  }
  function removeOffer(id) { var e = offers[id]; if (!e) return; clearInterval(e.timer); e.el.remove(); delete offers[id]; }
  function removeOfferFor(contactId) { Object.keys(offers).forEach(function (id) { if (offers[id].offer.contact.id === contactId) removeOffer(id); }); }

  // ---- contacts and conversations
  function upsertContact(p) {
    var c = contacts[p.contact.id];
    if (!c) {
      c = contacts[p.contact.id] = { contact: p.contact, customer: p.customer, messages: {}, pending: {}, mails: [], unread: false, li: el("li") };
      c.li.addEventListener("click", function () { select(p.contact.id); });
      c.li.setAttribute("data-contact", p.contact.id);
      $("contacts").appendChild(c.li);
    }
    c.contact = p.contact; c.customer = p.customer; c.reply = p.reply || null;
    var newMail = (p.mails || []).length > c.mails.length;
    c.mails = p.mails || [];
    (p.messages || []).forEach(addMessage);
    if (current === c.contact.id && c.contact.channel === "email") renderMails(c);
    else if (newMail) c.unread = true;
    renderContactItem(c);
  }
  function label(c) { return (c.customer && c.customer.name) || ("Visitor " + c.contact.customer_id.slice(0, 6)); }
  function renderContactItem(c) {
    c.li.textContent = label(c) + " · " + c.contact.channel + " · " + c.contact.state.replace("_", "-") + (c.contact.left_at ? " · customer left" : "");
    c.li.classList.toggle("active", current === c.contact.id);
    c.li.classList.toggle("unread", c.unread);
  }
  function addMessage(m) {
    var c = contacts[m.contact_id];
    if (!c || c.messages[m.seq]) return;   // each sequence number is shown once
    c.messages[m.seq] = m;
    if (m.client_id && c.pending[m.client_id]) { c.pending[m.client_id].remove(); delete c.pending[m.client_id]; }
    if (m.client_id) delete unsent[m.client_id];
    if (current === m.contact_id) { renderMessage(m); if (m.from === "customer") $("typing").textContent = ""; }
    else { c.unread = true; renderContactItem(c); }
  }
  function renderMessage(m) {
    var box = $("transcript"), node = el("div", "msg " + (m.from === "customer" ? "customer" : "agent"), m.text);
    node.setAttribute("data-seq", String(m.seq)); node.title = fmtTime(m.at);
    var after = null;
    Array.prototype.forEach.call(box.querySelectorAll("[data-seq]"), function (n) { if (!after && Number(n.getAttribute("data-seq")) > m.seq) after = n; });
    box.insertBefore(node, after); box.scrollTop = box.scrollHeight;
  }
  function note(contactId, text) { if (current === contactId) { $("transcript").appendChild(el("div", "typing", text)); } }
  function select(id) {
    current = id; var c = contacts[id];
    $("no-contact").hidden = !!c; $("contact-view").hidden = !c;
    Object.keys(contacts).forEach(function (k) { renderContactItem(contacts[k]); });
    if (!c) return;
    c.unread = false; renderContactItem(c);
    $("contact-title").textContent = label(c);
    $("contact-state").textContent = c.contact.state.replace("_", "-");
    var box = $("transcript"); box.textContent = "";
    var isEmail = c.contact.channel === "email";
    $("reply-text").placeholder = isEmail ? "Write an email reply… (Ctrl+Enter sends)" : "Write a reply…";
    $("reply-text").classList.toggle("email", isEmail);
    if (isEmail) renderMails(c);
    Object.keys(c.messages).map(Number).sort(function (a, b) { return a - b; }).forEach(function (s) { renderMessage(c.messages[s]); });
    Object.keys(c.pending).forEach(function (k) { box.appendChild(c.pending[k]); });
    renderCustomer(c.customer, c.contact.id);
    renderRecipient(c);
    $("history").textContent = "";
    send({ type: "history", customer_id: c.contact.customer_id });
  }
  // ---- email: each mail as a card; its HTML (made safe by the server) only inside a sandboxed frame
  function renderMails(c) {
    var box = $("transcript"); box.textContent = "";
    var head = c.contact.ticket ? c.contact.ticket + (c.contact.answered_at ? " · answered" : " · due " + fmtTime(c.contact.due_at)) : "";
    if (head) box.appendChild(el("div", "ticket", head));
    c.mails.forEach(function (m) { box.appendChild(mailCard(m)); });
    Object.keys(c.pending).forEach(function (k) { box.appendChild(c.pending[k]); });
    box.scrollTop = box.scrollHeight;
  }
  function mailCard(m) {
    var card = el("article", "mail " + m.direction + (m.kind === "ack" ? " automatic" : ""));
    card.setAttribute("data-mail", m.id);
    var who = m.direction === "in" ? "From " + (m.from_name ? m.from_name + " <" + m.from + ">" : m.from) : (m.kind === "ack" ? "Acknowledgement to " : "To ") + (m.to || []).join(", ");
    card.appendChild(el("div", "mail-head", who + " · " + fmtTime(m.at)));
    card.appendChild(el("div", "mail-subject", m.subject || "(no subject)"));
    if (m.thread_refused) {
      var warn = el("div", "mail-warning", "Unverified sender: this mail names " + m.thread_refused.ticket +
        " but was not let into it (" + m.thread_refused.reason + "). Do not act on it as that customer's.");
      warn.setAttribute("role", "alert"); card.appendChild(warn);
    }
    if (m.direction === "in" && (m.reply_to || []).length && m.reply_to[0] !== m.from) {
      card.appendChild(el("div", "mail-problem", "Asks for replies to " + m.reply_to.join(", ")));
    }
    if (m.html && m.direction === "in") card.appendChild(htmlFrame(m));
    else card.appendChild(el("div", "mail-text", m.text));
    if (m.folded) {
      var more = el("details", "mail-folded"); more.appendChild(el("summary", "", "Quoted text and signature"));
      more.appendChild(el("div", "mail-text", m.folded)); card.appendChild(more);
    }
    (m.attachments || []).forEach(function (a) { if (!shownInHtml(m, a)) card.appendChild(attachmentRow(a)); });
    (m.problems || []).forEach(function (p) { card.appendChild(el("div", "mail-problem", p)); });
    return card;
  }
  function shownInHtml(m, a) {
    return !!(a.url && a.content_id && m.html && m.html.indexOf("cid:" + a.content_id.replace(/^<|>$/g, "")) >= 0);
  }
  function htmlFrame(m) {
    var frame = document.createElement("iframe");
    frame.className = "mail-html";
    frame.setAttribute("sandbox", "");           // no script, no forms, no same-origin, no navigation of the desk
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.title = "Mail: " + (m.subject || "");
    var doc = new DOMParser().parseFromString(m.html, "text/html");   // parsing runs nothing
    var waits = [];
    Array.prototype.forEach.call(doc.querySelectorAll("img"), function (img) {
      var cid = (img.getAttribute("src") || "").replace(/^cid:/i, "");
      var part = (m.attachments || []).filter(function (a) { return a.url && a.content_id && a.content_id.replace(/^<|>$/g, "") === cid; })[0];
      if (!part) { img.removeAttribute("src"); return; }
      waits.push(dataUrl(part.url).then(function (u) { img.setAttribute("src", u); }, function () { img.removeAttribute("src"); }));
    });
    Promise.all(waits).then(function () {
      // The frame inherits the desk's Content-Security-Policy: no inline style or script, images only data:.
      frame.srcdoc = "<!doctype html><meta charset=utf-8>" + doc.body.innerHTML;
    });
    return frame;
  }
  function authed(url) { return fetch(url, { headers: { Authorization: "Bearer " + token } }).then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); }); }
  function dataUrl(url) {
    return authed(url).then(function (blob) {
      return new Promise(function (ok, fail) { var rd = new FileReader(); rd.onload = function () { ok(rd.result); }; rd.onerror = fail; rd.readAsDataURL(blob); });
    });
  }
  function attachmentRow(a) {
    var row = el("div", "attachment");
    var size = a.size > 1048576 ? (a.size / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(a.size / 1024)) + " KB";
    if (!a.url) { row.appendChild(el("span", "refused", a.filename + " (" + size + ") not kept: " + (a.refused || ""))); return row; }
    var button = el("button", "download", a.filename + " (" + size + ")");
    button.addEventListener("click", function () {
      authed(a.url).then(function (blob) {
        var link = document.createElement("a"); link.href = URL.createObjectURL(blob); link.download = a.filename;
        document.body.appendChild(link); link.click(); link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
      }, function () { showError("The attachment could not be fetched"); });
    });
    row.appendChild(button);
    return row;
  }
  function emailQueued(m) {
    delete unsent[m.client_id];
    var c = contacts[m.contact_id]; if (!c) return;
    if (c.pending[m.client_id]) { c.pending[m.client_id].remove(); delete c.pending[m.client_id]; }
    send({ type: "open", contact_id: m.contact_id });   // the sent mail, as recorded
  }

  function contactState(m) {
    var c = contacts[m.contact_id]; if (!c) return;
    if (m.state === "closed") {
      c.li.remove(); delete contacts[m.contact_id];
      if (current === m.contact_id) { current = null; select(null); }
      return;
    }
    c.contact.state = m.state; renderContactItem(c);
    if (current === m.contact_id) $("contact-state").textContent = m.state.replace("_", "-") + (m.wrap_up_s ? " (" + m.wrap_up_s + " s)" : "");
  }
  function renderCustomer(cu, contactId) {
    var box = $("customer"); box.textContent = "";
    if (!cu) return;
    box.appendChild(el("div", "", cu.name || "Unnamed visitor"));
    box.appendChild(el("div", "", "Value: " + cu.value));
    (cu.identities || []).forEach(function (i) { if (i[0] !== "visitor") box.appendChild(el("div", "", i[0] + ": " + i[1] + " (verified)")); });
    // What the customer said of itself without proof: shown apart, and linked only when the agent confirms it.
    (cu.claims || []).forEach(function (claim) {
      var row = el("div", "claim");
      row.appendChild(el("span", "", "Says they are " + claim[1] + " (unverified)"));
      var link = el("button", "link-claim", "Confirm and link");
      link.setAttribute("aria-label", "Confirm " + claim[1] + " and link");
      link.addEventListener("click", function () {
        if (!link.classList.contains("armed")) { link.classList.add("armed"); link.textContent = "Sure? Click again to link"; return; }
        send({ type: "link_identity", contact_id: contactId, kind: claim[0], value: claim[1] });
        link.disabled = true;
      });
      row.appendChild(link); box.appendChild(row);
    });
  }
  // Email: where a reply goes, a Reply-To the agent may choose instead, and copies.
  function renderRecipient(c) {
    var box = $("recipient"); box.textContent = "";
    var isEmail = c.contact.channel === "email" && c.reply;
    box.hidden = !isEmail;
    if (!isEmail) return;
    box.appendChild(el("div", "", "To: " + (c.reply.to || "(nobody)")));
    (c.reply.reply_to_offered || []).forEach(function (addr) {
      var label = el("label", "reply-to");
      var tick = document.createElement("input"); tick.type = "checkbox"; tick.name = "reply-to"; tick.value = addr;
      label.appendChild(tick); label.appendChild(document.createTextNode(" Send to " + addr + " instead (asked for in Reply-To)"));
      box.appendChild(label);
    });
    var cc = el("label", "cc"); cc.appendChild(document.createTextNode("Cc "));
    var input = document.createElement("input"); input.id = "reply-cc"; input.placeholder = "name@example.com, …";
    cc.appendChild(input); box.appendChild(cc);
  }
  function renderHistory(m) {
    var c = current && contacts[current];
    if (!c || c.contact.customer_id !== m.customer_id) return;
    var list = $("history"); list.textContent = "";
    m.events.slice().reverse().forEach(function (e) {
      var li = el("li"); li.appendChild(el("span", "kind", e.kind.replace(/[._]/g, " ")));
      li.appendChild(el("span", "", " · " + (e.channel || "") + " · " + fmtTime(e.at)));
      var detail = e.data && (e.data.text || e.data.url || e.data.disposition || e.data.agent_name || "");
      if (detail) li.appendChild(el("div", "detail", String(detail)));
      list.appendChild(li);
    });
  }

  // ---- actions
  $("status").addEventListener("change", function () { send({ type: "set_status", status: $("status").value }); });
  function reply() {
    var text = $("reply-text").value; if (!current || !text.trim()) return;
    var id = newId(), c = contacts[current];
    var node = el("div", "msg agent pending", text); c.pending[id] = node; $("transcript").appendChild(node);
    $("reply-text").value = "";
    var kind = c.contact.channel === "email" ? "email_reply" : "reply";
    unsent[id] = { type: kind, contact_id: current, client_id: id, text: text };
    if (kind === "email_reply") {
      var chosen = document.querySelector("#recipient input[name=reply-to]:checked");
      if (chosen) unsent[id].reply_to = chosen.value;
      var cc = ($("reply-cc") && $("reply-cc").value || "").split(",").map(function (a) { return a.trim(); }).filter(Boolean);
      if (cc.length) unsent[id].cc = cc;
    }
    send(unsent[id]);
  }
  $("reply-send").addEventListener("click", reply);
  $("reply-text").addEventListener("keydown", function (e) {
    var email = current && contacts[current] && contacts[current].contact.channel === "email";
    if (e.key === "Enter" && (email ? (e.ctrlKey || e.metaKey) : !e.shiftKey)) { e.preventDefault(); reply(); return; }
    var now = Date.now(); if (current && now - lastTyping > 2000) { lastTyping = now; send({ type: "typing", contact_id: current }); }
  });
  $("close-contact").addEventListener("click", function () {
    if (current) send({ type: "close", contact_id: current, disposition: $("disposition").value });
  });

  if (token) start();
})();

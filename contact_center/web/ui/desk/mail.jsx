// An email contact on the desk: each mail as a card; its HTML (made safe by the server) only inside
// a sandboxed frame; attachments fetched with the agent's token; where a reply goes, and copies.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatMoment } from "../shared/i18n.js";

export function authed(url, token) {
  return fetch(url, { headers: { Authorization: `Bearer ${token}` } }).then((r) => {
    if (!r.ok) throw new Error(String(r.status));
    return r.blob();
  });
}

export function dataUrl(url, token) {
  return authed(url, token).then((blob) => new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok(reader.result);
    reader.onerror = fail;
    reader.readAsDataURL(blob);
  }));
}

const bare = (cid) => (cid || "").replace(/^<|>$/g, "");

function shownInHtml(mail, a) {
  return !!(a.url && a.content_id && mail.html && mail.html.indexOf(`cid:${bare(a.content_id)}`) >= 0);
}

function HtmlFrame({ mail, token, t }) {
  const frame = useRef(null);
  useEffect(() => {
    const doc = new DOMParser().parseFromString(mail.html, "text/html");  // parsing runs nothing
    const waits = [...doc.querySelectorAll("img")].map((img) => {
      const cid = (img.getAttribute("src") || "").replace(/^cid:/i, "");
      const part = (mail.attachments || []).find((a) => a.url && a.content_id && bare(a.content_id) === cid);
      if (!part) { img.removeAttribute("src"); return null; }
      return dataUrl(part.url, token).then((u) => img.setAttribute("src", u), () => img.removeAttribute("src"));
    });
    let live = true;
    Promise.all(waits).then(() => {
      // The frame inherits the desk's Content-Security-Policy: no inline style or script, images only data:.
      if (live && frame.current) frame.current.srcdoc = `<!doctype html><meta charset=utf-8>${doc.body.innerHTML}`;
    });
    return () => { live = false; };
  }, [mail.id]);
  // sandbox="": no script, no forms, no same-origin, no navigation of the desk
  return <iframe ref={frame} class="mail-html" sandbox="" referrerpolicy="no-referrer" title={t("desk.mail.frame", { subject: mail.subject || "" })} />;
}

export function size(bytes, t) {
  return bytes > 1048576 ? t("desk.mail.mb", { n: (bytes / 1048576).toFixed(1) }) : t("desk.mail.kb", { n: Math.max(1, Math.round(bytes / 1024)) });
}

/** Fetch a file with the agent's token and hand it to the browser as a download named ``name``. */
export function saveAs(url, name, token, onError) {
  authed(url, token).then((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }, () => onError({ code: "attachment" }));
}

function Attachment({ a, token, t, onError }) {
  if (!a.url) return <div class="attachment"><span class="refused">{t("desk.mail.not_kept", { name: a.filename, size: size(a.size, t), why: a.refused || "" })}</span></div>;
  const download = () => saveAs(a.url, a.filename, token, onError);
  return <div class="attachment"><button type="button" class="download" onClick={download}>{`${a.filename} (${size(a.size, t)})`}</button></div>;
}

function MailCard({ mail, token, t, zone, onError }) {
  const automatic = mail.kind === "ack";
  const from = mail.from_name ? `${mail.from_name} <${mail.from}>` : mail.from;
  const who = mail.direction === "in" ? t("desk.mail.from", { who: from })
    : t(automatic ? "desk.mail.ack_to" : "desk.mail.to", { who: (mail.to || []).join(", ") });
  const replyTo = mail.direction === "in" && (mail.reply_to || []).length && mail.reply_to[0] !== mail.from;
  return (
    <article class={`mail ${mail.direction}${automatic ? " automatic" : ""}`} data-mail={mail.id}>
      <div class="mail-head">{`${who} · ${formatMoment(mail.at, t.language, zone)}`}</div>
      <div class="mail-subject">{mail.subject || t("desk.mail.no_subject")}</div>
      {mail.via === "webchat" ? <div class="mail-warning via">{t("desk.mail.via_widget", { address: mail.from })}</div> : null}
      {mail.thread_refused ? (
        <div class="mail-warning" role="alert">{t("desk.mail.refused", { ticket: mail.thread_refused.ticket, reason: mail.thread_refused.reason })}</div>
      ) : null}
      {replyTo ? <div class="mail-problem">{t("desk.mail.asks_reply_to", { who: mail.reply_to.join(", ") })}</div> : null}
      {mail.html && mail.direction === "in" ? <HtmlFrame mail={mail} token={token} t={t} /> : <div class="mail-text">{mail.text}</div>}
      {mail.folded ? (
        <details class="mail-folded"><summary>{t("desk.mail.folded")}</summary><div class="mail-text">{mail.folded}</div></details>
      ) : null}
      {(mail.attachments || []).filter((a) => !shownInHtml(mail, a)).map((a) => <Attachment key={a.n} a={a} token={token} t={t} onError={onError} />)}
      {(mail.problems || []).map((p, n) => <div key={n} class="mail-problem">{p}</div>)}
    </article>
  );
}

export function MailThread({ entry, token, t, zone, onError }) {
  const c = entry.contact;
  const due = c.answered_at ? t("desk.mail.answered") : t("desk.mail.due", { at: formatMoment(c.due_at, t.language, zone) });
  return (
    <div class="mails">
      {c.ticket ? <div class="ticket">{`${c.ticket} · ${due}`}</div> : null}
      {entry.mails.map((m) => <MailCard key={m.id} mail={m} token={token} t={t} zone={zone} onError={onError} />)}
    </div>
  );
}

/** Where an email reply goes: the thread's customer, or an address its Reply-To asked for; and copies. */
export function Recipient({ entry, t, choice, setChoice }) {
  const reply = entry.reply;
  const [cc, setCc] = useState("");
  useEffect(() => setChoice({ replyTo: null, cc: [] }), [entry.contact.id]);
  if (!reply) return null;
  return (
    <div id="recipient" class="recipient">
      <div>{t("desk.mail.reply_to_customer", { who: reply.to || t("desk.mail.nobody") })}</div>
      {(reply.reply_to_offered || []).map((addr) => (
        <label key={addr} class="reply-to">
          <input type="checkbox" name="reply-to" value={addr} checked={choice.replyTo === addr}
            onChange={(e) => setChoice({ ...choice, replyTo: e.currentTarget.checked ? addr : null })} />
          {` ${t("desk.mail.send_instead", { who: addr })}`}
        </label>
      ))}
      <label class="cc">{`${t("desk.mail.cc")} `}
        <input id="reply-cc" placeholder="name@example.com, …" value={cc}
          onInput={(e) => { setCc(e.currentTarget.value); setChoice({ ...choice, cc: e.currentTarget.value.split(",").map((a) => a.trim()).filter(Boolean) }); }} />
      </label>
    </div>
  );
}

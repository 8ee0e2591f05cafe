// The contact in front of the agent: its conversation (a chat's messages, or an email's mails),
// the reply box with its draft, the wrap-up's countdown, and closing with a disposition.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatMoment } from "../shared/i18n.js";
import { CallPanel } from "./call.jsx";
import { CallbackPanel } from "./callback.jsx";
import { MailThread, Recipient, dataUrl, saveAs, size } from "./mail.jsx";
import { Findings, Found, ReplyFiles, Suggestions, ToFill, Underlined, replyQuery, unfilled } from "./replies.jsx";

export function customerName(entry, t) {
  return (entry.customer && entry.customer.name) || t("desk.visitor", { id: entry.contact.customer_id.slice(0, 6) });
}

/** What an error says to the agent, in the agent's language: by its code (and problem), never an internal id. */
export function errorText(error, t) {
  if (!error) return "";
  if (error.code === "not_held" && error.state) return t(`desk.error.not_held_${error.state}`, {}, t("desk.error.not_held"));
  if (error.code === "invalid_field" && error.problem) return t(`error.${error.problem}`, { limit: error.limit ?? "" });
  return t(`desk.error.${error.code}`, {}, t("desk.error.generic"));
}

function useNow(every, active) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [active, every]);
  return now;
}

function StateLine({ entry, t }) {
  const c = entry.contact;
  const now = useNow(250, c.state === "wrap_up" && !!entry.wrapUntil);
  if (c.state !== "wrap_up") return <span id="contact-state" class="state">{t(`desk.state.${c.state}`)}</span>;
  const left = Math.max(0, Math.ceil(((entry.wrapUntil || now) - now) / 1000));
  return <span id="contact-state" class="state wrap" role="timer">{t("desk.wrap_up_left", { count: left })}</span>;
}

const IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

// A file the customer sent: an image shown small (its bytes fetched with the agent's token, shown as
// data: under the desk's policy), anything else a download; both download on a click.
function ChatFile({ f, me, t }) {
  const [src, setSrc] = useState(null);
  const url = `/api/files/${encodeURIComponent(f.id)}`;
  useEffect(() => {
    if (!IMAGES.has(f.type)) return undefined;
    let live = true;
    dataUrl(url, me.token).then((u) => { if (live) setSrc(u); }, () => {});
    return () => { live = false; };
  }, [f.id]);
  const label = t("desk.file", { name: f.name, size: size(f.size, t) });
  return (
    <button type="button" class="chat-file" aria-label={t("desk.file_download", { name: f.name })} onClick={() => saveAs(url, f.name, me.token, me.onError)}>
      {src ? <img src={src} alt={f.name} /> : null}
      <span>{label}</span>
    </button>
  );
}

function Message({ m, entry, t, zone, me }) {
  const fromCustomer = m.from === "customer";
  const who = fromCustomer ? customerName(entry, t) : (m.from === `agent:${me.id}` ? t("desk.you") : t("desk.colleague"));
  return (
    <div class={`msg ${fromCustomer ? "customer" : "agent"}`} data-seq={m.seq}>
      <div class="msg-meta"><span class="who">{who}</span> <time>{formatMoment(m.at, t.language, zone, { date: false })}</time></div>
      {m.text ? <div class="text">{m.text}</div> : null}
      {m.files && m.files.length ? <div class="files">{m.files.map((f) => <ChatFile key={f.id} f={f} me={me} t={t} />)}</div> : null}
      {fromCustomer || entry.contact.channel !== "chat" ? null : (
        <div class={`receipt${m.seq <= (entry.readSeq || 0) ? " read" : ""}`}>{t(m.seq <= (entry.readSeq || 0) ? "desk.read" : "desk.sent")}</div>
      )}
    </div>
  );
}

function Note({ n, t, zone, me }) {
  return (
    <div class="msg internal" data-note={n.at}>
      <div class="msg-meta"><span class="who">{t("desk.internal_note", { who: n.agentId === me.id ? t("desk.you") : t("desk.colleague") })}</span> <time>{formatMoment(n.at, t.language, zone, { date: false })}</time></div>
      <div class="text">{n.text}</div>
    </div>
  );
}

function Transcript({ entry, notes, t, zone, me, typing }) {
  const box = useRef(null);
  useEffect(() => { if (box.current) box.current.scrollTop = box.current.scrollHeight; }, [entry.messages.length, entry.pending.length, entry.mails.length]);
  const email = entry.contact.channel === "email";
  return (
    <div id="transcript" class="transcript" ref={box} role="log" tabIndex={0} aria-label={t("desk.transcript")}>
      {email ? <MailThread entry={entry} token={me.token} t={t} zone={zone} onError={me.onError} />
        : entry.messages.map((m) => <Message key={m.seq} m={m} entry={entry} t={t} zone={zone} me={me} />)}
      {notes.map((n) => <Note key={`${n.at}:${n.text}`} n={n} t={t} zone={zone} me={me} />)}
      {entry.pending.map((p) => <div key={p.clientId} class="msg agent pending"><div class="text">{p.text}</div><div class="msg-meta">{t("desk.sending")}</div></div>)}
      {entry.notes.map((n, i) => <div key={i} class="note">{t(`desk.note.${n.what}`)}</div>)}
      {typing ? <div class="typing">{t("desk.customer_typing")}</div> : null}
    </div>
  );
}

function Composer({ desk, entry, state, t }) {
  const id = entry.contact.id;
  const [text, setText] = useState(() => desk.draft(id));
  const [asked, setAsked] = useState(false);  // the agent tried to send with placeholders left
  const [choice, setChoice] = useState({ replyTo: null, cc: [] });
  const [noting, setNoting] = useState(false);  // an internal note instead of a reply
  const [files, setFiles] = useState([]);  // the picked replies' files, sent with the reply
  const input = useRef(null);
  const marks = useRef(null);
  const caret = useRef(null);  // where the cursor was in the draft, so a reply picked goes there
  useEffect(() => { setText(desk.draft(id)); }, [id]);  // each contact's own draft
  const email = entry.contact.channel === "email";
  const open = entry.contact.state === "assigned" || noting;  // a note may be written in wrap-up too
  const query = noting ? null : replyQuery(text);
  const checked = state.checked[id];
  const underline = open && !noting && checked && checked.text === text && checked.findings.length > 0;
  const missing = noting ? [] : unfilled(text);
  useEffect(() => { if (query !== null) desk.findReplies(id, query); }, [query]);
  useEffect(() => {  // the writing rules, once the agent pauses
    if (noting || query !== null || !text.trim()) return undefined;
    const timer = setTimeout(() => desk.checkDraft(id, text), 400);
    return () => clearTimeout(timer);
  }, [text, noting]);
  function fix(finding, replacement) {
    edit(text.slice(0, finding.start) + replacement + text.slice(finding.end));
  }
  function edit(next) { setText(next); desk.setDraft(id, next); setAsked(false); }
  function remember(e) { caret.current = [e.currentTarget.selectionStart, e.currentTarget.selectionEnd]; }
  function pick(reply) {  // in place of "/code", else where the cursor was (several may go into one draft)
    const box = input.current;
    let at = 0;
    let next = reply.text;
    if (query === null && text.trim()) {
      const [start, end] = caret.current && caret.current[1] <= text.length ? caret.current : [text.length, text.length];
      const before = text.slice(0, start), after = text.slice(end);
      const gap = before && !before.endsWith("\n") ? "\n" : "";
      at = before.length + gap.length;
      next = `${before}${gap}${reply.text}${after && !after.startsWith("\n") ? "\n" : ""}${after}`;
    }
    edit(next);
    const adding = (reply.attachments || []).filter((f) => !files.some((had) => had.name === f.name));
    if (adding.length) setFiles([...files, ...adding.map((f) => ({ ...f, reply: reply.id }))]);
    desk.replyUsed(id, reply.id);
    if (box) {
      box.focus();
      const slot = next.indexOf("[[", at);
      if (slot >= 0) box.setSelectionRange(slot, next.indexOf("]]", slot) + 2);
      else box.setSelectionRange(at + reply.text.length, at + reply.text.length);
    }
  }
  function send() {
    if (missing.length) {  // asked before it goes: the first placeholder selected, to type over
      setAsked(true);
      const slot = text.indexOf("[[");
      if (input.current && slot >= 0) { input.current.focus(); input.current.setSelectionRange(slot, text.indexOf("]]", slot) + 2); }
      return;
    }
    if (noting ? desk.addNote(id, text) : desk.reply(text, choice, files)) { edit(""); setFiles([]); }
  }
  function keys(e) {
    if (e.key === "Enter" && (email ? (e.ctrlKey || e.metaKey) : !e.shiftKey)) { e.preventDefault(); send(); return; }
    if (e.key !== "Escape") desk.typing(id);
  }
  return (
    <div class="composer">
      {email && !noting ? <Recipient entry={entry} t={t} choice={choice} setChoice={setChoice} /> : null}
      <button type="button" id="note-mode" class="note-mode" aria-pressed={noting ? "true" : "false"} onClick={() => setNoting(!noting)}>
        {t("desk.note_mode")}
      </button>
      <div class="reply">
        <div class="draft">
          {underline ? <Underlined box={marks} checked={checked} text={text} email={email} /> : null}
          <textarea id="reply-text" ref={input} class={`${email ? "email" : ""}${noting ? " noting" : ""}${underline ? " underlined" : ""}`}
            value={text} disabled={!open} aria-label={t(noting ? "desk.note" : "desk.reply")}
            aria-describedby={underline ? "findings" : undefined}
            placeholder={noting ? t("desk.note_placeholder") : open ? t(email ? "desk.reply_email_placeholder" : "desk.reply_placeholder") : t("desk.reply_closed")}
            onInput={(e) => { edit(e.currentTarget.value); remember(e); }} onKeyDown={keys}
            onKeyUp={remember} onMouseUp={remember} onSelect={remember}
            onScroll={(e) => { if (marks.current) marks.current.scrollTop = e.currentTarget.scrollTop; }} />
        </div>
        <button type="button" id="reply-send" disabled={!open || !text.trim()} onClick={send}>{t("desk.send")}</button>
      </div>
      {open && !noting ? <ReplyFiles files={files} onRemove={(name) => setFiles(files.filter((f) => f.name !== name))} t={t} /> : null}
      <ToFill names={missing} asked={asked} t={t} />
      {open && !noting ? <Findings checked={checked} text={text} onFix={fix} onKeep={(w) => desk.addWord(w)} t={t} /> : null}
      {open && !noting && query !== null && state.found && state.found.contactId === id ? <Found found={state.found} onPick={pick} t={t} /> : null}
      {open && !noting && query === null ? <Suggestions replies={state.suggestions[id]} onPick={pick} t={t} /> : null}
    </div>
  );
}

/** Hand the contact to an available colleague, or back to the queue for another skill. */
function Transfer({ desk, entry, state, t }) {
  const [open, setOpen] = useState(false);
  const asked = state.colleagues && state.colleagues.contactId === entry.contact.id ? state.colleagues.agents : null;
  const colleagues = asked || [];
  const [to, setTo] = useState("");
  const [skill, setSkill] = useState(state.transferSkills[0] || "");
  if (entry.contact.state !== "assigned") return null;
  if (!open) return <button type="button" id="transfer" onClick={() => { desk.askColleagues(entry.contact.id); setOpen(true); }}>{t("desk.transfer")}</button>;
  return (
    <fieldset id="transfer-form" class="transfer">
      <legend>{t("desk.transfer")}</legend>
      <label>{t("desk.transfer.colleague")}{" "}
        <select id="transfer-agent" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          <option value="">{asked === null ? t("desk.transfer.asking") : colleagues.length ? t("desk.transfer.choose") : t("desk.transfer.nobody")}</option>
          {colleagues.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
        </select>
      </label>
      <button type="button" id="transfer-refresh" onClick={() => desk.askColleagues(entry.contact.id)}>{t("desk.transfer.refresh")}</button>
      <button type="button" id="transfer-to-agent" disabled={!to} onClick={() => desk.transfer(entry.contact.id, { agent_id: to })}>{t("desk.transfer.to_agent")}</button>
      <label>{t("desk.transfer.skill")}{" "}
        <select id="transfer-skill" value={skill} onChange={(e) => setSkill(e.currentTarget.value)}>
          {state.transferSkills.map((s) => <option key={s} value={s}>{t(`desk.skill.${s}`, {}, s)}</option>)}
        </select>
      </label>
      <button type="button" id="transfer-to-queue" disabled={!skill} onClick={() => desk.transfer(entry.contact.id, { skill })}>{t("desk.transfer.to_queue")}</button>
      <button type="button" onClick={() => setOpen(false)}>{t("desk.transfer.cancel")}</button>
    </fieldset>
  );
}

function CloseRow({ desk, entry, state, t }) {
  const [disposition, setDisposition] = useState(state.dispositions[0] || "");
  const c = entry.contact;
  const label = c.state === "wrap_up" ? t("desk.finish") : t("desk.close");
  return (
    <div class="close-row">
      <select id="disposition" aria-label={t("desk.disposition")} value={disposition} onChange={(e) => setDisposition(e.currentTarget.value)}>
        {state.dispositions.map((d) => <option key={d} value={d}>{t(`desk.disposition.${d}`, {}, d.replace(/_/g, " "))}</option>)}
      </select>
      <button type="button" id="close-contact" onClick={() => desk.close(c.id, disposition)}>{label}</button>
    </div>
  );
}

export function Conversation({ desk, state, t, me }) {
  const entry = state.current && state.contacts[state.current];
  if (!entry) return <main class="conversation"><div id="no-contact" class="empty">{t("desk.no_contact")}</div></main>;
  const c = entry.contact;
  return (
    <main class="conversation" aria-label={t("desk.conversation")}>
      <div class="contact-head">
        <h2 id="contact-title">{customerName(entry, t)}</h2>
        <span class="channel">{t(`desk.channel.${c.channel}`)}</span>
        <StateLine entry={entry} t={t} />
        {c.left_at ? <span class="left">{t("desk.customer_left")}</span> : null}
      </div>
      <Transcript entry={entry} notes={desk.notes(c.id)} t={t} zone={state.timeZone} me={me} typing={state.typing === c.id} />
      {c.channel === "callback" ? <CallbackPanel key={`callback-${c.id}`} desk={desk} entry={entry} state={state} t={t} /> : null}
      {c.channel === "call" ? <CallPanel key={`call-${c.id}`} desk={desk} entry={entry} state={state} t={t} /> : null}
      {c.channel === "callback" || c.channel === "call" ? null : <Composer key={c.id} desk={desk} entry={entry} state={state} t={t} />}
      {(c.channel === "callback" || c.channel === "call") && c.state === "assigned" ? null : <CloseRow key={`close-${c.id}`} desk={desk} entry={entry} state={state} t={t} />}
      <Transfer key={`transfer-${c.id}`} desk={desk} entry={entry} state={state} t={t} />
      {state.error ? <p id="desk-error" class="error" role="alert">{errorText(state.error, t)}</p> : null}
    </main>
  );
}

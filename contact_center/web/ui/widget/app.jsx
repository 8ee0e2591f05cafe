// The widget's view: a launcher, and a panel with the conversation and a box to write in. All
// customer and agent text is rendered as text (Preact escapes it), never as HTML.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDuration, formatMoment } from "../shared/i18n.js";
import { CallView } from "./call.jsx";
import { CallMeView } from "./callme.jsx";

function useChat(chat) {
  const [state, setState] = useState(chat.state);
  useEffect(() => chat.subscribe(setState), [chat]);
  return state;
}

function reasonOf(item, t) {
  if (item.code === "invalid_field" && item.problem) return t(`error.${item.problem}`, { limit: item.limit ?? "" });
  const key = `error.${item.code}`;
  const text = t(key);
  return text === key ? t("error.generic") : text;
}

function Note({ item, t }) {
  if (item.what === "error") return <li class="note error"><span role="alert">{reasonOf(item.values, t)}</span></li>;
  return <li class="note">{t(`widget.${item.what}`, item.values)}</li>;
}

function fileSize(bytes, t) {
  return bytes > 1048576 ? t("widget.mb", { n: (bytes / 1048576).toFixed(1) }) : t("widget.kb", { n: Math.max(1, Math.round(bytes / 1024)) });
}

function File({ f, chat, t }) {
  const label = t("widget.file", { name: f.name, size: fileSize(f.size, t) });
  if (!f.id || !chat) return <li class="file">{label}</li>;
  return (
    <li class="file">
      <button type="button" class="download" title={t("widget.download", { name: f.name })} onClick={() => chat.download(f)}>{label}</button>
    </li>
  );
}

function Message({ item, chat, t }) {
  const who = item.from === "customer" ? t("widget.you") : t("widget.agent");
  const time = item.at ? formatMoment(item.at, t.language, undefined, { date: false }) : "";
  return (
    <li class={`msg ${item.from} ${item.status}`} data-seq={item.seq || undefined}>
      <span class="who">{who}</span>
      {item.text ? <span class="text">{item.text}</span> : null}
      {item.files && item.files.length ? (
        <ul class="files">{item.files.map((f, n) => <File key={n} f={f} chat={chat} t={t} />)}</ul>
      ) : null}
      <span class="meta">
        {item.status === "pending" ? t("widget.sending") : null}
        {item.status === "failed" ? <span class="failed" role="alert">{t("widget.not_sent", { reason: reasonOf(item, t) })}</span> : null}
        {item.status === "sent" && time ? <time>{time}</time> : null}
      </span>
    </li>
  );
}

function QueuePlace({ queue, t }) {
  if (!queue) return <p class="status">{t("widget.waiting")}</p>;
  return (
    <p class="status queue">
      {t("widget.place", { count: queue.position })}
      {queue.wait ? ` · ${t("widget.expected_wait", { wait: formatDuration(queue.wait, t.language) })}` : ""}
    </p>
  );
}

function Log({ chat, state, t }) {
  const end = useRef(null);
  useEffect(() => { if (end.current) end.current.scrollIntoView({ block: "end" }); }, [state.items.length, state.typing]);
  const waiting = state.contact && state.contact.state === "queued" && !state.items.some((i) => i.from === "agent" && i.contactId === state.contact.id);
  return (
    <div class="log" role="log" tabIndex={0} aria-label={t("widget.messages")}>
      <ol class="items">
        <li class="note greeting">{t("widget.greeting")}</li>
        {state.office && !state.office.open && state.office.opens_at ? (
          <li class="note closed">
            <span role="status">{t("widget.closed", { when: formatMoment(state.office.opens_at, t.language, state.office.time_zone) })}</span>
            {!state.contact && !state.leaveForm && !state.left ? (
              <button type="button" class="leave-offer" onClick={() => chat.showLeaveForm(true)}>{t("widget.leave.offer")}</button>
            ) : null}
          </li>
        ) : null}
        {state.left ? (
          <li class="note left"><span role="status">{t("widget.leave.done", {
            name: state.left.name, ticket: state.left.ticket, email: state.left.email,
            when: formatMoment(state.left.answerBy, t.language, state.office && state.office.time_zone),
          })}</span></li>
        ) : null}
        {state.items.map((item, n) => (item.kind === "note" ? <Note key={n} item={item} t={t} /> : <Message key={item.clientId || `${item.contactId}:${item.seq}`} item={item} chat={chat} t={t} />))}
      </ol>
      {waiting ? <QueuePlace queue={state.queue} t={t} /> : null}
      {state.typing ? <p class="status typing">{t("widget.typing")}</p> : null}
      {state.connection !== "open" ? <p class="status connection">{t(state.connection === "lost" ? "widget.reconnecting" : "widget.connecting")}</p> : null}
      <div ref={end} />
    </div>
  );
}

function Composer({ chat, state, t }) {
  const [text, setText] = useState("");
  const input = useRef(null);
  const limit = state.limits.max_message_chars;
  const length = [...text].length;
  const over = limit && length > limit;
  useEffect(() => { if (state.open && input.current) input.current.focus(); }, [state.open]);
  const picker = useRef(null);
  function submit(event) {
    if (event) event.preventDefault();
    if (chat.write(text)) setText("");
  }
  function picked(event) {
    for (const file of event.currentTarget.files || []) chat.sendFile(file);
    event.currentTarget.value = "";
  }
  return (
    <form class="composer" onSubmit={submit}>
      <textarea ref={input} value={text} rows={2} placeholder={t("widget.placeholder")} aria-label={t("widget.placeholder")}
        aria-invalid={over ? "true" : undefined} aria-describedby={over ? "cc-over" : undefined}
        onInput={(e) => { setText(e.currentTarget.value); chat.typing(); }}
        onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) submit(e); }} />
      <input ref={picker} type="file" class="picker" hidden accept={(state.limits.file_types || []).join(",")} onChange={picked} />
      <button type="button" class="attach" aria-label={t("widget.attach")} title={t("widget.attach")} onClick={() => picker.current && picker.current.click()}>📎</button>
      <button type="submit" class="send" disabled={!text.trim() || over}>{t("widget.send")}</button>
      {limit && length > limit * 0.9 ? (
        <p id="cc-over" class={over ? "count over" : "count"} role={over ? "alert" : undefined}>
          {over ? t("error.too_long", { limit }) : t("widget.chars_left", { count: limit - length })}
        </p>
      ) : null}
    </form>
  );
}

// Outside office hours: a message to be answered by email. The engine files it as an email contact
// with the promise; the address is where the answer goes, and the form says no more than that.
function LeaveForm({ chat, state, t }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [text, setText] = useState("");
  const first = useRef(null);
  useEffect(() => { if (first.current) first.current.focus(); }, []);
  const leave = state.leave;
  const sending = leave && leave.status === "sending";
  const failed = leave && leave.status === "failed" ? leave : null;
  const bad = (field) => (failed && failed.field === field ? "true" : undefined);
  function submit(event) {
    event.preventDefault();
    if (!sending && name.trim() && email.trim() && text.trim()) chat.leaveMessage({ name: name.trim(), email: email.trim(), text });
  }
  return (
    <form class="leave" aria-label={t("widget.leave.title")} onSubmit={submit}>
      <p class="leave-title">{t("widget.leave.title")}</p>
      <label>{t("widget.leave.name")}
        <input ref={first} name="name" autocomplete="name" required maxLength={120} value={name} aria-invalid={bad("name")}
          onInput={(e) => setName(e.currentTarget.value)} /></label>
      <label>{t("widget.leave.email")}
        <input name="email" type="email" autocomplete="email" required value={email} aria-invalid={bad("email")}
          onInput={(e) => setEmail(e.currentTarget.value)} /></label>
      <label>{t("widget.leave.text")}
        <textarea name="text" rows={4} required value={text} aria-invalid={bad("text")}
          onInput={(e) => setText(e.currentTarget.value)} /></label>
      {failed ? <p class="leave-error" role="alert">{t("widget.leave.failed", { reason: reasonOf(failed, t) })}</p> : null}
      <div class="leave-actions">
        <button type="submit" class="leave-send" disabled={sending}>{t(sending ? "widget.sending" : "widget.leave.send")}</button>
        <button type="button" class="leave-back" onClick={() => chat.showLeaveForm(false)}>{t("widget.leave.back")}</button>
      </div>
    </form>
  );
}

function Rating({ chat, rating, t }) {
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState("");
  if (rating.sent) return <p class="rating done" role="status">{t("widget.rating.thanks")}</p>;
  return (
    <form class="rating" aria-label={t("widget.rating.title")} onSubmit={(e) => { e.preventDefault(); if (score) chat.rate(score, comment); }}>
      <p class="rating-title">{t("widget.rating.title")}</p>
      <div class="stars" role="radiogroup" aria-label={t("widget.rating.title")}>
        {[1, 2, 3, 4, 5].map((n) => (
          <button key={n} type="button" role="radio" aria-checked={score === n ? "true" : "false"} class={n <= score ? "star on" : "star"}
            aria-label={t("widget.rating.score", { count: n })} onClick={() => setScore(n)}>★</button>
        ))}
      </div>
      <textarea class="rating-comment" rows={2} value={comment} placeholder={t("widget.rating.comment")} aria-label={t("widget.rating.comment")}
        onInput={(e) => setComment(e.currentTarget.value)} />
      <div class="rating-actions">
        <button type="submit" class="rate" disabled={!score}>{t("widget.rating.send")}</button>
        <button type="button" class="skip" onClick={() => chat.dismissRating()}>{t("widget.rating.skip")}</button>
      </div>
    </form>
  );
}

// Ending is asked once more, as it cannot be undone; closing the window with a chat open asks the same.
function EndChat({ chat, t, asking, setAsking }) {
  if (!asking) return <button type="button" class="end" onClick={() => setAsking(true)}>{t("widget.end")}</button>;
  return (
    <div class="confirm" role="alertdialog" aria-label={t("widget.end_confirm")}>
      <span>{t("widget.end_confirm")}</span>
      <button type="button" class="end-yes" onClick={() => { chat.leave(); chat.setOpen(false); setAsking(false); }}>{t("widget.end_yes")}</button>
      <button type="button" class="end-no" onClick={() => setAsking(false)}>{t("widget.end_no")}</button>
    </div>
  );
}

function Tabs({ chat, tab, t, callme, call }) {
  const tabs = [["chat", t("widget.tab.chat")]];
  if (call) tabs.push(["call", t("widget.tab.call")]);
  if (callme) tabs.push(["callme", t("widget.tab.callme")]);
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([name, label]) => (
        <button key={name} type="button" role="tab" id={`cc-tab-${name}`} aria-selected={tab === name ? "true" : "false"}
          class={tab === name ? "tab on" : "tab"} onClick={() => chat.setTab(name)}>{label}</button>
      ))}
    </div>
  );
}

export function Widget({ chat, callme, call, t }) {
  const state = useChat(chat);
  const [asking, setAsking] = useState(false);
  if (!state.open) {
    return (
      <button type="button" class="launcher" onClick={() => chat.setOpen(true)}>
        {t("widget.open")}
        {state.unread ? <span class="badge" aria-label={t("widget.unread", { count: state.unread })}>{state.unread}</span> : null}
      </button>
    );
  }
  const tab = (callme && state.tab === "callme") || (call && state.tab === "call") ? state.tab : "chat";
  const close = () => (state.contact && tab === "chat" ? setAsking(true) : chat.setOpen(false));
  return (
    <section class="panel" role="dialog" aria-label={t("widget.title")} lang={t.language}>
      <header>
        <h2>{t("widget.title")}</h2>
        <button type="button" class="minimise" aria-label={t("widget.minimise")} title={t("widget.minimise")} onClick={() => chat.setOpen(false)}>–</button>
        <button type="button" class="close" aria-label={t("widget.close")} title={t("widget.close")} onClick={close}>×</button>
      </header>
      {callme || call ? <Tabs chat={chat} tab={tab} t={t} callme={callme} call={call} /> : null}
      {tab === "callme" ? (
        <div class="tabpanel" role="tabpanel" aria-labelledby="cc-tab-callme"><CallMeView callme={callme} t={t} /></div>
      ) : tab === "call" ? (
        <div class="tabpanel" role="tabpanel" aria-labelledby="cc-tab-call"><CallView call={call} chat={chat} callme={!!callme} t={t} /></div>
      ) : (
        <>
          {state.contact ? <EndChat chat={chat} t={t} asking={asking} setAsking={setAsking} /> : null}
          <Log chat={chat} state={state} t={t} />
          {state.rating ? <Rating key={state.rating.contactId} chat={chat} rating={state.rating} t={t} /> : null}
          {state.leaveForm ? <LeaveForm chat={chat} state={state} t={t} /> : <Composer chat={chat} state={state} t={t} />}
        </>
      )}
    </section>
  );
}

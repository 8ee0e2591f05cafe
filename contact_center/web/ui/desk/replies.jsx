// Pre-written replies beside the reply box: three suggested for the customer's latest message, and
// what "/code" (or "::code") finds as the agent types. A pick goes into the draft with the customer's
// details filled; what only the agent knows stays as [[...]], and the desk asks for it before sending.

import { size } from "./mail.jsx";

const SLOT = /\[\[([^\[\]]+)\]\]/g;

/** The placeholders still in a draft, each once. */
export function unfilled(text) {
  return [...new Set([...text.matchAll(SLOT)].map((m) => m[1].trim()))];
}

/** What the agent is typing is a search of the library: "/card" or "::card". */
export function replyQuery(text) {
  const m = /^(?:\/|::)(\S*)$/.exec(text.trim());
  return m ? m[1] : null;
}

function Pick({ reply, onPick, t }) {
  return (
    <li>
      <button type="button" class="pick" onClick={() => onPick(reply)} title={reply.text}>
        <span class="pick-title">{reply.title}</span>
        <span class="pick-code">{`/${reply.code}`}</span>
        <span class="pick-text">{reply.text.length > 90 ? `${reply.text.slice(0, 89)}…` : reply.text}</span>
      </button>
    </li>
  );
}

export function Suggestions({ replies, onPick, t }) {
  if (!replies || !replies.length) return null;
  return (
    <section id="suggestions" class="suggestions" aria-label={t("desk.replies.suggested")}>
      <h3>{t("desk.replies.suggested")}</h3>
      <ol>{replies.map((r) => <Pick key={r.id} reply={r} onPick={onPick} t={t} />)}</ol>
    </section>
  );
}

export function Found({ found, onPick, t }) {
  return (
    <section id="replies-found" class="suggestions found" aria-label={t("desk.replies.found")}>
      <h3>{t("desk.replies.found")}</h3>
      {found.replies.length ? <ol>{found.replies.map((r) => <Pick key={r.id} reply={r} onPick={onPick} t={t} />)}</ol>
        : <p>{t("desk.replies.none", { query: found.query })}</p>}
    </section>
  );
}

/** The files the picked replies bring, sent with the reply; each may be taken off before it goes. */
export function ReplyFiles({ files, onRemove, t }) {
  if (!files.length) return null;
  return (
    <ul id="reply-files" class="reply-files" aria-label={t("desk.replies.files")}>
      {files.map((f) => (
        <li key={f.name}>
          <span class="reply-file">{`📎 ${f.name} · ${size(f.size, t)}`}</span>
          <button type="button" class="remove-file" aria-label={t("desk.replies.remove_file", { name: f.name })} onClick={() => onRemove(f.name)}>×</button>
        </li>
      ))}
    </ul>
  );
}

export function ToFill({ names, asked, t }) {
  if (!names.length) return null;
  return <p id="to-fill" class={asked ? "to-fill asked" : "to-fill"} role={asked ? "alert" : "status"}>{t("desk.replies.fill", { names: names.join(", ") })}</p>;
}

/** The draft again, under the reply box, with what the checks found underlined (the box itself cannot mark). */
export function Underlined({ checked, text, email, box }) {
  const parts = [];
  let at = 0;
  for (const f of checked.findings) {
    if (f.start < at || f.end <= f.start) continue;  // overlapping: the first is marked
    parts.push(text.slice(at, f.start), <mark key={f.start} class={f.rule === "spelling" ? "misspelt" : "finding"}>{text.slice(f.start, f.end)}</mark>);
    at = f.end;
  }
  parts.push(`${text.slice(at)}\u200b`);  // a final newline keeps its line
  return <div ref={box} class={email ? "draft-marks email" : "draft-marks"} aria-hidden="true">{parts}</div>;
}

function what(f, t) {
  return f.message || t(`desk.check.${f.rule}`, {}, f.rule.startsWith("languagetool:") ? t("desk.check.grammar") : f.rule);
}

/** What the checks found in the draft (as it was when checked): each with its fix, a click away. */
export function Findings({ checked, text, onFix, onKeep, t }) {
  if (!checked || checked.text !== text || !checked.findings.length) return null;
  return (
    <section id="findings" class="findings" aria-label={t("desk.check.title")}>
      <h3>{t("desk.check.title")}</h3>
      <ul>
        {checked.findings.map((f) => (
          <li key={`${f.start}:${f.rule}`}>
            <span class="finding-what"><mark>{text.slice(f.start, f.end) || " "}</mark>{` · ${what(f, t)}`}</span>
            {f.fixes.slice(0, f.rule === "spelling" ? 3 : 1).map((fix) => (
              <button type="button" class="fix" key={fix} onClick={() => onFix(f, fix)}>{t("desk.check.fix", { fix: fix.trim() || "␣" })}</button>
            ))}
            {f.rule === "spelling" && f.word ? (
              <button type="button" class="keep-word" onClick={() => onKeep(f.word)}>{t("desk.check.add_word", { word: f.word })}</button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

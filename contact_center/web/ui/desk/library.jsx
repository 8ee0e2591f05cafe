// The reply library's editor: supervisors change the team's replies, every agent keeps personal ones.
// A reply is edited as its file (the documented format); the engine checks it whole and says each
// problem with its line, refuses a save made from an old version, and keeps every version.
import { useEffect, useState } from "preact/hooks";

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function skeleton(owner) {
  return [
    'title = ""',
    'code = ""',
    "tags = []",
    "skills = []",
    "examples = []",
    "attachments = []",
    ...(owner ? [`owner = "${owner}"`] : []),
    "",
    "[body]",
    "en = '''",
    "Hello {{customer_name|there}},",
    "'''",
    "id = '''",
    "Halo {{customer_name|Bapak/Ibu}},",
    "'''",
    "",
  ].join("\n");
}

function When({ at, t }) {
  return <time dateTime={new Date(at * 1000).toISOString()}>{new Date(at * 1000).toLocaleString(t.language)}</time>;
}

function Problems({ error, t }) {
  if (!error) return null;
  const problems = error.problems || [];
  return (
    <div id="library-error" class="error" role="alert">
      <p>{t(`desk.library.error.${error.code}`, {}, error.message)}</p>
      {problems.length ? <ul>{problems.map((p) => <li key={`${p.line}:${p.message}`}>{t("desk.library.line", { line: p.line })} {p.message}</li>)}</ul> : null}
    </div>
  );
}

function Editor({ desk, state, t }) {
  const edited = state.replySource;
  const [text, setText] = useState(edited.source);
  const [id, setId] = useState(edited.reply_id);
  useEffect(() => { setText(edited.source); setId(edited.reply_id); }, [edited.reply_id, edited.version, edited.source]);
  const fresh = edited.version === 0;
  const saved = state.replySaved && state.replySaved.reply_id === edited.reply_id && !state.replySaved.deleted;
  return (
    <section class="reply-editor" aria-labelledby="reply-editor-title">
      <h3 id="reply-editor-title">{fresh ? t("desk.library.new") : t("desk.library.editing", { id: edited.reply_id, version: edited.version })}</h3>
      {fresh ? (
        <label>{t("desk.library.id")} <input id="reply-id" value={id} pattern="[a-z0-9][a-z0-9-]*" onInput={(e) => setId(e.currentTarget.value)} /></label>
      ) : null}
      <label for="reply-source">{t("desk.library.source")}</label>
      <textarea id="reply-source" spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <div class="editor-actions">
        <button type="button" id="reply-save" disabled={!ID.test(id)} onClick={() => desk.saveReply(id, text, edited.version)}>{t("desk.library.save")}</button>
        {!fresh ? <button type="button" id="reply-delete" onClick={() => desk.deleteReply(edited.reply_id, edited.version)}>{t("desk.library.delete")}</button> : null}
        {saved ? <span id="reply-saved" role="status">{t("desk.library.saved", { version: state.replySaved.version })}</span> : null}
      </div>
      <Problems error={state.libraryError} t={t} />
      {edited.history.length ? (
        <section class="reply-history" aria-label={t("desk.library.history")}>
          <h4>{t("desk.library.history")}</h4>
          <ol reversed>{edited.history.slice().reverse().map((v) => (
            <li key={v.n}>{t(v.deleted ? "desk.library.version_deleted" : "desk.library.version", { n: v.n, author: v.author === "files" ? t("desk.library.files") : v.author })} <When at={v.at} t={t} /></li>
          ))}</ol>
        </section>
      ) : null}
    </section>
  );
}

export function Library({ desk, state, t }) {
  const library = state.library;
  const owner = library ? library.owner : "";
  return (
    <main id="library" class="conversation library" aria-label={t("desk.library.title")}>
      <header class="library-top">
        <h2>{t("desk.library.title")}</h2>
        <button type="button" id="library-close" onClick={() => desk.openLibrary(false)}>{t("desk.library.close")}</button>
      </header>
      <div class="library-body">
        <nav aria-label={t("desk.library.list")}>
          <ul id="library-list">
            {(library ? library.replies : []).map((r) => (
              <li key={r.id}>
                <button type="button" class="library-reply" aria-current={state.replySource && state.replySource.reply_id === r.id ? "true" : undefined}
                  onClick={() => desk.loadReply(r.id)}>
                  <span>{r.title}</span> <code>{`/${r.code}`}</code>{r.personal ? <em>{` · ${t("desk.library.personal")}`}</em> : null}
                </button>
              </li>
            ))}
          </ul>
          {library && library.team ? <button type="button" id="library-new" onClick={() => desk.newReply("", skeleton(""))}>{t("desk.library.new_team")}</button> : null}
          <button type="button" id="library-new-personal" onClick={() => desk.newReply("", skeleton(owner))}>{t("desk.library.new_personal")}</button>
        </nav>
        {state.replySource ? <Editor desk={desk} state={state} t={t} /> : <Problems error={state.libraryError} t={t} />}
      </div>
    </main>
  );
}

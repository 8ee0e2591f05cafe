// The reply library's editor: supervisors change the team's replies, every agent keeps personal ones.
// A reply is edited as its file (the documented format); the engine checks it whole and says each
// problem with its line, refuses a save made from an old version, and keeps every version.
import { useEffect, useState } from "preact/hooks";
import { saveAs, size } from "./mail.jsx";

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
      <p>{t(`desk.library.error.${error.code}`, error, error.message)}</p>
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

/** The library's files, which replies name (``attachments``); supervisors add and remove them. */
function Files({ desk, team, t }) {
  const [files, setFiles] = useState(null);
  const [error, setError] = useState(null);
  const auth = { Authorization: `Bearer ${desk.token}` };
  async function call(method, name, body, type) {
    const headers = type ? { ...auth, "Content-Type": type } : auth;
    const answer = await fetch(`/api/replies/files${name ? `/${encodeURIComponent(name)}` : ""}`, { method, headers, body });
    const found = await answer.json();
    if (!answer.ok) throw found;
    return found;
  }
  async function refresh() {
    try { setFiles((await call("GET")).files); } catch (e) { setError(e); }
  }
  useEffect(() => { refresh(); }, []);
  async function change(work) {
    setError(null);
    try { await work(); } catch (e) { setError(e.error ? { ...e, code: e.error } : { code: "upload_failed" }); }
    refresh();
  }
  function upload(event) {
    const chosen = [...(event.currentTarget.files || [])];
    event.currentTarget.value = "";
    change(async () => { for (const f of chosen) await call("PUT", f.name, f, f.type || "application/octet-stream"); });
  }
  return (
    <section id="library-files" class="library-files" aria-labelledby="library-files-title">
      <h3 id="library-files-title">{t("desk.library.attachments")}</h3>
      <ul>
        {(files || []).map((f) => (
          <li key={f.name}>
            <button type="button" class="library-file" onClick={() => saveAs(`/api/replies/files/${encodeURIComponent(f.name)}`, f.name, desk.token, setError)}>
              {`📎 ${f.name} · ${size(f.size, t)}`}
            </button>
            {team ? <button type="button" class="remove-file" aria-label={t("desk.library.remove_file", { name: f.name })} onClick={() => change(() => call("DELETE", f.name))}>×</button> : null}
          </li>
        ))}
      </ul>
      {files && !files.length ? <p>{t("desk.library.no_files")}</p> : null}
      {team ? <label class="add-file">{t("desk.library.add_file")} <input id="library-file-input" type="file" onChange={upload} /></label> : null}
      {error && error.problem ? <p id="library-files-error" class="error" role="alert">{t(`error.${error.problem}`, { limit: error.limit ?? "" })}</p>
        : <Problems error={error} t={t} />}
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
          <Files desk={desk} team={Boolean(library && library.team)} t={t} />
        </nav>
        {state.replySource ? <Editor desk={desk} state={state} t={t} /> : <Problems error={state.libraryError} t={t} />}
      </div>
    </main>
  );
}

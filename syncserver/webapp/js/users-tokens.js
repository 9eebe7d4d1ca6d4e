// Tokens on the Users screen. `Issue token` (POST /api/users/{id}/tokens, with an
// optional lifetime in days) shows the new token once, in its dialog, with `Copy`;
// the page keeps only its id. `Tokens of` lists a user's tokens (GET
// /api/users/{id}/tokens: ids and times, never a secret); `Revoke token` (DELETE
// /api/tokens/{id}) works on those, on the tokens issued on this page, and on any
// token by its `Token id`.
import { html, useEffect, useRef, useState } from "./html.js";
import { api } from "./api.js";
import { stamp } from "./format.js";
import { Modal, DialogButtons } from "./users-dialog.js";

const MAX_DAYS = 3650; // the server's limit: ten years (wire.TokenCreate)
const DAY_S = 86400;

/** props: session, user, opener, onIssued({id, expires_at, user}), onClose(). */
export function IssueTokenDialog({ session, user, opener, onIssued, onClose }) {
  const [days, setDays] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [issued, setIssued] = useState(null); // {id, token, expires_at}: shown this once
  const [copied, setCopied] = useState("");
  const copyButton = useRef(null);
  useEffect(() => {
    if (issued) copyButton.current?.focus(); // the dialog stays open: focus moves to `Copy`
  }, [issued]);
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    const text = days.trim();
    const n = Number(text);
    if (text && (!/^\d+$/.test(text) || n < 1 || n > MAX_DAYS)) {
      setError(`Days must be a whole number from 1 to ${MAX_DAYS}, or empty for no expiry.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = text ? { ttl_s: n * DAY_S } : {};
      const answer = await api(session, `/api/users/${encodeURIComponent(user.id)}/tokens`, { method: "POST", body });
      setIssued(answer);
      onIssued({ id: answer.id, expires_at: answer.expires_at, user });
    } catch (caught) {
      setError(`No token issued: ${caught.message}`);
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied("Copied");
    } catch (caught) {
      setCopied(`Could not copy (${caught.message}): select the token and copy it yourself.`);
    }
  };
  if (!issued) {
    return html`<${Modal} id="issue-token" title=${`Issue a token for ${user.name}`} opener=${opener}
        fallback="users-title" busy=${busy} onClose=${onClose}>
      <form onSubmit=${submit}>
        <label for="token-days">Valid for (days)</label>
        <input id="token-days" type="text" inputmode="numeric" autocomplete="off" value=${days}
          aria-describedby="token-days-hint" onInput=${(e) => setDays(e.currentTarget.value)}
          style="max-width: 10rem;" />
        <p id="token-days-hint" class="hint">Optional: leave it empty for a token that does not expire.</p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <${DialogButtons} submit=${busy ? "Issuing…" : "Issue token"} busy=${busy} onCancel=${onClose} />
      </form>
    <//>`;
  }
  return html`<${Modal} id="issue-token" title=${`New token for ${user.name}`} opener=${opener}
      fallback="users-title" onClose=${onClose}>
    <p id="new-token-note"><strong>This token will not be shown again.</strong> Copy it now and give it to
      ${" "}${user.name}; they sign in with it.</p>
    <label for="new-token">New token</label>
    <input id="new-token" type="text" readonly value=${issued.token} aria-describedby="new-token-note"
      onFocus=${(e) => e.currentTarget.select()} style="font-family: ui-monospace, monospace;" />
    <div class="row">
      <button type="button" ref=${copyButton} onClick=${copy}>Copy</button>
      <span aria-live="polite">${copied}</span>
    </div>
    <dl class="facts">
      <dt>Token id</dt><dd><code>${issued.id}</code></dd>
      <dt>Expires</dt><dd>${issued.expires_at ? stamp(issued.expires_at) : "Never"}</dd>
    </dl>
    <${DialogButtons} cancel="Done" onCancel=${onClose} />
  <//>`;
}

/** DELETE /api/tokens/{id}: resolves, or rejects with the server's error. */
const revoke = (session, tokenId) => api(session, `/api/tokens/${encodeURIComponent(tokenId)}`, { method: "DELETE" });

/** A chosen user's tokens from the server, with a `Revoke token` button each.
 * props: session, users, revision (reload when it changes), run(id, key). */
function TokensOf({ session, users, revision, run, busy, errors }) {
  const [userId, setUserId] = useState("");
  const [tokens, setTokens] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    if (!userId) {
      setTokens(null);
      return undefined;
    }
    let alive = true;
    api(session, `/api/users/${encodeURIComponent(userId)}/tokens`).then(
      (answer) => alive && (setTokens(answer.items), setProblem(null)),
      (caught) => alive && setProblem(`Could not list the tokens: ${caught.message}`),
    );
    return () => {
      alive = false;
    };
  }, [userId, revision]);
  return html`<div>
    <label for="tokens-of">Tokens of</label>
    <select id="tokens-of" value=${userId} onChange=${(e) => setUserId(e.currentTarget.value)}>
      <option value="">Choose a user</option>
      ${users.map((u) => html`<option value=${u.id}>${u.name} (${u.email})</option>`)}
    </select>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    ${tokens && tokens.length === 0 && html`<p class="hint">This user has no tokens.</p>`}
    ${tokens && tokens.length > 0 &&
    html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tokens of the user, scrolls sideways">
      <table aria-label="Tokens of the user">
        <thead><tr><th scope="col">Token id</th><th scope="col">Issued</th><th scope="col">Expires</th>
          <th scope="col">State</th></tr></thead>
        <tbody>${tokens.map(
          (t) => html`<tr key=${t.id}>
            <td><code id=${`listed-${t.id}`}>${t.id}</code></td><td>${stamp(t.created_at)}</td>
            <td>${t.expires_at ? stamp(t.expires_at) : "Never"}</td>
            <td>${t.revoked_at
              ? `Revoked ${stamp(t.revoked_at)}`
              : html`<button type="button" aria-disabled=${busy !== null ? "true" : undefined}
                  aria-describedby=${`listed-${t.id}`} onClick=${() => run(t.id, t.id)}>Revoke token</button>`}
              ${errors[t.id] && html`<p class="error" role="alert">${errors[t.id]}</p>`}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>`}
  </div>`;
}

/** props: session, users, issued ([{id, expires_at, user, revoked}]), onRevoked(id). */
export function Tokens({ session, users = [], issued, onRevoked }) {
  const [revision, setRevision] = useState(0); // a revoke or an issue reloads the listed tokens
  const [tokenId, setTokenId] = useState("");
  const [busy, setBusy] = useState(null); // the id being revoked
  const [errors, setErrors] = useState({}); // by token id; "" for the `Token id` form
  const [done, setDone] = useState("");
  const run = async (id, key) => {
    if (busy !== null) return false;
    setBusy(id);
    setErrors((old) => ({ ...old, [key]: null }));
    setDone("");
    try {
      await revoke(session, id);
      onRevoked(id);
      setRevision((n) => n + 1);
      setDone(`Token ${id} revoked.`);
      return true;
    } catch (caught) {
      const message = caught.status === 404 ? `No token has the id ${id}.` : `Not revoked: ${caught.message}`;
      setErrors((old) => ({ ...old, [key]: message }));
      return false;
    } finally {
      setBusy(null);
    }
  };
  const byId = async (event) => {
    event.preventDefault();
    const id = tokenId.trim();
    if (!id) {
      setErrors((old) => ({ ...old, "": "Enter the id of the token to revoke." }));
      return;
    }
    if (await run(id, "")) setTokenId("");
  };
  return html`<section class="card" aria-labelledby="tokens-title">
    <h2 id="tokens-title" tabindex="-1">Tokens</h2>
    <${TokensOf} session=${session} users=${users} revision=${revision + issued.length} run=${run} busy=${busy}
      errors=${errors} />
    ${issued.length > 0 &&
    html`<div class="table-wrap"><table aria-label="Tokens issued here">
      <thead><tr><th scope="col">User</th><th scope="col">Token id</th><th scope="col">Expires</th>
        <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
        ${issued.map(
          (t) => html`<tr key=${t.id}>
            <td>${t.user.name}</td><td><code id=${`token-${t.id}`}>${t.id}</code></td>
            <td>${t.expires_at ? stamp(t.expires_at) : "Never"}</td>
            <td>
              ${t.revoked
                ? "Revoked"
                : html`<button type="button" aria-disabled=${busy !== null ? "true" : undefined} aria-describedby=${`token-${t.id}`}
                    onClick=${async () => {
                      // The button goes with the token: the section's heading keeps the focus.
                      if (await run(t.id, t.id)) document.getElementById("tokens-title")?.focus();
                    }}>Revoke token</button>`}
              ${errors[t.id] && html`<p class="error" role="alert">${errors[t.id]}</p>`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table></div>`}
    <form onSubmit=${byId} aria-label="Revoke a token by id">
      <label for="revoke-id">Token id</label>
      <div class="row" style="flex-wrap: nowrap;">
        <input id="revoke-id" type="text" autocomplete="off" spellcheck="false" value=${tokenId}
          aria-describedby=${errors[""] ? "revoke-id-error" : undefined} onInput=${(e) => setTokenId(e.currentTarget.value)} />
        <button type="submit" aria-disabled=${busy !== null ? "true" : undefined} style="white-space: nowrap;">Revoke token</button>
      </div>
      ${errors[""] && html`<p id="revoke-id-error" class="error" role="alert">${errors[""]}</p>`}
    </form>
    <p class="hint" aria-live="polite">${done}</p>
  </section>`;
}

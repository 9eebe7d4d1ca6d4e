// Sign-in (docs/protocol.md, "Web app, SDK module and docs"): a field `Token` and a button `Sign in`.
import { html, useState } from "./html.js";
import { SignInError, signIn } from "./session.js";

export function SignIn({ onSignedIn, reason }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(reason ?? null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await signIn(token));
    } catch (caught) {
      setError(caught instanceof SignInError ? caught.message : String(caught));
      setBusy(false);
    }
  };
  return html`<main>
    <form class="signin" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to Fieldsync</h1>
      <p class="hint">Use the token your administrator gave you.</p>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required
        value=${token} onInput=${(e) => setToken(e.currentTarget.value)}
        aria-describedby=${error ? "signin-error" : undefined} />
      ${error && html`<p id="signin-error" class="error" role="alert">${error}</p>`}
      <div class="row"><button class="primary" type="submit" disabled=${busy}>Sign in</button></div>
    </form>
  </main>`;
}

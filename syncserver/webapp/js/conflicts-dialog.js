// The confirmation of a resolve action: a modal <dialog> (showModal, so focus
// moves into it and Escape cancels) saying what the action writes, with
// `Confirm` and `Cancel`. `Set value` asks for the `Value`, read as JSON when it
// parses and as plain text otherwise.
import { html, useEffect, useRef, useState } from "./html.js";
import { shownValue } from "./format.js";

export const ACTIONS = {
  keep_winner: { label: "Keep winner", title: "Keep the winner's value" },
  apply_loser: { label: "Apply loser", title: "Apply the loser's value" },
  set: { label: "Set value", title: "Set a value" },
};

/** The `Value` textbox's text as the value to send: JSON if it parses, else the text. */
export function parseValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const JSON_EXAMPLES = ["42", "true", "null", '"quoted text"', '{"a": 1}'];

/** A value as the `Value` textbox starts with it (what parseValue reads back). */
const editable = (value) => (typeof value === "string" && parseValue(value) === value ? value : JSON.stringify(value ?? null));

/** A value within a sentence: in quotes, or "no value". */
const said = (value) => (value === null || value === undefined || value === "" ? "no value" : `“${shownValue(value)}”`);

function What({ notice, action }) {
  const subject = html`<strong>${notice.field}</strong> of ${notice.entity} <code>${notice.entity_id}</code>`;
  if (action === "keep_winner") {
    return html`<p>Keep ${said(notice.winner.value)} for ${subject}. The notice is closed;
      nothing is written to the ${notice.entity}.</p>`;
  }
  if (action === "apply_loser") {
    return html`<p>Write ${said(notice.loser.value)} (from device ${notice.loser.device_id}) to ${subject},
      replacing ${said(notice.winner.value)}. Every device gets it on its next sync.</p>`;
  }
  return html`<p>Write a value of your own to ${subject}, replacing ${said(notice.winner.value)}.
    Every device gets it on its next sync.</p>`;
}

/** props: notice, action, busy, error, onConfirm(value?), onCancel(). (Where the
 * focus goes when it closes is the caller's to say.) */
export function ResolveDialog({ notice, action, busy, error, onConfirm, onCancel }) {
  const dialog = useRef(null);
  const [text, setText] = useState(() => editable(notice.winner.value));
  useEffect(() => {
    const element = dialog.current;
    element.showModal();
    return () => element.open && element.close();
  }, []);
  const titleId = "resolve-title";
  const confirm = (event) => {
    event.preventDefault();
    if (!busy) onConfirm(action === "set" ? parseValue(text) : undefined);
  };
  return html`<dialog ref=${dialog} aria-labelledby=${titleId} aria-describedby="resolve-what"
      onCancel=${(event) => { event.preventDefault(); if (!busy) onCancel(); }}
      style="max-width: min(34rem, calc(100vw - 2rem)); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem;">
    <form method="dialog" onSubmit=${confirm}>
      <h2 id=${titleId} style="margin-top: 0;">${ACTIONS[action].title}</h2>
      <div id="resolve-what"><${What} notice=${notice} action=${action} /></div>
      ${action === "set" &&
      html`<label for="resolve-value">Value</label>
        <input id="resolve-value" type="text" value=${text} autofocus aria-describedby="resolve-value-hint"
          onInput=${(e) => setText(e.currentTarget.value)} />
        <p id="resolve-value-hint" class="hint">
          Read as JSON if it parses (${JSON_EXAMPLES.map((x, i) => html`${i ? ", " : ""}<code>${x}</code>`)});
          anything else is sent as the text itself.</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="row" style="justify-content: flex-end;">
        <button type="button" onClick=${onCancel} disabled=${busy}>Cancel</button>
        <button type="submit" class="primary" disabled=${busy} autofocus=${action !== "set"}>
          ${busy ? "Resolving…" : "Confirm"}</button>
      </div>
    </form>
  </dialog>`;
}

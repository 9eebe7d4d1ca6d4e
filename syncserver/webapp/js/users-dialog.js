// A modal <dialog> for the Users screen: opened with showModal() when it mounts
// (focus moves in, the page behind is inert, Escape cancels), closed when it
// unmounts, focus then going back to the element that opened it (or, if that is
// gone, to the element with id `fallback`).
import { html, useEffect, useRef } from "./html.js";

/** props: id (the dialog's title gets `${id}-title`), title, opener, fallback,
 * busy (Escape does nothing while set), onClose(), children. */
export function Modal({ id, title, opener, fallback, busy = false, onClose, children }) {
  const dialog = useRef(null);
  const blocked = useRef(busy);
  blocked.current = busy;
  const unmounted = useRef(false);
  useEffect(() => {
    const element = dialog.current;
    element.showModal();
    return () => {
      unmounted.current = true;
      if (element.open) element.close();
      const back = opener?.isConnected ? opener : document.getElementById(fallback);
      back?.focus();
    };
  }, []);
  const cancel = (event) => {
    event.preventDefault(); // the component closes it, by unmounting
    if (!blocked.current) onClose();
  };
  // Chromium may close it anyway (a second Escape in a row): then the component follows.
  const closed = () => unmounted.current || onClose();
  return html`<dialog ref=${dialog} id=${id} class="dialog" aria-labelledby=${`${id}-title`} onCancel=${cancel}
      onClose=${closed}
      style="max-width: min(34rem, calc(100vw - 2rem));">
    <h2 id=${`${id}-title`} style="margin-top: 0;">${title}</h2>
    ${children}
  </dialog>`;
}

/** `Cancel` (or another label) and the dialog's submit button, at its foot. While
 * busy they are aria-disabled, not disabled: a disabled button would drop the focus
 * (the form's submit handler ignores a second press). */
export function DialogButtons({ submit, busy = false, onCancel, cancel = "Cancel", danger = false }) {
  return html`<div class="row" style="justify-content: flex-end;">
    <button type="button" onClick=${() => busy || onCancel()} aria-disabled=${busy ? "true" : undefined}>${cancel}</button>
    ${submit && html`<button type="submit" class="primary" aria-disabled=${busy ? "true" : undefined}
      style=${danger ? "background: var(--bad); border-color: var(--bad);" : undefined}>${submit}</button>`}
  </div>`;
}

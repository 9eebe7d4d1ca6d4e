// The parts of a job page that show what the device holds: customer and
// contacts, location, notes, photos.
import { html, useEffect, useState } from "./html.js";
import { addressLine, stamp } from "./format.js";

function Reach({ phone, email }) {
  return html`${phone && html`<div><a href=${`tel:${phone.replace(/[^+\d]/g, "")}`}>${phone}</a></div>`}
    ${email && html`<div><a href=${`mailto:${email}`}>${email}</a></div>`}`;
}

export function CustomerCard({ customer, contacts }) {
  if (!customer) return html`<section class="card"><h2>Customer</h2><p class="hint">Not on this device yet.</p></section>`;
  return html`<section class="card" aria-labelledby="customer-title">
    <h2 id="customer-title">Customer</h2>
    <p><strong>${customer.name}</strong> <span class="hint">(${customer.type})</span></p>
    <${Reach} phone=${customer.phone} email=${customer.email} />
    ${contacts.length > 0 && html`<h3>Contacts</h3>
      <ul class="notes" aria-label="Contacts">
        ${contacts.map(
          (c) => html`<li key=${c.id}><strong>${c.name}</strong>${c.role && html` · ${c.role}`}
            <${Reach} phone=${c.phone} email=${c.email} /></li>`,
        )}
      </ul>`}
  </section>`;
}

/** A geo: URI (RFC 5870): the device's maps app opens at the coordinates, or
 * searches for the address when there are none. */
export function mapsHref(location) {
  if (location.lat != null && location.lng != null) {
    return `geo:${location.lat},${location.lng}?q=${location.lat},${location.lng}`;
  }
  return `geo:0,0?q=${encodeURIComponent(addressLine(location))}`;
}

export function LocationCard({ location }) {
  if (!location) return null;
  return html`<section class="card" aria-labelledby="location-title">
    <h2 id="location-title">Location</h2>
    ${location.label && html`<p><strong>${location.label}</strong></p>`}
    <p>${addressLine(location)}</p>
    ${location.service_area && html`<p class="hint">Service area ${location.service_area}</p>`}
    <p><a href=${mapsHref(location)}>Open in maps</a></p>
  </section>`;
}

export function NotesCard({ notes, me, children }) {
  // Not a named region: "Notes" would also answer to the label `Note` of the form.
  return html`<section class="card">
    <h2>Notes</h2>
    ${notes.length === 0 && html`<p class="hint">No notes yet.</p>`}
    <ul class="notes" id="notes">
      ${notes.map(
        (note) => html`<li key=${note.id}>
          <div>${note.body}</div>
          <div class="when">
            ${note.author_id === me.id || !note.author_id ? "You" : "Office"}
            ${note.created_at ? ` · ${stamp(note.created_at)}` : ""}
            ${note.pending ? " · waiting to sync" : ""}
          </div>
        </li>`,
      )}
    </ul>
    ${children}
  </section>`;
}

/** A photo's picture: its local bytes while queued, the server's thumbnail once
 * there is one (fetched with the token: its URL is short-lived). */
function Thumbnail({ device, session, photo }) {
  const [src, setSrc] = useState(null);
  const [full, setFull] = useState(null); // the signed URL of the whole photo
  useEffect(() => {
    let url = null;
    let alive = true;
    (async () => {
      if (photo.status === "queued") {
        const blob = await device.queuedPhotoBlob(photo.id);
        if (blob && alive) setSrc((url = URL.createObjectURL(blob)));
        return;
      }
      if (photo.version == null || photo.pending) return; // the server does not have it yet
      try {
        const r = await fetch(`/api/photos/${encodeURIComponent(photo.id)}`, {
          headers: { Authorization: `Bearer ${session.token}` },
        });
        const served = r.ok ? await r.json() : null;
        if (alive) {
          setSrc(served?.thumbnail_url ?? null);
          setFull(served?.status === "available" ? served.url : null);
        }
      } catch {
        // offline: the picture shows once online
      }
    })();
    return () => {
      alive = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [photo.id, photo.status, photo.version, photo.pending]);
  const label = photo.caption || `Photo ${photo.taken_at ? stamp(photo.taken_at) : ""}`.trim();
  if (!src) return html`<div class="no-thumb" role="img" aria-label=${label}>${photo.status === "available" ? "Picture shown when online" : "Being processed"}</div>`;
  const img = html`<img src=${src} alt=${label} />`;
  return full ? html`<a href=${full} target="_blank" rel="noopener">${img}<span class="visually-hidden"> (full image)</span></a>` : img;
}

const PHOTO_STATES = { queued: "Waiting to upload", pending: "Uploaded, being checked", available: "" };

export function PhotosCard({ device, session, photos, children }) {
  return html`<section class="card" aria-labelledby="photos-title">
    <h2 id="photos-title">Photos</h2>
    ${photos.length === 0 && html`<p class="hint">No photos yet.</p>`}
    <ul class="photos" aria-label="Photos">
      ${photos.map(
        (photo) => html`<li key=${photo.id}><figure>
          <${Thumbnail} device=${device} session=${session} photo=${photo} />
          <figcaption>${photo.caption ?? ""} ${PHOTO_STATES[photo.status] ?? photo.status}</figcaption>
        </figure></li>`,
      )}
    </ul>
    ${children}
  </section>`;
}

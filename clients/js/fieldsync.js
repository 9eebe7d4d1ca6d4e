// Fieldsync browser SDK: an offline-first device in one ES module, no dependencies.
//
//   import { Device } from "/sdk/fieldsync.js";
//   const d = await Device.open({ url: location.origin, token, deviceId: "tab-042" });
//   await d.update("job", jobId, { status: "in_progress" }); // durable once resolved
//   d.live();                                               // sync whenever possible
//
// The contract is docs/sdk.md; the behaviour both SDKs share (ops, the
// clock, retries, photos, notices) is docs/sdk.md. The Python SDK in
// clients/device.py does the same things with SQLite; keep them in step.
//
// Everything the device knows lives in one IndexedDB database, so a reload, a
// crash or a closed laptop loses nothing that a call resolved. Several tabs of
// one origin may open the same device: IndexedDB serialises their writes, a Web
// Lock lets one sync run at a time, and a BroadcastChannel tells the other tabs
// that something changed.
//
// It needs a secure context (https, or http on localhost) for Web Locks and
// crypto.subtle.

const DB_VERSION = 2; // 2: the `applied` store
const PUSH_BATCH = 1000; // the most ops one push may carry (docs/protocol.md, "Push")
const PUSH_BYTES = 4 * 1024 * 1024; // below the server's default body limit of 5 MiB
const PULL_PAGE = 1000;
const REQUEST_TIMEOUT_MS = 30_000;
const BACKOFF_FIRST_MS = 250; // retries: 0.25 s doubling up to 10 s, full jitter
const BACKOFF_MAX_MS = 10_000;
const RECONNECT_MAX_MS = 30_000; // the live socket's reconnects back off further
const POLL_EVERY_MS = 60_000; // live(): a sync this often while online, pokes or not
const WRITE_DELAY_MS = 250; // live(): a write is pushed this soon
const MAX_CLOCK_AHEAD = 3; // re-stamps per push before giving up (a clock that keeps jumping)
const MAX_UPLOAD_TICKETS = 3; // upload URLs asked for one photo in one sync
const LOCK_WAIT_MS = 60_000; // the default of Device.lockWaitMs
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic"];
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
// Headers a page may not set on fetch (the browser sets them itself).
const FORBIDDEN_HEADERS = new Set(["content-length", "host", "connection"]);

/** What a failed sync rejects with. `retryable`: trying later may succeed (the
 * network or the server was away); otherwise the app must act (a new token,
 * another device id). Nothing in the store is lost either way. */
export class SyncError extends Error {
  constructor(code, message, { retryable, status = null, details = {} }) {
    super(`${code}: ${message}`);
    this.name = "SyncError";
    this.code = code;
    this.retryable = retryable;
    this.status = status; // the HTTP status, when the server answered
    this.details = details;
  }
}

/** A bad argument, or a store that belongs to another server: the Python SDK's
 * ValueError. */
function valueError(message) {
  const error = new Error(message);
  error.name = "ValueError";
  return error;
}

// --- IndexedDB in promises ----------------------------------------------------

/** The database of one device, created on first open. */
function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, DB_VERSION);
    request.onupgradeneeded = (event) => createStores(request.result, event.oldVersion);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function createStores(db, oldVersion) {
  if (oldVersion < 1) createFirstStores(db);
  // Ops the server applied, kept over the replica until a pull brings their
  // entity at their version or later: {seq, entity, id, version, op}. Without
  // them a write would vanish from the view between its push and the pull.
  const applied = db.createObjectStore("applied", { keyPath: "seq" });
  applied.createIndex("entity", ["entity", "id"]);
  applied.createIndex("kind", "entity");
}

function createFirstStores(db) {
  // The device's state: one record under the key "state" (see initialState).
  db.createObjectStore("meta");
  // Every op the server has not acknowledged, exactly as it will be sent.
  const outbox = db.createObjectStore("outbox", { keyPath: "seq" });
  outbox.createIndex("entity", ["entity", "id"]);
  outbox.createIndex("kind", "entity");
  // What the server sent by pull: {entity, id, version, data}.
  const replica = db.createObjectStore("replica", { keyPath: ["entity", "id"] });
  replica.createIndex("kind", "entity");
  // Notices waiting for ackNotice, in arrival order; and every notice id ever
  // taken, so an acknowledged notice that a pull delivers again stays forgotten.
  db.createObjectStore("notices", { autoIncrement: true }).createIndex("id", "id", { unique: true });
  db.createObjectStore("seenNotices", { keyPath: "id" });
  // {seq, op, error} of refused ops, in arrival order, until clearRejected.
  db.createObjectStore("rejections", { autoIncrement: true });
  // Photos waiting for upload: {id, fields, blob}, in the order they were taken.
  db.createObjectStore("photos", { autoIncrement: true }).createIndex("id", "id", { unique: true });
}

/** A request's result as a promise. Awaiting it inside `transact`'s work keeps the
 * transaction alive (promise callbacks run before it can commit). */
function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Run `work(tx)` in one transaction and resolve with its result once the
 * transaction has *completed*: only then is a write on disk. `work` may await
 * requests of `tx`, but nothing else (a fetch would let the transaction commit).
 * A throw in `work` aborts everything it did. Writes ask for strict durability:
 * the data reaches the disk before `complete` fires, not merely the OS cache. */
function transact(db, storeNames, mode, work) {
  return new Promise((resolve, reject) => {
    const options = mode === "readwrite" ? { durability: "strict" } : undefined;
    const tx = db.transaction(storeNames, mode, options);
    let result;
    let failed = false;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => {
      if (!failed) reject(tx.error ?? new DOMException("transaction aborted", "AbortError"));
    };
    let done;
    try {
      done = Promise.resolve(work(tx)); // synchronously: the transaction is active now
    } catch (error) {
      done = Promise.reject(error);
    }
    done.then(
      (value) => {
        result = value;
      },
      (error) => {
        failed = true;
        try {
          tx.abort();
        } catch {
          // already finished or aborted
        }
        reject(error);
      },
    );
  });
}

function initialState(deviceId, url) {
  return {
    deviceId,
    url,
    nextSeq: 1, // the seq the next op gets
    ts: 0, // the last stamp given (the HLC)
    tc: 0,
    offset: 0, // server time minus the local wall clock, in ms
    cursor: null, // the pull cursor
    ackedTs: 0, // the stamp of the last acknowledged op: where a re-stamp continues from
    ackedTc: 0,
  };
}

// --- pure rules: the clock and the optimistic view ------------------------------

/** The next HLC stamp after `last`: `now = wall + offset`; past the last `ts` it is
 * (now, 0), else (last ts, last tc + 1). So stamps only grow, and a device whose
 * wall clock is wrong still stamps near the server's time once it has seen it. */
function tick(last, offset, wall) {
  const now = Math.floor(wall) + offset;
  return now > last.ts ? { ts: now, tc: 0 } : { ts: last.ts, tc: last.tc + 1 };
}

/** The entity as the device shows it: the replica's document (or null) with the
 * pending ops applied in seq order, field by field (docs/sdk.md, "The optimistic
 * view"). */
function overlay(id, doc, ops) {
  let view = doc ? { ...doc } : null;
  for (const op of ops) {
    if (op.action === "delete") {
      view = null;
    } else if (op.action === "create") {
      view = { ...(view ?? { id, version: null }), ...(op.fields ?? {}) };
    } else if (view !== null) {
      view = { ...view, ...(op.fields ?? {}) }; // an update of an unknown entity changes nothing
    }
  }
  return view;
}

/** What `get` and `query` answer for one entity, or null. `applied` are the ops
 * the server applied that a pull has not brought yet, `outbox` those it has not
 * acknowledged; both go over the replica, in seq order. */
function shown(entity, id, record, applied, outbox) {
  const ops = [...applied.map((a) => a.op), ...outbox];
  const doc = record && !record.data.deleted ? { ...record.data, id, version: record.version } : null;
  const view = overlay(id, doc, ops);
  if (view === null) return null;
  if (entity === "job_photo" && doc === null && view.status === undefined) {
    view.status = "pending"; // uploaded; the server is checking the bytes
  }
  view.pending = outbox.length > 0;
  return view;
}

/** Records (ops, applied ops) grouped by their entity's id, in the order given. */
function byEntityId(records) {
  const grouped = new Map();
  for (const record of records) {
    const group = grouped.get(record.id);
    if (group) group.push(record);
    else grouped.set(record.id, [record]);
  }
  return grouped;
}

/** A photo whose bytes are still on the device. */
function queuedPhoto(photo) {
  return {
    caption: null,
    taken_at: null,
    ...photo.fields,
    id: photo.id,
    version: null,
    status: "queued",
    pending: true,
  };
}

/** Whether every given field of `doc` equals the given value; a missing field
 * counts as null, as the server serves an unset optional field. */
function matches(doc, equal) {
  return Object.entries(equal).every(([name, wanted]) => same(doc[name] ?? null, wanted ?? null));
}

function same(a, b) {
  if (a === b) return true;
  return typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b);
}

/** A JSON-safe copy, so the stored op is exactly what JSON.stringify will send
 * (no `undefined`, no Dates, no class instances). */
function plain(fields) {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
    throw new TypeError("fields must be an object");
  }
  return JSON.parse(JSON.stringify(fields));
}

// --- HTTP with the retry rule ------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterMs(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value); // Retry-After may also be an HTTP date
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

/** {code, message, details} of an error answer (docs/protocol.md, "Errors"), or one
 * made up from the status when the body is not ours (a bucket's XML, a proxy). */
async function errorOf(response) {
  try {
    const { error } = await response.json();
    return { code: String(error.code), message: String(error.message), details: error.details ?? {} };
  } catch {
    return { code: `http_${response.status}`, message: response.statusText, details: {} };
  }
}

/** The JSON of a 200 answer, if `valid(body)` accepts it. One that is not the
 * server's (a captive portal's page, a proxy's) fails the sync as the network
 * would: a retryable SyncError `unavailable`. */
async function answerOf(response, valid) {
  let body;
  try {
    body = await response.json();
  } catch (error) {
    throw notTheServers(`${error.name}: ${error.message}`);
  }
  if (body === null || typeof body !== "object" || !valid(body)) {
    throw notTheServers("an answer of the wrong shape");
  }
  return body;
}

function notTheServers(why) {
  return new SyncError("unavailable", `not the server's answer: ${why}`, { retryable: true });
}

const encoder = new TextEncoder();

/** The longest prefix of `ops` whose JSON fits in `limit` bytes (at least one op),
 * and the push body that carries it. */
function pushBody(deviceId, ops, limit) {
  const texts = [];
  let size = 0;
  for (const op of ops) {
    const text = JSON.stringify(op);
    size += encoder.encode(text).length + 1;
    if (size > limit && texts.length > 0) break;
    texts.push(text);
  }
  const body = `{"device_id":${JSON.stringify(deviceId)},"ops":[${texts.join(",")}]}`;
  return { batch: ops.slice(0, texts.length), body };
}

// --- the device ---------------------------------------------------------------

export class Device extends EventTarget {
  /** Open (or create) the device's store. A store that another server's device
   * made (another `url`) rejects with a ValueError, as in Python. `clock`, when
   * given, returns the wall clock in ms (tests skew it); default Date.now. */
  static async open({ url = globalThis.location?.origin, token, deviceId, clock = Date.now } = {}) {
    if (typeof deviceId !== "string" || !ID_PATTERN.test(deviceId)) {
      throw valueError(`device id ${JSON.stringify(deviceId)}: 1-64 characters of [A-Za-z0-9._-]`);
    }
    if (typeof token !== "string" || !token) throw valueError("a token is required");
    if (!globalThis.navigator?.locks || !globalThis.crypto?.subtle) {
      throw new Error("Fieldsync needs a secure context (https, or http on localhost)");
    }
    url = new URL(url, globalThis.location?.href).href.replace(/\/+$/, "");
    const db = await openDatabase(`fieldsync:${deviceId}`);
    try {
      await transact(db, ["meta"], "readwrite", async (tx) => {
        const meta = tx.objectStore("meta");
        const state = await req(meta.get("state"));
        if (!state) {
          meta.put(initialState(deviceId, url), "state");
        } else if (state.url !== url || state.deviceId !== deviceId) {
          throw valueError(
            `fieldsync:${deviceId} is the store of device ${state.deviceId} at ${state.url}, not at ${url}`,
          );
        }
      });
    } catch (error) {
      db.close();
      throw error;
    }
    return new Device(db, { url, token, deviceId, clock });
  }

  /** Use Device.open. */
  constructor(db, { url, token, deviceId, clock }) {
    super();
    this._db = db;
    this.url = url;
    this.token = token; // may be replaced when the app gets a fresh one
    this.deviceId = deviceId;
    this._clock = clock;
    this._lockName = `fieldsync-sync:${deviceId}`;
    this.lockWaitMs = LOCK_WAIT_MS; // sync(): how long to wait for another tab's sync
    this._syncing = false; // this tab holds the sync lock
    this._reachable = null; // the last request reached the server (null: nothing tried yet)
    this._statusChain = Promise.resolve();
    this._live = null;
    this._closed = false;
    // Another tab deleting the database (signing out) must not wait for this one.
    db.onversionchange = () => this.close();
    this._channel = new BroadcastChannel(`fieldsync:${deviceId}`);
    this._channel.onmessage = (event) => this._fromOtherTab(event.data);
    // `status` follows the browser going off and on line, live() or not.
    this._onOnline = () => {
      this._reachable = null; // worth trying again
      this._status();
    };
    this._onOffline = () => this._status();
    globalThis.addEventListener("online", this._onOnline);
    globalThis.addEventListener("offline", this._onOffline);
  }

  // --- writes ---------------------------------------------------------------

  /** Append a `create` op; resolves with its seq once it is on disk. */
  async create(entity, id, fields) {
    return this._write(entity, id, "create", plain(fields));
  }

  /** Append an `update` op; its `base` is the version the replica holds. */
  async update(entity, id, fields) {
    const copy = plain(fields);
    if (Object.keys(copy).length === 0) throw valueError("an update writes at least one field");
    return this._write(entity, id, "update", copy);
  }

  /** Append a `delete` op (it carries no fields). */
  async delete(entity, id) {
    return this._write(entity, id, "delete", null);
  }

  async _write(entity, id, action, fields) {
    if (typeof id !== "string" || !ID_PATTERN.test(id)) {
      throw valueError(`id ${JSON.stringify(id)}: 1-64 characters of [A-Za-z0-9._-]`);
    }
    const seq = await transact(this._open(), ["meta", "outbox", "replica"], "readwrite", async (tx) => {
      let base = 0;
      if (action !== "create") {
        const held = await req(tx.objectStore("replica").get([entity, id]));
        base = held ? held.version : 0;
      }
      return this._append(tx, { entity, id, action, fields, base });
    });
    this._changed();
    this._wrote();
    return seq;
  }

  /** Stamp and store one op inside `tx` (which covers meta and outbox). The seq
   * and the stamp are read from the stored state in the same transaction that
   * stores the op, so two tabs writing at once still get distinct seqs and
   * growing stamps. */
  async _append(tx, { entity, id, action, fields, base }) {
    const meta = tx.objectStore("meta");
    const state = await req(meta.get("state"));
    const stamp = tick(state, state.offset, this._clock());
    const op = { seq: state.nextSeq, ts: stamp.ts, tc: stamp.tc, entity, id, action };
    if (fields !== null) op.fields = fields;
    op.base = base;
    tx.objectStore("outbox").add(op); // `add`: a seq is never stored twice
    meta.put({ ...state, nextSeq: op.seq + 1, ts: stamp.ts, tc: stamp.tc }, "state");
    return op.seq;
  }

  /** Queue a photo: resolves with its new id once the bytes are on disk. The
   * photo is at once in the view with `status: "queued"`; sync uploads it, then
   * writes the job_photo. `contentType` defaults to the blob's type. */
  async addPhoto(jobId, blob, { caption, takenAt, contentType } = {}) {
    if (!(blob instanceof Blob)) throw new TypeError("addPhoto takes a Blob (or a File)");
    const type = contentType ?? blob.type;
    if (!PHOTO_TYPES.includes(type)) {
      throw valueError(`content type ${JSON.stringify(type)}: one of ${PHOTO_TYPES.join(", ")}`);
    }
    // Hash before the transaction: the digest is not an IndexedDB request, and
    // awaiting it inside would let the transaction commit early.
    const bytes = await blob.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    const fields = { job_id: jobId, content_type: type, size: blob.size, sha256 };
    if (caption != null) fields.caption = caption;
    if (takenAt != null) fields.taken_at = takenAt instanceof Date ? takenAt.toISOString() : takenAt;
    const id = crypto.randomUUID().replaceAll("-", "");
    // Store a Blob of the bytes read, so what is hashed is what is uploaded.
    const stored = new Blob([bytes], { type });
    await transact(this._open(), ["photos"], "readwrite", (tx) => {
      tx.objectStore("photos").add({ id, fields, blob: stored });
    });
    this._changed();
    this._wrote();
    return id;
  }

  /** The bytes of a photo still queued on this device (a `Blob`), or null once it
   * is uploaded (or unknown): what an app shows before the server has it. */
  async queuedPhotoBlob(photoId) {
    const photo = await this._read("photos", (store) => store.index("id").get(photoId));
    return photo ? photo.blob : null;
  }

  // --- the optimistic view ----------------------------------------------------

  /** The entity with the device's pending writes applied, plus `id`, `version`
   * (null while only local) and `pending`; null when unknown or deleted. */
  async get(entity, id) {
    const stores = ["replica", "applied", "outbox", "photos"];
    return transact(this._open(), stores, "readonly", async (tx) => {
      const [record, applied, ops] = await Promise.all([
        req(tx.objectStore("replica").get([entity, id])),
        req(tx.objectStore("applied").index("entity").getAll([entity, id])),
        req(tx.objectStore("outbox").index("entity").getAll([entity, id])),
      ]);
      if (entity === "job_photo" && !record && applied.length === 0 && ops.length === 0) {
        const photo = await req(tx.objectStore("photos").index("id").get(id));
        return photo ? queuedPhoto(photo) : null;
      }
      return shown(entity, id, record ?? null, applied, ops);
    });
  }

  /** Live entities of one kind in the optimistic view whose fields equal the
   * given values, ordered by id. */
  async query(entity, equal = {}) {
    const stores = ["replica", "applied", "outbox", "photos"];
    return transact(this._open(), stores, "readonly", async (tx) => {
      const [records, applied, ops, photos] = await Promise.all([
        req(tx.objectStore("replica").index("kind").getAll(entity)),
        req(tx.objectStore("applied").index("kind").getAll(entity)),
        req(tx.objectStore("outbox").index("kind").getAll(entity)),
        entity === "job_photo" ? req(tx.objectStore("photos").getAll()) : [],
      ]);
      const appliedById = byEntityId(applied);
      const opsById = byEntityId(ops);
      const byId = new Map(records.map((record) => [record.id, record]));
      const views = new Map();
      for (const id of new Set([...byId.keys(), ...appliedById.keys(), ...opsById.keys()])) {
        const record = byId.get(id) ?? null;
        const view = shown(entity, id, record, appliedById.get(id) ?? [], opsById.get(id) ?? []);
        if (view !== null) views.set(id, view);
      }
      for (const photo of photos) views.set(photo.id, queuedPhoto(photo));
      return [...views.keys()]
        .sort()
        .map((id) => views.get(id))
        .filter((view) => matches(view, equal));
    });
  }

  /** Ops waiting in the outbox, plus photos waiting for upload. */
  async pending() {
    return transact(this._open(), ["outbox", "photos"], "readonly", async (tx) => {
      const [ops, photos] = await Promise.all([
        req(tx.objectStore("outbox").count()),
        req(tx.objectStore("photos").count()),
      ]);
      return ops + photos;
    });
  }

  // --- notices and rejections ---------------------------------------------------

  /** Conflict notices this device's writes lost, not yet acknowledged, oldest first. */
  async notices() {
    return transact(this._open(), ["notices"], "readonly", async (tx) => {
      const rows = await req(tx.objectStore("notices").getAll());
      return rows.map((row) => row.notice);
    });
  }

  /** Forget a notice here. Its id stays remembered, so it does not come back. */
  async ackNotice(noticeId) {
    await transact(this._open(), ["notices"], "readwrite", async (tx) => {
      const store = tx.objectStore("notices");
      const key = await req(store.index("id").getKey(noticeId));
      if (key !== undefined) store.delete(key);
    });
    this._changed();
  }

  /** {seq, op, error} of ops the server refused, oldest first. `seq` is null for
   * a photo whose upload was refused (it never became an op). */
  async rejected() {
    return this._read("rejections", (store) => store.getAll());
  }

  async clearRejected() {
    await transact(this._open(), ["rejections"], "readwrite", (tx) => {
      tx.objectStore("rejections").clear();
    });
    this._changed();
  }

  // --- sync --------------------------------------------------------------------

  /** Push the outbox, upload queued photos and push their ops, then pull until
   * caught up (pushing first lets a photo name a job made offline). Resolves with
   * {pushed, pulled, notices, rejected}; rejects with a SyncError. Whatever may
   * succeed later is retried for up to `retryFor` seconds (default 0: one try,
   * since a page has better things to do than wait; live() tries again). One sync
   * runs at a time across every tab of this device: the others wait for it, up to
   * `lockWaitMs` more than `retryFor`, then reject with a retryable SyncError
   * `busy` (a tab stuck in a sync must not hold the others forever). */
  async sync({ retryFor = 0 } = {}) {
    this._open();
    const signal = AbortSignal.timeout(this.lockWaitMs + retryFor * 1000);
    let granted = false;
    try {
      return await navigator.locks.request(this._lockName, { signal }, () => {
        granted = true;
        return this._syncHoldingLock(retryFor);
      });
    } catch (error) {
      if (granted || !signal.aborted) throw error;
      throw new SyncError("busy", "another tab's sync of this device did not finish in time", {
        retryable: true,
      });
    } finally {
      this._syncing = false;
      // After the lock is released (see _syncingAnywhere); resolving only once it
      // is dispatched lets a caller trust the last status it saw.
      await this._status({ broadcast: true });
    }
  }

  async _syncHoldingLock(retryFor) {
    const deadline = performance.now() + retryFor * 1000;
    const result = { pushed: 0, pulled: 0, notices: [], rejected: [] };
    this._syncing = true;
    this._status({ broadcast: true });
    await this._push(result, deadline);
    const failed = await this._uploadPhotos(result, deadline);
    await this._push(result, deadline);
    await this._pull(result, deadline);
    if (failed) throw failed; // the photo stays queued; everything else went through
    const at = Date.now();
    this.dispatchEvent(new CustomEvent("synced", { detail: { at, ...result } }));
    this._broadcast({ type: "synced", at });
    return result;
  }

  /** One request to the server, with the retry rule: connection errors, timeouts,
   * 429 and 5xx are tried again with exponential backoff and full jitter, never
   * sooner than a Retry-After, while `deadline` allows; then a retryable
   * SyncError. Any other answer is returned as it is. */
  async _fetch(url, init, deadline, timeoutMs = REQUEST_TIMEOUT_MS) {
    for (let attempt = 0; ; attempt++) {
      let failure;
      let wait = 0;
      try {
        const signal = AbortSignal.timeout(timeoutMs);
        const response = await fetch(url, { cache: "no-store", ...init, signal });
        this._reached(true);
        if (response.status !== 429 && response.status < 500) return response;
        failure = { ...(await errorOf(response)), status: response.status };
        wait = retryAfterMs(response);
      } catch (error) {
        // fetch rejects with a TypeError when the network is down, with a
        // TimeoutError when the server does not answer in time.
        this._reached(false);
        failure = { code: "unavailable", message: `${error.name}: ${error.message}`, status: null };
      }
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
      wait = Math.max(wait, Math.random() * backoff);
      if (performance.now() + wait > deadline) {
        throw new SyncError(failure.code, `gave up retrying: ${failure.message}`, {
          retryable: true,
          status: failure.status,
          details: failure.details,
        });
      }
      await sleep(wait);
    }
  }

  /** POST a JSON body to the server as this device's user. */
  async _post(path, body, deadline) {
    return this._fetch(
      this.url + path,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
        body,
      },
      deadline,
    );
  }

  /** A SyncError for a final error answer. */
  async _failure(response) {
    const { code, message, details } = await errorOf(response);
    return new SyncError(code, message, { retryable: false, status: response.status, details });
  }

  // Photos: upload first, then the op that names the upload (docs/sdk.md, "Photos").

  /** Upload each queued photo; one that fails stays queued and the others go on.
   * Resolves with the first failure (a SyncError), if any. */
  async _uploadPhotos(result, deadline) {
    const photos = await this._read("photos", (store) => store.getAll());
    let failed = null;
    for (const photo of photos) {
      try {
        await this._upload(photo, result, deadline);
      } catch (error) {
        if (error?.name !== "SyncError") throw error;
        failed ??= error;
      }
    }
    return failed;
  }

  /** Upload one queued photo, then write its op. A refused PUT (its URL expired
   * while it was retried, say) asks for a new upload, three times at most. Bytes
   * the store refuses (a PUT answered 400 or 422), or an upload refused for the
   * job (403, 404, 422: gone, or no longer this user's) drop the photo into the
   * rejections, since retrying would fail forever. */
  async _upload(photo, result, deadline) {
    const { job_id, content_type, size, sha256 } = photo.fields;
    const body = JSON.stringify({ job_id, content_type, size, sha256 });
    let refused; // the answer that ends the attempts
    let forGood = false; // ...and whether no later attempt can succeed
    let byStore = false; // ...and whether the bucket gave it (not this server)
    for (let attempt = 0; attempt < MAX_UPLOAD_TICKETS; attempt++) {
      const answer = await this._post("/api/uploads", body, deadline);
      if (answer.status !== 201) {
        refused = answer;
        forGood = [403, 404, 422].includes(answer.status);
        break;
      }
      const ticket = await answerOf(answer, (t) => typeof t.url === "string" && typeof t.key === "string");
      const put = await this._put(ticket, photo, deadline);
      if (put.ok) {
        await this._photoUploaded(photo, ticket.key);
        this._changed();
        return;
      }
      refused = put;
      byStore = true;
      if (put.status === 400 || put.status === 422) {
        forGood = true; // the store refuses these bytes
        break;
      }
    }
    const { code, message, details } = await errorOf(refused);
    if (forGood) {
      result.rejected.push(await this._photoRefused(photo, { code, message }));
      this._changed();
      return;
    }
    throw new SyncError(code, byStore ? `the photo upload was refused: ${message}` : message, {
      retryable: byStore, // a new upload URL next time may do
      status: refused.status,
      details,
    });
  }

  /** The PUT of an upload ticket. The signed URL is its own authorization: no
   * bearer token goes with it. */
  async _put(ticket, photo, deadline) {
    const headers = Object.fromEntries(
      Object.entries(ticket.headers ?? {}).filter(([name]) => !FORBIDDEN_HEADERS.has(name.toLowerCase())),
    );
    // A big photo on a slow network takes a while: allow about 100 kB/s.
    const timeoutMs = REQUEST_TIMEOUT_MS + photo.fields.size / 100;
    const init = { method: ticket.method ?? "PUT", headers, body: photo.blob };
    return this._fetch(ticket.url, init, deadline, timeoutMs);
  }

  /** The bytes are on the server: the job_photo create replaces the queued
   * photo, in one transaction, so the photo is never both or neither. */
  async _photoUploaded(photo, key) {
    return transact(this._open(), ["meta", "outbox", "photos"], "readwrite", async (tx) => {
      const fields = { ...photo.fields, key };
      await this._append(tx, { entity: "job_photo", id: photo.id, action: "create", fields, base: 0 });
      await this._deletePhoto(tx, photo.id);
    });
  }

  async _photoRefused(photo, error) {
    const op = { entity: "job_photo", id: photo.id, action: "create", fields: photo.fields };
    const rejection = { seq: null, op, error };
    return transact(this._open(), ["photos", "rejections"], "readwrite", async (tx) => {
      tx.objectStore("rejections").add(rejection);
      await this._deletePhoto(tx, photo.id);
      return rejection;
    });
  }

  async _deletePhoto(tx, id) {
    const store = tx.objectStore("photos");
    const key = await req(store.index("id").getKey(id));
    if (key !== undefined) store.delete(key);
  }

  // The push.

  async _push(result, deadline) {
    let clockAheads = 0;
    let from = 0; // send from this seq on; seq_gap may move it
    let gaps = 0;
    let limit = PUSH_BYTES;
    for (;;) {
      const ops = await this._read("outbox", (store) =>
        store.getAll(IDBKeyRange.lowerBound(from), PUSH_BATCH),
      );
      if (ops.length === 0) return;
      // The ops as stored: their content was fixed when they were written.
      const { batch, body } = pushBody(this.deviceId, ops, limit);
      const answer = await this._post("/sync/push", body, deadline);
      if (answer.ok) {
        const push = await answerOf(
          answer,
          (p) => Number.isSafeInteger(p.acked_seq) && Array.isArray(p.results),
        );
        if (push.acked_seq < batch[batch.length - 1].seq) {
          // Never answered by a server that follows the protocol; without this
          // check the loop would send the same batch forever.
          throw new SyncError("internal", `push answered acked_seq ${push.acked_seq}`, { retryable: true });
        }
        await this._acknowledge(batch, push, result);
        this._changed();
        continue;
      }
      if (answer.status === 413 && batch.length > 1) {
        limit = Math.floor(body.length / 2); // a proxy's limit below the server's own
        continue;
      }
      const error = await this._failure(answer);
      if (error.code === "clock_ahead" && clockAheads < MAX_CLOCK_AHEAD) {
        clockAheads += 1;
        await this._restamp(Number(error.details.seq), Number(error.details.server_time));
        continue;
      }
      const expected = Number(error.details.expected);
      if (error.code === "seq_gap" && gaps === 0 && (await this._holdsSeq(expected))) {
        // Send again from where the server expects. (Sending from the outbox's
        // front already does; a gap the outbox cannot fill, because the server
        // lost ops it had acknowledged, is the SyncError below.)
        gaps += 1;
        from = expected;
        continue;
      }
      error.retryable = error.code === "clock_ahead"; // a clock that keeps jumping may settle
      throw error;
    }
  }

  async _holdsSeq(seq) {
    if (!Number.isSafeInteger(seq) || seq < 1) return false;
    return this._read("outbox", (store) => store.count(seq)).then((n) => n > 0);
  }

  /** Apply a push answer in one transaction: drop what the server acknowledged,
   * keep its rejections and this device's notices, take its time. */
  async _acknowledge(batch, push, result) {
    const sent = new Map(batch.map((op) => [op.seq, op]));
    const stores = ["meta", "outbox", "applied", "replica", "rejections", "notices", "seenNotices"];
    const applied = push.results.filter(
      (r) => r.status === "applied" && r.version != null && sent.has(r.seq),
    );
    // A `duplicate` does not say how the op fared the first time: not reported.
    const rejections = push.results
      .filter((r) => r.status === "rejected" && sent.has(r.seq))
      .map((r) => ({ seq: r.seq, op: sent.get(r.seq), error: r.error }));
    const taken = await transact(this._open(), stores, "readwrite", async (tx) => {
      for (const rejection of rejections) tx.objectStore("rejections").add(rejection);
      for (const { seq, version } of applied) {
        const op = sent.get(seq);
        // An op that changed nothing (every field lost) is answered with the
        // entity's current version: if the replica holds that, no pull brings it.
        const held = await req(tx.objectStore("replica").get([op.entity, op.id]));
        if (held && held.version >= version) continue;
        tx.objectStore("applied").put({ seq, entity: op.entity, id: op.id, version, op });
      }
      const outbox = tx.objectStore("outbox");
      const acked = IDBKeyRange.upperBound(push.acked_seq);
      const cursor = await req(outbox.openCursor(acked, "prev"));
      const state = await req(tx.objectStore("meta").get("state"));
      const last = cursor ? { ackedTs: cursor.value.ts, ackedTc: cursor.value.tc } : {};
      tx.objectStore("meta").put({ ...state, ...last, offset: this._offsetFrom(push.server_time) }, "state");
      outbox.delete(acked);
      return this._takeNotices(tx, push.conflicts);
    });
    result.pushed += push.results.filter((r) => sent.has(r.seq)).length;
    result.rejected.push(...rejections);
    this._announce(taken, result);
  }

  /** `clock_ahead`: take the server's time as the offset and stamp again every
   * outbox op from `fromSeq` on, in seq order, continuing from the stamp of the
   * newest op before it (in the outbox, or the last acknowledged one), so this
   * device's later writes still win over its earlier ones. Seqs are kept; none
   * of these ops was recorded, so new contents under their seqs are safe. */
  async _restamp(fromSeq, serverTime) {
    return transact(this._open(), ["meta", "outbox"], "readwrite", async (tx) => {
      const meta = tx.objectStore("meta");
      const outbox = tx.objectStore("outbox");
      const state = await req(meta.get("state"));
      const offset = this._offsetFrom(serverTime);
      const before = await req(outbox.openCursor(IDBKeyRange.upperBound(fromSeq, true), "prev"));
      let last = before
        ? { ts: before.value.ts, tc: before.value.tc }
        : { ts: state.ackedTs, tc: state.ackedTc };
      for (const op of await req(outbox.getAll(IDBKeyRange.lowerBound(fromSeq)))) {
        last = tick(last, offset, this._clock());
        outbox.put({ ...op, ts: last.ts, tc: last.tc });
      }
      meta.put({ ...state, ts: last.ts, tc: last.tc, offset }, "state");
    });
  }

  _offsetFrom(serverTime) {
    return Math.floor(serverTime) - Math.floor(this._clock());
  }

  // The pull.

  async _pull(result, deadline) {
    for (;;) {
      const state = await this._read("meta", (store) => store.get("state"));
      const body = JSON.stringify({ device_id: this.deviceId, cursor: state.cursor, limit: PULL_PAGE });
      const answer = await this._post("/sync/pull", body, deadline);
      if (!answer.ok) throw await this._failure(answer);
      const page = await answerOf(
        answer,
        (p) => typeof p.cursor === "string" && Array.isArray(p.changes) && typeof p.has_more === "boolean",
      );
      await this._applyPage(page, result);
      if (page.changes.length > 0) this._changed();
      if (!page.has_more) return;
    }
  }

  /** One page with its cursor and notices, in one transaction: a crash leaves the
   * replica either before the page or after it, never with a cursor past a
   * change it did not apply. */
  async _applyPage(page, result) {
    const stores = ["meta", "replica", "applied", "notices", "seenNotices"];
    const taken = await transact(this._open(), stores, "readwrite", async (tx) => {
      const replica = tx.objectStore("replica");
      const applied = tx.objectStore("applied");
      const anyApplied = (await req(applied.count())) > 0;
      for (const change of page.changes) {
        const key = [change.entity, change.id];
        if (change.removed) {
          replica.delete(key); // a removal of an unknown id is harmless
        } else {
          replica.put({ entity: change.entity, id: change.id, version: change.version, data: change.data });
        }
        if (!anyApplied) continue;
        // The pull brought what the server made of this device's applied ops.
        for (const record of await req(applied.index("entity").getAll(key))) {
          if (change.removed || record.version <= change.version) applied.delete(record.seq);
        }
      }
      const meta = tx.objectStore("meta");
      const state = await req(meta.get("state"));
      meta.put({ ...state, cursor: page.cursor, offset: this._offsetFrom(page.server_time) }, "state");
      return this._takeNotices(tx, page.notices);
    });
    result.pulled += page.changes.length;
    this._announce(taken, result);
  }

  /** Keep, inside `tx`, the notices whose losing write is this device's and whose
   * id it has never seen. Returns them. */
  async _takeNotices(tx, notices) {
    const taken = [];
    for (const notice of notices ?? []) {
      if (notice.loser?.device_id !== this.deviceId) continue;
      if (await req(tx.objectStore("seenNotices").get(notice.id))) continue;
      tx.objectStore("seenNotices").put({ id: notice.id });
      tx.objectStore("notices").add({ id: notice.id, notice });
      taken.push(notice);
    }
    return taken;
  }

  /** Notices just taken: into the sync's result, and a `notice` event for each
   * (in this tab and the others). Called once their transaction completed. */
  _announce(notices, result) {
    for (const notice of notices) {
      result.notices.push(notice);
      this.dispatchEvent(new CustomEvent("notice", { detail: notice }));
      this._broadcast({ type: "notice", notice });
    }
  }

  // --- live ----------------------------------------------------------------------

  /** Keep the device in sync while the page is open: hold the WebSocket and sync
   * when it opens and on every poke, on the window's `online` event, and every
   * 60 s while online; reconnect with backoff. A sync that fails is dispatched
   * as an `error` event (detail: the SyncError); one the app must act on (401,
   * 403, seq_reused, seq_gap) also ends live(). Calling it again does nothing. */
  live() {
    this._open();
    if (this._live) return;
    const live = {
      socket: null,
      attempt: 0,
      reconnect: null,
      running: null, // the sync in progress, if any
      again: false, // something asked for a sync while one ran
      writeTimer: null, // a sync soon after a write
      onOnline: () => {
        clearTimeout(live.reconnect);
        live.attempt = 0;
        if (!live.socket) this._connect(live);
        this._liveSync(live);
      },
      poll: setInterval(() => navigator.onLine && this._liveSync(live), POLL_EVERY_MS),
    };
    this._live = live;
    globalThis.addEventListener("online", live.onOnline);
    this._connect(live);
    this._liveSync(live); // the socket may never open (offline): sync anyway
  }

  /** A write in this tab: under live(), push it soon (writes that come together
   * within WRITE_DELAY_MS go in one sync). */
  _wrote() {
    const live = this._live;
    if (!live || live.writeTimer) return;
    live.writeTimer = setTimeout(() => {
      live.writeTimer = null;
      this._liveSync(live);
    }, WRITE_DELAY_MS);
  }

  /** End live(): close the socket and stop the timers. Resolves once a sync that
   * live() had started has finished (it is not cut short). */
  async stop() {
    const live = this._live;
    if (!live) return;
    this._live = null;
    clearInterval(live.poll);
    clearTimeout(live.reconnect);
    clearTimeout(live.writeTimer);
    globalThis.removeEventListener("online", live.onOnline);
    if (live.socket) {
      const socket = live.socket;
      live.socket = null;
      socket.close(1000);
    }
    await live.running;
  }

  _socketUrl() {
    const base = this.url.replace(/^http/, "ws"); // http: -> ws:, https: -> wss:
    const query = `token=${encodeURIComponent(this.token)}&device_id=${encodeURIComponent(this.deviceId)}`;
    return `${base}/sync/ws?${query}`;
  }

  _connect(live) {
    if (this._live !== live) return;
    const socket = new WebSocket(this._socketUrl());
    live.socket = socket;
    socket.onopen = () => {
      live.attempt = 0;
      this._reached(true);
      this._liveSync(live); // pokes are a hint: what changed while away needs a pull
    };
    socket.onmessage = (event) => {
      try {
        if (JSON.parse(event.data).type === "poke") this._liveSync(live);
      } catch {
        // not ours; the server sends only pokes
      }
    };
    socket.onclose = () => {
      if (live.socket !== socket) return; // stop() closed it, or a newer one replaced it
      live.socket = null;
      // Offline, the `online` event reconnects.
      if (this._live !== live || !navigator.onLine) return;
      // A browser does not say why a socket failed (a refused token looks like a
      // lost network); the syncs report that. Reconnect after 0.25 s doubling up
      // to 30 s, full jitter.
      const backoff = Math.min(RECONNECT_MAX_MS, BACKOFF_FIRST_MS * 2 ** live.attempt);
      live.attempt += 1;
      live.reconnect = setTimeout(() => this._connect(live), Math.random() * backoff);
    };
  }

  /** A sync for live(): pokes that come while one runs make one more, not one
   * each. */
  _liveSync(live) {
    if (this._live !== live) return;
    if (live.running) {
      live.again = true;
      return;
    }
    live.running = (async () => {
      do {
        live.again = false;
        try {
          await this.sync({ retryFor: 0 });
        } catch (error) {
          this.dispatchEvent(new CustomEvent("error", { detail: error }));
          if (error.name !== "SyncError" || !error.retryable) {
            this.stop(); // not awaited: it waits for this very sync
            break;
          }
        }
      } while (live.again && this._live === live);
      live.running = null;
    })();
  }

  // --- events and other tabs ---------------------------------------------------------

  /** The optimistic view (or the pending count) changed here: tell this tab and
   * the others. */
  _changed() {
    this.dispatchEvent(new Event("change"));
    this._status();
    this._broadcast({ type: "change" });
  }

  _fromOtherTab(message) {
    if (this._closed) return;
    if (message.type === "change") {
      this.dispatchEvent(new Event("change"));
      this._status();
    } else if (message.type === "notice") {
      this.dispatchEvent(new CustomEvent("notice", { detail: message.notice }));
    } else if (message.type === "status") {
      this._status();
    } else if (message.type === "synced") {
      this.dispatchEvent(new CustomEvent("synced", { detail: { at: message.at } }));
    }
  }

  _broadcast(message) {
    if (!this._closed) this._channel.postMessage(message);
  }

  _reached(reached) {
    if (this._reachable === reached) return;
    this._reachable = reached;
    this._status();
  }

  /** Dispatch `status` with {online, pending, syncing}, in order; resolves once
   * dispatched. `online`: the browser is online and the last request reached the
   * server. */
  _status({ broadcast = false } = {}) {
    if (broadcast) this._broadcast({ type: "status" });
    this._statusChain = this._statusChain.then(async () => {
      if (this._closed) return;
      try {
        const detail = {
          online: navigator.onLine && this._reachable !== false,
          pending: await this.pending(),
          syncing: await this._syncingAnywhere(),
        };
        this.dispatchEvent(new CustomEvent("status", { detail }));
      } catch {
        // closed meanwhile
      }
    });
    return this._statusChain;
  }

  /** Whether any tab of this device is syncing: whoever holds the sync lock. */
  async _syncingAnywhere() {
    if (this._syncing) return true;
    const { held = [] } = await navigator.locks.query();
    return held.some((lock) => lock.name === this._lockName);
  }

  /** One request on one store, in a read-only transaction of its own. */
  async _read(storeName, request) {
    return transact(this._open(), [storeName], "readonly", (tx) =>
      req(request(tx.objectStore(storeName))),
    );
  }

  _open() {
    if (this._closed) throw new Error(`device ${this.deviceId} is closed`);
    return this._db;
  }

  /** Stop live() and close the store. Other tabs keep theirs. */
  async close() {
    if (this._closed) return;
    await this.stop();
    this._closed = true;
    globalThis.removeEventListener("online", this._onOnline);
    globalThis.removeEventListener("offline", this._onOffline);
    this._channel.close();
    this._db.close();
  }
}

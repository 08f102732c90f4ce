// @ts-check
// What comes over the wire, read defensively (docs/protocol.md; field names from contract.js).
//
// The kernel is trusted to follow the contract, but a page may meet a trace written by another
// streamviz, a hand-edited file or a half-sent message: every reader here turns whatever arrived
// into values of the documented types (or says the message is unusable) so the store and the views
// never meet a wrong type. Nothing here keeps state.

import { COLUMNS, DELTA, PAYLOAD, STATUSES, STREAMS, VERSION } from "./contract.js";

/**
 * @typedef {object} RunRow  a run as the views read it (docs/protocol.md, "RunRow")
 * @property {number} i
 * @property {string} id
 * @property {string} name
 * @property {string} type
 * @property {number} parent   index of the parent run, -1 for a root
 * @property {string[]} tags
 * @property {number | null} start
 * @property {number | null} end
 * @property {string} status   one of the contract's statuses
 * @property {string | null} error
 * @property {number | null} first
 * @property {number} chunks
 * @property {boolean} orphan
 * @property {number | null} held
 * @property {number | null} holding  while the run holds the stream back: since when (ms)
 * @property {number} upstream
 * @property {string | null} node
 * @property {string | null} stream  `text`, `json` or null
 * @property {string | null} interrupt  an interrupted run: what it asks (text), else null
 * @property {string | null} resume  the `Command(resume=...)` value it was started with (text)
 * @property {string | null} thread  its LangGraph thread id
 * @property {string | null} send  a `Send` branch's argument (text), else null
 */

/**
 * @typedef {object} Extra  the sparse per-event fields (own name and tags, LangGraph mode and ns)
 * @property {string} [name]
 * @property {string[]} [tags]
 * @property {string} [mode]
 * @property {string} [ns]
 * @property {string} [diff]  a values/updates/checkpoints part: what changed since the part before
 * @property {string} [note]  a run's first state carried over from its thread, said so
 */

/**
 * @typedef {object} WireEvents  event columns as sent (each may be missing or malformed)
 * @property {unknown[]} [us]
 * @property {unknown[]} [kind]
 * @property {unknown[]} [run]
 * @property {unknown[]} [text]
 * @property {Record<string, unknown>} [extra]
 */

/**
 * @typedef {object} Batch  events and what came with them, read from a snapshot or a delta
 * @property {number} from     seq of the first event of the columns
 * @property {number} to       seq after the last one
 * @property {number | null} now
 * @property {unknown} kinds   kind names (merged by the store, which skips the ones it has)
 * @property {unknown[]} runs  run rows (read one by one with `readRun`)
 * @property {WireEvents} events
 */

/** @typedef {{seq: number, text: string, truncated: boolean}} Payload */

/** The columns every event has (`text` may be missing: then it is empty). */
const REQUIRED = COLUMNS.filter((key) => key !== "text");
const STATUS_SET = new Set(STATUSES);
const STREAM_SET = new Set(STREAMS);

/**
 * @param {unknown} value
 * @param {number} fallback
 * @returns {number}
 */
export function int(value, fallback) {
  return Number.isInteger(value) ? /** @type {number} */ (value) : fallback;
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
export function num(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * @param {unknown} value
 * @returns {string | null}
 */
function str(value) {
  return value === null || value === undefined ? null : String(value);
}

/**
 * `value` as display text ("" for null and undefined).
 * @param {unknown} value
 * @returns {string}
 */
export function text(value) {
  return value === null || value === undefined ? "" : String(value);
}

/**
 * @param {unknown} value
 * @returns {string[]}
 */
export function strings(value) {
  return Array.isArray(value) ? value.map((item) => String(item)) : [];
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return value !== null && typeof value === "object";
}

/**
 * A RunRow with every field present and of its documented type, or null when the row has no
 * usable index.
 * @param {unknown} row
 * @returns {RunRow | null}
 */
export function readRun(row) {
  if (!isObject(row) || !Number.isInteger(row.i) || row.i < 0) return null;
  return normalizeRun(row);
}

/**
 * A RunRow with every field present and of its documented type (rows come from the kernel).
 * @param {Record<string, any>} row
 * @returns {RunRow}
 */
export function normalizeRun(row) {
  const status = String(row.status ?? "running");
  return {
    i: row.i,
    id: String(row.id ?? ""),
    name: String(row.name ?? ""),
    type: String(row.type ?? ""),
    parent: int(row.parent, -1),
    tags: strings(row.tags),
    start: num(row.start),
    end: num(row.end),
    status: STATUS_SET.has(status) ? status : "running",
    error: str(row.error),
    first: num(row.first),
    chunks: Math.max(0, int(row.chunks, 0)),
    orphan: row.orphan === true,
    held: num(row.held),
    holding: num(row.holding),
    upstream: int(row.upstream, -1),
    node: str(row.node),
    stream: STREAM_SET.has(row.stream) ? row.stream : null,
    interrupt: str(row.interrupt),
    resume: str(row.resume),
    thread: str(row.thread),
    send: str(row.send),
  };
}

/**
 * The `extra` fields of one event, typed, or null when they are not an object.
 * @param {unknown} fields
 * @returns {Extra | null}
 */
export function readExtra(fields) {
  if (!isObject(fields)) return null;
  /** @type {Extra} */
  const own = {};
  if ("name" in fields) own.name = text(fields.name);
  if ("tags" in fields) own.tags = strings(fields.tags);
  if (fields.mode !== null && fields.mode !== undefined) own.mode = String(fields.mode);
  if (fields.ns !== null && fields.ns !== undefined) own.ns = String(fields.ns);
  if (typeof fields.diff === "string") own.diff = fields.diff;
  if (typeof fields.note === "string") own.note = fields.note;
  return own;
}

/**
 * The columns of `events`, each an array (empty when missing), and `extra` an object.
 * @param {WireEvents} events
 */
export function columnsOf(events) {
  /** @param {keyof WireEvents} key */
  const column = (key) => {
    const value = events[key];
    return Array.isArray(value) ? value : [];
  };
  return {
    us: column("us"),
    kind: column("kind"),
    run: column("run"),
    text: column("text"),
    extra: isObject(events.extra) ? events.extra : {},
  };
}

/**
 * Columns of events starting `skip` events later (`extra` is keyed by absolute seq, it stays).
 * @param {WireEvents} events
 * @param {number} skip
 * @returns {WireEvents}
 */
export function sliceColumns(events, skip) {
  const columns = columnsOf(events);
  return {
    us: columns.us.slice(skip),
    kind: columns.kind.slice(skip),
    run: columns.run.slice(skip),
    text: columns.text.slice(skip),
    extra: columns.extra,
  };
}

/**
 * Why the page cannot read `snapshot`: null when it can (an empty object is an empty trace), else
 * the snapshot's `v` (a version this page does not know, or none).
 * @param {Record<string, unknown>} snapshot
 * @returns {{version: unknown} | null}
 */
export function unknownVersion(snapshot) {
  if (Object.keys(snapshot).length === 0 || snapshot.v === VERSION) return null;
  return { version: snapshot.v };
}

/**
 * The events of a snapshot as a batch from seq 0: as many as every required column holds, at
 * most `count`. Null when `snapshot` is not an object.
 * @param {unknown} snapshot
 * @returns {(Batch & {name: string}) | null}
 */
export function readSnapshot(snapshot) {
  if (!isObject(snapshot)) return null;
  const events = isObject(snapshot.events) ? snapshot.events : {};
  const held = Math.min(...REQUIRED.map((key) => (Array.isArray(events[key]) ? events[key].length : 0)));
  const count = int(snapshot.count, Array.isArray(events.kind) ? events.kind.length : 0);
  return {
    name: text(snapshot.name),
    from: 0,
    to: Math.max(0, Math.min(count, held)),
    now: num(snapshot.now),
    kinds: snapshot.kinds,
    runs: Array.isArray(snapshot.runs) ? snapshot.runs : [],
    events,
  };
}

/**
 * A delta as a batch, or null when it is unusable: bad bounds, or a required column shorter
 * than the events it announces.
 * @param {unknown} delta
 * @returns {Batch | null}
 */
export function readDelta(delta) {
  if (!isObject(delta)) return null;
  const { from, to } = delta;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from) return null;
  const events = isObject(delta.events) ? delta.events : {};
  for (const key of REQUIRED) {
    if (to > from && !(Array.isArray(events[key]) && events[key].length >= to - from)) return null;
  }
  return {
    from,
    to,
    now: num(delta.now),
    kinds: delta.kinds,
    runs: Array.isArray(delta.runs) ? delta.runs : [],
    events,
  };
}

/**
 * A payload answer, or null when it names no event.
 * @param {unknown} message
 * @returns {Payload | null}
 */
export function readPayload(message) {
  if (!isObject(message) || !Number.isInteger(message.seq)) return null;
  return { seq: message.seq, text: text(message.text), truncated: message.truncated === true };
}

/**
 * The kind of a kernel message: `delta`, `payload`, or null for anything else.
 * @param {unknown} message
 * @returns {"delta" | "payload" | null}
 */
export function messageKind(message) {
  if (!isObject(message)) return null;
  if (message.type === DELTA) return "delta";
  if (message.type === PAYLOAD) return "payload";
  return null;
}

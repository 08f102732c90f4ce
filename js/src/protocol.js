// @ts-check
// What comes over the wire, read defensively (docs/protocol.md; field names from contract.js).
//
// The kernel is trusted to follow the contract, but a page may meet a trace written by another
// streamviz, a hand-edited file or a half-sent message: every reader here turns whatever arrived
// into values of the documented types (or says the message is unusable) so the store and the views
// never meet a wrong type. Nothing here keeps state.

import { BINARY_COLUMNS, BUFFER_PATHS, COLUMNS, DELTA, PAYLOAD, READS, STATUSES, STREAMS } from "./contract.js";

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
 * @property {ToolCall[] | null} calls  a model run's tool calls, as far as they streamed, else null
 * @property {CallRef | null} call  a tool run: the call it answered, else null
 * @property {RunUsage | null} usage  model token usage in and below the run (and its cost), else null
 * @property {DetachedFlag | null} detached  a root that very likely lost its parent, else null
 */

/**
 * @typedef {object} RunUsage  token usage of a run and the model runs below it
 * @property {number} in
 * @property {number} out
 * @property {number} total
 * @property {number} cache_read
 * @property {number} cache_write
 * @property {number} reasoning
 * @property {number} calls     model calls counted
 * @property {number | null} cost  dollars of the priced part, null if none is priced
 * @property {number} unpriced  model calls counted that have no price (their cost is unknown)
 * @property {boolean} priced   a price table was in use
 * @property {string | null} model  a model run's model name
 */

/**
 * @typedef {object} DetachedFlag  "possibly detached: callbacks not propagated"
 * @property {number} parent  index of the likely parent run, -1 if unknown
 * @property {string} name    its name
 * @property {string} text
 * @property {string} fix
 */

/**
 * @typedef {object} ToolCall  one tool call a model run asked for (docs/protocol.md, "RunRow")
 * @property {string | null} id    the call id (null until streamed)
 * @property {string | null} name  the tool's name (null until streamed)
 * @property {string} args  its arguments as text (`city: Paris, unit: celsius`)
 * @property {boolean} done  the model run ended: the call is final
 * @property {number} tool  index of the tool run that answered it, or -1
 */

/**
 * @typedef {object} CallRef  the call a tool run answered
 * @property {string | null} id  the call id
 * @property {number} by  index of the model run that asked for it, or -1
 * @property {number} n   the call's place among that run's calls
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

/** @typedef {ArrayLike<unknown>} Column  a JSON list, or a typed array decoded from a buffer */

/**
 * @typedef {object} WireEvents  event columns as read (each may be missing or malformed)
 * @property {Column} [us]
 * @property {Column} [kind]
 * @property {Column} [run]
 * @property {Column} [text]
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

/**
 * @typedef {Batch & {retext: Retext}} Delta  a delta: its batch, and new texts for events already sent
 */

/**
 * @typedef {Array<[number, string]>} Retext  `[seq, text]` pairs: an event's new display text
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
    calls: readCalls(row.calls),
    call: readCallRef(row.call),
    usage: readUsage(row.usage),
    detached: readDetached(row.detached),
  };
}

/**
 * A run's usage, typed (null when not an object). Pages made before it read null.
 * @param {unknown} value
 * @returns {RunUsage | null}
 */
function readUsage(value) {
  if (!isObject(value)) return null;
  /** @param {unknown} n */
  const count = (n) => Math.max(0, int(n, 0));
  const cost = num(value.cost);
  return {
    in: count(value.in),
    out: count(value.out),
    total: count(value.total),
    cache_read: count(value.cache_read),
    cache_write: count(value.cache_write),
    reasoning: count(value.reasoning),
    calls: count(value.calls),
    cost: cost !== null && cost >= 0 ? cost : null,
    unpriced: count(value.unpriced),
    priced: value.priced === true,
    model: str(value.model),
  };
}

/**
 * A root's detached flag, typed (null when not an object).
 * @param {unknown} value
 * @returns {DetachedFlag | null}
 */
function readDetached(value) {
  if (!isObject(value)) return null;
  return {
    parent: int(value.parent, -1),
    name: text(value.name),
    text: text(value.text) || "possibly detached: callbacks not propagated",
    fix: text(value.fix),
  };
}

/**
 * A model run's tool calls, typed (null when there are none or they are not a list).
 * @param {unknown} value
 * @returns {ToolCall[] | null}
 */
function readCalls(value) {
  if (!Array.isArray(value) || !value.length) return null;
  return value.filter(isObject).map((call) => ({
    id: str(call.id),
    name: str(call.name),
    args: text(call.args),
    done: call.done === true,
    tool: int(call.tool, -1),
  }));
}

/**
 * The call a tool run answered, typed (null when not an object).
 * @param {unknown} value
 * @returns {CallRef | null}
 */
function readCallRef(value) {
  if (!isObject(value)) return null;
  return { id: str(value.id), by: int(value.by, -1), n: Math.max(0, int(value.n, 0)) };
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
 * @param {unknown} value
 * @returns {value is Column}
 */
function isColumn(value) {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/**
 * The columns of `events`, each an array or typed array (empty when missing), and `extra` an object.
 * @param {WireEvents} events
 */
export function columnsOf(events) {
  /**
   * @param {keyof WireEvents} key
   * @returns {Column}
   */
  const column = (key) => {
    const value = events[key];
    return isColumn(value) ? value : [];
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
    us: sliceOf(columns.us, skip),
    kind: sliceOf(columns.kind, skip),
    run: sliceOf(columns.run, skip),
    text: sliceOf(columns.text, skip),
    extra: columns.extra,
  };
}

/**
 * @param {Column} column
 * @param {number} skip
 * @returns {Column}
 */
function sliceOf(column, skip) {
  if (Array.isArray(column)) return column.slice(skip);
  const typed = /** @type {Float64Array} */ (column);
  return typed.subarray(Math.min(skip, typed.length));
}

// --- binary columns (docs/protocol.md, "Binary columns") ---------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The whole text blob decoded at once; a leading U+FEFF is a text's, not a byte order mark. */
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The bytes of a buffer as the wire hands it over (a DataView from ipywidgets, an ArrayBuffer or
 * a typed array), or null for anything else.
 * @param {unknown} value
 * @returns {Uint8Array | null}
 */
function bytesOf(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

/** @typedef {Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor} NumberType */
/** @type {Record<string, NumberType>} */
const NUMBER_TYPES = { float64: Float64Array, int32: Int32Array, uint32: Uint32Array };
/** @type {Record<string, "getFloat64" | "getInt32" | "getUint32">} */
const GETTERS = { float64: "getFloat64", int32: "getInt32", uint32: "getUint32" };

/**
 * A little-endian buffer of numbers as a typed array (shared when aligned, else copied).
 * @param {Uint8Array} bytes
 * @param {string} type  `float64`, `int32` or `uint32`
 */
function numbersOf(bytes, type) {
  const Type = NUMBER_TYPES[type];
  const size = Type.BYTES_PER_ELEMENT;
  const count = Math.floor(bytes.byteLength / size);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Type(count);
    for (let i = 0; i < count; i += 1) out[i] = view[GETTERS[type]](i * size, true);
    return out;
  }
  const buffer = /** @type {ArrayBuffer} */ (bytes.buffer);
  if (bytes.byteOffset % size === 0) return new Type(buffer, bytes.byteOffset, count);
  return new Type(bytes.slice(0, count * size).buffer);
}

/**
 * A text column sent as one UTF-8 blob and the UTF-16 end offset of each text.
 * @param {unknown} value
 * @returns {string[] | null}
 */
function textsOf(value) {
  if (!isObject(value)) return null;
  const blob = bytesOf(value.utf8);
  const endBytes = bytesOf(value.end);
  if (blob === null || endBytes === null) return null;
  const whole = UTF8.decode(blob);
  const ends = numbersOf(endBytes, "uint32");
  const texts = new Array(ends.length);
  let at = 0;
  for (let i = 0; i < ends.length; i += 1) {
    const end = ends[i];
    texts[i] = whole.slice(at, end);
    if (end > at) at = end;
  }
  return texts;
}

/**
 * Event columns with the binary ones decoded: numbers as typed arrays, texts as strings. JSON
 * lists (the JSON form, or a column the kernel could not put in binary) are kept as they are.
 * @param {unknown} events
 * @returns {WireEvents}
 */
export function readColumns(events) {
  if (!isObject(events)) return {};
  /** @type {Record<string, unknown>} */
  const read = { ...events };
  for (const [name, type] of Object.entries(BINARY_COLUMNS)) {
    const value = events[name];
    if (value === undefined || Array.isArray(value)) continue;
    if (type === "utf8") read[name] = textsOf(value) ?? undefined;
    else {
      const bytes = bytesOf(value);
      read[name] = bytes === null ? undefined : numbersOf(bytes, type);
    }
  }
  return /** @type {WireEvents} */ (read);
}

/**
 * A custom message with its buffers put back where `buffer_paths` says (as ipywidgets does for
 * state), or the message itself when it names none.
 * @param {unknown} message
 * @param {unknown} buffers
 * @returns {unknown}
 */
export function withBuffers(message, buffers) {
  if (!isObject(message) || !Array.isArray(message[BUFFER_PATHS])) return message;
  const list = Array.isArray(buffers) ? buffers : [];
  /** @type {Record<string, any>} */
  const whole = { ...message };
  delete whole[BUFFER_PATHS];
  /** @type {unknown[]} */ (message[BUFFER_PATHS]).forEach((path, index) => {
    if (!Array.isArray(path) || path.length === 0 || index >= list.length) return;
    let holder = whole;
    for (const key of path.slice(0, -1)) {
      holder[key] = isObject(holder[key]) ? { ...holder[key] } : {};
      holder = holder[key];
    }
    holder[path[path.length - 1]] = list[index];
  });
  return whole;
}

/**
 * Why the page cannot read `snapshot`: null when it can (an empty object is an empty trace), else
 * the snapshot's `v` (a version this page does not know, or none).
 * @param {Record<string, unknown>} snapshot
 * @returns {{version: unknown} | null}
 */
export function unknownVersion(snapshot) {
  if (Object.keys(snapshot).length === 0 || READS.includes(/** @type {number} */ (snapshot.v))) return null;
  return { version: snapshot.v };
}

/**
 * @param {unknown} column
 * @returns {number}  how many values the column holds (0 when it is none)
 */
function lengthOf(column) {
  return isColumn(column) ? column.length : 0;
}

/**
 * The events of a snapshot as a batch from seq 0: as many as every required column holds, at
 * most `count`; `total`: how many events the trace held when it was taken (more than `count`
 * while the rest of a big trace is on its way as deltas; `count` when absent). Null when
 * `snapshot` is not an object.
 * @param {unknown} snapshot
 * @returns {(Batch & {name: string, total: number}) | null}
 */
export function readSnapshot(snapshot) {
  if (!isObject(snapshot)) return null;
  const events = readColumns(snapshot.events);
  const columns = /** @type {Record<string, unknown>} */ (events);
  const held = Math.min(...REQUIRED.map((key) => lengthOf(columns[key])));
  const count = int(snapshot.count, lengthOf(events.kind));
  const to = Math.max(0, Math.min(count, held));
  return {
    name: text(snapshot.name),
    total: Math.max(to, int(snapshot.total, to)),
    from: 0,
    to,
    now: num(snapshot.now),
    kinds: snapshot.kinds,
    runs: Array.isArray(snapshot.runs) ? snapshot.runs : [],
    events,
  };
}

/**
 * A delta as a batch with its `retext`, or null when it is unusable: bad bounds, or a required
 * column shorter than the events it announces. A delta without `retext` (an older kernel) has none.
 * @param {unknown} delta
 * @returns {Delta | null}
 */
export function readDelta(delta) {
  if (!isObject(delta)) return null;
  const { from, to } = delta;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from) return null;
  const events = readColumns(delta.events);
  const columns = /** @type {Record<string, unknown>} */ (events);
  for (const key of REQUIRED) {
    if (to > from && lengthOf(columns[key]) < to - from) return null;
  }
  return {
    from,
    to,
    now: num(delta.now),
    kinds: delta.kinds,
    runs: Array.isArray(delta.runs) ? delta.runs : [],
    events,
    retext: readRetext(delta.retext),
  };
}

/** A seq written as a key: decimal digits, no sign, no leading zero (`"0"`, `"17"`). */
const SEQ_KEY = /^(?:0|[1-9][0-9]*)$/;

/**
 * A delta's `retext` (seq as a decimal string → the event's new display text) as `[seq, text]`
 * pairs. Keys that are not a seq and values that are not strings are left out; whether the copy
 * holds the seq is the store's to say.
 * @param {unknown} value
 * @returns {Retext}
 */
export function readRetext(value) {
  if (!isObject(value) || Array.isArray(value)) return [];
  /** @type {Retext} */
  const entries = [];
  for (const [key, text] of Object.entries(value)) {
    const seq = Number(key);
    if (SEQ_KEY.test(key) && Number.isSafeInteger(seq) && typeof text === "string") entries.push([seq, text]);
  }
  return entries;
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

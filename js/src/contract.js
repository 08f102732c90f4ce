// @ts-check
// The widget contract as the front-end reads it: streamviz/widgets/contract.json, the one
// declaration the Python widget and this module both take their views, filter keys, message kinds,
// wire fields and snapshot version from (docs/protocol.md says what each means). esbuild bundles the
// JSON into widget.js; node (the tests) imports it with an import attribute.
//
// Names the code relies on by meaning (the `delta` message, the `kinds` filter key...) are looked
// up here and checked against the contract when the module loads: a name renamed on the Python
// side only fails every test at once instead of leaving pages blank.

import contract from "../../streamviz/widgets/contract.json" with { type: "json" };

/**
 * `name` when the contract's `list` declares it; throws otherwise.
 * @template {string} T
 * @param {readonly string[]} list
 * @param {T} name
 * @param {string} where
 * @returns {T}
 */
function declared(list, name, where) {
  if (!list.includes(name)) throw new Error(`streamviz: contract.json declares no ${where} "${name}"`);
  return name;
}

/** The snapshot version this page understands; a snapshot with another one is refused. */
export const VERSION = contract.version;

/** Snapshot versions this page reads (version 1 is version 2's JSON form, without buffers). */
export const READS = /** @type {readonly number[]} */ (contract.reads);
if (!READS.includes(VERSION)) throw new Error("streamviz: contract.json's reads lacks its version");

/** The event columns sent as binary buffers, and their types (docs/protocol.md). */
export const BINARY_COLUMNS = /** @type {Readonly<Record<string, string>>} */ (contract.binary.columns);
/** The key of a custom message naming where its buffers go. */
export const BUFFER_PATHS = contract.binary.buffer_paths;

/** Views the `view` trait may name; the first one is the default. */
export const VIEWS = /** @type {readonly string[]} */ (contract.views);

/** The include/exclude lists of the `filters` trait (astream_events semantics). */
export const FILTER_LISTS = /** @type {readonly string[]} */ (contract.filters.lists);
/** The `filters` key listing the event kinds shown (empty: all). */
export const KINDS_KEY = declared([contract.filters.kinds], "kinds", "filter key");
/** The `filters` key holding the search text. */
export const SEARCH_KEY = declared([contract.filters.search], "search", "filter key");

/** Kernel → page messages. */
export const DELTA = declared(contract.messages.to_page, "delta", "message to the page");
export const PAYLOAD = declared(contract.messages.to_page, "payload", "message to the page");
/** Page → kernel: the request for an event's full payload. */
export const PAYLOAD_REQUEST = declared(contract.messages.to_kernel, "payload", "message to the kernel");
/** Page → kernel: a click on a replay's time axis, `{type: "seek", ms}`. */
export const SEEK_REQUEST = declared(contract.messages.to_kernel, "seek", "message to the kernel");

/** Keys of the snapshot, a delta and a payload answer, in the order the kernel writes them. */
export const SNAPSHOT_KEYS = /** @type {readonly string[]} */ (contract.snapshot);
export const DELTA_KEYS = /** @type {readonly string[]} */ (contract.delta);
export const PAYLOAD_KEYS = /** @type {readonly string[]} */ (contract.payload);
/** The event columns (one entry per event) and the fields of the sparse `extra`. */
export const COLUMNS = /** @type {readonly string[]} */ (contract.columns);
export const EXTRA_FIELDS = /** @type {readonly string[]} */ (contract.extra);
/** The fields of a RunRow. */
export const RUN_ROW_KEYS = /** @type {readonly string[]} */ (contract.run_row);

/** A run's status; any other value reads as `running`. */
export const STATUSES = /** @type {readonly string[]} */ (contract.statuses);
/** How a run's chunks render (`text` or `json`). */
export const STREAMS = /** @type {readonly string[]} */ (contract.streams);

// The columns and statuses the views read by name.
for (const name of ["us", "kind", "run", "text"]) declared(COLUMNS, name, "event column");
for (const name of ["running", "ok", "error", "cancelled", "interrupted"]) declared(STATUSES, name, "status");

/**
 * What the widget shows instead of a snapshot whose version it does not know (text, never markup).
 * @param {unknown} version the snapshot's `v`
 * @returns {string}
 */
export function refusalText(version) {
  if (!Number.isInteger(version)) {
    return `This trace carries no snapshot version this page understands (it understands version ${VERSION}). Upgrade streamviz.`;
  }
  const older = /** @type {number} */ (version) < VERSION;
  return older
    ? `This trace was written by an older streamviz (snapshot version ${version}); this page understands version ${VERSION}. Display it again with this streamviz.`
    : `This trace was written by a newer streamviz (snapshot version ${version}); this page understands version ${VERSION}. Upgrade streamviz.`;
}

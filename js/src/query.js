// @ts-check
// Which events a table shows: the `filters` trait, the selected run and the search text.
//
// - `normalizeFilters` reads the trait whatever Python put there; `filtersEqual` compares two.
// - The include_/exclude_ lists keep `makeFilter`'s semantics (src/filters.js) with one reading
//   of the trait: an empty list means "no filter on this", as `kinds: []` means "all kinds".
//   (`makeFilter({include_names: []})` keeps nothing, the astream_events meaning of an empty
//   argument; a widget whose filters start empty must show everything.)
// - `EventQuery` keeps the matching event indexes and, when the criteria did not change, only
//   examines the events that arrived since the last update.

import { FILTER_LISTS, KINDS_KEY, SEARCH_KEY } from "./contract.js";
import { makeFilter } from "./filters.js";

/** @typedef {import("./store.js").Store} Store */

/**
 * @typedef {"include_names" | "include_types" | "include_tags" | "exclude_names" | "exclude_types" | "exclude_tags"} FilterList
 *   a list key of the trait (the names are the contract's; contract.test.js holds them to it)
 */

/**
 * @typedef {Record<FilterList | "kinds", string[]> & {search: string}} Filters
 *   the `filters` trait with every key present
 */

/** The contract's list keys, typed. */
const LISTS = /** @type {readonly FilterList[]} */ (FILTER_LISTS);

/**
 * @param {unknown} value
 * @returns {string[]}
 */
function uniqueStrings(value) {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((item) => item !== null && item !== undefined).map(String))];
}

/**
 * The `filters` trait with nothing filtered: every list empty, no search.
 * @returns {Filters}
 */
export function emptyFilters() {
  return normalizeFilters({});
}

/**
 * The `filters` trait with every key of the contract present: the lists, `kinds` and `search`.
 * @param {unknown} value  the trait as Python (or a user) left it
 * @returns {Filters}
 */
export function normalizeFilters(value) {
  /** @type {Record<string, unknown>} */
  const source = value && typeof value === "object" ? /** @type {Record<string, unknown>} */ (value) : {};
  /** @type {Record<string, string[] | string>} */
  const filters = {};
  for (const key of LISTS) filters[key] = uniqueStrings(source[key]);
  filters[KINDS_KEY] = uniqueStrings(source[KINDS_KEY]);
  filters[SEARCH_KEY] = typeof source[SEARCH_KEY] === "string" ? source[SEARCH_KEY] : "";
  return /** @type {Filters} */ (filters);
}

/**
 * Whether two values of the trait filter the same way.
 * @param {unknown} a
 * @param {unknown} b
 */
export function filtersEqual(a, b) {
  const x = normalizeFilters(a);
  const y = normalizeFilters(b);
  if (x.search !== y.search) return false;
  for (const key of [...LISTS, KINDS_KEY]) {
    if (x[key].length !== y[key].length) return false;
    for (let n = 0; n < x[key].length; n += 1) if (x[key][n] !== y[key][n]) return false;
  }
  return true;
}

/**
 * The `makeFilter` argument for the trait: empty lists are left out (see the header).
 * @param {Filters} filters
 * @returns {import("./filters.js").FilterSpec}
 */
export function filterSpec(filters) {
  /** @type {Partial<Record<FilterList, string[]>>} */
  const spec = {};
  for (const key of LISTS) if (filters[key].length) spec[key] = filters[key];
  return spec;
}

/**
 * True when `filters` narrows nothing.
 * @param {unknown} filters
 */
export function filtersEmpty(filters) {
  const f = normalizeFilters(filters);
  return !f.search.trim() && !f.kinds.length && LISTS.every((key) => !f[key].length);
}

/** Lower-cased text of event `k` as the search box matches it, one field at a time. */
/**
 * @param {Store} store
 * @param {number} k
 * @param {string} needle  lower-cased
 */
function matchesSearch(store, k, needle) {
  if (store.eventName(k).toLowerCase().includes(needle)) return true;
  if (store.eventKind(k).toLowerCase().includes(needle)) return true;
  for (const tag of store.eventTags(k)) if (tag.toLowerCase().includes(needle)) return true;
  const run = store.cols.run[k];
  if (run >= 0 && store.runs[run] && store.runPath(run).toLowerCase().includes(needle)) return true;
  return store.cols.text[k].toLowerCase().includes(needle);
}

export class EventQuery {
  /** @param {Store} store */
  constructor(store) {
    /** The store whose events are queried. */
    this.store = store;
    /** Matching event indexes, ascending. */
    /** @type {number[]} */
    this.rows = [];
    /** Events examined so far (0..scanned-1). */
    this.scanned = 0;
    /** The criteria as a string, to notice real changes. */
    /** @type {string | null} */
    this.key = null;
    this.filters = normalizeFilters({});
    this.selectedRun = "";
    this.seen = { generation: -1, structure: -1, text: -1 };
  }

  /**
   * Set the criteria; the rows are recomputed on the next `update()` only if they changed.
   * @param {unknown} filters  the trait
   * @param {unknown} selectedRun  a run id, or "" for every run
   */
  setCriteria(filters, selectedRun) {
    const normal = normalizeFilters(filters);
    const run = typeof selectedRun === "string" ? selectedRun : "";
    const key = JSON.stringify([normal, run]);
    if (key === this.key) return;
    this.key = key;
    this.filters = normal;
    this.selectedRun = run;
    this.invalidate();
  }

  invalidate() {
    this.rows = [];
    this.scanned = 0;
  }

  /** Bring `rows` up to date with the store; returns them. */
  update() {
    const store = this.store;
    const seen = this.seen;
    if (seen.generation !== store.generation || seen.structure !== store.structure || seen.text !== store.textVersion) {
      // A new snapshot, run names/tags/parents changed, or event texts (a retext; the search reads
      // them): what matched may have changed.
      this.seen = { generation: store.generation, structure: store.structure, text: store.textVersion };
      this.invalidate();
    }
    if (this.scanned >= store.count) return this.rows;
    const keep = this.predicate();
    const rows = this.rows;
    for (let k = this.scanned; k < store.count; k += 1) if (keep(k)) rows.push(k);
    this.scanned = store.count;
    return rows;
  }

  /** The run the rows are narrowed to: its index, -1 for none, -2 for an unknown id. */
  selectedIndex() {
    if (!this.selectedRun) return -1;
    const index = this.store.runIndex(this.selectedRun);
    return index >= 0 ? index : -2;
  }

  predicate() {
    const store = this.store;
    const filters = this.filters;
    const spec = filterSpec(filters);
    const keep = Object.keys(spec).length ? makeFilter(spec) : null;
    const kinds = filters.kinds.length ? new Set(filters.kinds) : null;
    /** @type {boolean[]} */
    const kindOk = [];
    const needle = filters.search.trim().toLowerCase();
    const root = this.selectedIndex();
    /** @type {boolean[]} */
    const within = [];
    const cols = store.cols;
    const passes = keep ? memoFilter(store, keep) : () => true;
    return (/** @type {number} */ k) => {
      if (root !== -1) {
        const run = cols.run[k];
        if (root === -2 || run < 0) return false;
        let inside = within[run];
        if (inside === undefined) inside = within[run] = store.isWithin(run, root);
        if (!inside) return false;
      }
      if (kinds) {
        const index = cols.kind[k];
        let ok = kindOk[index];
        if (ok === undefined) ok = kindOk[index] = kinds.has(store.eventKind(k));
        if (!ok) return false;
      }
      if (keep && !passes(k)) return false;
      return !needle || matchesSearch(store, k, needle);
    };
  }
}

/** Above this many (run, kind) pairs the memo of `memoFilter` is a Map, not a typed array. */
const MEMO_ARRAY_MAX = 1 << 22;

/**
 * `keep(store.record(k))` for events `k`, remembered per (run, kind): an event without `extra`
 * is seen by the filters as its run's name and tags and its kind alone, so every such event of a
 * run and kind gets the same answer (a 1,000,000-event trace has a few ten thousand pairs). Events
 * with `extra` (their own name, tags or graph mode) are asked one by one. Valid while the store's
 * runs, kinds and structure stay as they are (the query starts again when they change).
 * @param {Store} store
 * @param {(event: import("./filters.js").FilterEvent) => boolean} keep
 * @returns {(k: number) => boolean}
 */
export function memoFilter(store, keep) {
  const cols = store.cols;
  const extra = store.extra;
  const kinds = Math.max(1, store.kinds.length);
  const runs = store.runs.length;
  const size = (runs + 1) * kinds;
  // 0: not asked yet, 1: kept, 2: dropped.
  /** @type {{get(key: number): number | undefined, set(key: number, value: number): void}} */
  const memo = size <= MEMO_ARRAY_MAX ? arrayMemo(new Uint8Array(size)) : new Map();
  return (k) => {
    const kind = cols.kind[k];
    const run = cols.run[k];
    if (kind < 0 || kind >= kinds || run < -1 || run >= runs || extra.has(k)) {
      return keep(store.record(k));
    }
    const key = (run + 1) * kinds + kind;
    let known = memo.get(key);
    if (!known) {
      known = keep(store.record(k)) ? 1 : 2;
      memo.set(key, known);
    }
    return known === 1;
  };
}

/**
 * @param {Uint8Array} values
 * @returns {{get(key: number): number, set(key: number, value: number): void}}
 */
function arrayMemo(values) {
  return {
    get: (key) => values[key],
    set: (key, value) => {
      values[key] = value;
    },
  };
}

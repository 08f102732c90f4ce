// @ts-check
// The front-end's copy of a trace: built from the `snapshot` trait, grown by `delta` messages.
//
// - One Store per widget model (`holdStore(model)`), shared by every view of that model, so a
//   dashboard and a table displayed side by side hold the events once.
// - What arrives is read by protocol.js (types, bounds, the snapshot version); this module keeps
//   the copy and its indexes. Events stay columnar, as they arrive (docs/protocol.md): event k is seq
//   k; its time is kept in ms (the wire sends integer µs); the sparse `extra` (own name/tags, graph
//   mode/ns) stays sparse. Per-run indexes (the run's events, its stream events = token pieces,
//   their times = timeline ticks), the run tree and the values the filter bar offers are kept up
//   to date as events arrive: a delta costs O(its own size), never O(events held). LangGraph
//   stream parts (`on_graph_<mode>` events) are indexed per mode too.
// - Views subscribe and get a small change record; they redraw in their own animation frame.
// - Live updates never wait for the kernel (it cannot answer while the cell that streams runs):
//   a delta that starts beyond the copy's end is kept aside until the copy reaches it; the
//   kernel refreshes the snapshot trait while live, and a snapshot that holds more events than
//   the copy extends it. A delta that overlaps what the copy holds adds only its new part.
// - An event's text can change after it was sent (a delta's `retext`: a secret the kernel found
//   spread over tokens it had sent already). The copy takes the new texts, forgets the payloads
//   it had for those events, and tells the views which seqs changed (`retext`): rare, so the
//   views simply draw again what shows those events.
// - A snapshot of a version this page does not know is refused: the copy stays empty and
//   `refused` says why (index.js shows it instead of the view).

import { PAYLOAD_REQUEST, refusalText } from "./contract.js";
import { eventType } from "./filters.js";
import {
  columnsOf,
  int,
  messageKind,
  num,
  readDelta,
  readExtra,
  readPayload,
  readRun,
  readSnapshot,
  sliceColumns,
  text,
  unknownVersion,
  withBuffers,
} from "./protocol.js";
import { insertSorted, listAt } from "./sorted.js";
import { treeRows } from "./tree_order.js";

/** @typedef {import("./protocol.js").RunRow} RunRow */
/** @typedef {import("./protocol.js").Extra} Extra */
/** @typedef {import("./protocol.js").Batch} Batch */
/** @typedef {import("./protocol.js").Delta} Delta */
/** @typedef {import("./protocol.js").Retext} Retext */
/** @typedef {import("./protocol.js").WireEvents} WireEvents */
/** @typedef {import("./tree_order.js").TreeOrder} TreeOrder */

/**
 * @typedef {object} Change  what a store update changed (the fields present say what)
 * @property {boolean} [reset]      the copy was rebuilt from a snapshot (or refused one)
 * @property {number} [events]      events added
 * @property {boolean} [runs]       run rows (or the name) changed
 * @property {boolean} [structure]  run names, tags or parents changed
 * @property {boolean} [values]     the filter bar's value lists grew
 * @property {boolean} [now]        the clock moved
 * @property {number} [payload]     the seq whose full payload came
 * @property {number[]} [retext]    seqs of held events whose text changed (their payloads went too)
 * @property {boolean} [refused]    a snapshot was refused, or the first one taken after a refusal
 */

/**
 * @typedef {object} Model  the part of anywidget's model API the store and the views use
 * @property {(name: string) => any} get
 * @property {(name: string, value: unknown) => void} set
 * @property {() => void} save_changes
 * @property {(message: unknown) => void} send
 * @property {(name: string, callback: (...args: any[]) => void) => void} on
 * @property {(name: string, callback: (...args: any[]) => void) => void} off
 */

/** @typedef {"names" | "types" | "tags"} ValueDim */

const RUN_EVENT = /^on_(.+)_(start|stream|end|error)$/;
/** Kind names of LangGraph stream parts: `on_graph_<mode>`. */
export const GRAPH_PREFIX = "on_graph_";
/** Deltas kept aside while the copy has a gap before them (the oldest go first). */
const MAX_PENDING = 256;

/**
 * @param {readonly string[]} a
 * @param {readonly string[]} b
 */
function sameList(a, b) {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

export class Store {
  constructor() {
    /** Subscribers, called with a change record after each applied snapshot, delta or payload. */
    /** @type {Set<(change: Change) => void>} */
    this.listeners = new Set();
    /** Sends a message to the kernel (a no-op until `connect`). */
    /** @type {(message: unknown) => void} */
    this.send = () => {};
    /** Bumped when the whole copy is replaced by a snapshot. */
    this.generation = 0;
    /** Bumped when runs are added, re-parented, renamed or re-tagged (paths, tree order...). */
    this.structure = 0;
    /** Bumped when the filter bar's value lists grow. */
    this.valuesVersion = 0;
    /** Bumped when held events get new texts (a retext). */
    this.textVersion = 0;
    /** Full payloads received, by seq. */
    /** @type {Map<number, {text: string, truncated: boolean}>} */
    this.payloads = new Map();
    /** Seqs whose payload was asked for and not answered yet. */
    /** @type {Set<number>} */
    this.pendingPayloads = new Set();
    /** Deltas that start beyond the copy's end, by their `from` (applied once it is reached). */
    /** @type {Map<number, Delta>} */
    this.pending = new Map();
    /** Why the last snapshot was refused (text for the page), or null. */
    /** @type {string | null} */
    this.refused = null;
    this.name = "";
    this.count = 0;
    /** How many events the trace held when its snapshot was taken: more than `count` while the
     * rest of a big trace is on its way (see `loading`). */
    this.total = 0;
    this.now = 0;
    /** @type {string[]} */
    this.kinds = [];
    /** Per kind index: is it a stream event, the run type it names, is it a LangGraph part. */
    /** @type {Array<{stream: boolean, runType: string | null, graph: boolean}>} */
    this.kindInfo = [];
    /** Per kind index: how many events of that kind are held. */
    /** @type {number[]} */
    this.kindCounts = [];
    /** Run rows by index (holes for runs not seen yet). */
    /** @type {RunRow[]} */
    this.runs = [];
    /** @type {Map<string, number>} */
    this.byId = new Map();
    /** Event columns: time in ms, kind index, run index, display text (event k is seq k). */
    /** @type {{t: number[], kind: number[], run: number[], text: string[]}} */
    this.cols = { t: [], kind: [], run: [], text: [] };
    /** Events whose name/tags differ from their run's, or with a graph mode/ns: seq → fields. */
    /** @type {Map<number, Extra>} */
    this.extra = new Map();
    /** Per run: indexes of its events. */
    /** @type {number[][]} */
    this.runEvents = [];
    /** Per run: indexes of its stream events (the token pieces), in order. */
    /** @type {number[][]} */
    this.runStream = [];
    /** Per run: times of its stream events (the timeline's ticks), ascending. */
    /** @type {number[][]} */
    this.runTicks = [];
    /** Per run: child run indexes, ascending. */
    /** @type {number[][]} */
    this.children = [];
    /** Runs that stream (have stream events or a `stream` mode), in the order they started to. */
    /** @type {number[]} */
    this.streamRuns = [];
    /** @type {boolean[]} */
    this.isStreamRun = [];
    /** Values the filter bar offers: name / type / tag, in first seen order. */
    /** @type {Record<ValueDim, Set<string>>} */
    this.values = { names: new Set(), types: new Set(), tags: new Set() };
    /** Run paths (`runPath`) cached for the tree structure `pathsAt`. */
    /** @type {string[]} */
    this.paths = [];
    this.pathsAt = -1;
    /** @type {(TreeOrder & {structure: number}) | null} */
    this.order = null;
    /** LangGraph stream parts: how many, their modes (first seen order), seqs and times per mode. */
    this.partCount = 0;
    /** @type {string[]} */
    this.partModes = [];
    /** @type {Map<string, number[]>} */
    this.partSeqs = new Map();
    /** @type {Map<string, number[]>} */
    this.partTimes = new Map();
  }

  /** The rest of a big trace is on its way: the copy holds fewer events than its snapshot said
   * the trace held (the header says so, docs/protocol.md). */
  get loading() {
    return this.count < this.total;
  }

  /** Empty the copy (the payloads asked for and the deltas kept aside stay). */
  clear() {
    this.name = "";
    this.count = 0;
    this.total = 0;
    this.now = 0;
    this.kinds = [];
    this.kindInfo = [];
    this.kindCounts = [];
    this.runs = [];
    this.byId = new Map();
    this.cols = { t: [], kind: [], run: [], text: [] };
    this.extra = new Map();
    this.runEvents = [];
    this.runStream = [];
    this.runTicks = [];
    this.children = [];
    this.streamRuns = [];
    this.isStreamRun = [];
    this.values = { names: new Set(), types: new Set(), tags: new Set() };
    this.paths = [];
    this.order = null;
    this.partCount = 0;
    this.partModes = [];
    this.partSeqs = new Map();
    this.partTimes = new Map();
  }

  /**
   * @param {(change: Change) => void} listener
   * @returns {() => void} the unsubscribe
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @param {Change} change */
  notify(change) {
    for (const listener of [...this.listeners]) listener(change);
  }

  /**
   * Follow `model`: its snapshot trait and its custom messages. Returns the disconnect.
   * @param {Model} model
   * @returns {() => void}
   */
  connect(model) {
    this.send = (message) => model.send(message);
    const onSnapshot = () => this.loadSnapshot(model.get("snapshot"));
    /**
     * @param {unknown} message
     * @param {unknown} [buffers]  its binary buffers (DataViews), placed by `buffer_paths`
     */
    const onMessage = (message, buffers) => this.onMessage(withBuffers(message, buffers));
    model.on("change:snapshot", onSnapshot);
    model.on("msg:custom", onMessage);
    onSnapshot();
    return () => {
      model.off("change:snapshot", onSnapshot);
      model.off("msg:custom", onMessage);
      this.send = () => {};
    };
  }

  /** @param {unknown} message a custom message from the kernel */
  onMessage(message) {
    const kind = messageKind(message);
    if (kind === "delta") this.applyDelta(message);
    else if (kind === "payload") this.receivePayload(message);
  }

  // --- snapshot and deltas -------------------------------------------------------------------

  /**
   * Take a snapshot: an empty copy is built from it; a copy it holds more events than is
   * extended by the events it lacks (events are only ever appended: the copy is a prefix), and
   * takes its texts for the events it held (a retext it missed is in them); run rows and the
   * clock are refreshed either way. A snapshot of an unknown version empties the copy and sets
   * `refused`.
   * @param {unknown} snapshot
   * @returns {boolean} whether the snapshot was taken
   */
  loadSnapshot(snapshot) {
    const read = readSnapshot(snapshot);
    if (read === null) return false;
    const unknown = unknownVersion(/** @type {Record<string, unknown>} */ (snapshot));
    if (unknown !== null) {
      this.refuse(refusalText(unknown.version));
      return false;
    }
    const wasRefused = this.refused !== null;
    this.refused = null;
    if (read.to < this.count) return false;
    const held = this.count;
    if (held === 0) {
      this.clear();
      this.name = read.name;
      this.total = read.total;
      this.now = read.now ?? 0;
      this.mergeKinds(read.kinds);
      for (const row of read.runs) this.putRun(row);
      this.appendEvents(read.events, read.to);
      this.generation += 1;
      this.structure += 1;
      this.valuesVersion += 1;
      this.notify({ reset: true, events: read.to, runs: true, structure: true, refused: wasRefused });
    } else {
      const renamed = read.name !== this.name || read.total > this.total;
      this.name = read.name;
      this.total = Math.max(this.total, read.total);
      this.extend(read, renamed);
    }
    this.drainPending();
    // The snapshot came after every delta kept aside: its texts are the newest.
    if (held > 0) this.takeTexts(read);
    return true;
  }

  /**
   * Empty the copy and keep why (the views give way to the text).
   * @param {string} reason
   */
  refuse(reason) {
    this.clear();
    this.pending.clear();
    this.refused = reason;
    this.generation += 1;
    this.structure += 1;
    this.valuesVersion += 1;
    this.notify({ reset: true, events: 0, runs: true, structure: true, refused: true });
  }

  /**
   * Apply a delta. One that continues the copy, or overlaps its end, adds its new events; one
   * that starts beyond the end is kept until the copy gets there (from a snapshot or an earlier
   * delta); one the copy already holds adds nothing. The new texts of its `retext` apply (with
   * the delta, for one kept aside) to the events the copy holds. Never asks the kernel for
   * anything. A page that refused the snapshot ignores deltas (they are of the same unknown
   * version).
   * @param {unknown} message  a `delta` message
   * @returns {boolean} whether it was applied now
   */
  applyDelta(message) {
    const delta = readDelta(message);
    if (delta === null || this.refused !== null) return false;
    const { from, to } = delta;
    if (from > this.count) {
      this.pending.set(from, delta);
      if (this.pending.size > MAX_PENDING) this.pending.delete(Math.min(...this.pending.keys()));
      return false;
    }
    this.retext(delta.retext);
    // A delta that adds no events is still news when it is the newest (a heartbeat, run rows).
    if (to < this.count || (to === this.count && from < this.count)) return false;
    this.extend(delta, false);
    this.drainPending();
    return true;
  }

  /**
   * Add events `this.count..to-1` of a batch that starts at event `from` (`from <= count`), with
   * the kind names, run rows and clock that came with it, and tell the views.
   * @param {Batch} batch
   * @param {boolean} renamed  the trace's name changed (the header redraws)
   */
  extend(batch, renamed) {
    const skip = this.count - batch.from;
    const size = batch.to - this.count;
    const structure = this.structure;
    const values = this.valuesVersion;
    if (batch.now !== null) this.now = Math.max(this.now, batch.now);
    this.mergeKinds(batch.kinds);
    for (const row of batch.runs) this.putRun(row);
    this.appendEvents(skip > 0 ? sliceColumns(batch.events, skip) : batch.events, size);
    this.notify({
      events: size,
      runs: batch.runs.length > 0 || renamed,
      structure: this.structure !== structure,
      values: this.valuesVersion !== values,
      now: batch.now !== null,
    });
  }

  /**
   * Apply the deltas kept aside that the copy has now reached; of those it passed, only the new
   * texts (their events are held already).
   */
  drainPending() {
    while (this.pending.size > 0) {
      /** @type {Delta | null} */
      let next = null;
      for (const [from, delta] of this.pending) {
        if (delta.to <= this.count) {
          this.pending.delete(from);
          this.retext(delta.retext);
        } else if (from <= this.count && (next === null || delta.to > next.to)) next = delta;
      }
      if (next === null) return;
      this.pending.delete(next.from);
      this.retext(next.retext);
      this.extend(next, false);
    }
  }

  /**
   * Give held events new display texts: entries for events the copy does not hold are ignored.
   * The payloads kept for those events go (the details pane asks again), and the views are told.
   * @param {Retext} entries
   */
  retext(entries) {
    /** @type {number[]} */
    const changed = [];
    const texts = this.cols.text;
    for (const [seq, text] of entries) {
      if (seq >= this.count || texts[seq] === text) continue;
      texts[seq] = text;
      this.payloads.delete(seq);
      changed.push(seq);
    }
    if (changed.length === 0) return;
    this.textVersion += 1;
    this.notify({ retext: changed });
  }

  /**
   * Take a snapshot's texts for the events the copy holds (those whose text changed since the
   * copy got them: a retext it missed).
   * @param {Batch} snapshot
   */
  takeTexts(snapshot) {
    const texts = columnsOf(snapshot.events).text;
    const held = this.cols.text;
    /** @type {Retext} */
    const changed = [];
    const end = Math.min(snapshot.to, this.count, texts.length);
    for (let seq = 0; seq < end; seq += 1) {
      const fresh = text(texts[seq]);
      if (fresh !== held[seq]) changed.push([seq, fresh]);
    }
    this.retext(changed);
  }

  /**
   * Append the kind names that are new. Names are unique and only ever appended, so skipping
   * the names already held accepts both "new names only" and a full list.
   * @param {unknown} names
   */
  mergeKinds(names) {
    if (!Array.isArray(names)) return;
    const held = new Set(this.kinds);
    for (const raw of names) {
      const name = String(raw);
      if (held.has(name)) continue;
      held.add(name);
      this.kinds.push(name);
    }
  }

  /**
   * Add or replace a run row (by its index `i`) and keep the tree and the value lists in step.
   * @param {unknown} raw
   */
  putRun(raw) {
    const row = readRun(raw);
    if (row === null) return;
    const i = row.i;
    const old = this.runs[i];
    this.runs[i] = row;
    if (old && old.id !== row.id && this.byId.get(old.id) === i) this.byId.delete(old.id);
    this.byId.set(row.id, i);
    if (!old || old.parent !== row.parent) {
      if (old && old.parent >= 0) {
        const siblings = this.children[old.parent];
        const at = siblings ? siblings.indexOf(i) : -1;
        if (at >= 0) siblings.splice(at, 1);
      }
      if (row.parent >= 0 && row.parent !== i) insertSorted(listAt(this.children, row.parent), i);
      this.structure += 1;
    } else if (old.name !== row.name || !sameList(old.tags, row.tags)) {
      this.structure += 1;
    }
    if (row.stream !== null) this.markStreamRun(i);
    this.addValue("names", row.name);
    this.addValue("types", row.type);
    for (const tag of row.tags) this.addValue("tags", tag);
  }

  /** @param {number} i */
  markStreamRun(i) {
    if (this.isStreamRun[i]) return;
    this.isStreamRun[i] = true;
    this.streamRuns.push(i);
  }

  /**
   * Offer `value` in the filter bar (empty names and types are not offered; an empty tag is).
   * @param {ValueDim} which
   * @param {string} value
   */
  addValue(which, value) {
    const set = this.values[which];
    if (value === "" && which !== "tags") return;
    if (set.has(value)) return;
    set.add(value);
    this.valuesVersion += 1;
  }

  /**
   * Whether kind `index` is a stream event, the run type it names, and whether it is a LangGraph
   * stream part (`on_graph_<mode>`), cached per kind.
   * @param {number} index
   * @returns {{stream: boolean, runType: string | null, graph: boolean}}
   */
  kindOf(index) {
    let info = this.kindInfo[index];
    if (info === undefined) {
      const name = this.kinds[index];
      const match = name === undefined ? null : RUN_EVENT.exec(name);
      info = {
        stream: match !== null && match[2] === "stream",
        runType: match ? match[1] : null,
        graph: name?.startsWith(GRAPH_PREFIX) === true,
      };
      if (name !== undefined) this.kindInfo[index] = info;
    }
    return info;
  }

  /**
   * Append `size` events from columnar `events` (seq count..count+size-1) and index them.
   * @param {WireEvents} events
   * @param {number} size
   */
  appendEvents(events, size) {
    const cols = this.cols;
    const { us, kind, run, text: texts, extra } = columnsOf(events);
    const from = this.count;
    for (const [key, fields] of Object.entries(extra)) {
      const seq = Number(key);
      if (Number.isInteger(seq) && seq >= from && seq < from + size) this.putExtra(seq, fields);
    }
    for (let j = 0; j < size; j += 1) {
      const k = this.count;
      const r = int(run[j], -1);
      const kindIndex = int(kind[j], -1);
      const time = (num(us[j]) ?? 0) / 1000;
      cols.t.push(time);
      cols.kind.push(kindIndex);
      cols.run.push(r);
      cols.text.push(text(texts[j]));
      this.count = k + 1;
      this.kindCounts[kindIndex] = (this.kindCounts[kindIndex] ?? 0) + 1;
      const info = this.kindOf(kindIndex);
      if (r >= 0) {
        listAt(this.runEvents, r).push(k);
        if (info.stream) {
          listAt(this.runStream, r).push(k);
          listAt(this.runTicks, r).push(time);
          this.markStreamRun(r);
        }
      }
      if (info.runType === null) this.addValue("types", this.eventTypeOf(k));
      // Only graph kinds and events with `extra` can be parts (a look-up per event costs ~10 %).
      const mode = info.graph || (this.extra.size > 0 && this.extra.has(k)) ? this.partMode(k) : null;
      if (mode !== null) this.indexPart(k, mode, time);
    }
  }

  /**
   * The stream mode of event `k` if it is a LangGraph stream part, else null: an `on_graph_<mode>`
   * event (its `extra.mode` when given: a remote `end` part is `on_graph_end_part`), or the error
   * a remote server reported (the root run's `on_chain_error`, with mode `error`).
   * @param {number} k
   * @returns {string | null}
   */
  partMode(k) {
    const name = this.kinds[this.cols.kind[k]];
    if (name === undefined) return null;
    const own = this.extra.get(k)?.mode;
    if (name.startsWith(GRAPH_PREFIX)) return own ?? name.slice(GRAPH_PREFIX.length);
    return own === "error" ? own : null;
  }

  /**
   * @param {number} k
   * @param {string} mode
   * @param {number} time
   */
  indexPart(k, mode, time) {
    let seqs = this.partSeqs.get(mode);
    let times = this.partTimes.get(mode);
    if (!seqs || !times) {
      seqs = [];
      times = [];
      this.partSeqs.set(mode, seqs);
      this.partTimes.set(mode, times);
      this.partModes.push(mode);
    }
    seqs.push(k);
    times.push(time);
    this.partCount += 1;
  }

  /**
   * Keep the `extra` fields of event `seq` (and offer its own name and tags in the filter bar).
   * @param {number} seq
   * @param {unknown} fields
   */
  putExtra(seq, fields) {
    const own = readExtra(fields);
    if (own === null) return;
    if (own.name !== undefined) this.addValue("names", own.name);
    for (const tag of own.tags ?? []) this.addValue("tags", tag);
    this.extra.set(seq, own);
  }

  // --- payloads --------------------------------------------------------------------------------

  /**
   * Ask the kernel for the full payload of event `seq` (once; no kernel, no answer).
   * @param {number} seq
   */
  requestPayload(seq) {
    if (this.payloads.has(seq) || this.pendingPayloads.has(seq)) return;
    this.pendingPayloads.add(seq);
    this.send({ type: PAYLOAD_REQUEST, seq });
  }

  /** @param {unknown} message  a `payload` message */
  receivePayload(message) {
    const payload = readPayload(message);
    if (payload === null) return;
    const { seq, text, truncated } = payload;
    this.pendingPayloads.delete(seq);
    this.payloads.set(seq, { text, truncated });
    this.notify({ payload: seq });
  }

  // --- reading events ------------------------------------------------------------------------

  /** @param {number} k */
  eventKind(k) {
    const index = this.cols.kind[k];
    return this.kinds[index] ?? `kind #${index}`;
  }

  /** @param {number} k */
  eventName(k) {
    const own = this.extra.get(k)?.name;
    if (own !== undefined) return own;
    return this.runs[this.cols.run[k]]?.name ?? "";
  }

  /**
   * @param {number} k
   * @returns {string[]}
   */
  eventTags(k) {
    return this.extra.get(k)?.tags ?? this.runs[this.cols.run[k]]?.tags ?? [];
  }

  /**
   * LangGraph stream mode of event `k`, or null.
   * @param {number} k
   * @returns {string | null}
   */
  eventMode(k) {
    return this.extra.get(k)?.mode ?? null;
  }

  /**
   * LangGraph namespace of event `k` (`|`-joined), or null.
   * @param {number} k
   * @returns {string | null}
   */
  eventNs(k) {
    return this.extra.get(k)?.ns ?? null;
  }

  /**
   * The event as `makeFilter` sees it.
   * @param {number} k
   * @returns {import("./filters.js").FilterEvent}
   */
  record(k) {
    return {
      event: this.eventKind(k),
      name: this.eventName(k),
      tags: this.eventTags(k),
      mode: this.eventMode(k) ?? undefined,
    };
  }

  /**
   * What `*_types` filters compare with: the run type, a custom event's name, a graph mode.
   * @param {number} k
   * @returns {string}
   */
  eventTypeOf(k) {
    return this.kindOf(this.cols.kind[k]).runType ?? eventType(this.record(k));
  }

  // --- runs ------------------------------------------------------------------------------------

  /**
   * The index of the run with id `id`, or -1.
   * @param {string} id
   */
  runIndex(id) {
    return id ? (this.byId.get(id) ?? -1) : -1;
  }

  /**
   * Names from the root down to run `i`, joined with ` › ` (cached per tree structure).
   * @param {number} i
   */
  runPath(i) {
    if (this.pathsAt !== this.structure) {
      this.paths = [];
      this.pathsAt = this.structure;
    }
    let path = this.paths[i];
    if (path === undefined) {
      path = this.ancestors(i)
        .map((index) => this.runs[index].name)
        .join(" › ");
      this.paths[i] = path;
    }
    return path;
  }

  /**
   * Run `i` and its known ancestors, root first (stops on unknown parents and on cycles).
   * @param {number} i
   * @returns {number[]}
   */
  ancestors(i) {
    const chain = [];
    const seen = new Set();
    let index = i;
    while (index >= 0 && this.runs[index] && !seen.has(index)) {
      seen.add(index);
      chain.push(index);
      index = this.runs[index].parent;
    }
    return chain.reverse();
  }

  /**
   * True when run `i` is `root` or one of its descendants.
   * @param {number} i
   * @param {number} root
   */
  isWithin(i, root) {
    let index = i;
    for (let steps = 0; index >= 0 && steps <= this.runs.length; steps += 1) {
      if (index === root) return true;
      index = this.runs[index]?.parent ?? -1;
    }
    return false;
  }

  /**
   * Runs in tree order (parents before children, siblings in run order) with their depth.
   * @returns {TreeOrder & {structure: number}}
   */
  treeOrder() {
    if (this.order && this.order.structure === this.structure) return this.order;
    this.order = { structure: this.structure, ...treeRows(this.runs, this.children) };
    return this.order;
  }
}

// Stores are shared by every view of one widget. anywidget hands `initialize` and each `render`
// a different stand-in for the same model, so they are found by the widget's `uid` trait (a
// model without one, such as an offline page's, by the object itself). A store lives while
// something holds it: `initialize` holds it for the model's life, each view for its own.

/** @typedef {{model: Model}} Holder */
/** @typedef {{store: Store, holders: Set<Holder>, via: Holder | null, disconnect: () => void}} Entry */

/** @type {Map<string, Entry>} */
const BY_UID = new Map();
/** @type {WeakMap<Model, Entry>} */
const BY_MODEL = new WeakMap();

/**
 * @param {Model} model
 * @returns {string | null}
 */
function uidOf(model) {
  const uid = model.get("uid");
  return typeof uid === "string" && uid !== "" ? uid : null;
}

/**
 * Hold the store of `model` (created and connected on first use): `{store, release}`. The
 * store follows the model through a holder's stand-in; when that holder lets go while others
 * still hold the store, it follows the model through another's.
 * @param {Model} model
 * @returns {{store: Store, release: () => void}}
 */
export function holdStore(model) {
  const uid = uidOf(model);
  let entry = uid !== null ? BY_UID.get(uid) : BY_MODEL.get(model);
  if (!entry) {
    entry = { store: new Store(), holders: new Set(), via: null, disconnect: () => {} };
    if (uid !== null) BY_UID.set(uid, entry);
    else BY_MODEL.set(model, entry);
  }
  const held = entry;
  /** @type {Holder} */
  const holder = { model };
  held.holders.add(holder);
  if (held.via === null) {
    held.via = holder;
    held.disconnect = held.store.connect(model);
  }
  return {
    store: held.store,
    release() {
      if (!held.holders.delete(holder)) return;
      if (held.via !== holder) return;
      held.disconnect();
      held.via = null;
      const next = held.holders.values().next().value;
      if (next !== undefined) {
        held.via = next;
        held.disconnect = held.store.connect(next.model);
      } else if (uid !== null) {
        BY_UID.delete(uid);
      } else {
        BY_MODEL.delete(model);
      }
    },
  };
}

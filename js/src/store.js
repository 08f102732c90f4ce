// The front-end's copy of a trace: built from the `snapshot` trait, grown by `delta` messages.
//
// - One Store per widget model (`storeFor(model)`), shared by every view of that model, so a
//   dashboard and a table displayed side by side hold the events once.
// - Events stay columnar, as they arrive (PROTOCOL.md): event k is seq k; its time is kept in ms
//   (the wire sends integer µs); the sparse `extra` (own name/tags, graph mode/ns) stays sparse.
//   Per-run indexes (the run's events, its
//   stream events = token pieces, their times = timeline ticks), the run tree and the values the
//   filter bar offers are kept up to date as events arrive: a delta costs O(its own size), never
//   O(events held). LangGraph stream parts (`on_graph_<mode>` events) are indexed per mode too.
// - Views subscribe and get a small change record; they redraw in their own animation frame.
// - Live updates never wait for the kernel (it cannot answer while the cell that streams runs):
//   a delta that starts beyond the copy's end is kept aside until the copy reaches it; the
//   kernel refreshes the snapshot trait while live, and a snapshot that holds more events than
//   the copy extends it. A delta that overlaps what the copy holds adds only its new part.

import { eventType } from "./filters.js";

const RUN_EVENT = /^on_(.+)_(start|stream|end|error)$/;
/** Kind names of LangGraph stream parts: `on_graph_<mode>`. */
export const GRAPH_PREFIX = "on_graph_";
/** Columns every event has (`text` may be missing: then it is empty). */
const COLUMNS = ["us", "kind", "run"];
/** Deltas kept aside while the copy has a gap before them (the oldest go first). */
const MAX_PENDING = 256;
const STATUSES = new Set(["running", "ok", "error", "cancelled"]);

function int(value, fallback) {
  return Number.isInteger(value) ? value : fallback;
}

function num(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function str(value) {
  return value === null || value === undefined ? null : String(value);
}

function strings(value) {
  return Array.isArray(value) ? value.map((item) => String(item)) : [];
}

/** A RunRow with every field present and of its documented type (rows come from the kernel). */
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
    status: STATUSES.has(status) ? status : "running",
    error: str(row.error),
    first: num(row.first),
    chunks: Math.max(0, int(row.chunks, 0)),
    orphan: row.orphan === true,
    held: num(row.held),
    upstream: int(row.upstream, -1),
    node: str(row.node),
    stream: row.stream === "text" || row.stream === "json" ? row.stream : null,
  };
}

function sameList(a, b) {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/** Columns of events starting `skip` events later (`extra` is keyed by absolute seq). */
function sliceColumns(events, skip) {
  const sliced = {};
  for (const key of [...COLUMNS, "text"]) {
    if (Array.isArray(events[key])) sliced[key] = events[key].slice(skip);
  }
  sliced.extra = events.extra;
  return sliced;
}

/** Insert `value` into the ascending array `list` (children are kept in run order). */
function insertSorted(list, value) {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid] < value) low = mid + 1;
    else high = mid;
  }
  if (list[low] !== value) list.splice(low, 0, value);
}

export class Store {
  constructor() {
    /** Subscribers, called with a change record after each applied snapshot, delta or payload. */
    this.listeners = new Set();
    /** Sends a message to the kernel (a no-op until `connect`). */
    this.send = () => {};
    /** Bumped when the whole copy is replaced by a snapshot. */
    this.generation = 0;
    /** Bumped when runs are added, re-parented, renamed or re-tagged (paths, tree order...). */
    this.structure = 0;
    /** Bumped when the filter bar's value lists grow. */
    this.valuesVersion = 0;
    /** Full payloads received, by seq: `{text, truncated}`. */
    this.payloads = new Map();
    /** Seqs whose payload was asked for and not answered yet. */
    this.pendingPayloads = new Set();
    /** Deltas that start beyond the copy's end, by their `from` (applied once it is reached). */
    this.pending = new Map();
    this.clear();
  }

  clear() {
    this.name = "";
    this.count = 0;
    this.now = 0;
    this.kinds = [];
    /** Per kind index: `{stream, runType}` (is it a stream event, the run type it names). */
    this.kindInfo = [];
    /** Per kind index: how many events of that kind are held. */
    this.kindCounts = [];
    this.runs = [];
    this.byId = new Map();
    /** Event columns: time in ms, kind index, run index, display text (event k is seq k). */
    this.cols = { t: [], kind: [], run: [], text: [] };
    /** Events whose name/tags differ from their run's, or with a graph mode/ns: seq → fields. */
    this.extra = new Map();
    /** Per run: indexes of its events. */
    this.runEvents = [];
    /** Per run: indexes of its stream events (the token pieces), in order. */
    this.runStream = [];
    /** Per run: times of its stream events (the timeline's ticks), ascending. */
    this.runTicks = [];
    /** Per run: child run indexes, ascending. */
    this.children = [];
    /** Runs that stream (have stream events or a `stream` mode), in the order they started to. */
    this.streamRuns = [];
    this.isStreamRun = [];
    /** Values the filter bar offers: name / type / tag → first seen order. */
    this.values = { names: new Set(), types: new Set(), tags: new Set() };
    this.paths = [];
    this.order = null;
    /** LangGraph stream parts: how many, their modes (first seen order), seqs and times per mode. */
    this.partCount = 0;
    this.partModes = [];
    this.partSeqs = new Map();
    this.partTimes = new Map();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change) {
    for (const listener of [...this.listeners]) listener(change);
  }

  /** Follow `model`: its snapshot trait and its custom messages. Returns the disconnect. */
  connect(model) {
    this.send = (message) => model.send(message);
    const onSnapshot = () => this.loadSnapshot(model.get("snapshot"));
    const onMessage = (message) => this.onMessage(message);
    model.on("change:snapshot", onSnapshot);
    model.on("msg:custom", onMessage);
    onSnapshot();
    return () => {
      model.off("change:snapshot", onSnapshot);
      model.off("msg:custom", onMessage);
      this.send = () => {};
    };
  }

  onMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "delta") this.applyDelta(message);
    else if (message.type === "payload") this.receivePayload(message);
  }

  // --- snapshot and deltas -------------------------------------------------------------------

  /**
   * Take a snapshot: an empty copy is built from it; a copy it holds more events than is
   * extended by the events it lacks (events never change once sent: the copy is a prefix);
   * run rows and the clock are refreshed either way.
   */
  loadSnapshot(snapshot) {
    if (!snapshot || typeof snapshot !== "object") return false;
    const events = snapshot.events && typeof snapshot.events === "object" ? snapshot.events : {};
    let count = int(snapshot.count, Array.isArray(events.kind) ? events.kind.length : 0);
    const held = Math.min(...COLUMNS.map((key) => (Array.isArray(events[key]) ? events[key].length : 0)));
    count = Math.max(0, Math.min(count, held));
    if (count < this.count) return false;
    if (this.count === 0) {
      this.clear();
      this.name = String(snapshot.name ?? "");
      this.now = num(snapshot.now) ?? 0;
      this.mergeKinds(snapshot.kinds);
      for (const row of Array.isArray(snapshot.runs) ? snapshot.runs : []) this.putRun(row);
      this.appendEvents(events, count);
      this.generation += 1;
      this.structure += 1;
      this.valuesVersion += 1;
      this.notify({ reset: true, events: count, runs: true, structure: true });
    } else {
      const renamed = String(snapshot.name ?? "") !== this.name;
      this.name = String(snapshot.name ?? "");
      this.extend(0, count, snapshot.now, snapshot.kinds, snapshot.runs, events, renamed);
    }
    this.drainPending();
    return true;
  }

  /**
   * Apply a delta. One that continues the copy, or overlaps its end, adds its new events; one
   * that starts beyond the end is kept until the copy gets there (from a snapshot or an earlier
   * delta); one the copy already holds is dropped. Never asks the kernel for anything.
   */
  applyDelta(delta) {
    const from = delta.from;
    const to = delta.to;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from) return false;
    const events = delta.events && typeof delta.events === "object" ? delta.events : {};
    for (const key of COLUMNS) {
      if (to > from && !(Array.isArray(events[key]) && events[key].length >= to - from)) return false;
    }
    if (from > this.count) {
      this.pending.set(from, delta);
      if (this.pending.size > MAX_PENDING) this.pending.delete(Math.min(...this.pending.keys()));
      return false;
    }
    // A delta that adds no events is still news when it is the newest (a heartbeat, run rows).
    if (to < this.count || (to === this.count && from < this.count)) return false;
    this.extend(from, to, delta.now, delta.kinds, delta.runs, events, false);
    this.drainPending();
    return true;
  }

  /**
   * Add events `this.count..to-1` from columns that start at event `from` (`from <= count`),
   * with the kind names, run rows and clock that came with them, and tell the views.
   */
  extend(from, to, now, kinds, runs, events, renamed) {
    const skip = this.count - from;
    const size = to - this.count;
    const structure = this.structure;
    const values = this.valuesVersion;
    const clock = num(now);
    if (clock !== null) this.now = Math.max(this.now, clock);
    this.mergeKinds(kinds);
    const rows = Array.isArray(runs) ? runs : [];
    for (const row of rows) this.putRun(row);
    this.appendEvents(skip > 0 ? sliceColumns(events, skip) : events, size);
    this.notify({
      events: size,
      runs: rows.length > 0 || renamed,
      structure: this.structure !== structure,
      values: this.valuesVersion !== values,
      now: clock !== null,
    });
  }

  /** Apply the deltas kept aside that the copy has now reached; drop those it passed. */
  drainPending() {
    while (this.pending.size > 0) {
      let next = null;
      for (const [from, delta] of this.pending) {
        if (delta.to <= this.count) this.pending.delete(from);
        else if (from <= this.count && (next === null || delta.to > next.to)) next = delta;
      }
      if (next === null) return;
      this.pending.delete(next.from);
      this.extend(next.from, next.to, next.now, next.kinds, next.runs, next.events ?? {}, false);
    }
  }

  /**
   * Append the kind names that are new. Names are unique and only ever appended, so skipping
   * the names already held accepts both "new names only" and a full list (e.g. in a sync answer).
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

  putRun(raw) {
    if (!raw || typeof raw !== "object" || !Number.isInteger(raw.i) || raw.i < 0) return;
    const row = normalizeRun(raw);
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
      if (row.parent >= 0 && row.parent !== i) insertSorted((this.children[row.parent] ||= []), i);
      this.structure += 1;
    } else if (old.name !== row.name || !sameList(old.tags, row.tags)) {
      this.structure += 1;
    }
    if (row.stream !== null) this.markStreamRun(i);
    this.addValue("names", row.name);
    this.addValue("types", row.type);
    for (const tag of row.tags) this.addValue("tags", tag);
  }

  markStreamRun(i) {
    if (this.isStreamRun[i]) return;
    this.isStreamRun[i] = true;
    this.streamRuns.push(i);
  }

  addValue(which, value) {
    const set = this.values[which];
    if (value === "" && which !== "tags") return;
    if (set.has(value)) return;
    set.add(value);
    this.valuesVersion += 1;
  }

  kindOf(index) {
    let info = this.kindInfo[index];
    if (info === undefined) {
      const name = this.kinds[index];
      const match = name === undefined ? null : RUN_EVENT.exec(name);
      info = { stream: match !== null && match[2] === "stream", runType: match ? match[1] : null };
      if (name !== undefined) this.kindInfo[index] = info;
    }
    return info;
  }

  /** Append `size` events from columnar `events` (seq count..count+size-1) and index them. */
  appendEvents(events, size) {
    const cols = this.cols;
    const column = (key) => (Array.isArray(events[key]) ? events[key] : []);
    const us = column("us");
    const kind = column("kind");
    const run = column("run");
    const text = column("text");
    const extra = events.extra && typeof events.extra === "object" ? events.extra : {};
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
      cols.text.push(text[j] === null || text[j] === undefined ? "" : String(text[j]));
      this.count = k + 1;
      this.kindCounts[kindIndex] = (this.kindCounts[kindIndex] ?? 0) + 1;
      const info = this.kindOf(kindIndex);
      if (r >= 0) {
        (this.runEvents[r] ||= []).push(k);
        if (info.stream) {
          (this.runStream[r] ||= []).push(k);
          (this.runTicks[r] ||= []).push(time);
          this.markStreamRun(r);
        }
      }
      if (info.runType === null) this.addValue("types", this.eventTypeOf(k));
      const mode = this.partMode(k);
      if (mode !== null) this.indexPart(k, mode, time);
    }
  }

  /**
   * The stream mode of event `k` if it is a LangGraph stream part, else null: an `on_graph_<mode>`
   * event (its `extra.mode` when given: a remote `end` part is `on_graph_end_part`), or the error
   * a remote server reported (the root run's `on_chain_error`, with mode `error`).
   */
  partMode(k) {
    const name = this.kinds[this.cols.kind[k]];
    if (name === undefined) return null;
    const own = this.extra.get(k)?.mode;
    if (name.startsWith(GRAPH_PREFIX)) return own ?? name.slice(GRAPH_PREFIX.length);
    return own === "error" ? own : null;
  }

  indexPart(k, mode, time) {
    let seqs = this.partSeqs.get(mode);
    if (!seqs) {
      seqs = [];
      this.partSeqs.set(mode, seqs);
      this.partTimes.set(mode, []);
      this.partModes.push(mode);
    }
    seqs.push(k);
    this.partTimes.get(mode).push(time);
    this.partCount += 1;
  }

  /** Keep the `extra` fields of event `seq`, typed (name: string, tags: strings, mode/ns). */
  putExtra(seq, fields) {
    if (!fields || typeof fields !== "object") return;
    const own = {};
    if ("name" in fields) {
      own.name = fields.name === null || fields.name === undefined ? "" : String(fields.name);
      this.addValue("names", own.name);
    }
    if ("tags" in fields) {
      own.tags = strings(fields.tags);
      for (const tag of own.tags) this.addValue("tags", tag);
    }
    if (fields.mode !== null && fields.mode !== undefined) own.mode = String(fields.mode);
    if (fields.ns !== null && fields.ns !== undefined) own.ns = String(fields.ns);
    this.extra.set(seq, own);
  }

  // --- payloads --------------------------------------------------------------------------------

  /** Ask the kernel for the full payload of event `seq` (once; no kernel, no answer). */
  requestPayload(seq) {
    if (this.payloads.has(seq) || this.pendingPayloads.has(seq)) return;
    this.pendingPayloads.add(seq);
    this.send({ type: "payload", seq });
  }

  receivePayload(message) {
    if (!Number.isInteger(message.seq)) return;
    this.pendingPayloads.delete(message.seq);
    this.payloads.set(message.seq, {
      text: message.text === null || message.text === undefined ? "" : String(message.text),
      truncated: message.truncated === true,
    });
    this.notify({ payload: message.seq });
  }

  // --- reading events ------------------------------------------------------------------------

  eventKind(k) {
    const index = this.cols.kind[k];
    return this.kinds[index] ?? `kind #${index}`;
  }

  eventName(k) {
    const own = this.extra.get(k)?.name;
    if (own !== undefined) return own;
    return this.runs[this.cols.run[k]]?.name ?? "";
  }

  eventTags(k) {
    return this.extra.get(k)?.tags ?? this.runs[this.cols.run[k]]?.tags ?? [];
  }

  /** LangGraph stream mode of event `k`, or null. */
  eventMode(k) {
    return this.extra.get(k)?.mode ?? null;
  }

  /** LangGraph namespace of event `k` (`|`-joined), or null. */
  eventNs(k) {
    return this.extra.get(k)?.ns ?? null;
  }

  /** The event as `makeFilter` sees it. */
  record(k) {
    return {
      event: this.eventKind(k),
      name: this.eventName(k),
      tags: this.eventTags(k),
      mode: this.eventMode(k) ?? undefined,
    };
  }

  /** What `*_types` filters compare with: the run type, a custom event's name, a graph mode. */
  eventTypeOf(k) {
    return this.kindOf(this.cols.kind[k]).runType ?? eventType(this.record(k));
  }

  // --- runs ------------------------------------------------------------------------------------

  runIndex(id) {
    return id ? (this.byId.get(id) ?? -1) : -1;
  }

  /** Names from the root down to run `i`, joined with ` › ` (cached per tree structure). */
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

  /** Run `i` and its known ancestors, root first (stops on unknown parents and on cycles). */
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

  /** True when run `i` is `root` or one of its descendants. */
  isWithin(i, root) {
    let index = i;
    for (let steps = 0; index >= 0 && steps <= this.runs.length; steps += 1) {
      if (index === root) return true;
      index = this.runs[index]?.parent ?? -1;
    }
    return false;
  }

  /** Runs in tree order (parents before children, siblings in run order) with their depth. */
  treeOrder() {
    if (this.order && this.order.structure === this.structure) return this.order;
    this.order = { structure: this.structure, ...treeRows(this.runs, this.children) };
    return this.order;
  }
}

/**
 * Runs in tree order: `{rows, depth}` where `rows` lists run indexes (each root, then its
 * subtree) and `depth[n]` is the depth of `rows[n]`. A run whose parent is unknown is a root.
 * `children` may be omitted; it is then derived from the rows' `parent`.
 */
export function treeRows(runs, children = null) {
  let kids = children;
  if (!kids) {
    kids = [];
    runs.forEach((run, i) => {
      if (run && run.parent >= 0 && run.parent !== i) (kids[run.parent] ||= []).push(i);
    });
  }
  const rows = [];
  const depth = [];
  const seen = new Uint8Array(runs.length);
  const stack = [];
  for (let root = runs.length - 1; root >= 0; root -= 1) {
    const run = runs[root];
    if (!run) continue;
    if (run.parent < 0 || run.parent === root || !runs[run.parent]) stack.push(root, 0);
  }
  const visit = () => {
    while (stack.length) {
      const level = stack.pop();
      const i = stack.pop();
      if (seen[i]) continue;
      seen[i] = 1;
      rows.push(i);
      depth.push(level);
      const below = kids[i];
      if (below) for (let n = below.length - 1; n >= 0; n -= 1) if (runs[below[n]]) stack.push(below[n], level + 1);
    }
  };
  visit();
  // Runs caught in a parent cycle have no root above them: show them as roots rather than drop them.
  for (let i = 0; i < runs.length; i += 1) {
    if (runs[i] && !seen[i]) {
      stack.push(i, 0);
      visit();
    }
  }
  return { rows, depth };
}

// Stores are shared by every view of one widget. anywidget hands `initialize` and each `render`
// a different stand-in for the same model, so they are found by the widget's `uid` trait (a
// model without one, such as an offline page's, by the object itself). A store lives while
// something holds it: `initialize` holds it for the model's life, each view for its own.
const BY_UID = new Map();
const BY_MODEL = new WeakMap();

function uidOf(model) {
  const uid = model.get("uid");
  return typeof uid === "string" && uid !== "" ? uid : null;
}

/**
 * Hold the store of `model` (created and connected on first use): `{store, release}`. The
 * store follows the model through a holder's stand-in; when that holder lets go while others
 * still hold the store, it follows the model through another's.
 */
export function holdStore(model) {
  const uid = uidOf(model);
  let entry = uid !== null ? BY_UID.get(uid) : BY_MODEL.get(model);
  if (!entry) {
    const store = new Store();
    entry = { store, holders: new Set(), via: null, disconnect: () => {} };
    if (uid !== null) BY_UID.set(uid, entry);
    else BY_MODEL.set(model, entry);
  }
  const holder = { model };
  entry.holders.add(holder);
  if (entry.via === null) {
    entry.via = holder;
    entry.disconnect = entry.store.connect(model);
  }
  return {
    store: entry.store,
    release() {
      if (!entry.holders.delete(holder)) return;
      if (entry.via !== holder) return;
      entry.disconnect();
      entry.via = null;
      const next = entry.holders.values().next().value;
      if (next !== undefined) {
        entry.via = next;
        entry.disconnect = entry.store.connect(next.model);
      } else if (uid !== null) {
        BY_UID.delete(uid);
      } else {
        BY_MODEL.delete(model);
      }
    },
  };
}

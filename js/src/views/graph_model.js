// @ts-check
// LangGraph stream parts without the DOM: mode order, readable namespaces, what a part's text says
// (its step, type, task), and the grouping of `messages` tokens per node and LLM call. Pure
// functions, unit-tested on their own; views/graph.js and the timeline's part lanes use them.
//
// A part is an event `on_graph_<mode>` (docs/protocol.md): `extra` holds its mode, its namespace `ns`
// (`|`-joined levels such as `node_2:<task id>`, "" for the root graph), the node it came from as
// its name (when the part says so) and, for `messages`, the LLM call's tags. Its text is the token
// for `messages`, else the part as compact JSON, cut by the kernel past a couple of thousand
// characters (then it is no longer JSON: the functions here fall back to reading its beginning).

import { cellText, cut } from "../text.js";

/** Modes in the order the tabs and the timeline lanes show them; other modes follow, as seen. */
export const MODE_ORDER = ["values", "updates", "messages", "custom", "tasks", "debug", "checkpoints"];

/**
 * Lane and chip colours by mode (readable on light and dark backgrounds).
 * @type {Record<string, string>}
 */
export const MODE_COLORS = {
  values: "#0ea5e9",
  updates: "#22c55e",
  messages: "#3b82f6",
  custom: "#f59e0b",
  tasks: "#ec4899",
  debug: "#a855f7",
  checkpoints: "#14b8a6",
  error: "#dc2626",
};
const OTHER_MODE_COLORS = ["#64748b", "#84cc16", "#f97316", "#06b6d4", "#8b5cf6", "#e11d48"];

/**
 * The colour of `mode`: its own, or one picked from its name.
 * @param {string} mode
 * @returns {string}
 */
export function modeColor(mode) {
  if (Object.hasOwn(MODE_COLORS, mode)) return MODE_COLORS[mode];
  let hash = 0;
  for (let n = 0; n < mode.length; n += 1) hash = (hash * 31 + mode.charCodeAt(n)) >>> 0;
  return OTHER_MODE_COLORS[hash % OTHER_MODE_COLORS.length];
}

/**
 * `modes` (first seen order) sorted: the known ones in MODE_ORDER, then the others as seen.
 * @param {readonly string[]} modes
 * @returns {string[]}
 */
export function orderModes(modes) {
  const known = MODE_ORDER.filter((mode) => modes.includes(mode));
  return [...known, ...modes.filter((mode) => !MODE_ORDER.includes(mode))];
}

/**
 * The levels of a namespace: `[{node, task, level}]` (`node_2:<id>` → node `node_2`, task `<id>`).
 * @param {string | null | undefined} ns
 * @returns {Array<{node: string, task: string, level: string}>}
 */
export function nsLevels(ns) {
  if (ns === null || ns === undefined || ns === "") return [];
  return String(ns)
    .split("|")
    .map((level) => {
      const at = level.indexOf(":");
      return at < 0 ? { node: level, task: "", level } : { node: level.slice(0, at), task: level.slice(at + 1), level };
    });
}

/**
 * A namespace for reading: node names from the outer graph in, task ids left out.
 * @param {string | null | undefined} ns
 */
export function nsLabel(ns) {
  return nsLevels(ns)
    .map((level) => level.node || level.level)
    .join(" › ");
}

/**
 * The value of a JSON text, or `undefined` when it does not parse (e.g. cut by the kernel).
 * @param {unknown} text
 * @returns {any}
 */
export function parseJson(text) {
  if (typeof text !== "string" || text === "") return undefined;
  const first = text.charCodeAt(0);
  // Only objects, arrays, strings, numbers and literals: skip the parser for plain prose.
  if (
    !(
      first === 0x7b ||
      first === 0x5b ||
      first === 0x22 ||
      first === 0x2d ||
      (first >= 0x30 && first <= 0x39) ||
      first === 0x74 ||
      first === 0x66 ||
      first === 0x6e
    )
  ) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * `text` pretty-printed when it is JSON, else as it is.
 * @param {unknown} text
 * @returns {string}
 */
export function prettyText(text) {
  const value = parseJson(text);
  return value === undefined ? String(text ?? "") : JSON.stringify(value, null, 2);
}

/** @param {unknown} value */
function compact(value) {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const STEP = /"step":(-?\d+)/;
const TYPE = /"type":"((?:[^"\\]|\\.)*)"/;
const NAME = /"name":"((?:[^"\\]|\\.)*)"/;
const SOURCE = /"source":"((?:[^"\\]|\\.)*)"/;

/**
 * A JSON string's characters from its escaped form (`raw` as it stands between the quotes).
 * @param {string} raw
 */
function unescapeJson(raw) {
  const value = parseJson(`"${raw}"`);
  return typeof value === "string" ? value : raw;
}

/**
 * @param {Record<string, unknown> | null} value
 * @param {string} text
 */
function taskType(value, text) {
  if (value && typeof value === "object") {
    if ("result" in value || "error" in value || "interrupts" in value) return "task_result";
    if ("input" in value || "triggers" in value) return "task";
    return "";
  }
  if (/"(result|error|interrupts)":/.test(text)) return "task_result";
  return /"(input|triggers)":/.test(text) ? "task" : "";
}

/**
 * What a part's text says, for the list columns: `{step, type, task, body}` (strings, "" when
 * unknown). `step`: a debug event's step, a checkpoint's `metadata.step`; `type`: task,
 * task_result or checkpoint; `task`: the task's name (a checkpoint: the next nodes); `body`: the
 * part's payload in one line (a debug event's payload, an update without its node key).
 * `source`: a checkpoint's `metadata.source`.
 * @param {string} mode
 * @param {unknown} text
 * @param {string} [name]  the node the part came from, when known
 * @returns {PartInfo}
 */
export function partInfo(mode, text, name = "") {
  const source = String(text ?? "");
  const value = parseJson(source);
  /** @type {PartInfo} */
  const info = { step: "", type: "", task: "", body: source };
  const object = value && typeof value === "object" && !Array.isArray(value) ? value : null;
  if (mode === "debug") {
    if (object) {
      info.step = object.step === undefined ? "" : String(object.step);
      info.type = object.type === undefined ? "" : String(object.type);
      const payload = object.payload;
      if (payload && typeof payload === "object") {
        if (info.type === "checkpoint") info.task = Array.isArray(payload.next) ? payload.next.join(", ") : "";
        else info.task = payload.name === undefined ? "" : String(payload.name);
      }
      if (payload !== undefined) info.body = compact(payload);
    } else {
      const head = source.slice(0, 400);
      info.step = STEP.exec(head)?.[1] ?? "";
      info.type = unescapeJson(TYPE.exec(head)?.[1] ?? "");
      info.task = name || unescapeJson(NAME.exec(source)?.[1] ?? "");
    }
  } else if (mode === "tasks") {
    info.type = taskType(object, source);
    info.task =
      object && object.name !== undefined ? String(object.name) : name || unescapeJson(NAME.exec(source)?.[1] ?? "");
  } else if (mode === "checkpoints") {
    info.type = "checkpoint";
    if (object) {
      const metadata = object.metadata && typeof object.metadata === "object" ? object.metadata : {};
      info.step = metadata.step === undefined ? "" : String(metadata.step);
      info.task = Array.isArray(object.next) ? object.next.join(", ") : "";
      info.source = metadata.source === undefined ? "" : String(metadata.source);
    } else {
      info.step = STEP.exec(source)?.[1] ?? "";
      info.source = unescapeJson(SOURCE.exec(source)?.[1] ?? "");
    }
  } else if (mode === "updates") {
    if (object) {
      const keys = Object.keys(object);
      if (keys.length === 1 && (name === "" || keys[0] === name)) info.body = compact(object[keys[0]]);
    } else if (name) {
      const prefix = `{${JSON.stringify(name)}:`;
      if (source.startsWith(prefix)) info.body = source.slice(prefix.length);
    }
  }
  return info;
}

/** @typedef {{step: string, type: string, task: string, body: string, source?: string}} PartInfo */

/** @param {unknown} content */
function contentText(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block) => (typeof block === "string" ? block : block && typeof block.text === "string" ? block.text : ""))
    .join("");
}

const REMOTE_CONTENT = /^\[\{"content":"((?:[^"\\]|\\.)*)"/;

/**
 * The token of a `messages` part. In-process parts hold the token itself; a remote server's
 * (`messages-tuple`) hold `[message, metadata]` as JSON, maybe cut: then the message's content.
 * @param {unknown} text
 * @returns {string}
 */
export function messageToken(text) {
  const source = String(text ?? "");
  if (!source.startsWith("[{")) return source;
  const value = parseJson(source);
  if (Array.isArray(value)) {
    const message = value[0];
    return message && typeof message === "object" && "content" in message ? contentText(message.content) : source;
  }
  const match = REMOTE_CONTENT.exec(source);
  return match ? unescapeJson(match[1]) : source;
}

/**
 * The key of a tag list (the LLM call a `messages` token belongs to).
 * @param {readonly string[] | null | undefined} tags
 */
export function tagsKey(tags) {
  return (tags ?? []).join("\u0000");
}

/**
 * `messages` tokens grouped per namespace and node, then per LLM call (told apart by its tags:
 * LangGraph does not name the call a token comes from). Grows one part at a time:
 * `add(seq, {ns, node, tags})`; `groups` in first seen order, each
 * `{key, ns, node, count, first, last, calls: [{key, tags, seqs}]}`.
 */
/** @typedef {{key: string, tags: string[], seqs: number[]}} Call */
/**
 * @typedef {object} Group
 * @property {string} key
 * @property {string} ns
 * @property {string} node
 * @property {number} count
 * @property {number} first
 * @property {number} last
 * @property {Call[]} calls
 * @property {Map<string, Call>} callByKey
 */

export class MessageGroups {
  constructor() {
    /** @type {Group[]} */
    this.groups = [];
    /** @type {Map<string, Group>} */
    this.byKey = new Map();
    /** Group and call of each part added: seq → `{group, call}`. */
    /** @type {Map<number, {group: Group, call: Call}>} */
    this.where = new Map();
    this.count = 0;
  }

  /**
   * @param {number} seq
   * @param {{ns?: string | null, node?: string | null, tags?: readonly string[] | null}} part
   */
  add(seq, { ns, node, tags }) {
    const key = `${ns ?? ""}\u0001${node ?? ""}`;
    let group = this.byKey.get(key);
    if (!group) {
      group = { key, ns: ns ?? "", node: node ?? "", count: 0, first: seq, last: seq, calls: [], callByKey: new Map() };
      this.byKey.set(key, group);
      this.groups.push(group);
    }
    const callKey = tagsKey(tags);
    let call = group.callByKey.get(callKey);
    if (!call) {
      call = { key: callKey, tags: [...(tags ?? [])], seqs: [] };
      group.callByKey.set(callKey, call);
      group.calls.push(call);
    }
    call.seqs.push(seq);
    group.count += 1;
    group.last = seq;
    this.count += 1;
    this.where.set(seq, { group, call });
  }
}

/**
 * What the header says of a LangGraph thread: the latest root run paused ("paused: awaiting
 * input", with what it asks as `title`), or resumed ("resumed <thread> with <value>"); else null.
 * @param {ReadonlyArray<import("../protocol.js").RunRow | undefined>} runs
 * @returns {{text: string, title: string} | null}
 */
export function pauseState(runs) {
  let last = null;
  for (const run of runs) if (run && run.parent === -1) last = run;
  if (!last) return null;
  if (last.status === "interrupted") {
    return { text: "paused: awaiting input", title: last.interrupt ? cut(last.interrupt, 2000).text : "" };
  }
  if (last.resume !== null && last.status !== "error" && last.status !== "cancelled") {
    const text = `resumed ${last.thread ?? "thread"} with ${last.resume}`;
    return { text: cellText(text, 160), title: cut(text, 2000).text };
  }
  return null;
}

/** The node name LangGraph gives the `updates` part that says a run paused. */
export const INTERRUPT_KEY = "__interrupt__";

/**
 * Whether a part's text is an `__interrupt__` update (the graph paused; no node's update).
 * @param {unknown} text
 */
export function isInterrupt(text) {
  return String(text ?? "").startsWith(`{"${INTERRUPT_KEY}":`);
}

/**
 * What the interrupts of an `__interrupt__` update ask, one line: each interrupt's `value`
 * (its question) when the text is whole JSON, else the text as it came.
 * @param {unknown} text  the part's text (`{"__interrupt__": [...]}`, maybe cut)
 * @returns {string}
 */
export function interruptValues(text) {
  const source = String(text ?? "");
  const value = parseJson(source);
  const list = value && typeof value === "object" && !Array.isArray(value) ? value[INTERRUPT_KEY] : null;
  if (!Array.isArray(list)) return source;
  if (!list.length) return "(before or after a node: no question)";
  return list
    .map((item) => (item && typeof item === "object" && "value" in item ? compact(item.value) : compact(item)))
    .join("; ");
}

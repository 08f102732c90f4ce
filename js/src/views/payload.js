// @ts-check
// A payload as a person reads it: Python-like text (the `repr` LangChain prints) or plain JSON.
//
// A payload is the JSON text the kernel sends (`{"data": ..., "metadata": ...}`), written by
// streamviz/_serialization.py: values JSON cannot hold are `{"__sv__": kind, ...}` markers (a
// LangChain object is `{"__sv__": "lc", "type": "AIMessageChunk", "fields": {...}}`, a tuple
// `{"__sv__": "tuple", "items": [...]}`...). Neither view shows a marker:
// - `reprText`: each value as Python prints it: `AIMessageChunk(content='Why', id='run-1')`
//   (LangChain's repr: the class, then its fields as key=value, leaving out `type` and the fields
//   that are None), `{'topic': 'parrot'}`, `('a', 1)`; long lists and dicts one item per line,
//   objects on one line as `repr` prints them (the pane wraps them between words).
// - `plainJson`: the value as `model_dump(mode="json")` would give it: an object is its fields (a
//   message's include its `type`), tuples and sets are lists, other markers their text.

const MARKER = "__sv__";
/** Lines of the Python-like view are broken when longer than this. */
export const REPR_WIDTH = 88;
/** Past this many characters of JSON, the repr is one flat line per value (no pretty-printing). */
const PRETTY_LIMIT = 300_000;

/**
 * @typedef {{atom: string} | {open: string, close: string, items: Array<{key: string | null, value: Node}>, tuple?: boolean, call?: boolean}} Node
 */

/**
 * Python's repr of a string: single quotes unless the text holds one and no double quote.
 * @param {string} text
 */
export function pyString(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === "\\") out += "\\\\";
    else if (char === quote) out += `\\${quote}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out + quote;
}

/** @param {unknown} value */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {string} name  `module.Class` → `Class` */
function shortName(name) {
  const at = name.lastIndexOf(".");
  return at >= 0 ? name.slice(at + 1) : name;
}

/**
 * @param {unknown} value
 * @returns {Node}
 */
function toNode(value) {
  if (value === null || value === undefined) return { atom: "None" };
  if (value === true) return { atom: "True" };
  if (value === false) return { atom: "False" };
  if (typeof value === "number") return { atom: String(value) };
  if (typeof value === "string") return { atom: pyString(value) };
  if (Array.isArray(value))
    return { open: "[", close: "]", items: value.map((item) => ({ key: null, value: toNode(item) })) };
  if (!isObject(value)) return { atom: String(value) };
  const object = /** @type {Record<string, unknown>} */ (value);
  if (!(MARKER in object)) {
    return {
      open: "{",
      close: "}",
      items: Object.entries(object).map(([key, item]) => ({ key: `${pyString(key)}: `, value: toNode(item) })),
    };
  }
  return (
    markerNode(object) ?? {
      open: "{",
      close: "}",
      items: Object.entries(object).map(([key, item]) => ({ key: `${pyString(key)}: `, value: toNode(item) })),
    }
  );
}

/**
 * A `__sv__` marker as a node, or null when it is not one this page knows.
 * @param {Record<string, unknown>} m
 * @returns {Node | null}
 */
function markerNode(m) {
  const kind = m[MARKER];
  const type = typeof m.type === "string" ? m.type : "";
  const items = Array.isArray(m.items) ? m.items : null;
  switch (kind) {
    case "lc":
    case "model":
    case "dataclass": {
      const fields = isObject(m.fields) ? /** @type {Record<string, unknown>} */ (m.fields) : {};
      const name = kind === "lc" ? type : shortName(type);
      // LangChain's repr leaves out `type` and the fields left at None; other models show all.
      const entries = Object.entries(fields).filter(
        ([key, item]) => kind !== "lc" || (key !== "type" && item !== null && item !== undefined),
      );
      return {
        open: `${name}(`,
        close: ")",
        items: entries.map(([key, item]) => ({ key: `${key}=`, value: toNode(item) })),
        call: true,
      };
    }
    case "tuple":
      if (!items) return null;
      return { open: "(", close: ")", items: items.map((item) => ({ key: null, value: toNode(item) })), tuple: true };
    case "set":
    case "frozenset": {
      if (!items) return null;
      if (!items.length) return { atom: kind === "set" ? "set()" : "frozenset()" };
      const open = kind === "set" ? "{" : "frozenset({";
      return {
        open,
        close: kind === "set" ? "}" : "})",
        items: items.map((item) => ({ key: null, value: toNode(item) })),
      };
    }
    case "dict":
      if (!items) return null;
      return {
        open: "{",
        close: "}",
        items: items.map((pair) => {
          const [key, item] = Array.isArray(pair) ? pair : [pair, null];
          return { key: `${flat(toNode(key))}: `, value: toNode(item) };
        }),
      };
    case "uuid":
      return { atom: `UUID(${pyString(String(m.value))})` };
    case "datetime":
    case "date":
    case "time":
      return { atom: `datetime.${kind}.fromisoformat(${pyString(String(m.value))})` };
    case "timedelta": {
      const [days, seconds, micro] = Array.isArray(m.value) ? m.value : [];
      return { atom: `datetime.timedelta(days=${days}, seconds=${seconds}, microseconds=${micro})` };
    }
    case "bytes":
      return { atom: `base64.b64decode(${pyString(String(m.value))})` };
    case "float":
      return { atom: String(m.value) };
    case "error":
      return { atom: typeof m.repr === "string" && m.repr ? m.repr : `${type}(${pyString(String(m.message ?? ""))})` };
    case "repr":
      return { atom: String(m.repr ?? `<${type}>`) };
    case "cycle":
      return { atom: `<circular reference to ${shortName(type)}>` };
    case "depth":
      return { atom: `<${shortName(type)} nested too deep>` };
    default:
      return null;
  }
}

/**
 * A node on one line.
 * @param {Node} node
 * @returns {string}
 */
function flat(node) {
  if ("atom" in node) return node.atom;
  const inner = node.items.map((item) => (item.key ?? "") + flat(item.value)).join(", ");
  return node.open + inner + (node.tuple && node.items.length === 1 ? "," : "") + node.close;
}

/**
 * A node pretty-printed: on one line when it fits `width` from `column`, else one item per line
 * (indented by 4 more than the line it starts on, `indent`).
 * @param {Node} node
 * @param {number} indent
 * @param {number} column
 * @param {number} width
 * @returns {string}
 */
function pretty(node, indent, column, width) {
  const line = flat(node);
  // An object prints on one line, as `repr` does (the pane wraps it between its fields).
  if ("atom" in node || node.call || column + line.length <= width || !node.items.length) return line;
  const inner = indent + 4;
  const pad = " ".repeat(inner);
  const lines = node.items.map((item) => {
    const key = item.key ?? "";
    return `${pad}${key}${pretty(item.value, inner, inner + key.length, width)},`;
  });
  return `${node.open}\n${lines.join("\n")}\n${" ".repeat(indent)}${node.close}`;
}

/**
 * `value` (decoded JSON of a payload) as Python prints it, pretty-printed to `width`.
 * @param {unknown} value
 * @param {number} [width]
 */
export function pyRepr(value, width = REPR_WIDTH) {
  return pretty(toNode(value), 0, 0, width);
}

/**
 * `value` without markers: what `model_dump(mode="json")` of it would give.
 * @param {unknown} value
 * @returns {unknown}
 */
export function plainJson(value) {
  if (Array.isArray(value)) return value.map(plainJson);
  if (!isObject(value)) return value;
  const object = /** @type {Record<string, unknown>} */ (value);
  if (!(MARKER in object))
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, plainJson(item)]));
  const kind = object[MARKER];
  const items = Array.isArray(object.items) ? object.items : null;
  switch (kind) {
    case "lc":
    case "model":
    case "dataclass":
      return plainJson(object.fields);
    case "tuple":
    case "set":
    case "frozenset":
      return items ? items.map(plainJson) : [];
    case "dict":
      return Object.fromEntries(
        (items ?? []).map((pair) => {
          const [key, item] = Array.isArray(pair) ? pair : [pair, null];
          return [typeof key === "string" ? key : flat(toNode(key)), plainJson(item)];
        }),
      );
    case "uuid":
    case "datetime":
    case "date":
    case "time":
    case "timedelta":
    case "bytes":
    case "float":
      return object.value;
    default: {
      const node = markerNode(object);
      return node
        ? flat(node)
        : Object.fromEntries(Object.entries(object).map(([key, item]) => [key, plainJson(item)]));
    }
  }
}

/**
 * The two views of a payload's text, or null when it is not JSON (e.g. cut): `repr` lists each
 * of `data`'s values (`chunk: AIMessageChunk(...)`), then the metadata when there is any; `json`
 * is the whole payload as plain JSON, indented.
 * @param {string} text
 * @returns {{repr: string, json: string} | null}
 */
export function payloadViews(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const width = text.length > PRETTY_LIMIT ? Number.POSITIVE_INFINITY : REPR_WIDTH;
  const json = JSON.stringify(plainJson(value), null, 2);
  const body = isObject(value) ? /** @type {Record<string, unknown>} */ (value) : null;
  if (!body || !("data" in body)) return { repr: pyRepr(value, width), json };
  const lines = [];
  const data = body.data;
  if (isObject(data) && !(MARKER in /** @type {object} */ (data))) {
    for (const [key, item] of Object.entries(/** @type {Record<string, unknown>} */ (data))) {
      lines.push(`${key}: ${pretty(toNode(item), 0, key.length + 2, width)}`);
    }
  } else lines.push(`data: ${pretty(toNode(data), 0, 6, width)}`);
  const metadata = body.metadata;
  if (isObject(metadata) && Object.keys(/** @type {object} */ (metadata)).length) {
    lines.push(`metadata: ${pretty(toNode(metadata), 0, 10, width)}`);
  }
  return { repr: lines.join("\n"), json };
}

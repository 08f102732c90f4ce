// @ts-check
// Text for display and the one way views make DOM elements.
//
// Everything a trace carries (names, tags, payload previews, tokens) is untrusted: it reaches the
// page only as text nodes and as values of attributes that are not URLs. `h` is the only element
// builder the views use, and it refuses event-handler and URL attributes, so no code path can turn
// data into markup. Long texts are cut before any other work (a 1 MB line costs nothing to show),
// C0/C1 control characters become visible symbols, and bidi override characters are shown as
// their code point so that a U+202E in a name cannot reverse the text around it.

/** At most this many characters of a text in a table cell or a tree label. */
export const CELL_CHARS = 300;
/** At most this many characters of a payload in the details pane. */
export const DETAIL_CHARS = 100_000;

// C0 controls except \t and \n (kept by multi-line views), DEL and the C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f-\u009f]/g;
// Embeddings, overrides and isolates: they reorder the characters that follow them.
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/g;

/** @param {string} char */
function controlPicture(char) {
  const code = char.charCodeAt(0);
  if (code === 0x0a) return "↵";
  if (code === 0x09) return "⇥";
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ ␛ …
  if (code === 0x7f) return "␡";
  return codePoint(char);
}

/** @param {string} char */
function codePoint(char) {
  return `⟨U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`;
}

/**
 * Make control characters visible. `multiline` keeps newlines and tabs as they are (for `pre`
 * blocks and token text); otherwise they become ↵ and ⇥ too.
 * @param {unknown} text
 * @returns {string}
 */
export function visible(text, multiline = false) {
  return String(text)
    .replace(multiline ? CONTROL : CONTROL_ONE_LINE, controlPicture)
    .replace(BIDI_CONTROL, codePoint);
}

/**
 * Cut `text` to at most `max` characters without splitting a surrogate pair.
 * Returns `{text, rest}` where `rest` is how many characters were left out.
 * @param {unknown} text
 * @param {number} max
 * @returns {{text: string, rest: number}}
 */
export function cut(text, max) {
  const whole = text == null ? "" : String(text);
  if (whole.length <= max) return { text: whole, rest: 0 };
  let end = max;
  const code = whole.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return { text: whole.slice(0, end), rest: whole.length - end };
}

/**
 * One-line display text for a cell: cut to `max` (with …), controls made visible.
 * @param {unknown} text
 * @param {number} [max]
 */
export function cellText(text, max = CELL_CHARS) {
  const part = cut(text, max);
  return visible(part.text) + (part.rest ? "…" : "");
}

/** Number formats by decimals (`toLocaleString` with options builds one per call: ~30 µs). */
/** @type {Map<number, Intl.NumberFormat>} */
const MS_FORMATS = new Map();

/**
 * `1,234.500`: milliseconds with thousands separators and exactly `digits` decimals, so the
 * numbers of a column (event times, axis ticks) line up.
 * @param {number | null | undefined} ms
 * @param {number} [digits]
 */
export function formatMs(ms, digits = 1) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  let format = MS_FORMATS.get(digits);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
    MS_FORMATS.set(digits, format);
  }
  return format.format(ms);
}

/**
 * `1,234 ms`, or `–` when unknown.
 * @param {number | null | undefined} value
 * @param {number} [digits]
 */
export function ms(value, digits = 1) {
  const text = formatMs(value, digits);
  return text === "–" ? text : `${text} ms`;
}

/**
 * A time or duration in one format for every column, header and tooltip: three significant
 * figures in the unit that fits (`0.42 ms`, `4.27 ms`, `12.3 ms`, `710 ms`, `1.88 s`, `12.3 s`,
 * `2 min 05 s`), so numbers in one column line up and none is ragged ("710", "500.66",
 * "1,880.426"). `–` when unknown.
 * @param {number | null | undefined} value  milliseconds
 * @returns {string}
 */
export function formatDuration(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  // Round first, then pick the unit, so 999.6 ms reads "1.00 s", not "1,000 ms".
  if (abs === 0) return "0 ms";
  if (Number(abs.toFixed(2)) < 10) return `${sign}${abs.toFixed(2)} ms`;
  if (Number(abs.toFixed(1)) < 100) return `${sign}${abs.toFixed(1)} ms`;
  if (Math.round(abs) < 1000) return `${sign}${Math.round(abs)} ms`;
  const seconds = abs / 1000;
  if (Number(seconds.toFixed(2)) < 10) return `${sign}${seconds.toFixed(2)} s`;
  if (Number(seconds.toFixed(1)) < 60) return `${sign}${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes >= 60) return `${sign}${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${sign}${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
}

/**
 * `1 chunk`, `12 chunks`.
 * @param {number} count
 * @param {string} word
 */
export function plural(count, word) {
  return `${COUNT_FORMAT.format(count)} ${word}${count === 1 ? "" : "s"}`;
}

/** `count.toLocaleString("en-US")`, which builds a format per call (~40 µs; a dashboard of
 * 10,000 runs calls it thousands of times). */
const COUNT_FORMAT = new Intl.NumberFormat("en-US");

const URL_ATTRIBUTES = new Set([
  "href",
  "src",
  "srcset",
  "action",
  "formaction",
  "xlink:href",
  "poster",
  "background",
  "ping",
  "srcdoc",
  "style",
]);

/**
 * True when `name` may be set from data: never handlers, URLs or inline style.
 * @param {string} name
 */
export function safeAttribute(name) {
  const lower = String(name).toLowerCase();
  return !lower.startsWith("on") && !URL_ATTRIBUTES.has(lower);
}

/**
 * An element builder bound to `doc`: `h("div", {class: "x", "data-seq": 3}, "text", child)`.
 * Strings become text nodes; `null`/`undefined`/`false` children and attributes are skipped.
 * @param {Document} doc
 */
export function builder(doc) {
  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, unknown> | null} [attributes]
   * @param {...Child} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  return function h(tag, attributes, ...children) {
    const element = doc.createElement(tag);
    if (attributes) {
      for (const [name, value] of Object.entries(attributes)) {
        if (value === null || value === undefined || value === false) continue;
        if (!safeAttribute(name)) throw new Error(`streamviz: refusing attribute ${name}`);
        element.setAttribute(name, value === true ? "" : String(value));
      }
    }
    append(element, children);
    return element;
  };
}

/**
 * @typedef {Node | string | number | boolean | null | undefined | Child[]} Child  what `h` appends
 */
/** @typedef {ReturnType<typeof builder>} H  the element builder */

/**
 * @param {Element} element
 * @param {Child[]} children
 */
function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (typeof child === "object") element.appendChild(child);
    else element.appendChild(element.ownerDocument.createTextNode(String(child)));
  }
}

/**
 * Replace the children of `element` with `children` (same rules as `h`).
 * @param {Element} element
 * @param {...Child} children
 */
export function replaceChildren(element, ...children) {
  while (element.firstChild) element.removeChild(element.firstChild);
  append(element, children);
}

/**
 * Set `element`'s text only when it changed (keeps the DOM quiet during live updates).
 * @param {Node} element
 * @param {string} text
 */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * The element matching `selector` at or above the event's target, or null (event delegation).
 * @template {HTMLElement} [E=HTMLElement]
 * @param {Event} event
 * @param {string} selector
 * @returns {E | null}
 */
export function targetOf(event, selector) {
  const target = /** @type {Element | null} */ (event.target);
  return /** @type {E | null} */ (target?.closest?.(selector) ?? null);
}

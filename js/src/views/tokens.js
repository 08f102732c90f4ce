// @ts-check
// The token stream: one block per streaming run, growing as the tokens arrive.
//
// - Text runs show the pieces the way the LangChain guides print them (`Why| did| the| par|rot`)
//   and the accumulated text. Both only grow (longtext.js): a frame appends to the last small
//   block of each, so a 10,000 tokens/s stream costs one small DOM write and one small layout per
//   text per frame, however long the text already is.
// - JSON runs (JsonOutputParser and friends) show the successive chunks and the latest value
//   pretty-printed (raw when it does not parse, e.g. a preview cut by the kernel).
// - Shown by default: chat models, LLMs, parsers and root runs (the chain's own output); the
//   toggle shows every streaming run. The names/types/tags filters apply to the blocks too.
// - A run whose tokens get new texts (a retext: a secret spread over them) gets its block again,
//   drawn from its first token.
// - Very long streams keep their tail: at most TOKEN_CHARS characters per text, with a note.

import { makeFilter } from "../filters.js";
import { frameScheduler } from "../frame.js";
import { filterSpec } from "../query.js";
import {
  cellText,
  cut,
  DETAIL_CHARS,
  formatDuration,
  plural,
  replaceChildren,
  setText,
  targetOf,
  visible,
} from "../text.js";
import { drawGapChart, GAP_CHART_HEIGHT_PX, GAP_CHART_WIDTH_PX, gapStatsOf, stallRule } from "./gaps.js";
import { plainJson, pyRepr } from "./payload.js";
import { appendTokens, tokenBlock, tokenTexts } from "./token_block.js";
import { callLine, callText } from "./toolcalls.js";

/** Characters kept per text of a block (pieces, text): the tail, when a stream outgrows it. */
export const TOKEN_CHARS = 200_000;
/** Successive JSON chunks listed per block (the latest ones). */
export const JSON_STEPS = 200;
/**
 * The first blocks (in their order) always hold their tokens; the others get them when they come
 * within NEAR_PX of the pane's view (looked up on scroll: a binary search over the blocks' boxes),
 * so an agent's thousands of model calls cost a page load only the DOM of their heads. (An
 * IntersectionObserver on thousands of blocks costs ~7 ms in every frame of the page, scrolling
 * another pane included.)
 */
export const EAGER_BLOCKS = 40;
const NEAR_PX = 1200;
const TOKEN_TYPES = new Set(["chat_model", "llm", "parser"]);
/** @type {Record<string, string>} */
export const STATUS_ICONS = { running: "◌", ok: "✓", error: "✕", cancelled: "⊘", interrupted: "‖" };

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("../store.js").Store} Store */
/**
 * @typedef {import("./token_block.js").TokenBlock & {i: number, id: string, json: boolean, done: number, headKey: string, calls: HTMLElement, callsKey: string, texts: import("./token_block.js").TokenTexts | null, value: JsonValue, near: boolean, gaps: HTMLElement, gapsKey: string, gapChart: HTMLCanvasElement | null, gapText: Text | null}} RunBlock
 */

/**
 * Does run `i` get a block? (A run that ended without a chunk gets none.)
 * @param {Store} store
 * @param {number} i
 * @param {boolean} all  every streaming run, not only models, parsers and roots
 */
export function showsTokens(store, i, all) {
  const run = store.runs[i];
  if (!run) return false;
  if (!store.runStream[i]?.length && run.status !== "running") return false;
  return all || TOKEN_TYPES.has(run.type) || run.parent < 0 || run.orphan;
}

/**
 * `text` pretty-printed when it is JSON, else as it is.
 * @param {string} text
 */
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * @typedef {object} JsonValue  what a JSON run's chunks add up to, so far
 * @property {unknown} value      the latest chunk (progressive) or the sum of the chunks (additive)
 * @property {boolean} additive   the chunks add up (a generator yielding lists) rather than complete one value
 * @property {unknown} last       the last chunk read
 * @property {boolean} parsed     every chunk so far was JSON
 */

/** @param {unknown} value */
function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Is `next` a more complete version of `previous` (JsonOutputParser's progressive values: strings
 * and numbers longer, lists and objects with more or longer items)?
 * @param {unknown} previous
 * @param {unknown} next
 * @returns {boolean}
 */
export function completes(previous, next) {
  if (previous === null || previous === undefined) return true;
  if (typeof previous === "string") return typeof next === "string" && next.startsWith(previous);
  if (typeof previous === "number") return typeof next === "number" && String(next).startsWith(String(previous));
  if (Array.isArray(previous)) {
    if (!Array.isArray(next) || next.length < previous.length) return false;
    return previous.every((item, n) => completes(item, next[n]));
  }
  if (isPlainObject(previous)) {
    if (!isPlainObject(next)) return false;
    const a = /** @type {Record<string, unknown>} */ (previous);
    const b = /** @type {Record<string, unknown>} */ (next);
    return Object.keys(a).every((key) => key in b && completes(a[key], b[key]));
  }
  return previous === next;
}

/**
 * `total + chunk` as LangChain adds streamed chunks: lists concatenate, dicts merge (adding the
 * values of keys both hold), strings join; anything else is replaced.
 * @param {unknown} total
 * @param {unknown} chunk
 * @returns {unknown}
 */
export function addChunks(total, chunk) {
  if (Array.isArray(total) && Array.isArray(chunk)) return [...total, ...chunk];
  if (typeof total === "string" && typeof chunk === "string") return total + chunk;
  if (isPlainObject(total) && isPlainObject(chunk)) {
    const sum = { .../** @type {Record<string, unknown>} */ (total) };
    for (const [key, item] of Object.entries(/** @type {Record<string, unknown>} */ (chunk))) {
      sum[key] = key in sum && sum[key] !== null ? addChunks(sum[key], item) : item;
    }
    return sum;
  }
  return chunk;
}

/**
 * Read chunk texts `texts` into `into` (a run's JSON value so far). A run whose chunks each
 * complete the previous one shows the latest; once a chunk does not (a generator yielding
 * `['France']`, then `['Spain']`), the run is additive and shows the chunks added up, as
 * LangChain's own output is.
 * @param {JsonValue} into
 * @param {string[]} texts   the new chunks' texts
 * @param {() => string[]} all  every chunk's text so far (to add them up when the run turns additive)
 */
export function readJsonChunks(into, texts, all) {
  for (const text of texts) {
    let chunk;
    try {
      chunk = JSON.parse(text);
    } catch {
      into.parsed = false;
      return;
    }
    if (!into.parsed) return;
    if (into.additive) into.value = addChunks(into.value, chunk);
    else if (into.last === undefined || completes(into.last, chunk)) into.value = chunk;
    else {
      into.additive = true;
      into.value = undefined;
      for (const earlier of all()) {
        const value = JSON.parse(earlier);
        into.value = into.value === undefined ? value : addChunks(into.value, value);
      }
      return;
    }
    into.last = chunk;
  }
}

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountTokens(ctx, parent) {
  const { h, store } = ctx;
  const toggle = h("input", { type: "checkbox", class: "sv-token-all", "aria-label": "Show every streaming run" });
  const bar = h("div", { class: "sv-token-bar" }, h("label", { class: "sv-toggle" }, toggle, " every streaming run"));
  const list = h("div", { class: "sv-token-list" });
  const empty = h("div", { class: "sv-empty" }, "No streaming runs yet.");
  const root = h("div", { class: "sv-tokens" }, bar, list, empty);
  parent.appendChild(root);

  /** Blocks by run index. */
  /** @type {Map<number, RunBlock>} */
  const blocks = new Map();
  let order = "";
  let generation = store.generation;
  /** @type {string | null} */
  let filterKey = null;
  /** @type {((event: import("../filters.js").FilterEvent) => boolean) | null} */
  let keep = null;
  /** Tree positions of the runs, for the block order (rebuilt when the tree changes). */
  /** @type {Map<number, number>} */
  let positionOf = new Map();
  /** @type {object | null} */
  let positionAt = null;
  /** Runs whose tokens got new texts since the last draw (their blocks are made again). */
  /** @type {Set<number>} */
  const retexted = new Set();

  toggle.addEventListener("change", () => frame.request());
  list.addEventListener("click", (event) => {
    const id = targetOf(event, ".sv-token-run")?.getAttribute("data-run-id");
    if (!targetOf(event, ".sv-token-head") || !id) return;
    ctx.selectRun(ctx.selectedRun() === id ? "" : id);
  });

  /**
   * @param {number} i  the run
   * @returns {RunBlock}
   */
  function makeBlock(i) {
    const run = store.runs[i];
    const json = run.stream === "json";
    const head = h("div", { class: "sv-token-head", title: "Select this run" });
    const pieces = json
      ? h("ol", { class: "sv-token-pieces sv-json-steps", "aria-label": "Successive chunks" })
      : h("div", { class: "sv-token-pieces", dir: "auto", "aria-label": "Token pieces" });
    const text = json
      ? h("pre", { class: "sv-token-text sv-json-latest", dir: "auto", "aria-label": "Latest value" })
      : h("div", { class: "sv-token-text", dir: "auto", "aria-label": "Accumulated text" });
    const parts = tokenBlock(h, {
      tag: "section",
      attributes: {
        class: "sv-token-run",
        "data-run-id": run.id,
        "data-stream": json ? "json" : "text",
        "data-type": run.type,
      },
      head,
      pieces,
      text,
      labels: json ? ["chunks", "latest value"] : ["pieces", "text"],
    });
    // A model's tool calls, one line each: its pieces below mix parallel calls together.
    const calls = h("div", { class: "sv-token-calls", hidden: true });
    parts.element.insertBefore(calls, head.nextSibling);
    // The gaps between its chunks, a small bar chart (stalls in the error colour).
    const gaps = h("div", { class: "sv-token-gaps", hidden: true });
    parts.element.insertBefore(gaps, calls.nextSibling);
    return {
      ...parts,
      i,
      id: run.id,
      json,
      done: 0,
      headKey: "",
      calls,
      callsKey: "",
      texts: json ? null : tokenTexts(h, parts, TOKEN_CHARS),
      value: { value: undefined, additive: false, last: undefined, parsed: true },
      near: false,
      gaps,
      gapsKey: "",
      gapChart: null,
      gapText: null,
    };
  }

  /** The blocks shown, in their order (as of the last draw). */
  /** @type {RunBlock[]} */
  let shownBlocks = [];

  /**
   * Mark the blocks within NEAR_PX of the pane's view near; true when one was not yet. Needs a
   * layout (none: the first EAGER_BLOCKS are all there is to see, as at the top).
   */
  function markNear() {
    const height = root.clientHeight;
    if (!height || shownBlocks.length <= EAGER_BLOCKS) return false;
    const top = root.getBoundingClientRect().top - NEAR_PX;
    const bottom = top + height + 2 * NEAR_PX;
    // The first block whose bottom is below the band's top (the blocks are stacked in order).
    let low = 0;
    let high = shownBlocks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (shownBlocks[mid].element.getBoundingClientRect().bottom < top) low = mid + 1;
      else high = mid;
    }
    let fresh = false;
    for (let n = low; n < shownBlocks.length; n += 1) {
      const block = shownBlocks[n];
      if (block.element.getBoundingClientRect().top > bottom) break;
      if (!block.near) {
        block.near = true;
        fresh = true;
      }
    }
    return fresh;
  }
  root.addEventListener(
    "scroll",
    () => {
      if (markNear()) frame.request();
    },
    { passive: true },
  );

  /** @param {RunBlock} block */
  function drawHead(block) {
    const run = store.runs[block.i];
    const done = block.done;
    const chunks = Math.max(run.chunks, done);
    const selected = ctx.selectedRun() === run.id;
    const key = `${run.name}\u0000${run.type}\u0000${run.status}\u0000${chunks}\u0000${run.first}\u0000${run.start}\u0000${selected}\u0000${run.parent}`;
    if (key === block.headKey) return;
    block.headKey = key;
    block.element.classList.toggle("sv-selected", selected);
    block.element.setAttribute("data-status", run.status);
    const ttft = run.first !== null && run.start !== null ? ` (+${formatDuration(run.first - run.start)})` : "";
    replaceChildren(
      block.head,
      h("span", { class: "sv-status", "data-status": run.status, "aria-label": run.status }, STATUS_ICONS[run.status]),
      h("bdi", { class: "sv-token-name" }, cellText(run.name, 120)),
      h("span", { class: "sv-badge", "data-type": run.type }, cellText(run.type, 40)),
      run.parent < 0 ? h("span", { class: "sv-badge sv-output" }, "output") : null,
      h("span", { class: "sv-token-status" }, run.status),
      h("span", { class: "sv-token-chunks" }, plural(chunks, "chunk")),
      h(
        "span",
        { class: "sv-token-first" },
        run.first === null
          ? run.status === "running"
            ? "waiting for the first token"
            : "no token"
          : `first token ${formatDuration(run.first)}${ttft}`,
      ),
    );
  }

  /** @param {RunBlock} block */
  function drawCalls(block) {
    const run = store.runs[block.i];
    const key = JSON.stringify(run.calls);
    if (key === block.callsKey) return;
    block.callsKey = key;
    block.calls.hidden = run.calls === null;
    replaceChildren(
      block.calls,
      h("div", { class: "sv-token-label-calls" }, "tool calls"),
      ...(run.calls ?? []).map((call) =>
        h(
          "div",
          { class: "sv-token-call", dir: "auto", title: callLine(call, store.runs) },
          `→ ${callText(call, 1000)}`,
          call.id !== null ? h("span", { class: "sv-token-call-id" }, cellText(call.id, 120)) : null,
        ),
      ),
    );
  }

  /**
   * The run's gap chart, redrawn when it has more chunks (from two chunks on: one gap). Made
   * once; a redraw changes its pixels, attributes and the summary's text node, nothing else.
   * @param {RunBlock} block
   */
  function drawGaps(block) {
    const times = store.runTicks[block.i];
    const count = times?.length ?? 0;
    const rule = stallRule(ctx.model.get("stall_rule"));
    const key = `${count} ${rule.ms} ${rule.factor}`;
    if (key === block.gapsKey) return;
    block.gapsKey = key;
    if (count < 2) return;
    const stats = gapStatsOf(times, rule);
    if (!block.gapChart || !block.gapText) {
      block.gapChart = /** @type {HTMLCanvasElement} */ (
        h("canvas", { class: "sv-gap-chart", role: "img", width: GAP_CHART_WIDTH_PX, height: GAP_CHART_HEIGHT_PX })
      );
      block.gapText = ctx.doc.createTextNode("");
      block.gaps.append(
        h("div", { class: "sv-gap-label" }, "gaps between chunks"),
        h("div", { class: "sv-gap-row" }, block.gapChart, h("span", { class: "sv-gap-summary" }, block.gapText)),
      );
      block.gaps.hidden = false;
    }
    const style = ctx.win.getComputedStyle?.(block.gaps);
    const colors = {
      muted: style?.getPropertyValue("--sv-muted").trim() || "#6b7280",
      error: style?.getPropertyValue("--sv-error").trim() || "#dc2626",
    };
    drawGapChart(block.gapChart, stats, colors, ctx.win.devicePixelRatio || 1);
    const summary = block.gapChart.getAttribute("aria-label") ?? "";
    if (block.gapText.data !== summary) block.gapText.data = summary;
    block.gaps.setAttribute("data-stalls", String(stats.stalls.length));
  }

  /** @param {RunBlock} block */
  function drawBody(block) {
    const stream = store.runStream[block.i] ?? [];
    if (block.done >= stream.length) return;
    const texts = store.cols.text;
    if (block.json) {
      const from = Math.max(block.done, stream.length - JSON_STEPS);
      const steps = [];
      for (let n = from; n < stream.length; n += 1) {
        steps.push(h("li", { dir: "auto" }, cellText(texts[stream[n]], 1000)));
      }
      for (const step of steps) block.pieces.appendChild(step);
      while (block.pieces.childNodes.length > JSON_STEPS) block.pieces.firstChild?.remove();
      const hidden = stream.length - block.pieces.childNodes.length;
      block.note.hidden = hidden <= 0;
      block.note.textContent = hidden > 0 ? `… ${plural(hidden, "earlier chunk")}` : "";
      const fresh = [];
      for (let n = block.done; n < stream.length; n += 1) fresh.push(texts[stream[n]]);
      const wasAdditive = block.value.additive;
      readJsonChunks(block.value, fresh, () => stream.map((k) => texts[k]));
      const additive = block.value.parsed && block.value.additive;
      if (additive && !wasAdditive) {
        // The chunks add up: show their sum, as LangChain's output is (`['France', 'Spain']`).
        setText(block.element.querySelectorAll(".sv-token-label")[1], "accumulated value");
        block.text.setAttribute("aria-label", "Accumulated value");
        block.element.setAttribute("data-stream", "json-added");
      }
      const latest = cut(
        additive ? pyRepr(plainJson(block.value.value)) : prettyJson(texts[stream[stream.length - 1]]),
        DETAIL_CHARS,
      );
      block.text.textContent =
        visible(latest.text, true) + (latest.rest ? `\n… ${latest.rest.toLocaleString("en-US")} more characters` : "");
    } else if (block.texts) {
      appendTokens(block.texts, stream.length, (n) => texts[stream[n]]);
    }
    block.done = stream.length;
  }

  /** Make the blocks of the runs in `retexted` again, in their place (their texts changed). */
  function redrawRetexted() {
    for (const i of retexted) {
      const old = blocks.get(i);
      if (!old) continue;
      const block = makeBlock(i);
      block.near = old.near;
      old.element.replaceWith(block.element);
      blocks.set(i, block);
      order = "";
    }
    retexted.clear();
  }

  function draw() {
    if (generation !== store.generation) {
      // A new snapshot (e.g. the final one when the run ends). Events are only ever appended, so
      // a block stays (and keeps its scroll position) if its run still holds what it shows.
      generation = store.generation;
      for (const [i, block] of blocks) {
        if (store.runs[i]?.id !== block.id || (store.runStream[i]?.length ?? 0) < block.done) {
          block.element.remove();
          blocks.delete(i);
        }
      }
      order = "";
    }
    redrawRetexted();
    const filters = ctx.filters();
    const key = JSON.stringify(filterSpec(filters));
    if (key !== filterKey) {
      filterKey = key;
      const spec = filterSpec(filters);
      keep = Object.keys(spec).length ? makeFilter(spec) : null;
    }
    const all = toggle.checked;
    const shown = store.streamRuns.filter((i) => {
      if (!showsTokens(store, i, all)) return false;
      if (!keep) return true;
      const run = store.runs[i];
      return keep({ event: `on_${run.type}_stream`, name: run.name, tags: run.tags });
    });
    if (shown.length > 1) {
      const order = store.treeOrder();
      if (positionAt !== order) {
        positionAt = order;
        positionOf = new Map(order.rows.map((i, n) => [i, n]));
      }
      shown.sort((a, b) => (positionOf.get(a) ?? a) - (positionOf.get(b) ?? b));
    }
    const nextOrder = shown.join(",");
    const selected = ctx.selectedRun();
    shown.forEach((i, n) => {
      let block = blocks.get(i);
      if (!block || block.json !== (store.runs[i].stream === "json")) {
        if (block) block.element.remove();
        block = makeBlock(i);
        blocks.set(i, block);
      }
      if (n < EAGER_BLOCKS || block.id === selected) block.near = true;
      if (block.near) {
        drawBody(block);
        drawGaps(block);
      }
      drawHead(block);
      drawCalls(block);
    });
    if (nextOrder !== order) {
      order = nextOrder;
      const keepSet = new Set(shown);
      for (const [i, block] of blocks) if (!keepSet.has(i)) block.element.remove();
      // Move only the blocks that are out of place: a block taken out of the page and put back
      // is laid out again from scratch (a long text, all of it).
      let at = list.firstChild;
      for (const i of shown) {
        const element = blocks.get(i)?.element;
        if (!element) continue;
        if (element === at) at = at.nextSibling;
        else list.insertBefore(element, at);
      }
      shownBlocks = shown.flatMap((i) => blocks.get(i) ?? []);
      // Other blocks in view (a filter changed): those near it get their tokens. Looked up once
      // this frame was laid out and painted (a look-up now would force a layout of its own).
      ctx.win.setTimeout(() => {
        if (markNear()) frame.request();
      }, 0);
    }
    empty.hidden = shown.length > 0;
    setText(
      empty,
      store.streamRuns.length
        ? "No streaming run matches the filters."
        : ctx.live()
          ? "No streaming runs yet."
          : "No run streamed chunks in this trace.",
    );
  }

  function reveal() {
    const block = [...blocks.values()].find((item) => store.runs[item.i]?.id === ctx.selectedRun());
    block?.element.scrollIntoView?.({ block: "nearest" });
  }

  const frame = frameScheduler(ctx.win, draw);
  ctx.subscribe((change) => {
    for (const k of change.retext ?? []) {
      if (store.kindOf(store.cols.kind[k]).stream) retexted.add(store.cols.run[k]);
    }
    if (change.payload === undefined) frame.request();
  });
  ctx.on("change:filters", () => frame.request());
  ctx.on("change:live", () => frame.request());
  ctx.on("change:stall_rule", () => frame.request());
  ctx.on("change:selected_run", () => {
    draw();
    reveal();
  });
  ctx.onCleanup(() => frame.stop());
  draw();
  return { root, draw };
}

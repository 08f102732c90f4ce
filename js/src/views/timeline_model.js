// @ts-check
// The Gantt timeline's geometry, without a canvas: scale, axis ticks, bar and held spans, tick
// binning, visible rows, hit testing, zoom and pan, and the lanes of LangGraph stream parts. Pure
// functions, unit-tested on their own; views/timeline.js only draws what these compute.

import { lowerBound } from "../sorted.js";
import { formatDuration, formatMs, ms, plural } from "../text.js";
import { detachedLines, usageText } from "../usage.js";
import { nsLabel, orderModes } from "./graph_model.js";

/** @typedef {import("../protocol.js").RunRow} RunRow */
/** @typedef {{t0: number, t1: number, x0: number, x1: number, k: number, x: (t: number) => number, t: (x: number) => number}} Scale */
/** @typedef {{mode: string, times: number[], seqs: number[]}} Lane */

export const ROW_HEIGHT_PX = 20;
export const AXIS_HEIGHT_PX = 24;
export const LABEL_WIDTH_PX = 200;
export const INDENT_PX = 12;
/** The plot starts this far right of the names, and ends this far from the right edge: a mark at
 * either end of the range (a first-token triangle, the playhead) is drawn whole. */
export const PLOT_LEFT_PAD_PX = 8;
export const PLOT_RIGHT_MARGIN_PX = 18;
/** Narrowest and widest time span the view can be zoomed to. */
export const MIN_SPAN_MS = 0.01;
export const MAX_SPAN_MS = 1e9;

/**
 * Bar colours by run type: the Okabe-Ito colour-blind-safe hues (plus a slate for chains and a
 * brown for anything else), each a distinct hue readable on white and on JupyterLab's dark
 * #111 background. The order is the legend's.
 * @type {Record<string, string>}
 */
export const TYPE_COLORS = {
  chain: "#8c8c8c",
  chat_model: "#0072b2",
  llm: "#56b4e9",
  prompt: "#009e73",
  parser: "#cc79a7",
  retriever: "#7b52c7",
  tool: "#e69f00",
};
export const OTHER_COLOR = "#a6761d";
/** The held-back hatching: vermillion stripes, darker on a light background, lighter on a dark one. */
export const HELD_COLORS = { light: "#c2410c", dark: "#ff8a4c" };

/**
 * @param {string} type
 */
export function typeColor(type) {
  return Object.hasOwn(TYPE_COLORS, type) ? TYPE_COLORS[type] : OTHER_COLOR;
}

/**
 * Whether a CSS colour (`#rgb`, `#rrggbb` or `rgb(...)`) is dark (relative luminance < 0.35).
 * @param {string} color
 */
export function isDark(color) {
  const text = String(color).trim();
  /** @type {number[]} */
  let rgb = [];
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text);
  if (hex) {
    const digits = hex[1].length === 3 ? [...hex[1]].map((d) => d + d) : (hex[1].match(/../g) ?? []);
    rgb = digits.map((d) => Number.parseInt(d, 16));
  } else {
    rgb = (text.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
  }
  if (rgb.length < 3 || rgb.some((v) => !Number.isFinite(v))) return false;
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.35;
}

/**
 * The legend's items for `runs`: the run types present (in TYPE_COLORS order, then "other"),
 * then the marks present: held (a step held or holds the stream back), first token, error,
 * cancelled. `[{key, label, color}]` (`color` only for types).
 * @param {ReadonlyArray<RunRow | undefined>} runs
 * @returns {Array<{key: string, label: string, color: string | null}>}
 */
export function legendItems(runs) {
  const types = new Set();
  let held = false;
  let first = false;
  let error = false;
  let cancelled = false;
  let paused = false;
  for (const run of runs) {
    if (!run) continue;
    types.add(Object.hasOwn(TYPE_COLORS, run.type) ? run.type : "other");
    if ((run.held !== null && run.held > 0) || run.holding !== null) held = true;
    if (run.first !== null) first = true;
    if (run.status === "error") error = true;
    else if (run.status === "cancelled") cancelled = true;
    else if (run.status === "interrupted") paused = true;
  }
  /** @type {Array<{key: string, label: string, color: string | null}>} */
  const items = [];
  for (const type of [...Object.keys(TYPE_COLORS), "other"]) {
    if (types.has(type)) items.push({ key: `type:${type}`, label: type, color: typeColor(type) });
  }
  if (held) items.push({ key: "held", label: "held the stream back", color: null });
  if (first) items.push({ key: "first", label: "first token", color: null });
  if (error) items.push({ key: "error", label: "error", color: null });
  if (cancelled) items.push({ key: "cancelled", label: "cancelled", color: null });
  if (paused) items.push({ key: "interrupted", label: "paused", color: null });
  return items;
}

/**
 * A linear map from times `[t0, t1]` to pixels `[x0, x1]`, and back.
 * @param {number} t0
 * @param {number} t1
 * @param {number} x0
 * @param {number} x1
 * @returns {Scale}
 */
export function scale(t0, t1, x0, x1) {
  const span = t1 - t0 > 0 ? t1 - t0 : 1;
  const k = (x1 - x0) / span;
  return { t0, t1, x0, x1, k, x: (t) => x0 + (t - t0) * k, t: (x) => t0 + (x - x0) / k };
}

/**
 * A 1, 2 or 5 × 10^n step giving at most about `maxTicks` ticks over `span`.
 * @param {number} span
 * @param {number} [maxTicks]
 */
export function niceStep(span, maxTicks = 8) {
  if (!(span > 0) || !(maxTicks >= 1)) return 1;
  const raw = span / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * Decimals a tick label needs for `step` (0 for 1 ms and up, 1 for 0.5 ms...).
 * @param {number} step
 */
export function tickDecimals(step) {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * Round tick values in `[t0, t1]`: `{step, values}`.
 * @param {number} t0
 * @param {number} t1
 * @param {number} [maxTicks]
 * @returns {{step: number, values: number[]}}
 */
export function niceTicks(t0, t1, maxTicks = 8) {
  const step = niceStep(t1 - t0, maxTicks);
  const decimals = tickDecimals(step);
  const values = [];
  const first = Math.ceil(t0 / step - 1e-9);
  for (let n = first; n * step <= t1 + step * 1e-9 && values.length <= maxTicks * 3; n += 1) {
    values.push(Number((n * step).toFixed(decimals)));
  }
  return { step, values };
}

/**
 * @param {number} value
 * @param {number} step
 */
export function tickLabel(value, step) {
  return formatMs(value, tickDecimals(step));
}

/**
 * Where run's bar goes: `{start, end, running}`; a running bar grows to `now`.
 * @param {RunRow} run
 * @param {number} now
 * @returns {{start: number, end: number, running: boolean} | null}
 */
export function barSpan(run, now) {
  if (run.start === null) return null;
  const end = run.end === null ? Math.max(run.start, now ?? run.start) : Math.max(run.start, run.end);
  const running = run.end === null;
  return { start: run.start, end, running };
}

/**
 * The held-back segment of a run: from the upstream step's first chunk to this run's first
 * chunk. Either end may be derived from `held` when the other is all that is known.
 * @param {RunRow} run
 * @param {ReadonlyArray<RunRow>} runs
 * @returns {{from: number, to: number, held: number} | null}
 */
export function heldSpan(run, runs) {
  if (run.held === null || !(run.held > 0)) return null;
  const upstream = run.upstream >= 0 ? runs[run.upstream] : null;
  const upstreamFirst = upstream && upstream.first !== null ? upstream.first : null;
  const to = run.first !== null ? run.first : upstreamFirst !== null ? upstreamFirst + run.held : null;
  if (to === null) return null;
  const from = upstreamFirst !== null ? upstreamFirst : to - run.held;
  return { from, to, held: run.held };
}

/**
 * @param {number} held
 */
export function heldLabel(held) {
  return `held ${formatMs(held, 0)} ms`;
}

/**
 * @param {number} held
 */
export function holdingLabel(held) {
  return `holding ${formatMs(held, 0)} ms`;
}

/**
 * The hold to draw for a run, live or done: while the run holds the stream back (`holding`), from
 * the upstream's first chunk to `now`, growing with the clock (`live: true`, label "holding N
 * ms"); once it let its first chunk out, the `heldSpan` (label "held N ms"). Else null.
 * @param {RunRow} run
 * @param {ReadonlyArray<RunRow>} runs
 * @param {number} now
 * @returns {{from: number, to: number, held: number, live: boolean, label: string} | null}
 */
export function holdSpan(run, runs, now) {
  if (run.holding !== null && run.end === null) {
    const from = run.holding;
    const to = Math.max(from, Number.isFinite(now) ? now : from);
    return { from, to, held: to - from, live: true, label: holdingLabel(to - from) };
  }
  const held = heldSpan(run, runs);
  return held ? { ...held, live: false, label: heldLabel(held.held) } : null;
}

/**
 * Count the ascending `times` falling in each of `columns` pixel columns over `[t0, t1]`.
 * Costs O(log n + ticks in view): a run with 200,000 ticks zoomed in costs only what is visible.
 * @param {ArrayLike<number> | null | undefined} times  ascending
 * @param {number} t0
 * @param {number} t1
 * @param {number} columns
 */
export function binTicks(times, t0, t1, columns) {
  const width = Math.max(0, Math.floor(columns));
  const counts = new Uint32Array(width);
  if (!times?.length || !(t1 > t0) || !width) return counts;
  const k = width / (t1 - t0);
  for (let n = lowerBound(times, t0); n < times.length; n += 1) {
    const t = times[n];
    if (t > t1) break;
    counts[Math.min(width - 1, Math.floor((t - t0) * k))] += 1;
  }
  return counts;
}

/**
 * Rows in view for a scroll offset: `[first, last)`.
 * @param {number} scrollTop
 * @param {number} viewHeight
 * @param {number} rowCount
 * @param {number} [rowHeight]
 * @returns {[number, number]}
 */
export function visibleRows(scrollTop, viewHeight, rowCount, rowHeight = ROW_HEIGHT_PX) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight));
  const last = Math.min(rowCount, Math.ceil((scrollTop + Math.max(0, viewHeight)) / rowHeight));
  return [Math.min(first, rowCount), Math.max(Math.min(first, rowCount), last)];
}

/**
 * Row under canvas y (below the axis), or -1.
 * @param {number} y
 * @param {number} scrollTop
 * @param {number} rowCount
 */
export function rowAt(y, scrollTop, rowCount) {
  if (y < AXIS_HEIGHT_PX) return -1;
  const row = Math.floor((y - AXIS_HEIGHT_PX + scrollTop) / ROW_HEIGHT_PX);
  return row >= 0 && row < rowCount ? row : -1;
}

/**
 * The whole trace: from 0 to the latest known time, with a little margin.
 * @param {ReadonlyArray<RunRow | undefined>} runs
 * @param {number} now
 * @returns {[number, number]}
 */
export function fitRange(runs, now) {
  let end = Number.isFinite(now) ? now : 0;
  for (const run of runs) {
    if (!run) continue;
    if (run.end !== null && run.end > end) end = run.end;
    else if (run.start !== null && run.start > end) end = run.start;
  }
  return [0, Math.max(end * 1.02, 1)];
}

/**
 * Zoom `range` by `factor` (< 1 zooms in) keeping time `at` under the same pixel.
 * @param {readonly [number, number]} range
 * @param {number} at
 * @param {number} factor
 * @returns {[number, number]}
 */
export function zoomRange(range, at, factor) {
  const [t0, t1] = range;
  const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, (t1 - t0) * factor));
  const ratio = t1 > t0 ? (at - t0) / (t1 - t0) : 0.5;
  const start = at - ratio * span;
  return [start, start + span];
}

/**
 * @param {readonly [number, number]} range
 * @param {number} dt
 * @returns {[number, number]}
 */
export function panRange(range, dt) {
  return [range[0] + dt, range[1] + dt];
}

/**
 * The tooltip's lines for a run.
 * @param {RunRow} run
 * @param {ReadonlyArray<RunRow>} runs
 * @param {number} now
 * @returns {string[]}
 */
export function runSummary(run, runs, now) {
  const bar = barSpan(run, now);
  const lines = [
    run.name,
    `${run.type} · ${run.status}${run.orphan ? " · orphan" : ""}`,
    `start ${formatDuration(run.start)}`,
  ];
  if (bar) lines.push(`${bar.running ? "running for" : "duration"} ${formatDuration(bar.end - bar.start)}`);
  if (run.first !== null) {
    const after = run.start !== null ? ` (+${formatDuration(run.first - run.start)})` : "";
    lines.push(`first token ${formatDuration(run.first)}${after}`);
  }
  lines.push(plural(run.chunks, "chunk"));
  const hold = holdSpan(run, runs, now);
  if (hold) {
    const upstream = run.upstream >= 0 ? runs[run.upstream] : null;
    const after = upstream ? ` (${hold.live ? "since" : "after"} ${upstream.name}'s first chunk)` : "";
    lines.push(`${hold.label}${after}`);
  }
  if (run.error) lines.push(run.error);
  if (run.send !== null) lines.push(`Send: ${run.send}`);
  if (run.status === "interrupted") lines.push(run.interrupt ? `paused: ${run.interrupt}` : "paused");
  if (run.resume !== null) lines.push(`resumed ${run.thread ?? "thread"} with ${run.resume}`);
  if (run.usage) lines.push(usageText(run.usage));
  if (run.detached) lines.push(...detachedLines(run.detached));
  return lines;
}

// --- LangGraph stream parts: one lane per mode, above the runs -----------------------------------

/**
 * The part lanes: one per stream mode present, in the graph pane's tab order:
 * `[{mode, times, seqs}]` (the store's per-mode arrays, ascending, shared, not copied).
 * @param {readonly string[]} modes
 * @param {ReadonlyMap<string, number[]>} timesByMode
 * @param {ReadonlyMap<string, number[]>} seqsByMode
 * @returns {Lane[]}
 */
export function partLanes(modes, timesByMode, seqsByMode) {
  return orderModes(modes).map((mode) => ({
    mode,
    times: timesByMode.get(mode) ?? [],
    seqs: seqsByMode.get(mode) ?? [],
  }));
}

/**
 * Parts laid out on `lanes`.
 * @param {readonly Lane[]} lanes
 */
export function lanePartCount(lanes) {
  let count = 0;
  for (const lane of lanes) count += lane.times.length;
  return count;
}

/** Height of a part lane (px): thinner than a run row, so seven lanes leave room for the runs. */
export const LANE_HEIGHT_PX = 12;

/**
 * What is under canvas `y` with `laneCount` part lanes above `runCount` run rows: `{lane, run}` (-1: none).
 * @param {number} y
 * @param {number} scrollTop
 * @param {number} laneCount
 * @param {number} runCount
 * @returns {{lane: number, run: number}}
 */
export function hitRow(y, scrollTop, laneCount, runCount) {
  if (y < AXIS_HEIGHT_PX) return { lane: -1, run: -1 };
  const content = y - AXIS_HEIGHT_PX + scrollTop;
  const lanes = laneCount * LANE_HEIGHT_PX;
  if (content < lanes) return { lane: Math.floor(content / LANE_HEIGHT_PX), run: -1 };
  const run = Math.floor((content - lanes) / ROW_HEIGHT_PX);
  return { lane: -1, run: run >= 0 && run < runCount ? run : -1 };
}

/**
 * Index in the ascending `times` of the time nearest `t`, if within `maxDt`; else -1.
 * @param {ArrayLike<number> | null | undefined} times  ascending
 * @param {number} t
 * @param {number} maxDt
 */
export function nearestPart(times, t, maxDt) {
  if (!times?.length || !Number.isFinite(t)) return -1;
  const at = lowerBound(times, t);
  let best = -1;
  let bestDt = Infinity;
  for (const n of [at - 1, at]) {
    if (n < 0 || n >= times.length) continue;
    const dt = Math.abs(times[n] - t);
    if (dt < bestDt) {
      best = n;
      bestDt = dt;
    }
  }
  // Among parts at the same time, the first one.
  if (best > 0) best = lowerBound(times, times[best]);
  return bestDt <= maxDt ? best : -1;
}

/**
 * The tooltip's lines for a part: `{mode, name, ns, t, text}`.
 * @param {{mode: string, name: string, ns: string, t: number, seq: number, text: string}} part
 * @returns {string[]}
 */
export function partSummary(part) {
  const lines = [`${part.mode}${part.name ? ` · ${part.name}` : ""}`];
  if (part.ns) lines.push(`namespace: ${nsLabel(part.ns)}`);
  lines.push(`at ${ms(part.t, 3)} · part #${part.seq}`);
  if (part.text) lines.push(part.text);
  return lines;
}

// @ts-check
// The gaps between a run's chunks and its stalls, the same rule as streamviz/latency.py: a stall
// is a gap longer than max(250 ms, 5 × the run's median gap). The timeline marks each stall on its
// gap (views/timeline.js) and the token pane draws each run's gaps as a small bar chart
// (views/tokens.js). Pure functions on a run's chunk times (ms, ascending: the store's runTicks),
// plus one cache so that a frame recomputes only the runs whose chunks grew.

import { formatDuration, plural } from "../text.js";

export const STALL_MS = 250;
export const STALL_FACTOR = 5;
export const GAP_CHART_WIDTH_PX = 240;
export const GAP_CHART_HEIGHT_PX = 28;

/** @typedef {{ms: number, factor: number}} StallRule  a stall is a gap above max(ms, factor × median gap) */
/** @typedef {{after: number, at: number, gap: number, threshold: number, rule: StallRule}} Stall */
/** @typedef {{gaps: number[], p50: number | null, p95: number | null, max: number | null, threshold: number, stalls: Stall[]}} GapStats */

/** @type {StallRule} */
export const DEFAULT_STALL_RULE = Object.freeze({ ms: STALL_MS, factor: STALL_FACTOR });

/**
 * The stall rule the kernel set (the widget's `stall_rule` trait: `{ms, factor}`, from
 * `stall_seconds=` / `stall_factor=`), or the default when it is missing or not two finite
 * numbers >= 0.
 * @param {unknown} value
 * @returns {StallRule}
 */
export function stallRule(value) {
  if (!value || typeof value !== "object") return DEFAULT_STALL_RULE;
  const { ms, factor } = /** @type {{ms?: unknown, factor?: unknown}} */ (value);
  const ok = (/** @type {unknown} */ x) => typeof x === "number" && Number.isFinite(x) && x >= 0;
  return ok(ms) && ok(factor) ? { ms: Number(ms), factor: Number(factor) } : DEFAULT_STALL_RULE;
}

/**
 * The `q`-th percentile (0-100) of ascending `sorted`, interpolated as numpy's default does.
 * @param {ArrayLike<number>} sorted
 * @param {number} q
 * @returns {number | null}
 */
export function percentile(sorted, q) {
  const n = sorted.length;
  if (!n) return null;
  const at = ((n - 1) * q) / 100;
  const low = Math.floor(at);
  const high = Math.min(n - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/**
 * The gaps of `times` (ms, ascending), their p50, p95 and max, the run's stall threshold and
 * its stalls (`after`: how many chunks had come; `at`: the time of the chunk before the gap).
 * @param {ArrayLike<number>} times
 * @param {StallRule} [rule]
 * @returns {GapStats}
 */
export function gapStats(times, rule = DEFAULT_STALL_RULE) {
  /** @type {number[]} */
  const gaps = [];
  for (let n = 1; n < times.length; n += 1) gaps.push(times[n] - times[n - 1]);
  const sorted = Float64Array.from(gaps).sort();
  const p50 = percentile(sorted, 50);
  const threshold = Math.max(rule.ms, rule.factor * (p50 ?? 0));
  /** @type {Stall[]} */
  const stalls = [];
  gaps.forEach((gap, n) => {
    if (gap > threshold) stalls.push({ after: n + 1, at: times[n], gap, threshold, rule });
  });
  return {
    gaps,
    p50,
    p95: percentile(sorted, 95),
    max: sorted.length ? sorted[sorted.length - 1] : null,
    threshold,
    stalls,
  };
}

/** @type {WeakMap<ArrayLike<number>, {n: number, rule: StallRule, stats: GapStats}>} */
const cache = new WeakMap();

/**
 * `gapStats(times, rule)`, kept until `times` grows (the store only appends to a run's ticks) or
 * the rule changes.
 * @param {ArrayLike<number> | undefined} times
 * @param {StallRule} [rule]
 * @returns {GapStats}
 */
export function gapStatsOf(times, rule = DEFAULT_STALL_RULE) {
  if (!times || times.length < 2) return gapStats([], rule);
  const found = cache.get(times);
  if (found && found.n === times.length && found.rule.ms === rule.ms && found.rule.factor === rule.factor) {
    return found.stats;
  }
  const stats = gapStats(times, rule);
  cache.set(times, { n: times.length, rule, stats });
  return stats;
}

/**
 * The stall whose gap holds time `t` (give or take `slack` ms), or null.
 * @param {readonly Stall[]} stalls
 * @param {number} t
 * @param {number} slack
 * @returns {Stall | null}
 */
export function stallAt(stalls, t, slack) {
  for (const stall of stalls) if (t >= stall.at - slack && t <= stall.at + stall.gap + slack) return stall;
  return null;
}

/**
 * `stall 900 ms`, `stall 1.20 s`.
 * @param {Stall} stall
 */
export function stallLabel(stall) {
  return `stall ${formatDuration(stall.gap)}`;
}

/**
 * A stall's tooltip lines, under the run's name.
 * @param {Stall} stall
 * @returns {string[]}
 */
export function stallLines(stall) {
  return [
    `${stallLabel(stall)} without a chunk, after ${plural(stall.after, "chunk")}`,
    `threshold ${formatDuration(stall.threshold)}: max(${formatDuration(stall.rule.ms)}, ${stall.rule.factor} × the run's median gap)`,
  ];
}

/**
 * The chart's summary: `gaps p50 20 ms · p95 31 ms · max 900 ms · 1 stall (threshold 250 ms)`.
 * @param {GapStats} stats
 */
export function gapSummary(stats) {
  if (!stats.gaps.length) return "no gap yet";
  const f = formatDuration;
  const stalls = stats.stalls.length ? plural(stats.stalls.length, "stall") : "no stall";
  return `gaps p50 ${f(stats.p50)} · p95 ${f(stats.p95)} · max ${f(stats.max)} · ${stalls} (threshold ${f(stats.threshold)})`;
}

/**
 * The bars of the chart: with more gaps than `columns`, each column shows the longest of its
 * gaps (a stall is never averaged away). `[{gap, stall}]`, one per column used.
 * @param {GapStats} stats
 * @param {number} columns
 * @returns {Array<{gap: number, stall: boolean}>}
 */
export function gapBars(stats, columns) {
  const { gaps, threshold } = stats;
  const per = Math.max(1, Math.ceil(gaps.length / Math.max(1, columns)));
  /** @type {Array<{gap: number, stall: boolean}>} */
  const bars = [];
  for (let n = 0; n < gaps.length; n += per) {
    let gap = 0;
    for (let k = n; k < Math.min(gaps.length, n + per); k += 1) gap = Math.max(gap, gaps[k]);
    bars.push({ gap, stall: gap > threshold });
  }
  return bars;
}

/**
 * A bar's height (px) for `gap` in a chart `height` px high: by the square root of the gap up to
 * twice the stall threshold (the top), so a steady rhythm of short gaps stays visible beside a
 * stall, which reaches the top when it is that long.
 * @param {number} gap
 * @param {number} threshold
 * @param {number} height
 */
export function gapHeight(gap, threshold, height) {
  const top = 2 * threshold;
  return Math.max(1, height * Math.sqrt(Math.min(gap, top) / top));
}

/**
 * Draw the run's gaps on `canvas` as a small bar chart: one bar per gap (or per column of gaps),
 * its height by `gapHeight` (the stall threshold a dashed line), stalls in the error colour. Its label is `gapSummary` (text, as everything drawn). Without a 2D context
 * (tests, no canvas support) only the attributes are set. Returns the bars drawn.
 * @param {HTMLCanvasElement} canvas
 * @param {GapStats} stats
 * @param {{muted: string, error: string}} colors
 * @param {number} [dpr]  device pixels per CSS pixel
 * @returns {Array<{gap: number, stall: boolean}>}
 */
export function drawGapChart(canvas, stats, colors, dpr = 1) {
  const width = GAP_CHART_WIDTH_PX;
  const height = GAP_CHART_HEIGHT_PX;
  const summary = gapSummary(stats);
  canvas.setAttribute("aria-label", summary);
  canvas.setAttribute("data-gaps", String(stats.gaps.length));
  canvas.setAttribute("data-stalls", String(stats.stalls.length));
  const bars = gapBars(stats, width / 2);
  const g = typeof canvas.getContext === "function" ? canvas.getContext("2d") : null;
  if (!g) return bars;
  if (canvas.width !== Math.round(width * dpr)) canvas.width = Math.round(width * dpr);
  if (canvas.height !== Math.round(height * dpr)) canvas.height = Math.round(height * dpr);
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const step = bars.length ? width / bars.length : width;
  bars.forEach((bar, n) => {
    const h = gapHeight(bar.gap, stats.threshold, height);
    g.fillStyle = bar.stall ? colors.error : colors.muted;
    g.fillRect(n * step, height - h, Math.max(1, step - (step > 3 ? 1 : 0)), h);
  });
  g.strokeStyle = colors.error;
  g.lineWidth = 1;
  g.setLineDash?.([3, 2]);
  const line = height - gapHeight(stats.threshold, stats.threshold, height);
  g.beginPath();
  g.moveTo(0, line);
  g.lineTo(width, line);
  g.stroke();
  g.setLineDash?.([]);
  return bars;
}

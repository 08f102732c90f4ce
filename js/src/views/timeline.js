// @ts-check
// The Gantt timeline: one bar per run on a canvas, rows in tree order; LangGraph stream parts on
// lanes above the runs (one lane per stream mode, a tick per part coloured by mode).
//
// - Geometry comes from timeline_model.js (pure, tested); this module draws and handles input.
// - Only the rows in view are drawn, token ticks are binned per pixel column, and drawing happens
//   in an animation frame: 10,000 runs and 200,000 ticks stay interactive.
// - The canvas is as tall as the view; a spacer beside it gives the scroller the height of every
//   row, so the native scrollbar works and the canvas never grows past browser limits.
// - Wheel over the bars zooms around the cursor (over the names it scrolls), drag pans in time and
//   rows, + / − / fit buttons, click selects a run, hover shows its details. On a part lane, hover
//   shows the nearest part and click picks it (`ctx.selectPart`: the graph pane shows it).
// - Without a 2D context (happy-dom in tests, a context lost) drawing is skipped; the `data-bars`
//   and `aria-label` attributes still describe what would be drawn.
// - A step holding the stream back is drawn hatched, growing to the clock while it holds, with a
//   live "holding N ms" label; the legend lists only the run types and marks present.
// - `seekable` (a replay's view): the time axis is clickable and sends `{type: "seek", ms}` to the
//   kernel, and a playhead marks the replay's clock.

import { SEEK_REQUEST as SEEK } from "../contract.js";
import { frameScheduler } from "../frame.js";
import { lastFitting } from "../sorted.js";
import { cellText, ms, replaceChildren, setText, targetOf } from "../text.js";
import { gapStatsOf, stallAt, stallLabel, stallLines, stallRule } from "./gaps.js";
import { modeColor } from "./graph_model.js";
import {
  AXIS_HEIGHT_PX,
  barSpan,
  binTicks,
  fitRange,
  HELD_COLORS,
  hitRow,
  holdSpan,
  INDENT_PX,
  isDark,
  LABEL_WIDTH_PX,
  LANE_HEIGHT_PX,
  lanePartCount,
  legendItems,
  nearestPart,
  niceTicks,
  PLOT_LEFT_PAD_PX,
  PLOT_RIGHT_MARGIN_PX,
  panRange,
  partLanes,
  partSummary,
  ROW_HEIGHT_PX,
  runSummary,
  scale,
  tickLabel,
  typeColor,
  visibleRows,
  zoomRange,
} from "./timeline_model.js";

const FALLBACK_WIDTH_PX = 800;
const BAR_INSET_PX = 4;
const DRAG_THRESHOLD_PX = 3;
const WHEEL_ZOOM_RATE = 0.0015;
/** First-token mark: a triangle this wide (px) pointing down into the bar. */
const FIRST_MARK_PX = 11;
const FONT_SIZE = "11px";
/** How far from the pointer (px) a part marker can be and still be hovered or picked. */
const PART_HIT_PX = 4;

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("./timeline_model.js").Scale} Scale */
/** @typedef {import("./timeline_model.js").Lane} Lane */
/**
 * @typedef {object} Geometry  what the last draw laid out (hit testing reads it)
 * @property {number[]} rows   runs in tree order
 * @property {Lane[]} lanes
 * @property {Scale} x
 * @property {number} scrollTop
 * @property {number} width
 * @property {number} height
 */
/** @typedef {Record<keyof typeof THEME, string>} Colors */
/** @typedef {{clientX: number, clientY: number, range: [number, number], k: number, scrollTop: number, moved: boolean}} Drag */

const THEME = {
  text: ["--jp-ui-font-color1", "#1f2937"],
  muted: ["--jp-ui-font-color2", "#6b7280"],
  grid: ["--jp-border-color2", "#e5e7eb"],
  background: ["--jp-layout-color1", "#ffffff"],
  axis: ["--jp-layout-color2", "#f3f4f6"],
  select: ["--jp-brand-color1", "#2563eb"],
  error: ["--jp-error-color1", "#dc2626"],
  warn: ["--jp-warn-color1", "#d97706"],
  font: ["--jp-ui-font-family", "system-ui, sans-serif"],
};

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountTimeline(ctx, parent) {
  const { h, store, win } = ctx;
  /**
   * @param {string} label
   * @param {string} aria
   * @param {string} action
   */
  const button = (label, aria, action) =>
    h("button", { type: "button", class: "sv-button", "aria-label": aria, title: aria, "data-action": action }, label);
  const legend = h("span", { class: "sv-legend", "aria-label": "Legend" });
  let legendKey = "";
  /** @type {HTMLElement | null} */
  let heldSwatch = null;
  const toolbar = h(
    "div",
    { class: "sv-timeline-bar" },
    button("+", "Zoom in", "in"),
    button("−", "Zoom out", "out"),
    button("fit", "Fit the whole trace", "fit"),
    legend,
  );
  const canvas = h("canvas", {
    class: "sv-timeline-canvas",
    tabindex: "0",
    role: "img",
    "data-bars": "0",
    "aria-label": "Gantt timeline",
  });
  const spacer = h("div", { class: "sv-vspacer" });
  const scroller = h("div", { class: "sv-timeline-scroll" }, canvas, spacer);
  const tooltip = h("div", { class: "sv-tooltip", role: "tooltip", hidden: true });
  const empty = h("div", { class: "sv-empty sv-timeline-empty", hidden: true });
  const root = h("div", { class: "sv-timeline" }, toolbar, scroller, empty, tooltip);
  parent.appendChild(root);

  /** The whole trace's range: at least the `time_span` trait (one scale for compared traces). */
  function whole() {
    const span = ctx.model.get("time_span");
    const now = Number.isFinite(span) && span > store.now ? span : store.now;
    return fitRange(store.runs, now);
  }

  /** Visible time range, and whether it follows the whole trace (until the user zooms or pans). */
  let range = whole();
  let fit = true;
  /** Run index under the pointer, or -1. */
  let hover = -1;
  /** Part under the pointer on a part lane (its seq), or -1. */
  let hoverPart = -1;
  /** @type {Drag | null} */
  let drag = null;
  /** @type {CanvasRenderingContext2D | null} */
  let context = null;
  /** @type {Geometry | null} */
  let geometry = null;

  function size() {
    const width = scroller.clientWidth || parent.clientWidth || FALLBACK_WIDTH_PX;
    const height = scroller.clientHeight || Math.max(120, ctx.height() - 80);
    return { width, height };
  }

  /** @returns {Colors} */
  function theme() {
    const style = win.getComputedStyle ? win.getComputedStyle(root) : null;
    /** @type {Record<string, string>} */
    const colors = {};
    for (const [key, [variable, fallback]] of Object.entries(THEME)) {
      colors[key] = (style?.getPropertyValue(variable) || "").trim() || fallback;
    }
    return /** @type {Colors} */ (colors);
  }

  function lanes() {
    return store.partCount ? partLanes(store.partModes, store.partTimes, store.partSeqs) : [];
  }

  /** @param {number[]} rows */
  function summary(rows) {
    let running = 0;
    let failed = 0;
    for (const i of rows) {
      const run = store.runs[i];
      if (run.status === "running") running += 1;
      else if (run.status === "error" || run.status === "cancelled") failed += 1;
    }
    const end = fitRange(store.runs, store.now)[1] / 1.02;
    const parts = store.partCount
      ? `, ${store.partCount} LangGraph stream parts on ${store.partModes.length} lanes`
      : "";
    return `Gantt timeline: ${rows.length} runs (${running} running, ${failed} failed or cancelled)${parts}, 0 to ${ms(end, 0)}`;
  }

  /**
   * Lay out (and, with a 2D context, paint) the view; returns what it laid out.
   * @returns {Geometry}
   */
  function draw() {
    const { rows, depth } = store.treeOrder();
    const partRows = lanes();
    if (fit) range = whole();
    drawLegend();
    if (heldSwatch) {
      const stripe = isDark(theme().background) ? HELD_COLORS.dark : HELD_COLORS.light;
      if (heldSwatch.style.getPropertyValue("--sv-held") !== stripe) heldSwatch.style.setProperty("--sv-held", stripe);
    }
    // Nothing to draw: a message instead of an empty axis; a replay's axis stays, to click ahead.
    const nothing = rows.length === 0 && partRows.length === 0 && !isSeekable();
    if (empty.hidden !== !nothing) {
      empty.hidden = !nothing;
      scroller.hidden = nothing;
    }
    if (nothing) setText(empty, ctx.live() ? "No runs yet." : "No runs in this trace.");
    canvas.setAttribute("data-bars", String(rows.length));
    canvas.setAttribute("data-parts", String(lanePartCount(partRows)));
    canvas.setAttribute("data-lanes", String(partRows.length));
    canvas.setAttribute("aria-label", summary(rows));
    canvas.setAttribute("data-range", `${range[0].toFixed(3)},${range[1].toFixed(3)}`);
    const content = partRows.length * LANE_HEIGHT_PX + rows.length * ROW_HEIGHT_PX;
    const spacerHeight = `${Math.max(0, AXIS_HEIGHT_PX + content - size().height)}px`;
    if (spacer.style.height !== spacerHeight) spacer.style.height = spacerHeight;
    // Measured once the spacer is set: its scrollbar (if any) narrows the room for the canvas.
    const { width, height } = size();
    const dpr = win.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      context = null;
    }
    const plot0 = LABEL_WIDTH_PX + PLOT_LEFT_PAD_PX;
    const x = scale(range[0], range[1], plot0, Math.max(plot0 + 10, width - PLOT_RIGHT_MARGIN_PX));
    const scrollTop = scroller.scrollTop;
    const laid = { rows, lanes: partRows, x, scrollTop, width, height };
    geometry = laid;
    canvas.setAttribute("data-holds", holdsText(rows));
    canvas.setAttribute("data-stalls", stallsText(rows));
    if (nothing) return laid;
    if (!context) context = typeof canvas.getContext === "function" ? canvas.getContext("2d") : null;
    if (context) paint(context, { ...laid, depth, dpr });
    return laid;
  }

  /** The legend: the run types and marks present (rebuilt only when that set changes). */
  function drawLegend() {
    const items = legendItems(store.runs);
    const key = items.map((item) => item.key).join(",");
    if (key === legendKey) return;
    legendKey = key;
    replaceChildren(
      legend,
      items.map((item) => {
        const attributes = { class: "sv-legend-item", "data-legend": item.key };
        if (item.color !== null) {
          const swatch = h("span", { class: "sv-swatch" });
          swatch.style.backgroundColor = item.color;
          return h("span", attributes, swatch, item.label);
        }
        if (item.key === "held") {
          heldSwatch = h("span", { class: "sv-swatch sv-swatch-held" });
          return h("span", attributes, heldSwatch, item.label);
        }
        if (item.key === "first") return h("span", attributes, h("span", { class: "sv-first-mark" }, "▼"), item.label);
        if (item.key === "error")
          return h("span", { ...attributes, class: "sv-legend-item sv-legend-error" }, "✕ error");
        if (item.key === "interrupted")
          return h("span", { ...attributes, class: "sv-legend-item sv-legend-pause" }, "‖ paused");
        return h("span", attributes, "⊘ cancelled");
      }),
    );
  }

  /**
   * The holds drawn, as text for tests and assistive tools: `name: holding N ms; ...`.
   * @param {number[]} rows
   */
  function holdsText(rows) {
    const parts = [];
    for (const i of rows) {
      const run = store.runs[i];
      if (run.holding === null && run.held === null) continue;
      const hold = holdSpan(run, store.runs, store.now);
      if (hold) parts.push(`${run.name}: ${hold.label} (${hold.from.toFixed(3)}-${hold.to.toFixed(3)})`);
    }
    return parts.join("; ");
  }

  /**
   * The stalls marked, as text for tests and assistive tools (the first 20):
   * `name: stall 900 ms after 31 chunks (threshold 250 ms); ...`.
   * @param {number[]} rows
   */
  function stallsText(rows) {
    const parts = [];
    for (const i of rows) {
      for (const stall of gapStatsOf(store.runTicks[i], rule()).stalls) {
        if (parts.length === 20) return `${parts.join("; ")}; …`;
        const threshold = `threshold ${ms(stall.threshold, 0)}`;
        parts.push(`${store.runs[i].name}: ${stallLabel(stall)} after chunk ${stall.after} (${threshold})`);
      }
    }
    return parts.join("; ");
  }

  /** What the last draw laid out (drawing now if nothing was). */
  function laidOut() {
    return geometry ?? draw();
  }

  /**
   * One part lane: its label, a tick per part (binned per pixel column), the picked part.
   * @param {CanvasRenderingContext2D} g
   * @param {Lane} lane
   * @param {number} top
   * @param {Scale} x
   * @param {number} plotWidth
   * @param {Colors} colors
   */
  function paintLane(g, lane, top, x, plotWidth, colors) {
    const mid = top + LANE_HEIGHT_PX / 2;
    const color = modeColor(lane.mode);
    g.globalAlpha = 0.07;
    g.fillStyle = color;
    g.fillRect(0, top, x.x1 + PLOT_RIGHT_MARGIN_PX, LANE_HEIGHT_PX);
    g.globalAlpha = 1;
    g.fillRect(6, mid - 3, 6, 6);
    g.fillStyle = colors.muted;
    g.fillText(
      fitText(g, `${cellText(lane.mode, 40)} · ${lane.times.length.toLocaleString("en-US")}`, LABEL_WIDTH_PX - 26),
      18,
      mid,
    );
    const y0 = top + 1;
    const tall = LANE_HEIGHT_PX - 2;
    if (plotWidth > 0) {
      const counts = binTicks(lane.times, x.t0, x.t1, plotWidth);
      g.fillStyle = color;
      for (let c = 0; c < counts.length; c += 1) {
        const count = counts[c];
        if (!count) continue;
        g.globalAlpha = Math.min(1, 0.55 + 0.15 * Math.log2(count + 1));
        g.fillRect(x.x0 + c, y0, count > 1 ? 2 : 1, tall);
      }
      g.globalAlpha = 1;
    }
    for (const seq of [ctx.selectedPart(), hoverPart]) {
      if (seq < 0 || store.partMode(seq) !== lane.mode) continue;
      const px = x.x(store.cols.t[seq]);
      if (px < x.x0 || px > x.x1) continue;
      g.fillStyle = seq === ctx.selectedPart() ? colors.select : colors.text;
      g.fillRect(Math.round(px) - 1, top, 3, LANE_HEIGHT_PX);
    }
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {Geometry & {depth: number[], dpr: number}} geometry
   */
  function paint(g, { rows, depth, lanes: partRows, x, scrollTop, width, height, dpr }) {
    const colors = theme();
    const selectedIndex = store.runIndex(ctx.selectedRun());
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = `${FONT_SIZE} ${colors.font}`;
    g.textBaseline = "middle";
    const ticks = niceTicks(range[0], range[1], Math.max(2, Math.floor((x.x1 - x.x0) / 90)));
    // Part lanes first, then the runs below them (both scroll).
    const lanesHeight = partRows.length * LANE_HEIGHT_PX;
    const [first, last] = visibleRows(scrollTop - lanesHeight, height - AXIS_HEIGHT_PX, rows.length);
    const plotWidth = Math.floor(x.x1 - x.x0);

    // Grid.
    g.fillStyle = colors.grid;
    for (const value of ticks.values) g.fillRect(Math.round(x.x(value)), AXIS_HEIGHT_PX, 1, height);

    for (let lane = 0; lane < partRows.length; lane += 1) {
      const top = AXIS_HEIGHT_PX + lane * LANE_HEIGHT_PX - scrollTop;
      if (top + LANE_HEIGHT_PX > AXIS_HEIGHT_PX && top < height)
        paintLane(g, partRows[lane], top, x, plotWidth, colors);
    }
    if (lanesHeight) {
      g.fillStyle = colors.grid;
      g.fillRect(0, AXIS_HEIGHT_PX + lanesHeight - scrollTop - 1, width, 1);
    }

    for (let n = first; n < last; n += 1) {
      const i = rows[n];
      const run = store.runs[i];
      const top = AXIS_HEIGHT_PX + lanesHeight + n * ROW_HEIGHT_PX - scrollTop;
      const mid = top + ROW_HEIGHT_PX / 2;
      if (i === selectedIndex || i === hover) {
        g.globalAlpha = i === selectedIndex ? 0.16 : 0.07;
        g.fillStyle = i === selectedIndex ? colors.select : colors.text;
        g.fillRect(0, top, width, ROW_HEIGHT_PX);
        g.globalAlpha = 1;
      }

      // Name, indented by depth.
      const indent = 6 + Math.min(depth[n], 12) * INDENT_PX;
      g.fillStyle = run.status === "error" ? colors.error : colors.text;
      const label = run.send !== null ? `${cellText(run.name, 60)} ${cellText(run.send, 60)}` : cellText(run.name, 80);
      g.fillText(fitText(g, label, LABEL_WIDTH_PX - indent - 8), indent, mid);

      const bar = barSpan(run, store.now);
      if (!bar) continue;
      const x0 = Math.max(x.x0, x.x(bar.start));
      const x1 = Math.min(x.x1, Math.max(x.x(bar.end), x.x(bar.start) + 1));
      const y0 = top + BAR_INSET_PX;
      const barHeight = ROW_HEIGHT_PX - 2 * BAR_INSET_PX;
      if (x1 >= x.x0 && x0 <= x.x1) {
        g.fillStyle = typeColor(run.type);
        g.globalAlpha = bar.running ? 0.55 : 0.9;
        g.fillRect(x0, y0, Math.max(1, x1 - x0), barHeight);
        g.globalAlpha = 1;
      }

      // Held-back segment: hatched, growing to the clock while the step holds, with its label.
      const hold = holdSpan(run, store.runs, store.now);
      if (hold) paintHold(g, hold, x, x0, x1, y0, barHeight, mid, colors);

      // Token ticks, binned per pixel column.
      const times = store.runTicks[i];
      if (times?.length && plotWidth > 0) {
        const counts = binTicks(times, x.t0, x.t1, plotWidth);
        g.fillStyle = colors.text;
        for (let c = 0; c < counts.length; c += 1) {
          const count = counts[c];
          if (!count) continue;
          g.globalAlpha = Math.min(1, 0.35 + 0.2 * Math.log2(count + 1));
          g.fillRect(x.x0 + c, y0 + 2, 1, barHeight - 4);
        }
        g.globalAlpha = 1;
        paintStalls(g, gapStatsOf(times, rule()).stalls, x, y0, barHeight, mid, colors);
      }

      // First-token mark: a triangle pointing down into the bar, outlined in the background
      // colour so it stands out on the bar and on the background alike.
      if (run.first !== null) {
        const fx = x.x(run.first);
        if (fx >= x.x0 - 1 && fx <= x.x1 + 1) {
          const half = FIRST_MARK_PX / 2;
          g.beginPath();
          g.moveTo(fx - half, top + 1);
          g.lineTo(fx + half, top + 1);
          g.lineTo(fx, top + BAR_INSET_PX + 6);
          g.closePath();
          g.lineJoin = "round";
          g.lineWidth = 2;
          g.strokeStyle = colors.background;
          g.stroke();
          g.fillStyle = colors.text;
          g.fill();
        }
      }

      // Errors and cancellations: outline and a mark after the bar.
      if (run.status === "error" || run.status === "cancelled") {
        const color = run.status === "error" ? colors.error : colors.muted;
        g.strokeStyle = color;
        g.lineWidth = 1.5;
        if (run.status === "cancelled") g.setLineDash?.([3, 2]);
        g.strokeRect(x0 + 0.5, y0 + 0.5, Math.max(1, x1 - x0 - 1), barHeight - 1);
        g.setLineDash?.([]);
        g.fillStyle = color;
        g.fillText(run.status === "error" ? "✕" : "⊘", Math.min(x.x1 - 8, x1 + 3), mid);
      }
      // A pause (LangGraph interrupt): dashed warn outline, then "‖" and what it asks.
      if (run.status === "interrupted") {
        g.strokeStyle = colors.warn;
        g.lineWidth = 1.5;
        g.setLineDash?.([4, 2]);
        g.strokeRect(x0 + 0.5, y0 + 0.5, Math.max(1, x1 - x0 - 1), barHeight - 1);
        g.setLineDash?.([]);
        g.fillStyle = colors.warn;
        const markX = Math.min(x.x1 - 8, x1 + 3);
        const asks = run.interrupt ? `‖ ${cellText(run.interrupt, 80)}` : "‖";
        g.fillText(fitText(g, asks, Math.max(8, x.x1 - markX)), markX, mid);
      }
      if (i === selectedIndex) {
        g.strokeStyle = colors.select;
        g.lineWidth = 2;
        g.strokeRect(x0 - 1, y0 - 1, Math.max(2, x1 - x0 + 2), barHeight + 2);
      }
    }

    // Now line while live; a replay's playhead always.
    const seekable = isSeekable();
    const nx = x.x(store.now);
    if ((ctx.live() || seekable) && nx >= x.x0 - 1 && nx <= x.x1 + 1) {
      g.fillStyle = colors.select;
      g.globalAlpha = seekable ? 0.9 : 0.6;
      g.fillRect(Math.round(nx) - (seekable ? 1 : 0), AXIS_HEIGHT_PX, seekable ? 2 : 1, height);
      g.globalAlpha = 1;
    }

    // Axis on top of the rows, and the label column header.
    g.fillStyle = colors.axis;
    g.fillRect(0, 0, width, AXIS_HEIGHT_PX);
    g.fillStyle = colors.grid;
    g.fillRect(0, AXIS_HEIGHT_PX - 1, width, 1);
    g.fillRect(LABEL_WIDTH_PX - 1, 0, 1, height);
    g.fillStyle = colors.muted;
    g.fillText("run", 6, AXIS_HEIGHT_PX / 2);
    g.fillText("time (ms)", LABEL_WIDTH_PX - 60, AXIS_HEIGHT_PX / 2);
    for (const value of ticks.values) {
      const tx = x.x(value);
      if (tx < x.x0 || tx > x.x1) continue;
      g.fillRect(Math.round(tx), AXIS_HEIGHT_PX - 6, 1, 6);
      const label = tickLabel(value, ticks.step);
      if (tx + 3 + g.measureText(label).width <= width) g.fillText(label, Math.round(tx) + 3, AXIS_HEIGHT_PX / 2);
    }
    if (seekable && nx >= x.x0 - 1 && nx <= x.x1 + 1) {
      // The playhead's handle on the axis.
      g.fillStyle = colors.select;
      g.beginPath();
      g.moveTo(nx - 6, AXIS_HEIGHT_PX - 10);
      g.lineTo(nx + 6, AXIS_HEIGHT_PX - 10);
      g.lineTo(nx, AXIS_HEIGHT_PX);
      g.closePath();
      g.fill();
    }
  }

  /**
   * A hold: the bar's held part covered, hatched in strong stripes and outlined, with its label
   * ("holding N ms" while it grows, "held N ms" after) inside it, or after the bar.
   * @param {CanvasRenderingContext2D} g
   * @param {{from: number, to: number, live: boolean, label: string}} hold
   * @param {Scale} x
   * @param {number} barStart  the bar's left end (px)
   * @param {number} barEnd  the bar's right end (px)
   * @param {number} y0
   * @param {number} barHeight
   * @param {number} mid
   * @param {Colors} colors
   */
  function paintHold(g, hold, x, barStart, barEnd, y0, barHeight, mid, colors) {
    const stripe = isDark(colors.background) ? HELD_COLORS.dark : HELD_COLORS.light;
    const h0 = Math.max(x.x0, x.x(hold.from));
    const h1 = Math.min(x.x1, Math.max(x.x(hold.to), h0 + 2));
    const top = y0 - 1;
    const tall = barHeight + 2;
    if (h1 > h0 && h0 <= x.x1 && h1 >= x.x0) {
      g.save();
      g.beginPath();
      g.rect(h0, top, h1 - h0, tall);
      g.clip();
      g.fillStyle = colors.background;
      g.globalAlpha = 0.85;
      g.fillRect(h0, top, h1 - h0, tall);
      g.globalAlpha = 1;
      g.strokeStyle = stripe;
      g.lineWidth = 2;
      g.beginPath();
      for (let hx = h0 - tall; hx < h1; hx += 6) {
        g.moveTo(hx, top + tall);
        g.lineTo(hx + tall, top);
      }
      g.stroke();
      g.restore();
      g.strokeStyle = stripe;
      g.lineWidth = 1.5;
      g.strokeRect(h0 + 0.75, top + 0.75, Math.max(0.5, h1 - h0 - 1.5), tall - 1.5);
    }
    g.save();
    g.font = `bold ${FONT_SIZE} ${colors.font}`;
    const labelWidth = g.measureText(hold.label).width;
    // Beside the bar where there is room (before it, else after it), so the stripes stay whole;
    // else inside the hold.
    const before = Math.min(barStart, h0) - labelWidth - 8;
    const after = Math.max(x.x0, Math.max(barEnd, h1)) + 8;
    const lx = before >= x.x0 + 2 ? before : after + labelWidth <= x.x1 ? after : Math.max(x.x0, h0 + 5);
    if (lx >= x.x0 - 1 && lx <= x.x1) {
      g.fillStyle = colors.background;
      g.fillRect(lx - 3, top, labelWidth + 6, tall);
      g.fillStyle = stripe;
      g.fillText(hold.label, lx, mid);
    }
    g.restore();
  }

  /**
   * Stalls: each gap too long for its run's rhythm (views/gaps.js) covered in the error colour,
   * outlined, with its length inside when it fits. Hovering one tells its length and threshold.
   * @param {CanvasRenderingContext2D} g
   * @param {readonly import("./gaps.js").Stall[]} stalls
   * @param {import("./timeline_model.js").Scale} x
   * @param {number} y0
   * @param {number} barHeight
   * @param {number} mid
   * @param {Colors} colors
   */
  function paintStalls(g, stalls, x, y0, barHeight, mid, colors) {
    for (const stall of stalls) {
      const s0 = Math.max(x.x0, x.x(stall.at));
      const s1 = Math.min(x.x1, Math.max(x.x(stall.at + stall.gap), s0 + 3));
      if (s1 < x.x0 || s0 > x.x1) continue;
      g.fillStyle = colors.error;
      g.globalAlpha = 0.22;
      g.fillRect(s0, y0 - 1, s1 - s0, barHeight + 2);
      g.globalAlpha = 1;
      g.strokeStyle = colors.error;
      g.lineWidth = 1.5;
      g.setLineDash?.([2, 2]);
      g.strokeRect(s0 + 0.5, y0 - 0.5, Math.max(1, s1 - s0 - 1), barHeight + 1);
      g.setLineDash?.([]);
      const label = stallLabel(stall);
      const labelWidth = g.measureText(label).width;
      if (labelWidth + 6 <= s1 - s0) {
        // On a backing of the background colour: readable on any bar colour.
        g.fillStyle = colors.background;
        g.globalAlpha = 0.85;
        g.fillRect(s0 + 2, y0 + 1, labelWidth + 2, barHeight - 2);
        g.globalAlpha = 1;
        g.fillStyle = colors.error;
        g.fillText(label, s0 + 3, mid);
      }
    }
  }

  function isSeekable() {
    return ctx.model.get("seekable") === true;
  }

  /** The stall rule the kernel set (`stall_rule`), else the default. */
  function rule() {
    return stallRule(ctx.model.get("stall_rule"));
  }

  /**
   * `text`, cut with … to fit `width` px.
   * @param {CanvasRenderingContext2D} g
   * @param {string} text
   * @param {number} width
   */
  function fitText(g, text, width) {
    if (width <= 0) return "";
    if (g.measureText(text).width <= width) return text;
    const keep = lastFitting(0, text.length, (n) => g.measureText(`${text.slice(0, n)}…`).width <= width);
    return `${text.slice(0, keep)}…`;
  }

  // --- input ---------------------------------------------------------------------------------

  /** @param {MouseEvent} event */
  function pointer(event) {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  /**
   * The run under `point`, or -1.
   * @param {{x: number, y: number}} point
   */
  function runAt(point) {
    const laid = laidOut();
    const { run } = hitRow(point.y, laid.scrollTop, laid.lanes.length, laid.rows.length);
    return run < 0 ? -1 : laid.rows[run];
  }

  /**
   * The time (ms, >= 0) a click at `point` seeks a replay to: on the time axis of a seekable
   * timeline; else null.
   * @param {{x: number, y: number}} point
   * @returns {number | null}
   */
  function seekAt(point) {
    if (!isSeekable() || !(point.y >= 0 && point.y < AXIS_HEIGHT_PX)) return null;
    const { x } = laidOut();
    if (!(point.x >= x.x0 - PLOT_LEFT_PAD_PX && point.x <= x.x1 + PLOT_RIGHT_MARGIN_PX)) return null;
    return Math.max(0, Math.round(x.t(Math.min(x.x1, Math.max(x.x0, point.x))) * 1000) / 1000);
  }

  /** The part (seq) under the pointer on a part lane, or -1. */
  /** @param {{x: number, y: number}} point */
  function partAt(point) {
    const laid = laidOut();
    const { lane } = hitRow(point.y, laid.scrollTop, laid.lanes.length, laid.rows.length);
    if (lane < 0 || point.x < laid.x.x0 - PART_HIT_PX) return -1;
    const { times, seqs } = laid.lanes[lane];
    const n = nearestPart(times, laid.x.t(point.x), PART_HIT_PX / laid.x.k);
    return n < 0 ? -1 : seqs[n];
  }

  /**
   * @param {number} seq
   * @param {MouseEvent} event
   */
  function showPartTooltip(seq, event) {
    placeTooltip(partLines(seq), event);
  }

  /**
   * What the tooltip of part `seq` says.
   * @param {number} seq
   */
  function partLines(seq) {
    return partSummary({
      mode: store.partMode(seq) ?? "",
      name: store.eventName(seq),
      ns: store.eventNs(seq) ?? "",
      t: store.cols.t[seq],
      seq,
      text: store.cols.text[seq],
    });
  }

  /**
   * @param {number} i  the run (-1 hides the tooltip)
   * @param {MouseEvent} event
   */
  function showTooltip(i, event) {
    if (i < 0) {
      tooltip.hidden = true;
      return;
    }
    const run = store.runs[i];
    // Over a stall of the run: what the mark means.
    const { x } = laidOut();
    const stall = stallAt(gapStatsOf(store.runTicks[i], rule()).stalls, x.t(pointer(event).x), 3 / x.k);
    placeTooltip(stall ? [run.name, ...stallLines(stall)] : runSummary(run, store.runs, store.now), event);
  }

  /**
   * @param {string[]} lines
   * @param {MouseEvent} event
   */
  function placeTooltip(lines, event) {
    fillTooltip(lines);
    tooltip.hidden = false;
    // Beside the pointer, flipped to the other side where it would leave the pane (which clips).
    const box = root.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const width = tooltip.offsetWidth || 240;
    const height = tooltip.offsetHeight || 100;
    const roomX = root.clientWidth || Infinity;
    const roomY = root.clientHeight || Infinity;
    const left = x + 14 + width <= roomX ? x + 14 : x - 14 - width;
    const top = y + 14 + height <= roomY ? y + 14 : y - 14 - height;
    tooltip.style.left = `${Math.max(0, left)}px`;
    tooltip.style.top = `${Math.max(0, top)}px`;
  }

  /** @param {string[]} lines */
  function fillTooltip(lines) {
    replaceChildren(
      tooltip,
      lines.map((line, n) =>
        h("div", { class: n === 0 ? "sv-tooltip-title" : null, dir: "auto" }, cellText(line, 300)),
      ),
    );
  }

  /** @param {MouseEvent} event */
  function onMouseMove(event) {
    if (!drag) return;
    const dx = event.clientX - drag.clientX;
    const dy = event.clientY - drag.clientY;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD_PX) return;
    drag.moved = true;
    fit = false;
    range = panRange(drag.range, -dx / drag.k);
    scroller.scrollTop = Math.max(0, drag.scrollTop - dy);
    tooltip.hidden = true;
    frame.request();
  }

  /** @param {MouseEvent} event */
  function onMouseUp(event) {
    win.removeEventListener("mousemove", onMouseMove);
    win.removeEventListener("mouseup", onMouseUp);
    const done = drag;
    drag = null;
    if (!done || done.moved) return;
    const point = pointer(event);
    const seekTo = seekAt(point);
    if (seekTo !== null) {
      ctx.model.send({ type: SEEK, ms: seekTo });
      return;
    }
    const part = partAt(point);
    if (part >= 0) {
      ctx.selectPart(part);
      return;
    }
    const i = runAt(point);
    if (i >= 0) ctx.selectRun(store.runs[i].id);
  }

  canvas.addEventListener("mousedown", (event) => {
    if (event.button !== undefined && event.button !== 0) return;
    drag = {
      clientX: event.clientX,
      clientY: event.clientY,
      range: [range[0], range[1]],
      k: laidOut().x.k,
      scrollTop: scroller.scrollTop,
      moved: false,
    };
    win.addEventListener("mousemove", onMouseMove);
    win.addEventListener("mouseup", onMouseUp);
  });
  canvas.addEventListener("mousemove", (event) => {
    if (drag) return;
    const point = pointer(event);
    const seekTo = seekAt(point);
    const onAxis = seekTo !== null;
    if (onAxis !== canvas.classList.contains("sv-seek-hover")) canvas.classList.toggle("sv-seek-hover", onAxis);
    if (onAxis) {
      canvas.title = `click to jump the replay here (${ms(seekTo, 0)})`;
      tooltip.hidden = true;
      return;
    }
    if (canvas.title) canvas.title = "";
    const part = partAt(point);
    const i = part >= 0 ? -1 : runAt(point);
    if (i !== hover || part !== hoverPart) {
      hover = i;
      hoverPart = part;
      frame.request();
    }
    if (part >= 0) showPartTooltip(part, event);
    else showTooltip(i, event);
  });
  canvas.addEventListener("mouseleave", () => {
    tooltip.hidden = true;
    if (hover !== -1 || hoverPart !== -1) {
      hover = -1;
      hoverPart = -1;
      frame.request();
    }
  });
  canvas.addEventListener(
    "wheel",
    (event) => {
      const point = pointer(event);
      if (point.x < LABEL_WIDTH_PX) return; // over the names the wheel scrolls the rows
      event.preventDefault();
      const laid = laidOut();
      const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
      const factor = Math.exp(Math.max(-200, Math.min(200, (event.deltaY || 0) * unit)) * WHEEL_ZOOM_RATE);
      zoom(factor, Number.isFinite(point.x) ? laid.x.t(point.x) : undefined);
    },
    { passive: false },
  );
  canvas.addEventListener("keydown", (event) => {
    const span = range[1] - range[0];
    if (event.key === "+" || event.key === "=") zoom(0.5);
    else if (event.key === "-") zoom(2);
    else if (event.key === "0") fitAll();
    else if (event.key === "ArrowLeft") pan(-span / 10);
    else if (event.key === "ArrowRight") pan(span / 10);
    else return;
    event.preventDefault();
  });
  toolbar.addEventListener("click", (event) => {
    const action = targetOf(event, "button[data-action]")?.getAttribute("data-action");
    if (action === "in") zoom(0.5);
    else if (action === "out") zoom(2);
    else if (action === "fit") fitAll();
  });

  /**
   * @param {number} factor  < 1 zooms in
   * @param {number} [at]    the time that stays in place
   */
  function zoom(factor, at = (range[0] + range[1]) / 2) {
    fit = false;
    range = zoomRange(range, at, factor);
    frame.request();
  }
  /** @param {number} dt  ms */
  function pan(dt) {
    fit = false;
    range = panRange(range, dt);
    frame.request();
  }
  function fitAll() {
    fit = true;
    frame.request();
  }

  function reveal() {
    const i = store.runIndex(ctx.selectedRun());
    if (i < 0) return;
    const n = store.treeOrder().rows.indexOf(i);
    if (n < 0) return;
    const { height } = size();
    const top = lanes().length * LANE_HEIGHT_PX + n * ROW_HEIGHT_PX;
    const view = height - AXIS_HEIGHT_PX;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT_PX > scroller.scrollTop + view) scroller.scrollTop = top + ROW_HEIGHT_PX - view;
  }

  const frame = frameScheduler(win, draw);
  scroller.addEventListener("scroll", () => frame.request(), { passive: true });
  ctx.subscribe((change) => {
    // The part under the pointer got a new text (a retext): its tooltip says it, where it is.
    if (!tooltip.hidden && hoverPart >= 0 && change.retext?.includes(hoverPart)) fillTooltip(partLines(hoverPart));
    if (change.payload === undefined) frame.request();
  });
  ctx.on("change:selected_run", () => {
    reveal();
    frame.request();
  });
  ctx.on("change:live", () => frame.request());
  ctx.on("change:time_span", () => frame.request());
  ctx.on("change:seekable", () => frame.request());
  ctx.on("change:stall_rule", () => frame.request());
  ctx.onPartSelect(() => frame.request());
  ctx.onResize(() => frame.request());
  ctx.onCleanup(() => {
    frame.stop();
    win.removeEventListener("mousemove", onMouseMove);
    win.removeEventListener("mouseup", onMouseUp);
  });
  draw();
  return {
    root,
    canvas,
    draw,
    zoom,
    fitAll,
    get range() {
      return [...range];
    },
  };
}

// @ts-check
// The dashboard: header (trace name, counts, live indicator), the shared filter bar, and the run
// tree, timeline, token stream and event table side by side. Selection is linked through the
// `selected_run` trait: picking a run in the tree, the timeline or a token block highlights it in
// every pane and narrows the table to it and its descendants. A trace holding LangGraph stream
// parts gets a fifth pane, the graph pane (views/graph.js), when its first part arrives; a trace
// without parts keeps the four-pane layout.
//
// - Below a width of its own (STACK_BELOW_PX, more with the graph pane) the dashboard stacks its
//   panes in one column and scrolls as a whole (root[data-layout=stacked]); the width comes from
//   the context's ResizeObserver, so a Lab sidebar or a narrow output narrows it, not the window.
// - The Runs and Timeline row is as tall as their runs need (--sv-top-content), within bounds set
//   in style.css; the rest of the widget's `height` goes to the panes below.

import { frameScheduler } from "../frame.js";
import { cellText, cut, formatDuration, plural, setText, visible } from "../text.js";
import { costText, traceUsage, usageText } from "../usage.js";
import { mountFilterBar } from "./filterbar.js";
import { mountGraph } from "./graph.js";
import { pauseState } from "./graph_model.js";
import { mountTable } from "./table.js";
import { mountTimeline } from "./timeline.js";
import { AXIS_HEIGHT_PX, LANE_HEIGHT_PX, ROW_HEIGHT_PX } from "./timeline_model.js";
import { mountTokens } from "./tokens.js";
import { mountTree, TREE_ROW_HEIGHT_PX } from "./tree.js";

/** @typedef {import("../context.js").Context} Context */

/**
 * The header's key numbers: runs, failed runs, the trace's duration (first start to last end, or
 * to `now` while a run is open) and the first token after the first start.
 * @param {ReadonlyArray<import("../protocol.js").RunRow | undefined>} runs
 * @param {number} now
 */
export function headerFigures(runs, now) {
  let count = 0;
  let failed = 0;
  let start = Infinity;
  let end = -Infinity;
  let first = Infinity;
  let open = false;
  for (const run of runs) {
    if (!run) continue;
    count += 1;
    if (run.status === "error") failed += 1;
    if (run.start !== null && run.start < start) start = run.start;
    if (run.end === null) open = true;
    else if (run.end > end) end = run.end;
    if (run.first !== null && run.first < first) first = run.first;
  }
  const known = Number.isFinite(start);
  const last = open ? Math.max(end, now) : end;
  return {
    runs: count,
    failed,
    duration: known && Number.isFinite(last) ? Math.max(0, last - start) : null,
    first: known && Number.isFinite(first) ? first - start : null,
  };
}

/**
 * What the header says while the rest of a big trace is on its way.
 * @param {number} count  events the page holds
 * @param {number} total  events the trace holds
 */
export function loadingText(count, total) {
  return `loading ${count.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} events`;
}

/**
 * The header: the trace's name, its counts, and whether it is live (or still loading).
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountHeader(ctx, parent) {
  const { h, store } = ctx;
  const title = h("bdi", { class: "sv-title" });
  const stats = h("span", { class: "sv-stats" });
  const times = h("span", {
    class: "sv-times",
    title: "the trace's duration and its first token, from its first start",
  });
  const live = h("span", { class: "sv-live", role: "status" });
  const pause = h("bdi", { class: "sv-pause", hidden: true });
  const usage = h("span", { class: "sv-usage-total", hidden: true });
  const root = h("header", { class: "sv-header" }, title, stats, times, usage, pause, live);
  parent.appendChild(root);

  function draw() {
    const name = store.name || "trace";
    setText(title, cellText(name, 120));
    if (title.title !== name) title.title = visible(cut(name, 2000).text);
    const figures = headerFigures(store.runs, store.now);
    setText(
      stats,
      `${plural(figures.runs, "run")} · ${plural(store.count, "event")}${figures.failed ? ` · ${figures.failed} failed` : ""}`,
    );
    const timing = [];
    if (figures.duration !== null) timing.push(formatDuration(figures.duration));
    if (figures.first !== null) timing.push(`first token ${formatDuration(figures.first)}`);
    setText(times, timing.join(" · "));
    const total = traceUsage(store.runs);
    usage.hidden = total === null;
    if (total) {
      const cost = total.priced || total.cost !== null ? ` · ${costText(total)}` : "";
      setText(usage, `${total.total.toLocaleString("en-US")} tokens${cost}`);
      const tip = `the trace's model usage: ${usageText(total)}`;
      if (usage.title !== tip) usage.title = tip;
    }
    const paused = pauseState(store.runs);
    pause.hidden = paused === null;
    setText(pause, paused ? paused.text : "");
    if (paused && pause.title !== visible(paused.title)) pause.title = visible(paused.title);
    const isLive = ctx.live();
    live.setAttribute("data-live", isLive ? "true" : "false");
    // A big trace comes a screenful first: not `finished` (nor just live) until all of it is in.
    const loading = store.loading;
    live.setAttribute("data-loading", loading ? "true" : "false");
    if (loading) setText(live, loadingText(store.count, store.total));
    else setText(live, isLive ? "● live" : "finished");
  }
  const frame = frameScheduler(ctx.win, draw);
  ctx.subscribe((change) => {
    if (change.payload === undefined) frame.request();
  });
  ctx.on("change:live", () => frame.request());
  ctx.onCleanup(() => frame.stop());
  draw();
  return { root, draw };
}

/**
 * A titled pane of the grid.
 * @param {Context} ctx
 * @param {string} name   its `data-pane`
 * @param {string} title
 */
function pane(ctx, name, title) {
  const body = ctx.h("div", { class: "sv-pane-body" });
  const element = ctx.h(
    "section",
    { class: "sv-pane", "data-pane": name, "aria-label": title },
    ctx.h("div", { class: "sv-pane-title" }, title),
    body,
  );
  return { element, body };
}

/** Below this dashboard width (px) the panes stack in one column; a graph pane needs more. */
export const STACK_BELOW_PX = 900;
export const STACK_BELOW_WITH_GRAPH_PX = 1100;

/**
 * `stacked` (one column, the widget scrolls as a whole) or `columns`, for a dashboard `width` px
 * wide, with or without the graph pane. The width is the widget's own (a Lab sidebar or a
 * narrow cell narrows it), never the window's; 0 (not laid out yet) keeps columns.
 * @param {number} width
 * @param {boolean} withGraph
 * @returns {"stacked" | "columns"}
 */
export function layoutFor(width, withGraph) {
  if (!(width > 0)) return "columns";
  return width < (withGraph ? STACK_BELOW_WITH_GRAPH_PX : STACK_BELOW_PX) ? "stacked" : "columns";
}

// Content heights (px) the grid sizes its panes by: a pane title, the tree's head and rows, the
// timeline's zoom bar, axis, part lanes and rows (its row sizes are timeline_model's).
const PANE_CHROME_PX = 24;
const TREE_HEAD_PX = 18;
const TIMELINE_CHROME_PX = 30 + AXIS_HEIGHT_PX + 10;

/**
 * The height (px) the Runs and Timeline panes need to show every run without scrolling.
 * @param {number} runs
 * @param {number} lanes  LangGraph part lanes on the timeline
 */
export function topContentHeight(runs, lanes) {
  const tree = PANE_CHROME_PX + TREE_HEAD_PX + runs * TREE_ROW_HEIGHT_PX + 4;
  const timeline = PANE_CHROME_PX + TIMELINE_CHROME_PX + lanes * LANE_HEIGHT_PX + runs * ROW_HEIGHT_PX;
  return { tree, timeline, top: Math.max(tree, timeline) };
}

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountDashboard(ctx, parent) {
  /** @type {ReturnType<typeof pane> | null} */
  let graph = null;
  /** @type {string} */
  let layout = "";
  const applyLayout = () => {
    // Called from the context's ResizeObserver: layout is clean there, so this read is free.
    const next = layoutFor(parent.clientWidth, graph !== null);
    if (next === layout) return;
    layout = next;
    parent.setAttribute("data-layout", next);
  };
  // Before the views mount: their resize listeners then lay out in the new arrangement.
  ctx.onResize(applyLayout);
  // Stacked panes are never taller than the widget (its `height` trait).
  const setHeight = () => parent.style.setProperty("--sv-widget-height", `${ctx.height()}px`);
  ctx.on("change:height", setHeight);
  setHeight();
  ctx.onCleanup(() => parent.style.removeProperty("--sv-widget-height"));
  ctx.onCleanup(() => parent.removeAttribute("data-layout"));

  mountHeader(ctx, parent);
  mountFilterBar(ctx, parent);
  const tree = pane(ctx, "tree", "Runs");
  const timeline = pane(ctx, "timeline", "Timeline");
  const tokens = pane(ctx, "tokens", "Token stream");
  const table = pane(ctx, "table", "Events");
  const grid = ctx.h("div", { class: "sv-grid" }, tree.element, timeline.element, tokens.element, table.element);
  parent.appendChild(grid);
  mountTree(ctx, tree.body);
  mountTimeline(ctx, timeline.body);
  mountTokens(ctx, tokens.body);
  mountTable(ctx, table.body);

  // The top panes follow their content (up to a share of the widget, in CSS).
  let sized = "";
  const sizePanes = () => {
    let runs = 0;
    for (const run of ctx.store.runs) if (run) runs += 1;
    const lanes = ctx.store.partModes.length;
    const key = `${runs}/${lanes}`;
    if (key === sized) return;
    sized = key;
    const heights = topContentHeight(Math.max(runs, 1), lanes);
    grid.style.setProperty("--sv-top-content", `${heights.top}px`);
    grid.style.setProperty("--sv-tree-content", `${heights.tree}px`);
    grid.style.setProperty("--sv-timeline-content", `${heights.timeline}px`);
  };

  const addGraph = () => {
    if (graph || !ctx.store.partCount) return;
    graph = pane(ctx, "graph", "LangGraph stream");
    grid.classList.add("sv-with-graph");
    grid.insertBefore(graph.element, table.element);
    mountGraph(ctx, graph.body);
    layout = "";
    applyLayout();
  };
  const frame = frameScheduler(ctx.win, sizePanes);
  ctx.subscribe((change) => {
    addGraph();
    if (change.payload === undefined) frame.request();
  });
  ctx.onCleanup(() => frame.stop());
  addGraph();
  sizePanes();
  applyLayout();
}

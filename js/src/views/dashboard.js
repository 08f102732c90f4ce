// @ts-check
// The dashboard: header (trace name, counts, live indicator), the shared filter bar, and the run
// tree, timeline, token stream and event table side by side. Selection is linked through the
// `selected_run` trait: picking a run in the tree, the timeline or a token block highlights it in
// every pane and narrows the table to it and its descendants. A trace holding LangGraph stream
// parts gets a fifth pane, the graph pane (views/graph.js), when its first part arrives; a trace
// without parts keeps the four-pane layout.

import { frameScheduler } from "../frame.js";
import { cellText, plural, setText } from "../text.js";
import { mountFilterBar } from "./filterbar.js";
import { mountGraph } from "./graph.js";
import { mountTable } from "./table.js";
import { mountTimeline } from "./timeline.js";
import { mountTokens } from "./tokens.js";
import { mountTree } from "./tree.js";

/** @typedef {import("../context.js").Context} Context */

/**
 * The header: the trace's name, its counts, and whether it is live.
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountHeader(ctx, parent) {
  const { h, store } = ctx;
  const title = h("bdi", { class: "sv-title" });
  const stats = h("span", { class: "sv-stats" });
  const live = h("span", { class: "sv-live", role: "status" });
  const root = h("header", { class: "sv-header" }, title, stats, live);
  parent.appendChild(root);

  function draw() {
    setText(title, cellText(store.name || "trace", 120));
    const failed = store.runs.reduce((n, run) => n + (run && run.status === "error" ? 1 : 0), 0);
    setText(
      stats,
      `${plural(store.runs.filter(Boolean).length, "run")} · ${plural(store.count, "event")}${failed ? ` · ${failed} failed` : ""}`,
    );
    const isLive = ctx.live();
    live.setAttribute("data-live", isLive ? "true" : "false");
    setText(live, isLive ? "● live" : "finished");
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

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountDashboard(ctx, parent) {
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

  /** @type {ReturnType<typeof pane> | null} */
  let graph = null;
  const addGraph = () => {
    if (graph || !ctx.store.partCount) return;
    graph = pane(ctx, "graph", "LangGraph stream");
    grid.classList.add("sv-with-graph");
    grid.insertBefore(graph.element, table.element);
    mountGraph(ctx, graph.body);
  };
  ctx.subscribe(addGraph);
  addGraph();
}

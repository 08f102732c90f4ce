// @ts-check
// streamviz front-end: the anywidget module behind every streamviz widget (docs/protocol.md).
//
// - `initialize` makes the model's Store (store.js): the snapshot trait, then live deltas; it
//   holds it for the model's life, so nothing sent before a view is ready is missed. Views find
//   it by the `uid` trait. Only the default export is an anywidget module (a named `render`
//   export would make anywidget treat the module as its old form and skip `initialize`).
// - `render` mounts the view named by the `view` trait (dashboard, tokens, table, timeline, tree,
//   graph) in `div.sv-root`; every view reads the shared store and the synced traits through a
//   context (context.js) and redraws in animation frames. The returned cleanup undoes every
//   listener.
// - Data reaches the DOM as text only (text.js): no innerHTML, no URLs from data, no eval.
//
// Stable hooks for tests and users (class names and attributes that will not change):
//   div.sv-root[data-view]                     root of a rendered view
//   .sv-refused[role=alert]                    instead of the view: the snapshot's version is not
//                                              one this page understands (text saying so)
//   div.sv-root[data-layout="stacked|columns"]  dashboard arrangement, from the widget's own width
//                                              (dashboard.js STACK_BELOW_PX): stacked = one column
//                                              of panes, the widget scrolling as a whole
//   header.sv-header  .sv-title[title] .sv-stats .sv-times .sv-live[data-live]  dashboard header
//                                              (stats: runs · events · failed; times: duration ·
//                                              first token)
//     .sv-live[data-loading="true"]            a big trace's rest is on its way: "loading N of M
//                                              events" instead of "finished" / "● live"
//   section.sv-pane[data-pane="tree|timeline|tokens|table|graph"]    dashboard panes (graph: only
//                                              once the trace holds LangGraph stream parts)
//   .sv-filterbar                              filter bar (table and dashboard)
//     input[data-filter="search"]              search box (name, event, tags, path, text)
//     .sv-count                                "N of M events"
//     [data-filter="kinds"] .sv-kind[data-kind][aria-pressed]       event-kind chips
//     select[data-filter-mode="names|types|tags"]                    include / exclude mode
//     .sv-chip[data-filter="include_names|exclude_names|…"][data-value][aria-pressed]
//                                              value chips: a pressed chip is in the list its
//                                              data-filter names; an unpressed one is added to it
//     input[data-filter-input="names|types|tags"]                    type any value + Enter
//     .sv-run-chip  .sv-chip-x                 "run: NAME ×" when the table is narrowed to a run
//     .sv-clear                                clear every filter
//   .sv-table  .sv-thead  .sv-tbody  .sv-row[data-seq][data-phase]  event table (virtualized)
//     .sv-jump                                 "↓ N new": the user scrolled up while rows came
//   .sv-table-wrap[data-details="beside|below"]  where the details pane opens
//   .sv-details  .sv-payload  .sv-payload-note  details pane of the selected event
//     .sv-payload-mode[aria-pressed]           raw JSON toggle (else Python-like repr)
//   .sv-token-run[data-run-id][data-stream="text|json|json-added"]  token block of a run
//     .sv-token-head  .sv-token-pieces  .sv-token-text  .sv-token-all (toggle: every run)
//   canvas.sv-timeline-canvas[data-bars][data-range][aria-label]    Gantt timeline: data-bars =
//                                              runs it lays out, data-range = "t0,t1" shown (ms)
//     [data-parts][data-lanes]                 LangGraph stream parts it lays out on part lanes
//                                              (one lane per stream mode, above the runs)
//   .sv-timeline-bar button[data-action="in|out|fit"]               zoom buttons
//   .sv-tooltip                                timeline hover details
//   .sv-tree-node[data-run-id][aria-selected][title]  .sv-twisty     run tree; the row's title
//                                              lists name, type, node, tags, id and figures
//     .sv-tree-name .sv-tree-meta              name; node and own tags (what tells namesakes apart)
//     .sv-tree-dur .sv-tree-first .sv-tree-chunks                    figures, in fixed columns
//                                              under .sv-tree-head (text.js formatDuration)
//   .sv-graph[data-mode][data-parts]           LangGraph stream parts (graph pane / view)
//     .sv-mode[data-mode][aria-pressed]        one tab per stream mode present, with its count
//     .sv-part[data-seq][data-mode]            a part in the list of a mode (virtualized)
//       .sv-part-node .sv-part-ns[title] .sv-part-text               node, namespace, payload
//     .sv-graph-chip[data-filter][data-value][aria-pressed]          messages: node / tag chips
//     .sv-msg-group[data-node][data-ns]  .sv-msg-call[data-tags]     messages: tokens per node,
//       .sv-msg-pieces .sv-msg-text            then per LLM call (its tags): pieces and text
//     .sv-graph-detail[data-seq]  .sv-graph-payload                  the picked part, whole
//   .sv-selected                               the selected row / node / block, in every view

import { makeContext } from "./context.js";
import { VIEWS } from "./contract.js";
import { holdStore } from "./store.js";
import { mountDashboard } from "./views/dashboard.js";
import { mountFilterBar } from "./views/filterbar.js";
import { mountGraph } from "./views/graph.js";
import { mountTable } from "./views/table.js";
import { mountTimeline } from "./views/timeline.js";
import { mountTokens } from "./views/tokens.js";
import { mountTree } from "./views/tree.js";

/** @typedef {import("./context.js").Context} Context */
/** @typedef {import("./store.js").Model} Model */

/**
 * How each view of the contract is mounted.
 * @type {Record<string, (ctx: Context, parent: HTMLElement) => unknown>}
 */
const MOUNTS = {
  dashboard: mountDashboard,
  tokens: mountTokens,
  table: (ctx, parent) => {
    mountFilterBar(ctx, parent);
    mountTable(ctx, parent);
  },
  timeline: mountTimeline,
  tree: mountTree,
  graph: mountGraph,
};
for (const view of VIEWS) {
  if (!Object.hasOwn(MOUNTS, view)) throw new Error(`streamviz: no front-end for the view "${view}"`);
}

/**
 * The view the model names, or the contract's first (the dashboard) for anything else.
 * @param {Model} model
 * @returns {string}
 */
function viewName(model) {
  const view = model.get("view");
  return typeof view === "string" && VIEWS.includes(view) ? view : VIEWS[0];
}

/**
 * Mount the model's view in `el`; returns the cleanup.
 * @param {{model: Model, el: HTMLElement}} props
 */
function render({ model, el }) {
  const held = holdStore(model);
  const doc = el.ownerDocument;
  const root = doc.createElement("div");
  root.className = "sv-root";
  el.appendChild(root);
  /** @type {Context | null} */
  let ctx = null;

  function mount() {
    if (ctx) ctx.destroy();
    while (root.firstChild) root.removeChild(root.firstChild);
    ctx = makeContext(model, root, held.store);
    const view = viewName(model);
    root.setAttribute("data-view", view);
    root.style.height = `${ctx.height()}px`;
    if (held.store.refused !== null) {
      // A snapshot this page cannot read: say so (as text) rather than draw it wrong.
      root.appendChild(ctx.h("div", { class: "sv-refused", role: "alert" }, held.store.refused));
    } else {
      MOUNTS[view](ctx, root);
    }
    // The view gives way to the refusal (and comes back after it) as snapshots arrive.
    ctx.subscribe((change) => {
      if (change.refused) mount();
    });
  }
  const onView = () => mount();
  // The views follow the new size through the context's ResizeObserver.
  const onHeight = () => {
    if (ctx) root.style.height = `${ctx.height()}px`;
  };
  model.on("change:view", onView);
  model.on("change:height", onHeight);
  mount();
  return () => {
    model.off("change:view", onView);
    model.off("change:height", onHeight);
    if (ctx) ctx.destroy();
    ctx = null;
    root.remove();
    held.release();
  };
}

/**
 * Make the model's store as soon as the model exists; it lets go when the model goes.
 * @param {{model: Model}} props
 */
function initialize({ model }) {
  const held = holdStore(model);
  return () => held.release();
}

export default { initialize, render };

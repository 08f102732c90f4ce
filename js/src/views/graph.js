// @ts-check
// The LangGraph pane: the graph's stream parts, one tab per stream mode present in the trace.
//
// - `values`: the state after each step (numbered per namespace); the latest state of the root
//   graph shows whole beside the list until a state is picked.
// - `updates`: per-node updates (node, namespace, the update); `custom`: the payloads;
//   `tasks`, `debug`, `checkpoints`: step, type, task, namespace and the payload; any other mode
//   (from a remote server: `messages/partial`, `metadata`, `error`...) lists name, namespace, text.
//   These lists (views/graph_parts.js) are virtualized, follow a live trace when their end is in
//   view, and show the picked part whole (views/graph_detail.js).
// - `messages` (views/graph_messages.js): the LLM tokens grouped per namespace and node, then per
//   LLM call, with node and tag chips that write the shared `filters` trait. The filters narrow
//   only these tokens (a state or a checkpoint belongs to no node).
// - Picking a part (here or on the timeline's part lanes) goes through `ctx.selectPart`.
// - Text only (text.js): node names, namespaces and payloads never become markup.
//
// This module holds the tabs and decides what is shown; each tab's content is drawn by its own.

import { frameScheduler } from "../frame.js";
import { cellText, replaceChildren, setText, targetOf } from "../text.js";
import { mountPartDetail } from "./graph_detail.js";
import { mountMessages } from "./graph_messages.js";
import { modeColor, orderModes, pauseState } from "./graph_model.js";
import { DIFF_MODES, mountPartList } from "./graph_parts.js";

/** @typedef {import("../context.js").Context} Context */
/** @typedef {HTMLButtonElement & {svMode?: string}} ModeTab */

/**
 * A mode's name for a tab: `values`, `messages/partial`... (controls made visible).
 * @param {string} mode
 */
function modeText(mode) {
  return cellText(mode || "(no mode)", 40);
}

/**
 * Mount the pane in `parent`.
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountGraph(ctx, parent) {
  const { h, store } = ctx;
  const modes = h("div", { class: "sv-graph-modes", role: "tablist", "aria-label": "Stream modes" });
  const tools = h("div", { class: "sv-graph-tools", hidden: true });
  // values/updates/checkpoints: each row's change from the part before, or the whole part.
  const diffButton = h(
    "button",
    { type: "button", class: "sv-toggle", "data-view": "diff", "aria-pressed": "false" },
    "diff",
  );
  const fullButton = h(
    "button",
    { type: "button", class: "sv-toggle", "data-view": "full", "aria-pressed": "true" },
    "full",
  );
  const viewBar = h(
    "div",
    { class: "sv-graph-view", role: "group", "aria-label": "Show each part as", hidden: true },
    h("span", { class: "sv-graph-view-label" }, "show:"),
    diffButton,
    fullButton,
  );
  const thead = h("div", { class: "sv-graph-thead", role: "row" });
  const scroller = h("div", { class: "sv-graph-rows", tabindex: "0", role: "rowgroup", "aria-label": "Stream parts" });
  const listbox = h("div", { class: "sv-graph-listbox", role: "table" }, thead, scroller);
  const messages = h("div", { class: "sv-msg-list", hidden: true });
  const detail = h("aside", { class: "sv-graph-detail", "aria-label": "Stream part", hidden: true });
  const main = h("div", { class: "sv-graph-main" }, listbox, messages, detail);
  const empty = h("div", { class: "sv-empty" }, "No LangGraph stream parts in this trace yet.");
  const pause = h("div", { class: "sv-graph-pause", role: "status", hidden: true });
  const root = h("div", { class: "sv-graph" }, modes, pause, tools, viewBar, main, empty);
  parent.appendChild(root);

  /** The tab the user picked (it may not be present yet after a reset), or null. */
  /** @type {string | null} */
  let picked = null;
  /** The tab shown. */
  /** @type {string | null} */
  let active = null;
  let tabsKey = "";
  let generation = store.generation;
  /** How values/updates/checkpoints parts show: their diff or the whole part. */
  /** @type {import("./graph_parts.js").PartView} */
  let partView = "full";

  const frame = frameScheduler(ctx.win, draw);
  const partDetail = mountPartDetail(ctx, detail);
  const partList = mountPartList(ctx, {
    listbox,
    thead,
    scroller,
    request: () => frame.request(),
    latest: partDetail.latest,
    view: () => partView,
  });
  const tokens = mountMessages(ctx, { tools, messages });

  viewBar.addEventListener("click", (event) => {
    const button = targetOf(event, ".sv-toggle");
    if (!button || !viewBar.contains(button)) return;
    partView = button.getAttribute("data-view") === "diff" ? "diff" : "full";
    diffButton.setAttribute("aria-pressed", partView === "diff" ? "true" : "false");
    fullButton.setAttribute("aria-pressed", partView === "full" ? "true" : "false");
    root.setAttribute("data-part-view", partView);
    frame.now();
  });

  modes.addEventListener("click", (event) => {
    const tab = /** @type {ModeTab | null} */ (targetOf(event, ".sv-mode"));
    if (!tab || !modes.contains(tab) || tab.svMode === undefined) return;
    picked = tab.svMode;
    frame.now();
  });

  /** @param {string[]} ordered  the modes present, in tab order */
  function drawTabs(ordered) {
    const key = JSON.stringify([ordered, active]);
    if (key !== tabsKey) {
      tabsKey = key;
      replaceChildren(
        modes,
        ordered.map((mode) => {
          const swatch = h("span", { class: "sv-swatch" });
          swatch.style.backgroundColor = modeColor(mode);
          const on = mode === active ? "true" : "false";
          const tab = /** @type {ModeTab} */ (
            h(
              "button",
              {
                type: "button",
                role: "tab",
                class: `sv-mode${mode === active ? " sv-on" : ""}`,
                "data-mode": mode,
                "aria-pressed": on,
                "aria-selected": on,
              },
              swatch,
              h("span", { class: "sv-mode-name" }, modeText(mode)),
              h("span", { class: "sv-mode-count" }, ""),
            )
          );
          tab.svMode = mode;
          return tab;
        }),
      );
    }
    for (const tab of /** @type {NodeListOf<ModeTab>} */ (modes.querySelectorAll(".sv-mode"))) {
      const count = store.partSeqs.get(tab.svMode ?? "")?.length ?? 0;
      setText(/** @type {HTMLElement} */ (tab.lastChild), count.toLocaleString("en-US"));
    }
  }

  function draw() {
    if (generation !== store.generation) {
      // A new snapshot (e.g. the final one when the run ends). Events are only ever appended:
      // what is drawn stays (and keeps its scroll position) if the copy still holds it.
      generation = store.generation;
      tokens.onSnapshot();
      partList.onSnapshot();
    }
    const ordered = orderModes(store.partModes);
    // The user's tab; else the tab already shown (a part of another mode arriving does not take
    // the pane away from it); else the first mode present.
    active =
      picked !== null && ordered.includes(picked)
        ? picked
        : active !== null && ordered.includes(active)
          ? active
          : (ordered[0] ?? null);
    root.setAttribute("data-mode", active ?? "");
    root.setAttribute("data-parts", String(store.partCount));
    empty.hidden = active !== null;
    main.hidden = active === null;
    drawTabs(ordered);
    drawPause();
    if (active === null) {
      tools.hidden = true;
      viewBar.hidden = true;
      return;
    }
    const isMessages = active === "messages";
    tools.hidden = !isMessages;
    viewBar.hidden = !DIFF_MODES.includes(active);
    listbox.hidden = isMessages;
    messages.hidden = !isMessages;
    partDetail.draw(active);
    if (isMessages) tokens.draw();
    else partList.draw(active);
  }

  /** The thread's state: "‖ paused: <what it asks>" or "resumed <thread> with <value>". */
  function drawPause() {
    const state = pauseState(store.runs);
    pause.hidden = state === null;
    if (!state) return;
    const paused = state.text.startsWith("paused");
    pause.setAttribute("data-paused", paused ? "true" : "false");
    setText(pause, paused ? `‖ ${state.text}${state.title ? ` · ${cellText(state.title, 300)}` : ""}` : state.text);
  }

  /** Show the picked part: its tab, scrolled to it. */
  function reveal() {
    const k = ctx.selectedPart();
    if (k < 0 || k >= store.count) return;
    const mode = store.partMode(k);
    if (mode === null) return;
    picked = mode;
    draw();
    if (mode === "messages") tokens.reveal(k);
    else partList.reveal(k);
  }

  ctx.subscribe((change) => {
    if (change.retext) tokens.retext(change.retext);
    if (change.payload === undefined || partDetail.payloadCame(change.payload)) frame.request();
  });
  ctx.on("change:filters", () => frame.request());
  ctx.on("change:live", () => frame.request());
  ctx.onPartSelect(() => {
    reveal();
    frame.request();
  });
  ctx.onResize(() => frame.request());
  ctx.onCleanup(() => {
    frame.stop();
    partList.destroy();
  });
  draw();
  return {
    root,
    draw,
    get active() {
      return active;
    },
    /** @param {string} mode */
    select(mode) {
      picked = mode;
      frame.now();
    },
  };
}

// @ts-check
// The run tree: what ran inside what, collapsible, one fixed-height row per run (virtualized like
// the table, so 10,000 runs stay light). Clicking a row selects the run everywhere; clicking the
// twisty (▸/▾) folds or unfolds its children. Selecting a run elsewhere unfolds its ancestors and
// scrolls it into view.
//
// - Each row: twisty, status, then the name, its node and own tags (muted: two runs of one model
//   in a graph differ there) and badges, cut with an ellipsis; then duration, first token and
//   chunks in fixed right-aligned columns under a head row, never cut. The row's title holds it all.
// - A model run that asked for tools shows each call as `→ name(args)` (clicking one selects the
//   tool run that answered it); a tool run shows `answers <call id>` (clicking selects the model run).
// - A run with model usage in or below it shows its tokens (and cost, when priced) as a badge; a
//   root that very likely lost its parent says "possibly detached" (clicking selects the parent).

import { frameScheduler } from "../frame.js";
import { cellText, cut, formatDuration, plural, replaceChildren, targetOf, visible } from "../text.js";
import { detachedLines, detachedText, shortUsage, usageText } from "../usage.js";
import { STATUS_ICONS } from "./tokens.js";
import { answerText, callLine, callText } from "./toolcalls.js";
import { virtualList } from "./vlist.js";

export const TREE_ROW_HEIGHT_PX = 26;

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("../tree_order.js").TreeOrder} TreeOrder */
/** @typedef {HTMLElement & {svKey?: string, svRun?: number}} NodeRow */

/**
 * The rows left visible when `collapsed` runs hide their subtrees: `{rows, depth}`.
 * @param {TreeOrder} order
 * @param {ReadonlySet<number>} collapsed
 * @returns {TreeOrder}
 */
export function visibleTree(order, collapsed) {
  if (!collapsed.size) return order;
  /** @type {number[]} */
  const rows = [];
  /** @type {number[]} */
  const depth = [];
  let hideBelow = Infinity;
  for (let n = 0; n < order.rows.length; n += 1) {
    const level = order.depth[n];
    if (level > hideBelow) continue;
    hideBelow = Infinity;
    rows.push(order.rows[n]);
    depth.push(level);
    if (collapsed.has(order.rows[n])) hideBelow = level;
  }
  return { rows, depth };
}

/** Tags LangChain and LangGraph add to every run of a step: noise when telling runs apart. */
const NOISE_TAG = /^(seq:step:\d+|graph:step:\d+|langsmith:.*|map:key:.*)$/;

/**
 * What tells a run apart from its namesakes: its own tags and its LangGraph node (when not its
 * own name), e.g. `joke · call_model`; "" when nothing does.
 * @param {import("../protocol.js").RunRow} run
 * @returns {string}
 */
export function runMeta(run) {
  // Own tags first: two calls in one node differ there, and a cut suffix keeps its start.
  const parts = run.tags.filter((tag) => !NOISE_TAG.test(tag));
  if (run.node && run.node !== run.name) parts.push(run.node);
  return parts.join(" · ");
}

/**
 * The whole story of a run row, for its tooltip: name, type, node, tags, id and its figures.
 * @param {import("../protocol.js").RunRow} run
 * @param {number | null} duration
 * @param {number | null} ttft
 * @param {ReadonlyArray<import("../protocol.js").RunRow | undefined>} [runs]  all runs (to name linked ones)
 * @returns {string}
 */
export function runTooltip(run, duration, ttft, runs = []) {
  const lines = [visible(run.name), `type: ${visible(run.type)} · ${run.status}`];
  for (const call of run.calls ?? []) lines.push(callLine(call, runs));
  const answers = answerText(run, runs);
  if (answers !== null) lines.push(answers);
  if (run.send !== null) lines.push(`Send: ${visible(cut(run.send, 2000).text)}`);
  if (run.thread !== null) lines.push(`thread: ${visible(run.thread)}`);
  if (run.resume !== null) lines.push(`resumed with: ${visible(cut(run.resume, 2000).text)}`);
  if (run.status === "interrupted") lines.push(pauseText(run, 2000));
  if (run.node) lines.push(`node: ${visible(run.node)}`);
  if (run.tags.length) lines.push(`tags: ${run.tags.map((tag) => visible(tag)).join(", ")}`);
  lines.push(`id: ${visible(run.id)}`);
  const figures = [`${run.end === null ? "running for" : "duration"} ${formatDuration(duration)}`];
  if (run.first !== null) figures.push(`first token ${formatDuration(ttft ?? run.first)}`);
  if (run.chunks) figures.push(plural(run.chunks, "chunk"));
  if (run.held !== null) figures.push(heldText(run.held));
  lines.push(figures.join(" · "));
  if (run.usage) lines.push(usageText(run.usage));
  if (run.detached) lines.push(...detachedLines(run.detached).map((line) => visible(line)));
  if (run.error) lines.push(visible(cut(run.error, 2000).text));
  return lines.join("\n");
}

/**
 * What a paused run shows: "paused: <what it asks>" ("paused" when it asks nothing).
 * @param {import("../protocol.js").RunRow} run
 * @param {number} limit
 * @returns {string}
 */
export function pauseText(run, limit) {
  return run.interrupt ? `paused: ${cellText(run.interrupt, limit)}` : "paused";
}

/**
 * @param {number} held  ms the run held the stream back
 */
function heldText(held) {
  return `held ${formatDuration(held)}`;
}

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountTree(ctx, parent) {
  const { h, store } = ctx;
  const scroller = h("div", { class: "sv-tree", role: "tree", tabindex: "0", "aria-label": "Runs" });
  const empty = h("div", { class: "sv-empty", hidden: true }, "No runs yet.");
  // Column heads for the figures: each row's are in fixed right-aligned columns under them.
  const head = h(
    "div",
    { class: "sv-tree-head", "aria-hidden": "true" },
    h("span", { class: "sv-tree-label" }, "run"),
    h("span", { class: "sv-tree-dur", title: "duration (running for, while running)" }, "duration"),
    h("span", { class: "sv-tree-first", title: "first token, after the run's start" }, "1st token"),
    h("span", { class: "sv-tree-chunks", title: "chunks streamed" }, "chunks"),
  );
  const root = h("div", { class: "sv-tree-view" }, head, scroller, empty);
  parent.appendChild(root);

  /** Runs folded by the user (run indexes). */
  /** @type {Set<number>} */
  const collapsed = new Set();
  /** @type {TreeOrder} */
  let shown = { rows: [], depth: [] };
  /** @type {string | null} */
  let shownKey = null;

  const list = virtualList({
    scroller,
    rowHeight: TREE_ROW_HEIGHT_PX,
    viewportHeight: () => Math.max(TREE_ROW_HEIGHT_PX * 4, ctx.height() - 60),
    onScroll: () => frame.request(),
    createRow: () => h("div", { class: "sv-tree-node", role: "treeitem" }),
    fillRow: (row, index) => fillNode(row, shown.rows[index], shown.depth[index]),
  });

  /**
   * @param {NodeRow} row
   * @param {number} i  the run
   * @param {number} level  its depth
   */
  function fillNode(row, i, level) {
    const run = store.runs[i];
    const selected = ctx.selectedRun() === run.id;
    const hasChildren = (store.children[i] ?? []).some((child) => store.runs[child]);
    const open = hasChildren && !collapsed.has(i);
    const duration = run.start !== null ? (run.end ?? store.now) - run.start : null;
    const key = [
      run.id,
      run.name,
      run.type,
      run.status,
      run.first,
      run.chunks,
      run.held,
      run.orphan,
      duration,
      selected,
      hasChildren,
      open,
      level,
      run.error,
      run.node,
      run.tags.join("\u0001"),
      run.interrupt,
      run.resume,
      run.send,
      JSON.stringify(run.calls),
      JSON.stringify(run.call),
      JSON.stringify(run.usage),
      JSON.stringify(run.detached),
    ].join("\u0000");
    if (row.svKey === key) return;
    row.svKey = key;
    row.setAttribute("data-run-id", run.id);
    row.setAttribute("data-status", run.status);
    row.setAttribute("aria-level", String(level + 1));
    row.setAttribute("aria-selected", selected ? "true" : "false");
    if (hasChildren) row.setAttribute("aria-expanded", open ? "true" : "false");
    else row.removeAttribute("aria-expanded");
    row.classList.toggle("sv-selected", selected);
    row.style.paddingLeft = `${4 + Math.min(level, 30) * 14}px`;
    row.svRun = i;
    const ttft = run.first !== null && run.start !== null ? run.first - run.start : null;
    const meta = runMeta(run);
    const tip = runTooltip(run, duration, ttft, store.runs);
    const answers = answerText(run, store.runs);
    row.title = tip;
    replaceChildren(
      row,
      h(
        "button",
        {
          type: "button",
          class: "sv-twisty",
          "aria-label": hasChildren ? (open ? "Fold" : "Unfold") : null,
          tabindex: "-1",
          disabled: !hasChildren,
        },
        hasChildren ? (open ? "▾" : "▸") : "",
      ),
      h("span", { class: "sv-status", "data-status": run.status, title: run.status }, STATUS_ICONS[run.status]),
      h(
        "span",
        { class: "sv-tree-label" },
        h("bdi", { class: "sv-tree-name", title: tip }, cellText(run.name, 120)),
        run.send !== null ? h("bdi", { class: "sv-tree-send", title: tip }, cellText(run.send, 80)) : null,
        meta ? h("bdi", { class: "sv-tree-meta", title: tip }, cellText(meta, 120)) : null,
        h("span", { class: "sv-badge", "data-type": run.type }, cellText(run.type, 40)),
        run.held !== null
          ? h("span", { class: "sv-badge sv-held", title: "the stream was held back here" }, heldText(run.held))
          : null,
        run.orphan
          ? h("span", { class: "sv-badge sv-orphan", title: "its parent run was never seen" }, "orphan")
          : null,
        ...(run.calls ?? []).map((call) =>
          h(
            "bdi",
            {
              class: "sv-tree-call",
              "data-goto": call.tool >= 0 ? String(call.tool) : null,
              "data-done": call.done ? "true" : "false",
              title: callLine(call, store.runs),
            },
            `→ ${callText(call, 120)}`,
          ),
        ),
        answers !== null
          ? h("bdi", { class: "sv-tree-call", "data-goto": String(run.call?.by ?? -1), title: answers }, answers)
          : null,
        run.error
          ? h("bdi", { class: "sv-tree-error", title: cellText(run.error, 2000) }, cellText(run.error, 200))
          : null,
        run.status === "interrupted"
          ? h("bdi", { class: "sv-tree-pause", title: pauseText(run, 2000) }, pauseText(run, 200))
          : null,
        run.resume !== null
          ? h("bdi", { class: "sv-tree-pause", title: tip }, `resumed with ${cellText(run.resume, 120)}`)
          : null,
        run.usage
          ? h("span", { class: "sv-badge sv-usage", title: usageText(run.usage) }, shortUsage(run.usage))
          : null,
        run.detached
          ? h(
              "bdi",
              {
                class: "sv-tree-detached",
                "data-goto": run.detached.parent >= 0 ? String(run.detached.parent) : null,
                title: detachedLines(run.detached).join("\n"),
              },
              `⚠ ${cellText(detachedText(run.detached), 160)}`,
            )
          : null,
      ),
      h(
        "span",
        { class: "sv-tree-dur", title: run.end === null ? "running for" : "duration" },
        formatDuration(duration),
      ),
      h(
        "span",
        { class: "sv-tree-first", title: "first token, after the run's start" },
        run.first !== null ? formatDuration(ttft ?? run.first) : "",
      ),
      h(
        "span",
        { class: "sv-tree-chunks", title: "chunks streamed" },
        run.chunks ? run.chunks.toLocaleString("en-US") : "",
      ),
    );
  }

  scroller.addEventListener("click", (event) => {
    const row = /** @type {NodeRow | null} */ (targetOf(event, ".sv-tree-node"));
    if (!row || !scroller.contains(row)) return;
    const i = row.svRun;
    if (i === undefined) return;
    const link = targetOf(event, "[data-goto]");
    const linked = link ? store.runs[Number(link.getAttribute("data-goto"))] : undefined;
    if (linked) {
      // A tool call and the run that answered it: one click goes to the other.
      ctx.selectRun(linked.id);
      return;
    }
    if (targetOf(event, ".sv-twisty")) {
      if (collapsed.has(i)) collapsed.delete(i);
      else collapsed.add(i);
      frame.request();
      return;
    }
    const id = store.runs[i].id;
    ctx.selectRun(ctx.selectedRun() === id ? "" : id);
  });
  scroller.addEventListener("keydown", (event) => {
    const at = shown.rows.indexOf(store.runIndex(ctx.selectedRun()));
    let next = -1;
    if (event.key === "ArrowDown") next = Math.min(shown.rows.length - 1, at + 1);
    else if (event.key === "ArrowUp") next = Math.max(0, at - 1);
    else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && at >= 0) {
      const i = shown.rows[at];
      if (event.key === "ArrowLeft") collapsed.add(i);
      else collapsed.delete(i);
      frame.request();
      event.preventDefault();
      return;
    } else return;
    event.preventDefault();
    if (next >= 0 && shown.rows.length) {
      ctx.selectRun(store.runs[shown.rows[next]].id);
      list.reveal(next);
    }
  });

  function draw(force = false) {
    const order = store.treeOrder();
    const key = `${store.generation}/${order.structure}/${[...collapsed].join(",")}`;
    if (key !== shownKey) {
      shownKey = key;
      shown = visibleTree(order, collapsed);
    }
    list.update(shown.rows.length, force);
    empty.hidden = shown.rows.length > 0;
  }

  function reveal() {
    const i = store.runIndex(ctx.selectedRun());
    if (i < 0) return;
    let changed = false;
    for (const ancestor of store.ancestors(i).slice(0, -1)) changed = collapsed.delete(ancestor) || changed;
    if (changed) draw();
    const n = shown.rows.indexOf(i);
    if (n >= 0) list.reveal(n);
  }

  const frame = frameScheduler(ctx.win, () => draw());
  ctx.subscribe((change) => {
    // Run indexes are stable across snapshots of a trace: the folds stay.
    if (change.payload === undefined) frame.request();
  });
  ctx.on("change:selected_run", () => {
    reveal();
    draw(true);
  });
  ctx.onResize(() => frame.request());
  ctx.onCleanup(() => {
    frame.stop();
    list.destroy();
  });
  draw(true);
  return { root, draw, collapsed };
}

// @ts-check
// The event table: one row per event that passes the filters, virtualized.
//
// Rows are fixed-height and recycled (views/vlist.js), so 100,000 events keep a few dozen row
// elements. Clicking a row selects it and opens the details pane; arrow keys move the selection.
// While the trace is live and the last row is in view, the table keeps following new events.

import { frameScheduler } from "../frame.js";
import { indexOfSorted } from "../sorted.js";
import { cellText, formatMs, setText, targetOf } from "../text.js";
import { mountDetails } from "./details.js";
import { nsLabel } from "./graph_model.js";
import { virtualList } from "./vlist.js";

export const ROW_HEIGHT_PX = 24;

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("../store.js").Store} Store */
/** @typedef {{t: string, seq: string, event: string, name: string, type: string, tags: string, path: string, text: string}} RowCells */
/** @typedef {HTMLElement & {svSeq?: number, svStructure?: number}} EventRow */

/**
 * Columns: key, header, whether the cell holds free text (bidi isolated).
 * @type {ReadonlyArray<[keyof RowCells, string, boolean]>}
 */
export const COLUMNS = [
  ["t", "time (ms)", false],
  ["seq", "seq", false],
  ["event", "event", false],
  ["name", "name", true],
  ["type", "run type", false],
  ["tags", "tags", true],
  ["path", "run path", true],
  ["text", "text", true],
];

const PHASE = /_(start|stream|end|error)$/;

/**
 * A LangGraph stream part from a subgraph: its run's path, then the subgraph's (namespace).
 * @param {Store} store
 * @param {number} k
 * @param {string} path
 */
function partPath(store, k, path) {
  const ns = store.eventNs(k);
  return ns ? `${path} › ${nsLabel(ns)}` : path;
}

/**
 * The cells of event `k`, as display text.
 * @param {Store} store
 * @param {number} k
 * @returns {RowCells}
 */
export function rowCells(store, k) {
  const run = store.cols.run[k];
  const kind = store.eventKind(k);
  return {
    t: formatMs(store.cols.t[k], 3),
    seq: String(k),
    event: kind,
    name: cellText(store.eventName(k), 120),
    type: cellText(store.eventTypeOf(k), 60),
    tags: cellText(store.eventTags(k).join(", "), 200),
    path: cellText(partPath(store, k, run >= 0 && store.runs[run] ? store.runPath(run) : store.eventName(k)), 300),
    text: cellText(store.cols.text[k]),
  };
}

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountTable(ctx, parent) {
  const { h, store } = ctx;
  const header = h(
    "div",
    { class: "sv-thead", role: "row" },
    COLUMNS.map(([key, label]) => h("span", { class: `sv-cell sv-c-${key}`, role: "columnheader" }, label)),
  );
  const scroller = h("div", {
    class: "sv-tbody",
    tabindex: "0",
    role: "rowgroup",
    "aria-label": "Events",
  });
  const empty = h("div", { class: "sv-empty", hidden: true });
  const table = h(
    "div",
    { class: "sv-table", role: "table" },
    h("div", { class: "sv-thead-wrap" }, header),
    scroller,
    empty,
  );
  const wrap = h("div", { class: "sv-table-wrap" }, table);
  parent.appendChild(wrap);

  /** The selected event's seq, or -1. */
  let selectedSeq = -1;
  /** @type {number[]} */
  let rows = [];
  const details = mountDetails(ctx, wrap, {
    onClose: () => select(-1),
  });

  const list = virtualList({
    scroller,
    rowHeight: ROW_HEIGHT_PX,
    viewportHeight: () => Math.max(ROW_HEIGHT_PX * 4, ctx.height() - 120),
    onScroll: () => {
      header.style.transform = `translateX(${-scroller.scrollLeft}px)`;
      frame.request();
    },
    createRow: () =>
      h(
        "div",
        { class: "sv-row", role: "row" },
        COLUMNS.map(([key, , free]) =>
          h("span", { class: `sv-cell sv-c-${key}`, role: "cell", dir: free ? "auto" : null }),
        ),
      ),
    fillRow: (/** @type {EventRow} */ row, index) => {
      const k = rows[index];
      const seq = k;
      if (row.svSeq !== seq || row.svStructure !== store.structure) {
        row.svSeq = seq;
        row.svStructure = store.structure;
        row.setAttribute("data-seq", String(seq));
        const cells = rowCells(store, k);
        const phase = PHASE.exec(cells.event);
        row.setAttribute("data-phase", phase ? phase[1] : "other");
        COLUMNS.forEach(([key], n) => {
          setText(row.childNodes[n], cells[key]);
        });
      }
      const selected = seq === selectedSeq;
      if (row.classList.contains("sv-selected") !== selected) row.classList.toggle("sv-selected", selected);
      row.setAttribute("aria-selected", selected ? "true" : "false");
    },
  });

  /** @param {number} seq  the event to show in the details, -1 for none */
  function select(seq) {
    selectedSeq = seq;
    details.show(seq);
    wrap.classList.toggle("sv-with-details", seq >= 0);
    frame.request();
  }

  scroller.addEventListener("click", (event) => {
    const row = targetOf(event, ".sv-row");
    if (!row || !scroller.contains(row)) return;
    const seq = Number(row.getAttribute("data-seq"));
    select(seq === selectedSeq ? -1 : seq);
  });
  scroller.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      select(-1);
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    if (!rows.length) return;
    const at = selectedSeq >= 0 ? indexOfSorted(rows, selectedSeq) : -1;
    const next = Math.max(0, Math.min(rows.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    select(rows[next]);
    list.reveal(next);
  });

  let shownCount = 0;
  function draw(force = false) {
    const follow = ctx.live() && shownCount > 0 && list.atEnd();
    rows = ctx.rows();
    const grew = rows.length > shownCount;
    shownCount = rows.length;
    list.update(rows.length, force);
    if (follow && grew) {
      list.scrollToEnd();
      list.update(rows.length);
    }
    empty.hidden = rows.length > 0;
    setText(empty, store.count ? "No event matches the filters." : "No events yet.");
    details.refreshPayload();
  }

  const frame = frameScheduler(ctx.win, () => draw());
  ctx.on("change:filters", () => frame.request());
  ctx.on("change:selected_run", () => frame.request());
  ctx.on("change:live", () => frame.request());
  ctx.subscribe((change) => {
    if (change.reset) {
      // Same seqs, new copy: keep the selection, refill every row.
      if (selectedSeq >= store.count) select(-1);
      else if (selectedSeq >= 0) details.show(selectedSeq);
    }
    frame.request();
  });
  ctx.onResize(() => frame.request());
  ctx.onCleanup(() => {
    frame.stop();
    list.destroy();
  });
  draw(true);
  return {
    root: wrap,
    draw,
    select,
    list,
    get rows() {
      return rows;
    },
  };
}

// @ts-check
// The event table: one row per event that passes the filters, virtualized.
//
// Rows are fixed-height and recycled (views/vlist.js), so 100,000 events keep a few dozen row
// elements. Clicking a row selects it and opens the details pane (beside the table when it is wide
// enough to keep the columns that identify a row, below it otherwise); arrow keys move the
// selection. The table follows its end (new rows while live, the last row of a finished trace)
// until the user scrolls up; then a "N new" button (`.sv-jump`) counts the rows added below and
// jumps back to the end.

import { frameScheduler } from "../frame.js";
import { indexOfSorted } from "../sorted.js";
import { cellText, formatMs, setText, targetOf } from "../text.js";
import { mountDetails } from "./details.js";
import { nsLabel } from "./graph_model.js";
import { OVERSCAN_ROWS, virtualList } from "./vlist.js";

export const ROW_HEIGHT_PX = 24;
/** The details pane opens beside the table from this table width (px), below it under. */
export const DETAILS_BESIDE_PX = 900;

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("../store.js").Store} Store */
/** @typedef {{t: string, seq: string, event: string, name: string, type: string, tags: string, path: string, text: string}} RowCells */
/** @typedef {HTMLElement & {svSeq?: number, svStructure?: number, svText?: number}} EventRow */

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
 * Pixels a number needs in a cell: tabular digits are 0.64 em (8.4 px at 13 px, DejaVu Sans and
 * most UI fonts), separators about half; plus the cell's padding.
 * @param {string} text
 */
export function numberWidth(text) {
  const digits = text.replace(/[^0-9]/g, "").length;
  return Math.ceil(digits * 8.4 + (text.length - digits) * 4.6 + 14);
}

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
  const jump = h("button", {
    type: "button",
    class: "sv-button sv-jump",
    hidden: true,
    title: "Show the last events and follow new ones",
  });
  const table = h(
    "div",
    { class: "sv-table", role: "table" },
    h("div", { class: "sv-thead-wrap" }, header),
    scroller,
    empty,
    jump,
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
      const top = scroller.scrollTop;
      if (list.atEnd()) following = true;
      else if (top < lastTop - 1 && following) {
        // The user went up: stop following, count what comes below from here.
        following = false;
        seenRows = rows.length;
      }
      lastTop = top;
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
      if (row.svSeq !== seq || row.svStructure !== store.structure || row.svText !== store.textVersion) {
        row.svSeq = seq;
        row.svStructure = store.structure;
        row.svText = store.textVersion;
        row.setAttribute("data-seq", String(seq));
        const cells = rowCells(store, k);
        const phase = PHASE.exec(cells.event)?.[1] ?? "other";
        // LangGraph's interrupt() reaches LangChain as an error of its node: a pause, not a failure.
        const paused = phase === "error" && store.runs[store.cols.run[k]]?.status === "interrupted";
        row.setAttribute("data-phase", paused ? "pause" : phase);
        COLUMNS.forEach(([key, , free], n) => {
          const cell = /** @type {HTMLElement} */ (row.childNodes[n]);
          setText(cell, cells[key]);
          // A cut cell shows its whole value on hover (the tooltip text is as long as the cell's).
          if (free || key === "event") cell.title = cells[key];
        });
      }
      const selected = seq === selectedSeq;
      if (row.classList.contains("sv-selected") !== selected) row.classList.toggle("sv-selected", selected);
      row.setAttribute("aria-selected", selected ? "true" : "false");
    },
  });

  /** The table keeps to its end (live: new rows) until the user scrolls up. */
  let following = true;
  /** Rows there were when the user left the end (the jump button counts the rows since). */
  let seenRows = 0;
  let lastTop = 0;
  /** Bring the selected row into view at the next draw (the details may have taken room). */
  let revealSelected = false;

  /** @param {number} seq  the event to show in the details, -1 for none */
  function select(seq) {
    selectedSeq = seq;
    details.show(seq);
    wrap.classList.toggle("sv-with-details", seq >= 0);
    revealSelected = seq >= 0;
    measure = true;
    frame.request();
  }

  /**
   * Scroll row `at` into view for the user (the selection): off the end, the table stops following.
   * @param {number} at
   */
  function revealRow(at) {
    list.reveal(at);
    if (following && !list.atEnd()) {
      following = false;
      seenRows = rows.length;
    }
    lastTop = scroller.scrollTop;
  }

  jump.addEventListener("click", () => {
    following = true;
    draw();
    scroller.focus?.();
  });

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
    revealRow(next);
  });

  /** The characters of the longest time and seq shown: their columns are sized to them. */
  let numberChars = "";
  /** Size the time and seq columns to the trace's longest values (a 220,000-event trace). */
  function sizeNumberColumns() {
    const last = store.count - 1;
    const time = formatMs(last >= 0 ? Math.max(store.now, store.cols.t[last]) : 0, 3);
    const seq = String(Math.max(0, last));
    const key = `${time.length},${seq.length}`;
    if (key === numberChars) return;
    numberChars = key;
    table.style.setProperty("--sv-w-t", `${Math.max(72, numberWidth(time))}px`);
    table.style.setProperty("--sv-w-seq", `${Math.max(38, numberWidth(seq))}px`);
  }

  /** Measure the table's width at the next draw (first draw, a resize, the details opening). */
  let measure = true;
  let criteriaChanged = false;
  function draw(force = false) {
    if (measure) {
      // Beside or below: decided by the table's own width (the pane's, not the page's).
      measure = false;
      const width = wrap.clientWidth;
      const place = width && width < DETAILS_BESIDE_PX ? "below" : "beside";
      if (wrap.getAttribute("data-details") !== place) wrap.setAttribute("data-details", place);
    }
    sizeNumberColumns();
    rows = ctx.rows();
    if (criteriaChanged) {
      criteriaChanged = false;
      seenRows = rows.length;
    }
    list.update(rows.length, force);
    if (following) {
      list.scrollToEnd();
      lastTop = scroller.scrollTop;
      list.update(rows.length);
    }
    if (revealSelected) {
      revealSelected = false;
      const at = selectedSeq >= 0 ? indexOfSorted(rows, selectedSeq) : -1;
      if (at >= 0 && !following) revealRow(at);
      else if (at >= 0) {
        // Following, the end stays in view unless the selected row would leave it.
        const [first, last] = list.range();
        if (at < first + (first > 0 ? OVERSCAN_ROWS : 0) || at >= last) revealRow(at);
      }
      list.update(rows.length);
    }
    const unseen = following ? 0 : rows.length - seenRows;
    jump.hidden = unseen <= 0;
    setText(jump, unseen > 0 ? `↓ ${unseen.toLocaleString("en-US")} new` : "");
    empty.hidden = rows.length > 0;
    setText(empty, store.count ? "No event matches the filters." : "No events yet.");
    details.refreshPayload();
  }

  const frame = frameScheduler(ctx.win, () => draw());
  /** Other rows are shown (filters, run): the "N new" count starts again from them. */
  const recount = () => {
    criteriaChanged = true;
    frame.request();
  };
  ctx.on("change:filters", recount);
  ctx.on("change:selected_run", recount);
  ctx.on("change:live", () => frame.request());
  ctx.subscribe((change) => {
    if (change.reset) {
      // Same seqs, new copy: keep the selection, refill every row.
      if (selectedSeq >= store.count) select(-1);
      else if (selectedSeq >= 0) details.show(selectedSeq);
    } else if (change.retext?.includes(selectedSeq)) {
      // The shown event's text changed (and its payload went): shown again, the payload asked again.
      details.show(selectedSeq);
    }
    frame.request();
  });
  ctx.onResize(() => {
    measure = true;
    frame.request();
  });
  // The pane can change width while the widget does not (a graph pane joining the grid).
  if (typeof ctx.win.ResizeObserver === "function") {
    const observer = new ctx.win.ResizeObserver(() => {
      measure = true;
      frame.request();
    });
    observer.observe(wrap);
    ctx.onCleanup(() => observer.disconnect());
  }
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

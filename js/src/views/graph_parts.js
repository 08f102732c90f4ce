// @ts-check
// The graph pane's list modes (`values`, `updates`, `custom`, `tasks`, `debug`, `checkpoints` and
// any other mode a remote server sends): one virtualized row per part (views/vlist.js), columns by
// mode, following a live trace when the list's end is in view. `values` rows are numbered per
// namespace (the n-th state of that graph).

import { indexOfSorted } from "../sorted.js";
import { cellText, formatMs, replaceChildren, setText, targetOf } from "../text.js";
import { interruptValues, isInterrupt, nsLabel, partInfo } from "./graph_model.js";
import { virtualList } from "./vlist.js";

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("../store.js").Store} Store */

export const PART_ROW_PX = 22;

/** List columns per mode: key (cell class `sv-part-<key>`) and header. */
export const LAYOUTS = {
  values: [
    ["t", "time (ms)"],
    ["step", "#"],
    ["ns", "namespace"],
    ["text", "state"],
  ],
  updates: [
    ["t", "time (ms)"],
    ["node", "node"],
    ["ns", "namespace"],
    ["text", "update"],
  ],
  custom: [
    ["t", "time (ms)"],
    ["node", "written by"],
    ["ns", "namespace"],
    ["text", "data"],
  ],
  tasks: [
    ["t", "time (ms)"],
    ["type", "type"],
    ["node", "task"],
    ["ns", "namespace"],
    ["text", "payload"],
  ],
  debug: [
    ["t", "time (ms)"],
    ["step", "step"],
    ["type", "type"],
    ["node", "task"],
    ["ns", "namespace"],
    ["text", "payload"],
  ],
  checkpoints: [
    ["t", "time (ms)"],
    ["step", "step"],
    ["type", "source"],
    ["node", "next"],
    ["ns", "namespace"],
    ["text", "checkpoint"],
  ],
  generic: [
    ["t", "time (ms)"],
    ["node", "name"],
    ["ns", "namespace"],
    ["text", "text"],
  ],
};

/** @typedef {keyof typeof LAYOUTS} Layout */
/** @typedef {{t: string, step: string, type: string, node: string, ns: string, nsTitle: string, text: string, title: string}} PartCells */

/** How the lists of `values`, `updates` and `checkpoints` show a part: the change or the whole. */
/** @typedef {"diff" | "full"} PartView */

/** Modes whose parts carry a diff from the part before (the kernel's `extra.diff`). */
export const DIFF_MODES = ["values", "updates", "checkpoints"];

/**
 * A part's diff (one change a line) on one row: `+ a: 1 · ~ b: 1 → 2`.
 * @param {string} diff
 */
export function diffLine(diff) {
  return diff.split("\n").join(" · ");
}

/**
 * The list layout of `mode` (`generic` for modes without their own).
 * @param {string} mode
 * @returns {Layout}
 */
export function layoutOf(mode) {
  return Object.hasOwn(LAYOUTS, mode) && mode !== "generic" ? /** @type {Layout} */ (mode) : "generic";
}

/**
 * Readable namespace of event `k` and its full value (for a title): `{label, full}`.
 * @param {Store} store
 * @param {number} k
 */
export function partNs(store, k) {
  const ns = store.eventNs(k) ?? "";
  return { label: ns ? nsLabel(ns) : "root", full: ns ? ns : "root graph" };
}

/**
 * The cells of part `k` shown as a row of `mode`'s list (display text).
 * @param {Store} store
 * @param {number} k
 * @param {string} mode
 * @param {number | ""} [step]  the `values` step number
 * @param {PartView} [view]  `diff`: a values/updates/checkpoints part shows what it changed
 * @returns {PartCells}
 */
export function partCells(store, k, mode, step = "", view = "full") {
  const layout = layoutOf(mode);
  const text = store.cols.text[k];
  const name = store.eventName(k);
  const ns = partNs(store, k);
  const cells = {
    t: formatMs(store.cols.t[k], 3),
    step: "",
    type: "",
    node: "",
    ns: cellText(ns.label, 200),
    nsTitle: ns.full,
    text: "",
    title: "",
  };
  if (layout === "values" || layout === "custom") {
    cells.step = String(step);
    cells.text = cellText(text);
    // A custom part names its node only when LangGraph said who wrote it (its namespace).
    if (layout === "custom") cells.node = cellText(store.extra.get(k)?.name ?? "", 120);
  } else if (layout === "updates" && isInterrupt(text)) {
    cells.node = "‖ paused";
    cells.text = cellText(interruptValues(text));
  } else if (layout === "generic") {
    cells.node = cellText(name, 120);
    cells.text = cellText(text);
  } else {
    const info = partInfo(mode, text, store.extra.get(k)?.name ?? "");
    cells.step = cellText(info.step, 20);
    cells.type = cellText(layout === "checkpoints" ? (info.source ?? "") : info.type, 40);
    cells.node = cellText(layout === "updates" ? name : info.task, 120);
    cells.text = cellText(info.body);
  }
  cells.title = cells.text;
  const extra = store.extra.get(k);
  if (view === "diff" && DIFF_MODES.includes(layout) && extra?.diff !== undefined && cells.node !== "‖ paused") {
    cells.text = cellText(diffLine(extra.diff));
    cells.title = cellText(extra.diff, 4000);
  }
  // A run's first state on a thread that had state before: say where it came from.
  if (extra?.note !== undefined && DIFF_MODES.includes(layout)) {
    const note = cellText(extra.note, 200);
    cells.text = `⟲ ${note} · ${cells.text}`;
    cells.title = `${note}\n${cells.title}`;
  }
  return cells;
}

/**
 * @typedef {HTMLElement & {svSeq?: number, svView?: PartView, svText?: number}} PartRow
 */

/**
 * The list of the parts of one mode at a time, in `listbox` (`thead` and `scroller` inside it).
 * `latest()` names the state shown beside the list when none is picked (its row is marked).
 * @param {Context} ctx
 * `view()` says how values/updates/checkpoints parts show (their diff or the whole part).
 * @param {{listbox: HTMLElement, thead: HTMLElement, scroller: HTMLElement, request: () => void, latest: () => number, view: () => PartView}} parts
 */
export function mountPartList(ctx, { listbox, thead, scroller, request, latest, view }) {
  const { h, store } = ctx;
  /** @type {ReturnType<typeof virtualList> | null} */
  let list = null;
  /** @type {string | null} */
  let listMode = null;
  /** The parts listed (seqs, ascending). */
  /** @type {number[]} */
  let rows = [];
  let shownCount = 0;
  /** `values` step numbers: per values part, its index among the states of its namespace. */
  /** @type {number[]} */
  let steps = [];
  /** @type {Map<string, number>} */
  let stepsPerNs = new Map();

  function valueSteps() {
    const seqs = store.partSeqs.get("values") ?? [];
    for (let n = steps.length; n < seqs.length; n += 1) {
      const ns = store.eventNs(seqs[n]) ?? "";
      const step = stepsPerNs.get(ns) ?? 0;
      stepsPerNs.set(ns, step + 1);
      steps.push(step);
    }
  }

  /**
   * @param {string} mode
   * @returns {ReturnType<typeof virtualList>}
   */
  function makeList(mode) {
    if (list) list.destroy();
    replaceChildren(scroller);
    const layout = layoutOf(mode);
    const columns = LAYOUTS[layout];
    listbox.setAttribute("data-layout", layout);
    listbox.setAttribute("data-mode", mode);
    replaceChildren(
      thead,
      columns.map(([key, label]) => h("span", { class: `sv-gcell sv-part-${key}`, role: "columnheader" }, label)),
    );
    listMode = mode;
    shownCount = 0;
    return virtualList({
      scroller,
      rowHeight: PART_ROW_PX,
      viewportHeight: () => Math.max(PART_ROW_PX * 4, ctx.height() - 200),
      onScroll: request,
      createRow: () =>
        h(
          "div",
          { class: "sv-part", role: "row", "data-mode": mode },
          columns.map(([key]) =>
            h("span", {
              class: `sv-gcell sv-part-${key}`,
              role: "cell",
              dir: key === "t" || key === "step" ? null : "auto",
            }),
          ),
        ),
      fillRow: (/** @type {PartRow} */ row, index) => {
        const k = rows[index];
        const shownAs = view();
        if (row.svSeq !== k || row.svView !== shownAs || row.svText !== store.textVersion) {
          row.svSeq = k;
          row.svView = shownAs;
          row.svText = store.textVersion;
          row.setAttribute("data-seq", String(k));
          const cells = partCells(store, k, mode, mode === "values" ? steps[index] : "", shownAs);
          columns.forEach(([key], n) => {
            const cell = /** @type {HTMLElement} */ (row.childNodes[n]);
            setText(cell, cells[/** @type {keyof PartCells} */ (key)]);
            if (key === "ns") cell.setAttribute("title", cells.nsTitle);
            else if (key === "text") cell.setAttribute("title", cells.title);
            else if (key === "node") cell.setAttribute("title", cells.node);
          });
        }
        const selected = k === ctx.selectedPart();
        if (row.classList.contains("sv-selected") !== selected) row.classList.toggle("sv-selected", selected);
        row.setAttribute("aria-selected", selected ? "true" : "false");
        // The state shown beside the list when none is picked (the latest one).
        const shown = !selected && k === latest();
        if (row.classList.contains("sv-shown") !== shown) row.classList.toggle("sv-shown", shown);
      },
    });
  }

  scroller.addEventListener("click", (event) => {
    const row = targetOf(event, ".sv-part");
    if (!row || !scroller.contains(row)) return;
    const seq = Number(row.getAttribute("data-seq"));
    ctx.selectPart(seq === ctx.selectedPart() ? -1 : seq);
  });
  scroller.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      ctx.selectPart(-1);
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    if (!rows.length) return;
    const at = indexOfSorted(rows, ctx.selectedPart());
    const next = Math.max(0, Math.min(rows.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    ctx.selectPart(rows[next]);
  });

  return {
    /**
     * List the parts of `mode`, following the end of a live trace.
     * @param {string} mode
     */
    draw(mode) {
      if (list === null || listMode !== mode) list = makeList(mode);
      if (mode === "values") valueSteps();
      const follow = ctx.live() && shownCount > 0 && list.atEnd();
      rows = store.partSeqs.get(mode) ?? [];
      const grew = rows.length > shownCount;
      shownCount = rows.length;
      list.update(rows.length);
      if (follow && grew) {
        list.scrollToEnd();
        list.update(rows.length);
      }
    },
    /**
     * Scroll part `k` into view (when it is listed).
     * @param {number} k
     */
    reveal(k) {
      if (!list) return;
      const index = indexOfSorted(rows, k);
      if (index < 0) return;
      list.reveal(index);
      list.update(rows.length);
    },
    /** A new snapshot: step numbers go when the copy no longer holds what they counted. */
    onSnapshot() {
      if (steps.length > (store.partSeqs.get("values")?.length ?? 0)) {
        steps = [];
        stepsPerNs = new Map();
      }
    },
    destroy() {
      list?.destroy();
    },
  };
}

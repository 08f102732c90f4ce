// @ts-check
// What every view of one rendered widget shares: the model, the store, the DOM builder, the event
// query behind the table and the count, and the synced state (selected run, filters) read and
// written in one place.
//
// - Every `model.on` and store subscription made through the context is undone by `destroy()`,
//   which `render`'s cleanup calls.
// - Clicks save at once; typing in the search box saves after SAVE_DEBOUNCE_MS (the local views
//   follow `model.set` at once, so filtering never waits for the kernel).

import { debounce } from "./frame.js";
import { EventQuery, normalizeFilters } from "./query.js";
import { builder } from "./text.js";

/** Delay before typed filter text is sent to the kernel. */
export const SAVE_DEBOUNCE_MS = 300;
const MIN_HEIGHT_PX = 160;
const MAX_HEIGHT_PX = 5000;
const DEFAULT_HEIGHT_PX = 520;

/** @typedef {import("./store.js").Model} Model */
/** @typedef {import("./store.js").Store} Store */
/** @typedef {import("./store.js").Change} Change */
/** @typedef {ReturnType<typeof makeContext>} Context */

/**
 * The context of one view of `model` drawn in `el` from `store` (the model's shared copy).
 * @param {Model} model
 * @param {HTMLElement} el
 * @param {Store} store
 */
export function makeContext(model, el, store) {
  const doc = el.ownerDocument;
  const win = /** @type {Window & typeof globalThis} */ (doc.defaultView ?? globalThis);
  /** @type {Array<() => void>} */
  const undo = [];
  const save = debounce(() => model.save_changes(), SAVE_DEBOUNCE_MS);
  /** @type {Set<() => void>} */
  const resizeListeners = new Set();
  /** The LangGraph stream part picked in the timeline or the graph pane (seq, -1 for none). */
  let selectedPart = -1;
  /** @type {Set<(seq: number) => void>} */
  const partListeners = new Set();
  if (typeof win.ResizeObserver === "function") {
    const observer = new win.ResizeObserver(() => {
      for (const listener of [...resizeListeners]) listener();
    });
    observer.observe(el);
    undo.push(() => observer.disconnect());
  }
  const ctx = {
    model,
    store,
    doc,
    win,
    h: builder(doc),
    /** The events the table shows and the filter bar counts. */
    query: new EventQuery(store),

    /**
     * Listen to the model (undone by `destroy`).
     * @param {string} name
     * @param {(...args: any[]) => void} callback
     */
    on(name, callback) {
      model.on(name, callback);
      undo.push(() => model.off(name, callback));
    },
    /**
     * Listen to the store (undone by `destroy`).
     * @param {(change: Change) => void} listener
     */
    subscribe(listener) {
      undo.push(store.subscribe(listener));
    },
    /** @param {() => void} fn  called by `destroy` */
    onCleanup(fn) {
      undo.push(fn);
    },

    /** @returns {string} */
    selectedRun() {
      const value = model.get("selected_run");
      return typeof value === "string" ? value : "";
    },
    /**
     * Select run `id` ("" for none) in every view and in Python.
     * @param {string} id
     */
    selectRun(id) {
      model.set("selected_run", id || "");
      save.cancel();
      model.save_changes();
    },

    /** @returns {import("./query.js").Filters} */
    filters() {
      return normalizeFilters(model.get("filters"));
    },
    /**
     * Change some filter keys; `typing` delays the save (the views update at once anyway).
     * @param {Record<string, string[] | string>} patch
     * @param {boolean} [typing]
     */
    setFilters(patch, typing = false) {
      model.set("filters", { ...normalizeFilters(model.get("filters")), ...patch });
      if (typing) save();
      else {
        save.cancel();
        model.save_changes();
      }
    },
    /**
     * Point the shared query at the current filters and selection; returns its rows.
     * @returns {number[]}
     */
    rows() {
      ctx.query.setCriteria(model.get("filters"), ctx.selectedRun());
      return ctx.query.update();
    },

    /** @returns {number} */
    selectedPart() {
      return selectedPart;
    },
    /**
     * Pick stream part `seq` (-1 for none): local to this rendered widget, not a trait.
     * @param {number} seq
     */
    selectPart(seq) {
      selectedPart = Number.isInteger(seq) && seq >= 0 ? seq : -1;
      for (const listener of [...partListeners]) listener(selectedPart);
    },
    /** @param {(seq: number) => void} listener */
    onPartSelect(listener) {
      partListeners.add(listener);
      undo.push(() => partListeners.delete(listener));
    },

    live() {
      return model.get("live") === true;
    },
    height() {
      const value = Number(model.get("height"));
      if (!Number.isFinite(value) || value <= 0) return DEFAULT_HEIGHT_PX;
      return Math.round(Math.min(MAX_HEIGHT_PX, Math.max(MIN_HEIGHT_PX, value)));
    },

    /**
     * Call `listener` when the widget's box changes size (views redraw their windows).
     * @param {() => void} listener
     */
    onResize(listener) {
      resizeListeners.add(listener);
      undo.push(() => resizeListeners.delete(listener));
    },

    destroy() {
      save.flush();
      for (let fn = undo.pop(); fn !== undefined; fn = undo.pop()) fn();
    },
  };
  return ctx;
}

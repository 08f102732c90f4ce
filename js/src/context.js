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

/** The context of one view of `model` drawn in `el` from `store` (the model's shared copy). */
export function makeContext(model, el, store) {
  const doc = el.ownerDocument;
  const win = doc.defaultView ?? globalThis;
  const undo = [];
  const save = debounce(() => model.save_changes(), SAVE_DEBOUNCE_MS);
  const resizeListeners = new Set();
  /** The LangGraph stream part picked in the timeline or the graph pane (seq, -1 for none). */
  let selectedPart = -1;
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

    on(name, callback) {
      model.on(name, callback);
      undo.push(() => model.off(name, callback));
    },
    subscribe(listener) {
      undo.push(store.subscribe(listener));
    },
    onCleanup(fn) {
      undo.push(fn);
    },

    selectedRun() {
      const value = model.get("selected_run");
      return typeof value === "string" ? value : "";
    },
    /** Select run `id` ("" for none) in every view and in Python. */
    selectRun(id) {
      model.set("selected_run", id || "");
      save.cancel();
      model.save_changes();
    },

    filters() {
      return normalizeFilters(model.get("filters"));
    },
    /** Change some filter keys; `typing` delays the save (the views update at once anyway). */
    setFilters(patch, typing = false) {
      model.set("filters", { ...normalizeFilters(model.get("filters")), ...patch });
      if (typing) save();
      else {
        save.cancel();
        model.save_changes();
      }
    },
    /** Point the shared query at the current filters and selection; returns its rows. */
    rows() {
      ctx.query.setCriteria(model.get("filters"), ctx.selectedRun());
      return ctx.query.update();
    },

    selectedPart() {
      return selectedPart;
    },
    /** Pick stream part `seq` (-1 for none): local to this rendered widget, not a trait. */
    selectPart(seq) {
      selectedPart = Number.isInteger(seq) && seq >= 0 ? seq : -1;
      for (const listener of [...partListeners]) listener(selectedPart);
    },
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

    /** Call `listener` when the widget's box changes size (views redraw their windows). */
    onResize(listener) {
      resizeListeners.add(listener);
      undo.push(() => resizeListeners.delete(listener));
    },

    destroy() {
      save.flush();
      while (undo.length) undo.pop()();
    },
  };
  return ctx;
}

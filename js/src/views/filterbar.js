// @ts-check
// The filter bar: search, "N of M events", the run the table is narrowed to, event-kind chips and
// include/exclude chips for names, types and tags.
//
// - Everything is read from and written to the synced `filters` trait (docs/protocol.md shape), so a
//   change made in Python shows here and a click here reaches Python.
// - Names, types and tags: a mode select (include / exclude) says what clicking a value does; a
//   value already in either list is pressed and clicking it takes it out. The chips show the
//   values present in the trace (at most MAX_CHIPS, the active ones always); any other value can be
//   typed in the box beside them (with suggestions).
// - Kinds: one chip per event name in the trace; none pressed shows every kind.

import { frameScheduler } from "../frame.js";
import { emptyFilters } from "../query.js";
import { cellText, cut, replaceChildren, setText, targetOf, visible } from "../text.js";
import { listKey, modeOf, toggledValue, valueChip } from "./chips.js";

/** Value chips shown per group; the other values are reachable by typing. */
export const MAX_CHIPS = 24;
/** Suggestions offered while typing a value. */
const MAX_SUGGESTIONS = 2000;

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("./chips.js").Dim} Dim */
/** @typedef {import("./chips.js").Mode} Mode */

/** @type {ReadonlyArray<{dim: Dim, label: string, noun: string}>} */
const GROUPS = [
  { dim: "names", label: "Names", noun: "name" },
  { dim: "types", label: "Types", noun: "type" },
  { dim: "tags", label: "Tags", noun: "tag" },
];

// Two copies of this module (two widgets from different builds) must not share datalist ids.
const DATALIST_PREFIX = `sv-datalist-${Math.random().toString(36).slice(2, 8)}`;
let datalistCounter = 0;

/**
 * @param {Context} ctx
 * @param {HTMLElement} parent
 */
export function mountFilterBar(ctx, parent) {
  const { h, store } = ctx;
  /** What clicking a value does, per dimension. */
  /** @type {Record<Dim, Mode>} */
  const modes = { names: "include", types: "include", tags: "include" };
  const initial = ctx.filters();
  for (const { dim } of GROUPS) modes[dim] = modeOf(initial, dim);

  const search = h("input", {
    class: "sv-search",
    type: "search",
    placeholder: "Search name, event, tags, path, text…",
    "aria-label": "Search events",
    "data-filter": "search",
    spellcheck: "false",
  });
  search.value = initial.search;
  // Not a live region: during a stream the count changes every frame.
  const count = h("span", { class: "sv-count" });
  const runChip = h("span", { class: "sv-run-chip", hidden: true });
  const clear = h("button", { type: "button", class: "sv-button sv-clear", title: "Clear all filters" }, "Clear");
  const kinds = h("div", { class: "sv-kinds", "data-filter": "kinds", role: "group", "aria-label": "Event kinds" });
  /** @type {Partial<Record<Dim, {select: HTMLSelectElement, chips: HTMLElement, input: HTMLInputElement, datalist: HTMLDataListElement & {svSize?: number}, key: string}>>} */
  const groups = {};
  const groupRow = h("div", { class: "sv-filter-row sv-filter-groups" });
  for (const { dim, label, noun } of GROUPS) {
    const listId = `${DATALIST_PREFIX}-${++datalistCounter}`;
    const select = h(
      "select",
      { class: "sv-mode", "data-filter-mode": dim, "aria-label": `${label}: include or exclude` },
      h("option", { value: "include" }, "include"),
      h("option", { value: "exclude" }, "exclude"),
    );
    select.value = modes[dim];
    const chips = h("span", { class: "sv-chips", role: "group", "aria-label": label });
    const input = h("input", {
      class: "sv-add",
      type: "text",
      list: listId,
      placeholder: `+ ${noun}`,
      "aria-label": `Add a ${noun} to the filter`,
      "data-filter-input": dim,
      spellcheck: "false",
    });
    const datalist = h("datalist", { id: listId });
    const box = h(
      "span",
      { class: "sv-fgroup", "data-dim": dim },
      h("span", { class: "sv-flabel" }, label),
      select,
      chips,
      input,
      datalist,
    );
    groupRow.appendChild(box);
    groups[dim] = { select, chips, input, datalist, key: "" };

    select.addEventListener("change", () => {
      modes[dim] = select.value === "exclude" ? "exclude" : "include";
      // The values picked so far move to the other list: "these names" now means "not these".
      const filters = ctx.filters();
      const from = listKey(modes[dim] === "include" ? "exclude" : "include", dim);
      const to = listKey(modes[dim], dim);
      if (filters[from].length) {
        ctx.setFilters({ [to]: [...new Set([...filters[to], ...filters[from]])], [from]: [] });
      } else frame.request();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      addValue(dim, input.value);
      input.value = "";
    });
    input.addEventListener("change", () => {
      // Picking a suggestion fires `change` without Enter in some browsers.
      if (input.value !== "" && store.values[dim].has(input.value)) {
        addValue(dim, input.value);
        input.value = "";
      }
    });
    chips.addEventListener("click", (event) => {
      const chip = /** @type {import("./chips.js").ChipElement | null} */ (targetOf(event, ".sv-chip"));
      if (!chip || !chips.contains(chip) || chip.svValue === undefined) return;
      toggleValue(dim, chip.svValue);
    });
  }

  const root = h(
    "div",
    { class: "sv-filterbar", role: "search" },
    h("div", { class: "sv-filter-row" }, search, count, runChip, clear),
    h("div", { class: "sv-filter-row" }, h("span", { class: "sv-flabel" }, "Events"), kinds),
    groupRow,
  );
  parent.appendChild(root);

  /**
   * Put `value` in the list of `dim`'s mode (once).
   * @param {Dim} dim
   * @param {string} value
   */
  function addValue(dim, value) {
    if (value === "") return;
    const key = listKey(modes[dim], dim);
    const filters = ctx.filters();
    if (!filters[key].includes(value)) ctx.setFilters({ [key]: [...filters[key], value] });
  }

  /**
   * @param {Dim} dim
   * @param {string} value
   */
  function toggleValue(dim, value) {
    ctx.setFilters(toggledValue(ctx.filters(), dim, value, modes[dim]));
  }

  search.addEventListener("input", () => ctx.setFilters({ search: search.value }, true));
  clear.addEventListener("click", () => {
    // Every filter and every mode back to the start: a mode left on "exclude" would make the
    // next chip click exclude.
    for (const { dim } of GROUPS) modes[dim] = "include";
    ctx.setFilters(emptyFilters());
    frame.request();
  });
  kinds.addEventListener("click", (event) => {
    const chip = targetOf(event, ".sv-kind");
    if (!chip || !kinds.contains(chip)) return;
    const kind = chip.getAttribute("data-kind") ?? "";
    const current = ctx.filters().kinds;
    ctx.setFilters({
      kinds: current.includes(kind) ? current.filter((item) => item !== kind) : [...current, kind],
    });
  });
  runChip.addEventListener("click", (event) => {
    if (targetOf(event, ".sv-chip-x")) ctx.selectRun("");
  });

  let kindsKey = "";
  /** @type {string | null} */
  let runKey = null;

  /** @param {import("../query.js").Filters} filters */
  function drawGroups(filters) {
    for (const { dim, noun } of GROUPS) {
      const group = groups[dim];
      if (!group) continue;
      const include = filters[listKey("include", dim)];
      const exclude = filters[listKey("exclude", dim)];
      if (include.length && !exclude.length) modes[dim] = "include";
      else if (exclude.length && !include.length) modes[dim] = "exclude";
      if (group.select.value !== modes[dim]) group.select.value = modes[dim];
      const present = store.values[dim];
      const shown = [...new Set([...include, ...exclude])];
      let offered = 0;
      for (const value of present) {
        if (offered >= MAX_CHIPS) break;
        if (!shown.includes(value)) {
          shown.push(value);
          offered += 1;
        }
      }
      const key = JSON.stringify([modes[dim], include, exclude, shown, present.size]);
      if (key === group.key) continue;
      group.key = key;
      const chips = shown.map((value) => valueChip(h, { filters, dim, value, mode: modes[dim] }));
      let more = present.size;
      for (const value of shown) if (present.has(value)) more -= 1;
      replaceChildren(
        group.chips,
        chips,
        more > 0 ? h("span", { class: "sv-more" }, `+${more} more (type a ${noun})`) : null,
      );
      if (group.datalist.svSize !== present.size) {
        group.datalist.svSize = present.size;
        replaceChildren(
          group.datalist,
          [...present].slice(0, MAX_SUGGESTIONS).map((value) => h("option", { value })),
        );
      }
    }
  }

  /** @param {import("../query.js").Filters} filters */
  function drawKinds(filters) {
    const key = JSON.stringify([store.kinds.length, filters.kinds]);
    if (key !== kindsKey) {
      kindsKey = key;
      const names = [...new Set([...store.kinds, ...filters.kinds])];
      replaceChildren(
        kinds,
        names.map((kind) => {
          const on = filters.kinds.includes(kind);
          return h(
            "button",
            {
              type: "button",
              class: `sv-kind${on ? " sv-on" : ""}`,
              "data-kind": kind,
              "aria-pressed": on ? "true" : "false",
              title: `${visible(cut(kind, 2000).text)}\nClick: ${on ? "stop showing only the pressed kinds' events" : "show only the pressed kinds' events"}`,
            },
            h("span", { class: "sv-kind-name" }, cellText(kind, 60)),
            h("span", { class: "sv-kind-count" }, ""),
          );
        }),
        filters.kinds.length ? null : h("span", { class: "sv-hint" }, "all shown"),
      );
    }
    // Counts change with every delta: update the numbers only.
    for (const chip of kinds.querySelectorAll(".sv-kind")) {
      const index = store.kinds.indexOf(chip.getAttribute("data-kind") ?? "");
      const n = index >= 0 ? (store.kindCounts[index] ?? 0) : 0;
      if (chip.lastChild) setText(chip.lastChild, n.toLocaleString("en-US"));
    }
  }

  function drawRunChip() {
    const id = ctx.selectedRun();
    const index = store.runIndex(id);
    const key = `${id}\u0000${index >= 0 ? store.runs[index].name : ""}`;
    if (key === runKey) return;
    runKey = key;
    runChip.hidden = !id;
    if (!id) {
      replaceChildren(runChip);
      return;
    }
    const name = index >= 0 ? store.runs[index].name : `${id} (not in trace)`;
    replaceChildren(
      runChip,
      "run: ",
      h("bdi", { class: "sv-run-chip-name", title: visible(cut(name, 2000).text) }, cellText(name, 80)),
      " ",
      h("button", { type: "button", class: "sv-chip-x", "aria-label": "Show every run", title: "Show every run" }, "×"),
    );
  }

  function draw() {
    const filters = ctx.filters();
    if (search.value !== filters.search) search.value = filters.search;
    const rows = ctx.rows();
    setText(count, `${rows.length.toLocaleString("en-US")} of ${store.count.toLocaleString("en-US")} events`);
    drawRunChip();
    drawKinds(filters);
    drawGroups(filters);
  }

  const frame = frameScheduler(ctx.win, draw);
  ctx.on("change:filters", () => frame.request());
  ctx.on("change:selected_run", () => frame.request());
  ctx.subscribe((change) => {
    if (change.payload === undefined || change.events || change.runs || change.reset) frame.request();
  });
  ctx.onCleanup(() => frame.stop());
  draw();
  return { root, draw };
}

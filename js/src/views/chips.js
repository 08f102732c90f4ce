// @ts-check
// Value chips: a name, type or tag the user presses to filter by it (the filter bar's chips, the
// graph pane's node and tag chips). Both write the shared `filters` trait the same way:
//
// - a value already in `include_<dim>` or `exclude_<dim>` is pressed; clicking it takes it out;
// - any other value goes into the list of the dimension's mode (include or exclude).

import { cellText, cut, visible } from "../text.js";

/** @typedef {"names" | "types" | "tags"} Dim */
/** @typedef {"include" | "exclude"} Mode */
/** @typedef {import("../query.js").Filters} Filters */
/** @typedef {import("../query.js").FilterList} FilterList */

/**
 * The list key of `dim` in `mode`: `include_names`...
 * @param {Mode} mode
 * @param {Dim} dim
 * @returns {FilterList}
 */
export function listKey(mode, dim) {
  return /** @type {FilterList} */ (`${mode}_${dim}`);
}

/**
 * The mode a dimension starts in: exclude when it holds only exclusions, else include.
 * @param {Filters} filters
 * @param {Dim} dim
 * @returns {Mode}
 */
export function modeOf(filters, dim) {
  return filters[listKey("exclude", dim)].length && !filters[listKey("include", dim)].length ? "exclude" : "include";
}

/**
 * The filters patch a click on the chip of `value` makes: out of the list that holds it, else
 * into `mode`'s list.
 * @param {Filters} filters
 * @param {Dim} dim
 * @param {string} value
 * @param {Mode} mode
 * @returns {Record<string, string[]>}
 */
export function toggledValue(filters, dim, value, mode) {
  for (const key of [listKey("include", dim), listKey("exclude", dim)]) {
    if (filters[key].includes(value)) return { [key]: filters[key].filter((item) => item !== value) };
  }
  const key = listKey(mode, dim);
  return { [key]: [...filters[key], value] };
}

/**
 * @typedef {HTMLButtonElement & {svDim?: Dim, svValue?: string}} ChipElement
 */

/**
 * The chip of `value`: pressed when a list holds it, its `data-filter` the list a click changes.
 * @param {import("../text.js").H} h
 * @param {{filters: Filters, dim: Dim, value: string, mode: Mode, className?: string, hint?: string}} options
 * @param {...import("../text.js").Child} extra  children after the label (e.g. a count)
 * @returns {ChipElement}
 */
export function valueChip(h, { filters, dim, value, mode, className = "", hint = "" }, ...extra) {
  const on = filters[listKey("include", dim)].includes(value);
  const off = filters[listKey("exclude", dim)].includes(value);
  const list = listKey(on ? "include" : off ? "exclude" : mode, dim);
  const chip = /** @type {ChipElement} */ (
    h(
      "button",
      {
        type: "button",
        class: `sv-chip${className ? ` ${className}` : ""}${on ? " sv-on" : ""}${off ? " sv-off" : ""}`,
        "data-filter": list,
        "data-value": value,
        "aria-pressed": on || off ? "true" : "false",
        // The whole value (the label may be cut), then what a click does.
        title: `${value === "" ? "(empty)" : visible(cut(value, 2000).text)}\n${on || off ? `Click: remove from ${list}` : `Click: add to ${list}${hint}`}`,
        dir: "auto",
      },
      value === "" ? "(empty)" : cellText(value, 60),
      ...extra,
    )
  );
  chip.svDim = dim;
  chip.svValue = value;
  return chip;
}

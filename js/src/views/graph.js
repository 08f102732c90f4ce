// The LangGraph pane: the graph's stream parts, one tab per stream mode present in the trace.
//
// - `values`: the state after each step (numbered per namespace); the latest state of the root
//   graph shows whole beside the list until a state is picked.
// - `updates`: per-node updates (node, namespace, the update); `custom`: the payloads;
//   `tasks`, `debug`, `checkpoints`: step, type, task, namespace and the payload; any other mode
//   (from a remote server: `messages/partial`, `metadata`, `error`...) lists name, namespace, text.
//   These lists are virtualized (views/vlist.js), follow a live trace when their end is in view,
//   and show the picked part whole (its full payload when the kernel answers).
// - `messages`: the LLM tokens grouped per namespace and node, then per LLM call (its tags), as
//   `|`-separated pieces and the accumulated text. Node and tag chips write the shared `filters`
//   trait (include_names / include_tags, as the filter bar's chips do); the names/types/tags
//   filters narrow the tokens shown here with the usual semantics. They do not narrow the other
//   modes (a state or a checkpoint belongs to no node).
// - Picking a part (here or on the timeline's part lanes) goes through `ctx.selectPart`.
// - Text only (text.js): node names, namespaces and payloads never become markup.

import { makeFilter } from "../filters.js";
import { filterSpec } from "../query.js";
import { DETAIL_CHARS, cellText, cut, formatMs, ms, plural, replaceChildren, setText, visible } from "../text.js";
import { frameScheduler } from "../frame.js";
import { MessageGroups, messageToken, modeColor, nsLabel, orderModes, parseJson, partInfo, prettyText } from "./graph_model.js";
import { longText } from "./longtext.js";
import { virtualList } from "./vlist.js";

export const PART_ROW_PX = 22;
/** Characters kept per text of an LLM call (pieces, text): the tail, when a stream outgrows it. */
export const MESSAGE_CHARS = 200_000;
/** Node and tag chips offered (the pressed ones always show). */
export const MAX_GRAPH_CHIPS = 24;

/** List columns per mode: key (cell class `sv-part-<key>`) and header. */
export const LAYOUTS = {
  values: [["t", "time (ms)"], ["step", "#"], ["ns", "namespace"], ["text", "state"]],
  updates: [["t", "time (ms)"], ["node", "node"], ["ns", "namespace"], ["text", "update"]],
  custom: [["t", "time (ms)"], ["ns", "namespace"], ["text", "data"]],
  tasks: [["t", "time (ms)"], ["type", "type"], ["node", "task"], ["ns", "namespace"], ["text", "payload"]],
  debug: [["t", "time (ms)"], ["step", "step"], ["type", "type"], ["node", "task"], ["ns", "namespace"], ["text", "payload"]],
  checkpoints: [["t", "time (ms)"], ["step", "step"], ["type", "source"], ["node", "next"], ["ns", "namespace"], ["text", "checkpoint"]],
  generic: [["t", "time (ms)"], ["node", "name"], ["ns", "namespace"], ["text", "text"]],
};

export function layoutOf(mode) {
  return Object.prototype.hasOwnProperty.call(LAYOUTS, mode) && mode !== "generic" ? mode : "generic";
}

/** Readable namespace of event `k` and its full value (for a title): `{label, full}`. */
export function partNs(store, k) {
  const ns = store.eventNs(k) ?? "";
  return { label: ns ? nsLabel(ns) : "root", full: ns ? ns : "root graph" };
}

/** The cells of part `k` shown as a row of `mode`'s list (display text). */
export function partCells(store, k, mode, step = "") {
  const layout = layoutOf(mode);
  const text = store.cols.text[k];
  const name = store.eventName(k);
  const ns = partNs(store, k);
  const cells = { t: formatMs(store.cols.t[k], 3), step: "", type: "", node: "", ns: cellText(ns.label, 200), nsTitle: ns.full, text: "" };
  if (layout === "values" || layout === "custom") {
    cells.step = String(step);
    cells.text = cellText(text);
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
  return cells;
}

/** Where `value` is in the ascending `list`, or -1. */
function position(list, value) {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid] < value) low = mid + 1;
    else high = mid;
  }
  return list[low] === value ? low : -1;
}

/** A mode's name for a tab: `values`, `messages/partial`... (controls made visible). */
function modeText(mode) {
  return cellText(mode || "(no mode)", 40);
}

export function mountGraph(ctx, parent) {
  const { h, store } = ctx;
  const modes = h("div", { class: "sv-graph-modes", role: "tablist", "aria-label": "Stream modes" });
  const tools = h("div", { class: "sv-graph-tools", hidden: true });
  const thead = h("div", { class: "sv-graph-thead", role: "row" });
  const scroller = h("div", { class: "sv-graph-rows", tabindex: "0", role: "rowgroup", "aria-label": "Stream parts" });
  const listbox = h("div", { class: "sv-graph-listbox", role: "table" }, thead, scroller);
  const messages = h("div", { class: "sv-msg-list", hidden: true });
  const detail = h("aside", { class: "sv-graph-detail", "aria-label": "Stream part", hidden: true });
  const main = h("div", { class: "sv-graph-main" }, listbox, messages, detail);
  const empty = h("div", { class: "sv-empty" }, "No LangGraph stream parts in this trace yet.");
  const root = h("div", { class: "sv-graph" }, modes, tools, main, empty);
  parent.appendChild(root);

  /** The tab the user picked (it may not be present yet after a reset), or null. */
  let picked = null;
  /** The tab shown. */
  let active = null;
  let tabsKey = "";
  let generation = store.generation;

  // --- the virtual list of the list modes ----------------------------------------------------
  let list = null;
  let listMode = null;
  let rows = [];
  let shownCount = 0;
  /** `values` step numbers: per values part, its index among the states of its namespace. */
  let steps = [];
  let stepsPerNs = new Map();

  function valueSteps() {
    const seqs = store.partSeqs.get("values") ?? [];
    for (let n = steps.length; n < seqs.length; n += 1) {
      const ns = store.eventNs(seqs[n]) ?? "";
      const step = stepsPerNs.get(ns) ?? 0;
      stepsPerNs.set(ns, step + 1);
      steps.push(step);
    }
    return steps;
  }

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
    list = virtualList({
      scroller,
      rowHeight: PART_ROW_PX,
      viewportHeight: () => Math.max(PART_ROW_PX * 4, ctx.height() - 200),
      onScroll: () => frame.request(),
      createRow: () =>
        h(
          "div",
          { class: "sv-part", role: "row", "data-mode": mode },
          columns.map(([key]) => h("span", { class: `sv-gcell sv-part-${key}`, role: "cell", dir: key === "t" || key === "step" ? null : "auto" })),
        ),
      fillRow: (row, index) => {
        const k = rows[index];
        if (row.svSeq !== k) {
          row.svSeq = k;
          row.setAttribute("data-seq", String(k));
          const cells = partCells(store, k, mode, mode === "values" ? steps[index] : "");
          columns.forEach(([key], n) => {
            const cell = row.childNodes[n];
            setText(cell, cells[key]);
            if (key === "ns") cell.setAttribute("title", cells.nsTitle);
            else if (key === "text" || key === "node") cell.setAttribute("title", cells[key]);
          });
        }
        const selected = k === ctx.selectedPart();
        if (row.classList.contains("sv-selected") !== selected) row.classList.toggle("sv-selected", selected);
        row.setAttribute("aria-selected", selected ? "true" : "false");
        // The state shown beside the list when none is picked (the latest one).
        const shown = !selected && k === shownLatest;
        if (row.classList.contains("sv-shown") !== shown) row.classList.toggle("sv-shown", shown);
      },
    });
  }

  scroller.addEventListener("click", (event) => {
    const row = event.target.closest?.(".sv-part");
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
    const at = position(rows, ctx.selectedPart());
    const next = Math.max(0, Math.min(rows.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    ctx.selectPart(rows[next]);
  });

  function drawList() {
    if (listMode !== active) makeList(active);
    if (active === "values") valueSteps();
    const follow = ctx.live() && shownCount > 0 && list.atEnd();
    rows = store.partSeqs.get(active) ?? [];
    const grew = rows.length > shownCount;
    shownCount = rows.length;
    list.update(rows.length);
    if (follow && grew) {
      list.scrollToEnd();
      list.update(rows.length);
    }
  }

  // --- messages: tokens per node and LLM call -------------------------------------------------
  let groups = new MessageGroups();
  let scanned = 0;
  let filterKey = null;
  let keep = null;
  /** Group and call elements: group key → `{element, head, calls: Map(call key → view)}`. */
  let groupViews = new Map();
  /** Node and tag values of every messages part (chips), with counts, and how far they are read. */
  const chipValues = { names: new Map(), tags: new Map() };
  let chipsScanned = 0;
  let chipsKey = "";
  const nodeChips = h("span", { class: "sv-chips", role: "group", "aria-label": "Nodes" });
  const tagChips = h("span", { class: "sv-chips", role: "group", "aria-label": "Tags" });
  const msgCount = h("span", { class: "sv-count sv-msg-count" });
  tools.appendChild(h("span", { class: "sv-fgroup", "data-dim": "names" }, h("span", { class: "sv-flabel" }, "Nodes"), nodeChips));
  tools.appendChild(h("span", { class: "sv-fgroup", "data-dim": "tags" }, h("span", { class: "sv-flabel" }, "Tags"), tagChips));
  tools.appendChild(msgCount);

  function resetMessages() {
    groups = new MessageGroups();
    scanned = 0;
    groupViews = new Map();
    replaceChildren(messages);
  }

  function resetChips() {
    chipValues.names.clear();
    chipValues.tags.clear();
    chipsScanned = 0;
    chipsKey = "";
  }

  function toggleValue(dim, value) {
    const filters = ctx.filters();
    for (const key of [`include_${dim}`, `exclude_${dim}`]) {
      if (filters[key].includes(value)) {
        ctx.setFilters({ [key]: filters[key].filter((item) => item !== value) });
        return;
      }
    }
    // As the filter bar: a dimension holding only exclusions adds to them.
    const mode = filters[`exclude_${dim}`].length && !filters[`include_${dim}`].length ? "exclude" : "include";
    ctx.setFilters({ [`${mode}_${dim}`]: [...filters[`${mode}_${dim}`], value] });
  }

  tools.addEventListener("click", (event) => {
    const chip = event.target.closest?.(".sv-chip");
    if (!chip || !tools.contains(chip)) return;
    toggleValue(chip.svDim, chip.svValue);
  });

  function drawChips(filters) {
    const seqs = store.partSeqs.get("messages") ?? [];
    for (; chipsScanned < seqs.length; chipsScanned += 1) {
      const k = seqs[chipsScanned];
      const name = store.eventName(k);
      chipValues.names.set(name, (chipValues.names.get(name) ?? 0) + 1);
      for (const tag of store.eventTags(k)) chipValues.tags.set(tag, (chipValues.tags.get(tag) ?? 0) + 1);
    }
    const key = JSON.stringify([filterSpec(filters), chipValues.names.size, chipValues.tags.size]);
    if (key !== chipsKey) {
      chipsKey = key;
      buildChips(filters);
    }
    // Counts change with every token: update the numbers only.
    for (const chip of tools.querySelectorAll(".sv-graph-chip")) {
      setText(chip.lastChild, (chipValues[chip.svDim].get(chip.svValue) ?? 0).toLocaleString("en-US"));
    }
  }

  function buildChips(filters) {
    for (const [dim, element] of [["names", nodeChips], ["tags", tagChips]]) {
      const include = filters[`include_${dim}`];
      const exclude = filters[`exclude_${dim}`];
      const counts = chipValues[dim];
      // First seen order (chips do not move when pressed); the pressed ones always show.
      const pressed = new Set([...include, ...exclude]);
      const shown = [];
      for (const value of counts.keys()) {
        if (shown.length < MAX_GRAPH_CHIPS || pressed.has(value)) shown.push(value);
      }
      replaceChildren(
        element,
        shown.map((value) => {
          const on = include.includes(value);
          const off = exclude.includes(value);
          const list = on ? `include_${dim}` : off ? `exclude_${dim}` : `include_${dim}`;
          const chip = h(
            "button",
            {
              type: "button",
              class: `sv-chip sv-graph-chip${on ? " sv-on" : ""}${off ? " sv-off" : ""}`,
              "data-filter": list,
              "data-value": value,
              "aria-pressed": on || off ? "true" : "false",
              title: on || off ? `Remove from ${list}` : `Add to ${list} (shared with the filter bar)`,
              dir: "auto",
            },
            value === "" ? "(empty)" : cellText(value, 60),
            h("span", { class: "sv-kind-count" }, ""),
          );
          chip.svDim = dim;
          chip.svValue = value;
          return chip;
        }),
        counts.size > shown.length ? h("span", { class: "sv-more" }, `+${counts.size - shown.length} more (filter bar)`) : null,
        counts.size === 0 ? h("span", { class: "sv-hint" }, "none") : null,
      );
    }
  }

  function makeCall(group, call) {
    const head = h("div", { class: "sv-msg-call-head" });
    const note = h("div", { class: "sv-token-note", hidden: true });
    const textNote = h("div", { class: "sv-token-note", hidden: true });
    const pieces = h("div", { class: "sv-msg-pieces", dir: "auto", "aria-label": "Token pieces" });
    const text = h("div", { class: "sv-msg-text sv-part-text", dir: "auto", "aria-label": "Accumulated text" });
    const element = h(
      "div",
      { class: "sv-msg-call", "data-tags": call.tags.join(","), "data-mode": "messages" },
      head,
      h("div", { class: "sv-token-label" }, "pieces"),
      note,
      pieces,
      h("div", { class: "sv-token-label" }, "text"),
      textNote,
      text,
    );
    const dropped = (target) => (count) => {
      target.hidden = false;
      target.textContent = `… ${count.toLocaleString("en-US")} earlier characters not shown`;
    };
    return {
      call,
      element,
      head,
      done: 0,
      headKey: "",
      pieces: longText(h, pieces, { cap: MESSAGE_CHARS, onDrop: dropped(note) }),
      text: longText(h, text, { cap: MESSAGE_CHARS, onDrop: dropped(textNote) }),
    };
  }

  function drawCallHead(view) {
    const { call } = view;
    const selected = ctx.selectedPart();
    const isSelected = selected >= 0 && groups.where.get(selected)?.call === call;
    const key = `${call.seqs.length}\u0000${isSelected}`;
    if (key === view.headKey) return;
    view.headKey = key;
    view.element.classList.toggle("sv-selected", isSelected);
    const first = store.cols.t[call.seqs[0]];
    const last = store.cols.t[call.seqs[call.seqs.length - 1]];
    replaceChildren(
      view.head,
      call.tags.length
        ? call.tags.map((tag) => h("span", { class: "sv-badge sv-msg-tag", dir: "auto" }, cellText(tag, 60)))
        : h("span", { class: "sv-badge sv-msg-tag" }, "no tags"),
      h("span", { class: "sv-token-chunks" }, plural(call.seqs.length, "token")),
      h("span", { class: "sv-token-first" }, `${ms(first)} → ${ms(last)}`),
    );
    view.head.setAttribute("data-seq", String(call.seqs[0]));
  }

  function drawMessages(filters) {
    const key = JSON.stringify(filterSpec(filters));
    if (key !== filterKey) {
      filterKey = key;
      const spec = filterSpec(filters);
      keep = Object.keys(spec).length ? makeFilter(spec) : null;
      resetMessages();
    }
    const seqs = store.partSeqs.get("messages") ?? [];
    for (; scanned < seqs.length; scanned += 1) {
      const k = seqs[scanned];
      if (keep && !keep(store.record(k))) continue;
      groups.add(k, { ns: store.eventNs(k) ?? "", node: store.eventName(k), tags: store.eventTags(k) });
    }
    for (const group of groups.groups) {
      let view = groupViews.get(group.key);
      if (!view) {
        const ns = group.ns ? nsLabel(group.ns) : "root";
        const head = h(
          "div",
          { class: "sv-msg-head" },
          h("bdi", { class: "sv-part-node" }, cellText(group.node || "(no node)", 120)),
          h("span", { class: "sv-part-ns", title: group.ns || "root graph", dir: "auto" }, cellText(ns, 200)),
          h("span", { class: "sv-token-chunks" }, ""),
        );
        const element = h("section", { class: "sv-msg-group", "data-node": group.node, "data-ns": group.ns }, head);
        messages.appendChild(element);
        view = { element, head, calls: new Map() };
        groupViews.set(group.key, view);
      }
      setText(view.head.lastChild, plural(group.count, "token"));
      for (const call of group.calls) {
        let callView = view.calls.get(call.key);
        if (!callView) {
          callView = makeCall(group, call);
          view.calls.set(call.key, callView);
          view.element.appendChild(callView.element);
        }
        if (callView.done < call.seqs.length) {
          let pieces = "";
          let text = "";
          for (let n = callView.done; n < call.seqs.length; n += 1) {
            const piece = visible(messageToken(store.cols.text[call.seqs[n]]), true);
            pieces += n === 0 ? piece : `|${piece}`;
            text += piece;
          }
          callView.pieces.append(pieces);
          callView.text.append(text);
          callView.done = call.seqs.length;
        }
        drawCallHead(callView);
      }
    }
    setText(msgCount, `${groups.count.toLocaleString("en-US")} of ${seqs.length.toLocaleString("en-US")} tokens`);
    if (!groups.groups.length) {
      replaceChildren(messages, h("div", { class: "sv-empty" }, "No token matches the filters."));
      groupViews = new Map();
    } else if (messages.firstChild && !messages.firstChild.classList.contains("sv-msg-group")) {
      messages.removeChild(messages.firstChild);
    }
  }

  messages.addEventListener("click", (event) => {
    const head = event.target.closest?.(".sv-msg-call-head");
    if (!head) return;
    const seq = Number(head.getAttribute("data-seq"));
    ctx.selectPart(seq === ctx.selectedPart() ? -1 : seq);
  });

  // --- the picked part, whole ------------------------------------------------------------------
  const detailTitle = h("span", { class: "sv-details-title" });
  const detailClose = h("button", { type: "button", class: "sv-button sv-close", "aria-label": "Close" }, "×");
  const detailFields = h("dl", { class: "sv-fields" });
  const detailNote = h("div", { class: "sv-payload-note" });
  const detailBody = h("pre", { class: "sv-graph-payload", dir: "auto" });
  detail.append(h("div", { class: "sv-details-head" }, detailTitle, detailClose), detailFields, detailNote, detailBody);
  detailClose.addEventListener("click", () => ctx.selectPart(-1));
  let detailKey = "";
  /** The latest state shown in the detail when no part is picked (its seq), or -1. */
  let shownLatest = -1;

  /** The part the detail shows: the picked one of this tab, else (values) the latest root state. */
  function detailPart() {
    const selected = ctx.selectedPart();
    if (selected >= 0 && selected < store.count && store.partMode(selected) === active) return { seq: selected, latest: false };
    if (active !== "values") return null;
    const seqs = store.partSeqs.get("values") ?? [];
    for (let n = seqs.length - 1; n >= 0 && n >= seqs.length - 10_000; n -= 1) {
      if (!store.eventNs(seqs[n])) return { seq: seqs[n], latest: true };
    }
    return seqs.length ? { seq: seqs[seqs.length - 1], latest: true } : null;
  }

  /** The part's payload for reading: the kernel's full payload when it came, else its text. */
  function partBody(k, mode) {
    const text = store.cols.text[k];
    if (mode === "messages") return { text: text.startsWith("[{") ? prettyText(text) : text, full: true };
    const parsed = parseJson(text);
    if (parsed !== undefined) return { text: JSON.stringify(parsed, null, 2), full: true };
    const answer = store.payloads.get(k);
    if (answer) {
      const chunk = parseJson(answer.text)?.data?.chunk;
      return { text: chunk === undefined ? answer.text : JSON.stringify(chunk, null, 2), full: !answer.truncated, answered: true };
    }
    // Cut by the kernel: ask for the whole payload (no kernel, no answer: the text stays).
    store.requestPayload(k);
    return { text: prettyText(text), full: false };
  }

  function drawDetail() {
    const part = detailPart();
    shownLatest = part && part.latest ? part.seq : -1;
    if (!part) {
      detail.hidden = true;
      detailKey = "";
      return;
    }
    const k = part.seq;
    const mode = store.partMode(k);
    const body = partBody(k, mode);
    const key = `${k}\u0000${part.latest}\u0000${body.answered === true}`;
    detail.hidden = false;
    if (key === detailKey) return;
    detailKey = key;
    detail.setAttribute("data-seq", String(k));
    detailClose.hidden = part.latest;
    const ns = partNs(store, k);
    const info = mode === "messages" ? null : partInfo(mode, store.cols.text[k], store.extra.get(k)?.name ?? "");
    const field = (label, value, title) => [h("dt", null, label), h("dd", { dir: "auto", title }, value)];
    const tags = store.eventTags(k);
    setText(detailTitle, `${part.latest ? "Latest state" : cellText(mode, 40)} · part #${k}`);
    replaceChildren(
      detailFields,
      field("time", ms(store.cols.t[k], 3)),
      field(store.extra.get(k)?.name !== undefined ? "node" : "graph", cellText(store.eventName(k), 200)),
      field("namespace", cellText(ns.label, 300), ns.full),
      info && info.step !== "" ? field("step", cellText(info.step, 20)) : null,
      info && info.type !== "" ? field("type", cellText(info.type, 40)) : null,
      info && info.task !== "" ? field(mode === "checkpoints" || info.type === "checkpoint" ? "next" : "task", cellText(info.task, 200)) : null,
      mode === "messages" || tags.length ? field("tags", tags.length ? tags.map((tag) => cellText(tag, 60)).join(", ") : "–") : null,
    );
    const shown = cut(body.text, DETAIL_CHARS);
    detailBody.textContent = visible(shown.text, true) + (shown.rest ? `\n… ${shown.rest.toLocaleString("en-US")} more characters` : "");
    setText(detailNote, body.full ? (mode === "messages" ? "token" : "payload") : body.answered ? "payload (cut by the kernel)" : "preview (cut; the full payload shows here when the kernel answers)");
  }

  // --- tabs and drawing ------------------------------------------------------------------------

  modes.addEventListener("click", (event) => {
    const chip = event.target.closest?.(".sv-mode");
    if (!chip || !modes.contains(chip)) return;
    picked = chip.svMode;
    frame.now();
  });

  function drawTabs(ordered) {
    const key = JSON.stringify([ordered, active]);
    if (key !== tabsKey) {
      tabsKey = key;
      replaceChildren(
        modes,
        ordered.map((mode) => {
          const swatch = h("span", { class: "sv-swatch" });
          swatch.style.backgroundColor = modeColor(mode);
          const chip = h(
            "button",
            { type: "button", role: "tab", class: `sv-mode${mode === active ? " sv-on" : ""}`, "data-mode": mode, "aria-pressed": mode === active ? "true" : "false", "aria-selected": mode === active ? "true" : "false" },
            swatch,
            h("span", { class: "sv-mode-name" }, modeText(mode)),
            h("span", { class: "sv-mode-count" }, ""),
          );
          chip.svMode = mode;
          return chip;
        }),
      );
    }
    for (const chip of modes.childNodes) setText(chip.lastChild, (store.partSeqs.get(chip.svMode)?.length ?? 0).toLocaleString("en-US"));
  }

  function draw() {
    if (generation !== store.generation) {
      // A new snapshot (e.g. the final one when the run ends). Events never change once sent:
      // what is drawn stays (and keeps its scroll position) if the copy still holds it.
      generation = store.generation;
      const messagesHeld = store.partSeqs.get("messages")?.length ?? 0;
      if (scanned > messagesHeld || chipsScanned > messagesHeld) {
        resetMessages();
        resetChips();
      }
      if (steps.length > (store.partSeqs.get("values")?.length ?? 0)) {
        steps = [];
        stepsPerNs = new Map();
      }
    }
    const ordered = orderModes(store.partModes);
    active = picked !== null && ordered.includes(picked) ? picked : (ordered[0] ?? null);
    root.setAttribute("data-mode", active ?? "");
    root.setAttribute("data-parts", String(store.partCount));
    empty.hidden = active !== null;
    main.hidden = active === null;
    drawTabs(ordered);
    if (active === null) {
      tools.hidden = true;
      return;
    }
    const isMessages = active === "messages";
    tools.hidden = !isMessages;
    listbox.hidden = isMessages;
    messages.hidden = !isMessages;
    drawDetail();
    if (isMessages) {
      const filters = ctx.filters();
      drawChips(filters);
      drawMessages(filters);
    } else drawList();
  }

  /** Show the picked part: its tab, scrolled to it. */
  function reveal() {
    const k = ctx.selectedPart();
    if (k < 0 || k >= store.count) return;
    const mode = store.partMode(k);
    if (mode === null) return;
    picked = mode;
    draw();
    if (mode === "messages") {
      const call = groups.where.get(k)?.call;
      const view = call ? groupViews.get(groups.where.get(k).group.key)?.calls.get(call.key) : null;
      view?.element.scrollIntoView?.({ block: "nearest" });
    } else if (list) {
      const index = position(rows, k);
      if (index >= 0) {
        list.reveal(index);
        list.update(rows.length);
      }
    }
  }

  const frame = frameScheduler(ctx.win, draw);
  ctx.subscribe((change) => {
    if (change.payload === undefined || String(change.payload) === detail.getAttribute("data-seq")) {
      if (change.payload !== undefined) detailKey = "";
      frame.request();
    }
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
    list?.destroy();
  });
  draw();
  return {
    root,
    draw,
    get active() {
      return active;
    },
    select(mode) {
      picked = mode;
      frame.now();
    },
  };
}

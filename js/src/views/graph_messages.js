// @ts-check
// The graph pane's `messages` tab: the LLM tokens grouped per namespace and node, then per LLM
// call (its tags), each call a token block (views/token_block.js). Node and tag chips above write
// the shared `filters` trait (include_names / include_tags, as the filter bar's chips do); the
// names/types/tags filters narrow the tokens shown here with the usual semantics.

import { makeFilter } from "../filters.js";
import { filterSpec } from "../query.js";
import { cellText, formatDuration, plural, replaceChildren, setText, targetOf } from "../text.js";
import { listKey, modeOf, toggledValue, valueChip } from "./chips.js";
import { MessageGroups, messageToken, nsLabel } from "./graph_model.js";
import { appendTokens, tokenBlock, tokenTexts } from "./token_block.js";

/** @typedef {import("../context.js").Context} Context */
/** @typedef {import("./chips.js").Dim} Dim */
/** @typedef {import("./chips.js").ChipElement} ChipElement */
/** @typedef {import("./token_block.js").TokenBlock} TokenBlock */
/** @typedef {import("./token_block.js").TokenTexts} TokenTexts */
/** @typedef {MessageGroups["groups"][number]} Group */
/** @typedef {Group["calls"][number]} Call */
/** @typedef {TokenBlock & {call: Call, texts: TokenTexts, headKey: string}} CallView */
/** @typedef {{element: HTMLElement, head: HTMLElement, calls: Map<string, CallView>}} GroupView */

/** Characters kept per text of an LLM call (pieces, text): the tail, when a stream outgrows it. */
export const MESSAGE_CHARS = 200_000;
/** Node and tag chips offered (the pressed ones always show). */
export const MAX_GRAPH_CHIPS = 24;

/**
 * The chips in `tools`, the token groups in `messages`.
 * @param {Context} ctx
 * @param {{tools: HTMLElement, messages: HTMLElement}} parts
 */
export function mountMessages(ctx, { tools, messages }) {
  const { h, store } = ctx;
  let groups = new MessageGroups();
  let scanned = 0;
  /** @type {string | null} */
  let filterKey = null;
  /** @type {((event: import("../filters.js").FilterEvent) => boolean) | null} */
  let keep = null;
  /** Group and call elements by group key. */
  /** @type {Map<string, GroupView>} */
  let groupViews = new Map();
  /** Node and tag values of every messages part (chips), with counts, and how far they are read. */
  /** @type {Record<"names" | "tags", Map<string, number>>} */
  const chipValues = { names: new Map(), tags: new Map() };
  let chipsScanned = 0;
  let chipsKey = "";
  const nodeChips = h("span", { class: "sv-chips", role: "group", "aria-label": "Nodes" });
  const tagChips = h("span", { class: "sv-chips", role: "group", "aria-label": "Tags" });
  const msgCount = h("span", { class: "sv-count sv-msg-count" });
  tools.appendChild(
    h("span", { class: "sv-fgroup", "data-dim": "names" }, h("span", { class: "sv-flabel" }, "Nodes"), nodeChips),
  );
  tools.appendChild(
    h("span", { class: "sv-fgroup", "data-dim": "tags" }, h("span", { class: "sv-flabel" }, "Tags"), tagChips),
  );
  tools.appendChild(msgCount);

  function resetGroups() {
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

  tools.addEventListener("click", (event) => {
    const chip = /** @type {ChipElement | null} */ (targetOf(event, ".sv-chip"));
    if (!chip || !tools.contains(chip) || !chip.svDim || chip.svValue === undefined) return;
    const filters = ctx.filters();
    ctx.setFilters(toggledValue(filters, chip.svDim, chip.svValue, modeOf(filters, chip.svDim)));
  });

  messages.addEventListener("click", (event) => {
    const head = targetOf(event, ".sv-msg-call-head");
    if (!head) return;
    const seq = Number(head.getAttribute("data-seq"));
    ctx.selectPart(seq === ctx.selectedPart() ? -1 : seq);
  });

  /** @param {import("../query.js").Filters} filters */
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
    for (const chip of /** @type {NodeListOf<ChipElement>} */ (tools.querySelectorAll(".sv-graph-chip"))) {
      const dim = /** @type {"names" | "tags"} */ (chip.svDim);
      const count = chipValues[dim].get(/** @type {string} */ (chip.svValue)) ?? 0;
      setText(/** @type {HTMLElement} */ (chip.lastChild), count.toLocaleString("en-US"));
    }
  }

  /** @param {import("../query.js").Filters} filters */
  function buildChips(filters) {
    for (const [dim, element] of /** @type {const} */ ([
      ["names", nodeChips],
      ["tags", tagChips],
    ])) {
      const counts = chipValues[dim];
      // First seen order (chips do not move when pressed); the pressed ones always show.
      const pressed = new Set([...filters[listKey("include", dim)], ...filters[listKey("exclude", dim)]]);
      /** @type {string[]} */
      const shown = [];
      for (const value of counts.keys()) {
        if (shown.length < MAX_GRAPH_CHIPS || pressed.has(value)) shown.push(value);
      }
      const mode = modeOf(filters, dim);
      replaceChildren(
        element,
        shown.map((value) =>
          valueChip(
            h,
            { filters, dim, value, mode, className: "sv-graph-chip", hint: " (shared with the filter bar)" },
            h("span", { class: "sv-kind-count" }, ""),
          ),
        ),
        counts.size > shown.length
          ? h("span", { class: "sv-more" }, `+${counts.size - shown.length} more (filter bar)`)
          : null,
        counts.size === 0 ? h("span", { class: "sv-hint" }, "none") : null,
      );
    }
  }

  /**
   * @param {Call} call
   * @returns {CallView}
   */
  function makeCall(call) {
    const block = tokenBlock(h, {
      tag: "div",
      attributes: { class: "sv-msg-call", "data-tags": call.tags.join(","), "data-mode": "messages" },
      head: h("div", { class: "sv-msg-call-head" }),
      pieces: h("div", { class: "sv-msg-pieces", dir: "auto", "aria-label": "Token pieces" }),
      text: h("div", { class: "sv-msg-text sv-part-text", dir: "auto", "aria-label": "Accumulated text" }),
      labels: ["pieces", "text"],
    });
    return { ...block, call, headKey: "", texts: tokenTexts(h, block, MESSAGE_CHARS) };
  }

  /** @param {CallView} view */
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
        ? call.tags.map((/** @type {string} */ tag) =>
            h("span", { class: "sv-badge sv-msg-tag", dir: "auto" }, cellText(tag, 60)),
          )
        : h("span", { class: "sv-badge sv-msg-tag" }, "no tags"),
      h("span", { class: "sv-token-chunks" }, plural(call.seqs.length, "token")),
      h("span", { class: "sv-token-first" }, `${formatDuration(first)} → ${formatDuration(last)}`),
    );
    view.head.setAttribute("data-seq", String(call.seqs[0]));
  }

  /**
   * @param {Group} group
   * @returns {GroupView}
   */
  function makeGroup(group) {
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
    return { element, head, calls: new Map() };
  }

  /** @param {import("../query.js").Filters} filters */
  function drawGroups(filters) {
    const key = JSON.stringify(filterSpec(filters));
    if (key !== filterKey) {
      filterKey = key;
      const spec = filterSpec(filters);
      keep = Object.keys(spec).length ? makeFilter(spec) : null;
      resetGroups();
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
        view = makeGroup(group);
        groupViews.set(group.key, view);
      }
      setText(/** @type {HTMLElement} */ (view.head.lastChild), plural(group.count, "token"));
      for (const call of group.calls) {
        let callView = view.calls.get(call.key);
        if (!callView) {
          callView = makeCall(call);
          view.calls.set(call.key, callView);
          view.element.appendChild(callView.element);
        }
        appendTokens(callView.texts, call.seqs.length, (n) => messageToken(store.cols.text[call.seqs[n]]));
        drawCallHead(callView);
      }
    }
    setText(msgCount, `${groups.count.toLocaleString("en-US")} of ${seqs.length.toLocaleString("en-US")} tokens`);
    const first = /** @type {Element | null} */ (messages.firstChild);
    if (!groups.groups.length) {
      replaceChildren(messages, h("div", { class: "sv-empty" }, "No token matches the filters."));
      groupViews = new Map();
    } else if (first && !first.classList.contains("sv-msg-group")) {
      messages.removeChild(first);
    }
  }

  return {
    /** Draw the chips and the tokens for the current filters (only what is new since the last). */
    draw() {
      const filters = ctx.filters();
      drawChips(filters);
      drawGroups(filters);
    },
    /**
     * Scroll the LLM call of token `k` into view.
     * @param {number} k
     */
    reveal(k) {
      const where = groups.where.get(k);
      if (!where) return;
      groupViews.get(where.group.key)?.calls.get(where.call.key)?.element.scrollIntoView?.({ block: "nearest" });
    },
    /**
     * Tokens got new texts (a retext): the LLM calls they belong to are drawn again.
     * @param {readonly number[]} seqs
     */
    retext(seqs) {
      /** @type {Map<CallView, GroupView>} */
      const stale = new Map();
      for (const k of seqs) {
        const where = groups.where.get(k);
        const group = where && groupViews.get(where.group.key);
        const view = where && group?.calls.get(where.call.key);
        if (group && view) stale.set(view, group);
      }
      for (const [old, group] of stale) {
        const view = makeCall(old.call);
        old.element.replaceWith(view.element);
        group.calls.set(old.call.key, view);
      }
    },
    /** A new snapshot: start over when the copy no longer holds what was drawn. */
    onSnapshot() {
      const held = store.partSeqs.get("messages")?.length ?? 0;
      if (scanned > held || chipsScanned > held) {
        resetGroups();
        resetChips();
      }
    },
  };
}

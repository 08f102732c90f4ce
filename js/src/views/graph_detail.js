// @ts-check
// The graph pane's detail: the picked part whole (its full payload when the kernel answers), or,
// in the `values` tab with nothing picked, the latest state of the root graph. A values, updates
// or checkpoints part shows what it changed (the kernel's diff) above the whole part.

import { cellText, cut, DETAIL_CHARS, ms, replaceChildren, setText, visible } from "../text.js";
import { parseJson, partInfo, prettyText } from "./graph_model.js";
import { partNs } from "./graph_parts.js";

/** @typedef {import("../context.js").Context} Context */
/** @typedef {{text: string, full: boolean, answered?: boolean}} Body */

/** How far back from the newest state the latest root state is looked for. */
const LATEST_LOOKBACK = 10_000;

/**
 * The detail pane in `detail` (an `aside`).
 * @param {Context} ctx
 * @param {HTMLElement} detail
 */
export function mountPartDetail(ctx, detail) {
  const { h, store } = ctx;
  const title = h("span", { class: "sv-details-title" });
  const close = h("button", { type: "button", class: "sv-button sv-close", "aria-label": "Close" }, "×");
  const fields = h("dl", { class: "sv-fields" });
  const note = h("div", { class: "sv-payload-note" });
  const body = h("pre", { class: "sv-graph-payload", dir: "auto" });
  const changeNote = h("div", { class: "sv-graph-change-note" }, "change");
  const change = h("pre", { class: "sv-graph-diff", dir: "auto" });
  const changeBox = h("div", { class: "sv-graph-change", hidden: true }, changeNote, change);
  detail.append(h("div", { class: "sv-details-head" }, title, close), fields, changeBox, note, body);
  close.addEventListener("click", () => ctx.selectPart(-1));
  let drawnKey = "";
  /** The latest state shown when no part is picked (its seq), or -1. */
  let latest = -1;

  /**
   * The part the detail shows: the picked one of this tab, else (values) the latest root state.
   * @param {string} active  the tab shown
   * @returns {{seq: number, latest: boolean} | null}
   */
  function shownPart(active) {
    const selected = ctx.selectedPart();
    if (selected >= 0 && selected < store.count && store.partMode(selected) === active)
      return { seq: selected, latest: false };
    if (active !== "values") return null;
    const seqs = store.partSeqs.get("values") ?? [];
    for (let n = seqs.length - 1; n >= 0 && n >= seqs.length - LATEST_LOOKBACK; n -= 1) {
      if (!store.eventNs(seqs[n])) return { seq: seqs[n], latest: true };
    }
    return seqs.length ? { seq: seqs[seqs.length - 1], latest: true } : null;
  }

  /**
   * The part's payload for reading: the kernel's full payload when it came, else its text.
   * @param {number} k
   * @param {string | null} mode
   * @returns {Body}
   */
  function partBody(k, mode) {
    const text = store.cols.text[k];
    if (mode === "messages") return { text: text.startsWith("[{") ? prettyText(text) : text, full: true };
    const parsed = parseJson(text);
    if (parsed !== undefined) return { text: JSON.stringify(parsed, null, 2), full: true };
    const answer = store.payloads.get(k);
    if (answer) {
      const chunk = parseJson(answer.text)?.data?.chunk;
      return {
        text: chunk === undefined ? answer.text : JSON.stringify(chunk, null, 2),
        full: !answer.truncated,
        answered: true,
      };
    }
    // Cut by the kernel: ask for the whole payload (no kernel, no answer: the text stays).
    store.requestPayload(k);
    return { text: prettyText(text), full: false };
  }

  /**
   * @param {string} label
   * @param {string} value
   * @param {string} [hint]  the title
   */
  const field = (label, value, hint) => [h("dt", null, label), h("dd", { dir: "auto", title: hint }, value)];

  /** @param {string} active  the tab shown */
  function draw(active) {
    const part = shownPart(active);
    latest = part?.latest ? part.seq : -1;
    if (!part) {
      detail.hidden = true;
      drawnKey = "";
      return;
    }
    const k = part.seq;
    const mode = store.partMode(k);
    const shown = partBody(k, mode);
    const key = `${k}\u0000${part.latest}\u0000${shown.answered === true}\u0000${store.textVersion}`;
    detail.hidden = false;
    if (key === drawnKey) return;
    drawnKey = key;
    detail.setAttribute("data-seq", String(k));
    close.hidden = part.latest;
    const ns = partNs(store, k);
    const info = mode === "messages" ? null : partInfo(mode ?? "", store.cols.text[k], store.extra.get(k)?.name ?? "");
    const tags = store.eventTags(k);
    setText(title, `${part.latest ? "Latest state" : cellText(mode, 40)} · part #${k}`);
    replaceChildren(
      fields,
      field("time", ms(store.cols.t[k], 3)),
      field(store.extra.get(k)?.name !== undefined ? "node" : "graph", cellText(store.eventName(k), 200)),
      field("namespace", cellText(ns.label, 300), ns.full),
      info && info.step !== "" ? field("step", cellText(info.step, 20)) : null,
      info && info.type !== "" ? field("type", cellText(info.type, 40)) : null,
      info && info.task !== ""
        ? field(mode === "checkpoints" || info.type === "checkpoint" ? "next" : "task", cellText(info.task, 200))
        : null,
      mode === "messages" || tags.length
        ? field("tags", tags.length ? tags.map((tag) => cellText(tag, 60)).join(", ") : "–")
        : null,
    );
    const extra = store.extra.get(k);
    changeBox.hidden = extra?.diff === undefined;
    setText(changeNote, extra?.note !== undefined ? `change · ⟲ ${cellText(extra.note, 200)}` : "change");
    change.textContent = extra?.diff === undefined ? "" : visible(cut(extra.diff, DETAIL_CHARS).text, true);
    const cutText = cut(shown.text, DETAIL_CHARS);
    body.textContent =
      visible(cutText.text, true) + (cutText.rest ? `\n… ${cutText.rest.toLocaleString("en-US")} more characters` : "");
    setText(
      note,
      shown.full
        ? mode === "messages"
          ? "token"
          : "payload"
        : shown.answered
          ? "payload (cut by the kernel)"
          : "preview (cut; the full payload shows here when the kernel answers)",
    );
  }

  return {
    draw,
    /** The latest state shown when no part is picked (its seq), or -1. */
    latest: () => latest,
    /**
     * A payload came: redraw if it is the one shown. Returns whether it is.
     * @param {number} seq
     */
    payloadCame(seq) {
      if (String(seq) !== detail.getAttribute("data-seq")) return false;
      drawnKey = "";
      return true;
    },
  };
}

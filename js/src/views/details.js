// @ts-check
// The details pane of the event table: every field of one event and its payload.
//
// The payload shows the event's preview `text` at once and asks the kernel for the full payload
// (`{type: "payload", seq}`); the answer replaces the preview when it comes. Without a kernel
// (exported HTML, a closed notebook) no answer comes and the preview stays.

import { cellText, cut, DETAIL_CHARS, ms, replaceChildren, targetOf, visible } from "../text.js";

/** The payload as display text: cut to DETAIL_CHARS, controls made visible. */
/** @typedef {import("../context.js").Context} Context */

/**
 * @param {string} text
 * @returns {{text: string, rest: number}}
 */
export function payloadText(text) {
  const part = cut(text, DETAIL_CHARS);
  return { text: visible(part.text, true), rest: part.rest };
}

/**
 * The details pane in `parent`; `show(k)` shows event `k` (-1: hides it).
 * @param {Context} ctx
 * @param {HTMLElement} parent
 * @param {{onClose: () => void}} options
 */
export function mountDetails(ctx, parent, { onClose }) {
  const { h, store } = ctx;
  const title = h("span", { class: "sv-details-title" });
  const close = h("button", { type: "button", class: "sv-button sv-close", "aria-label": "Close details" }, "×");
  const fields = h("dl", { class: "sv-fields" });
  const note = h("div", { class: "sv-payload-note" });
  const payload = h("pre", { class: "sv-payload", dir: "auto" });
  const more = h("div", { class: "sv-payload-more" });
  const actions = h("div", { class: "sv-details-actions" });
  const root = h(
    "aside",
    { class: "sv-details", "aria-label": "Event details", hidden: true },
    h("div", { class: "sv-details-head" }, title, close),
    fields,
    actions,
    h("div", { class: "sv-details-section" }, "Payload"),
    note,
    payload,
    more,
  );
  parent.appendChild(root);
  close.addEventListener("click", () => onClose());
  actions.addEventListener("click", (event) => {
    const button = targetOf(event, "button[data-action]");
    if (button?.getAttribute("data-action") !== "select-run") return;
    // The button shows only for an event of a known run.
    const run = shown >= 0 ? store.runs[store.cols.run[shown]] : undefined;
    if (run) ctx.selectRun(run.id);
  });

  /** The event shown (its index in the store), or -1. */
  let shown = -1;
  /** The event whose payload is shown (-1: none yet). */
  let payloadSeq = -1;
  /** The payload answer shown, or null for the preview. */
  /** @type {{text: string, truncated: boolean} | null} */
  let shownPayload = null;

  /**
   * @param {string} label
   * @param {string} value
   */
  function field(label, value) {
    return [h("dt", null, label), h("dd", { dir: "auto" }, value)];
  }

  /** @param {number} k */
  function show(k) {
    shown = k;
    shownPayload = null;
    if (k < 0 || k >= store.count) {
      root.hidden = true;
      return;
    }
    root.hidden = false;
    const seq = k;
    const r = store.cols.run[k];
    const run = store.runs[r];
    const tags = store.eventTags(k);
    title.textContent = `Event #${seq}`;
    replaceChildren(
      fields,
      field("seq", String(seq)),
      field("time", ms(store.cols.t[k], 3)),
      field("event", cellText(store.eventKind(k))),
      field("name", cellText(store.eventName(k))),
      field("type", cellText(store.eventTypeOf(k))),
      field("tags", tags.length ? tags.map((tag) => cellText(tag)).join(", ") : "–"),
      run ? field("run", `${cellText(run.name)} (${run.type}, ${run.status})`) : field("run", "– (no known run)"),
      run ? field("run id", cellText(run.id)) : null,
      run ? field("path", cellText(store.runPath(r), 1000)) : null,
      store.eventMode(k) !== null ? field("mode", cellText(store.eventMode(k))) : null,
      store.eventNs(k) !== null ? field("ns", cellText(store.eventNs(k))) : null,
      run?.error ? field("error", cellText(run.error, 2000)) : null,
    );
    replaceChildren(actions);
    if (run) {
      actions.appendChild(
        h("button", { type: "button", class: "sv-button", "data-action": "select-run" }, "Show this run only"),
      );
    }
    store.requestPayload(seq);
    refreshPayload();
  }

  function refreshPayload() {
    if (shown < 0) return;
    const seq = shown;
    const answer = store.payloads.get(seq) ?? null;
    if (answer === shownPayload && payloadSeq === seq) return;
    shownPayload = answer;
    payloadSeq = seq;
    const source = answer ? answer.text : store.cols.text[shown];
    const { text, rest } = payloadText(source);
    payload.textContent = text;
    more.textContent = rest ? `… ${rest.toLocaleString("en-US")} more characters` : "";
    if (answer) note.textContent = answer.truncated ? "Full payload (cut by the kernel)" : "Full payload";
    else note.textContent = "Preview (the full payload shows here when the kernel answers)";
  }

  return {
    root,
    show,
    refreshPayload,
    get shown() {
      return shown;
    },
  };
}

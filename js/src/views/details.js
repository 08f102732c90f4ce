// @ts-check
// The details pane of the event table: every field of one event and its payload.
//
// The whole payload comes from the snapshot when the trace has finished (`payloads`: what a saved
// notebook or an exported page carries), else from the kernel (`{type: "payload", seq}`, answered
// when the kernel is free); until then the event's preview `text` shows. A payload is shown as
// LangChain prints it (`AIMessageChunk(content='Why', ...)`, views/payload.js) or, with the
// "raw JSON" toggle, as plain indented JSON; neither shows streamviz's `__sv__` markers.

import { cellText, cut, DETAIL_CHARS, ms, replaceChildren, targetOf, visible } from "../text.js";
import { payloadViews } from "./payload.js";
import { answerText, callLine } from "./toolcalls.js";

/** Characters of a payload saved in the snapshot (streamviz/widgets/_encode.py SAVED_PAYLOAD_CHARS). */
export const SAVED_PAYLOAD_CHARS = 20_000;

/**
 * The payload of event `seq` saved in the snapshot (a finished trace), or null.
 * @param {unknown} snapshot
 * @param {number} seq
 * @returns {string | null}
 */
export function savedPayload(snapshot, seq) {
  if (typeof snapshot !== "object" || snapshot === null) return null;
  const payloads = /** @type {{payloads?: unknown}} */ (snapshot).payloads;
  if (typeof payloads !== "object" || payloads === null) return null;
  const text = /** @type {Record<string, unknown>} */ (payloads)[String(seq)];
  return typeof text === "string" ? text : null;
}

/** @param {unknown} snapshot  true when it carries saved payloads (a finished trace) */
function savesPayloads(snapshot) {
  if (typeof snapshot !== "object" || snapshot === null) return false;
  const payloads = /** @type {{payloads?: unknown}} */ (snapshot).payloads;
  return typeof payloads === "object" && payloads !== null && Object.keys(payloads).length > 0;
}

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
  const mode = h(
    "button",
    { type: "button", class: "sv-button sv-payload-mode", "aria-pressed": "false", hidden: true },
    "raw JSON",
  );
  const payload = h("pre", { class: "sv-payload", dir: "auto" });
  const more = h("div", { class: "sv-payload-more" });
  const actions = h("div", { class: "sv-details-actions" });
  const root = h(
    "aside",
    { class: "sv-details", "aria-label": "Event details", hidden: true },
    h("div", { class: "sv-details-head" }, title, close),
    fields,
    actions,
    h("div", { class: "sv-details-section" }, h("span", null, "Payload"), mode),
    note,
    payload,
    more,
  );
  parent.appendChild(root);
  close.addEventListener("click", () => onClose());
  /** Show payloads as plain JSON instead of Python-like text (kept from one event to the next). */
  let raw = false;
  mode.addEventListener("click", () => {
    raw = !raw;
    mode.setAttribute("aria-pressed", raw ? "true" : "false");
    payloadSeq = -1;
    refreshPayload();
  });
  actions.addEventListener("click", (event) => {
    const button = targetOf(event, "button[data-action]");
    if (button?.getAttribute("data-action") !== "select-run") return;
    // The button shows only for an event of a known run (or names a linked run: a tool call's).
    const linked = button.getAttribute("data-run");
    const index = linked !== null ? Number(linked) : shown >= 0 ? store.cols.run[shown] : -1;
    const run = store.runs[index];
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
    payloadSeq = -1;
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
      run?.calls
        ? [
            h("dt", null, "tool calls"),
            ...run.calls.map((call) => h("dd", { class: "sv-details-call", dir: "auto" }, callLine(call, store.runs))),
          ]
        : null,
      run?.call ? field("tool call", answerText(run, store.runs) ?? "") : null,
    );
    replaceChildren(actions);
    if (run) {
      actions.appendChild(
        h("button", { type: "button", class: "sv-button", "data-action": "select-run" }, "Show this run only"),
      );
      // A call and the run that answered it link to each other.
      for (const call of run.calls ?? []) {
        const tool = store.runs[call.tool];
        if (call.tool < 0 || !tool) continue;
        const label = `Show ${cellText(tool.name, 60)} (${cellText(call.id ?? "", 60)})`;
        actions.appendChild(
          h(
            "button",
            { type: "button", class: "sv-button", "data-action": "select-run", "data-run": String(call.tool) },
            label,
          ),
        );
      }
      const asker = run.call !== null ? store.runs[run.call.by] : undefined;
      if (run.call !== null && asker) {
        const label = `Show ${cellText(asker.name, 60)} (asked for it)`;
        actions.appendChild(
          h(
            "button",
            { type: "button", class: "sv-button", "data-action": "select-run", "data-run": String(run.call.by) },
            label,
          ),
        );
      }
    }
    // A finished trace carries its payloads (not its stream chunks'); else the kernel is asked.
    const saved = savedPayload(ctx.model.get("snapshot"), seq);
    if (saved === null || saved.length >= SAVED_PAYLOAD_CHARS) store.requestPayload(seq);
    refreshPayload();
  }

  function refreshPayload() {
    if (shown < 0) return;
    const seq = shown;
    const answer = store.payloads.get(seq) ?? null;
    if (answer === shownPayload && payloadSeq === seq) return;
    shownPayload = answer;
    payloadSeq = seq;
    const snapshot = ctx.model.get("snapshot");
    const saved = answer ? null : savedPayload(snapshot, seq);
    const whole = answer ? answer.text : saved;
    const views = whole === null ? null : payloadViews(whole);
    mode.hidden = views === null;
    const source = views ? (raw ? views.json : views.repr) : (whole ?? store.cols.text[shown]);
    const { text, rest } = payloadText(source);
    payload.textContent = text;
    more.textContent = rest ? `… ${rest.toLocaleString("en-US")} more characters` : "";
    const stream = store.kindInfo[store.cols.kind[seq]]?.stream === true;
    if (answer) {
      note.textContent = answer.truncated ? "Full payload (cut by the kernel)" : "Full payload";
    } else if (saved !== null) {
      note.textContent =
        saved.length >= SAVED_PAYLOAD_CHARS
          ? `Payload saved with the trace, cut at ${SAVED_PAYLOAD_CHARS.toLocaleString("en-US")} characters`
          : "Full payload";
    } else if (stream) {
      note.textContent = "The chunk as text (a running kernel sends the whole chunk object)";
    } else if (!ctx.live() && savesPayloads(snapshot)) {
      note.textContent = "Preview: this payload was not saved with the trace (past the size budget)";
    } else {
      note.textContent = "Preview: the whole payload is asked of the kernel (a running cell answers when it ends)";
    }
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

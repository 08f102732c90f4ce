// @ts-check
// A token block: a head, then a stream's pieces (`Why| did| the| par|rot`) and its accumulated
// text, each under its label. The token stream (views/tokens.js, one block per streaming run) and
// the graph pane's `messages` tab (views/graph_messages.js, one per LLM call) draw the same block.
//
// Both texts only grow (longtext.js): a frame appends to the last small block of each, so a fast
// stream costs one small DOM write and layout per text per frame. Past `cap` characters the oldest
// go, and a note above the text says how many.

import { visible } from "../text.js";
import { longText } from "./longtext.js";

/** @typedef {import("../text.js").H} H */

/**
 * @typedef {object} TokenBlock
 * @property {HTMLElement} element
 * @property {HTMLElement} head
 * @property {HTMLElement} pieces    the first text's element
 * @property {HTMLElement} text      the second text's element
 * @property {HTMLElement} note      what was left out of `pieces`
 * @property {HTMLElement} textNote  what was left out of `text`
 */

/**
 * @typedef {object} TokenTexts  the two append-only texts of a text block
 * @property {ReturnType<typeof longText>} pieces
 * @property {ReturnType<typeof longText>} text
 * @property {number} done  tokens appended so far
 */

/**
 * Show in `note` how many of the oldest characters are no longer shown.
 * @param {HTMLElement} note
 * @param {number} count
 */
export function showDropped(note, count) {
  note.hidden = false;
  note.textContent = `… ${count.toLocaleString("en-US")} earlier characters not shown`;
}

/**
 * The block's elements: `head`, then under `labels[0]` the `pieces` element and under `labels[1]`
 * the `text` element (both made by the caller: a list of JSON chunks is not a text).
 * @param {H} h
 * @param {{tag: "div" | "section", attributes: Record<string, unknown>, head: HTMLElement, pieces: HTMLElement, text: HTMLElement, labels: [string, string]}} parts
 * @returns {TokenBlock}
 */
export function tokenBlock(h, { tag, attributes, head, pieces, text, labels }) {
  const note = h("div", { class: "sv-token-note", hidden: true });
  const textNote = h("div", { class: "sv-token-note", hidden: true });
  const element = h(
    tag,
    attributes,
    head,
    h("div", { class: "sv-token-label" }, labels[0]),
    note,
    pieces,
    h("div", { class: "sv-token-label" }, labels[1]),
    textNote,
    text,
  );
  return { element, head, pieces, text, note, textNote };
}

/**
 * The pieces and the text of `block` as append-only texts, each keeping its last `cap` characters.
 * @param {H} h
 * @param {TokenBlock} block
 * @param {number} cap
 * @returns {TokenTexts}
 */
export function tokenTexts(h, block, cap) {
  return {
    pieces: longText(h, block.pieces, { cap, onDrop: (n) => showDropped(block.note, n) }),
    text: longText(h, block.text, { cap, onDrop: (n) => showDropped(block.textNote, n) }),
    done: 0,
  };
}

/**
 * Append tokens `texts.done..count-1` (`tokenAt(n)`: the n-th token's text): to the pieces
 * `|`-separated, to the text as they are, both with control characters made visible.
 * @param {TokenTexts} texts
 * @param {number} count
 * @param {(n: number) => string} tokenAt
 */
export function appendTokens(texts, count, tokenAt) {
  if (texts.done >= count) return;
  let pieces = "";
  let text = "";
  for (let n = texts.done; n < count; n += 1) {
    const piece = visible(tokenAt(n), true);
    pieces += n === 0 ? piece : `|${piece}`;
    text += piece;
  }
  texts.pieces.append(pieces);
  texts.text.append(text);
  texts.done = count;
}

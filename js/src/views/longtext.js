// @ts-check
// A text that only grows (a run's token pieces, its accumulated text), kept cheap to show live
// however long it gets.
//
// A browser lays a text node out as a whole: appending 500 characters to a text node that holds
// 100,000 costs a layout of all 100,000 (~50 ms in Chromium, at every animation frame of a fast
// stream). So the text is a column of block elements: the last block grows; once it holds
// BLOCK_CHARS it is sealed and a new one starts. Sealed blocks never change, their layout stays
// cached, and a frame lays out one small block whatever the length of the text.
//
// - A block is sealed at a line break, which then goes into a hidden element at the block's end:
//   the blocks render line for line like the single text would, and `textContent` and
//   `innerText` read the same characters. A text with no line break in MAX_BLOCK_CHARS is cut
//   after a space (or anywhere, as a last resort); there, and only there, the line ends early.
// - At most `cap` characters are kept: the oldest blocks go, and `onDrop(n)` is told how many
//   characters are not shown in all.
// - Text only, through `h` (text.js): data never becomes markup.

/** A block is sealed once it holds this many characters, at its last line break. */
export const BLOCK_CHARS = 2048;
/** A block with no line break is cut (after a space) when it reaches this many characters. */
export const MAX_BLOCK_CHARS = 8192;

const NEWLINE = 0x0a;

/** @param {number} code */
function isHighSurrogate(code) {
  return code >= 0xd800 && code <= 0xdbff;
}

/** @param {number} code */
function isLowSurrogate(code) {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Where to seal a block holding `data`: `{end, newline}` (the block keeps `data[0:end]`; with
 * `newline` the character at `end` is a line break that ends the block, and the next block starts
 * after it), or null to wait for more text (a line break may still come).
 * @param {string} data
 * @param {number} [block]
 * @param {number} [max]
 * @returns {{end: number, newline: boolean} | null}
 */
export function cutPoint(data, block = BLOCK_CHARS, max = MAX_BLOCK_CHARS) {
  if (data.length < block) return null;
  // The last line break before `max`; within a run of them, the first (a block that ended with a
  // line break would not show it: the empty line would be lost).
  let at = data.lastIndexOf("\n", Math.min(data.length, max) - 1);
  while (at > 0 && data.charCodeAt(at - 1) === NEWLINE) at -= 1;
  if (at > 0) return { end: at, newline: true };
  if (data.length < max) return null;
  const space = Math.max(data.lastIndexOf(" ", max - 1), data.lastIndexOf("\t", max - 1));
  if (space >= block - 1) return { end: space + 1, newline: false };
  return { end: isHighSurrogate(data.charCodeAt(max - 1)) ? max - 1 : max, newline: false };
}

/**
 * An append-only text in `element` (whose own style says how it wraps, e.g. `pre-wrap`).
 * Returns `{append(text), length, dropped}`.
 * @param {import("../text.js").H} h
 * @param {HTMLElement} element
 * @param {{cap: number, onDrop?: (dropped: number) => void}} options
 */
export function longText(h, element, { cap, onDrop = () => {} }) {
  /** Blocks in order; `size` counts a hidden line break. The last grows. */
  /** @type {Array<{element: HTMLElement, node: Text, size: number}>} */
  let blocks = [];
  /** Characters held (with the hidden line breaks) and characters dropped from the front. */
  let total = 0;
  let dropped = 0;

  /** @typedef {{element: HTMLElement, node: Text, size: number}} Block */

  /**
   * @param {string} text
   * @returns {Block}
   */
  function addBlock(text) {
    const node = element.ownerDocument.createTextNode(text);
    const div = h("div", { class: "sv-text-block" }, node);
    element.appendChild(div);
    const block = { element: div, node, size: text.length };
    blocks.push(block);
    return block;
  }

  /**
   * End `block` with `text` and, with `newline`, the line break that follows it.
   * @param {Block} block
   * @param {string} text
   * @param {boolean} newline
   */
  function seal(block, text, newline) {
    if (block.node.data !== text) block.node.data = text;
    block.size = text.length;
    if (newline) {
      block.element.appendChild(h("span", { class: "sv-text-break", hidden: true }, "\n"));
      block.size += 1;
    }
  }

  /** @param {number} count */
  function drop(count) {
    dropped += count;
    onDrop(dropped);
  }

  function dropOldest() {
    let count = 0;
    while (total > cap && blocks.length > 1) {
      const first = /** @type {Block} */ (blocks.shift());
      first.element.remove();
      total -= first.size;
      count += first.size;
    }
    if (count) drop(count);
  }

  /** @param {string} text */
  function append(text) {
    if (!text) return;
    let data = String(text);
    if (data.length > cap) {
      // More than can be kept at once (a 1 MB token): only its tail is shown.
      let start = data.length - cap;
      if (isLowSurrogate(data.charCodeAt(start))) start += 1;
      for (const block of blocks) block.element.remove();
      blocks = [];
      drop(total + start);
      total = 0;
      data = data.slice(start);
    }
    total += data.length;
    const live = blocks[blocks.length - 1] ?? addBlock("");
    let rest = live.node.data + data;
    let cut = cutPoint(rest);
    if (!cut) {
      // The common case: the last block grows.
      live.node.appendData(data);
      live.size += data.length;
    } else {
      let block = live;
      while (cut) {
        seal(block, rest.slice(0, cut.end), cut.newline);
        rest = rest.slice(cut.end + (cut.newline ? 1 : 0));
        cut = cutPoint(rest);
        block = addBlock(cut ? "" : rest);
      }
    }
    dropOldest();
  }

  return {
    append,
    /** Characters shown (line breaks that end a block included). */
    get length() {
      return total;
    },
    /** Characters no longer shown (the oldest). */
    get dropped() {
      return dropped;
    },
  };
}

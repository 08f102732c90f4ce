// @ts-check
// Runs in tree order: parents before children, siblings in run order, each with its depth. The
// store caches it per tree structure; the run tree, the timeline and the token blocks follow it.

import { listAt } from "./sorted.js";

/** @typedef {{rows: number[], depth: number[]}} TreeOrder */

/**
 * Runs in tree order: `{rows, depth}` where `rows` lists run indexes (each root, then its
 * subtree) and `depth[n]` is the depth of `rows[n]`. A run whose parent is unknown is a root.
 * `children` may be omitted; it is then derived from the rows' `parent`.
 * @param {ReadonlyArray<{parent: number} | undefined>} runs  by index (holes for unknown runs)
 * @param {ReadonlyArray<number[] | undefined> | null} [children]  per run, its children, ascending
 * @returns {TreeOrder}
 */
export function treeRows(runs, children = null) {
  const kids = children ?? childrenOf(runs);
  /** @type {number[]} */
  const rows = [];
  /** @type {number[]} */
  const depth = [];
  const seen = new Uint8Array(runs.length);
  /** Pairs (run, depth) still to visit; the next is on top. */
  /** @type {number[]} */
  const stack = [];
  for (let root = runs.length - 1; root >= 0; root -= 1) {
    const run = runs[root];
    if (!run) continue;
    if (run.parent < 0 || run.parent === root || !runs[run.parent]) stack.push(root, 0);
  }
  const visit = () => {
    while (stack.length) {
      const level = /** @type {number} */ (stack.pop());
      const i = /** @type {number} */ (stack.pop());
      if (seen[i]) continue;
      seen[i] = 1;
      rows.push(i);
      depth.push(level);
      const below = kids[i];
      if (below) for (let n = below.length - 1; n >= 0; n -= 1) if (runs[below[n]]) stack.push(below[n], level + 1);
    }
  };
  visit();
  // Runs caught in a parent cycle have no root above them: show them as roots rather than drop them.
  for (let i = 0; i < runs.length; i += 1) {
    if (runs[i] && !seen[i]) {
      stack.push(i, 0);
      visit();
    }
  }
  return { rows, depth };
}

/**
 * Per run, its children in run order, from the runs' `parent`.
 * @param {ReadonlyArray<{parent: number} | undefined>} runs
 * @returns {number[][]}
 */
function childrenOf(runs) {
  /** @type {number[][]} */
  const kids = [];
  runs.forEach((run, i) => {
    if (run && run.parent >= 0 && run.parent !== i) listAt(kids, run.parent).push(i);
  });
  return kids;
}

// @ts-check
// Binary search over ascending arrays of numbers (event indexes, times, run indexes): the one
// implementation every module uses.

/**
 * @typedef {ArrayLike<number>} Sorted  an ascending array (or typed array) of numbers
 */

/**
 * The first index of `sorted` whose value is >= `value` (`sorted.length` when there is none).
 * @param {Sorted} sorted
 * @param {number} value
 * @returns {number}
 */
export function lowerBound(sorted, value) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The first index of `sorted` whose value is > `value` (`sorted.length` when there is none).
 * @param {Sorted} sorted
 * @param {number} value
 * @returns {number}
 */
export function upperBound(sorted, value) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Where `value` is in `sorted` (its first occurrence), or -1.
 * @param {Sorted} sorted
 * @param {number} value
 * @returns {number}
 */
export function indexOfSorted(sorted, value) {
  const at = lowerBound(sorted, value);
  return at < sorted.length && sorted[at] === value ? at : -1;
}

/**
 * Insert `value` into the ascending array `list` unless it holds it already.
 * @param {number[]} list
 * @param {number} value
 */
export function insertSorted(list, value) {
  const at = lowerBound(list, value);
  if (list[at] !== value) list.splice(at, 0, value);
}

/**
 * The largest `n` in `[low, high]` for which `fits(n)` holds, given that it holds for `low` and
 * that once it fails it fails for every larger `n` (e.g. how many characters of a label fit).
 * @param {number} low
 * @param {number} high
 * @param {(n: number) => boolean} fits
 * @returns {number}
 */
export function lastFitting(low, high, fits) {
  let lo = low;
  let hi = high;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The list at `index` of `lists`, made empty there first if there is none yet.
 * @template T
 * @param {T[][]} lists
 * @param {number} index
 * @returns {T[]}
 */
export function listAt(lists, index) {
  let list = lists[index];
  if (list === undefined) {
    list = [];
    lists[index] = list;
  }
  return list;
}

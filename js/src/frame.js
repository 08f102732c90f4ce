// @ts-check
// Coalesced rendering and debounced saves.
//
// A stream of 10,000 tokens/s reaches the store as many small deltas; views must not redo their DOM
// work for each one. A view asks `frame.request()` as often as it likes and draws once in the next
// animation frame (setTimeout where there is no requestAnimationFrame, e.g. a hidden iframe or a
// test without a clock).

const FALLBACK_FRAME_MS = 16;

/**
 * @typedef {object} Frame
 * @property {() => void} request  draw in the next frame (once)
 * @property {() => void} now      draw now and drop a pending frame
 * @property {() => void} cancel
 * @property {() => void} stop     never draw again
 */

/**
 * Call `draw` at most once per animation frame of `win`, however often `request()` is called.
 * @param {(Window & typeof globalThis) | null | undefined} win
 * @param {() => void} draw
 * @returns {Frame}
 */
export function frameScheduler(win, draw) {
  const raf = win && typeof win.requestAnimationFrame === "function" ? win : null;
  /** @type {number | ReturnType<typeof setTimeout> | null} */
  let handle = null;
  let usedTimeout = false;
  let stopped = false;
  const run = () => {
    handle = null;
    if (!stopped) draw();
  };
  return {
    /** Draw in the next frame (once). */
    request() {
      if (handle !== null || stopped) return;
      if (raf !== null) {
        usedTimeout = false;
        handle = raf.requestAnimationFrame(run);
      } else {
        usedTimeout = true;
        handle = setTimeout(run, FALLBACK_FRAME_MS);
      }
    },
    /** Draw now and drop a pending frame. */
    now() {
      this.cancel();
      if (!stopped) draw();
    },
    cancel() {
      if (handle === null) return;
      if (usedTimeout) clearTimeout(/** @type {ReturnType<typeof setTimeout>} */ (handle));
      else raf?.cancelAnimationFrame?.(/** @type {number} */ (handle));
      handle = null;
    },
    stop() {
      this.cancel();
      stopped = true;
    },
  };
}

/**
 * `fn` called `delayMs` after the last call; `.flush()` runs a pending call now.
 * @param {() => void} fn
 * @param {number} delayMs
 * @returns {(() => void) & {flush: () => void, cancel: () => void}}
 */
export function debounce(fn, delayMs) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  const debounced = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, delayMs);
  };
  debounced.flush = () => {
    if (timer === null) return;
    clearTimeout(timer);
    timer = null;
    fn();
  };
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

// @ts-check
// A virtual list: fixed-height rows, only the visible ones (plus a small overscan) in the DOM.
//
// The scroller holds one spacer as tall as all the rows; row elements are absolutely placed in it
// and recycled as the list scrolls, so 100,000 rows cost a few dozen elements. The owner says how
// many rows there are and fills a row element for an index; it calls `update()` from its frame.

/** Rows drawn above and below the visible ones, so a fast scroll shows no gap. */
export const OVERSCAN_ROWS = 8;
/** Viewport height assumed when the page has no layout (a hidden tab, a DOM without layout). */
const FALLBACK_VIEWPORT_PX = 400;
/** Browsers cap element heights (~33M px in Chromium): past this the spacer stops growing. */
const MAX_SPACER_PX = 30_000_000;

/**
 * @param {object} options
 * @param {HTMLElement} options.scroller  element with `overflow: auto`
 * @param {number} options.rowHeight      px
 * @param {() => HTMLElement} options.createRow
 * @param {(row: HTMLElement, index: number) => void} options.fillRow
 * @param {() => number} [options.viewportHeight]  fallback when the scroller has no layout
 * @param {() => void} options.onScroll   called on scroll (the owner requests a frame)
 */
export function virtualList({ scroller, rowHeight, createRow, fillRow, viewportHeight, onScroll }) {
  const doc = scroller.ownerDocument;
  const spacer = doc.createElement("div");
  spacer.className = "sv-vspacer";
  scroller.appendChild(spacer);
  /** Row elements in use, in order (each knows the index it shows). */
  /** @type {Array<HTMLElement & {svIndex?: number}>} */
  const pool = [];
  let count = 0;

  const height = () => scroller.clientHeight || (viewportHeight ? viewportHeight() : 0) || FALLBACK_VIEWPORT_PX;

  const listener = () => onScroll();
  scroller.addEventListener("scroll", listener, { passive: true });

  return {
    spacer,
    get count() {
      return count;
    },
    /** Which rows are visible: `[first, last)`, with the overscan. */
    range() {
      const top = scroller.scrollTop;
      const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN_ROWS);
      const last = Math.min(count, Math.ceil((top + height()) / rowHeight) + OVERSCAN_ROWS);
      return [first, Math.max(first, last)];
    },
    /**
     * Render for `total` rows; `force` moves rows whose index did not change too.
     * @param {number} total
     * @param {boolean} [force]
     */
    update(total, force = false) {
      count = total;
      spacer.style.height = `${Math.min(total * rowHeight, MAX_SPACER_PX)}px`;
      const [first, last] = this.range();
      const needed = last - first;
      while (pool.length < needed) {
        const row = createRow();
        row.style.position = "absolute";
        row.style.left = "0";
        row.style.right = "0";
        row.style.height = `${rowHeight}px`;
        spacer.appendChild(row);
        pool.push(row);
      }
      while (pool.length > needed) {
        const row = pool.pop();
        if (row) spacer.removeChild(row);
      }
      for (let n = 0; n < needed; n += 1) {
        const row = pool[n];
        const index = first + n;
        if (force || row.svIndex !== index) {
          row.svIndex = index;
          row.style.transform = `translateY(${index * rowHeight}px)`;
        }
        // Filled every time: the owner refreshes what changes without the index (the selection).
        fillRow(row, index);
      }
    },
    rows() {
      return pool;
    },
    /** True when the last row is in view (a live list then keeps following the tail). */
    atEnd() {
      return scroller.scrollTop + height() >= Math.min(count * rowHeight, MAX_SPACER_PX) - rowHeight / 2;
    },
    /** Scroll so that the last row is the last one in view (past the end: the browser clamps). */
    scrollToEnd() {
      // With a layout, the browser's own height (a horizontal scrollbar, borders) decides the end.
      const top = scroller.clientHeight
        ? scroller.scrollHeight
        : Math.max(0, Math.min(count * rowHeight, MAX_SPACER_PX) - height());
      scroller.scrollTop = top;
    },
    /**
     * Scroll just enough for row `index` to be in view.
     * @param {number} index
     */
    reveal(index) {
      const top = index * rowHeight;
      const view = height();
      if (top < scroller.scrollTop) scroller.scrollTop = top;
      else if (top + rowHeight > scroller.scrollTop + view) scroller.scrollTop = top + rowHeight - view;
    },
    destroy() {
      scroller.removeEventListener("scroll", listener);
    },
  };
}

// @ts-check
// Token usage, cost and detached-run flags as text: the run tree, timeline tooltips and the
// dashboard header read them here so they say the same thing (streamviz/usage.py's wording).

/** @typedef {import("./protocol.js").RunRow} RunRow */
/** @typedef {import("./protocol.js").RunUsage} RunUsage */
/** @typedef {import("./protocol.js").DetachedFlag} DetachedFlag */

const COUNT = new Intl.NumberFormat("en-US");

/**
 * `1,234`.
 * @param {number} value
 */
function count(value) {
  return COUNT.format(value);
}

/**
 * `$0.0123`, `$0.0123 + unknown` (some model calls have no price), `cost unknown` (none has).
 * @param {RunUsage} usage
 * @returns {string}
 */
export function costText(usage) {
  const cost = usage.cost;
  if (cost === null) return "cost unknown";
  const dollars = cost >= 1 ? `$${cost.toFixed(2)}` : cost >= 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(6)}`;
  return usage.unpriced ? `${dollars} + unknown` : dollars;
}

/**
 * `120 in · 45 out tokens (cache read 100, reasoning 10)  $0.0004`: the cost only when a price
 * table is in use (without one it is not unknown: nobody asked).
 * @param {RunUsage} usage
 * @returns {string}
 */
export function usageText(usage) {
  let text = `${count(usage.in)} in · ${count(usage.out)} out tokens`;
  /** @type {[string, number][]} */
  const parts = [
    ["cache read", usage.cache_read],
    ["cache write", usage.cache_write],
    ["reasoning", usage.reasoning],
  ];
  const details = parts.filter(([, value]) => value > 0).map(([label, value]) => `${label} ${count(value)}`);
  if (details.length) text += ` (${details.join(", ")})`;
  if (usage.priced || usage.cost !== null) text += `  ${costText(usage)}`;
  return text;
}

/**
 * The short form of a tree row: `165 tok · $0.0004`.
 * @param {RunUsage} usage
 * @returns {string}
 */
export function shortUsage(usage) {
  const text = `${count(usage.total)} tok`;
  return usage.priced || usage.cost !== null ? `${text} · ${costText(usage)}` : text;
}

/**
 * The trace's usage: the sum of its roots' (each model run is below exactly one root), or null
 * when no run has any.
 * @param {ReadonlyArray<RunRow | undefined>} runs
 * @returns {RunUsage | null}
 */
export function traceUsage(runs) {
  /** @type {RunUsage | null} */
  let total = null;
  for (const run of runs) {
    if (!run || run.parent !== -1 || !run.usage) continue;
    const usage = run.usage;
    if (total === null) {
      total = { ...usage, model: null };
      continue;
    }
    total.in += usage.in;
    total.out += usage.out;
    total.total += usage.total;
    total.cache_read += usage.cache_read;
    total.cache_write += usage.cache_write;
    total.reasoning += usage.reasoning;
    total.calls += usage.calls;
    total.unpriced += usage.unpriced;
    total.priced = total.priced || usage.priced;
    if (usage.cost !== null) total.cost = (total.cost ?? 0) + usage.cost;
  }
  return total;
}

/**
 * `possibly detached: callbacks not propagated (likely inside bad_tool)`.
 * @param {DetachedFlag} flag
 * @returns {string}
 */
export function detachedText(flag) {
  return flag.name ? `${flag.text} (likely inside ${flag.name})` : flag.text;
}

/**
 * The tooltip lines of a detached run: what, where it likely belongs, and the fix.
 * @param {DetachedFlag} flag
 * @returns {string[]}
 */
export function detachedLines(flag) {
  return [detachedText(flag), ...(flag.fix ? [`fix: ${flag.fix}`] : [])];
}

// @ts-check
// Tool calls as people read them: a model run's calls one by one as `name(args)`, and the link
// between a call and the tool run that answered it (both ways). Pure text helpers; the tree and
// the details pane draw them (as text only).

import { cellText } from "../text.js";

/** @typedef {import("../protocol.js").RunRow} RunRow */
/** @typedef {import("../protocol.js").ToolCall} ToolCall */

/**
 * One call as `name(args)`, cut to `limit` characters (its name `?` until it streamed).
 * @param {ToolCall} call
 * @param {number} limit
 * @returns {string}
 */
export function callText(call, limit) {
  return cellText(`${call.name ?? "?"}(${call.args})`, limit);
}

/**
 * The tooltip line of one call: `name(args) · id call_1 · answered by get_weather` (or `streaming`).
 * @param {ToolCall} call
 * @param {ReadonlyArray<RunRow | undefined>} runs  the trace's runs, by index
 * @returns {string}
 */
export function callLine(call, runs) {
  const parts = [`tool call ${callText(call, 2000)}`];
  if (call.id !== null) parts.push(`id ${cellText(call.id, 200)}`);
  const tool = call.tool >= 0 ? runs[call.tool] : undefined;
  if (tool) parts.push(`answered by ${cellText(tool.name, 120)}`);
  else if (!call.done) parts.push("streaming");
  return parts.join(" · ");
}

/**
 * What a tool run says of the call it answered: `answers call_1 of DemoToolModel`, or null.
 * @param {RunRow} run
 * @param {ReadonlyArray<RunRow | undefined>} runs
 * @returns {string | null}
 */
export function answerText(run, runs) {
  if (run.call === null) return null;
  const model = run.call.by >= 0 ? runs[run.call.by] : undefined;
  const id = cellText(run.call.id ?? `#${run.call.n}`, 200);
  return model ? `answers ${id} of ${cellText(model.name, 120)}` : `answers ${id}`;
}

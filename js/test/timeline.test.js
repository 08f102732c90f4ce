// The Gantt timeline: its pure geometry, and the canvas view without a 2D context.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeRun } from "../src/protocol.js";
import { treeRows } from "../src/tree_order.js";
import {
  AXIS_HEIGHT_PX,
  barSpan,
  binTicks,
  fitRange,
  heldLabel,
  heldSpan,
  LABEL_WIDTH_PX,
  niceStep,
  niceTicks,
  ROW_HEIGHT_PX,
  rowAt,
  runSummary,
  scale,
  tickLabel,
  typeColor,
  visibleRows,
  zoomRange,
} from "../src/views/timeline_model.js";
import { bigTrace, click, fixture, mount } from "./support/env.js";

const run = (fields) => normalizeRun({ i: 0, id: "r", name: "r", type: "chain", parent: -1, ...fields });

test("scale maps times to pixels and back", () => {
  const x = scale(100, 300, 200, 600);
  assert.equal(x.k, 2);
  assert.equal(x.x(100), 200);
  assert.equal(x.x(250), 500);
  assert.equal(x.t(400), 200);
  assert.equal(scale(5, 5, 0, 10).k, 10, "an empty span does not divide by zero");
});

test("nice ticks are 1, 2, 5 × 10^n and cover the range", () => {
  assert.equal(niceStep(1000, 10), 100);
  assert.equal(niceStep(1834.5, 8), 500);
  assert.equal(niceStep(0.37, 5), 0.1);
  assert.equal(niceStep(7, 8), 1);
  assert.deepEqual(niceTicks(0, 1834.5, 8), { step: 500, values: [0, 500, 1000, 1500] });
  assert.deepEqual(niceTicks(0.12, 0.5, 4).values, [0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(niceTicks(-3, 3, 3).values, [-2, 0, 2]);
  assert.equal(tickLabel(1500, 500), "1,500");
  assert.equal(tickLabel(0.25, 0.05), "0.25");
});

test("rows come in tree order: children under their parent, indented", () => {
  const runs = [
    run({ i: 0, id: "a", parent: -1 }),
    run({ i: 1, id: "b", parent: 0 }),
    run({ i: 2, id: "c", parent: -1 }),
    run({ i: 3, id: "d", parent: 1 }),
    run({ i: 4, id: "e", parent: 0 }),
    run({ i: 5, id: "orphan", parent: 99, orphan: true }),
  ];
  const { rows, depth } = treeRows(runs);
  assert.deepEqual(rows, [0, 1, 3, 4, 2, 5]);
  assert.deepEqual(depth, [0, 1, 2, 1, 0, 0]);
  const cycle = [run({ i: 0, parent: 1 }), run({ i: 1, parent: 0 })];
  assert.deepEqual(treeRows(cycle).rows.sort(), [0, 1], "a parent cycle drops no run");
});

test("ticks are binned per pixel column, looking only at what is in view", () => {
  const times = [0, 0.4, 1, 1.2, 5, 9.99, 10, 12];
  assert.deepEqual([...binTicks(times, 0, 10, 10)], [2, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  assert.deepEqual([...binTicks(times, 0, 10, 0)], []);
  assert.deepEqual([...binTicks([], 0, 10, 3)], [0, 0, 0]);
  const many = Float64Array.from({ length: 200_000 }, (_, n) => n * 0.01);
  const counts = binTicks(many, 1000, 1001, 100);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    101,
  );
});

test("bars run from start to end, and running bars grow to now", () => {
  assert.deepEqual(barSpan(run({ start: 10, end: 50, status: "ok" }), 80), { start: 10, end: 50, running: false });
  assert.deepEqual(barSpan(run({ start: 10 }), 80), { start: 10, end: 80, running: true });
  assert.equal(barSpan(run({}), 80), null);
});

test("the held segment goes from the upstream step's first chunk to this run's first chunk", () => {
  const snapshot = fixture("countries.json");
  const runs = snapshot.runs.map(normalizeRun);
  const held = heldSpan(runs[3], runs);
  assert.equal(held.from, runs[2].first);
  assert.equal(held.to, runs[3].first);
  assert.equal(held.held, runs[3].held);
  assert.equal(heldLabel(1234.4), "held 1,234 ms");
  assert.equal(heldSpan(runs[2], runs), null);
  const lone = run({ first: 900, held: 300 });
  assert.deepEqual(heldSpan(lone, [lone]), { from: 600, to: 900, held: 300 });
  assert.ok(runs[3].held > 0, "the function held the stream back");
  assert.ok(runSummary(runs[3], runs, 700).some((line) => line.startsWith(heldLabel(runs[3].held))));
});

test("zoom keeps the time under the cursor in place; fit covers the trace", () => {
  const [t0, t1] = zoomRange([0, 1000], 250, 0.5);
  assert.equal(t1 - t0, 500);
  assert.equal((250 - t0) / (t1 - t0), 0.25);
  const floor = zoomRange([0, 1], 0.5, 1e-9);
  assert.ok(Math.abs(floor[1] - floor[0] - 0.01) < 1e-12, "zoom has a floor");
  const runs = fixture("parrot.json").runs.map(normalizeRun);
  const [f0, f1] = fitRange(runs, 10);
  assert.equal(f0, 0);
  assert.ok(f1 >= Math.max(...runs.map((r) => r.end)));
});

test("visible rows and hit testing", () => {
  assert.deepEqual(visibleRows(0, 100, 1000), [0, 5]);
  assert.deepEqual(visibleRows(ROW_HEIGHT_PX * 10 + 3, 100, 1000), [10, 16]);
  assert.deepEqual(visibleRows(0, 100, 2), [0, 2]);
  assert.equal(rowAt(AXIS_HEIGHT_PX - 1, 0, 10), -1);
  assert.equal(rowAt(AXIS_HEIGHT_PX + ROW_HEIGHT_PX * 2 + 1, 0, 10), 2);
  assert.equal(rowAt(AXIS_HEIGHT_PX + 1, ROW_HEIGHT_PX * 5, 10), 5);
  assert.equal(rowAt(AXIS_HEIGHT_PX + 1, ROW_HEIGHT_PX * 50, 10), -1);
  assert.equal(typeColor("chat_model"), "#3b82f6");
  assert.equal(typeColor("constructor"), typeColor("nonsense"), "no prototype lookups");
});

test("the canvas says what it draws, and drawing without a 2D context is a no-op", (t) => {
  const m = mount(fixture("countries.json"), { view: "timeline" });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas.sv-timeline-canvas");
  assert.equal(canvas.getAttribute("data-bars"), "4");
  assert.match(canvas.getAttribute("aria-label"), /4 runs \(0 running, 0 failed or cancelled\)/);
  for (const action of ["in", "out", "fit"]) click(m.$(`button[data-action="${action}"]`));
  m.flush();
  assert.equal(m.$$(".sv-legend-item").length, 12);
});

test("clicking a bar selects its run; hovering shows its details", (t) => {
  const snapshot = fixture("countries.json");
  const m = mount(snapshot, { view: "timeline" });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  const at = { clientX: LABEL_WIDTH_PX + 100, clientY: AXIS_HEIGHT_PX + ROW_HEIGHT_PX * 3 + 5, bubbles: true };
  canvas.dispatchEvent(new m.window.MouseEvent("mousemove", at));
  const tooltip = m.$(".sv-tooltip");
  assert.ok(!tooltip.hidden);
  assert.ok(tooltip.textContent.includes("_extract_country_names"));
  assert.ok(tooltip.textContent.includes(heldLabel(snapshot.runs[3].held)));
  canvas.dispatchEvent(new m.window.MouseEvent("mousedown", { ...at, button: 0 }));
  m.window.dispatchEvent(new m.window.MouseEvent("mouseup", at));
  assert.equal(m.model.get("selected_run"), snapshot.runs[3].id);
});

test("dragging pans instead of selecting; the wheel zooms around the cursor", (t) => {
  const m = mount(fixture("parrot.json"), { view: "timeline" });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  const range = () => canvas.getAttribute("data-range").split(",").map(Number);
  const [f0, f1] = range();
  const y = AXIS_HEIGHT_PX + 5;
  canvas.dispatchEvent(new m.window.MouseEvent("mousedown", { clientX: 600, clientY: y, button: 0, bubbles: true }));
  m.window.dispatchEvent(new m.window.MouseEvent("mousemove", { clientX: 500, clientY: y }));
  m.window.dispatchEvent(new m.window.MouseEvent("mouseup", { clientX: 500, clientY: y }));
  assert.equal(m.model.get("selected_run"), "");
  m.flush();
  const [a0, a1] = range();
  assert.equal(f0, 0);
  assert.ok(a0 > 0, `panned right in time: ${a0}`);
  assert.ok(Math.abs(a1 - a0 - (f1 - f0)) < 0.01, "panning keeps the span");
  const wheel = new m.window.WheelEvent("wheel", { deltaY: -500, bubbles: true, cancelable: true });
  // happy-dom's WheelEvent is no MouseEvent: give it the pointer position a browser gives.
  Object.defineProperty(wheel, "clientX", { value: 600 });
  Object.defineProperty(wheel, "clientY", { value: y });
  canvas.dispatchEvent(wheel);
  assert.ok(wheel.defaultPrevented, "the page does not scroll while zooming");
  m.flush();
  const [b0, b1] = range();
  assert.ok(b1 - b0 < (a1 - a0) * 0.8, "zoomed in");
  assert.ok(b0 > a0 && b1 < a1, "around the cursor");
  click(m.$('button[data-action="fit"]'));
  m.flush();
  assert.equal(range()[0], 0);
});

/** A 2D context that accepts every call and records the text drawn. */
function recordingContext() {
  const texts = [];
  const calls = { fillRect: 0 };
  const target = {
    texts,
    calls,
    measureText: (text) => ({ width: String(text).length * 6 }),
    fillText: (text) => texts.push(String(text)),
    fillRect: () => {
      calls.fillRect += 1;
    },
  };
  return new Proxy(target, {
    get: (object, key) => (key in object ? object[key] : () => {}),
    set: (object, key, value) => {
      object[key] = value;
      return true;
    },
  });
}

test("with a 2D context it draws names, axis, held labels, ticks and error marks", (t) => {
  const snapshot = fixture("countries.json");
  snapshot.runs[1].status = "error";
  snapshot.runs[1].error = "ValueError: boom";
  const g = recordingContext();
  const m = mount(snapshot, { view: "timeline", selected_run: snapshot.runs[2].id });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  canvas.getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  for (const text of [
    "RunnableSequence",
    "_extract_country_names",
    heldLabel(snapshot.runs[3].held),
    "✕",
    "0",
    "time (ms)",
  ]) {
    assert.ok(g.texts.includes(text), `${text} drawn in ${JSON.stringify(g.texts)}`);
  }
  const ticks = g.texts.filter((text) => /^[1-9][\d,]*$/.test(text));
  assert.ok(ticks.length >= 2, `axis tick labels past 0 in ${JSON.stringify(g.texts)}`);
  assert.ok(g.calls.fillRect > 30, "bars and ticks");
});

test("10,000 runs and 200,000 ticks: only the rows in view are drawn", (t) => {
  const big = bigTrace(200_000, 10_000);
  const g = recordingContext();
  const m = mount(big, { view: "timeline" });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  canvas.getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  assert.equal(canvas.getAttribute("data-bars"), "10001");
  const names = g.texts.filter((text) => text.startsWith("model_") || text === "RunnableSequence");
  assert.ok(names.length > 0, "the first rows are drawn");
  assert.ok(names.length < 100, `${names.length} run names drawn of 10,001`);
});

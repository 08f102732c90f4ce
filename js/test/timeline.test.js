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
  HELD_COLORS,
  heldLabel,
  heldSpan,
  holdingLabel,
  holdSpan,
  isDark,
  LABEL_WIDTH_PX,
  legendItems,
  niceStep,
  niceTicks,
  OTHER_COLOR,
  PLOT_LEFT_PAD_PX,
  PLOT_RIGHT_MARGIN_PX,
  ROW_HEIGHT_PX,
  rowAt,
  runSummary,
  scale,
  TYPE_COLORS,
  tickLabel,
  typeColor,
  visibleRows,
  zoomRange,
} from "../src/views/timeline_model.js";
import { bigTrace, click, emptySnapshot, fixture, mount, noEvents } from "./support/env.js";

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
  assert.equal(typeColor("chat_model"), TYPE_COLORS.chat_model);
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
  assert.deepEqual(
    m.$$(".sv-legend-item").map((item) => item.textContent),
    ["chain", "chat_model", "parser", "held the stream back", "▼first token"],
  );
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

// --- the streaming lessons, live; the legend; the empty trace; seeking a replay ------------------

/**
 * The countries trace (model | JsonOutputParser | a plain function) as the page has it at `t` ms,
 * while the function holds the stream back: its first chunk has not come, the parser streams.
 */
function countriesAt(t) {
  const full = fixture("countries.json");
  const count = full.events.us.findIndex((us) => us > t * 1000);
  const events = {};
  for (const key of Object.keys(noEvents())) {
    events[key] = key === "extra" ? {} : full.events[key].slice(0, count);
  }
  const runs = full.runs.map((row) => ({
    ...row,
    end: null,
    status: "running",
    first: row.first !== null && row.first <= t ? row.first : null,
    chunks: events.run.filter((r, n) => r === row.i && full.kinds[events.kind[n]].endsWith("_stream")).length,
    held: null,
    holding: row.held !== null ? full.runs[row.upstream].first : null,
  }));
  return { ...full, count, now: t, runs, events, payloads: {} };
}

/** A 2D context recording the text drawn and the points of paths. */
function pathContext() {
  const g = recordingContext();
  g.points = [];
  g.moveTo = (x, y) => g.points.push([x, y]);
  g.lineTo = (x, y) => g.points.push([x, y]);
  return g;
}

test("while a step holds the stream back, its hold grows to the clock with a live 'holding N ms' label", (t) => {
  const full = fixture("countries.json");
  const parserFirst = full.runs[2].first;
  const at = parserFirst + 700;
  const snapshot = countriesAt(at);
  const runs = snapshot.runs.map(normalizeRun);
  const fn = runs[3];
  assert.equal(fn.name, "_extract_country_names");
  // The model: a held segment from the parser's first chunk to now, labelled as it holds.
  const hold = holdSpan(fn, runs, at);
  assert.equal(hold.from, parserFirst);
  assert.equal(hold.to, at, "the held segment ends at now");
  assert.equal(hold.live, true);
  assert.equal(hold.label, "holding 700 ms");
  assert.equal(holdingLabel(700.4), "holding 700 ms");
  assert.equal(holdSpan(runs[2], runs, at), null, "the parser streams: it holds nothing back");
  assert.ok(runSummary(fn, runs, at).includes("holding 700 ms (since JsonOutputParser's first chunk)"));

  // The view draws it while live, and the label follows the clock.
  const g = recordingContext();
  const m = mount(snapshot, { view: "timeline", live: true });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  canvas.getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  assert.ok(g.texts.includes("holding 700 ms"), JSON.stringify(g.texts));
  assert.match(canvas.getAttribute("data-holds"), /^_extract_country_names: holding 700 ms/);
  assert.ok(m.$('[data-legend="held"]'), "the legend explains the hatching as soon as a hold shows");
  const later = at + 500;
  m.model.message({
    type: "delta",
    from: snapshot.count,
    to: snapshot.count,
    now: later,
    kinds: [],
    runs: [],
    events: noEvents(),
  });
  m.flush();
  assert.ok(g.texts.includes("holding 1,200 ms"), "the hold grew with the clock");
  assert.match(
    canvas.getAttribute("data-holds"),
    new RegExp(`holding 1,200 ms \\(${parserFirst.toFixed(3)}-${later.toFixed(3)}\\)`),
  );

  // Once the step lets its first chunk out, the hold is "held N ms", fixed.
  const done = normalizeRun(full.runs[3]);
  const after = holdSpan(done, full.runs.map(normalizeRun), full.now + 1000);
  assert.equal(after.live, false);
  assert.equal(after.to, done.first);
  assert.equal(after.label, heldLabel(done.held));
});

test("the legend lists the run types present, and held / first-token / error marks only when present", (t) => {
  const parrot = fixture("parrot.json");
  assert.deepEqual(
    legendItems(parrot.runs.map(normalizeRun)).map((item) => item.label),
    ["chain", "chat_model", "prompt", "parser", "first token"],
  );
  const m = mount(parrot, { view: "timeline" });
  t.after(() => m.cleanup());
  assert.deepEqual(
    m.$$(".sv-legend-item").map((item) => item.getAttribute("data-legend")),
    ["type:chain", "type:chat_model", "type:prompt", "type:parser", "first"],
  );
  const failed = [run({ i: 0, type: "tool", status: "error" }), run({ i: 1, type: "lambda", status: "cancelled" })];
  assert.deepEqual(
    legendItems(failed).map((item) => item.key),
    ["type:tool", "type:other", "error", "cancelled"],
  );
  assert.deepEqual(legendItems([]), []);
});

test("every run type has its own colour, far from the others", () => {
  const colors = [...Object.entries(TYPE_COLORS), ["other", OTHER_COLOR]];
  const rgb = (hex) => [1, 3, 5].map((n) => Number.parseInt(hex.slice(n, n + 2), 16));
  for (let a = 0; a < colors.length; a += 1) {
    for (let b = a + 1; b < colors.length; b += 1) {
      const [p, q] = [rgb(colors[a][1]), rgb(colors[b][1])];
      const distance = Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
      assert.ok(distance > 70, `${colors[a][0]} and ${colors[b][0]} are too alike (${distance.toFixed(0)})`);
    }
  }
  assert.equal(isDark("#111111"), true);
  assert.equal(isDark("rgb(255, 255, 255)"), false);
  assert.equal(isDark("#fff"), false);
  // The held stripes and label read on a projector: WCAG contrast of text (4.5:1) against the
  // light and the dark (JupyterLab Dark: #111111) background.
  const luminance = (hex) => {
    const [r, g, b] = rgb(hex).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  assert.ok(contrast(HELD_COLORS.light, "#ffffff") >= 4.5, `${contrast(HELD_COLORS.light, "#ffffff")}`);
  assert.ok(contrast(HELD_COLORS.dark, "#111111") >= 4.5, `${contrast(HELD_COLORS.dark, "#111111")}`);
  // Every bar colour stands out from both backgrounds (3:1, the WCAG figure for graphics)...
  // except on one side for the lightest and darkest hues, which still keep 2:1.
  for (const [type, color] of colors) {
    const light = contrast(color, "#ffffff");
    const dark = contrast(color, "#111111");
    assert.ok(Math.min(light, dark) >= 2 && Math.max(light, dark) >= 3, `${type}: ${light} / ${dark}`);
  }
});

test("an empty trace shows a message, not an axis from 0 to 1 ms", (t) => {
  const g = recordingContext();
  const m = mount(emptySnapshot(), { view: "timeline" });
  t.after(() => m.cleanup());
  m.$("canvas").getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  const message = m.$(".sv-timeline-empty");
  assert.ok(message && !message.hidden);
  assert.equal(message.textContent, "No runs in this trace.");
  assert.ok(!g.texts.includes("time (ms)"), "no axis is drawn");
  assert.deepEqual(m.$$(".sv-legend-item"), []);
  const live = mount(emptySnapshot(), { view: "timeline", live: true });
  t.after(() => live.cleanup());
  assert.equal(live.$(".sv-timeline-empty").textContent, "No runs yet.");
  // The first run replaces the message with the timeline.
  const full = fixture("parrot.json");
  live.model.set("snapshot", full);
  live.flush();
  assert.ok(live.$(".sv-timeline-empty").hidden);
  assert.equal(live.$("canvas").getAttribute("data-bars"), String(full.runs.length));
  // A replay that has played nothing yet keeps its axis, to be clicked ahead.
  const replay = mount(emptySnapshot(), { view: "timeline", live: true, seekable: true, time_span: 900 });
  t.after(() => replay.cleanup());
  assert.ok(replay.$(".sv-timeline-empty").hidden);
  assert.ok(!replay.$(".sv-timeline-scroll").hidden);
});

test("first-token marks are drawn whole at the right edge of the range", (t) => {
  const snapshot = fixture("countries.json");
  const g = pathContext();
  const m = mount(snapshot, { view: "timeline" });
  t.after(() => m.cleanup());
  m.$("canvas").getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  const xs = g.points.map(([x]) => x);
  assert.ok(xs.length > 0);
  // Big enough to see from the back of a room: the triangles are 11 px wide.
  const tops = g.points.filter(([, y]) => y === AXIS_HEIGHT_PX + 1);
  assert.ok(tops.length >= 2);
  assert.ok(Math.abs(tops[1][0] - tops[0][0]) >= 10, JSON.stringify(tops.slice(0, 2)));
  // The chain's first token is within a few ms of the end of the trace.
  assert.ok(Math.max(...xs) <= 800 - 4, `a mark reaches ${Math.max(...xs)} of 800 px`);
  assert.ok(Math.min(...xs) >= LABEL_WIDTH_PX, "no mark over the names");
});

test("clicking the time axis of a seekable timeline asks the kernel to seek there; elsewhere it does not", (t) => {
  const snapshot = fixture("countries.json");
  const m = mount(snapshot, { view: "timeline", seekable: true, time_span: 5000 });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  m.flush();
  const [t0, t1] = canvas.getAttribute("data-range").split(",").map(Number);
  assert.equal(t0, 0);
  assert.ok(t1 >= 5000, "the axis covers the whole recording (time_span)");
  const x0 = LABEL_WIDTH_PX + PLOT_LEFT_PAD_PX;
  const x1 = 800 - PLOT_RIGHT_MARGIN_PX;
  const clickAt = (target, clientX, clientY) => {
    const at = { clientX, clientY, bubbles: true };
    target.dispatchEvent(new m.window.MouseEvent("mousemove", at));
    target.dispatchEvent(new m.window.MouseEvent("mousedown", { ...at, button: 0 }));
    m.window.dispatchEvent(new m.window.MouseEvent("mouseup", at));
  };
  const xAt = x0 + (x1 - x0) * 0.6;
  clickAt(canvas, xAt, AXIS_HEIGHT_PX / 2);
  const seeks = m.model.sent.filter((message) => message.type === "seek");
  assert.equal(seeks.length, 1);
  assert.ok(Math.abs(seeks[0].ms - (t0 + (t1 - t0) * 0.6)) < 0.01, `${seeks[0].ms}`);
  assert.equal(m.model.get("selected_run"), "", "a seek selects no run");
  // A click on a bar still selects its run, and sends no seek.
  clickAt(canvas, x0 + 50, AXIS_HEIGHT_PX + ROW_HEIGHT_PX + 5);
  assert.equal(m.model.sent.filter((message) => message.type === "seek").length, 1);
  assert.equal(m.model.get("selected_run"), snapshot.runs[1].id);

  const plain = mount(snapshot, { view: "timeline" });
  t.after(() => plain.cleanup());
  const at = { clientX: xAt, clientY: AXIS_HEIGHT_PX / 2, bubbles: true };
  plain.$("canvas").dispatchEvent(new plain.window.MouseEvent("mousemove", at));
  plain.$("canvas").dispatchEvent(new plain.window.MouseEvent("mousedown", { ...at, button: 0 }));
  plain.window.dispatchEvent(new plain.window.MouseEvent("mouseup", at));
  assert.deepEqual(plain.model.sent, [], "a timeline that is not a replay's sends nothing");
  assert.equal(plain.$("canvas").title, "");
});

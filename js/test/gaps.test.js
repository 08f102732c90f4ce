// Stalls and gaps between chunks: the rule of streamviz/latency.py, marked on the timeline and
// charted per run in the token pane.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_STALL_RULE,
  gapBars,
  gapStats,
  gapSummary,
  percentile,
  stallLines,
  stallRule,
} from "../src/views/gaps.js";
import {
  AXIS_HEIGHT_PX,
  LABEL_WIDTH_PX,
  PLOT_LEFT_PAD_PX,
  PLOT_RIGHT_MARGIN_PX,
  ROW_HEIGHT_PX,
  scale,
} from "../src/views/timeline_model.js";
import { bigTrace, click, mount } from "./support/env.js";

/** Chunk times (ms) from a first chunk at `first` and `gaps`. */
function times(gaps, first = 1400) {
  const out = [first];
  for (const gap of gaps) out.push(out[out.length - 1] + gap);
  return out;
}

const repeat = (value, n) => Array.from({ length: n }, () => value);

test("a pause far longer than the run's rhythm is a stall, as trace.stalls() says", () => {
  const stats = gapStats(times([...repeat(20, 30), 900, ...repeat(20, 30)]));
  assert.equal(stats.stalls.length, 1);
  const [stall] = stats.stalls;
  assert.equal(stall.after, 31);
  assert.equal(stall.gap, 900);
  assert.equal(stall.threshold, 250);
  assert.equal(stall.at, 1400 + 30 * 20);
  assert.equal(stats.max, 900);
  assert.deepEqual(stallLines(stall), [
    "stall 900 ms without a chunk, after 31 chunks",
    "threshold 250 ms: max(250 ms, 5 × the run's median gap)",
  ]);
  assert.equal(gapSummary(stats), "gaps p50 20.0 ms · p95 20.0 ms · max 900 ms · 1 stall (threshold 250 ms)");
});

test("slow but steady is not a stall, nor a short jump; thresholds are settable", () => {
  assert.equal(gapStats(times(repeat(400, 20))).stalls.length, 0, "above 250 ms, but the run's rhythm");
  const gaps = [...repeat(20, 10), 120, ...repeat(20, 10)];
  assert.equal(gapStats(times(gaps)).stalls.length, 0, "6x the median but below 250 ms");
  assert.equal(gapStats(times(gaps), { ms: 100, factor: 5 }).stalls.length, 1);
  assert.equal(gapStats(times(gaps), { ms: 100, factor: 10 }).stalls.length, 0);
  assert.equal(gapStats([5]).stalls.length, 0, "one chunk: no gap");
});

test("percentiles interpolate as numpy's; the chart keeps the longest gap of each column", () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([10, 20, 30, 40, 50], 95), 48);
  const stats = gapStats(times([...repeat(10, 500), 2000, ...repeat(10, 499)]));
  const bars = gapBars(stats, 100);
  assert.equal(bars.length, 100);
  assert.deepEqual(
    bars.filter((bar) => bar.stall),
    [{ gap: 2000, stall: true }],
  );
});

/** One model run of 60 chunks 20 ms apart, and 920 ms between its 31st and 32nd. */
function stalledTrace() {
  const snapshot = bigTrace(64, 1, { step: 20 });
  const { us, kind } = snapshot.events;
  let streamed = 0;
  let shift = 0;
  for (let k = 0; k < us.length; k += 1) {
    us[k] += shift;
    if (kind[k] === 2 && ++streamed === 31) shift = 900_000;
  }
  snapshot.runs[1].end += 900;
  snapshot.runs[0].end += 900;
  snapshot.now += 900;
  return snapshot;
}

test("the timeline marks the stall on its gap; hovering it tells its length and threshold", (t) => {
  const snapshot = stalledTrace();
  const m = mount(snapshot, { view: "timeline" });
  t.after(() => m.cleanup());
  const canvas = m.$("canvas");
  const texts = [];
  const g = new Proxy(
    { measureText: (text) => ({ width: String(text).length * 6 }), fillText: (text) => texts.push(String(text)) },
    { get: (object, key) => (key in object ? object[key] : () => {}), set: () => true },
  );
  canvas.getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  const model = snapshot.runs[1];
  assert.match(canvas.getAttribute("data-stalls"), /^model_1: stall 920 ms after chunk 31 \(threshold 250 ms\)$/);
  assert.ok(texts.includes("stall 920 ms"), "the stall's length is written on it");

  // Over the gap: the stall's tooltip; elsewhere on the bar: the run's.
  const [t0, t1] = canvas.getAttribute("data-range").split(",").map(Number);
  const width = Number.parseFloat(canvas.style.width);
  const x = scale(t0, t1, LABEL_WIDTH_PX + PLOT_LEFT_PAD_PX, width - PLOT_RIGHT_MARGIN_PX);
  const y = AXIS_HEIGHT_PX + ROW_HEIGHT_PX * 1 + ROW_HEIGHT_PX / 2;
  const box = canvas.getBoundingClientRect();
  const hover = (time) =>
    canvas.dispatchEvent(
      new m.window.MouseEvent("mousemove", { clientX: box.left + x.x(time), clientY: box.top + y, bubbles: true }),
    );
  const stallAt = model.first + 30 * 20;
  hover(stallAt + 460);
  const tooltip = m.$(".sv-tooltip");
  assert.ok(!tooltip.hidden);
  assert.deepEqual(
    [...tooltip.children].map((line) => line.textContent),
    [
      "model_1",
      "stall 920 ms without a chunk, after 31 chunks",
      "threshold 250 ms: max(250 ms, 5 × the run's median gap)",
    ],
  );
  hover(model.first + 100);
  assert.equal(tooltip.children[0].textContent, "model_1");
  assert.ok(!tooltip.textContent.includes("stall"));
});

test("the token pane draws each run's gaps, the stall in the error colour", (t) => {
  const snapshot = stalledTrace();
  /** @type {Array<{fill: string, y: number, h: number}>} */
  const bars = [];
  const m = mount(snapshot, { view: "tokens" }, (window) => {
    window.HTMLCanvasElement.prototype.getContext = function getContext() {
      const g = { fillStyle: "" };
      return new Proxy(g, {
        get: (object, key) =>
          key === "fillRect"
            ? (_x, y, _w, h) => bars.push({ fill: object.fillStyle, y, h })
            : key in object
              ? object[key]
              : () => {},
        set: (object, key, value) => {
          object[key] = value;
          return true;
        },
      });
    };
  });
  t.after(() => m.cleanup());
  m.flush();
  const block = m.$(`.sv-token-run[data-run-id="${snapshot.runs[1].id}"]`);
  const chart = block.querySelector("canvas.sv-gap-chart");
  assert.ok(chart, "a gap chart");
  assert.equal(chart.getAttribute("data-gaps"), "59");
  assert.equal(chart.getAttribute("data-stalls"), "1");
  assert.equal(bars.length, 59, "one bar per gap");
  const colors = new Set(bars.map((bar) => bar.fill));
  assert.equal(colors.size, 2, "gaps and the stall in two colours");
  const stall = bars.filter((bar) => bars.filter((other) => other.fill === bar.fill).length === 1);
  assert.equal(stall.length, 1);
  assert.deepEqual([stall[0].y, stall[0].h], [0, 28], "the stall reaches the top");
  const summary = block.querySelector(".sv-gap-summary").textContent;
  assert.equal(chart.getAttribute("aria-label"), summary);
  assert.match(summary, /max 920 ms · 1 stall \(threshold 250 ms\)$/);
});

test("the stall rule comes from the kernel's stall_rule; anything odd falls back to the default", () => {
  assert.deepEqual(stallRule({ ms: 500, factor: 3 }), { ms: 500, factor: 3 });
  for (const odd of [
    undefined,
    null,
    "x",
    {},
    { ms: -1, factor: 5 },
    { ms: 250, factor: Number.NaN },
    { ms: "1", factor: 2 },
  ]) {
    assert.equal(stallRule(odd), DEFAULT_STALL_RULE);
  }
});

test("the page marks stalls by the rule the kernel set, and redraws when it changes", (t) => {
  const snapshot = stalledTrace();
  // 920 ms is a stall by the default rule; not with stall_seconds=1.
  const state = { stall_rule: { ms: 1000, factor: 5 } };
  const fake = new Proxy(
    { measureText: (text) => ({ width: String(text).length * 6 }) },
    {
      get: (object, key) => (key in object ? object[key] : () => {}),
      set: () => true,
    },
  );
  const canvases = (window) => {
    window.HTMLCanvasElement.prototype.getContext = () => fake;
  };
  const line = mount(snapshot, { view: "timeline", ...state }, canvases);
  const pane = mount(snapshot, { view: "tokens", ...state }, canvases);
  t.after(() => {
    line.cleanup();
    pane.cleanup();
  });
  const canvas = line.$("canvas");
  click(line.$('button[data-action="fit"]'));
  line.flush();
  pane.flush();
  const chart = () => pane.$(`.sv-token-run[data-run-id="${snapshot.runs[1].id}"] canvas.sv-gap-chart`);
  assert.equal(canvas.getAttribute("data-stalls"), "");
  assert.equal(chart().getAttribute("data-stalls"), "0");
  assert.match(chart().getAttribute("aria-label"), /no stall \(threshold 1\.00 s\)$/);

  for (const m of [line, pane]) {
    m.model.set("stall_rule", { ms: 250, factor: 2 });
    m.flush();
  }
  assert.match(canvas.getAttribute("data-stalls"), /^model_1: stall 920 ms after chunk 31 \(threshold 250 ms\)$/);
  assert.equal(chart().getAttribute("data-stalls"), "1");
  const [stall] = gapStats(times([...repeat(20, 30), 920]), { ms: 250, factor: 2 }).stalls;
  assert.equal(stallLines(stall)[1], "threshold 250 ms: max(250 ms, 2 × the run's median gap)");
});

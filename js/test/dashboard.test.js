// The dashboard: every pane at once, linked selection, header and live indicator, cleanup.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { formatDuration } from "../src/text.js";
import { loadingText } from "../src/views/dashboard.js";
import { bigTrace, click, deltaOf, deltas, emptySnapshot, eventsWithin, fixture, mount } from "./support/env.js";

/** The header's times, read from the fixture: first start to last end, first token after it. */
function keyTimes(snapshot) {
  const start = Math.min(...snapshot.runs.map((run) => run.start));
  const end = Math.max(...snapshot.runs.map((run) => run.end));
  const first = Math.min(...snapshot.runs.filter((run) => run.first !== null).map((run) => run.first));
  return `${formatDuration(end - start)} · first token ${formatDuration(first - start)}`;
}

test("the dashboard shows header, filter bar and the four panes", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "dashboard", live: true, height: 700 });
  t.after(() => m.cleanup());
  assert.equal(m.root.getAttribute("data-view"), "dashboard");
  assert.equal(m.root.style.height, "700px");
  assert.equal(m.$(".sv-title").textContent, "parrot joke");
  assert.equal(m.$(".sv-stats").textContent, `4 runs · ${snapshot.count} events`);
  assert.equal(m.$(".sv-times").textContent, keyTimes(snapshot));
  assert.equal(m.$(".sv-live").getAttribute("data-live"), "true");
  assert.deepEqual(
    m.$$(".sv-pane").map((pane) => pane.getAttribute("data-pane")),
    ["tree", "timeline", "tokens", "table"],
  );
  for (const selector of [
    ".sv-filterbar",
    ".sv-tree-node",
    "canvas.sv-timeline-canvas",
    ".sv-token-run",
    ".sv-table .sv-row",
    ".sv-count",
  ]) {
    assert.ok(m.$(selector), selector);
  }
  m.model.python("live", false);
  m.flush();
  assert.equal(m.$(".sv-live").textContent, "finished");
  m.model.python("height", 400);
  assert.equal(m.root.style.height, "400px");
});

test("selecting in the tree highlights everywhere and narrows the table", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "dashboard" });
  t.after(() => m.cleanup());
  const id = snapshot.runs[3].id;
  click(m.$(`.sv-tree-node[data-run-id="${id}"]`));
  m.flush();
  assert.equal(m.model.get("selected_run"), id);
  assert.ok(m.$(`.sv-token-run[data-run-id="${id}"]`).classList.contains("sv-selected"));
  assert.equal(m.$(".sv-count").textContent, `${eventsWithin(snapshot, 3)} of ${snapshot.count} events`);
  assert.ok(m.$$(".sv-row").every((row) => row.children[3].textContent === "StrOutputParser"));
  assert.ok(m.$(".sv-run-chip").textContent.includes("StrOutputParser"));
  // The details pane's "show this run only" selects the event's run.
  click(m.$(".sv-run-chip .sv-chip-x"));
  m.flush();
  const body = m.$(".sv-tbody"); // the table shows its end: scroll up to event 2
  body.scrollTop = 0;
  body.dispatchEvent(new m.window.Event("scroll"));
  m.flush();
  click(m.$('.sv-row[data-seq="2"]'));
  click(m.$('.sv-details button[data-action="select-run"]'));
  m.flush();
  assert.equal(m.model.get("selected_run"), snapshot.runs[1].id);
  assert.equal(m.$(".sv-count").textContent, `${eventsWithin(snapshot, 1)} of ${snapshot.count} events`);
});

test("the dashboard fills in live from an empty snapshot", (t) => {
  const full = fixture("countries.json");
  const m = mount(emptySnapshot("countries"), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  for (const delta of deltas(full, 5)) {
    m.model.message(delta);
    m.flush();
  }
  assert.equal(m.$(".sv-stats").textContent, `4 runs · ${full.count} events`);
  assert.equal(m.$(".sv-times").textContent, keyTimes(full));
  assert.equal(m.$("canvas").getAttribute("data-bars"), "4");
  assert.equal(m.$$(".sv-tree-node").length, 4);
  assert.ok(m.$(".sv-held"));
  const parser = m.$(`.sv-token-run[data-run-id="${full.runs[2].id}"] .sv-token-text`);
  assert.equal(JSON.parse(parser.textContent).countries.length, 3);
  assert.equal(m.$(".sv-count").textContent, `${full.count} of ${full.count} events`);
});

test("a new view value remounts; cleanup removes every listener", (t) => {
  const m = mount(fixture("parrot.json"), { view: "table" });
  t.after(() => m.cleanup());
  const before = m.model.listeners();
  m.model.python("view", "tree");
  assert.equal(m.root.getAttribute("data-view"), "tree");
  assert.ok(m.$(".sv-tree-node"));
  assert.equal(m.$(".sv-table"), null);
  m.model.python("view", "nonsense");
  assert.equal(m.root.getAttribute("data-view"), "dashboard");
  m.model.python("view", "table");
  assert.equal(m.model.listeners(), before);
  m.cleanup();
  assert.equal(m.model.listeners(), 0);
  assert.equal(m.el.querySelector(".sv-root"), null);
});

test("200,000 events through deltas: the dashboard counts them all and draws only what is in view", (t) => {
  const full = bigTrace(200_000, 50);
  const m = mount(emptySnapshot(), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  let n = 0;
  for (const delta of deltas(full, 400)) {
    m.model.message(delta);
    if (++n % 50 === 0) m.flush();
  }
  m.flush();
  assert.equal(m.$(".sv-count").textContent, "200,000 of 200,000 events");
  assert.ok(m.$$(".sv-row").length < 80, "the table is virtualized");
  assert.ok(m.$$(".sv-tree-node").length < 80, "the run tree is virtualized");
  assert.equal(m.$("canvas").getAttribute("data-bars"), "51");
  const tokens = m.$$(".sv-token-run");
  assert.ok(tokens.length > 0);
  for (const block of tokens) {
    // A stream's text is kept in blocks of about BLOCK_CHARS, not one node per token.
    const pieces = block.querySelector(".sv-token-pieces");
    assert.ok(pieces.children.length <= Math.ceil(pieces.textContent.length / 1000) + 1);
  }
});

// Generated by the Python side from real traces; STREAMVIZ_WIDGET_SNAPSHOT=path tries another one.
const REAL = process.env.STREAMVIZ_WIDGET_SNAPSHOT
  ? new URL(`file://${process.env.STREAMVIZ_WIDGET_SNAPSHOT}`)
  : new URL("../../tests/data/widget_snapshot.json", import.meta.url);

test("a snapshot generated from a real trace renders in every view", {
  skip: !existsSync(REAL) && "tests/data/widget_snapshot.json not there yet",
}, (t) => {
  const snapshot = JSON.parse(readFileSync(REAL, "utf-8"));
  for (const view of ["dashboard", "tokens", "table", "timeline", "tree", "graph"]) {
    const m = mount(snapshot, { view });
    t.after(() => m.cleanup());
    m.flush();
    assert.equal(m.root.getAttribute("data-view"), view);
  }
  const m = mount(snapshot, { view: "dashboard" });
  t.after(() => m.cleanup());
  m.flush();
  assert.equal(m.$("canvas").getAttribute("data-bars"), String(snapshot.runs.length));
  assert.equal(
    m.$(".sv-count").textContent,
    `${snapshot.count.toLocaleString("en-US")} of ${snapshot.count.toLocaleString("en-US")} events`,
  );
  assert.ok(m.$$(".sv-tree-node").length > 0);
});

/** The first `count` events of `full` as the first snapshot of a big trace: `total` says how many
 * the trace holds (the rest come as deltas). */
function firstEvents(full, count) {
  const { type: _type, from: _from, to: _to, ...rest } = deltaOf(full, 0, count);
  return { v: full.v, name: full.name, count, total: full.count, ...rest, payloads: {} };
}

test("a big trace's header says it is loading until the rest is in, then finished", (t) => {
  const full = fixture("countries.json");
  const first = 10;
  const m = mount(firstEvents(full, first), { view: "dashboard", live: false });
  t.after(() => m.cleanup());
  const status = m.$(".sv-live");
  assert.equal(status.getAttribute("data-loading"), "true");
  assert.equal(status.textContent, `loading ${first} of ${full.count} events`);
  assert.equal(m.$(".sv-stats").textContent.endsWith(`${first} events`), true);
  const rest = [...deltas(full, 20, first)];
  assert.ok(rest.length > 1);
  m.model.message(rest[0]);
  m.flush();
  assert.equal(status.textContent, `loading ${first + 20} of ${full.count} events`);
  for (const delta of rest.slice(1)) m.model.message(delta);
  m.flush();
  assert.equal(status.getAttribute("data-loading"), "false");
  assert.equal(status.textContent, "finished");
  assert.equal(m.$(".sv-stats").textContent.endsWith(`${full.count} events`), true);
});

test("a big trace's loading ends with the settled snapshot when deltas were missed", (t) => {
  const full = fixture("countries.json");
  const m = mount(firstEvents(full, 10), { view: "dashboard", live: false });
  t.after(() => m.cleanup());
  assert.equal(m.$(".sv-live").getAttribute("data-loading"), "true");
  m.model.python("snapshot", full); // the whole trace, `total` = `count`
  m.flush();
  assert.equal(m.$(".sv-live").getAttribute("data-loading"), "false");
  assert.equal(m.$(".sv-live").textContent, "finished");
});

test("loading text: counts with thousands separators", () => {
  assert.equal(loadingText(20_000, 999_602), "loading 20,000 of 999,602 events");
});

// The dashboard's layout and chrome: when it stacks, how tall the top panes are, one time format,
// the Runs pane's figures and what tells namesakes apart, titles on what may be cut, Clear.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration } from "../src/text.js";
import { layoutFor, topContentHeight } from "../src/views/dashboard.js";
import { click, fixture, mount } from "./support/env.js";

test("one time format for every figure: three significant figures in the unit that fits", () => {
  const cases = [
    [0, "0 ms"],
    [0.4213, "0.42 ms"],
    [4.271, "4.27 ms"],
    [9.999, "10.0 ms"],
    [12.34, "12.3 ms"],
    [99.96, "100 ms"],
    [500.66, "501 ms"],
    [710, "710 ms"],
    [999.6, "1.00 s"],
    [1880.426, "1.88 s"],
    [12_345, "12.3 s"],
    [59_960, "1 min 00 s"],
    [125_000, "2 min 05 s"],
    [-3.5, "-3.50 ms"],
    [null, "–"],
    [undefined, "–"],
    [Number.NaN, "–"],
  ];
  for (const [value, text] of cases) assert.equal(formatDuration(value), text, String(value));
});

test("the Runs pane shows each run's duration, first token and chunks in that one format", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "dashboard" });
  t.after(() => m.cleanup());
  for (const run of snapshot.runs) {
    const row = m.$(`.sv-tree-node[data-run-id="${run.id}"]`);
    assert.equal(row.querySelector(".sv-tree-dur").textContent, formatDuration(run.end - run.start));
    assert.equal(
      row.querySelector(".sv-tree-first").textContent,
      run.first === null ? "" : formatDuration(run.first - run.start),
    );
    assert.equal(row.querySelector(".sv-tree-chunks").textContent, run.chunks ? String(run.chunks) : "");
  }
  // The columns have heads, so the figures need no words of their own.
  assert.deepEqual(
    m.$$(".sv-tree-head > span").map((head) => head.textContent),
    ["run", "duration", "1st token", "chunks"],
  );
});

test("two runs of the same model in a graph are told apart by their node and tags", (t) => {
  const snapshot = fixture("graph.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const models = snapshot.runs.filter((run) => run.name === "DemoChatModel");
  assert.equal(models.length, 2);
  const rows = models.map((run) => m.$(`.sv-tree-node[data-run-id="${run.id}"]`));
  const metas = rows.map((row) => row.querySelector(".sv-tree-meta")?.textContent);
  assert.deepEqual(metas, ["joke · call_model", "poem · call_model"], "node and own tag, not seq:step:N");
  for (const [n, row] of rows.entries()) {
    const title = row.title;
    for (const part of ["DemoChatModel", "type: chat_model", "node: call_model", "tags: seq:step:1, ", models[n].id]) {
      assert.ok(title.includes(part), `${part} in ${title}`);
    }
  }
  // A run named after its node adds nothing.
  const node = snapshot.runs.find((run) => run.name === "call_model");
  assert.equal(m.$(`.sv-tree-node[data-run-id="${node.id}"] .sv-tree-meta`), null);
});

test("Clear resets every filter and every include/exclude mode", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "dashboard" });
  t.after(() => m.cleanup());
  const select = m.$('select[data-filter-mode="names"]');
  select.value = "exclude";
  select.dispatchEvent(new m.window.Event("change", { bubbles: true }));
  m.flush();
  click(m.$('.sv-chip[data-filter="exclude_names"][data-value="StrOutputParser"]'));
  m.flush();
  assert.deepEqual(m.model.get("filters").exclude_names, ["StrOutputParser"]);

  click(m.$(".sv-clear"));
  m.flush();
  assert.deepEqual(m.model.get("filters").exclude_names, []);
  for (const mode of m.$$("select[data-filter-mode]")) assert.equal(mode.value, "include", mode.dataset.filterMode);
  assert.equal(m.$(".sv-count").textContent, `${snapshot.count} of ${snapshot.count} events`);
  // The next click includes, as on a fresh dashboard.
  click(m.$('.sv-chip[data-value="DemoChatModel"]'));
  assert.deepEqual(m.model.get("filters").include_names, ["DemoChatModel"]);
  assert.deepEqual(m.model.get("filters").exclude_names, []);
});

test("what may be cut carries its whole value in a title: header, chips, kinds, run chip", (t) => {
  const snapshot = fixture("parrot.json");
  const long = `a-very-long-tag-${"x".repeat(120)}`;
  snapshot.name = `a trace with a long name ${"y".repeat(200)}`;
  const m = mount(snapshot, {
    view: "dashboard",
    filters: { ...fixture("parrot.json").filters, include_tags: [long] },
  });
  t.after(() => m.cleanup());
  assert.equal(m.$(".sv-title").title, snapshot.name);
  assert.ok(m.$(".sv-title").textContent.endsWith("…"));
  const chip = m.$(`.sv-chip[data-value="${long}"]`);
  assert.ok(chip.textContent.endsWith("…"), chip.textContent);
  assert.ok(chip.title.startsWith(`${long}\n`), chip.title);
  for (const kind of m.$$(".sv-kind")) assert.ok(kind.title.startsWith(kind.dataset.kind), kind.title);
  for (const name of m.$$(".sv-tree-name")) assert.ok(name.title.startsWith(name.textContent), name.title);
  click(m.$(".sv-tree-node .sv-tree-name"));
  m.flush();
  assert.equal(m.$(".sv-run-chip-name").title, snapshot.runs[0].name);
});

test("the dashboard stacks below its breakpoint, measured on its own width", () => {
  assert.equal(layoutFor(760, false), "stacked");
  assert.equal(layoutFor(1000, false), "columns");
  assert.equal(layoutFor(1000, true), "stacked", "five panes need more room");
  assert.equal(layoutFor(1300, true), "columns");
  assert.equal(layoutFor(0, false), "columns", "not laid out yet");
});

test("the top panes are as tall as their runs need", (t) => {
  const few = topContentHeight(3, 0);
  const many = topContentHeight(30, 0);
  assert.ok(few.top < 220, `3 runs need ${few.top}px, not a 220px pane of empty space`);
  assert.ok(many.top > few.top);
  assert.ok(topContentHeight(3, 5).timeline > few.timeline, "part lanes take room");
  const m = mount(fixture("parrot.json"), { view: "dashboard" });
  t.after(() => m.cleanup());
  const grid = m.$(".sv-grid");
  assert.equal(grid.style.getPropertyValue("--sv-top-content"), `${topContentHeight(4, 0).top}px`);
});

test("the widget's height trait bounds the stacked panes and follows changes from Python", (t) => {
  const m = mount(fixture("parrot.json"), { view: "dashboard", height: 300 });
  t.after(() => m.cleanup());
  assert.equal(m.root.style.height, "300px");
  assert.equal(m.root.style.getPropertyValue("--sv-widget-height"), "300px");
  m.model.python("height", 640);
  m.flush();
  assert.equal(m.root.style.height, "640px");
  assert.equal(m.root.style.getPropertyValue("--sv-widget-height"), "640px");
});

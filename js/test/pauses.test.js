// LangGraph pauses, resumes and Send branches as a user reads them: the header, the tree, the
// timeline's tooltip and legend, and the graph pane (fixtures from js/test/fixtures/regenerate.py:
// approval = paused by interrupt(), resumed = the pause and its resume, fanout = two Send branches).
import assert from "node:assert/strict";
import { test } from "node:test";
import { interruptValues, pauseState } from "../src/views/graph_model.js";
import { legendItems, runSummary } from "../src/views/timeline_model.js";
import { fixture, mount } from "./support/env.js";

const QUESTION = "{question: Publish this draft?, draft: A short note about cats}";

test("a paused graph says so in the header, the tree and the graph pane, with its question", (t) => {
  const snapshot = fixture("approval.json");
  const m = mount(snapshot, { view: "dashboard", live: false, height: 700 });
  t.after(() => m.cleanup());
  const pause = m.$(".sv-pause");
  assert.equal(pause.hidden, false);
  assert.equal(pause.textContent, "paused: awaiting input");
  assert.equal(pause.title, QUESTION);
  assert.doesNotMatch(m.$(".sv-stats").textContent, /failed/);

  const nodes = m
    .$$(".sv-tree-node")
    .map((node) => [
      node.querySelector(".sv-tree-name").textContent,
      node.getAttribute("data-status"),
      node.querySelector(".sv-tree-pause")?.textContent ?? null,
    ]);
  assert.deepEqual(nodes, [
    ["approval", "interrupted", `paused: ${QUESTION}`],
    ["draft", "ok", null],
    ["review", "interrupted", `paused: ${QUESTION}`],
  ]);
  assert.equal(m.$(".sv-tree-node .sv-status").textContent, "‖");
  assert.equal(m.$(".sv-tree-error"), null);

  const banner = m.$(".sv-graph-pause");
  assert.equal(banner.hidden, false);
  assert.equal(banner.textContent, `‖ paused: awaiting input · ${QUESTION}`);
});

test("the event table shows the node's GraphInterrupt event as a pause, not in error red", (t) => {
  const m = mount(fixture("approval.json"), { view: "table", live: false, height: 500 });
  t.after(() => m.cleanup());
  const phases = m.$$(".sv-table .sv-row").map((row) => row.getAttribute("data-phase"));
  assert.ok(phases.includes("pause"));
  assert.ok(!phases.includes("error"));
});

test("the pane lists the interrupt update as a pause with its question, not as a node", (t) => {
  const m = mount(fixture("approval.json"), { view: "graph", live: false, height: 500 });
  t.after(() => m.cleanup());
  m.$('.sv-mode[data-mode="updates"]').dispatchEvent(new m.window.MouseEvent("click", { bubbles: true }));
  m.flush?.();
  const rows = m.$$(".sv-graph-rows .sv-part-node").map((cell) => cell.textContent);
  assert.ok(rows.includes("‖ paused"), rows.join(", "));
  assert.ok(!rows.includes("__interrupt__"));
  const texts = m.$$(".sv-graph-rows .sv-part-text").map((cell) => cell.textContent);
  assert.ok(
    texts.some((text) => text.includes("Publish this draft?") && !text.includes('"id"')),
    texts.join("\n"),
  );
});

test("the timeline marks a pause and tells what it asks", () => {
  const snapshot = fixture("approval.json");
  const root = snapshot.runs[0];
  const rows = snapshot.runs.map((run) => ({ ...run }));
  assert.ok(runSummary(root, rows, snapshot.now).includes(`paused: ${QUESTION}`));
  assert.ok(legendItems(rows).some((item) => item.key === "interrupted" && item.label === "paused"));
});

test("a resumed thread says which thread and with what, and links nothing as failed", (t) => {
  const snapshot = fixture("resumed.json");
  const roots = snapshot.runs.filter((run) => run.parent === -1);
  assert.deepEqual(
    roots.map((run) => [run.status, run.resume, run.thread]),
    [
      ["interrupted", null, "t1"],
      ["ok", "yes", "t1"],
    ],
  );
  assert.deepEqual(pauseState(snapshot.runs), { text: "resumed t1 with yes", title: "resumed t1 with yes" });
  const m = mount(snapshot, { view: "dashboard", live: false, height: 700 });
  t.after(() => m.cleanup());
  assert.equal(m.$(".sv-pause").textContent, "resumed t1 with yes");
  assert.ok(m.$$(".sv-tree-pause").some((cell) => cell.textContent === "resumed with yes"));
});

test("Send branches of one node differ by their argument in the tree and the timeline", (t) => {
  const snapshot = fixture("fanout.json");
  const m = mount(snapshot, { view: "tree", live: false, height: 500 });
  t.after(() => m.cleanup());
  const labels = m
    .$$(".sv-tree-node")
    .filter((node) => node.querySelector(".sv-tree-send"))
    .map(
      (node) => `${node.querySelector(".sv-tree-name").textContent} ${node.querySelector(".sv-tree-send").textContent}`,
    );
  assert.deepEqual(labels, ["write {subject: cats}", "write {subject: dogs}"]);
  const send = snapshot.runs.find((run) => run.send === "{subject: dogs}");
  assert.ok(runSummary(send, snapshot.runs, snapshot.now).includes("Send: {subject: dogs}"));
});

test("custom parts show the task that wrote them when LangGraph says so", (t) => {
  const m = mount(fixture("fanout.json"), { view: "graph", live: false, height: 500 });
  t.after(() => m.cleanup());
  m.$('.sv-mode[data-mode="custom"]').dispatchEvent(new m.window.MouseEvent("click", { bubbles: true }));
  m.flush?.();
  const rows = m
    .$$(".sv-graph-rows .sv-row, .sv-graph-rows [role=row]")
    .map((row) => [row.querySelector(".sv-part-node")?.textContent, row.querySelector(".sv-part-text")?.textContent]);
  assert.deepEqual(rows.map(([node]) => node).sort(), ["write", "write"]);
  assert.ok(rows.some(([, text]) => text.includes("writing about cats")));
});

test("interrupt values read from the part text; a pause before a node asks nothing", () => {
  assert.equal(interruptValues('{"__interrupt__":[{"value":{"question":"Go?"},"id":"x"}]}'), '{"question":"Go?"}');
  assert.equal(interruptValues('{"__interrupt__":[]}'), "(before or after a node: no question)");
  assert.equal(interruptValues("{cut"), "{cut");
  assert.equal(pauseState([]), null);
});

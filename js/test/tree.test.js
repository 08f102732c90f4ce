// The run tree: nodes, selection, folding, orphans and held steps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration } from "../src/text.js";
import { click, fixture, mount } from "./support/env.js";

function node(m, id) {
  return m.$(`.sv-tree-node[data-run-id="${id}"]`);
}

test("every run is a node with its status, type, duration, first token and chunks", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  assert.equal(m.$$(".sv-tree-node").length, 4);
  const model = node(m, snapshot.runs[2].id);
  assert.equal(model.getAttribute("aria-level"), "2");
  const text = model.textContent;
  const run = snapshot.runs[2];
  const facts = [formatDuration(run.end - run.start), formatDuration(run.first - run.start), String(run.chunks)];
  for (const part of ["✓", "DemoChatModel", "chat_model", ...facts]) {
    assert.ok(text.includes(part), `${part} in ${text}`);
  }
});

test("clicking a node selects the run (and saves); clicking it again clears", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const id = snapshot.runs[3].id;
  click(node(m, id).querySelector(".sv-tree-name"));
  assert.equal(m.model.get("selected_run"), id);
  assert.equal(m.model.saves, 1);
  m.flush();
  assert.ok(node(m, id).classList.contains("sv-selected"));
  assert.equal(node(m, id).getAttribute("aria-selected"), "true");
  click(node(m, id));
  assert.equal(m.model.get("selected_run"), "");
});

test("the twisty folds and unfolds a run's children", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const root = node(m, snapshot.runs[0].id);
  assert.equal(root.getAttribute("aria-expanded"), "true");
  click(root.querySelector(".sv-twisty"));
  m.flush();
  assert.equal(m.$$(".sv-tree-node").length, 1);
  assert.equal(node(m, snapshot.runs[0].id).querySelector(".sv-twisty").textContent, "▸");
  assert.equal(m.model.get("selected_run"), "", "folding does not select");
  // Selecting a hidden run from elsewhere unfolds its ancestors.
  m.model.python("selected_run", snapshot.runs[2].id);
  m.flush();
  assert.equal(m.$$(".sv-tree-node").length, 4);
  assert.ok(node(m, snapshot.runs[2].id).classList.contains("sv-selected"));
});

test("orphans and held steps are flagged; errors show their message", (t) => {
  const snapshot = fixture("countries.json");
  snapshot.runs.push({
    ...snapshot.runs[1],
    i: 4,
    id: "lost",
    name: "LostChild",
    parent: -1,
    orphan: true,
    status: "error",
    error: "ValueError: boom",
  });
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const held = node(m, snapshot.runs[3].id);
  assert.equal(held.querySelector(".sv-held").textContent, `held ${formatDuration(snapshot.runs[3].held)}`);
  const orphan = node(m, "lost");
  assert.ok(orphan.querySelector(".sv-orphan"));
  assert.equal(orphan.getAttribute("aria-level"), "1");
  assert.ok(orphan.textContent.includes("ValueError: boom"));
  assert.equal(orphan.querySelector(".sv-status").textContent, "✕");
});

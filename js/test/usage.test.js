// Token usage and cost (tree, timeline tooltip, header) and detached runs, from usage.json: two
// models streaming their usage (demo-small priced, demo-large not) and a thread pool's lost run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeRun } from "../src/protocol.js";
import { costText, shortUsage, traceUsage, usageText } from "../src/usage.js";
import { runSummary } from "../src/views/timeline_model.js";
import { click, deltaOf, deltas, emptySnapshot, fixture, mount } from "./support/env.js";

const byName = (snapshot, name) => snapshot.runs.filter((run) => run.name === name);
const node = (m, id) => m.$(`.sv-tree-node[data-run-id="${id}"]`);

test("every run with model usage below it shows its tokens and cost in the tree", (t) => {
  const snapshot = fixture("usage.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const [root] = snapshot.runs;
  const models = byName(snapshot, "DemoChatModel");
  assert.equal(models.length, 2);
  // the root's usage is its two models' added up
  assert.equal(root.usage.total, models[0].usage.total + models[1].usage.total);
  assert.equal(root.usage.calls, 2);
  const badge = node(m, root.id).querySelector(".sv-usage");
  assert.equal(badge.textContent, shortUsage(normalizeRun(root).usage));
  assert.ok(badge.textContent.startsWith(`${root.usage.total.toLocaleString("en-US")} tok · $`));
  assert.ok(badge.textContent.endsWith("+ unknown"), badge.textContent); // demo-large has no price
  const large = models.find((run) => run.usage.model === "demo-large");
  const small = models.find((run) => run.usage.model === "demo-small");
  assert.ok(node(m, large.id).querySelector(".sv-usage").textContent.endsWith("cost unknown"));
  assert.ok(node(m, small.id).title.includes("cache read 3"), node(m, small.id).title);
  assert.ok(node(m, large.id).title.includes("reasoning 4"));
  // a prompt has no model below it: no badge
  const [prompt] = byName(snapshot, "ChatPromptTemplate");
  assert.equal(node(m, prompt.id).querySelector(".sv-usage"), null);
});

test("a detached root says so, names its likely parent and the fix, and links to it", (t) => {
  const snapshot = fixture("usage.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const [lost] = byName(snapshot, "reverse_word");
  const [tool] = byName(snapshot, "pool_tool");
  assert.equal(lost.parent, -1);
  const flag = node(m, lost.id).querySelector(".sv-tree-detached");
  assert.equal(flag.textContent, "⚠ possibly detached: callbacks not propagated (likely inside pool_tool)");
  assert.ok(flag.title.includes("fix: pass `config`"), flag.title);
  assert.ok(flag.title.includes("RunnableConfig"));
  click(flag);
  assert.equal(m.model.get("selected_run"), tool.id);
  // correct roots are not flagged
  for (const run of snapshot.runs.filter((row) => row !== lost)) {
    assert.equal(node(m, run.id).querySelector(".sv-tree-detached"), null, run.name);
  }
});

test("the timeline tooltip tells a run's usage and a detached run's fix", () => {
  const snapshot = fixture("usage.json");
  const rows = snapshot.runs.map(normalizeRun);
  const [root] = rows;
  assert.ok(runSummary(root, rows, snapshot.now).includes(usageText(root.usage)));
  const lost = rows.find((run) => run.name === "reverse_word");
  const lines = runSummary(lost, rows, snapshot.now);
  assert.ok(lines.includes("possibly detached: callbacks not propagated (likely inside pool_tool)"));
  assert.ok(lines.some((line) => line.startsWith("fix: pass `config`")));
});

test("the dashboard header shows the trace's tokens and cost, live as usage arrives", (t) => {
  const snapshot = fixture("usage.json");
  const m = mount(emptySnapshot("usage"), { view: "dashboard", live: true, height: 600 });
  t.after(() => m.cleanup());
  const before = { ...snapshot, runs: snapshot.runs.map((run) => ({ ...run, usage: null })) };
  for (const delta of deltas(before, 40)) {
    m.model.message(delta);
    m.flush();
  }
  assert.ok(m.$(".sv-usage-total").hidden, "no usage reported yet");
  // the model runs report their usage (their last chunks): the kernel sends the rows again
  const at = snapshot.count;
  m.model.message({ ...deltaOf(snapshot, at, at), runs: snapshot.runs, now: snapshot.now });
  m.flush();
  const total = traceUsage(snapshot.runs.map(normalizeRun));
  assert.equal(total.total, snapshot.runs[0].usage.total);
  const header = m.$(".sv-usage-total");
  assert.ok(!header.hidden);
  assert.equal(header.textContent, `${total.total.toLocaleString("en-US")} tokens · ${costText(total)}`);
  assert.ok(header.title.includes("in ·") && header.title.includes("out tokens"));
});

test("a page of an older streamviz (rows without usage) shows no usage and no flag", (t) => {
  const snapshot = fixture("parrot.json");
  for (const row of snapshot.runs) {
    delete row.usage;
    delete row.detached;
  }
  const m = mount(snapshot, { view: "dashboard", height: 600 });
  t.after(() => m.cleanup());
  assert.ok(m.$(".sv-usage-total").hidden);
  assert.equal(m.$$(".sv-usage").length, 0);
  assert.equal(m.$$(".sv-tree-detached").length, 0);
});

test("without a price table usage shows tokens only; cost text covers every case", () => {
  const usage = { in: 10, out: 5, total: 15, cache_read: 0, cache_write: 0, reasoning: 0, calls: 1 };
  assert.equal(usageText({ ...usage, cost: null, unpriced: 1, priced: false, model: null }), "10 in · 5 out tokens");
  assert.equal(shortUsage({ ...usage, cost: null, unpriced: 1, priced: false, model: null }), "15 tok");
  assert.equal(costText({ ...usage, cost: 0.5, unpriced: 0, priced: true, model: null }), "$0.5000");
  assert.equal(costText({ ...usage, cost: 12.345, unpriced: 0, priced: true, model: null }), "$12.35");
  assert.equal(costText({ ...usage, cost: 0.000021, unpriced: 2, priced: true, model: null }), "$0.000021 + unknown");
  assert.equal(costText({ ...usage, cost: null, unpriced: 1, priced: true, model: null }), "cost unknown");
});

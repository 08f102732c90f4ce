// Tool calls: a model run's calls one by one as `name(args)`, each linked to the tool run that
// answered it, and back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeRun } from "../src/protocol.js";
import { answerText, callLine, callText } from "../src/views/toolcalls.js";
import { click, fixture, mount } from "./support/env.js";

const node = (m, id) => m.$(`.sv-tree-node[data-run-id="${id}"]`);
const byName = (snapshot, name) => snapshot.runs.filter((run) => run.name === name);

test("a model run shows each of its parallel tool calls apart, as name(args)", (t) => {
  const snapshot = fixture("tools.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const [asking] = byName(snapshot, "DemoToolModel");
  const calls = [...node(m, asking.id).querySelectorAll(".sv-tree-call")].map((el) => el.textContent);
  assert.deepEqual(calls, ["→ get_weather(city: Paris, unit: celsius)", "→ get_time(city: Tokyo)"]);
  const tip = node(m, asking.id).title;
  assert.ok(
    tip.includes("tool call get_weather(city: Paris, unit: celsius) · id call_weather · answered by get_weather"),
    tip,
  );
  assert.ok(tip.includes("tool call get_time(city: Tokyo) · id call_time · answered by get_time"), tip);
  // The second model call asked for nothing: no call shown.
  const [, answering] = byName(snapshot, "DemoToolModel");
  assert.equal(node(m, answering.id).querySelectorAll(".sv-tree-call").length, 0);
});

test("a call links to the tool run that answered it, and the tool run back to the call", (t) => {
  const snapshot = fixture("tools.json");
  const m = mount(snapshot, { view: "tree" });
  t.after(() => m.cleanup());
  const [asking] = byName(snapshot, "DemoToolModel");
  const [time] = byName(snapshot, "get_time");
  const answer = node(m, time.id).querySelector(".sv-tree-call");
  assert.equal(answer.textContent, "answers call_time of DemoToolModel");
  click(node(m, asking.id).querySelectorAll(".sv-tree-call")[1]);
  assert.equal(m.model.get("selected_run"), time.id, "the call goes to its tool run");
  m.flush();
  click(node(m, time.id).querySelector(".sv-tree-call"));
  assert.equal(m.model.get("selected_run"), asking.id, "the tool run goes to the call's model run");
});

test("a call still streaming reads as far as it came; names and args are text, never markup", () => {
  const runs = [
    normalizeRun({
      i: 0,
      name: "model",
      calls: [{ id: null, name: "<b>x</b>", args: 'city: "Pa\u202e', done: false, tool: -1 }, "junk"],
    }),
    normalizeRun({ i: 1, name: "tool", call: { id: "c1", by: 0, n: 0 } }),
  ];
  const [call] = runs[0].calls;
  assert.equal(runs[0].calls.length, 1, "a row that is no call is dropped");
  assert.equal(callText(call, 100), '<b>x</b>(city: "Pa⟨U+202E⟩)');
  assert.equal(callLine(call, runs), 'tool call <b>x</b>(city: "Pa⟨U+202E⟩) · streaming');
  assert.equal(answerText(runs[1], runs), "answers c1 of model");
  assert.equal(normalizeRun({ i: 2, calls: "no" }).calls, null);
  assert.equal(normalizeRun({ i: 2 }).call, null);
});

test("the details of a model run's event list its calls and offer each tool run", (t) => {
  const snapshot = fixture("tools.json");
  const m = mount(snapshot, { view: "table" });
  t.after(() => m.cleanup());
  m.flush();
  const [asking] = byName(snapshot, "DemoToolModel");
  const seq = snapshot.events.run.indexOf(asking.i);
  const body = m.$(".sv-tbody");
  body.scrollTop = Math.max(0, (seq - 2) * 24);
  body.dispatchEvent(new m.window.Event("scroll"));
  m.flush();
  click(m.$(`.sv-row[data-seq="${seq}"]`));
  m.flush();
  const lines = m.$$(".sv-details-call").map((el) => el.textContent);
  assert.equal(lines.length, 2);
  assert.ok(lines[0].startsWith("tool call get_weather(city: Paris, unit: celsius) · id call_weather"), lines[0]);
  const go = m.$$(".sv-details-actions button").find((b) => b.textContent.startsWith("Show get_time"));
  click(go);
  assert.equal(m.model.get("selected_run"), byName(snapshot, "get_time")[0].id);
});

test("the token stream shows a model run's calls one per line above its mixed pieces", (t) => {
  const snapshot = fixture("tools.json");
  const m = mount(snapshot, { view: "tokens" });
  t.after(() => m.cleanup());
  m.flush();
  const [asking, answering] = byName(snapshot, "DemoToolModel");
  const block = m.$(`.sv-token-run[data-run-id="${asking.id}"]`);
  const lines = [...block.querySelectorAll(".sv-token-call")].map((el) => el.textContent);
  assert.deepEqual(lines, [
    "→ get_weather(city: Paris, unit: celsius)call_weather",
    "→ get_time(city: Tokyo)call_time",
  ]);
  assert.ok(block.querySelector(".sv-token-pieces").textContent.includes('"Pa|'), "the raw pieces stay");
  const other = m.$(`.sv-token-run[data-run-id="${answering.id}"] .sv-token-calls`);
  assert.ok(other.hidden, "a run that asked for nothing shows no calls");
});

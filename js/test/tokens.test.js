// The token stream view: pieces as the guides print them, accumulated text, JSON progressions.
import assert from "node:assert/strict";
import { test } from "node:test";
import { prettyJson } from "../src/views/tokens.js";
import { click, deltas, emptySnapshot, fixture, mount } from "./support/env.js";

const PARROT_MODEL = "1f0c6a10-0000-4000-8000-000000000002";

function block(m, id) {
  return m.$(`.sv-token-run[data-run-id="${id}"]`);
}

test("tokens render as |-joined pieces and as the accumulated text", (t) => {
  const m = mount(fixture("parrot.json"), { view: "tokens" });
  t.after(() => m.cleanup());
  assert.equal(m.root.getAttribute("data-view"), "tokens");
  const run = block(m, PARROT_MODEL);
  assert.equal(run.querySelector(".sv-token-pieces").textContent, "Why| did| the| par|rot| sit| on| the| stick|?");
  assert.equal(run.querySelector(".sv-token-text").textContent, "Why did the parrot sit on the stick?");
  const head = run.querySelector(".sv-token-head").textContent;
  for (const part of ["DemoChatModel", "chat_model", "ok", "10 chunks", "first token 250.3 ms"]) {
    assert.ok(head.includes(part), `${part} in ${head}`);
  }
  // Chat model, parser and the chain's own output; not the prompt (it does not stream).
  const shown = m.$$(".sv-token-run").map((element) => element.getAttribute("data-run-id").slice(-1));
  assert.deepEqual(shown, ["0", "2", "3"]);
});

test("JSON runs list the successive chunks and pretty-print the latest value", (t) => {
  const snapshot = fixture("countries.json");
  const m = mount(snapshot, { view: "tokens" });
  t.after(() => m.cleanup());
  const parser = m.$(`.sv-token-run[data-run-id="${snapshot.runs[2].id}"]`);
  assert.equal(parser.getAttribute("data-stream"), "json");
  const steps = [...parser.querySelectorAll(".sv-token-pieces li")].map((li) => li.textContent);
  assert.equal(steps[0], "{}");
  assert.equal(steps[1], '{"countries":[]}');
  assert.equal(steps.length, 14);
  const latest = parser.querySelector(".sv-token-text").textContent;
  assert.deepEqual(JSON.parse(latest).countries.map((c) => c.name), ["France", "Spain", "Japan"]);
  assert.ok(latest.includes('\n  "countries": [\n'), "pretty-printed");
  assert.equal(prettyJson('{"a": [1, 2'), '{"a": [1, 2', "a value that does not parse is shown raw");
});

test("every streaming run shows with the toggle", (t) => {
  const snapshot = fixture("countries.json");
  const m = mount(snapshot, { view: "tokens" });
  t.after(() => m.cleanup());
  const fn = snapshot.runs[3].id;
  assert.equal(m.$(`.sv-token-run[data-run-id="${fn}"]`), null, "a plain function step is hidden by default");
  const toggle = m.$(".sv-token-all");
  toggle.checked = true;
  toggle.dispatchEvent(new m.window.Event("change", { bubbles: true }));
  m.flush();
  const step = m.$(`.sv-token-run[data-run-id="${fn}"]`);
  assert.ok(step);
  assert.deepEqual(JSON.parse(step.querySelector(".sv-token-text").textContent), ["France", "Spain", "Japan"]);
});

test("tokens arrive live through deltas, one frame at a time", (t) => {
  const full = fixture("parrot.json");
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  assert.ok(m.$(".sv-empty").textContent.includes("No streaming runs"));
  const seen = [];
  for (const delta of deltas(full, 4)) {
    m.model.message(delta);
    m.flush();
    const run = block(m, PARROT_MODEL);
    if (run) seen.push(run.querySelector(".sv-token-pieces").textContent);
  }
  assert.ok(seen.length > 3, "the block grew over several frames");
  assert.ok(seen[0].length < seen[seen.length - 1].length);
  assert.equal(seen[seen.length - 1], "Why| did| the| par|rot| sit| on| the| stick|?");
  assert.equal(block(m, PARROT_MODEL).querySelector(".sv-token-text").textContent, "Why did the parrot sit on the stick?");
});

test("many deltas between two frames are drawn once", (t) => {
  const full = fixture("parrot.json");
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  for (const delta of deltas(full, 1)) m.model.message(delta);
  assert.ok(m.pending() >= 1);
  m.flush();
  assert.equal(block(m, PARROT_MODEL).querySelector(".sv-token-pieces").textContent, "Why| did| the| par|rot| sit| on| the| stick|?");
});

test("clicking a run's header selects the run", (t) => {
  const m = mount(fixture("parrot.json"), { view: "tokens" });
  t.after(() => m.cleanup());
  click(block(m, PARROT_MODEL).querySelector(".sv-token-head"));
  assert.equal(m.model.get("selected_run"), PARROT_MODEL);
  assert.ok(m.model.saves >= 1);
  m.flush();
  assert.ok(block(m, PARROT_MODEL).classList.contains("sv-selected"));
});

test("the type filter applies to the blocks", (t) => {
  const m = mount(fixture("parrot.json"), { view: "tokens" });
  t.after(() => m.cleanup());
  m.model.python("filters", { ...m.model.get("filters"), include_types: ["chat_model"] });
  m.flush();
  assert.deepEqual(m.$$(".sv-token-run").map((element) => element.getAttribute("data-run-id")), [PARROT_MODEL]);
});

test("the final snapshot after a live stream keeps the blocks as they are", (t) => {
  const full = fixture("parrot.json");
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  for (const delta of deltas(full, 10)) m.model.message(delta);
  m.flush();
  const before = block(m, PARROT_MODEL);
  m.model.python("snapshot", structuredClone(full));
  m.model.python("live", false);
  m.flush();
  assert.equal(block(m, PARROT_MODEL), before, "the same element");
  assert.equal(before.querySelector(".sv-token-pieces").textContent, "Why| did| the| par|rot| sit| on| the| stick|?");
});

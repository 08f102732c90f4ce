// The token stream view: pieces as the guides print them, accumulated text, JSON progressions.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, plural } from "../src/text.js";
import { EAGER_BLOCKS, prettyJson } from "../src/views/tokens.js";
import { bigTrace, click, deltas, emptySnapshot, fixture, mount, textsOf } from "./support/env.js";

const PARROT_MODEL = fixture("parrot.json").runs[2].id;
/** The model's pieces: the guide's joke, then its closing chunk (usage only, no text). */
const PIECES = "Why| did| the| par|rot| sit| on| the| stick|?|";

function block(m, id) {
  return m.$(`.sv-token-run[data-run-id="${id}"]`);
}

test("tokens render as |-joined pieces and as the accumulated text", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "tokens" });
  t.after(() => m.cleanup());
  assert.equal(m.root.getAttribute("data-view"), "tokens");
  const run = block(m, PARROT_MODEL);
  assert.equal(run.querySelector(".sv-token-pieces").textContent, PIECES);
  assert.equal(run.querySelector(".sv-token-text").textContent, "Why did the parrot sit on the stick?");
  const head = run.querySelector(".sv-token-head").textContent;
  const model = snapshot.runs[2];
  for (const part of [
    "DemoChatModel",
    "chat_model",
    "ok",
    plural(model.chunks, "chunk"),
    `first token ${formatDuration(model.first)}`,
  ]) {
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
  assert.deepEqual(steps, textsOf(snapshot, 2, "on_parser_stream"), "every chunk, in order");
  assert.equal(steps[0], "{}");
  assert.ok(steps.includes('{"countries":[]}'));
  const latest = parser.querySelector(".sv-token-text").textContent;
  assert.deepEqual(
    JSON.parse(latest).countries.map((c) => c.name),
    ["France", "Spain", "Japan"],
  );
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
  assert.equal(seen[seen.length - 1], PIECES);
  assert.equal(
    block(m, PARROT_MODEL).querySelector(".sv-token-text").textContent,
    "Why did the parrot sit on the stick?",
  );
});

test("many deltas between two frames are drawn once", (t) => {
  const full = fixture("parrot.json");
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  for (const delta of deltas(full, 1)) m.model.message(delta);
  assert.ok(m.pending() >= 1);
  m.flush();
  assert.equal(block(m, PARROT_MODEL).querySelector(".sv-token-pieces").textContent, PIECES);
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
  assert.deepEqual(
    m.$$(".sv-token-run").map((element) => element.getAttribute("data-run-id")),
    [PARROT_MODEL],
  );
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
  assert.equal(before.querySelector(".sv-token-pieces").textContent, PIECES);
});

/** The mutations of `element`'s subtree made by `change()`. */
async function mutations(m, element, change) {
  const records = [];
  const observer = new m.window.MutationObserver((list) => records.push(...list));
  observer.observe(element, { childList: true, characterData: true, subtree: true });
  change();
  // Every mutation made so far, delivered or not: no waiting for the observer's callback.
  records.push(...observer.takeRecords());
  observer.disconnect();
  return records;
}

test("a long live stream only appends: earlier text is never rewritten or moved", async (t) => {
  const full = bigTrace(12_000, 1);
  const model = full.runs[1];
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  const stream = [...deltas(full, 400)];
  for (const delta of stream.slice(0, -3)) {
    m.model.message(delta);
    m.flush();
  }
  const run = block(m, model.id);
  const text = run.querySelector(".sv-token-text");
  const sealed = [...text.querySelectorAll(".sv-text-block")].slice(0, -1);
  assert.ok(sealed.length > 5, `${sealed.length} sealed blocks`);
  const before = sealed.map((element) => element.firstChild.data);
  // The next frames: text is appended to the last block, or new blocks are added; nothing else.
  const records = await mutations(m, run, () => {
    for (const delta of stream.slice(-3)) {
      m.model.message(delta);
      m.flush();
    }
  });
  const head = run.querySelector(".sv-token-head");
  for (const record of records) {
    if (head.contains(record.target)) continue;
    if (record.type === "childList") {
      assert.equal(record.removedNodes.length, 0, "nothing removed");
      assert.ok(
        [...record.addedNodes].every(
          (node) =>
            node.classList?.contains("sv-text-block") ||
            node.nodeType === 3 ||
            node.classList?.contains("sv-text-break"),
        ),
      );
    } else {
      assert.ok(!sealed.some((element) => element.contains(record.target)), "a sealed block changed");
    }
  }
  assert.deepEqual(
    sealed.map((element) => element.firstChild.data),
    before,
  );
  // The final state is complete.
  const tokens = full.events.text.filter((_, k) => full.events.kind[k] === 2 && full.events.run[k] === 1);
  assert.equal(text.textContent, tokens.join(""));
  assert.equal(run.querySelector(".sv-token-pieces").textContent, tokens.join("|"));
  assert.ok(head.textContent.includes(`${tokens.length.toLocaleString("en-US")} chunks`));
  assert.ok(run.querySelector(".sv-token-note").hidden, "nothing elided under TOKEN_CHARS");
});

test("the final snapshot does not take the blocks out of the page", async (t) => {
  const full = bigTrace(3_000, 2);
  const m = mount(emptySnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  for (const delta of deltas(full, 500)) m.model.message(delta);
  m.flush();
  const list = m.$(".sv-token-list");
  const records = await mutations(m, list, () => {
    m.model.python("snapshot", structuredClone(full));
    m.model.python("live", false);
    m.flush();
  });
  const moved = records.filter((record) => record.type === "childList" && record.target === list);
  assert.deepEqual(moved, [], "a block re-inserted is laid out again from scratch");
  assert.equal(m.$$(".sv-token-run").length, 2);
});

/** A chain whose last step is a generator yielding lists (the guide's `split_into_list`). */
function listGeneratorTrace() {
  const run = (i, name, parent) => ({
    i,
    id: `run-${i}`,
    name,
    type: "chain",
    parent,
    tags: [],
    start: i,
    end: 20,
    status: "ok",
    error: null,
    first: 5,
    chunks: 3,
    orphan: false,
    held: null,
    holding: null,
    upstream: -1,
    node: null,
    stream: "json",
  });
  const kinds = ["on_chain_start", "on_chain_stream", "on_chain_end"];
  const rows = [
    [0, 0, 0, "x"],
    [0, 1, 1, ""],
    [1, 1, 5, '["France"]'],
    [1, 0, 6, '["France"]'],
    [1, 1, 8, '["Spain"]'],
    [1, 0, 9, '["Spain"]'],
    [1, 1, 11, '["Japan"]'],
    [1, 0, 12, '["Japan"]'],
    [2, 1, 14, "[France, Spain, Japan]"],
    [2, 0, 15, "[France, Spain, Japan]"],
  ];
  return {
    v: 1,
    name: "split into list",
    count: rows.length,
    now: 20,
    kinds,
    runs: [run(0, "RunnableSequence", -1), run(1, "split_into_list", 0)],
    events: {
      us: rows.map((row) => row[2] * 1000),
      kind: rows.map((row) => row[0]),
      run: rows.map((row) => row[1]),
      text: rows.map((row) => row[3]),
      extra: {},
    },
    payloads: {},
  };
}

test("a generator yielding lists shows the lists added up, as LangChain's output is", (t) => {
  const m = mount(listGeneratorTrace(), { view: "tokens" });
  t.after(() => m.cleanup());
  m.flush();
  const root = block(m, "run-0");
  assert.equal(root.querySelector(".sv-token-text").textContent, "['France', 'Spain', 'Japan']");
  assert.equal(root.querySelectorAll(".sv-token-label")[1].textContent, "accumulated value");
  // JsonOutputParser's values complete each other: the latest stays what is shown.
  const countries = fixture("countries.json");
  const parser = countries.runs.find((run) => run.type === "parser");
  const n = mount(countries, { view: "tokens" });
  t.after(() => n.cleanup());
  n.flush();
  const latest = block(n, parser.id).querySelector(".sv-token-text").textContent;
  assert.ok(latest.startsWith('{\n  "countries": [\n'), latest.slice(0, 40));
  assert.equal(block(n, parser.id).querySelectorAll(".sv-token-label")[1].textContent, "latest value");
});

test("a generator yielding lists, live: the sum grows chunk by chunk", (t) => {
  const full = listGeneratorTrace();
  const m = mount(emptySnapshot("live"), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  const shown = [];
  for (const delta of deltas(full, 2)) {
    m.model.message(delta);
    m.flush();
    const text = block(m, "run-0")?.querySelector(".sv-token-text").textContent;
    if (text && shown.at(-1) !== text) shown.push(text);
  }
  assert.deepEqual(shown, ['[\n  "France"\n]', "['France', 'Spain']", "['France', 'Spain', 'Japan']"]);
});

test("no streaming run: 'yet' only while live, the truth for a finished trace", (t) => {
  const snapshot = {
    ...listGeneratorTrace(),
    count: 2,
    runs: [],
    events: { us: [0, 1], kind: [0, 0], run: [-1, -1], text: ["", ""], extra: {} },
  };
  const m = mount(snapshot, { view: "tokens", live: true });
  t.after(() => m.cleanup());
  m.flush();
  assert.equal(m.$(".sv-tokens .sv-empty").textContent, "No streaming runs yet.");
  m.model.python("live", false);
  m.flush();
  assert.equal(m.$(".sv-tokens .sv-empty").textContent, "No run streamed chunks in this trace.");
});

/**
 * Give the token pane of `m` a layout: a view `height` px tall, scrolled to `scrollTop`, its
 * blocks `blockHeight` px each, stacked in order (happy-dom lays nothing out).
 */
function layOut(m, { height, blockHeight, scrollTop }) {
  const pane = m.$(".sv-tokens");
  Object.defineProperty(pane, "clientHeight", { configurable: true, get: () => height });
  pane.getBoundingClientRect = () => ({ top: 0, bottom: height });
  m.$$(".sv-token-run").forEach((element, n) => {
    const top = n * blockHeight - scrollTop;
    element.getBoundingClientRect = () => ({ top, bottom: top + blockHeight });
  });
  pane.dispatchEvent(new m.window.Event("scroll"));
}

test("thousands of blocks: the first ones hold their tokens, the others once they come near", (t) => {
  const runs = EAGER_BLOCKS + 60;
  const snapshot = bigTrace(runs * 12 + 2, runs);
  const m = mount(snapshot, { view: "tokens" });
  t.after(() => m.cleanup());
  m.flush();
  const blocks = m.$$(".sv-token-run");
  assert.equal(blocks.length, runs);
  const pieces = (n) => blocks[n].querySelector(".sv-token-pieces").textContent;
  const expected = (n) => textsOf(snapshot, n + 1, "on_chat_model_stream").join("|");
  assert.equal(pieces(0), expected(0));
  assert.equal(pieces(EAGER_BLOCKS - 1), expected(EAGER_BLOCKS - 1));
  assert.equal(pieces(EAGER_BLOCKS), "");
  // The head tells what the block holds either way.
  assert.ok(blocks[runs - 1].querySelector(".sv-token-head").textContent.includes(plural(10, "chunk")));
  // Scrolled to block 70 of 100-px blocks in a 500-px view: 12 blocks either side are near.
  layOut(m, { height: 500, blockHeight: 100, scrollTop: 7_000 });
  m.flush();
  for (const n of [58, 70, 74, 86]) assert.equal(pieces(n), expected(n), `block ${n}`);
  for (const n of [EAGER_BLOCKS, 56, 88, runs - 1]) assert.equal(pieces(n), "", `block ${n}`);
  assert.equal(
    blocks[70].querySelector(".sv-token-text").textContent,
    textsOf(snapshot, 71, "on_chat_model_stream").join(""),
  );
  // A selected run's block gets its tokens (the block is scrolled to).
  click(blocks[runs - 1].querySelector(".sv-token-head"));
  m.flush();
  assert.equal(pieces(runs - 1), expected(runs - 1));
});

// LangGraph stream parts: the store's per-mode index, the graph pane (tabs, lists, messages per
// node, values), the timeline's part lanes and the table, on snapshots recorded from real graphs
// (test/fixtures/graph.json: the model graph, six modes; subgraphs.json: the subgraph graph with a
// checkpointer; messages.json: two nodes, one in a subgraph, streaming tokens tagged joke / poem).
import assert from "node:assert/strict";
import { test } from "node:test";
import { VERSION } from "../src/contract.js";
import { Store } from "../src/store.js";
import {
  MessageGroups,
  nsLabel,
  nsLevels,
  orderModes,
  parseJson,
  partInfo,
  prettyText,
} from "../src/views/graph_model.js";
import { partCells } from "../src/views/graph_parts.js";
import { rowCells } from "../src/views/table.js";
import {
  AXIS_HEIGHT_PX,
  binTicks,
  hitRow,
  LABEL_WIDTH_PX,
  LANE_HEIGHT_PX,
  lanePartCount,
  nearestPart,
  PLOT_LEFT_PAD_PX,
  PLOT_RIGHT_MARGIN_PX,
  partLanes,
  partSummary,
  ROW_HEIGHT_PX,
} from "../src/views/timeline_model.js";
import { bigTrace, click, deltas, emptySnapshot, fixture, mount } from "./support/env.js";

const storeOf = (snapshot) => {
  const store = new Store();
  store.loadSnapshot(snapshot);
  return store;
};

const counts = (m) =>
  Object.fromEntries(
    m
      .$$(".sv-graph .sv-mode")
      .map((chip) => [chip.getAttribute("data-mode"), chip.querySelector(".sv-mode-count").textContent]),
  );

function pickMode(m, mode) {
  click(m.$(`.sv-graph .sv-mode[data-mode="${mode}"]`));
  m.flush();
}

// --- store and pure functions ------------------------------------------------------------------

test("the store indexes stream parts per mode, in order, live or from a snapshot", () => {
  const snapshot = fixture("graph.json");
  const store = storeOf(snapshot);
  assert.equal(store.partCount, 64);
  assert.deepEqual(store.partModes, ["values", "tasks", "debug", "custom", "messages", "updates"]);
  assert.deepEqual(store.partSeqs.get("values"), [1, 124]);
  assert.equal(store.partSeqs.get("messages").length, 54);
  assert.deepEqual(
    store.partTimes.get("values"),
    [1, 124].map((k) => snapshot.events.us[k] / 1000),
  );
  assert.equal(store.partMode(0), null, "a callback event is no part");
  assert.equal(store.partMode(8), "messages");
  const live = new Store();
  live.loadSnapshot(emptySnapshot());
  for (const delta of deltas(snapshot, 7)) live.applyDelta(delta);
  assert.equal(live.partCount, 64);
  assert.deepEqual(live.partSeqs.get("messages"), store.partSeqs.get("messages"));
  // A part's mode comes from its kind (`extra.mode` when given); other events' `mode` is ignored.
  const odd = new Store();
  odd.loadSnapshot({
    v: VERSION,
    count: 2,
    kinds: ["on_custom_event", "on_graph_messages/partial"],
    runs: [],
    events: { us: [1, 2], kind: [0, 1], run: [-1, -1], text: ["a", "b"], extra: { 0: { name: "x", mode: "values" } } },
  });
  assert.deepEqual(odd.partModes, ["messages/partial"]);
});

test("modes, namespaces and what a part's text says", () => {
  assert.deepEqual(orderModes(["debug", "messages/partial", "values", "error", "updates"]), [
    "values",
    "updates",
    "debug",
    "messages/partial",
    "error",
  ]);
  const ns = "node_2:bde17f48-1947-ad56-45e8-3cb2295d0f52|inner:0193-abc";
  assert.equal(nsLabel(ns), "node_2 › inner");
  assert.equal(nsLabel(""), "");
  assert.deepEqual(nsLevels("solo"), [{ node: "solo", task: "", level: "solo" }]);
  assert.equal(parseJson("Why"), undefined);
  assert.equal(parseJson('{"a":1'), undefined, "cut JSON");
  assert.equal(prettyText('{"a":[1]}'), '{\n  "a": [\n    1\n  ]\n}');
  assert.equal(prettyText("plain…"), "plain…");

  const debug =
    '{"step":2,"timestamp":"t","type":"task_result","payload":{"id":"x","name":"node_2","result":{"foo":1}}}';
  assert.deepEqual(partInfo("debug", debug), {
    step: "2",
    type: "task_result",
    task: "node_2",
    body: '{"id":"x","name":"node_2","result":{"foo":1}}',
  });
  const cutDebug = '{"step":-1,"timestamp":"t","type":"checkpoint","payload":{"config":{"configurable":{"x":"…';
  assert.equal(partInfo("debug", cutDebug).step, "-1");
  assert.equal(partInfo("debug", cutDebug).type, "checkpoint");
  assert.equal(partInfo("tasks", '{"id":"x","name":"n","input":{},"triggers":[]}').type, "task");
  assert.equal(partInfo("tasks", '{"id":"x","name":"n","error":null,"result":{}}').type, "task_result");
  assert.equal(partInfo("tasks", '{"id":"x","name":"n","error":null,"result":{"big":"…').type, "task_result");
  const checkpoint = '{"config":{},"values":{},"metadata":{"source":"loop","step":1},"next":["node_2"],"tasks":[]}';
  assert.deepEqual(partInfo("checkpoints", checkpoint), {
    step: "1",
    type: "checkpoint",
    task: "node_2",
    source: "loop",
    body: checkpoint,
  });
  assert.equal(partInfo("updates", '{"node_1":{"foo":"hi"}}', "node_1").body, '{"foo":"hi"}');
  assert.equal(partInfo("updates", '{"node_1":{"foo":"long…', "node_1").body, '{"foo":"long…');

  const groups = new MessageGroups();
  groups.add(1, { ns: "", node: "a", tags: ["joke"] });
  groups.add(2, { ns: "", node: "a", tags: ["poem"] });
  groups.add(3, { ns: "sub:1", node: "a", tags: ["joke"] });
  groups.add(4, { ns: "", node: "a", tags: ["joke"] });
  assert.deepEqual(
    groups.groups.map((group) => [group.ns, group.node, group.count]),
    [
      ["", "a", 3],
      ["sub:1", "a", 1],
    ],
  );
  assert.deepEqual(
    groups.groups[0].calls.map((call) => [call.tags, call.seqs]),
    [
      [["joke"], [1, 4]],
      [["poem"], [2]],
    ],
  );
  assert.equal(groups.where.get(4).call.key, "joke");
});

test("timeline part lanes: one per mode in tab order, ticks binned, hits and tooltips", () => {
  const store = storeOf(fixture("graph.json"));
  const lanes = partLanes(store.partModes, store.partTimes, store.partSeqs);
  assert.deepEqual(
    lanes.map((lane) => lane.mode),
    ["values", "updates", "messages", "custom", "tasks", "debug"],
  );
  assert.equal(lanePartCount(lanes), 64);
  assert.equal(lanes[2].times, store.partTimes.get("messages"), "lanes share the store's arrays");
  // One column per ms: the two states fall in the columns of their times.
  const times = lanes[0].times;
  const end = Math.ceil(times[times.length - 1]) + 1;
  const bins = binTicks(times, 0, end, end);
  assert.ok(times[1] - times[0] > 1, "the states are more than a column apart");
  assert.equal(bins[Math.floor(times[0])], 1);
  assert.equal(bins[Math.floor(times[1])], 1);
  assert.equal(
    bins.reduce((a, b) => a + b, 0),
    2,
  );
  // Lanes first (LANE_HEIGHT_PX each), then the run rows.
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX - 1, 0, 6, 4), { lane: -1, run: -1 });
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 1, 0, 6, 4), { lane: 0, run: -1 });
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 5 * LANE_HEIGHT_PX + 3, 0, 6, 4), { lane: 5, run: -1 });
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 6 * LANE_HEIGHT_PX + 1, 0, 6, 4), { lane: -1, run: 0 });
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 1, 6 * LANE_HEIGHT_PX + ROW_HEIGHT_PX, 6, 4), { lane: -1, run: 1 });
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 1, 0, 0, 4), { lane: -1, run: 0 }, "no lanes: rows as before");
  assert.deepEqual(hitRow(AXIS_HEIGHT_PX + 9 * ROW_HEIGHT_PX, 0, 0, 4), { lane: -1, run: -1 });
  assert.equal(nearestPart([1, 5, 5, 9], 5.4, 1), 1, "the first of parts at the same time");
  assert.equal(nearestPart([1, 5, 9], 7.2, 1), -1, "none close enough");
  assert.equal(nearestPart([1, 5, 9], 8.5, 1), 2);
  assert.equal(nearestPart([], 1, 1), -1);
  const many = Float64Array.from({ length: 200_000 }, (_, n) => n * 0.01);
  assert.equal(nearestPart(many, 1000.004, 0.01), 100_000);
  assert.deepEqual(
    partSummary({ mode: "updates", name: "subgraph_node_1", ns: "node_2:abc", t: 7.09, seq: 23, text: '{"a":1}' }),
    ["updates · subgraph_node_1", "namespace: node_2", "at 7.090 ms · part #23", '{"a":1}'],
  );
});

// --- the graph pane ----------------------------------------------------------------------------

test("the dashboard gains a graph pane only when the trace holds stream parts", (t) => {
  const plain = mount(fixture("parrot.json"), { view: "dashboard" });
  t.after(() => plain.cleanup());
  assert.deepEqual(
    plain.$$(".sv-pane").map((pane) => pane.getAttribute("data-pane")),
    ["tree", "timeline", "tokens", "table"],
  );
  assert.equal(plain.$(".sv-graph"), null);
  assert.ok(!plain.$(".sv-grid").classList.contains("sv-with-graph"));
  assert.equal(plain.$("canvas").getAttribute("data-parts"), "0");

  const m = mount(fixture("graph.json"), { view: "dashboard" });
  t.after(() => m.cleanup());
  m.flush();
  assert.deepEqual(
    m.$$(".sv-pane").map((pane) => pane.getAttribute("data-pane")),
    ["tree", "timeline", "tokens", "graph", "table"],
  );
  assert.ok(m.$(".sv-grid").classList.contains("sv-with-graph"));
  const graph = m.$('section.sv-pane[data-pane="graph"] .sv-graph');
  assert.ok(graph);
  assert.equal(graph.getAttribute("data-parts"), "64");
  assert.deepEqual(counts(m), { values: "2", updates: "1", messages: "54", custom: "3", tasks: "2", debug: "2" });
  assert.equal(m.$('.sv-mode[aria-pressed="true"]').getAttribute("data-mode"), "values", "values first");
  pickMode(m, "custom");
  assert.equal(m.$('.sv-mode[aria-pressed="true"]').getAttribute("data-mode"), "custom");
  assert.equal(m.$$('.sv-mode[aria-pressed="true"]').length, 1);
  assert.deepEqual(
    m.$$('.sv-graph .sv-part[data-mode="custom"] .sv-part-text').map((cell) => cell.textContent),
    ['{"progress":"writing a joke about ice cream and cats"}', '{"progress":"writing a poem"}', '{"progress":"done"}'],
  );
});

test("the pane appears live with the first part, and parts keep arriving in every tab", (t) => {
  const full = fixture("subgraphs.json");
  const m = mount(emptySnapshot("parent"), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  const stream = [...deltas(full, 1)];
  m.model.message(stream[0]);
  m.flush();
  assert.equal(m.$('[data-pane="graph"]'), null, "event 0 is the graph's start: no part yet");
  m.model.message(stream[1]);
  m.flush();
  assert.ok(m.$('[data-pane="graph"]'));
  assert.deepEqual(counts(m), { checkpoints: "1" });
  const seen = [];
  for (const delta of stream.slice(2)) {
    m.model.message(delta);
    m.flush();
    if (counts(m).values) pickMode(m, "values");
    seen.push(m.$$('.sv-graph .sv-part[data-mode="values"]').length);
  }
  assert.deepEqual(counts(m), { values: "6", updates: "4", tasks: "8", debug: "16", checkpoints: "8" });
  assert.equal(seen[seen.length - 1], 6, "the values list grew with the deltas");
  assert.ok(seen[0] < 6);
  pickMode(m, "updates");
  assert.equal(m.$$('.sv-graph .sv-part[data-mode="updates"]').length, 4);
});

test("updates list node names and readable namespaces (full ones in a title)", (t) => {
  const m = mount(fixture("subgraphs.json"), { view: "graph" });
  t.after(() => m.cleanup());
  assert.equal(m.root.getAttribute("data-view"), "graph");
  pickMode(m, "updates");
  const rows = m.$$('.sv-part[data-mode="updates"]');
  assert.deepEqual(
    rows.map((row) => row.querySelector(".sv-part-node").textContent),
    ["node_1", "subgraph_node_1", "subgraph_node_2", "node_2"],
  );
  assert.deepEqual(
    rows.map((row) => row.querySelector(".sv-part-ns").textContent),
    ["root", "node_2", "node_2", "root"],
  );
  assert.match(rows[1].querySelector(".sv-part-ns").getAttribute("title"), /^node_2:[0-9a-f-]{36}$/);
  assert.deepEqual(
    rows.map((row) => row.querySelector(".sv-part-text").textContent),
    ['{"foo":"hi! foo"}', '{"bar":"bar"}', '{"foo":"hi! foobar"}', '{"foo":"hi! foobar"}'],
  );
  // Picking one shows it whole, with its namespace.
  click(rows[2]);
  m.flush();
  const detail = m.$(".sv-graph-detail");
  assert.ok(!detail.hidden);
  assert.equal(detail.getAttribute("data-seq"), rows[2].getAttribute("data-seq"));
  assert.deepEqual(JSON.parse(m.$(".sv-graph-payload").textContent), { subgraph_node_2: { foo: "hi! foobar" } });
  assert.ok(detail.textContent.includes("node_2"));
  assert.ok(m.$$(".sv-part.sv-selected").length === 1);
  // Keyboard: the next part; Escape drops the pick.
  m.$(".sv-graph-rows").dispatchEvent(new m.window.KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
  m.flush();
  assert.equal(m.$(".sv-part.sv-selected .sv-part-node").textContent, "node_2");
  m.$(".sv-graph-rows").dispatchEvent(new m.window.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  m.flush();
  assert.ok(detail.hidden);
});

test("debug, tasks and checkpoints list step, type and task", (t) => {
  const m = mount(fixture("subgraphs.json"), { view: "graph" });
  t.after(() => m.cleanup());
  pickMode(m, "debug");
  const cell = (row, key) => row.querySelector(`.sv-part-${key}`).textContent;
  const debug = m.$$('.sv-part[data-mode="debug"]');
  assert.equal(debug.length, 16);
  assert.deepEqual([cell(debug[0], "step"), cell(debug[0], "type")], ["-1", "checkpoint"]);
  const task = debug.find((row) => cell(row, "type") === "task" && cell(row, "node") === "subgraph_node_1");
  assert.ok(task);
  assert.equal(cell(task, "step"), "1");
  assert.equal(cell(task, "ns"), "node_2");
  pickMode(m, "tasks");
  const tasks = m.$$('.sv-part[data-mode="tasks"]');
  assert.deepEqual(
    tasks.slice(0, 2).map((row) => [cell(row, "type"), cell(row, "node")]),
    [
      ["task", "node_1"],
      ["task_result", "node_1"],
    ],
  );
  pickMode(m, "checkpoints");
  const checkpoints = m.$$('.sv-part[data-mode="checkpoints"]');
  assert.equal(checkpoints.length, 8);
  assert.deepEqual(
    [cell(checkpoints[0], "step"), cell(checkpoints[0], "type"), cell(checkpoints[0], "node")],
    ["-1", "input", "__start__"],
  );
  click(checkpoints[1]);
  m.flush();
  const whole = JSON.parse(m.$(".sv-graph-payload").textContent);
  assert.deepEqual(whole.next, ["node_1"]);
});

test("values shows the latest state of the root graph until a state is picked", (t) => {
  const snapshot = fixture("graph.json");
  const m = mount(snapshot, { view: "graph" });
  t.after(() => m.cleanup());
  const detail = m.$(".sv-graph-detail");
  assert.ok(!detail.hidden);
  assert.equal(detail.getAttribute("data-seq"), "124");
  assert.match(m.$(".sv-graph-detail .sv-details-title").textContent, /^Latest state/);
  const state = JSON.parse(m.$(".sv-graph-payload").textContent);
  assert.deepEqual(Object.keys(state), ["topic", "joke", "poem"]);
  assert.ok(state.poem.startsWith("Whiskers in the moonlight"));
  const rows = m.$$('.sv-part[data-mode="values"]');
  assert.deepEqual(
    rows.map((row) => row.querySelector(".sv-part-step").textContent),
    ["0", "1"],
  );
  assert.ok(rows[1].classList.contains("sv-shown"));
  click(rows[0]);
  m.flush();
  assert.deepEqual(JSON.parse(m.$(".sv-graph-payload").textContent), { topic: "ice cream and cats" });

  // Subgraph states are numbered per namespace; the latest state shown is the root graph's.
  const sub = mount(fixture("subgraphs.json"), { view: "graph" });
  t.after(() => sub.cleanup());
  const steps = sub
    .$$('.sv-part[data-mode="values"]')
    .map((row) => [row.querySelector(".sv-part-step").textContent, row.querySelector(".sv-part-ns").textContent]);
  assert.deepEqual(steps, [
    ["0", "root"],
    ["1", "root"],
    ["0", "node_2"],
    ["1", "node_2"],
    ["2", "node_2"],
    ["2", "root"],
  ]);
  assert.deepEqual(JSON.parse(sub.$(".sv-graph-payload").textContent), { foo: "hi! foobar" });
});

test("a state cut by the kernel asks for its full payload and shows it when it comes", (t) => {
  const snapshot = fixture("graph.json");
  snapshot.events.text[124] = '{"topic":"ice cream and cats","joke":"Why did the cat…';
  const m = mount(snapshot, { view: "graph" });
  t.after(() => m.cleanup());
  assert.ok(m.model.sent.some((message) => message.type === "payload" && message.seq === 124));
  assert.match(m.$(".sv-graph-detail .sv-payload-note").textContent, /preview/);
  assert.equal(m.$(".sv-graph-payload").textContent, snapshot.events.text[124]);
  const chunk = { topic: "ice cream and cats", joke: "whole", poem: "whole too" };
  m.model.message({
    type: "payload",
    seq: 124,
    text: JSON.stringify({ data: { chunk }, metadata: {} }, null, 2),
    truncated: false,
  });
  m.flush();
  assert.deepEqual(JSON.parse(m.$(".sv-graph-payload").textContent), chunk);
  assert.equal(m.$(".sv-graph-detail .sv-payload-note").textContent, "payload");
});

test("messages: tokens grouped per node and namespace, then per LLM call", (t) => {
  const m = mount(fixture("messages.json"), { view: "graph" });
  t.after(() => m.cleanup());
  pickMode(m, "messages");
  const groups = m.$$(".sv-msg-group");
  assert.deepEqual(
    groups.map((group) => group.getAttribute("data-node")),
    ["write_joke", "write_poem"],
  );
  assert.equal(groups[0].getAttribute("data-ns"), "");
  assert.match(groups[1].getAttribute("data-ns"), /^poet:/);
  assert.equal(groups[1].querySelector(".sv-part-ns").textContent, "poet");
  const text = (group) => group.querySelector(".sv-msg-text").textContent;
  assert.equal(
    text(groups[0]),
    "Why did the cat sit on the ice cream? Because it wanted to be a little cooler about its fur-ocious appetite!",
  );
  assert.ok(text(groups[1]).startsWith("Whiskers in the moonlight"));
  assert.ok(groups[0].querySelector(".sv-msg-pieces").textContent.startsWith("Why| did| the| cat"));
  assert.equal(m.$(".sv-msg-count").textContent, "54 of 54 tokens");
  assert.deepEqual(
    m.$$(".sv-graph-chip").map((chip) => chip.getAttribute("data-value")),
    ["write_joke", "write_poem", "joke", "poem"],
  );

  // One node in the graph fixture, two LLM calls told apart by their tags.
  const one = mount(fixture("graph.json"), { view: "graph" });
  t.after(() => one.cleanup());
  pickMode(one, "messages");
  assert.equal(one.$$(".sv-msg-group").length, 1);
  assert.deepEqual(
    one.$$(".sv-msg-call").map((call) => call.getAttribute("data-tags")),
    ["joke", "poem"],
  );
  assert.ok(one.$('.sv-msg-call[data-tags="poem"] .sv-msg-text').textContent.startsWith("Whiskers"));
});

test("messages: node and tag chips narrow the tokens through the shared filters", (t) => {
  const m = mount(fixture("messages.json"), { view: "dashboard" });
  t.after(() => m.cleanup());
  pickMode(m, "messages");
  const nodes = () => m.$$(".sv-msg-group").map((group) => group.getAttribute("data-node"));
  const chip = (value) => m.$(`.sv-graph-chip[data-value="${value}"]`);
  click(chip("write_poem"));
  m.flush();
  assert.deepEqual(m.model.get("filters").include_names, ["write_poem"]);
  assert.deepEqual(nodes(), ["write_poem"]);
  assert.equal(chip("write_poem").getAttribute("aria-pressed"), "true");
  assert.equal(m.$(".sv-msg-count").textContent, "27 of 54 tokens");
  // The filter bar shows the same filter, and the table follows it.
  assert.equal(m.$('.sv-filterbar .sv-chip[data-value="write_poem"]').getAttribute("aria-pressed"), "true");
  click(chip("write_poem"));
  m.flush();
  assert.deepEqual(m.model.get("filters").include_names, []);
  assert.deepEqual(nodes(), ["write_joke", "write_poem"]);
  click(chip("joke"));
  m.flush();
  assert.deepEqual(m.model.get("filters").include_tags, ["joke"]);
  assert.deepEqual(nodes(), ["write_joke"]);
  assert.equal(m.$(".sv-msg-text").textContent.slice(0, 7), "Why did");
  // Set from Python (or the filter bar): an exclusion; its chip shows it and takes it out.
  m.model.python("filters", { ...m.model.get("filters"), include_tags: [], exclude_tags: ["joke"] });
  m.flush();
  assert.deepEqual(nodes(), ["write_poem"]);
  assert.ok(chip("joke").classList.contains("sv-off"));
  click(chip("joke"));
  m.flush();
  assert.deepEqual(m.model.get("filters").exclude_tags, []);
  assert.deepEqual(nodes(), ["write_joke", "write_poem"]);
});

test("messages grow live, and a tab not shown catches up when picked", (t) => {
  const full = fixture("messages.json");
  const m = mount(emptySnapshot("writers"), { view: "graph", live: true });
  t.after(() => m.cleanup());
  assert.ok(!m.$(".sv-graph > .sv-empty").hidden);
  const stream = [...deltas(full, 4)];
  const half = Math.floor(stream.length / 2);
  for (const delta of stream.slice(0, half)) {
    m.model.message(delta);
    m.flush();
  }
  pickMode(m, "messages");
  const texts = () =>
    m
      .$$(".sv-msg-text")
      .map((element) => element.textContent)
      .join("\n");
  const before = texts();
  for (const delta of stream.slice(half)) {
    m.model.message(delta);
    m.flush();
  }
  const after = texts();
  assert.ok(after.length > before.length && after.startsWith(before));
  assert.equal(m.$$(".sv-msg-group").length, 2);
  assert.equal(m.$(".sv-msg-count").textContent, "54 of 54 tokens");
  // The final snapshot replaces the copy: the same parts, so the same elements stay.
  const group = m.$(".sv-msg-group");
  m.model.python("snapshot", full);
  m.model.python("live", false);
  m.flush();
  assert.equal(m.$(".sv-msg-group"), group);
  assert.equal(texts(), after);
  assert.equal(m.$(".sv-msg-count").textContent, "54 of 54 tokens");
});

test("a remote server's parts: messages-tuple tokens, other modes in a generic list, the error", (t) => {
  const meta = (node) => `{"langgraph_node":"${node}","tags":["joke"],"ls_provider":"${"x".repeat(3000)}"}`;
  const rows = [
    ["on_graph_metadata", '{"run_id":"r1","attempt":1}', { mode: "metadata", ns: "" }],
    [
      "on_graph_messages",
      `[{"content":"Hel","type":"AIMessageChunk"},${meta("agent")}]`,
      { name: "agent", tags: ["joke"], mode: "messages", ns: "" },
    ],
    // Cut by the kernel (no longer JSON): the content is read from its beginning.
    [
      "on_graph_messages",
      `${`[{"content":"lo \\"you\\"","type":"AIMessageChunk"},${meta("agent")}`.slice(0, 2000)}…`,
      { name: "agent", tags: ["joke"], mode: "messages", ns: "" },
    ],
    [
      "on_graph_messages",
      '[{"content":[{"type":"text","text":"!"}],"type":"AIMessageChunk"},{}]',
      { name: "agent", tags: ["joke"], mode: "messages", ns: "" },
    ],
    [
      "on_graph_messages/partial",
      '[{"type":"ai","content":"Hello"}]',
      { name: "agent", tags: [], mode: "messages/partial", ns: "" },
    ],
    ["on_graph_end_part", '{"a":1}', { mode: "end", ns: "" }],
    ["on_chain_error", "ValueError('explode failed on purpose')", { mode: "error", ns: "" }],
  ];
  const kinds = [...new Set(rows.map((row) => row[0]))];
  const snapshot = {
    v: 1,
    name: "remote",
    count: rows.length,
    now: 10,
    kinds,
    runs: [
      {
        i: 0,
        id: "r1",
        name: "agent",
        type: "chain",
        parent: -1,
        tags: [],
        start: 0,
        end: 9,
        status: "error",
        error: "ValueError",
      },
    ],
    events: {
      us: rows.map((_, n) => 1000 * (n + 1)),
      kind: rows.map((row) => kinds.indexOf(row[0])),
      run: rows.map(() => 0),
      text: rows.map((row) => row[1]),
      extra: Object.fromEntries(rows.map((row, n) => [n, row[2]])),
    },
  };
  const m = mount(snapshot, { view: "graph" });
  t.after(() => m.cleanup());
  assert.deepEqual(counts(m), { messages: "3", metadata: "1", "messages/partial": "1", end: "1", error: "1" });
  assert.equal(m.$(".sv-msg-text").textContent, 'Hello "you"!');
  assert.equal(m.$(".sv-msg-pieces").textContent, 'Hel|lo "you"|!');
  pickMode(m, "messages/partial");
  const row = m.$('.sv-part[data-mode="messages/partial"]');
  assert.equal(row.querySelector(".sv-part-node").textContent, "agent");
  assert.equal(row.querySelector(".sv-part-text").textContent, '[{"type":"ai","content":"Hello"}]');
  pickMode(m, "error");
  assert.equal(m.$('.sv-part[data-mode="error"] .sv-part-text').textContent, "ValueError('explode failed on purpose')");
  pickMode(m, "end");
  assert.equal(m.$('.sv-part[data-mode="end"] .sv-part-text').textContent, '{"a":1}');
});

test("the graph view of a trace without parts says so", (t) => {
  const m = mount(fixture("parrot.json"), { view: "graph" });
  t.after(() => m.cleanup());
  assert.ok(m.$(".sv-graph"));
  assert.equal(m.$$(".sv-mode").length, 0);
  assert.match(m.$(".sv-graph > .sv-empty").textContent, /No LangGraph stream parts/);
});

// --- timeline and table ------------------------------------------------------------------------

test("the timeline lays part markers out on lanes; hover names a part, click shows it in the pane", (t) => {
  const snapshot = fixture("subgraphs.json");
  const m = mount(snapshot, { view: "dashboard" });
  t.after(() => m.cleanup());
  m.flush();
  const canvas = m.$("canvas.sv-timeline-canvas");
  assert.equal(canvas.getAttribute("data-bars"), "6");
  assert.equal(canvas.getAttribute("data-parts"), "42");
  assert.equal(canvas.getAttribute("data-lanes"), "5");
  assert.match(canvas.getAttribute("aria-label"), /42 LangGraph stream parts on 5 lanes/);
  // Lanes: values, updates, tasks, debug, checkpoints. Point at the second update (seq 31).
  const [t0, t1] = canvas.getAttribute("data-range").split(",").map(Number);
  const x0 = LABEL_WIDTH_PX + PLOT_LEFT_PAD_PX;
  const x1 = 800 - PLOT_RIGHT_MARGIN_PX; // the fallback width without layout, less the right margin
  const xOf = (time) => x0 + ((time - t0) * (x1 - x0)) / (t1 - t0);
  const seq = 31;
  const at = {
    clientX: xOf(snapshot.events.us[seq] / 1000),
    clientY: AXIS_HEIGHT_PX + 1 * LANE_HEIGHT_PX + 5,
    bubbles: true,
  };
  canvas.dispatchEvent(new m.window.MouseEvent("mousemove", at));
  const tooltip = m.$(".sv-tooltip");
  assert.ok(!tooltip.hidden);
  assert.equal(tooltip.querySelector(".sv-tooltip-title").textContent, "updates · subgraph_node_1");
  assert.ok(tooltip.textContent.includes("namespace: node_2"));
  assert.ok(tooltip.textContent.includes('{"subgraph_node_1":{"bar":"bar"}}'));
  canvas.dispatchEvent(new m.window.MouseEvent("mousedown", { ...at, button: 0 }));
  m.window.dispatchEvent(new m.window.MouseEvent("mouseup", at));
  m.flush();
  assert.equal(m.model.get("selected_run"), "", "a part is no run");
  assert.equal(m.$('.sv-graph .sv-mode[aria-pressed="true"]').getAttribute("data-mode"), "updates");
  assert.equal(m.$(".sv-graph-detail").getAttribute("data-seq"), String(seq));
  assert.ok(m.$(`.sv-part[data-seq="${seq}"]`).classList.contains("sv-selected"));
  // Runs are below the lanes: the first run row still selects its run.
  const runRow = { clientX: LABEL_WIDTH_PX + 300, clientY: AXIS_HEIGHT_PX + 5 * LANE_HEIGHT_PX + 5, bubbles: true };
  canvas.dispatchEvent(new m.window.MouseEvent("mousedown", { ...runRow, button: 0 }));
  m.window.dispatchEvent(new m.window.MouseEvent("mouseup", runRow));
  assert.equal(m.model.get("selected_run"), snapshot.runs[0].id);
});

test("with a 2D context the lanes draw their labels", (t) => {
  const texts = [];
  const g = new Proxy(
    { measureText: (text) => ({ width: String(text).length * 6 }), fillText: (text) => texts.push(String(text)) },
    { get: (object, key) => (key in object ? object[key] : () => {}), set: () => true },
  );
  const m = mount(fixture("graph.json"), { view: "timeline" });
  t.after(() => m.cleanup());
  m.$("canvas").getContext = () => g;
  click(m.$('button[data-action="fit"]'));
  m.flush();
  for (const label of ["values · 2", "messages · 54", "debug · 2", "model", "DemoChatModel"]) {
    assert.ok(texts.includes(label), `${label} in ${JSON.stringify(texts)}`);
  }
});

test("the event table names parts by node and mode, with the subgraph in the path", (t) => {
  const snapshot = fixture("subgraphs.json");
  const store = storeOf(snapshot);
  const cells = rowCells(store, 31);
  assert.equal(cells.event, "on_graph_updates");
  assert.equal(cells.name, "subgraph_node_1");
  assert.equal(cells.type, "updates");
  assert.equal(cells.path, "parent › node_2");
  assert.equal(rowCells(store, 3).type, "values");
  assert.equal(rowCells(store, 3).name, "parent");
  assert.equal(partCells(store, 31, "updates").node, "subgraph_node_1");
  const m = mount(snapshot, { view: "table" });
  t.after(() => m.cleanup());
  const kinds = m.$$(".sv-kind").map((chip) => chip.getAttribute("data-kind"));
  for (const kind of [
    "on_graph_values",
    "on_graph_updates",
    "on_graph_tasks",
    "on_graph_debug",
    "on_graph_checkpoints",
  ]) {
    assert.ok(kinds.includes(kind), kind);
  }
  click(m.$('.sv-kind[data-kind="on_graph_updates"]'));
  m.flush();
  assert.equal(m.$(".sv-count").textContent, "4 of 54 events");
  const types = m.$$(".sv-filterbar .sv-chip").map((chip) => chip.getAttribute("data-value"));
  for (const mode of ["values", "updates", "checkpoints"]) assert.ok(types.includes(mode), mode);
});

// --- safety and scale --------------------------------------------------------------------------

const SCRIPT = "<script>alert(1)</script>";
const IMG = "<img src=x onerror=alert(1)>";
const RTL = "\u202egnp.exe";

test("hostile node names, namespaces, tags, modes and texts render as text", (t) => {
  const kinds = ["on_graph_updates", "on_graph_messages", `on_graph_${SCRIPT}`, "on_graph_values"];
  const rows = [
    [0, `{"${SCRIPT}":"${IMG}"}`, { name: SCRIPT, tags: [], mode: "updates", ns: `${IMG}:1|${RTL}:2` }],
    [1, `${IMG}\u0000`, { name: SCRIPT, tags: [IMG, RTL], mode: "messages", ns: `${SCRIPT}:x` }],
    [2, SCRIPT, { name: IMG, tags: [], mode: SCRIPT, ns: "" }],
    [3, `{"x":"${SCRIPT}`, { name: "g", tags: [], mode: "values", ns: "" }],
  ];
  const snapshot = {
    v: 1,
    name: SCRIPT,
    count: rows.length,
    now: 5,
    kinds,
    runs: [],
    events: {
      us: rows.map((_, n) => n * 1000),
      kind: rows.map((row) => row[0]),
      run: rows.map(() => -1),
      text: rows.map((row) => row[1]),
      extra: Object.fromEntries(rows.map((row, n) => [n, row[2]])),
    },
  };
  for (const view of ["dashboard", "graph", "timeline"]) {
    const m = mount(snapshot, { view });
    t.after(() => m.cleanup());
    m.flush();
    const inert = () => {
      assert.equal(m.root.querySelectorAll("script, img, iframe, svg, object, embed, a").length, 0);
      for (const element of m.root.querySelectorAll("*")) {
        for (const attribute of element.attributes) assert.ok(!attribute.name.startsWith("on"), attribute.name);
      }
      assert.ok(!m.root.textContent.includes("\u202e"), "no raw bidi override");
      assert.ok(!m.root.textContent.includes("\u0000"), "no raw NUL");
    };
    inert();
    if (view === "timeline") continue;
    pickMode(m, "updates");
    const row = m.$('.sv-part[data-mode="updates"]');
    assert.equal(row.querySelector(".sv-part-node").textContent, SCRIPT);
    assert.equal(row.querySelector(".sv-part-ns").textContent, "<img src=x onerror=alert(1)> › ⟨U+202E⟩gnp.exe");
    assert.equal(row.querySelector(".sv-part-ns").getAttribute("title"), `${IMG}:1|${RTL}:2`);
    assert.equal(row.querySelector(".sv-part-text").textContent, IMG);
    click(row);
    m.flush();
    assert.ok(m.$(".sv-graph-payload").textContent.includes(IMG));
    pickMode(m, "messages");
    assert.equal(m.$(".sv-msg-group .sv-part-node").textContent, SCRIPT);
    assert.equal(m.$(".sv-msg-text").textContent, `${IMG}␀`);
    assert.ok(m.$$(".sv-graph-chip").some((chip) => chip.getAttribute("data-value") === IMG));
    pickMode(m, SCRIPT);
    assert.equal(m.$(".sv-part .sv-part-node").textContent, IMG);
    assert.equal(m.$(".sv-part").getAttribute("data-mode"), SCRIPT);
    assert.ok(m.$$(".sv-mode").some((chip) => chip.textContent.startsWith(SCRIPT)));
    inert();
  }
});

/** `bigTrace` with `parts` stream parts of several modes added at the end (root run, 1 µs apart). */
function withParts(snapshot, parts) {
  const modes = ["messages", "updates", "values", "custom", "debug"];
  const base = snapshot.kinds.length;
  snapshot.kinds.push(...modes.map((mode) => `on_graph_${mode}`));
  const events = snapshot.events;
  const t0 = events.us[events.us.length - 1];
  for (let n = 0; n < parts; n += 1) {
    const m = n % 10 < 6 ? 0 : (n % 10) - 5;
    const seq = events.us.length;
    events.us.push(t0 + n);
    events.kind.push(base + m);
    events.run.push(0);
    events.text.push(m === 0 ? ` tok${n}` : `{"n":${n}}`);
    events.extra[String(seq)] = {
      name: `node_${n % 7}`,
      tags: m === 0 ? [`tag_${n % 3}`] : [],
      mode: modes[m],
      ns: n % 2 ? `sub:${n % 5}` : "",
    };
  }
  snapshot.count = events.us.length;
  snapshot.now = (t0 + parts) / 1000;
  return snapshot;
}

test("10,000 runs, 200,000 ticks and 50,000 parts: timeline and graph pane hold what is in view only", (t) => {
  const big = withParts(bigTrace(200_000, 10_000), 50_000);
  const timeline = mount(big, { view: "timeline" });
  t.after(() => timeline.cleanup());
  timeline.flush();
  const canvas = timeline.$("canvas");
  assert.equal(canvas.getAttribute("data-bars"), "10001");
  assert.equal(canvas.getAttribute("data-parts"), "50000");
  assert.equal(canvas.getAttribute("data-lanes"), "5");
  const m = mount(big, { view: "graph" });
  t.after(() => m.cleanup());
  m.flush();
  assert.equal(counts(m).messages, "30,000");
  assert.ok(m.$$(".sv-part").length < 100, "the list is virtualized");
  pickMode(m, "messages");
  const keys = new Set();
  for (let n = 0; n < 50_000; n += 1) if (n % 10 < 6) keys.add(`${n % 7} ${n % 2 ? n % 5 : ""}`);
  assert.equal(m.$$(".sv-msg-group").length, keys.size, "one group per node and namespace");
  assert.ok(m.$$(".sv-msg-call").length < 100, "one block per LLM call, not per token");
  // Filtering regroups at once.
  click(m.$('.sv-graph-chip[data-value="tag_1"]'));
  m.flush();
  assert.equal(m.$(".sv-msg-count").textContent, "10,000 of 30,000 tokens");
});

test("the pane keeps the tab shown when parts of another mode arrive, and the tab the user picked", (t) => {
  const full = fixture("subgraphs.json");
  const m = mount(emptySnapshot("parent"), { view: "graph", live: true });
  t.after(() => m.cleanup());
  const shown = () => m.$('.sv-graph .sv-mode[aria-pressed="true"]')?.getAttribute("data-mode") ?? null;
  const stream = [...deltas(full, 1)];
  let n = 0;
  for (; n < stream.length && !shown(); n += 1) {
    m.model.message(stream[n]);
    m.flush();
  }
  const first = shown();
  assert.equal(first, "checkpoints", "the first part's mode is shown");
  const seen = new Set();
  for (; n < 25; n += 1) {
    m.model.message(stream[n]);
    m.flush();
    seen.add(shown());
  }
  assert.ok(Object.keys(counts(m)).includes("values"), "a mode ordered before it arrived");
  assert.deepEqual([...seen], [first], "the pane did not jump to another tab by itself");
  pickMode(m, "updates");
  for (; n < stream.length; n += 1) {
    m.model.message(stream[n]);
    m.flush();
    assert.equal(shown(), "updates", `the tab the user picked stays (part ${n})`);
  }
  assert.equal(m.$$('.sv-graph .sv-part[data-mode="updates"]').length, 4);
});

test("values, updates and checkpoints: a diff / full toggle; a state carried over from the thread says so", (t) => {
  // The approval graph's third run on one thread (js/test/fixtures/regenerate.py: thread).
  const m = mount(fixture("thread.json"), { view: "graph" });
  t.after(() => m.cleanup());
  const toggle = m.$(".sv-graph-view");
  const texts = (mode) =>
    m.$$(`.sv-part[data-mode="${mode}"]`).map((row) => row.querySelector(".sv-part-text").textContent);
  const pick = (view) => {
    click(m.$(`.sv-graph-view .sv-toggle[data-view="${view}"]`));
    m.flush();
  };
  assert.ok(!toggle.hidden);
  assert.equal(m.$('.sv-toggle[data-view="full"]').getAttribute("aria-pressed"), "true");
  // Full: every values row is the whole state; the first one is the thread's state, said so.
  const full = texts("values");
  assert.equal(full.length, 3);
  assert.equal(
    full[0],
    `⟲ state carried over from the thread, with this run's input · {"topic":"dogs","draft":"A short note about cats","decision":"yes","published":"published: A short note about cats"}`,
  );
  assert.ok(full[1].startsWith('{"topic":"dogs","draft":"A short note about dogs"'));
  // Diff: each row is what changed since the state before.
  pick("diff");
  assert.equal(m.$('.sv-toggle[data-view="diff"]').getAttribute("aria-pressed"), "true");
  assert.equal(m.$(".sv-graph").getAttribute("data-part-view"), "diff");
  const diffs = texts("values");
  assert.equal(
    diffs[0],
    "⟲ state carried over from the thread, with this run's input · + topic: 'dogs' · + draft: 'A short note about cats' · + decision: 'yes' · + published: 'published: A short note about cats'",
  );
  assert.deepEqual(diffs.slice(1), ["~ draft: 'A short note about cats' → 'A short note about dogs'", "(no change)"]);
  // The whole diff, one change a line, in the cell's title.
  const first = m.$$('.sv-part[data-mode="values"] .sv-part-text')[1];
  assert.equal(first.getAttribute("title"), "~ draft: 'A short note about cats' → 'A short note about dogs'");
  pickMode(m, "updates");
  assert.deepEqual(texts("updates"), [
    "~ draft: 'A short note about cats' → 'A short note about dogs'",
    `{"question":"Publish this draft?","draft":"A short note about dogs"}`,
  ]);
  pickMode(m, "checkpoints");
  const checkpoints = texts("checkpoints");
  assert.ok(checkpoints[0].startsWith("⟲ state before this run (carried over from the thread) · + topic: 'cats'"));
  assert.equal(checkpoints[1], "~ topic: 'cats' → 'dogs'");
  // Picking a part shows its change above the whole part (in either view), and where it came from.
  click(m.$$('.sv-part[data-mode="checkpoints"]')[0]);
  m.flush();
  assert.ok(!m.$(".sv-graph-change").hidden);
  assert.equal(
    m.$(".sv-graph-change-note").textContent,
    "change · ⟲ state before this run (carried over from the thread)",
  );
  assert.equal(
    m.$(".sv-graph-diff").textContent,
    "+ topic: 'cats'\n+ draft: 'A short note about cats'\n+ decision: 'yes'\n+ published: 'published: A short note about cats'",
  );
  assert.deepEqual(JSON.parse(m.$(".sv-graph-payload").textContent).metadata, {
    source: "input",
    step: 4,
    parents: {},
  });
  // Back to full: the whole checkpoint again.
  pick("full");
  assert.ok(texts("checkpoints")[1].startsWith('{"config":'));
  // Tabs without diffs have no toggle.
  const other = mount(fixture("messages.json"), { view: "graph" });
  t.after(() => other.cleanup());
  pickMode(other, "custom");
  assert.ok(other.$(".sv-graph-view").hidden);
});

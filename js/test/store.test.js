// The store: snapshot, live deltas, gaps and re-syncs, run updates, incremental indexes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Store, treeRows } from "../src/store.js";
import { FakeModel, bigTrace, deltaOf, deltas, emptySnapshot, fixture } from "./support/env.js";

function connected(snapshot) {
  const model = new FakeModel({ snapshot });
  const store = new Store();
  store.connect(model);
  return { model, store };
}

test("a snapshot builds the copy and its per-run indexes", () => {
  const { store } = connected(fixture("parrot.json"));
  assert.equal(store.count, 38);
  assert.equal(store.name, "parrot joke");
  const model = store.byId.get("1f0c6a10-0000-4000-8000-000000000002");
  assert.equal(store.runs[model].name, "DemoChatModel");
  const pieces = store.runStream[model].map((k) => store.cols.text[k]);
  assert.deepEqual(pieces, ["Why", " did", " the", " par", "rot", " sit", " on", " the", " stick", "?"]);
  assert.equal(store.runTicks[model].length, 10);
  assert.ok(store.runTicks[model].every((t, n, all) => n === 0 || t >= all[n - 1]));
  assert.deepEqual(store.children[0], [1, 2, 3]);
  assert.equal(store.runPath(2), "RunnableSequence › DemoChatModel");
  assert.deepEqual([...store.values.types].sort(), ["chain", "chat_model", "parser", "prompt"]);
});

test("deltas grow the copy live, and a gap asks for a sync instead", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(emptySnapshot());
  const changes = [];
  store.subscribe((change) => changes.push(change));
  const parts = [...deltas(full, 7)];
  model.message(parts[0]);
  assert.equal(store.count, 7);
  // parts[2] starts at 14 while the copy ends at 7: ignored, and a sync is asked for.
  model.message(parts[2]);
  assert.equal(store.count, 7);
  assert.deepEqual(model.sent, [{ type: "sync", have: 7 }]);
  // More out-of-order deltas do not flood the kernel with the same request.
  model.message(parts[3]);
  assert.equal(model.sent.length, 1);
  // The kernel answers from 7 with every run row and every kind name.
  const answer = deltaOf(full, 7, full.count);
  answer.kinds = full.kinds;
  answer.runs = full.runs;
  model.message(answer);
  assert.equal(store.count, full.count);
  assert.deepEqual(store.kinds, full.kinds);
  assert.equal(store.runStream[2].length, 10);
  assert.ok(changes.some((change) => change.events === 7));
});

test("a delta replaces run rows by index and follows a re-parented orphan", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(full);
  const orphan = { ...full.runs[3], i: 4, id: "late", name: "Late", parent: -1, orphan: true };
  model.message({ type: "delta", from: store.count, to: store.count, now: 700, kinds: [], runs: [orphan], events: {} });
  assert.deepEqual(treeRows(store.runs, store.children).rows, [0, 1, 2, 3, 4]);
  assert.equal(store.treeOrder().depth[4], 0);
  // Its parent shows up: it is adopted.
  model.message({ type: "delta", from: store.count, to: store.count, now: 701, kinds: [], runs: [{ ...orphan, parent: 2, orphan: false }], events: {} });
  const order = store.treeOrder();
  assert.deepEqual(order.rows, [0, 1, 2, 4, 3]);
  assert.equal(order.depth[3], 2);
  assert.equal(store.runPath(4), "RunnableSequence › DemoChatModel › Late");
  assert.equal(store.now, 701);
});

test("a snapshot replaces the copy only when it holds at least as many events", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(full);
  const older = { ...emptySnapshot("older"), count: 0 };
  model.set("snapshot", older);
  assert.equal(store.count, full.count);
  const renamed = structuredClone(full);
  renamed.name = "renamed";
  model.set("snapshot", renamed);
  assert.equal(store.name, "renamed");
  assert.equal(store.count, full.count);
});

test("kind names are merged whether a delta sends new names only or all of them", () => {
  const store = new Store();
  store.mergeKinds(["on_chain_start"]);
  store.mergeKinds(["on_chain_start", "on_chat_model_stream"]);
  store.mergeKinds(["on_chain_end"]);
  assert.deepEqual(store.kinds, ["on_chain_start", "on_chat_model_stream", "on_chain_end"]);
});

test("malformed input does not break the store", () => {
  const store = new Store();
  assert.equal(store.loadSnapshot(null), false);
  assert.equal(store.loadSnapshot({ count: 5, events: { us: [1] } }), true);
  assert.equal(store.count, 0);
  store.onMessage("not a message");
  store.onMessage({ type: "delta", from: 0, to: 2, events: { us: [1] } });
  assert.equal(store.count, 0);
  store.putRun({ i: "x" });
  store.putRun({ i: 0, name: { toString: () => "obj" }, tags: [1, null], status: "weird" });
  assert.equal(store.runs[0].name, "obj");
  assert.deepEqual(store.runs[0].tags, ["1", "null"]);
  assert.equal(store.runs[0].status, "running");
});

test("200,000 events in deltas are applied in well under a few seconds", () => {
  const full = bigTrace(200_000, 20);
  const { model, store } = connected(emptySnapshot());
  const started = performance.now();
  for (const delta of deltas(full, 500)) model.message(delta);
  const elapsed = performance.now() - started;
  assert.equal(store.count, 200_000);
  assert.equal(store.runTicks.reduce((n, ticks) => n + (ticks?.length ?? 0), 0), full.kinds.length && store.kindCounts[2]);
  assert.ok(elapsed < 4000, `took ${elapsed} ms`);
});

test("times come in µs; extra gives events their own name, tags, mode and namespace", () => {
  const snapshot = fixture("parrot.json");
  const { model, store } = connected(snapshot);
  assert.equal(store.cols.t[5], 250.3);
  const from = store.count;
  model.message({
    type: "delta",
    from,
    to: from + 2,
    now: 700,
    kinds: ["on_custom_event", "graph_part"],
    runs: [],
    events: {
      us: [650_000, 651_500],
      kind: [11, 12],
      run: [0, -1],
      text: ["{'step': 1}", "{'agent': {...}}"],
      extra: {
        [from]: { name: "progress", tags: ["my_chain"] },
        [from + 1]: { name: "LangGraph", tags: [], mode: "updates", ns: "parent:1|child:2" },
      },
    },
  });
  assert.equal(store.cols.t[from + 1], 651.5);
  assert.equal(store.eventName(from), "progress");
  assert.deepEqual(store.eventTags(from), ["my_chain"]);
  assert.equal(store.eventTypeOf(from), "progress", "a custom event is typed by its name");
  assert.equal(store.eventMode(from + 1), "updates");
  assert.equal(store.eventNs(from + 1), "parent:1|child:2");
  assert.equal(store.eventTypeOf(from + 1), "updates", "a graph part is typed by its mode");
  assert.equal(store.eventName(5), "DemoChatModel", "no extra: the run's name");
  assert.ok(store.values.types.has("progress") && store.values.types.has("updates"));
  assert.ok(store.values.names.has("LangGraph"));
});

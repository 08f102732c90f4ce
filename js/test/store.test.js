// The store: snapshot, live deltas, gaps and re-syncs, run updates, incremental indexes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { VERSION } from "../src/contract.js";
import { Store } from "../src/store.js";
import { treeRows } from "../src/tree_order.js";
import { bigTrace, deltaOf, deltas, emptySnapshot, FakeModel, fixture, textsOf } from "./support/env.js";

function connected(snapshot) {
  const model = new FakeModel({ snapshot });
  const store = new Store();
  store.connect(model);
  return { model, store };
}

test("a snapshot builds the copy and its per-run indexes", () => {
  const snapshot = fixture("parrot.json");
  const { store } = connected(snapshot);
  assert.equal(store.count, snapshot.count);
  assert.equal(store.name, "parrot joke");
  const model = store.byId.get(snapshot.runs[2].id);
  assert.equal(store.runs[model].name, "DemoChatModel");
  const pieces = store.runStream[model].map((k) => store.cols.text[k]);
  assert.deepEqual(pieces, textsOf(snapshot, 2, "on_chat_model_stream"));
  // The guide's joke, token by token, then the model's closing chunk (usage, no text).
  assert.deepEqual(pieces, ["Why", " did", " the", " par", "rot", " sit", " on", " the", " stick", "?", ""]);
  assert.equal(store.runTicks[model].length, pieces.length);
  assert.ok(store.runTicks[model].every((t, n, all) => n === 0 || t >= all[n - 1]));
  assert.deepEqual(store.children[0], [1, 2, 3]);
  assert.equal(store.runPath(2), "RunnableSequence › DemoChatModel");
  assert.deepEqual([...store.values.types].sort(), ["chain", "chat_model", "parser", "prompt"]);
});

/** The snapshot the kernel would hold after `count` events of `full`. */
function prefix(full, count) {
  const part = deltaOf(full, 0, count);
  return { v: VERSION, name: full.name, count, now: part.now, kinds: part.kinds, runs: part.runs, events: part.events };
}

test("deltas grow the copy live; after a gap it waits, never asking the kernel", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(emptySnapshot());
  const changes = [];
  store.subscribe((change) => changes.push(change));
  const parts = [...deltas(full, 7)];
  model.message(parts[0]);
  assert.equal(store.count, 7);
  // parts[1] is lost; parts[2] and parts[3] start beyond the copy: kept aside, nothing sent.
  model.message(parts[2]);
  model.message(parts[3]);
  assert.equal(store.count, 7);
  assert.deepEqual(model.sent, []);
  // The kernel's next snapshot refresh (taken after parts[2] was sent) fills the gap, and the
  // delta kept aside applies at once.
  model.python("snapshot", prefix(full, 21));
  assert.equal(store.count, 28);
  for (const part of parts.slice(4)) model.message(part);
  assert.equal(store.count, full.count);
  assert.deepEqual(store.kinds, full.kinds);
  assert.equal(store.runStream[2].length, textsOf(full, 2, "on_chat_model_stream").length);
  assert.deepEqual(store.cols.text, full.events.text);
  assert.deepEqual(model.sent, []);
  assert.ok(changes.some((change) => change.events === 7));
  assert.ok(changes.every((change) => !change.reset || change.events === 0));
});

test("deltas that arrive out of order are applied in order", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(emptySnapshot());
  const parts = [...deltas(full, 5)];
  for (const index of [1, 3, 2, 0, ...parts.keys()]) model.message(parts[index]);
  assert.equal(store.count, full.count);
  assert.deepEqual(store.cols.text, full.events.text);
  assert.deepEqual(store.cols.kind, full.events.kind);
  assert.equal(store.pending.size, 0);
});

test("a delta that overlaps the copy adds only what is new; one it holds already is dropped", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(prefix(full, 10));
  const overlapping = deltaOf(full, 4, 20);
  overlapping.kinds = full.kinds;
  model.message(overlapping);
  assert.equal(store.count, 20);
  assert.deepEqual(store.cols.text, full.events.text.slice(0, 20));
  model.message(deltaOf(full, 12, 18));
  assert.equal(store.count, 20);
  assert.deepEqual(store.cols.text, full.events.text.slice(0, 20));
});

test("a snapshot with more events extends the copy in place; one with fewer is ignored", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(prefix(full, 12));
  const generation = store.generation;
  model.python("snapshot", prefix(full, 30));
  assert.equal(store.count, 30);
  assert.equal(store.generation, generation, "views keep what they drew and append");
  model.python("snapshot", prefix(full, 20));
  assert.equal(store.count, 30);
  assert.deepEqual(store.cols.text, full.events.text.slice(0, 30));
});

test("what comes before any view is ready is kept by initialize's store and shown by views", async () => {
  const { default: widget } = await import("../src/index.js");
  const { makeWindow } = await import("./support/env.js");
  const full = fixture("parrot.json");
  const model = new FakeModel({ snapshot: emptySnapshot(), uid: "w1", live: true });
  // anywidget calls initialize with one stand-in of the model...
  const stopModel = widget.initialize({ model: model.proxy("initialize") });
  const parts = [...deltas(full, 6)];
  for (const part of parts.slice(0, 3)) model.message(part);
  // ...and each render with another one: the views find the same store by uid.
  const dom = makeWindow();
  const first = dom.document.createElement("div");
  const second = dom.document.createElement("div");
  dom.document.body.append(first, second);
  const viewA = model.proxy("view A");
  const stopA = widget.render({ model: viewA, el: first });
  const stopB = widget.render({ model: model.proxy("view B"), el: second });
  for (const part of parts.slice(3)) model.message(part);
  dom.flush();
  const count = (el) => el.querySelector(".sv-count").textContent;
  assert.equal(count(first), `${full.count} of ${full.count} events`);
  assert.equal(count(second), `${full.count} of ${full.count} events`);
  // The first view goes (anywidget drops its listeners); the other one keeps following.
  stopA();
  model.off(null, null, "view A");
  model.message({ type: "delta", from: full.count, to: full.count, now: 5000, kinds: [], runs: [], events: {} });
  // Displayed again mid-run: a new view of the same widget shows everything at once.
  const third = dom.document.createElement("div");
  dom.document.body.append(third);
  const stopC = widget.render({ model: model.proxy("view C"), el: third });
  dom.flush();
  assert.equal(count(third), `${full.count} of ${full.count} events`);
  assert.deepEqual(model.sent, [], "no view asked the kernel for anything");
  stopB();
  stopC();
  stopModel();
  model.off(null, null, "initialize");
  assert.equal(model.listeners(), 0);
  dom.window.happyDOM?.abort?.();
});

test("a store whose first holder goes keeps following the model through another holder", async () => {
  const { holdStore } = await import("../src/store.js");
  const full = fixture("parrot.json");
  const model = new FakeModel({ snapshot: emptySnapshot(), uid: "w2" });
  const a = holdStore(model.proxy("a"));
  const b = holdStore(model.proxy("b"));
  assert.equal(a.store, b.store);
  const parts = [...deltas(full, 10)];
  model.message(parts[0]);
  a.release();
  model.off(null, null, "a");
  for (const part of parts.slice(1)) model.message(part);
  assert.equal(b.store.count, full.count);
  b.release();
  assert.notEqual(holdStore(model.proxy("c")).store, b.store, "a released store is forgotten");
});

test("a delta replaces run rows by index and follows a re-parented orphan", () => {
  const full = fixture("parrot.json");
  const { model, store } = connected(full);
  const orphan = { ...full.runs[3], i: 4, id: "late", name: "Late", parent: -1, orphan: true };
  model.message({ type: "delta", from: store.count, to: store.count, now: 700, kinds: [], runs: [orphan], events: {} });
  assert.deepEqual(treeRows(store.runs, store.children).rows, [0, 1, 2, 3, 4]);
  assert.equal(store.treeOrder().depth[4], 0);
  // Its parent shows up: it is adopted.
  model.message({
    type: "delta",
    from: store.count,
    to: store.count,
    now: 701,
    kinds: [],
    runs: [{ ...orphan, parent: 2, orphan: false }],
    events: {},
  });
  const order = store.treeOrder();
  assert.deepEqual(order.rows, [0, 1, 2, 4, 3]);
  assert.equal(order.depth[3], 2);
  assert.equal(store.runPath(4), "RunnableSequence › DemoChatModel › Late");
  assert.equal(store.now, 701);
});

test("a snapshot with the same count refreshes the name; an older one changes nothing", () => {
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
  assert.equal(store.loadSnapshot({ v: VERSION, count: 5, events: { us: [1] } }), true);
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

test("200,000 events in deltas: each event is read and indexed once, whatever the copy holds", () => {
  const full = bigTrace(200_000, 20);
  const { model, store } = connected(emptySnapshot());
  let appended = 0;
  const appendEvents = store.appendEvents.bind(store);
  store.appendEvents = (events, size) => {
    appended += size;
    appendEvents(events, size);
  };
  for (const delta of deltas(full, 500)) model.message(delta);
  assert.equal(store.count, 200_000);
  assert.equal(appended, 200_000, "a delta costs its own events, never the ones already held");
  const streamed = full.events.kind.filter((kind) => full.kinds[kind] === "on_chat_model_stream").length;
  assert.equal(store.kindCounts[full.kinds.indexOf("on_chat_model_stream")], streamed);
  assert.equal(
    store.runTicks.reduce((n, ticks) => n + (ticks?.length ?? 0), 0),
    streamed,
  );
});

test("times come in µs; extra gives events their own name, tags, mode and namespace", () => {
  const snapshot = fixture("parrot.json");
  const { model, store } = connected(snapshot);
  assert.ok(snapshot.events.us.every(Number.isInteger));
  assert.deepEqual(
    store.cols.t,
    snapshot.events.us.map((us) => us / 1000),
  );
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
  const token = snapshot.events.kind.indexOf(snapshot.kinds.indexOf("on_chat_model_stream"));
  assert.equal(store.eventName(token), "DemoChatModel", "no extra: the run's name");
  assert.ok(store.values.types.has("progress") && store.values.types.has("updates"));
  assert.ok(store.values.names.has("LangGraph"));
});

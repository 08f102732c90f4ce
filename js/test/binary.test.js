// Binary columns (docs/protocol.md, "Binary columns"): the store a page builds from the binary
// wire form is the one it builds from the JSON form, for snapshots and for deltas.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readColumns, withBuffers } from "../src/protocol.js";
import { Store } from "../src/store.js";
import { binaryEvents, binaryMessage, binarySnapshot } from "./support/binary.js";
import { bigTrace, deltas, emptySnapshot, FakeModel, fixture } from "./support/env.js";

const FIXTURES = ["parrot.json", "countries.json", "graph.json", "messages.json", "subgraphs.json"];

/** Everything a store holds that views read, as plain values. */
function held(store) {
  return {
    name: store.name,
    count: store.count,
    now: store.now,
    kinds: store.kinds,
    kindCounts: store.kindCounts,
    runs: store.runs,
    cols: store.cols,
    extra: [...store.extra],
    runEvents: store.runEvents,
    runStream: store.runStream,
    runTicks: store.runTicks,
    children: store.children,
    streamRuns: store.streamRuns,
    values: Object.fromEntries(Object.entries(store.values).map(([key, set]) => [key, [...set]])),
    parts: [store.partCount, store.partModes, [...store.partSeqs], [...store.partTimes]],
  };
}

function storeOf(snapshot) {
  const store = new Store();
  store.connect(new FakeModel({ snapshot }));
  return store;
}

test("every fixture's binary snapshot builds the store its JSON form builds", () => {
  for (const name of FIXTURES) {
    const snapshot = fixture(name);
    const json = storeOf(snapshot);
    assert.ok(json.count > 0, name);
    assert.deepEqual(held(storeOf(binarySnapshot(snapshot))), held(json), name);
    assert.deepEqual(held(storeOf(binarySnapshot(snapshot, { offset: 3 }))), held(json), `${name}, unaligned`);
  }
});

test("a big trace's binary snapshot, and its binary deltas, build the store the JSON forms build", () => {
  const big = bigTrace(200_000, 400);
  const json = storeOf(big);
  assert.equal(json.count, 200_000);
  assert.deepEqual(held(storeOf(binarySnapshot(big))), held(json));

  const live = new Store();
  const model = new FakeModel({ snapshot: emptySnapshot("big") });
  live.connect(model);
  for (const delta of deltas(big, 7_919)) {
    const { content, buffers } = binaryMessage(delta, { offset: 1 });
    assert.equal(JSON.parse(JSON.stringify(content)).events.us, undefined); // columns are buffers
    model.emit("msg:custom", content, buffers);
  }
  assert.equal(live.count, big.count);
  assert.deepEqual(held(live).cols, held(json).cols);
  assert.deepEqual(held(live).runStream, held(json).runStream);
});

test("texts of every width come back whole: accents, emoji, a leading byte order mark, nothing", () => {
  const texts = ["\ufeffBOM first", "", "héllo", "🦜 parrot", "日本語", "a\u2028b", "\u0000", "end"];
  const events = { us: texts.map((_, k) => k * 1000), kind: texts.map(() => 0), run: texts.map(() => -1), text: texts };
  assert.deepEqual(readColumns(binaryEvents(events)).text, texts);
  const read = readColumns(binaryEvents(events, { offset: 5 }));
  assert.deepEqual([...read.us], events.us);
  assert.ok(read.us instanceof Float64Array && read.run instanceof Int32Array);
  assert.deepEqual([...read.run], events.run);
});

test("a column the kernel kept as a JSON list is read beside binary ones", () => {
  const snapshot = fixture("parrot.json");
  const mixed = { ...snapshot, events: { ...binaryEvents(snapshot.events), text: snapshot.events.text } };
  assert.deepEqual(held(storeOf(mixed)), held(storeOf(snapshot)));
});

test("a binary delta whose buffers are missing or short is not applied", () => {
  const big = bigTrace(1_000, 4);
  const [first, second] = deltas(big, 500);
  const store = new Store();
  const model = new FakeModel({ snapshot: emptySnapshot("big") });
  store.connect(model);
  const { content, buffers } = binaryMessage(first);
  model.emit("msg:custom", content, buffers.slice(0, 2)); // the text's buffers lost
  assert.equal(store.count, 0);
  const short = binaryMessage(first);
  short.buffers[0] = new DataView(new ArrayBuffer(8 * 10)); // `us` of 10 events, not 500
  model.emit("msg:custom", short.content, short.buffers);
  assert.equal(store.count, 0);
  model.emit("msg:custom", content, buffers);
  const next = binaryMessage(second);
  model.emit("msg:custom", next.content, next.buffers);
  assert.equal(store.count, 1_000);
  // A message that names no buffers is taken as it is (the JSON form).
  assert.equal(withBuffers(second, []), second);
});

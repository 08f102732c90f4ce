// The table's query: the memo that answers the filters once per (run, kind) must keep exactly the
// events the filters keep when each event is asked on its own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeFilter } from "../src/filters.js";
import { EventQuery, memoFilter } from "../src/query.js";
import { Store } from "../src/store.js";
import { bigTrace, fixture } from "./support/env.js";

/** Every one-value spec the filter bar can make of the store's values, and a few mixed ones. */
function specsOf(store) {
  const specs = [];
  const lists = { names: store.values.names, types: store.values.types, tags: store.values.tags };
  for (const [dim, set] of Object.entries(lists)) {
    const values = [...set];
    // The first and last few values of each list (a big trace has hundreds of names).
    for (const value of values.length > 8 ? [...values.slice(0, 4), ...values.slice(-4)] : values) {
      specs.push({ [`include_${dim}`]: [value] });
      specs.push({ [`exclude_${dim}`]: [value] });
    }
  }
  const [name] = store.values.names;
  const [type, other] = store.values.types;
  specs.push({ include_types: [type, other ?? type], exclude_names: [name] });
  specs.push({ include_names: [name], include_tags: [...store.values.tags].slice(0, 2) });
  return specs;
}

function storeOf(snapshot) {
  const store = new Store();
  assert.ok(store.loadSnapshot(snapshot));
  return store;
}

/** A big trace whose events carry their own names, tags and graph modes here and there. */
function bigWithExtra() {
  const snapshot = bigTrace(60_000, 300);
  snapshot.kinds.push("on_graph_updates", "on_custom_event");
  const graph = snapshot.kinds.indexOf("on_graph_updates");
  const custom = snapshot.kinds.indexOf("on_custom_event");
  const extra = {};
  for (let k = 5; k < snapshot.count - 1; k += 97) {
    if (k % 3 === 0) {
      snapshot.events.kind[k] = graph;
      extra[k] = { mode: "updates", ns: "agent:1" };
    } else if (k % 3 === 1) {
      snapshot.events.kind[k] = custom;
      extra[k] = { name: `progress_${k % 4}`, tags: ["custom", `t${k % 5}`] };
    } else {
      extra[k] = { name: "renamed", tags: [] };
    }
  }
  snapshot.events.extra = extra;
  return snapshot;
}

const TRACES = [
  ...["parrot.json", "countries.json", "graph.json", "subgraphs.json", "messages.json"].map((name) => [
    name,
    () => fixture(name),
  ]),
  ["a big trace with extra fields", bigWithExtra],
];

for (const [label, make] of TRACES) {
  test(`the memoized filter keeps what the filter keeps: ${label}`, () => {
    const store = storeOf(make());
    const specs = specsOf(store);
    assert.ok(specs.length > 4);
    for (const spec of specs) {
      const keep = makeFilter(spec);
      const memo = memoFilter(store, keep);
      for (let k = 0; k < store.count; k += 1) {
        const expected = keep(store.record(k));
        if (memo(k) !== expected) assert.fail(`${JSON.stringify(spec)}: event ${k} ${store.eventKind(k)}`);
      }
    }
  });
}

test("the table's rows under a filter are the events the filter keeps, in order", () => {
  const store = storeOf(bigWithExtra());
  const query = new EventQuery(store);
  for (const spec of [
    { include_types: ["chat_model"] },
    { exclude_names: ["renamed"] },
    { include_tags: ["custom"] },
  ]) {
    query.setCriteria(spec, "");
    const rows = query.update();
    const keep = makeFilter(spec);
    const expected = [];
    for (let k = 0; k < store.count; k += 1) if (keep(store.record(k))) expected.push(k);
    assert.ok(expected.length > 0 && expected.length < store.count, JSON.stringify(spec));
    assert.deepEqual(rows, expected);
  }
});

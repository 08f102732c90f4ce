// Every fixture (test/fixtures/*.json, written by test/fixtures/regenerate.py) has the shape the
// contract declares: a field renamed on the Python side fails here, not in a browser.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fixture } from "./support/env.js";

const CONTRACT = JSON.parse(readFileSync(new URL("../../streamviz/widgets/contract.json", import.meta.url), "utf-8"));
const NAMES = readdirSync(new URL("./fixtures/", import.meta.url)).filter((name) => name.endsWith(".json"));

test("the fixtures are the ones regenerate.py writes", () => {
  const script = readFileSync(new URL("./fixtures/regenerate.py", import.meta.url), "utf-8");
  const declared = [...script.matchAll(/^ {4}"(\w+)": \w+,$/gm)].map((match) => `${match[1]}.json`);
  assert.deepEqual([...NAMES].sort(), [...declared].sort());
});

for (const name of NAMES) {
  test(`${name} has the contract's snapshot shape`, () => {
    const snapshot = fixture(name);
    assert.deepEqual(Object.keys(snapshot), CONTRACT.snapshot);
    assert.equal(snapshot.v, CONTRACT.version);
    assert.deepEqual(Object.keys(snapshot.events), [...CONTRACT.columns, "extra"]);
    for (const column of CONTRACT.columns) {
      assert.equal(snapshot.events[column].length, snapshot.count, `one ${column} per event`);
    }
    for (const fields of Object.values(snapshot.events.extra)) {
      for (const key of Object.keys(fields)) assert.ok(CONTRACT.extra.includes(key), `extra field ${key}`);
    }
    assert.ok(snapshot.runs.length > 0);
    snapshot.runs.forEach((row, i) => {
      assert.deepEqual(Object.keys(row), CONTRACT.run_row, `run ${i}`);
      assert.equal(row.i, i);
      assert.ok(CONTRACT.statuses.includes(row.status), row.status);
      assert.ok(row.stream === null || CONTRACT.streams.includes(row.stream), String(row.stream));
    });
    assert.ok(snapshot.events.kind.every((kind) => kind >= 0 && kind < snapshot.kinds.length));
    assert.ok(snapshot.events.run.every((run) => run >= -1 && run < snapshot.runs.length));
    assert.ok(snapshot.events.us.every((us, k, all) => Number.isInteger(us) && (k === 0 || us >= all[k - 1])));
  });
}

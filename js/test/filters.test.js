// The front-end filter against the shared vectors that the Python filter also runs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { eventType, makeFilter } from "../src/filters.js";

const vectors = JSON.parse(readFileSync(new URL("../../tests/data/filter_vectors.json", import.meta.url), "utf-8"));

for (const { filter, expected } of vectors.cases) {
  test(`filter ${JSON.stringify(filter)}`, () => {
    const keep = makeFilter(filter);
    assert.deepEqual(
      vectors.events.filter(keep).map((event) => event.id),
      expected,
    );
  });
}

test("event types follow the vectors", () => {
  for (const event of vectors.events) assert.equal(eventType(event), event.type);
});

test("a lone string is one name", () => {
  const keep = makeFilter({ include_names: "model" });
  assert.ok(keep({ event: "on_chat_model_start", name: "model", tags: [] }));
  assert.ok(!keep({ event: "on_chat_model_start", name: "m", tags: [] }));
});

// The one binary search (src/sorted.js), against a plain scan.
import assert from "node:assert/strict";
import { test } from "node:test";
import { indexOfSorted, insertSorted, lastFitting, lowerBound, upperBound } from "../src/sorted.js";

/** The first index whose value passes `keep`, by a scan. */
const firstWhere = (list, keep) => {
  const at = list.findIndex(keep);
  return at < 0 ? list.length : at;
};

test("lowerBound and upperBound bracket every value, duplicates and ends included", () => {
  const lists = [[], [5], [1, 1, 1], [0, 0.4, 1, 1, 1, 1.2, 5, 9.99, 10, 12], Float64Array.from([1, 2, 2, 3])];
  for (const list of lists) {
    const plain = [...list];
    for (const value of [-1, 0, 0.4, 1, 1.1, 2, 3, 5, 12, 13]) {
      assert.equal(
        lowerBound(list, value),
        firstWhere(plain, (item) => item >= value),
        `lowerBound(${plain}, ${value})`,
      );
      assert.equal(
        upperBound(list, value),
        firstWhere(plain, (item) => item > value),
        `upperBound(${plain}, ${value})`,
      );
      assert.equal(indexOfSorted(list, value), plain.indexOf(value), `indexOfSorted(${plain}, ${value})`);
    }
  }
  assert.equal(lowerBound([0, 0.4, 1, 1.2], 1), 2);
  assert.equal(upperBound([0, 0.4, 1, 1.2], 1), 3);
});

test("a large list is searched, not scanned", () => {
  const list = Array.from({ length: 1_000_001 }, (_, n) => n * 2);
  let reads = 0;
  const counted = new Proxy(list, {
    get(target, key) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads += 1;
      return Reflect.get(target, key);
    },
  });
  assert.equal(lowerBound(counted, 777_777), 388_889);
  assert.ok(reads <= 21, `${reads} reads for a million values`);
});

test("insertSorted keeps the list ascending and without duplicates", () => {
  const list = [];
  for (const value of [5, 1, 3, 3, 9, 0, 5]) insertSorted(list, value);
  assert.deepEqual(list, [0, 1, 3, 5, 9]);
});

test("lastFitting finds the largest n that still fits", () => {
  assert.equal(
    lastFitting(0, 100, (n) => n * n <= 50),
    7,
  );
  assert.equal(
    lastFitting(0, 10, () => true),
    10,
  );
  assert.equal(
    lastFitting(0, 10, (n) => n === 0),
    0,
  );
  let calls = 0;
  lastFitting(0, 1_000_000, (n) => {
    calls += 1;
    return n <= 123_456;
  });
  assert.ok(calls <= 21, `${calls} calls`);
});

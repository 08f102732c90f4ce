// The front-end against the widget contract (streamviz/widgets/contract.json): what it reads from
// it, and the snapshots it refuses.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { FILTER_LISTS, KINDS_KEY, RUN_ROW_KEYS, refusalText, SEARCH_KEY, VERSION, VIEWS } from "../src/contract.js";
import { normalizeRun } from "../src/protocol.js";
import { emptyFilters } from "../src/query.js";
import { deltaOf, emptySnapshot, fixture, mount } from "./support/env.js";

const CONTRACT = JSON.parse(readFileSync(new URL("../../streamviz/widgets/contract.json", import.meta.url), "utf-8"));

test("the front-end's views, filter keys, run fields and version are the contract's", () => {
  assert.equal(VERSION, CONTRACT.version);
  assert.deepEqual([...VIEWS], CONTRACT.views);
  assert.deepEqual(Object.keys(emptyFilters()), [...FILTER_LISTS, KINDS_KEY, SEARCH_KEY]);
  assert.deepEqual(Object.keys(emptyFilters()), [
    ...CONTRACT.filters.lists,
    CONTRACT.filters.kinds,
    CONTRACT.filters.search,
  ]);
  assert.deepEqual(Object.keys(normalizeRun({ i: 0 })), [...RUN_ROW_KEYS]);
  for (const view of VIEWS) {
    const m = mount(fixture("parrot.json"), { view });
    try {
      assert.equal(m.root.getAttribute("data-view"), view);
      assert.ok(m.root.children.length > 0, `${view} draws something`);
      assert.equal(m.$(".sv-refused"), null);
    } finally {
      m.cleanup();
    }
  }
});

test("a snapshot of a newer version is refused with a text saying so, and its deltas are ignored", () => {
  const newer = { ...fixture("parrot.json"), v: VERSION + 1 };
  const m = mount(newer, { view: "dashboard" });
  try {
    const refused = m.$(".sv-refused");
    assert.ok(refused, "the refusal shows");
    assert.equal(refused.getAttribute("role"), "alert");
    assert.equal(
      refused.textContent,
      `This trace was written by a newer streamviz (snapshot version ${VERSION + 1}); this page understands version ${VERSION}. Upgrade streamviz.`,
    );
    assert.equal(refused.children.length, 0, "text only");
    assert.equal(m.$(".sv-header"), null, "no view is drawn");
    assert.equal(m.$$(".sv-pane").length, 0);
    // Deltas of the refused trace change nothing.
    m.model.message(deltaOf(fixture("parrot.json"), 0, 5));
    m.flush();
    assert.ok(m.$(".sv-refused"));
    assert.equal(m.$(".sv-header"), null);
  } finally {
    m.cleanup();
  }
});

test("an older or missing version is refused too; a snapshot of this version brings the view back", () => {
  assert.match(refusalText(0), /older streamviz \(snapshot version 0\); this page understands version \d+/);
  assert.match(refusalText(undefined), /no snapshot version this page understands/);
  const { v, ...unversioned } = fixture("parrot.json");
  assert.equal(v, VERSION);
  const m = mount(unversioned, { view: "table" });
  try {
    assert.equal(m.$(".sv-refused").textContent, refusalText(undefined));
    assert.equal(m.$(".sv-table"), null);
    m.model.python("snapshot", fixture("parrot.json"));
    m.flush();
    assert.equal(m.$(".sv-refused"), null);
    assert.ok(m.$(".sv-table"), "the table is back");
    assert.ok(m.$(".sv-row"));
  } finally {
    m.cleanup();
  }
});

test("a hostile version is shown as text, never as markup", () => {
  for (const version of ['<img src=x onerror="alert(1)">', { toString: () => "<b>x</b>" }, 2.5]) {
    const m = mount({ ...emptySnapshot(), v: version });
    try {
      assert.equal(m.$(".sv-refused").textContent, refusalText(version));
      assert.equal(m.$(".sv-refused").children.length, 0);
      assert.equal(m.root.querySelector("img, b"), null);
    } finally {
      m.cleanup();
    }
  }
});

test("an empty snapshot object is an empty trace, not a refusal", () => {
  const m = mount({});
  try {
    assert.equal(m.$(".sv-refused"), null);
    assert.ok(m.$(".sv-header"));
  } finally {
    m.cleanup();
  }
});

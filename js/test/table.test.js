// The event table: virtualization, row details and payloads, filter controls, search, run narrowing.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatMs } from "../src/text.js";
import { ROW_HEIGHT_PX } from "../src/views/table.js";
import {
  bigTrace,
  click,
  deltaOf,
  EMPTY_FILTERS,
  eventsWithin,
  fixture,
  mount,
  noEvents,
  type,
} from "./support/env.js";

const vectors = JSON.parse(readFileSync(new URL("../../tests/data/filter_vectors.json", import.meta.url), "utf-8"));

/** The filter vectors as a trace: one run per run event, the custom event with its own name. */
function vectorSnapshot() {
  const kinds = [];
  const runs = [];
  const events = noEvents();
  vectors.events.forEach((event, n) => {
    if (!kinds.includes(event.event)) kinds.push(event.event);
    const custom = event.event === "on_custom_event";
    if (!custom) {
      runs.push({
        i: runs.length,
        id: `run-${event.id}`,
        name: event.name,
        type: event.type,
        parent: -1,
        tags: event.tags,
        start: n,
        end: n + 1,
        status: "ok",
        error: null,
        first: null,
        chunks: 0,
        orphan: false,
        held: null,
        upstream: -1,
        node: null,
        stream: null,
      });
    }
    events.us.push(n * 10_000);
    events.kind.push(kinds.indexOf(event.event));
    events.run.push(custom ? -1 : runs.length - 1);
    events.text.push(`payload of ${event.id}`);
    if (custom) events.extra[String(n)] = { name: event.name, tags: event.tags };
  });
  return { v: 1, name: "vectors", count: vectors.events.length, now: 100, kinds, runs, events };
}

/** Scroll the table's body to `top` px as a user would (sets it, fires `scroll`, draws). */
function scrollTable(m, top) {
  const body = m.$(".sv-tbody");
  body.scrollTop = top;
  body.dispatchEvent(new m.window.Event("scroll"));
  m.flush();
}

/** A table of `snapshot` scrolled to its top (a table starts at its end). */
function mountAtTop(t, snapshot, state = {}) {
  const m = mount(snapshot, { view: "table", ...state });
  t.after(() => m.cleanup());
  m.flush();
  scrollTable(m, 0);
  return m;
}

function shownIds(m) {
  return m.$$(".sv-row").map((row) => vectors.events[Number(row.getAttribute("data-seq"))].id);
}

function mountVectors(t, state = {}) {
  const m = mount(vectorSnapshot(), { view: "table", ...state });
  t.after(() => m.cleanup());
  m.flush();
  return m;
}

test("100,000 events keep a few dozen row elements, and scrolling changes which are shown", (t) => {
  const m = mount(bigTrace(100_000), { view: "table" });
  t.after(() => m.cleanup());
  m.flush();
  const table = m.$(".sv-table");
  assert.ok(table);
  const last = m.$$(".sv-row");
  assert.ok(last.length > 10 && last.length < 80, `${last.length} rows in the DOM`);
  assert.equal(last.at(-1).getAttribute("data-seq"), "99999", "a finished trace shows its end");
  scrollTable(m, 0);
  const first = m.$$(".sv-row");
  assert.equal(first[0].getAttribute("data-seq"), "0");
  assert.equal(m.$(".sv-vspacer").style.height, `${100_000 * ROW_HEIGHT_PX}px`);
  const body = m.$(".sv-tbody");
  body.scrollTop = 50_000 * ROW_HEIGHT_PX;
  body.dispatchEvent(new m.window.Event("scroll"));
  m.flush();
  const seqs = m.$$(".sv-row").map((row) => Number(row.getAttribute("data-seq")));
  assert.ok(seqs.length < 80);
  assert.ok(seqs.includes(50_000), `50,000 in ${seqs[0]}..${seqs[seqs.length - 1]}`);
  assert.ok(!seqs.includes(0));
  assert.equal(m.$(".sv-count").textContent, "100,000 of 100,000 events");
});

test("a row shows time, seq, event, name, type, tags, path and text", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mountAtTop(t, snapshot);
  // The model's first token.
  const seq = snapshot.events.kind.indexOf(snapshot.kinds.indexOf("on_chat_model_stream"));
  const row = m.$(`.sv-row[data-seq="${seq}"]`);
  const cells = [...row.children].map((cell) => cell.textContent);
  assert.deepEqual(cells, [
    formatMs(snapshot.events.us[seq] / 1000, 3),
    String(seq),
    "on_chat_model_stream",
    "DemoChatModel",
    "chat_model",
    "seq:step:2",
    "RunnableSequence › DemoChatModel",
    "Why",
  ]);
});

test("the time column shows every event time with the same three decimals", (t) => {
  // Ragged before: "710", "500.66", "1,880.426" in one column.
  const m = mount(bigTrace(2_000), { view: "table" });
  t.after(() => m.cleanup());
  m.flush();
  const times = m.$$(".sv-row .sv-c-t").map((cell) => cell.textContent);
  assert.ok(times.length > 10);
  for (const time of times) assert.match(time, /^\d{1,3}(,\d{3})*\.\d{3}$/, time);
  assert.equal(formatMs(710, 3), "710.000");
  assert.equal(formatMs(1880.4261, 3), "1,880.426");
});

test("clicking a row opens its details, asks for the payload and shows the answer", (t) => {
  // While the trace runs, its snapshot carries no payloads: the kernel is asked.
  const m = mountAtTop(t, { ...fixture("parrot.json"), payloads: {} }, { live: true });
  const details = m.$(".sv-details");
  assert.ok(details.hidden);
  click(m.$('.sv-row[data-seq="2"]'));
  assert.ok(!details.hidden);
  assert.ok(details.textContent.includes("on_prompt_end"));
  assert.ok(m.$(".sv-payload").textContent.startsWith("[human: tell me a joke about parrot]"), "the preview at once");
  assert.deepEqual(m.model.sent.at(-1), { type: "payload", seq: 2 });
  m.model.message({ type: "payload", seq: 2, text: "the whole payload", truncated: true });
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, "the whole payload");
  assert.ok(details.textContent.includes("cut by the kernel"));
  m.flush();
  assert.ok(m.$('.sv-row[data-seq="2"]').classList.contains("sv-selected"));
});

test("without a kernel the details keep the preview", (t) => {
  const m = mountAtTop(t, fixture("parrot.json"));
  click(m.$('.sv-row[data-seq="7"]'));
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, "Why");
  click(m.$(".sv-details .sv-close"));
  assert.ok(m.$(".sv-details").hidden);
});

test("the filters trait from Python follows astream_events semantics (shared vectors)", (t) => {
  const m = mountVectors(t);
  for (const { filter, expected } of vectors.cases) {
    // In the trait an empty list means "no filter" (the UI starts with empty lists).
    if (Object.values(filter).some((value) => Array.isArray(value) && value.length === 0)) continue;
    m.model.python("filters", { ...EMPTY_FILTERS, ...filter });
    m.flush();
    assert.deepEqual(shownIds(m), expected, JSON.stringify(filter));
    assert.equal(m.$(".sv-count").textContent, `${expected.length} of ${vectors.events.length} events`);
  }
  m.model.python("filters", { ...EMPTY_FILTERS, include_names: [] });
  m.flush();
  assert.equal(shownIds(m).length, vectors.events.length, "empty lists filter nothing");
});

test("clicking a name chip includes it, clicking again removes it", (t) => {
  const m = mountVectors(t);
  const chip = () => m.$('.sv-chip[data-value="my_parser"]');
  assert.equal(chip().getAttribute("data-filter"), "include_names");
  click(chip());
  m.flush();
  assert.deepEqual(m.model.get("filters").include_names, ["my_parser"]);
  assert.ok(m.model.saves >= 1);
  assert.deepEqual(shownIds(m), ["parser-start", "parser-chunk"]);
  assert.equal(chip().getAttribute("aria-pressed"), "true");
  click(chip());
  m.flush();
  assert.deepEqual(m.model.get("filters").include_names, []);
  assert.equal(shownIds(m).length, vectors.events.length);
});

test("exclude mode: clicking type chips excludes them", (t) => {
  const m = mountVectors(t);
  const mode = m.$('select[data-filter-mode="types"]');
  mode.value = "exclude";
  mode.dispatchEvent(new m.window.Event("change", { bubbles: true }));
  m.flush();
  click(m.$('.sv-chip[data-filter="exclude_types"][data-value="chat_model"]'));
  m.flush();
  click(m.$('.sv-chip[data-filter="exclude_types"][data-value="chain"]'));
  m.flush();
  assert.deepEqual(m.model.get("filters").exclude_types, ["chat_model", "chain"]);
  assert.deepEqual(shownIds(m), ["parser-start", "parser-chunk", "docs-end", "tool-start", "custom"]);
  // Back to include: the picked values become the included ones.
  mode.value = "include";
  mode.dispatchEvent(new m.window.Event("change", { bubbles: true }));
  m.flush();
  assert.deepEqual(m.model.get("filters").include_types, ["chat_model", "chain"]);
  assert.deepEqual(m.model.get("filters").exclude_types, []);
  assert.deepEqual(shownIds(m), ["seq-start", "model-start", "model-token", "seq-chunk", "hostile"]);
});

test("a tag typed in the box and a tag chip combine like include_tags + exclude_types", (t) => {
  const m = mountVectors(t);
  const input = m.$('input[data-filter-input="tags"]');
  input.value = "my_chain";
  input.dispatchEvent(new m.window.KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  m.flush();
  assert.deepEqual(m.model.get("filters").include_tags, ["my_chain"]);
  const mode = m.$('select[data-filter-mode="types"]');
  mode.value = "exclude";
  mode.dispatchEvent(new m.window.Event("change", { bubbles: true }));
  click(m.$('.sv-chip[data-value="chat_model"]'));
  m.flush();
  assert.deepEqual(shownIds(m), ["seq-start", "parser-start", "parser-chunk", "seq-chunk", "custom"]);
});

test("event-kind chips narrow the table; none pressed shows all", (t) => {
  const m = mountVectors(t);
  const kind = () => m.$('.sv-kind[data-kind="on_chain_start"]');
  assert.ok(m.$('[data-filter="kinds"]').contains(kind()));
  click(kind());
  m.flush();
  assert.deepEqual(m.model.get("filters").kinds, ["on_chain_start"]);
  assert.deepEqual(shownIds(m), ["seq-start", "hostile"]);
  click(m.$('.sv-kind[data-kind="on_tool_start"]'));
  m.flush();
  assert.deepEqual(shownIds(m), ["seq-start", "tool-start", "hostile"]);
  click(kind());
  click(m.$('.sv-kind[data-kind="on_tool_start"]'));
  m.flush();
  assert.deepEqual(m.model.get("filters").kinds, []);
  assert.equal(shownIds(m).length, vectors.events.length);
});

test("search narrows case-insensitively over name, event, tags, path and text", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "table" });
  t.after(() => m.cleanup());
  const search = m.$('input[data-filter="search"]');
  type(search, "STICK");
  m.flush();
  assert.equal(m.model.get("filters").search, "STICK");
  // The stream events " stick" (model, parser, chain) and the three ends holding the joke.
  assert.equal(m.$$(".sv-row").length, 6);
  assert.equal(m.$(".sv-count").textContent, `6 of ${snapshot.count} events`);
  type(search, "seq:step:1");
  m.flush();
  assert.deepEqual(
    m.$$(".sv-row").map((row) => row.getAttribute("data-seq")),
    ["1", "2"],
  );
  type(search, "parser");
  m.flush();
  assert.ok(m.$$(".sv-row").every((row) => row.textContent.toLowerCase().includes("parser")));
  click(m.$(".sv-clear"));
  m.flush();
  assert.equal(search.value, "");
  assert.equal(m.$$(".sv-row").length, 28, `the first screenful of ${snapshot.count} rows`);
});

test("filters set from Python show in the controls", (t) => {
  const m = mountVectors(t);
  m.model.python("filters", { ...EMPTY_FILTERS, exclude_names: ["Docs"], kinds: ["on_retriever_end"], search: "x" });
  m.flush();
  assert.equal(m.$('input[data-filter="search"]').value, "x");
  assert.equal(m.$('select[data-filter-mode="names"]').value, "exclude");
  const docs = m.$('.sv-chip[data-value="Docs"]');
  assert.equal(docs.getAttribute("data-filter"), "exclude_names");
  assert.equal(docs.getAttribute("aria-pressed"), "true");
  assert.equal(m.$('.sv-kind[data-kind="on_retriever_end"]').getAttribute("aria-pressed"), "true");
  assert.equal(m.$(".sv-count").textContent, "0 of 10 events");
});

test("a selected run narrows the table to it and its descendants, with a removable chip", (t) => {
  const snapshot = fixture("parrot.json");
  const m = mount(snapshot, { view: "table" });
  t.after(() => m.cleanup());
  m.model.python("selected_run", snapshot.runs[2].id);
  m.flush();
  const runs = m.$$(".sv-row").map((row) => row.children[3].textContent);
  assert.equal(runs.length, eventsWithin(snapshot, 2));
  assert.ok(runs.every((name) => name === "DemoChatModel"));
  const chip = m.$(".sv-run-chip");
  assert.ok(!chip.hidden);
  assert.ok(chip.textContent.includes("run: DemoChatModel"));
  click(chip.querySelector(".sv-chip-x"));
  m.flush();
  assert.equal(m.model.get("selected_run"), "");
  assert.ok(chip.hidden);
  assert.equal(m.$(".sv-count").textContent, `${snapshot.count} of ${snapshot.count} events`);
  m.model.python("selected_run", snapshot.runs[0].id);
  m.flush();
  assert.equal(
    m.$(".sv-count").textContent,
    `${snapshot.count} of ${snapshot.count} events`,
    "the root holds everything",
  );
});

test("a live table follows new events when its end is in view", (t) => {
  const full = bigTrace(2_000);
  const head = { ...full, count: 10, events: deltaOf(full, 0, 10).events };
  const m = mount(head, { view: "table", live: true });
  t.after(() => m.cleanup());
  m.flush();
  m.model.message(deltaOf(full, 10, 2_000, { runsFrom: 0 }));
  m.flush();
  const seqs = m.$$(".sv-row").map((row) => Number(row.getAttribute("data-seq")));
  assert.ok(seqs.includes(1_999), "the last event is in view");
});

test("arrow keys move the selection; Escape closes the details", (t) => {
  const m = mount(fixture("parrot.json"), { view: "table" });
  t.after(() => m.cleanup());
  const body = m.$(".sv-tbody");
  const key = (name) => body.dispatchEvent(new m.window.KeyboardEvent("keydown", { key: name, bubbles: true }));
  key("ArrowDown");
  key("ArrowDown");
  m.flush();
  assert.equal(m.$(".sv-row.sv-selected").getAttribute("data-seq"), "1");
  key("ArrowUp");
  m.flush();
  assert.equal(m.$(".sv-row.sv-selected").getAttribute("data-seq"), "0");
  key("Escape");
  m.flush();
  assert.ok(m.$(".sv-details").hidden);
  assert.equal(m.$(".sv-row.sv-selected"), null);
});

test("a delta after a gap leaves the table as it was, asks nothing, and the next snapshot completes it", (t) => {
  const full = fixture("parrot.json");
  const m = mount(full, { view: "table", live: true });
  t.after(() => m.cleanup());
  m.model.message({
    type: "delta",
    from: full.count + 5,
    to: full.count + 6,
    now: 1,
    kinds: [],
    runs: [],
    events: { us: [1], kind: [0], run: [0], text: ["x"] },
  });
  m.flush();
  assert.equal(m.$(".sv-count").textContent, `${full.count} of ${full.count} events`);
  assert.deepEqual(m.model.sent, []);
});

/** The seqs of the rows whose box is inside the table body's visible height (fallback layout). */
function visibleSeqs(m) {
  const body = m.$(".sv-tbody");
  const view = m.model.get("height") - 120; // the viewport the table assumes without a layout
  return m
    .$$(".sv-row")
    .map((row) => Number(row.getAttribute("data-seq")))
    .filter((seq) => seq * ROW_HEIGHT_PX >= body.scrollTop && (seq + 1) * ROW_HEIGHT_PX <= body.scrollTop + view);
}

test("a live run whose last events come with its end shows its last row", (t) => {
  const full = bigTrace(400);
  const head = { ...full, count: 100, events: deltaOf(full, 0, 100).events };
  const m = mount(head, { view: "table", live: true });
  t.after(() => m.cleanup());
  m.flush();
  m.model.message(deltaOf(full, 100, 380));
  m.flush();
  assert.ok(visibleSeqs(m).includes(379), "follows while live");
  // The kernel sends the last events and says the run is over before the page draws again.
  m.model.message(deltaOf(full, 380, 400));
  m.model.python("live", false);
  m.flush();
  assert.ok(visibleSeqs(m).includes(399), `the last event is in view: ${visibleSeqs(m).at(-1)}`);
  // The final snapshot (same events) keeps it there.
  m.model.python("snapshot", { ...full });
  m.flush();
  assert.ok(visibleSeqs(m).includes(399));
});

test("scrolled up while live, the table stays put and offers 'N new'; the button follows the end again", (t) => {
  const full = bigTrace(600);
  const head = { ...full, count: 200, events: deltaOf(full, 0, 200).events };
  const m = mount(head, { view: "table", live: true });
  t.after(() => m.cleanup());
  m.flush();
  const jump = m.$(".sv-jump");
  assert.ok(jump.hidden, "nothing new while following");
  scrollTable(m, 40 * ROW_HEIGHT_PX);
  const before = visibleSeqs(m);
  assert.ok(before.includes(45) && !before.includes(199));
  m.model.message(deltaOf(full, 200, 230));
  m.flush();
  assert.deepEqual(visibleSeqs(m), before, "the rows the user reads stay");
  assert.ok(!jump.hidden);
  assert.equal(jump.textContent, "↓ 30 new");
  m.model.message(deltaOf(full, 230, 250));
  m.flush();
  assert.equal(jump.textContent, "↓ 50 new");
  click(jump);
  m.flush();
  assert.ok(visibleSeqs(m).includes(249), "jumped to the end");
  assert.ok(jump.hidden);
  m.model.message(deltaOf(full, 250, 300));
  m.flush();
  assert.ok(visibleSeqs(m).includes(299), "and follows again");
  // Scrolling back down to the end by hand follows too.
  scrollTable(m, 0);
  m.model.message(deltaOf(full, 300, 310));
  m.flush();
  assert.equal(jump.textContent, "↓ 10 new");
  scrollTable(m, 310 * ROW_HEIGHT_PX);
  m.model.message(deltaOf(full, 310, 320));
  m.flush();
  assert.ok(visibleSeqs(m).includes(319));
  assert.ok(jump.hidden);
});

test("a live table drawn before its first event follows from the first delta on", (t) => {
  const full = bigTrace(600);
  const m = mount({ ...full, count: 0, runs: [], events: deltaOf(full, 0, 0).events }, { view: "table", live: true });
  t.after(() => m.cleanup());
  m.flush();
  m.model.message(deltaOf(full, 0, 100));
  m.flush();
  assert.ok(visibleSeqs(m).includes(99), `${visibleSeqs(m).at(-1)}`);
  m.model.message(deltaOf(full, 100, 300, { runsFrom: full.runs.length }));
  m.flush();
  assert.ok(visibleSeqs(m).includes(299), `${visibleSeqs(m).at(-1)}`);
});

test("the time and seq columns widen to the trace's longest values (no '21…' seqs)", (t) => {
  const small = mount(fixture("parrot.json"), { view: "table" });
  t.after(() => small.cleanup());
  small.flush();
  const big = mount(bigTrace(220_000), { view: "table" });
  t.after(() => big.cleanup());
  big.flush();
  const width = (m, name) => Number.parseFloat(m.$(".sv-table").style.getPropertyValue(name));
  // "219999" and e.g. "21,999.9": as wide as their characters, at least as wide as the headers.
  assert.ok(width(big, "--sv-w-seq") >= 6 * 7.5 + 12, `${width(big, "--sv-w-seq")}`);
  assert.ok(width(big, "--sv-w-seq") > width(small, "--sv-w-seq"));
  const lastTime = formatMs(big.model.get("snapshot").now, 3);
  assert.ok(width(big, "--sv-w-t") >= lastTime.length * 7.5 + 12, `${lastTime}: ${width(big, "--sv-w-t")}`);
});

test("'N new' counts rows that came, not rows a filter change showed", (t) => {
  const full = bigTrace(600);
  const head = { ...full, count: 300, events: deltaOf(full, 0, 300).events };
  const m = mount(head, { view: "table", live: true, filters: { ...EMPTY_FILTERS, kinds: ["on_chat_model_stream"] } });
  t.after(() => m.cleanup());
  m.flush();
  scrollTable(m, 0);
  m.model.python("filters", { ...EMPTY_FILTERS });
  m.flush();
  assert.ok(m.$(".sv-jump").hidden, "the rows shown again by the filter are not new");
  m.model.message(deltaOf(full, 300, 310));
  m.flush();
  assert.equal(m.$(".sv-jump").textContent, "↓ 10 new");
});

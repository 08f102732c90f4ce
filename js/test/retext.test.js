// A delta's `retext`: new display texts for events the page already holds. A model streams a
// secret split across tokens ("sk", "-", "proj"...); no token looks secret on its own, so they
// reach the page as they come; once the kernel sees the joined stream holds a secret, the next
// delta redacts the earlier tokens, and every view shows the new texts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { VERSION } from "../src/contract.js";
import { readDelta } from "../src/protocol.js";
import { Store } from "../src/store.js";
import { AXIS_HEIGHT_PX, LABEL_WIDTH_PX, PLOT_LEFT_PAD_PX, PLOT_RIGHT_MARGIN_PX } from "../src/views/timeline_model.js";
import { click, deltaOf, FakeModel, mount, type } from "./support/env.js";

/** The model's tokens: the secret is split over five of them. */
const TOKENS = ["Your key: ", "sk", "-", "proj", "Ab12", "Cd34", " (keep it safe)"];
/** What the kernel redacts them to once it has seen the whole secret. */
const REDACTED = ["Your key: ", "[redacted]", "", "", "", "", " (keep it safe)"];
/** Pieces of the secret no view may show once it is redacted ("sk" alone is in "ask"...). */
const SECRET = ["sk-", "proj", "Ab12", "Cd34"];
/** @param {string} mode  the LangGraph stream mode of the token parts */
const kindsOf = (mode) => [
  "on_chain_start",
  "on_chat_model_start",
  "on_chat_model_stream",
  `on_graph_${mode}`,
  "on_chat_model_end",
  "on_chain_end",
];
/** Events before the tokens, and where the tokens (stream event, then LangGraph part) start. */
const HEAD = 2;
/** Seq of token `n`'s stream event; its LangGraph part is the next seq. */
const streamSeq = (n) => HEAD + 2 * n;
const TOKENS_END = HEAD + 2 * TOKENS.length;

/**
 * The whole trace as the kernel holds it at the end, with `texts` as the tokens' texts: a graph
 * run (0) calls a chat model (1), whose tokens are streamed both as model stream events and as
 * LangGraph parts (`messages` unless told), 10 ms apart.
 * @param {string[]} texts
 * @param {string} [mode]
 */
function trace(texts, mode = "messages") {
  const kinds = kindsOf(mode);
  // The part's node (the one that called the model) and the call's tags.
  const part = { name: "agent", tags: ["chat"], mode, ns: "" };
  const run = (i, name, type, parent, stream) => ({
    i,
    id: `run-${i}`,
    name,
    type,
    parent,
    tags: [],
    start: 0,
    end: 100,
    status: "ok",
    error: null,
    first: i === 1 ? 20 : null,
    chunks: i === 1 ? texts.length : 0,
    stream,
  });
  const events = { us: [], kind: [], run: [], text: [], extra: {} };
  const push = (ms, kind, runIndex, text) => {
    events.us.push(ms * 1000);
    events.kind.push(kinds.indexOf(kind));
    events.run.push(runIndex);
    events.text.push(text);
  };
  push(0, "on_chain_start", 0, "{'question': 'my key?'}");
  push(10, "on_chat_model_start", 1, "[human: my key?]");
  texts.forEach((text, n) => {
    push(20 + 10 * n, "on_chat_model_stream", 1, text);
    events.extra[String(events.us.length)] = part;
    push(20 + 10 * n + 1, `on_graph_${mode}`, 0, text);
  });
  push(95, "on_chat_model_end", 1, `AIMessage(content='${texts.join("")}')`);
  push(100, "on_chain_end", 0, "done");
  return {
    v: VERSION,
    name: "secret",
    count: events.us.length,
    now: 100,
    kinds,
    runs: [run(0, "LangGraph", "chain", -1, null), run(1, "ChatModel", "chat_model", 0, "text")],
    events,
    payloads: {},
  };
}

/** The kernel's trace once it redacted the secret (the model's end event was redacted as it came). */
const AFTER = trace(REDACTED);
/** The trace as it streamed, before the kernel saw the secret. */
const BEFORE = trace(TOKENS);

/** The first snapshot: the chain and the model started, no token yet. */
function firstSnapshot() {
  const head = deltaOf(BEFORE, 0, HEAD);
  return { v: VERSION, name: "secret", count: HEAD, now: 10, kinds: head.kinds, runs: head.runs, events: head.events };
}

/** The delta that brings the tokens as they streamed. */
const tokensDelta = () => deltaOf(BEFORE, HEAD, TOKENS_END);

/** `{seq: new text}` for the tokens (stream events and parts) whose text the kernel redacted. */
function redactions() {
  /** @type {Record<string, string>} */
  const retext = {};
  TOKENS.forEach((text, n) => {
    if (REDACTED[n] === text) return;
    retext[String(streamSeq(n))] = REDACTED[n];
    retext[String(streamSeq(n) + 1)] = REDACTED[n];
  });
  return retext;
}

/** The delta after the kernel saw the secret: the last events, and the earlier tokens' new texts. */
const redactingDelta = () => ({ ...deltaOf(AFTER, TOKENS_END, AFTER.count), retext: redactions() });

function connected(snapshot) {
  const model = new FakeModel({ snapshot });
  const store = new Store();
  store.connect(model);
  return { model, store };
}

/** The tokens' texts as the store holds them (stream events, then parts). */
function tokenTexts(store) {
  return {
    stream: TOKENS.map((_, n) => store.cols.text[streamSeq(n)]),
    parts: TOKENS.map((_, n) => store.cols.text[streamSeq(n) + 1]),
  };
}

/** Every text a user can read in `root`: its text and its tooltips (`title`, `aria-label`). */
function readable(root) {
  const texts = [root.textContent];
  for (const element of root.querySelectorAll("*")) {
    for (const name of ["title", "aria-label"]) {
      const value = element.getAttribute(name);
      if (value) texts.push(value);
    }
  }
  return texts.join("\n");
}

/** @param {string} text */
function assertNoSecret(text, where) {
  for (const piece of SECRET) assert.ok(!text.includes(piece), `${where} shows "${piece}": ${text}`);
}

test("a delta's retext gives held events their new texts, and tells the views which", () => {
  const { model, store } = connected(firstSnapshot());
  model.message(tokensDelta());
  assert.deepEqual(tokenTexts(store), { stream: TOKENS, parts: TOKENS });
  const changes = [];
  store.subscribe((change) => changes.push(change));
  const before = store.textVersion;
  model.message(redactingDelta());
  assert.equal(store.count, AFTER.count);
  assert.deepEqual(tokenTexts(store), { stream: REDACTED, parts: REDACTED });
  assert.deepEqual(store.cols.text, AFTER.events.text, "every text is the kernel's");
  const retexted = changes.find((change) => change.retext)?.retext ?? [];
  assert.deepEqual(
    retexted.sort((a, b) => a - b),
    Object.keys(redactions()).map(Number),
  );
  assert.equal(store.textVersion, before + 1);
});

test("the dashboard shows the redacted texts everywhere, and no view shows the secret", (t) => {
  const m = mount(firstSnapshot(), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  m.model.message(tokensDelta());
  m.flush();
  // Before the kernel saw it, the secret streamed like any text.
  const model = () => m.$('.sv-token-run[data-run-id="run-1"]');
  assert.equal(model().querySelector(".sv-token-text").textContent, TOKENS.join(""));
  assert.equal(m.$(".sv-msg-text").textContent, TOKENS.join(""));
  // A row open in the details, a part's tooltip on the timeline, a search typed.
  const sk = streamSeq(1);
  click(m.$(`.sv-row[data-seq="${sk}"]`));
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, "sk");
  m.model.message({ type: "payload", seq: sk, text: "AIMessageChunk(content='sk')", truncated: false });
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, "AIMessageChunk(content='sk')");
  const proj = streamSeq(3) + 1;
  const { tooltip, at } = hoverPart(m, proj);
  assert.ok(tooltip.textContent.includes("proj"));
  // Picked, the part shows in the LangGraph pane's detail.
  const canvas = m.$("canvas.sv-timeline-canvas");
  canvas.dispatchEvent(new m.window.MouseEvent("mousedown", { ...at, button: 0 }));
  m.window.dispatchEvent(new m.window.MouseEvent("mouseup", at));
  m.flush();
  assert.equal(m.$(".sv-graph-detail").getAttribute("data-seq"), String(proj));
  assert.equal(m.$(".sv-graph-payload").textContent, "proj");
  const search = m.$('input[data-filter="search"]');
  type(search, "ab12");
  m.flush();
  const rows = () => m.$$(".sv-row").map((row) => Number(row.getAttribute("data-seq")));
  assert.deepEqual(rows(), [streamSeq(4), streamSeq(4) + 1]);

  m.model.message(redactingDelta());
  m.flush();

  // The search, still typed, reads the new texts: the old piece matches nothing now.
  assert.deepEqual(rows(), []);
  assert.ok(m.$(".sv-count").textContent.startsWith("0 of"));
  type(search, "");
  m.flush();

  // The token pane: the model's block, pieces and text.
  const pieces = model().querySelector(".sv-token-pieces").textContent;
  assert.equal(pieces, REDACTED.join("|"));
  assert.equal(model().querySelector(".sv-token-text").textContent, "Your key: [redacted] (keep it safe)");
  // The LangGraph pane's messages tab: the LLM call's pieces and text.
  assert.equal(m.$(".sv-msg-pieces").textContent, REDACTED.join("|"));
  assert.equal(m.$(".sv-msg-text").textContent, "Your key: [redacted] (keep it safe)");
  // The table's cells (and their tooltips).
  const cell = (seq) => m.$(`.sv-row[data-seq="${seq}"] .sv-c-text`);
  TOKENS.forEach((_, n) => {
    for (const seq of [streamSeq(n), streamSeq(n) + 1]) {
      assert.equal(cell(seq).textContent, REDACTED[n], `row ${seq}`);
      assert.equal(cell(seq).title, REDACTED[n], `row ${seq}'s tooltip`);
    }
  });
  // The details of the open row: its new text, and the payload asked for again.
  assert.equal(m.$(".sv-payload").textContent, "[redacted]");
  assert.deepEqual(
    m.model.sent.filter((message) => message.seq === sk),
    [
      { type: "payload", seq: sk },
      { type: "payload", seq: sk },
    ],
  );
  // The timeline's tooltip, where it is.
  assert.ok(!tooltip.hidden);
  assert.ok(tooltip.textContent.includes(`part #${proj}`));
  assertNoSecret(tooltip.textContent, "the tooltip");
  // The picked part's detail.
  assert.equal(m.$(".sv-graph-detail").getAttribute("data-seq"), String(proj));
  assert.equal(m.$(".sv-graph-payload").textContent, "");
  assertNoSecret(readable(m.root), "the dashboard");
  // The search reads the new texts: the old pieces match nothing, the new text matches.
  for (const piece of ["ab12", "proj", "sk-proj"]) {
    type(search, piece);
    m.flush();
    assert.equal(m.$$(".sv-row").length, 0, piece);
  }
  type(search, "[redacted]");
  m.flush();
  assert.deepEqual(rows(), [sk, sk + 1, AFTER.count - 2]);
  assertNoSecret(readable(m.root), "the dashboard, searched");
});

/**
 * Point the timeline at LangGraph part `seq` (the only lane: `messages`): the tooltip, and where.
 * @returns {{tooltip: HTMLElement, at: MouseEventInit}}
 */
function hoverPart(m, seq) {
  const canvas = m.$("canvas.sv-timeline-canvas");
  const [t0, t1] = canvas.getAttribute("data-range").split(",").map(Number);
  const x0 = LABEL_WIDTH_PX + PLOT_LEFT_PAD_PX;
  const x1 = 800 - PLOT_RIGHT_MARGIN_PX; // the fallback width without layout, less the right margin
  const time = BEFORE.events.us[seq] / 1000;
  const at = { clientX: x0 + ((time - t0) * (x1 - x0)) / (t1 - t0), clientY: AXIS_HEIGHT_PX + 5, bubbles: true };
  canvas.dispatchEvent(new m.window.MouseEvent("mousemove", at));
  const tooltip = m.$(".sv-tooltip");
  assert.ok(!tooltip.hidden, "the tooltip shows");
  assert.ok(tooltip.textContent.includes(`part #${seq}`), tooltip.textContent);
  return { tooltip, at };
}

test("the token pane alone: the run's block is drawn again from its first token", (t) => {
  const m = mount(firstSnapshot(), { view: "tokens", live: true });
  t.after(() => m.cleanup());
  m.model.message(tokensDelta());
  m.flush();
  m.model.message({ ...deltaOf(AFTER, TOKENS_END, TOKENS_END), retext: redactions() });
  m.flush();
  const block = m.$('.sv-token-run[data-run-id="run-1"]');
  assert.equal(block.querySelector(".sv-token-pieces").textContent, REDACTED.join("|"));
  assert.equal(block.querySelector(".sv-token-text").textContent, REDACTED.join(""));
  assert.equal(m.$$('.sv-token-run[data-run-id="run-1"]').length, 1, "the block replaced, not added");
  assertNoSecret(readable(m.root), "the token pane");
  // Tokens that come after it are appended to the new block as usual.
  m.model.message(deltaOf(AFTER, TOKENS_END, AFTER.count));
  m.flush();
  assert.equal(m.$('.sv-token-run[data-run-id="run-1"] .sv-token-text').textContent, REDACTED.join(""));
});

test("malformed retext entries are ignored, never thrown on", () => {
  const { model, store } = connected(firstSnapshot());
  model.message(tokensDelta());
  const held = [...store.cols.text];
  const count = store.count;
  const seq = String(streamSeq(3));
  const malformed = [
    null,
    "sk",
    42,
    [held.length - 1],
    ["[redacted]"],
    {
      "-1": "x",
      1.5: "x",
      "1e1": "x",
      "03": "x",
      " 3": "x",
      "0x3": "x",
      abc: "x",
      "": "x",
      ["__proto__"]: "x",
      [String(count)]: "beyond the copy",
      "99999999999999999999": "too big",
      [seq]: 7,
      [String(streamSeq(4))]: null,
      [String(streamSeq(5))]: { text: "x" },
      [String(streamSeq(1))]: ["x"],
    },
  ];
  for (const retext of malformed) {
    assert.doesNotThrow(() => model.message({ ...deltaOf(BEFORE, count, count), retext }));
    assert.deepEqual(store.cols.text, held, JSON.stringify(retext));
    assert.equal(store.count, count);
  }
  // The entries that are well formed apply beside those that are not; older kernels send none.
  model.message({ ...deltaOf(BEFORE, count, count), retext: { [seq]: "", "-2": "x", [String(count + 5)]: "x" } });
  assert.equal(store.cols.text[Number(seq)], "");
  assert.deepEqual(readDelta({ ...deltaOf(BEFORE, count, count) })?.retext, []);
  model.message(deltaOf(BEFORE, count, count + 2));
  assert.equal(store.count, count + 2);
});

test("a delta kept aside applies its retext when it is drained; one already held still applies it", () => {
  const { model, store } = connected(firstSnapshot());
  // The tokens' delta is late: the redacting one starts beyond the copy and waits.
  model.message(redactingDelta());
  assert.equal(store.count, HEAD);
  assert.equal(store.pending.size, 1);
  model.message(tokensDelta());
  assert.equal(store.count, AFTER.count);
  assert.deepEqual(tokenTexts(store), { stream: REDACTED, parts: REDACTED });
  assert.equal(store.pending.size, 0);

  // A delta whose events the copy holds already (sent again): its retext applies all the same.
  const again = connected(firstSnapshot());
  again.model.message(deltaOf(BEFORE, HEAD, BEFORE.count));
  assert.equal(again.store.cols.text[streamSeq(3)], "proj");
  again.model.message({ ...deltaOf(BEFORE, HEAD, TOKENS_END), retext: redactions() });
  assert.deepEqual(tokenTexts(again.store), { stream: REDACTED, parts: REDACTED });
  assert.equal(again.store.count, BEFORE.count);
});

test("a delta kept aside that a snapshot passed still gives its retext; the snapshot's texts win", () => {
  const { model, store } = connected(firstSnapshot());
  model.message(tokensDelta());
  // A retext-only delta is kept aside after a gap (a delta lost before it)...
  const later = { ...deltaOf(AFTER, AFTER.count, AFTER.count), retext: redactions() };
  model.message(later);
  assert.equal(store.pending.size, 1);
  assert.equal(store.cols.text[streamSeq(3)], "proj");
  // ...and the kernel's next snapshot holds every event, with the texts as they are now.
  model.python("snapshot", AFTER);
  assert.equal(store.count, AFTER.count);
  assert.equal(store.pending.size, 0);
  assert.deepEqual(store.cols.text, AFTER.events.text);

  // The retext came in a delta the page never got: the snapshot's texts bring it.
  const lost = connected(firstSnapshot());
  lost.model.message(tokensDelta());
  lost.model.python("snapshot", AFTER);
  assert.deepEqual(tokenTexts(lost.store), { stream: REDACTED, parts: REDACTED });
  assert.deepEqual(lost.store.cols.text, AFTER.events.text);
});

test("a page that missed the retext delta shows the snapshot's texts in every view", (t) => {
  const m = mount(firstSnapshot(), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  m.model.message(tokensDelta());
  m.flush();
  assert.ok(readable(m.root).includes("proj"));
  m.model.python("snapshot", AFTER);
  m.model.python("live", false);
  m.flush();
  assert.equal(m.$('.sv-token-run[data-run-id="run-1"] .sv-token-text').textContent, REDACTED.join(""));
  assert.equal(m.$(".sv-msg-text").textContent, REDACTED.join(""));
  assertNoSecret(readable(m.root), "the dashboard");
});

test("the LangGraph pane's list of parts shows their new texts", (t) => {
  const before = trace(TOKENS, "custom");
  const after = trace(REDACTED, "custom");
  // The first snapshot is the same: the chain and the model started.
  const m = mount(firstSnapshot(), { view: "graph", live: true });
  t.after(() => m.cleanup());
  m.model.message(deltaOf(before, HEAD, TOKENS_END));
  m.flush();
  const cells = () => m.$$('.sv-part[data-mode="custom"] .sv-part-text').map((cell) => cell.textContent);
  assert.deepEqual(cells(), TOKENS);
  m.model.message({ ...deltaOf(after, TOKENS_END, after.count), retext: redactions() });
  m.flush();
  assert.deepEqual(cells(), REDACTED);
  assertNoSecret(readable(m.root), "the LangGraph pane");
});

test("a new text is text: markup in it stays characters", (t) => {
  const m = mount(firstSnapshot(), { view: "dashboard", live: true });
  t.after(() => m.cleanup());
  m.model.message(tokensDelta());
  m.flush();
  const markup = '<img src=x onerror="alert(1)">';
  const seq = streamSeq(3);
  m.model.message({ ...deltaOf(BEFORE, TOKENS_END, TOKENS_END), retext: { [seq]: markup, [seq + 1]: markup } });
  m.flush();
  assert.ok(m.$('.sv-token-run[data-run-id="run-1"] .sv-token-text').textContent.includes(markup));
  assert.ok(m.$(".sv-msg-text").textContent.includes(markup));
  assert.equal(m.$(`.sv-row[data-seq="${seq}"] .sv-c-text`).textContent, markup);
  assert.equal(m.root.querySelector("img"), null);
});

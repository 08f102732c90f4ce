// Hostile traces render as text: no markup, no handlers, no URLs, long texts cut, controls shown.
import assert from "node:assert/strict";
import { test } from "node:test";
import { builder, cellText, cut, visible } from "../src/text.js";
import { AXIS_HEIGHT_PX, LABEL_WIDTH_PX, ROW_HEIGHT_PX } from "../src/views/timeline_model.js";
import { click, mount, type } from "./support/env.js";

const SCRIPT = "<script>alert(1)</script>";
const IMG = "<img src=x onerror=alert(1)>";
const JS_URL = "javascript:alert(1)";
const IFRAME = "<iframe src=javascript:alert(1)></iframe>";
const SVG = "<svg onload=alert(1)>";
const CONTROL = "\u0000\u001b[31mred";
const RTL = "\u202egnp.exe";
const ARABIC = "مرحبا بالعالم";
const EMOJI = "👋🏽🦜";
const MEGABYTE = `${"🦜".repeat(10)}${"x".repeat(1_000_000)}`;

function hostileSnapshot() {
  const run = (i, name, type, parent, tags, extra = {}) => ({
    i,
    id: `id-${i}-${SCRIPT}`,
    name,
    type,
    parent,
    tags,
    start: i,
    end: 500 + i,
    status: "ok",
    error: null,
    first: 100 + i,
    chunks: 3,
    orphan: false,
    held: null,
    upstream: -1,
    node: null,
    stream: "text",
    ...extra,
  });
  const runs = [
    run(0, SCRIPT, "chain", -1, ["<b>x</b>", JS_URL, ""]),
    run(1, IMG, "chat_model", 0, [`${RTL}`, ARABIC], { status: "error", error: IFRAME }),
    run(2, `${ARABIC} ${EMOJI} ${RTL}`, "parser", 0, [EMOJI], { stream: "json", held: 50, upstream: 1 }),
    run(3, JS_URL, `<b>type</b>`, 0, [SVG], { status: "running", end: null }),
  ];
  const kinds = [
    "on_chain_start",
    "on_chat_model_start",
    "on_chat_model_stream",
    "on_parser_stream",
    "on_custom_event",
    `on_${SCRIPT}_start`,
    "on_chat_model_error",
  ];
  const rows = [
    [0, 0, SCRIPT, null, null, null],
    [1, 1, IMG, null, null, null],
    [2, 1, SCRIPT, null, null, null],
    [2, 1, CONTROL, null, null, null],
    [2, 1, `${EMOJI}${ARABIC}${RTL}`, null, null, null],
    [2, 1, MEGABYTE, null, null, null],
    [3, 2, `{"a":"${IMG}","b":"${JS_URL}"}`, null, null, null],
    [3, 2, `{"big":"${MEGABYTE}`, null, null, null],
    [4, -1, SVG, SVG, ["<i>t</i>", JS_URL], "<b>mode</b>"],
    [5, 3, IFRAME, null, null, null],
    [6, 1, `${IFRAME} ${MEGABYTE}`, null, null, null],
  ];
  const events = { us: [], kind: [], run: [], text: [], extra: {} };
  rows.forEach(([kind, r, text, name, tags, mode], n) => {
    events.us.push(n * 3500);
    events.kind.push(kind);
    events.run.push(r);
    events.text.push(text);
    if (name !== null) events.extra[String(n)] = { name, tags, mode, ns: SCRIPT };
  });
  return { v: 1, name: `${SCRIPT} ${ARABIC}`, count: rows.length, now: 600, kinds, runs, events };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertInert(root) {
  const bad = root.querySelectorAll("script, img, iframe, svg, object, embed, a, link, style, meta, base, form");
  assert.equal(bad.length, 0, `elements: ${[...bad].map((e) => e.tagName)}`);
  for (const element of [root, ...root.querySelectorAll("*")]) {
    for (const attribute of element.attributes) {
      assert.ok(!attribute.name.toLowerCase().startsWith("on"), `${attribute.name} on ${element.tagName}`);
      assert.ok(!["href", "src", "srcdoc", "action", "formaction"].includes(attribute.name.toLowerCase()));
    }
  }
  const text = root.textContent;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text), "no raw control characters");
  assert.ok(!text.includes("\u202e"), "no raw bidi override");
  assert.ok(!LONE_SURROGATE.test(text), "no split surrogate pair");
}

function textNodes(root) {
  const walker = root.ownerDocument.createTreeWalker(root, 4);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  return nodes;
}

test("a hostile trace renders as text in every view", (t) => {
  for (const view of ["dashboard", "table", "tokens", "tree", "timeline", "graph"]) {
    const m = mount(hostileSnapshot(), { view });
    t.after(() => m.cleanup());
    m.flush();
    assertInert(m.root);
  }
});

test("names, tags and texts are visible as text, cut when long", (t) => {
  const m = mount(hostileSnapshot(), { view: "dashboard" });
  t.after(() => m.cleanup());
  const toggle = m.$(".sv-token-all");
  toggle.checked = true;
  toggle.dispatchEvent(new m.window.Event("change"));
  m.flush();
  const text = m.root.textContent;
  for (const shown of [SCRIPT, IMG, JS_URL, "<b>x</b>", ARABIC, EMOJI, "␀␛[31mred", "⟨U+202E⟩gnp.exe"]) {
    assert.ok(text.includes(shown), `${JSON.stringify(shown)} shown`);
  }
  assert.ok(m.$(".sv-title").textContent.startsWith(SCRIPT));
  // Table cells: at most 300 characters and an ellipsis.
  const cells = m.$$(".sv-c-text");
  assert.ok(cells.some((cell) => cell.textContent.length === 301 && cell.textContent.endsWith("…")));
  assert.ok(cells.every((cell) => cell.textContent.length <= 301));
  assert.ok(m.$$(".sv-row .sv-c-name").every((cell) => cell.getAttribute("dir") === "auto"));
  // The token views keep a bounded tail of a 1 MB token.
  for (const node of textNodes(m.root)) assert.ok(node.data.length <= 200_000, `${node.data.length} characters`);
  assert.ok(text.includes("earlier characters not shown"));
  // The JSON chunk that does not parse is shown raw; the one that does is pretty-printed.
  const json = m.$(`.sv-token-run[data-stream="json"] .sv-token-text`).textContent;
  assert.ok(json.startsWith('{"big":"🦜'));
  assertInert(m.root);
});

test("the details pane shows a hostile payload as text, cut at 100,000 characters", (t) => {
  const m = mount(hostileSnapshot(), { view: "table" });
  t.after(() => m.cleanup());
  click(m.$('.sv-row[data-seq="5"]'));
  const payload = m.$(".sv-payload").textContent;
  assert.ok(payload.length <= 100_000);
  assert.ok(payload.startsWith("🦜🦜"));
  assert.match(m.$(".sv-details").textContent, /… 900,0\d\d more characters/);
  m.model.message({ type: "payload", seq: 5, text: `${IFRAME}${CONTROL}${RTL}`, truncated: false });
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, "<iframe src=javascript:alert(1)></iframe>␀␛[31mred⟨U+202E⟩gnp.exe");
  click(m.$('.sv-row[data-seq="8"]'));
  assert.ok(m.$(".sv-details").textContent.includes(SVG));
  assertInert(m.root);
});

test("hostile values in filter chips, search and the tooltip stay text", (t) => {
  const m = mount(hostileSnapshot(), { view: "dashboard" });
  t.after(() => m.cleanup());
  const chip = m.$$(".sv-chip").find((element) => element.getAttribute("data-value") === SCRIPT);
  assert.ok(chip);
  click(chip);
  m.flush();
  assert.deepEqual(m.model.get("filters").include_names, [SCRIPT]);
  type(m.$('input[data-filter="search"]'), "<img");
  m.flush();
  const canvas = m.$("canvas");
  canvas.dispatchEvent(
    new m.window.MouseEvent("mousemove", {
      clientX: LABEL_WIDTH_PX + 50,
      clientY: AXIS_HEIGHT_PX + ROW_HEIGHT_PX + 4,
      bubbles: true,
    }),
  );
  assert.ok(m.$(".sv-tooltip").textContent.includes(IMG));
  assert.ok(m.$(".sv-tooltip").textContent.includes(IFRAME));
  m.model.python("selected_run", `id-1-${SCRIPT}`);
  m.flush();
  assert.ok(m.$(".sv-run-chip").textContent.includes(IMG));
  assertInert(m.root);
});

test("text helpers: controls visible, bidi overrides named, cuts keep surrogate pairs", () => {
  assert.equal(visible("a\u0000b\u001bc\u007f\u0085"), "a␀b␛c␡⟨U+0085⟩");
  assert.equal(visible("line\nnext\ttab"), "line↵next⇥tab");
  assert.equal(visible("line\nnext\ttab", true), "line\nnext\ttab");
  assert.equal(visible("\u2066x\u2069"), "⟨U+2066⟩x⟨U+2069⟩");
  assert.deepEqual(cut("ab🦜", 3), { text: "ab", rest: 2 });
  assert.equal(cellText("x".repeat(1_000_000)).length, 301);
  const h = builder(
    new (class {
      createElement() {
        return { setAttribute() {}, appendChild() {} };
      }
    })(),
  );
  assert.throws(() => h("div", { onclick: "alert(1)" }), /refusing attribute onclick/);
  assert.throws(() => h("div", { href: JS_URL }), /refusing attribute href/);
  assert.throws(() => h("div", { SRC: JS_URL }), /refusing attribute SRC/);
});

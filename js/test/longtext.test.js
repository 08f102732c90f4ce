// Append-only long texts (token pieces and accumulated text): split into blocks so that a frame
// only touches (and the browser only lays out) the last one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { builder } from "../src/text.js";
import { BLOCK_CHARS, cutPoint, longText, MAX_BLOCK_CHARS } from "../src/views/longtext.js";
import { makeWindow } from "./support/env.js";

function setup(t, cap = 200_000) {
  const dom = makeWindow();
  t.after(() => dom.window.close?.());
  const element = dom.document.createElement("div");
  dom.document.body.appendChild(element);
  const drops = [];
  const text = longText(builder(dom.document), element, { cap, onDrop: (n) => drops.push(n) });
  const blocks = () => [...element.querySelectorAll(".sv-text-block")];
  return { dom, element, text, drops, blocks };
}

/** The mutations of `element`'s subtree made by `change()`. */
async function mutations(dom, element, change) {
  const records = [];
  const observer = new dom.window.MutationObserver((list) => records.push(...list));
  observer.observe(element, { childList: true, characterData: true, subtree: true });
  change();
  // Every mutation made so far, delivered or not: no waiting for the observer's callback.
  records.push(...observer.takeRecords());
  observer.disconnect();
  return records;
}

/** Lines of text with a line break every `every` characters or so, `count` characters in all. */
function prose(count, every = 70) {
  let text = "";
  let n = 0;
  while (text.length < count) {
    text += n % every === every - 1 ? "\n" : n % 7 === 6 ? " " : "x";
    n += 1;
  }
  return text;
}

test("cutPoint seals a block at its last line break, the first of a run of them", () => {
  assert.equal(cutPoint("x".repeat(BLOCK_CHARS - 1)), null, "short: keep growing");
  const text = `${"a".repeat(3000)}\n\n\n${"b".repeat(100)}`;
  assert.deepEqual(cutPoint(text), { end: 3000, newline: true });
  // "a\n" + "\nb" renders as "a\n\nb"; "a\n\n" + "b" would lose the empty line.
  assert.equal(cutPoint(`\n\n${"b".repeat(BLOCK_CHARS)}`), null, "leading line breaks are not a cut");
  assert.deepEqual(cutPoint(`${"a".repeat(10)}\n${"b".repeat(MAX_BLOCK_CHARS * 2)}`), { end: 10, newline: true });
});

test("cutPoint waits for a line break, then cuts after a space, then anywhere but in a pair", () => {
  assert.equal(cutPoint("x".repeat(MAX_BLOCK_CHARS - 1)), null);
  const words = "tok ".repeat(MAX_BLOCK_CHARS);
  const cut = cutPoint(words);
  assert.equal(cut.newline, false);
  assert.equal(words[cut.end - 1], " ");
  assert.ok(cut.end <= MAX_BLOCK_CHARS && cut.end >= BLOCK_CHARS);
  assert.deepEqual(cutPoint("x".repeat(MAX_BLOCK_CHARS + 5)), { end: MAX_BLOCK_CHARS, newline: false });
  const emoji = `${"x".repeat(MAX_BLOCK_CHARS - 1)}🦜tail`;
  assert.deepEqual(cutPoint(emoji), { end: MAX_BLOCK_CHARS - 1, newline: false }, "🦜 stays whole");
});

test("a long text grows in blocks and reads back exactly (textContent, line breaks)", (t) => {
  const { element, text, blocks, drops } = setup(t);
  const whole = prose(60_000);
  for (let at = 0; at < whole.length; at += 517) text.append(whole.slice(at, at + 517));
  assert.equal(element.textContent, whole);
  assert.equal(text.length, whole.length);
  assert.ok(blocks().length >= 60_000 / MAX_BLOCK_CHARS, `${blocks().length} blocks`);
  for (const block of blocks()) {
    const data = block.firstChild.data;
    assert.ok(data.length <= MAX_BLOCK_CHARS + 517, `${data.length} characters in a block`);
    assert.ok(!data.endsWith("\n"), "a block never ends with a visible line break");
  }
  // Every sealed block ends with its line break, hidden: the block boundary shows it.
  for (const block of blocks().slice(0, -1)) {
    const end = block.lastChild;
    assert.equal(end.textContent, "\n");
    assert.ok(end.hasAttribute("hidden"));
  }
  assert.deepEqual(drops, []);
});

test("appending touches only the last block", async (t) => {
  const { dom, element, text, blocks } = setup(t);
  text.append(prose(40_000));
  const sealed = blocks()
    .slice(0, -1)
    .map((block) => [block.firstChild, block.firstChild.data]);
  const records = await mutations(dom, element, () => {
    for (let n = 0; n < 20; n += 1) text.append(" tok");
  });
  assert.ok(records.length > 0);
  const last = blocks()[blocks().length - 1].firstChild;
  for (const record of records) {
    assert.equal(record.type, "characterData");
    assert.equal(record.target, last, "only the last block's text changes");
  }
  for (const [node, data] of sealed) assert.equal(node.data, data);
  // A text with no line break at all is cut after a space, in blocks of at most MAX_BLOCK_CHARS.
  const words = setup(t);
  for (let n = 0; n < 5000; n += 1) words.text.append("tok ");
  assert.equal(words.element.textContent, "tok ".repeat(5000));
  assert.ok(words.blocks().every((block) => block.textContent.length <= MAX_BLOCK_CHARS));
  assert.ok(words.blocks().every((block) => block.textContent.endsWith(" ") || block === words.blocks().at(-1)));
});

test("past the cap the oldest blocks go and the count of hidden characters is told", (t) => {
  const cap = 20_000;
  const { element, text, drops, blocks } = setup(t, cap);
  const whole = prose(50_000);
  for (let at = 0; at < whole.length; at += 300) text.append(whole.slice(at, at + 300));
  const shown = element.textContent;
  assert.ok(shown.length <= cap);
  assert.ok(shown.length >= cap - MAX_BLOCK_CHARS);
  assert.equal(drops.at(-1) + shown.length, whole.length, "shown + dropped = all");
  assert.ok(whole.endsWith(shown), "the tail is kept, exactly");
  assert.equal(text.dropped, drops.at(-1));
  // One append bigger than the cap keeps its tail only.
  text.append("🦜".repeat(cap));
  assert.ok(element.textContent.length <= cap);
  assert.ok(!/^[\udc00-\udfff]/.test(element.textContent), "no half of a pair at the start");
  assert.ok(element.textContent.endsWith("🦜🦜"));
  assert.equal(text.dropped + element.textContent.length, whole.length + 2 * cap);
  assert.ok(blocks().every((block) => block.textContent.length <= MAX_BLOCK_CHARS));
});

// The details pane: the payload as LangChain prints it, its raw JSON, where it comes from.
import assert from "node:assert/strict";
import { test } from "node:test";
import { payloadViews, plainJson, pyRepr, pyString } from "../src/views/payload.js";
import { click, fixture, mount } from "./support/env.js";

/** Open the details of event `seq` of a table showing `snapshot`. */
function details(t, snapshot, seq, state = {}) {
  const m = mount(snapshot, { view: "table", ...state });
  t.after(() => m.cleanup());
  m.flush();
  const body = m.$(".sv-tbody");
  body.scrollTop = Math.max(0, (seq - 2) * 24);
  body.dispatchEvent(new m.window.Event("scroll"));
  m.flush();
  click(m.$(`.sv-row[data-seq="${seq}"]`));
  m.flush();
  return m;
}

const seqOf = (snapshot, kind) => snapshot.events.kind.indexOf(snapshot.kinds.indexOf(kind));

/** A chat model's stream chunk as the kernel's payload answer writes it. */
const CHUNK_PAYLOAD = JSON.stringify(
  {
    data: {
      chunk: {
        __sv__: "lc",
        type: "AIMessageChunk",
        fields: {
          content: "Why",
          additional_kwargs: {},
          response_metadata: {},
          type: "AIMessageChunk",
          name: null,
          id: "lc_run--1",
          tool_calls: [],
          invalid_tool_calls: [],
          usage_metadata: null,
          tool_call_chunks: [],
          chunk_position: null,
        },
      },
    },
    metadata: { ls_provider: "demo" },
  },
  null,
  2,
);

test("a finished trace's end event shows its saved output as LangChain prints it, asking no kernel", (t) => {
  const snapshot = fixture("parrot.json");
  const seq = seqOf(snapshot, "on_chat_model_end");
  const m = details(t, snapshot, seq);
  const text = m.$(".sv-payload").textContent;
  assert.ok(text.startsWith("output: AIMessageChunk(content='Why did the parrot"), text.slice(0, 80));
  assert.ok(!text.includes("__sv__") && !text.includes('"fields"'), "no internal wrapper");
  assert.ok(text.includes("\ninput: {") && text.includes("HumanMessage(content='tell me a joke about parrot'"));
  assert.equal(m.$(".sv-payload-note").textContent, "Full payload");
  assert.ok(!m.$(".sv-details").textContent.includes("when the kernel answers"));
  assert.deepEqual(m.model.sent, [], "the page carries it: nothing asked");
});

test("the raw JSON toggle shows the payload as indented JSON without markers, and back", (t) => {
  const snapshot = fixture("parrot.json");
  const seq = seqOf(snapshot, "on_chat_model_end");
  const m = details(t, snapshot, seq);
  const toggle = m.$(".sv-payload-mode");
  assert.ok(!toggle.hidden);
  click(toggle);
  const text = m.$(".sv-payload").textContent;
  assert.ok(!text.includes("__sv__"));
  const value = JSON.parse(text);
  assert.equal(value.data.output.type, "AIMessageChunk");
  assert.ok(value.data.output.content.startsWith("Why did the parrot"));
  assert.equal(toggle.getAttribute("aria-pressed"), "true");
  click(toggle);
  assert.ok(m.$(".sv-payload").textContent.startsWith("output: AIMessageChunk("));
});

test("a stream chunk's payload from the kernel shows as AIMessageChunk(content='Why', ...)", (t) => {
  const snapshot = { ...fixture("parrot.json"), payloads: {} };
  const seq = seqOf(snapshot, "on_chat_model_stream");
  const m = details(t, snapshot, seq, { live: true });
  assert.equal(m.$(".sv-payload").textContent, "Why", "the chunk's text first");
  assert.deepEqual(m.model.sent.at(-1), { type: "payload", seq });
  m.model.message({ type: "payload", seq, text: CHUNK_PAYLOAD, truncated: false });
  m.flush();
  assert.equal(
    m.$(".sv-payload").textContent,
    "chunk: AIMessageChunk(content='Why', additional_kwargs={}, response_metadata={}, id='lc_run--1', " +
      "tool_calls=[], invalid_tool_calls=[], tool_call_chunks=[])\nmetadata: {'ls_provider': 'demo'}",
  );
  assert.equal(m.$(".sv-payload-note").textContent, "Full payload");
});

test("a payload cut by the kernel (not JSON any more) shows as it came, and says so", (t) => {
  const snapshot = { ...fixture("parrot.json"), payloads: {} };
  const m = details(t, snapshot, 3, { live: true });
  m.model.message({ type: "payload", seq: 3, text: CHUNK_PAYLOAD.slice(0, 50), truncated: true });
  m.flush();
  assert.equal(m.$(".sv-payload").textContent, CHUNK_PAYLOAD.slice(0, 50));
  assert.ok(m.$(".sv-payload-mode").hidden);
  assert.equal(m.$(".sv-payload-note").textContent, "Full payload (cut by the kernel)");
});

test("Python's repr: quotes, escapes, None, tuples, sets, dicts with other keys, objects", () => {
  assert.equal(pyString("it's"), `"it's"`);
  assert.equal(pyString(`a'b"c\n`), `'a\\'b"c\\n'`);
  assert.equal(pyRepr({ a: null, b: [1.5, true, "x"] }), "{'a': None, 'b': [1.5, True, 'x']}");
  assert.equal(pyRepr({ __sv__: "tuple", items: ["France"] }), "('France',)");
  assert.equal(pyRepr({ __sv__: "set", items: [] }), "set()");
  assert.equal(pyRepr({ __sv__: "dict", items: [[1, "one"]] }), "{1: 'one'}");
  assert.equal(
    pyRepr({
      __sv__: "lc",
      type: "Document",
      fields: { id: null, metadata: { source: "a" }, page_content: "x", type: "Document" },
    }),
    "Document(metadata={'source': 'a'}, page_content='x')",
  );
  assert.equal(
    pyRepr({ __sv__: "model", type: "app.models.Joke", fields: { setup: "s", punchline: null } }),
    "Joke(setup='s', punchline=None)",
  );
  assert.equal(pyRepr({ __sv__: "uuid", value: "0193" }), "UUID('0193')");
  assert.equal(
    pyRepr({ __sv__: "error", type: "ValueError", module: "builtins", message: "bad", repr: "ValueError('bad')" }),
    "ValueError('bad')",
  );
  assert.equal(pyRepr({ __sv__: "repr", type: "x.Thing", repr: "<Thing 1>" }), "<Thing 1>");
  // A user's dict that holds the marker key stays a dict.
  assert.equal(pyRepr({ __sv__: "nonsense", x: 1 }), "{'__sv__': 'nonsense', 'x': 1}");
  // Long lists and dicts go one item per line.
  const long = pyRepr({ countries: ["France", "Spain", "Japan"].map((name) => ({ name, population: 67_413_000 })) });
  assert.ok(long.startsWith("{\n    'countries': [\n        {'name': 'France', 'population': 67413000},\n"), long);
});

test("plain JSON: objects are their fields, tuples and sets lists, scalars their value", () => {
  assert.deepEqual(
    plainJson({
      a: { __sv__: "tuple", items: [1, { __sv__: "uuid", value: "u" }] },
      m: { __sv__: "lc", type: "HumanMessage", fields: { content: "hi", type: "human" } },
      d: { __sv__: "dict", items: [[{ __sv__: "tuple", items: [1, 2] }, "x"]] },
    }),
    { a: [1, "u"], m: { content: "hi", type: "human" }, d: { "(1, 2)": "x" } },
  );
  assert.equal(payloadViews("{not json"), null);
});

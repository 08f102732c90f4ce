// Test support (not a test): a happy-dom window with a hand-cranked animation frame, a fake
// anywidget model, fixtures and synthetic traces. node --test runs this file too; it defines no
// test and has no side effect.

import { readFileSync } from "node:fs";
import { Window } from "happy-dom";
import { COLUMNS, VERSION } from "../../src/contract.js";
import widget from "../../src/index.js";
import { emptyFilters } from "../../src/query.js";

export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf-8"));
}

/** A window whose requestAnimationFrame only runs when the test calls `flush()`. */
export function makeWindow() {
  const window = new Window({ url: "http://localhost/", width: 1200, height: 800 });
  const frames = new Map();
  let next = 1;
  window.requestAnimationFrame = (callback) => {
    frames.set(next, callback);
    return next++;
  };
  window.cancelAnimationFrame = (handle) => frames.delete(handle);
  const flush = () => {
    for (let round = 0; round < 20 && frames.size; round += 1) {
      const batch = [...frames.values()];
      frames.clear();
      for (const callback of batch) callback(0);
    }
  };
  return { window, document: window.document, flush, pending: () => frames.size };
}

export const EMPTY_FILTERS = emptyFilters();

/** The anywidget model API (0.11) over a plain object; records what the view sends and saves. */
export class FakeModel {
  constructor(state = {}) {
    this.state = {
      view: "dashboard",
      snapshot: {},
      live: false,
      selected_run: "",
      filters: { ...EMPTY_FILTERS },
      height: 600,
      ...state,
    };
    this.handlers = new Map();
    this.sent = [];
    this.saves = 0;
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    const same = JSON.stringify(this.state[name]) === JSON.stringify(value);
    this.state[name] = value;
    if (!same) this.emit(`change:${name}`, value);
  }
  save_changes() {
    this.saves += 1;
  }
  on(name, callback, context = null) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Map());
    this.handlers.get(name).set(callback, context);
  }
  off(name, callback, context = null) {
    if (name === null && callback === null) {
      // What anywidget does when a view goes: drop every listener added through its stand-in.
      for (const set of this.handlers.values()) {
        for (const [listener, owner] of set) if (owner === context) set.delete(listener);
      }
      return;
    }
    this.handlers.get(name)?.delete(callback);
  }
  /**
   * A stand-in for this model as anywidget 0.11 hands one to `initialize` and to each `render`:
   * a new object every time, whose listeners belong to `context`.
   */
  proxy(context = {}) {
    return {
      get: this.get.bind(this),
      set: this.set.bind(this),
      save_changes: this.save_changes.bind(this),
      send: this.send.bind(this),
      on: (name, callback) => this.on(name, callback, context),
      off: (name, callback) => this.off(name, callback, context),
    };
  }
  send(message) {
    this.sent.push(message);
  }
  emit(name, ...args) {
    for (const callback of [...(this.handlers.get(name)?.keys() ?? [])]) callback(...args);
  }
  /** A custom message from the kernel. */
  message(message) {
    this.emit("msg:custom", message, []);
  }
  /** Set a trait from "Python". */
  python(name, value) {
    this.set(name, value);
  }
  listeners() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

/** Render `view` of a model holding `snapshot` (`setup(window)` first); returns what tests poke at. */
export function mount(snapshot, state = {}, setup = (_window) => {}) {
  const dom = makeWindow();
  setup(dom.window);
  const model = new FakeModel({ snapshot, ...state });
  const el = dom.document.createElement("div");
  dom.document.body.appendChild(el);
  const stopModel = widget.initialize({ model });
  const stopView = widget.render({ model, el });
  const root = el.querySelector(".sv-root");
  return {
    ...dom,
    model,
    el,
    root,
    $: (selector) => root.querySelector(selector),
    $$: (selector) => [...root.querySelectorAll(selector)],
    cleanup() {
      stopView();
      stopModel?.();
      dom.window.happyDOM?.abort?.();
      dom.window.close?.();
    },
  };
}

export function click(element) {
  element.dispatchEvent(new element.ownerDocument.defaultView.MouseEvent("click", { bubbles: true }));
}

/** Type `value` into an input as a user would (sets it and fires `input`). */
export function type(input, value) {
  input.value = value;
  input.dispatchEvent(new input.ownerDocument.defaultView.Event("input", { bubbles: true }));
}

/** Event columns holding no event. */
export function noEvents() {
  return { ...Object.fromEntries(COLUMNS.map((key) => [key, []])), extra: {} };
}

/** The events `from..to-1` of a snapshot as a delta, with the run rows first used there. */
export function deltaOf(snapshot, from, to, { runsFrom = 0, kindsFrom = 0 } = {}) {
  const events = {};
  for (const key of COLUMNS) events[key] = snapshot.events[key].slice(from, to);
  events.extra = {};
  for (const [seq, fields] of Object.entries(snapshot.events.extra ?? {})) {
    if (Number(seq) >= from && Number(seq) < to) events.extra[seq] = fields;
  }
  const maxRun = Math.max(-1, ...events.run);
  return {
    type: "delta",
    from,
    to,
    now: (snapshot.events.us[to - 1] ?? snapshot.now * 1000) / 1000,
    kinds: snapshot.kinds.slice(kindsFrom, Math.max(-1, ...events.kind) + 1),
    runs: snapshot.runs.slice(runsFrom, maxRun + 1),
    events,
  };
}

/** Split a snapshot into a stream of deltas of `size` events (kinds and runs sent once). */
export function* deltas(snapshot, size, start = 0) {
  let runsFrom = 0;
  let kindsFrom = 0;
  for (let from = start; from < snapshot.count; from += size) {
    const to = Math.min(snapshot.count, from + size);
    const delta = deltaOf(snapshot, from, to, { runsFrom, kindsFrom });
    runsFrom += delta.runs.length;
    kindsFrom += delta.kinds.length;
    yield delta;
  }
}

/** An empty snapshot, as before anything ran. */
export function emptySnapshot(name = "empty") {
  return { v: VERSION, name, count: 0, now: 0, kinds: [], runs: [], events: noEvents() };
}

/**
 * A big synthetic trace: `runs` chat-model runs under one root chain, streaming `events` events in
 * total (start, tokens, end per run), 1 ms apart unless told otherwise.
 */
export function bigTrace(totalEvents, runCount = 10, { step = 0.1 } = {}) {
  const kinds = ["on_chain_start", "on_chat_model_start", "on_chat_model_stream", "on_chat_model_end", "on_chain_end"];
  const runs = [
    {
      i: 0,
      id: "root",
      name: "RunnableSequence",
      type: "chain",
      parent: -1,
      tags: [],
      start: 0,
      end: null,
      status: "running",
      error: null,
      first: null,
      chunks: 0,
      orphan: false,
      held: null,
      upstream: -1,
      node: null,
      stream: null,
    },
  ];
  const events = noEvents();
  let t = 0;
  const push = (kind, run, text) => {
    events.us.push(Math.round(t * 1000));
    events.kind.push(kind);
    events.run.push(run);
    events.text.push(text);
    t += step;
  };
  push(0, 0, "{'topic': 'parrot'}");
  const perRun = Math.max(3, Math.floor((totalEvents - 2) / runCount));
  for (let r = 1; r <= runCount; r += 1) {
    const run = {
      i: r,
      id: `run-${r}`,
      name: `model_${r}`,
      type: "chat_model",
      parent: 0,
      tags: [`seq:step:${r}`],
      start: t,
      end: null,
      status: "ok",
      error: null,
      first: null,
      chunks: 0,
      orphan: false,
      held: null,
      upstream: -1,
      node: null,
      stream: "text",
    };
    runs.push(run);
    push(1, r, "{'messages': [[...]]}");
    for (let n = 0; n < perRun - 2 && events.us.length < totalEvents - 2; n += 1) {
      if (run.first === null) run.first = t;
      push(2, r, ` tok${n}`);
      run.chunks += 1;
    }
    run.end = t;
    push(3, r, "content='...'");
  }
  while (events.us.length < totalEvents - 1) push(2, runCount, " more");
  push(4, 0, "done");
  runs[0].end = t;
  runs[0].status = "ok";
  return { v: VERSION, name: "big", count: events.us.length, now: t, kinds, runs, events };
}

/** How many events of `snapshot` belong to run `i` or a run below it (the table narrowed to it). */
export function eventsWithin(snapshot, i) {
  const within = (run) => {
    for (let index = run, steps = 0; index >= 0 && steps <= snapshot.runs.length; steps += 1) {
      if (index === i) return true;
      index = snapshot.runs[index]?.parent ?? -1;
    }
    return false;
  };
  return snapshot.events.run.filter((run) => run >= 0 && within(run)).length;
}

/** The display texts of run `i`'s events of kind `kind`, in order. */
export function textsOf(snapshot, i, kind) {
  const wanted = snapshot.kinds.indexOf(kind);
  return snapshot.events.text.filter((_, k) => snapshot.events.run[k] === i && snapshot.events.kind[k] === wanted);
}

"""A big trace reaches its page a screenful first, and the encoder's bulk path gives what the
event-by-event path gives (what a user sees does not depend on how it was encoded or sent)."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from examples import EXAMPLES, parrot_chain
from helpers import eventually
from langchain_core.documents import Document
from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import RunnableGenerator
from test_widgets import Recording, front_end_copy

import streamviz as sv
import streamviz.widgets._widget as widget_module
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import (
    FAILURE_MESSAGE,
    build_failing_graph,
    build_model_graph,
    tool_agent_graph,
)
from streamviz.export import trace_state
from streamviz.widgets import _live
from streamviz.widgets._encode import TraceEncoder
from streamviz.widgets._wire import json_events


class EventByEvent(TraceEncoder):
    """The reference: every compact row rebuilt as its event and encoded as one."""

    def _encode_block(self, block):
        store, touched = self.trace.store, set()
        for offset in range(block.count):
            event = store.event(block.seq + offset)
            touched.add(self._encode_event(block.seq + offset, event))
            self._linked |= self._read_calls(self._calls.apply, event)
        return touched


def _chain() -> sv.Trace:
    collector = sv.Collector()
    list(collector.stream(parrot_chain(), {"topic": "parrot"}))
    return collector.trace


def _example(name: str) -> sv.Trace:
    runnable, given = EXAMPLES[name]()
    collector = sv.Collector()
    with contextlib.suppress(Exception):  # the error examples raise: their trace counts
        list(collector.stream(runnable, given))
    return collector.trace


def _graph() -> sv.Trace:
    graph = build_model_graph(time_to_first_token=0, token_delay=0)
    modes = ["messages", "values", "updates", "custom"]
    return sv.watch(graph, {"topic": "cats"}, display=False, stream_mode=modes)


def _tool_calls() -> sv.Trace:
    return sv.watch(tool_agent_graph, {"messages": [("user", "weather in Paris?")]}, display=False)


class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _hostile() -> sv.Trace:
    """Hand-made events: mixed chunk kinds in one run, odd texts, runs unknown, huge values."""
    run, parents = "r-1", []
    events = [
        {"event": "on_chain_start", "run_id": run, "name": "<img src=x onerror=alert(1)>",
         "tags": ["t"], "metadata": {}, "parent_ids": parents, "data": {"input": _Hostile()}},
        {"event": "on_chain_stream", "run_id": run, "name": "<img src=x onerror=alert(1)>",
         "tags": ["t"], "metadata": {}, "parent_ids": parents, "data": {"chunk": {"a": [1, 2]}}},
        *[{"event": "on_chain_stream", "run_id": run, "name": "<img src=x onerror=alert(1)>",
           "tags": ["t"], "metadata": {}, "parent_ids": parents, "data": {"chunk": chunk}}
          for chunk in ["x", "", "\ud800 lone", "é" * 30_000, None, Document("doc"), "y",
                        AIMessageChunk(content="tok"), AIMessageChunk(content=[{"x": 1}]), 7]],
        {"event": "on_chat_model_stream", "run_id": "nowhere", "name": "m", "tags": [],
         "metadata": {}, "parent_ids": [], "data": {"chunk": AIMessageChunk(content="z")}},
        {"event": "on_custom_event", "run_id": run, "name": "progress", "tags": ["own"],
         "metadata": {}, "parent_ids": parents, "data": {"step": "<b>1</b>"}},
        {"event": "on_chain_error", "run_id": run, "name": "<img src=x onerror=alert(1)>",
         "tags": ["t"], "metadata": {}, "parent_ids": parents,
         "data": {"error": ValueError("boom " * 10_000)}},
    ]  # fmt: skip
    for seq, event in enumerate(events):
        event["t"], event["seq"] = 0.001 * seq, seq
    return sv.Trace.from_events(events)


TRACES = {
    "chain": _chain,
    "json parser": lambda: _example("model|json"),
    "json parser and function": lambda: _example("model|json|function"),
    "retrieval chain": lambda: _example("retrieval chain"),
    "error mid-stream": lambda: _example("error mid-stream"),
    "graph": _graph,
    "tool calls": _tool_calls,
    "hostile": _hostile,
}


@pytest.mark.parametrize("name", TRACES)
def test_the_bulk_encoder_gives_what_encoding_event_by_event_gives(name):
    trace = TRACES[name]()
    assert len(trace.events) > 5
    encoder = TraceEncoder(trace)
    bulk, reference = encoder.snapshot(), EventByEvent(trace).snapshot()
    if encoder.running:  # a run never ended (the hostile trace's): `now` is the clock now
        assert bulk.pop("now") <= reference.pop("now")
    assert bulk == reference
    assert json.loads(json.dumps(bulk)) == bulk


def test_a_failing_graph_encodes_as_event_by_event_too():
    collector = sv.Collector()
    with pytest.raises(ValueError, match=FAILURE_MESSAGE):
        list(collector.stream(build_failing_graph(), {"topic": "x", "notes": []}))
    trace = collector.trace
    assert any(event["event"].endswith("_error") for event in trace.events)
    assert TraceEncoder(trace).snapshot() == EventByEvent(trace).snapshot()


def _long_trace(tokens: int) -> sv.Trace:
    collector = sv.Collector()
    model = DemoChatModel.for_benchmark(tokens)
    list(collector.stream(model, "go"))
    return collector.trace


def test_a_big_trace_comes_a_screenful_first_then_the_rest_as_deltas(
    monkeypatch, fake_clock, ticked_by_hand
):
    """The page gets a small first snapshot at once; the update thread sends the rest in
    bounded deltas, then settles the snapshot: the page ends with exactly the whole trace."""
    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100, raising=False)
    monkeypatch.setattr(widget_module, "_CATCH_UP", 300, raising=False)
    monkeypatch.setattr(widget_module, "time", fake_clock)
    trace = _long_trace(1_000)
    total = len(trace.events)
    whole = TraceEncoder(trace).snapshot()
    widget = Recording(trace)
    _live.unfollow(widget)  # ticked by hand
    widget._initial = json.loads(json.dumps(widget.snapshot))
    try:
        first = widget.snapshot
        assert first["count"] == 100
        assert first["total"] == total  # the page says it holds 100 of `total` events
        # Run rows are the runs as they are now, but for their usage: it is read from the
        # events sent so far (this model reports it on its last chunk, sent with the rest).
        sent_rows = [{**row, "usage": None} for row in whole["runs"][: len(first["runs"])]]
        assert first["runs"] == sent_rows
        assert widget.live is False  # a finished trace: the rest is on its way, not live
        ticks = 0
        while widget.snapshot["count"] < total and ticks < 100:
            fake_clock.now += 0.01  # ticks closer together than the quiet time before a settle
            widget._tick(fake_clock.now)
            ticks += 1
        deltas = [m for m in widget.sent if m["type"] == "delta" and m["to"] > m["from"]]
        assert [m["to"] - m["from"] for m in deltas] == [300, 300, 300, total - 1_000]
        # What the page built from the first snapshot and the deltas is the whole trace...
        page = front_end_copy(widget)
        for key in ("count", "kinds", "runs", "events"):
            assert page[key] == whole[key], key
        # ...and so is the durable state a saved notebook keeps, payloads included.
        assert widget.snapshot == whole
        assert widget.snapshot["total"] == widget.snapshot["count"] == total
        assert ticks == 4  # settled as soon as the last events were sent
        assert widget.live is False
    finally:
        widget.close()


def test_a_trace_that_fits_a_screenful_is_sent_whole_at_once():
    trace = _chain()
    widget = Recording(trace)
    try:
        assert widget.snapshot == TraceEncoder(trace).snapshot()
        assert widget.live is False
    finally:
        widget.close()


def test_a_page_exported_from_a_big_trace_holds_the_whole_trace(monkeypatch):
    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 50, raising=False)
    trace = _long_trace(300)
    state = trace_state(trace)
    snapshot = {
        **state["snapshot"],
        "events": json_events(_unembedded(state["snapshot"]["events"])),
    }
    assert snapshot["count"] == len(trace.events)
    assert snapshot == TraceEncoder(trace).snapshot()
    assert state["live"] is False


def _unembedded(value):
    """A page's embedded buffers ({"$base64": text}) back to bytes."""
    if isinstance(value, dict):
        if set(value) == {"$base64"}:
            return base64.b64decode(value["$base64"])
        return {key: _unembedded(item) for key, item in value.items()}
    return value


def test_the_update_thread_catches_a_big_trace_up_by_itself(monkeypatch):
    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100, raising=False)
    monkeypatch.setattr(widget_module, "_CATCH_UP", 500, raising=False)
    trace = _long_trace(2_000)
    widget = Recording(trace)
    try:
        eventually(lambda: widget.snapshot["count"] == len(trace.events), "the widget to settle")
        assert widget.snapshot["count"] == len(trace.events)
        assert widget.snapshot == TraceEncoder(trace).snapshot()
    finally:
        widget.close()


def test_a_big_trace_still_running_is_caught_up_and_then_shown_live(
    monkeypatch, fake_clock, ticked_by_hand
):
    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100, raising=False)
    monkeypatch.setattr(widget_module, "_CATCH_UP", 300, raising=False)
    monkeypatch.setattr(widget_module, "time", fake_clock)
    collector = sv.Collector()
    seen: dict[str, object] = {}

    def tokens(_input):
        for n in range(2_000):
            if n == 1_000:  # shown mid-run, with ~1,000 events captured
                widget = seen["widget"] = Recording(collector.trace)
                _live.unfollow(widget)
                widget._initial = json.loads(json.dumps(widget.snapshot))
                seen["first"] = (widget.snapshot["count"], widget.live)
                for _ in range(5):
                    fake_clock.now += 0.01
                    widget._tick(fake_clock.now)
                seen["caught up"] = (widget._encoder.count, widget.live)
            yield "x"

    list(collector.stream(RunnableGenerator(tokens), "go"))
    widget = seen["widget"]
    try:
        assert seen["first"] == (100, True)  # a run is running: live from the start
        count, live = seen["caught up"]
        assert count > 1_000 and live
        widget.settle()
        page = front_end_copy(widget)
        whole = TraceEncoder(collector.trace).snapshot()
        for key in ("count", "kinds", "runs", "events"):
            assert page[key] == whole[key], key
        assert widget.live is False
    finally:
        widget.close()


def test_a_big_trace_widget_says_when_it_holds_the_whole_trace(
    monkeypatch, fake_clock, ticked_by_hand
):
    small = Recording(_chain())  # fits the first snapshot
    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100, raising=False)
    monkeypatch.setattr(widget_module, "_CATCH_UP", 300, raising=False)
    monkeypatch.setattr(widget_module, "time", fake_clock)
    trace = _long_trace(1_000)
    widget = Recording(trace)
    _live.unfollow(widget)  # ticked by hand
    try:
        assert small.wait_whole(0)  # a small trace is whole at once
        assert not widget.wait_whole(0)  # the rest is to be sent
        while widget.snapshot["count"] < len(trace.events):
            fake_clock.now += 0.01
            widget._tick(fake_clock.now)
            assert widget.wait_whole(0) == (widget.snapshot["count"] == len(trace.events))
        assert widget.wait_whole(0)
        closed = Recording(trace)
        closed.close()  # nothing more comes to a closed widget: nothing waits for it
        assert closed.wait_whole(0)
    finally:
        widget.close()
        small.close()


def test_a_cell_end_that_waits_too_long_for_the_rest_goes_on_and_says_so(
    monkeypatch, ticked_by_hand
):
    """The cell-end wait is bounded: a widget whose rest never comes (here: not followed by the
    update thread) does not hang the kernel; the timeout is logged, not raised."""
    from streamviz._errors import internal_error_counts

    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100, raising=False)
    monkeypatch.setattr(_live, "CELL_END_WAIT", 0.0)
    widget = Recording(_long_trace(300))
    _live.unfollow(widget)
    key = "streamviz widget catch-up:TimeoutError"
    before = internal_error_counts().get(key, 0)
    try:
        monkeypatch.setattr(_live, "_catching_up", {widget})  # what a kernel's widget registers
        _live._wait_for_catch_up(None)  # IPython's post_run_cell, given the cell's result
        assert internal_error_counts().get(key, 0) == before + 1
        assert widget.snapshot["count"] == 100  # nothing was sent meanwhile: it went on
    finally:
        widget.close()

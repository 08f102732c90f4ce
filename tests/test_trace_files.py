"""Saving and loading whole traces captured from the guide's examples."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from _parity import normalize
from examples import EXAMPLES
from helpers import readable_text
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from pydantic import SecretStr

import streamviz as sv
from streamviz.demo.graphs import build_chat_graph
from streamviz.events import SerializedError


def capture(name):
    runnable, value = EXAMPLES[name]()
    collector = sv.Collector(name=name)

    async def go():
        try:
            async for _ in collector.astream(runnable, value):
                pass
        except Exception:
            pass

    asyncio.run(go())
    return collector.trace


def errors_as_fields(value):
    """Loaded errors (equal only to themselves) as their fields; everything else as it is."""
    if isinstance(value, SerializedError):
        return ("error", value.type, value.module, value.message, value.repr)
    if isinstance(value, dict):
        return {key: errors_as_fields(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(errors_as_fields(item) for item in value)
    return value


def shape(trace):
    return [
        (r.name, r.run_type, r.status, r.error, r.chunk_count, r.depth, r.orphan, r.parent_id)
        for r in trace.runs.values()
    ]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_a_saved_trace_loads_back_with_the_same_events_and_tree(name, tmp_path, suffix):
    trace = capture(name)
    path = tmp_path / f"trace.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert loaded.name == name
    assert loaded.created == trace.created
    assert normalize(loaded.events, lc_kinds_only=False) == normalize(
        trace.events, lc_kinds_only=False
    )
    assert [(e["t"], e["seq"]) for e in loaded.events] == [(e["t"], e["seq"]) for e in trace.events]
    assert shape(loaded) == shape(trace)
    assert [r.duration for r in loaded.runs.values()] == [r.duration for r in trace.runs.values()]
    if suffix != "jsonl":  # the very events a JSONL file gives back, LangChain objects included
        trace.save(tmp_path / "trace.jsonl")
        reference = sv.Trace.load(tmp_path / "trace.jsonl")
        assert errors_as_fields(list(loaded.events)) == errors_as_fields(list(reference.events))
        assert errors_as_fields([(r.input, r.output, r.error) for r in loaded.runs.values()]) == (
            errors_as_fields([(r.input, r.output, r.error) for r in reference.runs.values()])
        )


def test_secrets_given_to_a_run_never_reach_the_file(tmp_path, suffix):
    runnable, value = EXAMPLES["prompt|model|parser"]()
    collector = sv.Collector()
    config = {
        "metadata": {
            "api_key": "sk-live-1234567890abcdefghij",
            "headers": {"Authorization": "Bearer abc.def.ghi-very-secret"},
            "token_secret": SecretStr("hunter2-hunter2"),
        }
    }
    list(collector.stream(runnable, value, config))
    path = tmp_path / f"trace.{suffix}"
    collector.trace.save(path)
    text = readable_text(path)
    for secret in ["sk-live-1234567890abcdefghij", "abc.def.ghi-very-secret", "hunter2"]:
        assert secret not in text
    loaded = sv.Trace.load(path)
    assert loaded.roots[0].metadata["api_key"] == "[redacted]"
    # in memory, the observed program's own metadata is untouched
    assert collector.trace.roots[0].metadata["api_key"] == "sk-live-1234567890abcdefghij"


def test_a_file_cut_mid_line_loads_every_complete_line_with_a_warning(tmp_path):
    trace = capture("model")
    path = tmp_path / "trace.jsonl"
    trace.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    lines = data[: len(data) - 40].count(b"\n") + 1
    with pytest.warns(sv.TraceFileWarning, match=f"line {lines}"):
        loaded = sv.Trace.load(path)
    assert len(loaded) == len(trace) - 1 == lines - 2
    assert normalize(loaded.events, lc_kinds_only=False) == normalize(
        trace.events[:-1], lc_kinds_only=False
    )


def test_cancelled_runs_stay_cancelled_after_loading(tmp_path, suffix):
    trace = sv.Trace()
    base = {"name": "x", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    trace.store.append({**base, "event": "on_chain_start", "data": {}})
    trace.store.append({**base, "event": "on_chain_error", "data": {"error": KeyboardInterrupt()}})
    trace.save(tmp_path / f"t.{suffix}")
    loaded = sv.Trace.load(tmp_path / f"t.{suffix}")
    assert loaded.roots[0].status == "cancelled" and loaded.roots[0].error == "KeyboardInterrupt"


def test_loading_leaves_the_garbage_collector_as_it_was(tmp_path):
    """Loading pauses automatic collection while it builds events, and only while it does."""
    import gc

    trace = capture("model")
    trace.save(tmp_path / "t.jsonl")
    (tmp_path / "bad.jsonl").write_text("not a trace\n", "utf-8")
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert len(sv.Trace.load(tmp_path / "t.jsonl")) == len(trace)
            assert gc.isenabled() is enabled
            with pytest.raises(sv.TraceFileError):
                sv.Trace.load(tmp_path / "bad.jsonl")
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_loaded_traces_objects_join_the_old_generation_at_once(tmp_path, suffix):
    """A loaded trace is kept: its events are not walked as young objects first (the next
    collection would spend ~0.1 us per event finding them alive), but wait in the oldest
    generation; objects someone froze stay frozen."""
    import gc

    trace = capture("model")
    trace.save(tmp_path / f"t.{suffix}")
    gc.collect()
    loaded = sv.Trace.load(tmp_path / f"t.{suffix}")
    start = next(e for e in loaded.events if e["event"] == "on_chat_model_start")
    assert any(item is start for item in gc.get_objects(generation=2))
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert len(sv.Trace.load(tmp_path / f"t.{suffix}")) == len(trace)
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()


# --- A conversation's messages: each loaded once ------------------------------------------------


def conversation(turns: int, words: int = 8) -> sv.Trace:
    """A LangGraph chat of ``turns`` model calls, each given the whole conversation so far."""
    return sv.watch(
        build_chat_graph(turns, words),
        {"messages": [("user", "hi")]},
        {"recursion_limit": 2 * turns + 10},
        display=False,
        stream_mode=["updates", "messages"],
    )


def model_inputs(trace: sv.Trace) -> list[list]:
    starts = [e for e in trace.events if e["event"] == "on_chat_model_start"]
    return [e["data"]["input"]["messages"][0] for e in starts]


def test_a_conversations_messages_load_as_one_object_each(tmp_path, suffix):
    """Each model call's input repeats the conversation so far; capture holds each message once
    (the graph's state passes the same objects on), and so does a loaded trace."""
    trace = conversation(12)
    path = tmp_path / f"chat.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert list(loaded.events) == list(trace.events)
    inputs = model_inputs(loaded)
    assert len(inputs) == 12 and [len(i) for i in inputs] == list(range(1, 24, 2))
    for earlier, later in itertools.pairwise(inputs):
        assert all(a is b for a, b in zip(earlier, later, strict=False))  # the same objects
    distinct = {id(message) for messages in inputs for message in messages}
    assert len(distinct) == 23  # one per message of the conversation
    # Another load makes its own objects: nothing is shared between traces.
    assert model_inputs(sv.Trace.load(path))[0][0] is not inputs[0][0]


def noted(messages: list) -> sv.Trace:
    """A step run once per message, each given one: its start event holds it."""
    step = RunnableLambda(lambda value: value, name="note")
    with sv.capture() as trace:
        for message in messages:
            step.invoke({"message": message})
    return trace


def notes(trace: sv.Trace) -> list:
    return [e["data"]["input"]["message"] for e in trace.events if e["event"] == "on_chain_start"]


def test_equal_messages_differing_in_value_types_stay_apart(tmp_path, suffix):
    """Shared only when the JSON is the same: 1, 1.0, true, "1" and -0.0 / 0.0 differ."""
    values = [1, 1.0, True, "1", 0.0, -0.0, None, [1], {"a": 1}]
    messages = [HumanMessage("same", additional_kwargs={"x": value}) for value in values]
    trace = noted(messages * 2)
    trace.save(tmp_path / f"t.{suffix}")
    loaded = notes(sv.Trace.load(tmp_path / f"t.{suffix}"))
    assert len({id(message) for message in loaded}) == len(values)
    for message, original in zip(loaded, messages * 2, strict=True):
        value, expected = message.additional_kwargs["x"], original.additional_kwargs["x"]
        assert type(value) is type(expected) and repr(value) == repr(expected)
    assert all(a is b for a, b in zip(loaded[: len(values)], loaded[len(values) :], strict=True))


def test_messages_alike_but_for_their_text_stay_apart(tmp_path, suffix):
    """One id, one length of content, the same fields: only the text differs. A load compares
    such messages in full before it shares one, so each keeps its own text."""
    texts = ["abc", "abd", "xyz", "abc"]
    messages = [HumanMessage(text, id="m-1") for text in texts]
    trace = noted(messages)
    trace.save(tmp_path / f"t.{suffix}")
    loaded = notes(sv.Trace.load(tmp_path / f"t.{suffix}"))
    assert [message.content for message in loaded] == texts
    assert loaded[0] is loaded[3]  # the same JSON: one object
    assert len({id(message) for message in loaded}) == 3


def test_a_marker_key_spelled_with_an_escape_is_still_decoded(tmp_path, suffix):
    """A text without the marker key as written needs no decoding, but JSON may spell the key
    with ``\\u`` escapes: such a text is decoded as it always was."""
    step = RunnableLambda(lambda value: value, name="note")
    with sv.capture() as trace:
        step.invoke({"pair": (1, 2)})
    trace.save(tmp_path / f"t.{suffix}")
    marker, escaped = '"__sv__":"tuple"', '"\\u005f_sv__":"tuple"'
    path = tmp_path / f"t.{suffix}"
    if suffix == "jsonl":
        text = path.read_text(encoding="utf-8")
        assert text.count(marker) == 3  # the start's input, the end's output and input
        path.write_text(text.replace(marker, escaped), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyarrow import feather

        table = pq.read_table(path) if suffix == "parquet" else feather.read_table(path)
        data = table.column("data").to_pylist()
        assert sum(value.count(marker) for value in data if value) == 3
        data = [value and value.replace(marker, escaped) for value in data]
        column = pa.array(data, table.schema.field("data").type)
        table = table.set_column(table.schema.get_field_index("data"), "data", column)
        if suffix == "parquet":
            pq.write_table(table, path)
        else:
            feather.write_feather(table, path, compression="uncompressed")
    start, end = (e for e in sv.Trace.load(path).events if e["event"].startswith("on_chain"))
    assert start["data"]["input"] == {"pair": (1, 2)}
    assert end["data"] == {"output": {"pair": (1, 2)}, "input": {"pair": (1, 2)}}


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_a_long_conversation_in_a_columnar_file_loads_with_the_default_bound(tmp_path, suffix):
    """A 100-turn chat's file compresses its repeated histories ~300x: decoded once per message
    it fits the default memory bound; decoded once per call it was refused past row ~5,900."""
    pytest.importorskip("pyarrow")
    trace = conversation(100, words=40)
    path = tmp_path / f"chat.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert len(loaded) == len(trace)
    assert model_inputs(loaded)[-1] == model_inputs(trace)[-1]


def test_shared_messages_do_not_lift_the_bound_for_distinct_ones(tmp_path):
    """What sharing refunds is only what it shares: distinct big messages are still refused."""
    big = "x" * 200_000
    same = noted([HumanMessage(big) for _ in range(40)])
    distinct = noted([HumanMessage(f"{i} {big}") for i in range(40)])
    same.save(tmp_path / "same.jsonl")
    distinct.save(tmp_path / "distinct.jsonl")
    bound = 4_000_000  # each text fits (~0.4 MB charged); the 40 distinct ones (~16 MB) do not
    assert len(sv.Trace.load(tmp_path / "same.jsonl", max_bytes=bound)) == len(same)
    with pytest.raises(sv.TraceFileError, match="more memory than max_bytes"):
        sv.Trace.load(tmp_path / "distinct.jsonl", max_bytes=bound)

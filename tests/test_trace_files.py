"""Saving and loading whole traces captured from the guide's examples."""

from __future__ import annotations

import asyncio

import pytest
from _parity import normalize
from examples import EXAMPLES
from helpers import readable_text
from pydantic import SecretStr

import streamviz as sv
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

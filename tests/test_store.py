"""The event store: compact whoever appends, reads that keep nothing, appends from many threads."""

from __future__ import annotations

import asyncio
import gc
import threading
import tracemalloc

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
import streamviz.frames  # imported before measuring: modules are not the trace
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_bench_graph
from streamviz.widgets._encode import TraceEncoder

TOKENS = 7_000  # three stream events each: ~21,000 events
BYTES_PER_EVENT = 150


def chain():
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    return prompt | DemoChatModel.for_benchmark(TOKENS) | StrOutputParser()


def captured() -> sv.Trace:
    collector = sv.Collector()
    for _ in collector.stream(chain(), {"topic": "parrot"}):
        pass
    return collector.trace


def bytes_kept(build):
    """What ``build()`` returns, and the bytes it still holds once built (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        built = build()
        gc.collect()
        return built, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def trace_and_size():
    return bytes_kept(captured)


def test_a_captured_trace_holds_at_most_150_bytes_per_event(trace_and_size):
    trace, size = trace_and_size
    assert len(trace) > 3 * TOKENS
    assert size / len(trace) <= BYTES_PER_EVENT


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_a_loaded_trace_is_as_compact_as_a_captured_one(trace_and_size, tmp_path, suffix):
    if suffix != "jsonl":
        pytest.importorskip("pyarrow")
    trace, _ = trace_and_size
    path = tmp_path / f"trace.{suffix}"
    trace.save(path)
    loaded, size = bytes_kept(lambda: sv.Trace.load(path))
    assert size / len(loaded) <= BYTES_PER_EVENT
    assert loaded.events == trace.events
    # each event comes back with its keys in the same order (files written from it match)
    assert [list(event) for event in loaded.events] == [list(event) for event in trace.events]
    # A model's tokens repeat. The file writes each one out; loaded, equal texts are one string.
    texts = [
        e["data"]["chunk"].content for e in loaded.events if e["event"] == "on_chat_model_stream"
    ]
    assert len(texts) >= TOKENS and len(set(texts)) < len(texts) / 10
    assert len({id(text) for text in texts}) == len(set(texts))


def test_a_trace_rebuilt_from_astream_events_is_as_compact_as_a_captured_one():
    async def rebuild():
        events = chain().astream_events({"topic": "parrot"}, version="v2")
        return await sv.from_astream_events(events)

    trace, size = bytes_kept(lambda: asyncio.run(rebuild()))
    assert len(trace) > 3 * TOKENS
    assert size / len(trace) <= BYTES_PER_EVENT
    tokens = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert "".join(e["data"]["chunk"].content for e in tokens) == chain().invoke({"topic": "x"})


def test_a_graph_trace_with_messages_parts_is_compact_captured_and_loaded(tmp_path):
    def watch():
        graph = build_bench_graph()
        return sv.watch(graph, {"n_tokens": 5_000}, display=False, stream_mode=["messages"])

    watch()  # the first run imports and compiles what is kept for good: not the trace
    trace, size = bytes_kept(watch)
    parts = [e for e in trace.events if e["event"] == "on_graph_messages"]
    assert len(parts) == 5_001 and size / len(trace) <= BYTES_PER_EVENT
    message, metadata = parts[1]["data"]["chunk"]
    assert type(message) is AIMessageChunk and metadata["langgraph_node"] == "call_model"
    path = tmp_path / "graph.jsonl"
    trace.save(path)
    loaded, size = bytes_kept(lambda: sv.Trace.load(path))
    assert size / len(loaded) <= BYTES_PER_EVENT
    assert loaded.events == trace.events


def test_reading_a_trace_every_way_keeps_its_memory_as_after_capture(tmp_path):
    reads = {
        "iterate": lambda trace: sum(1 for _ in trace.events),
        "index and slice": lambda trace: (trace.events[len(trace) // 2], trace.events[10:2000]),
        "filter": lambda trace: trace.filter(include_types=["chat_model"]),
        "save": lambda trace: trace.save(tmp_path / "read.jsonl"),
        "events_df": lambda trace: trace.events_df(),
        "widget snapshot": lambda trace: TraceEncoder(trace).snapshot(),
    }
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        trace = captured()
        gc.collect()
        after_capture = tracemalloc.get_traced_memory()[0] - base
        for what, read in reads.items():
            read(trace)
            gc.collect()
            after_read = tracemalloc.get_traced_memory()[0] - base
            assert after_read <= 1.2 * after_capture, what
    finally:
        tracemalloc.stop()


def test_reading_builds_equal_events_anew():
    trace = captured()
    seq = len(trace) // 2
    first, again = trace.events[seq], trace.events[seq]
    assert first["event"].endswith("_stream") and first == again and first is not again
    first["data"]["chunk"] = "changed by a reader"
    assert trace.events[seq]["data"]["chunk"] == again["data"]["chunk"]  # the trace is unchanged


def test_appends_from_many_threads_lose_nothing_and_keep_each_threads_order():
    trace = sv.Trace()
    threads, per_thread = 8, 2_000
    barrier = threading.Barrier(threads)

    def work(number: int) -> None:
        fields = {"name": f"model{number}", "run_id": f"r{number}", "parent_ids": []}
        fields |= {"tags": [f"t{number}"], "metadata": {"n": number}}
        run = trace.store.append({**fields, "event": "on_chat_model_start", "data": {}})
        write = trace.store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
        barrier.wait()
        for i in range(per_thread):
            chunk = AIMessageChunk(content=f"{number}:{i}", id=f"m{number}")
            if i % 2:  # the hot path and the generic path, interleaved
                write(chunk)
            else:
                trace.store.append(
                    {**fields, "event": "on_chat_model_stream", "data": {"chunk": chunk}}
                )
        trace.store.append({**fields, "event": "on_chat_model_end", "data": {"output": None}})

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    events = list(trace.events)
    assert len(events) == threads * (per_thread + 2)
    assert [event["seq"] for event in events] == list(range(len(events)))
    times = [event["t"] for event in events]
    assert times == sorted(times)
    for number in range(threads):
        mine = [event for event in events if event["run_id"] == f"r{number}"]
        assert [event["event"] for event in mine[:: per_thread + 1]] == [
            "on_chat_model_start",
            "on_chat_model_end",
        ]
        texts = [event["data"]["chunk"].content for event in mine[1:-1]]
        assert texts == [f"{number}:{i}" for i in range(per_thread)]
        assert {event["thread"] for event in mine} == {mine[0]["thread"]}
        run = trace.runs[f"r{number}"]
        assert run.chunk_count == per_thread and run.status == "ok"


def test_stream_parts_with_their_own_fields_come_back_as_they_were_appended():
    trace = sv.Trace()
    base = {"name": "graph", "run_id": "g", "parent_ids": [], "tags": [], "metadata": {}}
    trace.store.append({**base, "event": "on_chain_start", "data": {}})
    appended = []
    for i in range(4):
        # a LangGraph part (mode, ns after data), then a part whose metadata changes
        part = {**base, "event": "on_graph_updates", "data": {"chunk": {"n": i}}}
        part |= {"mode": "updates", "ns": [], "metadata": {"step": i // 2}}
        trace.store.append(part)
        appended.append(part)
    assert list(trace.events)[1:] == appended
    assert [list(event) for event in list(trace.events)[1:]] == [list(e) for e in appended]
    snapshot = TraceEncoder(trace).snapshot()
    assert snapshot["count"] == 5


def test_fields_equal_in_python_but_of_other_types_or_key_order_come_back_as_appended():
    """``True == 1`` and dicts equal in another key order: a run's template must not stand in."""
    trace = sv.Trace()
    base = {"name": "model", "run_id": "m", "parent_ids": [], "tags": ["t"]}
    trace.store.append({**base, "event": "on_chat_model_start", "data": {}, "metadata": {}})
    variants = [
        {"flag": True, "inner": {"a": 1, "b": 2}},
        {"flag": 1, "inner": {"a": 1, "b": 2}},
        {"flag": True, "inner": {"b": 2, "a": 1}},
        {"flag": True, "inner": {"a": 1.0, "b": 2}},
        {"flag": True, "inner": {"a": 1, "b": 2}, "pair": (1, 2)},
        {"flag": True, "inner": {"a": 1, "b": 2}, "pair": [1, 2]},
    ]
    for metadata in variants:
        chunk = AIMessageChunk(content="x", id="run-m")
        event = {**base, "event": "on_chat_model_stream", "data": {"chunk": chunk}}
        trace.store.append(event | {"metadata": metadata})
    for event, metadata in zip(list(trace.events)[1:], variants, strict=True):
        read = event["metadata"]
        assert read == metadata
        assert type(read["flag"]) is type(metadata["flag"])
        assert list(read["inner"]) == list(metadata["inner"])
        assert type(read["inner"]["a"]) is type(metadata["inner"]["a"])
        if "pair" in metadata:
            assert type(read["pair"]) is type(metadata["pair"])


def test_a_writer_of_no_runs_stream_keeps_langgraph_messages_parts_as_their_text():
    trace = sv.Trace()
    metadata = {"langgraph_node": "agent", "langgraph_triggers": ("branch:to:agent",)}
    fields = {"event": "on_graph_messages", "name": "agent", "run_id": "g", "parent_ids": []}
    fields |= {"tags": [], "metadata": dict(metadata), "data": None, "mode": "messages"}
    fields["ns"] = []
    write = trace.store.stream_writer(None, fields)
    parts = [(AIMessageChunk(content=f"t{i}", id="m"), metadata) for i in range(3)]
    parts.append([AIMessageChunk(content="as a list", id="m"), metadata])
    parts.append((AIMessageChunk(content="other metadata", id="m"), {"langgraph_node": "x"}))
    parts.append((AIMessageChunk(content="", id="m", usage_metadata={
        "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}), metadata))  # fmt: skip
    for part in parts:
        write(part)
    events = list(trace.events)
    assert [event["data"]["chunk"] for event in events] == parts
    assert [type(event["data"]["chunk"]) for event in events] == [type(part) for part in parts]
    assert [list(event) for event in events] == [[*fields, "t", "seq", "thread"]] * len(parts)
    assert not trace.runs  # parts belong to no run's stream
    # Kept whole: the part with other metadata and the one whose message has usage metadata.
    assert trace.store.kept_objects() == parts[-2:]


SERVER_TOKENS = 10_000


def server_run() -> tuple[sv.Trace, list[dict]]:
    """A chat model's events as a LangGraph server sends them, recorded as ``watch_remote`` does.

    A resumable run: every part says when the server sent it (``server_t``, after ``ns``), its
    token a message chunk as a JSON dict. One scripted stall by the server's clock: 0.5 s after
    chunk 41 (i = 40). Returns the trace and the tokens' server times (as a list of floats).
    """
    trace = sv.Trace()

    def part(event: str, data: dict, server_t: float) -> dict:
        fields = {"event": event, "name": "model", "run_id": "m", "parent_ids": ["r"]}
        metadata = {"langgraph_node": "call_model", "langgraph_step": 1}
        fields |= {"tags": ["seq:step:1"], "metadata": metadata, "data": data}
        return {**fields, "mode": "events", "ns": [], "server_t": server_t}

    sent = [0.001 * i + (0.5 if i > 40 else 0.0) + 0.25 for i in range(SERVER_TOKENS)]
    trace.store.append(part("on_chat_model_start", {"input": {"messages": []}}, 0.2))
    for i, server_t in enumerate(sent):
        message = {"content": f" w{i}", "additional_kwargs": {}, "response_metadata": {}}
        message |= {"type": "AIMessageChunk", "name": None, "id": "run-m", "tool_calls": []}
        trace.store.append(part("on_chat_model_stream", {"chunk": message}, server_t))
    trace.store.append(part("on_chat_model_end", {"output": {"content": "..."}}, sent[-1]))
    return trace, sent


def test_a_server_runs_tokens_with_their_server_time_are_compact_and_come_back_as_appended(
    tmp_path,
):
    (trace, sent), size = bytes_kept(server_run)
    assert len(trace) == SERVER_TOKENS + 2
    assert size / len(trace) <= BYTES_PER_EVENT
    events = list(trace.events)
    tokens = events[1:-1]
    assert [event["server_t"] for event in tokens] == sent
    assert [event["data"]["chunk"]["content"] for event in tokens[:2]] == [" w0", " w1"]
    # every field in the order remote.py appends them: server_t last, after t, seq, thread
    assert list(tokens[0]) == [
        *["event", "name", "run_id", "parent_ids", "tags", "metadata", "data", "mode", "ns"],
        *["server_t", "t", "seq", "thread"],
    ]
    # stream statistics by the server's clock read those times: the scripted stall, the rate
    (stats,) = trace.stream_stats(clock="server").itertuples()
    assert stats.chunks == SERVER_TOKENS and stats.first_chunk == sent[0]
    assert stats.last_chunk == sent[-1] and stats.gap_max == pytest.approx(0.501)
    (stall,) = trace.stalls(clock="server").itertuples()
    assert stall.after_chunk == 41 and stall.gap == pytest.approx(0.501)
    for suffix in ["jsonl", "parquet"]:
        if suffix == "parquet":
            pytest.importorskip("pyarrow")
        path = tmp_path / f"server.{suffix}"
        trace.save(path)
        loaded, size = bytes_kept(lambda path=path: sv.Trace.load(path))
        assert size / len(loaded) <= BYTES_PER_EVENT, suffix
        assert loaded.events == events
        assert [list(e) for e in loaded.events] == [list(e) for e in events]  # key order too
        assert loaded.stream_stats(clock="server").equals(trace.stream_stats(clock="server"))


def test_a_stream_writer_is_a_few_objects_for_the_garbage_collector():
    """A trace makes a writer per streaming run (an agent: two per model call); the objects each
    keeps are walked by every collection while it lives, and the writers of a graph's
    ``messages`` parts live as long as their recorder. A writer was 31 of them (a closure's
    cells and bound methods); now its function, defaults, state and template."""
    store = sv.Trace().store
    fields = {"event": "on_chat_model_stream", "name": "m", "run_id": "r", "parent_ids": [],
              "tags": [], "metadata": {}}  # fmt: skip
    store.stream_writer(None, fields)  # what a store makes once, for all its writers
    gc.collect()
    before = len(gc.get_objects())
    writers = [store.stream_writer(None, fields) for _ in range(100)]
    per_writer = (len(gc.get_objects()) - before) / len(writers)
    assert per_writer <= 8, per_writer
    writers[0](AIMessageChunk(content="a", id="x"))
    assert store.event(0)["data"]["chunk"] == AIMessageChunk(content="a", id="x")

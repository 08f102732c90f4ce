"""When the program stops reading a stream early or nests captures, the trace says what happened."""

from __future__ import annotations

import asyncio
import gc
import logging
from uuid import uuid4

import pytest
from examples import joke_prompt
from langchain_core.output_parsers import StrOutputParser

import streamviz as sv
from streamviz.demo import DemoChatModel

CLOSED = "GeneratorExit: the consumer stopped reading the stream before it ended"


def chain(tokens: int = 60):
    return joke_prompt() | DemoChatModel.for_benchmark(tokens) | StrOutputParser()


def statuses(trace):
    return {run.name: run.status for run in trace.runs.values()}


def test_a_break_in_the_consumers_loop_ends_the_cut_runs_cancelled(tmp_path):
    with sv.capture() as trace:
        received = []
        for chunk in chain().stream({"topic": "parrot"}):
            received.append(chunk)
            if len(received) == 3:
                break
    # LangChain reports the sequence and the parser as ended normally; they were cut off.
    assert statuses(trace) == {
        "RunnableSequence": "cancelled",
        "ChatPromptTemplate": "ok",
        "DemoChatModel": "ok",  # the parser drains its input before it ends: the model finished
        "StrOutputParser": "cancelled",
    }
    root = trace.roots[0]
    assert root.error == CLOSED
    # Every chunk the program received was recorded, and the output made so far is kept.
    parser_chunks = [e["data"]["chunk"] for e in trace.events if e["event"] == "on_parser_stream"]
    assert parser_chunks[: len(received)] == received
    end = next(e for e in trace.events if e["event"] == "on_chain_error" and not e["parent_ids"])
    # (LangChain's output so far: the chunks the consumer asked for after receiving them)
    assert end["data"]["output"] and "".join(received).startswith(end["data"]["output"])
    path = tmp_path / "cut.jsonl"
    trace.save(path)
    assert statuses(sv.Trace.load(path)) == statuses(trace)


def test_an_exception_in_the_consumers_loop_ends_the_runs_cancelled_not_ok():
    collector = sv.Collector()

    def consume():
        for i, _ in enumerate(collector.stream(chain(), {"topic": "parrot"})):
            if i == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume()
    gc.collect()  # nothing holds the stream any more; in CPython it was closed already
    assert statuses(collector.trace)["RunnableSequence"] == "cancelled"
    assert statuses(collector.trace)["StrOutputParser"] == "cancelled"


def test_an_async_break_ends_the_cut_runs_cancelled():
    async def main():
        with sv.capture() as trace:
            count = 0
            async for _ in chain().astream({"topic": "parrot"}):
                count += 1
                if count == 3:
                    break
        await asyncio.sleep(0)  # the event loop closes the abandoned async generator
        return trace

    trace = asyncio.run(main())
    assert statuses(trace)["RunnableSequence"] == "cancelled"
    assert statuses(trace)["StrOutputParser"] == "cancelled"


def test_a_stream_read_to_its_end_ends_every_run_ok():
    with sv.capture() as trace:
        whole = "".join(chain().stream({"topic": "parrot"}))
    assert set(statuses(trace).values()) == {"ok"}
    assert trace.roots[0].output == whole


def test_a_capture_nested_into_the_same_trace_records_each_event_once(tmp_path):
    model = DemoChatModel.for_benchmark(5)
    with sv.capture() as single:
        model.invoke("hi")
    with sv.capture() as trace:
        with sv.capture(trace, path=tmp_path / "inner.jsonl") as inner:
            model.invoke("hi")
        assert inner is trace
    assert [e["event"] for e in trace.events] == [e["event"] for e in single.events]
    assert len(trace.runs) == 1
    assert len(sv.Trace.load(tmp_path / "inner.jsonl").events) == len(single.events)
    # Two blocks into two traces still record both.
    with sv.capture() as outer, sv.capture() as other:
        model.invoke("hi")
    assert len(outer.events) == len(other.events) == len(single.events)


def test_a_child_that_starts_after_its_parent_ended_keeps_its_whole_ancestry():
    collector = sv.Collector()
    root, middle, late = uuid4(), uuid4(), uuid4()
    collector.on_chain_start({}, {"x": 1}, run_id=root, name="root")
    collector.on_chain_start({}, {"x": 1}, run_id=middle, parent_run_id=root, name="middle")
    collector.on_chain_end({"y": 1}, run_id=middle)
    collector.on_chain_end({"y": 1}, run_id=root)
    collector.on_chain_start({}, {"x": 1}, run_id=late, parent_run_id=middle, name="late")
    collector.on_chain_end({"y": 1}, run_id=late)
    start = next(e for e in collector.trace.events if e["name"] == "late")
    assert start["parent_ids"] == [str(root), str(middle)]
    assert collector.trace.runs[str(late)].parent.name == "middle"


def test_a_long_lived_collector_keeps_nothing_for_runs_that_ended():
    collector = sv.Collector()
    model = DemoChatModel.for_benchmark(2)
    for _ in range(300):
        chain(2).invoke({"topic": "x"}, {"callbacks": [collector]})
        model.invoke("x", {"callbacks": [collector]})
    assert len(collector.trace.runs) == 300 * 5
    held = {name: len(value) for name, value in vars(collector).items() if isinstance(value, dict)}
    assert all(size == 0 for size in held.values()), held


def test_a_stream_writer_that_cannot_be_made_never_reaches_the_program(monkeypatch, caplog):
    collector = sv.Collector()

    def broken(info):
        raise RuntimeError("collector bug")

    monkeypatch.setattr(collector, "_writer", broken)
    with caplog.at_level(logging.WARNING, logger="streamviz"):
        streamed = list(collector.stream(chain(), {"topic": "parrot"}))
    assert "".join(streamed) == chain().invoke({"topic": "parrot"})
    assert any("stream tap" in record.getMessage() for record in caplog.records)
    assert statuses(collector.trace)["RunnableSequence"] == "ok"

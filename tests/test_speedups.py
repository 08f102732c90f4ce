"""The C speedups (streamviz/_speedups.c) record exactly what the Python paths record.

`make test` builds them (the install's build hook); each workload below runs once with them and
once with the Python paths they stand for, in one process, and must give the same events, the
same stored rows and the same run counters. Without a C compiler streamviz runs the Python paths
only: ``STREAMVIZ_PURE_PYTHON=1`` gives that build, and the last test runs the store's and the
collector's tests under it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.prompts import ChatPromptTemplate
from langgraph.graph import END, START, MessagesState, StateGraph

import streamviz as sv
from streamviz import _errors, _log
from streamviz.demo import DemoChatModel, DemoToolModel
from streamviz.sources import callbacks, graph

ROOT = Path(__file__).resolve().parent.parent
SPEEDUPS = _log.speedups
PURE = os.environ.get("STREAMVIZ_PURE_PYTHON") == "1"
needs_speedups = pytest.mark.skipif(PURE, reason="STREAMVIZ_PURE_PYTHON=1: no C paths")


def use_speedups(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    for module in (_log, callbacks, graph):
        monkeypatch.setattr(module, "speedups", SPEEDUPS if on else None)


@needs_speedups
def test_the_speedups_are_built_and_taken():
    """`make test` installs streamviz with its C speedups: a missing compiler shows here."""
    assert SPEEDUPS is not None, "streamviz/_speedups.c was not built (see hatch_build.py)"
    collector = sv.Collector()
    assert type(collector.on_llm_new_token) is SPEEDUPS.TokenCallback
    fields = {"event": "on_chat_model_stream", "name": "m", "run_id": "r", "parent_ids": [],
              "tags": [], "metadata": {}}  # fmt: skip
    assert type(collector.trace.store.stream_writer(None, fields)) is SPEEDUPS.Writer


# ---------------------------------------------------------------------------- workloads
def chain_run() -> sv.Trace:
    prompt = ChatPromptTemplate.from_messages([("user", "tell me about {topic}")])
    chain = prompt | DemoChatModel(token_delay=0, time_to_first_token=0) | StrOutputParser()
    with sv.capture() as trace:
        for _ in chain.stream({"topic": "parrots"}):
            pass
    return trace


def usage_on_every_chunk() -> sv.Trace:
    """Chunks carrying usage: not plain, so kept whole (the Python path, from the C one)."""
    model = DemoChatModel(token_delay=0, time_to_first_token=0, usage="every")
    with sv.capture() as trace:
        for _ in model.stream("hello"):
            pass
    return trace


def tool_calls() -> sv.Trace:
    model = DemoToolModel()
    with sv.capture() as trace:
        for _ in model.stream("what is the weather in Paris?"):
            pass
    return trace


def agent_graph() -> sv.Trace:
    """A two-node graph streamed with updates and messages (a token's two rows)."""
    models = [DemoChatModel(token_delay=0, time_to_first_token=0, seed=seed) for seed in (1, 2)]

    def first(state: MessagesState) -> dict[str, Any]:
        return {"messages": [models[0].invoke(state["messages"])]}

    def second(state: MessagesState) -> dict[str, Any]:
        return {"messages": [models[1].invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    agent = builder.compile()
    return sv.watch(
        agent,
        {"messages": [("user", "tell me a joke")]},
        display=False,
        stream_mode=["updates", "messages"],
    )


def odd_chunks() -> sv.Trace:
    """A stream whose chunks change: an id, a field set, extra content kinds, the same object."""
    trace = sv.Trace()
    store = trace.store
    fields = {"name": "m", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    run = store.append({**fields, "event": "on_chat_model_start", "data": {}})
    write = store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
    parts = store.stream_writer(None, {**fields, "event": "on_chat_model_stream", "mode": "x"})
    metadata = {"langgraph_node": "n"}
    same = AIMessageChunk(content="again", id="a")
    chunks: list[Any] = [
        AIMessageChunk(content="one", id="a"),
        AIMessageChunk(content="two", id="a"),
        same,
        same,  # the previous row's object again
        AIMessageChunk(content="three", id="b"),  # another id: kept whole
        AIMessageChunk(content="four", id="a", name="named"),  # another field set
        AIMessageChunk(content="five", id="a"),
        AIMessageChunk(content=[{"type": "text", "text": "six"}], id="a"),  # not a str
        AIMessageChunk(content="seven", id="a", response_metadata={"x": 1}),
        "a plain str",
        None,
        None,
        {"a": "dict"},
    ]
    for chunk in chunks:
        write(chunk)
    for chunk in chunks[:3]:
        parts((chunk, metadata))  # a LangGraph "messages" part
    parts([chunks[0], metadata])  # as a list (a server's JSON)
    parts((chunks[1], dict(metadata)))  # equal metadata, another object
    parts((chunks[1], {"langgraph_node": "other"}))  # other metadata: kept whole
    return trace


def with_a_subscriber() -> sv.Trace:
    """While someone subscribes, every row takes the full path: the C writer hands it over."""
    trace = sv.Trace()
    seen: list[dict[str, Any]] = []
    trace.store.subscribe(seen.append)
    model = DemoChatModel(token_delay=0, time_to_first_token=0)
    with sv.capture(trace) as captured:
        for _ in model.stream("hello"):
            pass
    assert len(seen) == len(captured)
    return captured


WORKLOADS = {
    "chain": chain_run,
    "usage": usage_on_every_chunk,
    "tools": tool_calls,
    "graph": agent_graph,
    "odd": odd_chunks,
    "subscriber": with_a_subscriber,
}

_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded(trace: sv.Trace) -> dict[str, Any]:
    """What a run records, with what differs from run to run (ids, times, threads) taken out."""
    names: dict[str, str] = {}

    def name_of(match: re.Match) -> str:
        return names.setdefault(match.group(0), f"id{len(names)}")

    events = []
    for event in trace.events:
        event = {k: v for k, v in event.items() if k not in ("t", "thread", "seq")}
        events.append(_IDS.sub(name_of, repr(event)))
    # The stream of each run (or part mode) in order; across threads only the set is fixed.
    streams: dict[str, list[str]] = {}
    for text in events:
        key = re.search(r"'run_id': '([^']*)'", text)
        mode = re.search(r"'mode': '([^']*)'", text)
        streams.setdefault(f"{key and key.group(1)}/{mode and mode.group(1)}", []).append(text)
    runs = sorted(
        (run.name, run.run_type, run.status, run.chunk_count, run.first_chunk is None)
        for run in trace.runs.values()
    )
    store = trace.store
    return {
        "events": Counter(events),
        "streams": streams,
        "runs": runs,
        "kinds": Counter(store._kind.tolist()),  # how each row's chunk is stored
    }


@needs_speedups
@pytest.mark.parametrize("workload", WORKLOADS)
def test_c_and_python_record_the_same(workload, monkeypatch):
    use_speedups(monkeypatch, True)
    with_c = recorded(WORKLOADS[workload]())
    use_speedups(monkeypatch, False)
    in_python = recorded(WORKLOADS[workload]())
    assert with_c["runs"] == in_python["runs"]
    assert with_c["streams"] == in_python["streams"]
    assert with_c["events"] == in_python["events"]
    assert with_c["kinds"] == in_python["kinds"]
    if workload in ("chain", "graph", "odd"):  # packed rows were written by the C path
        assert any(kind >= 0 for kind in with_c["kinds"])


@needs_speedups
def test_the_c_writer_counts_and_times_its_run():
    trace = sv.Trace()
    store = trace.store
    fields = {"name": "m", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    run = store.append({**fields, "event": "on_chat_model_start", "data": {}})
    write = store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
    assert type(write) is SPEEDUPS.Writer
    for text in ("a", "b", "c"):
        write(AIMessageChunk(content=text, id="x"))
    times = [event["t"] for event in trace.events[1:]]
    assert run.chunk_count == 3
    assert run.first_chunk == times[0] and run.last_chunk == times[-1]
    assert times == sorted(times) and times[0] >= trace.events[0]["t"]
    assert [event["data"]["chunk"].content for event in trace.events[1:]] == ["a", "b", "c"]


@needs_speedups
def test_an_error_in_a_c_path_is_reported_not_raised():
    """The collector never breaks the program: a writer failing under the C token callback is
    logged and counted, as the Python method does."""
    collector = sv.Collector()
    model = DemoChatModel(token_delay=0, time_to_first_token=0)
    key = "Collector.on_llm_new_token:ValueError"
    before = _errors.internal_error_counts().get(key, 0)

    def broken(chunk: Any) -> None:
        raise ValueError("a writer that fails")

    failing = collector.trace.store.stream_writer

    def writer_that_fails(run: Any, fields: dict[str, Any]) -> Any:
        failing(run, fields)
        return broken

    collector.trace.store.stream_writer = writer_that_fails  # type: ignore[method-assign]
    text = "".join(chunk.content for chunk in model.stream("hello", {"callbacks": [collector]}))
    assert text  # the program got its stream
    failures = _errors.internal_error_counts().get(key, 0) - before
    assert failures > 1  # every token's (the first goes through the Python method, the rest C)


@needs_speedups
def test_a_keyboard_interrupt_in_a_c_path_is_not_swallowed():
    collector = sv.Collector()
    run_id = object()

    def interrupted(chunk: Any) -> None:
        raise KeyboardInterrupt

    class Info:
        live = True
        tapped = False

    collector._token_run = (run_id, Info(), interrupted)
    chunk = ChatGenerationChunk(message=AIMessageChunk(content="x"))
    with pytest.raises(KeyboardInterrupt):
        collector.on_llm_new_token("x", chunk=chunk, run_id=run_id)


@needs_speedups
def test_the_python_paths_pass_the_store_and_collector_tests():
    """The build without the speedups (no C compiler): the same tests, in a process of its own."""
    env = {**os.environ, "STREAMVIZ_PURE_PYTHON": "1"}
    tests = ["tests/test_store.py", "tests/test_compact.py", "tests/test_collector.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout

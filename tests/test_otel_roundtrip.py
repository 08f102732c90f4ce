"""Export to OpenTelemetry then import: the same runs, timing and tokens come back."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from examples import ASYNC_ONLY, EXAMPLES
from helpers import missing
from langgraph.checkpoint.memory import InMemorySaver

import streamviz as sv
from streamviz.demo.graphs import build_approval_graph, subgraph_graph, tool_agent_graph

try:
    import opentelemetry.sdk.trace  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    missing("the OpenTelemetry SDK is not installed (pip install 'streamviz[otel]')", module=True)

from streamviz.otel import write_otlp_json


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


def captured(example: str) -> sv.Trace:
    runnable, value = EXAMPLES[example]()
    with sv.capture(name=example) as trace, contextlib.suppress(Exception):
        if example in ASYNC_ONLY:
            asyncio.run(_drain(runnable.astream(value)))
        else:
            for _ in runnable.stream(value):
                pass
    return trace


def chunk_text(chunk: Any) -> Any:
    return getattr(chunk, "content", chunk)


def runs_of(trace: sv.Trace) -> dict[str, tuple[Any, ...]]:
    """What must survive the trip, run by run (times later, relative to the trace's start)."""
    return {
        run.run_id: (
            run.name,
            run.run_type,
            run.parent_id,
            run.status,
            run.error,
            sorted(run.tags),
            chunk_text(run.output) if run.status == "ok" else None,
        )
        for run in trace.runs.values()
    }


def tokens_of(trace: sv.Trace) -> dict[str, list[Any]]:
    tokens: dict[str, list[Any]] = {}
    for event in trace.events:
        if event["event"].endswith("_stream") and "mode" not in event:
            tokens.setdefault(event["run_id"], []).append(chunk_text(event["data"]["chunk"]))
    return tokens


def times_of(trace: sv.Trace) -> list[float]:
    """Every run's start and end and every token's time, in a fixed order."""
    times: list[float] = []
    for run in sorted(trace.runs.values(), key=lambda run: run.run_id):
        times += [run.start, run.end]
    for event in trace.events:
        if event["event"].endswith("_stream") and "mode" not in event:
            times.append(event["t"])
    return times


def round_trip(trace: sv.Trace, tmp_path) -> sv.Trace:
    path = tmp_path / "spans.otlp.jsonl"
    write_otlp_json(trace, path)
    return sv.Trace.from_otel(path)


def assert_same(trace: sv.Trace, back: sv.Trace) -> None:
    assert runs_of(back) == runs_of(trace)
    assert tokens_of(back) == tokens_of(trace)
    # One clock shift for every time (the import starts its clock at the earliest span), and
    # nothing else: starts, ends and every token keep their place to the nanosecond.
    before, after = times_of(trace), times_of(back)
    assert len(before) == len(after)
    shift = after[0] - before[0]
    assert all(abs((b - a) - shift) < 2e-9 for a, b in zip(before, after, strict=True))
    created_shift = back.created.timestamp() - trace.created.timestamp()
    assert abs(created_shift + shift) < 2e-6  # the same instants on the wall clock


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_guide_example_comes_back_with_its_runs_times_and_tokens(example, tmp_path):
    trace = captured(example)
    assert_same(trace, round_trip(trace, tmp_path))


def test_graphs_with_tool_calls_a_subgraph_and_an_interrupt_come_back(tmp_path):
    agent = sv.watch(
        tool_agent_graph,
        {"messages": [("user", "what is the weather and the time in Paris?")]},
        stream_mode=["updates", "messages"],
        display=False,
    )
    nested = sv.watch(
        subgraph_graph, {"foo": "x"}, stream_mode="updates", subgraphs=True, display=False
    )
    paused = sv.watch(
        build_approval_graph(InMemorySaver()),
        {"topic": "cats"},
        {"configurable": {"thread_id": "round-trip"}},
        display=False,
    )
    assert paused.roots[0].status == "interrupted"
    for trace in (agent, nested, paused):
        assert_same(trace, round_trip(trace, tmp_path))
    back = round_trip(agent, tmp_path)
    assert back.usage_total() == agent.usage_total()
    assert [call.name for call in back.tool_calls()] == [call.name for call in agent.tool_calls()]

"""LangGraph in-process: stream parts and callback events of the same run in one trace."""

from __future__ import annotations

import asyncio
import json

import pytest
from helpers import without_task_ids
from langgraph.checkpoint.memory import InMemorySaver

import streamviz as sv
from streamviz.demo.graphs import (
    build_joke_graph,
    build_model_graph,
    build_subgraph_graph,
)
from streamviz.widgets import Dashboard

MODES = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"]


def parts_of(trace: sv.Trace) -> list[dict]:
    return [e for e in trace.events if "mode" in e]


def comparable(mode: str, chunk):
    """What must match between two runs of a graph (ids and timestamps aside)."""
    if mode == "messages":
        message, metadata = chunk
        return (message.content, metadata["langgraph_node"], tuple(metadata.get("tags", ())))
    if mode in ("debug", "checkpoints", "tasks"):
        return json.dumps(
            {k: v for k, v in (chunk if isinstance(chunk, dict) else {}).items()
             if k in ("type", "step", "name", "next")},
            sort_keys=True, default=str,
        )  # fmt: skip
    return chunk


@pytest.mark.parametrize(
    ("stream_mode", "subgraphs", "version"),
    [
        ("updates", False, "v1"),
        (["updates", "custom"], False, "v1"),
        ("updates", True, "v1"),
        (["values", "updates", "messages", "custom"], True, "v1"),
        (["updates", "messages"], True, "v2"),
        ("values", False, "v2"),
    ],
)
def test_parts_are_recorded_exactly_as_langgraph_yields_them(stream_mode, subgraphs, version):
    graph = build_subgraph_graph()
    expected = list(
        graph.stream({"foo": "foo"}, stream_mode=stream_mode, subgraphs=subgraphs, version=version)
    )
    trace = sv.watch(
        graph,
        {"foo": "foo"},
        display=False,
        stream_mode=stream_mode,
        subgraphs=subgraphs,
        version=version,
    )
    parts = parts_of(trace)
    assert len(parts) == len(expected)
    several = not isinstance(stream_mode, str)
    for part, item in zip(parts, expected, strict=True):
        if version == "v2":
            namespace, mode, chunk = item["ns"], item["type"], item["data"]
        elif subgraphs and several:
            namespace, mode, chunk = item
        elif subgraphs:
            (namespace, chunk), mode = item, stream_mode
        elif several:
            (mode, chunk), namespace = item, ()
        else:
            namespace, mode, chunk = (), stream_mode, item
        assert part["event"] == f"on_graph_{mode}" and part["mode"] == mode
        assert without_task_ids(part["ns"]) == without_task_ids(namespace)
        assert part["data"]["chunk"] == chunk
    assert trace.result == {"foo": "hi! foobar"}


def test_the_run_tree_nests_graph_node_subgraph_node():
    trace = sv.watch(
        build_subgraph_graph(), {"foo": "foo"}, display=False, stream_mode="updates", subgraphs=True
    )
    (root,) = trace.roots
    assert root.name == "parent"
    paths = {" > ".join(run.path) for run in root.walk()}
    assert "parent > node_2 > subgraph > subgraph_node_2" in paths
    assert "parent > node_1" in paths
    namespaces = {tuple(without_task_ids(p["ns"])) for p in parts_of(trace)}
    assert namespaces == {(), ("node_2",)}
    nested = [p["name"] for p in parts_of(trace) if p["ns"]]
    assert nested == ["subgraph_node_1", "subgraph_node_2"]


def test_llm_tokens_per_node_filterable_by_node_and_by_tags():
    graph = build_model_graph(time_to_first_token=0, token_delay=0)
    trace = sv.watch(
        graph, {"topic": "ice cream and cats"}, display=False, stream_mode=["messages", "custom"]
    )
    messages = [p for p in parts_of(trace) if p["mode"] == "messages"]
    callbacks = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    # The same tokens through both paths, in order.
    assert [p["data"]["chunk"][0].content for p in messages] == [
        e["data"]["chunk"].content for e in callbacks
    ]
    assert {p["name"] for p in messages} == {"call_model"}  # the langgraph_node
    assert all(p["metadata"]["langgraph_node"] == "call_model" for p in messages)
    joke = trace.filter(include_tags=["joke"])
    joke_tokens = "".join(
        e["data"]["chunk"][0].content for e in joke.events if e.get("mode") == "messages"
    )
    assert joke_tokens.startswith("Why did the cat sit on the ice cream?")
    assert "Whiskers" not in joke_tokens
    by_node = trace.filter(include_names=["call_model"], include_types=["messages"])
    assert len([e for e in by_node.events if e.get("mode") == "messages"]) == len(messages)
    custom = [p["data"]["chunk"] for p in parts_of(trace) if p["mode"] == "custom"]
    assert custom == [
        {"progress": "writing a joke about ice cream and cats"},
        {"progress": "writing a poem"},
        {"progress": "done"},
    ]


def test_every_stream_mode_at_once_with_a_checkpointer():
    graph = build_joke_graph()
    graph.checkpointer = InMemorySaver()
    config = {"configurable": {"thread_id": "t1"}}
    expected = list(graph.stream({"topic": "ice cream"}, config, stream_mode=MODES))
    graph.checkpointer = InMemorySaver()
    trace = sv.watch(graph, {"topic": "ice cream"}, config, display=False, stream_mode=MODES)
    parts = parts_of(trace)
    assert [p["mode"] for p in parts] == [mode for mode, _ in expected]
    for part, (mode, chunk) in zip(parts, expected, strict=True):
        assert comparable(mode, part["data"]["chunk"]) == comparable(mode, chunk)
    modes = {p["mode"] for p in parts}
    assert {"values", "updates", "debug", "tasks", "checkpoints"} <= modes
    values = [p["data"]["chunk"] for p in parts if p["mode"] == "values"]
    assert values[-1] == {
        "topic": "ice cream and cats",
        "joke": "This is a joke about ice cream and cats",
    }
    tasks = [p["name"] for p in parts if p["mode"] == "tasks"]
    assert tasks == ["refine_topic", "refine_topic", "generate_joke", "generate_joke"]


def test_awatch_records_parts_and_callbacks_under_astream():
    graph = build_model_graph(time_to_first_token=0, token_delay=0)
    trace = asyncio.run(
        sv.awatch(graph, {"topic": "cats"}, display=False, stream_mode=["updates", "messages"])
    )
    assert [p["mode"] for p in parts_of(trace)].count("messages") == sum(
        1 for e in trace.events if e["event"] == "on_chat_model_stream"
    )
    assert trace.result["poem"].startswith("Whiskers")


def test_the_dashboard_receives_parts_with_their_mode_and_namespace():
    trace = sv.watch(
        build_subgraph_graph(),
        {"foo": "foo"},
        display=False,
        stream_mode=["values", "updates"],
        subgraphs=True,
    )
    snapshot = Dashboard(trace).snapshot
    kinds = snapshot["kinds"]
    parts = [
        (seq, kinds[kind])
        for seq, kind in enumerate(snapshot["events"]["kind"])
        if kinds[kind].startswith("on_graph_")
    ]
    assert len(parts) == len(parts_of(trace))
    for seq, kind in parts:
        extra = snapshot["events"]["extra"][str(seq)]
        assert extra["mode"] == kind.removeprefix("on_graph_")
        assert "ns" in extra or kind == "on_graph_values"
    update = next(seq for seq, kind in parts if kind == "on_graph_updates")
    assert json.loads(snapshot["events"]["text"][update]) == {"node_1": {"foo": "hi! foo"}}


def test_a_part_that_cannot_be_read_is_logged_and_the_stream_goes_on(caplog):
    from streamviz.sources.graph import GraphParts

    trace = sv.Trace()
    parts = GraphParts(trace, None, "g", stream_mode=["updates"], subgraphs=True)
    assert parts.record(object()) is None  # not a (ns, mode, chunk) tuple
    assert parts.record(((), "updates", {"a": 1})) == ((), "updates", {"a": 1})
    assert [e["mode"] for e in trace.events] == ["updates"]
    assert "graph part" in caplog.text

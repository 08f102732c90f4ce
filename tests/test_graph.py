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


def recorded_parts(items, via="record", **stream) -> tuple[list[dict], list[dict]]:
    """``items`` recorded by GraphParts, and each as ``part_event`` builds it at that moment.

    ``via``: ``"record"`` (what a watch printing the parts calls) or ``"put"`` (what a watch
    that prints nothing calls).
    """
    from streamviz.sources.graph import GraphParts, part_event, split_part

    trace = sv.Trace()
    parts = GraphParts(trace, "root", "g", **stream)
    take = getattr(parts, via)
    several = not isinstance(stream["stream_mode"], str)
    expected = []
    for item in items:
        namespace, mode, chunk = split_part(
            item,
            several_modes=several,
            subgraphs=stream.get("subgraphs", False),
            mode="values" if several else stream["stream_mode"],
        )
        expected.append(part_event("root", "g", namespace, mode, chunk))
        take(item)
    got = [{k: v for k, v in e.items() if k not in ("t", "seq", "thread")} for e in trace.events]
    return got, expected


@pytest.mark.parametrize("via", ["record", "put"])
def test_messages_parts_come_back_with_the_fields_and_key_order_of_their_own_events(via):
    from langchain_core.messages import AIMessageChunk

    def token(text, **fields):
        return AIMessageChunk(content=text, id="m1", **fields)

    metadata = {"langgraph_node": "agent", "langgraph_step": 1, "tags": ["a"]}
    other = {"langgraph_node": "tools", "langgraph_step": 2}
    items = [("messages", (token("one"), metadata)), ("messages", (token("two"), metadata))]
    items += [("updates", {"agent": {"x": 1}}), ("messages", (token("x"), other))]
    items += [("messages", (token("three"), metadata))]
    items += [("messages", (token("", usage_metadata={"input_tokens": 1, "output_tokens": 1,
                                                       "total_tokens": 2}), metadata))]  # fmt: skip
    got, expected = recorded_parts(items, via, stream_mode=["updates", "messages"])
    assert got == expected
    assert [list(event) for event in got] == [list(event) for event in expected]
    assert [e["name"] for e in got] == ["agent", "agent", "agent", "tools", "agent", "agent"]


@pytest.mark.parametrize(
    ("tags", "change"),
    [
        (["a"], lambda m: m.update(langgraph_node="renamed")),  # a value replaced
        (None, lambda m: m.update(tags=["late"])),  # a key added, which gives the event tags
        (["a"], lambda m: m["tags"].append("later")),  # the tags list changed in place
        ([], lambda m: m["tags"].append("later")),  # an empty tags list filled in place
        (["a"], lambda m: m.pop("langgraph_step")),  # a key removed
    ],
)
@pytest.mark.parametrize(
    ("via", "modes"),
    [
        ("record", "messages"),
        ("record", ["updates", "messages"]),
        ("put", "messages"),
        ("put", ["updates", "messages"]),
    ],
)
def test_a_messages_part_whose_metadata_changed_since_its_calls_first_part_shows_the_change(
    tags, change, via, modes
):
    from langchain_core.messages import AIMessageChunk

    metadata = {"langgraph_node": "agent", "langgraph_step": 1}
    if tags is not None:
        metadata["tags"] = tags

    def changing():
        for step in range(3):
            if step == 1:
                change(metadata)
            chunk = (AIMessageChunk(content=str(step), id="m"), metadata)
            yield chunk if isinstance(modes, str) else ("messages", chunk)

    got, expected = recorded_parts(changing(), via, stream_mode=modes)
    assert [(e["name"], e["tags"], e["metadata"]) for e in got] == [
        (e["name"], e["tags"], e["metadata"]) for e in expected
    ]
    assert got[0] != got[2]


def test_messages_parts_under_subgraphs_and_v2_come_back_as_langgraph_yielded_them():
    from langchain_core.messages import AIMessageChunk

    metadata = {"langgraph_node": "inner", "langgraph_checkpoint_ns": "sub:1"}
    chunks = [(AIMessageChunk(content=t, id="m"), metadata) for t in ("a", "b")]
    items = [(("sub:1",), "messages", chunk) for chunk in chunks]
    items.append(((), "messages", chunks[0]))  # the same metadata from another namespace
    got, expected = recorded_parts(items, stream_mode=["messages"], subgraphs=True)
    assert got == expected
    assert [e["ns"] for e in got] == [["sub:1"], ["sub:1"], []]


def test_watching_a_graph_keeps_no_token_message_alive_until_the_run_ends():
    import gc
    import weakref
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    from streamviz.demo import DemoChatModel

    model = DemoChatModel.for_benchmark(60)
    tokens: list[weakref.ref] = []
    alive_later: list[int] = []

    class State(TypedDict):
        text: str

    def write(state: State) -> dict:
        text = ""
        for token in model.stream("go"):  # the messages LangGraph yields as `messages` parts
            tokens.append(weakref.ref(token))
            text += token.content
        return {"text": text}

    def check(state: State) -> dict:
        gc.collect()  # every part of `write` was taken by the watch before this step started
        alive_later.append(sum(1 for ref in tokens if ref() is not None))
        return {}

    graph = StateGraph(State).add_node("write", write).add_node("check", check)
    graph = graph.add_edge(START, "write").add_edge("write", "check").add_edge("check", END)
    trace = sv.watch(
        graph.compile(), {"text": ""}, display=False, stream_mode=["updates", "messages"]
    )
    assert len(tokens) == 61 and trace.runs and all(r.status == "ok" for r in trace.runs.values())
    # Kept: the closing chunk with usage metadata (stored as it is), nothing else.
    assert alive_later == [1]


@pytest.mark.parametrize("use_async", [False, True])
def test_a_failed_graphs_result_is_its_last_part(use_async):
    from streamviz.demo.graphs import FAILURE_MESSAGE, build_failing_graph

    watch = (lambda *a, **k: asyncio.run(sv.awatch(*a, **k))) if use_async else sv.watch
    with pytest.raises(ValueError, match=FAILURE_MESSAGE):
        watch(
            build_failing_graph(),
            {"topic": "cats", "notes": []},
            display=False,
            stream_mode=["updates", "custom"],
        )
    trace = sv.last_trace()
    assert trace.result == ("custom", {"progress": "about to fail"})


def _streaming_agent():
    """Two model nodes in parallel (one streams plain tokens, one tool calls), then a third."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    from streamviz.demo import DemoChatModel
    from streamviz.demo._tools import DemoToolModel

    class State(TypedDict, total=False):
        a: str
        b: str
        c: str

    plain, tools, last = (
        DemoChatModel.for_benchmark(40),
        DemoToolModel(),
        DemoChatModel.for_benchmark(25),
    )
    graph = StateGraph(State)
    graph.add_node("a", lambda state: {"a": plain.invoke("go").content})
    graph.add_node("b", lambda state: {"b": str(tools.invoke("weather in Paris?").tool_calls)})
    graph.add_node("c", lambda state: {"c": last.invoke("go").content})
    graph.add_edge(START, "a").add_edge(START, "b").add_edge("a", "c").add_edge("b", "c")
    return graph.add_edge("c", END).compile(name="agent")


@pytest.mark.parametrize("use_async", [False, True])
def test_a_watched_agents_streamed_events_read_back_as_the_event_by_event_path_stores_them(
    monkeypatch, use_async
):
    """Every event a stream writer recorded (model tokens, ``messages`` parts) reads back as the
    event ``store.append`` would have kept: its fields, ``data={"chunk": chunk}``, the same
    chunk (type, fields set), key order; a part's fields are also ``part_event``'s of that part;
    nothing is lost and the graph's result is its last part."""
    from langchain_core.messages import AIMessageChunk

    from streamviz._log import EventStore
    from streamviz.sources.graph import part_event

    written: list[tuple[int, dict, object]] = []  # (seq, the writer's fields, the chunk given)
    make_writer = EventStore.stream_writer

    def logging_writer(store, run, fields):
        write = make_writer(store, run, fields)

        def logged(chunk):
            with store.lock:  # re-entrant: the seq the write takes is the store's length now
                written.append((len(store), fields, chunk))
                write(chunk)

        return logged

    monkeypatch.setattr(EventStore, "stream_writer", logging_writer)
    modes = ["updates", "messages"]
    graph = _streaming_agent()
    if use_async:
        trace = asyncio.run(sv.awatch(graph, {}, display=False, stream_mode=modes))
    else:
        trace = sv.watch(graph, {}, display=False, stream_mode=modes)
    events = list(trace.events)
    assert [e["seq"] for e in events] == list(range(len(events)))
    root = trace.roots[0]
    kinds = {"on_chat_model_stream": 0, "on_graph_messages": 0}
    for seq, fields, chunk in written:
        read = events[seq]
        expected = {**fields, "data": {"chunk": chunk}}
        expected |= {"t": read["t"], "seq": seq, "thread": read["thread"]}
        assert read == expected
        assert list(read) == list(expected)
        got = read["data"]["chunk"]
        assert type(got) is type(chunk)
        message, given = (got[0], chunk[0]) if type(chunk) is tuple else (got, chunk)
        assert type(message) is type(given)
        if isinstance(given, AIMessageChunk):
            assert message.__pydantic_fields_set__ == given.__pydantic_fields_set__
        if read["event"] == "on_chat_model_stream":  # the model's message, as LangChain says
            assert type(chunk) is AIMessageChunk
        if read["event"] == "on_graph_messages":
            part = part_event(root.run_id, "agent", (), "messages", chunk)
            assert {k: v for k, v in read.items() if k not in ("t", "seq", "thread")} == part
        kinds[read["event"]] = kinds.get(read["event"], 0) + 1
    models = [run for run in trace.runs.values() if run.run_type == "chat_model"]
    assert len(models) == 3 and {run.status for run in trace.runs.values()} == {"ok"}
    streamed = sum(run.chunk_count for run in models)
    assert kinds["on_chat_model_stream"] == kinds["on_graph_messages"] == streamed
    assert streamed == 41 + 26 + sum(1 for e in events if e["event"] == "on_chat_model_stream"
                                     and e["name"] == "DemoToolModel")  # fmt: skip
    assert trace.store.kept_objects()  # the tool model's chunks (and closing ones) kept whole
    assert trace.result == root.output and set(root.output) == {"a", "b", "c"}


def _looping_agent(calls: int, seen: list[int]):
    """One model node called ``calls`` times in a loop; each call notes the objects the garbage
    collector tracks (after a collection) in ``seen``."""
    import gc
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    from streamviz.demo import DemoChatModel

    model = DemoChatModel.for_benchmark(5)

    class State(TypedDict):
        step: int

    def agent(state: State) -> dict:
        model.invoke("go")
        gc.collect()
        seen.append(len(gc.get_objects()))
        return {"step": state["step"] + 1}

    graph = StateGraph(State).add_node("agent", agent).add_edge(START, "agent")
    graph.add_conditional_edges("agent", lambda s: END if s["step"] >= calls else "agent")
    return graph.compile(name="agent")


def test_watching_an_agent_keeps_few_objects_for_the_garbage_collector_per_model_call():
    """Every object a trace (and its recorder, while the graph runs) keeps is walked by each
    full collection of the observed program: per model call of an agent (its node, model and
    routing runs with their start and end events, the call's stream templates) it keeps ~50,
    and the writers of its ``messages`` parts are not kept for the whole run (each was 37)."""
    seen: list[int] = []
    calls = 80
    trace = sv.watch(
        _looping_agent(calls, seen),
        {"step": 0},
        {"recursion_limit": calls + 10},
        display=False,
        stream_mode=["updates", "messages"],
    )
    assert len(seen) == calls and {run.status for run in trace.runs.values()} == {"ok"}
    per_call = (seen[-1] - seen[20]) / (calls - 1 - 20)
    assert per_call < 65, per_call


def test_a_messages_part_of_a_call_whose_writer_was_dropped_reads_back_as_its_event():
    """GraphParts keeps the writers of its latest model calls only: a part of an older call
    (many calls streaming at once) gets a new writer and still reads back as ``part_event``."""
    from langchain_core.messages import AIMessageChunk

    metadatas = [{"langgraph_node": f"agent_{n}", "langgraph_step": n} for n in range(50)]
    items = [
        ("messages", (AIMessageChunk(content=f"{n}.{k}", id=f"m{n}"), metadata))
        for k in range(2)
        for n, metadata in enumerate(metadatas)
    ]
    for via in ("record", "put"):
        got, expected = recorded_parts(items, via, stream_mode=["updates", "messages"])
        assert got == expected
        assert [list(event) for event in got] == [list(event) for event in expected]

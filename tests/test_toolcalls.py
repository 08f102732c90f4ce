"""Tool calls you can read: streamed calls grouped per call, their arguments as they grow, and
each tool run linked to the call that asked for it (and back).

The model is ``DemoToolModel`` (it streams two calls in parallel, their pieces interleaved, as
hosted models do); the agent is ``tool_agent_graph`` (the model, LangGraph's ``ToolNode``, the
model again), in-process and on a real ``langgraph dev`` server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from helpers import missing
from langchain_core.messages import AIMessageChunk
from langchain_core.utils.json import parse_partial_json
from langgraph_sdk import get_sync_client
from langgraph_server import LangGraphServer

import streamviz as sv
from streamviz.demo import DEMO_TOOL_CALLS, DemoToolModel
from streamviz.demo.graphs import build_tool_agent_graph, tool_agent_graph
from streamviz.demo.server import cli_path
from streamviz.toolcalls import ToolCalls
from streamviz.widgets._encode import TraceEncoder

QUESTION = {"messages": [("user", "weather in Paris and time in Tokyo?")]}
WEATHER = {"city": "Paris", "unit": "celsius"}
TIME = {"city": "Tokyo"}


def agent_trace() -> sv.Trace:
    return sv.watch(tool_agent_graph, QUESTION, display=False)


def model_runs(trace: sv.Trace) -> list[sv.Run]:
    return [run for run in trace.runs.values() if run.run_type == "chat_model"]


def test_two_interleaved_parallel_calls_are_two_calls_with_names_ids_and_whole_args():
    chunks = list(DemoToolModel().stream("weather?"))
    indexes = [c.tool_call_chunks[0]["index"] for c in chunks if c.tool_call_chunks]
    assert indexes[:4] == [0, 1, 0, 1], "the two calls' pieces interleave"

    with sv.capture() as trace:
        list(DemoToolModel().stream("weather?"))
    calls = list(sv.tool_calls(trace))

    assert [(c.name, c.id, c.index) for c in calls] == [
        ("get_weather", "call_weather", 0),
        ("get_time", "call_time", 1),
    ]
    assert [c.args for c in calls] == [WEATHER, TIME]
    assert [c.args_text for c in calls] == [json.dumps(WEATHER), json.dumps(TIME)]
    assert all(c.complete for c in calls)
    again = trace.tool_calls().of_run(model_runs(trace)[0].run_id)  # read anew: the same calls
    assert [(c.id, c.args) for c in again] == [(c.id, c.args) for c in calls]


def test_the_args_after_k_chunks_are_the_partial_json_of_what_streamed():
    with sv.capture() as trace:
        list(DemoToolModel(chunk_chars=3).stream("weather?"))
    calls, streamed = ToolCalls(), {0: "", 1: ""}
    checked = 0
    for event in trace.events:
        if event["event"] == "on_chat_model_end":
            break
        calls.apply(event)
        if event["event"] != "on_chat_model_stream":
            continue
        for piece in event["data"]["chunk"].tool_call_chunks:
            streamed[piece["index"]] += piece["args"]
        for call in calls:
            assert call.args_text == streamed[call.index]
            assert call.args == parse_partial_json(streamed[call.index])
            assert not call.complete
            checked += 1
    assert checked > 10
    # Midway a call reads as a dict already: what a person sees while it streams.
    assert parse_partial_json('{"city": "Pa') == {"city": "Pa"}


def test_each_tool_run_is_linked_to_its_call_and_back():
    trace = agent_trace()
    calls = trace.tool_calls()
    asking = model_runs(trace)[0]

    assert [c.name for c in calls.of_run(asking.run_id)] == ["get_weather", "get_time"]
    for call in calls.of_run(asking.run_id):
        tool = trace.runs[call.tool_run_id]
        assert (tool.run_type, tool.name) == ("tool", call.name)
        assert tool.output.tool_call_id == call.id  # what ToolNode's ToolMessage says
        assert calls.call_of(tool.run_id) is call
        assert trace.runs[call.run_id] is asking
        assert calls.get(call.id) is call
    assert calls.of_run(model_runs(trace)[1].run_id) == [], "the answer asked for no tool"
    assert trace.roots[0].output["messages"][-1].content == (
        "Here is what I found: Paris: sunny, 21 °C; Tokyo: 21:00."
    )


def test_the_tree_and_runs_df_show_the_calls_and_their_links():
    trace = agent_trace()
    tree = trace.format_tree()
    lines = tree.splitlines()
    model = next(n for n, line in enumerate(lines) if "DemoToolModel [chat_model]" in line)
    assert lines[model + 1].endswith(
        "→ get_weather(city: Paris, unit: celsius)  call_weather  answered"
    )
    assert lines[model + 2].endswith("→ get_time(city: Tokyo)  call_time  answered")
    assert any(
        "get_weather [tool]" in line and line.endswith("answers call_weather") for line in lines
    )
    assert any("get_time [tool]" in line and line.endswith("answers call_time") for line in lines)

    df = trace.runs_df().set_index("name")
    asking = model_runs(trace)[0].run_id
    assert df.loc["get_weather", "tool_call_id"] == "call_weather"
    assert df.loc["get_time", "tool_call_run"] == asking
    row = df[df["run_id"] == asking].iloc[0]
    assert row["tool_calls"] == "get_weather(city: Paris, unit: celsius); get_time(city: Tokyo)"
    assert df["tool_calls"].notna().sum() == 1


def test_the_widget_snapshot_carries_the_calls_and_grows_them_as_they_stream():
    trace = agent_trace()
    rows = {row["i"]: row for row in sv.widgets.Dashboard(trace).snapshot["runs"]}
    by_name = {row["name"]: row for row in rows.values()}
    asking = next(row for row in rows.values() if row["calls"])
    assert asking["calls"] == [
        {
            "id": "call_weather",
            "name": "get_weather",
            "args": "city: Paris, unit: celsius",
            "done": True,
            "tool": by_name["get_weather"]["i"],
        },
        {
            "id": "call_time",
            "name": "get_time",
            "args": "city: Tokyo",
            "done": True,
            "tool": by_name["get_time"]["i"],
        },
    ]
    assert by_name["get_time"]["call"] == {"id": "call_time", "by": asking["i"], "n": 1}
    assert by_name["agent"]["calls"] is None and by_name["agent"]["call"] is None

    # Live: the page gets the calls as they grow, delta by delta.
    growing = sv.Trace("live")
    encoder = TraceEncoder(growing)
    seen: list[list[str]] = []
    for event in trace.events:
        growing.store.append({k: v for k, v in event.items() if k not in ("seq", "t")})
        delta = encoder.delta()
        for row in delta["runs"] if delta else ():
            if row["calls"] and not row["calls"][0]["done"]:
                seen.append([call["args"] for call in row["calls"]])
    assert seen[0] == [""], "the first piece ('{\"city') holds no key yet: {}"
    assert ["city: Pa", "city: To"] in seen
    assert seen[-1] == ["city: Paris, unit: celsius", "city: Tokyo"]


def test_a_saved_trace_reads_back_the_same_calls(tmp_path, suffix):
    trace = agent_trace()
    path = tmp_path / f"agent{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)

    def facts(t: sv.Trace) -> list[tuple]:
        return [(c.name, c.id, c.index, c.args, c.tool_run_id, c.run_id) for c in t.tool_calls()]

    assert facts(loaded) == facts(trace)
    assert loaded.format_tree() == trace.format_tree()


def test_a_model_that_did_not_stream_gives_its_calls_from_its_message():
    with sv.capture() as trace:
        message = DemoToolModel().invoke("weather?")
    assert [c["name"] for c in message.tool_calls] == ["get_weather", "get_time"]
    calls = list(trace.tool_calls())
    assert [(c.name, c.id, c.args, c.complete) for c in calls] == [
        ("get_weather", "call_weather", WEATHER, True),
        ("get_time", "call_time", TIME, True),
    ]


def test_pieces_keyed_by_id_only_and_odd_pieces_do_not_break_the_reader():
    calls = ToolCalls()
    base = {"event": "on_chat_model_stream", "run_id": "m", "name": "m", "tags": [], "metadata": {}}

    def piece(**fields) -> dict:
        chunk = AIMessageChunk(content="", tool_call_chunks=[{"type": "tool_call_chunk", **fields}])
        return {**base, "data": {"chunk": chunk}}

    calls.apply(piece(name="a", args='{"x": ', id="one", index=None))
    calls.apply(piece(name="b", args="{", id="two", index=None))
    calls.apply(piece(name=None, args="1}", id="one", index=None))
    calls.apply({**base, "data": {"chunk": {"tool_call_chunks": [{"args": 5, "index": "?"}]}}})
    calls.apply({**base, "data": None})
    calls.apply({**base, "event": "on_tool_end", "run_id": "t", "data": {"output": "no message"}})
    named = {c.name: c for c in calls}
    assert named["a"].args == {"x": 1} and named["b"].args == {}
    assert calls.get("one") is named["a"] and calls.get("two") is named["b"]


def test_a_tool_answer_seen_before_its_call_is_linked_when_the_call_comes():
    trace = agent_trace()
    events = list(trace.events)
    tool_ends = [e for e in events if e["event"] == "on_tool_end"]
    rest = [e for e in events if e["event"] != "on_tool_end"]
    calls = ToolCalls()
    for event in [*tool_ends, *rest]:
        calls.apply(event)
    assert {c.name: trace.runs[c.tool_run_id].name for c in calls} == {
        "get_weather": "get_weather",
        "get_time": "get_time",
    }


def test_a_model_given_its_own_calls_streams_them_in_pieces_of_its_size():
    custom = [{"name": "lookup", "args": {"q": "x" * 40}, "id": "c1"}]
    assert DEMO_TOOL_CALLS[0]["id"] != custom[0]["id"]
    with sv.capture() as trace:
        list(DemoToolModel(tool_calls=custom, chunk_chars=2).stream("q"))
    (call,) = trace.tool_calls()
    pieces = -(-len(json.dumps(custom[0]["args"])) // 2)
    assert (call.name, call.id, call.args, call.chunks) == ("lookup", "c1", {"q": "x" * 40}, pieces)


def test_an_agent_on_another_model_links_its_calls_too():
    custom = [{"name": "get_weather", "args": {"city": "Lima"}, "id": "w1"}]
    trace = sv.watch(
        build_tool_agent_graph(DemoToolModel(tool_calls=custom)), QUESTION, display=False
    )
    (call,) = trace.tool_calls()
    assert trace.runs[call.tool_run_id].output.content == "Lima: cloudy, 19 °C"


# ------------------------------------------------------------------------- on a server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LangGraphServer]:
    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("toolcalls") / "app", name="tools")
    try:
        yield server
    finally:
        server.stop()


def test_a_server_run_gives_the_same_calls_and_links_as_in_process(server):
    client = get_sync_client(url=server.url)
    remote = sv.watch_remote(
        client,
        None,
        "tool_agent",
        input={"messages": [{"role": "user", "content": "weather in Paris and time in Tokyo?"}]},
        stream_mode=["events"],
        display=False,
    )
    local = agent_trace()

    def facts(t: sv.Trace) -> list[tuple]:
        return [
            (c.name, c.id, c.index, c.args, t.runs[c.tool_run_id].name, t.runs[c.run_id].run_type)
            for c in t.tool_calls()
        ]

    assert facts(remote) == facts(local)
    assert [line.split("  ")[-3:] for line in remote.format_tree().splitlines() if "→" in line] == [
        line.split("  ")[-3:] for line in local.format_tree().splitlines() if "→" in line
    ]


def test_a_failing_tool_call_reader_costs_the_calls_never_the_events(monkeypatch, caplog):
    trace = agent_trace()
    whole = TraceEncoder(trace).snapshot()

    def broken(self, event, chunk):
        raise RuntimeError("reader bug")

    monkeypatch.setattr(ToolCalls, "_stream", broken)
    with caplog.at_level(logging.WARNING, logger="streamviz"):
        snapshot = TraceEncoder(trace).snapshot()
    assert snapshot["events"] == whole["events"] and snapshot["count"] == len(trace)
    # The stream could not be read; the model's final message still names the calls.
    asked = [row["calls"] for row in snapshot["runs"] if row["calls"]]
    assert [[c["name"] for c in calls] for calls in asked] == [["get_weather", "get_time"]]
    assert any("streamviz tool calls" in record.getMessage() for record in caplog.records)

"""Runs on a real ``langgraph dev`` server, streamed with the real SDK into streamviz.

One server serves the example graphs (``notebooks/langgraph``) for the whole module, a second one
the same graphs behind custom auth (``auth.py``). What streamviz records is checked two ways:

- against what the SDK yielded for the same stream (a recording proxy around the real client sees
  every part on its way to streamviz): one event per part, data untouched, nothing lost;
- against what the same graph yields in-process (``sv.watch`` on ``streamviz.demo.graphs``):
  nodes, updates, tokens, custom data and namespaces (task ids aside).

Without the ``langgraph`` CLI these tests skip, and fail under CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import io
import json
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import missing, without_task_ids
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import AuthenticationError, UnprocessableEntityError
from langgraph_sdk.schema import StreamPart
from langgraph_server import LangGraphServer

import streamviz as sv
from streamviz.demo.graphs import (
    FAILURE_MESSAGE,
    build_joke_graph,
    build_model_graph,
    build_nested_graph,
    build_subgraph_graph,
)
from streamviz.demo.server import cli_path
from streamviz.sources.remote import RemoteParts
from streamviz.widgets import Dashboard

API_KEY = "sk-test-" + uuid.uuid4().hex  # what the auth server expects (and nothing may record)
# The modes the server accepts (it answers 422 to "tools" and "lifecycle", which the SDK lists).
MODES = ["values", "updates", "messages-tuple", "custom", "debug", "tasks", "checkpoints"]
IN_PROCESS_MODE = {"messages-tuple": "messages"}


def _start(tmp_path_factory, name: str, **options: Any) -> Iterator[LangGraphServer]:
    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp(name) / "app", name=name, **options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LangGraphServer]:
    """``langgraph dev`` on the example graphs (and ``model_fast``), for this module."""
    yield from _start(tmp_path_factory, "server")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory) -> Iterator[LangGraphServer]:
    """The same graphs behind ``auth.py``: requests need ``x-api-key: API_KEY``."""
    yield from _start(
        tmp_path_factory, "auth-server", auth=True, env={"STREAMVIZ_DEMO_API_KEY": API_KEY}
    )


@pytest.fixture
def sync_client() -> Iterator[Any]:
    """``get_sync_client(**options)``, closed after the test (it holds a connection pool)."""
    made: list[Any] = []

    def make(url: str, **options: Any) -> Any:
        client = get_sync_client(url=url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


class Tee:
    """The real client, with every stream part it yields also kept in ``parts``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.parts: list[Any] = []
        self.runs = self

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client.runs, name)
        if name not in ("stream", "join_stream"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            stream = target(*args, **kwargs)
            if hasattr(stream, "__aiter__"):
                return self._atee(stream)
            return self._tee(stream)

        return call

    @property
    def create(self) -> Any:
        return self.client.runs.create

    def _tee(self, stream: Any) -> Iterator[Any]:
        for part in stream:
            self.parts.append(part)
            yield part

    async def _atee(self, stream: Any) -> Any:
        async for part in stream:
            self.parts.append(part)
            yield part


def recorded_parts(trace: sv.Trace) -> list[dict]:
    """The events that record a server part (everything but the root run's own start/end)."""
    return [e for e in trace.events if "mode" in e]


def assert_one_event_per_part(trace: sv.Trace, parts: list[Any]) -> None:
    """Every part the SDK yielded is in the trace, in order, its data untouched.

    Untouched means equal: the trace keeps streamed tokens compactly and builds them when read.
    """
    events = recorded_parts(trace)
    assert len(events) == len(parts)
    for event, part in zip(events, parts, strict=True):
        mode, *namespace = part.event.split("|")
        assert event["mode"] == mode and event["ns"] == namespace
        if mode == "events":
            assert event["event"] == part.data["event"]
            assert event["run_id"] == part.data["run_id"]
            assert event["data"] == part.data["data"]
        elif mode == "error":
            assert event["event"] == "on_chain_error"
            assert event["data"]["chunk"] is part.data
        else:
            assert event["event"] == f"on_graph_{mode}"
            assert event["data"]["chunk"] == part.data


def comparable(mode: str, chunk: Any) -> Any:
    """What must match between a server run and an in-process run of the same graph."""
    if mode == "messages":
        message, metadata = chunk
        content = message["content"] if isinstance(message, dict) else message.content
        return content, metadata["langgraph_node"], tuple(metadata.get("tags", ()))
    if mode == "tasks":  # in-process, a dataclass state is an object; on the wire, a dict
        state = chunk.get("input")
        state = dataclasses.asdict(state) if dataclasses.is_dataclass(state) else state
        return chunk["name"], "result" in chunk, chunk.get("error"), state
    if mode == "debug":
        payload = chunk["payload"]
        return chunk["type"], chunk["step"], payload.get("name"), payload.get("next")
    if mode == "checkpoints":
        return chunk["next"], chunk["metadata"]["step"], chunk["values"]
    return chunk


def in_process_parts(graph: Any, input: Any, **options: Any) -> list[tuple]:
    """``(mode, namespace, name, comparable chunk)`` of ``sv.watch`` on ``graph``."""
    return normalized(sv.watch(graph, input, display=False, **options))


def normalized(trace: sv.Trace) -> list[tuple]:
    """``(mode, namespace, name, comparable chunk)`` of each part but ``metadata``.

    A part that names no node is named after the graph (in-process) or the assistant (remote):
    both become ``<graph>``.
    """
    graph = trace.roots[0].name
    return [
        (
            e["mode"],
            without_task_ids(e["ns"]),
            "<graph>" if e["name"] == graph else e["name"],
            comparable(e["mode"], e["data"]["chunk"]),
        )
        for e in recorded_parts(trace)
        if e["mode"] != "metadata"
    ]


server_parts = normalized


def saved_text(trace: sv.Trace) -> str:
    buffer = io.StringIO()
    trace.save(buffer)
    return buffer.getvalue()


# ----------------------------------------------------------------- the guide's examples


def test_the_guides_joke_graph_streams_updates_and_values_on_a_thread(server, sync_client):
    client = Tee(sync_client(server.url))
    thread = client.client.threads.create()
    created: list[dict] = []
    trace = sv.watch_remote(
        client,
        thread["thread_id"],
        "joke",
        input={"topic": "ice cream"},
        stream_mode=["updates", "values"],
        display=False,
        on_run_created=created.append,  # the user's callback still gets its call
    )
    assert_one_event_per_part(trace, client.parts)
    metadata = client.parts[0]
    assert metadata.event == "metadata"
    assert created == [{"run_id": metadata.data["run_id"], "thread_id": thread["thread_id"]}]
    (root,) = trace.roots
    assert (root.run_id, root.name, root.status) == (metadata.data["run_id"], "joke", "ok")
    # The root run starts when the server creates the run, before it waits in the queue.
    assert root.start < trace.events[1]["t"]
    assert root.metadata["thread_id"] == thread["thread_id"]
    assert root.input == {"topic": "ice cream"}
    assert [e["event"] for e in trace.events][:2] == ["on_chain_start", "on_graph_metadata"]
    assert trace.events[-1]["event"] == "on_chain_end"
    expected = in_process_parts(
        build_joke_graph(), {"topic": "ice cream"}, stream_mode=["updates", "values"]
    )
    assert server_parts(trace) == expected
    updates = [(e["name"], e["data"]["chunk"]) for e in trace.events if e.get("mode") == "updates"]
    assert updates == [
        ("refine_topic", {"refine_topic": {"topic": "ice cream and cats"}}),
        ("generate_joke", {"generate_joke": {"joke": "This is a joke about ice cream and cats"}}),
    ]
    assert trace.result == {
        "topic": "ice cream and cats",
        "joke": "This is a joke about ice cream and cats",
    }
    assert root.output == trace.result


@pytest.mark.parametrize("mode", MODES)
def test_each_stream_mode_captures_what_the_graph_yields_in_process(server, mode, sync_client):
    client = Tee(sync_client(server.url))
    thread = client.client.threads.create()  # debug and checkpoints need a thread's checkpointer
    trace = sv.watch_remote(
        client,
        thread["thread_id"],
        "model_fast",
        input={"topic": "cats"},
        stream_mode=mode,
        display=False,
    )
    assert_one_event_per_part(trace, client.parts)
    assert client.parts[0].event == "metadata"
    assert {p.event for p in client.parts[1:]} == {"messages" if mode == "messages-tuple" else mode}
    graph = build_model_graph(time_to_first_token=0, token_delay=0)
    graph.checkpointer = InMemorySaver()
    expected = in_process_parts(
        graph,
        {"topic": "cats"},
        config={"configurable": {"thread_id": "t"}},
        stream_mode=IN_PROCESS_MODE.get(mode, mode),
    )
    assert server_parts(trace) == expected
    (root,) = trace.roots
    assert root.status == "ok" and root.metadata["stream_mode"] == mode


def test_llm_tokens_filtered_by_node_and_by_tags_as_in_the_guide(server):
    """The guide's model graph, with its real token timing."""
    from streamviz._asyncio import kept_loop

    client = get_client(url=server.url)  # the async client, run to the end by watch_remote
    try:
        trace = sv.watch_remote(
            client,
            None,
            "model",
            input={"topic": "ice cream and cats"},
            stream_mode=["messages-tuple", "custom"],
            display=False,
        )
        # The same client again (its connections belong to the loop of the first call).
        again = sv.watch_remote(client, None, "joke", input={"topic": "x"}, display=False)
        assert again.roots[0].status == "ok"
    finally:
        kept_loop().run_until_complete(client.aclose())
    expected = in_process_parts(
        build_model_graph(time_to_first_token=0, token_delay=0),
        {"topic": "ice cream and cats"},
        stream_mode=["messages", "custom"],
    )
    assert server_parts(trace) == expected
    tokens = [e for e in trace.events if e.get("mode") == "messages"]
    assert {e["name"] for e in tokens} == {"call_model"}
    assert all(e["metadata"]["langgraph_node"] == "call_model" for e in tokens)
    by_node = trace.filter(include_names=["call_model"], include_types=["messages"])
    assert len(recorded_parts(by_node)) == len(tokens)

    def text(view: sv.Trace) -> str:
        return "".join(e["data"]["chunk"][0]["content"] for e in recorded_parts(view))

    joke, poem = trace.filter(include_tags=["joke"]), trace.filter(include_tags=["poem"])
    assert text(joke) == "Why did the cat sit on the ice cream? Because it wanted to be a " + (
        "little cooler about its fur-ocious appetite!"
    )
    assert text(poem).startswith("Whiskers in the moonlight")
    assert text(joke) + text(poem) == text(by_node)
    custom = [e["data"]["chunk"] for e in trace.events if e.get("mode") == "custom"]
    assert custom[0] == {"progress": "writing a joke about ice cream and cats"}
    # The demo model's 0.25 s time to first token and 30 ms per token show in the trace.
    times = [e["t"] for e in joke.events]
    assert times[-1] - times[0] > 0.3


def test_messages_mode_keeps_metadata_partial_and_complete_with_their_node_and_tags(
    server, sync_client
):
    client = Tee(sync_client(server.url))
    trace = sv.watch_remote(
        client, None, "model_fast", input={"topic": "cats"}, stream_mode="messages", display=False
    )
    assert_one_event_per_part(trace, client.parts)
    modes = {e["mode"] for e in recorded_parts(trace)}
    assert {"metadata", "messages/metadata", "messages/partial"} <= modes
    assert modes <= {"metadata", "messages/metadata", "messages/partial", "messages/complete"}
    partial = [e for e in trace.events if e.get("mode") == "messages/partial"]
    assert all(e["event"] == "on_graph_messages/partial" for e in partial)
    assert {e["name"] for e in partial} == {"call_model"}
    assert {tuple(e["tags"]) for e in partial} == {("joke",), ("poem",)}
    last_text: dict[str, str] = {}
    for event in partial:  # the whole text so far, each time
        (message,) = event["data"]["chunk"]
        assert message["content"].startswith(last_text.get(message["id"], ""))
        last_text[message["id"]] = message["content"]
    in_process = sv.watch(
        build_model_graph(time_to_first_token=0, token_delay=0), {"topic": "cats"}, display=False
    ).result
    assert list(last_text.values()) == [in_process["joke"], in_process["poem"]]
    joke = [
        e for e in trace.filter(include_tags=["joke"]).events if e["mode"] == "messages/partial"
    ]
    assert joke[-1]["data"]["chunk"][0]["content"] == in_process["joke"]


def test_events_mode_records_the_server_side_run_tree(server, sync_client):
    client = Tee(sync_client(server.url))
    trace = sv.watch_remote(
        client,
        None,
        "model_fast",
        input={"topic": "cats"},
        stream_mode=["events", "values"],
        display=False,
    )
    assert_one_event_per_part(trace, client.parts)
    run_id = client.parts[0].data["run_id"]
    (root,) = trace.roots
    assert root.run_id == run_id and root.status == "ok"
    local = sv.watch(
        build_model_graph(time_to_first_token=0, token_delay=0), {"topic": "cats"}, display=False
    )

    def shape(run: sv.Run) -> list:
        # Token counts of the models; not the nodes' output chunks, which astream_events
        # reports (on_chain_stream) and a sync in-process stream does not.
        return [
            (r.depth, r.name if r.depth else "<root>", r.run_type)
            + ((r.chunk_count,) if r.run_type == "chat_model" else ())
            for r in run.walk()
        ]

    assert shape(root) == shape(local.roots[0])
    models = [r for r in root.walk() if r.run_type == "chat_model"]
    assert ["joke" in m.tags for m in models] == [True, False]
    assert ["poem" in m.tags for m in models] == [False, True]
    assert [m.parent.name for m in models] == ["call_model", "call_model"]
    assert all(m.status == "ok" and m.time_to_first_chunk is not None for m in models)
    tokens = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert all(e["mode"] == "events" and isinstance(e["data"]["chunk"], dict) for e in tokens)
    joke = "".join(
        e["data"]["chunk"]["content"]
        for e in trace.filter(include_tags=["joke"]).events
        if e["event"] == "on_chat_model_stream"
    )
    assert joke == local.result["joke"]
    assert trace.result == local.result
    # The dashboard takes the server's runs like local ones.
    snapshot = Dashboard(trace).snapshot
    assert snapshot["count"] == len(trace.events)
    assert len(snapshot["runs"]) == len(trace.runs)


def test_subgraph_parts_carry_their_namespace(server, sync_client):
    client = Tee(sync_client(server.url))
    trace = sv.watch_remote(
        client,
        None,
        "subgraphs",
        input={"foo": "foo"},
        stream_mode=["updates", "values"],
        stream_subgraphs=True,
        display=False,
    )
    assert_one_event_per_part(trace, client.parts)
    assert any(p.event.startswith("updates|node_2:") for p in client.parts)
    expected = in_process_parts(
        build_subgraph_graph(), {"foo": "foo"}, stream_mode=["updates", "values"], subgraphs=True
    )
    assert server_parts(trace) == expected
    nested = [e["name"] for e in trace.events if e.get("mode") == "updates" and e["ns"]]
    assert nested == ["subgraph_node_1", "subgraph_node_2"]
    assert trace.result == {"foo": "hi! foobar"}  # the root graph's values, not the subgraph's


def test_nested_subgraphs_are_separated_by_a_bar(server, sync_client):
    client = Tee(sync_client(server.url))
    trace = sv.watch_remote(
        client,
        None,
        "nested",
        input={"foo": "x"},
        stream_mode="updates",
        stream_subgraphs=True,
        display=False,
    )
    deepest = max(client.parts, key=lambda p: p.event.count("|"))
    mode, outer, inner = deepest.event.split("|")
    assert (mode, outer.split(":")[0], inner.split(":")[0]) == ("updates", "outer", "node_2")
    assert server_parts(trace) == in_process_parts(
        build_nested_graph(), {"foo": "x"}, stream_mode="updates", subgraphs=True
    )
    assert {without_task_ids(e["ns"]) for e in recorded_parts(trace)} == {
        (),
        ("outer",),
        ("outer", "node_2"),
    }


def test_a_stateless_run(server, sync_client):
    trace = sv.watch_remote(
        sync_client(server.url),
        None,
        "joke",
        input={"topic": "ice cream"},
        stream_mode="updates",
        display=False,
    )
    (root,) = trace.roots
    assert root.status == "ok" and root.metadata["thread_id"] is None
    assert server_parts(trace) == in_process_parts(
        build_joke_graph(), {"topic": "ice cream"}, stream_mode="updates"
    )
    assert trace.result is None  # no values part asked for


def test_a_remote_watch_writes_its_file_as_trace_save_would(server, sync_client, tmp_path):
    path, saved = tmp_path / "remote.jsonl", tmp_path / "saved.jsonl"
    trace = sv.watch_remote(
        sync_client(server.url),
        None,
        "joke",
        input={"topic": "ice cream"},
        stream_mode="updates",
        display=False,
        path=path,
    )
    trace.save(saved)
    assert len(trace) > 2
    assert path.read_bytes().split(b"\n")[1:] == saved.read_bytes().split(b"\n")[1:]


def test_joining_a_resumable_run_replays_it_from_the_start(server, sync_client):
    client = sync_client(server.url)
    thread = client.threads.create()
    run = client.runs.create(
        thread["thread_id"],
        "model_fast",
        input={"topic": "cats"},
        stream_mode=["updates", "custom", "messages-tuple"],
        stream_resumable=True,
    )
    tee = Tee(client)
    live = sv.watch_remote(
        tee, thread["thread_id"], "model_fast", join=run["run_id"], display=False
    )
    assert_one_event_per_part(live, tee.parts)
    (root,) = live.roots
    assert (root.run_id, root.name, root.status) == (run["run_id"], "model_fast", "ok")
    expected = in_process_parts(
        build_model_graph(time_to_first_token=0, token_delay=0),
        {"topic": "cats"},
        stream_mode=["updates", "custom", "messages"],
    )
    assert server_parts(live) == expected
    # After the run finished, joining again replays it whole.
    again = sv.watch_remote(client, thread["thread_id"], None, join=run["run_id"], display=False)
    assert server_parts(again) == expected
    assert again.roots[0].name == "remote run" and again.name == f"run {run['run_id']}"


# -------------------------------------------------------------------------------- errors


def test_a_server_side_error_is_an_error_run_and_nothing_captured_is_lost(server, sync_client):
    client = Tee(sync_client(server.url))
    trace = sv.watch_remote(
        client,
        None,
        "failing",
        input={"topic": "x"},
        stream_mode=["updates", "custom"],
        display=False,
    )  # no exception: the server's error is a part of the stream
    assert_one_event_per_part(trace, client.parts)
    assert [(p.event, p.data) for p in client.parts[1:]] == [
        ("custom", {"progress": "prepared"}),
        ("updates", {"prepare": {"notes": ["prepared x"]}}),
        ("custom", {"progress": "about to fail"}),
        ("error", {"error": "ValueError", "message": FAILURE_MESSAGE}),
    ]
    (root,) = trace.roots
    assert root.status == "error" and root.error == f"ValueError: {FAILURE_MESSAGE}"
    error_event = trace.events[-1]
    assert (error_event["event"], error_event["mode"]) == ("on_chain_error", "error")
    assert sum(e["event"].endswith(("_end", "_error")) for e in trace.events) == 1
    assert trace.result is None
    loaded = sv.Trace.load(io.StringIO(saved_text(trace)))
    assert loaded.roots[0].error == root.error and len(loaded.events) == len(trace.events)


def test_a_server_side_error_in_events_mode_ends_the_open_server_runs(server, sync_client):
    trace = sv.watch_remote(
        sync_client(server.url),
        None,
        "failing",
        input={"topic": "x"},
        stream_mode=["events"],
        display=False,
    )
    (root,) = trace.roots
    assert root.status == "error"
    status = {run.name: run.status for run in root.walk()}
    assert status == {"failing": "error", "prepare": "ok", "explode": "cancelled"}


def test_a_refused_request_is_recorded_then_raised(server, sync_client):
    with pytest.raises(UnprocessableEntityError) as raised:
        sv.watch_remote(sync_client(server.url), None, "no-such-graph", input={}, display=False)
    assert "streamviz: what was captured is in streamviz.last_trace()" in raised.value.__notes__
    trace = sv.last_trace()
    (root,) = trace.roots
    assert root.status == "error" and root.error.startswith("UnprocessableEntityError")
    assert "no-such-graph" in root.error


def test_a_connection_that_fails_is_recorded_then_raised():
    from streamviz.demo.server import free_port

    # The SDK's own client retries a refused connection 5 times (~8 s); the same client on an
    # httpx client that does not retry fails at once.
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{free_port()}", transport=httpx.AsyncHTTPTransport(retries=0)
    )

    async def main() -> None:
        async with LangGraphClient(http) as client:
            await sv.awatch_remote(client, None, "joke", input={"topic": "x"}, display=False)

    with pytest.raises(httpx.ConnectError):
        asyncio.run(main())
    (root,) = sv.last_trace().roots
    assert root.status == "error" and root.error.startswith("ConnectError")


def test_a_failed_connection_is_in_the_file_of_the_watch(tmp_path):
    from streamviz.demo.server import free_port

    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{free_port()}", transport=httpx.AsyncHTTPTransport(retries=0)
    )
    path = tmp_path / "refused.jsonl"

    async def main() -> None:
        async with LangGraphClient(http) as client:
            await sv.awatch_remote(client, None, "joke", display=False, path=path)

    with pytest.raises(httpx.ConnectError):
        asyncio.run(main())
    (root,) = sv.Trace.load(path).roots
    assert root.status == "error" and root.error.startswith("ConnectError")


def test_an_interrupted_stream_keeps_what_came_and_ends_the_run_cancelled(server):
    """A cell interrupted mid-stream (here: the task cancelled after a few tokens)."""
    before = sv.last_trace()

    async def main() -> sv.Trace:
        async with get_client(url=server.url) as client:
            task = asyncio.ensure_future(
                sv.awatch_remote(
                    client,
                    None,
                    "model",
                    input={"topic": "cats"},
                    stream_mode="messages-tuple",
                    display=False,
                )
            )
            while True:  # the real model graph: a token every 30 ms
                await asyncio.sleep(0.02)
                if task.done():  # an error (raised here) or a stream too short to interrupt
                    task.result()
                    pytest.fail("the stream ended before it could be interrupted")
                trace = sv.last_trace()
                if (
                    trace is not before
                    and sum(e.get("mode") == "messages" for e in trace.events) >= 3
                ):
                    break
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return trace

    trace = asyncio.run(main())
    (root,) = trace.roots
    assert root.status == "cancelled" and root.error.startswith("CancelledError")
    tokens = [e["data"]["chunk"][0]["content"] for e in trace.events if e.get("mode") == "messages"]
    assert tokens[:3] == ["Why", " did", " the"]
    assert trace.events[-1]["event"] == "on_chain_error"


# -------------------------------------------------------------------------------- secrets


def test_the_clients_api_key_appears_nowhere_in_the_trace_or_its_file(server, sync_client):
    key = "sk-test-" + uuid.uuid4().hex
    header = "header-" + uuid.uuid4().hex
    client = sync_client(server.url, api_key=key, headers={"x-request-source": header})
    thread = client.threads.create()  # debug parts then carry checkpoints with the run's config
    trace = sv.watch_remote(
        client,
        thread["thread_id"],
        "joke",
        input={"topic": "ice cream", "api_key": "sk-input-" + uuid.uuid4().hex},
        metadata={"password": "hunter2-" + uuid.uuid4().hex},
        stream_mode=["values", "updates", "debug", "events"],
        display=False,
    )
    assert trace.roots[0].status == "ok"
    in_memory = repr(list(trace.events)) + repr(trace.runs_df().to_dict())
    assert key not in in_memory
    assert header not in in_memory  # nor the client's other headers (the server sends none back)
    debug = [e["data"]["chunk"]["type"] for e in trace.events if e.get("mode") == "debug"]
    assert "checkpoint" in debug
    assert "headers" not in json.dumps(trace.roots[0].metadata)
    text = saved_text(trace)
    assert key not in text
    # A secret in the input or the run's metadata (which the server copies into every event's
    # metadata) is redacted in the file.
    assert "sk-input-" not in text and "hunter2-" not in text
    assert "[redacted]" in text


# ------------------------------------------------------------------- async and console


def test_awatch_remote_with_the_async_client(server):
    async def main() -> sv.Trace:
        async with get_client(url=server.url) as client:
            thread = await client.threads.create()
            return await sv.awatch_remote(
                client, thread["thread_id"], "joke", input={"topic": "ice cream"}, display=False
            )

    trace = asyncio.run(main())
    modes = {e["mode"] for e in recorded_parts(trace)}
    assert modes == {"metadata", "values", "updates"}  # the default modes this graph streams
    assert trace.result["joke"] == "This is a joke about ice cream and cats"


def test_in_a_console_tokens_and_parts_are_printed_as_they_come(server, capsys, sync_client):
    trace = sv.watch_remote(sync_client(server.url), None, "model_fast", input={"topic": "cats"})
    out = capsys.readouterr().out
    assert "Why| did| the| cat|" in out
    assert '\n[custom] {"progress":"writing a poem"}\n' in out
    assert "\n[updates] " in out and "\n[values] " in out
    assert out.rstrip().endswith(trace.format_tree().rstrip())


# ---------------------------------------------------------------------------- custom auth


def test_custom_auth_without_or_with_a_wrong_key_fails_clearly_and_is_recorded(
    auth_server, sync_client
):
    for key in (None, "sk-wrong-" + uuid.uuid4().hex):
        client = sync_client(auth_server.url, api_key=key)
        with pytest.raises(AuthenticationError, match="Invalid or missing API key"):
            sv.watch_remote(client, None, "joke", input={"topic": "x"}, display=False)
        trace = sv.last_trace()
        (root,) = trace.roots
        assert root.status == "error" and root.error.startswith("AuthenticationError")
        assert "Invalid or missing API key" in root.error
        assert len(trace.events) == 2  # the run it tried to start, and why it failed
        if key is not None:
            assert key not in saved_text(trace) and key not in repr(list(trace.events))


def test_custom_auth_with_the_right_key_works_and_the_key_is_not_recorded(auth_server, sync_client):
    client = sync_client(auth_server.url, api_key=API_KEY)
    thread = client.threads.create()
    trace = sv.watch_remote(
        client,
        thread["thread_id"],
        "model_fast",
        input={"topic": "cats"},
        stream_mode=["values", "messages-tuple", "debug", "events"],
        display=False,
    )
    assert trace.roots[0].status == "ok"
    assert trace.result["joke"].startswith("Why did the cat")
    assert API_KEY not in repr(list(trace.events)) and API_KEY not in saved_text(trace)
    assert [e for e in trace.events if e.get("mode") == "messages"]
    # The server knew who asked (the identity auth.py returns is in the run's config).
    assert '"langgraph_auth_user_id":"streamviz-demo-user"' in saved_text(trace)


# ------------------------------------------------------------ parts no server sends today


def test_unknown_and_odd_parts_are_recorded_never_dropped_nor_raised(caplog):
    trace = sv.Trace()
    parts = RemoteParts(trace, "agent")
    parts.record(StreamPart("metadata", {"run_id": "r1", "attempt": 1}))
    parts.record(StreamPart("end", {"run_id": "r1", "status": "success"}))  # older servers
    parts.record(StreamPart("feedback|sub:1", {"a": 1}))
    parts.record(StreamPart("events", {"not": "an event"}))
    assert parts.record(object()) is None  # not a part at all: logged
    parts.finish()
    kinds = [(e["event"], e.get("mode"), e.get("ns")) for e in trace.events]
    assert kinds == [
        ("on_chain_start", None, None),
        ("on_graph_metadata", "metadata", []),
        ("on_graph_end_part", "end", []),  # not read as the end of a run
        ("on_graph_feedback", "feedback", ["sub:1"]),
        ("on_graph_events", "events", []),
        ("on_chain_end", None, None),
    ]
    assert list(trace.runs) == ["r1"] and trace.roots[0].status == "ok"
    assert "streamviz remote part" in caplog.text


def test_an_empty_stream_still_shows_a_run():
    trace = sv.Trace()
    parts = RemoteParts(trace, "agent", thread_id="t", run_id="r2")
    parts.finish()
    (root,) = trace.roots
    assert (root.run_id, root.status, root.output) == ("r2", "ok", None)


def test_the_notebooks_local_server_serves_the_example_graphs():
    from langgraph_sdk import get_sync_client

    from streamviz.demo.server import local_server

    with local_server() as server:
        client = get_sync_client(url=server.url)
        trace = sv.watch_remote(
            client, None, "joke", input={"topic": "ice cream"}, stream_mode="updates",
            display=False,
        )  # fmt: skip
        group = server.process.pid
    updates = [e["data"]["chunk"] for e in trace.events if e.get("mode") == "updates"]
    assert updates == [
        {"refine_topic": {"topic": "ice cream and cats"}},
        {"generate_joke": {"joke": "This is a joke about ice cream and cats"}},
    ]
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # the whole process group is gone


def test_a_remote_trace_keeps_streamed_tokens_compact(server, sync_client):
    client = sync_client(server.url)

    def watch(n_tokens: int) -> sv.Trace:
        modes = ["messages-tuple", "events"]
        inputs = {"n_tokens": n_tokens}
        return sv.watch_remote(
            client, None, "bench", input=inputs, stream_mode=modes, display=False
        )

    watch(10)  # the first run imports and connects what is kept for good: not the trace
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        trace = watch(5_000)
        gc.collect()
        per_event = (tracemalloc.get_traced_memory()[0] - before) / len(trace)
    finally:
        tracemalloc.stop()
    assert per_event <= 150
    parts = [e for e in trace.events if e["event"] == "on_graph_messages"]
    tokens = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert len(parts) == len(tokens) == 5_001
    message, metadata = parts[1]["data"]["chunk"]
    assert message == tokens[1]["data"]["chunk"] and message["content"]
    assert metadata["langgraph_node"] == "call_model"


def test_stream_stats_of_a_server_run_by_server_time_and_by_arrival(server, sync_client, tmp_path):
    """A resumable run's parts say when the server sent them: both clocks see the one stall."""
    # Without stream_resumable the server sends no ids: no server time; the arrival stats stay.
    # (This run also warms the graph up: a cold first call sends its first tokens in a burst.)
    plain = sv.watch_remote(
        sync_client(server.url), None, "stalling", input={"question": "anything"},
        stream_mode=["events"], display=False,
    )  # fmt: skip
    assert not any("server_t" in e for e in plain.events)
    assert plain.stream_stats(clock="server").empty
    assert plain.stream_stats().query("run_type == 'chat_model'")["chunks"].tolist() == [61]
    trace = sv.watch_remote(
        sync_client(server.url),
        None,
        "stalling",
        input={"question": "anything"},
        stream_mode=["events"],
        stream_resumable=True,
        display=False,
    )
    (model,) = [run for run in trace.runs.values() if run.run_type == "chat_model"]
    arrival = trace.stream_stats().set_index("run_id").loc[model.run_id]
    sent = trace.stream_stats(clock="server").set_index("run_id").loc[model.run_id]
    assert arrival["chunks"] == sent["chunks"] == model.chunk_count == 61
    # The scripted pause (0.6 s after chunk 40) is a stall by either clock. A busy machine may
    # add a long gap elsewhere (a stall too), so only the scripted one is asserted, and only
    # what the pause guarantees: at least its length (the server's ids count whole ms).
    query = "run_id == @model.run_id and after_chunk == 40"
    (stall_arrival,) = trace.stalls().query(query).itertuples()
    (stall_sent,) = trace.stalls(clock="server").query(query).itertuples()
    assert stall_sent.gap >= 0.6 - 0.002 and stall_arrival.gap > 0.25
    assert arrival["stalls"] >= 1 and sent["stalls"] >= 1
    # Every token arrived after the server sent it (its id counts whole milliseconds).
    tokens = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert all(e["t"] - e["server_t"] > -0.002 for e in tokens)
    assert sent["first_chunk"] <= arrival["first_chunk"] + 0.002
    # server_t is an additive field: a saved file gives the same figures back.
    trace.save(tmp_path / "server.jsonl")
    loaded = sv.Trace.load(tmp_path / "server.jsonl")
    assert loaded.stream_stats(clock="server").equals(trace.stream_stats(clock="server"))

"""``sv.from_sse``: a LangGraph server's raw stream (``curl -N``, the JS SDK's chunks) as a Trace.

The parser is held to the event-stream grammar on hand-written streams (CRLF, CR, comments,
multi-line data, a BOM, a cut-off last event, ids kept from block to block) and to its errors
(each names the line). Against a real ``langgraph dev`` server, the same request is streamed
three ways: ``sv.watch_remote`` with the Python SDK, real ``curl -N`` (its output written to a
file) and node with ``@langchain/langgraph-sdk`` printing each chunk as a JSON line. The two raw
forms, read by ``sv.from_sse``, give the SDK form's events: what is compared is every key of
every event except those the server or the client's clock assign per run (``t``, ``seq``,
``thread``, ``server_t``), with every UUID (run, thread, task, checkpoint, message ids) masked,
and the debug parts' ``timestamp`` and ``__request_start_time_ms__`` masked; events are compared
mode by mode in order (the server interleaves modes differently from run to run when tokens come
with no delay), and the run trees by name, type, status and parent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import missing
from langgraph_sdk import get_sync_client
from langgraph_server import LangGraphServer

import streamviz as sv
from streamviz._serialization import to_json
from streamviz.demo.server import cli_path

REPO = Path(__file__).resolve().parents[1]
JS_MODULES = REPO / "js" / "node_modules"

CRLF_STREAM = (
    "event: metadata\r\n"
    'data: {"run_id":"r-1","attempt":1}\r\n'
    "\r\n"
    ": a comment the server may send to keep the connection open\r\n"
    "event: updates\r\n"
    'data: {"refine_topic":{"topic":"ice cream and cats"}}\r\n'
    "\r\n"
    "event: values\r\n"
    'data: {"topic":\r\n'
    'data: "ice cream and cats"}\r\n'
    "\r\n"
)


def _root(trace: sv.Trace) -> sv.Run:
    (root,) = trace.roots
    return root


# ------------------------------------------------------------------------- the grammar
def test_crlf_comments_and_multiline_data():
    trace = sv.from_sse(CRLF_STREAM, request={"assistant_id": "joke", "input": {"topic": "ice"}})
    assert [e["event"] for e in trace.events] == [
        "on_chain_start",
        "on_graph_metadata",
        "on_graph_updates",
        "on_graph_values",
        "on_chain_end",
    ]
    root = _root(trace)
    assert (root.name, root.run_id, root.status, root.input) == (
        "joke",
        "r-1",
        "ok",
        {"topic": "ice"},
    )
    assert trace.result == {"topic": "ice cream and cats"}  # two data lines joined by "\n"
    assert trace.events[2]["name"] == "refine_topic"


def test_cr_only_lf_only_bom_and_bytes_read_alike():
    expected = [e["event"] for e in sv.from_sse(CRLF_STREAM).events]
    for variant in (
        CRLF_STREAM.replace("\r\n", "\n"),
        CRLF_STREAM.replace("\r\n", "\r"),
        "\ufeff" + CRLF_STREAM,
        CRLF_STREAM.encode(),
        CRLF_STREAM.splitlines(keepends=True),
    ):
        assert [e["event"] for e in sv.from_sse(variant).events] == expected


def test_file_path_and_open_file(tmp_path):
    path = tmp_path / "run.sse"
    path.write_bytes(CRLF_STREAM.encode())
    assert len(sv.from_sse(path).events) == len(sv.from_sse(str(path)).events) == 5
    with path.open("rb") as stream:
        assert len(sv.from_sse(stream).events) == 5


def test_cut_off_last_event_is_kept_and_ids_carry_over():
    stream = (
        'event: metadata\ndata: {"run_id":"r-2","attempt":1}\nid: 1796620412712-0\n\n'
        'event: updates\ndata: {"a":{"x":1}}\n\n'  # no id line: the last id goes on
        'event: updates\ndata: {"b":{"x":2}}\nid: 1796620413712-0'  # no blank line at the end
    )
    trace = sv.from_sse(stream)
    updates = [e for e in trace.events if e.get("mode") == "updates"]
    assert [e["name"] for e in updates] == ["a", "b"]
    assert [e["server_t"] for e in updates] == [0.0, 1.0]  # seconds since the first part
    assert [e["t"] for e in trace.events] == [0.0, 0.0, 0.0, 1.0, 1.0]  # on the server's clock


def test_subgraph_namespaces_error_and_end_parts():
    stream = (
        'event: metadata\ndata: {"run_id":"r-3","attempt":1}\n\n'
        'event: updates|outer:t1|node_2:t2\ndata: {"inner":{"x":1}}\n\n'
        'event: error\ndata: {"error":"ValueError","message":"explode failed on purpose"}\n\n'
    )
    trace = sv.from_sse(stream, assistant_id="nested")
    part = next(e for e in trace.events if e.get("mode") == "updates")
    assert (part["name"], part["ns"]) == ("inner", ["outer:t1", "node_2:t2"])
    root = _root(trace)
    assert root.status == "error" and "explode failed on purpose" in str(root.error)


def test_response_head_names_the_run_and_thread():
    stream = (
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        "content-location: /threads/th-1/runs/r-9\r\n\r\n" + CRLF_STREAM.replace("r-1", "r-9")
    )
    trace = sv.from_sse(stream)
    root = _root(trace)
    assert root.run_id == "r-9" and root.metadata["thread_id"] == "th-1"


def test_json_lines_form():
    lines = [
        json.dumps({"id": "1796620577216-0", "event": "metadata", "data": {"run_id": "r-4"}}),
        json.dumps({"event": "updates", "data": {"node_1": {"foo": "hi! foo"}}}),
        "",
        json.dumps({"event": "values", "data": {"foo": "hi! foo"}}),
    ]
    trace = sv.from_sse("\n".join(lines) + "\n", assistant_id="subgraphs")
    assert [e.get("mode") for e in trace.events] == [None, "metadata", "updates", "values", None]
    assert _root(trace).run_id == "r-4" and trace.result == {"foo": "hi! foo"}


@pytest.mark.parametrize(
    ("stream", "line", "says"),
    [
        (
            'event: metadata\ndata: {"run_id": "r"}\n\nevent: updates\ndata: {nope\n\n',
            5,
            "not JSON",
        ),
        (
            'event: metadata\ndata: {"run_id": "r"}\n\nhello there\n',
            4,
            "not a server-sent event line",
        ),
        ('event: metadata\ndata: {"run_id": "r"}\n\ndata: {"x": 1}\n\n', 4, "without an 'event:'"),
        (
            'event: metadata\r\ndata: {"run_id": "r"}\r\n\r\nevent: x\r\ndata: [1,\r\n\r\n',
            5,
            "not JSON",
        ),
        (
            '{"event": "metadata", "data": {}}\n{"event": "updates", "data": \n',
            2,
            "not a JSON line",
        ),
        ('{"event": "metadata", "data": {}}\n[1, 2]\n', 2, "object with a string 'event'"),
    ],
)
def test_malformed_streams_name_the_line(stream, line, says):
    with pytest.raises(sv.TraceFileError) as caught:
        sv.from_sse(stream)
    assert caught.value.line == line and says in str(caught.value)
    assert f"line {line}:" in str(caught.value)


def test_malformed_file_names_file_and_line(tmp_path):
    path = tmp_path / "cut.sse"
    path.write_text('event: metadata\ndata: {"run_id": "r"}\n\nevent: updates\ndata: {"a": \n')
    with pytest.raises(sv.TraceFileError, match=r"cut\.sse, line 5: the data of event 'updates'"):
        sv.from_sse(path)


@pytest.mark.parametrize("empty", ["", "\n\n", ": only a comment\n\n"])
def test_empty_streams_are_refused(empty):
    with pytest.raises(sv.TraceFileError, match="no server-sent events"):
        sv.from_sse(empty)


def test_secrets_in_a_stream_stay_out_of_saved_files(tmp_path):
    secret = "sk-" + "a1B2c3D4e5F6g7H8i9J0k1L2"
    stream = (
        'event: metadata\ndata: {"run_id": "r-5"}\n\n'
        f'event: custom\ndata: {{"api_key": "{secret}", "note": "Bearer {secret}"}}\n\n'
    )
    trace = sv.from_sse(stream, request={"assistant_id": "a", "input": {"password": "hunter2x"}})
    for suffix in ("jsonl", "parquet"):
        path = tmp_path / f"run.{suffix}"
        trace.save(path)
        blob = path.read_bytes()
        assert secret.encode() not in blob and b"hunter2x" not in blob


# -------------------------------------------------------------------- a real server
@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LangGraphServer]:
    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("sse") / "app", name="sse")
    try:
        yield server
    finally:
        server.stop()


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PER_RUN = ("t", "seq", "thread", "server_t")


def comparable(trace: sv.Trace) -> dict[str, list[str]]:
    """Each mode's events in order (root run events under ``None``), as masked JSON text."""
    by_mode: dict[str, list[str]] = {}
    for event in trace.events:
        kept = {key: value for key, value in event.items() if key not in PER_RUN}
        text = UUID.sub("<id>", json.dumps(to_json(kept), sort_keys=True))
        text = re.sub(r'"timestamp": "[^"]*"', '"timestamp": "<time>"', text)
        text = re.sub(r'"__request_start_time_ms__": \d+', '"__request_start_time_ms__": 0', text)
        by_mode.setdefault(str(event.get("mode")), []).append(text)
    return by_mode


def tree(trace: sv.Trace) -> list[tuple[Any, ...]]:
    return sorted(
        (run.name, run.run_type, run.status, run.parent.name if run.parent else None)
        for run in trace.runs.values()
    )


BODIES = {
    "updates": {"assistant_id": "joke", "input": {"topic": "ice cream"}, "stream_mode": "updates"},
    "values": {"assistant_id": "joke", "input": {"topic": "ice cream"}, "stream_mode": "values"},
    "messages-tuple": {
        "assistant_id": "model_fast",
        "input": {"topic": "ice cream and cats"},
        "stream_mode": "messages-tuple",
    },
    "custom": {"assistant_id": "model_fast", "input": {"topic": "cats"}, "stream_mode": "custom"},
    "debug": {"assistant_id": "joke", "input": {"topic": "ice cream"}, "stream_mode": "debug"},
    "events": {"assistant_id": "model_fast", "input": {"topic": "cats"}, "stream_mode": "events"},
    "subgraphs": {
        "assistant_id": "nested",
        "input": {"foo": "foo"},
        "stream_subgraphs": True,
        "stream_mode": ["updates", "values"],
    },
    "all": {
        "assistant_id": "model_fast",
        "input": {"topic": "cats"},
        "stream_mode": ["values", "updates", "messages-tuple", "custom", "debug", "events"],
    },
    "failing": {"assistant_id": "failing", "input": {"topic": "x"}, "stream_mode": "updates"},
}


def sdk_trace(
    server: LangGraphServer, body: dict[str, Any], **options: Any
) -> tuple[sv.Trace, str]:
    client = get_sync_client(url=server.url)
    try:
        thread_id = client.threads.create()["thread_id"]
        trace = sv.watch_remote(
            client,
            thread_id,
            body["assistant_id"],
            input=body["input"],
            stream_mode=body["stream_mode"],
            stream_subgraphs=body.get("stream_subgraphs", False),
            display=False,
            **options,
        )
        return trace, client.threads.create()["thread_id"]  # a fresh thread for the other form
    finally:
        client.close()


def curl(*args: str) -> bytes:
    if shutil.which("curl") is None:
        missing("curl is missing (apt-get install curl; .ci/run installs it)")
    return subprocess.run(["curl", "-sS", *args], check=True, capture_output=True).stdout


@pytest.mark.parametrize("case", list(BODIES))
def test_curl_stream_reads_as_the_sdk_watch(server, tmp_path, case):
    body = BODIES[case]
    expected, thread_id = sdk_trace(server, body)
    raw = tmp_path / f"{case}.sse"
    raw.write_bytes(
        curl(
            "-N",
            "--request", "POST",
            "--url", f"{server.url}/threads/{thread_id}/runs/stream",
            "--header", "Content-Type: application/json",
            "--data", json.dumps(body),
        )
    )  # fmt: skip
    trace = sv.from_sse(raw, request=body, thread_id=thread_id)
    assert comparable(trace) == comparable(expected)
    assert tree(trace) == tree(expected)
    assert len(trace.events) == len(expected.events)
    assert trace.result == expected.result
    if case == "failing":
        assert [root.status for root in trace.roots] == ["error"]


def test_resumable_stream_is_on_the_server_clock(server, tmp_path):
    body = {**BODIES["messages-tuple"], "stream_resumable": True}
    expected, thread_id = sdk_trace(server, BODIES["messages-tuple"], stream_resumable=True)
    raw = curl(
        "-N",
        "--request", "POST",
        "--url", f"{server.url}/threads/{thread_id}/runs/stream",
        "--header", "Content-Type: application/json",
        "--data", json.dumps(body),
    )  # fmt: skip
    assert b"\nid: " in raw
    trace = sv.from_sse(raw, request=body, thread_id=thread_id)
    assert comparable(trace) == comparable(expected)
    times = [event["t"] for event in trace.events]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] > 0
    parts = [event for event in trace.events if "server_t" in event]
    assert len(parts) == len(trace.events) - 2  # all but the root's start and end
    assert all(event["t"] == event["server_t"] for event in parts)
    assert trace.duration == times[-1]


def test_curl_include_headers_gives_run_and_thread(server):
    body = BODIES["updates"]
    json_header = ("--header", "Content-Type: application/json")
    made = curl("--request", "POST", "--url", f"{server.url}/threads", *json_header, "--data", "{}")
    thread_id = json.loads(made)["thread_id"]
    url = f"{server.url}/threads/{thread_id}/runs/stream"
    raw = curl(
        "-N", "-i", "--request", "POST", "--url", url, *json_header, "--data", json.dumps(body)
    )
    trace = sv.from_sse(raw, request=body)
    root = _root(trace)
    assert root.metadata["thread_id"] == thread_id
    metadata_part = next(e for e in trace.events if e.get("mode") == "metadata")
    assert root.run_id == metadata_part["data"]["chunk"]["run_id"]


JS_STREAM = """
import { Client } from "@langchain/langgraph-sdk";
const [url, threadID, body] = process.argv.slice(2);
const { assistant_id, input, stream_mode, stream_subgraphs } = JSON.parse(body);
const client = new Client({ apiUrl: url });
const streamResponse = client.runs.stream(threadID, assistant_id, {
  input, streamMode: stream_mode, streamSubgraphs: stream_subgraphs ?? false,
});
for await (const chunk of streamResponse) {
  console.log(JSON.stringify(chunk));
}
"""


@pytest.mark.parametrize("case", ["updates", "messages-tuple", "subgraphs", "failing"])
def test_js_sdk_chunks_read_as_the_sdk_watch(server, tmp_path, case):
    if shutil.which("node") is None or not (JS_MODULES / "@langchain" / "langgraph-sdk").is_dir():
        missing("node or js/node_modules/@langchain/langgraph-sdk is missing: cd js && npm ci")
    (tmp_path / "node_modules").symlink_to(JS_MODULES)
    script = tmp_path / "stream.mjs"
    script.write_text(JS_STREAM)
    body = BODIES[case]
    expected, thread_id = sdk_trace(server, body)
    printed = subprocess.run(
        ["node", str(script), server.url, thread_id, json.dumps(body)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    trace = sv.from_sse(printed, request=body, thread_id=thread_id)
    assert comparable(trace) == comparable(expected)
    assert tree(trace) == tree(expected)

"""A trace exported to OpenTelemetry: spans, their tree, times, statuses and token events.

The spans are checked as the OpenTelemetry SDK's own in-memory exporter receives them, as the
OTLP/JSON file holds them, and as a real Arize Phoenix server stores them (sent over OTLP/HTTP,
read back through Phoenix's client API): the same tree, names, times, kinds, models, token
counts and streamed tokens as the trace itself says, and no secret anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from examples import ASYNC_ONLY, EXAMPLES, parrot_chain
from helpers import eventually, missing
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver

import streamviz as sv
from streamviz import _otel_names as names
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_approval_graph, subgraph_graph, tool_agent_graph
from streamviz.events import split_event

try:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode
except ImportError:  # pragma: no cover - the test extra installs it
    missing("the OpenTelemetry SDK is not installed (pip install 'streamviz[otel]')", module=True)

from streamviz.otel import OtelExportError, to_otel, write_otlp_json

# ------------------------------------------------------------------------------ expectations


def _ns(trace: sv.Trace, t: float) -> int:
    """A trace time as Unix nanoseconds: the trace's creation time plus ``t``."""
    created = trace.created
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    delta = created - epoch
    return (
        (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000 + round(t * 1e9)
    )


def _token_text(chunk: Any) -> str | None:
    if isinstance(chunk, str):
        return chunk
    content = getattr(chunk, "content", None)
    return content if isinstance(content, str) else None


def expected_spans(trace: sv.Trace) -> dict[str, dict[str, Any]]:
    """What each run's span must say, by run id, read from the trace alone."""
    tokens: dict[str, list[tuple[int, str | None]]] = {}
    for event in trace.events:
        split = split_event(event["event"]) if event["event"] != "on_custom_event" else None
        if split is not None and split[1] == "stream":
            chunk = event["data"].get("chunk")
            tokens.setdefault(event["run_id"], []).append(
                (_ns(trace, event["t"]), _token_text(chunk))
            )
    usage = trace.usage().set_index("run_id")
    rows = {}
    for run in trace.runs.values():
        row = {
            "span_id": uuid.UUID(run.run_id).hex[16:],
            "parent": None if run.parent_id is None else uuid.UUID(run.parent_id).hex[16:],
            "name": run.name,
            "kind": names.SPAN_KINDS.get(run.run_type, "CHAIN"),
            "start": _ns(trace, run.start),
            "end": _ns(trace, run.end if run.end is not None else trace.duration),
            "status": run.status,
            "code": {"ok": "OK", "error": "ERROR", "cancelled": "ERROR"}.get(run.status, "UNSET"),
            "tokens": tokens.get(run.run_id, []),
        }
        if run.run_type == "chat_model":
            counted = run.run_id in usage.index and usage.loc[run.run_id, "calls"] > 0
            reported = usage.loc[run.run_id, "model"] if counted else None
            row["model"] = reported if isinstance(reported, str) else run.metadata["ls_model_name"]
            row["counts"] = tuple(
                int(usage.loc[run.run_id, key]) if counted else None
                for key in ("input_tokens", "output_tokens", "total_tokens")
            )
        rows[run.run_id] = row
    return rows


def sdk_rows(spans: list[Any]) -> dict[str, dict[str, Any]]:
    """The same facts read from OpenTelemetry SDK spans (what an exporter receives)."""
    rows = {}
    for span in spans:
        attributes = dict(span.attributes)
        row = {
            "span_id": f"{span.context.span_id:016x}",
            "parent": None if span.parent is None else f"{span.parent.span_id:016x}",
            "name": span.name,
            "kind": attributes[names.SPAN_KIND],
            "start": span.start_time,
            "end": span.end_time,
            "status": attributes[names.STATUS],
            "code": span.status.status_code.name,
            "tokens": [
                (event.timestamp, event.attributes.get(names.CHUNK_TEXT))
                for event in span.events
                if event.name == names.STREAM_EVENT
            ],
        }
        if attributes.get(names.RUN_TYPE) == "chat_model":
            row["model"] = attributes.get(names.MODEL_NAME)
            row["counts"] = tuple(
                attributes.get(key)
                for key in (
                    names.TOKEN_COUNT_PROMPT,
                    names.TOKEN_COUNT_COMPLETION,
                    names.TOKEN_COUNT_TOTAL,
                )
            )
        rows[attributes[names.RUN_ID]] = row
    return rows


def exported(trace: sv.Trace, **options: Any) -> list[Any]:
    exporter = InMemorySpanExporter()
    to_otel(trace, exporter, **options)
    return list(exporter.get_finished_spans())


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


def capture(example: str) -> sv.Trace:
    """One guide example, streamed and captured (its own errors are part of it)."""
    runnable, value = EXAMPLES[example]()
    with sv.capture(name=example) as trace, contextlib.suppress(Exception):
        if example in ASYNC_ONLY:
            asyncio.run(_drain(runnable.astream(value)))
        else:
            for _ in runnable.stream(value):
                pass
    return trace


def graph_traces() -> list[sv.Trace]:
    """A LangGraph agent with tool calls, and a graph with a subgraph, streamed in-process."""
    agent = sv.watch(
        tool_agent_graph,
        {"messages": [("user", "what is the weather and the time in Paris?")]},
        stream_mode=["updates", "messages"],
        display=False,
    )
    nested = sv.watch(
        subgraph_graph, {"foo": "x"}, stream_mode="updates", subgraphs=True, display=False
    )
    return [agent, nested]


# ------------------------------------------------------------------------------ the spans


def test_each_run_is_one_span_with_its_parent_times_kind_model_counts_and_tokens():
    trace = capture("prompt|model|parser")
    spans = exported(trace)

    expected = expected_spans(trace)
    assert sdk_rows(spans) == expected
    model = next(row for row in expected.values() if row["kind"] == "LLM")
    assert model["model"] == "demo-chat" and model["counts"][2] > 0
    # every token, in order, at the time it was captured: together they are the answer
    assert "".join(text for _, text in model["tokens"]) == trace.roots[0].output
    assert len(model["tokens"]) == trace.runs[next(iter(expected))].children[1].chunk_count
    root = next(span for span in spans if span.parent is None)
    assert f"{root.context.trace_id:032x}" == uuid.UUID(trace.roots[0].run_id).hex
    assert {span.context.trace_id for span in spans} == {root.context.trace_id}
    assert all(span.status.status_code is StatusCode.OK for span in spans)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_guide_example_exports_its_tree_times_and_tokens(example):
    trace = capture(example)
    assert sdk_rows(exported(trace)) == expected_spans(trace)


def test_a_graph_with_tool_calls_and_a_subgraph_exports_its_tree():
    for trace in graph_traces():
        rows = sdk_rows(exported(trace))
        assert rows == expected_spans(trace)
        assert len(rows) == len(trace.runs) > 3
    agent = sdk_rows(exported(graph_traces()[0]))
    assert {row["kind"] for row in agent.values()} >= {"LLM", "TOOL", "CHAIN"}


def test_each_chunk_is_written_as_a_trace_file_writes_it():
    """Tokens are encoded once per shape (not per event): the same JSON text as one by one."""
    from streamviz._serialization import to_json

    checked = 0
    for trace in [capture("prompt|model|parser"), capture("RunnableParallel"), *graph_traces()]:
        by_seq = {
            event.attributes[names.SEQ]: event.attributes[names.CHUNK]
            for span in exported(trace)
            for event in span.events
            if event.name == names.STREAM_EVENT
        }
        streamed = [e for e in trace.events if e["event"].endswith("_stream")]
        assert sorted(by_seq) == [event["seq"] for event in streamed]
        checked += len(streamed)
        for event in streamed:
            chunk = to_json(event["data"]["chunk"])
            assert json.loads(by_seq[event["seq"]]) == chunk
            assert by_seq[event["seq"]] == json.dumps(
                chunk, ensure_ascii=False, separators=(",", ":")
            )
    assert checked > 100


def test_the_cap_keeps_the_first_chunks_and_says_how_many_were_dropped():
    trace = capture("prompt|model|parser")
    (model,) = [run for run in trace.runs.values() if run.run_type == "chat_model"]
    assert model.chunk_count > 5
    exporter = InMemorySpanExporter()
    summary = to_otel(trace, exporter, max_events_per_span=5)

    by_run = {span.attributes[names.RUN_ID]: span for span in exporter.get_finished_spans()}
    span = by_run[model.run_id]
    all_tokens = expected_spans(trace)[model.run_id]["tokens"]
    assert sdk_rows([span])[model.run_id]["tokens"] == all_tokens[:5]
    assert span.attributes[names.DROPPED_CHUNKS] == model.chunk_count - 5
    counts = [run.chunk_count for run in trace.runs.values()]
    assert (summary.events, summary.dropped_chunks) == (
        sum(min(count, 5) for count in counts),
        sum(max(count - 5, 0) for count in counts),
    )
    for run in trace.runs.values():  # the prompt streams nothing: nothing said
        assert by_run[run.run_id].attributes.get(names.DROPPED_CHUNKS, 0) == max(
            run.chunk_count - 5, 0
        )
    # None: no cap
    assert to_otel(trace, InMemorySpanExporter(), max_events_per_span=None).dropped_chunks == 0


def test_an_error_is_an_error_status_with_an_exception_event():
    trace = capture("error mid-stream")
    spans = {span.name: span for span in exported(trace)}

    failed = spans["_explode_after_three"]
    run = next(run for run in trace.runs.values() if run.name == "_explode_after_three")
    assert run.status == "error"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == run.error
    (exception,) = [event for event in failed.events if event.name == "exception"]
    kind, message = run.error.split(": ", 1)
    assert exception.attributes["exception.type"] == kind
    assert exception.attributes["exception.message"] == message
    assert exception.timestamp == failed.end_time
    assert failed.attributes[names.STATUS] == "error"
    assert names.OUTPUT_VALUE not in failed.attributes


def test_an_interrupted_graph_is_not_an_error():
    graph = build_approval_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "otel-1"}}
    trace = sv.watch(graph, {"topic": "cats"}, config, display=False)
    spans = {span.name: span for span in exported(trace)}

    assert trace.roots[0].status == "interrupted"
    for name in ("approval", "review"):
        assert spans[name].status.status_code is StatusCode.UNSET
        assert spans[name].attributes[names.STATUS] == "interrupted"
        assert not [event for event in spans[name].events if event.name == "exception"]
    assert spans["approval"].attributes[names.THREAD] == "otel-1"
    assert spans["draft"].status.status_code is StatusCode.OK


def test_a_run_still_running_ends_at_the_last_event():
    whole = capture("prompt|model|parser")
    events = [event for event in whole.events if event["event"] != "on_chain_end"]
    trace = sv.Trace.from_events(events)
    trace.created = whole.created
    (root,) = [span for span in exported(trace) if span.parent is None]

    assert trace.roots[0].status == "running"
    assert root.attributes[names.STATUS] == "running"
    assert root.status.status_code is StatusCode.UNSET
    assert root.end_time == _ns(trace, events[-1]["t"])
    assert names.OUTPUT_VALUE not in root.attributes


@pytest.fixture(scope="module")
def langgraph_server(tmp_path_factory) -> Iterator[Any]:
    """``langgraph dev`` on the example graphs, for this module."""
    from langgraph_server import LangGraphServer

    from streamviz.demo.server import cli_path

    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("otel") / "app", name="otel-export")
    try:
        yield server
    finally:
        server.stop()


def test_a_server_runs_streamed_messages_are_its_span_events(langgraph_server):
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=langgraph_server.url)
    try:
        trace = sv.watch_remote(
            client,
            None,
            "model_fast",
            input={"topic": "cats"},
            stream_mode="messages-tuple",
            display=False,
        )
    finally:
        client.close()
    parts = [event for event in trace.events if event["event"] == "on_graph_messages"]
    assert len(trace.runs) == 1 and len(parts) > 20  # the server's tokens: all the trace has
    (span,) = exported(trace)

    tokens = [event for event in span.events if event.name == names.STREAM_EVENT]
    assert [(e.timestamp, e.attributes[names.CHUNK_TEXT]) for e in tokens] == [
        (_ns(trace, part["t"]), part["data"]["chunk"][0]["content"]) for part in parts
    ]
    assert [e.attributes[names.SEQ] for e in tokens] == [part["seq"] for part in parts]
    assert [json.loads(e.attributes[names.CHUNK]) for e in tokens] == [
        part["data"]["chunk"][0] for part in parts
    ]  # the message chunk as the server sent it, without the part's metadata
    assert json.loads(tokens[0].attributes[names.CHUNK])["type"] == "AIMessageChunk"


# ------------------------------------------------------------------------------ the file


def test_the_otlp_json_file_is_one_request_per_trace_with_hex_ids_and_nanosecond_strings(
    tmp_path,
):
    trace = capture("prompt|model|parser")
    spans = exported(trace)
    path = tmp_path / "spans.jsonl"
    summary = write_otlp_json(trace, path)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 == len(summary.trace_ids)
    request = json.loads(lines[0])
    (resource_spans,) = request["resourceSpans"]
    (scope_spans,) = resource_spans["scopeSpans"]
    assert scope_spans["scope"]["name"] == "streamviz"
    in_file = {span["spanId"]: span for span in scope_spans["spans"]}
    assert len(in_file) == len(spans) == summary.spans
    for span in spans:
        written = in_file[f"{span.context.span_id:016x}"]
        assert written["traceId"] == f"{span.context.trace_id:032x}" == summary.trace_ids[0]
        assert written.get("parentSpanId") == (
            None if span.parent is None else f"{span.parent.span_id:016x}"
        )
        assert written["name"] == span.name
        assert written["startTimeUnixNano"] == str(span.start_time)
        assert written["endTimeUnixNano"] == str(span.end_time)
        assert written["status"].get("code", 0) == span.status.status_code.value
        tokens = [e for e in written.get("events", ()) if e["name"] == names.STREAM_EVENT]
        assert [int(e["timeUnixNano"]) for e in tokens] == [
            event.timestamp for event in span.events if event.name == names.STREAM_EVENT
        ]
    # two root runs in one trace: two OpenTelemetry traces, two lines
    with sv.capture() as both:
        parrot_chain().invoke({"topic": "parrot"})
        parrot_chain().invoke({"topic": "sky"})
    assert write_otlp_json(both, path).trace_ids == [
        uuid.UUID(root.run_id).hex for root in both.roots
    ]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def _protobuf_json(spans: list[Any]) -> list[dict[str, Any]]:
    """The OTLP exporter's own encoding of the spans via protobuf's JSON mapping, ids in hex."""
    import base64

    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    def hex_ids(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: base64.b64decode(item).hex()
                if key in ("traceId", "spanId", "parentSpanId")
                else hex_ids(item)
                for key, item in value.items()
            }
        return [hex_ids(item) for item in value] if isinstance(value, list) else value

    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    return [
        hex_ids(MessageToDict(encode_spans(group), use_integers_for_enums=True))
        for group in by_trace.values()
    ]


def test_the_otlp_json_is_what_the_exporters_protobuf_encoder_makes_of_the_spans():
    from streamviz.otel import otlp_json_requests

    approval = sv.watch(
        build_approval_graph(InMemorySaver()),
        {"topic": "cats"},
        {"configurable": {"thread_id": "otel-2"}},
        display=False,
    )
    traces = [capture("prompt|model|parser"), capture("error mid-stream"), approval]
    for trace in [*traces, *graph_traces(), secret_trace()]:
        spans = exported(trace)
        assert otlp_json_requests(spans) == _protobuf_json(spans)


# ------------------------------------------------------------------------------ secrets

SECRET_KEY = "sk-" + "Zq7" * 8  # an API-key-shaped token
BEARER = "Bearer " + "eyJ" + "x9Y" * 8
PASSWORD = "hunter2-" + "W" * 12


def _leaky(value: str) -> str:
    raise ValueError(f"could not call the API with api_key={PASSWORD} ({SECRET_KEY})")


def secret_trace() -> sv.Trace:
    """Secrets in inputs, metadata, tags, a run name, streamed tokens and an error message."""
    model = DemoChatModel(
        time_to_first_token=0, token_delay=0, responses=[f"your key is {SECRET_KEY} , keep it"]
    )
    chain = ChatPromptTemplate.from_template("{question}") | model | StrOutputParser()
    config = {
        "metadata": {"openai_api_key": "plain-metadata-value-0451", "note": BEARER},
        "tags": [f"password={PASSWORD}"],
        "run_name": f"chain {SECRET_KEY}",
    }
    with sv.capture() as trace:
        chain.invoke(
            {"question": f"Authorization: {BEARER}", "api_key": "plain-input-7781"}, config
        )
        with contextlib.suppress(ValueError):
            RunnableLambda(_leaky).invoke("x")
    return trace


PLANTED = (SECRET_KEY, BEARER.split()[1], PASSWORD, "plain-metadata-value-0451", "plain-input-7781")


def test_no_secret_reaches_the_spans_or_the_file(tmp_path):
    trace = secret_trace()
    raw = json.dumps([event for event in trace.events], default=repr)
    assert all(secret in raw for secret in PLANTED)  # the trace holds them all

    path = tmp_path / "spans.jsonl"
    write_otlp_json(trace, path)
    text = path.read_text(encoding="utf-8")
    spans = exported(trace)
    seen = text + repr([(s.name, dict(s.attributes), [dict(e.attributes) for e in s.events],
                         s.status.description) for s in spans])  # fmt: skip
    assert [secret for secret in PLANTED if secret in seen] == []
    assert "[redacted]" in text and "your key is" in text


# ------------------------------------------------------------------------------ malformed


def test_bad_arguments_and_a_refusing_exporter_fail_with_errors_that_say_where():
    trace = capture("prompt|model|parser")

    class Refusing(SpanExporter):
        def export(self, spans):
            return SpanExportResult.FAILURE

    with pytest.raises(OtelExportError, match=r"refused spans 0-3 \(first: 'RunnableSequence'\)"):
        to_otel(trace, Refusing())
    with pytest.raises(ValueError, match="max_events_per_span"):
        to_otel(trace, InMemorySpanExporter(), max_events_per_span=-1)
    with pytest.raises(TypeError, match="OTLP/HTTP URL or an OpenTelemetry SpanExporter"):
        to_otel(trace, object())
    with pytest.raises(ValueError, match="not an OTLP/HTTP endpoint URL"):
        to_otel(trace, "ftp://127.0.0.1/v1/traces")


def test_a_run_whose_span_cannot_be_built_is_named():
    events = [dict(event) for event in capture("prompt|model|parser").events]
    (start,) = [e for e in events if e["event"] == "on_prompt_start"]
    start["t"] = math.inf  # a time no span can hold
    trace = sv.Trace.from_events(events)
    run_id = start["run_id"]
    with pytest.raises(OtelExportError, match=rf"span of run 'ChatPromptTemplate' \({run_id}\)"):
        exported(trace)


# ------------------------------------------------------------------------------ Phoenix


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory) -> Iterator[Any]:
    """A real Phoenix server, for this module."""
    try:
        from phoenix.client import Client  # noqa: F401
        from phoenix_server import PhoenixServer
    except ImportError:
        missing("arize-phoenix is not installed (the test extra has it)")
    server = PhoenixServer.start(tmp_path_factory.mktemp("phoenix"), name="otel-export")
    try:
        yield server
    finally:
        server.stop()


def _us(text: str) -> int:
    """Phoenix's ISO time as Unix microseconds."""
    moment = dt.datetime.fromisoformat(text)
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 10**6 + delta.microseconds


def phoenix_rows(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The facts :func:`expected_spans` lists, as Phoenix stored them (times in microseconds)."""
    rows = {}
    for span in spans:
        attributes = span["attributes"]
        row = {
            "span_id": span["context"]["span_id"],
            "parent": span.get("parent_id"),
            "name": span["name"],
            "kind": span["span_kind"],
            "start": _us(span["start_time"]),
            "end": _us(span["end_time"]),
            "status": attributes[names.STATUS],
            "code": span["status_code"],
            "tokens": [
                (_us(event["timestamp"]), event["attributes"].get(names.CHUNK_TEXT))
                for event in span.get("events", ())
                if event["name"] == names.STREAM_EVENT
            ],
        }
        if attributes.get(names.RUN_TYPE) == "chat_model":
            row["model"] = attributes.get(names.MODEL_NAME)
            row["counts"] = tuple(
                attributes.get(key)
                for key in (
                    names.TOKEN_COUNT_PROMPT,
                    names.TOKEN_COUNT_COMPLETION,
                    names.TOKEN_COUNT_TOTAL,
                )
            )
        rows[attributes[names.RUN_ID]] = row
    return rows


def _in_microseconds(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Nanosecond times cut to Phoenix's precision: microseconds (it stores datetimes)."""
    return {
        run_id: {
            **row,
            "start": row["start"] // 1000,
            "end": row["end"] // 1000,
            "tokens": [(ns // 1000, text) for ns, text in row["tokens"]],
        }
        for run_id, row in rows.items()
    }


def read_back(phoenix: Any, project: str, count: int) -> list[dict[str, Any]]:
    import httpx
    from phoenix.client import Client

    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=phoenix.url, timeout=60) as http:
        client = Client(http_client=http)

        def arrived() -> bool:
            found[:] = client.spans.get_spans(project_identifier=project, limit=count + 100)
            return len(found) >= count

        # Phoenix stores spans a moment after it answers; a project exists once one is stored.
        eventually(lambda: _quietly(arrived), f"{count} spans in Phoenix project {project}", 120)
    return found


def _quietly(check: Any) -> bool:
    try:
        return check()
    except Exception:  # a project not created yet answers 404
        return False


def test_phoenix_stores_the_guide_chains_and_a_graph_as_captured(phoenix):
    traces = [capture(example) for example in sorted(EXAMPLES)] + graph_traces()
    expected: dict[str, dict[str, Any]] = {}
    for trace in traces:
        summary = to_otel(
            trace, phoenix.otlp_endpoint, resource={"openinference.project.name": "guide"}
        )
        assert summary.spans == len(trace.runs) and summary.dropped_chunks == 0
        expected.update(expected_spans(trace))

    stored = phoenix_rows(read_back(phoenix, "guide", len(expected)))
    assert set(stored) == set(expected)
    for run_id, row in _in_microseconds(expected).items():
        got = stored[run_id]
        # Phoenix turns nanoseconds into datetimes: equal to the microsecond, or one off
        for key in ("start", "end"):
            assert abs(got[key] - row[key]) <= 1, (row["name"], key)
        assert len(got["tokens"]) == len(row["tokens"]), row["name"]
        pairs = zip(got["tokens"], row["tokens"], strict=True)
        assert all(abs(a - b) <= 1 for (a, _), (b, _) in pairs), row["name"]
        same = {key: value for key, value in row.items() if key not in ("start", "end")}
        same["tokens"] = [text for _, text in row["tokens"]]
        got_same = {key: value for key, value in got.items() if key not in ("start", "end")}
        got_same["tokens"] = [text for _, text in got["tokens"]]
        assert got_same == same, row["name"]
    token_count = sum(len(row["tokens"]) for row in expected.values())
    assert token_count > 500


def test_phoenix_holds_no_secret(phoenix):
    trace = secret_trace()
    to_otel(trace, phoenix.url, resource={"openinference.project.name": "secrets"})
    text = json.dumps(read_back(phoenix, "secrets", len(trace.runs)))
    assert [secret for secret in PLANTED if secret in text] == []
    assert "[redacted]" in text

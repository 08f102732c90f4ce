"""``Trace.from_otel``: OTLP/JSON files, SDK spans and OpenInference spans opened as a trace.

The OTLP/JSON inputs are made by the OpenTelemetry SDK itself (spans with explicit times, the
SDK's OTLP encoder, protobuf's JSON mapping), and from them the hex-id form the OTLP/JSON spec
writes; the OpenInference spans come from real LangChain runs under
openinference-instrumentation-langchain, in this process or in four worker processes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson
from langchain_core.messages import AIMessageChunk
from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

import streamviz as sv
from streamviz import _otel_names as names
from streamviz._serialization import to_json
from streamviz.sources.otel import OtelImportError

HERE = Path(__file__).resolve().parent
T0 = 1_700_000_000_000_000_000  # ns since the epoch: 2023-11-14T22:13:20Z
MS = 1_000_000
ROOT_ID = "1f0c9a6e-0000-4000-8000-00000000000a"
MODEL_ID = "1f0c9a6e-0000-4000-8000-00000000000b"
PARSER_ID = "1f0c9a6e-0000-4000-8000-00000000000c"
TOKENS = ["Why", " did", " the parrot"]


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _span(tracer, name, *, start, end=None, parent=None, attributes=None, events=(), status=None):
    """A finished SDK span with explicit times (``end=None``: one that never ended)."""
    context = otel_trace.set_span_in_context(parent) if parent is not None else None
    span = tracer.start_span(name, context=context, start_time=start, attributes=attributes)
    for event_name, at, event_attributes in events:
        span.add_event(event_name, event_attributes, timestamp=at)
    if status is not None:
        span.set_status(status)
    if end is not None:
        span.end(end_time=end)
    return span


def _chunk_event(index: int, text: str, at: int):
    chunk = AIMessageChunk(content=text, id="run-model")
    return (
        names.STREAM_EVENT,
        at,
        {names.CHUNK: json.dumps(to_json(chunk)), names.CHUNK_TEXT: text, names.SEQ: 2 + index},
    )


def _streamviz_spans() -> list:
    """A prompt-less parrot chain as streamviz's exporter describes it: three runs, 3 tokens."""
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    root = _span(
        tracer,
        "RunnableSequence",
        start=T0,
        attributes={
            names.RUN_ID: ROOT_ID,
            names.RUN_TYPE: "chain",
            names.SPAN_KIND: "CHAIN",
            names.INPUT_VALUE: json.dumps({"topic": "parrot"}),
            names.INPUT_MIME_TYPE: names.JSON_MIME,
            names.OUTPUT_VALUE: json.dumps("Why did the parrot"),
            names.OUTPUT_MIME_TYPE: names.JSON_MIME,
            names.TAGS: ["demo", "otel"],
            names.METADATA: json.dumps({"user": "ann", "attempt": 2}),
            names.STATUS: "ok",
        },
    )
    model = _span(
        tracer,
        "DemoChatModel",
        start=T0 + 1 * MS,
        end=T0 + 40 * MS,
        parent=root,
        attributes={
            names.RUN_ID: MODEL_ID,
            names.PARENT_RUN_ID: ROOT_ID,
            names.RUN_TYPE: "chat_model",
            names.SPAN_KIND: "LLM",
            names.MODEL_NAME: "demo-model",
            names.TAGS: ["demo", "otel"],
            names.STATUS: "ok",
        },
        events=[_chunk_event(i, text, T0 + (10 + 10 * i) * MS) for i, text in enumerate(TOKENS)],
        status=Status(StatusCode.OK),
    )
    parser = _span(
        tracer,
        "StrOutputParser",
        start=T0 + 41 * MS,
        end=T0 + 45 * MS,
        parent=root,
        attributes={names.RUN_ID: PARSER_ID, names.RUN_TYPE: "parser", names.STATUS: "ok"},
    )
    root.end(end_time=T0 + 50 * MS)
    del model, parser
    return list(exporter.get_finished_spans())


def _otlp_json(spans) -> str:
    """The OTel protobuf JSON mapping of the SDK's OTLP request (ids in base64)."""
    return MessageToJson(encode_spans(spans))


def _hex_form(request: dict) -> dict:
    """The OTLP/JSON spec's form of a request: hex ids, integer times and status codes."""
    for resource in request["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
                for key in ("startTimeUnixNano", "endTimeUnixNano"):
                    span[key] = int(span[key])
                code = span.get("status", {}).get("code")
                if code is not None:
                    span["status"]["code"] = {"STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}[code]
    return request


def _check_streamviz_runs(trace: sv.Trace) -> None:
    runs = trace.runs
    assert list(runs) == [ROOT_ID, MODEL_ID, PARSER_ID]
    root, model, parser = runs[ROOT_ID], runs[MODEL_ID], runs[PARSER_ID]
    assert trace.roots == [root]
    assert [child.run_id for child in root.children] == [MODEL_ID, PARSER_ID]
    assert (root.run_type, model.run_type, parser.run_type) == ("chain", "chat_model", "parser")
    assert [run.status for run in runs.values()] == ["ok", "ok", "ok"]
    # Times are seconds from the trace's first span start, as captured.
    assert root.start == 0.0
    assert root.end == pytest.approx(0.050, abs=1e-9)
    assert model.start == pytest.approx(0.001, abs=1e-9)
    assert model.end == pytest.approx(0.040, abs=1e-9)
    assert parser.start == pytest.approx(0.041, abs=1e-9)
    assert trace.created == datetime.fromtimestamp(T0 / 1e9, tz=timezone.utc)
    # The token events, at their times, with the chunks rebuilt.
    assert model.chunk_count == 3
    streamed = [e for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert [e["t"] for e in streamed] == pytest.approx([0.010, 0.020, 0.030], abs=1e-9)
    assert [e["data"]["chunk"] for e in streamed] == [
        AIMessageChunk(content=text, id="run-model") for text in TOKENS
    ]
    assert all(e["parent_ids"] == [ROOT_ID] for e in streamed)
    assert root.input == {"topic": "parrot"}
    assert root.output == "Why did the parrot"
    assert root.tags == ["demo", "otel"]
    assert root.metadata == {"user": "ann", "attempt": 2}
    # Events are in time order and numbered as a capture numbers them.
    assert [e["seq"] for e in trace.events] == list(range(len(trace.events)))
    assert [e["t"] for e in trace.events] == sorted(e["t"] for e in trace.events)


def test_an_otlp_json_file_as_protobuf_writes_it_opens_with_runs_parents_timing_and_tokens(
    tmp_path,
):
    path = tmp_path / "spans.json"
    path.write_text(_otlp_json(_streamviz_spans()), encoding="utf-8")
    assert '"traceId"' in path.read_text()  # the protobuf JSON mapping: base64 ids
    _check_streamviz_runs(sv.Trace.from_otel(path))


def test_the_hex_form_json_lines_and_several_files_give_the_same_trace(tmp_path):
    spans = _streamviz_spans()
    one = _hex_form(json.loads(_otlp_json(spans)))
    assert len(one["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"]) == 16
    single = tmp_path / "hex.json"
    single.write_text(json.dumps(one, indent=2), encoding="utf-8")
    _check_streamviz_runs(sv.Trace.from_otel(single))
    # The spans split over two requests: JSON Lines in one file, or one file each in a folder.
    first, second = (_hex_form(json.loads(_otlp_json(part))) for part in (spans[:1], spans[1:]))
    lines = tmp_path / "spans.jsonl"
    lines.write_text(json.dumps(second) + "\n\n" + json.dumps(first) + "\n", encoding="utf-8")
    _check_streamviz_runs(sv.Trace.from_otel(lines))
    folder = tmp_path / "workers"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(second), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps(first), encoding="utf-8")
    _check_streamviz_runs(sv.Trace.from_otel(folder))
    _check_streamviz_runs(sv.Trace.from_otel([folder / "b.json", str(folder / "a.json")]))
    # A request already parsed, and the SDK's spans themselves.
    _check_streamviz_runs(sv.Trace.from_otel(one))
    _check_streamviz_runs(sv.Trace.from_otel(spans))


def test_errors_interrupts_cancellations_and_unfinished_spans_keep_their_status():
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    root = _span(
        tracer,
        "graph",
        start=T0,
        attributes={
            names.STATUS: "interrupted",
            names.OUTPUT_VALUE: json.dumps({"draft": "kept"}),
            names.OUTPUT_MIME_TYPE: names.JSON_MIME,
        },
    )
    failed = tracer.start_span(
        "lookup", context=otel_trace.set_span_in_context(root), start_time=T0 + MS
    )
    failed.record_exception(KeyError("city"), timestamp=T0 + 2 * MS)
    failed.set_status(Status(StatusCode.ERROR, "KeyError: 'city'"))
    failed.end(end_time=T0 + 3 * MS)
    _span(
        tracer,
        "ask_human",
        start=T0 + 4 * MS,
        end=T0 + 5 * MS,
        parent=root,
        attributes={names.STATUS: "interrupted"},
    )
    _span(
        tracer,
        "slow_tool",
        start=T0 + 6 * MS,
        end=T0 + 7 * MS,
        parent=root,
        attributes={names.STATUS: "cancelled", names.RUN_TYPE: "tool"},
        status=Status(StatusCode.ERROR, "cancelled"),
    )
    _span(tracer, "still_running", start=T0 + 8 * MS, parent=root)
    root.end(end_time=T0 + 9 * MS)
    spans = [*exporter.get_finished_spans(), _span(tracer, "never_ended", start=T0 + 8 * MS)]
    by_name = {run.name: run for run in sv.Trace.from_otel(spans).runs.values()}
    assert by_name["lookup"].status == "error"
    assert by_name["lookup"].error == "KeyError: 'city'"
    assert by_name["ask_human"].status == "interrupted"
    assert by_name["slow_tool"].status == "cancelled"
    assert by_name["slow_tool"].run_type == "tool"
    assert by_name["never_ended"].status == "running"
    assert by_name["graph"].status == "interrupted"  # paused by the pause below it
    assert by_name["graph"].output == {"draft": "kept"}  # what it returned as it paused
    assert by_name["lookup"].end == pytest.approx(0.003, abs=1e-9)


def test_several_traces_are_joined_or_one_is_picked_by_its_trace_id():
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    _span(tracer, "first", start=T0, end=T0 + MS)
    _span(tracer, "second", start=T0 + 2 * MS, end=T0 + 3 * MS)
    spans = exporter.get_finished_spans()
    joined = sv.Trace.from_otel(spans)
    assert [run.name for run in joined.roots] == ["first", "second"]
    second_id = spans[1].context.trace_id
    picked = sv.Trace.from_otel(spans, trace_id=f"{second_id:032x}")
    assert [run.name for run in picked.roots] == ["second"]
    assert picked.roots[0].start == 0.0  # its own clock: from its own first span
    assert [run.name for run in sv.Trace.from_otel(spans, trace_id=second_id).roots] == ["second"]
    with pytest.raises(OtelImportError, match=r"no span of trace 0+1 .*trace ids found"):
        sv.Trace.from_otel(spans, trace_id="1")


def test_a_span_whose_parent_is_missing_becomes_a_flagged_root():
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    root = _span(tracer, "root", start=T0)
    _span(tracer, "child", start=T0 + MS, end=T0 + 2 * MS, parent=root)
    root.end(end_time=T0 + 3 * MS)
    child = exporter.get_finished_spans()[0]  # the root span is left out
    trace = sv.Trace.from_otel([child])
    (run,) = trace.roots
    assert run.name == "child"
    assert run.orphan
    assert run.parent_id is not None


def _request_with(span_changes: dict, drop: tuple[str, ...] = ()) -> dict:
    provider, exporter = _provider()
    _span(provider.get_tracer("test"), "step", start=T0, end=T0 + MS)
    request = _hex_form(json.loads(_otlp_json(exporter.get_finished_spans())))
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span.update(span_changes)
    for key in drop:
        del span[key]
    return request


@pytest.mark.parametrize(
    ("changes", "drop", "reason"),
    [
        ({}, ("startTimeUnixNano",), "has no startTimeUnixNano"),
        ({"traceId": "xyz"}, (), "traceId 'xyz' is not a 16-byte id"),
        ({"spanId": "00000000000000000"}, (), "spanId '0+' is not an 8-byte id"),
        ({"endTimeUnixNano": str(T0 - 1)}, (), "ends before it starts"),
        ({"attributes": [{"key": "n", "value": {"intValue": "x"}}]}, (), "intValue 'x'"),
        ({"attributes": {"n": 1}}, (), "attributes is an object, not an array"),
        ({"status": {"code": 7}}, (), "status code 7"),
        ({"events": [{"name": "e"}]}, (), r"events\[0\] has no timeUnixNano"),
        ({"name": 3}, (), "name is not a string"),
    ],
)
def test_a_malformed_span_is_refused_naming_the_file_line_and_span(tmp_path, changes, drop, reason):
    good = _request_with({})
    bad = _request_with(changes, drop)
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(sv.TraceFileError, match=reason) as caught:
        sv.Trace.from_otel(path)
    error = caught.value
    assert error.path == str(path)
    assert error.line == 3
    message = str(error)
    assert message.startswith(f"{path}, line 3: span ")
    span_id = bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"]
    if "spanId" not in changes:
        assert error.span == span_id
        assert f"span {span_id!r} ('step')" in message or "name is not" in message


def test_input_that_is_not_otlp_json_is_refused_with_where(tmp_path):
    path = tmp_path / "broken.jsonl"
    good = json.dumps(_request_with({}))
    path.write_text(good + "\n" + good[:-5] + "\n")
    with pytest.raises(sv.TraceFileError, match=r"broken.jsonl, line 2: not JSON"):
        sv.Trace.from_otel(path)
    path.write_text('{"resourceLogs": []}')
    with pytest.raises(sv.TraceFileError, match="not an OTLP/JSON trace request"):
        sv.Trace.from_otel(path)
    path.write_text("")
    with pytest.raises(sv.TraceFileError, match="empty file"):
        sv.Trace.from_otel(path)
    pretty = tmp_path / "pretty.json"
    pretty.write_text('{\n  "resourceSpans": [\n    {"scopeSpans": [}\n  ]\n}')
    with pytest.raises(sv.TraceFileError, match=r"pretty.json, line 3: not JSON"):
        sv.Trace.from_otel(pretty)


def test_parent_ids_that_form_a_cycle_are_refused():
    request = _request_with({})
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    other = dict(span, spanId="00000000000000aa", parentSpanId=span["spanId"], name="other")
    span["parentSpanId"] = "00000000000000aa"
    request["resourceSpans"][0]["scopeSpans"][0]["spans"].append(other)
    with pytest.raises(sv.TraceFileError, match="parent spans form a cycle"):
        sv.Trace.from_otel(request)
    alone = dict(span, parentSpanId=span["spanId"])
    request["resourceSpans"][0]["scopeSpans"][0]["spans"] = [alone]
    with pytest.raises(sv.TraceFileError, match="parent spans form a cycle"):
        sv.Trace.from_otel(request)


def test_a_span_id_used_twice_is_refused_and_an_identical_copy_is_read_once(tmp_path):
    request = _request_with({})
    spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append(dict(spans[0]))  # the same span twice (a retried export)
    assert len(sv.Trace.from_otel(request).runs) == 1
    spans[1] = dict(spans[0], name="impostor")
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(request))
    with pytest.raises(sv.TraceFileError, match="span id is used twice"):
        sv.Trace.from_otel(path)


SECRETS = {
    "key": "sk-proj-a1b2c3d4e5f6g7h8i9j0k1l2",
    "bearer": "Bearer eyJhbGciOiJIUzI1NiJ9abcdef123",
    "field": "hunter2-field-secret",
    "meta": "meta-password-value-77",
    "error": "sk-error0123456789abcdefghij",
}


def test_secrets_in_spans_do_not_reach_the_trace(tmp_path):
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    chunk = AIMessageChunk(content=f"token {SECRETS['key']}", id="run-1")
    failing = _span(
        tracer,
        f"model {SECRETS['bearer']}",
        start=T0,
        attributes={
            names.RUN_TYPE: "chat_model",
            names.INPUT_VALUE: json.dumps({"api_key": SECRETS["field"], "q": SECRETS["bearer"]}),
            names.INPUT_MIME_TYPE: names.JSON_MIME,
            names.METADATA: json.dumps({"db_password": SECRETS["meta"], "ok": "kept"}),
            names.TAGS: [f"tag {SECRETS['key']}"],
        },
        events=[(names.STREAM_EVENT, T0 + MS, {names.CHUNK: json.dumps(to_json(chunk))})],
    )
    failing.record_exception(ValueError(f"auth failed for {SECRETS['error']}"))
    failing.set_status(Status(StatusCode.ERROR, f"auth failed for {SECRETS['error']}"))
    failing.end(end_time=T0 + 2 * MS)
    _span(
        tracer,
        "custom",
        start=T0,
        end=T0 + MS,
        events=[("progress", T0, {"secret": SECRETS["field"], "note": SECRETS["key"]})],
        attributes={names.OUTPUT_VALUE: f"done {SECRETS['key']}"},
    )
    trace = sv.Trace.from_otel(exporter.get_finished_spans())
    runs = [(r.name, r.tags, r.metadata, r.input, r.output, r.error) for r in trace.runs.values()]
    everything = repr(list(trace.events)) + repr(runs)
    for secret in SECRETS.values():
        assert secret.split()[-1] not in everything
    assert "kept" in everything  # what is not a secret stays
    assert "[redacted]" in everything
    saved = tmp_path / "saved.jsonl"
    trace.save(saved)
    assert not any(s.split()[-1] in saved.read_text() for s in SECRETS.values())


# openinference-instrumentation-langchain calls a deprecated langchain-core method (not ours).
@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_openinference_spans_of_a_real_chain_give_its_runs_types_inputs_and_usage():
    from examples import parrot_chain
    from openinference.instrumentation.langchain import LangChainInstrumentor

    provider, exporter = _provider()
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        answer = parrot_chain().invoke({"topic": "parrot"})
        with pytest.raises(ValueError, match="no topic"):
            (parrot_chain() | _fail).invoke({"topic": "cat"})
    finally:
        instrumentor.uninstrument()
    trace = sv.Trace.from_otel(exporter.get_finished_spans())
    first, second = trace.roots
    assert [run.name for run in first.walk()] == [
        "RunnableSequence", "ChatPromptTemplate", "DemoChatModel", "StrOutputParser",
    ]  # fmt: skip
    assert [run.run_type for run in first.walk()] == ["chain", "prompt", "chat_model", "chain"]
    assert first.status == "ok"
    assert first.output == answer
    model = first.children[1]
    assert model.start >= first.start
    assert model.end <= first.end
    assert model.chunk_count == 0  # OpenInference records no per-token events
    usage = trace.usage()
    row = usage[usage["run_id"] == model.run_id].iloc[0]
    assert row["input_tokens"] > 0
    assert row["output_tokens"] > 0
    assert second.status == "error"
    assert second.error == "ValueError: no topic"
    assert second.children[-1].error == "ValueError: no topic"


def _fail(_: str) -> str:
    raise ValueError("no topic")


def test_an_imported_trace_opens_in_the_dashboard(tmp_path):
    from streamviz.widgets import Dashboard

    path = tmp_path / "spans.json"
    path.write_text(_otlp_json(_streamviz_spans()), encoding="utf-8")
    trace = sv.Trace.from_otel(path)
    snapshot = Dashboard(trace).snapshot
    assert snapshot["count"] == len(trace.events)
    assert [row["name"] for row in snapshot["runs"]] == [
        "RunnableSequence", "DemoChatModel", "StrOutputParser",
    ]  # fmt: skip
    frame = trace.runs_df()
    assert list(frame["name"]) == ["RunnableSequence", "DemoChatModel", "StrOutputParser"]
    assert list(frame["status"]) == ["ok", "ok", "ok"]


def test_four_worker_processes_under_one_trace_id_open_as_one_tree(tmp_path):
    """A batch split over 4 processes, each traced by OpenInference under the batch's root span
    (handed over as a W3C traceparent), each writing its own OTLP/JSON file."""
    provider, exporter = _provider()
    tracer = provider.get_tracer("batch")
    topics = [["parrot", "cat"], ["dog"], ["owl", "fox"], ["bee"]]
    root = tracer.start_span("batch")
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=otel_trace.set_span_in_context(root))
    files = [tmp_path / f"worker-{index}.json" for index in range(4)]
    worker = [sys.executable, HERE / "otel_worker.py", carrier["traceparent"]]
    workers = [
        subprocess.Popen(
            [*worker, str(index), files[index], *topics[index]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(4)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors
    root.end()
    root_file = tmp_path / "batch.json"
    root_file.write_text(_otlp_json(exporter.get_finished_spans()), encoding="utf-8")

    trace = sv.Trace.from_otel([root_file, *files])
    (batch,) = trace.roots
    assert batch.name == "batch"
    assert batch.run_id.replace("-", "").startswith(f"{root.get_span_context().trace_id:032x}"[:16])
    assert sorted(child.name for child in batch.children) == [f"worker-{i}" for i in range(4)]
    for worker_run in batch.children:
        index = int(worker_run.name.split("-")[1])
        chains = worker_run.children
        assert [run.name for run in chains] == ["RunnableSequence"] * len(topics[index])
        assert sorted(run.input for run in chains) == sorted(topics[index])
        for run in chains:
            assert [child.name for child in run.children] == [
                "ChatPromptTemplate", "DemoChatModel", "StrOutputParser",
            ]  # fmt: skip
            assert run.status == "ok"
            assert batch.start <= run.start <= run.end <= batch.end
    assert not any(run.orphan for run in trace.runs.values())
    assert len(trace.runs) == 1 + 4 + 6 * 4


def test_text_with_unicode_line_separators_and_deep_nesting_is_read_not_crashed_on(tmp_path):
    # OTLP/JSON writers that keep non-ASCII text as is write U+2028 raw inside JSON strings.
    request = _request_with(
        {
            "attributes": [
                {"key": names.INPUT_VALUE, "value": {"stringValue": "one\u2028two\x85three"}},
                {"key": names.OUTPUT_VALUE, "value": {"stringValue": "[" * 5000 + "]" * 5000}},
                {"key": names.OUTPUT_MIME_TYPE, "value": {"stringValue": names.JSON_MIME}},
            ]
        }
    )
    path = tmp_path / "spans.jsonl"
    line = json.dumps(request, ensure_ascii=False)
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    (run,) = sv.Trace.from_otel(path).runs.values()
    assert run.input == "one\u2028two\x85three"
    assert run.output == "[" * 5000 + "]" * 5000  # too deep to parse: kept as its text
    deep = tmp_path / "deep.json"
    deep.write_text('{"resourceSpans": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(sv.TraceFileError, match=r"deep\.json: nested too deeply"):
        sv.Trace.from_otel(deep)
    value = {"stringValue": "x"}
    for _ in range(5000):
        value = {"arrayValue": {"values": [value]}}
    nested = _request_with({"attributes": [{"key": "deep", "value": value}]})
    with pytest.raises(sv.TraceFileError, match=r"span '[0-9a-f]{16}' \('step'\): nested too"):
        sv.Trace.from_otel(nested)

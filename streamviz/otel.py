"""A trace as OpenTelemetry spans: sent to any OTLP backend, or written as an OTLP/JSON file.

- :func:`to_otel` sends one span per run to an OTLP/HTTP endpoint (Phoenix, an OpenTelemetry
  collector, Jaeger...) or hands them to any OpenTelemetry ``SpanExporter``.
- :func:`write_otlp_json` writes the same spans as OTLP/JSON (JSON Lines: one
  ``ExportTraceServiceRequest`` per line, one line per trace).

Every attribute and event name comes from :mod:`streamviz._otel_names`, the table the importer
reads too. Each span carries its run's parent, kind, status and times exactly as captured (the
run's start and end events, on the trace's clock anchored at :attr:`Trace.created`), the
OpenInference attributes Phoenix reads (span kind, model name, inputs and outputs as JSON text,
token counts, tags, metadata), and every streamed chunk of the run as a span event at the time it
was captured, up to ``max_events_per_span`` per span (the rest are counted in
``streamviz.dropped_chunks``). Every string goes through the redaction trace files use.

The OpenTelemetry SDK is an extra (``pip install 'streamviz[otel]'``), imported only when a
function here is called. docs/otel.md describes the mapping.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from streamviz import _otel_names as names
from streamviz._redact import redact_text
from streamviz._serialization import to_json
from streamviz.events import CUSTOM_EVENT, SerializedError, split_event

if TYPE_CHECKING:
    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = [
    "DEFAULT_MAX_EVENTS_PER_SPAN", "OtelExport", "OtelExportError", "otlp_json_requests",
    "span_id_of", "to_otel", "trace_id_of", "trace_spans", "write_otlp_json",
]  # fmt: skip

DEFAULT_MAX_EVENTS_PER_SPAN = 10_000
"""Streamed chunks kept as span events per span by default: a long model answer's tokens."""

_EXPORT_BATCH = 256  # spans per exporter call (one OTLP request each)
_SURROGATE = re.compile("[\ud800-\udfff]")
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_ID_NAMESPACE = uuid.UUID("8c0b2f8e-5a54-4c7e-9d1e-7f3a2c6b9e10")  # for run ids that are no UUID


class OtelExportError(RuntimeError):
    """A span could not be built (the message names its run) or the exporter refused it."""


@dataclass
class OtelExport:
    """What :func:`to_otel` or :func:`write_otlp_json` wrote."""

    spans: int = 0
    """Spans written: one per run."""
    events: int = 0
    """Streamed chunks written as span events."""
    dropped_chunks: int = 0
    """Streamed chunks left out by ``max_events_per_span`` (each span says how many of its own)."""
    trace_ids: list[str] = field(default_factory=list)
    """The OpenTelemetry trace ids written (32 hex digits), one per root run, in order."""


def _need_sdk() -> Any:
    try:
        from opentelemetry.sdk import trace as sdk_trace
    except ImportError as error:  # pragma: no cover - the test extra installs it
        raise ImportError(
            "exporting to OpenTelemetry needs the OpenTelemetry SDK and its OTLP exporter: "
            "pip install 'streamviz[otel]'"
        ) from error
    return sdk_trace


# ------------------------------------------------------------------------------- values
def _clean(text: str) -> str:
    """A string OTLP can carry (UTF-8): lone surrogates become U+FFFD."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def _text(value: Any) -> str:
    """Any string shown as an attribute (a name, a tag, an error), redacted."""
    return _clean(redact_text(str(value)))


def _json_text(value: Any) -> str:
    """A payload as JSON text, encoded and redacted as trace files encode it.

    Lone surrogates are written as JSON escapes, so the text decodes to the same string.
    """
    return _json_text_of(to_json(value))


def _chunk_text(chunk: Any) -> str | None:
    """A streamed chunk's text, when it has one (a token): a string, a message's content."""
    if isinstance(chunk, str):
        return chunk
    content = getattr(chunk, "content", None)
    if content is None and isinstance(chunk, Mapping):
        content = chunk.get("content")
    if isinstance(content, str):
        return content
    text = getattr(chunk, "text", None)
    return text if isinstance(text, str) else None


def _uuid_of(run_id: str) -> uuid.UUID:
    """A run id as a UUID: itself, or (an id that is not one) a UUID derived from it."""
    try:
        return uuid.UUID(str(run_id))
    except (ValueError, TypeError, AttributeError):
        return uuid.uuid5(_ID_NAMESPACE, str(run_id))


def trace_id_of(run_id: str) -> int:
    """The OpenTelemetry trace id of a trace whose root run is ``run_id``: the UUID's 16 bytes."""
    return _uuid_of(run_id).int or 1


def span_id_of(run_id: str) -> int:
    """The OpenTelemetry span id of run ``run_id``: the last 8 bytes of its UUID."""
    return (_uuid_of(run_id).int & 0xFFFF_FFFF_FFFF_FFFF) or 1


def _epoch_ns(created: _dt.datetime) -> int:
    """Nanoseconds since the Unix epoch of the trace's time 0."""
    if created.tzinfo is None:
        created = created.replace(tzinfo=_dt.timezone.utc)
    delta = created - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


# ------------------------------------------------------------------------------- reading
@dataclass(slots=True)
class _Seen:
    """What the events say of one run beyond its :class:`Run`."""

    parent_ids: list[str] = field(default_factory=list)
    first: float | None = None
    chunks: list[tuple[float, Any, str, str | None]] = field(default_factory=list)
    dropped: int = 0
    error: Any = None
    error_t: float | None = None


_MESSAGES_PART = "on_graph_messages"
# Stands for a token's text while a shape's chunk is encoded once (private-use characters:
# nothing redacts or escapes them).
_HOLE = "\ue000sv-otel-token\ue001"
_UNKNOWN: Any = object()


def _stream_phase(fields: Mapping[str, Any], runs: Mapping[str, Run]) -> tuple[str | None, bool]:
    """The phase of an event (``stream``, ``start``...), and whether it is a graph's part.

    A graph's ``messages`` part is ``(message chunk, metadata)``. In-process, the runs below the
    graph's run hold what the parts repeat (a model call's tokens are its own stream events, a
    tool's message its output): the parts are left out (no phase). A server run
    (``watch_remote`` without the ``events`` mode) has no runs below it: its parts are all the
    trace has of its tokens, and become the stream of the run they were recorded under.
    """
    kind = fields.get("event")
    if not isinstance(kind, str) or kind == CUSTOM_EVENT:
        return None, False
    split = split_event(kind)
    if split is not None:
        return split[1], False
    if kind == _MESSAGES_PART:
        run = runs.get(fields.get("run_id"))  # type: ignore[arg-type]
        if run is not None and not run.children:
            return "stream", True
    return None, False  # other graph stream parts and custom events are no run's own stream


def _token_of(chunk: Any, part: bool) -> Any:
    if part and isinstance(chunk, (list, tuple)) and len(chunk) == 2:
        return chunk[0]  # the message, without the part's metadata
    return chunk


def _json_body(text: str) -> str:
    """``text`` as it stands between the quotes of a JSON string (as :func:`_json_text` writes)."""
    return _json_text_of(text)[1:-1]


def _json_text_of(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


def _skeleton(store: Any, shape: Any, part: bool) -> tuple[str, str] | None:
    """The JSON text of a shape's chunk around its token's text, or None if it is not one hole.

    Every row of a shape differs from the others only in its text (``ChunkBlock.shapes``): its
    chunk's JSON is this text before and after, with the row's text (redacted, escaped) between.
    """
    chunk = _token_of(store.shape_event(shape, _HOLE)["data"]["chunk"], part)
    if _chunk_text(chunk) != _HOLE:
        return None
    text = _json_text(chunk)
    if text.count(_HOLE) != 1:
        return None
    before, after = text.split(_HOLE)
    return before, after


def _read_events(
    trace: Trace, runs: Mapping[str, Run], cap: int | None
) -> tuple[dict[str, _Seen], float]:
    """Each run's ancestors, first event, streamed chunks (up to ``cap``) and error.

    Compact rows (a run's tokens) are read as columns, their chunks encoded once per shape
    (as trace files are written): no event is built for them.
    """
    from streamviz._log import ChunkBlock

    store = trace.store
    seen: dict[str, _Seen] = {}
    skeletons: dict[Any, tuple[str, str] | None] = {}
    last = 0.0

    def run_of(fields: Mapping[str, Any], t: Any) -> _Seen:
        run_id = fields.get("run_id")
        found = seen.get(run_id)  # type: ignore[arg-type]
        if found is None:
            found = seen[run_id] = _Seen(list(fields.get("parent_ids") or ()), t)  # type: ignore[index]
        return found

    def read(event: dict[str, Any]) -> None:
        t = event.get("t")
        phase, part = _stream_phase(event, runs)
        if phase is None:
            return
        found = run_of(event, t)
        data = event.get("data")
        if phase == "stream":
            if cap is not None and len(found.chunks) >= cap:
                found.dropped += 1
                return
            chunk = _token_of(data.get("chunk") if isinstance(data, dict) else None, part)
            found.chunks.append((t, event.get("seq"), _json_text(chunk), _chunk_text(chunk)))
        elif phase == "error":
            found.error = data.get("error") if isinstance(data, dict) else None
            found.error_t = t

    for item in store.blocks(most=16_384, secret_free=True):
        if type(item) is not ChunkBlock:
            t = item.get("t")
            if isinstance(t, (int, float)) and t > last:
                last = float(t)
            read(item)
            continue
        shapes, texts = item.shapes()
        times, seqs = item.times(), item.seqs()
        if len(times):
            last = max(last, max(times))
        for offset, shape in enumerate(shapes):
            if shape is None:
                read(store.event(item.seq + offset))
                continue
            fields = store.template(shape[0])
            phase, part = _stream_phase(fields, runs)
            if phase is None:
                continue
            if phase != "stream":
                read(store.event(item.seq + offset))
                continue
            t = times[offset]
            found = run_of(fields, t)
            if cap is not None and len(found.chunks) >= cap:
                found.dropped += 1
                continue
            skeleton = skeletons.get(shape, _UNKNOWN)
            if skeleton is _UNKNOWN:
                skeleton = skeletons[shape] = _skeleton(store, shape, part)
            text = texts[offset]
            if skeleton is None or text is None:
                read(store.event(item.seq + offset))
                continue
            chunk_json = skeleton[0] + _json_body(redact_text(text)) + skeleton[1]
            found.chunks.append((t, seqs[offset], chunk_json, text))
    return seen, last


def _usage(trace: Trace) -> Any:
    from streamviz.usage import read_usage

    return read_usage(trace.store.columns(), trace.runs, {})


# ------------------------------------------------------------------------------- building
def _error_parts(error: Any, fallback: str | None) -> tuple[str, str]:
    if isinstance(error, SerializedError):
        return error.type, str(error)
    if isinstance(error, BaseException):
        return type(error).__name__, str(error)
    kind = getattr(error, "type", None)
    if isinstance(kind, str):
        return kind, str(getattr(error, "message", "") or "")
    text = fallback or ("" if error is None else str(error))
    kind, _, message = text.partition(": ")
    return kind, message


def _attributes(run: Run, usage: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        names.SPAN_KIND: names.SPAN_KINDS.get(run.run_type, "CHAIN"),
        names.RUN_ID: _text(run.run_id),
        names.RUN_TYPE: _text(run.run_type),
        names.STATUS: run.status,
    }
    if run.parent_id is not None:
        attributes[names.PARENT_RUN_ID] = _text(run.parent_id)
    if run.tags:
        attributes[names.TAGS] = [_text(tag) for tag in run.tags]
    if run.metadata:
        attributes[names.METADATA] = _json_text(run.metadata)
    if run.has_input:
        attributes[names.INPUT_VALUE] = _json_text(run.input)
        attributes[names.INPUT_MIME_TYPE] = names.JSON_MIME
    if run.end is not None and run.status in ("ok", "interrupted"):
        attributes[names.OUTPUT_VALUE] = _json_text(run.output)
        attributes[names.OUTPUT_MIME_TYPE] = names.JSON_MIME
    model = usage.models.get(run.run_id)
    if model is None and isinstance(run.metadata, dict):
        model = run.metadata.get("ls_model_name")
    if model is not None and run.run_type in ("chat_model", "llm"):
        attributes[names.MODEL_NAME] = _text(model)
    own = usage.own.get(run.run_id)
    if own is not None and own.calls:
        attributes[names.TOKEN_COUNT_PROMPT] = own.input
        attributes[names.TOKEN_COUNT_COMPLETION] = own.output
        attributes[names.TOKEN_COUNT_TOTAL] = own.total
    if run.thread_id is not None:
        attributes[names.THREAD] = _text(run.thread_id)
    return attributes


def _stream_events(sdk: Any, seen: _Seen, ns: Any) -> list[Any]:
    events = []
    for t, seq, chunk_json, text in seen.chunks:
        attributes: dict[str, Any] = {names.CHUNK: chunk_json}
        if text is not None:
            attributes[names.CHUNK_TEXT] = _text(text)
        if isinstance(seq, int):
            attributes[names.SEQ] = seq
        events.append(sdk.Event(names.STREAM_EVENT, attributes, timestamp=ns(t)))
    return events


def trace_spans(
    trace: Trace,
    *,
    max_events_per_span: int | None = DEFAULT_MAX_EVENTS_PER_SPAN,
    resource: Mapping[str, Any] | None = None,
) -> tuple[list[Any], OtelExport]:
    """The trace's runs as OpenTelemetry SDK ``ReadableSpan`` objects, parents before children.

    What :func:`to_otel` exports and :func:`write_otlp_json` writes; returns the spans and a
    summary. Raises :class:`OtelExportError` naming the run whose span could not be built.
    """
    sdk = _need_sdk()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

    from streamviz._version import __version__

    if max_events_per_span is not None and (
        isinstance(max_events_per_span, bool)
        or not isinstance(max_events_per_span, int)
        or max_events_per_span < 0
    ):
        raise ValueError(
            f"max_events_per_span must be a whole number >= 0 or None, not {max_events_per_span!r}"
        )
    with trace.store.lock:
        runs = list(trace.runs.values())
    seen, last = _read_events(trace, trace.runs, max_events_per_span)
    usage = _usage(trace)
    origin = _epoch_ns(trace.created)

    def ns(t: Any) -> int:
        return origin + round(float(t) * 1e9) if isinstance(t, (int, float)) else origin

    own_resource: dict[str, Any] = {"service.name": "streamviz"}
    for key, value in (resource or {}).items():
        own_resource[str(key)] = _text(value) if isinstance(value, str) else value
    scope = InstrumentationScope("streamviz", __version__)
    summary = OtelExport()
    spans: list[Any] = []
    flags = TraceFlags(TraceFlags.SAMPLED)
    made_resource = Resource(own_resource)  # exactly these: nothing from the environment
    for run in _parents_first(runs):
        try:
            found = seen.get(run.run_id) or _Seen()
            ancestors = found.parent_ids or ([run.parent_id] if run.parent_id else [])
            trace_id = trace_id_of(ancestors[0] if ancestors else run.run_id)
            context = SpanContext(trace_id, span_id_of(run.run_id), False, flags)
            parent = (
                SpanContext(trace_id, span_id_of(run.parent_id), False, flags)
                if run.parent_id is not None
                else None
            )
            start = run.start if run.start is not None else found.first
            end = run.end if run.end is not None else last
            attributes = _attributes(run, usage)
            events = _stream_events(sdk, found, ns)
            if found.dropped:
                attributes[names.DROPPED_CHUNKS] = found.dropped
            if run.status in ("error", "cancelled"):
                kind, message = _error_parts(found.error, run.error)
                status = Status(StatusCode.ERROR, _text(run.error or kind))
                if found.error is not None or run.status == "error":
                    exception = {"exception.type": _text(kind), "exception.message": _text(message)}
                    at = found.error_t if found.error_t is not None else end
                    events.append(sdk.Event("exception", exception, timestamp=ns(at)))
            elif run.status == "ok":
                status = Status(StatusCode.OK)
            else:  # interrupted (a pause, not a failure), running
                status = Status(StatusCode.UNSET)
            span = sdk.ReadableSpan(
                name=_text(run.name),
                context=context,
                parent=parent,
                resource=made_resource,
                attributes=attributes,
                events=events,
                status=status,
                start_time=ns(start),
                end_time=max(ns(end), ns(start)),
                instrumentation_scope=scope,
            )
        except Exception as error:
            raise OtelExportError(
                f"span of run {run.name!r} ({run.run_id}): {type(error).__name__}: {error}"
            ) from error
        spans.append(span)
        summary.spans += 1
        summary.events += len(found.chunks)
        summary.dropped_chunks += found.dropped
        if parent is None or run.orphan:
            hex_id = f"{trace_id:032x}"
            if hex_id not in summary.trace_ids:
                summary.trace_ids.append(hex_id)
    return spans, summary


def _parents_first(runs: list[Run]) -> list[Run]:
    """Runs with each parent before its children (start order otherwise)."""
    order: list[Run] = []
    done: set[str] = set()
    for run in runs:
        chain = []
        node: Run | None = run
        while node is not None and node.run_id not in done:
            chain.append(node)
            node = node.parent
        for item in reversed(chain):
            done.add(item.run_id)
            order.append(item)
    return order


# ------------------------------------------------------------------------------- exporting
def _endpoint_url(endpoint: str) -> str:
    """An OTLP/HTTP traces URL: a bare ``http://host:port`` gets ``/v1/traces``."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an OTLP/HTTP endpoint URL: {endpoint!r}")
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def to_otel(
    trace: Trace,
    exporter_or_endpoint: Any,
    *,
    max_events_per_span: int | None = DEFAULT_MAX_EVENTS_PER_SPAN,
    resource: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> OtelExport:
    """Send a trace to OpenTelemetry: one span per run, its streamed chunks as span events.

    Parameters
    ----------
    trace
        A captured or loaded :class:`~streamviz.Trace`.
    exporter_or_endpoint
        An OTLP/HTTP URL (``"http://127.0.0.1:6006/v1/traces"``; a URL without a path gets
        ``/v1/traces``), or any OpenTelemetry ``SpanExporter`` (its ``export(spans)`` is called;
        it is not shut down).
    max_events_per_span
        Streamed chunks kept per span, the first ones (``None``: all). A span that had more
        says how many were left out in ``streamviz.dropped_chunks``.
    resource
        More resource attributes (``{"openinference.project.name": "my-project"}`` picks a
        Phoenix project); ``service.name`` is ``"streamviz"`` unless given.
    headers, timeout
        For an endpoint URL: HTTP headers (an API key) and the timeout in seconds.

    Returns
    -------
    OtelExport
        How many spans and events were sent, how many chunks were dropped, the trace ids.

    Raises
    ------
    OtelExportError
        A span that could not be built (naming its run), or an exporter that refused the spans.
    ImportError
        When the OpenTelemetry SDK is not installed (``pip install 'streamviz[otel]'``).
    """
    spans, summary = trace_spans(trace, max_events_per_span=max_events_per_span, resource=resource)
    from opentelemetry.sdk.trace.export import SpanExportResult

    own = isinstance(exporter_or_endpoint, str)
    if own:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=_endpoint_url(exporter_or_endpoint),
            headers=dict(headers) if headers else None,
            timeout=timeout,
        )
    else:
        exporter = exporter_or_endpoint
        if not callable(getattr(exporter, "export", None)):
            raise TypeError(
                "to_otel needs an OTLP/HTTP URL or an OpenTelemetry SpanExporter, "
                f"not {type(exporter).__name__}"
            )
    try:
        for start in range(0, len(spans), _EXPORT_BATCH):
            batch = spans[start : start + _EXPORT_BATCH]
            result = exporter.export(batch)
            if result is not SpanExportResult.SUCCESS:
                raise OtelExportError(
                    f"the exporter refused spans {start}-{start + len(batch) - 1} "
                    f"(first: {batch[0].name!r}): {result}"
                )
    finally:
        if own:
            exporter.shutdown()
    return summary


# ------------------------------------------------------------------------------- OTLP/JSON
def _any_value(value: Any) -> dict[str, Any]:
    """An attribute value as OTLP/JSON's ``AnyValue`` (64-bit integers as strings)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value if math.isfinite(value) else str(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_any_value(item) for item in value]} if value else {}}
    return {"stringValue": str(value)}


def _key_values(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in (attributes or {}).items()]


def _span_json(span: Any) -> dict[str, Any]:
    """One span as OTLP/JSON, as ``encode_spans`` and protobuf's JSON mapping write it."""
    context = span.context
    written: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
    }
    if span.parent is not None:
        written["parentSpanId"] = f"{span.parent.span_id:016x}"
    written["name"] = span.name
    written["kind"] = 1  # SPAN_KIND_INTERNAL
    written["startTimeUnixNano"] = str(span.start_time)
    written["endTimeUnixNano"] = str(span.end_time)
    if span.attributes:
        written["attributes"] = _key_values(span.attributes)
    if span.events:
        written["events"] = [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                **({"attributes": _key_values(event.attributes)} if event.attributes else {}),
            }
            for event in span.events
        ]
    status: dict[str, Any] = {}
    if span.status.description:
        status["message"] = span.status.description
    if span.status.status_code.value:
        status["code"] = span.status.status_code.value
    written["status"] = status
    written["flags"] = 256  # SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK: a local parent
    return written


def otlp_json_requests(spans: Iterable[Any]) -> list[dict[str, Any]]:
    """Spans as OTLP/JSON ``ExportTraceServiceRequest`` objects, one per trace id, in order.

    Written directly (the spans of :func:`trace_spans` share one resource and scope), equal to
    what the OTLP exporter's protobuf encoder and protobuf's JSON mapping make of them, ids in hex
    (``tests/test_otel_export.py`` holds them to it).
    """
    by_trace: dict[int, list[Any]] = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    requests = []
    for group in by_trace.values():
        first = group[0]
        scope = first.instrumentation_scope
        requests.append({
            "resourceSpans": [{
                "resource": {"attributes": _key_values(first.resource.attributes)},
                "scopeSpans": [{
                    "scope": {"name": scope.name, "version": scope.version},
                    "spans": [_span_json(span) for span in group],
                }],
            }]
        })  # fmt: skip
    return requests


def write_otlp_json(
    trace: Trace,
    path: str | os.PathLike[str] | IO[Any],
    *,
    max_events_per_span: int | None = DEFAULT_MAX_EVENTS_PER_SPAN,
    resource: Mapping[str, Any] | None = None,
) -> OtelExport:
    """Write a trace's spans as OTLP/JSON: JSON Lines, one ``ExportTraceServiceRequest`` a line.

    One line per trace (root run), in the OTLP/JSON encoding (the protobuf JSON mapping with
    trace and span ids as hex, times as nanosecond strings, enums as numbers): what the
    OpenTelemetry Collector's file exporter writes and its ``otlpjsonfile`` receiver reads; a
    line can be POSTed as is to an OTLP/HTTP endpoint with ``Content-Type: application/json``.
    The spans are those :func:`to_otel` sends (the same ``max_events_per_span`` and
    ``resource``). A path is written atomically (a temporary file, then renamed).
    """
    from streamviz._persistence import _is_path, write_atomically

    spans, summary = trace_spans(trace, max_events_per_span=max_events_per_span, resource=resource)
    lines = [
        json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        for request in otlp_json_requests(spans)
    ]

    def write(handle: IO[bytes]) -> None:
        for line in lines:
            handle.write(line)

    if _is_path(path):
        write_atomically(path, write)  # type: ignore[arg-type]
    elif isinstance(path, io.TextIOBase):
        for line in lines:
            path.write(line.decode("utf-8"))
    else:
        write(path)  # type: ignore[arg-type]
    return summary

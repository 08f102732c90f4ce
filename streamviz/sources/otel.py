"""OpenTelemetry spans into a Trace: OTLP/JSON files, SDK spans, OpenInference's LangChain spans.

Each span is one run. Its start and end become the run's start and end events at the span's
times; its ``streamviz.stream`` span events (what :mod:`streamviz.otel` writes for each streamed
chunk) become the run's stream events at their own times. The names are those of
:mod:`streamviz._otel_names`, shared with the exporter, so an export read back gives the same runs.
Spans that did not come from streamviz (a service's, OpenInference-instrumented workers') are read
through the OpenInference conventions: span kind, ``input.value`` / ``output.value``,
``llm.token_count.*``, ``tag.tags``, ``metadata``.

The trace is built like every other source builds one: events appended through the event store's
API (``trace.store.extend``), so the run tree, files and widgets read it as they read a capture.
Every string that reaches the trace passes the redaction trace files apply
(:mod:`streamviz._redact`): a secret in a span does not reach the trace.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from streamviz import _otel_names as names
from streamviz._persistence import TraceFileError
from streamviz._redact import REDACTED, is_secret_key, redact_text
from streamviz._serialization import MARKER, from_json
from streamviz.events import SerializedError
from streamviz.trace import Trace

__all__ = ["OtelImportError", "from_otel"]

# OpenInference span kinds -> LangChain run types (an LLM span is a chat model when it carries
# input messages, as OpenInference records a chat model's; anything unknown is a chain).
_RUN_TYPES = {
    "TOOL": "tool",
    "RETRIEVER": "retriever",
    "EMBEDDING": "embedding",
    "CHAIN": "chain",
    "PROMPT": "prompt",
    "AGENT": "chain",
}
_STATUS_CODES = {
    0: "unset", 1: "ok", 2: "error", "STATUS_CODE_UNSET": "unset", "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error", "UNSET": "unset", "OK": "ok", "ERROR": "error",
}  # fmt: skip
# How a run that did not end "ok" or "error" is recorded: the error type the run tree reads so.
_ENDINGS = {
    "interrupted": ("GraphInterrupt", "langgraph.errors"),
    "cancelled": ("CancelledError", "asyncio.exceptions"),
}
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_TOO_DEEP = "nested too deeply to read"


class OtelImportError(TraceFileError):
    """OpenTelemetry input that cannot be read: names the file, its line and the span at fault.

    ``span`` is the span's id (hex) when one span is at fault, else ``None``.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        span: str | None = None,
        name: str | None = None,
    ) -> None:
        self.span = span
        if span is not None:
            label = f"span {span!r}" + (f" ({name!r})" if name else "")
            reason = f"{label}: {reason}"
        super().__init__(reason, path=path, line=line)


@dataclass
class _Where:
    """Where a span was read: the file (or "spans") and its line, for error messages."""

    path: str | None = None
    line: int | None = None

    def error(self, reason: str, span: str | None = None, name: str | None = None) -> Exception:
        return OtelImportError(reason, path=self.path, line=self.line, span=span, name=name)


@dataclass
class _Span:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str | None
    name: str
    start: int  # ns since the epoch
    end: int | None  # None: the span never ended
    attributes: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]  # (name, ns, attributes)
    status: str  # "unset" | "ok" | "error"
    status_message: str
    where: _Where
    run_id: str = ""
    parent_run_id: str | None = None
    children: list[_Span] = field(default_factory=list)


# --------------------------------------------------------------------------- public entry


def from_otel(source: Any, *, trace_id: str | None = None, name: str | None = None) -> Trace:
    """Build a :class:`Trace` from OpenTelemetry spans (see :meth:`Trace.from_otel`)."""
    spans = list(_read_sources(source))
    by_trace: dict[str, list[_Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    if trace_id is not None:
        wanted = _trace_id_text(trace_id)
        if wanted not in by_trace:
            found = ", ".join(sorted(by_trace)) or "none"
            raise OtelImportError(f"no span of trace {wanted} (trace ids found: {found})")
        by_trace = {wanted: by_trace[wanted]}
    if not by_trace:
        raise OtelImportError("no spans found")
    runs: list[_Span] = []
    for group in by_trace.values():
        runs.extend(_link(group))
    origin = min(span.start for span in runs)
    trace = Trace(name)
    trace.store.extend(_events(runs, origin))
    trace.created = datetime.fromtimestamp(origin / 1e9, tz=timezone.utc)
    return trace


# --------------------------------------------------------------------------- reading inputs


def _read_sources(source: Any) -> Iterator[_Span]:
    if isinstance(source, (str, os.PathLike)):
        yield from _read_path(Path(source))
    elif isinstance(source, Mapping):
        yield from _read_request(source, _Where("request"))
    elif _is_sdk_span(source):
        yield _sdk_span(source)
    elif isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray)):
        for item in source:
            yield from _read_sources(item)
    else:
        raise TypeError(
            "from_otel reads OTLP/JSON files or folders, OTLP/JSON requests (dicts) or "
            f"opentelemetry-sdk ReadableSpans, not {type(source).__name__}"
        )


def _read_path(path: Path) -> Iterator[_Span]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _JSON_SUFFIXES)
        for file in files:
            yield from _read_file(file)
    else:
        yield from _read_file(path)


def _read_file(path: Path) -> Iterator[_Span]:
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise OtelImportError(f"not UTF-8 text ({error.reason})", path=label) from None
    if not text.strip():
        raise OtelImportError("empty file: no OTLP/JSON request in it", path=label)
    try:  # one request (pretty-printed or not)
        request = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise OtelImportError(f"not JSON: {error.msg}", path=label, line=error.lineno) from None
    except RecursionError:
        raise OtelImportError(_TOO_DEEP, path=label) from None
    else:
        del text
        yield from _read_request(request, _Where(label), owned=True)
        return
    # JSON Lines: one request per line (only "\n" ends a line: JSON text may hold U+2028...)
    lines = text.split("\n")
    del text
    for number, line in enumerate(lines, 1):
        lines[number - 1] = ""  # each line is let go once read
        if not line.strip():
            continue
        where = _Where(label, number)
        try:
            request = json.loads(line)
        except json.JSONDecodeError as error:
            raise where.error(f"not JSON: {error.msg} (column {error.colno})") from None
        except RecursionError:
            raise where.error(_TOO_DEEP) from None
        del line
        yield from _read_request(request, where, owned=True)


def _get(obj: Mapping[str, Any], camel: str, snake: str) -> Any:
    """A field as the OTLP/JSON mapping names it (lowerCamelCase) or by its proto name."""
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _list_of(obj: Mapping[str, Any], camel: str, snake: str, where: _Where, what: str) -> list:
    value = _get(obj, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"{what}.{camel} is {_kind(value)}, not an array")
    return value


def _read_request(request: Any, where: _Where, *, owned: bool = False) -> Iterator[_Span]:
    """The spans of one request; one ``owned`` (parsed here) is emptied as its spans are read."""
    if not isinstance(request, Mapping):
        raise where.error(f"an OTLP/JSON request is an object, not {_kind(request)}")
    if not any(key in request for key in ("resourceSpans", "resource_spans")):
        raise where.error("not an OTLP/JSON trace request: no resourceSpans")
    for r, resource in enumerate(_list_of(request, "resourceSpans", "resource_spans", where, "")):
        place = f"resourceSpans[{r}]"
        if not isinstance(resource, Mapping):
            raise where.error(f"{place} is {_kind(resource)}, not an object")
        for s, scope in enumerate(_list_of(resource, "scopeSpans", "scope_spans", where, place)):
            inner = f"{place}.scopeSpans[{s}]"
            if not isinstance(scope, Mapping):
                raise where.error(f"{inner} is {_kind(scope)}, not an object")
            spans = _list_of(scope, "spans", "spans", where, inner)
            for i, span in enumerate(spans):
                if owned:
                    spans[i] = None
                yield _json_span(span, where, f"{inner}.spans[{i}]")
                del span


def _json_span(span: Any, where: _Where, place: str) -> _Span:
    if not isinstance(span, Mapping):
        raise where.error(f"{place} is {_kind(span)}, not an object")
    raw_id = _get(span, "spanId", "span_id")
    span_id = _id_text(raw_id, 8)
    label = span_id or place
    span_name = span.get("name")

    def fail(reason: str) -> Exception:
        return where.error(reason, span=label, name=span_name if type(span_name) is str else None)

    if span_id is None:
        raise fail(f"spanId {raw_id!r} is not an 8-byte id (16 hex digits or base64)")
    raw_trace = _get(span, "traceId", "trace_id")
    trace_id = _id_text(raw_trace, 16)
    if trace_id is None:
        raise fail(f"traceId {raw_trace!r} is not a 16-byte id (32 hex digits or base64)")
    raw_parent = _get(span, "parentSpanId", "parent_span_id")
    parent = None
    if raw_parent not in (None, ""):
        parent = _id_text(raw_parent, 8)
        if parent is None:
            raise fail(f"parentSpanId {raw_parent!r} is not an 8-byte id")
    if type(span_name) is not str:
        raise fail("has no name" if span_name is None else "name is not a string")
    start = _nanos(_get(span, "startTimeUnixNano", "start_time_unix_nano"))
    if start is None:
        raise fail("has no startTimeUnixNano (a time in ns since the epoch)")
    raw_end = _get(span, "endTimeUnixNano", "end_time_unix_nano")
    end = None if raw_end in (None, 0, "0") else _nanos(raw_end)
    if raw_end not in (None, 0, "0") and end is None:
        raise fail(f"endTimeUnixNano {raw_end!r} is not a time in ns")
    if end is not None and end < start:
        raise fail("ends before it starts (endTimeUnixNano < startTimeUnixNano)")
    try:
        attributes = _attributes(span.get("attributes"), "attributes")
        events = []
        for e, event in enumerate(span.get("events") or ()):
            if not isinstance(event, Mapping):
                raise ValueError(f"events[{e}] is {_kind(event)}, not an object")
            at = _nanos(_get(event, "timeUnixNano", "time_unix_nano"))
            if at is None:
                raise ValueError(f"events[{e}] has no timeUnixNano")
            event_name = event.get("name")
            events.append(
                (
                    event_name if type(event_name) is str else "",
                    at,
                    _attributes(event.get("attributes"), f"events[{e}].attributes"),
                )
            )
        status = span.get("status") or {}
        if not isinstance(status, Mapping):
            raise ValueError(f"status is {_kind(status)}, not an object")
        code = status.get("code", 0)
        if code not in _STATUS_CODES:
            raise ValueError(f"status code {code!r} is not one of OTLP's (0, 1, 2)")
        message = status.get("message") or ""
    except ValueError as error:
        raise fail(str(error)) from None
    except RecursionError:
        raise fail(_TOO_DEEP) from None
    return _Span(
        trace_id, span_id, parent, span_name, start, end, attributes, events,
        _STATUS_CODES[code], str(message), where,
    )  # fmt: skip


def _attributes(items: Any, what: str) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise ValueError(f"{what} is {_kind(items)}, not an array")
    out = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or type(item.get("key")) is not str:
            raise ValueError(f"{what}[{i}] is not a {{key, value}} object")
        out[item["key"]] = _any_value(item.get("value"), f"{what}[{i}] ({item['key']!r})")
    return out


def _any_value(value: Any, what: str) -> Any:
    """An OTLP ``AnyValue`` as a Python value."""
    if value is None or value == {}:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{what}: value is {_kind(value)}, not an AnyValue object")
    for key, item in value.items():
        if key in ("stringValue", "string_value"):
            if type(item) is not str:
                raise ValueError(f"{what}: stringValue is not a string")
            return item
        if key in ("boolValue", "bool_value"):
            if type(item) is not bool:
                raise ValueError(f"{what}: boolValue is not true or false")
            return item
        if key in ("intValue", "int_value"):
            try:
                if type(item) is bool or isinstance(item, float):
                    raise ValueError
                return int(item)
            except (TypeError, ValueError):
                raise ValueError(f"{what}: intValue {item!r} is not an integer") from None
        if key in ("doubleValue", "double_value"):
            if isinstance(item, str) and item in ("NaN", "Infinity", "-Infinity"):
                return float(item.replace("Infinity", "inf"))
            if type(item) not in (int, float):
                raise ValueError(f"{what}: doubleValue {item!r} is not a number")
            return float(item)
        if key in ("arrayValue", "array_value"):
            values = item.get("values") if isinstance(item, Mapping) else None
            if not isinstance(values or [], list):
                raise ValueError(f"{what}: arrayValue.values is not an array")
            return [_any_value(v, f"{what}[{j}]") for j, v in enumerate(values or ())]
        if key in ("kvlistValue", "kvlist_value"):
            values = item.get("values") if isinstance(item, Mapping) else None
            return _attributes(values or [], what)
        if key in ("bytesValue", "bytes_value"):
            try:
                return base64.b64decode(item, validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise ValueError(f"{what}: bytesValue is not base64") from None
    raise ValueError(f"{what}: no known value field in {sorted(value)}")


def _id_text(value: Any, size: int) -> str | None:
    """An id as lowercase hex: from hex (the OTLP/JSON form) or base64 (protobuf's JSON form)."""
    if type(value) is not str:
        return None
    if len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = None
        if raw is not None:
            return None if not any(raw) else raw.hex()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == size and any(raw) else None


def _trace_id_text(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:032x}"
    if isinstance(value, uuid.UUID):
        return value.hex
    text = str(value).replace("-", "").lower()
    if 0 < len(text) < 32 and all(c in "0123456789abcdef" for c in text):
        text = text.zfill(32)  # an id written as a number in hex
    found = _id_text(text, 16)
    if found is None:
        raise ValueError(f"trace_id {value!r} is not a 16-byte trace id")
    return found


def _nanos(value: Any) -> int | None:
    if type(value) is int:
        return value if value > 0 else None
    if type(value) is str and value.isdigit():
        number = int(value)
        return number if number > 0 else None
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


# ----------------------------------------------------------------------- opentelemetry-sdk spans


def _is_sdk_span(value: Any) -> bool:
    return hasattr(value, "get_span_context") and hasattr(value, "start_time")


def _sdk_span(span: Any) -> _Span:
    context = span.get_span_context()
    trace_id, span_id = f"{context.trace_id:032x}", f"{context.span_id:016x}"
    where = _Where("spans")
    if span.start_time is None:
        raise where.error("has no start time", span=span_id, name=span.name)
    parent = span.parent
    status = span.status
    code = getattr(getattr(status, "status_code", None), "name", "UNSET")
    return _Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=None if parent is None else f"{parent.span_id:016x}",
        name=str(span.name),
        start=int(span.start_time),
        end=None if span.end_time is None else int(span.end_time),
        attributes=_plain(span.attributes),
        events=[(str(e.name), int(e.timestamp), _plain(e.attributes)) for e in span.events],
        status=_STATUS_CODES.get(code, "unset"),
        status_message=getattr(status, "description", None) or "",
        where=where,
    )


def _plain(attributes: Any) -> dict[str, Any]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in (attributes or {}).items()
    }


# ------------------------------------------------------------------------------- the run tree


def _link(spans: list[_Span]) -> list[_Span]:
    """Give each span its run id and parent; refuse cycles; drop exact duplicates."""
    by_id: dict[str, _Span] = {}
    for span in spans:
        seen = by_id.get(span.span_id)
        if seen is None:
            by_id[span.span_id] = span
        elif _key(seen) != _key(span):
            raise span.where.error(
                f"the span id is used twice in trace {span.trace_id} "
                f"(also in {seen.where.path or 'the spans'}"
                + (f" line {seen.where.line})" if seen.where.line else ")"),
                span=span.span_id,
                name=span.name,
            )
    kept = list(by_id.values())
    for span in kept:
        own = span.attributes.get(names.RUN_ID)
        span.run_id = redact_text(own) if type(own) is str and own else _run_id(span, span.span_id)
    for span in kept:
        parent = by_id.get(span.parent_span_id) if span.parent_span_id else None
        if parent is not None:
            span.parent_run_id = parent.run_id
            parent.children.append(span)
        elif span.parent_span_id is not None:  # a parent not in the input: an orphan root
            own = span.attributes.get(names.PARENT_RUN_ID)
            span.parent_run_id = (
                own if type(own) is str and own else _run_id(span, span.parent_span_id)
            )
    ends: set[str] = set()  # spans whose parent chain is known to end
    for span in kept:  # every parent chain must end (a root or a missing parent)
        path, node = {span.span_id: None}, span
        while node.parent_span_id in by_id and node.span_id not in ends:
            node = by_id[node.parent_span_id]  # type: ignore[index]
            if node.span_id in path:
                raise span.where.error(
                    f"its parent spans form a cycle (through span {node.span_id!r})",
                    span=span.span_id,
                    name=span.name,
                )
            path[node.span_id] = None
        ends.update(path)
    return kept


def _key(span: _Span) -> tuple[Any, ...]:
    return (span.parent_span_id, span.name, span.start, span.end)


def _run_id(span: _Span, span_id: str) -> str:
    """The run id of a span that did not come from streamviz: trace id's first 8 bytes + span id.

    (streamviz's own spans keep a run's UUID whole: span id = its last 8 bytes.)
    """
    return str(uuid.UUID(span.trace_id[:16] + span_id))


# ----------------------------------------------------------------------------------- the events


def _events(spans: list[_Span], origin: int) -> Iterator[dict[str, Any]]:
    """The spans' events in time order, each streamed chunk's built as it is appended.

    So a million tokens are never all held as events at once.
    """
    by_run = {span.run_id: span for span in spans}
    keyed: list[tuple[tuple[Any, ...], Any]] = []
    known: dict[str, list[str]] = {}  # run id -> its ancestors' ids, root first
    for span in spans:
        below: list[_Span] = []  # the span and those of its ancestors not known yet
        node: _Span | None = span
        while node is not None and node.run_id not in known:
            below.append(node)
            parent = node.parent_run_id
            node = by_run.get(parent) if parent is not None else None
        for item in reversed(below):
            parent = item.parent_run_id
            if parent is None:
                known[item.run_id] = []
            else:
                known[item.run_id] = [*known.get(parent, ()), parent]
        parent_ids = known[span.run_id]
        keyed.extend(_span_events(span, parent_ids, len(parent_ids), origin))
    keyed.sort(key=lambda pair: pair[0])
    for index, (_, event) in enumerate(keyed):
        keyed[index] = None  # type: ignore[call-overload]  # what was appended is let go
        if type(event) is tuple:  # a streamed chunk: (its run's stream event, t, its attributes)
            shape, t, attributes = event
            made = dict(shape, parent_ids=list(shape["parent_ids"]), tags=list(shape["tags"]))
            made["data"], made["t"] = {"chunk": _chunk(attributes)}, t
            yield made
        else:
            yield event


def _span_events(
    span: _Span, parent_ids: list[str], depth: int, origin: int
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    attrs = span.attributes
    run_type = _run_type(attrs)
    tags = [redact_text(str(tag)) for tag in _as_list(attrs.get(names.TAGS))]
    metadata = _json_attribute(attrs.get(names.METADATA))
    if not isinstance(metadata, dict):
        metadata = {} if metadata is None else {"metadata": metadata}
    thread = 0  # spans do not say which OS thread ran them (names.THREAD is a LangGraph thread)
    base = {
        "name": redact_text(span.name),
        "run_id": span.run_id,
        "parent_ids": parent_ids,
        "tags": tags,
        "metadata": metadata,
    }

    def event(kind: str, ns: int, data: Any, order: tuple[Any, ...]) -> Any:
        made = {"event": kind, **base, "data": data, "t": (ns - origin) / 1e9, "thread": thread}
        made["parent_ids"] = list(parent_ids)
        made["tags"] = list(tags)
        return (ns, *order), made

    stream = event(f"on_{run_type}_stream", origin, None, ())[1]  # shared by its chunks
    inputs = _io(attrs, names.INPUT_VALUE, names.INPUT_MIME_TYPE)
    start_data = {} if inputs is _NONE else {"input": inputs}
    yield event(f"on_{run_type}_start", span.start, start_data, (0, depth, 0))
    error = None
    for index, (event_name, ns, event_attrs) in enumerate(span.events):
        if event_name == names.STREAM_EVENT:
            seq = event_attrs.get(names.SEQ)
            order = (1, seq if type(seq) is int else index, 0)
            yield (ns, *order), (stream, (ns - origin) / 1e9, event_attrs)
        elif event_name == "exception":
            error = error or event_attrs
        else:  # anything else a span recorded (e.g. a custom event): kept, not dropped
            payload = {redact_text(key): _clean(value, key) for key, value in event_attrs.items()}
            custom = {"event": "on_custom_event", **base, "name": redact_text(event_name)}
            custom.update(data=payload, t=(ns - origin) / 1e9, thread=thread)
            custom["parent_ids"], custom["tags"] = list(parent_ids), list(tags)
            yield (ns, 1, index, 0), custom
    if span.end is None:
        return
    status = attrs.get(names.STATUS)
    outputs = _io(attrs, names.OUTPUT_VALUE, names.OUTPUT_MIME_TYPE)
    ending = (2, -depth, 0)
    # A run paused by an interrupt below it ended with an output: the run tree reads its end as
    # "interrupted" once the child's pause is applied (a child ends first, or at the same time).
    paused_below = status == "interrupted" and any(
        child.attributes.get(names.STATUS) == "interrupted" for child in span.children
    )
    if paused_below and outputs is not _NONE:
        status = "ok"
    if (
        status == "cancelled"
        and error is None
        and names.RUN_ID in attrs
        and span.status_message.startswith("abandoned: ")
    ):
        return  # no end of its own in the trace it came from: the run tree closes it again
    if status in _ENDINGS or (status != "ok" and span.status == "error" and status != "running"):
        data = {"error": _error(span, error, status)}
        if inputs is not _NONE:
            data["input"] = inputs
        yield event(f"on_{run_type}_error", span.end, data, ending)
    elif status != "running":
        output = None if outputs is _NONE else outputs
        if run_type in ("llm", "chat_model") and names.RUN_ID not in attrs:
            output = _with_token_counts(output, attrs)
        data = {"output": output}
        if inputs is not _NONE:
            data["input"] = inputs
        yield event(f"on_{run_type}_end", span.end, data, ending)


def _run_type(attrs: Mapping[str, Any]) -> str:
    own = attrs.get(names.RUN_TYPE)
    if type(own) is str and own.isidentifier():
        return own
    kind = attrs.get(names.SPAN_KIND)
    kind = kind.upper() if type(kind) is str else ""
    if kind == "LLM":
        chat = any(key.startswith("llm.input_messages") for key in attrs)
        return "chat_model" if chat else "llm"
    if kind in ("CHAIN", "PROMPT") and "llm.prompt_template.template" in attrs:
        return "prompt"  # OpenInference records a prompt template run's template
    return _RUN_TYPES.get(kind, "chain")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    parsed = _json_attribute(value)
    return parsed if isinstance(parsed, list) else [value]


_NONE: Any = object()


def _io(attrs: Mapping[str, Any], key: str, mime_key: str) -> Any:
    if key not in attrs:
        return _NONE
    value = attrs[key]
    if type(value) is not str:
        return _clean(value)
    if attrs.get(mime_key) == names.JSON_MIME:
        parsed = _json_attribute(value)
        return parsed
    return redact_text(value)


def _json_attribute(value: Any) -> Any:
    """An attribute holding JSON text, parsed, redacted and decoded (other text stays text)."""
    if type(value) is not str:
        return _clean(value)
    try:
        parsed = json.loads(value)
        redacted = _redact_json(parsed)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: kept as text
        return redact_text(value)
    try:
        return from_json(redacted)
    except ValueError:  # a malformed streamviz marker: the data as it is (redacted)
        return redacted


def _chunk(attrs: Mapping[str, Any]) -> Any:
    if names.CHUNK in attrs:
        return _json_attribute(attrs[names.CHUNK])
    text = attrs.get(names.CHUNK_TEXT)
    return redact_text(text) if type(text) is str else _clean(text)


def _redact_json(value: Any) -> Any:
    """JSON data with the redaction of trace files: secret keys' values and secrets in text."""
    if type(value) is str:
        return redact_text(value)
    if type(value) is list:
        return [_redact_json(item) for item in value]
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if key != MARKER and item is not None and is_secret_key(key):
                out[redact_text(key)] = REDACTED
            else:
                out[redact_text(key)] = _redact_json(item)
        return out
    return value


def _clean(value: Any, key: str | None = None) -> Any:
    """A plain attribute value, redacted (bytes are kept as bytes)."""
    if key is not None and value is not None and is_secret_key(key):
        return REDACTED
    if isinstance(value, (str, list, dict)):
        return _redact_json(value)
    return value


def _error(span: _Span, exception: dict[str, Any] | None, status: Any) -> SerializedError:
    kind, module = _ENDINGS.get(status, ("Error", ""))
    message = span.status_message
    if exception:
        full = exception.get("exception.type")
        if type(full) is str and full:
            module, _, kind = full.rpartition(".")
            module = module or "builtins"
        text = exception.get("exception.message")
        if type(text) is str:
            message = text
    return SerializedError(redact_text(kind), redact_text(module), redact_text(message))


def _with_token_counts(output: Any, attrs: Mapping[str, Any]) -> Any:
    """An OpenInference model span's token counts where streamviz's usage reads them.

    That is a legacy LLM's ``llm_output["token_usage"]``, unless the output already has one.
    """
    counts = {
        "prompt_tokens": attrs.get(names.TOKEN_COUNT_PROMPT),
        "completion_tokens": attrs.get(names.TOKEN_COUNT_COMPLETION),
        "total_tokens": attrs.get(names.TOKEN_COUNT_TOTAL),
    }
    counts = {key: value for key, value in counts.items() if type(value) is int}
    if not counts:
        return output
    if output is None:
        output = {}
    if not isinstance(output, dict):
        return output
    llm_output = output.get("llm_output")
    if llm_output is None:
        llm_output = output["llm_output"] = {}
    if isinstance(llm_output, dict) and not llm_output.get("token_usage"):
        llm_output["token_usage"] = counts
        model = attrs.get(names.MODEL_NAME)
        if type(model) is str and "model_name" not in llm_output:
            llm_output["model_name"] = redact_text(model)
    return output

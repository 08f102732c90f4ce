"""A LangGraph API server's raw event stream (``curl -N``, or the JS SDK's chunks) as a Trace.

``sv.from_sse(source)`` reads what ``curl -N --request POST .../threads/<id>/runs/stream`` (or
``/runs/stream``, or ``GET .../runs/<id>/stream``) prints: the server's ``text/event-stream``
body, as the HTML standard's event-stream grammar reads it:

- ``event: <mode>``, ``data: <JSON>`` and ``id: <event id>`` lines, one event per blank-line
  separated block (``data:`` lines of one block are joined with a newline; one space after the
  colon is dropped; ``:`` lines are comments; LF, CRLF and CR line ends; a UTF-8 BOM first);
- the event id is kept until the next ``id:`` line (a resumable run's ids say when the server
  queued each part: see :func:`streamviz.sources.remote.server_time`);
- a last block without its blank line is still an event (a stream cut off by ``Ctrl-C``);
- with ``curl -i`` (or ``-D -``) the response head comes first: its ``Content-Location``
  (``/threads/<thread id>/runs/<run id>``) names the run and the thread, as the SDK's
  ``on_run_created`` does.

It also reads the **JSON-lines** form: one JSON object per line, ``{"event", "data", "id"?}``,
what ``console.log(JSON.stringify(chunk))`` prints for each chunk of the JavaScript SDK's
``client.runs.stream`` (and what ``json.dumps(part._asdict())`` prints in Python). The form is
told by the first line that is not blank: ``{`` starts a JSON line.

Each event becomes one SDK ``StreamPart(event, data, id)`` and goes through the same recorder as
``sv.watch_remote`` (:class:`streamviz.sources.remote.RemoteParts`), so the trace holds the same
runs and events as watching that run with the Python SDK. What the stream cannot say is taken
from the request (``request=``: the JSON body that was posted, for the assistant id, the input
and the stream modes) or from the keyword arguments.

A stream that is not one (a line that is neither a field, a comment nor blank; ``data`` that is
not JSON; an event without ``event:``; a JSON line that is not an object with ``event``) raises
:class:`streamviz.TraceFileError` naming the line; nothing is guessed. The trace's ``t`` is the
time each part was read here (a file has no arrival times), except for a resumable run, whose
parts each say when the server queued them (their ``id``): then ``t`` and ``server_t`` are that
time, in seconds from the first part.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple

from streamviz._persistence import TraceFileError
from streamviz.sources.remote import RemoteParts, server_time
from streamviz.trace import Trace

__all__ = ["SSEPart", "from_sse", "parse_sse"]

_FIELDS = ("event", "data", "id", "retry")
_CONTENT_LOCATION = re.compile(r"/threads/([^/\s]+)/runs/([^/\s?]+)|/runs/([^/\s?]+)")


class SSEPart(NamedTuple):
    """One server-sent event: the SDK's ``StreamPart`` fields, plus where it was in the source."""

    event: str
    data: Any
    id: str | None
    line: int
    """The 1-based line its block (or its JSON line) starts on."""


class _Head(NamedTuple):
    thread_id: str | None
    run_id: str | None


def _lines(source: Any) -> tuple[Iterator[str], str | None]:
    """The source's lines (line ends stripped; LF, CRLF or CR) and its file name if it has one."""
    if isinstance(source, (bytes, bytearray)):
        return iter(bytes(source).decode("utf-8", errors="replace").splitlines()), None
    if isinstance(source, os.PathLike) or (
        isinstance(source, str)
        and "\n" not in source
        and "\r" not in source
        and source
        and not source.lstrip().startswith(("event:", "data:", "id:", ":", "{", "HTTP/"))
    ):
        path = os.fspath(source)
        with open(path, "rb") as stream:  # small: a server stream of one run
            text = stream.read().decode("utf-8", errors="replace")
        return iter(text.splitlines()), str(path)
    if isinstance(source, str):
        return iter(source.splitlines()), None
    if isinstance(source, (io.IOBase,)) or hasattr(source, "read"):
        text = source.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        return iter(text.splitlines()), getattr(source, "name", None)
    if isinstance(source, Iterable):
        return _split_each(source), None
    raise TypeError(f"from_sse reads a path, text, bytes, a file or lines, not {type(source)}")


def _split_each(lines: Iterable[Any]) -> Iterator[str]:
    for line in lines:
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line).decode("utf-8", errors="replace")
        if not isinstance(line, str):
            raise TypeError(f"from_sse reads lines of text, not {type(line)}")
        yield from line.splitlines() or [""]


def parse_sse(source: Any) -> tuple[list[SSEPart], dict[str, str | None]]:
    """The events of a raw stream (either form), and what its response head says.

    Returns ``(parts, head)``; ``head`` holds ``thread_id`` and ``run_id`` from a
    ``Content-Location`` header when the stream starts with its HTTP response head, else
    ``None`` each. Raises :class:`streamviz.TraceFileError` naming the line at fault.
    """
    lines, path = _lines(source)
    numbered = enumerate(lines, start=1)
    head = _Head(None, None)
    for number, line in numbered:
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        if line.startswith("HTTP/"):
            head = _read_head(numbered)
            continue
        if line.lstrip().startswith("{"):
            parts = _json_lines(line, number, numbered, path)
        else:
            parts = _event_stream(line, number, numbered, path)
        if not parts:
            raise TraceFileError("no server-sent events in the stream", path=path)
        return parts, head._asdict()
    raise TraceFileError("no server-sent events in the stream (it is empty)", path=path)


def _read_head(numbered: Iterator[tuple[int, str]]) -> _Head:
    """Headers after an ``HTTP/1.1 200 OK`` line, up to the blank line that ends them."""
    found = _Head(None, None)
    for _number, line in numbered:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-location":
            match = _CONTENT_LOCATION.search(value)
            if match is not None:
                found = _Head(match.group(1), match.group(2) or match.group(3))
    return found


def _event_stream(
    first: str, first_number: int, numbered: Iterator[tuple[int, str]], path: str | None
) -> list[SSEPart]:
    parts: list[SSEPart] = []
    event: str | None = None
    data: list[str] = []
    last_id: str | None = None
    start = data_line = 0

    def dispatch() -> None:
        nonlocal event, data, start
        if event is None and not data:
            start = 0
            return  # a block of comments, ids or retries only: nothing to dispatch
        if event is None:
            raise TraceFileError(
                "a data block without an 'event:' line (the LangGraph server names every event)",
                path=path,
                line=start,
            )
        payload: Any = None
        body = "\n".join(data)
        if body.strip():
            try:
                payload = json.loads(body)
            except ValueError as error:
                raise TraceFileError(
                    f"the data of event {event!r} is not JSON ({error})", path=path, line=data_line
                ) from None
        parts.append(SSEPart(event, payload, last_id or None, start))
        event, data, start = None, [], 0

    def lines() -> Iterator[tuple[int, str]]:
        yield first_number, first
        yield from numbered

    for number, line in lines():
        if not line:
            dispatch()
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if not colon or field not in _FIELDS:
            shown = line if len(line) <= 60 else line[:57] + "..."
            raise TraceFileError(
                f"not a server-sent event line (event:, data:, id:, retry: or a ':' comment): "
                f"{shown!r}",
                path=path,
                line=number,
            )
        value = value.removeprefix(" ")
        if not start:
            start = number
        if field == "event":
            event = value
        elif field == "data":
            if not data:
                data_line = number
            data.append(value)
        elif field == "id" and "\0" not in value:
            last_id = value
    dispatch()  # a stream cut off after its last event's lines: the SDK dispatches it too
    return parts


def _json_lines(
    first: str, first_number: int, numbered: Iterator[tuple[int, str]], path: str | None
) -> list[SSEPart]:
    parts: list[SSEPart] = []

    def lines() -> Iterator[tuple[int, str]]:
        yield first_number, first
        yield from numbered

    for number, line in lines():
        if not line.strip():
            continue
        try:
            chunk = json.loads(line)
        except ValueError as error:
            raise TraceFileError(f"not a JSON line ({error})", path=path, line=number) from None
        if not isinstance(chunk, dict) or not isinstance(chunk.get("event"), str):
            raise TraceFileError(
                "a JSON line must be an object with a string 'event' (a stream chunk: "
                "{event, data, id})",
                path=path,
                line=number,
            )
        part_id = chunk.get("id")
        parts.append(SSEPart(chunk["event"], chunk.get("data"), _id_text(part_id), number))
    return parts


def _id_text(part_id: Any) -> str | None:
    return None if part_id is None or part_id == "" else str(part_id)


def from_sse(
    source: str | os.PathLike[str] | bytes | IO[Any] | Iterable[str],
    *,
    request: Mapping[str, Any] | str | None = None,
    assistant_id: str | None = None,
    thread_id: str | None = None,
    input: Any = None,
    stream_mode: str | list[str] | None = None,
    name: str | None = None,
) -> Trace:
    """Read a LangGraph server's raw run stream into a :class:`Trace`, as ``watch_remote`` shows it.

    Parameters
    ----------
    source
        What ``curl -N`` printed for ``POST /threads/<id>/runs/stream`` (or ``/runs/stream``):
        a file path, the text itself, bytes, an open file or an iterable of lines. Or the
        JSON-lines form, one ``{"event", "data", "id"}`` object per line (the JavaScript SDK's
        chunks as ``console.log(JSON.stringify(chunk))`` prints them). See the module doc.
    request
        The JSON body that was posted (a dict, or its text as passed to ``curl --data``): its
        ``assistant_id``, ``input`` (or ``command``) and ``stream_mode`` are recorded as
        ``sv.watch_remote`` records its arguments. The keyword arguments below win over it.
    assistant_id, thread_id, input, stream_mode
        As given to ``sv.watch_remote`` (the root run's name, its input and its metadata).
        ``thread_id`` also comes from the path in a ``Content-Location`` header (``curl -i``).
    name
        The trace's name (default: the assistant id).

    Returns
    -------
    Trace
        With ``trace.result`` set to the last root ``values`` part (as ``watch_remote``).

    Raises
    ------
    streamviz.TraceFileError
        If the source is not an event stream; the message names the line (and the file).

    Examples
    --------
    >>> # curl -N --request POST --url $URL/threads/$THREAD/runs/stream ... > run.sse
    >>> trace = sv.from_sse("run.sse", request=body)  # doctest: +SKIP
    """
    parts, head = parse_sse(source)
    body = _request_body(request)
    if assistant_id is None:
        assistant_id = body.get("assistant_id")
    if input is None:
        command = body.get("command")
        input = body.get("input") if command is None else {"command": command}
    if stream_mode is None:
        stream_mode = body.get("stream_mode")
    if thread_id is None:
        thread_id = head["thread_id"]
    trace = Trace(name or assistant_id or "server run")
    recorder = RemoteParts(
        trace,
        assistant_id,
        thread_id=thread_id,
        run_id=head["run_id"],
        input=input,
        stream_mode=stream_mode,
    )
    first = next((sent for sent in map(server_time, parts) if sent is not None), None)
    if first is not None:
        recorder.server_zero = first  # server_t: seconds since the stream's first part
    if head["run_id"] is not None:
        recorder.run_created({"run_id": head["run_id"], "thread_id": thread_id})
    for part in parts:
        recorder.record(part)
    recorder.finish()
    result = recorder.result
    if first is not None and all(server_time(part) is not None for part in parts):
        trace = _on_server_clock(trace)
    trace.result = result
    return trace


def _on_server_clock(read: Trace) -> Trace:
    """The trace with each event's ``t`` on the server's clock (a resumable run's stream).

    A file has no arrival times, but every part of a resumable run says when the server queued
    it (``server_t``, from its first part): that is the best time there is. The root run's start
    and end, which no part stamps, take the time of the part next to them.
    """
    events = list(read.events)
    times = [event.get("server_t") for event in events]
    known = 0.0
    for index, value in enumerate(times):  # forward: each event at its part's time, or after
        if value is None:
            times[index] = known
        else:
            known = max(known, value)
            times[index] = known
    for event, t in zip(events, times, strict=True):
        event["t"] = t
    trace = Trace.from_events(events, read.name)
    trace.created = read.created
    return trace


def _request_body(request: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if request is None:
        return {}
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except ValueError as error:
            raise ValueError(f"request is not JSON: {error}") from None
    if not isinstance(request, Mapping):
        raise ValueError("request is the JSON object posted to the server (a dict or its text)")
    return request

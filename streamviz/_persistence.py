"""Trace files: a JSONL header line, then one :func:`to_json`-encoded event per line.

The columnar formats (Parquet, Arrow IPC) are written and read by :mod:`streamviz._columnar`;
:func:`write_trace` and :func:`read_trace` pick the format from the file name.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from json.decoder import scanstring
from json.encoder import encode_basestring
from typing import IO, Any

from ._log import ChunkBlock, EventStore, Shape
from ._redact import redact_pieces, redact_text
from ._serialization import (
    MARKER,
    from_json,
    may_hold_markers,
    shared_credit,
    shared_objects,
    to_json,
)
from ._validate import MAX_T, SEQ_RANGE, THREAD_RANGE, Budget, open_regular
from .events import stream_text, with_stream_text

__all__ = [
    "FORMATS",
    "MAX_LINE_BYTES",
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "TraceFileError",
    "TraceFileWarning",
    "read_trace",
    "trace_format",
    "write_trace",
]

TRACE_FORMAT = "streamviz-trace"
TRACE_VERSION = 1
# Far above any real event, yet small enough that a corrupt or hostile file fails with a clear
# message instead of exhausting memory while one gigantic "line" is read.
MAX_LINE_BYTES = 64 * 1024 * 1024

# Expected JSON types of event keys, phrased for error messages.
_STR, _STR_LIST, _OBJECT = "a string", "a list of strings", "an object"
_FINITE = f"a finite number of seconds from {-MAX_T:.0e} to {MAX_T:.0e}"
_INT = "an integer from -2**63 to 2**63 - 1"
_THREAD = "an integer from 0 to 2**64 - 1"
_REQUIRED_KEYS = {
    "event": _STR, "name": _STR, "run_id": _STR, "parent_ids": _STR_LIST, "tags": _STR_LIST,
    "metadata": _OBJECT, "t": _FINITE, "seq": _INT,
}  # fmt: skip
_OPTIONAL_KEYS = {"thread": _THREAD, "mode": _STR, "ns": _STR_LIST, "server_t": _FINITE}
_INT_RANGES = {_INT: SEQ_RANGE, _THREAD: THREAD_RANGE}
_HEADER_KEYS = ("format", "version", "streamviz", "created")

FORMATS = ("jsonl", "parquet", "arrow")
"""Trace file formats: JSON Lines (the default), Parquet and Arrow IPC (the file format)."""
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow"}
# Leading bytes of a Parquet file and of an Arrow IPC file.
_MAGIC = ((b"PAR1", "parquet"), (b"ARROW1", "arrow"))


class TraceFileError(ValueError):
    """A trace file that cannot be read, with the ``path`` and 1-based ``line`` at fault.

    ``line`` is ``None`` when the problem is not tied to a line (an empty file, a columnar file).
    The message names both, e.g. ``run.jsonl, line 7: event is missing key 'run_id'``; for a
    columnar file it names the 0-based ``row`` instead, when one row is at fault.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        row: int | None = None,
    ):
        self.reason = reason
        self.path = path
        self.line = line
        self.row = row
        """0-based row at fault in a columnar (Parquet, Arrow) file, else ``None``."""
        places = (path, line and f"line {line}", row is not None and f"row {row}")
        where = ", ".join(part for part in places if part)
        super().__init__(f"{where}: {reason}" if where else reason)


class TraceFileWarning(UserWarning):
    """A trace file loaded, but not whole: its last line was cut off mid-write.

    A file written while a program runs (``sv.capture(path=...)``) ends with a partial line if
    the program was killed during a write, or while it is still being written; loading keeps
    every complete line before it and warns with this category.
    """


def _is_path(target: Any) -> bool:
    return isinstance(target, (str, bytes, os.PathLike))


def _check_type(value: Any, expected: str) -> bool:
    if expected == _STR:
        return isinstance(value, str)
    if expected == _STR_LIST:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if expected == _OBJECT:
        return isinstance(value, dict)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == _FINITE:  # an int too big for a float is out of range too (no OverflowError)
        return is_number and -MAX_T <= value <= MAX_T
    low, high = _INT_RANGES[expected]
    return is_number and isinstance(value, int) and low <= value < high


def _event_problem(encoded: Any) -> str | None:
    """Describe what is wrong with an encoded event, or return None if it is well formed."""
    if not isinstance(encoded, dict) or MARKER in encoded:
        return "event is not a JSON object with string keys"
    for key, expected in _REQUIRED_KEYS.items():
        if key not in encoded:
            return f"event is missing key {key!r}"
        if not _check_type(encoded[key], expected):
            return f"event key {key!r} must be {expected}, not {_describe(encoded[key])}"
    for key, expected in _OPTIONAL_KEYS.items():
        if key in encoded and not _check_type(encoded[key], expected):
            return f"event key {key!r} must be {expected}, not {_describe(encoded[key])}"
    if "data" not in encoded:  # a run's life-cycle event always has data (maybe {}): add it
        encoded["data"] = {}
    return None


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _encode_line(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates cannot be written as UTF-8; JSON \u escapes keep them exactly.
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")


def trace_format(path_or_file: Any, format: str | None = None) -> str:
    """The format of a trace file: ``format`` if given, else from the file name's suffix.

    ``.parquet`` (or ``.pq``) is Parquet, ``.arrow`` (or ``.feather``) Arrow IPC, anything else
    (``.jsonl``, no name: a file object) JSON Lines.
    """
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"unknown trace file format {format!r}; expected one of {FORMATS}")
        return format
    if _is_path(path_or_file):
        name = os.fsdecode(os.fspath(path_or_file))
    else:
        name = getattr(path_or_file, "name", None)
        if not isinstance(name, str):
            return "jsonl"
    return _SUFFIXES.get(os.path.splitext(name)[1].lower(), "jsonl")


def _sniff(path_or_file: Any) -> str | None:
    """The columnar format a file's first bytes announce, for a name without a known suffix."""
    try:
        if _is_path(path_or_file):
            with open(path_or_file, "rb") as stream:
                start = stream.read(6)
        elif isinstance(path_or_file, (io.RawIOBase, io.BufferedIOBase)) and (
            path_or_file.seekable()
        ):
            where = path_or_file.tell()
            start = path_or_file.read(6)
            path_or_file.seek(where)
        else:
            return None
    except OSError:
        return None  # the reader reports it
    return next((kind for magic, kind in _MAGIC if start.startswith(magic)), None)


def make_header(streamviz_version: str, extra: Mapping | None, version: int = 1) -> dict[str, Any]:
    """The header of a trace file (encoded with :func:`to_json`): format, versions, extras."""
    header: dict[str, Any] = {
        "format": TRACE_FORMAT,
        "version": version,
        "streamviz": str(streamviz_version),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
    }
    if extra:
        encoded_extra = to_json(dict(extra))
        if not isinstance(encoded_extra, dict) or MARKER in encoded_extra:
            raise ValueError("extra_header must be a mapping with string keys other than '__sv__'")
        clash = sorted(set(encoded_extra) & set(_HEADER_KEYS))
        if clash:
            raise ValueError(f"extra_header may not override reserved keys {clash}")
        header.update(encoded_extra)
    return header


def encode_header_line(streamviz_version: str, extra: Mapping | None) -> bytes:
    """The header line of a JSONL trace file, without its newline (see :func:`make_header`)."""
    return _encode_line(make_header(streamviz_version, extra))


def encode_event_line(event: Mapping[str, Any], index: int) -> bytes:
    """One event as a JSONL trace line, without its newline: encoded and redacted.

    ``index`` names the event in errors. Raises ``ValueError`` if the event lacks a required
    key, has a wrongly typed one, or encodes to a line longer than :data:`MAX_LINE_BYTES`.
    Used by :func:`write_trace` and, a batch at a time, by the journal of a live capture
    (:mod:`streamviz._journal`), so both write the very same lines.
    """
    encoded = to_json(event)
    problem = _event_problem(encoded)
    if problem is not None:
        raise ValueError(f"cannot write event {index}: {problem}")
    line = _encode_line(encoded)
    if len(line) > MAX_LINE_BYTES:  # a file read_trace would refuse: cut the biggest values
        line = _encode_line(_without_huge_values(encoded))
    if len(line) > MAX_LINE_BYTES:
        # Writing it would produce a file that read_trace refuses; fail now instead.
        raise ValueError(
            f"cannot write event {index}: it encodes to {len(line):,} bytes, more than "
            f"the {MAX_LINE_BYTES:,} bytes a trace line may hold"
        )
    return line


def _without_huge_values(encoded: dict[str, Any]) -> dict[str, Any]:
    """An encoded event whose line would be too long, its biggest values as repr markers.

    Each value of ``data`` (an input, an output, a chunk) and of ``metadata`` whose JSON text is
    over a quarter of :data:`MAX_LINE_BYTES` becomes a ``repr`` marker holding its start and
    saying why, so one huge value costs that value, not the whole save.
    """
    cap = MAX_LINE_BYTES // 4
    out = dict(encoded)
    for key in ("data", "metadata"):
        fields = out.get(key)
        if not isinstance(fields, dict) or MARKER in fields:
            if fields is not None and len(_encode_line(fields)) > cap:
                out[key] = {"value": _huge_marker(fields, _encode_line(fields))}
            continue
        kept = {}
        for name, value in fields.items():
            text = _encode_line(value)
            kept[name] = _huge_marker(value, text) if len(text) > cap else value
        out[key] = kept
    return out


def _huge_marker(value: Any, text: bytes) -> dict[str, Any]:
    kind = value.get("type") if isinstance(value, dict) and MARKER in value else None
    if not isinstance(kind, str):
        kind = f"builtins.{type(value).__name__}"
    return {
        MARKER: "repr",
        "type": kind,
        "repr": text[:10_000].decode("utf-8", "ignore") + "...",
        "error": f"value of {len(text):,} bytes left out: over the {MAX_LINE_BYTES // 4:,}"
        " bytes a trace file keeps of one value",
    }


def _encode_lines(
    events: Iterable[Mapping[str, Any]] | EventStore,
    streamviz_version: str,
    extra: Mapping | None,
) -> Iterable[bytes]:
    yield encode_header_line(streamviz_version, extra)
    if isinstance(events, EventStore):
        yield from _store_lines(events)
        return
    for index, event in enumerate(_without_split_secrets(list(events))):
        yield encode_event_line(event, index)


def _without_split_secrets(events: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``events`` with the stream chunks of a secret split across tokens redacted.

    What :meth:`EventStore.stream_secrets` does for a store's rows, for a list of event dicts:
    the text chunks (strings, text message chunks, LangGraph ``messages`` parts) of each run's
    stream are joined, and an event whose share of a secret changes gets a copy with its
    chunk's text from :func:`~streamviz._redact.redact_pieces`.
    """
    streams: dict[tuple[Any, Any], list[tuple[int, str]]] = {}
    for index, event in enumerate(events):
        name = event.get("event")
        if not isinstance(name, str) or not (
            name.endswith("_stream") or event.get("mode") in ("messages", "messages-tuple")
        ):
            continue
        data = event.get("data")
        text = stream_text(data.get("chunk")) if isinstance(data, dict) else None
        if text is not None:
            key = (event.get("run_id"), name)
            streams.setdefault(key, []).append((index, text))
    out = events
    for pieces in streams.values():
        redacted = redact_pieces([text for _, text in pieces])
        if redacted is None:
            continue
        if out is events:
            out = list(events)
        for (index, old), new in zip(pieces, redacted, strict=True):
            if new != old:
                event = out[index]
                chunk = with_stream_text(event["data"]["chunk"], new)
                out[index] = {**event, "data": {**event["data"], "chunk": chunk}}
    return out


# Stand-ins for the values a shape's events do not share (see Skeleton); strings the encoder and
# redaction leave as they are, and that no real event holds.
TEXT_MARK = "\x00sv:text\x00"
_T_MARK, _SEQ_MARK, _THREAD_MARK = "\x00sv:t\x00", "\x00sv:seq\x00", "\x00sv:thread\x00"
_SERVER_T_MARK = "\x00sv:server_t\x00"


def split_on_marks(text: str, marks: Mapping[str, str]) -> tuple[list[str], list[str]] | None:
    """``text`` cut at the JSON literal of each mark (each must occur exactly once).

    Returns the pieces between them and the marks' names in the order they occur, or None.
    """
    found = []
    for name, mark in marks.items():
        literal = json.dumps(mark)
        at = text.find(literal)
        if at < 0 or text.find(literal, at + 1) >= 0:
            return None
        found.append((at, len(literal), name))
    found.sort()
    pieces, order, start = [], [], 0
    for at, size, name in found:
        pieces.append(text[start:at])
        order.append(name)
        start = at + size
    pieces.append(text[start:])
    return pieces, order


class Skeleton:
    """The JSONL line of every event of one :data:`~streamviz._log.Shape`, but for its holes.

    The events of a run's streamed tokens differ only in the chunk's text, ``t``, ``seq`` and
    ``thread``: the rest of the line is encoded (and redacted, and checked) once per shape, and
    each event's line is the pieces joined with its own values, encoded as :func:`to_json` and
    :func:`json.dumps` encode them. :meth:`line` returns None for a value it cannot write so
    (a non-finite ``t``, a lone surrogate): that event takes the full path.
    """

    __slots__ = ("_order", "_pieces", "_timed")

    def __init__(self, pieces: list[str], order: list[str]) -> None:
        self._pieces = pieces
        self._order = order
        self._timed = "server_t" in order

    @classmethod
    def of(cls, store: EventStore, shape: Shape) -> Skeleton | None:
        event = store.shape_event(shape, TEXT_MARK)
        event["t"], event["seq"] = _T_MARK, _SEQ_MARK
        marks = {"text": TEXT_MARK, "t": _T_MARK, "seq": _SEQ_MARK}
        numbers: dict[str, Any] = {"t": 0.0, "seq": 0}
        if "thread" in event:
            event["thread"] = _THREAD_MARK
            marks["thread"] = _THREAD_MARK
            numbers["thread"] = 0
        if "server_t" in event:  # a resumable server run's part: when the server sent it
            event["server_t"] = _SERVER_T_MARK
            marks["server_t"] = _SERVER_T_MARK
            numbers["server_t"] = 0.0
        encoded = to_json(event)
        # Encoded once, with marks for the holes: a shape whose events a file cannot hold (as
        # encode_event_line checks them, with numbers in the holes) takes the full path.
        if not isinstance(encoded, dict) or _event_problem({**encoded, **numbers}) is not None:
            return None
        found = split_on_marks(_encode_line(encoded).decode("utf-8"), marks)
        return None if found is None else cls(*found)

    @property
    def pieces(self) -> list[str]:
        """The line's text between its holes."""
        return self._pieces

    @property
    def order(self) -> list[str]:
        """The holes (``text``, ``t``, ``seq``, ``thread``, ``server_t``), in their order."""
        return self._order

    def line(
        self, text: str, t: float, seq: int, thread: int, server_t: float = 0.0
    ) -> bytes | None:
        """The event's JSONL line (without its newline), or None if it takes the full path."""
        if t - t != 0 or (self._timed and server_t - server_t != 0):
            return None  # inf or nan: written as a marker by the full path
        values = {
            "text": encode_basestring(redact_text(text)),
            "t": repr(t),
            "seq": str(seq),
            "thread": str(thread),
            "server_t": repr(server_t),
        }
        pieces = self._pieces
        parts = [pieces[0]]
        for index, name in enumerate(self._order, 1):
            parts.append(values[name])
            parts.append(pieces[index])
        try:
            line = "".join(parts).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the full path escapes it
            return None
        return line if len(line) <= MAX_LINE_BYTES else None


def _store_lines(store: EventStore) -> Iterator[bytes]:
    """The JSONL lines of a store's events: rows of a known shape from their skeleton."""
    skeletons: dict[Shape, Skeleton | None] = {}
    position = 0
    # Texts of a stream holding a secret split across its tokens come redacted (_redact).
    for item in store.blocks(most=16_384, secret_free=True):
        if type(item) is not ChunkBlock:
            yield encode_event_line(item, position)
            position += 1
            continue
        shapes, texts = item.shapes()
        times, threads, seqs = item.times(), item.threads(), item.seqs()
        server_times = item.server_times() if store.has_server_times() else None
        for offset, shape in enumerate(shapes):
            line = None
            if shape is not None:
                skeleton = skeletons.get(shape, _UNKNOWN)
                if skeleton is _UNKNOWN:
                    skeleton = skeletons[shape] = Skeleton.of(store, shape)
                if skeleton is not None:
                    line = skeleton.line(
                        texts[offset], times[offset], seqs[offset], threads[offset],
                        0.0 if server_times is None else server_times[offset],
                    )  # fmt: skip
            yield (
                line
                if line is not None
                else encode_event_line(store.event(item.seq + offset), position)
            )
            position += 1


_UNKNOWN: Any = object()


def write_trace(
    path_or_file: str | os.PathLike[str] | IO[Any],
    events: Iterable[Mapping[str, Any]] | EventStore,
    *,
    streamviz_version: str,
    extra_header: Mapping[str, Any] | None = None,
    format: str | None = None,
) -> None:
    """Save events as a streamviz trace file: JSON Lines (UTF-8), Parquet or Arrow IPC.

    Parameters
    ----------
    path_or_file : str, os.PathLike or file object
        A path, written atomically (temporary file in the same directory, then
        :func:`os.replace`; a new file is created readable by its owner only, an existing
        file keeps its permissions), or an open file object, written at its current position
        and not closed (text or binary for JSON Lines, binary for the columnar formats).
    events : iterable of mapping
        Events shaped like ``astream_events(version="v2")`` dicts plus ``t`` and ``seq``.
        Each whole event is encoded as :func:`to_json` encodes it, so secrets anywhere are
        redacted.
    streamviz_version : str
        Recorded in the header as ``"streamviz"``.
    extra_header : mapping, optional
        More header keys (encoded with :func:`to_json`); they may not replace ``format``,
        ``version``, ``streamviz`` or ``created``.
    format : {"jsonl", "parquet", "arrow"}, optional
        The file format; by default it follows the name's suffix (see :func:`trace_format`).
        The columnar formats need pyarrow (``pip install 'streamviz[parquet]'``).

    Raises
    ------
    ValueError
        If an event lacks a required key, has a wrongly typed one, or is too large to be read
        back. Nothing is written in that case (for a path, the old file is left untouched).
    ImportError
        For a columnar format when pyarrow is not installed.

    """
    kind = trace_format(path_or_file, format)
    if kind != "jsonl":
        from streamviz._columnar import write_columnar

        header = make_header(streamviz_version, extra_header)
        write_columnar(path_or_file, events, header, kind)
        return
    lines = _encode_lines(events, streamviz_version, extra_header)
    if not _is_path(path_or_file):
        # Encode everything first so a bad event leaves the caller's file untouched.
        blob = b"".join(line + b"\n" for line in lines)
        mode = getattr(path_or_file, "mode", "")
        binary = isinstance(path_or_file, (io.RawIOBase, io.BufferedIOBase)) or (
            isinstance(mode, str) and "b" in mode
        )
        path_or_file.write(blob if binary else blob.decode("utf-8"))
        return

    def write_lines(handle: IO[bytes]) -> None:
        for line in lines:
            handle.write(line)
            handle.write(b"\n")

    write_atomically(path_or_file, write_lines)


def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to ``path``.

    A new file is readable by its owner only; an existing one keeps its permissions. If
    ``write`` raises, the temporary file is removed and ``path`` is left as it was.
    """
    target = os.fsdecode(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(target))
    fd, temp = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, os.stat(target).st_mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def read_trace(
    path_or_file: str | os.PathLike[str] | IO[Any],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    format: str | None = None,
    into: EventStore | None = None,
    max_bytes: int | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Load a trace file written by :func:`write_trace`.

    Parameters
    ----------
    path_or_file : str, os.PathLike or file object
        A path or an open file object (binary, or for JSON Lines text opened with
        ``encoding="utf-8"``).
    max_line_bytes : int, optional
        Longest JSON Lines line accepted (characters for a text stream). Defaults to 64 MiB.
    format : {"jsonl", "parquet", "arrow"}, optional
        The file format. By default it follows the name's suffix (see :func:`trace_format`);
        a file without a known suffix is read as Parquet or Arrow if its first bytes say so,
        else as JSON Lines.

    into : EventStore, optional
        Append the events to this store as they are read (``events`` is then empty): a run's
        streamed tokens are stored compactly without building each event.
    max_bytes : int, optional
        The most memory the load may take, estimated from each JSON text before it is parsed
        (see :class:`streamviz._validate.Budget`). By default 16 times the bytes read plus
        64 MiB; past it the load fails with a :class:`TraceFileError` saying so.

    Returns
    -------
    header : dict
        The header line (``format``, ``version``, ``streamviz``, ``created`` and extras).
    events : list of dict
        The events, decoded with :func:`from_json`. Loading only rebuilds allow-listed
        LangChain classes by validation; it never imports or executes anything.

    Raises
    ------
    TraceFileError
        If the path is not a regular file (a FIFO, a device, a directory), the load would pass
        ``max_bytes``, the file is empty, lacks a valid header, is of a newer format version, or
        any line is not UTF-8, too long, not JSON, too deeply nested, or not a well-formed
        event (``t`` out of range, say); for a
        columnar file, if it is not a readable Parquet/Arrow file (truncated, say), lacks a
        column, or a row is not a well-formed event.
    ImportError
        For a columnar file when pyarrow is not installed.

    Warns
    -----
    TraceFileWarning
        If the last JSON Lines line is cut off (no newline, not readable: the file was being
        written when it was read, or its writer was killed mid-write). It is skipped; every
        line before it is loaded.

    """
    kind = trace_format(path_or_file, format)
    budget = Budget(max_bytes)
    if _is_path(path_or_file):
        name: str | None = os.fsdecode(os.fspath(path_or_file))

        def refuse(reason: str) -> TraceFileError:
            return TraceFileError(reason, path=name)

        # Only a regular file: a FIFO would block here forever, a device never end.
        with open_regular(path_or_file, refuse) as stream, shared_objects():
            if kind == "jsonl" and format is None:
                kind = _sniff(stream) or kind
            return _read_kind(stream, name, kind, max_line_bytes, into, budget)
    name = getattr(path_or_file, "name", None)
    name = name if isinstance(name, str) else None
    if kind == "jsonl" and format is None:
        kind = _sniff(path_or_file) or kind
    with shared_objects():
        return _read_kind(path_or_file, name, kind, max_line_bytes, into, budget)


def _decode_charged(value: Any, budget: Budget, text: Any = None) -> Any:
    """:func:`from_json` of a value whose text ``budget`` was charged for.

    What its objects shared with earlier ones (see :func:`shared_objects`) would have cost is
    refunded: only those of this value. Given the JSON ``text`` it was parsed from, a text
    holding no marker gives ``value`` itself (:func:`may_hold_markers`).
    """
    if type(text) is str and not may_hold_markers(text):
        return value
    shared_credit()
    decoded = from_json(value)
    budget.refund(shared_credit())
    return decoded


def _read_kind(
    stream: IO[Any],
    name: str | None,
    kind: str,
    limit: int,
    into: EventStore | None,
    budget: Budget,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if kind != "jsonl":
        from streamviz._columnar import read_columnar

        return read_columnar(stream, name, kind, into, budget)
    return _read(stream, name, limit, into, budget)


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


class _LineProblem(Exception):
    """Raised while reading one line; :func:`_read` adds the path and line number."""


class _TornLine(_LineProblem):
    """The last line ends without a newline and cannot be read: a write was cut short."""


def _read(
    stream: IO[Any],
    name: str | None,
    limit: int,
    into: EventStore | None = None,
    budget: Budget | None = None,
) -> tuple[dict, list[dict]]:
    budget = Budget(None) if budget is None else budget
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    loader = None if into is None else _Loader(into)
    number = loaded = 0
    lines = None if isinstance(stream, io.TextIOBase) else _Lines(stream, limit)
    try:
        while True:
            number += 1
            try:
                text, complete = _read_line(stream, limit) if lines is None else lines.next()
            except UnicodeDecodeError as exc:
                # A text stream decodes a whole buffer ahead, so the bad line is unknown.
                raise TraceFileError(
                    f"text stream is not valid UTF-8 ({exc.reason}) somewhere after line "
                    f"{number - 1}; read from a path or binary file for the exact line",
                    path=name,
                ) from None
            if text is None:
                break
            if header is None:
                text = text.removeprefix("\ufeff")  # tolerate a byte-order mark from editors
            if not text.strip():
                continue
            if loader is not None and header is not None and loader.fast(text):
                loaded += 1
                continue
            # Bytes read so far (characters of a text stream), token lines included.
            budget.read = lines.total if lines is not None else budget.read + len(text) + 1
            too_much = budget.charge(text)  # before parsing: a line of "[]" takes 30x its size
            if too_much is not None:
                raise _LineProblem(too_much)
            try:
                value = json.loads(text, parse_constant=_reject_constant)
            except RecursionError:
                raise _LineProblem("line is nested too deeply to load") from None
            except ValueError as exc:
                if not complete:  # JSON objects end in "}": a cut line is never valid JSON
                    raise _TornLine(f"line is not valid JSON: {exc}") from None
                raise _LineProblem(f"line is not valid JSON: {exc}") from None
            if header is None:
                header = _check_header(value)
                continue
            problem = _event_problem(value)
            if problem is not None:
                raise _LineProblem(problem)
            try:
                event = _decode_charged(value, budget, text)
            except ValueError as exc:
                raise _LineProblem(str(exc)) from None
            loaded += 1
            if loader is None:
                events.append(event)
            else:
                loader.add(event, text)
    except _TornLine as exc:
        if header is None:  # not even a header: there is no trace to load
            reason = f"{exc} (the file appears to be truncated)"
            raise TraceFileError(reason, path=name, line=number) from None
        where = f"{name}, line {number}" if name else f"line {number}"
        warnings.warn(
            f"{where}: the last line is incomplete (the file was cut short while being "
            f"written, or is still being written); loaded the {loaded:,} events before it",
            TraceFileWarning,
            stacklevel=4,
        )
    except _LineProblem as exc:
        raise TraceFileError(str(exc), path=name, line=number) from None
    finally:
        if loader is not None:
            loader.flush()
    if header is None:
        raise TraceFileError("file is empty; expected a streamviz trace header", path=name)
    return header, events


class _Loader:
    """Appends a JSONL file's events to a store, the lines of a run's tokens without parsing.

    After an event is stored as a compact row of a :data:`~streamviz._log.Shape`, the line its
    :class:`Skeleton` writes is compared with the file's: if they are the same, later lines that
    match the skeleton, text and numbers aside, are that shape's events with their own text,
    ``t``, ``seq`` and thread, and are appended by :meth:`EventStore.extend_like`. A line is read
    this way only if it matches exactly (its text is a JSON string, its numbers written as
    :func:`json.dumps` writes them, its ``seq`` the next one); any other line is parsed and
    checked in full.
    """

    _MAX_SKELETONS = 4  # per prefix: the shapes of one run's events seen latest

    def __init__(self, store: EventStore) -> None:
        self.store = store
        # The text of a line up to its chunk's text -> skeletons that start so, latest first;
        # the last characters of those prefixes, to find where a line's text starts.
        self.by_prefix: dict[str, list[tuple[Skeleton, Shape]]] = {}
        self.intros: list[str] = []
        self.latest: tuple[str, list[tuple[Skeleton, Shape]] | None] = ("", None)
        # Token lines read, not yet appended (one extend_like per run of them).
        self.shapes: list[Shape] = []
        self.texts: list[str] = []
        self.times: list[float] = []
        self.threads: list[int] = []
        self.position = len(store)  # the seq the next line must have
        self.thread_text, self.thread = "", 0  # the latest thread read, as written and as int
        # Each token text read, as the object kept for it: a model's tokens repeat, and the
        # trace then keeps each distinct text once (emptied when it reaches _WORDS).
        self.words: dict[str, str] = {}

    def add(self, event: dict[str, Any], text: str) -> None:
        """Append a parsed event; learn its skeleton if it is a compact text row."""
        self.flush()
        store = self.store
        store.extend((event,))
        position = len(store) - 1
        self.position = position + 1
        shape = store.shape_at(position)
        if shape is None or event.get("seq") != position or "server_t" in event:
            return  # (a server run's part, with its server_t: parsed line by line)
        skeleton = Skeleton.of(store, shape)
        if skeleton is None or skeleton.order not in (_WITH_THREAD, _WITHOUT_THREAD):
            return
        thread = event.get("thread", 0)
        line = skeleton.line(_chunk_text(store, position), event["t"], position, thread)
        if line is None or line.decode("utf-8") != text.rstrip("\n"):
            return  # written otherwise than this version writes it: parsed line by line
        prefix = skeleton.pieces[0]
        known = self.by_prefix.setdefault(prefix, [])
        known.insert(0, (skeleton, shape))
        del known[self._MAX_SKELETONS :]
        intro = prefix[-10:]
        if intro in self.intros:
            self.intros.remove(intro)
        self.intros.insert(0, intro)

    def flush(self) -> None:
        """Append the token lines read so far; the clock goes on from the last event."""
        if self.texts:
            self.store.extend_like(self.shapes, self.texts, self.times, self.threads)
            self.shapes, self.texts, self.times, self.threads = [], [], [], []
        if len(self.words) >= _WORDS:
            self.words.clear()
        self.store.extend(())

    def fast(self, line: str) -> bool:
        """Take the line's event if it matches a known skeleton exactly; else False."""
        prefix, candidates = self.latest
        if candidates and line.startswith(prefix):  # a run's tokens come one after another
            return self._match(line, len(prefix), candidates)
        for intro in self.intros:
            at = line.find(intro)
            if at < 0:
                continue
            start = at + len(intro)
            prefix = line[:start]
            candidates = self.by_prefix.get(prefix)
            if candidates is None:
                continue
            self.latest = (prefix, candidates)
            return self._match(line, start, candidates)
        return False

    def _match(self, line: str, start: int, candidates: list[tuple[Skeleton, Shape]]) -> bool:
        """Take the line whose text starts at ``start`` if a candidate's rest fits it."""
        if line[start : start + 1] != '"':
            return False
        try:
            text, end = scanstring(line, start + 1)
        except ValueError:
            return False
        tail = line[end:-1] if line.endswith("\n") else line[end:]
        for skeleton, shape in candidates:  # noqa: SIM110 - no generator per line
            if self._take(skeleton, shape, text, tail):
                return True
        return False

    def _take(self, skeleton: Skeleton, shape: Shape, text: str, tail: str) -> bool:
        """Keep the token if ``tail`` is the skeleton's rest around its numbers.

        That is a ``t``, the next ``seq`` and maybe a thread, written as json writes them. The
        line is first compared with its end as the run's latest thread would write it.
        """
        pieces = skeleton.pieces
        if not tail.startswith(pieces[1]):
            return False
        if len(pieces) == 5:  # text, t, seq, thread
            end = f"{pieces[2]}{self.position}{pieces[3]}{self.thread_text}{pieces[4]}"
            if not self.thread_text or not tail.endswith(end):
                return self._take_parsed(pieces, shape, text, tail)
            thread = self.thread
        else:
            end = f"{pieces[2]}{self.position}{pieces[3]}"
            if not tail.endswith(end):
                return False
            thread = 0
        return self._keep(shape, text, tail[len(pieces[1]) : len(tail) - len(end)], thread)

    def _take_parsed(self, pieces: list[str], shape: Shape, text: str, tail: str) -> bool:
        """:meth:`_take` for a line of another thread: its numbers found and checked."""
        start = len(pieces[1])
        at = tail.find(pieces[2], start)
        if at < 0:
            return False
        t_text = tail[start:at]
        start = at + len(pieces[2])
        stop = len(tail) - len(pieces[-1])
        if not tail.endswith(pieces[-1]):
            return False
        at = tail.find(pieces[3], start, stop)
        if at < 0:
            return False
        seq_text, thread_text = tail[start:at], tail[at + len(pieces[3]) : stop]
        if not (thread_text.isascii() and thread_text.isdigit()):
            return False
        thread = int(thread_text)
        if thread_text != str(thread) or thread >= 2**64 or seq_text != str(self.position):
            return False
        if not self._keep(shape, text, t_text, thread):
            return False
        self.thread_text, self.thread = thread_text, thread
        return True

    def _keep(self, shape: Shape, text: str, t_text: str, thread: int) -> bool:
        """Keep the token if ``t_text`` is a finite float as json writes it."""
        try:
            t = float(t_text)
        except ValueError:
            return False
        if repr(t) != t_text or not -MAX_T <= t <= MAX_T:  # NaN and inf too
            return False
        self.shapes.append(shape)
        self.texts.append(self.words.setdefault(text, text))
        self.times.append(t)
        self.threads.append(thread)
        self.position += 1
        if len(self.texts) >= 4096:
            self.flush()
        return True


_WITH_THREAD = ["text", "t", "seq", "thread"]
_WITHOUT_THREAD = ["text", "t", "seq"]
_WORDS = 100_000  # distinct token texts a load keeps shared at most (then it starts again)


def _chunk_text(store: EventStore, position: int) -> str:
    """The text of the compact text row at ``position`` (see ChunkBlock.shapes)."""
    for item in store.blocks(position, position + 1):
        if type(item) is ChunkBlock:
            text = item.shapes()[1][0]
            if text is not None:
                return text
    raise ValueError(f"event {position} is not a compact text row")


_BLOCK_BYTES = 1 << 20


class _Lines:
    """The lines of a binary stream, read a block at a time.

    As :func:`_read_line` returns them (the text without its newline, and whether it had one),
    with the same errors at the same line. A block's whole lines are decoded at once; a block
    that is not valid UTF-8 is decoded line by line, so the error names the line. No more than
    ``limit`` bytes of a line are held before it is refused.
    """

    def __init__(self, stream: IO[Any], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.lines: list[Any] = []  # decoded lines, or the bytes of a line to decode
        self.index = 0
        self.rest = b""  # the start of a line the last block did not finish
        self.total = 0  # bytes read from the stream

    def next(self) -> tuple[str | None, bool]:
        while self.index >= len(self.lines):
            if not self._fill():
                return self._last()
        line = self.lines[self.index]
        self.index += 1
        if type(line) is bytes:
            if len(line) > self.limit:
                raise _LineProblem(
                    f"line is longer than the {self.limit:,}-byte limit for trace lines"
                )
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = f"line is not valid UTF-8 (bad byte at offset {exc.start})"
                raise _LineProblem(reason) from None
        return line, True

    def _fill(self) -> bool:
        """Read the next block; False at the end of the stream."""
        block = self.stream.read(_BLOCK_BYTES)
        if not block:
            return False
        self.total += len(block)
        data = self.rest + block if self.rest else block
        cut = data.rfind(b"\n")
        if cut < 0:
            self.rest = data
            if len(data) > self.limit:
                raise _LineProblem(
                    f"line is longer than the {self.limit:,}-byte limit for trace lines"
                )
            self.lines, self.index = [], 0
            return True
        self.rest = data[cut + 1 :]
        whole = data[:cut]
        lines: list[Any] = []
        if len(data) <= self.limit:  # no line of the block can be too long
            try:
                lines = whole.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                lines = []
        if not lines:
            lines = whole.split(b"\n")  # checked and decoded one by one
        self.lines, self.index = lines, 0
        if len(self.rest) > self.limit:
            self.lines.append(self.rest)  # refused when its turn comes
            self.rest = b""
        return True

    def _last(self) -> tuple[str | None, bool]:
        """The end of the stream: a last line without a newline, if any."""
        raw, self.rest = self.rest, b""
        if not raw:
            return None, False
        if len(raw) > self.limit:
            raise _LineProblem(f"line is longer than the {self.limit:,}-byte limit for trace lines")
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError as exc:
            reason = f"line is not valid UTF-8 (bad byte at offset {exc.start})"
            raise _TornLine(reason) from None


def _read_line(stream: IO[Any], limit: int) -> tuple[str | None, bool]:
    """Return one line without its limit-breaking tail, and whether it ended in a newline."""
    raw = stream.readline(limit + 1)
    if not raw:
        return None, False
    complete = raw.endswith("\n" if isinstance(raw, str) else b"\n")
    if len(raw) - complete > limit:
        raise _LineProblem(f"line is longer than the {limit:,}-byte limit for trace lines")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"line is not valid UTF-8 (bad byte at offset {exc.start})"
            # A write cut short can end in the middle of a character.
            raise (_LineProblem if complete else _TornLine)(reason) from None
    return raw, complete


def _check_header(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or "format" not in value:
        raise _LineProblem(f'missing trace header (expected {{"format": "{TRACE_FORMAT}", ...}})')
    if value["format"] != TRACE_FORMAT:
        raise _LineProblem(
            f"unknown format {_describe(value['format'])}; expected {TRACE_FORMAT!r}"
        )
    version = value.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _LineProblem(f"header has an invalid version {_describe(version)}")
    if version > TRACE_VERSION:
        raise _LineProblem(
            f"trace format version {version} is newer than the supported version "
            f"{TRACE_VERSION}; upgrade streamviz to read it"
        )
    for key in ("name", "trace_created", "created", "streamviz"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise _LineProblem(f"header key {key!r} must be a string, not {_describe(value[key])}")
    try:
        return from_json(value)
    except ValueError as exc:
        raise _LineProblem(f"header: {exc}") from None

"""Columnar trace files: Parquet and Arrow IPC, one row per event, written and read with pyarrow.

The same events and the same encoding as a JSON Lines trace file (:mod:`streamviz._persistence`),
laid out so that pandas, polars and DuckDB query them without streamviz:

- the fields every event has get typed columns (``t``, ``seq``, ``event``, ``name``, ``run_id``,
  ``parent_ids``, ``tags``...), plus three derived for queries (``run_type``, ``phase``,
  ``parent_id``);
- ``metadata`` and ``data`` are JSON text, encoded by :func:`to_json` exactly as in a JSONL line,
  so loading rebuilds the same objects and secrets are redacted the same way;
- ``extra`` (JSON text, null in practice) carries what the typed columns cannot hold exactly: keys
  other than the known ones, strings with lone surrogates (not valid UTF-8), integers beyond 64
  bits;
- the header (format, version, streamviz version, name...) is the JSON text of the file's
  key-value metadata entry ``streamviz.trace``.

Writing builds each column of a batch of events directly and encodes each run's repeated fields
(name, ids, tags, metadata) once, not once per event. docs/trace-files.md documents the schema.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from json.decoder import scanstring
from json.encoder import encode_basestring
from operator import itemgetter
from typing import IO, Any

from langchain_core.messages import AIMessageChunk

from streamviz._log import ChunkBlock, EventStore, Shape, speedups
from streamviz._persistence import (
    _FINITE,
    _INT,
    _OBJECT,
    _STR,
    _STR_LIST,
    TEXT_MARK,
    TRACE_FORMAT,
    TRACE_VERSION,
    TraceFileError,
    _check_header,
    _check_type,
    _chunk_text,
    _decode_charged,
    _describe,
    _encode_line,
    _event_problem,
    _is_path,
    _LineProblem,
    _reject_constant,
    split_on_marks,
    write_atomically,
)
from streamviz._redact import REDACTED, is_secret_key, redact_text
from streamviz._serialization import (
    MARKER,
    from_json,
    from_parsed,
    to_json_key,
    to_json_member,
)
from streamviz._validate import MAX_T, Budget, open_regular
from streamviz.events import split_event

__all__ = ["COLUMNS", "HEADER_KEY", "read_columnar", "write_columnar"]

HEADER_KEY = "streamviz.trace"
"""Key of the file's key-value metadata entry holding the header, as JSON text."""

# name, pyarrow type (see _schema), meaning. docs/trace-files.md shows this table.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("t", "float64", "seconds since the trace began (monotonic clock), at arrival"),
    ("seq", "int64", "arrival order, from 0"),
    ("event", "string", "on_<run type>_<phase>, on_custom_event or on_graph_<mode>"),
    ("run_type", "string", "run type of a run's life-cycle event (chat_model...), else null"),
    ("phase", "string", "start, stream, end or error for a run's life-cycle event, else null"),
    ("name", "string", "the run's name (a custom event's name, a graph part's node)"),
    ("run_id", "string", "the run the event belongs to"),
    ("parent_id", "string", "the run's parent (last of parent_ids), null for a root"),
    ("parent_ids", "list<string>", "the run's ancestors, outermost first"),
    ("tags", "list<string>", "the run's tags, inherited ones included"),
    ("metadata", "string", "the run's metadata: a JSON object"),
    (
        "data",
        "string",
        "the payload (input, output, chunk, error...) as JSON; null if absent",
    ),
    (
        "text",
        "string",
        "a streamed token's text (a text chunk, or a message chunk's content);"
        " null for other events",
    ),
    ("mode", "string", "a LangGraph stream part's mode, else null"),
    ("ns", "list<string>", "a LangGraph stream part's namespace, else null"),
    ("thread", "int64", "the thread that reported the event, null if unknown"),
    (
        "server_t",
        "float64",
        "a resumable LangGraph server run's part: when the server sent it (the trace's clock);"
        " null otherwise",
    ),
    ("extra", "string", "JSON object of what the columns above cannot hold; null in practice"),
)
_NAMES = tuple(name for name, _, _ in COLUMNS)
_REQUIRED = ("event", "name", "run_id", "parent_ids", "tags", "metadata", "t", "seq")
# The columns a run's streamed events share (built per batch by one take), and the others.
_FIXED = ("event", "run_type", "phase", "name", "run_id", "parent_id", "parent_ids", "tags",
          "metadata", "mode", "ns")  # fmt: skip
_VARYING = ("t", "seq", "thread", "server_t", "data", "text", "extra")
_KNOWN_KEYS = frozenset((*_REQUIRED, "data", "thread", "mode", "ns", "server_t"))
_FORMAT_NAMES = {"parquet": "Parquet", "arrow": "Arrow IPC"}
_DICTIONARY_COLUMNS = ("event", "name", "run_id", "metadata", "mode")
_LIST_COLUMNS = ("parent_ids", "tags", "ns")  # lists of strings (read as dictionaries' codes)
_DERIVED = ("run_type", "phase", "parent_id")  # for queries; loading does not read them
_BATCH_ROWS = 65_536
_BATCH_TEXT = 64 * 1024 * 1024  # characters of payload text after which a batch is written
_CACHE_LIMIT = 100_000  # entries of an encoding cache; it is emptied when full
# Brackets in a value's JSON up to which it is nested surely below the encoder's depth limit
# (MAX_DEPTH) wherever in an event it is: its text is the same there.
_SHALLOW = 100
_CYCLE = f'"{MARKER}":"cycle"'  # a cycle marker in JSON text
# Payload values remembered by a save (the events sharing one are near each other): the texts
# of a whole trace's values, kept to its end, cost more memory and time than they save.
_MEMBERS = 1024
_INT64 = (-(2**63), 2**63 - 1)
# A LangGraph ``messages`` part's data: ``{"chunk": (message chunk, metadata)}``. When the part's
# metadata is the event's (the text of its ``metadata`` column), a columnar file writes this
# marker in its place in ``data`` (docs/trace-files.md); reading puts the metadata text back.
_PAIR_DATA = '{"chunk":{"__sv__":"tuple","items":['
_SAME_METADATA = '{"__sv__":"metadata"}'
_SAME_METADATA_END = "," + _SAME_METADATA + "]}}"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAN = float("nan")
_NANS = array("d", [_NAN])
_ABSENT: Any = object()


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as error:
        raise ImportError(
            "Parquet and Arrow trace files need pyarrow: pip install 'streamviz[parquet]'"
        ) from error
    return pyarrow


def _schema(pa: Any, header: bytes) -> Any:
    types = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string()}
    types["list<string>"] = pa.list_(pa.string())
    fields = [pa.field(name, types[kind]) for name, kind, _ in COLUMNS]
    return pa.schema(fields, metadata={HEADER_KEY: header})


# --- Writing -------------------------------------------------------------------------------------


class _Problem(ValueError):
    pass


# json.dumps with these options, made once (json.dumps makes an encoder per call otherwise).
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _json_text(value: Any) -> str:
    """JSON text as a JSONL line holds it, lone surrogates escaped (UTF-8 cannot hold them).

    The escapes decode to the same string, as the JSONL writer's ASCII fallback does.
    """
    text = _DUMPS(value)
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


def _storable(text: str) -> tuple[str, str | None]:
    """A string for a UTF-8 column, and the exact string if that one had to differ."""
    if text.isascii() or not _SURROGATE.search(text):
        return text, None
    return _SURROGATE.sub("\ufffd", text), text


def _storable_list(items: list[str]) -> tuple[list[str], list[str] | None]:
    stored = [_storable(item)[0] for item in items]
    return stored, (None if stored == items else items)


def _short_data(data: str, metadata: str) -> str:
    """``data`` as a columnar file holds it (:data:`_SAME_METADATA`).

    A LangGraph stream part's ``{"chunk": (item, ..., metadata)}`` whose last item's text is
    ``metadata`` (the event's metadata, the row's ``metadata`` column) has the marker in its place.

    Any other text is returned as it is. :func:`_full_data` undoes it.
    """
    end = len(data) - 3
    if (
        data.endswith("]}}")
        and data.endswith(metadata, 0, end)
        and data[end - len(metadata) - 1 : end - len(metadata)] == ","
        and data.startswith(_PAIR_DATA)
        and end - len(metadata) - 1 >= len(_PAIR_DATA)
    ):
        return data[: end - len(metadata)] + _SAME_METADATA + "]}}"
    return data


def _short_pieces(pieces: tuple[str, str], metadata: str) -> tuple[str, str] | None:
    """A token row's ``data`` pieces (before and after its text) as :func:`_short_data` writes.

    None if the metadata to replace is not all in the piece after the text.
    """
    before, after = pieces
    whole = before + after
    short = _short_data(whole, metadata)
    if short is whole:
        return pieces
    if not short.startswith(before):
        return None
    return before, short[len(before) :]


def _plain_key(value: dict) -> tuple | None:
    """A key that two dicts share only if :func:`to_json` writes them the same, or None.

    For a dict whose keys are strings and whose values are strings, integers, booleans, None,
    floats and tuples or lists of strings (a run's metadata): its items in order, each value
    with its exact type (``1``, ``1.0`` and ``True`` are equal, but written apart) and a float
    by its ``repr`` (``0.0 == -0.0``). Such a dict holds no container that could make a cycle
    or reach the depth limit, so its text is the same wherever it is (at depth below
    :data:`_SHALLOW`) and whatever object holds it. None for any other dict.
    """
    items = []
    for name, item in value.items():
        kind = type(item)
        if type(name) is not str:
            return None
        if kind is str or kind is int or kind is bool or item is None:
            items.append((name, kind, item))
        elif kind is float:
            items.append((name, kind, repr(item)))
        elif (kind is tuple or kind is list) and all(type(part) is str for part in item):
            items.append((name, kind, tuple(item)))
        else:
            return None
    return tuple(items)


class _Encoder:
    """Turns events into the columns of record batches; remembers each run's encoded fields."""

    def __init__(self, pa: Any, schema: Any) -> None:
        self.pa = pa
        self.schema = schema
        self.strings: dict[str, tuple[str, str | None]] = {}
        self.lists: dict[tuple, tuple[list[str], list[str] | None]] = {}
        self.objects: dict[int, tuple[Any, str]] = {}  # id(metadata) -> (metadata, JSON text)
        self.plain: dict[tuple, str] = {}  # _plain_key of a dict -> its JSON text
        self.members: dict[int, tuple[Any, str]] = {}  # id(payload value) -> it, its JSON
        self.kinds: dict[str, tuple[str | None, str | None]] = {}  # event -> (run type, phase)
        self._reset()

    def _reset(self) -> None:
        # Per row: t, seq, thread, data, extra, and the index of its fixed columns' values in
        # `sources` (one entry per shape of a store's rows, one per other event). The numbers
        # are typed arrays (a store's blocks copied in at once): NaN where a float is null (a
        # t or server_t that is not a finite float is null, in extra); `nulls` holds the rows
        # whose seq or thread is null.
        self.columns: dict[str, Any] = {name: [] for name in _VARYING}
        for name, code in (("t", "d"), ("seq", "q"), ("thread", "q"), ("server_t", "d")):
            self.columns[name] = array(code)
        self.nulls: dict[str, list[int]] = {"seq": [], "thread": []}
        self.source: list[int] = []
        self.sources: list[tuple[Any, ...]] = []
        self.source_of: dict[int, int] = {}  # id(fixed tuple of a shape) -> its source
        self.rows = 0
        self.text = 0

    def full(self) -> bool:
        return self.rows >= _BATCH_ROWS or self.text >= _BATCH_TEXT

    def batch(self) -> Any:
        import numpy as np

        pa, columns = self.pa, self.columns
        rows = np.array(self.source, dtype=np.int32)  # each row's source
        source = pa.array(rows)
        fixed = {}
        for at, name in enumerate(_FIXED):
            kind = self.schema.field(name).type
            if pa.types.is_dictionary(kind):  # (a Parquet file's: see _written_schema)
                values = pa.array([values[at] for values in self.sources], type=kind.value_type)
                encoded = values.dictionary_encode()  # each value once
                fixed[name] = pa.DictionaryArray.from_arrays(
                    encoded.indices.take(source), encoded.dictionary
                )
            else:
                fixed[name] = pa.array([values[at] for values in self.sources], type=kind).take(
                    source
                )
        fixed["data"] = _joined_data(
            pa,
            [values[len(_FIXED)] for values in self.sources],
            [values[len(_FIXED) + 1] for values in self.sources],
            rows,
            pa.array(columns["data"], type=pa.string()),
        )
        for name, kind in (("t", np.float64), ("server_t", np.float64)):
            values = np.frombuffer(columns[name], dtype=kind)
            nulls = np.isnan(values)
            fixed[name] = pa.array(values, mask=nulls if nulls.any() else None)
        for name in ("seq", "thread"):
            values = np.frombuffer(columns[name], dtype=np.int64)
            mask = None
            if self.nulls[name]:
                mask = np.zeros(len(values), dtype=bool)
                mask[self.nulls[name]] = True
            fixed[name] = pa.array(values, mask=mask)
        arrays = [
            fixed[field.name]
            if field.name in fixed
            else pa.array(columns[field.name], type=field.type)
            for field in self.schema
        ]
        self._reset()
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def take_back(self) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """Remove the row :meth:`add` appended last.

        Returns its varying values (None where null) and its fixed columns' values.
        """
        columns = self.columns
        self.rows -= 1
        row = {name: columns[name].pop() for name in _VARYING}
        for name in ("t", "server_t"):
            if row[name] != row[name]:  # NaN: null
                row[name] = None
        for name, nulls in self.nulls.items():
            if nulls and nulls[-1] == self.rows:
                nulls.pop()
                row[name] = None
        self.source.pop()
        fixed = self.sources.pop()
        self.text -= len(row["data"] or "")
        return row, fixed

    # Each field is encoded as to_json(event)[key] would be: exact str/list/dict values through
    # caches, anything else through to_json_member and then checked like a JSONL line.
    def _string(self, event: dict, key: str, optional: bool = False) -> tuple[Any, Any]:
        value = event.get(key, _ABSENT)
        if type(value) is str:
            found = self.strings.get(value)
            if found is None:
                if len(self.strings) >= _CACHE_LIMIT:
                    self.strings.clear()
                found = self.strings[value] = _storable(redact_text(value))
            return found
        if value is _ABSENT:
            if optional:
                return None, None
            raise _Problem(f"event is missing key {key!r}")
        encoded = to_json_member(value, event)
        if not _check_type(encoded, _STR):
            raise _Problem(f"event key {key!r} must be {_STR}, not {_describe(encoded)}")
        return _storable(encoded)

    def _string_list(self, event: dict, key: str, optional: bool = False) -> tuple[Any, Any]:
        value = event.get(key, _ABSENT)
        if type(value) is list:
            try:
                cache_key = tuple(value)
                found = self.lists.get(cache_key)
            except TypeError:  # unhashable items: not strings
                cache_key, found = None, None
            if found is not None:
                return found
            if cache_key is not None and all(type(item) is str for item in value):
                if len(self.lists) >= _CACHE_LIMIT:
                    self.lists.clear()
                found = self.lists[cache_key] = _storable_list([redact_text(v) for v in value])
                return found
        if value is _ABSENT:
            if optional:
                return None, None
            raise _Problem(f"event is missing key {key!r}")
        encoded = to_json_member(value, event)
        if not _check_type(encoded, _STR_LIST):
            raise _Problem(f"event key {key!r} must be {_STR_LIST}, not {_describe(encoded)}")
        return _storable_list(encoded)

    def _metadata(self, event: dict) -> str:
        value = event.get("metadata", _ABSENT)
        if type(value) is dict:
            if not value:
                return "{}"
            found = self.objects.get(id(value))
            if found is not None and found[0] is value:
                return found[1]
            text = self._plain_text(value)
            if text is not None:
                self._remember(value, text)
                return text
        elif value is _ABSENT:
            raise _Problem("event is missing key 'metadata'")
        encoded = to_json_member(value, event)
        if not _check_type(encoded, _OBJECT):
            raise _Problem(f"event key 'metadata' must be {_OBJECT}, not {_describe(encoded)}")
        text = _json_text(encoded)
        if type(value) is dict:
            self._remember(value, text)
        return text

    def _remember(self, value: dict, text: str) -> None:
        """Keep ``text`` as the metadata text of the object ``value`` (kept alive with it)."""
        if len(self.objects) >= _CACHE_LIMIT:
            self.objects.clear()
        self.objects[id(value)] = (value, text)  # kept alive: its id stays its own

    def value_text(self, value: Any) -> str:
        """The JSON text of ``value`` as ``_json_text(to_json_member(value, {}))``."""
        if type(value) is dict:
            text = self._plain_text(value)
            if text is not None:
                return text
        return _json_text(to_json_member(value, {}))

    def _plain_text(self, value: dict) -> str | None:
        """The JSON text of a dict of plain values (:func:`_plain_key`), encoded once per content.

        The runs of a LangGraph step (its node, the node's model and routing function, the
        ``messages`` parts) each hold their own metadata dict, equal to the others': one text
        for them all. None for a dict that is not plain (nested or other values): the caller
        encodes it.
        """
        key = _plain_key(value)
        if key is None:
            return None
        text = self.plain.get(key)
        if text is None:
            if len(self.plain) >= _CACHE_LIMIT:
                self.plain.clear()
            text = self.plain[key] = _json_text(to_json_member(value, {}))
        return text

    def _data(self, data: Any, event: dict) -> str:
        """``data``'s JSON text, as ``_json_text(to_json_member(data, event))``.

        Its top-level values (and a tuple's items: a ``messages`` part) that are objects or
        containers are encoded once per save (:meth:`_member`): the events of a run share
        them (a chain's end event holds the very input its start event held; a LangGraph
        ``messages`` part, the chunk its model's stream event held).
        """
        if type(data) is not dict or MARKER in data:
            return _json_text(to_json_member(data, event))
        parts = []
        for key, value in data.items():
            if type(key) is not str or (value is not None and is_secret_key(key)):
                return _json_text(to_json_member(data, event))
            text = self._member(value, data)
            if text is None:
                return _json_text(to_json_member(data, event))
            parts.append(f"{_json_text(redact_text(key))}:{text}")
        return "{" + ",".join(parts) + "}"

    def _member(self, value: Any, container: Any, nested: bool = False) -> str | None:
        """The JSON text of a value of a payload, or None if it may depend on where it is.

        The text of an object or container is encoded as an item of ``container`` and reused
        for the same object anywhere in another event's payload only if it holds no cycle
        marker and fewer brackets than the depth limit could cut (:data:`_SHALLOW`): no
        object it reaches then contains it, so no other place it is found at marks a cycle or
        a cut in it that this one did not.
        """
        cls = type(value)
        if value is None or cls is str or cls is int or cls is float or cls is bool:
            return _json_text(to_json_member(value, container))
        if cls is tuple and not nested:
            items = [self._member(item, value, True) for item in value]
            if None in items:
                return None
            return '{"' + MARKER + '":"tuple","items":[' + ",".join(items) + "]}"  # type: ignore[arg-type]
        found = self.members.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        text = self._plain_text(value) if cls is dict else None
        if text is None:
            text = _json_text(to_json_member(value, container))
        if text.count("{") + text.count("[") > _SHALLOW or _CYCLE in text:
            return None
        if len(self.members) >= _MEMBERS:
            self.members.clear()
        self.members[id(value)] = (value, text)  # kept alive: its id stays its own
        return text

    def _integer(self, event: dict, key: str, extra: dict, optional: bool = False) -> int | None:
        value = event.get(key, _ABSENT)
        if type(value) is not int:
            if value is _ABSENT:
                if optional:
                    return None
                raise _Problem(f"event is missing key {key!r}")
            value = to_json_member(value, event)
            if not _check_type(value, _INT):
                raise _Problem(f"event key {key!r} must be {_INT}, not {_describe(value)}")
        if _INT64[0] <= value <= _INT64[1]:
            return value
        extra[key] = value
        return None

    def _time(self, event: dict, extra: dict) -> float | None:
        value = event.get("t", _ABSENT)
        if type(value) is float and math.isfinite(value):
            return value
        if value is _ABSENT:
            raise _Problem("event is missing key 't'")
        if type(value) is not int:
            value = to_json_member(value, event)
            if not _check_type(value, _FINITE):
                raise _Problem(f"event key 't' must be {_FINITE}, not {_describe(value)}")
            if type(value) is float:
                return value
        try:
            if float(value) == value:
                return float(value)
        except OverflowError:
            pass
        extra["t"] = value  # an integer a float cannot hold exactly
        return None

    def add_rows(
        self,
        skeletons: list[Any],
        times: Any,
        seqs: Any,
        threads: Any,
        encoded: list[tuple[str, str]],
        server_times: list[float] | None,
    ) -> None:
        """Append rows of shapes (:class:`_DataSkeleton` s), all of whose values fit.

        ``encoded``: each row's text column and its JSON string (see :func:`_token_columns`).
        """
        source_of, sources = self.source_of, self.sources
        distinct: dict[Any, int] = {}  # skeleton -> its source
        for skeleton in set(skeletons):
            if id(skeleton.fixed) not in source_of:
                source_of[id(skeleton.fixed)] = len(sources)
                sources.append(skeleton.fixed)
            distinct[skeleton] = source_of[id(skeleton.fixed)]
        self.source.extend(map(distinct.__getitem__, skeletons))
        columns = self.columns
        count = len(encoded)
        columns["t"].extend(times)  # (finite: the rows that are not take the full path)
        columns["seq"].extend(seqs)
        if all(skeleton.threaded for skeleton in distinct):
            if type(threads) is array and threads.typecode == "Q":
                columns["thread"].frombytes(memoryview(threads).cast("B"))  # (each < 2**63)
            else:
                columns["thread"].extend(threads)
        else:
            first = self.rows
            columns["thread"].extend(
                [
                    thread if skeleton.threaded else 0
                    for skeleton, thread in zip(skeletons, threads, strict=True)
                ]
            )
            self.nulls["thread"].extend(
                [first + i for i, skeleton in enumerate(skeletons) if not skeleton.threaded]
            )
        if server_times is None or not any(skeleton.timed for skeleton in distinct):
            columns["server_t"].extend(_NANS * count)
        else:
            columns["server_t"].extend(
                [
                    server_t if skeleton.timed else _NAN
                    for skeleton, server_t in zip(skeletons, server_times, strict=True)
                ]
            )
        # data: the JSON string alone, joined with its skeleton's pieces by batch().
        strings = list(map(itemgetter(1), encoded))
        columns["data"].extend(strings)
        columns["text"].extend(map(itemgetter(0), encoded))
        columns["extra"].extend([None] * len(strings))
        self.rows += len(strings)
        around = {skeleton: len(skeleton.before) + len(skeleton.after) for skeleton in distinct}
        self.text += sum(map(len, strings)) + sum(map(around.__getitem__, skeletons))

    def add(self, event: Any) -> None:
        """Append one event's row (raises :class:`_Problem` for an event JSONL cannot hold)."""
        if not isinstance(event, dict):
            raise _Problem("event is not a JSON object with string keys")
        extra: dict[str, Any] = {}
        if not event.keys() <= _KNOWN_KEYS:
            for key, value in event.items():
                if key in _KNOWN_KEYS:
                    continue
                if not isinstance(key, str) or key == MARKER:
                    raise _Problem("event is not a JSON object with string keys")
                secret = value is not None and is_secret_key(key)
                extra[to_json_key(key)] = REDACTED if secret else to_json_member(value, event)
        # In the order _event_problem checks them, so a bad event gets the same message.
        kind, exact_kind = self._string(event, "event")
        name, exact_name = self._string(event, "name")
        run_id, exact_run_id = self._string(event, "run_id")
        parent_ids, exact_parent_ids = self._string_list(event, "parent_ids")
        tags, exact_tags = self._string_list(event, "tags")
        metadata = self._metadata(event)
        t = self._time(event, extra)
        seq = self._integer(event, "seq", extra)
        thread = self._integer(event, "thread", extra, optional=True)
        mode, exact_mode = self._string(event, "mode", optional=True)
        ns, exact_ns = self._string_list(event, "ns", optional=True)
        server_t = event.get("server_t")
        if type(server_t) is not float or server_t - server_t != 0:
            if "server_t" in event:  # not a finite float: exactly, in extra
                extra["server_t"] = to_json_member(server_t, event)
            server_t = None
        data = event.get("data", _ABSENT)
        data = None if data is _ABSENT else self._data(data, event)
        if data is not None and mode is not None and data[-1:] == "}":
            data = _short_data(data, metadata)
        for key, exact in (
            ("event", exact_kind), ("name", exact_name), ("run_id", exact_run_id),
            ("parent_ids", exact_parent_ids), ("tags", exact_tags), ("mode", exact_mode),
            ("ns", exact_ns),
        ):  # fmt: skip
            if exact is not None:
                extra[key] = exact
        exact = exact_kind or kind
        split = self.kinds.get(exact)
        if split is None:
            if len(self.kinds) >= _CACHE_LIMIT:
                self.kinds.clear()
            split = self.kinds[exact] = split_event(exact) or (None, None)
        fixed = (
            kind, split[0], split[1], name, run_id, parent_ids[-1] if parent_ids else None,
            parent_ids, tags, metadata, mode, ns,
        )  # fmt: skip
        self.source.append(len(self.sources))
        self.sources.append((*fixed, "", ""))  # data: written whole, nothing around it
        columns = self.columns
        columns["t"].append(_NAN if t is None else t)
        if seq is None:
            self.nulls["seq"].append(self.rows)
        columns["seq"].append(0 if seq is None else seq)
        if thread is None:
            self.nulls["thread"].append(self.rows)
        columns["thread"].append(0 if thread is None else thread)
        columns["server_t"].append(_NAN if server_t is None else server_t)
        columns["data"].append(data)
        columns["text"].append(None)
        columns["extra"].append(_json_text(extra) if extra else None)
        self.rows += 1
        if data is not None:
            self.text += len(data)


def _joined_data(pa: Any, before: list[str], after: list[str], source: Any, middle: Any) -> Any:
    """The ``data`` column: each row's ``before`` and ``after`` of its source around its middle.

    A token row's text is its shape's skeleton (``before`` and ``after`` of its source, a
    numpy array of each row's) around the token's JSON string (``middle``); another row's is
    its whole text, between empty pieces; a row whose ``middle`` is null is null. Made by one
    Arrow take of the pieces in row order (before, middle, after of row 0, then of row 1...):
    the three strings of a row are then one after the other in the result's characters, so
    every third of its offsets delimits the rows' texts (two takes and a join copied them
    all twice).
    """
    import numpy as np

    count, kinds = len(middle), len(before)
    pieces = pa.concat_arrays([pa.array(before + after, type=pa.string()), middle])
    order = np.empty(3 * count, dtype=np.int64)
    order[0::3] = source
    order[1::3] = np.arange(2 * kinds, 2 * kinds + count)
    order[2::3] = source + kinds
    taken = pieces.take(pa.array(order))
    offsets = np.frombuffer(taken.buffers()[1], dtype=np.int32)[taken.offset :]
    return pa.StringArray.from_buffers(
        count,
        pa.py_buffer(np.ascontiguousarray(offsets[: 3 * count + 1 : 3])),
        taken.buffers()[2],
        middle.buffers()[0],
        middle.null_count,
    )


def _batches(encoder: _Encoder, events: Iterable[Mapping[str, Any]] | EventStore) -> Iterator[Any]:
    if isinstance(events, EventStore):
        yield from _store_batches(encoder, events)
        return
    index = -1
    try:
        for index, event in enumerate(events):  # noqa: B007 - index names the event at fault
            encoder.add(event)
            if encoder.full():
                yield encoder.batch()
    except _Problem as problem:
        raise ValueError(f"cannot write event {index}: {problem}") from None
    if encoder.rows:
        yield encoder.batch()


class _DataSkeleton:
    """The ``data`` text of every event of one shape, but for its chunk's text.

    As :class:`streamviz._persistence.Skeleton` for a JSONL line: :attr:`fixed` holds the other
    columns of the shape's rows (:data:`_FIXED`), encoded once, then the ``data`` text before and
    after the token's JSON string (a row's own is :func:`_token_columns`).
    """

    __slots__ = ("after", "before", "fixed", "threaded", "timed")

    def __init__(self, fixed: tuple[Any, ...], threaded: bool, timed: bool) -> None:
        self.fixed = fixed
        self.before, self.after = fixed[-2], fixed[-1]
        self.threaded = threaded
        self.timed = timed  # its rows have a server_t


def _data_skeleton(
    encoder: _Encoder, store: EventStore, shape: Shape, classes: dict[int, _RunClass | None]
) -> _DataSkeleton | None:
    """The skeleton of a shape's rows, or None if they take the full path (odd fields).

    ``classes``: the :class:`_RunClass` of each kind of shape met so far (None: not one), whose
    pattern gives the ``data`` of a later run's shape from its message id and metadata, so
    that only its other fields are encoded.
    """
    event = store.shape_event(shape, TEXT_MARK)
    event["t"], event["seq"] = 0.0, 0
    if "thread" in event:
        event["thread"] = 0
    if "server_t" in event:
        event["server_t"] = 0.0
    run_class = classes.get(shape[1])
    message_id, pair_metadata = _RunClass.holes(event["data"]["chunk"])
    holes = (message_id, encoder.value_text(pair_metadata))  # (the metadata's text once)
    pieces = None if run_class is None else run_class.pieces(*holes)
    if pieces is not None:
        event["data"] = {}  # its text from the class: the other fields encoded alone
    try:
        encoder.add(event)  # encoded once, the mark in place of the text
    except _Problem:
        return None
    row, fixed = encoder.take_back()  # the skeleton keeps its fixed columns
    if row["extra"] is not None or row["data"] is None:
        return None
    metadata, mode = fixed[_FIXED.index("metadata")], fixed[_FIXED.index("mode")]
    if pieces is not None and mode is not None:
        pieces = _short_pieces(pieces, metadata)
    if pieces is None:
        found = split_on_marks(row["data"], {"text": TEXT_MARK})
        if found is None:
            return None
        pieces = (found[0][0], found[0][1])  # (add wrote the data short: _short_data)
        if shape[1] not in classes:  # the first shape of its kind: its class, checked on it
            run_class = _RunClass.of(store, shape)
            found = None if run_class is None else run_class.pieces(*holes)
            if found is not None and mode is not None:
                found = _short_pieces(found, metadata)
            if found != pieces:
                run_class = None
            classes[shape[1]] = run_class
    fixed = (*fixed[: len(_FIXED)], *pieces)  # the fixed columns, then the data's pieces
    return _DataSkeleton(fixed, row["thread"] is not None, row["server_t"] is not None)


def _data_pieces(store: EventStore, shape: Shape) -> tuple[str, str] | None:
    """The ``data`` text of a shape's rows before and after the token's JSON string."""
    data = to_json_member(store.shape_event(shape, TEXT_MARK)["data"], {})
    found = split_on_marks(_json_text(data), {"text": TEXT_MARK})
    return None if found is None else (found[0][0], found[0][1])


_TOKEN_CHARS = 64  # texts longer than this are not remembered by a save


def _token_columns(text: str) -> tuple[str | None, str]:
    """A token's ``text`` column and its JSON string in ``data``.

    The text is redacted; None if it cannot be stored exactly (a lone surrogate, which the full
    path escapes).
    """
    text = redact_text(text)
    if not text.isascii() and _SURROGATE.search(text):
        return None, ""
    return text, encode_basestring(text)


def _next_full(columns: tuple[list[Any], ...], odd: list[int], start: int) -> int:
    """The first row from ``start`` that takes the full path (else the number of rows).

    That is, the first None in any of ``columns`` (a row's skeleton, its token's columns) or
    the first of the ``odd`` rows (sorted). Searched by ``list.index`` (in C): such rows are a
    few of a block's, where a list of a flag per row cost a step per row.
    """
    stop = len(columns[0])
    for values in columns:
        if None in values[start:stop]:
            stop = values.index(None, start, stop)
    at = bisect_left(odd, start)
    return min(stop, odd[at]) if at < len(odd) else stop


def _store_batches(encoder: _Encoder, store: EventStore) -> Iterator[Any]:
    """Record batches of a store's events: rows of a known shape from their skeleton."""
    import numpy as np

    skeletons: dict[Shape, _DataSkeleton | None] = {}
    classes: dict[int, _RunClass | None] = {}
    token_texts: dict[str, tuple[str | None, str]] = {}  # text -> its text and data columns
    position = 0
    timed_store = store.has_server_times()  # (a store's compact server_t are all finite)

    def add(event: dict[str, Any]) -> None:
        try:
            encoder.add(event)
        except _Problem as problem:
            raise ValueError(f"cannot write event {position}: {problem}") from None

    # Texts of a stream holding a secret split across its tokens come redacted (_redact).
    for item in store.blocks(most=_BATCH_ROWS // 4, secret_free=True):
        if type(item) is not ChunkBlock:
            add(item)
            position += 1
        else:
            shapes, texts = item.shapes()
            times, threads, seqs = item.times(), item.threads(), item.seqs()
            server_times = item.server_times() if timed_store else None
            for shape in set(shapes):  # a new shape's skeleton (encoding it keeps no row)
                if shape not in skeletons:
                    skeletons[shape] = (
                        None if shape is None else _data_skeleton(encoder, store, shape, classes)
                    )
            found = list(map(skeletons.__getitem__, shapes))
            # The text column of each row and its JSON string (remembered per text: a model's
            # tokens repeat); None for a row that takes the full path.
            encoded = list(map(token_texts.get, texts))
            for row in [row for row, value in enumerate(encoded) if value is None]:
                if found[row] is None:
                    continue
                text = texts[row]
                value = _token_columns(text)
                if len(text) <= _TOKEN_CHARS and value[0] == text:  # clean ones only
                    if len(token_texts) >= _CACHE_LIMIT:
                        token_texts.clear()
                    token_texts[text] = value
                encoded[row] = value if value[0] is not None else None
            odd = np.flatnonzero(
                ~np.isfinite(np.frombuffer(times, dtype=np.float64))
                | (np.frombuffer(threads, dtype=np.uint64) > _INT64[1])
            ).tolist()  # a t or thread a row cannot hold: the full path
            start = 0
            while start < item.count:
                # Rows from their skeleton up to the next that takes the full path, then that row.
                stop = _next_full((found, encoded), odd, start)
                if stop > start:
                    encoder.add_rows(
                        found[start:stop], times[start:stop], seqs[start:stop],
                        threads[start:stop], encoded[start:stop],
                        None if server_times is None else server_times[start:stop],
                    )  # fmt: skip
                if stop < item.count:
                    add(store.event(item.seq + stop))
                    stop += 1
                start = stop
            position += item.count
        if encoder.full():
            yield encoder.batch()
    if encoder.rows:
        yield encoder.batch()


_WRITTEN_AS_DICTIONARY = ("event", "run_type", "phase", "name", "run_id", "parent_id", "metadata",
                          "mode")  # fmt: skip


def _written_schema(pa: Any, kind: str, schema: Any) -> Any:
    """The schema of the record batches written: a Parquet file's run columns as dictionaries.

    Its batches then carry those columns as Arrow dictionaries (one value per shape or event
    of the batch, not one string per row), which the Parquet writer stores as they are (the
    dictionary pages it would make by hashing each row's string) without the Arrow schema, so
    that a reader finds plain string columns. Needs ``ParquetWriter.add_key_value_metadata``
    (for the header); without it, and for Arrow IPC files, :func:`_schema` as it is.
    """
    if kind != "parquet":
        return schema
    import pyarrow.parquet as pq

    if not hasattr(pq.ParquetWriter, "add_key_value_metadata"):
        return schema
    fields = [
        pa.field(field.name, pa.dictionary(pa.int32(), field.type))
        if field.name in _WRITTEN_AS_DICTIONARY
        else field
        for field in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def _write(pa: Any, kind: str, sink: Any, schema: Any, batches: Iterable[Any]) -> None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        # Dictionary pages for the columns that repeat (a run's fields, tokens, threads), not
        # for the payloads, times and seqs (nearly all distinct: a dictionary only costs there).
        plain = ("data", "t", "seq", "server_t", "extra")
        repeated = [name for name in _NAMES if name not in plain]
        dictionaries = any(pa.types.is_dictionary(field.type) for field in schema)
        writer = pq.ParquetWriter(
            sink,
            schema,
            compression="zstd",
            use_dictionary=repeated,
            store_schema=not dictionaries,  # (a reader then finds the columns as strings)
        )
        if dictionaries:  # the header, which the Arrow schema would have carried
            writer.add_key_value_metadata({HEADER_KEY: schema.metadata[HEADER_KEY.encode()]})
    else:
        writer = pa.ipc.new_file(sink, schema)
    try:
        for batch in batches:
            writer.write_batch(batch)
    finally:
        writer.close()


def write_columnar(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    events: Iterable[Mapping[str, Any]] | EventStore,
    header: Mapping[str, Any],
    kind: str,
) -> None:
    """Write events as a Parquet (``kind="parquet"``) or Arrow IPC (``"arrow"``) trace file.

    ``header`` is the encoded header (see :func:`streamviz._persistence.make_header`). A path is
    written atomically; a binary file object at its position, after every event was encoded.
    Raises ``ValueError`` for an event a JSONL file could not hold either, naming it.
    """
    pa = _pyarrow()
    schema = _written_schema(pa, kind, _schema(pa, _encode_line(dict(header))))
    encoder = _Encoder(pa, schema)
    if _is_path(path_or_file):
        write_atomically(
            path_or_file,
            lambda handle: _write(pa, kind, handle, schema, _batches(encoder, events)),
        )
        return
    if isinstance(path_or_file, io.TextIOBase):
        raise TypeError(f"a {_FORMAT_NAMES[kind]} trace is written to a binary file, not text")
    done = list(_batches(encoder, events))  # a bad event leaves the caller's file untouched
    _write(pa, kind, path_or_file, schema, done)


# --- Reading -------------------------------------------------------------------------------------


def _is_text(pa: Any, kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(pa, kind)


def _is_view(pa: Any, kind: Any) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(kind))


def _is_text_list(pa: Any, kind: Any) -> bool:
    is_list = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    return is_list and _is_text(pa, kind.value_type)


_EXPECTED = {
    "t": ("a number", lambda pa, k: pa.types.is_floating(k) or pa.types.is_integer(k)),
    "seq": ("an integer", lambda pa, k: pa.types.is_integer(k)),
    "thread": ("an integer", lambda pa, k: pa.types.is_integer(k)),
    "server_t": ("a number", lambda pa, k: pa.types.is_floating(k) or pa.types.is_integer(k)),
    "parent_ids": ("a list of strings", _is_text_list),
    "tags": ("a list of strings", _is_text_list),
    "ns": ("a list of strings", _is_text_list),
}


def _open(pa: Any, kind: str, source: Any) -> tuple[Any, Iterator[Any]]:
    """The Arrow schema of a file and an iterator over its record batches."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(source)
        schema = parquet.schema_arrow
        # The columns repeating a run's values come as dictionaries: no string per row (in
        # the lists of strings, no string per item).
        repeated = [
            name
            for name in _DICTIONARY_COLUMNS
            if name in schema.names and _is_text(pa, schema.field(name).type)
        ]
        for column in parquet.schema:  # a list's items: a leaf under its column's name
            top = column.path.split(".")[0]
            if (
                top in _LIST_COLUMNS
                and top in schema.names
                and column.physical_type == "BYTE_ARRAY"
                and _is_text_list(pa, schema.field(top).type)
            ):
                repeated.append(column.path)
        if repeated:
            parquet = pq.ParquetFile(source, read_dictionary=repeated)
        wanted = [name for name in _NAMES if name in schema.names and name not in _DERIVED]
        return schema, parquet.iter_batches(
            batch_size=_BATCH_ROWS, columns=wanted, use_threads=False
        )
    reader = pa.ipc.open_file(source)
    return reader.schema, (reader.get_batch(i) for i in range(reader.num_record_batches))


def read_columnar(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    name: str | None,
    kind: str,
    into: EventStore | None = None,
    budget: Budget | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a Parquet or Arrow IPC trace file: its header and its events, as :func:`read_trace`.

    A file without the header metadata (rows a query copied from trace files, say) is read if it
    has the columns; its header then holds only the format and version. With ``into``, the events
    are appended to that store as they are read (see :class:`_StoreRows`) and none is returned.
    """
    pa = _pyarrow()
    budget = Budget(None) if budget is None else budget
    if _is_path(path_or_file):

        def refuse(reason: str) -> TraceFileError:
            return TraceFileError(reason, path=name)

        with open_regular(path_or_file, refuse) as stream:
            return _read(pa, kind, stream, name, into, budget)
    return _read(pa, kind, path_or_file, name, into, budget)


def _read(
    pa: Any, kind: str, source: Any, name: str | None, into: EventStore | None, budget: Budget
) -> tuple[dict, list[dict]]:
    what = _FORMAT_NAMES[kind]
    try:
        schema, batches = _open(pa, kind, source)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = f"not a readable {what} file ({error}); it may be truncated or of another format"
        raise TraceFileError(reason, path=name) from None
    too_much = _over_budget(source, budget)
    if too_much is not None:
        raise TraceFileError(too_much, path=name)
    header = _header(schema, name)
    _check_columns(pa, schema, header is None, name)
    if header is None:
        header = {"format": TRACE_FORMAT, "version": TRACE_VERSION}
    reader = _Rows() if into is None else _StoreRows(into)
    reader.budget = budget
    try:
        for batch in batches:
            reader.add(pa, _usual_types(pa, batch))
    except _RowProblem as problem:
        raise TraceFileError(problem.reason, path=name, row=problem.row) from None
    except (pa.ArrowException, OSError, ValueError) as error:
        raise TraceFileError(f"cannot read the {what} data ({error})", path=name) from None
    return header, reader.events


def _usual_types(pa: Any, batch: Any) -> Any:
    """``batch`` with its text columns as the readers take them.

    Other tools type texts otherwise: polars writes Arrow files with string views and Parquet
    files with large strings and large lists. Views become strings; so do large strings but for
    ``data`` (a batch's payloads may pass 2 GiB: read with 64-bit offsets); lists of texts
    become lists of strings (or of string dictionaries, as :func:`_open` reads a Parquet
    file's parent ids, tags and namespaces); a dictionary column other than those a run repeats
    (:data:`_DICTIONARY_COLUMNS`) becomes its values, and a repeated one keeps string values.
    """

    def usual(name: str, kind: Any) -> Any:
        if _is_view(pa, kind) or (pa.types.is_large_string(kind) and name != "data"):
            return pa.string()
        if pa.types.is_dictionary(kind):
            value = usual(name, kind.value_type)
            if name not in _DICTIONARY_COLUMNS:
                return value
            return pa.dictionary(kind.index_type, value) if value != kind.value_type else kind
        if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and _is_text(
            pa, kind.value_type
        ):
            value = kind.value_type
            if (
                name in _LIST_COLUMNS
                and pa.types.is_dictionary(value)
                and pa.types.is_string(value.value_type)
            ):  # (as _open reads them: kept so, no string per item)
                return pa.list_(value)
            return pa.list_(pa.string())
        return kind

    arrays = list(batch.columns)
    changed = False
    for index, field in enumerate(batch.schema):
        kind = usual(field.name, field.type)
        if kind != field.type:
            arrays[index] = arrays[index].cast(kind)
            changed = True
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names) if changed else batch


def _header(schema: Any, name: str | None) -> dict[str, Any] | None:
    raw = (schema.metadata or {}).get(HEADER_KEY.encode())
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        reason = f"the {HEADER_KEY!r} metadata is not a JSON header ({error})"
        raise TraceFileError(reason, path=name) from None
    try:
        return _check_header(value)
    except _LineProblem as problem:
        raise TraceFileError(f"{HEADER_KEY!r} metadata: {problem}", path=name) from None


def _check_columns(pa: Any, schema: Any, headerless: bool, name: str | None) -> None:
    for column in _REQUIRED:
        if column not in schema.names:
            if headerless:
                reason = (
                    f"not a streamviz trace: no {HEADER_KEY!r} key-value metadata and no "
                    f"{column!r} column"
                )
            else:
                reason = f"the {column!r} column is missing"
            raise TraceFileError(reason, path=name)
    for column in _NAMES:
        if column not in schema.names:
            continue
        kind = schema.field(column).type
        expected, check = _EXPECTED.get(column, ("a string", _is_text))
        if not (check(pa, kind) or pa.types.is_null(kind)):
            reason = f"the {column!r} column must hold {expected}, not {kind}"
            raise TraceFileError(reason, path=name)


class _RowProblem(Exception):
    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row, self.reason = row, reason


def _full_data(data: list[Any], metadata: list[Any]) -> list[Any]:
    """A batch's ``data`` texts as an event's encoding has them (undoes :func:`_short_data`).

    The :data:`_SAME_METADATA` marker ending a stream part's data is replaced by its row's
    ``metadata`` text (a row without one keeps the marker: its data then fails to load).
    """
    end = _SAME_METADATA_END
    return [
        text[: -len(end) + 1] + metadata[row] + "]}}"
        if type(text) is str
        and text.endswith(end)
        and text.startswith(_PAIR_DATA)
        and type(metadata[row]) is str
        else text
        for row, text in enumerate(data)
    ]


def _load_json(text: str, column: str) -> Any:
    try:
        if type(text) is str and not text.startswith("\ufeff"):
            # json.loads, without the decoder it would make for each call (a BOM and other
            # types go through json.loads itself, which words their errors)
            return _VALUE.decode(text)
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"{column} is nested too deeply to load") from None
    except ValueError as error:
        raise ValueError(f"{column} is not valid JSON: {error}") from None


class _Rows:
    """Events rebuilt from record batches; equal strings, lists and metadata are shared."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.rows = 0  # rows read so far (for error messages)
        self.strings: dict[str, str] = {}
        self.lists: dict[tuple, list[str]] = {}
        self.metadata: dict[str, Any] = {}  # JSON text -> decoded metadata
        self.budget = Budget(None)  # what decoding the data texts may take (see _validate)

    def _words(self, pa: Any, array: Any) -> list[Any]:
        """A string column as Python strings, each distinct one a single object."""
        if not pa.types.is_dictionary(array.type):
            if _is_view(pa, array.type):
                array = array.cast(pa.string())
            array = array.dictionary_encode()
        strings = self.strings
        if len(strings) >= _CACHE_LIMIT:
            strings.clear()
        words = [strings.setdefault(word, word) for word in array.dictionary.to_pylist()]
        words.append(None)  # (at -1: a null row's)
        return list(map(words.__getitem__, _numpy(array.indices, -1).tolist()))

    def _lists(self, pa: Any, array: Any) -> list[Any]:
        """A list-of-strings column as Python lists, each distinct one a single object."""
        import pyarrow.compute as pc

        count = len(array)
        if array.null_count == count:
            return [None] * count
        found = _list_codes(pa, pc, array)
        if found is None:
            return self._lists_row_by_row(pa, array)
        codes, distinct = found
        lists = self.lists
        objects = []
        for items in distinct:  # (each distinct list once)
            if items is None:
                objects.append(None)
                continue
            shared = lists.get(items)
            if shared is None:
                if len(lists) >= _CACHE_LIMIT:
                    lists.clear()
                shared = lists[items] = [self.strings.setdefault(i, i) for i in items]
            objects.append(shared)
        return [objects[code] for code in codes.tolist()]

    def _lists_row_by_row(self, pa: Any, array: Any) -> list[Any]:
        count = len(array)
        words = self._words(pa, array.values)  # .values and .offsets both ignore slicing
        offsets = array.offsets.to_pylist()
        valid = array.is_valid().to_pylist() if array.null_count else None
        lists, out = self.lists, []
        for i in range(count):
            if valid is not None and not valid[i]:
                out.append(None)
                continue
            key = tuple(words[offsets[i] : offsets[i + 1]])
            items = lists.get(key)
            if items is None:
                if len(lists) >= _CACHE_LIMIT:
                    lists.clear()
                items = lists[key] = list(key)
            out.append(items)
        return out

    @staticmethod
    def _plain(pa: Any, array: Any) -> list[Any]:
        return array.to_pylist()

    def add(self, pa: Any, batch: Any) -> None:
        """Rebuild the events of one record batch (raises :class:`_RowProblem` for a bad row)."""
        columns = self.columns(pa, batch)
        start = self.rows
        self.rows += batch.num_rows
        append = self.events.append
        for i in range(batch.num_rows):
            append(self.event(columns, i, start))

    def columns(self, pa: Any, batch: Any) -> tuple[list[Any], ...]:
        """A batch's columns as Python lists (equal strings and lists one object), for event()."""
        present = batch.schema.names
        nothing = [None] * batch.num_rows

        def column(name: str, convert: Any) -> list[Any]:
            if name not in present:
                return nothing
            array = batch.column(name)
            return nothing if pa.types.is_null(array.type) else convert(pa, array)

        metadata = column("metadata", self._words)
        return (
            column("event", self._words),
            column("name", self._words),
            column("run_id", self._words),
            column("parent_ids", self._lists),
            column("tags", self._lists),
            metadata,
            _full_data(column("data", self._plain), metadata),
            column("t", self._plain),
            column("seq", self._plain),
            column("thread", self._plain),
            column("mode", self._words),
            column("ns", self._lists),
            column("extra", self._plain),
            column("server_t", self._plain),
        )

    def event(
        self, columns: tuple[list[Any], ...], i: int, start: int, decoded: Any = _ABSENT
    ) -> dict[str, Any]:
        """The event of row ``i`` of a batch whose first row is row ``start`` of the file.

        ``decoded``: the row's ``data`` already decoded (see :class:`_RunClass`), used unless the
        row is read as a JSONL line is (nulls, overrides).
        """
        (kinds, names_, run_ids, parent_ids, tags, metadata, data, times, seqs, threads, modes,
         namespaces, extras, server_times) = columns  # fmt: skip
        try:
            # Keys in the order streamviz's sources make them: the event's own, then t, seq and
            # thread (stamped when it is appended).
            event = {
                "event": kinds[i],
                "name": names_[i],
                "run_id": run_ids[i],
                "parent_ids": parent_ids[i],
                "tags": tags[i],
                "metadata": metadata[i],
            }
            if data[i] is not None:
                event["data"] = data[i]
            if modes[i] is not None:
                event["mode"] = modes[i]
            if namespaces[i] is not None:
                event["ns"] = namespaces[i]
            if server_times[i] is not None:
                event["server_t"] = server_times[i]
            event["t"], event["seq"] = times[i], seqs[i]
            if threads[i] is not None:
                event["thread"] = threads[i]
            return self._decode(event, extras[i], decoded)
        except ValueError as error:
            raise _RowProblem(start + i, str(error)) from None

    def _decode(
        self, event: dict[str, Any], extra: str | None, decoded: Any = _ABSENT
    ) -> dict[str, Any]:
        text = event["metadata"]
        if extra is not None or text is None or not _well_formed(event):
            return self._decode_slowly(event, extra)
        metadata = self.metadata.get(text)
        if metadata is None:
            value = _load_json(text, "metadata")
            if not isinstance(value, dict):
                raise ValueError(f"event key 'metadata' must be {_OBJECT}, not {_describe(value)}")
            if len(self.metadata) >= _CACHE_LIMIT:
                self.metadata.clear()
            metadata = self.metadata[text] = from_parsed(value, text)
        event["metadata"] = metadata
        if "data" in event:
            self._charge(event["data"])
            if decoded is _ABSENT:
                text = event["data"]
                decoded = _decode_charged(_load_json(text, "data"), self.budget, text)
            event["data"] = decoded
        else:
            event["data"] = {}  # an event saved without data reads as a JSONL line without it
        return event

    def _charge(self, text: Any) -> None:
        """Count a data text against the load's memory budget (a ValueError past it)."""
        if type(text) is str and len(text) > 64:  # small texts: bounded by the row count
            too_much = self.budget.charge(text)
            if too_much is not None:
                raise ValueError(too_much)

    def _decode_slowly(self, event: dict[str, Any], extra: str | None) -> dict[str, Any]:
        """An event with nulls, overrides or odd values: checked as a JSONL line is."""
        encoded = {key: value for key, value in event.items() if value is not None}
        for key in ("metadata", "data"):
            if key in encoded:
                self._charge(encoded[key])
                encoded[key] = _load_json(encoded[key], key)
        if extra is not None:
            overrides = _load_json(extra, "extra")
            if not isinstance(overrides, dict) or MARKER in overrides:
                raise ValueError(f"extra must be a JSON object of event keys, not {extra[:60]}")
            encoded.update(overrides)
            if "server_t" in overrides and "t" in encoded:  # (earlier versions kept it there)
                encoded = {key: encoded[key] for key in _before_time(encoded)}
        problem = _event_problem(encoded)
        if problem is not None:
            raise ValueError(problem)
        return _decode_charged(encoded, self.budget)


def _before_time(event: dict[str, Any]) -> list[str]:
    """The event's keys with ``server_t`` just before ``t``, where its source puts it."""
    keys = [key for key in event if key != "server_t"]
    keys.insert(keys.index("t"), "server_t")
    return keys


def _well_formed(event: dict[str, Any]) -> bool:
    """Whether the typed fields of a row are all set and ``t`` is finite (the usual row)."""
    t = event["t"]
    return (
        event["event"] is not None
        and event["name"] is not None
        and event["run_id"] is not None
        and event["parent_ids"] is not None
        and event["tags"] is not None
        and event["seq"] is not None
        and t is not None
        and -MAX_T <= t <= MAX_T
        and None not in event["parent_ids"]
        and None not in event["tags"]
        and (None not in event["ns"] if "ns" in event else True)
    )


_CHUNK_DATA = '{"chunk":'


class _StoreRows(_Rows):
    """Appends a columnar file's rows to a store; a run's token rows without building events.

    As :class:`streamviz._persistence._Loader` does for JSONL lines: once an event stored as a
    compact row of a :data:`~streamviz._log.Shape` is found to be written as this version writes
    that shape (its ``data`` text is the shape's skeleton around the chunk's text), later rows
    with the same fixed columns (event, name, run id, parent ids, tags, metadata, mode,
    namespace, thread present or not) whose ``data`` is that skeleton around a JSON string, with
    no ``extra``, a finite ``t`` and the next ``seq``, are appended by
    :meth:`EventStore.extend_like`. Rows are keyed by their fixed columns with Arrow's
    vectorised dictionary encoding; with a ``text`` column, which rows fit is found for a whole
    batch by one Arrow comparison (:meth:`_checker`; for the keys first seen in the batch, with
    the pieces guessed from each key's first row, :meth:`_Checker.guess`, used for a key only
    once the pieces learned from that row are the same); other rows are decoded in full, from
    the batch's columns turned into Python lists once.
    """

    _MAX_SKELETONS = 4
    _MAX_CLASSES = 8

    def __init__(self, store: EventStore) -> None:
        super().__init__()
        self.store = store
        self.known: dict[tuple, list[tuple[str, str, Shape]]] = {}
        self.classes: list[_RunClass] = []
        self.class_kinds: set[str] = set()  # the event kinds of the classes' rows
        self.chunk: tuple[str, Any] | None = None  # the latest stream chunk decoded, its data

    def add(self, pa: Any, batch: Any) -> None:
        import numpy as np

        count = batch.num_rows
        if count == 0:
            return
        first_row = self.rows
        self.rows += count
        keys = self._keys(pa, batch) if "data" in batch.schema.names else None
        if keys is None:  # odd columns (nulls in fixed fields, extras): every row in full
            columns = self.columns(pa, batch)
            self.store.extend(self.event(columns, row, first_row) for row in range(count))
            return
        codes_array, distinct = keys
        codes = codes_array.tolist()  # (the per-row loop's, as ints)
        times, seqs, threads, fast_thread_column = _numbers(pa, batch)
        server_times = _server_times(pa, batch)

        store = self.store
        shapes: list[Shape] = []
        texts: list[str] = []
        fast_times: list[float] = []
        fast_threads: list[int] = []
        fast_server_times: list[float] = []
        # Runs' starts and ends decoded in a row, appended at once (never beside token rows
        # waiting in `texts`: each kind is flushed before the other is held).
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            if pending:
                store.extend(pending)
                pending.clear()
            if not texts:
                return
            store.extend_like(
                shapes,
                texts,
                fast_times,
                fast_threads,
                None if server_times is None else fast_server_times,
            )
            shapes.clear()
            texts.clear()
            fast_times.clear()
            fast_threads.clear()
            fast_server_times.clear()

        known = [self.known.get(key) for key in distinct]
        # Keys of a run's start, end or error: never a chunk, so never a token row, a run
        # class's row or a messages part: decoded, held and appended, nothing learned.
        plain_keys = [_never_chunk(key[0]) for key in distinct]
        # Each key's latest known shape's template and kind (as known[code][0][2]), for the
        # runs of token rows appended at once: their columns taken by NumPy, not row by row.
        template_of = np.zeros(len(distinct), dtype=np.int64)
        kind_of = np.zeros(len(distinct), dtype=np.int64)

        def note(code: int) -> None:
            if known[code]:
                template_of[code], kind_of[code] = known[code][0][2][:2]

        for code in range(len(distinct)):
            note(code)
        position = len(store)
        # Each key's rows, in order: by_code[starts[code]:starts[code + 1]].
        by_code = np.argsort(codes_array, kind="stable")
        starts = np.searchsorted(codes_array[by_code], np.arange(len(distinct) + 1))
        check = self._checker(pa, batch, codes_array, position, distinct)
        if check is None:  # no text column: every row's data is compared in Python
            slow = _SlowRows(self, pa, batch, first_row, None)
            fast = None
            column_texts: list[Any] = []
        else:
            fast = check(known, np.arange(count))
            slow = _SlowRows(self, pa, batch, first_row, check.likely_slow(fast))
            column_texts = check.texts
            guessed, guess_fits = check.guess(known, slow)
        row = 0
        while row < count:
            if fast is not None and fast[row]:
                # Rows up to the next slow one: token rows of a known shape, checked by Arrow.
                # (Looked for in growing windows: not the whole rest of the batch each time.)
                stop, width = row + 1, 256
                while stop < count:
                    window = fast[stop : stop + width]
                    if not window.all():
                        stop += int(np.argmin(window))
                        break
                    stop, width = stop + len(window), width * 4
                flush()
                stretch = codes_array[row:stop]
                store.extend_like(
                    None,
                    column_texts[row:stop],
                    times[row:stop],
                    fast_thread_column[row:stop],
                    None
                    if server_times is None
                    else [_NAN if v is None else v for v in server_times[row:stop]],
                    templates=template_of[stretch],
                    kinds=kind_of[stretch],
                )
                position += stop - row
                row = stop
                continue
            t, value, text = times[row], None, None
            thread = None if threads is None else threads[row]
            server_t = None if server_times is None else server_times[row]
            compact = (  # the row may be stored as a compact row of a shape
                seqs[row] == position
                and type(t) is float
                and -MAX_T <= t <= MAX_T
                and (server_t is None or -MAX_T <= server_t <= MAX_T)
                and (thread is None or thread >= 0)
            )
            if compact and known[codes[row]]:
                value = slow.data(row)
                # A token row of a known shape? (_token_text, inlined: the per-row path)
                for before, after, shape in known[codes[row]] if type(value) is str else ():  # noqa: B007 - used below
                    if value.startswith(before) and value.endswith(after):
                        literal = value[len(before) : len(value) - len(after)]
                        inner = literal[1:-1]
                        if (
                            len(literal) > 1
                            and literal[0] == '"' == literal[-1]
                            and '"' not in inner
                            and "\\" not in inner
                        ):
                            text = inner
                        else:
                            text = _token_text(value, before, after)
                        if text is not None:
                            break
            if text is not None:
                if pending:
                    flush()
                shapes.append(shape)
                texts.append(text)
                fast_times.append(t)
                fast_threads.append(0 if thread is None else thread)
                fast_server_times.append(_NAN if server_t is None else server_t)
                position += 1
                row += 1
                continue
            code = codes[row]
            if plain_keys[code]:
                if texts:
                    flush()
                pending.append(slow.event(row))
                position += 1
                row += 1
                continue
            # The first row of a new key: a token of a known class of runs (read without
            # decoding its JSON), else any event, decoded in full.
            made = (
                self._like_class(slow, row)
                if compact and distinct[code][0] in self.class_kinds
                else None
            )
            event = slow.event(row, self._carried(slow.data(row))) if made is None else made[0]
            if made is None:
                self._remember_chunk(event, slow.data(row))
            flush()
            store.extend((event,))
            position = len(store)
            was = known[code][0] if known[code] else None
            if made is None or not self._know(distinct[code], made[1], made[2]):
                self._learn(distinct[code], event, slow.data(row))
            known[code] = self.known.get(distinct[code])
            note(code)
            if check is not None and known[code] and known[code][0] != was:
                # A shape learned: the later rows of this key may be its tokens (checked with
                # the whole batch already if the pieces guessed for the key are the shape's).
                rows_of_code = by_code[starts[code] : starts[code + 1]]  # (ascending)
                later = rows_of_code[np.searchsorted(rows_of_code, row, side="right") :]
                if len(later):
                    if guessed.get(code) == known[code][0][:2]:
                        fast[later] = guess_fits[later]
                    else:
                        fast[later] = check(known, later)
            row += 1
        flush()

    def _checker(
        self, pa: Any, batch: Any, codes: Any, position: int, keys: list[tuple]
    ) -> _Checker | None:
        """A vectorised test of which rows are token rows of their key's latest known shape.

        For a file with a ``text`` column: a row is one if its ``data`` is exactly the shape's
        pieces around its text as a JSON string (a text that needs no escape), its ``seq`` the
        next, its ``t`` finite, its thread not negative. None if the batch's columns do not
        allow the test (the rows are then tested one by one).
        """
        import numpy as np

        names = batch.schema.names
        if "text" not in names or "thread" not in names:
            return None
        data, text = batch.column("data"), batch.column("text")
        t, seq, thread = batch.column("t"), batch.column("seq"), batch.column("thread")
        if not (
            _is_text(pa, data.type)
            and pa.types.is_string(text.type)
            and pa.types.is_float64(t.type)
            and pa.types.is_int64(seq.type)
            and pa.types.is_int64(thread.type)
        ):
            return None
        count = batch.num_rows
        moments = _numpy(t, float("nan"))
        possible = (
            _plain_texts(pa, text)
            & data.is_valid().to_numpy(zero_copy_only=False)
            & (_numpy(seq, -1) == np.arange(position, position + count))
            & (np.abs(moments) <= MAX_T)
            & (_numpy(thread, 0) >= 0)
        )
        if "server_t" in names:  # none, or a finite float
            server_t = batch.column("server_t")
            if not pa.types.is_float64(server_t.type):
                return None
            possible &= np.isfinite(_numpy(server_t, 0.0))
        if _is_view(pa, data.type):
            data = data.cast(pa.string())
        return _Checker(pa, data, text, codes, possible, keys, self._words(pa, text))

    def _keys(self, pa: Any, batch: Any) -> tuple[Any, list[tuple]] | None:
        """Each row's key code (a NumPy array), and the key (fixed columns' values) of each."""
        import numpy as np
        import pyarrow.compute as pc

        names = batch.schema.names
        if "extra" in names and batch.column("extra").null_count != batch.num_rows:
            return None
        parts = []
        for name in ("event", "name", "run_id", "metadata", "mode", *_LIST_COLUMNS):
            if name not in names:
                parts.append((None, np.zeros(batch.num_rows, dtype=np.int64)))
                continue
            array = batch.column(name)
            if pa.types.is_null(array.type):
                parts.append((None, np.zeros(batch.num_rows, dtype=np.int64)))
                continue
            if name in _LIST_COLUMNS:
                if not pa.types.is_list(array.type) and not pa.types.is_large_list(array.type):
                    return None
                found = _list_codes(pa, pc, array)
                if found is None:
                    return None
                parts.append((found[1], found[0]))
                continue
            if name not in ("mode",) and array.null_count:
                return None
            # A dictionary column (as Parquet files are read) is taken as it is: a value its
            # dictionary holds twice gets two codes, which only costs a shape learned twice.
            encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
            indices = _numpy(encoded.indices, -1).astype(np.int64)
            parts.append((encoded.dictionary.to_pylist(), indices))
        has_thread = (
            batch.column("thread").is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
            if "thread" in names
            else np.zeros(batch.num_rows, dtype=np.int64)
        )
        parts.append((None, has_thread))
        if "server_t" in names:  # a server run's part has one, its other events not
            has_server_t = batch.column("server_t").is_valid().to_numpy(zero_copy_only=False)
            parts.append((None, has_server_t.astype(np.int64)))
        # One integer per row from the parts' codes (mixed radix), when it fits in 63 bits.
        combined = np.zeros(batch.num_rows, dtype=np.int64)
        radix = 1
        for _, indices in parts:
            base = int(indices.max()) + 2 if len(indices) else 2
            radix *= base
            if radix >= 2**62:
                combined = None
                break
            combined = combined * base + (indices + 1)
        if combined is None:
            stacked = np.stack([indices for _, indices in parts], axis=1)
            _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
        else:
            # Codes by hashing (numbered in order of first appearance), not by sorting: a key's
            # first row is where the running maximum of the codes grows.
            inverse = pc.dictionary_encode(pa.array(combined)).indices.to_numpy()
            peak = np.maximum.accumulate(inverse)
            grows = np.empty(len(inverse), dtype=bool)
            grows[:1] = True
            grows[1:] = peak[1:] != peak[:-1]
            first = np.flatnonzero(grows)
        # Each key's values, from its first row's codes (taken per part at once, as ints).
        dictionaries = [dictionary for dictionary, _ in parts]
        picked = zip(*[indices[first].tolist() for _, indices in parts], strict=True)
        distinct = [
            tuple(
                code if dictionary is None or code < 0 else dictionary[code]
                for dictionary, code in zip(dictionaries, codes, strict=True)
            )
            for codes in picked
        ]
        return inverse.reshape(-1).astype(np.int64), distinct

    def _learn(self, key: tuple, event: dict[str, Any], data: Any) -> Shape | None:
        """After ``event`` was stored: remember its shape's data skeleton if it fits the file.

        Returns the shape, or None if the row is not a token row written as this version does.
        """
        store = self.store
        position = len(store) - 1
        if event.get("seq") != position or type(data) is not str:
            return None
        shape = store.shape_at(position)
        if shape is None:
            return None
        pieces = _data_pieces(store, shape)
        if pieces is None:
            return None
        before, after = pieces
        if _token_text(data, before, after) != _chunk_text(store, position):
            return None  # written otherwise than this version writes it: read row by row
        self._know(key, pieces, shape)
        if len(self.classes) < self._MAX_CLASSES and not any(
            found.shape[1] == shape[1] for found in self.classes
        ):
            run_class = _RunClass.of(store, shape)
            matched = None if run_class is None else run_class.match(data)
            if matched is not None and matched[3] == (len(before), len(data) - len(after)):
                chunk = store.shape_event(shape, "")["data"]["chunk"]
                message_id, metadata = _RunClass.holes(chunk)
                if matched[1] == message_id and (
                    matched[2] is None or _same_value(from_json(matched[2][0]), metadata)
                ):
                    self.classes.append(run_class)
                    self.class_kinds.add(event["event"])
        return shape

    def _know(self, key: tuple, pieces: tuple[str, str], shape: Shape | None) -> bool:
        """Remember ``pieces`` as the data skeleton of the rows of ``key`` of ``shape``.

        Without ``shape``: the shape of the event just stored, if it is a compact row packed as
        the rows of :attr:`_RunClass.shape` are (else False, nothing remembered).
        """
        if shape is None:
            found = self.store.shape_at(len(self.store) - 1)
            if found is None or found[0] != found[2] or found[1] != pieces[2]:
                return False
            shape, pieces = found, pieces[:2]
        known = self.known.setdefault(key, [])
        known.insert(0, (pieces[0], pieces[1], shape))
        del known[self._MAX_SKELETONS :]
        return True

    def _remember_chunk(self, event: dict[str, Any], data: Any) -> None:
        """Note a decoded model stream event's message chunk and its data (see :meth:`_carried`)."""
        chunk = event["data"].get("chunk") if type(event.get("data")) is dict else None
        if type(chunk) is AIMessageChunk and type(data) is str and data.startswith(_CHUNK_DATA):
            self.chunk = (data, chunk)

    def _carried(self, data: Any) -> Any:
        """A LangGraph ``messages`` part's ``data`` decoded, if it carries the latest chunk.

        A graph's ``messages`` part carries the very message chunk its model's stream event
        holds, so its ``data`` is that event's chunk JSON and the part's metadata: when it is
        (the same JSON text, one JSON value), the part gets the chunk decoded for the event,
        one object as when captured, and only its metadata is decoded. Else :data:`_ABSENT`:
        decode in full.
        """
        if self.chunk is None or type(data) is not str or not data.startswith(_PAIR_DATA):
            return _ABSENT
        held, chunk = self.chunk
        try:
            end = _VALUE.raw_decode(held, len(_CHUNK_DATA))[1]
        except (ValueError, RecursionError):
            return _ABSENT
        text = held[len(_CHUNK_DATA) : end]
        if held[end:] != "}":
            return _ABSENT
        at = len(_PAIR_DATA) + len(text)
        if not (data.startswith(text, len(_PAIR_DATA)) and data[at : at + 1] == ","):
            return _ABSENT
        if not data.endswith("]}}"):
            return _ABSENT
        try:
            metadata = from_json(_load_json(data[at + 1 : -3], "data"))
        except ValueError:
            return _ABSENT  # decoded in full, to say what is wrong where
        return {"chunk": (chunk, metadata)}

    def _like_class(self, slow: _SlowRows, row: int) -> tuple[dict, tuple, None] | None:
        """The event of the first row of a new key if it is a token of a known run class.

        Its ``data`` is parsed along the class's pattern (:meth:`_RunClass.match`) and built
        from the class's shape with this run's text, message id and metadata, not decoded in
        full; returns it with the pieces of the key's rows around their text and the kind
        they are packed with, for :meth:`_know` (None for shape: the stored row's).
        """
        data = slow.data(row)
        if type(data) is not str:
            return None
        for run_class in self.classes:
            found = run_class.match(data)
            if found is None:
                continue
            text, message_id, metadata, span = found
            chunk = run_class.chunk(self.store, text, message_id, metadata)
            event = slow.event(row, {"chunk": chunk})
            return event, (data[: span[0]], data[span[1] :], run_class.shape[1]), None
        return None


_ID_MARK = "\x00sv:id\x00"
_PAIR_MARK = "\x00sv:metadata\x00"
_VALUE = json.JSONDecoder(parse_constant=_reject_constant)


class _RunClass:
    """The ``data`` text of the token rows of every run of one kind, but for their holes.

    An agent's model calls each stream their tokens as message chunks that differ from one
    call to the next only in their message id and, for LangGraph ``messages`` parts, in the
    part's metadata: the ``data`` of such a row is :attr:`pieces` around the JSON of its text,
    its id and its metadata (:attr:`order` says which hole is which). Learned once from a
    shape checked as :meth:`_StoreRows._learn` checks it, a class lets a loader read the first
    token of each later run from its text and holes, without decoding its JSON in full or
    encoding its shape again (9,709 runs at 1M events of an agent each paid both).

    Why the event so built is the row's: the holes are whole JSON values of the row's text (a
    pattern piece is matched literally, each hole parsed as one JSON value), so decoding the
    row gives the class shape's event with the hole values in their places; a plain message
    chunk is its text, its id and its fields set (:meth:`EventStore.shape_at`), so the chunk
    built from the class's shape with this run's id and text is the one decoding would build.
    """

    __slots__ = ("order", "parts", "shape")

    def __init__(self, pieces: list[str], order: list[str], shape: Shape) -> None:
        self.parts, self.order, self.shape = pieces, order, shape

    @classmethod
    def of(cls, store: EventStore, shape: Shape) -> _RunClass | None:
        """The class of ``shape``'s runs; None if its chunks are not plain message chunks.

        Check it on the shape (:meth:`match`, :meth:`pieces`) before use.
        """
        chunk = store.shape_event(shape, TEXT_MARK)["data"]["chunk"]
        pair = type(chunk) in (tuple, list) and len(chunk) == 2
        message = chunk[0] if pair else chunk
        if type(message) is not AIMessageChunk or type(message.id) is not str:
            return None
        message.__dict__["id"] = _ID_MARK  # (a new object: the store builds it for this call)
        marks = {"text": TEXT_MARK, "id": _ID_MARK}
        if pair:
            chunk = type(chunk)((message, _PAIR_MARK))
            marks["metadata"] = _PAIR_MARK
        found = split_on_marks(_json_text(to_json_member({"chunk": chunk}, {})), marks)
        return None if found is None else cls(found[0], found[1], shape)

    @staticmethod
    def holes(chunk: Any) -> tuple[Any, Any]:
        """The message id and the ``messages`` part's metadata (or None) of a shape's chunk."""
        if type(chunk) is AIMessageChunk:
            return chunk.id, None
        if type(chunk) in (tuple, list) and len(chunk) == 2 and type(chunk[0]) is AIMessageChunk:
            return chunk[0].id, chunk[1]
        return None, None

    def pieces(self, message_id: Any, metadata: str) -> tuple[str, str] | None:
        """The ``data`` text of a run's rows before and after their text's JSON string.

        That is, with ``message_id`` (of :meth:`holes`) encoded as it is in ``data`` and
        ``metadata`` the JSON text of the metadata of :meth:`holes` (as
        ``_json_text(to_json_member(metadata, {}))``); None if that cannot be told apart from
        the pattern (metadata nested so deep that the encoder's depth limit could cut it in one
        place and not in the other).
        """
        if type(message_id) is not str:
            return None
        values = {"id": _json_text(redact_text(message_id))}
        if "metadata" in self.order:
            text = metadata
            if text.count("{") + text.count("[") > _SHALLOW:
                return None
            values["metadata"] = text
        parts = [self.parts[0]]
        for name, piece in zip(self.order, self.parts[1:], strict=True):
            parts.append(values.get(name, TEXT_MARK))
            parts.append(piece)
        at = parts.index(TEXT_MARK)
        return "".join(parts[:at]), "".join(parts[at + 1 :])

    def match(self, data: str) -> tuple[str, str, Any, tuple[int, int]] | None:
        """What ``data`` holds in this class's holes, or None if it does not fit the pattern.

        The text, the message id, the metadata (its JSON value and text, or None) and where
        the text's JSON string is in ``data``.
        """
        pieces = self.parts
        if not data.startswith(pieces[0]):
            return None
        at = len(pieces[0])
        values: dict[str, Any] = {"metadata": None}
        span = (0, 0)
        try:
            for name, piece in zip(self.order, pieces[1:], strict=True):
                if name == "metadata":
                    value, end = _VALUE.raw_decode(data, at)
                    values[name] = (value, data[at:end])
                else:
                    if data[at : at + 1] != '"':
                        return None
                    values[name], end = scanstring(data, at + 1)
                    if name == "text":
                        span = (at, end)
                if not data.startswith(piece, end):
                    return None
                at = end + len(piece)
        except (ValueError, RecursionError):
            return None
        if at != len(data) or type(values.get("id")) is not str:
            return None
        return values["text"], values["id"], values["metadata"], span

    def chunk(self, store: EventStore, text: str, message_id: str, metadata: Any) -> Any:
        """The chunk of a row holding these values (``metadata``: its JSON value, or None)."""
        chunk = store.shape_event(self.shape, text)["data"]["chunk"]
        if type(chunk) is AIMessageChunk:
            chunk.__dict__["id"] = message_id  # (a new object, as above)
            return chunk
        chunk[0].__dict__["id"] = message_id
        return type(chunk)((chunk[0], from_parsed(*metadata)))


def _same_value(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


class _Checker:
    """Which rows of a batch are token rows of their key's latest known shape.

    See :meth:`_StoreRows._checker`: the rows' ``data`` compared with the shape's pieces around
    their ``text``, by Arrow, for a set of rows at once.
    """

    def __init__(
        self,
        pa: Any,
        data: Any,
        text: Any,
        codes: Any,
        possible: Any,
        keys: list[tuple],
        texts: list[str | None],
    ) -> None:
        self.pa, self.data, self.text, self.codes, self.possible = pa, data, text, codes, possible
        # The token rows' texts (for extend_like), equal ones one object: a model's tokens
        # repeat, and the loaded trace keeps each distinct text once.
        self.texts = texts
        self.keys = keys

    def short(self, code: int, pieces: tuple[str, str]) -> tuple[Any, Any]:
        """``pieces`` (of a key's data) as the file holds them (:func:`_short_data`)."""
        key = self.keys[code]  # (event, name, run_id, metadata, mode, ...): see _keys
        if type(key[4]) is not str or type(key[3]) is not str:
            return pieces
        return _short_pieces(pieces, key[3]) or (None, None)

    def __call__(self, known: list[Any], rows: Any) -> Any:
        """For each of ``rows`` (positions in the batch), whether it is such a token row."""
        import numpy as np

        pa = self.pa
        out = np.zeros(len(rows), dtype=bool)
        keep = self.possible[rows]
        codes = self.codes[rows]
        if len(rows) > len(known):  # (a whole batch) one test per key, then each row's
            has_shape = np.fromiter((found is not None for found in known), bool, len(known))
            keep &= has_shape[codes]
        else:
            keep &= np.fromiter((known[code] is not None for code in codes.tolist()), bool)
        chosen = rows[keep]
        if not len(chosen):
            return out
        codes = self.codes[chosen]
        if speedups is None and len(chosen) <= _FEW_ROWS and (codes == codes[0]).all():
            # A run's rows of one key: compared in Python (in C below, with the speedups).
            before, after = self.short(int(codes[0]), known[int(codes[0])][0][:2])
            if before is None:
                return out
            index = pa.array(chosen, type=pa.int64())
            datas = self.data.take(index).to_pylist()
            texts = self.texts
            fits = [
                data == f'{before}"{texts[row]}"{after}'
                for data, row in zip(datas, chosen.tolist(), strict=True)
            ]
            out[np.flatnonzero(keep)] = fits
            return out
        wanted, inverse = np.unique(codes, return_inverse=True)
        pieces = [self.short(code, known[code][0][:2]) for code in wanted.tolist()]
        out[np.flatnonzero(keep)] = self._fits(chosen, pieces, inverse.reshape(-1))
        return out

    def _fits(self, rows: Any, pieces: list[tuple[str, str]], which: Any) -> Any:
        """Whether each of ``rows``' data is ``pieces[which[i]]`` around its text, by Arrow.

        Only those rows' data is read (no copy of the batch's other rows). With the C
        speedups, each row's bytes are compared where they are; else Arrow builds the expected
        texts and compares them.
        """
        import numpy as np
        import pyarrow.compute as pc

        pa = self.pa
        if speedups is not None:
            _, data_offsets, data_values = self.data.buffers()
            _, text_offsets, text_values = self.text.buffers()
            befores = [_piece_bytes(_quoted(piece[0], True)) for piece in pieces]
            afters = [_piece_bytes(_quoted(piece[1], False)) for piece in pieces]
            fits = speedups.rows_fit(
                data_offsets,
                data_values,
                self.data.offset,
                pa.types.is_large_string(self.data.type),
                text_offsets,
                text_values,
                self.text.offset,
                len(self.data),
                np.ascontiguousarray(rows, dtype=np.int64),
                np.ascontiguousarray(which, dtype=np.int64),
                befores,
                afters,
            )
            return np.frombuffer(fits, dtype=bool)

        if len(rows) * 2 > len(self.possible):
            # Most of the batch: every row compared (no copy of the data column), then those.
            number = np.full(len(self.possible), len(pieces), dtype=np.int64)
            number[rows] = which
            where = pa.array(number, type=pa.int64())
            text, data = self.text, self.data
            pieces = [*pieces, (None, None)]  # the other rows: null, not compared
        else:
            index = pa.array(rows, type=pa.int64())
            where = pa.array(which, type=pa.int64())
            text, data = self.text.take(index), self.data.take(index)
        before = pa.array([_quoted(piece[0], True) for piece in pieces], type=pa.string())
        after = pa.array([_quoted(piece[1], False) for piece in pieces], type=pa.string())
        expected = pc.binary_join_element_wise(before.take(where), text, after.take(where), "")
        same = _numpy(pc.equal(expected, data), False)
        return same[rows] if len(same) != len(rows) else same

    def guess(self, known: list[Any], slow: _SlowRows) -> tuple[dict[int, tuple[str, str]], Any]:
        """Pieces guessed for each key not known yet, and which rows of the batch fit them.

        A key's guess is its first possible row's ``data`` cut around its text as a JSON
        string, when that occurs there once. Only a guess: the loader uses a row's result only
        if the pieces it then learns from that first row (encoding its event, as
        :meth:`_StoreRows._learn` does) are the guessed ones, so that a batch's token rows are
        compared by one Arrow pass instead of one per run.
        """
        import numpy as np

        fits = np.zeros(len(self.possible), dtype=bool)
        unknown = np.fromiter((found is None for found in known), bool, len(known))
        rows = np.flatnonzero(self.possible)
        rows = rows[unknown[self.codes[rows]]]
        if not len(rows):
            return {}, fits
        codes = self.codes[rows]
        _, first = np.unique(codes, return_index=True)
        guessed: dict[int, tuple[str, str]] = {}
        for row in rows[first].tolist():
            data = slow.data(row)
            literal = f'"{self.texts[row]}"'
            if type(data) is str and data.count(literal) == 1:
                before, _, after = data.partition(literal)
                guessed[int(self.codes[row])] = (before, after)
        if not guessed:
            return guessed, fits
        order = list(guessed)
        number = np.full(len(known), -1, dtype=np.int64)
        number[order] = np.arange(len(order))
        which = number[codes]
        rows, which = rows[which >= 0], which[which >= 0]
        fits[rows] = self._fits(rows, [self.short(code, guessed[code]) for code in order], which)
        return guessed, fits

    def likely_slow(self, fast: Any) -> Any:
        """The rows that will probably be decoded in full, converted to Python at once.

        Those not ``fast`` that are not token rows, or are the first of their key, or whose
        ``data`` is not as long around their text as the first's (the later rows of a key are
        the token rows of the shape its first row teaches, if they are as long: a guess; every
        row is still checked).
        """
        import numpy as np
        import pyarrow.compute as pc

        slow = ~fast
        candidates = np.flatnonzero(slow & self.possible)
        if not len(candidates):
            return np.flatnonzero(slow)
        around = (_numpy(pc.binary_length(self.data), 0) - _numpy(pc.binary_length(self.text), 0))[
            candidates
        ]
        codes = self.codes[candidates]
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        guess = around[first][inverse.reshape(-1)] == around
        guess[first] = False
        slow[candidates[guess]] = False
        return np.flatnonzero(slow)


class _SlowRows:
    """The Python values of the rows of a batch decoded in full, converted a set at a time.

    ``rows`` (those expected to be slow, or None for every row) are converted at once; any other
    row asked for is converted on its own, or, after :data:`_MISSES` of them, the whole batch.
    """

    def __init__(
        self, reader: _Rows, pa: Any, batch: Any, first_row: int, rows: Any | None
    ) -> None:
        self.reader, self.pa, self.batch, self.first_row = reader, pa, batch, first_row
        self.where: dict[int, tuple[tuple[list[Any], ...], int]] = {}
        self.misses = 0
        self.whole: tuple[list[Any], ...] | None = None
        if rows is None:
            self.whole = reader.columns(pa, batch)
        elif len(rows):
            self._convert(rows)

    def _convert(self, rows: Any) -> None:
        pa = self.pa
        part = self.batch.take(pa.array(rows, type=pa.int64()))
        arrays = [
            array.cast(array.type.value_type) if pa.types.is_dictionary(array.type) else array
            for array in part.columns
        ]  # a few rows: decode the values they use, not the whole dictionary
        columns = self.reader.columns(
            pa, pa.RecordBatch.from_arrays(arrays, schema=None, names=part.schema.names)
        )
        for at, row in enumerate(rows.tolist()):
            self.where[row] = (columns, at)

    def _find(self, row: int) -> tuple[tuple[list[Any], ...], int]:
        if self.whole is not None:
            return self.whole, row
        found = self.where.get(row)
        if found is None:
            self.misses += 1
            if self.misses > _MISSES:
                self.whole = self.reader.columns(self.pa, self.batch)
                return self.whole, row
            import numpy as np

            self._convert(np.array([row], dtype=np.int64))
            found = self.where[row]
        return found

    def data(self, row: int) -> Any:
        """The row's ``data`` text (or None)."""
        columns, at = self._find(row)
        return columns[6][at]

    def event(self, row: int, decoded: Any = _ABSENT) -> dict[str, Any]:
        """The row's event, decoded and checked (raises :class:`_RowProblem`).

        ``decoded``: its ``data`` already decoded, if it was (see :meth:`_Rows.event`).
        """
        columns, at = self._find(row)
        return self.reader.event(columns, at, self.first_row + row - at, decoded)


_FEW_ROWS = 2048  # rows of one key up to which a check compares them in Python


def _never_chunk(kind: Any) -> bool:
    """Whether events of ``kind`` are a run's start, end or error (their data has no chunk)."""
    split = split_event(kind) if type(kind) is str else None
    return split is not None and split[1] in ("start", "end", "error")


def _plain_texts(pa: Any, text: Any) -> Any:
    """Which of a string array's texts are their JSON string's inside (no escape), as NumPy."""
    import numpy as np

    valid = text.is_valid().to_numpy(zero_copy_only=False)
    if speedups is not None and len(text):
        _, offsets, values = text.buffers()
        plain = speedups.plain_texts(offsets, values, text.offset, len(text))
        return np.frombuffer(plain, dtype=bool) & valid
    import pyarrow.compute as pc

    found = pc.match_substring_regex(text, r'["\\\x00-\x1f]').fill_null(True)
    return ~found.to_numpy(zero_copy_only=False) & valid


def _piece_bytes(piece: str | None) -> bytes | None:
    """A skeleton's piece as the file's UTF-8 bytes.

    A lone surrogate, which no file holds, is encoded as it is: the piece then matches nothing.
    """
    return None if piece is None else piece.encode("utf-8", "surrogatepass")


def _quoted(piece: str | None, before: bool) -> str | None:
    """A skeleton's piece with the quote next to the token's text (None stays None)."""
    if piece is None:
        return None
    return piece + '"' if before else '"' + piece


def _numbers(pa: Any, batch: Any) -> tuple[Any, Any, Any, Any]:
    """A batch's ``t``, ``seq`` and ``thread`` as Python sequences, and threads for the store.

    Floats and ints; a null is None, or in typed arrays (the usual columns) NaN for ``t``, -1
    for ``seq`` and 0 for ``thread``. The last: each row's thread as the store keeps a compact
    row's (0 for none).
    """
    import numpy as np

    count = batch.num_rows
    names = batch.schema.names
    t, seq = batch.column("t"), batch.column("seq")
    thread = batch.column("thread") if "thread" in names else None
    if (
        pa.types.is_float64(t.type)
        and pa.types.is_int64(seq.type)
        and (thread is None or pa.types.is_int64(thread.type))
    ):
        times = array("d", _numpy(t, _NAN).tobytes())
        seqs = array("q", _numpy(seq, -1).tobytes())
        if thread is None:
            threads = None
            compact = array("Q", bytes(8 * count))
        else:
            values = _numpy(thread, 0)
            threads = array("q", values.tobytes())
            compact = array("Q", np.maximum(values, 0).tobytes())  # (fast rows: not negative)
        return times, seqs, threads, compact
    threads = thread.to_pylist() if thread is not None else None
    compact = [0] * count if threads is None else [v if v is not None else 0 for v in threads]
    return t.to_pylist(), seq.to_pylist(), threads, compact


def _server_times(pa: Any, batch: Any) -> list[float | None] | None:
    """A batch's ``server_t`` column as floats (None where null); None if it has none at all."""
    if "server_t" not in batch.schema.names:
        return None
    column = batch.column("server_t")
    if column.null_count == len(column) or not pa.types.is_floating(column.type):
        return None  # (an integer column: its rows are decoded in full, as in extra)
    return column.to_pylist()


_SEPARATOR = "\x1f"
_MISSES = 64  # rows converted one at a time before a batch is converted whole


def _numpy(array: Any, fill: Any) -> Any:
    """``array`` as a NumPy array, its nulls as ``fill``: without a copy when it has none."""
    if array.null_count:
        array = array.fill_null(fill)
    return array.to_numpy(zero_copy_only=False)


def _list_codes(pa: Any, pc: Any, array: Any) -> tuple[Any, list[tuple[str, ...] | None]] | None:
    """A list-of-strings column's rows as codes, and the items of each code.

    Rows with the same items get the same code (a null row, the code of None); codes are 0,
    1, ... (a NumPy array). None if an item is null. Lists of dictionary-encoded strings (as
    :func:`_open` reads a Parquet file's) are told apart by their items' indices, with no
    string made; others by their items joined (:func:`_joined_lists`). An item a dictionary
    holds twice can give two codes to equal lists, which costs their readers a little, not
    a wrong row.
    """
    import numpy as np

    count = len(array)
    flat = array.flatten()  # (respects a slice, as list_value_length does)
    if flat.null_count:
        return None
    if not count:
        return np.zeros(0, dtype=np.int64), []
    lengths = _numpy(pc.list_value_length(array), -1).astype(np.int64)  # -1: a null row
    if pa.types.is_dictionary(flat.type):
        items = _numpy(flat.indices, 0).astype(np.int64) + 1  # 1...: 0 pads shorter rows
        base = len(flat.dictionary) + 1
        widest = max(int(lengths.max()), 1)
        sizes = np.maximum(lengths, 0)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        if widest * math.log2(base + 1) < 62:  # one integer per row: its items as digits
            position = np.arange(len(items), dtype=np.int64) - np.repeat(starts, sizes)
            digits = items * base**position
            raw = np.zeros(count, dtype=np.int64)
            filled = sizes > 0
            if filled.any():
                raw[filled] = np.add.reduceat(digits, starts[filled])
            raw[lengths < 0] = -1
        else:  # rows as padded tuples of indices, numbered by sorting
            matrix = np.zeros((count, widest + 1), dtype=np.int64)
            matrix[:, 0] = lengths
            rows = np.repeat(np.arange(count), sizes)
            matrix[rows, 1 + np.arange(len(items)) - np.repeat(starts, sizes)] = items
            _, raw = np.unique(matrix, axis=0, return_inverse=True)
    else:
        joined = _joined_lists(pc, array, lengths)
        if joined is None:
            return None
        raw = joined * (int(lengths.max()) + 2) + lengths + 1
    codes = _numpy(pc.dictionary_encode(pa.array(raw.reshape(-1))).indices, -1)
    codes = codes.astype(np.int64)
    # Each code's first row: where the running maximum of the codes grows (they are numbered
    # in order of first appearance).
    peak = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], peak[1:] != peak[:-1])))
    distinct = [
        None if items is None else tuple(items)
        for items in array.take(pa.array(first, type=pa.int64())).to_pylist()
    ]
    return codes, distinct


def _joined_lists(pc: Any, array: Any, lengths: Any) -> Any | None:
    """Codes of a list-of-strings column's rows by their items joined with a separator.

    ``lengths``: each row's item count (-1: a null row, whose code is -1); no item is null.
    Equal joined texts get one code, so rows with the same code and length have the same items;
    None if an item holds the separator (then they might not).
    """
    import numpy as np

    # Dictionary-encoded: equal joined texts, one code. An item holds the separator iff its
    # row's text holds more separators than its items less one: counted in the distinct texts
    # (a few per run), not in every item of the column.
    joined = pc.dictionary_encode(pc.binary_join(array, _SEPARATOR))
    separators = pc.count_substring(joined.dictionary, _SEPARATOR).to_numpy(zero_copy_only=False)
    codes = _numpy(joined.indices, -1).astype(np.int64)
    listed = codes >= 0
    expected = np.maximum(lengths - 1, 0)
    if (separators[codes[listed]] != expected[listed]).any():
        return None
    return codes


def _token_text(data: str, before: str, after: str) -> str | None:
    """The text ``data`` holds between ``before`` and ``after`` as one JSON string, else None."""
    if not (data.startswith(before) and data.endswith(after)):
        return None
    literal = data[len(before) : len(data) - len(after)]
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        return None
    inner = literal[1:-1]
    if '"' not in inner and "\\" not in inner:
        return inner
    try:
        text, end = scanstring(literal, 1)
    except ValueError:
        return None
    return text if end == len(literal) else None


def _over_budget(source: Any, budget: Budget) -> str | None:
    """Why a columnar file is refused before its rows are read, or None: what it holds.

    The bytes one row group takes once decompressed (a Parquet file's own count; an Arrow IPC
    file's size), which the reader holds at a time, must be within ``max_bytes``, or by default
    within the budget's bound or 1 GiB, whichever is more (a trace's repetitive columns compress
    a hundredfold): a small file of very compressible rows could otherwise decompress into
    gigabytes. The Python objects its rows become are charged row by row (their ``data`` text).
    """
    try:
        size = os.fstat(source.fileno()).st_size
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        try:
            where = source.tell()
            size = source.seek(0, io.SEEK_END)
            source.seek(where)
        except (AttributeError, OSError, ValueError):
            return None
    budget.read = max(budget.read, size)
    held = size
    try:
        import pyarrow.parquet as pq

        where = source.tell()
        source.seek(0)
        try:
            metadata = pq.read_metadata(source)
            held = max(
                (metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)),
                default=0,
            )
        finally:
            source.seek(where)
    except Exception:  # an Arrow IPC file (not compressed by streamviz): its size
        held = size
    bound = budget.bound() if budget.limit is not None else max(budget.bound(), 2**30)
    if held <= bound:
        return None
    how = f"max_bytes={budget.limit:,}" if budget.limit is not None else "the default bound"
    return (
        f"a row group holds {held:,} bytes once decompressed, more than {how} ({bound:,} bytes "
        "for this file); pass a larger max_bytes= to load it"
    )

"""The event store: the one owner of a trace's events.

Every event of a :class:`~streamviz.Trace` lives here, and only this module reads or writes the
store's fields. Sources append through a small API; readers read events (dicts built on the fly)
or columns through another; nothing read is ever stored back.

Layout
------
A trace streaming a long answer records one event per token (several when a sequence or a parser
streams it on). Kept as dicts, or as message objects, they would cost ~1-2 KB each and be
containers the cyclic garbage collector walks again and again while the observed program runs.
So the store keeps two kinds of rows:

- ``_entries`` (``array('q')``, one item per event, in ``seq`` order): ``row >= 0`` is the row of
  a *compact* event in the chunk columns; ``~i < 0`` is the event dict ``_dicts[i]`` (or a
  record standing for it, whose ``as_event()`` builds it: see :meth:`EventStore.append_record`);
- the chunk columns, one item per compact event: the template (``_template``), the time
  (``_t``), the thread (``_thread``), how the chunk is kept (``_kind``) and the chunk itself
  (``_values``); and ``_server_t``, the ``server_t`` of a LangGraph server's resumable parts
  (float), kept up to the latest row whose template has one (NaN for the rows between without);
- templates (``_templates``): the fields all compact events of a run (and kind) share, stored
  once: ``event``, ``name``, ``run_id``, ``parent_ids``, ``tags``, ``metadata`` (``mode``,
  ``ns``...), with ``data``, ``t``, ``seq``, ``thread`` and ``server_t`` as placeholders that keep
  the key order of the event it was made from (a template has ``thread`` or ``server_t`` if and
  only if its events do).

The chunk of a compact row is kept as it is, except:

- a plain ``AIMessageChunk`` (text and the message id every token of its run shares, nothing else:
  the usual token) is kept as its text and the code of the set of fields that were set; an equal
  ``AIMessageChunk`` (same fields set) is rebuilt when the event is read;
- a parser's ``TextAccessor`` (a ``str`` subclass the garbage collector tracks) is kept as a plain
  ``str`` and rebuilt likewise;
- a message chunk as a dict (a LangGraph server sends JSON) equal to its template's first one but
  for a text ``content`` is kept as that text, and rebuilt from the first one (its dict and list
  values copied);
- a LangGraph ``messages`` part, ``(message chunk, metadata)`` (or that as a list), whose message
  is plain as above and whose metadata equals the first part of its template's, is kept as the
  message's text; it is rebuilt with the template's metadata object;
- the very object of the previous row (a sequence streams its last step's chunks again) is kept
  as a pointer to that row; text equal to the previous row's text (a loaded file's copy of it)
  shares that row's string.

Nothing per compact event is a container the garbage collector tracks: ~90 B per token.

The rules
---------
- **When a row may be compact.** An appended event is kept compact when its ``data`` is exactly
  ``{"chunk": value}`` (a dict, that one key), its ``seq`` is its position in the store, its ``t``
  a float, its ``thread`` (if it has one) an unsigned 64-bit int, its ``server_t`` (if it has one)
  a finite float, and its other fields are equal
  (``==``, and of the same type at the top level) to those of a template of the same run and event
  kind, or can start a new one. Any other event (starts, ends, errors, custom events, a filtered
  trace's events) is kept as the dict it is, but for the events appended as records
  (:meth:`EventStore.append_record`: the collector's run starts), kept as the record. Reading a
  compact row or a record gives a new dict equal to the event appended, keys in the same order.
- **One lock.** :attr:`EventStore.lock` (re-entrant) orders appends: ``seq`` and ``t`` grow
  together, the run tree is updated in that order and subscribers see events in ``seq`` order.
  Readers take a consistent length under it and then read rows below that length without it
  (rows are append-only and complete once the lock is released).
- **Reading stores nothing.** :meth:`EventStore.event` and :meth:`EventStore.events` build each
  compact event's dict anew, so a trace's memory after any read is what it was after capture.

API
---
Sources: :meth:`~EventStore.append` (stamp and append one event), :meth:`~EventStore.stream_writer`
(the per-token hot path of the callback collector and of LangGraph ``messages`` parts),
:meth:`~EventStore.extend` (complete events: loading, replay), :meth:`~EventStore.extend_like` (a
loader's token rows of a known :data:`Shape`, without building their events). Readers:
``len(store)``, :meth:`~EventStore.event`, :meth:`~EventStore.events` (a window),
:meth:`~EventStore.blocks` (a window as dicts and blocks of compact rows, for readers that only need
the text and time of each token, like the widget encoder; :meth:`ChunkBlock.shapes` for writers that
encode a shape once), :meth:`~EventStore.columns` (a window as numpy columns, for DataFrames;
its chunks built per kind of row by :meth:`Columns.chunk_array`),
:meth:`~EventStore.select` (a read-only view of the events a filter keeps),
:meth:`~EventStore.template`, :meth:`~EventStore.shape_event`, :meth:`~EventStore.stream_times`, and
:attr:`~EventStore.tree`.
"""

from __future__ import annotations

import operator
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import islice, pairwise
from threading import get_ident as _get_ident
from time import perf_counter as _perf_counter
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

from streamviz import _native
from streamviz._errors import report_internal_error
from streamviz._redact import redact_pieces
from streamviz.events import split_event
from streamviz.runs import Run, RunTree

__all__ = ["ChunkBlock", "Columns", "EventStore", "Shape", "Subscriber"]

Subscriber = Callable[[dict[str, Any]], None]
Shape = tuple[int, int, int]
"""What the events of compact rows share but their chunk's text, ``t``, ``seq`` and thread: the
row's template, how its chunk is kept, and the template it was packed with."""
"""Called with each new event, in ``seq`` order, from the thread that reported it."""

# How the chunk of a compact row is kept (``_kind``); a code >= 0 is the set of fields of a packed
# AIMessageChunk.
_AS_IS = -1
_TEXT = -2
_SAME = -3
# A LangGraph "messages" part, (packed message chunk, metadata) or the same as a list: the code
# of the message's fields set + _PAIR_TUPLE or + _PAIR_LIST.
_PAIR = _PAIR_TUPLE = 10_000
_PAIR_LIST = 20_000
# The code of a message chunk kept as a dict (a LangGraph server's) rebuilt from its template's
# first one; field-set codes of AIMessageChunks stay below it.
_DICT_MESSAGE = _PAIR - 1
_MESSAGES = (AIMessageChunk, dict)
_UNSET: Any = object()
# AIMessageChunk declares no private attributes in langchain-core 1.x: nothing to check then.
_NO_PRIVATE = not AIMessageChunk.__private_attributes__
_PLAIN_FIELD_COUNT = 11  # the fields of AIMessageChunk in langchain-core 1.x; others are kept whole

# The C versions of the per-token hot paths (streamviz/_speedups.c, see _native.py): the same
# rows, a fraction of the cost. Without them everything runs in Python.
speedups: Any = _native.speedups
if speedups is not None:
    speedups.configure(
        AIMessageChunk, TextAccessor, _UNSET, _PLAIN_FIELD_COUNT, _NO_PRIVATE,
        _AS_IS, _TEXT, _SAME, _PAIR_TUPLE, _PAIR_LIST,
        # the writers read that clock themselves (else they call perf_counter)
        time.get_clock_info("perf_counter").implementation == "clock_gettime(CLOCK_MONOTONIC)",
    )  # fmt: skip

# Packed message chunks are rebuilt by setting their fields directly when the class is the one
# this module knows (those fields, no private attributes); else by model_construct.
_FAST_MESSAGE = _NO_PRIVATE and len(AIMessageChunk.model_fields) == _PLAIN_FIELD_COUNT
# The keys every compact event has besides its template's fixed fields ("thread" if it had one,
# "server_t" if it had one: a LangGraph server's resumable parts).
_VARYING = ("data", "t", "seq", "thread", "server_t")
_MAX_THREAD = 2**64
# NumPy dtypes of the typecodes of the row columns _template ("l"), _kind ("h") and _entries ("q").
_TEMPLATE_DTYPE, _KIND_DTYPE, _ENTRY_DTYPE = "l", "h", "q"
_SPARES = 4  # dicts and lists refill keeps ready (two stream writers per model call of an agent)
_new, _set = object.__new__, object.__setattr__
# What a view (EventStore.select) shares with its store: everything rows are read from.
_SHARED = (
    "_dicts", "_template", "_t", "_thread", "_kind", "_values", "_message_ids", "_pair_metadata",
    "_first_dicts", "_field_sets", "_templates", "_server_t",
)  # fmt: skip


def _packable(attrs: dict[str, Any]) -> bool:
    """Whether an ``AIMessageChunk``'s ``__dict__`` is a plain token's (its text and id only)."""
    return (
        len(attrs) == _PLAIN_FIELD_COUNT
        and type(attrs["content"]) is str
        and not attrs["additional_kwargs"]
        and not attrs["response_metadata"]
        and not attrs["tool_call_chunks"]
        and not attrs["tool_calls"]
        and not attrs["invalid_tool_calls"]
        and attrs["usage_metadata"] is None
        and attrs["name"] is None
        and attrs["chunk_position"] is None
    )


def _content(message: Any) -> Any:
    """The ``content`` of a message chunk, an object or a dict."""
    return message["content"] if type(message) is dict else message.__dict__["content"]


def _copied(value: Any) -> Any:
    """``value``, or a shallow copy of it if it is a dict or a list (each event gets its own)."""
    return value.copy() if type(value) in (dict, list) else value


def _same(a: Any, b: Any) -> bool:
    """Whether a template's field ``a`` may stand for an event's ``b``.

    Equal, with the same types and key order at every level (``1`` is not ``True``,
    ``{"a": 1, "b": 2}`` is not ``{"b": 2, "a": 1}``), so the event read back is the one
    appended.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return list(a) == list(b) and all(_same(value, b[key]) for key, value in a.items())
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(map(_same, a, b))
    try:
        return bool(a == b)
    except Exception:  # a value whose == raises or is ambiguous (an array): not the same
        return False


class ChunkBlock:
    """Consecutive compact rows of a store, read as columns (see :meth:`EventStore.blocks`)."""

    __slots__ = ("_row", "_secrets", "_store", "count", "seq")

    def __init__(
        self,
        store: EventStore,
        seq: int,
        row: int,
        count: int,
        secrets: dict[int, str] | None = None,
    ) -> None:
        self._store = store
        self._row = row
        self._secrets = secrets  # row -> text of a stream holding a secret (stream_secrets)
        self.seq = seq
        """Position of the block's first event in the store (its ``seq``, but in a view)."""
        self.count = count
        """Number of events (rows) in the block."""

    def templates(self) -> array:
        """The template of each row (see :meth:`EventStore.template`)."""
        return self._store._template[self._row : self._row + self.count]

    def times(self) -> array:
        """The time ``t`` of each row."""
        return self._store._t[self._row : self._row + self.count]

    def texts(self) -> list[str | None]:
        """The text of each row kept as text (a plain message chunk, a parser string), else None.

        Lets readers that only need the text skip rebuilding the chunk object.
        """
        text = self._store._text
        texts = [text(row) for row in range(self._row, self._row + self.count)]
        return self._without_secrets(texts)

    def _without_secrets(self, texts: list[str | None]) -> list[str | None]:
        """``texts`` of the block's rows with the texts of :meth:`EventStore.stream_secrets`."""
        secrets = self._secrets
        if secrets:
            start, stop = self._row, self._row + self.count
            # the fewer of the two: the rows redacted (a few) or the block's rows
            rows = secrets if len(secrets) < self.count else range(start, stop)
            for row in rows:
                if start <= row < stop and row in secrets and texts[row - start] is not None:
                    texts[row - start] = secrets[row]
        return texts

    def chunk(self, offset: int) -> Any:
        """The chunk of the row at ``offset`` in the block (rebuilt, equal, for packed ones)."""
        return self._store._chunk(self._row + offset)

    def part(self, start: int, stop: int) -> ChunkBlock:
        """Rows ``start`` to ``stop`` of the block, as a block."""
        start, stop, _ = slice(start, stop).indices(self.count)
        return ChunkBlock(
            self._store, self.seq + start, self._row + start, max(stop - start, 0), self._secrets
        )

    def threads(self) -> array:
        """The thread of each row (0 where its template has none: see :meth:`shapes`)."""
        return self._store._thread[self._row : self._row + self.count]

    def seqs(self) -> range | list[int]:
        """The ``seq`` of each row's event."""
        seqs = self._store._seqs
        if seqs is None:
            return range(self.seq, self.seq + self.count)
        return seqs[self.seq : self.seq + self.count].tolist()

    def server_times(self) -> list[float]:
        """The ``server_t`` of each row (NaN where its template has none: see :meth:`shapes`)."""
        column = self._store._server_t
        start, stop = self._row, self._row + self.count
        times = column[start:stop].tolist()
        if len(times) < self.count:  # rows after the latest one with a server_t
            times.extend([float("nan")] * (self.count - len(times)))
        return times

    def shapes(self) -> tuple[list[Shape | None], list[str | None]]:
        """Each row's :data:`Shape` and text, for writers that encode a shape once.

        A row whose chunk is text, or a message (or LangGraph ``messages`` part) rebuilt from
        its text, has a shape: its event is :meth:`EventStore.shape_event` of that shape and
        text, with the row's ``t``, ``seq``, thread and (if its template has one) ``server_t``
        (:meth:`server_times`). Other rows (chunks kept as objects) get ``(None, None)``: read
        them with :meth:`chunk`.
        """
        store = self._store
        start, stop = self._row, self._row + self.count
        kinds, values, templates = store._kind, store._values, store._template
        shapes: list[Shape | None] = []
        texts: list[str | None] = []
        add_shape, add_text = shapes.append, texts.append
        for template, kind, value in zip(
            templates[start:stop], kinds[start:stop], values[start:stop], strict=True
        ):
            source = template
            if kind == _SAME:
                source = templates[value]
                kind = kinds[value]
                value = values[value]
            if kind == _AS_IS and type(value) is not str:
                add_shape(None)
                add_text(None)
            else:
                add_shape((template, kind, source))
                add_text(value)
        return shapes, self._without_secrets(texts)


class EventStore:
    """The events of one trace, their clock, run tree and subscribers (see the module docstring).

    Parameters
    ----------
    read_only
        A store of a filtered view: appending raises ``TypeError``.
    """

    def __init__(self, *, read_only: bool = False) -> None:
        self.lock = threading.RLock()
        """Orders appends; hold it to read the run tree in one consistent state."""
        self.tree = RunTree()
        """The run tree, updated as each event is appended (under :attr:`lock`)."""
        # The clock origin (perf_counter): set by start_clock or at the first event.
        self._t0: float | None = None
        self._clock_from_events = False  # the origin was set by extend (a loaded trace)
        self._stream_runs: dict[int, Run | None] = {}  # template -> run (extend_like)
        self.on_clock_start: Callable[[], None] | None = None
        """Called (lock held) when the clock origin is set: the trace notes its creation time."""
        self._entries = array("q")
        self._dicts: list[Any] = []  # event dicts, and records (append_record)
        # Chunk columns, one item per compact row.
        self._template = array("l")
        self._t = array("d")
        self._thread = array("Q")
        # server_t of each row up to the latest row whose template has one (NaN for the rest):
        # empty in a trace without any, so the other paths never append to it.
        self._server_t = array("d")
        self._kind = array("h")
        self._values: list[Any] = []  # the chunk, its text, or the row it repeats
        self._message_ids: dict[int, Any] = {}  # template -> id of its packed message chunks
        self._pair_metadata: dict[int, Any] = {}  # template -> metadata of its "messages" parts
        self._first_dicts: dict[int, dict[str, Any]] = {}  # template -> its first dict message
        self._field_sets: list[frozenset[str]] = []
        self._field_set_codes: dict[frozenset[str], int] = {}
        self._last: list[Any] = [None, -1]  # the chunk object of the latest row, that row
        # Templates: the shape of each (placeholders for _VARYING), whether it has a thread, and
        # for the append path the latest template of each (event, run_id, name, keys).
        self._templates: list[dict[str, Any]] = []
        self._template_of: dict[tuple[Any, ...], int] = {}
        self._subscribers: list[Subscriber] = []
        self._read_only = read_only
        self._slow = read_only  # subscribers or read-only: stream writers take the full path
        self._appenders: tuple[Callable[..., Any], ...] | None = None  # made by stream_writer
        self._unapplied: dict[str, Any] | None = None  # an event stored, not yet in the tree
        # Empty dicts and lists made ahead by refill: the next stream writers' templates and
        # states.
        self._spare_dicts: list[dict[str, Any]] = []
        self._spare_lists: list[list[Any]] = []
        # A view (see select): the seq of the event at each position; None when seq = position.
        self._seqs: array | None = None

    # ------------------------------------------------------------------ clock
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def origin(self) -> float | None:
        """The clock origin (a ``perf_counter`` value), ``None`` until the trace starts."""
        return self._t0

    def start_clock(self, now: float | None = None) -> float:
        """Set the clock origin to ``now`` (default: now) unless set; return it (lock held)."""
        if self._t0 is None:
            self._t0 = time.perf_counter() if now is None else now
            if self.on_clock_start is not None:
                self.on_clock_start()
        return self._t0

    # -------------------------------------------------------------- appending
    def append(self, event: dict[str, Any]) -> Run | None:
        """Stamp ``t``, ``seq`` and ``thread`` on a new event and append it (any thread).

        Returns the run the event belongs to, if any. Subscribers get ``event`` itself.
        """
        with self.lock:
            if self._read_only:
                raise TypeError("a filtered trace is read-only")
            now = time.perf_counter()
            event["t"] = now - (self._t0 if self._t0 is not None else self.start_clock(now))
            if self._unapplied is not None:
                self._settle()
            event["seq"] = len(self._entries)
            event["thread"] = _get_ident()
            # Stored, then applied to the tree: an interrupt between the two leaves the event
            # pending, applied by the next write or `settle` (the tree never has an event the
            # log lacks, which a save would lose).
            self._unapplied = event
            self._keep(event)
            run = self.tree.apply(event)  # type: ignore[arg-type]
            self._unapplied = None
            for subscriber in self._subscribers:
                _notify(subscriber, event)
            return run

    def append_record(self, record: Any) -> Run | None:
        """:meth:`append` for an event kept as ``record`` rather than as its dict.

        ``record`` has ``t``, ``seq`` and ``thread`` attributes (stamped here) and an
        ``as_event()`` method giving the event's dict (a new dict each call, equal to what
        :meth:`append` would have kept, keys in the same order). The store keeps the record, and
        readers get ``record.as_event()`` where they would get the dict: one object the garbage
        collector tracks instead of the event's dict and its ``data`` (the collector's run starts,
        whose other fields are objects its run info holds anyway). While someone subscribes (or
        the store is read-only) the event's dict is appended instead. The order of the rules is
        :meth:`append`'s: the record is stored, then the event applied to the tree.
        """
        with self.lock:
            if self._slow:
                return self.append(record.as_event())
            now = time.perf_counter()
            record.t = now - (self._t0 if self._t0 is not None else self.start_clock(now))
            if self._unapplied is not None:
                self._settle()
            record.seq = len(self._entries)
            record.thread = _get_ident()
            event = record.as_event()  # for the tree; the same values as the record's
            self._unapplied = event
            self._dicts.append(record)  # then its entry, as in _keep
            self._entries.append(~(len(self._dicts) - 1))
            run = self.tree.apply(event)  # type: ignore[arg-type]
            self._unapplied = None
            return run

    def refill(self) -> None:
        """Make now what the next few stream writers and runs take (a live source's quiet moment).

        The callback collector calls it as a run ends. A model call's start then makes few new
        objects: the template and state of its stream writer, its run (and the run's lists)
        were made here. When a program's garbage collector collects depends on how many
        objects were made since it last did, and a collection in the middle of a model call, while
        the call's own objects are alive, moves them to an older generation (see
        docs/benchmarks.md, "Capture of a LangGraph agent"): objects made at a call's end cost
        the observed program less than the same objects made at its start.
        """
        with self.lock:
            dicts, lists = self._spare_dicts, self._spare_lists
            while len(dicts) < _SPARES:
                dicts.append({})
            while len(lists) < _SPARES:
                lists.append([])
            self.tree.refill()

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        """Append complete events (with ``t``; ``seq`` is numbered if absent): loading, replay."""
        with self.lock:
            if self._read_only:
                raise TypeError("a filtered trace is read-only")
            if self._unapplied is not None:
                self._settle()
            apply, keep, subscribers = self.tree.apply, self._keep, self._subscribers
            for event in events:
                if "seq" not in event:
                    event["seq"] = len(self._entries)
                self._unapplied = event  # as in append
                keep(event)
                apply(event)  # type: ignore[arg-type]
                self._unapplied = None
                for subscriber in subscribers:
                    _notify(subscriber, event)
            if self._entries and (self._t0 is None or self._clock_from_events):
                # a loaded trace's clock goes on from its end (where each load leaves it)
                self._t0 = time.perf_counter() - self.last_time()
                self._clock_from_events = True

    def shape_at(self, position: int) -> Shape | None:
        """The :data:`Shape` of the event at ``position`` if :meth:`extend_like` can repeat it.

        That is a compact row whose chunk is text or is rebuilt from its text (see
        :meth:`ChunkBlock.shapes`), packed with its own template or not depending on one.
        """
        with self.lock:
            entry = self._entries[position]
            if entry < 0:
                return None
            template, kind, value = self._template[entry], self._kind[entry], self._values[entry]
            source = template
            if kind == _SAME:
                source, kind, value = self._template[value], self._kind[value], self._values[value]
        if kind == _AS_IS and type(value) is not str:
            return None
        shape = (template, kind, source)
        return shape if self.repeatable(shape) else None

    def has_server_times(self) -> bool:
        """Whether any compact row has a ``server_t`` (a LangGraph server's resumable parts)."""
        return len(self._server_t) > 0

    @staticmethod
    def repeatable(shape: Shape) -> bool:
        """Whether :meth:`extend_like` can append rows of ``shape``.

        Not a message chunk packed with another template's fields (a sequence re-streaming its
        last step's chunks): its rebuild depends on that template.
        """
        template, kind, source = shape
        return source == template or kind in (_TEXT, _AS_IS)

    def extend_like(
        self,
        shapes: list[Shape] | None,
        texts: list[str],
        times: list[float],
        threads: list[int],
        server_times: list[float] | None = None,
        *,
        templates: Any = None,
        kinds: Any = None,
    ) -> None:
        """Append the events of ``shapes`` (from :meth:`shape_at`) with these chunk texts.

        Each event is :meth:`shape_event` of its shape and text with its ``t``, its thread (if
        the shape has one), its ``server_t`` (from ``server_times``, a finite float, if the
        shape's template has one; NaN for the others) and the next ``seq``: a loader that read
        exactly those events from a file appends them without building them (see
        :mod:`streamviz._persistence`). A text equal to the previous row's (a sequence
        re-streaming its last step's chunk) is kept as that row's string.

        Instead of ``shapes``, a loader that has them as NumPy arrays may pass each row's
        template and kind (``shape[0]`` and ``shape[1]``) as ``templates`` and ``kinds``: the
        columns are then extended by copying bytes, not item by item.
        """
        if not texts:
            return
        import numpy as np

        with self.lock:
            if self._read_only:
                raise TypeError("a filtered trace is read-only")
            self._settle()
            first_row, first_seq = len(self._t), len(self._entries)
            previous = self._values[-1] if self._values else None
            # Only when some text equals the one before it (rare but in re-streamed chunks):
            # the test runs in C, the loop in Python.
            if (type(previous) is str and texts[0] == previous) or any(
                map(operator.eq, texts, islice(texts, 1, None))
            ):
                shared = []
                for text in texts:
                    if text == previous and type(previous) is str:
                        text = previous
                    shared.append(text)
                    previous = text
                texts = shared
            if shapes is not None:
                templates = np.fromiter((shape[0] for shape in shapes), np.int64, len(shapes))
                kinds = np.fromiter((shape[1] for shape in shapes), np.int64, len(shapes))
            # the row columns, template first, values last
            self._template.frombytes(np.asarray(templates, dtype=_TEMPLATE_DTYPE).tobytes())
            self._t.extend(times)
            self._thread.extend(threads)
            self._kind.frombytes(np.asarray(kinds, dtype=_KIND_DTYPE).tobytes())
            self._values.extend(texts)
            if server_times is not None:
                column = self._server_t
                if len(column) < first_row:
                    column.extend([float("nan")] * (first_row - len(column)))
                column.extend(server_times)
            self._entries.frombytes(
                np.arange(first_row, first_row + len(texts), dtype=_ENTRY_DTYPE).tobytes()
            )
            self._last[0], self._last[1] = None, len(self._t) - 1
            backwards = None
            templates = templates.tolist()
            for template in dict.fromkeys(templates):
                run = self._stream_run(template)
                if run is None:
                    continue
                if backwards is None:
                    backwards = templates[::-1]
                if run.first_chunk is None:
                    run.first_chunk = times[templates.index(template)]
                run.last_chunk = times[len(templates) - 1 - backwards.index(template)]
                run.chunk_count += templates.count(template)
            if self._subscribers:
                for seq in range(first_seq, len(self._entries)):
                    event = self.event(seq)
                    for subscriber in self._subscribers:
                        _notify(subscriber, event)

    def _stream_run(self, template: int) -> Run | None:
        """The run whose stream events ``template`` makes (None for other events)."""
        if template in self._stream_runs:
            return self._stream_runs[template]
        fields = self._templates[template]
        split = split_event(fields["event"]) if type(fields.get("event")) is str else None
        if split is None or split[1] != "stream":
            self._stream_runs[template] = None  # not a run's stream event: never one
            return None
        run = self.tree.runs.get(fields.get("run_id"))  # type: ignore[arg-type]
        if run is not None:
            self._stream_runs[template] = run
        return run

    def _entry_templates(self, start: int = 0, stop: int | None = None) -> tuple[Any, Any]:
        """Events ``start`` to ``stop``: each one's entry, and its template (-1 for a dict)."""
        import numpy as np

        with self.lock:
            stop = len(self._entries) if stop is None else min(stop, len(self._entries))
            entries = np.frombuffer(self._entries[start:stop], dtype=np.int64)
            template_of_row = np.frombuffer(self._template[: len(self._t)], dtype="l")
        compact = entries >= 0
        template = np.full(len(entries), -1, dtype=np.int64)
        template[compact] = template_of_row[entries[compact]]
        return entries, template

    def select(self, keep: Callable[[dict[str, Any]], bool]) -> EventStore:
        """A read-only view of the events ``keep`` accepts, sharing this store's rows.

        ``keep`` is asked once per template (with its fixed fields; ``data``, ``t``, ``seq`` and
        ``thread`` are None) for the compact rows made from it, and once per other event: it
        must decide by the fields a template fixes (``event``, ``name``, ``run_id``, ``tags``,
        ``metadata``, ``mode``...), as :class:`~streamviz.filters.EventFilter` does. The view
        holds one integer per kept event; its events keep their ``seq``. Its run tree is empty:
        the caller fills it.
        """
        import numpy as np

        entries, template = self._entry_templates()
        templates = list(self._templates)
        kept = np.zeros(len(entries), dtype=bool)
        compact = template >= 0
        if templates:
            verdicts = np.fromiter(map(keep, templates), dtype=bool, count=len(templates))
            kept[compact] = verdicts[template[compact]]
        dict_at = self._dict_at
        for position in np.flatnonzero(~compact).tolist():
            kept[position] = keep(dict_at(~int(entries[position])))
        positions = np.flatnonzero(kept)
        view = EventStore(read_only=True)
        view._t0 = self._t0
        for name in _SHARED:
            setattr(view, name, getattr(self, name))
        view._entries = array("q", entries[positions].tobytes())
        seqs = (
            positions if self._seqs is None else np.frombuffer(self._seqs[:], np.int64)[positions]
        )
        view._seqs = array("q", seqs.astype(np.int64).tobytes())
        return view

    def run_ids(self, where: Callable[[dict[str, Any]], bool] | None = None) -> set[Any]:
        """The ``run_id`` of every event (that ``where`` accepts; asked as :meth:`select` asks)."""
        import numpy as np

        entries, template = self._entry_templates()
        shapes = [self._templates[index] for index in np.unique(template[template >= 0])]
        events = [self._dict_at(~entry) for entry in entries[entries < 0].tolist()]
        return {
            event.get("run_id") for event in (*shapes, *events) if where is None or where(event)
        }

    def _keep(self, event: dict[str, Any]) -> None:
        """Store an event (stamped, applied): compact if the rules allow, else the dict itself."""
        seq = len(self._entries)
        data = event.get("data")
        if (
            type(data) is dict
            and len(data) == 1
            and "chunk" in data
            and event.get("seq") == seq
            and type(event.get("t")) is float
        ):
            template = self._template_for(event)
            if template >= 0:
                self._keep_compact(template, event["t"], event.get("thread", 0), data["chunk"])
                if "server_t" in event:
                    self._keep_server_t(event["server_t"])
                return
        self._dicts.append(event)  # then its entry: an interrupt between leaves no dangling entry
        self._entries.append(~(len(self._dicts) - 1))

    def _template_for(self, event: dict[str, Any]) -> int:
        """The template a compact ``event`` fits (made if new), or -1 if it cannot be compact."""
        thread = event.get("thread", 0)
        if type(thread) is not int or not 0 <= thread < _MAX_THREAD:
            return -1
        if "server_t" in event:
            server_t = event["server_t"]
            if type(server_t) is not float or server_t - server_t != 0:  # a finite float only
                return -1
        keys = tuple(event)
        try:
            key = (event["event"], event.get("run_id"), event.get("name"), keys)
            index = self._template_of.get(key)
        except (KeyError, TypeError):  # no kind, or an unhashable run id or name
            return -1
        if index is not None:
            shape = self._templates[index]
            if all(_same(shape[name], event[name]) for name in keys if name not in _VARYING):
                return index
        shape = {name: None if name in _VARYING else value for name, value in event.items()}
        self._templates.append(shape)  # then its index: an interrupt between leaves no bad index
        index = self._template_of[key] = len(self._templates) - 1
        return index

    def _keep_compact(self, template: int, t: float, thread: int, chunk: Any) -> None:
        """Append one compact row (the append path; :meth:`stream_writer` inlines the same)."""
        if len(self._template) != len(self._values):
            self._settle_rows()
        row = len(self._t)
        last = self._last
        if chunk is last[0] and chunk is not None:
            value, kind = last[1], _SAME
        else:
            try:
                value, kind = self._pack(template, chunk)
            except Exception as error:  # an odd chunk: kept as it is, never lost
                report_internal_error("streamviz event store", error)
                value, kind = chunk, _AS_IS
            if kind != _AS_IS and last[1] >= 0:
                # a file's copy of the previous row's text (a sequence's re-streamed chunk)
                earlier = self._values[last[1]]
                if type(earlier) is str and earlier == value:
                    value = earlier
        self._template.append(template)
        self._t.append(t)
        self._thread.append(thread)
        self._kind.append(kind)
        self._values.append(value)
        self._entries.append(row)
        if kind != _SAME:
            last[0], last[1] = chunk, row

    def settle(self) -> None:
        """Finish what an interrupted append left: a half row cut back, a stored event applied.

        Every write does it first; a reader that must see the tree whole after an interrupt
        (the collector closing the runs it left open) calls it.
        """
        with self.lock:
            self._settle()

    def _settle(self) -> None:
        self._settle_rows()
        pending, self._unapplied = self._unapplied, None
        if pending is not None and pending.get("seq", len(self._entries)) < len(self._entries):
            self.tree.apply(pending)  # type: ignore[arg-type]

    def _settle_rows(self) -> None:
        """Drop a row left half-appended by an interrupt (lock held).

        A row's columns are appended template first and values last, and its event's entry only
        after them: a ``KeyboardInterrupt`` (or any exception) between two of those appends
        leaves the first columns one longer than ``values`` and no entry naming the row. The
        next append cuts them back, so rows stay aligned and no event points at a partial row.
        """
        rows = len(self._values)
        for column in (self._template, self._t, self._thread, self._kind):
            if len(column) > rows:
                del column[rows:]
        if self._last[1] >= rows:
            self._last[0], self._last[1] = None, -1

    def _keep_server_t(self, server_t: float) -> None:
        """Set the ``server_t`` of the latest row (rows since the last one with one get NaN)."""
        column = self._server_t
        missing = len(self._t) - 1 - len(column)
        if missing:
            column.extend([float("nan")] * missing)
        column.append(server_t)

    def _pack(self, template: int, chunk: Any) -> tuple[Any, int]:
        """How a chunk is kept: ``(value, kind)`` by the rules in the module docstring."""
        cls = type(chunk)
        if cls is AIMessageChunk or cls is dict:
            kind = self._message_code(template, chunk)
            return (chunk, kind) if kind == _AS_IS else (_content(chunk), kind)
        if cls is TextAccessor:
            return str.__str__(chunk), _TEXT
        if (cls is tuple or cls is list) and len(chunk) == 2 and type(chunk[0]) in _MESSAGES:
            # a LangGraph "messages" part: (token, metadata), the same metadata every time
            metadata = self._pair_metadata.setdefault(template, chunk[1])
            code = self._message_code(template, chunk[0])
            if code != _AS_IS and code < _PAIR and _same(metadata, chunk[1]):
                pair = _PAIR_TUPLE if cls is tuple else _PAIR_LIST
                return _content(chunk[0]), code + pair
        return chunk, _AS_IS

    def _message_code(self, template: int, chunk: Any) -> int:
        """The field-set code a plain message chunk is packed with, or ``_AS_IS``.

        A message chunk as a dict (a LangGraph server's) is plain when it has a text ``content``
        and equals its template's first one but for that: ``_DICT_MESSAGE``.
        """
        if type(chunk) is dict:
            first = self._first_dicts.setdefault(template, chunk)
            if (
                type(chunk.get("content")) is str
                and tuple(chunk) == tuple(first)
                and all(
                    _same(first[key], value) for key, value in chunk.items() if key != "content"
                )
            ):
                return _DICT_MESSAGE
            return _AS_IS
        attrs = chunk.__dict__
        if not _packable(attrs):
            return _AS_IS
        message_id = self._message_ids.setdefault(template, attrs["id"])
        if (
            attrs["id"] != message_id
            or chunk.__pydantic_extra__
            or (not _NO_PRIVATE and chunk.__pydantic_private__)
        ):
            return _AS_IS
        return self._field_set_code(frozenset(chunk.__pydantic_fields_set__))

    def _field_set_code(self, frozen: frozenset[str]) -> int:
        """The code of a packed chunk's set of fields set (a new code if new).

        An AIMessageChunk has 11 fields, so at most 2**11 codes: they stay below _DICT_MESSAGE.
        """
        code = self._field_set_codes.get(frozen)
        if code is None:
            code = self._field_set_codes[frozen] = len(self._field_sets)
            self._field_sets.append(frozen)
        return code

    def stream_writer(self, run: Run | None, fields: dict[str, Any]) -> Callable[[Any], None]:
        """A function appending one stream event of ``run`` per call, given its chunk.

        The hot path of the callback collector and of a graph's ``messages`` parts (one call per
        token, one frame). ``fields`` are the fixed fields of the events (``event``, ``name``,
        ``run_id``...; a ``data`` key, if present, only places ``data`` among them): they become
        the writer's template. Each call stamps the time and thread, stores the chunk by the rules
        in the module docstring and updates ``run``'s chunk counters (``None``: events of no run's
        stream, like graph parts); while someone subscribes (or the store is read-only) it takes
        :meth:`append` instead.

        A writer is few objects for the garbage collector (a function, its defaults, its state
        list): what it uses comes as default values (the store's column appenders are made once
        per store), not as closure cells (a closure over the same was 31 objects; an agent makes
        two writers per model call). A call works out how the chunk is kept first and then
        appends the row's columns one after the other, the event's entry last.
        """
        with self.lock:
            t0 = self.start_clock()
            template = len(self._templates)
            # The writer's template; the slow path's events are copies of it (the same keys in
            # the same order as `{**fields, "data": ...}` stamped by append).
            try:  # a dict made ahead by refill (see there), else a new one
                shape = self._spare_dicts.pop()
            except IndexError:
                shape = {}
            shape.update(fields)
            shape["data"] = shape["t"] = shape["seq"] = shape["thread"] = None
            self._templates.append(shape)
            if self._appenders is None:
                self._appenders = (
                    self.lock.acquire,
                    self.lock.release,
                    self._entries.append,
                    self._t.append,
                    self._template.append,
                    self._thread.append,
                    self._kind.append,
                    self._values.append,
                )
        acquire, release, entries_append, t_append, template_append = self._appenders[:5]
        thread_append, kind_append, values_append = self._appenders[5:]
        # This writer's packed message chunks: their message id, the latest set of fields and its
        # code; the metadata of its LangGraph "messages" parts (the first part's).
        try:
            state: list[Any] = self._spare_lists.pop()
        except IndexError:
            state = []
        state.extend((_UNSET, None, _AS_IS, _UNSET))

        def write(
            chunk: Any,
            acquire: Any = acquire,
            release: Any = release,
            entries_append: Any = entries_append,
            t_append: Any = t_append,
            template_append: Any = template_append,
            thread_append: Any = thread_append,
            kind_append: Any = kind_append,
            values_append: Any = values_append,
            t_column: array = self._t,
            template_column: array = self._template,
            values_column: list[Any] = self._values,
            last: list[Any] = self._last,
            state: list[Any] = state,
            store: EventStore = self,
            run: Run | None = run,
            template: int = template,
            t0: float = t0,
            shape: dict[str, Any] = shape,
        ) -> None:
            acquire()
            try:
                t = _perf_counter() - t0
                if store._slow:  # live subscribers (or a read-only view): the full path
                    event = shape.copy()
                    event["data"] = {"chunk": chunk}
                    store.append(event)
                    return
                row = len(t_column)
                if len(template_column) != len(values_column) or store._unapplied is not None:
                    store._settle()  # an interrupted append
                    row = len(t_column)
                if chunk is last[0] and chunk is not None:
                    value, kind = last[1], _SAME
                else:
                    value, kind = chunk, _AS_IS
                    try:
                        cls = type(chunk)
                        message, pair = chunk, 0
                        if cls is AIMessageChunk:
                            pass
                        elif cls is TextAccessor:
                            value, kind = str.__str__(chunk), _TEXT
                        elif (
                            (cls is tuple or cls is list)
                            and len(chunk) == 2
                            and type(chunk[0]) is AIMessageChunk
                        ):  # a LangGraph "messages" part, (token, metadata): _pack's rule, inlined
                            pair_metadata = state[3]
                            if pair_metadata is _UNSET:
                                pair_metadata = state[3] = store._pair_metadata.setdefault(
                                    template, chunk[1]
                                )
                            if chunk[1] is pair_metadata or _same(pair_metadata, chunk[1]):
                                message = chunk[0]
                                pair = _PAIR_TUPLE if cls is tuple else _PAIR_LIST
                                cls = AIMessageChunk
                        if cls is AIMessageChunk:
                            attrs = message.__dict__
                            if (  # _packable(attrs), inlined
                                len(attrs) == _PLAIN_FIELD_COUNT
                                and type(attrs["content"]) is str
                                and not attrs["additional_kwargs"]
                                and not attrs["response_metadata"]
                                and not attrs["tool_call_chunks"]
                                and not attrs["tool_calls"]
                                and not attrs["invalid_tool_calls"]
                                and attrs["usage_metadata"] is None
                                and attrs["name"] is None
                                and attrs["chunk_position"] is None
                            ):
                                message_id = state[0]
                                if message_id is _UNSET:  # the first: its id is every packed one's
                                    message_id = state[0] = store._message_ids.setdefault(
                                        template, attrs["id"]
                                    )
                                if (
                                    attrs["id"] == message_id
                                    and not message.__pydantic_extra__
                                    and (_NO_PRIVATE or not message.__pydantic_private__)
                                ):
                                    field_set = message.__pydantic_fields_set__
                                    if field_set != state[1]:
                                        state[1] = frozenset(field_set)
                                        state[2] = store._field_set_code(state[1])
                                    value, kind = attrs["content"], state[2] + pair
                    except Exception as error:  # an odd chunk: kept as it is, never lost
                        report_internal_error("streamviz event store", error)
                        value, kind = chunk, _AS_IS
                template_append(template)  # the row's columns, values last, then its entry
                t_append(t)
                thread_append(_get_ident())
                kind_append(kind)
                values_append(value)
                entries_append(row)
                if kind != _SAME:
                    last[0], last[1] = chunk, row
                if run is not None:  # RunTree.apply's stream branch, inlined
                    if run.first_chunk is None:
                        run.first_chunk = t
                    run.last_chunk = t
                    run.chunk_count += 1
            finally:
                release()

        if speedups is None:
            return write
        return speedups.Writer(
            write,
            self,
            acquire,
            release,
            _perf_counter,
            t_append,
            template_append,
            thread_append,
            kind_append,
            self._t,
            self._template,
            self._values,
            entries_append,
            self._last,
            state,
            run,
            template,
            t0,
        )

    # ------------------------------------------------------------ subscribing
    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call ``callback(event)`` for every new event; returns a function that unsubscribes.

        With ``replay=True`` the events already stored are delivered first, under the same lock,
        so the subscriber sees every event exactly once and in order.
        """
        with self.lock:
            if replay:
                for event in self.events():
                    _notify(callback, event)
            self._subscribers = [*self._subscribers, callback]
            self._slow = True

        def unsubscribe() -> None:
            with self.lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]
                self._slow = bool(self._subscribers) or self._read_only

        return unsubscribe

    # ---------------------------------------------------------------- reading
    def event(self, seq: int) -> dict[str, Any]:
        """Event ``seq`` (0 <= seq < len): a new dict (compact rows, records), else the stored one.

        In a view (:meth:`select`) ``seq`` is the position in the view; the event keeps its own.
        """
        entry = self._entries[seq]
        if entry < 0:
            event = self._dicts[~entry]
            return event if type(event) is dict else event.as_event()
        shape = self._templates[self._template[entry]]
        event = shape.copy()
        event["data"] = {"chunk": self._chunk(entry)}
        event["t"] = self._t[entry]
        event["seq"] = seq if self._seqs is None else self._seqs[seq]
        if "thread" in shape:
            event["thread"] = self._thread[entry]
        if "server_t" in shape:
            event["server_t"] = self._server_t[entry]
        return event

    def _dict_at(self, index: int) -> dict[str, Any]:
        """The event kept at ``_dicts[index]``: the dict, or a new one for a record."""
        event = self._dicts[index]
        return event if type(event) is dict else event.as_event()

    def events(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Events ``start`` to ``stop`` (default: those stored when called), built as they go."""
        with self.lock:
            stop = len(self._entries) if stop is None else min(stop, len(self._entries))
        event = self.event
        for seq in range(start, stop):
            yield event(seq)

    def blocks(
        self,
        start: int = 0,
        stop: int | None = None,
        *,
        most: int | None = None,
        secret_free: bool = False,
    ) -> Iterator[Any]:
        """Events ``start`` to ``stop`` as event dicts and :class:`ChunkBlock` s of compact rows.

        A block holds consecutive compact events (consecutive rows), at most ``most`` of them;
        its rows' templates, times and texts are read as columns, without building any event.
        With ``secret_free`` (for outputs), the blocks' texts are those of
        :meth:`stream_secrets` where a stream's joined text holds a secret.
        """
        with self.lock:
            stop = len(self._entries) if stop is None else min(stop, len(self._entries))
            entries = self._entries[start:stop]
        secrets = self.stream_secrets() if secret_free else None
        dicts = self._dicts
        for low, high in _stretches(entries):
            entry = entries[low]
            if entry < 0:
                event = dicts[~entry]
                yield event if type(event) is dict else event.as_event()
                continue
            step = high - low if most is None else most
            for position in range(low, high, step):
                end = min(high, position + step)
                yield ChunkBlock(
                    self, start + position, entry + (position - low), end - position, secrets
                )

    def stream_secrets(self) -> dict[int, str]:
        """The texts to write instead of the stored ones where a stream's text holds a secret.

        A model streams a secret split into tokens, and no token alone looks secret: each
        output (files, exports) writes every row of a template (a run's stream, a model call's
        ``messages`` parts) with the texts :func:`~streamviz._redact.redact_pieces` gives for the
        template's texts joined. Keyed by row; only rows whose text changes. Computed anew by
        each call (nothing is kept by the store); a stream without a secret costs its join and
        a few substring searches.
        """
        import numpy as np

        with self.lock:
            # Rows whose columns are all there (an interrupted append can leave a half row at
            # the end until the next append cuts it back: see _settle_rows).
            top = min(len(self._t), len(self._kind), len(self._template), len(self._values))
            kinds = np.frombuffer(self._kind[:top], dtype=self._kind.typecode).copy()
            templates = np.frombuffer(self._template[:top], dtype="l")
            values = self._values[:top]
        sources = np.arange(top, dtype=np.int64)
        same = np.flatnonzero(kinds == _SAME)
        if len(same):
            repeated = map(values.__getitem__, same.tolist())
            sources[same] = np.fromiter(repeated, dtype=np.int64, count=len(same))
            kinds[same] = kinds[sources[same]]
        texts = _values_at(values, sources)
        has_text = kinds != _AS_IS
        for row in np.flatnonzero(~has_text).tolist():  # chunks kept as objects: strings only
            has_text[row] = type(texts[row]) is str
        rows = np.flatnonzero(has_text)
        rows = rows[np.argsort(templates[rows], kind="stable")]
        grouped = templates[rows]
        bounds = [0, *(np.flatnonzero(grouped[1:] != grouped[:-1]) + 1).tolist(), len(rows)]
        pieces_of = texts[rows].tolist()
        secrets: dict[int, str] = {}
        for low, high in pairwise(bounds):
            pieces = pieces_of[low:high]
            redacted = redact_pieces(pieces)
            if redacted is not None:
                for row, old, new in zip(rows[low:high].tolist(), pieces, redacted, strict=True):
                    if new != old:
                        secrets[row] = new
        return secrets

    def columns(self, start: int = 0, stop: int | None = None) -> Columns:
        """Events ``start`` to ``stop`` (default: those stored when called) as columns.

        For readers that work column by column (DataFrames, files, statistics): the per-event
        columns are numpy arrays read straight from the store; no event is built. The chunk
        objects of compact rows are built only when asked (:meth:`Columns.chunks`).
        """
        import numpy as np

        entries, template = self._entry_templates(start, stop)
        with self.lock:  # rows and templates are append-only: all those referenced are there
            rows_stored = len(self._t)
            t_of_row = np.frombuffer(self._t[:rows_stored], dtype=np.float64)
            thread_of_row = np.frombuffer(self._thread[:rows_stored], dtype=np.uint64)
            templates = list(self._templates)
            has_thread = np.array(["thread" in shape for shape in templates], dtype=bool)
            timed_rows = min(len(self._server_t), rows_stored)
            server_t_of_row = np.frombuffer(self._server_t[:timed_rows], dtype=np.float64)
        stop = start + len(entries)
        compact = entries >= 0
        rows = entries[compact]
        size = len(entries)
        t = np.empty(size, dtype=np.float64)
        t[compact] = t_of_row[rows]
        thread = np.zeros(size, dtype=np.uint64)
        thread[compact] = thread_of_row[rows]
        threaded = np.zeros(size, dtype=bool)
        if len(templates):
            threaded[compact] = has_thread[template[compact]]
        if self._seqs is None:
            seq = np.arange(start, stop, dtype=np.int64)
        else:
            seq = np.frombuffer(self._seqs[start:stop], dtype=np.int64).copy()
        server_t = np.full(size, np.nan)
        timed = np.flatnonzero(compact)
        timed = timed[rows < len(server_t_of_row)]  # rows with a server_t are all below that
        server_t[timed] = server_t_of_row[entries[timed]]
        positions = np.flatnonzero(~compact)
        dicts = [self._dict_at(~entry) for entry in entries[positions].tolist()]
        return Columns(
            self, rows, template, t, seq, thread, threaded, positions, dicts, templates, server_t
        )

    def shape_event(self, shape: Shape, text: str) -> dict[str, Any]:
        """The event of a row of ``shape`` with chunk text ``text`` (see :meth:`ChunkBlock.shapes`).

        ``t``, ``seq`` and ``thread`` (if the shape's template has one) are None: the caller
        sets them. A new dict, as :meth:`event` builds.
        """
        template, kind, source = shape
        event = self._templates[template].copy()
        event["data"] = {"chunk": self._build(kind, source, text)}
        return event

    def template(self, index: int) -> dict[str, Any]:
        """The fixed fields of template ``index`` (``data``, ``t``, ``seq``, ``thread`` are None).

        Shared by every row of the template: read it, never change it.
        """
        return self._templates[index]

    def last_time(self) -> float:
        """``t`` of the latest event (0 if none)."""
        with self.lock:
            if not self._entries:
                return 0.0
            entry = self._entries[-1]
            if entry >= 0:
                return self._t[entry]
            event = self._dicts[~entry]
            return event["t"] if type(event) is dict else event.t

    def stream_times(self) -> dict[str, list[float]]:
        """Times of every ``*_stream`` event with a run id, by run id, in order."""
        times: dict[str, list[float]] = {}
        for item in self.blocks():
            if type(item) is ChunkBlock:
                shapes = [self._templates[index] for index in item.templates()]
                for shape, t in zip(shapes, item.times(), strict=True):
                    if shape["event"].endswith("_stream") and "run_id" in shape:
                        times.setdefault(shape["run_id"], []).append(t)
            elif item["event"].endswith("_stream") and "run_id" in item:
                times.setdefault(item["run_id"], []).append(item["t"])
        return times

    # ---------------------------------------------------------- chunk columns
    def _chunk(self, row: int) -> Any:
        """The chunk of a compact row (rebuilt, equal, for packed ones)."""
        kind = self._kind[row]
        if kind == _SAME:
            row = self._values[row]
            kind = self._kind[row]
        return self._build(kind, self._template[row], self._values[row])

    def _build(self, kind: int, template: int, value: Any) -> Any:
        """The chunk a row of ``kind`` made from ``template`` keeps as ``value`` stands for."""
        if kind == _AS_IS:
            return value
        if kind == _TEXT:
            return TextAccessor(value)
        if kind >= _PAIR:
            pair = (self._message(kind % _PAIR, template, value), self._pair_metadata[template])
            return pair if kind < _PAIR_LIST else list(pair)
        return self._message(kind, template, value)

    def _message(self, code: int, template: int, value: str) -> Any:
        """The message chunk a packed row of ``template`` stands for.

        Its text is ``value``, its set of fields set ``code``.
        """
        if code == _DICT_MESSAGE:  # the template's first, with this text; containers copied
            first = self._first_dicts[template]
            message = {key: _copied(item) for key, item in first.items()}
            message["content"] = value
            return message
        if not _FAST_MESSAGE:
            return AIMessageChunk.model_construct(
                set(self._field_sets[code]),
                content=value,
                id=self._message_ids[template],
            )
        # What AIMessageChunk.model_construct does for these fields, without its per-field
        # checks (a fifth of the time): every field is given, there are no extras or privates.
        message = _new(AIMessageChunk)
        _set(
            message,
            "__dict__",
            {
                "content": value,
                "additional_kwargs": {},
                "response_metadata": {},
                "type": "AIMessageChunk",
                "name": None,
                "id": self._message_ids[template],
                "tool_calls": [],
                "invalid_tool_calls": [],
                "usage_metadata": None,
                "tool_call_chunks": [],
                "chunk_position": None,
            },
        )
        _set(message, "__pydantic_fields_set__", set(self._field_sets[code]))
        _set(message, "__pydantic_extra__", None)
        _set(message, "__pydantic_private__", None)
        return message

    def _text(self, row: int) -> str | None:
        kind = self._kind[row]
        if kind == _SAME:
            row = self._values[row]
            kind = self._kind[row]
        if kind in (_AS_IS, _DICT_MESSAGE) or kind >= _PAIR:
            return None
        return self._values[row]

    def kept_objects(self) -> list[Any]:
        """The chunk objects compact rows keep as they are (not as text): for tests and benches."""
        return [
            value for value, kind in zip(self._values, self._kind, strict=True) if kind == _AS_IS
        ]


class Columns:
    """A window of a store's events as columns (see :meth:`EventStore.columns`).

    The dict events' fields are left in their dicts (:attr:`dicts`, at :attr:`positions`): the
    caller reads them one by one (starts, ends, errors: few), and their ``t``, ``seq`` and
    ``thread`` are filled in the arrays here only where the dict has a valid value.
    """

    __slots__ = (
        "_read", "_rows", "_store", "dicts", "positions", "seq", "server_t", "t", "template",
        "templates", "thread", "threaded",
    )  # fmt: skip

    def __init__(
        self,
        store: EventStore,
        rows: Any,
        template: Any,
        t: Any,
        seq: Any,
        thread: Any,
        threaded: Any,
        positions: Any,
        dicts: list[dict[str, Any]],
        templates: list[dict[str, Any]],
        server_t: Any,
    ) -> None:
        self._store = store
        self._rows = rows
        self._read: tuple[Any, Any, Any] | None = None  # see _resolved
        self.template = template
        """Per event: its template (:meth:`EventStore.template`), -1 for a dict event."""
        self.t = t
        """Per event: ``t`` (float64; the dict's own value, if a finite number, for dicts)."""
        self.seq = seq
        """Per event: ``seq`` (int64; the dict's own value for dict events, if an int)."""
        self.thread = thread
        """Per event: ``thread`` (uint64), valid where :attr:`threaded`."""
        self.threaded = threaded
        """Per event: whether it has a ``thread``."""
        self.positions = positions
        """Positions (in the window) of the events kept as dicts, ascending."""
        self.dicts = dicts
        """The events kept as dicts, in the order of :attr:`positions`."""
        self.templates = templates
        """The fixed fields of every template (index = template): read them, never change them."""
        self.server_t = server_t
        """Per event: ``server_t`` (float64; NaN where the event has none, or not a number)."""
        for position, event in zip(positions.tolist(), dicts, strict=True):
            value = event.get("t")
            if type(value) is float or (type(value) is int and abs(value) < 2**53):
                t[position] = value
            else:
                t[position] = float("nan")
            value = event.get("seq")
            if type(value) is int and -(2**63) <= value < 2**63:
                seq[position] = value
            value = event.get("thread")
            if type(value) is int and 0 <= value < _MAX_THREAD:
                thread[position], threaded[position] = value, True
            value = event.get("server_t")
            if type(value) is float or (type(value) is int and abs(value) < 2**53):
                server_t[position] = value

    def __len__(self) -> int:
        return len(self.template)

    def _resolved(self) -> tuple[Any, Any, Any]:
        """Per compact event: its kind, the row its chunk is read from and that row's value.

        A row repeating an earlier row's chunk object (``_SAME``) is read from that row. Computed
        once per window, kept by this object only (never by the store).
        """
        if self._read is None:
            import numpy as np

            store, rows = self._store, self._rows
            top = int(rows[-1]) + 1 if len(rows) else 0
            # Copies of the store's columns up to the last row read (appends may go on meanwhile).
            kind_of_row = np.frombuffer(store._kind[:top], dtype=store._kind.typecode)
            kinds = kind_of_row[rows]
            sources = rows.copy()
            values = store._values
            same = np.flatnonzero(kinds == _SAME)
            if len(same):
                repeated = map(values.__getitem__, rows[same].tolist())
                sources[same] = np.fromiter(repeated, dtype=np.int64, count=len(same))
                kinds[same] = kind_of_row[sources[same]]
            self._read = (kinds, sources, _values_at(values, sources))
        return self._read

    def texts(self) -> list[str | None]:
        """The text of every compact event, in order.

        A token's text (a text chunk, a message rebuilt from its text); None for a chunk kept
        as an object.
        """
        import numpy as np

        kinds, _, values = self._resolved()
        out = values.tolist()
        for position in np.flatnonzero(kinds == _AS_IS).tolist():
            if type(out[position]) is not str:
                out[position] = None
        return out

    def chunks(self) -> list[Any]:
        """The chunk of every compact event, in order (rebuilt, equal, for packed ones).

        Rows that repeat an earlier row's chunk object get that same object, as captured; so
        does a model's stream event and the LangGraph ``messages`` part carrying that very chunk
        when the window has both (one text object, fields and message id; paired in order when a
        text object is every token of its text, like ``" "``: see :func:`_shared_messages`).
        """
        return self.chunk_array().tolist()

    def chunk_array(self) -> Any:
        """:meth:`chunks` as a numpy object array.

        Built per kind of row, not per event: the text chunks by one ``map``, the packed message
        chunks by one loop that copies a prototype of each template's message (see
        :func:`_messages`), the rows repeating a row of the window by one numpy take.
        """
        import numpy as np

        kinds, sources, values = self._resolved()
        rows, store = self._rows, self._store
        count = len(rows)
        out = np.empty(count, dtype=object)
        if not count:
            return out
        own = sources == rows
        at = found = None
        if not own.all():  # repeats: of a row in the window (found) or of one before it
            at = np.minimum(np.searchsorted(rows, sources), count - 1)
            found = ~own & (rows[at] == sources)
            own = ~found
        positions = np.flatnonzero(own)
        kind = kinds[positions]
        top = int(sources.max()) + 1
        template_of_row = np.frombuffer(store._template[:top], dtype=store._template.typecode)
        messages = ((kind >= 0) & (kind < _DICT_MESSAGE)) | (kind >= _PAIR)
        texts = kind == _TEXT
        others = ~(messages | texts)
        if messages.any():
            at_messages = positions[messages]
            out[at_messages] = _messages(
                store,
                values[at_messages].tolist(),
                kind[messages],
                template_of_row[sources[at_messages]].astype(np.int64),
            )
        if texts.any():
            at_texts = positions[texts]
            out[at_texts] = _objects(list(map(TextAccessor, values[at_texts].tolist())))
        if others.any():
            at_others = positions[others]
            build = store._build
            out[at_others] = _objects(
                [
                    build(code, template, value)
                    for value, code, template in zip(
                        values[at_others].tolist(),
                        kind[others].tolist(),
                        template_of_row[sources[at_others]].tolist(),
                        strict=True,
                    )
                ]
            )
        if found is not None and found.any():
            out[found] = out[at[found]]
        return out

    def objects(self, templates: Any = None) -> tuple[Any, list[Any]]:
        """The compact events whose chunk is kept as an object: positions and chunks.

        Those are the chunks that are more than a token's text (a model's last chunk with its
        ``usage_metadata``, tool call pieces, a chunk of an odd type): few in a trace of tokens,
        found with numpy without reading the others. ``templates`` (a boolean array indexed by
        template), if given, limits them to the rows of those templates. Positions are in the
        window, ascending; a row that repeats an earlier row's object gets that object.
        """
        import numpy as np

        store, rows = self._store, self._rows
        compact = np.flatnonzero(self.template >= 0)
        if not len(rows):
            return np.empty(0, dtype=np.int64), []
        low, high = int(rows.min()), int(rows.max()) + 1
        with store.lock:  # the window's rows are complete (append-only)
            kinds = np.frombuffer(store._kind[low:high], dtype=np.int16)
        kind = kinds[rows - low]
        if templates is not None:
            wanted = np.zeros(len(rows), dtype=bool)
            known = self.template[compact] < len(templates)
            wanted[known] = templates[self.template[compact][known]]
        else:
            wanted = np.ones(len(rows), dtype=bool)
        candidates = np.flatnonzero(wanted & ((kind == _AS_IS) | (kind == _SAME)))
        values, chunk = store._values, store._chunk
        positions: list[int] = []
        chunks: list[Any] = []
        stored_kinds = store._kind
        for index in candidates.tolist():
            row = int(rows[index])
            source = values[row] if kind[index] == _SAME else row
            if stored_kinds[source] != _AS_IS or type(values[source]) is str:
                continue
            positions.append(int(compact[index]))
            chunks.append(chunk(row))
        return np.array(positions, dtype=np.int64), chunks


_FEW_ENTRIES = 256  # entries up to which _stretches looks at each in Python


def _stretches(entries: array) -> list[tuple[int, int]]:
    """``(start, stop)`` of each stretch of entries that :meth:`EventStore.blocks` yields as one.

    A stretch is either consecutive compact rows (each entry the one before it plus one) or
    one event kept as a dict (a negative entry). Found by numpy for many entries (a save
    reads a million: one Python step per entry cost more than the blocks), in Python for few
    (a widget's or a loader's read of one event makes no array).
    """
    size = len(entries)
    if size <= _FEW_ENTRIES:
        return _stretches_of_few(entries)
    import numpy as np

    values = np.frombuffer(entries, dtype=np.int64)
    compact = values >= 0
    # An entry goes on its predecessor's stretch if both are compact rows, one after the other.
    goes_on = compact[1:] & compact[:-1] & (values[1:] == values[:-1] + 1)
    starts = [0, *(np.flatnonzero(~goes_on) + 1).tolist()]
    return list(zip(starts, [*starts[1:], size], strict=True))


def _stretches_of_few(entries: array) -> list[tuple[int, int]]:
    """:func:`_stretches`, one entry at a time."""
    stretches = []
    position, size = 0, len(entries)
    while position < size:
        entry = entries[position]
        end = position + 1
        if entry >= 0:
            while end < size and entries[end] == entry + (end - position):
                end += 1
        stretches.append((position, end))
        position = end
    return stretches


def _values_at(values: list[Any], rows: Any) -> Any:
    """``values[row]`` for each row (a numpy int array), as a numpy object array.

    By one numpy take of the slice the rows span (no Python int per row), unless they are few
    and far apart.
    """
    import numpy as np

    if not len(rows):
        return np.empty(0, dtype=object)
    low, high = int(rows.min()), int(rows.max()) + 1
    if high - low > 4 * len(rows):
        return _objects(list(map(values.__getitem__, rows.tolist())))
    return _objects(values[low:high])[rows - low]


def _objects(values: list[Any]) -> Any:
    """A numpy object array of ``values`` as they are.

    Never unpacked, never asked for ``__array__`` (a pydantic model answers that slowly).
    """
    import numpy as np

    return np.fromiter(values, dtype=object, count=len(values))


def _messages(store: EventStore, texts: list[str], kinds: Any, templates: Any) -> Any:
    """The chunks of packed message rows (plain ones, or LangGraph ``messages`` parts).

    ``kinds`` and ``templates`` are numpy arrays (the kind and template of each row). Each
    message is built as :meth:`EventStore._message` builds it, by copying a prototype of its
    template's message (its id and fields) and giving it the row's text and its own empty
    containers. Rows made from one text object with the same fields and message id get one
    message object: the model's chunk, streamed by its run and carried by a ``messages`` part,
    is one object, as captured. Returns a numpy object array, one item per row.
    """
    import numpy as np

    count = len(texts)
    codes = kinds % _PAIR
    pairs = kinds >= _PAIR
    positions = np.arange(count)
    leader = positions
    if pairs.any() and not pairs.all():
        leader = _shared_messages(texts, codes, pairs, _message_id_codes(store, templates))
    builds = np.flatnonzero(leader == positions)
    # runs of consecutive builds of one template and field set: one prototype each
    built_codes, built_templates = codes[builds], templates[builds]
    change = np.ones(len(builds), dtype=bool)
    change[1:] = (built_codes[1:] != built_codes[:-1]) | (
        built_templates[1:] != built_templates[:-1]
    )
    starts = np.flatnonzero(change)
    built = _build_messages(
        store,
        [texts[row] for row in builds.tolist()],
        zip(
            starts.tolist(),
            np.append(starts[1:], len(builds)).tolist(),
            built_codes[starts].tolist(),
            built_templates[starts].tolist(),
            strict=True,
        ),
    )
    if len(builds) == count:
        messages = _objects(built)
    else:
        messages = np.empty(count, dtype=object)
        messages[builds] = _objects(built)
        messages = messages[leader]
    if not pairs.any():
        return messages
    # each part's metadata: one numpy take of a table by template (no Python int per row)
    metadata = np.full(int(templates.max()) + 1, None, dtype=object)
    for template, value in list(store._pair_metadata.items()):
        if template < len(metadata):
            metadata[template] = value
    tuples = np.flatnonzero(pairs & (kinds < _PAIR_LIST))
    lists = np.flatnonzero(kinds >= _PAIR_LIST)
    if len(tuples):
        found = metadata[templates[tuples]].tolist()
        messages[tuples] = _objects(list(zip(messages[tuples].tolist(), found, strict=True)))
    if len(lists):
        found = metadata[templates[lists]].tolist()
        parts = zip(messages[lists].tolist(), found, strict=True)
        messages[lists] = _objects([list(part) for part in parts])
    return messages


def _shared_messages(texts: list[str], codes: Any, parts: Any, mids: Any) -> Any:
    """Per row, the row whose message it carries: itself, or the earlier row of its pair.

    A LangGraph ``messages`` part and its model's stream event carry one message chunk: one text
    object, fields set and message id. The store keeps each token's text as captured: its own
    object, except a text Python keeps once (``" "``, ``"a"``, ``""``), one object for every
    token of that text. So the rows of one text object and message id are paired in order, the
    k-th model row with the k-th part row, as they were captured. Found by one stable sort of
    the rows by a number mixing the message id and the text's identity: most groups are one
    model row and its part; only the rows of larger groups are ranked. Usually the part rows
    are the model rows' texts in the same order: then no sort is needed.
    """
    import numpy as np

    count = len(texts)
    positions = np.arange(count)
    ids = np.fromiter(map(id, texts), dtype=np.int64, count=count)
    models, others = np.flatnonzero(~parts), np.flatnonzero(parts)
    if len(models) == len(others):
        # Usually each model row's part follows it, in the same order: the k-th model row
        # goes with the k-th part row (the rule below, without sorting).
        same = ids[models] == ids[others]
        same &= (mids[models] == mids[others]) & (codes[models] == codes[others])
        if same.all():
            leader = positions.copy()
            leader[np.maximum(models, others)] = np.minimum(models, others)
            return leader
    mixed = (mids.astype(np.uint64) << np.uint64(47)) ^ ids.astype(np.uint64)
    order = np.argsort(mixed, kind="stable")
    ordered = mixed[order]
    first = np.ones(count, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(first)  # in sorted order; rows of a group by ascending position
    sizes = np.diff(np.append(starts, count))
    part = parts[order]
    two = starts[sizes == 2]
    two = two[part[two] != part[two + 1]]
    earlier, later = order[two], order[two + 1]
    big = np.flatnonzero(sizes > 2)
    if len(big):
        # the rows of larger groups: each row's rank among its group's rows of its kind
        group = np.repeat(np.arange(len(big)), sizes[big])
        rows = np.repeat(starts[big], sizes[big])
        rows += np.arange(len(rows)) - np.repeat(np.cumsum(sizes[big]) - sizes[big], sizes[big])
        kind = part[rows]
        rank = np.zeros(len(rows), dtype=np.int64)
        for flag in (False, True):
            mine = np.flatnonzero(kind == flag)
            at_group = group[mine]
            new_group = np.ones(len(mine), dtype=bool)
            new_group[1:] = at_group[1:] != at_group[:-1]
            begins = np.maximum.accumulate(np.where(new_group, np.arange(len(mine)), 0))
            rank[mine] = np.arange(len(mine)) - begins
        key = group * (count + 1) + rank  # ascending within each kind
        models, model_keys = rows[~kind], key[~kind]
        others, other_keys = rows[kind], key[kind]
        if len(others) and len(models):
            found = np.minimum(np.searchsorted(other_keys, model_keys), len(other_keys) - 1)
            paired = other_keys[found] == model_keys
            a, b = order[models[paired]], order[others[found[paired]]]
            earlier = np.concatenate([earlier, np.minimum(a, b)])
            later = np.concatenate([later, np.maximum(a, b)])
    same = (codes[earlier] == codes[later]) & (mids[earlier] == mids[later])
    same &= ids[earlier] == ids[later]
    leader = positions.copy()
    leader[later[same]] = earlier[same]
    return leader


def _message_id_codes(store: EventStore, templates: Any) -> Any:
    """A number per row standing for its template's message id (equal ids, equal numbers)."""
    import numpy as np

    numbers: dict[Any, int] = {}
    table = np.full(int(templates.max()) + 1, -1, dtype=np.int64)
    for template, message_id in list(store._message_ids.items()):
        if template < len(table):
            try:
                table[template] = numbers.setdefault((type(message_id), message_id), len(numbers))
            except TypeError:  # an unhashable id: a number of its own
                table[template] = -2 - template
    return table[templates]


def _build_messages(
    store: EventStore, texts: list[str], runs: Iterable[tuple[int, int, int, int]]
) -> list[Any]:
    """A new packed message chunk per text.

    ``runs``: ``(start, stop, code, template)``, the texts ``start`` to ``stop`` being those of
    messages of that field-set code and template (its message id).
    """
    out: list[Any] = []
    if not _FAST_MESSAGE:
        for start, stop, code, template in runs:
            out += [store._message(code, template, text) for text in texts[start:stop]]
        return out
    append = out.append
    new, cls = _new, AIMessageChunk
    set_dict, set_fields_set, set_extra, set_private = _slot_setters()
    field_sets, message_ids = store._field_sets, store._message_ids
    for start, stop, code, template in runs:
        prototype = _prototype(message_ids[template])
        fields_set = set(field_sets[code])
        for text in texts[start:stop]:
            attrs = prototype.copy()
            attrs["content"] = text
            attrs["additional_kwargs"] = {}
            attrs["response_metadata"] = {}
            attrs["tool_calls"] = []
            attrs["invalid_tool_calls"] = []
            attrs["tool_call_chunks"] = []
            message = new(cls)
            set_dict(message, attrs)
            set_fields_set(message, fields_set.copy())
            set_extra(message, None)
            set_private(message, None)
            append(message)
    return out


def _slot_setters() -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of an ``AIMessageChunk``'s ``__dict__`` and pydantic slots.

    What ``object.__setattr__`` calls for these names (the first descriptor of each in the
    class's MRO, a data descriptor), looked up once.
    """
    setters = []
    for name in (
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    ):
        found = next(
            klass.__dict__[name] for klass in AIMessageChunk.__mro__ if name in klass.__dict__
        )
        setters.append(found.__set__)
    return tuple(setters)


class _MessageFields:
    """An object holding a packed message chunk's fields, for its ``__dict__``.

    CPython keeps the attribute names of a class's instances in one shared table, and a copy of
    such an instance's ``__dict__`` (a "split" dict) shares it: the dict of each message built
    from it holds only its values (~340 B instead of ~470 B for these 11 fields) and is copied
    faster. It is a plain dict all the same (equal, same keys in the same order; it becomes an
    ordinary one if a key is added), so the messages are those :meth:`EventStore._message`
    builds.
    """

    def __init__(self, message_id: Any) -> None:
        self.content = ""
        self.additional_kwargs = None
        self.response_metadata = None
        self.type = "AIMessageChunk"
        self.name = None
        self.id = message_id
        self.tool_calls = None
        self.invalid_tool_calls = None
        self.usage_metadata = None
        self.tool_call_chunks = None
        self.chunk_position = None


def _prototype(message_id: Any) -> dict[str, Any]:
    """The ``__dict__`` of a packed message chunk with this id (as :meth:`EventStore._message`).

    Its text and its containers are set per message (see :class:`_MessageFields`).
    """
    return _MessageFields(message_id).__dict__


def _notify(subscriber: Subscriber, event: dict[str, Any]) -> None:
    try:
        subscriber(event)
    except Exception as error:  # a broken widget must not break the observed program
        report_internal_error(f"trace subscriber {subscriber!r}", error)

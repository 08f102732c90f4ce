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
  a *compact* event in the chunk columns; ``~i < 0`` is the event dict ``_dicts[i]``;
- the chunk columns, one item per compact event: the template (``_template``), the time
  (``_t``), the thread (``_thread``), how the chunk is kept (``_kind``) and the chunk itself
  (``_values``);
- templates (``_templates``): the fields all compact events of a run (and kind) share, stored
  once: ``event``, ``name``, ``run_id``, ``parent_ids``, ``tags``, ``metadata`` (``mode``,
  ``ns``...), with ``data``, ``t``, ``seq`` and ``thread`` as placeholders that keep the key order
  of the event it was made from.

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
  a float, its ``thread`` (if it has one) an unsigned 64-bit int, and its other fields are equal
  (``==``, and of the same type at the top level) to those of a template of the same run and event
  kind, or can start a new one. Any other event (starts, ends, errors, custom events, a filtered
  trace's events) is kept as the dict it is. Reading a compact row gives a dict equal to the event
  appended, keys in the same order.
- **One lock.** :attr:`EventStore.lock` (re-entrant) orders appends: ``seq`` and ``t`` grow
  together, the run tree is updated in that order and subscribers see events in ``seq`` order.
  Readers take a consistent length under it and then read rows below that length without it
  (rows are append-only and complete once the lock is released).
- **Reading stores nothing.** :meth:`EventStore.event` and :meth:`EventStore.events` build each
  compact event's dict anew, so a trace's memory after any read is what it was after capture.

API
---
Sources: :meth:`~EventStore.append` (stamp and append one event), :meth:`~EventStore.stream_writer`
(the per-token hot path of the callback collector), :meth:`~EventStore.extend` (complete events:
loading, replay). Readers: ``len(store)``, :meth:`~EventStore.event`, :meth:`~EventStore.events`
(a window), :meth:`~EventStore.blocks` (a window as dicts and blocks of compact rows, for readers
that only need the text and time of each token, like the widget encoder),
:meth:`~EventStore.template`, :meth:`~EventStore.stream_times`, and :attr:`~EventStore.tree`.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from threading import get_ident as _get_ident
from time import perf_counter as _perf_counter
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

from streamviz._errors import report_internal_error
from streamviz.runs import Run, RunTree

__all__ = ["ChunkBlock", "EventStore", "Subscriber"]

Subscriber = Callable[[dict[str, Any]], None]
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
# The keys every compact event has besides its template's fixed fields ("thread" if it had one).
_VARYING = ("data", "t", "seq", "thread")
_MAX_THREAD = 2**64


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

    __slots__ = ("_row", "_store", "count", "seq")

    def __init__(self, store: EventStore, seq: int, row: int, count: int) -> None:
        self._store = store
        self._row = row
        self.seq = seq
        """``seq`` of the first event of the block."""
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
        return [text(row) for row in range(self._row, self._row + self.count)]

    def chunk(self, offset: int) -> Any:
        """The chunk of the row at ``offset`` in the block (rebuilt, equal, for packed ones)."""
        return self._store._chunk(self._row + offset)


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
        self.on_clock_start: Callable[[], None] | None = None
        """Called (lock held) when the clock origin is set: the trace notes its creation time."""
        self._entries = array("q")
        self._dicts: list[dict[str, Any]] = []
        # Chunk columns, one item per compact row.
        self._template = array("l")
        self._t = array("d")
        self._thread = array("Q")
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
        self._templates: list[tuple[dict[str, Any], bool]] = []
        self._template_of: dict[tuple[Any, ...], int] = {}
        self._subscribers: list[Subscriber] = []
        self._read_only = read_only
        self._slow = read_only  # subscribers or read-only: stream writers take the full path

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
            event["seq"] = len(self._entries)
            event["thread"] = _get_ident()
            run = self.tree.apply(event)  # type: ignore[arg-type]
            self._keep(event)
            for subscriber in self._subscribers:
                _notify(subscriber, event)
            return run

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        """Append complete events (with ``t``; ``seq`` is numbered if absent): loading, replay."""
        with self.lock:
            if self._read_only:
                raise TypeError("a filtered trace is read-only")
            apply, keep, subscribers = self.tree.apply, self._keep, self._subscribers
            for event in events:
                if "seq" not in event:
                    event["seq"] = len(self._entries)
                apply(event)  # type: ignore[arg-type]
                keep(event)
                for subscriber in subscribers:
                    _notify(subscriber, event)
            if self._t0 is None and self._entries:  # a loaded trace's clock goes on from its end
                self._t0 = time.perf_counter() - self.last_time()

    @classmethod
    def frozen(cls, events: list[dict[str, Any]]) -> EventStore:
        """A read-only store holding ``events`` as they are (a filtered view; no run tree)."""
        store = cls(read_only=True)
        store._dicts = events
        store._entries = array("q", range(-1, -len(events) - 1, -1))
        return store

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
                return
        self._entries.append(~len(self._dicts))
        self._dicts.append(event)

    def _template_for(self, event: dict[str, Any]) -> int:
        """The template a compact ``event`` fits (made if new), or -1 if it cannot be compact."""
        thread = event.get("thread", 0)
        if type(thread) is not int or not 0 <= thread < _MAX_THREAD:
            return -1
        keys = tuple(event)
        try:
            key = (event["event"], event.get("run_id"), event.get("name"), keys)
            index = self._template_of.get(key)
        except (KeyError, TypeError):  # no kind, or an unhashable run id or name
            return -1
        if index is not None:
            shape = self._templates[index][0]
            if all(_same(shape[name], event[name]) for name in keys if name not in _VARYING):
                return index
        shape = {name: None if name in _VARYING else value for name, value in event.items()}
        index = self._template_of[key] = len(self._templates)
        self._templates.append((shape, "thread" in event))
        return index

    def _keep_compact(self, template: int, t: float, thread: int, chunk: Any) -> None:
        """Append one compact row (the append path; :meth:`stream_writer` inlines the same)."""
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
            last[0], last[1] = chunk, row
        self._template.append(template)
        self._t.append(t)
        self._thread.append(thread)
        self._kind.append(kind)
        self._values.append(value)
        self._entries.append(row)

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
        """
        with self.lock:
            t0 = self.start_clock()
            template = len(self._templates)
            self._templates.append(
                ({**fields, "data": None, "t": None, "seq": None, "thread": None}, True)
            )
        acquire, release = self.lock.acquire, self.lock.release
        entries_append = self._entries.append
        t_append, template_append = self._t.append, self._template.append
        thread_append, kind_append = self._thread.append, self._kind.append
        values_append, t_column = self._values.append, self._t
        last = self._last
        # This writer's packed message chunks: their message id, and the latest set of fields;
        # the metadata of its LangGraph "messages" parts (the first part's).
        message_id: Any = _UNSET
        known_set: Any = None
        known_code = _AS_IS
        pair_metadata: Any = _UNSET

        def write(chunk: Any) -> None:
            nonlocal message_id, known_set, known_code, pair_metadata
            acquire()
            try:
                t = _perf_counter() - t0
                if self._slow:  # live subscribers (or a read-only view): the full path
                    self.append({**fields, "data": {"chunk": chunk}})
                    return
                if run is not None:  # RunTree.apply's stream branch, inlined
                    if run.first_chunk is None:
                        run.first_chunk = t
                    run.last_chunk = t
                    run.chunk_count += 1
                row = len(t_column)
                template_append(template)
                t_append(t)
                thread_append(_get_ident())
                entries_append(row)
                if chunk is last[0] and chunk is not None:
                    values_append(last[1])
                    kind_append(_SAME)
                    return
                last[0], last[1] = chunk, row
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
                        if pair_metadata is _UNSET:
                            pair_metadata = self._pair_metadata.setdefault(template, chunk[1])
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
                            if message_id is _UNSET:  # the first: its id is every packed one's
                                message_id = self._message_ids.setdefault(template, attrs["id"])
                            if (
                                attrs["id"] == message_id
                                and not message.__pydantic_extra__
                                and (_NO_PRIVATE or not message.__pydantic_private__)
                            ):
                                field_set = message.__pydantic_fields_set__
                                if field_set != known_set:
                                    known_set = frozenset(field_set)
                                    known_code = self._field_set_code(known_set)
                                value, kind = attrs["content"], known_code + pair
                except Exception as error:  # an odd chunk: kept as it is, never lost
                    report_internal_error("streamviz event store", error)
                    value, kind = chunk, _AS_IS
                values_append(value)
                kind_append(kind)
            finally:
                release()

        return write

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
        """Event ``seq`` (0 <= seq < len): a new dict for a compact row, else the stored dict."""
        entry = self._entries[seq]
        if entry < 0:
            return self._dicts[~entry]
        shape, has_thread = self._templates[self._template[entry]]
        event = shape.copy()
        event["data"] = {"chunk": self._chunk(entry)}
        event["t"] = self._t[entry]
        event["seq"] = seq
        if has_thread:
            event["thread"] = self._thread[entry]
        return event

    def events(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Events ``start`` to ``stop`` (default: those stored when called), built as they go."""
        with self.lock:
            stop = len(self._entries) if stop is None else min(stop, len(self._entries))
        event = self.event
        for seq in range(start, stop):
            yield event(seq)

    def blocks(self, start: int = 0, stop: int | None = None) -> Iterator[Any]:
        """Events ``start`` to ``stop`` as event dicts and :class:`ChunkBlock` s of compact rows.

        A block holds consecutive compact events (consecutive rows); its rows' templates, times
        and texts are read as columns, without building any event.
        """
        with self.lock:
            stop = len(self._entries) if stop is None else min(stop, len(self._entries))
            entries = self._entries[start:stop]
        dicts = self._dicts
        position, size = 0, len(entries)
        while position < size:
            entry = entries[position]
            if entry < 0:
                yield dicts[~entry]
                position += 1
                continue
            end = position + 1
            while end < size and entries[end] == entry + (end - position):
                end += 1
            yield ChunkBlock(self, start + position, entry, end - position)
            position = end

    def template(self, index: int) -> dict[str, Any]:
        """The fixed fields of template ``index`` (``data``, ``t``, ``seq``, ``thread`` are None).

        Shared by every row of the template: read it, never change it.
        """
        return self._templates[index][0]

    def last_time(self) -> float:
        """``t`` of the latest event (0 if none)."""
        with self.lock:
            if not self._entries:
                return 0.0
            entry = self._entries[-1]
            return self._dicts[~entry]["t"] if entry < 0 else self._t[entry]

    def stream_times(self) -> dict[str, list[float]]:
        """Times of every ``*_stream`` event with a run id, by run id, in order."""
        times: dict[str, list[float]] = {}
        for item in self.blocks():
            if type(item) is ChunkBlock:
                shapes = [self._templates[index][0] for index in item.templates()]
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
        value = self._values[row]
        if kind == _AS_IS:
            return value
        if kind == _TEXT:
            return TextAccessor(value)
        if kind >= _PAIR:
            pair = (
                self._message(kind % _PAIR, row, value),
                self._pair_metadata[self._template[row]],
            )
            return pair if kind < _PAIR_LIST else list(pair)
        return self._message(kind, row, value)

    def _message(self, code: int, row: int, value: str) -> Any:
        """The message chunk a packed row stands for: text ``value``, fields set ``code``."""
        if code == _DICT_MESSAGE:  # the template's first, with this text; containers copied
            first = self._first_dicts[self._template[row]]
            message = {key: _copied(item) for key, item in first.items()}
            message["content"] = value
            return message
        return AIMessageChunk.model_construct(
            set(self._field_sets[code]),
            content=value,
            additional_kwargs={},
            response_metadata={},
            type="AIMessageChunk",
            name=None,
            id=self._message_ids[self._template[row]],
            tool_calls=[],
            invalid_tool_calls=[],
            usage_metadata=None,
            tool_call_chunks=[],
            chunk_position=None,
        )

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


def _notify(subscriber: Subscriber, event: dict[str, Any]) -> None:
    try:
        subscriber(event)
    except Exception as error:  # a broken widget must not break the observed program
        report_internal_error(f"trace subscriber {subscriber!r}", error)

"""Column storage for stream chunks, the bulk of a long trace.

A trace keeps every chunk it captured, and a chain streaming 20,000 tokens records tens of
thousands of stream events. Kept as dicts, or as message objects, they would be containers the
cyclic garbage collector walks again and again while the observed program runs, which costs more
than recording them. So each stream event recorded on the hot path goes into a few typed columns,
with nothing per event that the garbage collector keeps tracking:

- the index of the run's fixed event fields (``event``, ``name``, ``run_id``...), the time, the
  thread and how the chunk was stored go into ``array`` columns;
- the chunk goes into a list as it is, except:
  - a plain ``AIMessageChunk`` (text and the message id every token of its run shares, nothing
    else: the usual token) is kept as its text and the code of the set of fields that were set;
    an equal ``AIMessageChunk`` is rebuilt when the event is first read (no tuple per event: even
    a short-lived container per event makes the collector run, and promote, more often);
  - a parser's ``TextAccessor`` (a ``str`` subclass the garbage collector tracks) is kept as a
    plain ``str`` and rebuilt likewise;
  - the very object of the previous row (a sequence streams its last step's chunks again) is kept
    as a pointer to that row.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from threading import get_ident as _get_ident
from time import perf_counter as _perf_counter
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

__all__ = ["ChunkColumns"]

_AS_IS = -1
_TEXT = -2
_SAME = -3
_UNSET: Any = object()
# Packed AIMessageChunks store the code (>= 0) of their set of fields.
# AIMessageChunk declares no private attributes in langchain-core 1.x: nothing to check then.
_NO_PRIVATE = not AIMessageChunk.__private_attributes__
_PLAIN_FIELD_COUNT = 11  # the fields of AIMessageChunk in langchain-core 1.x; others are kept whole


class ChunkColumns:
    """Stream events of a trace, one row each; not thread-safe (the trace holds its lock)."""

    __slots__ = (
        "_field_set_codes",
        "_field_sets",
        "_last_cell",
        "kind",
        "message_ids",
        "t",
        "template",
        "thread",
        "values",
    )

    def __init__(self) -> None:
        self.template = array("l")
        self.t = array("d")
        self.thread = array("Q")
        self.kind = array("h")  # _AS_IS, _TEXT, _SAME, or the field-set code of a packed chunk
        self.values: list[Any] = []  # the chunk, its text, or the row it repeats
        self.message_ids: dict[int, Any] = {}  # template -> id of its packed message chunks
        self._field_sets: list[frozenset[str]] = []
        self._field_set_codes: dict[frozenset[str], int] = {}
        self._last_cell: list[Any] = [None, -1]  # the chunk object of the latest row, that row

    def __len__(self) -> int:
        return len(self.t)

    def writer(self, trace: Any, run: Any, fields: dict[str, Any]) -> Callable[[Any], None]:
        """A function recording one stream event of ``run`` per call: the hot path, one frame.

        ``trace`` is the owning :class:`~streamviz.Trace` (its lock, clock origin, log and slow
        path), ``fields`` the fixed fields of the run's stream events. Stores the chunk by the rules
        in the module docstring and updates the run's chunk counters.
        """
        template = len(trace._templates)
        trace._templates.append(fields)
        acquire, release = trace._lock.acquire, trace._lock.release
        log_append, t0 = trace._log.append, trace._t0
        t_append, template_append = self.t.append, self.template.append
        thread_append, kind_append = self.thread.append, self.kind.append
        values_append, t_column = self.values.append, self.t
        last = self._last_cell
        # This run's packed message chunks: their message id, and the latest set of fields.
        message_id: Any = _UNSET
        known_set: Any = None
        known_code = _AS_IS

        def write(chunk: Any) -> None:
            nonlocal message_id, known_set, known_code
            acquire()
            try:
                t = _perf_counter() - t0
                if trace._slow:  # live subscribers (or a read-only view): the full path
                    trace._record({**fields, "data": {"chunk": chunk}})
                    return
                # RunTree.apply's stream branch, inlined: this is the per-chunk path.
                if run.first_chunk is None:
                    run.first_chunk = t
                run.last_chunk = t
                run.chunk_count += 1
                row = len(t_column)
                template_append(template)
                t_append(t)
                thread_append(_get_ident())
                log_append(row)
                if chunk is last[0] and chunk is not None:
                    values_append(last[1])
                    kind_append(_SAME)
                    return
                last[0], last[1] = chunk, row
                cls = type(chunk)
                if cls is AIMessageChunk:
                    attrs = chunk.__dict__
                    if (
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
                        if message_id is _UNSET:  # the run's first: its id is every packed one's
                            message_id = self.message_ids.setdefault(template, attrs["id"])
                        if (
                            attrs["id"] == message_id
                            and not chunk.__pydantic_extra__
                            and (_NO_PRIVATE or not chunk.__pydantic_private__)
                        ):
                            field_set = chunk.__pydantic_fields_set__
                            if field_set != known_set:
                                known_set, known_code = self._field_set_code(field_set)
                            kind_append(known_code)
                            values_append(attrs["content"])
                            return
                elif cls is TextAccessor:
                    values_append(str.__str__(chunk))
                    kind_append(_TEXT)
                    return
                values_append(chunk)
                kind_append(_AS_IS)
            finally:
                release()

        return write

    def chunk(self, row: int) -> Any:
        """The chunk of a row (rebuilt, equal, for packed ones)."""
        kind = self.kind[row]
        if kind == _SAME:
            row = self.values[row]
            kind = self.kind[row]
        value = self.values[row]
        if kind == _AS_IS:
            return value
        if kind == _TEXT:
            return TextAccessor(value)
        return AIMessageChunk.model_construct(
            set(self._field_sets[kind]),
            content=value,
            additional_kwargs={},
            response_metadata={},
            type="AIMessageChunk",
            name=None,
            id=self.message_ids[self.template[row]],
            tool_calls=[],
            invalid_tool_calls=[],
            usage_metadata=None,
            tool_call_chunks=[],
            chunk_position=None,
        )

    def text(self, row: int) -> str | None:
        """The text of a row kept as text (a packed message chunk or a parser string), else None.

        Lets readers that only need the text (widgets) skip rebuilding the chunk object.
        """
        kind = self.kind[row]
        if kind == _SAME:
            row = self.values[row]
            kind = self.kind[row]
        return None if kind == _AS_IS else self.values[row]

    def _field_set_code(self, field_set: set[str]) -> tuple[frozenset[str], int]:
        """A set of fields set of a packed chunk, frozen, and its code (a new code if new)."""
        frozen = frozenset(field_set)
        code = self._field_set_codes.get(frozen)
        if code is None:
            code = self._field_set_codes[frozen] = len(self._field_sets)
            self._field_sets.append(frozen)
        return frozen, code

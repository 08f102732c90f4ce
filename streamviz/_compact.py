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
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

__all__ = ["ChunkColumns"]

_AS_IS = -1
_TEXT = -2
_SAME = -3
# Packed AIMessageChunks store the code (>= 0) of their set of fields.
_PLAIN_FIELD_COUNT = 11  # the fields of AIMessageChunk in langchain-core 1.x; others are kept whole


class ChunkColumns:
    """Stream events of a trace, one row each; not thread-safe (the trace holds its lock)."""

    __slots__ = (
        "_field_set_codes",
        "_field_sets",
        "_last",
        "_last_row",
        "_last_set",
        "_last_set_code",
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
        self._last: Any = None  # the chunk object of the latest row, and that row
        self._last_row = -1
        self._last_set: Any = None  # the latest packed chunk's set of fields, and its code
        self._last_set_code = _AS_IS

    def __len__(self) -> int:
        return len(self.t)

    def append(self, template: int, chunk: Any, t: float, thread: int) -> int:
        """Store one stream event; returns its row."""
        row = len(self.t)
        self.template.append(template)
        self.t.append(t)
        self.thread.append(thread)
        if chunk is self._last and chunk is not None:
            self.values.append(self._last_row)
            self.kind.append(_SAME)
            return row
        self._last, self._last_row = chunk, row
        cls = type(chunk)
        if cls is AIMessageChunk:
            fields = chunk.__dict__
            if (
                len(fields) == _PLAIN_FIELD_COUNT
                and type(fields["content"]) is str
                and not fields["additional_kwargs"]
                and not fields["response_metadata"]
                and not fields["tool_call_chunks"]
                and not fields["tool_calls"]
                and not fields["invalid_tool_calls"]
                and fields["usage_metadata"] is None
                and fields["name"] is None
                and fields["chunk_position"] is None
                and fields["id"] == self.message_ids.setdefault(template, fields["id"])
                and not chunk.__pydantic_extra__
                and not chunk.__pydantic_private__
            ):
                self.kind.append(self._field_set_code(chunk.__pydantic_fields_set__))
                self.values.append(fields["content"])
                return row
        elif cls is TextAccessor:
            self.values.append(str.__str__(chunk))
            self.kind.append(_TEXT)
            return row
        self.values.append(chunk)
        self.kind.append(_AS_IS)
        return row

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

    def _field_set_code(self, field_set: set[str]) -> int:
        if field_set == self._last_set:
            return self._last_set_code
        frozen = frozenset(field_set)
        code = self._field_set_codes.get(frozen)
        if code is None:
            code = self._field_set_codes[frozen] = len(self._field_sets)
            self._field_sets.append(frozen)
        self._last_set, self._last_set_code = frozen, code
        return code

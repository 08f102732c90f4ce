"""Column storage for stream chunks, the bulk of a long trace.

A trace keeps every chunk it captured, and a chain streaming 20,000 tokens records tens of
thousands of stream events. Kept as dicts (or tuples holding message objects) they would be
containers the cyclic garbage collector walks again and again while the program runs, which costs
more than recording them. So each stream event recorded on the hot path goes into a few typed
columns, with no new container per event:

- the index of the run's fixed event fields (``event``, ``name``, ``run_id``...), the time and the
  thread go into ``array`` columns;
- the chunk goes into a list as it is, except a plain ``AIMessageChunk`` (text, id and position
  only, the usual case): then its text, its interned id, its position and the set of fields that
  were set are kept, and an equal ``AIMessageChunk`` is rebuilt when the event is first read; and
  a parser's ``TextAccessor`` text, kept as a plain ``str`` and rebuilt likewise.
"""

from __future__ import annotations

from array import array
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.base import TextAccessor

__all__ = ["ChunkColumns"]

_NOT_PACKED = -1
_TEXT = -2  # a parser's TextAccessor (a str subclass the garbage collector tracks): kept as str
_SAME = -3  # the very object of another row (a chain re-yielding its last step's chunk)
_PLAIN_FIELD_COUNT = 11  # the fields of AIMessageChunk in langchain-core 1.x; others are kept whole


class ChunkColumns:
    """Stream events of a trace, one row each; not thread-safe (the trace holds its lock)."""

    __slots__ = ("_field_set_codes", "_field_sets", "_ids", "_last", "_last_row", "_last_set",
                 "_last_set_code", "fields", "ids", "positions", "t", "template", "thread",
                 "values")

    def __init__(self) -> None:
        self.template = array("l")
        self.t = array("d")
        self.thread = array("Q")
        self.values: list[Any] = []  # the chunk, or the text of a packed AIMessageChunk
        self.fields = array("h")  # code of the packed chunk's set fields, or _NOT_PACKED
        self.ids: list[str | None] = []
        self.positions: list[str | None] = []
        self._ids: dict[str, str] = {}  # one string object per message id (all tokens share it)
        self._field_sets: list[frozenset[str]] = []
        self._field_set_codes: dict[frozenset[str], int] = {}
        self._last: Any = None  # the chunk object of the latest row, and that row
        self._last_row = -1
        self._last_set: Any = None  # the latest packed chunk's set of fields, and its code
        self._last_set_code = _NOT_PACKED

    def __len__(self) -> int:
        return len(self.t)

    def append(self, template: int, chunk: Any, t: float, thread: int) -> int:
        """Store one stream event; returns its row."""
        row = len(self.t)
        self.template.append(template)
        self.t.append(t)
        self.thread.append(thread)
        if chunk is self._last and chunk is not None:
            # A sequence streams its last step's chunk objects again: point at the first row.
            self.values.append(self._last_row)
            self.ids.append(None)
            self.positions.append(None)
            self.fields.append(_SAME)
            return row
        code = self._packable(chunk)
        self._last, self._last_row = chunk, row
        if code == _TEXT:
            self.values.append(str.__str__(chunk))
            self.ids.append(None)
            self.positions.append(None)
        elif code == _NOT_PACKED:
            self.values.append(chunk)
            self.ids.append(None)
            self.positions.append(None)
        else:
            fields = chunk.__dict__
            message_id = fields["id"]
            if message_id is not None:
                message_id = self._ids.setdefault(message_id, message_id)
            self.values.append(fields["content"])
            self.ids.append(message_id)
            self.positions.append(fields["chunk_position"])
        self.fields.append(code)
        return row

    def chunk(self, row: int) -> Any:
        """The chunk of a row (a rebuilt, equal ``AIMessageChunk`` for packed ones)."""
        code = self.fields[row]
        if code == _SAME:
            row = self.values[row]
            code = self.fields[row]
        if code == _NOT_PACKED:
            return self.values[row]
        if code == _TEXT:
            return TextAccessor(self.values[row])
        return AIMessageChunk.model_construct(
            set(self._field_sets[code]),
            content=self.values[row],
            additional_kwargs={},
            response_metadata={},
            type="AIMessageChunk",
            name=None,
            id=self.ids[row],
            tool_calls=[],
            invalid_tool_calls=[],
            usage_metadata=None,
            tool_call_chunks=[],
            chunk_position=self.positions[row],
        )

    def _packable(self, chunk: Any) -> int:
        kind = type(chunk)
        if kind is TextAccessor:
            return _TEXT
        if kind is not AIMessageChunk:
            return _NOT_PACKED
        fields = chunk.__dict__
        if (
            len(fields) != _PLAIN_FIELD_COUNT
            or type(fields["content"]) is not str
            or fields["additional_kwargs"]
            or fields["response_metadata"]
            or fields["tool_calls"]
            or fields["invalid_tool_calls"]
            or fields["tool_call_chunks"]
            or fields["usage_metadata"] is not None
            or fields["name"] is not None
            or chunk.__pydantic_extra__
            or chunk.__pydantic_private__
        ):
            return _NOT_PACKED
        field_set = chunk.__pydantic_fields_set__
        if field_set == self._last_set:
            return self._last_set_code
        field_set = frozenset(field_set)
        code = self._field_set_codes.get(field_set)
        if code is None:
            code = self._field_set_codes[field_set] = len(self._field_sets)
            self._field_sets.append(field_set)
        self._last_set, self._last_set_code = field_set, code
        return code

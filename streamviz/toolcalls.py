"""Tool calls a model asked for, assembled from its stream, and the tool runs that answered them.

A chat model asking for tools streams ``tool_call_chunks`` (``AIMessageChunk``): each piece
names its call by ``index`` (and, in the call's first piece, by ``id`` and tool ``name``) and
carries a bit of the call's JSON arguments. :class:`ToolCalls` groups a model run's pieces per
call the way LangChain merges them (same ``index``; else same ``id``), so parallel calls stay
apart however their pieces interleave, and parses each call's arguments as they grow with
``langchain_core.utils.json.parse_partial_json`` (the progressive parser of
``JsonOutputParser``). When the model run ends, its message's ``tool_calls`` (what LangChain
parsed) complete the calls, or are the calls of a model that did not stream.

A tool run answering a call names it: its ``ToolMessage`` output's ``tool_call_id`` (an
error event's ``tool_call_id``). :meth:`ToolCalls.call_of` goes from a tool run to its call
(and its model run), :attr:`ToolCall.tool_run_id` back.

Facts are read from events only (``apply`` one at a time, :meth:`ToolCalls.update` to read what
a trace added since the last call, through ``trace.store.blocks``), so a live, a loaded and a
rebuilt trace give the same calls. Pure Python; it never imports widget code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.utils.json import parse_partial_json

from streamviz.events import split_event

if TYPE_CHECKING:
    from streamviz.trace import Trace

__all__ = ["ToolCall", "ToolCalls", "tool_calls"]

_MODEL_TYPES = frozenset({"chat_model", "llm"})
_UNPARSED: Any = object()
_NONE, _OBJECTS, _ALL = 0, 1, 2  # which compact rows of a template may hold tool call pieces


@dataclass(eq=False, slots=True)
class ToolCall:
    """One tool call a model run asked for, as far as it has streamed."""

    run_id: str
    """Id of the model run that asked for it."""
    position: int
    """Its place among the run's calls (0, 1, ...), in the order they started streaming."""
    index: int | None = None
    """The ``index`` its streamed pieces carry (``None`` if not streamed or not given)."""
    id: str | None = None
    """The call id (``ToolMessage.tool_call_id`` of its answer), once streamed."""
    name: str | None = None
    """The tool's name, once streamed."""
    chunks: int = 0
    """How many streamed pieces it got."""
    tool_run_id: str | None = None
    """Id of the tool run that answered it, once that run said so."""
    complete: bool = False
    """The model run ended: name, id and arguments are final."""
    _final: Any = field(default=_UNPARSED, repr=False)  # the args the model's message holds
    _parsed: tuple[int, Any] = field(default=(-1, None), repr=False)  # (text length, value)
    _pieces: list[str] = field(default_factory=list, repr=False)  # the argument text's pieces

    @property
    def args_text(self) -> str:
        """The argument text streamed so far (the pieces joined)."""
        pieces = self._pieces
        if len(pieces) > 1:
            pieces[:] = ["".join(pieces)]
        return pieces[0] if pieces else ""

    @property
    def args(self) -> Any:
        """The arguments: a dict once they parse (partial JSON is completed as far as it goes).

        While streaming it is ``parse_partial_json`` of :attr:`args_text`; ``None`` while that
        text does not parse yet. Once the model run ended, the arguments its message holds.
        """
        if self._final is not _UNPARSED:
            return self._final
        text = self.args_text
        size = len(text)
        if self._parsed[0] != size:
            try:
                value = parse_partial_json(text) if text.strip() else {}
            except Exception:  # not JSON, even completed: show the text instead
                value = None
            self._parsed = (size, value)
        return self._parsed[1]


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def _message_of(value: Any) -> Any:
    """The message of a model's stream chunk or output (a generation chunk holds one)."""
    # Asked of the class: a missing attribute of a pydantic message costs microseconds.
    if "message" in getattr(type(value), "model_fields", ()):
        return value.message
    return value


class ToolCalls:
    """The tool calls of a trace's model runs and their links to tool runs, from events.

    Not thread-safe by itself: one reader feeds it (the widget encoder, or one call of
    :func:`tool_calls`).
    """

    def __init__(self) -> None:
        self.count = 0
        """Events read so far by :meth:`update`."""
        self._by_run: dict[str, list[ToolCall]] = {}
        self._by_id: dict[str, ToolCall] = {}
        self._by_tool_run: dict[str, ToolCall] = {}
        self._answered: dict[str, str] = {}  # call id -> tool run id, answered before it was seen
        self._templates: dict[int, int] = {}  # store template -> _NONE, _OBJECTS or _ALL

    # ----------------------------------------------------------------- reading
    def of_run(self, run_id: str) -> list[ToolCall]:
        """The calls model run ``run_id`` asked for, in order (empty if none)."""
        return self._by_run.get(run_id, [])

    def get(self, call_id: str) -> ToolCall | None:
        """The call with id ``call_id``, if seen."""
        return self._by_id.get(call_id)

    def call_of(self, tool_run_id: str) -> ToolCall | None:
        """The call the tool run ``tool_run_id`` answered (its :attr:`ToolCall.run_id` asked)."""
        return self._by_tool_run.get(tool_run_id)

    def __iter__(self) -> Iterator[ToolCall]:
        for calls in self._by_run.values():
            yield from calls

    def __len__(self) -> int:
        return sum(map(len, self._by_run.values()))

    def columns(self) -> dict[str, Callable[[Any], str | None]]:
        """Per run, the text of the ``runs_df`` columns ``tool_calls``, ``tool_call_id``, ...

        (``tool_call_run``: the model run that asked for the call a tool run answered).
        """
        from streamviz.presentation.text import tool_call_text

        def asked(run: Any) -> str | None:
            calls = self.of_run(run.run_id)
            return "; ".join(tool_call_text(call) for call in calls) if calls else None

        def answered(run: Any) -> str | None:
            call = self.call_of(run.run_id)
            return None if call is None else call.id

        def asker(run: Any) -> str | None:
            call = self.call_of(run.run_id)
            return None if call is None else call.run_id

        return {"tool_calls": asked, "tool_call_id": answered, "tool_call_run": asker}

    # ---------------------------------------------------------------- building
    def update(self, trace: Trace) -> set[str]:
        """Read the events ``trace`` added since the last call; return the run ids touched."""
        from streamviz._log import ChunkBlock

        store, touched = trace.store, set()
        with store.lock:
            stop = len(store)
        for item in store.blocks(self.count, stop):
            if type(item) is ChunkBlock:
                touched |= self.apply_block(store, item)
            else:
                touched |= self.apply(item)
        self.count = stop
        return touched

    def apply_block(
        self,
        store: Any,
        block: Any,
        texts: list[str | None] | None = None,
        templates: Any = None,
        distinct: set[int] | None = None,
    ) -> set[str]:
        """Read a ``ChunkBlock`` of ``store`` (compact stream rows); return the run ids touched.

        Only a model's rows are read, and of those only the chunks not kept as plain text.
        ``texts``, ``templates``, ``distinct``: the block's ``texts()``, ``templates()`` and the
        set of those templates, if the caller has them already.
        """
        templates = block.templates() if templates is None else templates
        distinct = set(templates) if distinct is None else distinct
        known = self._templates
        for template in distinct - known.keys():  # its first row: the first one read
            known[template] = self._reads(store, template, block, templates.index(template))
        reads = {template: known[template] for template in distinct}
        if all(value == _NONE for value in reads.values()):  # no model's stream: most blocks
            return set()
        if texts is None and _OBJECTS in reads.values():
            texts = block.texts()
        if _ALL not in reads.values() and texts is not None and None not in texts:
            return set()  # plain tokens only
        touched: set[str] = set()
        for offset, template in enumerate(templates):
            value = reads[template]
            if value == _NONE or (
                value == _OBJECTS and texts is not None and texts[offset] is not None
            ):
                continue  # not a model's, or a plain token: no tool call in it
            event = {"run_id": store.template(template).get("run_id")}
            touched |= self._stream(event, block.chunk(offset))
        return touched

    @staticmethod
    def _reads(store: Any, template: int, block: Any, offset: int) -> int:
        """Which rows of a template may hold tool calls (``offset``: its first row)."""
        split = split_event(str(store.template(template).get("event")))
        if split is None or split[0] not in _MODEL_TYPES or split[1] != "stream":
            return _NONE
        # A server's message dicts: the store keeps a row as text when it repeats the first
        # row of its template but for the content, tool call pieces included.
        first = _message_of(block.chunk(offset))
        return _ALL if isinstance(first, dict) and first.get("tool_call_chunks") else _OBJECTS

    def apply(self, event: dict[str, Any]) -> set[str]:
        """Read one event; return the ids of the runs whose calls or link it changed."""
        kind = event.get("event")
        split = split_event(kind) if isinstance(kind, str) else None
        if split is None:
            return set()
        run_type, phase = split
        data = event.get("data")
        if not isinstance(data, dict):
            return set()
        if run_type in _MODEL_TYPES:
            if phase == "stream":
                return self._stream(event, data.get("chunk"))
            if phase == "end":
                return self._end(event, data.get("output"))
            return set()
        if run_type == "tool" and phase in ("end", "error"):
            call_id = data.get("tool_call_id") if phase == "error" else None
            if call_id is None:
                call_id = _get(data.get("output"), "tool_call_id")
            if isinstance(call_id, str) and isinstance(event.get("run_id"), str):
                return self._link(event["run_id"], call_id)
        return set()

    def _stream(self, event: dict[str, Any], chunk: Any) -> set[str]:
        pieces = _get(_message_of(chunk), "tool_call_chunks")
        run_id = event.get("run_id")
        if not pieces or not isinstance(run_id, str):
            return set()
        calls = self._by_run.setdefault(run_id, [])
        touched = {run_id}
        for piece in pieces:
            if not isinstance(piece, dict):  # a ToolCallChunk is a dict
                continue
            index, call_id = piece.get("index"), piece.get("id")
            call = None
            for known in calls:  # LangChain merges pieces of the same index (else the same id)
                if (known.index == index) if index is not None else (known.id == call_id):
                    call = known
                    break
            if call is None or (index is None and call_id is None):
                call = ToolCall(run_id, len(calls), index=index)
                calls.append(call)
            call.chunks += 1
            name, args = piece.get("name"), piece.get("args")
            if name and call.name != name:  # LangChain joins the pieces of a name
                call.name = (call.name or "") + str(name)
            if args:
                call._pieces.append(str(args))
            if call_id and call.id is None:
                touched |= self._named(call, str(call_id))
        return touched

    def _end(self, event: dict[str, Any], output: Any) -> set[str]:
        """The model's message: its ``tool_calls`` are the calls' final names, ids and args."""
        run_id = event.get("run_id")
        message = _message_of(output)
        if isinstance(output, dict) and "generations" in output:  # an LLMResult as a dict
            generations = output["generations"]
            first = generations[0] if generations and isinstance(generations[0], list) else []
            message = _message_of(first[0]) if first else None
        final = _get(message, "tool_calls") if message is not None else None
        if not isinstance(run_id, str):
            return set()
        calls = self._by_run.get(run_id)
        if not final and not calls:
            return set()
        calls = self._by_run.setdefault(run_id, [])
        touched = {run_id}
        for position, item in enumerate(final or ()):
            call_id = _get(item, "id")
            call = next((c for c in calls if call_id is not None and c.id == call_id), None)
            if call is None and position < len(calls) and calls[position].id in (None, call_id):
                call = calls[position]
            if call is None:
                call = ToolCall(run_id, len(calls))
                calls.append(call)
            call.name = _get(item, "name") or call.name
            call._final = _get(item, "args")
            if call_id is not None and call.id is None:
                touched |= self._named(call, str(call_id))
        for call in calls:
            call.complete = True
        return touched

    def _named(self, call: ToolCall, call_id: str) -> set[str]:
        call.id = call_id
        self._by_id.setdefault(call_id, call)
        tool_run_id = self._answered.pop(call_id, None)
        return set() if tool_run_id is None else self._link(tool_run_id, call_id)

    def _link(self, tool_run_id: str, call_id: str) -> set[str]:
        call = self._by_id.get(call_id)
        if call is None:  # the answer came first (a filtered or merged trace)
            self._answered[call_id] = tool_run_id
            return {tool_run_id}
        call.tool_run_id = tool_run_id
        self._by_tool_run[tool_run_id] = call
        return {tool_run_id, call.run_id}


def tool_calls(trace: Trace) -> ToolCalls:
    """The tool calls of ``trace``'s model runs, linked to the tool runs that answered them.

    >>> import streamviz as sv
    >>> from streamviz.demo.graphs import tool_agent_graph
    >>> with sv.capture() as trace:
    ...     _ = tool_agent_graph.invoke({"messages": [("user", "weather?")]})
    >>> [(c.name, c.args) for c in sv.tool_calls(trace)]
    [('get_weather', {'city': 'Paris', 'unit': 'celsius'}), ('get_time', {'city': 'Tokyo'})]
    """
    calls = ToolCalls()
    calls.update(trace)
    return calls

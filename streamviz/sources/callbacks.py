"""LangChain callbacks into streamviz events: the :class:`Collector`.

- The Collector is a synchronous ``run_inline`` callback handler: LangChain calls it directly on
  the thread that runs the step (the event loop thread under ``astream``), with no executor hop.
- Chain and parser output chunks (``on_chain_stream``, ``on_parser_stream``) arrive through
  langchain-core's stream taps, handled in :mod:`streamviz.sources._taps`.
- :func:`streamviz.capture` (``sources/capture.py``) installs a Collector for a whole block.
- Every event mirrors what ``astream_events(version="v2")`` would yield for the same callback; in
  addition errors of every run type are recorded (``on_chain_error``...), which ``astream_events``
  only does for tools.
- Nothing here may raise into the observed program: each callback swallows and logs its own errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import GenerationChunk, LLMResult

from streamviz._errors import report_internal_error
from streamviz._lc_private import StreamingCallbackHandler
from streamviz._log import speedups
from streamviz.sources._taps import StreamTaps
from streamviz.trace import Trace

__all__ = ["Collector"]


_STREAM_CLOSED = "the consumer stopped reading the stream before it ended"
_NO_TOKEN_RUN = (None, None, None)  # (run id, its _RunInfo, its chat model writer)
_NO_INPUT: Any = object()  # a run's start without an input (its start event's data is {})
_SPARE_RUNS = 4  # run infos made ahead by Collector._refill (twice as many lists and dicts)


class _RunInfo:
    """What the end and stream callbacks need to know about a run that has started."""

    __slots__ = (
        "at_yield",
        "id",
        "inputs",
        "live",
        "metadata",
        "name",
        "parent_ids",
        "run",
        "run_type",
        "seq",
        "start_input",
        "t",
        "tags",
        "tapped",
        "thread",
        "tool_call_id",
        "write_chunk",
    )

    def __init__(
        self,
        id_: str,
        name: str,
        run_type: str,
        parent_ids: list[str],
        tags: list[str],
        metadata: dict[str, Any],
        start_input: Any,
    ):
        self.id = id_
        self.name = name
        self.run_type = run_type
        self.parent_ids = parent_ids
        self.tags = tags
        self.metadata = metadata
        self.inputs: Any = None
        self.tool_call_id: Any = None
        self.run: Any = None  # the trace's Run, for the per-chunk fast path
        self.write_chunk: Any = None  # records one stream event; made on the run's first chunk
        self.tapped = False  # its output stream is tapped, so token callbacks are not recorded
        self.live = True  # not ended (nor abandoned) yet
        # Its tap has handed a chunk on and the consumer has not asked for the next: an end
        # reported now means the consumer stopped reading (LangChain reports that as an end).
        self.at_yield = False
        # The run's start event is kept in the store as this object (EventStore.append_record):
        # its input (_NO_INPUT: a start without one, `data` is {}), and t, seq and thread, which
        # the store stamps.
        self.start_input = start_input
        self.t: Any = None
        self.seq: Any = None
        self.thread: Any = None

    def as_event(self) -> dict[str, Any]:
        """The run's start event (a new dict each call): the store's reading of this record."""
        start_input = self.start_input
        return {
            "event": f"on_{self.run_type}_start",
            "name": self.name,
            "run_id": self.id,
            "parent_ids": self.parent_ids,
            "tags": self.tags,
            "metadata": self.metadata,
            "data": {} if start_input is _NO_INPUT else {"input": start_input},
            "t": self.t,
            "seq": self.seq,
            "thread": self.thread,
        }

    def fields(self, phase: str) -> dict[str, Any]:
        """The fields of this run's ``phase`` events that do not depend on the event."""
        return {
            "event": f"on_{self.run_type}_{phase}",
            "name": self.name,
            "run_id": self.id,
            "parent_ids": self.parent_ids,
            "tags": self.tags,
            "metadata": self.metadata,
        }

    def event(self, phase: str, data: Any) -> dict[str, Any]:
        event = self.fields(phase)
        event["data"] = data
        return event


def _run_name(name: str | None, serialized: dict[str, Any] | None) -> str:
    # Names come in `name` for chains and retrievers (and with run_name), in `serialized` for
    # models and tools, and `serialized` is often None.
    if name is not None:
        return name
    if serialized:
        if "name" in serialized:
            return str(serialized["name"])
        if serialized.get("id"):
            return str(serialized["id"][-1])
    return "Unnamed"


def _is_unknown_stream_input(inputs: Any) -> bool:
    # Steps that consume an input stream start with the placeholder {"input": ""}; their real
    # input only exists at the end. Compared without `==` on arbitrary objects (arrays...).
    return (
        type(inputs) is dict
        and len(inputs) == 1
        and type(inputs.get("input")) is str
        and inputs["input"] == ""
    )


def _present(value: Any) -> bool:
    """``bool(value)`` that cannot fail on objects with odd truth values (arrays, frames)."""
    try:
        return bool(value)
    except Exception:
        return value is not None


def _model_output(run_type: str, response: LLMResult) -> Any:
    if run_type == "chat_model":
        for generations in response.generations:
            if generations:
                return generations[0].message  # type: ignore[attr-defined]
        return {}
    return {
        "generations": [
            [
                {"text": gen.text, "generation_info": gen.generation_info, "type": gen.type}
                for gen in generations
            ]
            for generations in response.generations
        ],
        "llm_output": response.llm_output,
    }


class Collector(BaseCallbackHandler, StreamTaps, StreamingCallbackHandler[Any]):
    """A LangChain callback handler that records everything a run reports into a :class:`Trace`.

    Attach it like any handler, ``config={"callbacks": [collector]}``, or use :func:`capture`.
    It is safe to share between threads and between concurrent runs, and to use beside
    ``astream_events``: when it is the handler LangChain hands a step's output stream to, it
    passes the stream on to the other streaming handlers of that step.

    Parameters
    ----------
    trace
        The trace to record into; a new one by default.
    name
        Name of the new trace (ignored when ``trace`` is given).

    Examples
    --------
    >>> import streamviz as sv
    >>> collector = sv.Collector()
    >>> for chunk in chain.stream({"topic": "parrot"}, config={"callbacks": [collector]}):
    ...     print(chunk, end="|")  # doctest: +SKIP
    >>> print(collector.trace.format_tree())  # doctest: +SKIP
    """

    run_inline = True
    """Run on the caller's thread: no executor hop per token under ``astream``."""
    raise_error = False

    def __init__(self, trace: Trace | None = None, *, name: str | None = None) -> None:
        super().__init__()
        self.trace = trace if trace is not None else Trace(name)
        self._record = self.trace.store.append
        self._record_start = self.trace.store.append_record
        self._live: dict[UUID, _RunInfo] = {}
        self._tapped: dict[UUID, object] = {}
        # Inputs of roots started by stream()/astream(): their start events carry them.
        self._root_inputs: dict[UUID, Any] = {}
        # Runs closed by `abandon_running` whose own end may still come (then it is recorded).
        self._abandoned: dict[UUID, _RunInfo] = {}
        # The run of the latest token and its info (one tuple, so that threads read a consistent
        # pair): `on_llm_new_token` looks runs up in `_live` only when the run changes.
        self._token_run: tuple[UUID | None, Any, Any] = _NO_TOKEN_RUN
        # Objects made ahead for the next runs' starts (see _refill): run infos, empty lists
        # (parent ids, tags), empty dicts (metadata, a model's input).
        self._spare_infos: list[_RunInfo] = []
        self._spare_lists: list[list[Any]] = []
        self._spare_dicts: list[dict[str, Any]] = []
        if speedups is not None:  # the usual token in C; any other, the method below
            self.on_llm_new_token = speedups.TokenCallback(  # type: ignore[method-assign]
                self,
                self.on_llm_new_token,
                partial(report_internal_error, "Collector.on_llm_new_token"),
            )

    # Config copies must keep pointing at this collector.
    def __copy__(self) -> Collector:
        return self

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Collector:
        return self

    def __repr__(self) -> str:
        return f"<Collector into {self.trace!r}>"

    # ------------------------------------------------------------- life cycle
    def _start(
        self,
        run_type: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        start_input: Any,
    ) -> _RunInfo:
        """Record a run's start (``start_input``: its event's ``data["input"]``, or _NO_INPUT).

        The start event is kept as the run's info itself (see ``_RunInfo.as_event``): the objects
        made per start are few (the info, its parent ids, tags and metadata copies, the run),
        fewer containers for the observed program's garbage collector to count at each start.
        """
        parent_ids = self._new_list() if parent_run_id is None else self._chain_to(parent_run_id)
        if self._root_inputs and run_id in self._root_inputs:
            # As astream_events does: the root's start shows the input as the caller gave it.
            start_input = self._root_inputs.pop(run_id)
        tags_copy = self._new_list()
        if tags:
            tags_copy.extend(tags)
        metadata_copy = self._new_dict()
        if metadata:
            metadata_copy.update(metadata)
        try:
            info = self._spare_infos.pop()
        except IndexError:
            info = _RunInfo.__new__(_RunInfo)
        info.__init__(  # type: ignore[misc]
            str(run_id), name, run_type, parent_ids, tags_copy, metadata_copy, start_input
        )
        info.tapped = run_id in self._tapped
        self._live[run_id] = info
        self._token_run = _NO_TOKEN_RUN  # in case a run id was reused
        info.run = self._record_start(info)
        return info

    def _chain_to(self, run_id: UUID) -> list[str]:
        """``run_id``'s ancestors then itself, outermost first: the parent ids of its children.

        From the open run's info; a run that already ended (a child may start after its parent
        ended, in another thread) is looked up in the trace. Nothing is kept per ended run, so a
        long-lived collector holds only its open runs.
        """
        info = self._live.get(run_id) or self._abandoned.get(run_id)
        if info is not None:
            chain = self._new_list()
            chain.extend(info.parent_ids)
            chain.append(info.id)
            return chain
        key = str(run_id)
        run = self.trace.runs.get(key)
        if run is None:
            return [key]
        chain: list[str] = []
        while run is not None and run.run_id not in chain:
            chain.append(run.run_id)
            run = run.parent
        chain.reverse()
        return chain

    def _new_list(self) -> list[Any]:
        """An empty list: one made ahead by ``_refill`` if any is left, else a new one."""
        try:
            return self._spare_lists.pop()
        except IndexError:
            return []

    def _new_dict(self) -> dict[str, Any]:
        """An empty dict: one made ahead by ``_refill`` if any is left, else a new one."""
        try:
            return self._spare_dicts.pop()
        except IndexError:
            return {}

    def _refill(self) -> None:
        """Make, as a run ends, the objects the next runs' starts take (and the store's).

        A start then makes almost no new object the garbage collector counts: in an agent's
        model call, what was made at the call's start (the runs of the node and the model, their
        infos, parent ids, tags and metadata, the model's writer) decided whether the program's
        young collection came at the call's end, while the call's own objects were alive, and
        so how many of them reached the older generations (see docs/benchmarks.md, "Capture of
        a LangGraph agent"). Made at an end instead, they cost the program no more than a
        handler that keeps nothing. Each kind is kept at a few (the starts of one agent step).
        """
        infos, lists, dicts = self._spare_infos, self._spare_lists, self._spare_dicts
        while len(infos) < _SPARE_RUNS:
            infos.append(_RunInfo.__new__(_RunInfo))
        while len(lists) < 2 * _SPARE_RUNS:
            lists.append([])
        while len(dicts) < 2 * _SPARE_RUNS:
            dicts.append({})
        self.trace.store.refill()

    def _writer(self, info: _RunInfo) -> Any:
        """The function recording ``info``'s stream events, made when its first chunk comes.

        Most runs (prompts, tools, retrievers) never stream: they get none.
        """
        if info.write_chunk is None:
            info.write_chunk = self.trace.store.stream_writer(info.run, info.fields("stream"))
        return info.write_chunk

    def _open(
        self,
        run_type: str,
        inputs: dict[str, Any],
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str | None,
        serialized: dict[str, Any] | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> None:
        """Record the start of a model or retriever run, whose input is known from the start."""
        try:
            info = self._start(
                run_type,
                run_id,
                parent_run_id,
                _run_name(name, serialized),
                tags,
                metadata,
                inputs,
            )
            info.inputs = inputs
        except Exception as error:
            report_internal_error(f"Collector {run_type} start", error)

    def _finish(self, run_id: UUID, phase: str, data: dict[str, Any]) -> None:
        info = self._live.get(run_id) or self._abandoned.get(run_id)
        if info is None:
            raise KeyError(f"run {run_id} ended but its start was never reported")
        if phase == "end" and info.at_yield:
            # LangChain ends a step whose consumer closed its stream early (a `break`, an
            # exception in the consumer's loop) as if it had finished; it was cut off. Recorded
            # as a cancellation, with the output it had made so far.
            phase, data = "error", {"error": GeneratorExit(_STREAM_CLOSED), **data}
        info.live = False
        self._token_run = _NO_TOKEN_RUN
        # Recorded before the run leaves `_live`: a KeyboardInterrupt before the end is stored
        # leaves the run open, and `abandon_running` ends it; none is lost between the two.
        self._record(info.event(phase, data))
        if self._live.pop(run_id, None) is None:
            self._abandoned.pop(run_id, None)
        self._tapped.pop(run_id, None)
        # The store keeps the info (its start event): not the writer (a chunk of an abandoned
        # run, if one still comes, gets a new writer, and reads back the same).
        info.write_chunk = None
        self._refill()

    def _end_data(self, run_id: UUID, key: str, value: Any, inputs: Any) -> dict[str, Any]:
        # Like astream_events: the input given at the end, else the one known from the start.
        if not _present(inputs):
            info = self._live.get(run_id)
            inputs = info.inputs if info is not None else None
        return {key: value, "input": inputs if _present(inputs) else {}}

    # ------------------------------------------------------------------ chains
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_type: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_chain_start`` (or ``on_prompt_start`` / ``on_parser_start``)."""
        try:
            self._go_first()
            known = not _is_unknown_stream_input(inputs)
            info = self._start(
                run_type or "chain",
                run_id,
                parent_run_id,
                _run_name(name, serialized),
                tags,
                metadata,
                inputs if known else _NO_INPUT,
            )
            if known:
                info.inputs = inputs
        except Exception as error:
            report_internal_error("Collector.on_chain_start", error)

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """Record ``on_chain_end`` (or the prompt / parser end)."""
        try:
            self._finish(run_id, "end", self._end_data(run_id, "output", outputs, inputs))
        except Exception as error:
            report_internal_error("Collector.on_chain_end", error)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """Record ``on_chain_error`` (not reported by ``astream_events``)."""
        try:
            self._finish(run_id, "error", self._end_data(run_id, "error", error, inputs))
        except Exception as failure:
            report_internal_error("Collector.on_chain_error", failure)

    # ------------------------------------------------------------------ models
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_chat_model_start``."""
        inputs = self._new_dict()
        inputs["messages"] = messages
        self._open(
            "chat_model",
            inputs,
            run_id,
            parent_run_id,
            name,
            serialized,
            tags,
            metadata,
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_llm_start`` (text-completion models)."""
        self._open(
            "llm", {"prompts": prompts}, run_id, parent_run_id, name, serialized, tags, metadata
        )

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_chat_model_stream`` / ``on_llm_stream`` for one token."""
        try:
            last_id, info, write = self._token_run
            # Looked up in `_live` only when the run changes: hashing a UUID runs Python code.
            if run_id is not last_id or not info.live:
                # An abandoned run's tokens still come when LangChain drains the model after
                # its consumer stopped (a closed stream reads its input to the end): recorded,
                # as the end that follows them is.
                info = self._live.get(run_id) or self._abandoned.get(run_id)
                if info is None:
                    raise KeyError(f"token for run {run_id}, whose start was never reported")
                write = None
                if info.run_type == "chat_model" and not info.tapped:  # the usual token
                    write = info.write_chunk or self._writer(info)
                self._token_run = (run_id, info, write)
            if write is not None and chunk is not None and not info.tapped:  # a chat model's
                write(chunk.message)
                return
            if info.tapped:  # the stream tap already reports this run's chunks
                return
            if info.run_type == "chat_model":
                value = chunk.message if chunk is not None else AIMessageChunk(content=token)
            elif chunk is not None:
                value = chunk
            else:
                value = GenerationChunk(text=token if isinstance(token, str) else "")
            (info.write_chunk or self._writer(info))(value)
        except Exception as error:
            report_internal_error("Collector.on_llm_new_token", error)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_chat_model_end`` / ``on_llm_end``."""
        try:
            info = self._live.get(run_id)
            output = _model_output(info.run_type, response) if info is not None else response
            inputs = info.inputs if info is not None else None
            self._finish(run_id, "end", {"output": output, "input": inputs})
        except Exception as error:
            report_internal_error("Collector.on_llm_end", error)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_chat_model_error`` / ``on_llm_error``."""
        try:
            self._finish(run_id, "error", self._end_data(run_id, "error", error, None))
        except Exception as failure:
            report_internal_error("Collector.on_llm_error", failure)

    # ------------------------------------------------------------------- tools
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_tool_start``."""
        try:
            info = self._start(
                "tool",
                run_id,
                parent_run_id,
                _run_name(name, serialized),
                tags,
                metadata,
                inputs or {},
            )
            info.inputs = inputs
            info.tool_call_id = kwargs.get("tool_call_id")
        except Exception as error:
            report_internal_error("Collector.on_tool_start", error)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_tool_end``."""
        try:
            info = self._live.get(run_id)
            inputs = info.inputs if info is not None else None
            self._finish(run_id, "end", {"output": output, "input": inputs})
        except Exception as error:
            report_internal_error("Collector.on_tool_end", error)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_tool_error``, with the tool call id as ``astream_events`` does."""
        try:
            info = self._live.get(run_id)
            tool_call_id = kwargs.get("tool_call_id")
            if tool_call_id is None and info is not None:
                tool_call_id = info.tool_call_id
            data = {
                "error": error,
                "input": info.inputs if info is not None else None,
                "tool_call_id": tool_call_id,
            }
            self._finish(run_id, "error", data)
        except Exception as failure:
            report_internal_error("Collector.on_tool_error", failure)

    # -------------------------------------------------------------- retrievers
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_retriever_start``."""
        self._open(
            "retriever", {"query": query}, run_id, parent_run_id, name, serialized, tags, metadata
        )

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_retriever_end``."""
        try:
            info = self._live.get(run_id)
            inputs = info.inputs if info is not None else None
            self._finish(run_id, "end", {"output": documents, "input": inputs})
        except Exception as error:
            report_internal_error("Collector.on_retriever_end", error)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record ``on_retriever_error``."""
        try:
            self._finish(run_id, "error", self._end_data(run_id, "error", error, None))
        except Exception as failure:
            report_internal_error("Collector.on_retriever_error", failure)

    # ---------------------------------------------------------- custom events
    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Record ``on_custom_event`` (``run_id`` is the run that dispatched it)."""
        try:
            self._record(
                {
                    "event": "on_custom_event",
                    "name": name,
                    "run_id": str(run_id),
                    "parent_ids": self._chain_to(run_id)[:-1],
                    "tags": list(tags) if tags else [],
                    "metadata": dict(metadata) if metadata else {},
                    "data": data,
                }
            )
        except Exception as error:
            report_internal_error("Collector.on_custom_event", error)

    # ----------------------------------------------------------- abandonment
    def abandon_running(self, error: BaseException) -> None:
        """Record an error event for every run still open, innermost first.

        Used when the observed program was interrupted in a way that skipped its own error
        callbacks (for example a ``KeyboardInterrupt`` between two steps), so that no run stays
        ``running`` forever. A cancellation error marks the runs ``cancelled``.
        """
        try:
            self.trace.store.settle()  # an event the interrupt left stored but not yet applied
            for run_id in sorted(self._live, key=lambda r: -len(self._live[r].parent_ids)):
                info = self._live[run_id]
                run = info.run or self.trace.store.tree.runs.get(info.id)
                if run is None or run.end is not None:
                    # its start was never stored, or its end was and the interrupt came before
                    # it left `_live`: nothing to close
                    del self._live[run_id]
                    continue
                self._finish(run_id, "error", self._end_data(run_id, "error", error, None))
                self._abandoned[run_id] = info
        except Exception as failure:
            report_internal_error("Collector.abandon_running", failure)

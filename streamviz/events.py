"""The streamviz event: one record per thing that happened, shaped like ``astream_events`` v2.

- Every source (LangChain callbacks, ``astream_events`` iterators, LangGraph stream parts, LangGraph
  server runs) produces these dicts; the :class:`~streamviz.Trace` appends them to its log and
  derives its run tree from them.
- The keys LangChain users know (``event``, ``name``, ``run_id``, ``parent_ids``, ``tags``,
  ``metadata``, ``data``) mean exactly what they mean in ``Runnable.astream_events(version="v2")``.
- streamviz adds ``t`` (seconds since the trace began, monotonic clock), ``seq`` (arrival order),
  ``thread`` (the thread that reported it) and, for LangGraph stream parts, ``mode`` and ``ns``.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from typing_extensions import NotRequired

__all__ = [
    "CUSTOM_EVENT",
    "PHASES",
    "RUN_TYPES",
    "TIME_UNIT",
    "Event",
    "SerializedError",
    "is_cancellation",
    "is_event_dict",
    "split_event",
    "stream_text",
    "with_stream_text",
]

TIME_UNIT = "s"
"""Unit of :attr:`Event.t`: seconds, from :func:`time.perf_counter`, since the trace began."""

RUN_TYPES = ("chain", "chat_model", "llm", "tool", "retriever", "prompt", "parser")
"""Run types LangChain reports; LangGraph nodes and graphs are ``chain`` runs."""

PHASES = ("start", "stream", "end", "error")
"""The life-cycle phases of a run, the suffix of an event name (``on_<run_type>_<phase>``)."""

CUSTOM_EVENT = "on_custom_event"
"""Event name of data dispatched with ``dispatch_custom_event`` (not a run of its own)."""


class Event(TypedDict):
    """One captured event."""

    event: str
    """What happened: ``on_<run_type>_<phase>`` (e.g. ``on_chat_model_stream``) or
    ``on_custom_event``."""

    name: str
    """Name of the runnable (``run_name`` when set) or of the custom event."""

    run_id: str
    """Id of the run the event belongs to (for custom events: the run that dispatched it)."""

    parent_ids: list[str]
    """Ids of the run's ancestors, root first, immediate parent last; ``[]`` for a root."""

    tags: list[str]
    """Tags of the run, including the ones inherited from its ancestors."""

    metadata: dict[str, Any]
    """Metadata of the run, inherited metadata included (LangGraph puts ``langgraph_node`` here)."""

    data: Any
    """``{"input": ...}`` on start, ``{"chunk": ...}`` on stream, ``{"output": ..., "input": ...}``
    on end, ``{"error": ..., "input": ...}`` on error; the dispatched payload for custom events."""

    t: float
    """Seconds since the trace began (monotonic), at arrival."""

    seq: int
    """Arrival order within the trace, from 0."""

    thread: NotRequired[int]
    """Identifier of the thread that reported the event (``threading.get_ident()``)."""

    mode: NotRequired[str]
    """LangGraph stream mode of a graph stream part (``values``, ``updates``, ``messages``...)."""

    ns: NotRequired[list[str]]
    """LangGraph namespace of a graph stream part (``[]`` for the root graph)."""


_SPLIT: dict[str, tuple[str, str]] = {
    f"on_{run_type}_{phase}": (run_type, phase) for run_type in RUN_TYPES for phase in PHASES
}


def split_event(event_name: str) -> tuple[str, str] | None:
    """Split ``on_<run_type>_<phase>`` into ``(run_type, phase)``.

    Parameters
    ----------
    event_name
        The ``event`` field, e.g. ``"on_chat_model_stream"``.

    Returns
    -------
    tuple of str or None
        ``("chat_model", "stream")``; ``None`` for events that are not part of a run's life cycle
        (custom events, LangGraph stream parts).
    """
    found = _SPLIT.get(event_name)
    if found is not None or not event_name.startswith("on_"):
        return found
    # Unknown run types still follow the naming scheme; keep them rather than drop them.
    head, _, phase = event_name[3:].rpartition("_")
    if head and phase in PHASES:
        return head, phase
    return None


class SerializedError(Exception):
    """An error as recorded rather than raised here: its original type name, module and message.

    What a trace file gives back for an exception, and what a LangGraph server's error part
    becomes. ``str(err)`` is the original message; ``err.type`` is the original class name.
    """

    def __init__(self, type: str, module: str, message: str, repr: str | None = None):
        super().__init__(message)
        self.type = type
        self.module = module
        self.message = message
        self.repr = repr

    def __repr__(self) -> str:
        return f"SerializedError({self.type}: {self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.type, self.module, self.message, self.repr))


_CANCELLATION_TYPES = frozenset({"CancelledError", "KeyboardInterrupt", "GeneratorExit"})


def is_cancellation(error: Any) -> bool:
    """Tell whether an error means the run was cancelled rather than failed.

    Works on live exceptions and on the decoded errors of a loaded trace file (anything with a
    ``type`` attribute naming the exception class).
    """
    if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit)):
        return True
    if isinstance(error, BaseException) and not isinstance(error, SerializedError):
        return False  # a live exception (some have an unrelated `type` attribute)
    kind = getattr(error, "type", None)
    return isinstance(kind, str) and kind in _CANCELLATION_TYPES


def is_event_dict(value: Any) -> bool:
    """Whether ``value`` is an event as ``astream_events`` gives it (``event`` and ``run_id``).

    A LangGraph server's ``events`` stream mode sends these, for instance.
    """
    return (
        isinstance(value, dict)
        and isinstance(value.get("event"), str)
        and value.get("run_id") is not None
    )


def stream_text(chunk: Any) -> str | None:
    """The text of a stream chunk that is only text, else ``None``.

    A string, a message chunk (object or dict) whose ``content`` is a string, or a LangGraph
    ``messages`` part ``(message, metadata)`` holding one.
    """
    if isinstance(chunk, (tuple, list)) and len(chunk) == 2:
        chunk = chunk[0]
    if isinstance(chunk, str):
        return str.__str__(chunk)
    content = chunk.get("content") if isinstance(chunk, dict) else getattr(chunk, "content", None)
    return content if type(content) is str else None


def with_stream_text(chunk: Any, text: str) -> Any:
    """A copy of ``chunk`` (one :func:`stream_text` reads) holding ``text`` instead."""
    if isinstance(chunk, (tuple, list)) and len(chunk) == 2:
        pair = (with_stream_text(chunk[0], text), chunk[1])
        return pair if isinstance(chunk, tuple) else list(pair)
    if isinstance(chunk, str):
        return text if type(chunk) is str else type(chunk)(text)
    if isinstance(chunk, dict):
        return {**chunk, "content": text}
    return chunk.model_copy(update={"content": text})

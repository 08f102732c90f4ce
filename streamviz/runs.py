"""The run tree: what ran inside what, when, for how long, and how it streamed.

- :class:`RunTree` is derived from events alone (``apply`` one event at a time), so a live trace,
  a trace rebuilt from ``astream_events`` and a trace loaded from a file give the same tree.
- It keeps a run after it ends: a parent may end before its child, and a child whose parent is
  unknown becomes a root flagged ``orphan`` (adopted again if the parent shows up later).
- Pure Python; it never imports widget code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamviz.events import CUSTOM_EVENT, Event, SerializedError, is_cancellation, split_event

__all__ = ["STATUSES", "Run", "RunTree"]

STATUSES = ("running", "ok", "error", "cancelled")
"""Possible values of :attr:`Run.status`."""

_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


@dataclass(eq=False, repr=False, slots=True)
class Run:
    """One run of a runnable (a chain step, a model call, a tool call, a retriever...).

    Times are seconds since the trace began, like :attr:`streamviz.events.Event.t`.
    """

    run_id: str
    """The run's id (a string, as in ``astream_events``)."""
    name: str
    """Name of the runnable, or its ``run_name``."""
    run_type: str
    """``chain``, ``chat_model``, ``llm``, ``tool``, ``retriever``, ``prompt`` or ``parser``."""
    parent_id: str | None = None
    """Id of the parent run, ``None`` for a root."""
    tags: list[str] = field(default_factory=list)
    """Tags, including inherited ones."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Metadata, including inherited metadata."""
    start: float | None = None
    """Time of the start event (``None`` if the start was never seen)."""
    end: float | None = None
    """Time of the end or error event, ``None`` while running."""
    status: str = "running"
    """One of :data:`STATUSES`."""
    error: str | None = None
    """``"ExceptionType: message"`` for runs that failed or were cancelled."""
    input: Any = _MISSING
    """The run's input, once known (streaming steps only know it at the end)."""
    output: Any = None
    """The run's output (``None`` until it ends)."""
    first_chunk: float | None = None
    """Time of the first streamed chunk (token) of the run."""
    last_chunk: float | None = None
    """Time of the latest streamed chunk."""
    chunk_count: int = 0
    """Number of streamed chunks."""
    orphan: bool = False
    """True when the run names a parent the trace has never seen (it is shown as a root)."""
    parent: Run | None = None
    """The parent run object, when known."""
    children: list[Run] = field(default_factory=list)
    """Child runs in start order."""

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` while running or if the start was not seen)."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def time_to_first_chunk(self) -> float | None:
        """Seconds from start to the first streamed chunk (time to first token for models)."""
        if self.start is None or self.first_chunk is None:
            return None
        return self.first_chunk - self.start

    @property
    def has_input(self) -> bool:
        """Whether the run's input is known."""
        return self.input is not _MISSING

    @property
    def depth(self) -> int:
        """Nesting depth below the root (0 for a root)."""
        depth, run = 0, self.parent
        while run is not None:
            depth, run = depth + 1, run.parent
        return depth

    @property
    def path(self) -> list[str]:
        """Names from the root down to this run."""
        names, run = [], self
        while run is not None:
            names.append(run.name)
            run = run.parent
        return names[::-1]

    def walk(self):
        """Yield this run and all its descendants, depth first, in start order."""
        stack = [self]
        while stack:
            run = stack.pop()
            yield run
            stack.extend(reversed(run.children))

    def __repr__(self) -> str:
        took = "" if self.duration is None else f", {self.duration * 1000:.1f} ms"
        return f"<Run {self.run_type} {self.name!r} {self.status}{took}, {self.chunk_count} chunks>"


def _error_text(error: Any) -> str:
    # Errors of a loaded trace carry the original exception's name in `type`.
    if isinstance(error, SerializedError):
        kind = error.type
    elif isinstance(error, BaseException):
        kind = type(error).__name__
    else:
        kind = getattr(error, "type", None)
    message = str(error) if isinstance(error, BaseException) else getattr(error, "message", None)
    if kind is None:
        return str(error)
    return f"{kind}: {message}" if message else kind


class RunTree:
    """Index of runs, built incrementally from events.

    Not thread-safe by itself: :class:`streamviz.Trace` serialises calls to :meth:`apply`.
    """

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        """Runs by id, in the order they were first seen."""
        self.roots: list[Run] = []
        """Runs without a known parent, in the order they were first seen."""
        self._waiting: dict[str, list[Run]] = {}  # unknown parent id -> its orphans

    def apply(self, event: Event) -> Run | None:
        """Update the tree with one event and return the run it touched (``None`` if none)."""
        kind = event["event"]
        split = split_event(kind) if kind != CUSTOM_EVENT else None
        if split is None:
            return None
        run_type, phase = split
        run = self.runs.get(event["run_id"])
        if run is None:
            run = self._add(event, run_type)
        data = event["data"] if isinstance(event["data"], dict) else {}
        t = event["t"]
        if phase == "stream":
            if run.first_chunk is None:
                run.first_chunk = t
            run.last_chunk = t
            run.chunk_count += 1
        elif phase == "start":
            run.start = t
            if "input" in data:
                run.input = data["input"]
        elif phase == "end":
            run.end, run.status, run.error = t, "ok", None
            run.output = data.get("output")
            if "input" in data and data["input"] is not None:
                run.input = data["input"]
        else:  # error
            error = data.get("error")
            run.end = t
            run.status = "cancelled" if is_cancellation(error) else "error"
            run.error = _error_text(error)
            if run.parent is None:
                self._abandon_descendants(run, t)
        return run

    def _add(self, event: Event, run_type: str) -> Run:
        parent_ids = event["parent_ids"]
        parent_id = parent_ids[-1] if parent_ids else None
        run = Run(
            run_id=event["run_id"],
            name=event["name"],
            run_type=run_type,
            parent_id=parent_id,
            tags=event["tags"],
            metadata=event["metadata"],
        )
        self.runs[run.run_id] = run
        parent = self.runs.get(parent_id) if parent_id is not None else None
        if parent is not None:
            run.parent = parent
            parent.children.append(run)
        else:
            run.orphan = parent_id is not None
            self.roots.append(run)
            if run.orphan:
                self._waiting.setdefault(parent_id, []).append(run)
        for child in self._waiting.pop(run.run_id, ()):
            # The parent arrived after its child (filtered or merged traces): adopt it.
            child.orphan, child.parent = False, run
            run.children.append(child)
            self.roots.remove(child)
        return run

    def _abandon_descendants(self, root: Run, t: float) -> None:
        # A root that failed or was cancelled takes its still-running descendants with it: they
        # will report nothing more. A late end event still sets them back to "ok".
        for run in root.walk():
            if run is not root and run.status == "running":
                run.end, run.status = t, "cancelled"
                run.error = f"abandoned: {root.name} ended with {root.error}"

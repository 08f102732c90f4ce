"""The run tree: what ran inside what, when, for how long, and how it streamed.

- :class:`RunTree` is derived from events alone (``apply`` one event at a time), so a live trace,
  a trace rebuilt from ``astream_events`` and a trace loaded from a file give the same tree.
- It keeps a run after it ends: a parent may end before its child, and a child whose parent is
  unknown becomes a root flagged ``orphan`` (adopted again if the parent shows up later).
- A LangGraph pause is not a failure: a run stopped by ``interrupt()`` (its node raises
  ``GraphInterrupt``) or paused by ``interrupt_before/after`` (an ``__interrupt__`` stream part)
  ends ``interrupted``, with the interrupts' values (the questions) in :attr:`Run.interrupts`;
  the run that resumes it (``Command(resume=...)`` on the same thread) names it in
  :attr:`Run.resumes` (:func:`link_resumes` does it across traces).
- Pure Python; it never imports widget code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamviz.events import CUSTOM_EVENT, Event, SerializedError, is_cancellation, split_event

__all__ = ["STATUSES", "Run", "RunTree", "link_resumes", "path_texts", "run_depths"]

STATUSES = ("running", "ok", "error", "cancelled", "interrupted")
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
    cycle: bool = False
    """True when the run names itself, or a run below it, as its parent (a corrupt or
    hand-made file): that link is not made, so the tree stays a tree, and the run is shown as a
    root. :attr:`parent_id` keeps the id the events named."""
    parent: Run | None = None
    """The parent run object, when known."""
    children: list[Run] = field(default_factory=list)
    """Child runs in start order."""
    interrupts: list[Any] = field(default_factory=list)
    """What a LangGraph ``interrupt()`` in or below this run asked (each interrupt's value)."""
    paused: bool = False
    """An interrupt was seen in or below this run: it ends ``interrupted``, not ``ok``."""
    resume: Any = _MISSING
    """The ``Command(resume=...)`` value this run was started with (see :attr:`is_resume`)."""
    resumes: str | None = None
    """Id of the paused run this one resumes (same thread, an earlier ``interrupted`` root)."""
    # Ids of the interrupts in `interrupts`: a set of its own once a run has one (most never do).
    _interrupt_ids: set[str] | frozenset[str] = frozenset()

    @property
    def is_resume(self) -> bool:
        """Whether this run was started with ``Command(resume=...)``."""
        return self.resume is not _MISSING

    @property
    def thread_id(self) -> str | None:
        """The LangGraph thread the run ran on (``configurable.thread_id``, a server thread)."""
        thread = self.metadata.get("thread_id") if isinstance(self.metadata, dict) else None
        return None if thread is None else str(thread)

    @property
    def is_send(self) -> bool:
        """Whether this run is a LangGraph node run started by a ``Send`` (or a pushed task).

        Its :attr:`input` is then the ``Send``'s argument, which tells parallel branches apart.
        """
        metadata = self.metadata if isinstance(self.metadata, dict) else {}
        path, namespace = metadata.get("langgraph_path"), metadata.get("langgraph_checkpoint_ns")
        if not path or path[0] != "__pregel_push" or metadata.get("langgraph_node") != self.name:
            return False
        above = self.parent.metadata if self.parent is not None else {}
        return not isinstance(above, dict) or above.get("langgraph_checkpoint_ns") != namespace

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


_INTERRUPT_TYPES = frozenset({"GraphInterrupt", "NodeInterrupt"})
_INTERRUPT_KEY = "__interrupt__"
# Graph stream parts that can hold __interrupt__ (streamviz.sources.graph's pause_event included).
_PAUSE_PARTS = frozenset({"on_graph_updates", "on_graph_values", "on_graph_state"})
_INTERRUPT_ID = re.compile(r"\bid='([^']+)'")


def _is_interrupt(error: Any) -> bool:
    """Whether an error is LangGraph's pause (``GraphInterrupt``), live or from a file."""
    if isinstance(error, BaseException) and not isinstance(error, SerializedError):
        return any(cls.__name__ in _INTERRUPT_TYPES for cls in type(error).__mro__)
    return getattr(error, "type", None) in _INTERRUPT_TYPES


def _interrupt(item: Any) -> tuple[str | None, Any]:
    """``(id, value)`` of one interrupt: a live ``Interrupt``, a server's dict, a file's record."""
    if isinstance(item, dict):
        fields = item.get("fields") if "__sv__" in item else item
        if isinstance(fields, dict) and "value" in fields:
            found = fields.get("id")
            return (None if found is None else str(found)), fields["value"]
        return None, item
    if hasattr(item, "value"):
        found = getattr(item, "id", None)
        return (None if found is None else str(found)), item.value
    return None, item


def _interrupts_of_error(error: Any) -> tuple[list[tuple[str | None, Any]], list[str]]:
    """The interrupts a ``GraphInterrupt`` carries; from a file only their ids are known."""
    args = getattr(error, "args", ())
    if isinstance(error, BaseException) and not isinstance(error, SerializedError) and args:
        items = args[0] if isinstance(args[0], (list, tuple)) else args
        return [_interrupt(item) for item in items], []
    return [], _INTERRUPT_ID.findall(str(getattr(error, "message", "") or ""))


def _interrupts_of_part(event: Event) -> list[tuple[str | None, Any]] | None:
    """The interrupts of a graph stream part holding ``__interrupt__`` (else ``None``)."""
    data = event.get("data")
    chunk = data.get("chunk") if isinstance(data, dict) else None
    if not isinstance(chunk, dict) or "__interrupt__" not in chunk:
        return None
    items = chunk["__interrupt__"]
    return [_interrupt(item) for item in items] if isinstance(items, (list, tuple)) else []


def _resume_of(value: Any) -> Any:
    """The resume value of a run's input: ``Command(resume=...)``, live, from a file or a server."""
    if isinstance(value, dict):
        if "__sv__" in value and str(value.get("type", "")).endswith(".Command"):
            fields = value.get("fields")
            if isinstance(fields, dict) and fields.get("resume") is not None:
                return fields["resume"]
        command = value.get("command") if len(value) == 1 else None
        if isinstance(command, dict) and command.get("resume") is not None:
            return command["resume"]  # a server run's input (streamviz.sources.remote)
        return _MISSING
    if type(value).__name__ == "Command" and getattr(value, "resume", None) is not None:
        return value.resume
    return _MISSING


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
        self._by_interrupt: dict[str, list[Run]] = {}  # interrupt id -> runs missing its value
        self._spare: list[Run] = []  # runs made ahead by refill, taken by the next starts

    def refill(self, count: int = 4) -> None:
        """Make up to ``count`` runs now for the runs that start next to take.

        A live source calls it at a quiet moment (the collector: when a run ends), so that a
        run's start makes no new objects: the run and its two lists were made here, and the
        garbage collector of the observed program counted them then (see docs/benchmarks.md,
        "Capture of a LangGraph agent": what is made at a model call's start decides how often
        it collects). A spare run is a run as ``Run(...)`` makes it; the start sets its id,
        name, type, parent id, tags and metadata.
        """
        spare = self._spare
        while len(spare) < count:
            spare.append(Run("", "", ""))

    def apply(self, event: Event) -> Run | None:
        """Update the tree with one event and return the run it touched (``None`` if none)."""
        kind = event["event"]
        split = split_event(kind) if kind != CUSTOM_EVENT else None
        if split is None:
            if kind in _PAUSE_PARTS:  # the parts that may say the graph paused
                data = event["data"]
                chunk = data.get("chunk") if type(data) is dict else None
                if type(chunk) is dict and _INTERRUPT_KEY in chunk:
                    self._graph_part(event)
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
                if run.parent is None and not run.orphan:
                    self._note_resume(run)
        elif phase == "end":
            run.end, run.status, run.error = t, "interrupted" if run.paused else "ok", None
            run.output = data.get("output")
            if "input" in data and data["input"] is not None:
                run.input = data["input"]
        else:  # error
            error = data.get("error")
            run.end = t
            if _is_interrupt(error):  # a pause (interrupt()), not a failure
                run.status, run.error = "interrupted", None
                found, ids = _interrupts_of_error(error)
                self._pause(run, found)
                for interrupt_id in ids:  # from a file: the values come with the part
                    self._by_interrupt.setdefault(interrupt_id, []).append(run)
                return run
            run.status = "cancelled" if is_cancellation(error) else "error"
            run.error = _error_text(error)
            if run.parent is None:
                self._abandon_descendants(run, t)
        return run

    def _graph_part(self, event: Event) -> None:
        """A graph stream part: an ``__interrupt__`` in it pauses its (root) run."""
        found = _interrupts_of_part(event)
        run = self.runs.get(event["run_id"]) if found is not None else None
        if run is None or found is None:
            return
        for interrupt_id, value in found:
            for waiting in self._by_interrupt.pop(interrupt_id or "", ()):
                self._pause(waiting, [(interrupt_id, value)])
        self._pause(run, found)
        if run.status == "ok":  # the server's own end came first
            run.status = "interrupted"

    def _pause(self, run: Run, found: Sequence[tuple[str | None, Any]]) -> None:
        """Mark ``run`` and its ancestors paused, each keeping the interrupts' values once."""
        node: Run | None = run
        while node is not None:
            node.paused = True
            for interrupt_id, value in found:
                if interrupt_id is None or interrupt_id not in node._interrupt_ids:
                    if interrupt_id is not None:
                        if type(node._interrupt_ids) is frozenset:
                            node._interrupt_ids = set()
                        node._interrupt_ids.add(interrupt_id)  # type: ignore[union-attr]
                    node.interrupts.append(value)
            node = node.parent

    def _note_resume(self, run: Run) -> None:
        """A root started with ``Command(resume=...)``: link it to its thread's paused run."""
        run.resume = _resume_of(run.input)
        if run.is_resume and run.thread_id is not None:
            run.resumes = _paused_on(run, self.roots)

    def _add(self, event: Event, run_type: str) -> Run:
        parent_ids = event["parent_ids"]
        parent_id = parent_ids[-1] if parent_ids else None
        try:
            run = self._spare.pop()  # made earlier by refill, never used: Run's defaults
        except IndexError:
            run = Run(
                run_id=event["run_id"],
                name=event["name"],
                run_type=run_type,
                parent_id=parent_id,
                tags=event["tags"],
                metadata=event["metadata"],
            )
        else:
            run.run_id, run.name, run.run_type = event["run_id"], event["name"], run_type
            run.parent_id, run.tags, run.metadata = parent_id, event["tags"], event["metadata"]
        self.runs[run.run_id] = run
        parent = self.runs.get(parent_id) if parent_id is not None else None
        if parent is run:  # names itself as its parent: a loop of one, never linked
            run.cycle = True
            self.roots.append(run)
        elif parent is not None:
            run.parent = parent
            parent.children.append(run)
        else:
            run.orphan = parent_id is not None
            self.roots.append(run)
            if run.orphan:
                self._waiting.setdefault(parent_id, []).append(run)
        waiting = self._waiting.pop(run.run_id, None)
        if waiting:
            self._adopt(run, waiting)
        return run

    def _adopt(self, run: Run, children: list[Run]) -> None:
        """The parent arrived after its children (filtered or merged traces): adopt them.

        A child that is ``run`` itself or one of its ancestors (the events name each other as
        parents) is not adopted: it stays a root flagged :attr:`Run.cycle`, so every walk up
        the tree ends. One walk up from ``run`` per call, whatever the number of children.
        """
        above: set[int] = set()
        node: Run | None = run
        while node is not None:
            above.add(id(node))
            node = node.parent
        for child in children:
            child.orphan = False
            if id(child) in above:
                child.cycle = True
                continue
            child.parent = run
            run.children.append(child)
            self.roots.remove(child)

    def _abandon_descendants(self, root: Run, t: float) -> None:
        # A root that failed or was cancelled takes its still-running descendants with it: they
        # will report nothing more. A late end event still sets them back to "ok".
        for run in root.walk():
            if run is not root and run.status == "running":
                run.end, run.status = t, "cancelled"
                run.error = f"abandoned: {root.name} ended with {root.error}"


def run_depths(runs: Iterable[Run]) -> list[int]:
    """:attr:`Run.depth` of each run, in O(runs) for the lot (each ancestor walked once)."""
    known: dict[int, int] = {}
    out = []
    for run in runs:
        chain, node = [], run
        while node is not None and id(node) not in known:
            chain.append(node)
            node = node.parent
        depth = -1 if node is None else known[id(node)]
        for above in reversed(chain):
            depth += 1
            known[id(above)] = depth
        out.append(known[id(run)])
    return out


_PATH_ENDS = 32  # a path deeper than twice this many names keeps this many at each end


def path_texts(runs: Iterable[Run], sep: str = " / ") -> dict[str, str]:
    """``sep``-joined :attr:`Run.path` of each run by id, in O(runs) for the lot.

    A path of more than 64 names (a chain of runs thousands deep, from a file) keeps its first
    and last 32 with ``… (N more) …`` between, so the texts grow with the number of runs, not
    with its square.
    """
    ends: dict[int, tuple[tuple[str, ...], tuple[str, ...], int]] = {}
    out: dict[str, str] = {}
    limit = 2 * _PATH_ENDS
    for run in runs:
        chain, node = [], run
        while node is not None and id(node) not in ends:
            chain.append(node)
            node = node.parent
        head, tail, count = ((), (), 0) if node is None else ends[id(node)]
        for above in reversed(chain):
            count += 1
            if count <= limit:
                head = (*head, above.name)
                if count == limit:
                    head, tail = head[:_PATH_ENDS], head[_PATH_ENDS:]
            else:
                tail = (*tail[1:], above.name)
            ends[id(above)] = (head, tail, count)
        head, tail, count = ends[id(run)]
        if count <= limit:
            names = [*head, *tail]
        else:
            names = [*head, f"… ({count - limit:,} more) …", *tail]
        out[run.run_id] = sep.join(names)
    return out


def _paused_on(run: Run, candidates: Iterable[Run]) -> str | None:
    """Id of the latest ``interrupted`` run before ``run`` among ``candidates``, same thread."""
    found = None
    for candidate in candidates:
        if candidate is run:
            break
        if candidate.status == "interrupted" and candidate.thread_id == run.thread_id:
            found = candidate.run_id
    return found


def link_resumes(traces: Iterable[Any]) -> list[tuple[Run, Run]]:
    """Link each resumed run to the paused run it resumes, across ``traces`` (in run order).

    A run started with ``Command(resume=...)`` resumes the latest run of the same thread that
    ended ``interrupted`` before it: in the same trace, :class:`RunTree` links them as the
    events come; across traces (one watch per turn) pass the traces in the order they ran
    (``sv.link_resumes([paused, resumed])``). Sets :attr:`Run.resumes` where it was unknown and
    returns the ``(resumed, paused)`` pairs found.
    """
    roots = [root for trace in traces for root in trace.roots]
    by_id = {root.run_id: root for root in roots}
    pairs: list[tuple[Run, Run]] = []
    for index, root in enumerate(roots):
        if not root.is_resume or root.thread_id is None:
            continue
        if root.resumes is None:
            root.resumes = _paused_on(root, roots[:index])
        if root.resumes is not None and root.resumes in by_id:
            pairs.append((root, by_id[root.resumes]))
    return pairs

"""The Trace: an append-only event log plus the run tree derived from it.

- Sources (the callback :class:`~streamviz.Collector`, ``from_astream_events``, later LangGraph
  sources) call ``Trace._record`` from any thread; one lock orders appends, so ``seq`` and ``t``
  grow together and every subscriber sees events in ``seq`` order.
- Subscribers (widgets) are told about each event; they never own the data and their failures are
  logged, never raised into the observed program.
- Filtering returns a read-only view that shares the run objects of the full trace.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from streamviz._compact import ChunkColumns
from streamviz._errors import report_internal_error
from streamviz.events import TIME_UNIT, Event, split_event
from streamviz.filters import EventFilter
from streamviz.runs import Run, RunTree

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from streamviz.analysis import StreamHold

__all__ = ["Subscriber", "Trace"]

Subscriber = Callable[[Event], None]
"""Called with each new event, in ``seq`` order, from the thread that reported it."""


class Trace:
    """Everything captured from one or more runs: ``events`` and the ``runs`` tree.

    Parameters
    ----------
    name
        A label shown in widgets and stored in saved files.

    Examples
    --------
    >>> import streamviz as sv
    >>> with sv.capture() as trace:  # doctest: +SKIP
    ...     chain.invoke({"topic": "parrot"})
    >>> trace.runs_df()  # doctest: +SKIP
    """

    time_unit = TIME_UNIT

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.created = datetime.now(timezone.utc)
        # The clock origin (perf_counter): set when the observed run is called (start_clock) or,
        # for a capture, at the first event; until then the trace's time stands at 0.
        self._t0: float | None = None
        # The log holds event dicts, or, for stream chunks recorded on the hot path, the int row
        # of the event in `_chunks` (see streamviz._compact); a row becomes its dict when read.
        self._log: list[Event | int] = []
        self._chunks = ChunkColumns()
        self._templates: list[dict[str, Any]] = []
        self._tree = RunTree()
        self._lock = threading.RLock()
        self._subscribers: list[Subscriber] = []
        self._read_only = False
        self._slow = False  # subscribers or read-only: stream chunks take the full path
        self.result: Any = None
        """What the run returned, for traces made by :func:`streamviz.watch`."""

    # ----------------------------------------------------------------- reading
    @property
    def events(self) -> EventLog:
        """All events in arrival order: a read-only sequence of dicts, growing as events come."""
        return EventLog(self._log, self._chunks, self._templates)

    @property
    def runs(self) -> dict[str, Run]:
        """Runs by id, in the order they were first seen."""
        return self._tree.runs

    @property
    def roots(self) -> list[Run]:
        """Top-level runs (and runs whose parent is unknown, flagged ``orphan``)."""
        return self._tree.roots

    @property
    def duration(self) -> float:
        """Seconds from the trace's start to its last event."""
        return self.events[-1]["t"] if self._log else 0.0

    def __len__(self) -> int:
        return len(self._log)

    def clock(self) -> float:
        """The trace's time now, in seconds since it began (what the next event's ``t`` would be).

        0 until the trace starts (see :meth:`start_clock`). A replayed trace runs on the replay's
        clock instead.
        """
        t0 = self._t0
        return 0.0 if t0 is None else time.perf_counter() - t0

    def start_clock(self) -> None:
        """Make now the trace's time 0, if nothing was recorded yet (else a no-op).

        :func:`streamviz.watch` calls it just before it calls the runnable, so times (first
        token...) count from the request, not from when the dashboard was built. A trace that
        nobody starts starts at its first event.
        """
        with self._lock:
            if self._t0 is None and not self._log:
                self._origin()

    def _origin(self, now: float | None = None) -> float:
        """The clock origin, set to ``now`` if it was not set yet (call with the lock held)."""
        if self._t0 is None:
            self._t0 = time.perf_counter() if now is None else now
            self.created = datetime.now(timezone.utc)
        return self._t0

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        running = sum(run.status == "running" for run in self.runs.values())
        live = f", {running} running" if running else ""
        return f"<Trace{label}: {len(self._log)} events, {len(self.runs)} runs{live}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """The trace's dashboard, when it is a Jupyter cell's value (IPython's display protocol)."""
        from streamviz._display import trace_mimebundle

        return trace_mimebundle(self)

    def _display_(self) -> Any:
        """The trace's dashboard, when it is a marimo cell's value (marimo's display protocol)."""
        from streamviz._display import trace_marimo

        return trace_marimo(self)

    def window(self, start: int, stop: int | None = None) -> list[Event]:
        """Events ``start`` to ``stop`` (default: all so far) as a list, read under the lock.

        Unlike slicing :attr:`events`, safe while sources append from other threads: a reader
        of a trace still being captured (the file journal of ``sv.capture(path=...)``) gets
        whole events. Keep windows short (a few thousand events): appends wait meanwhile.
        """
        with self._lock:
            return self.events[start:stop]

    def filter(
        self,
        *,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> Trace:
        """Keep the events ``astream_events`` would yield with the same ``include_*``/``exclude_*``.

        The result is a read-only trace whose ``runs`` are the runs that still have events, with
        their full parent/child links. Unlike ``astream_events``, the first kept event keeps its own
        input rather than receiving the root's.
        """
        keep = EventFilter(
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
        )
        with self._lock:
            events = [event for event in self.events if keep.matches(event)]
        return self._view(events)

    def _view(self, events: list[Event]) -> Trace:
        view = Trace(self.name)
        view.created, view._t0 = self.created, self._t0
        view._log = events
        ids = dict.fromkeys(event["run_id"] for event in events if split_event(event["event"]))
        view._tree.runs = {run_id: self.runs[run_id] for run_id in ids if run_id in self.runs}
        view._tree.roots = [
            run
            for run in view._tree.runs.values()
            if run.parent is None or run.parent.run_id not in view._tree.runs
        ]
        view._read_only = view._slow = True
        return view

    def events_df(self) -> pd.DataFrame:
        """The events as a typed :class:`pandas.DataFrame`, one row per event."""
        from streamviz.frames import events_frame

        with self._lock:
            return events_frame(list(self.events), self.runs)

    def runs_df(self) -> pd.DataFrame:
        """The runs as a typed :class:`pandas.DataFrame`, one row per run, in start order."""
        from streamviz.frames import runs_frame

        with self._lock:
            return runs_frame(list(self.runs.values()))

    def chunk_times(self) -> dict[str, list[float]]:
        """Times of every streamed chunk, by run id (the token ticks of a timeline)."""
        times: dict[str, list[float]] = {}
        with self._lock:
            log, chunks, templates = list(self._log), self._chunks, self._templates
        for entry in log:
            if type(entry) is int:
                run_id, t = templates[chunks.template[entry]]["run_id"], chunks.t[entry]
            elif entry["event"].endswith("_stream") and "run_id" in entry:
                run_id, t = entry["run_id"], entry["t"]
            else:
                continue
            times.setdefault(run_id, []).append(t)
        return times

    def timeline_figure(self, **options: Any) -> go.Figure:
        """The runs as a plotly Gantt chart, for static use.

        See :func:`streamviz.plotting.timeline_figure` for the options.
        """
        from streamviz.plotting import timeline_figure

        return timeline_figure(self, **options)

    def stream_holds(self) -> list[StreamHold]:
        """Sequence steps that held the stream back (see :mod:`streamviz.analysis`)."""
        from streamviz.analysis import stream_holds

        with self._lock:
            return stream_holds(list(self.runs.values()))

    def format_tree(self, *, chunks: bool = True) -> str:
        """The run tree as indented text with status, duration and first-chunk time per run."""
        from streamviz.presentation.tree import format_tree

        with self._lock:
            return format_tree(self.roots, chunks=chunks)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path | IO[Any], *, format: str | None = None) -> None:
        """Write the trace to a file: JSONL, or Parquet or Arrow IPC, chosen by the suffix.

        ``x.jsonl`` (any other name, or a file object) is JSON Lines: a versioned header, then one
        event per line. ``x.parquet`` is Parquet and ``x.arrow`` Arrow IPC: one row per event in
        typed columns that pandas, polars and DuckDB read directly (they need pyarrow:
        ``pip install 'streamviz[parquet]'``). ``format`` (``"jsonl"``, ``"parquet"``,
        ``"arrow"``) overrides the suffix. docs/trace-files.md describes the formats.

        LangChain messages, documents and prompt values are written as faithful JSON; values that
        cannot be serialised are written as a marked ``repr``; secrets are redacted.
        """
        from streamviz._persistence import write_trace
        from streamviz._version import __version__

        extra = {
            "name": self.name,
            "time_unit": TIME_UNIT,
            "trace_created": self.created.isoformat(),
        }
        with self._lock:
            write_trace(
                path,
                list(self.events),
                streamviz_version=__version__,
                extra_header=extra,
                format=format,
            )

    @classmethod
    def load(cls, path: str | Path | IO[Any]) -> Trace:
        """Read a trace written by :meth:`save`; nothing in the file is executed.

        JSONL, Parquet or Arrow IPC, by the suffix or else by the file's first bytes.

        Raises
        ------
        streamviz.TraceFileError
            If the file is malformed, truncated or not a streamviz trace (the message names the
            line, or the row of a columnar file).
        ImportError
            For a Parquet or Arrow file when pyarrow is not installed.
        """
        from streamviz._persistence import read_trace

        header, events = read_trace(path)
        trace = cls(header.get("name"))
        created = header.get("trace_created") or header.get("created")
        if isinstance(created, str):
            with contextlib.suppress(ValueError):  # a foreign date format: keep the load time
                trace.created = datetime.fromisoformat(created)
        trace._extend(events)
        return trace

    @classmethod
    def from_events(cls, events: Iterable[Event], name: str | None = None) -> Trace:
        """Build a trace from complete events (with their ``t`` and ``seq``), e.g. a saved list."""
        trace = cls(name)
        trace._extend(events)
        return trace

    # ------------------------------------------------------------ subscribing
    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call ``callback(event)`` for every new event; returns a function that unsubscribes.

        With ``replay=True`` the events already captured are delivered first, under the same lock,
        so the subscriber sees every event exactly once and in order.
        """
        with self._lock:
            if replay:
                for event in self.events:
                    self._notify(callback, event)
            self._subscribers = [*self._subscribers, callback]
            self._slow = True

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]
                self._slow = bool(self._subscribers) or self._read_only

        return unsubscribe

    # ----------------------------------------------------------- for sources
    def _record(self, event: dict[str, Any]) -> Run | None:
        """Stamp ``t``, ``seq`` and ``thread`` on a new event and append it (any thread).

        Returns the run the event belongs to, if any.
        """
        with self._lock:
            if self._read_only:
                raise TypeError("a filtered trace is read-only")
            now = time.perf_counter()
            event["t"] = now - (self._t0 if self._t0 is not None else self._origin(now))
            event["seq"] = len(self._log)
            event["thread"] = threading.get_ident()
            run = self._tree.apply(event)  # type: ignore[arg-type]
            self._log.append(event)  # type: ignore[arg-type]
            for subscriber in self._subscribers:
                self._notify(subscriber, event)  # type: ignore[arg-type]
            return run

    def _stream_writer(self, run: Run, fields: dict[str, Any]) -> Callable[[Any], None]:
        """A function that appends one stream event of ``run`` per call, given its chunk.

        The hot path (one call per token per streaming step). ``fields`` are the fixed fields of
        the run's stream events (``event``, ``name``, ``run_id``...); each event is kept in
        columns until someone reads it. Everything the call needs is bound here once.
        """
        with self._lock:
            self._origin()
            return self._chunks.writer(self, run, fields)

    def _extend(self, events: Iterable[Event]) -> None:
        """Append complete events as they are (loading, replay); ``seq`` is renumbered if absent."""
        with self._lock:
            for event in events:
                event.setdefault("seq", len(self._log))
                self._tree.apply(event)
                self._log.append(event)
                for subscriber in self._subscribers:
                    self._notify(subscriber, event)
            if self._t0 is None and self._log:  # a loaded trace's clock goes on from its end
                self._t0 = time.perf_counter() - self.events[-1]["t"]

    def running(self) -> list[Run]:
        """The runs started and not ended yet (none once the trace is complete)."""
        with self._lock:
            return [run for run in self.runs.values() if run.status == "running"]

    @staticmethod
    def _notify(subscriber: Subscriber, event: Event) -> None:
        try:
            subscriber(event)
        except Exception as error:  # a broken widget must not break the observed program
            report_internal_error(f"trace subscriber {subscriber!r}", error)


def _materialize(
    seq: int, row: int, chunks: ChunkColumns, templates: list[dict[str, Any]]
) -> Event:
    return {  # type: ignore[typeddict-item]
        **templates[chunks.template[row]],
        "data": {"chunk": chunks.chunk(row)},
        "t": chunks.t[row],
        "seq": seq,
        "thread": chunks.thread[row],
    }


class EventLog(Sequence):
    """The events of a trace: a read-only, growing sequence of event dicts.

    Reading an event that was stored compactly turns it into its dict once; later reads return
    the same dict.
    """

    __slots__ = ("_chunks", "_log", "_templates")

    def __init__(self, log: list[Any], chunks: ChunkColumns, templates: list[dict[str, Any]]):
        self._log = log
        self._chunks = chunks
        self._templates = templates

    def __len__(self) -> int:
        return len(self._log)

    def __getitem__(self, index):  # type: ignore[override]
        log = self._log
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(log)))]
        item = log[index]
        if type(item) is int:
            seq = index if index >= 0 else len(log) + index
            item = log[index] = _materialize(seq, item, self._chunks, self._templates)
        return item

    def __iter__(self):
        log = self._log
        for index in range(len(log)):
            item = log[index]
            if type(item) is int:
                item = log[index] = _materialize(index, item, self._chunks, self._templates)
            yield item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (EventLog, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<EventLog: {len(self._log)} events>"

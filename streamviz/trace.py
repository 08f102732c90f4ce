"""The Trace: an append-only event log plus the run tree derived from it.

- The events live in the trace's :class:`~streamviz._log.EventStore` (:attr:`Trace.store`), the
  one owner of the log: sources (the callback :class:`~streamviz.Collector`,
  ``from_astream_events``, the LangGraph sources) append through it from any thread; one lock
  orders appends, so ``seq`` and ``t`` grow together and every subscriber sees events in ``seq``
  order. Readers read events or columns through it, and never store what they read.
- Subscribers (widgets) are told about each event; they never own the data and their failures are
  logged, never raised into the observed program.
- Filtering returns a read-only view that shares the run objects of the full trace.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from streamviz._log import EventStore, Subscriber
from streamviz.events import TIME_UNIT, Event, split_event
from streamviz.filters import EventFilter
from streamviz.runs import Run

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from streamviz.analysis import StreamHold
    from streamviz.toolcalls import ToolCalls
    from streamviz.usage import Detached, Usage

__all__ = ["Subscriber", "Trace"]


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
        # The events, their clock (its origin is set when the observed run is called, see
        # start_clock, or else at the first event), run tree and subscribers.
        self._store = EventStore()
        self._store.on_clock_start = self._note_start
        self.result: Any = None
        """What the run returned, for traces made by :func:`streamviz.watch`."""

    # ----------------------------------------------------------------- reading
    @property
    def store(self) -> EventStore:
        """The event store (:mod:`streamviz._log`): how sources append and readers read columns."""
        return self._store

    @property
    def events(self) -> EventLog:
        """All events in arrival order: a read-only sequence of dicts, growing as events come.

        Each event is built when read (compactly stored events give a new, equal dict per read).
        """
        return EventLog(self._store)

    @property
    def runs(self) -> dict[str, Run]:
        """Runs by id, in the order they were first seen."""
        return self._store.tree.runs

    @property
    def roots(self) -> list[Run]:
        """Top-level runs (and runs whose parent is unknown, flagged ``orphan``)."""
        return self._store.tree.roots

    @property
    def duration(self) -> float:
        """Seconds from the trace's start to its last event."""
        return self._store.last_time()

    def __len__(self) -> int:
        return len(self._store)

    def clock(self) -> float:
        """The trace's time now, in seconds since it began (what the next event's ``t`` would be).

        0 until the trace starts (see :meth:`start_clock`). A replayed trace runs on the replay's
        clock instead.
        """
        t0 = self._store.origin
        return 0.0 if t0 is None else time.perf_counter() - t0

    def start_clock(self) -> None:
        """Make now the trace's time 0, if nothing was recorded yet (else a no-op).

        :func:`streamviz.watch` calls it just before it calls the runnable, so times (first
        token...) count from the request, not from when the dashboard was built. A trace that
        nobody starts starts at its first event.
        """
        with self._store.lock:
            if not len(self._store):
                self._store.start_clock()

    def _note_start(self) -> None:
        """The clock started: the trace was created now (called by the store, lock held)."""
        self.created = datetime.now(timezone.utc)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        running = sum(run.status == "running" for run in self.runs.values())
        live = f", {running} running" if running else ""
        return f"<Trace{label}: {len(self._store)} events, {len(self.runs)} runs{live}>"

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
        with self.store.lock:
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
        return self._view(self._store.select(keep.matches))

    def _view(self, store: EventStore) -> Trace:
        """A read-only trace of a view of this trace's store, with the runs it has events of."""
        view = Trace(self.name)
        view._store = store
        view.created = self.created
        ids = store.run_ids(lambda event: split_event(event["event"]) is not None)
        tree = store.tree
        with self._store.lock:
            tree.runs = {run_id: run for run_id, run in self.runs.items() if run_id in ids}
        tree.roots = [
            run
            for run in tree.runs.values()
            if run.parent is None or run.parent.run_id not in tree.runs
        ]
        return view

    def events_df(self, *, payloads: bool = True) -> pd.DataFrame:
        """The events as a typed :class:`pandas.DataFrame`, one row per event.

        ``text`` is a streamed token's text; ``payload`` and ``data`` hold each event's objects
        (its chunk, input, output...). ``payloads=False`` leaves those two columns out: a
        million-event trace's frame then costs a fraction of the time and memory.
        """
        from streamviz.frames import events_frame

        return events_frame(self._store.columns(), self.runs, payloads=payloads)

    def runs_df(self) -> pd.DataFrame:
        """The runs as a typed :class:`pandas.DataFrame`, one row per run, in start order.

        LangGraph columns: ``thread_id``, ``interrupt`` (what a paused run asks; its ``status``
        is ``interrupted``), ``resume`` (the ``Command(resume=...)`` value), ``resumes`` (the id
        of the paused run it resumes) and ``send`` (a ``Send`` branch's argument). Tool calls
        (:meth:`tool_calls`): ``tool_calls`` (a model run's calls, ``name(args)``, ``; ``-joined),
        ``tool_call_id`` (the call a tool run answered) and ``tool_call_run`` (the model run that
        asked for it).
        """
        from streamviz.frames import runs_frame
        from streamviz.presentation.text import interrupt_text, resume_text, send_text

        text = {"interrupt": interrupt_text, "resume": resume_text, "send": send_text}
        text.update(self.tool_calls().columns())
        with self._store.lock:
            runs = list(self.runs.values())
            frame = runs_frame(runs, text)
        return self._with_usage(frame, runs)

    def _with_usage(self, frame: pd.DataFrame, runs: list[Run]) -> pd.DataFrame:
        """``runs_df``'s usage and detached-run columns (see :meth:`usage`)."""
        import pandas as pd

        from streamviz.frames import string_array
        from streamviz.usage import detached_runs, read_usage, usage_columns

        report = read_usage(self._store.columns(), self.runs)
        with self._store.lock:
            detached = detached_runs(self.runs)
        columns = usage_columns(report, runs)
        columns["detached_from"] = string_array(
            [detached[run.run_id].likely_parent if run.run_id in detached else None for run in runs]
        )
        # one concatenation: inserting the columns one by one costs ~1 ms each
        return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)

    def usage(self, *, prices: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Token usage and cost per run: one row per run with model usage in or below it.

        A model run's usage is what the model reported (its stream's ``usage_metadata``, else
        its final message's, else a legacy LLM's ``llm_output["token_usage"]``; counted once:
        see :mod:`streamviz.usage`); every other run's is the sum of the model runs below it.
        Columns: ``run_id``, ``parent_id``, ``name``, ``run_type``, ``model``, ``source``
        (where a model run's usage came from), ``input_tokens``, ``output_tokens``,
        ``total_tokens``, ``cache_read_tokens``, ``cache_creation_tokens``,
        ``reasoning_tokens``, ``calls`` (model calls counted), ``cost`` (dollars, from
        ``prices`` or the table set with :func:`streamviz.prices`; NA when none of it is
        priced) and ``unpriced`` (calls counted whose model has no price: the cost leaves them
        out). :meth:`usage_total` gives the trace's sum.
        """
        from streamviz.usage import read_usage, usage_frame

        report = read_usage(self._store.columns(), self.runs, prices)
        with self._store.lock:
            runs = list(self.runs.values())
        return usage_frame(report, runs)

    def usage_total(self, *, prices: Mapping[str, Any] | None = None) -> Usage:
        """The trace's token usage and cost: the sum over its model runs (see :meth:`usage`)."""
        from streamviz.usage import read_usage

        return read_usage(self._store.columns(), self.runs, prices).total

    def detached_runs(self) -> dict[str, Detached]:
        """Roots that very likely belong inside another run (callbacks not propagated).

        By run id: each names its likely parent and the fix (see :mod:`streamviz.usage`).
        """
        from streamviz.usage import detached_runs

        with self._store.lock:
            return detached_runs(self.runs)

    def stream_stats(
        self,
        *,
        stall_seconds: float | None = None,
        stall_factor: float | None = None,
        clock: str = "client",
    ) -> pd.DataFrame:
        """How steadily each run streamed: one row per run with stream events.

        Columns: ``run_id``, ``name``, ``run_type``, ``start``, ``first_chunk``,
        ``time_to_first_chunk`` (from the run's start), ``last_chunk``, ``chunks``,
        ``chunks_per_s`` (over the streaming span, first to last chunk), the gaps between
        consecutive chunks ``gap_p50`` / ``gap_p95`` / ``gap_max``, and ``stalls`` (gaps longer
        than ``max(stall_seconds, stall_factor * the run's median gap)``, by default 250 ms and
        5x) with ``stalled``, their total length. Times in seconds. Computed from the trace's
        columns: a million-event trace costs about what one DataFrame column does.

        ``clock="server"`` times the chunks by when a LangGraph server sent them (``server_t``,
        recorded for resumable server runs) rather than when they arrived (``t``).
        """
        from streamviz.latency import STALL_FACTOR, STALL_SECONDS, stream_stats_frame

        return stream_stats_frame(
            self._store.columns(),
            self.runs,
            stall_seconds=STALL_SECONDS if stall_seconds is None else stall_seconds,
            stall_factor=STALL_FACTOR if stall_factor is None else stall_factor,
            clock=clock,
        )

    def stalls(
        self,
        *,
        stall_seconds: float | None = None,
        stall_factor: float | None = None,
        clock: str = "client",
    ) -> pd.DataFrame:
        """Every stall of every streaming run (see :meth:`stream_stats`), one row each.

        Columns: ``run_id``, ``name``, ``after_chunk`` (how many chunks had come),
        ``at`` (the time of the chunk before the gap), ``gap`` and the run's ``threshold``.
        ``clock="server"``: by when a LangGraph server sent the chunks (see
        :meth:`stream_stats`).
        """
        from streamviz.latency import STALL_FACTOR, STALL_SECONDS, stalls_frame

        return stalls_frame(
            self._store.columns(),
            self.runs,
            stall_seconds=STALL_SECONDS if stall_seconds is None else stall_seconds,
            stall_factor=STALL_FACTOR if stall_factor is None else stall_factor,
            clock=clock,
        )

    def chunk_times(self) -> dict[str, list[float]]:
        """Times of every streamed chunk, by run id (the token ticks of a timeline)."""
        return self._store.stream_times()

    def timeline_figure(self, **options: Any) -> go.Figure:
        """The runs as a plotly Gantt chart, for static use.

        See :func:`streamviz.plotting.timeline_figure` for the options.
        """
        from streamviz.plotting import timeline_figure

        return timeline_figure(self, **options)

    def stream_holds(self) -> list[StreamHold]:
        """Sequence steps that held the stream back (see :mod:`streamviz.analysis`)."""
        from streamviz.analysis import stream_holds

        with self._store.lock:
            return stream_holds(list(self.runs.values()))

    def format_tree(self, *, chunks: bool = True) -> str:
        """The run tree as indented text with status, duration and first-chunk time per run."""
        from streamviz.presentation.tree import format_tree
        from streamviz.usage import detached_runs, read_usage

        calls = self.tool_calls()
        usage = read_usage(self._store.columns(), self.runs)
        with self._store.lock:
            detached = detached_runs(self.runs)
            return format_tree(
                self.roots, chunks=chunks, calls=calls, usage=usage, detached=detached
            )

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path | IO[Any], *, format: str | None = None) -> None:
        """Write the trace to a file: JSONL, or Parquet or Arrow IPC, chosen by the suffix.

        ``x.jsonl`` (any other name, or a file object) is JSON Lines: a versioned header, then one
        event per line. ``x.parquet`` is Parquet and ``x.arrow`` Arrow IPC: one row per event in
        typed columns that pandas, polars and DuckDB read directly (they need pyarrow:
        ``pip install 'streamviz[parquet]'``). ``format`` (``"jsonl"``, ``"parquet"``,
        ``"arrow"``) overrides the suffix. docs/trace-files.md describes the formats.
        ``x.perfetto.json`` (or ``format="perfetto"``) exports Chrome trace-event JSON for the
        Perfetto UI (:mod:`streamviz.perfetto`; export only: it does not load back).

        LangChain messages, documents and prompt values are written as faithful JSON; values that
        cannot be serialised are written as a marked ``repr``; secrets are redacted.
        """
        from streamviz._persistence import write_trace
        from streamviz._version import __version__
        from streamviz.perfetto import is_perfetto_target, write_perfetto

        if is_perfetto_target(path, format):  # x.perfetto.json: Chrome trace-event JSON
            write_perfetto(self, path)
            return
        # The events stored when called, read from the store as they are written: nothing kept.
        write_trace(
            path,
            self._store,
            streamviz_version=__version__,
            extra_header=self.file_header(),
            format=format,
        )

    def file_header(self) -> dict[str, str]:
        """What a trace file's header says of this trace (besides the format's own fields)."""
        return {
            "name": self.name,
            "time_unit": TIME_UNIT,
            "trace_created": self.created.isoformat(),
        }

    @classmethod
    def load(cls, path: str | Path | IO[Any], *, max_bytes: int | None = None) -> Trace:
        """Read a trace written by :meth:`save`; nothing in the file is executed.

        JSONL, Parquet or Arrow IPC, by the suffix or else by the file's first bytes. Only a
        regular file is read from a path (not a FIFO or a device). ``max_bytes`` bounds the
        memory the load may take, estimated before each JSON text is parsed: by default 16
        times the file's size plus 64 MiB (docs/trace-files.md, "Loading guards").

        Raises
        ------
        streamviz.TraceFileError
            If the file is malformed, truncated or not a streamviz trace, holds a value out of
            range, is not a regular file, or would take more than ``max_bytes`` (the message
            names the file and the line, or the row of a columnar file).
        ImportError
            For a Parquet or Arrow file when pyarrow is not installed.
        """
        from streamviz._gc import paused_gc
        from streamviz._persistence import read_trace

        trace = cls()
        with paused_gc(keep=True):  # the events built are kept: no collection walks them young
            header, _ = read_trace(path, into=trace._store, max_bytes=max_bytes)
        trace.name = header.get("name")
        created = header.get("trace_created") or header.get("created")
        if isinstance(created, str):
            with contextlib.suppress(ValueError):  # a foreign date format: keep the load time
                trace.created = datetime.fromisoformat(created)
        return trace

    @classmethod
    def from_events(cls, events: Iterable[Event], name: str | None = None) -> Trace:
        """Build a trace from complete events (with their ``t`` and ``seq``), e.g. a saved list."""
        trace = cls(name)
        trace._store.extend(events)
        return trace

    @classmethod
    def from_otel(
        cls, source: Any, *, trace_id: str | None = None, name: str | None = None
    ) -> Trace:
        """Build a trace from OpenTelemetry spans: OTLP/JSON files, or spans a process recorded.

        ``source`` is an OTLP/JSON file (one ``ExportTraceServiceRequest`` object, or JSON Lines
        of them), a folder of them (``*.json``, ``*.jsonl``, ``*.ndjson``), a request as a dict,
        opentelemetry-sdk ``ReadableSpan`` objects (e.g. ``InMemorySpanExporter``'s finished
        spans), or a list mixing these: the spans of several files (one per worker process) are
        joined by their trace ids. Each span becomes a run; spans written by
        :mod:`streamviz.otel` come back with their run ids, types and streamed chunks, and
        OpenInference spans (openinference-instrumentation-langchain) are read by their span
        kinds and attributes. docs/otel.md says what is read from where.

        All the traces found are joined into one (each its own roots), unless ``trace_id``
        (hex, a UUID or an int) picks one. Strings are redacted as trace files are.

        Raises
        ------
        streamviz.TraceFileError
            (``OtelImportError``) for malformed input, naming the file, the line and the span;
            for spans whose parents form a cycle.
        """
        from streamviz.sources.otel import from_otel

        return from_otel(source, trace_id=trace_id, name=name)

    # ------------------------------------------------------------ subscribing
    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call ``callback(event)`` for every new event; returns a function that unsubscribes.

        With ``replay=True`` the events already captured are delivered first, under the same lock,
        so the subscriber sees every event exactly once and in order.
        """
        return self._store.subscribe(callback, replay=replay)

    def tool_calls(self) -> ToolCalls:
        """The tool calls of the model runs, linked to the tool runs that answered them.

        Streamed calls are grouped per call and their arguments parsed as far as they streamed
        (see :mod:`streamviz.toolcalls`); read anew from the events at each call.
        """
        from streamviz.toolcalls import tool_calls

        return tool_calls(self)

    # ----------------------------------------------------------- for sources
    def running(self) -> list[Run]:
        """The runs started and not ended yet (none once the trace is complete)."""
        with self._store.lock:
            return [run for run in self.runs.values() if run.status == "running"]


class EventLog(Sequence):
    """The events of a trace: a read-only, growing sequence of event dicts.

    Events stored compactly (stream chunks) are built when read, a new equal dict per read; the
    trace keeps nothing of what was read.
    """

    __slots__ = ("_store",)

    def __init__(self, store: EventStore):
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    def __getitem__(self, index):  # type: ignore[override]
        store = self._store
        size = len(store)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step == 1:
                return list(store.events(start, max(start, stop)))
            return [store.event(i) for i in range(start, stop, step)]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("event index out of range")
        return store.event(index)

    def __iter__(self):
        return self._store.events()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (EventLog, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<EventLog: {len(self._store)} events>"

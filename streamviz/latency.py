"""How steadily each run streamed: time to first chunk, gaps between chunks, stalls.

People debug streaming by these numbers: when did the first token come, how regular were the
rest, where did it stall. They are computed here from the times the trace recorded for every
stream event (``on_<run type>_stream``) of every run, read as columns from the trace's store
(numpy, one pass, no event built), so they cost about as much for a million-event agent trace as
a DataFrame column does, live or loaded.

- A run's *gaps* are the times between its consecutive chunks.
- A *stall* is a gap longer than ``max(stall_seconds, stall_factor * the run's median gap)``
  (defaults 250 ms and 5x): a pause a reader notices, relative to the run's own rhythm.
- ``clock="client"`` (default) reads each event's ``t``, when it arrived; ``clock="server"``
  reads ``server_t``, when a LangGraph server sent it (recorded for resumable server runs, see
  :mod:`streamviz.sources.remote`), for the events that have one. A server run's own stream
  events (``stream_mode="events"``) count as the run's stream; other graph parts do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from streamviz._log import Columns
    from streamviz.runs import Run

__all__ = ["CLOCKS", "STALL_FACTOR", "STALL_SECONDS", "stalls_frame", "stream_stats_frame"]

CLOCKS = ("client", "server")
"""What :meth:`streamviz.Trace.stream_stats` can time events by (see the module's notes)."""

STALL_SECONDS = 0.25
"""A gap shorter than this is never a stall (seconds)."""
STALL_FACTOR = 5.0
"""A gap is a stall when it is this many times the run's median gap (and above STALL_SECONDS)."""

_STATS_COLUMNS = {
    "run_id": "string",
    "name": "string",
    "run_type": "string",
    "start": "Float64",
    "first_chunk": "Float64",
    "time_to_first_chunk": "Float64",
    "last_chunk": "Float64",
    "chunks": "int64",
    "chunks_per_s": "Float64",
    "gap_p50": "Float64",
    "gap_p95": "Float64",
    "gap_max": "Float64",
    "stalls": "int64",
    "stalled": "float64",
}
_STALL_COLUMNS = {
    "run_id": "string",
    "name": "string",
    "after_chunk": "int64",
    "at": "float64",
    "gap": "float64",
    "threshold": "float64",
}


def _stream_times(
    columns: Columns, clock: str = "client"
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The run ids of the runs that streamed, and for each stream event its run (index) and t."""
    if clock not in CLOCKS:
        raise ValueError(f"clock is one of {CLOCKS}, not {clock!r}")
    run_of_source: dict[Any, int] = {}
    ids: list[Any] = []

    def run_index(fields: Mapping[str, Any]) -> int:
        kind = fields.get("event")
        if type(kind) is not str or not kind.endswith("_stream") or "run_id" not in fields:
            return -1
        if fields.get("mode") not in (None, "events"):  # a graph part, not a run's own stream
            return -1
        run_id = fields["run_id"]
        index = run_of_source.get(run_id)
        if index is None:
            index = run_of_source[run_id] = len(ids)
            ids.append(run_id)
        return index

    by_template = np.array([run_index(fields) for fields in columns.templates] or [-1])
    runs = np.full(len(columns), -1, dtype=np.int64)
    compact = columns.template >= 0
    runs[compact] = by_template[columns.template[compact]]
    runs[columns.positions] = [run_index(event) for event in columns.dicts]
    streamed = runs >= 0
    times = columns.t if clock == "client" else columns.server_t  # NaN where none
    streamed &= ~np.isnan(times)
    return ids, runs[streamed], times[streamed]


def _groups(columns: Columns, clock: str = "client") -> tuple[list[Any], list[np.ndarray]]:
    """Run ids, and each run's chunk times in arrival order."""
    ids, runs, times = _stream_times(columns, clock)
    order = np.argsort(runs, kind="stable")  # arrival order kept within a run
    runs, times = runs[order], times[order]
    cuts = np.flatnonzero(np.diff(runs)) + 1
    present = runs[np.concatenate(([0], cuts))] if len(runs) else runs
    return [ids[index] for index in present.tolist()], np.split(times, cuts) if len(times) else []


def _threshold(gaps: np.ndarray, stall_seconds: float, stall_factor: float) -> float:
    median = float(np.median(gaps)) if len(gaps) else 0.0
    return max(stall_seconds, stall_factor * median)


def stream_stats_frame(
    columns: Columns,
    runs: Mapping[str, Run],
    *,
    stall_seconds: float = STALL_SECONDS,
    stall_factor: float = STALL_FACTOR,
    clock: str = "client",
) -> pd.DataFrame:
    """One row per run that streamed (see :meth:`streamviz.Trace.stream_stats`)."""
    ids, groups = _groups(columns, clock)
    rows: dict[str, list[Any]] = {name: [] for name in _STATS_COLUMNS}
    for run_id, times in zip(ids, groups, strict=True):
        run = runs.get(run_id)
        gaps = np.diff(times)
        threshold = _threshold(gaps, stall_seconds, stall_factor)
        stalled = gaps[gaps > threshold]
        span = float(times[-1] - times[0])
        start = None if run is None else run.start
        rows["run_id"].append(run_id)
        rows["name"].append(None if run is None else run.name)
        rows["run_type"].append(None if run is None else run.run_type)
        rows["start"].append(start)
        rows["first_chunk"].append(float(times[0]))
        rows["time_to_first_chunk"].append(None if start is None else float(times[0]) - start)
        rows["last_chunk"].append(float(times[-1]))
        rows["chunks"].append(len(times))
        rows["chunks_per_s"].append((len(times) - 1) / span if span > 0 else None)
        rows["gap_p50"].append(float(np.percentile(gaps, 50)) if len(gaps) else None)
        rows["gap_p95"].append(float(np.percentile(gaps, 95)) if len(gaps) else None)
        rows["gap_max"].append(float(gaps.max()) if len(gaps) else None)
        rows["stalls"].append(len(stalled))
        rows["stalled"].append(float(stalled.sum()))
    return pd.DataFrame(
        {name: pd.array(values, dtype=_STATS_COLUMNS[name]) for name, values in rows.items()}
    )


def stalls_frame(
    columns: Columns,
    runs: Mapping[str, Run],
    *,
    stall_seconds: float = STALL_SECONDS,
    stall_factor: float = STALL_FACTOR,
    clock: str = "client",
) -> pd.DataFrame:
    """One row per stall (see :meth:`streamviz.Trace.stalls`)."""
    ids, groups = _groups(columns, clock)
    rows: dict[str, list[Any]] = {name: [] for name in _STALL_COLUMNS}
    for run_id, times in zip(ids, groups, strict=True):
        gaps = np.diff(times)
        threshold = _threshold(gaps, stall_seconds, stall_factor)
        run = runs.get(run_id)
        for index in np.flatnonzero(gaps > threshold).tolist():
            rows["run_id"].append(run_id)
            rows["name"].append(None if run is None else run.name)
            rows["after_chunk"].append(index + 1)
            rows["at"].append(float(times[index]))
            rows["gap"].append(float(gaps[index]))
            rows["threshold"].append(threshold)
    return pd.DataFrame(
        {name: pd.array(values, dtype=_STALL_COLUMNS[name]) for name, values in rows.items()}
    )

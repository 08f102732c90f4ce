"""Traces as pandas DataFrames with typed columns, for analysis in a notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from streamviz.events import Event, split_event
from streamviz.filters import event_type
from streamviz.runs import STATUSES, Run

__all__ = ["events_frame", "runs_frame"]


def _payload(event: Event) -> Any:
    data = event["data"]
    if not isinstance(data, dict):
        return data
    for key in ("chunk", "output", "error", "input"):
        if key in data:
            return data[key]
    return None


def events_frame(events: Sequence[Event], runs: Mapping[str, Run]) -> pd.DataFrame:
    """One row per event: ``seq``, ``t`` (s), ``event``, ``phase``, ``run_type``, ``name``, ids...

    ``payload`` holds the chunk, output, error or input of the event (in that order of preference)
    and ``data`` the whole data field.
    """
    phases, paths, depths, payloads = [], [], [], []
    path_of: dict[str, str] = {}  # one path per run, not per event (a run has thousands of tokens)
    for event in events:
        split = split_event(event["event"])
        phases.append(split[1] if split else None)
        run_id = event["run_id"]
        path = path_of.get(run_id)
        if path is None:
            run = runs.get(run_id)
            if run is None:
                path = event["name"]
            else:
                path = path_of[run_id] = " / ".join(run.path)
        paths.append(path)
        depths.append(len(event["parent_ids"]))
        payloads.append(_payload(event))
    frame = pd.DataFrame(
        {
            "seq": pd.array([event["seq"] for event in events], dtype="int64"),
            "t": pd.array([float(event["t"]) for event in events], dtype="float64"),
            "event": pd.array([event["event"] for event in events], dtype="string"),
            "phase": pd.Categorical(phases, categories=["start", "stream", "end", "error"]),
            "run_type": pd.array([event_type(event) for event in events], dtype="string"),
            "name": pd.array([event["name"] for event in events], dtype="string"),
            "run_id": pd.array([event["run_id"] for event in events], dtype="string"),
            "parent_id": pd.array(
                [event["parent_ids"][-1] if event["parent_ids"] else None for event in events],
                dtype="string",
            ),
            "depth": pd.array(depths, dtype="int64"),
            "path": pd.array(paths, dtype="string"),
            "tags": pd.Series([list(event["tags"]) for event in events], dtype="object"),
            "thread": pd.array([event.get("thread") for event in events], dtype="Int64"),
            "payload": pd.Series(payloads, dtype="object"),
            "data": pd.Series([event["data"] for event in events], dtype="object"),
        }
    )
    return frame


def runs_frame(runs: Sequence[Run], text: Any = None) -> pd.DataFrame:
    """One row per run: ids, ``name``, ``run_type``, ``status``, times (s) and chunk counts.

    ``text`` (``presentation.text``'s helpers, from :meth:`Trace.runs_df`) gives the LangGraph
    columns their text: ``interrupt`` (what a paused run asks), ``resume``, ``send``.
    """
    texts = text or {}

    def column(key: str) -> pd.arrays.StringArray:
        describe = texts.get(key)
        return pd.array([describe(run) if describe else None for run in runs], dtype="string")

    def times(values: list[float | None]) -> pd.arrays.FloatingArray:
        return pd.array(values, dtype="Float64")

    return pd.DataFrame(
        {
            "run_id": pd.array([run.run_id for run in runs], dtype="string"),
            "parent_id": pd.array([run.parent_id for run in runs], dtype="string"),
            "name": pd.array([run.name for run in runs], dtype="string"),
            "run_type": pd.array([run.run_type for run in runs], dtype="string"),
            "status": pd.Categorical([run.status for run in runs], categories=list(STATUSES)),
            "depth": pd.array([run.depth for run in runs], dtype="int64"),
            "start": times([run.start for run in runs]),
            "end": times([run.end for run in runs]),
            "duration": times([run.duration for run in runs]),
            "first_chunk": times([run.first_chunk for run in runs]),
            "time_to_first_chunk": times([run.time_to_first_chunk for run in runs]),
            "chunk_count": pd.array([run.chunk_count for run in runs], dtype="int64"),
            "error": pd.array([run.error for run in runs], dtype="string"),
            "orphan": pd.array([run.orphan for run in runs], dtype="bool"),
            "tags": pd.Series([list(run.tags) for run in runs], dtype="object"),
            "thread_id": pd.array([run.thread_id for run in runs], dtype="string"),
            "interrupt": column("interrupt"),
            "resume": column("resume"),
            "resumes": pd.array([run.resumes for run in runs], dtype="string"),
            "send": column("send"),
        }
    )

"""Traces as pandas DataFrames with typed columns, for analysis in a notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from streamviz._gc import paused_gc
from streamviz.events import split_event
from streamviz.filters import event_type
from streamviz.runs import STATUSES, Run, path_texts, run_depths

if TYPE_CHECKING:
    from streamviz._log import Columns

__all__ = ["events_frame", "runs_frame"]

_PHASES = ["start", "stream", "end", "error"]


def _payload(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    for key in ("chunk", "output", "error", "input"):
        if key in data:
            return data[key]
    return None


def string_array(values: Sequence[Any]) -> pd.api.extensions.ExtensionArray:
    """``values`` as a pandas string column (``None`` missing), whatever the text holds.

    pandas keeps strings in Arrow, which cannot hold a lone surrogate (half of an emoji split
    across two chunks, a non-UTF-8 file name read with surrogateescape): a column with one is
    kept by Python instead, its text exactly as captured, so a frame never fails on text.
    """
    try:
        return pd.array(values, dtype="string")
    except UnicodeEncodeError:
        return pd.array(values, dtype=pd.StringDtype("python"))


def _strings(values: list[Any], index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A string column: ``values[index[i]]`` for each row, built by one vectorised take."""
    return string_array(values).take(index)


def _array(values: list[Any]) -> np.ndarray:
    """An object array of ``values`` as they are.

    Never unpacked, and never asked for ``__array__`` (a pydantic model answers that slowly).
    """
    return np.fromiter(values, dtype=object, count=len(values))


def _objects(values: list[Any], index: np.ndarray) -> np.ndarray:
    return _array(values).take(index)


def events_frame(
    columns: Columns, runs: Mapping[str, Run], *, payloads: bool = True
) -> pd.DataFrame:
    """One row per event: ``seq``, ``t`` (s), ``event``, ``phase``, ``run_type``, ``name``, ids...

    ``text`` holds a streamed token's text (null for other events), ``payload`` the chunk,
    output, error or input of the event (in that order of preference) and ``data`` the whole
    data field; ``payloads=False`` leaves those two out (no object per event is built). Read
    column by column from the trace's store: the fields a run's streamed events share are looked
    at once per run, not once per event (so the rows of one run share one ``tags`` list: copy it
    before changing it).
    """
    with paused_gc(keep=True):  # a million new objects kept: no collection walks them young
        return _events_frame(columns, runs, payloads)


def _events_frame(columns: Columns, runs: Mapping[str, Run], payloads: bool) -> pd.DataFrame:
    # Every row reads its fixed fields from a "source": its template, or its own dict.
    sources: list[Mapping[str, Any]] = [*columns.templates, *columns.dicts]
    source = columns.template.copy()
    source[columns.positions] = np.arange(len(columns.dicts)) + len(columns.templates)

    path_of = path_texts(runs.values())  # once per run, without walking up from each

    def path(event: Mapping[str, Any]) -> str:
        return path_of.get(event["run_id"], event["name"])

    phases, names, parents, depths, paths, tags, kinds = [], [], [], [], [], [], []
    for event in sources:
        split = split_event(event["event"])
        phases.append(_PHASES.index(split[1]) if split else -1)
        names.append(event["name"])
        parent_ids = event["parent_ids"]
        parents.append(parent_ids[-1] if parent_ids else None)
        depths.append(len(parent_ids))
        paths.append(path(event))
        tags.append(list(event["tags"]))
        kinds.append(event_type(event))

    count = len(columns)
    compact = columns.template >= 0
    texts = np.full(count, None, dtype=object)
    texts[compact] = _array(columns.texts())
    extra: dict[str, Any] = {}
    if payloads:
        # The payload and data of each row: the chunk of a compact row, the dict's own else.
        payload = np.empty(count, dtype=object)
        data = np.empty(count, dtype=object)
        chunks = columns.chunk_array()
        payload[compact] = chunks
        data[compact] = _array([{"chunk": chunk} for chunk in chunks.tolist()])
        own = [event["data"] for event in columns.dicts]
        payload[columns.positions] = _array([_payload(value) for value in own])
        data[columns.positions] = _array(own)
        extra = {
            "payload": pd.Series(payload, dtype="object", copy=False),
            "data": pd.Series(data, dtype="object", copy=False),
        }

    thread = pd.arrays.IntegerArray(columns.thread.astype(np.int64), ~columns.threaded)
    codes = np.array(phases, dtype=np.int8)[source] if sources else np.zeros(0, np.int8)
    return pd.DataFrame(
        {
            "seq": pd.array(columns.seq, dtype="int64"),
            "t": pd.array(columns.t, dtype="float64"),
            "event": _strings([event["event"] for event in sources], source),
            "phase": pd.Categorical.from_codes(codes, categories=_PHASES),
            "run_type": _strings(kinds, source),
            "name": _strings(names, source),
            "run_id": _strings([event["run_id"] for event in sources], source),
            "parent_id": _strings(parents, source),
            "depth": pd.array(np.array(depths, dtype=np.int64)[source], dtype="int64"),
            "path": _strings(paths, source),
            "tags": pd.Series(_objects(tags, source), dtype="object", copy=False),
            "thread": thread,
            "text": string_array(texts),
            **extra,
        },
        copy=False,  # every column is a new array of this call's: pandas need not copy them
    )


def runs_frame(runs: Sequence[Run], text: Any = None) -> pd.DataFrame:
    """One row per run: ids, ``name``, ``run_type``, ``status``, times (s) and chunk counts.

    ``text`` (``presentation.text``'s helpers, from :meth:`Trace.runs_df`) gives the LangGraph
    columns their text: ``interrupt`` (what a paused run asks), ``resume``, ``send``; and the
    tool call columns (``ToolCalls.columns``): ``tool_calls``, ``tool_call_id``, ``tool_call_run``.
    """
    texts = text or {}

    def column(key: str) -> pd.arrays.StringArray:
        describe = texts.get(key)
        return string_array([describe(run) if describe else None for run in runs])

    def times(values: list[float | None]) -> pd.arrays.FloatingArray:
        return pd.array(values, dtype="Float64")

    return pd.DataFrame(
        {
            "run_id": string_array([run.run_id for run in runs]),
            "parent_id": string_array([run.parent_id for run in runs]),
            "name": string_array([run.name for run in runs]),
            "run_type": string_array([run.run_type for run in runs]),
            "status": pd.Categorical([run.status for run in runs], categories=list(STATUSES)),
            "depth": pd.array(run_depths(runs), dtype="int64"),
            "start": times([run.start for run in runs]),
            "end": times([run.end for run in runs]),
            "duration": times([run.duration for run in runs]),
            "first_chunk": times([run.first_chunk for run in runs]),
            "time_to_first_chunk": times([run.time_to_first_chunk for run in runs]),
            "chunk_count": pd.array([run.chunk_count for run in runs], dtype="int64"),
            "error": string_array([run.error for run in runs]),
            "orphan": pd.array([run.orphan for run in runs], dtype="bool"),
            "tags": pd.Series([list(run.tags) for run in runs], dtype="object"),
            "thread_id": string_array([run.thread_id for run in runs]),
            "interrupt": column("interrupt"),
            "resume": column("resume"),
            "resumes": string_array([run.resumes for run in runs]),
            "send": column("send"),
            "tool_calls": column("tool_calls"),
            "tool_call_id": column("tool_call_id"),
            "tool_call_run": column("tool_call_run"),
        }
    )

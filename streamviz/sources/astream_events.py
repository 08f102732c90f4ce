"""``astream_events(version="v2")`` iterators into a Trace.

The events are taken as they are (they already have the streamviz shape) and stamped with their
arrival time and order. ``astream_events`` reports no error events except for tools: when the
iterator raises, the runs it left open are recorded as ended with that error before it propagates.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any, overload

from streamviz.trace import Trace

__all__ = ["from_astream_events"]


@overload
def from_astream_events(
    events: AsyncIterable[dict[str, Any]], trace: Trace | None = None, *, name: str | None = None
) -> Any: ...
@overload
def from_astream_events(
    events: Iterable[dict[str, Any]], trace: Trace | None = None, *, name: str | None = None
) -> Trace: ...
def from_astream_events(events, trace=None, *, name=None):
    """Build a :class:`Trace` from the events of ``astream_events(version="v2")``.

    Parameters
    ----------
    events
        The iterator returned by ``runnable.astream_events(..., version="v2")`` (async: then
        ``await`` the result) or any iterable of such events (e.g. a list you collected).
    trace
        Record into this trace (pass one to keep what was captured if the run raises).
    name
        Name of the new trace.

    Returns
    -------
    Trace or awaitable of Trace

    Examples
    --------
    >>> events = chain.astream_events(x, version="v2")  # doctest: +SKIP
    >>> trace = await sv.from_astream_events(events)  # doctest: +SKIP
    """
    trace = trace if trace is not None else Trace(name)
    if hasattr(events, "__aiter__"):
        return _consume_async(events, trace)
    try:
        for event in events:
            _add(trace, event)
    except BaseException as error:
        _close_open_runs(trace, error)
        raise
    return trace


async def _consume_async(events: AsyncIterable[dict[str, Any]], trace: Trace) -> Trace:
    try:
        async for event in events:
            _add(trace, event)
    except BaseException as error:
        _close_open_runs(trace, error)
        raise
    return trace


def _add(trace: Trace, event: dict[str, Any]) -> None:
    trace.store.append(
        {
            "event": event["event"],
            "name": event.get("name", ""),
            "run_id": event["run_id"],
            "parent_ids": list(event.get("parent_ids") or ()),
            "tags": list(event.get("tags") or ()),
            "metadata": dict(event.get("metadata") or {}),
            "data": event.get("data", {}),
        }
    )


def _close_open_runs(trace: Trace, error: BaseException) -> None:
    for run in sorted(trace.running(), key=lambda run: -run.depth):
        parent_ids, top = [], run
        while top.parent is not None:
            top = top.parent
            parent_ids.append(top.run_id)
        if top.parent_id is not None:  # an orphan's unseen parent still heads its path
            parent_ids.append(top.parent_id)
        trace.store.append(
            {
                "event": f"on_{run.run_type}_error",
                "name": run.name,
                "run_id": run.run_id,
                "parent_ids": parent_ids[::-1],
                "tags": run.tags,
                "metadata": run.metadata,
                "data": {"error": error},
            }
        )

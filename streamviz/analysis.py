"""Questions about a run tree that need more than one run: which step held the stream back.

A streamed ``RunnableSequence`` passes each step's output chunks on to the next step as they
come. A step that needs its whole input first (a plain function, a non-streaming parser) holds
the stream: nothing comes out of it until the step feeding it has finished. Generators and
streaming parsers let chunks through at once. :func:`stream_holds` finds the holding steps of a
trace from the run tree alone (times and the ``seq:step:N`` tags LangChain gives sequence steps),
so it works on live, rebuilt and loaded traces alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from streamviz.runs import Run

__all__ = ["StreamHold", "holding_since", "stream_holds"]

_STEP_TAG = re.compile(r"^seq:step:(\d+)$")


@dataclass(frozen=True, slots=True)
class StreamHold:
    """A sequence step whose first output came only after the step feeding it had finished.

    Times are seconds since the trace began.
    """

    run: Run
    """The step that held the stream."""
    upstream: Run
    """The step feeding it (the previous step of the same sequence)."""

    @property
    def start(self) -> float:
        """When chunks started to reach the holding step (the upstream's first chunk)."""
        return self.upstream.first_chunk  # type: ignore[return-value]

    @property
    def end(self) -> float:
        """When the holding step let its first chunk out."""
        return self.run.first_chunk  # type: ignore[return-value]

    @property
    def held(self) -> float:
        """Seconds the stream was held: from the upstream's first chunk to this step's first."""
        return self.end - self.start


def _step_number(run: Run) -> int | None:
    for tag in run.tags:
        match = _STEP_TAG.match(tag)
        if match:
            return int(match.group(1))
    return None


def upstream_of(run: Run) -> Run | None:
    """The previous step of the sequence ``run`` is a step of, if it has one and it ran."""
    number = _step_number(run)
    if number is None or number < 2 or run.parent is None:
        return None
    wanted = f"seq:step:{number - 1}"
    feeding = [
        sibling
        for sibling in run.parent.children
        if sibling is not run
        and wanted in sibling.tags
        and (sibling.start is None or run.start is None or sibling.start <= run.start)
    ]
    return feeding[-1] if feeding else None  # the latest attempt, if the step was retried


def hold_of(run: Run) -> StreamHold | None:
    """The hold ``run`` caused, or ``None`` if it let chunks through as they came (or is live)."""
    if run.first_chunk is None:
        return None
    upstream = upstream_of(run)
    if (
        upstream is None
        or upstream.chunk_count == 0
        or upstream.first_chunk is None
        or upstream.end is None
        or run.first_chunk < upstream.end
    ):
        return None
    return StreamHold(run, upstream)


def holding_since(run: Run) -> tuple[float, Run] | None:
    """``(since, upstream)`` while ``run`` holds the stream back now, else ``None``.

    A step holds while it runs with no output of its own although the step feeding it has begun
    to stream: since that step's first chunk. Whether it keeps holding until its upstream ends
    (a plain function) or lets chunks through a moment later (a generator) shows when it yields:
    then :func:`hold_of` has the final answer.
    """
    if run.end is not None or run.first_chunk is not None or run.status != "running":
        return None
    upstream = upstream_of(run)
    if upstream is None or upstream.first_chunk is None:
        return None
    return upstream.first_chunk, upstream


def stream_holds(runs: Iterable[Run]) -> list[StreamHold]:
    """Every step among ``runs`` that held the stream back, in the order of ``runs``."""
    holds = (hold_of(run) for run in runs)
    return [hold for hold in holds if hold is not None]

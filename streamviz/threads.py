"""A LangGraph thread as a whole: its runs on one time axis and its checkpoint history.

:func:`thread_history` reads a thread's checkpoints, in-process
(``graph.get_state_history(config)``) or from a LangGraph API server
(``client.threads.get_history(thread_id)``, ``langgraph_sdk``'s sync client), into :class:`Step`
items, oldest first: each super-step's checkpoint, who wrote it (the tasks of the step before that
ran), what runs next, the state diff from the step before (:mod:`streamviz.statediff`) and the
interrupts it asked. :func:`show_thread` adds the traces of the thread's runs and returns a
:class:`ThreadView`: a plotly figure of the runs and checkpoints on one time axis, the history as
a DataFrame (text cells), and a text form for the console.

LangGraph stopped writing ``writes`` into checkpoint metadata (1.0); where it still does, those
node names are used, else the names of the parent checkpoint's tasks (the tasks that ran in the
step that produced this checkpoint).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streamviz.presentation.text import interrupt_text, preview, resume_text
from streamviz.statediff import Change, diff, format_change

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = ["Step", "ThreadView", "show_thread", "thread_history"]

HISTORY_LIMIT = 1000
"""Most checkpoints read from a server (its own default is 10)."""


@dataclass
class Step:
    """One checkpoint of a thread: the state after a super-step, and what changed in it."""

    checkpoint_id: str
    step: int | None
    """LangGraph's step number (``-1``: the input was written; ``0``: the first super-step)."""
    source: str | None
    """``input``, ``loop``, ``update`` (``update_state``) or ``fork``."""
    writers: tuple[str, ...]
    """The node(s) whose writes made this checkpoint (``__start__`` for the run's input)."""
    next: tuple[str, ...]
    """The nodes to run from this checkpoint (empty: the thread is done)."""
    values: Any
    changes: list[Change] = field(default_factory=list)
    """The diff from the step before (the parent checkpoint)."""
    interrupts: list[Any] = field(default_factory=list)
    """What the interrupts raised in this step asked (their values)."""
    created_at: str | None = None
    parent_id: str | None = None

    @property
    def diff(self) -> str:
        """The changes as lines of text (``(no change)`` when there are none)."""
        if not self.changes:
            return "(no change)"
        return "\n".join(format_change(change) for change in self.changes)

    @property
    def time(self) -> _dt.datetime | None:
        """When the checkpoint was written (``created_at``), or ``None``."""
        return _parse_time(self.created_at)


def _parse_time(text: Any) -> _dt.datetime | None:
    if isinstance(text, _dt.datetime):
        return text
    if not isinstance(text, str):
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _checkpoint_id(config_or_checkpoint: Any) -> str | None:
    if not isinstance(config_or_checkpoint, Mapping):
        return None
    configurable = config_or_checkpoint.get("configurable", config_or_checkpoint)
    value = configurable.get("checkpoint_id") if isinstance(configurable, Mapping) else None
    return None if value is None else str(value)


def _snapshot_fields(snapshot: Any) -> dict[str, Any]:
    """What one checkpoint says, from a ``StateSnapshot`` or a server's ``ThreadState`` dict."""
    if isinstance(snapshot, Mapping):  # langgraph_sdk: ThreadState
        checkpoint_id = _checkpoint_id(snapshot.get("checkpoint"))
        parent_id = _checkpoint_id(snapshot.get("parent_checkpoint"))
    else:
        checkpoint_id = _checkpoint_id(getattr(snapshot, "config", None))
        parent_id = _checkpoint_id(getattr(snapshot, "parent_config", None))
    metadata = _get(snapshot, "metadata") or {}
    tasks = _get(snapshot, "tasks") or ()
    interrupts = [_get(item, "value", item) for item in _get(snapshot, "interrupts") or ()]
    writes = metadata.get("writes") if isinstance(metadata, Mapping) else None
    return {
        "checkpoint_id": checkpoint_id or "",
        "parent_id": parent_id,
        "step": metadata.get("step") if isinstance(metadata, Mapping) else None,
        "source": metadata.get("source") if isinstance(metadata, Mapping) else None,
        "writes": tuple(writes) if isinstance(writes, Mapping) else None,
        "tasks": tuple(str(_get(task, "name")) for task in tasks),
        "next": tuple(str(name) for name in _get(snapshot, "next") or ()),
        "values": _get(snapshot, "values"),
        "interrupts": interrupts,
        "created_at": _get(snapshot, "created_at"),
    }


def steps_of(snapshots: Iterable[Any]) -> list[Step]:
    """Checkpoints (newest first, as LangGraph lists them, or any order) as steps, oldest first."""
    found = [_snapshot_fields(snapshot) for snapshot in snapshots]
    found.reverse()  # LangGraph lists the newest first
    found.sort(key=lambda item: (_parse_time(item["created_at"]) is None, item["created_at"] or ""))
    by_id = {item["checkpoint_id"]: item for item in found}
    steps: list[Step] = []
    previous: dict[str, Any] | None = None
    for item in found:
        parent = by_id.get(item["parent_id"]) if item["parent_id"] else None
        if parent is None and item["parent_id"] is None:
            parent = None  # the thread's first checkpoint
        elif parent is None:
            parent = previous  # the parent was not read (a history cut by its limit)
        writers = (
            item["writes"] if item["writes"] is not None else parent["tasks"] if parent else ()
        )
        steps.append(
            Step(
                checkpoint_id=item["checkpoint_id"],
                step=item["step"],
                source=item["source"],
                writers=tuple(writers),
                next=item["next"],
                values=item["values"],
                changes=diff(parent["values"] if parent else None, item["values"]),
                interrupts=item["interrupts"],
                created_at=None if item["created_at"] is None else str(item["created_at"]),
                parent_id=item["parent_id"],
            )
        )
        previous = item
    return steps


def _is_config(value: Any) -> bool:
    return isinstance(value, Mapping)


def thread_history(source: Any, thread: Any) -> list[Step]:
    """The checkpoints of a thread as :class:`Step` items, oldest first.

    ``source, thread``: a compiled graph with a checkpointer and the run's config
    (``{"configurable": {"thread_id": ...}}``), or a ``langgraph_sdk`` sync client
    (``get_sync_client(url=...)``) and the thread id.
    """
    if _is_config(thread):
        snapshots = list(source.get_state_history(thread))
    else:
        threads = getattr(source, "threads", None)
        if threads is None:
            raise TypeError(
                "thread_history(graph, config) or thread_history(client, thread_id): "
                f"got {type(source).__name__} and {type(thread).__name__}"
            )
        snapshots = threads.get_history(str(thread), limit=HISTORY_LIMIT)
        if hasattr(snapshots, "__await__"):
            close = getattr(snapshots, "close", None)
            if close is not None:
                close()
            raise TypeError(
                "thread_history needs langgraph_sdk's sync client (get_sync_client); "
                "with the async client, pass `await client.threads.get_history(...)` to steps_of"
            )
    return steps_of(snapshots)


def _thread_id(thread: Any) -> str | None:
    if _is_config(thread):
        configurable = thread.get("configurable") or {}
        value = configurable.get("thread_id") if isinstance(configurable, Mapping) else None
        return None if value is None else str(value)
    return None if thread is None else str(thread)


@dataclass
class ThreadRun:
    """A root run of the thread, with where it sits on the thread's time axis."""

    run: Run
    trace: Trace
    start: _dt.datetime
    end: _dt.datetime | None

    @property
    def label(self) -> str:
        run = self.run
        parts = [run.name]
        resumed = resume_text(run, 60)
        if resumed is not None:
            parts.append(f"resumed with {resumed}")
        if run.status == "interrupted":
            parts.append(f"paused: {interrupt_text(run, 60) or ''}".rstrip(": "))
        elif run.status != "ok":
            parts.append(run.status)
        return "  ".join(parts)


def _runs_of(traces: Sequence[Trace], thread_id: str | None) -> list[ThreadRun]:
    """The root runs on the thread (all roots when none of them names a thread), by start."""
    found: list[ThreadRun] = []
    named = any(root.thread_id is not None for trace in traces for root in trace.roots)
    for trace in traces:
        origin = trace.created
        for root in trace.roots:
            if thread_id is not None and named and root.thread_id != thread_id:
                continue
            start = origin + _dt.timedelta(seconds=root.start or 0.0)
            end = None if root.end is None else origin + _dt.timedelta(seconds=root.end)
            found.append(ThreadRun(root, trace, start, end))
    found.sort(key=lambda item: item.start)
    return found


class ThreadView:
    """A thread shown whole: its runs (from ``traces``) and its checkpoint history.

    In Jupyter it shows :meth:`figure` (runs and checkpoints on one time axis) and
    :meth:`history_df` (one row per checkpoint, the diff from the step before as text);
    ``str()`` / ``repr()`` give the same as text.
    """

    def __init__(
        self, thread_id: str | None, steps: list[Step], traces: Sequence[Trace] = ()
    ) -> None:
        self.thread_id = thread_id
        self.steps = steps
        self.traces = list(traces)
        self.runs = _runs_of(self.traces, thread_id)

    def history_df(self) -> pd.DataFrame:
        """One row per checkpoint, oldest first: step, source, writers, next, diff, interrupts."""
        import pandas as pd

        return pd.DataFrame(
            {
                "step": [step.step for step in self.steps],
                "source": [step.source for step in self.steps],
                "written by": [", ".join(step.writers) for step in self.steps],
                "next": [", ".join(step.next) for step in self.steps],
                "diff": [step.diff for step in self.steps],
                "interrupts": [
                    "; ".join(preview(value, 200) for value in step.interrupts)
                    for step in self.steps
                ],
                "created_at": [step.created_at for step in self.steps],
                "checkpoint_id": [step.checkpoint_id for step in self.steps],
            }
        )

    def _origin(self) -> _dt.datetime | None:
        times = [item.start for item in self.runs]
        times += [time for step in self.steps if (time := step.time) is not None]
        return min(times) if times else None

    def figure(self) -> go.Figure:
        """The thread's runs (bars) and checkpoints (diamonds; hover: writers and diff).

        Times are ms since the thread's first run or checkpoint.
        """
        import plotly.graph_objects as go

        from streamviz.plotting import RUN_TYPE_COLORS, _text

        figure = go.Figure()
        origin = self._origin()
        labels: list[str] = []
        if origin is not None:

            def ms(time: _dt.datetime) -> float:
                return (time - origin).total_seconds() * 1000

            for item in self.runs:
                row = len(labels)
                labels.append(f"run {row + 1}: {item.label}")
                end = item.end or item.start
                color = {"interrupted": "#f59e0b", "error": "#d62728"}.get(
                    item.run.status, RUN_TYPE_COLORS["chain"]
                )
                figure.add_bar(
                    orientation="h",
                    base=[ms(item.start)],
                    x=[max(ms(end) - ms(item.start), 0.05)],
                    y=[row],
                    marker={"color": color},
                    showlegend=False,
                    customdata=[[_text(item.label), item.run.status]],
                    hovertemplate="<b>%{customdata[0]}</b><br>status %{customdata[1]}"
                    "<br>start %{base:,.1f} ms<extra></extra>",
                )
                for child in item.run.children:
                    if child.start is None:
                        continue
                    start = item.trace.created + _dt.timedelta(seconds=child.start)
                    stop = item.trace.created + _dt.timedelta(
                        seconds=child.end if child.end is not None else child.start
                    )
                    figure.add_bar(
                        orientation="h",
                        base=[ms(start)],
                        x=[max(ms(stop) - ms(start), 0.05)],
                        y=[row],
                        width=0.35,
                        marker={"color": "rgba(255,255,255,0.7)", "line": {"width": 1}},
                        showlegend=False,
                        hovertemplate=_text(child.name) + " %{x:,.1f} ms<extra></extra>",
                    )
            timed = [step for step in self.steps if step.time is not None]
            if timed:
                row = len(labels)
                labels.append("checkpoints")
                figure.add_scatter(
                    mode="markers+text",
                    x=[ms(step.time) for step in timed],  # type: ignore[arg-type]
                    y=[row] * len(timed),
                    text=[str(step.step) for step in timed],
                    textposition="top center",
                    marker={
                        "symbol": "diamond",
                        "size": 11,
                        "color": ["#f59e0b" if step.interrupts else "#14b8a6" for step in timed],
                    },
                    showlegend=False,
                    customdata=[
                        [
                            _text(", ".join(step.writers) or "-"),
                            _text(step.diff, 600).replace("\n", "<br>"),
                        ]
                        for step in timed
                    ],
                    hovertemplate="step %{text} written by %{customdata[0]}"
                    "<br>%{customdata[1]}<extra></extra>",
                )
        figure.update_layout(
            barmode="overlay",
            title=_text(f"thread {self.thread_id}" if self.thread_id else "thread"),
            height=160 + 36 * max(len(labels), 1),
            xaxis={"title": "time since the thread's first run (ms)", "rangemode": "tozero"},
            yaxis={
                "autorange": "reversed",
                "tickmode": "array",
                "tickvals": list(range(len(labels))),
                "ticktext": [_text(label, 80) for label in labels],
            },
            margin={"l": 10, "r": 10, "t": 60, "b": 10},
        )
        return figure

    def text(self) -> str:
        """The runs and the history as text (what ``str()`` and the console show)."""
        lines = [
            f"thread {self.thread_id}: {len(self.runs)} run(s), {len(self.steps)} checkpoint(s)"
        ]
        origin = self._origin()
        if self.runs:
            lines.append("runs:")
            for number, item in enumerate(self.runs, 1):
                at = (
                    ""
                    if origin is None
                    else f"+{(item.start - origin).total_seconds() * 1000:,.0f} ms"
                )
                took = item.run.duration
                length = "" if took is None else f"  {took * 1000:,.1f} ms"
                lines.append(f"  {number}. {at}{length}  {item.label}")
        lines.append("history:")
        for step in self.steps:
            head = f"  step {step.step} ({step.source})"
            if step.writers:
                head += f" written by {', '.join(step.writers)}"
            head += f"; next: {', '.join(step.next) or '-'}"
            lines.append(head)
            lines.extend(f"      {line}" for line in step.diff.splitlines())
            lines.extend(f"      ‖ paused: {preview(value, 200)}" for value in step.interrupts)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.figure())
        display(self.history_df())


def show_thread(
    source: Any, thread: Any, traces: Trace | Iterable[Trace] | None = None
) -> ThreadView:
    """A thread's runs on one time axis and its checkpoint history with state diffs.

    ``show_thread(graph, config, traces)`` for a graph run in-process with a checkpointer, or
    ``show_thread(client, thread_id, traces)`` for a thread on a LangGraph API server
    (``langgraph_sdk.get_sync_client``). ``traces``: the traces of the thread's runs (from
    ``sv.watch`` / ``sv.watch_remote`` / ``sv.capture``), in any order; their root runs on another
    thread are left out. Returns a :class:`ThreadView` (a figure and a table in Jupyter, text in a
    console).
    """
    from streamviz.trace import Trace

    if traces is None:
        found: list[Trace] = []
    elif isinstance(traces, Trace):
        found = [traces]
    else:
        found = list(traces)
    return ThreadView(_thread_id(thread), thread_history(source, thread), found)

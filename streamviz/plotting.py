"""Static plotly figures of a trace, for reports, exported notebooks and scripts.

The live timeline is the widget's own canvas (it stays fast with 10,000 runs and keeps its final
picture in the notebook); this module draws the same picture as a plain plotly ``Figure``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from streamviz.analysis import stream_holds

if TYPE_CHECKING:
    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = ["RUN_TYPE_COLORS", "timeline_figure"]

RUN_TYPE_COLORS = {
    "chain": "#4c78a8",
    "chat_model": "#f58518",
    "llm": "#e45756",
    "tool": "#72b7b2",
    "retriever": "#54a24b",
    "prompt": "#b279a2",
    "parser": "#9d755d",
}
"""Bar colour of each run type (the widget's timeline uses the same ones)."""
_OTHER_COLOR = "#bab0ac"
_ERROR_COLOR = "#d62728"


def _text(value: str, limit: int = 300) -> str:
    """Plotly reads a few HTML tags in labels: names and errors must stay text."""
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return escape(value, quote=False)


def _tree_order(trace: Trace) -> list[Run]:
    return [run for root in trace.roots for run in root.walk()]


def timeline_figure(
    trace: Trace,
    *,
    ticks: bool = True,
    max_ticks: int = 50_000,
    row_height: int = 22,
    stalls: bool = True,
    stall_seconds: float | None = None,
    stall_factor: float | None = None,
) -> go.Figure:
    """A Gantt chart of ``trace``'s runs: one bar per run, nested under its parent.

    Parameters
    ----------
    trace
        The trace to draw (live traces are drawn as they are now; running bars end now).
    ticks
        Draw a tick for every streamed chunk (token).
    max_ticks
        Above this many chunks, ticks are thinned evenly (bars and marks are always exact).
    row_height
        Pixels per run.
    stalls
        Mark every stall (:meth:`streamviz.Trace.stalls`) on its gap: a hatched stretch, its
        length and threshold in the tooltip.
    stall_seconds, stall_factor
        The stall thresholds (default 250 ms and 5x the run's median gap).

    Returns
    -------
    plotly.graph_objects.Figure
        Bars coloured by run type, errors outlined in red, first-token marks (diamonds), token
        ticks, steps that held the stream back (hatched, with how long), stalls (cross-hatched
        on the gap), a time axis in ms.
    """
    runs = _tree_order(trace)
    row = {run.run_id: index for index, run in enumerate(runs)}
    now = trace.duration
    figure = go.Figure()
    by_type: dict[str, list[Run]] = {}
    for run in runs:
        by_type.setdefault(run.run_type, []).append(run)
    for run_type, members in by_type.items():
        starts = [1000 * (run.start or 0.0) for run in members]
        ends = [1000 * (run.end if run.end is not None else now) for run in members]
        failed = [run.status in ("error", "cancelled") for run in members]
        figure.add_bar(
            name=run_type,
            orientation="h",
            base=starts,
            x=[max(end - start, 0.05) for start, end in zip(starts, ends, strict=True)],
            y=[row[run.run_id] for run in members],
            marker={
                "color": RUN_TYPE_COLORS.get(run_type, _OTHER_COLOR),
                "line": {
                    "color": [_ERROR_COLOR if bad else "rgba(0,0,0,0)" for bad in failed],
                    "width": [2 if bad else 0 for bad in failed],
                },
            },
            customdata=[
                [
                    _text(run.name),
                    run.status,
                    "" if run.duration is None else f"{run.duration * 1000:,.1f} ms",
                    ""
                    if run.time_to_first_chunk is None
                    else f"{run.time_to_first_chunk * 1000:,.1f} ms",
                    run.chunk_count,
                    _text(run.error or ""),
                ]
                for run in members
            ],
            hovertemplate=(
                "<b>%{customdata[0]}</b> (" + run_type + ")<br>status %{customdata[1]}"
                "<br>start %{base:,.1f} ms, took %{customdata[2]}"
                "<br>first chunk after %{customdata[3]}, %{customdata[4]} chunks"
                "<br>%{customdata[5]}<extra></extra>"
            ),
        )
    firsts = [run for run in runs if run.first_chunk is not None]
    if firsts:
        figure.add_scatter(
            name="first chunk",
            mode="markers",
            x=[1000 * run.first_chunk for run in firsts],  # type: ignore[operator]
            y=[row[run.run_id] for run in firsts],
            marker={"symbol": "diamond", "size": 9, "color": "black"},
            hovertemplate="first chunk at %{x:,.1f} ms<extra></extra>",
        )
    if ticks:
        times = trace.chunk_times()
        total = sum(len(values) for values in times.values())
        step = max(1, -(-total // max_ticks))
        xs, ys = [], []
        for run_id, values in times.items():
            if run_id in row:
                xs.extend(1000 * t for t in values[::step])
                ys.extend([row[run_id]] * len(values[::step]))
        if xs:
            figure.add_scatter(
                name="chunks" if step == 1 else f"chunks (1 in {step})",
                mode="markers",
                x=xs,
                y=ys,
                marker={"symbol": "line-ns-open", "size": 10, "color": "rgba(0,0,0,0.45)"},
                hoverinfo="skip",
            )
    holds = [hold for hold in stream_holds(runs) if hold.run.run_id in row]
    if holds:
        figure.add_bar(
            name="held stream",
            orientation="h",
            base=[1000 * hold.start for hold in holds],
            x=[1000 * hold.held for hold in holds],
            y=[row[hold.run.run_id] for hold in holds],
            width=0.45,
            marker={
                "color": "rgba(255,255,255,0.85)",
                "line": {"color": _ERROR_COLOR, "width": 1},
                "pattern": {"shape": "/", "fgcolor": _ERROR_COLOR},
            },
            text=[f"held {hold.held * 1000:,.0f} ms" for hold in holds],
            textposition="inside",
            hovertemplate="held the stream %{x:,.1f} ms<extra></extra>",
        )
    if stalls:
        _add_stalls(figure, trace, row, stall_seconds, stall_factor)
    figure.update_layout(
        barmode="overlay",
        title=_text(trace.name or ""),
        height=150 + row_height * max(len(runs), 1),
        xaxis={"title": "time since the trace began (ms)", "rangemode": "tozero"},
        yaxis={
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": list(range(len(runs))),
            "ticktext": ["\u2003" * run.depth + _text(run.name, 60) for run in runs],
        },
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
    )
    return figure


def _add_stalls(
    figure: go.Figure,
    trace: Trace,
    row: dict[str, int],
    stall_seconds: float | None,
    stall_factor: float | None,
) -> None:
    """The stalls of the runs drawn, as hatched stretches over their gaps."""
    found = trace.stalls(stall_seconds=stall_seconds, stall_factor=stall_factor)
    marks = [stall for stall in found.itertuples() if stall.run_id in row]
    if not marks:
        return
    figure.add_bar(
        name="stall",
        orientation="h",
        base=[1000 * stall.at for stall in marks],
        x=[1000 * stall.gap for stall in marks],
        y=[row[stall.run_id] for stall in marks],
        width=0.6,
        marker={
            "color": "rgba(255,255,255,0.6)",
            "line": {"color": _ERROR_COLOR, "width": 1.5},
            "pattern": {"shape": "x", "fgcolor": _ERROR_COLOR},
        },
        customdata=[[1000 * stall.threshold, stall.after_chunk] for stall in marks],
        hovertemplate=(
            "stall: %{x:,.1f} ms without a chunk, after chunk %{customdata[1]}"
            "<br>threshold %{customdata[0]:,.1f} ms<extra></extra>"
        ),
    )

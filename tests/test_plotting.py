"""trace.timeline_figure(): the static plotly Gantt chart."""

from __future__ import annotations

import asyncio
import contextlib

import plotly.graph_objects as go
import pytest
from examples import EXAMPLES

import streamviz as sv


def captured(example: str, name: str | None = None) -> sv.Trace:
    runnable, value = EXAMPLES[example]()
    collector = sv.Collector(name=name)

    async def run():
        async for _ in collector.astream(runnable, value):
            pass

    with contextlib.suppress(ValueError):  # the "error mid-stream" example raises
        asyncio.run(run())
    return collector.trace


def by_name(figure: go.Figure) -> dict[str, go.Bar | go.Scatter]:
    return {item.name: item for item in figure.data}


def test_one_bar_per_run_nested_in_tree_order_with_marks_and_ticks():
    trace = captured("model|json|function")
    figure = trace.timeline_figure()
    parts = by_name(figure)
    labels = list(figure.layout.yaxis.ticktext)
    assert [label.strip("\u2003") for label in labels] == [
        "RunnableSequence", "DemoChatModel", "JsonOutputParser", "_extract_country_names",
    ]  # fmt: skip
    assert labels[1].startswith("\u2003") and not labels[0].startswith("\u2003")
    assert sum(len(parts[t].y) for t in ("chain", "chat_model", "parser")) == len(trace.runs)
    assert len(parts["first chunk"].x) == sum(
        r.first_chunk is not None for r in trace.runs.values()
    )
    assert len(parts["chunks"].x) == sum(r.chunk_count for r in trace.runs.values())
    model = next(r for r in trace.runs.values() if r.run_type == "chat_model")
    model_bar = parts["chat_model"]
    assert model_bar.base[0] == 1000 * model.start
    assert abs(model_bar.x[0] - 1000 * model.duration) < 1e-6
    assert figure.layout.xaxis.title.text.endswith("(ms)")


def test_the_step_that_held_the_stream_is_drawn_with_how_long():
    figure = captured("model|json|function").timeline_figure()
    held = by_name(figure)["held stream"]
    assert len(held.x) == 1 and held.x[0] > 0
    assert held.text[0].startswith("held ")
    assert "held stream" not in by_name(captured("model|json|generator").timeline_figure())


def test_errors_are_outlined_and_names_stay_text():
    trace = captured("error mid-stream", name="<b>bold</b>")
    figure = trace.timeline_figure(ticks=False)
    widths = [w for item in figure.data if isinstance(item, go.Bar) for w in item.marker.line.width]
    assert 2 in widths  # failed runs outlined
    assert "chunks" not in by_name(figure)
    assert figure.layout.title.text == "&lt;b&gt;bold&lt;/b&gt;"


def test_many_ticks_are_thinned_but_bars_stay_exact():
    collector = sv.Collector()
    model = sv.demo.DemoChatModel.for_benchmark(3_000)
    list(model.stream("go", config={"callbacks": [collector]}))
    figure = collector.trace.timeline_figure(max_ticks=500)
    chunks = next(item for item in figure.data if item.name.startswith("chunks"))
    assert len(chunks.x) <= 500 and "1 in" in chunks.name


def test_a_stall_is_marked_on_its_gap_with_its_length_and_threshold():
    from test_latency import scripted

    trace = scripted([0.02] * 30 + [0.9] + [0.02] * 30)
    stall = by_name(trace.timeline_figure())["stall"]
    assert list(stall.base) == [pytest.approx(1000 * (1.4 + 30 * 0.02))]
    assert list(stall.x) == [pytest.approx(900)] and list(stall.y) == [0]
    assert stall.customdata[0][0] == pytest.approx(250)  # the threshold, in the tooltip
    assert "threshold" in stall.hovertemplate
    steady = scripted([0.02] * 60)
    assert "stall" not in by_name(steady.timeline_figure())
    lowered = trace.timeline_figure(stall_seconds=0.01, stall_factor=0.5)
    assert len(by_name(lowered)["stall"].x) == 61  # every gap is above 10 ms

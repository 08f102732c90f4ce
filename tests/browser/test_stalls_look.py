"""What a person sees of a stall: the gap marked on the timeline (its length written on it, a
tooltip with length and threshold) and the token pane's gap chart, in light and dark colours.

The page is an offline dashboard (``sv.write_html``) of a real chain: a demo model streaming 40
tokens 15 ms apart with a scripted 0.6 s pause before token 25, then a parser. Screenshots land in
``test-artifacts/browser/stalls-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from labdriver import screenshot
from langchain_core.output_parsers import StrOutputParser
from test_timeline_look import DARK

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.export import write_html


@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> tuple[Path, sv.Trace]:
    model = DemoChatModel(
        time_to_first_token=0.05, token_delay=0.015, pauses={25: 0.6},
        responses=[" ".join(f"word{index}" for index in range(20))],
    )  # fmt: skip
    collector = sv.Collector(name="a stalled stream")
    for _ in collector.stream(model | StrOutputParser(), "hi"):
        pass
    folder = tmp_path_factory.mktemp("stalls")
    return write_html(collector.trace, folder / "stalls.html", view="dashboard", height=620), (
        collector.trace
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_stall_is_marked_with_its_length_and_charted_in_the_token_pane(
    browser, page_path, theme
):
    path, trace = page_path
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    if theme == "dark":
        page.add_style_tag(content=DARK)
        page.click("[data-pane=timeline] button[data-action=fit]")
    page.wait_for_timeout(150)

    stalls = trace.stalls()
    model_stall = stalls[stalls["name"] == "DemoChatModel"].iloc[0]
    gap_ms = round(model_stall["gap"] * 1000)
    canvas = page.locator("[data-pane=timeline] canvas.sv-timeline-canvas")
    marked = canvas.get_attribute("data-stalls")
    assert f"DemoChatModel: stall {gap_ms} ms after chunk 25 (threshold 250 ms)" in marked, marked

    # Hover the middle of the model's gap: the stall's own tooltip.
    box = canvas.bounding_box()
    t0, t1 = (float(v) for v in canvas.get_attribute("data-range").split(","))
    plot0, plot1 = 200 + 8, box["width"] - 18  # LABEL_WIDTH_PX + pad, right margin (timeline_model)
    middle = 1000 * (model_stall["at"] + model_stall["gap"] / 2)
    x = plot0 + (middle - t0) * (plot1 - plot0) / (t1 - t0)
    names = [run.name for root in trace.roots for run in root.walk()]
    y = 24 + 20 * names.index("DemoChatModel") + 10  # axis, then one 20 px row per run
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("[data-pane=timeline] .sv-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert f"stall {gap_ms} ms without a chunk, after 25 chunks" in text, text
    assert "threshold 250 ms" in text
    screenshot(page, f"stalls-timeline-{theme}", page.locator("[data-pane=timeline]"))

    block = page.locator("[data-pane=tokens] .sv-token-run[data-type=chat_model]")
    chart = block.locator("canvas.sv-gap-chart")
    assert chart.get_attribute("data-stalls") == "1"
    assert chart.get_attribute("data-gaps") == str(trace.stream_stats().set_index("name").loc[
        "DemoChatModel", "chunks"] - 1)  # fmt: skip
    summary = block.locator(".sv-gap-summary").inner_text()
    assert summary.endswith("1 stall (threshold 250 ms)"), summary
    # The chart has pixels of the error colour (the stall) and of the muted one (the rest).
    reds = page.evaluate(
        """(canvas) => {
            const g = canvas.getContext("2d");
            const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
            let red = 0, other = 0;
            for (let k = 0; k < data.length; k += 4) {
              if (data[k + 3] === 0) continue;
              if (data[k] > 150 && data[k + 1] < 90) red += 1; else other += 1;
            }
            return [red, other];
        }""",
        chart.element_handle(),
    )
    assert reds[0] > 0 and reds[1] > 0, reds
    block.scroll_into_view_if_needed()
    screenshot(page, f"stalls-tokens-{theme}", block)
    assert not errors
    page.close()

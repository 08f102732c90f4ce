"""What a person sees on the timeline: the held-back lesson live and after, at 800, 1000 and
1400 px, in JupyterLab's light and dark colours; a replay's timeline seeks where it is clicked.

Offline pages (no kernel) show a trace as the page has it while a plain function holds the stream
back (a replay paused at that moment) and once it let its output out. Screenshots land in
``test-artifacts/browser/timeline-*.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labdriver import screenshot

import streamviz as sv
from streamviz.export import write_html
from streamviz.replay import Replay

TRACES = Path(__file__).resolve().parents[2] / "notebooks" / "traces"
# JupyterLab's dark theme colours (the --jp-* variables streamviz's CSS and canvas read).
DARK = """
:root, body {
  --jp-layout-color0: #111111; --jp-layout-color1: #111111; --jp-layout-color2: #212121;
  --jp-layout-color3: #424242; --jp-ui-font-color0: rgba(255,255,255,1);
  --jp-ui-font-color1: rgba(255,255,255,.87); --jp-ui-font-color2: rgba(255,255,255,.54);
  --jp-border-color1: #616161; --jp-border-color2: #424242; --jp-brand-color1: #64b5f6;
  background: #111111;
}
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The countries trace (model | JsonOutputParser | a plain function) while the function
    holds the stream back, and when it is done."""
    folder = tmp_path_factory.mktemp("timeline")
    trace = sv.Trace.load(TRACES / "countries_function.jsonl")
    player = Replay(trace, autoplay=False)
    player.seek(0.6)  # the parser streams from ~252 ms; the function yields only at ~913 ms
    holding = write_html(player.trace, folder / "holding.html", view="dashboard", height=560)
    player.close()
    done = write_html(trace, folder / "done.html", view="dashboard", height=560)
    return {"holding": holding, "done": done}


def open_page(browser, path: Path, width: int, theme: str):
    page = browser.new_page(viewport={"width": width, "height": 820})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    if theme == "dark":
        page.add_style_tag(content=DARK)
        page.click("[data-pane=timeline] button[data-action=fit]")  # redraw in the new colours
    page.wait_for_timeout(100)  # let the redraw's animation frame run before the screenshot
    return page, errors


def shoot(page, name: str) -> Path:
    path = screenshot(page, name, page.locator("[data-pane=timeline]"))
    Path("/tmp/timeline-shots").mkdir(exist_ok=True)
    shutil.copy(path, Path("/tmp/timeline-shots") / path.name)
    return path


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [800, 1000, 1400])
def test_the_hold_shows_while_it_holds_and_after_at_every_width(browser, pages, width, theme):
    for moment, label in (("holding", "holding 348 ms"), ("done", "held 661 ms")):
        page, errors = open_page(browser, pages[moment], width, theme)
        canvas = page.locator("[data-pane=timeline] canvas.sv-timeline-canvas")
        holds = canvas.get_attribute("data-holds")
        assert holds.startswith(f"_extract_country_names: {label}"), holds
        legend = page.locator("[data-pane=timeline] .sv-legend-item").all_text_contents()
        assert legend == [
            "chain",
            "chat_model",
            "parser",
            "held the stream back",
            "▼first token",
        ]
        # The canvas fits its pane: nothing drawn at the right edge (the chain's first-token
        # mark, the playhead) is cut off under the scrollbar.
        overflow = page.evaluate(
            """() => {
              const scroller = document.querySelector('[data-pane=timeline] .sv-timeline-scroll');
              const canvas = scroller.querySelector('canvas');
              return canvas.getBoundingClientRect().width - scroller.clientWidth;
            }"""
        )
        assert overflow <= 0.5, f"the canvas is {overflow} px wider than its pane"
        # The legend wraps inside the pane instead of running off its right edge.
        legend_out = page.evaluate(
            """() => {
              const pane = document.querySelector('[data-pane=timeline]').getBoundingClientRect();
              const items = [...document.querySelectorAll('[data-pane=timeline] .sv-legend-item')];
              const right = Math.max(...items.map((item) => item.getBoundingClientRect().right));
              return right - pane.right;
            }"""
        )
        assert legend_out <= 0, f"the legend runs {legend_out} px past the pane"
        shoot(page, f"timeline-{moment}-{width}-{theme}")
        assert errors == []
        page.close()

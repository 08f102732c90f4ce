"""In JupyterLab, live: the guide's non-streaming component (a plain function after
JsonOutputParser) is drawn as holding the stream back WHILE it holds, in the light and the dark
theme; and a replay's timeline seeks the player where its axis is clicked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from labdriver import cell_output, run_notebook, screenshot, wait_cells_done, wait_for

HELD_CHAIN = '''\
import streamviz as sv
from langchain_core.output_parsers import JsonOutputParser
from streamviz.demo import DemoChatModel

def _extract_country_names(inputs):
    """A function that does not operate on input streams and breaks streaming."""
    if not isinstance(inputs, dict) or not isinstance(inputs.get("countries"), list):
        return ""
    return [country.get("name") for country in inputs["countries"] if isinstance(country, dict)]

# Slow enough (~4 s of streaming JSON) to look at the hold while it grows.
model = DemoChatModel(time_to_first_token=0.3, token_delay=0.06)
chain = model | JsonOutputParser() | _extract_country_names
COUNTRIES = (
    "output a list of the countries france, spain and japan and their populations in JSON format. "
    'Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)
'''
WATCH = 'held = sv.watch(chain, COUNTRIES, view="timeline", height=240)'
THEMES = "@jupyterlab/apputils-extension/themes.jupyterlab-settings"


@pytest.fixture
def theme(request, jupyter_lab):
    """The JupyterLab theme for this test (its user setting, put back afterwards)."""
    name = request.param
    path = Path(jupyter_lab.env["JUPYTERLAB_SETTINGS_DIR"]) / THEMES
    if name == "dark":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"theme": "JupyterLab Dark"}))
    try:
        yield name
    finally:
        path.unlink(missing_ok=True)


def shoot(page, name: str, locator) -> None:
    path = screenshot(page, name, locator)
    Path("/tmp/timeline-shots").mkdir(exist_ok=True)
    shutil.copy(path, Path("/tmp/timeline-shots") / path.name)


def holds(output) -> str:
    return output.locator("canvas.sv-timeline-canvas").get_attribute("data-holds") or ""


@pytest.mark.parametrize("theme", ["light", "dark"], indirect=True)
def test_the_function_holding_the_stream_back_is_drawn_live(page, jupyter_lab, theme):
    run_notebook(page, jupyter_lab, f"held-{theme}.ipynb", [HELD_CHAIN, WATCH], wait=False)
    output = cell_output(page, 1)
    wait_for(output, ".sv-root[data-view=timeline]")
    # While the cell runs: the function's bar is hatched and labelled "holding N ms", growing.
    page.wait_for_function(
        """(el) => /holding [1-9][\\d,]* ms/.test(
             el.querySelector('canvas.sv-timeline-canvas')?.getAttribute('data-holds') ?? '')""",
        arg=output.element_handle(),
        timeout=30_000,
    )
    first = holds(output)
    page.wait_for_timeout(600)  # the clock moves on: the hold has grown (a fact, not a timing)
    later = holds(output)
    grown = [
        int(re.search(r"holding ([\d,]+) ms", text).group(1).replace(",", ""))
        for text in (first, later)
        if "holding" in text
    ]
    assert first.startswith("_extract_country_names: holding"), first
    shoot(page, f"timeline-lab-holding-{theme}", output)
    if len(grown) == 2:
        assert grown[1] > grown[0], (first, later)
    assert "held the stream back" in output.locator(".sv-legend").text_content()
    wait_cells_done(page)
    page.wait_for_function(
        """(el) => /^_extract_country_names: held /.test(
             el.querySelector('canvas.sv-timeline-canvas')?.getAttribute('data-holds') ?? '')""",
        arg=output.element_handle(),
        timeout=30_000,
    )
    shoot(page, f"timeline-lab-held-{theme}", output)


REPLAY = """\
import streamviz as sv
player = sv.replay("{path}", view="timeline", height=260, autoplay=False)
"""


def test_clicking_a_replays_timeline_axis_seeks_the_player(page, jupyter_lab):
    traces = Path(__file__).resolve().parents[2] / "notebooks" / "traces"
    path = traces / "countries_function.jsonl"
    cells = [REPLAY.format(path=path), 'print(f"position={player.position:.4f}")']
    run_notebook(page, jupyter_lab, "seek.ipynb", cells)
    output = cell_output(page, 0)
    canvas = wait_for(output, "canvas.sv-timeline-canvas")
    box = canvas.bounding_box()
    # The axis spans the whole recording before anything played: click at 60 % of it.
    t0, t1 = (float(v) for v in canvas.get_attribute("data-range").split(","))
    assert t0 == 0 and t1 >= 900, (t0, t1)
    x0, x1 = 200 + 8, box["width"] - 18
    target = t0 + (t1 - t0) * 0.6
    page.mouse.click(box["x"] + x0 + (x1 - x0) * 0.6, box["y"] + 10)
    page.wait_for_function(
        """(el) => /holding/.test(
             el.querySelector('canvas.sv-timeline-canvas')?.getAttribute('data-holds') ?? '')""",
        arg=output.element_handle(),
        timeout=30_000,
    )
    shoot(page, "timeline-lab-replay-seek", output)
    # The kernel's player moved there (asked in a new cell, printed as text).
    page.keyboard.press("Escape")
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    cell.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """(el) => /position=(?!0\\.0000)[\\d.]+/.test(el.textContent)""",
        arg=cell_output(page, 1).element_handle(),
        timeout=30_000,
    )
    text = cell_output(page, 1).text_content()
    position = float(re.search(r"position=([\d.]+)", text).group(1))
    assert abs(position * 1000 - target) < 5, (position, target)

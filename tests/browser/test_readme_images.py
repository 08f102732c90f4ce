"""The README's pictures, taken by the browser as a user sees them, so they stay current.

Each test runs a guide example live in JupyterLab and saves what the widget shows into
``docs/images/`` (and, like every screenshot, into ``test-artifacts/browser/``). It asserts the
picture shows what its caption says: the dashboard is live when it is taken, the timeline is
holding the stream back when it is taken.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labdriver import cell_output, run_notebook, screenshot, wait_cells_done, wait_for

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

CHAIN = """\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | DemoChatModel(time_to_first_token=0.3, token_delay=0.12) | StrOutputParser()
"""
WATCH = 'trace = sv.watch(chain, {"topic": "parrot"}, name="parrot joke", height=640)'

HELD = """\
import streamviz as sv
from langchain_core.output_parsers import JsonOutputParser
from streamviz.demo import DemoChatModel

def _extract_country_names(inputs):
    if not isinstance(inputs, dict) or not isinstance(inputs.get("countries"), list):
        return ""
    return [country.get("name") for country in inputs["countries"] if isinstance(country, dict)]

model = DemoChatModel(time_to_first_token=0.2, token_delay=0.06)
chain = model | JsonOutputParser() | _extract_country_names
"""
WATCH_HELD = """\
held = sv.watch(
    chain,
    "output a list of the countries france, spain and japan and their populations in JSON format",
    name="a function holds the stream back",
    view="timeline",
    height=300,
)
"""


def readme_image(page, locator, name: str) -> Path:
    """Save `locator`'s picture as docs/images/<name>.png (and as a test artifact)."""
    shot = screenshot(page, f"readme-{name}", locator)
    IMAGES.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(shot, IMAGES / f"{name}.png"))


def test_the_live_dashboard_picture(page, jupyter_lab):
    page.set_viewport_size({"width": 1400, "height": 900})
    run_notebook(page, jupyter_lab, "readme-live.ipynb", [CHAIN, WATCH], wait=False)
    widget = wait_for(cell_output(page, 1), ".sv-root[data-view=dashboard]")
    # Mid-stream: some of the model's tokens are on the page and more are coming.
    page.wait_for_function(
        """() => {
            const pieces = document.querySelector(".sv-token-run[data-run-id] .sv-token-pieces");
            return pieces && pieces.textContent.split("|").length > 8;
        }""",
        timeout=60_000,
    )
    assert widget.locator(".sv-live").get_attribute("data-live") == "true"
    path = readme_image(page, widget, "dashboard-live")
    # Still live after the picture was taken: it shows a run in progress.
    assert widget.locator(".sv-live").get_attribute("data-live") == "true"
    wait_cells_done(page)
    assert widget.locator(".sv-live").get_attribute("data-live") == "false"
    assert path.stat().st_size > 20_000


def test_the_held_back_timeline_picture(page, jupyter_lab):
    page.set_viewport_size({"width": 1400, "height": 900})
    run_notebook(page, jupyter_lab, "readme-held.ipynb", [HELD, WATCH_HELD], wait=False)
    widget = wait_for(cell_output(page, 1), ".sv-root[data-view=timeline]")
    canvas = widget.locator("canvas.sv-timeline-canvas")
    # The function has started and is still holding the stream back, long enough for the
    # hatched bar to read, while the model streams on.
    page.wait_for_function(
        """(canvas) => {
            const hold = /_extract_country_names: holding ([\\d,]+) ms/.exec(canvas.dataset.holds);
            return hold !== null && Number(hold[1].replace(/,/g, "")) > 600;
        }""",
        arg=canvas.element_handle(),
        timeout=60_000,
    )
    path = readme_image(page, widget, "held-back")
    assert "holding" in canvas.get_attribute("data-holds")
    wait_cells_done(page)
    # Once the function ran, the hold is drawn as it was: held, no longer holding.
    assert "_extract_country_names: held" in canvas.get_attribute("data-holds")
    assert path.stat().st_size > 10_000

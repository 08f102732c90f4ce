"""`streamviz export NOTEBOOK.ipynb`: an executed notebook as one page that works offline.

The teaching notebooks are executed headless (``executed_notebooks``, shared with
``test_notebooks.py``), written to disk and exported with the real command; the page is opened
in Chromium with every request that is not a local file aborted and counted. What a reader sees
is checked: nbconvert's cells and outputs, one dashboard per streamviz widget output, drawn from
the saved state and usable (selection, filters, tabs) without a kernel.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from labdriver import screenshot
from notebook_runs import execute_cells
from test_dashboard import HOSTILE, HOSTILE_CELL
from test_notebooks import PARROT, Snapshot, cell_with, notebook_named, streamviz_widgets
from test_offline_html import open_offline

from streamviz.notebook_export import MISSING_STATE

TOUR = "00_tour.ipynb"
LANGGRAPH = "07_langgraph_stream_modes.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def export(notebook, tmp_path, name: str) -> tuple:
    """Write ``notebook``, export it with ``python -m streamviz export``; (page path, output)."""
    source = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, source)
    page = tmp_path / f"{name}.html"
    done = subprocess.run(
        [sys.executable, "-m", "streamviz", "export", str(source), "-o", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return page, done.stdout + done.stderr


def every_widget(notebook) -> list[dict]:
    """The streamviz widgets of every cell, in order (also inside boxes and players)."""
    return [state for cell in notebook.cells for state in streamviz_widgets(notebook, cell)]


def cell_of(page, source: str):
    """The exported code cell whose input contains ``source``."""
    cells = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source))
    assert cells.count() == 1, f"{cells.count()} exported cells contain {source!r}"
    return cells


def assert_one_copy_of_the_front_end(page, html: str) -> None:
    assert html.count('id="sv-module"') == 1  # the module is inlined once, not per widget
    assert page.locator("script[src], link[href], iframe").count() == 0
    assert 'http-equiv="Content-Security-Policy"' in html


@pytest.fixture(scope="module")
def tour(executed_notebooks):
    return notebook_named(executed_notebooks.get(TOUR), TOUR)


@pytest.fixture(scope="module")
def langgraph(executed_notebooks):
    return notebook_named(executed_notebooks.get(LANGGRAPH), LANGGRAPH)


def test_the_tour_exports_to_one_offline_page(browser, tour, tmp_path):
    path, printed = export(tour, tmp_path, "tour")
    widgets = every_widget(tour)
    assert len(widgets) == 4  # watch, the timeline, the captured trace, the replay's dashboard
    assert f"{len(widgets)} streamviz dashboards" in printed

    page, blocked, errors = open_offline(browser, path)
    html = path.read_text(encoding="utf-8")
    assert page.locator("div.sv-root").count() == len(widgets)
    assert_one_copy_of_the_front_end(page, html)
    # The rest is nbconvert's page: markdown, code, printed text.
    assert page.inner_text("h1").startswith("A tour of streamviz")
    assert "├─ ✓ DemoChatModel [chat_model]" in page.inner_text("body")

    watched = Snapshot(streamviz_widgets(tour, cell_with(tour, "trace = sv.watch(chain"))[0])
    dashboard = cell_of(page, "trace = sv.watch(chain").locator(".sv-root[data-view=dashboard]")
    # As a reader scrolls to it (token blocks out of view are not laid out: content-visibility).
    dashboard.scroll_into_view_if_needed()
    pieces = dashboard.locator(".sv-token-run .sv-token-pieces").first
    pieces.scroll_into_view_if_needed()
    assert pieces.inner_text().startswith(PARROT)
    total = watched.data["count"]
    assert dashboard.locator(".sv-count").first.inner_text() == f"{total} of {total} events"
    assert dashboard.locator("canvas.sv-timeline-canvas").get_attribute("data-bars") == "4"
    assert cell_of(page, 'sv.show(trace, view="timeline"').locator(
        ".sv-root[data-view=timeline] canvas.sv-timeline-canvas"
    ).get_attribute("data-bars") == "4"  # fmt: skip

    # Clicking the model in the run tree selects it and narrows the table to its events.
    model = watched.run("DemoChatModel")
    own_events = len(watched.texts(lambda _kind, run, _extra: run == model["i"]))
    node = dashboard.locator(f".sv-tree-node[data-run-id='{model['id']}']")
    node.click()
    page.wait_for_function(
        "(node) => node.getAttribute('aria-selected') === 'true'", arg=node.element_handle()
    )
    count = dashboard.locator(".sv-count").first
    page.wait_for_function(
        "([el, text]) => el.textContent.startsWith(text)",
        arg=[count.element_handle(), f"{own_events} of {total}"],
    )
    shot = screenshot(page, "export-tour")
    dashboard.scroll_into_view_if_needed()
    screenshot(page, "export-tour-dashboard", dashboard)
    assert shot.is_file()
    assert blocked == [] and errors == []
    page.close()


def test_a_langgraph_notebook_exports_to_one_offline_page(browser, langgraph, tmp_path):
    path, _ = export(langgraph, tmp_path, "langgraph")
    widgets = every_widget(langgraph)
    page, blocked, errors = open_offline(browser, path)
    assert page.locator("div.sv-root").count() == len(widgets) == 8
    assert_one_copy_of_the_front_end(page, path.read_text(encoding="utf-8"))

    updates = cell_of(page, "updates = sv.watch(graph").locator(".sv-root[data-view=graph]")
    assert updates.locator(".sv-part[data-seq] .sv-part-node").all_inner_texts() == [
        "refine_topic",
        "generate_joke",
    ]

    # The messages tab of the dashboard's LangGraph pane: tokens per LLM call, by tag.
    parts = cell_of(page, "parts = sv.watch(").locator(".sv-root[data-view=dashboard]")
    graph = parts.locator("section.sv-pane[data-pane=graph]")
    graph.locator(".sv-mode[data-mode=messages]").click()
    joke = graph.locator(".sv-msg-call[data-tags*=joke] .sv-msg-pieces")
    joke.wait_for()
    assert joke.inner_text().startswith("Why| did| the| cat|")
    assert (
        graph.locator(".sv-msg-call[data-tags*=poem] .sv-msg-pieces")
        .inner_text()
        .startswith("Whisk|ers|")
    )
    nested = cell_of(page, "nested = sv.watch(").locator(".sv-graph")
    assert nested.get_attribute("data-parts") == "4"
    parts.scroll_into_view_if_needed()
    screenshot(page, "export-langgraph-messages", parts)
    assert blocked == [] and errors == []
    page.close()


def test_two_views_of_one_widget_share_its_selection(browser, tour, tmp_path):
    notebook = nbformat.from_dict(tour)
    watched = cell_with(notebook, "trace = sv.watch(chain")
    again = nbformat.v4.new_code_cell("trace  # shown again", outputs=watched.outputs)
    notebook.cells.insert(notebook.cells.index(watched) + 1, again)
    path, _ = export(notebook, tmp_path, "twice")
    page, blocked, errors = open_offline(browser, path)
    first, second = (cell_of(page, source).locator(".sv-root") for source in (
        "trace = sv.watch(chain", "trace  # shown again"))  # fmt: skip
    model = Snapshot(streamviz_widgets(tour, watched)[0]).run("DemoChatModel")
    first.locator(f".sv-tree-node[data-run-id='{model['id']}']").click()
    selected = second.locator(f".sv-tree-node[data-run-id='{model['id']}'][aria-selected=true]")
    selected.wait_for()  # one model behind both views, as in JupyterLab
    assert blocked == [] and errors == []
    page.close()


def test_a_notebook_saved_without_widget_state_says_how_to_save_it(browser, tour, tmp_path):
    stateless = nbformat.from_dict(tour)
    del stateless.metadata["widgets"]
    outputs = sum(
        WIDGET_VIEW in output.get("data", {})
        for cell in stateless.cells
        for output in cell.get("outputs", [])
    )
    path, printed = export(stateless, tmp_path, "stateless")
    assert f"{outputs} widget outputs were saved without their state" in printed
    page, blocked, errors = open_offline(browser, path, dashboards=False)  # loaded: all there is
    notes = page.locator(".sv-export-missing").all_inner_texts()
    assert len(notes) == outputs == 4
    assert all("Save Jupyter widget state in notebooks" in note for note in notes)
    assert notes[0] == MISSING_STATE.format(kind=" (TraceWidget)")
    assert page.locator("div.sv-root, #sv-module").count() == 0  # no dashboard, no module
    screenshot(page, "export-without-state")
    assert blocked == [] and errors == []
    page.close()


def test_hostile_strings_stay_text_in_an_exported_notebook(browser, tmp_path):
    notebook = execute_cells([HOSTILE_CELL], tmp_path / "run")
    path, _ = export(notebook, tmp_path, "hostile")
    dialogs: list[str] = []
    page, blocked, errors = open_offline(browser, path)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    root = page.locator("div.sv-root")
    assert root.count() == 1
    found = page.evaluate(
        """(root) => ({
            tags: root.querySelectorAll('script, img, iframe, object, embed, a[href]').length,
            handlers: [...root.querySelectorAll('*')].flatMap(
              e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
            pwned: window.__pwned ?? null,
            text: root.innerText,
        })""",
        root.element_handle(),
    )
    assert found["tags"] == 0 and found["handlers"] == []
    assert found["pwned"] is None and not dialogs
    for text in (HOSTILE[0], HOSTILE[2], "🦜"):
        assert text in found["text"]
    # The notebook's own code (the corpus in a list literal) is highlighted text as well.
    assert HOSTILE[0] in page.inner_text(".jp-InputArea")
    root.locator(".sv-row[data-phase=end]").first.click()
    assert "<b><b><b>" in page.locator(".sv-details").inner_text()
    screenshot(page, "export-hostile")
    assert blocked == [] and errors == []
    page.close()

"""Offline pages: what `write_html` and `streamviz export` put in them (no browser, no kernel).

The browser tests (``tests/browser/test_offline_html.py``, ``test_notebook_export.py``) check
what the pages show; these check what they carry.
"""

from __future__ import annotations

import json

import ipywidgets
import nbformat
import pytest
from bs4 import BeautifulSoup
from langchain_core.runnables import RunnableLambda

import streamviz as sv
from streamviz.export import trace_html
from streamviz.notebook_export import MISSING_STATE, PARTIAL_STATE, notebook_html
from streamviz.widgets._widget import TraceWidget, bundle_path

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def trace():
    collector = sv.Collector(name="echo")
    RunnableLambda(lambda x: x).invoke("</script><b>hi</b>", {"callbacks": [collector]})
    return collector.trace


def states(html: str) -> list[dict]:
    soup = BeautifulSoup(html, "html.parser")
    return [json.loads(script.string) for script in soup.select("script.sv-state")]


def test_a_page_carries_every_synced_trait_of_the_widget(trace):
    (state,) = states(trace_html(trace, view="timeline", height=300))
    widget = TraceWidget(trace)
    synced = set(widget.keys)  # the synced traits of a real widget (anywidget adds some)
    widget.close()
    private = set(ipywidgets.DOMWidget.class_trait_names(sync=True)) | {"_esm", "_css"}
    assert set(state) == synced - private  # a trait added to the widget reaches pages as is
    assert state["view"] == "timeline" and state["height"] == 300 and state["live"] is False
    assert state["snapshot"]["count"] == len(trace.events)


def saved(widget) -> dict:
    """A widget's entry in a notebook's saved widget state, as ipywidgets writes it."""
    return {
        "model_name": widget._model_name,
        "model_module": widget._model_module,
        "model_module_version": widget._model_module_version,
        "state": widget.get_state(),
    }


def view_output(widget_id: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={WIDGET_VIEW: {"model_id": widget_id, "version_major": 2, "version_minor": 0},
              "text/plain": text},
    )  # fmt: skip


def test_a_notebook_page_swaps_each_widget_output(trace):
    dashboard = TraceWidget(trace)
    player = ipywidgets.VBox([ipywidgets.Button(description="Play"), TraceWidget(trace)])
    slider = ipywidgets.IntSlider(value=7)
    models = [dashboard, player, *player.children, slider]
    ids = [model.model_id for model in models]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Exported <i>offline</i>"),
        nbformat.v4.new_code_cell("dashboard", outputs=[view_output(dashboard.model_id, "d")]),
        nbformat.v4.new_code_cell("again", outputs=[view_output(dashboard.model_id, "d")]),
        nbformat.v4.new_code_cell("player", outputs=[view_output(player.model_id, "p")]),
        nbformat.v4.new_code_cell("slider", outputs=[view_output(slider.model_id, "IntSlider(7)")]),
        nbformat.v4.new_code_cell("lost", outputs=[view_output("0" * 32, "<Dashboard of x>")]),
    ]
    notebook.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {m.model_id: saved(m) for m in models},
        }
    }
    try:
        html, counts = notebook_html(notebook, name="exported")
    finally:
        for model in models:
            model.close()

    assert counts == {"dashboards": 3, "missing": 1}  # the dashboard twice, the one in the box
    soup = BeautifulSoup(html, "html.parser")
    assert [state["view"] for state in states(html)] == ["dashboard"] * 3
    models = [block["data-sv-model"] for block in soup.select("[data-sv-widget]")]
    assert models == [ids[0], ids[0], ids[3]]  # views of one model share it in the page
    assert soup.select_one("h1").get_text().startswith("Exported")
    assert "IntSlider(7)" in soup.get_text()  # another library's widget: its text
    (note,) = soup.select(".sv-export-missing")
    assert note.get_text() == MISSING_STATE.format(kind=" (Dashboard)")
    # One copy of the front-end, nothing fetched, and nbconvert's widget embedder left out.
    assert len(soup.select("#sv-module")) == 1
    assert bundle_path("widget.js").read_text(encoding="utf-8")[:200] in json.loads(
        soup.select_one("#sv-module").string
    )
    assert soup.select("script[src], link[href]") == []
    assert WIDGET_STATE not in html and "unpkg.com" not in html and "require.js" not in html
    csp = soup.select_one('meta[http-equiv="Content-Security-Policy"]')["content"]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "</script><b>hi</b>" not in html  # payloads only as escaped JSON


def test_a_notebook_saved_before_a_big_trace_was_all_sent_says_so(monkeypatch, ticked_by_hand):
    import streamviz.widgets._widget as widget_module
    from streamviz.demo import DemoChatModel
    from streamviz.widgets import _live

    monkeypatch.setattr(widget_module, "_FIRST_EVENTS", 100)
    collector = sv.Collector()
    list(collector.stream(DemoChatModel.for_benchmark(1_000), "go"))
    total = len(collector.trace.events)
    partial = TraceWidget(collector.trace)
    _live.unfollow(partial)  # saved before the update thread sent the rest
    whole = TraceWidget(collector.trace)
    whole.settle()
    partial_id = partial.model_id
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("partial", outputs=[view_output(partial.model_id, "p")]),
        nbformat.v4.new_code_cell("whole", outputs=[view_output(whole.model_id, "w")]),
    ]
    notebook.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {m.model_id: saved(m) for m in (partial, whole)},
        }
    }
    try:
        html, counts = notebook_html(notebook, name="exported")
    finally:
        partial.close()
        whole.close()
    assert counts == {"dashboards": 2, "missing": 0}
    soup = BeautifulSoup(html, "html.parser")
    (note,) = soup.select(".sv-export-partial")  # above the partial one only
    assert note.get_text() == PARTIAL_STATE.format(count=100, total=total)
    assert note.get_text().startswith(f"Showing 100 of {total:,} events")
    assert note.find_next_sibling(attrs={"data-sv-widget": True})["data-sv-model"] == partial_id
    assert [s["snapshot"]["count"] for s in states(html)] == [100, total]

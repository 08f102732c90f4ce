"""Widgets in a real kernel: what a saved notebook and its HTML export keep."""

from __future__ import annotations

import json

import pytest
from nbconvert import HTMLExporter
from notebook_runs import execute_cells

from streamviz.widgets._wire import saved_state

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELLS = [
    """
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | DemoChatModel(time_to_first_token=0.05, token_delay=0.005) | StrOutputParser()
""",
    'trace = sv.watch(chain, {"topic": "parrot"}, name="parrot joke")\ntrace',
    "trace",
    "sv.show(trace, view='timeline')",
    "print(len(trace.events), trace.result[:30])",
    """
from langchain_core.runnables import RunnableLambda

async def shout(text):  # async only: LangChain cannot stream it synchronously
    return text.upper()

shouted = sv.watch(RunnableLambda(shout), "hello", use_async=True, view="tree")
print(shouted.result)
""",
    "awaited = await sv.awatch(chain, {'topic': 'parrot'}, view='tokens')\n"
    "print(awaited.result[:20])",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_cells(CELLS, tmp_path_factory.mktemp("nb"))


def widget_states(notebook) -> dict[str, dict]:
    saved = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    return {  # the snapshot's columns are saved as buffers: back in their JSON form
        model_id: saved_state(model)
        for model_id, model in saved.items()
        if model["state"].get("_anywidget_id", "").startswith("streamviz.")
    }


def views(cell) -> list[str]:
    return [
        output["data"][WIDGET_VIEW]["model_id"]
        for output in cell.outputs
        if WIDGET_VIEW in output.get("data", {})
    ]


def test_the_saved_notebook_keeps_the_final_picture(executed):
    errors = [o for c in executed.cells for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    printed = executed.cells[4].outputs[0]["text"]
    n_events = int(printed.split()[0])
    (watched,) = views(executed.cells[1])  # the trace returned by watch is not drawn twice
    state = widget_states(executed)[watched]
    snapshot = state["snapshot"]
    assert snapshot["count"] == n_events
    assert state["live"] is False
    assert state["view"] == "dashboard"
    kinds = snapshot["kinds"]
    model = next(row["i"] for row in snapshot["runs"] if row["type"] == "chat_model")
    tokens = [
        text
        for kind, run, text in zip(
            snapshot["events"]["kind"],
            snapshot["events"]["run"],
            snapshot["events"]["text"],
            strict=True,
        )
        if run == model and kinds[kind] == "on_chat_model_stream"
    ]
    assert "|".join(tokens).startswith("Why| did| the| par|rot|")
    assert all(row["status"] == "ok" for row in snapshot["runs"])


def test_a_trace_displays_itself_as_a_dashboard_and_show_picks_a_view(executed):
    (shown,) = views(executed.cells[2])
    (timeline,) = views(executed.cells[3])
    states = widget_states(executed)
    assert states[shown]["view"] == "dashboard"
    assert states[timeline]["view"] == "timeline"
    assert states[shown]["snapshot"]["count"] == states[timeline]["snapshot"]["count"]


def test_async_runs_work_in_a_cell_where_a_loop_already_runs(executed):
    assert executed.cells[5].outputs[-1]["text"].strip() == "HELLO"
    assert executed.cells[6].outputs[-1]["text"].startswith("Why did the parrot")
    (tree,) = views(executed.cells[5])
    (tokens,) = views(executed.cells[6])
    states = widget_states(executed)
    assert states[tree]["view"] == "tree" and states[tokens]["view"] == "tokens"
    assert states[tokens]["snapshot"]["count"] > 100


def test_the_html_export_carries_the_final_state(executed):
    html, _ = HTMLExporter().from_notebook_node(executed)
    (watched,) = views(executed.cells[1])
    assert WIDGET_STATE in html
    start = html.index('<script type="application/vnd.jupyter.widget-state+json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    state = json.loads(body)["state"][watched]["state"]
    assert state["snapshot"]["count"] == widget_states(executed)[watched]["snapshot"]["count"]
    assert "<script>alert" not in html

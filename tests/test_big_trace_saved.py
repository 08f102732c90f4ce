"""A notebook run headless keeps a big trace whole in its saved widget state.

A widget of a trace of more than 20,000 events starts with its first 20,000 and is sent the rest
by the update thread (docs/protocol.md). nbclient (and ``jupyter nbconvert --execute``) saves
``metadata.widgets`` from the model state as each cell ends: the cell's end waits for the rest.
"""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient
from notebook_runs import CELL_TIMEOUT_S, KERNEL_START_TIMEOUT_S

from streamviz.widgets._wire import saved_state

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TOKENS = 25_000  # a model run of 25,000 tokens: 25,003 events, more than the first 20,000

CELLS = [
    "import streamviz as sv\n"
    "from streamviz.demo import DemoChatModel\n"
    "collector = sv.Collector()\n"
    f"list(collector.stream(DemoChatModel.for_benchmark({TOKENS}), 'go'))\n"
    "trace = collector.trace\n"
    "len(trace.events)",
    "trace",  # the dashboard, as the cell's value
]


def test_a_notebook_executed_headless_saves_a_big_trace_whole(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=KERNEL_START_TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    events = int(notebook.cells[0].outputs[-1]["data"]["text/plain"])
    assert events > 20_000
    models = notebook.metadata["widgets"][WIDGET_STATE]["state"].values()
    snapshots = [state["snapshot"] for state in map(saved_state, models) if "snapshot" in state]
    assert len(snapshots) == 1
    (snapshot,) = snapshots
    # What a reader of the saved notebook (or its HTML export) gets: every event, none pending.
    assert snapshot["count"] == snapshot["total"] == events
    assert len(snapshot["events"]["us"]) == len(snapshot["events"]["text"]) == events

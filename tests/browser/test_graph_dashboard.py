"""LangGraph stream parts in the dashboard, in JupyterLab and Chromium."""

from __future__ import annotations

from labdriver import cell_output, run_notebook, screenshot, texts, wait_for, wait_for_text

GRAPH_CELLS = [
    """\
import streamviz as sv
from streamviz.demo.graphs import build_model_graph, build_subgraph_graph

graph = build_model_graph(time_to_first_token=0.2, token_delay=0.02)
""",
    """\
trace = sv.watch(
    graph,
    {"topic": "ice cream and cats"},
    stream_mode=["values", "updates", "messages", "custom", "tasks"],
    subgraphs=True,
    height=760,
)
""",
    """\
sub = sv.watch(build_subgraph_graph(), {"foo": "foo"}, stream_mode="updates", subgraphs=True,
               view="graph")
""",
]


def test_graph_parts_by_mode_tokens_per_node_and_lanes_on_the_timeline(
    page, jupyter_lab, console_messages
):
    run_notebook(page, jupyter_lab, "graph.ipynb", GRAPH_CELLS)
    output = cell_output(page, 1)
    pane = wait_for(output, ".sv-pane[data-pane=graph] .sv-graph")
    modes = {
        chip.get_attribute("data-mode"): chip.inner_text()
        for chip in pane.locator(".sv-mode[data-mode]").all()
    }
    assert {"values", "updates", "messages", "custom", "tasks"} <= set(modes)

    # LLM tokens per node, then narrowed by the tag on the LLM call.
    pane.locator(".sv-mode[data-mode=messages]").click()
    group = wait_for(pane, ".sv-msg-group[data-node=call_model]")
    calls = group.locator(".sv-msg-call")
    assert calls.count() == 2
    assert "Why| did| the| cat|" in group.inner_text()
    assert "Whisk|ers|" in group.inner_text()
    pane.locator(".sv-graph-chip[data-value=poem]").first.click()
    wait_for_text(pane, ".sv-msg-group", lambda text: "Why| did" not in text)
    assert "Whisk|ers|" in pane.locator(".sv-msg-group").first.inner_text()
    screenshot(page, "graph-messages-by-tag")

    # Custom data and the per-node update.
    pane.locator(".sv-mode[data-mode=custom]").click()
    wait_for_text(pane, ".sv-part-text", "writing a poem")
    pane.locator(".sv-mode[data-mode=updates]").click()
    wait_for(pane, ".sv-part[data-mode=updates]")
    assert "call_model" in texts(pane, ".sv-part .sv-part-node")

    # The shared timeline has a lane per mode with the parts on it.
    canvas = output.locator("canvas.sv-timeline-canvas")
    assert int(canvas.get_attribute("data-parts")) > 50
    assert int(canvas.get_attribute("data-lanes")) == 5
    screenshot(page, "graph-dashboard")

    # A subgraph's updates name their namespace.
    sub = cell_output(page, 2)
    wait_for(sub, ".sv-root[data-view=graph]")
    wait_for_text(sub, ".sv-part-ns", "node_2")
    nodes = texts(sub, ".sv-part .sv-part-node")
    assert nodes[:3] == ["node_1", "subgraph_node_1", "subgraph_node_2"]
    screenshot(page, "graph-subgraph-updates", sub)
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages

"""The graph pane's diff / full toggle and a state carried over from the thread, in Chromium.

An offline page (``write_html``) of the approval graph's third run on one thread: its first
values row is the thread's earlier state (said so), and the diff view shows each state's change.
"""

from __future__ import annotations

from labdriver import screenshot
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from test_offline_html import open_offline

import streamviz as sv
from streamviz.demo.graphs import build_approval_graph
from streamviz.export import write_html


def test_values_rows_toggle_between_diff_and_full_state(browser, tmp_path):
    graph = build_approval_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    graph.invoke({"topic": "cats"}, config)
    graph.invoke(Command(resume="yes"), config)
    trace = sv.watch(
        graph,
        {"topic": "dogs"},
        config,
        display=False,
        stream_mode=["values", "updates", "checkpoints"],
        name="approval on a used thread",
    )
    path = write_html(trace, tmp_path / "thread.html", view="graph", height=480)
    page, blocked, errors = open_offline(browser, path)
    rows = page.locator(".sv-part[data-mode=values] .sv-part-text")
    assert rows.first.inner_text().startswith(
        "⟲ state carried over from the thread, with this run's input · {"
    )
    screenshot(page, "graph-values-full")

    page.click(".sv-graph-view .sv-toggle[data-view=diff]")
    page.wait_for_selector(".sv-graph[data-part-view=diff]")
    assert rows.nth(1).inner_text() == (
        "~ draft: 'A short note about cats' → 'A short note about dogs'"
    )
    assert rows.nth(2).inner_text() == "(no change)"
    screenshot(page, "graph-values-diff")
    page.click(".sv-mode[data-mode=checkpoints]")
    page.wait_for_selector(".sv-part[data-mode=checkpoints]")
    assert page.locator(".sv-part[data-mode=checkpoints] .sv-part-text").nth(1).inner_text() == (
        "~ topic: 'cats' → 'dogs'"
    )
    page.locator(".sv-part[data-mode=checkpoints]").first.click()
    page.wait_for_selector(".sv-graph-change:not([hidden])")
    assert page.inner_text(".sv-graph-change-note") == (
        "change · ⟲ state before this run (carried over from the thread)"
    )
    assert page.inner_text(".sv-graph-diff").splitlines()[0] == "+ topic: 'cats'"
    screenshot(page, "graph-checkpoints-diff")
    assert blocked == [] and errors == []
    page.close()

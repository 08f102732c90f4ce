"""`streamviz demo --html`: a standalone dashboard page that works with the network off."""

from __future__ import annotations

import subprocess
import sys

import pytest

import streamviz as sv
from streamviz.export import write_html


def open_offline(browser, path, *, dashboards: bool = True):
    """Open ``path`` in a page that lets nothing but local files load.

    Returns (page, blocked URLs, page errors); with ``dashboards`` once they were all drawn.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    blocked: list[str] = []
    errors: list[str] = []

    def gate(route):
        if route.request.url.startswith(("file://", "blob:", "data:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", gate)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    if dashboards:
        page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    return page, blocked, errors


def test_the_demo_writes_a_dashboard_page_that_works_offline(browser, tmp_path):
    path = tmp_path / "parrot.html"
    subprocess.run(
        [sys.executable, "-m", "streamviz", "demo", "--html", str(path), "--fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    page, blocked, errors = open_offline(browser, path)
    pieces = page.inner_text(".sv-token-run .sv-token-pieces")
    assert pieces.startswith("Why| did| the| par|rot|")
    assert page.locator(".sv-row").count() > 5
    assert page.get_attribute("canvas.sv-timeline-canvas", "data-bars") == "4"
    assert "155 of 155 events" in page.inner_text(".sv-count")
    # The filters work without a kernel.
    page.click(".sv-chip[data-value='chat_model']")
    page.wait_for_function(
        "() => !document.querySelector('.sv-count').textContent.startsWith('155 of')"
    )
    assert blocked == [] and errors == []
    page.screenshot(path=str(tmp_path / "offline.png"))
    page.close()


@pytest.mark.parametrize("view", ["timeline", "table", "tree", "tokens"])
def test_every_view_exports_and_hostile_text_stays_text(browser, tmp_path, view):
    collector = sv.Collector(name="</script><script>window.__pwned=1</script>")
    from langchain_core.runnables import RunnableLambda

    RunnableLambda(lambda x: x).with_config(run_name="<img src=x onerror=window.__pwned=2>").invoke(
        "</script><b>hi</b>", {"callbacks": [collector]}
    )
    path = write_html(collector.trace, tmp_path / f"{view}.html", view=view)
    page, blocked, errors = open_offline(browser, path)
    assert page.evaluate("() => window.__pwned ?? null") is None
    assert page.locator(".sv-root script, .sv-root img").count() == 0
    assert f'data-view="{view}"' in page.inner_html("#sv")
    assert blocked == [] and errors == []
    page.close()


def test_an_agent_page_shows_each_tool_call_and_links_it_to_its_tool_run(browser, tmp_path):
    from labdriver import screenshot

    from streamviz.demo import DemoToolModel
    from streamviz.demo.graphs import build_tool_agent_graph

    graph = build_tool_agent_graph(DemoToolModel(token_delay=0.02))
    question = {"messages": [("user", "weather in Paris and time in Tokyo?")]}
    trace = sv.watch(graph, question, name="tool agent", display=False)
    path = write_html(trace, tmp_path / "agent.html", view="tree")
    page, blocked, errors = open_offline(browser, path)
    calls = page.locator(".sv-tree-call")
    assert calls.all_inner_texts() == [
        "→ get_weather(city: Paris, unit: celsius)",
        "→ get_time(city: Tokyo)",
        "answers call_weather of DemoToolModel",
        "answers call_time of DemoToolModel",
    ]
    screenshot(page, "tool-calls-tree")
    calls.nth(1).click()
    selected = page.locator(".sv-tree-node.sv-selected")
    assert selected.locator(".sv-tree-name").inner_text() == "get_time"
    selected.locator(".sv-tree-call").click()
    assert page.locator(".sv-tree-node.sv-selected .sv-tree-name").inner_text() == "DemoToolModel"
    screenshot(page, "tool-calls-tree-linked")
    assert blocked == [] and errors == []
    page.close()

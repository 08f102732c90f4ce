"""Token usage, cost and a detached run on a dashboard page (an offline page: no kernel needed)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from labdriver import screenshot
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from test_offline_html import open_offline

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.export import write_html


def test_the_dashboard_shows_usage_cost_and_a_detached_run(browser, tmp_path):
    prompt = ChatPromptTemplate.from_messages([("human", "tell me a joke about {topic}")])
    chain = RunnableParallel(
        short=prompt | DemoChatModel(model_name="demo-small", token_delay=0.005),
        long=prompt | DemoChatModel(model_name="demo-large", token_delay=0.005),
    )
    reverse = RunnableLambda(lambda word: word[::-1], name="reverse_word")
    pool = ThreadPoolExecutor(max_workers=1)
    lost = RunnableLambda(lambda word: pool.submit(reverse.invoke, word).result(), name="pool_tool")
    sv.prices({"demo-small": {"input": 0.15, "output": 0.6}})
    try:
        with sv.capture(name="usage", threads=True) as trace:
            for _ in chain.stream({"topic": "parrot"}):
                pass
            lost.invoke("hello")
        pool.shutdown()
        total = trace.usage_total()
        path = write_html(trace, tmp_path / "usage.html", view="dashboard")
    finally:
        sv.prices({})
    page, blocked, errors = open_offline(browser, path)
    header = page.locator(".sv-usage-total")
    assert header.is_visible()
    assert header.inner_text() == f"{total.total:,} tokens · ${total.cost:.6f} + unknown"
    root = page.locator(".sv-tree-node").first
    assert root.locator(".sv-usage").inner_text().startswith(f"{total.total:,} tok · $")
    flag = page.locator(".sv-tree-detached")
    assert flag.count() == 1 and flag.is_visible()
    assert (
        flag.inner_text()
        == "⚠ possibly detached: callbacks not propagated (likely inside pool_tool)"
    )
    # the timeline's tooltip over the root's bar tells its usage
    canvas = page.locator("canvas.sv-timeline-canvas")
    box = canvas.bounding_box()
    tooltip = page.locator(".sv-timeline .sv-tooltip")
    for dy in range(2, 120, 3):  # down from the canvas top to the first bar
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + dy)
        if tooltip.is_visible() and "out tokens" in tooltip.inner_text():
            break
    text = tooltip.inner_text()
    assert text.splitlines()[0].startswith("RunnableParallel"), text
    assert f"{total.input:,} in · {total.output:,} out tokens" in text, text
    screenshot(page, "usage-timeline-tooltip", page.locator("[data-pane='timeline']"))
    page.mouse.move(0, 0)
    screenshot(page, "usage-dashboard")
    screenshot(page, "usage-tree", page.locator("[data-pane='tree']"))
    flag.click()
    selected = page.locator(".sv-tree-node.sv-selected .sv-tree-name")
    assert selected.inner_text() == "pool_tool"
    assert blocked == [] and errors == []
    page.close()

"""The URL `make demo` prints without a display opens the tour notebook itself in Chromium."""

from __future__ import annotations

import json

from demo_run import running_demo
from labdriver import LAB_LOAD_TIMEOUT_MS, VIEWPORT, screenshot

CURRENT_TAB = ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def test_the_printed_url_opens_the_tour_not_the_launcher(browser, tmp_path):
    quiet = {  # the user's settings (copied into the demo's): no news toast over the notebook
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": json.dumps(
            {"fetchNews": "false", "checkForUpdates": False}
        )
    }
    with running_demo(tmp_path, quiet) as demo:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(demo.url)
            panel = page.locator(NOTEBOOK)
            panel.locator(".jp-Cell").first.wait_for(timeout=LAB_LOAD_TIMEOUT_MS)
            assert page.inner_text(CURRENT_TAB) == "00_tour.ipynb"
            assert (
                panel.locator(".jp-MarkdownCell h1")
                .first.inner_text()
                .startswith("A tour of streamviz")
            )
            assert page.locator(".jp-Launcher").count() == 0
            screenshot(page, "demo-opens-the-tour")
            assert errors == []
        finally:
            context.close()

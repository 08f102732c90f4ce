"""Real-browser fixtures: one JupyterLab per session, a Chromium per module, a page per test.

Without a browser or Playwright these tests skip locally and fail under CI (``CI=true``/``1``):
CI must never pass by skipping them. On a failing test the page's screenshot, its console and the
server log of that test land in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

import pytest
from helpers import missing
from labdriver import (
    CHROMIUM_ARGS,
    VIEWPORT,
    JupyterLab,
    artifact_path,
    find_chromium,
    screenshot,
)

HOW_TO_GET_CHROMIUM = (
    "apt-get install -y chromium (Debian/Ubuntu), or set STREAMVIZ_CHROMIUM=/path/to/chrome"
)
_REPORTS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the Chromium to drive: `STREAMVIZ_CHROMIUM`, else chromium on PATH."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("the playwright package is missing: pip install -e '.[test]'")
    path = find_chromium()
    if os.environ.get("STREAMVIZ_CHROMIUM") and not os.access(path, os.X_OK):
        pytest.fail(f"STREAMVIZ_CHROMIUM={path} is not an executable file", pytrace=False)
    if not path:
        missing(f"no Chromium found: {HOW_TO_GET_CHROMIUM}")
    return path


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory) -> Iterator[JupyterLab]:
    """An isolated JupyterLab server (see `labdriver.JupyterLab`), stopped after the session."""
    lab = JupyterLab.start(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield lab
    finally:
        if stragglers := lab.stop():
            warnings.warn(f"killed processes the server left behind: {stragglers}", stacklevel=1)


@pytest.fixture(scope="module")
def browser(chromium_path):
    """A headless Chromium (Playwright sync API), closed after each test module.

    Not session-scoped: while Playwright's sync API is started it marks its event loop as running
    in this thread, so every later ``asyncio.run`` in the session (the other test files) would
    fail with "cannot be called from a running event loop". A launch costs ~1.5 s.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def console_messages() -> list[str]:
    """Console errors/warnings and uncaught page errors of this test's page, as text lines."""
    return []


@pytest.fixture
def page(request, browser, jupyter_lab, console_messages):
    """A fresh browser context and page (1400x1000) for one test.

    Collects console warnings/errors and uncaught exceptions into `console_messages`. If the test
    fails, saves ``<test>-failure.png``, ``<test>-console.log`` and ``<test>-server.log`` (the
    server log written during the test) under ``test-artifacts/browser/``.
    """
    log_start = jupyter_lab.log_size()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            m.type in {"error", "warning"}
            and console_messages.append(f"[{m.type}] {m.text} ({m.location.get('url', '')})")
        ),
    )
    page.on("pageerror", lambda e: console_messages.append(f"[pageerror] {e}"))
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            name = request.node.nodeid.removeprefix("tests/browser/")
            try:
                screenshot(page, f"{name}-failure")
            except Exception as e:  # the page may be gone; the logs still matter
                console_messages.append(f"[harness] failure screenshot failed: {e}")
            artifact_path(f"{name}-console.log").write_text("\n".join(console_messages) + "\n")
            artifact_path(f"{name}-server.log").write_text(jupyter_lab.log(since=log_start))
        # The next test starts with no kernel (reopening a notebook would reuse its kernel).
        # Best effort: JupyterLab.stop() ends whatever is left.
        with contextlib.suppress(Exception):
            page.evaluate("() => window.jupyterapp?.serviceManager.sessions.shutdownAll()")
        context.close()

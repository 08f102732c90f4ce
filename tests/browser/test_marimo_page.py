"""streamviz in marimo: `marimo run` of a small notebook, driven in Chromium.

The notebook watches the offline demo chain (~2.7 s of tokens), then prints the trace's event
count, shows the trace as a cell's last value and through ``sv.show``. The test proves, in the
rendered page:

- the live dashboard appears in the watch cell and its header's event count changes while that
  cell still runs (marimo marks a running cell's output with ``marimo-output-loading``);
- the watch cell ends with one dashboard (``trace`` as its last value keeps it) holding the whole
  trace: its count equals the count the notebook prints;
- a trace as a later cell's last value, and ``sv.show(trace, view="timeline")``, draw it too.

The server runs in its own process group (stopped by group) with HOME and the XDG dirs in a temp
dir, so neither the developer's marimo config nor their state is read or changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from labdriver import (
    VIEWPORT,
    artifact_path,
    free_port,
    marked_processes,
    poll,
    screenshot,
)

SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 15
PAGE_TIMEOUT_MS = 60_000  # page load, notebook imports (langchain) and the watch itself
RUN_TIMEOUT_MS = 90_000  # the whole notebook has run

NOTEBOOK = """\
import marimo

app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo
    import streamviz as sv
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from streamviz.demo import DemoChatModel

    chain = (
        ChatPromptTemplate.from_template("tell me a joke about {topic}")
        | DemoChatModel(token_delay=0.05)
        | StrOutputParser()
    )
    return chain, mo, sv


@app.cell
def _(chain, sv):
    trace = sv.watch(chain, {"topic": "parrot"}, name="parrot joke", height=520)
    trace
    return (trace,)


@app.cell
def _(mo, trace):
    mo.plain_text(f"trace-events={len(trace)} runs={len(trace.runs)}")
    return


@app.cell
def _(trace):
    trace
    return


@app.cell
def _(sv, trace):
    sv.show(trace, view="timeline", height=260)
    return


if __name__ == "__main__":
    app.run()
"""

# Every animation frame, the first streamviz widget's header count and whether the cell that
# holds it is still running (marimo marks that output `marimo-output-loading`); a sample is
# kept when either changes. marimo draws widgets in a shadow root, hence the explicit walk.
RECORDER = """
(() => {
  const samples = [];
  window.__svSamples = samples;
  const t0 = performance.now();
  const sample = () => {
    const widget = document.querySelector("marimo-anywidget");
    const stats = widget && widget.shadowRoot && widget.shadowRoot.querySelector(".sv-stats");
    if (stats) {
      const text = stats.textContent.trim();
      const area = widget.closest(".output-area");
      const running = !!area && area.classList.contains("marimo-output-loading");
      const last = samples[samples.length - 1];
      if (!last || last.text !== text || last.running !== running) {
        samples.push({ t: performance.now() - t0, text, running });
      }
    }
    requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
})();
"""

STATS = re.compile(r"(\d[\d,]*) runs? · (\d[\d,]*) events?")


def event_count(stats: str) -> int | None:
    match = STATS.search(stats)
    return int(match.group(2).replace(",", "")) if match else None


@dataclass
class MarimoServer:
    """A `marimo run` of one notebook on a loopback port, in its own process group."""

    url: str
    home: Path
    log_path: Path
    process: subprocess.Popen

    MARKER = "STREAMVIZ_BROWSER_TEST_MARIMO"

    @classmethod
    def start(cls, home: Path, notebook: Path, *, attempts: int = 3) -> MarimoServer:
        xdg = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")
        dirs = {name: home / name.lower() for name in xdg}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
        env.update({"HOME": str(home), "PYTHONUNBUFFERED": "1", cls.MARKER: str(home)})
        log_path = home / "marimo.log"
        error = ""
        for _ in range(attempts):
            port = free_port()
            cmd = [
                sys.executable, "-m", "marimo", "run", str(notebook),
                "--headless", "--host", "127.0.0.1", "--port", str(port), "--no-token",
                "--no-sandbox", "--no-skew-protection",
            ]  # fmt: skip
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    cmd, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            server = cls(f"http://127.0.0.1:{port}", home, log_path, process)
            if server._wait_ready():
                return server
            error = server.log()[-3000:]
            server.stop()
        raise RuntimeError(f"marimo run did not start; log {log_path}:\n{error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # e.g. the port was taken meanwhile
                return False
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        return False

    def log(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> list[int]:
        """Stop the server's process group; kill anything left with its marker; return those."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(SERVER_STOP_TIMEOUT_S)
        stragglers = marked_processes(self.MARKER, str(self.home))
        for pid in stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return stragglers


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory, chromium_path) -> Iterator[MarimoServer]:
    """`marimo run` of NOTEBOOK (each page load runs the notebook in a fresh session)."""
    pytest.importorskip("marimo", reason="marimo is in the test extra: pip install -e '.[test]'")
    home = tmp_path_factory.mktemp("marimo")
    notebook = home / "watch_notebook.py"
    notebook.write_text(textwrap.dedent(NOTEBOOK))
    server = MarimoServer.start(home, notebook)
    try:
        yield server
    finally:
        stragglers = server.stop()
        assert not stragglers, f"killed processes the marimo server left behind: {stragglers}"


@pytest.fixture
def marimo_page(request, browser, marimo_app):
    """A fresh page with the recorder installed; on failure, screenshot, console and log."""
    messages: list[str] = []
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type in {"error", "warning"} and messages.append(f"[{m.type}] {m.text}"),
    )
    page.on("pageerror", lambda e: messages.append(f"[pageerror] {e}"))
    try:
        yield page
    finally:
        if any(r.failed for r in _reports(request)):
            name = request.node.nodeid.removeprefix("tests/browser/")
            with contextlib.suppress(Exception):
                screenshot(page, f"{name}-failure")
            artifact_path(f"{name}-console.log").write_text("\n".join(messages) + "\n")
            artifact_path(f"{name}-server.log").write_text(marimo_app.log())
        context.close()


def _reports(request) -> list:
    from conftest import _REPORTS

    return list(request.node.stash.get(_REPORTS, {}).values())


def dashboards(page, view: str = "dashboard"):
    return page.locator(f"marimo-anywidget div.sv-root[data-view={view}]")


def test_watch_is_live_in_marimo_and_ends_complete(marimo_page, marimo_app):
    page = marimo_page
    page.goto(marimo_app.url, timeout=PAGE_TIMEOUT_MS)

    # The dashboard appears in the watch cell while it runs.
    first = dashboards(page).first
    first.wait_for(timeout=PAGE_TIMEOUT_MS)
    first.evaluate("(root) => { root.svMark = 'drawn while running'; }")
    with contextlib.suppress(TimeoutError):  # a picture mid-run, if the run is not over by then
        poll(lambda: (event_count(first.locator(".sv-stats").inner_text()) or 0) >= 60)
        screenshot(page, "marimo-watch-running", first)

    # The notebook prints the finished trace's size once the watch cell is done.
    marker = page.get_by_text(re.compile(r"trace-events=\d+ runs=\d+"))
    marker.wait_for(timeout=RUN_TIMEOUT_MS)
    printed = re.search(r"trace-events=(\d+) runs=(\d+)", marker.inner_text())
    assert printed, marker.inner_text()
    events, runs = int(printed.group(1)), int(printed.group(2))
    assert events > 100 and runs == 4  # prompt, model, parser and the sequence

    expected = f"{runs} runs · {events} events"
    stats = first.locator(".sv-stats")
    poll(
        lambda: stats.inner_text() == expected,
        timeout_ms=RUN_TIMEOUT_MS,
        message=lambda: f"the watch dashboard to show {expected!r}, not {stats.inner_text()!r}",
    )
    # `trace` as the watch cell's last value keeps the live dashboard: no second one, and not
    # even a redraw of it (the page element marked during the run is still there).
    watch_cell = page.locator(".output-area", has=page.locator("marimo-anywidget")).first
    assert watch_cell.locator("marimo-anywidget").count() == 1
    assert first.evaluate("(root) => root.svMark") == "drawn while running"

    def recorded_end():
        samples = page.evaluate("() => window.__svSamples")
        last = samples[-1] if samples else {}
        return samples if last.get("text") == expected and not last.get("running") else None

    samples = poll(recorded_end, message="the recorder to see the finished, idle watch cell")
    while_running = [
        count
        for sample in samples
        if sample["running"] and (count := event_count(sample["text"])) is not None
    ]
    distinct = sorted(set(while_running))
    assert len(distinct) >= 3, f"event counts seen while the watch cell ran: {samples}"
    assert distinct[-1] <= events
    print(f"{len(distinct)} event counts while the watch cell ran:", distinct)

    # A trace as a cell's last value shows as its dashboard; sv.show draws the view it names.
    timeline = dashboards(page, "timeline").locator("canvas.sv-timeline-canvas")
    timeline.wait_for(timeout=RUN_TIMEOUT_MS)
    poll(
        lambda: timeline.get_attribute("data-bars") == str(runs),
        message=lambda: f"the sv.show timeline to lay out {runs} runs",
    )
    second = dashboards(page).nth(1)
    second.wait_for(timeout=RUN_TIMEOUT_MS)
    poll(
        lambda: second.locator(".sv-stats").inner_text() == expected,
        message="the dashboard of the trace as a later cell's value",
    )
    assert dashboards(page).count() == 2

    screenshot(page, "marimo-watch-end", first)
    screenshot(page, "marimo-show-timeline", dashboards(page, "timeline"))

"""Drive a real JupyterLab in Debian's Chromium: the server, the notebook UI and the artifacts.

- `JupyterLab` starts an isolated `jupyter lab` (its own config, data, runtime, settings and
  workspace dirs under one temp dir) on a free port and stops it with every kernel it started.
- The page helpers take a Playwright `Page` showing one notebook: open it, run all cells, wait for
  the kernel, read outputs and poll for widget elements. Cell indexes count every cell, from 0.
- Timeouts are named constants in milliseconds, as Playwright takes them.

Why not Galata or pytest-ipywidgets: both need a browser download or a node toolchain at test time;
this machine has Debian's chromium and no internet (NOTES.md, "Browser and notebooks").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nbformat
from nbformat.sign import NotebookNotary

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"

CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}

SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 15
LAB_LOAD_TIMEOUT_MS = 60_000  # first load of the lab bundle takes ~5 s here
KERNEL_READY_TIMEOUT_MS = 60_000
RUN_START_TIMEOUT_MS = 10_000  # Run All clicked -> first prompt leaves "[ ]"
RUN_TIMEOUT_MS = 120_000  # Run All -> every cell has finished
SELECTOR_TIMEOUT_MS = 30_000
POLL_INTERVAL_MS = 50

KERNEL_NAME = "python3"
KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"

# The visible notebook: JupyterLab hides (never removes) panels of other tabs.
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
PROMPT = ".jp-CodeCell .jp-InputArea-prompt"  # markdown cells have an empty prompt too

# User settings written into the isolated settings dir before the server starts.
LAB_SETTINGS = {
    # No "Would you like to get notified about official Jupyter news?" toast over the outputs.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell in the DOM with its real content: the default windowing ('contentVisibility',
    # 'full' before 4.2) skips or detaches off-screen cells, which tests would then miss.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

T = TypeVar("T")


# --------------------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port that was free a moment ago (the server start retries if it is taken since)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterLab:
    """A running, isolated JupyterLab server. Build it with `JupyterLab.start(home)`."""

    url: str
    """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
    root: Path
    """The server's root dir: notebooks written here open at ``/lab/tree/<name>``."""
    home: Path
    """Temp dir holding the isolated Jupyter dirs, the server log and `root`."""
    env: dict[str, str]
    """Environment of the server and its kernels (also used for ``jupyter trust``)."""
    log_path: Path
    python: str
    """The interpreter running the server; kernelspec `python3` maps to it (ipykernel's argv)."""
    process: subprocess.Popen = field(repr=False)
    token: str = ""

    # Marks the server and its kernels (they inherit it) so `stop` finds stragglers exactly.
    MARKER = "STREAMVIZ_BROWSER_TEST_LAB"

    @classmethod
    def start(cls, home: Path, *, python: str = sys.executable, attempts: int = 3) -> JupyterLab:
        """Start JupyterLab under `home` on a free port; retry on a port race."""
        home = Path(home)
        root = home / "notebooks"
        dirs = {
            "JUPYTER_CONFIG_DIR": home / "config",
            "JUPYTER_DATA_DIR": home / "data",  # lab extensions stay found via sys.prefix
            "JUPYTER_RUNTIME_DIR": home / "runtime",
            "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
            "IPYTHONDIR": home / "ipython",  # no user startup files in the kernel
        }
        for d in [root, *dirs.values()]:
            d.mkdir(parents=True, exist_ok=True)
        for plugin, values in LAB_SETTINGS.items():
            path = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_TOKEN", "JPY_"))}
        env.update({k: str(v) for k, v in dirs.items()})
        env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
        env["PYTHONUNBUFFERED"] = "1"
        env[cls.MARKER] = str(home)

        log_path = home / "jupyterlab.log"
        error = ""
        for _ in range(attempts):
            port = free_port()
            cmd = [
                python, "-m", "jupyter", "lab",
                "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
                "--IdentityProvider.token=", "--ServerApp.password=",
                "--ServerApp.port_retries=0",  # fail on a taken port instead of moving silently
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                # window.jupyterapp: lets helpers read cell models (errors) and run commands.
                "--LabApp.expose_app_in_browser=True",
                # The same for Jupyter Notebook 7's pages (/notebooks/...) on this server.
                "--JupyterNotebookApp.expose_app_in_browser=True",
            ]  # fmt: skip
            with log_path.open("ab") as log:
                # Own process group, so stopping it cannot touch pytest; kernels get their own
                # sessions from jupyter_client and are stopped by the server or swept by MARKER.
                proc = subprocess.Popen(
                    cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            lab = cls(f"http://127.0.0.1:{port}", root, home, env, log_path, python, proc)
            if lab._wait_ready():
                return lab
            error = lab.log()[-3000:]
            lab.stop()
        raise RuntimeError(f"JupyterLab did not start; server log {log_path}:\n{error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                self.api("/api/status", timeout=2)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        return False

    def api(self, path: str, method: str = "GET", *, timeout: float = 10) -> Any:
        """Call the server's REST API and decode the JSON reply (None when empty)."""
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log(self, since: int = 0) -> str:
        """The server log (from byte offset `since`)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        """Current log length, to pass to `log(since=...)` later."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def write_notebook(
        self,
        name: str,
        cells: Sequence[str | nbformat.NotebookNode] | nbformat.NotebookNode,
        *,
        trust: bool = True,
    ) -> Path:
        """Write `root/name` with one code cell per string (nbformat cells pass through).

        `cells` may also be a whole notebook (e.g. one executed by nbclient, with its saved
        widget state), written as is.

        The notebook uses the `python3` kernelspec (the server's own Python, i.e. this venv) and
        is signed in the server's trust database (as ``jupyter trust`` would), so widget outputs
        saved in it render as widgets when reopened.
        """
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(cells, nbformat.NotebookNode) and "cells" in cells:
            nb = cells
        else:
            nb = nbformat.v4.new_notebook(
                cells=[nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells]
            )
        nb.metadata.setdefault("language_info", {"name": "python"})
        nb.metadata["kernelspec"] = {
            "name": KERNEL_NAME,
            "display_name": KERNEL_DISPLAY_NAME,
            "language": "python",
        }
        nbformat.write(nb, path)
        if trust:  # what `jupyter trust` does, in-process (a subprocess costs ~1-2 s)
            notary = NotebookNotary(data_dir=self.env["JUPYTER_DATA_DIR"])
            notary.sign(nbformat.read(path, as_version=4))  # the bytes the server will read
        return path

    def notebook_url(self, name: str, front_end: str = "lab") -> str:
        """URL opening `name`: JupyterLab in a reset workspace (no tabs from an earlier test).

        With ``front_end="notebook"``: Jupyter Notebook 7, served by the same server.
        """
        path = urllib.request.pathname2url(name).lstrip("/")
        if front_end == "notebook":
            return f"{self.url}/notebooks/{path}"
        return f"{self.url}/lab/tree/{path}?reset"

    def stop(self) -> list[int]:
        """Stop the server's process group, then kill marked stragglers; return their PIDs.

        SIGTERM makes the server shut its kernels down before it exits (REST deletes would need
        an XSRF token). Kernels run in their own sessions, out of the group's reach, so anything
        still carrying this server's MARKER afterwards is killed.
        """
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(SERVER_STOP_TIMEOUT_S)
        stragglers = marked_processes(self.MARKER, str(self.home))
        for pid in stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return stragglers


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def marked_processes(name: str, value: str) -> list[int]:
    """PIDs of live processes whose environment has ``name=value`` (Linux /proc; else none)."""
    needle = f"{name}={value}".encode()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # zombies are already dead
                    pids.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return pids


def find_chromium() -> str | None:
    """`STREAMVIZ_CHROMIUM` if set, else Debian's chromium on PATH."""
    override = os.environ.get("STREAMVIZ_CHROMIUM")
    if override:
        return override
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


# ---------------------------------------------------------------------------------- page helpers


def poll(
    check: Callable[[], T],
    *,
    timeout_ms: float = SELECTOR_TIMEOUT_MS,
    interval_ms: float = POLL_INTERVAL_MS,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Call `check` until it returns something truthy and return that; raise on timeout."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise TimeoutError(f"timed out after {timeout_ms / 1000:.0f} s waiting for {text}")
        time.sleep(interval_ms / 1000)


def open_notebook(
    page,
    lab: JupyterLab,
    name: str,
    *,
    timeout_ms: float = LAB_LOAD_TIMEOUT_MS,
    front_end: str = "lab",
):
    """Open `name` (in JupyterLab, or Notebook 7 with ``front_end="notebook"``) and wait until
    its kernel is ready; return the notebook."""
    page.goto(lab.notebook_url(name, front_end))
    notebook = page.locator(NOTEBOOK)
    notebook.locator(".jp-Cell").first.wait_for(timeout=timeout_ms)
    wait_kernel_idle(page)
    return notebook


def wait_kernel_idle(page, *, timeout_ms: float = KERNEL_READY_TIMEOUT_MS) -> None:
    """Wait until the notebook's kernel is connected, named in the toolbar and idle.

    The toolbar's execution indicator alone says idle before the kernel exists, so this also
    waits for the kernel name in the toolbar and asks the session itself.
    """
    page.wait_for_function(
        """([name]) => {
          const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
          const label = panel?.querySelector('.jp-KernelName')?.textContent.trim();
          const status = panel?.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
          const kernel = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;
          return label === name && status === 'idle' && kernel?.connectionStatus === 'connected'
            && kernel?.status === 'idle';
        }""",
        arg=[KERNEL_DISPLAY_NAME],
        timeout=timeout_ms,
        polling=100,
    )


def cell(page, index: int):
    """Locator of cell `index` of the visible notebook."""
    return page.locator(NOTEBOOK).locator(".jp-Cell").nth(index)


def cell_output(page, index: int):
    """Locator of cell `index`'s output area (widgets render inside it)."""
    return cell(page, index).locator(".jp-Cell-outputArea")


def prompts(page) -> list[str]:
    """Input prompts of all code cells, e.g. ``['[1]:', '[*]:', '[ ]:']``."""
    return [t.strip() for t in page.locator(NOTEBOOK).locator(PROMPT).all_text_contents()]


def run_all_cells(page, *, timeout_ms: float = RUN_START_TIMEOUT_MS) -> None:
    """Click Run > Run All Cells and wait until the first code cell has started.

    Does not wait for the cells to finish: pair with `wait_cells_done` (or `run_notebook`).
    """
    before = prompts(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    # The label, not data-command: the Run menu's item is 'runmenu:run-all', which differs
    # from the palette's 'notebook:run-all-cells' and has changed between versions.
    item = page.locator(".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('Run All Cells'))")
    item.wait_for(state="visible")
    poll(lambda: "lm-mod-disabled" not in (item.get_attribute("class") or ""),
         timeout_ms=timeout_ms, message="Run All Cells to be enabled")  # fmt: skip
    item.click()
    poll(
        lambda: (p := prompts(page)) and p[0] != "[ ]:" and p != before,
        timeout_ms=timeout_ms,
        message=lambda: f"Run All to start the first cell; prompts {prompts(page)}",
    )


def wait_cells_done(page, *, timeout_ms: float = RUN_TIMEOUT_MS) -> list[str]:
    """Wait until no cell is running or queued and the kernel is idle; return the prompts.

    Raises `AssertionError` naming each error output (``cell N: EName: value``), if the first
    prompt is not ``[1]:`` (the kernel was not fresh or the run did not start at the top), or
    if a code cell has no execution count (JupyterLab never runs an empty code cell).
    """
    poll(
        lambda: "[*]:" not in prompts(page),
        timeout_ms=timeout_ms,
        message=lambda: f"all cells to finish; prompts {prompts(page)}",
    )
    wait_kernel_idle(page, timeout_ms=timeout_ms)
    errors = error_outputs(page)
    assert not errors, f"cells raised: {errors}"
    done = prompts(page)
    assert done and done[0] == "[1]:", f"first prompt is {done[:1]}, expected [1]: ({done})"
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in done), f"not every cell ran: {done}"
    return done


def run_notebook(
    page,
    lab: JupyterLab,
    name: str,
    cells: Sequence[str | nbformat.NotebookNode] | None = None,
    *,
    wait: bool = True,
    timeout_ms: float = RUN_TIMEOUT_MS,
    front_end: str = "lab",
):
    """Write `name` (if `cells` given), open it, Run All; with `wait`, wait for the end.

    With ``wait=False`` it returns as soon as the first cell started, so a test can watch a
    streaming widget while later cells still run, then call `wait_cells_done`.
    Returns the notebook locator.
    """
    if cells is not None:
        lab.write_notebook(name, cells)
    notebook = open_notebook(page, lab, name, front_end=front_end)
    run_all_cells(page)
    if wait:
        wait_cells_done(page, timeout_ms=timeout_ms)
    return notebook


def error_outputs(page) -> list[str]:
    """``'cell N: EName: value'`` for each error output in the visible notebook's model."""
    return page.evaluate(
        """() => {
          const nb = window.jupyterapp?.shell.currentWidget?.content;
          const found = [];
          (nb?.widgets ?? []).forEach((cell, i) => {
            for (const o of cell.model.toJSON().outputs ?? []) {
              if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
            }
          });
          return found;
        }"""
    )


def wait_for(root, selector: str, *, timeout_ms: float = SELECTOR_TIMEOUT_MS, state="visible"):
    """Wait for `selector` under `root` (a page or locator); return its first match's locator."""
    locator = root.locator(selector).first
    locator.wait_for(state=state, timeout=timeout_ms)
    return locator


def texts(root, selector: str) -> list[str]:
    """Stripped ``textContent`` of every match of `selector` under `root`, in document order."""
    return [t.strip() for t in root.locator(selector).all_text_contents()]


def wait_for_text(
    root,
    selector: str,
    expected: str | re.Pattern[str] | Callable[[str], bool],
    *,
    timeout_ms: float = SELECTOR_TIMEOUT_MS,
) -> str:
    """Poll until the joined text of `selector` under `root` matches; return that text.

    `expected` is a substring, a compiled regex (searched) or a predicate.
    """
    if isinstance(expected, str):
        match = lambda text: expected in text  # noqa: E731
    elif isinstance(expected, re.Pattern):
        match = expected.search
    else:
        match = expected
    last = [""]

    def check() -> str | None:
        last[0] = "\n".join(texts(root, selector))
        return last[0] if match(last[0]) else None

    return poll(
        check,
        timeout_ms=timeout_ms,
        message=lambda: f"{selector!r} to match {expected!r}; last text {last[0]!r}",
    )


class TextRecorder:
    """Every distinct text of a selector as the browser renders it, stamped in the page.

    A `MutationObserver` samples on each DOM change, so fast updates between two Python polls are
    not lost. Each sample is ``{"t": ms since start, "text": joined textContent, "running": bool}``
    where `running` says a cell of the visible notebook was still running or queued (``[*]``),
    which is how a test proves output appeared *before* the run ended.
    """

    _count = 0

    def __init__(self, page, selector: str):
        TextRecorder._count += 1
        self.page, self.selector, self.key = page, selector, f"rec{TextRecorder._count}"
        page.evaluate(
            """([selector, key, notebook, prompt]) => {
              const store = (window.__streamvizRecorders ??= {});
              const samples = [];
              const t0 = performance.now();
              const sample = () => {
                const text = [...document.querySelectorAll(selector)]
                  .map(e => e.textContent.trim()).join('\\n');
                if (samples.length && samples[samples.length - 1].text === text) return;
                const running = [...document.querySelectorAll(`${notebook} ${prompt}`)]
                  .some(p => p.textContent.includes('*'));
                samples.push({t: performance.now() - t0, text, running});
              };
              const observer = new MutationObserver(sample);
              observer.observe(document.body,
                               {subtree: true, childList: true, characterData: true});
              sample();
              store[key] = {samples, observer};
            }""",
            [selector, self.key, NOTEBOOK, PROMPT],
        )

    def samples(self) -> list[dict[str, Any]]:
        """The samples so far, oldest first (the first is the text when recording started)."""
        return self.page.evaluate("(key) => window.__streamvizRecorders[key].samples", self.key)

    def values(self) -> list[str]:
        """The distinct texts so far, oldest first."""
        return [s["text"] for s in self.samples()]

    def stop(self) -> list[dict[str, Any]]:
        """Disconnect the observer; return the samples."""
        samples = self.samples()
        self.page.evaluate(
            "(key) => window.__streamvizRecorders[key].observer.disconnect()", self.key
        )
        return samples


def record_text(page, selector: str) -> TextRecorder:
    """Start recording every text `selector` shows (see `TextRecorder`)."""
    return TextRecorder(page, selector)


def artifact_path(name: str) -> Path:
    """`test-artifacts/browser/<name>` with the dir created; unsafe characters become '_'."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / re.sub(r"[^\w.+-]+", "_", name).strip("_")


def screenshot(page, name: str, locator=None) -> Path:
    """Save a PNG of the page (or of `locator` only) as ``test-artifacts/browser/<name>.png``."""
    path = artifact_path(name if name.endswith(".png") else f"{name}.png")
    (locator or page).screenshot(path=str(path))
    return path

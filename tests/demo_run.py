"""Run `python -m streamviz demo` as a person would without a display, in isolated Jupyter dirs.

`running_demo(tmp_path)` starts the command (no DISPLAY; every Jupyter dir, the demo's state dir
and the user's JupyterLab settings under ``tmp_path``), reads what it prints until the URL of the
tour appears, waits until that server answers, and yields a `Demo`. On exit it sends SIGTERM to
the command alone (as a terminal's Ctrl+C or a process manager would stop it), which must stop
JupyterLab itself, then sweeps the process group in case it did not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"(http://127\.0\.0\.1:(\d+))(/lab/tree/00_tour\.ipynb)\?token=(\w+)")
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30


@dataclass
class Demo:
    process: subprocess.Popen
    output: list[str]
    """The lines the command printed so far (up to and including the URL's line)."""
    url: str
    base: str
    port: int
    token: str
    user_settings: Path
    state: Path

    def api(self, path: str) -> Any:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def children(self) -> list[int]:
        """PIDs of the command's child processes (JupyterLab)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []


@contextlib.contextmanager
def running_demo(tmp_path: Path, user_settings: dict[str, str] | None = None) -> Iterator[Demo]:
    """Start the demo; ``user_settings``: the user's settings files (relative path -> text)."""
    settings = tmp_path / "user-settings"
    settings.mkdir(parents=True, exist_ok=True)
    for name, text in (user_settings or {}).items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update({
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamviz", "demo"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        match = None
        deadline = time.monotonic() + START_TIMEOUT_S
        while match is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = URL.search(line)
        assert match, f"no URL of the tour in:\n{''.join(lines)}"
        demo = Demo(
            process, lines, match.group(0), match.group(1), int(match.group(2)), match.group(4),
            settings, tmp_path / "state" / "streamviz" / "demo",
        )  # fmt: skip
        # The rest of what it prints at start (the SSH line, the settings line) follows at once.
        for _ in range(2):
            lines.append(process.stdout.readline())
        demo.api("/api/status")  # printed only once the server answers
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # whatever it left behind
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()

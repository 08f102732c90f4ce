"""A real ``langgraph dev`` server on the example graphs, for tests and benchmarks.

- :func:`prepare_app` copies ``notebooks/langgraph`` (``langgraph.json``, ``graphs.py``,
  ``auth.py``) into a fresh directory, where the server keeps its state (``.langgraph_api/``),
  and adds ``model_fast``: the model graph without delays, so tests do not wait for tokens.
- :meth:`LangGraphServer.start` runs the CLI from the venv (``sys.executable``'s ``bin/``)
  offline, on a free loopback port, in a new session (its own process group), and waits until
  ``GET /ok`` answers. The CLI moves silently to another port when the one asked for is busy, so
  the URL is the one the server reports in its log, checked against the port asked for.
- :meth:`LangGraphServer.stop` ends the process group: SIGTERM, then SIGKILL.
  The log is kept in ``test-artifacts/langgraph/<name>.log``.
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP_DIR = REPO / "notebooks" / "langgraph"
ARTIFACTS = REPO / "test-artifacts" / "langgraph"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}
FAST_GRAPHS = '''"""Test-only graphs: the model graph without token delays."""

from streamviz.demo.graphs import build_model_graph

model_fast = build_model_graph(time_to_first_token=0, token_delay=0)
'''
_REPORTED_URL = re.compile(r"API: (?:\x1b\[[0-9;]*m)?(http://[0-9.]+:(\d+))")


def cli_path() -> Path | None:
    """The ``langgraph`` executable next to this Python, or ``None`` if it is not installed."""
    path = Path(sys.executable).parent / "langgraph"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_app(directory: Path, *, auth: bool = False) -> Path:
    """Copy the example app into ``directory`` (created); return its ``langgraph.json``.

    With ``auth`` the config is ``langgraph-auth.json`` (custom auth from ``auth.py``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("graphs.py", "auth.py"):
        shutil.copy(APP_DIR / name, directory / name)
    (directory / "fast_graphs.py").write_text(FAST_GRAPHS)
    source = APP_DIR / ("langgraph-auth.json" if auth else "langgraph.json")
    config = json.loads(source.read_text())
    config["graphs"]["model_fast"] = "./fast_graphs.py:model_fast"
    target = directory / "langgraph.json"
    target.write_text(json.dumps(config, indent=2))
    return target


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class LangGraphServer:
    """A running ``langgraph dev`` process and where it answers."""

    url: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    started_in_s: float = 0.0
    _log: object = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        name: str = "server",
        auth: bool = False,
        env: dict[str, str] | None = None,
        timeout_s: float = START_TIMEOUT_S,
    ) -> LangGraphServer:
        """Prepare ``workdir`` and start a server there; raise ``RuntimeError`` if it fails."""
        cli = cli_path()
        if cli is None:
            raise FileNotFoundError(f"no langgraph CLI next to {sys.executable}")
        prepare_app(workdir, auth=auth)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log_path = ARTIFACTS / f"{name}.log"
        port = free_port()
        command = [
            str(cli), "dev", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
            "--no-reload", "--config", "langgraph.json",
        ]  # fmt: skip
        log = log_path.open("w", encoding="utf-8")
        log.write(f"$ {' '.join(command)}  (in {workdir})\n")
        log.flush()
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, **OFFLINE_ENV, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = cls(f"http://127.0.0.1:{port}", process, workdir, log_path, _log=log)
        try:
            server._wait_ready(port, started + timeout_s)
        except BaseException:
            server.stop()
            raise
        server.started_in_s = time.perf_counter() - started
        return server

    def _wait_ready(self, port: int, deadline: float) -> None:
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"langgraph dev exited with {self.process.returncode}; see {self.log_path}"
                )
            reported = _REPORTED_URL.search(self.log_text())
            if reported is not None and int(reported.group(2)) != port:
                # The CLI moved to another port (ours was taken meanwhile): follow it.
                self.url = reported.group(1).replace("localhost", "127.0.0.1")
            if reported is not None and _answers(self.url):
                return
            time.sleep(0.1)
        raise RuntimeError(f"langgraph dev did not answer at {self.url}; see {self.log_path}")

    def log_text(self) -> str:
        """What the server has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after a grace period."""
        # start_new_session made the CLI the leader of its own group: the group id is its pid
        # (kept reserved by Linux while any member lives, so never someone else's group).
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        # Workers the CLI started share its group: none may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

"""A local LangGraph API server (``langgraph dev``) on the example graphs, offline.

``with local_server() as server:`` starts the in-memory server of ``langgraph-cli[inmem]`` on
:mod:`streamviz.demo.graphs` (``joke``, ``subgraphs``, ``model``, ``nested``, ``failing``,
``approval``, ``fanout``, ``tool_agent``) in a
fresh temporary folder, on a free loopback port, with analytics, version checks and tracing off,
and stops it (its whole process group) at the end of the block. It is what the notebooks use to
show LangGraph's streaming API guide (``client.runs.stream``) without a network.

Examples
--------
>>> from langgraph_sdk import get_client
>>> with local_server() as server:  # doctest: +SKIP
...     client = get_client(url=server.url)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["OFFLINE_ENV", "LangGraphServer", "cli_path", "free_port", "local_server", "write_app"]

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}
"""Environment of the server: no analytics, no version check, no tracing (nothing leaves)."""
_REPORTED_URL = re.compile(r"API: (?:\x1b\[[0-9;]*m)?(http://[0-9.]+:(\d+))")
EXAMPLE_GRAPHS = {
    "joke": "joke_graph",
    "subgraphs": "subgraph_graph",
    "model": "model_graph",
    "nested": "nested_graph",
    "failing": "failing_graph",
    "approval": "approval_graph",
    "fanout": "fanout_graph",
    "tool_agent": "tool_agent_graph",
}


def write_app(directory: Path, graphs: dict[str, str] | None = None) -> Path:
    """Write a LangGraph app serving the example graphs into ``directory``; return its config.

    ``graphs`` maps more graph ids to ``"./file.py:variable"`` specs (files you add yourself).
    """
    directory.mkdir(parents=True, exist_ok=True)
    names = ", ".join(sorted(EXAMPLE_GRAPHS.values()))
    (directory / "graphs.py").write_text(f"from streamviz.demo.graphs import {names}\n")
    config = {
        "dependencies": ["."],
        "graphs": {
            **{key: f"./graphs.py:{variable}" for key, variable in EXAMPLE_GRAPHS.items()},
            **(graphs or {}),
        },
        "env": {},
    }
    path = directory / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def local_server(*, timeout_s: float = START_TIMEOUT_S) -> LangGraphServer:
    """Start ``langgraph dev`` on the example graphs in a fresh temporary folder.

    Use it as a context manager (``with local_server() as server:``), or keep the server and call
    ``server.stop()`` when done (a notebook cell); stopping also removes the folder.
    """
    folder = tempfile.TemporaryDirectory(prefix="streamviz-langgraph-")
    try:
        write_app(Path(folder.name))
        server = LangGraphServer.start(Path(folder.name), name="langgraph-dev", timeout_s=timeout_s)
    except BaseException:
        folder.cleanup()
        raise
    server._folder = folder
    return server


def cli_path() -> Path | None:
    """The ``langgraph`` executable next to this Python, or ``None`` if it is not installed."""
    path = Path(sys.executable).parent / "langgraph"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    _folder: object = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        name: str = "server",
        env: dict[str, str] | None = None,
        log_dir: Path | str | None = None,
        timeout_s: float = START_TIMEOUT_S,
    ) -> LangGraphServer:
        """Start a server on the app in ``workdir`` (its ``langgraph.json``).

        The log goes to ``log_dir/<name>.log`` (default: ``workdir``). Raises ``RuntimeError``
        if the server exits or does not answer within ``timeout_s``.
        """
        cli = cli_path()
        if cli is None:
            raise FileNotFoundError(
                f"no langgraph CLI next to {sys.executable}: pip install 'langgraph-cli[inmem]'"
            )
        log_dir = Path(log_dir) if log_dir is not None else workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
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
        if self._folder is not None:
            self._folder.cleanup()  # type: ignore[attr-defined]
            self._folder = None

    def __enter__(self) -> LangGraphServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

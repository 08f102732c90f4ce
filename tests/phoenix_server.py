"""A real Arize Phoenix server (``phoenix serve``), offline, for the OpenTelemetry tests.

- :meth:`PhoenixServer.start` runs Phoenix from the venv (``sys.executable -m phoenix.server.main
  serve``) with its storage (SQLite) in a fresh folder, on free loopback ports (HTTP, which also
  takes OTLP/HTTP at ``/v1/traces``, and gRPC), telemetry off, in a new session (its own process
  group), and waits until ``GET /healthz`` answers. Phoenix migrates its database and imports a
  lot at start: on a busy machine that takes minutes, hence the long default timeout.
- :meth:`PhoenixServer.stop` ends the process group: SIGTERM, then SIGKILL.
  The log is kept in ``test-artifacts/phoenix/<name>.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamviz.demo.server import free_port

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "phoenix"
START_TIMEOUT_S = 600.0
STOP_TIMEOUT_S = 15.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class PhoenixServer:
    """A running Phoenix process and where it answers."""

    url: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    _log: object = field(default=None, repr=False)

    @property
    def otlp_endpoint(self) -> str:
        """Where Phoenix takes OTLP/HTTP spans."""
        return f"{self.url}/v1/traces"

    @classmethod
    def start(
        cls, workdir: Path, *, name: str = "phoenix", timeout_s: float = START_TIMEOUT_S
    ) -> PhoenixServer:
        workdir.mkdir(parents=True, exist_ok=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log_path = ARTIFACTS / f"{name}.log"
        port, grpc_port = free_port(), free_port()
        env = {
            **os.environ,
            "PHOENIX_WORKING_DIR": str(workdir),
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(port),
            "PHOENIX_GRPC_PORT": str(grpc_port),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_LOG_MIGRATIONS": "false",
            "PHOENIX_DB_LOGGING_LEVEL": "warning",
            "PHOENIX_LOGGING_LEVEL": "warning",
        }
        env.pop("PHOENIX_SQL_DATABASE_URL", None)  # its own SQLite file in workdir, nothing else
        env.pop("PHOENIX_COLLECTOR_ENDPOINT", None)
        command = [sys.executable, "-m", "phoenix.server.main", "serve"]
        log = log_path.open("w", encoding="utf-8")
        log.write(f"$ {' '.join(command)}  (port {port}, gRPC {grpc_port}, in {workdir})\n")
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = cls(f"http://127.0.0.1:{port}", process, workdir, log_path, _log=log)
        try:
            deadline = time.perf_counter() + timeout_s
            while not _answers(server.url):
                if process.poll() is not None:
                    raise RuntimeError(f"phoenix exited with {process.returncode}; see {log_path}")
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"phoenix did not answer at {server.url}; see {log_path}")
                time.sleep(0.5)
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after a grace period."""
        group = self.process.pid  # start_new_session: the group id is the leader's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

"""``streamviz demo``: JupyterLab on the tour notebook, with widget-state saving on.

- The server listens on 127.0.0.1 only, on a free port (or ``--port``), with a token of our own,
  so the URL that opens the tour is known before the server prints anything. It is printed once
  the server answers, with the SSH port forward that reaches it from another machine.
- JupyterLab's own log goes to ``jupyterlab.log`` in the demo's state directory (``--state-dir``,
  default ``$XDG_STATE_HOME/streamviz/demo``, i.e. ``~/.local/state/streamviz/demo``).
- Widget-state saving (``@jupyter-widgets/jupyterlab-manager:plugin`` → ``saveState``) is on
  through settings of the demo's own: the user's JupyterLab settings are copied into
  ``<state dir>/lab-settings`` at each start, ``saveState: true`` is added, and JupyterLab runs
  with that directory as its user settings (``--LabApp.user_settings_dir``). The user's own
  settings files are read, never written; settings changed during the demo stay in the demo.
- Workspaces (open tabs) are kept in ``<state dir>/lab-workspaces`` for the same reason.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path
from typing import Any

WIDGETS_PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20


def state_dir(explicit: str | None = None) -> Path:
    """Where the demo keeps its settings, workspaces and JupyterLab's log."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base).expanduser().resolve() / "streamviz" / "demo"


def user_settings_dir() -> Path:
    """JupyterLab's user settings directory (``JUPYTERLAB_SETTINGS_DIR``, else its default)."""
    if os.environ.get("JUPYTERLAB_SETTINGS_DIR"):
        return Path(os.environ["JUPYTERLAB_SETTINGS_DIR"]).resolve()
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()).resolve() / "lab" / "user-settings"


def write_settings(target: Path, source: Path | None = None) -> Path:
    """The demo's user settings: a copy of ``source`` (the user's) with ``saveState`` on."""
    source = user_settings_dir() if source is None else source
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir() and source.resolve() != target.resolve():
        shutil.copytree(source, target)
    package, plugin = WIDGETS_PLUGIN.rsplit(":", 1)
    path = target.joinpath(*package.split("/"), f"{plugin}.jupyterlab-settings")
    settings: dict[str, Any] = {}
    if path.is_file():  # the user's own widget settings (JSON5: comments allowed)
        import json5

        with contextlib.suppress(ValueError):
            loaded = json5.loads(path.read_text(encoding="utf-8"))
            settings = loaded if isinstance(loaded, dict) else {}
    settings["saveState"] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(base: str, token: str, process: subprocess.Popen) -> bool:
    """Wait until the server answers its REST API; False if it exits or never answers."""
    request = urllib.request.Request(
        f"{base}/api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(request, timeout=5):
                return True
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: the server shuts its kernels down, then exits
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run_lab(
    notebooks: Path,
    notebook: str,
    *,
    port: int = 0,
    browser: bool = True,
    state: str | None = None,
) -> int:
    """Serve ``notebooks`` with JupyterLab and open (or print the URL of) ``notebook``."""
    home = state_dir(state)
    home.mkdir(parents=True, exist_ok=True)
    settings = write_settings(home / "lab-settings")
    log_path = home / "jupyterlab.log"
    token = secrets.token_hex(24)
    env = {**os.environ, "JUPYTER_TOKEN": token}  # not on the command line, where `ps` shows it
    env.pop("JUPYTER_TOKEN_FILE", None)
    print(f"streamviz demo: starting JupyterLab on {notebooks / notebook} (offline); "
          f"its log: {log_path}", flush=True)  # fmt: skip
    process = None
    for _ in range(1 if port else 3):  # a free port can be taken before the server binds it
        chosen = port or _free_port()
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={chosen}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={notebooks}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'lab-workspaces'}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines: root
            command.append("--allow-root")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=notebooks, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://127.0.0.1:{chosen}"
        if _answers(base, token, process):
            break
        _stop(process)
    else:
        print(f"streamviz demo: JupyterLab did not start; the end of {log_path}:\n"
              f"{_tail(log_path)}", file=sys.stderr)  # fmt: skip
        return 1

    url = f"{base}/lab/tree/{urllib.request.pathname2url(notebook)}?token={token}"
    if browser:
        print(f"Opening the tour in your browser: {url}")
        webbrowser.open(url)
    else:
        print(f"No display: open the tour in a browser at {url}")
    print(f"From another machine, forward the port first: ssh -N -L {chosen}:127.0.0.1:{chosen} "
          f"{_user()}@{socket.gethostname()} (then open the same URL there).")  # fmt: skip
    print(f"Widget state is saved in the notebooks (demo settings: {settings}; yours are "
          "unchanged). Ctrl+C stops JupyterLab.", flush=True)  # fmt: skip

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        _stop(process)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(process)
    print(f"JupyterLab stopped (exit code {code}); its log: {log_path}", file=sys.stderr)
    return code


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "user"

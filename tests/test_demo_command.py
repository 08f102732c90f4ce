"""`make demo` = `python -m streamviz demo`: JupyterLab on the tour notebook, offline."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_make_demo_serves_the_tour_notebook_and_prints_its_url(tmp_path):
    if not (ROOT / "notebooks" / "00_tour.ipynb").is_file():
        pytest.fail("notebooks/00_tour.ipynb is missing")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
    }
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamviz", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+/lab[^\s]*token=\w+)", line)
            url = match.group(1) if match else None
        output = "".join(lines)
        assert url, output
        assert "No display: open the URL" in output
        base, token = url.split("/lab")[0], url.rsplit("token=", 1)[1]
        request = urllib.request.Request(
            f"{base}/api/contents/00_tour.ipynb?content=0",
            headers={"Authorization": f"token {token}"},
        )
        for _ in range(100):  # the URL is printed as the server starts listening
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert json.load(response)["name"] == "00_tour.ipynb"
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            pytest.fail(f"{base} never answered:\n{output}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

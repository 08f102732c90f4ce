"""`make demo` = `python -m streamviz demo`: JupyterLab on the tour notebook, offline.

Without a display it prints the URL that opens the tour, how to reach it over SSH and where
JupyterLab's log goes; widget-state saving is on through the demo's own settings, which start as
a copy of the user's and never change them. (`tests/browser/test_demo_browser.py` opens the URL.)
"""

from __future__ import annotations

import json
from pathlib import Path

from demo_run import running_demo

WIDGETS = "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings"
NOTIFICATIONS = "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
USER_SETTINGS = {
    # The user turned widget-state saving off, with a comment (settings files are JSON5).
    WIDGETS: '{\n  // not in my notebooks, thanks\n  "saveState": false\n}\n',
    NOTIFICATIONS: json.dumps({"fetchNews": "false"}),
}


def test_make_demo_serves_the_tour_with_widget_state_saving_on(tmp_path):
    with running_demo(tmp_path, USER_SETTINGS) as demo:
        output = "".join(demo.output)
        url_lines = [line for line in demo.output if demo.url in line]
        assert len(url_lines) == 1 and url_lines[0].startswith("No display: open the tour"), output
        assert f"ssh -N -L {demo.port}:127.0.0.1:{demo.port} " in output
        log = demo.state / "jupyterlab.log"
        assert f"its log: {log}" in output
        assert demo.api("/api/contents/00_tour.ipynb?content=0")["name"] == "00_tour.ipynb"
        assert "Jupyter Server" in log.read_text()  # JupyterLab's own log is in the file

        # The setting the running server serves: saving on, over the user's own choice...
        widgets = demo.api("/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin")
        assert widgets["settings"]["saveState"] is True
        # ...and the user's other settings as they are.
        notes = demo.api("/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert notes["settings"]["fetchNews"] == "false"
        assert str(demo.state / "lab-settings") in output

        # Stopped alone (as a process manager would), the command stops JupyterLab with it.
        (lab,) = demo.children()
        demo.process.terminate()
        assert demo.process.wait(timeout=30) == 0
        assert not Path(f"/proc/{lab}").exists()

    for name, text in USER_SETTINGS.items():  # the user's settings were read, never written
        assert (tmp_path / "user-settings" / name).read_text() == text
    assert sorted(p.name for p in (tmp_path / "user-settings").rglob("*.jupyterlab-settings")) == [
        "notification.jupyterlab-settings",
        "plugin.jupyterlab-settings",
    ]

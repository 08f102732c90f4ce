"""streamviz in marimo, kernel side: a real marimo kernel runs a notebook (no browser).

`marimo export session` runs every cell in marimo's kernel and saves each cell's output and
console; what a page draws from those outputs is checked in ``tests/browser/test_marimo_page.py``.
As a script (``python notebook.py``, marimo's script mode, no page) the chunks and the run tree
are printed, as in any plain script.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("marimo", reason="marimo is in the test extra: pip install -e '.[test]'")

NOTEBOOK = """\
import marimo

app = marimo.App()


@app.cell
def _():
    import streamviz as sv
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from streamviz.demo import DemoChatModel

    chain = (
        ChatPromptTemplate.from_template("tell me a joke about {topic}")
        | DemoChatModel(time_to_first_token=0.001, token_delay=0.001)
        | StrOutputParser()
    )
    return chain, sv


@app.cell
def _(chain, sv):
    trace = sv.watch(chain, {"topic": "parrot"})
    trace
    return (trace,)


@app.cell
def _(trace):
    print(f"events={len(trace)}")
    trace
    return


@app.cell
def _(sv, trace):
    sv.show(trace, view="table")
    return


@app.cell
def _(sv, trace):
    sv.show([trace, trace])
    return


if __name__ == "__main__":
    app.run()
"""

WIDGET = re.compile(r"<marimo-anywidget[^>]*data-model-id='&quot;(\w+)&quot;'")


def _env(home: Path) -> dict[str, str]:
    """No user marimo config or state: HOME and the XDG dirs in the test's temp dir."""
    xdg = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")
    return {**os.environ, "HOME": str(home), **{name: str(home / name.lower()) for name in xdg}}


@pytest.fixture
def notebook(tmp_path) -> Path:
    path = tmp_path / "watch_notebook.py"
    path.write_text(textwrap.dedent(NOTEBOOK))
    return path


def test_importing_streamviz_does_not_import_marimo():
    code = "import sys, streamviz; print('marimo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_marimo_imported_outside_a_notebook_is_not_a_notebook():
    import marimo  # noqa: F401

    from streamviz import _marimo

    assert not _marimo.active()


def test_marimo_kernel_shows_widgets_not_text(notebook, tmp_path):
    subprocess.run(
        [sys.executable, "-m", "marimo", "-q", "export", "session", str(notebook)],
        cwd=tmp_path,
        env=_env(tmp_path),
        check=True,
        capture_output=True,
        timeout=180,
    )
    (snapshot,) = (tmp_path / "__marimo__" / "session").glob("*.json")
    cells = json.loads(snapshot.read_text())["cells"]
    assert len(cells) == 5

    def widgets(cell) -> list[str]:
        html = "".join(out.get("data", {}).get("text/html", "") for out in cell["outputs"])
        return WIDGET.findall(html)

    def console(cell) -> str:
        return "".join(item.get("text", "") for item in cell["console"])

    watch, value, show, show_two = cells[1], cells[2], cells[3], cells[4]
    # sv.watch: one live widget in the cell's output (the trace as last value keeps it), and
    # nothing printed: the console fallback is for plain scripts.
    assert len(widgets(watch)) == 1, watch["outputs"]
    assert console(watch) == ""
    # A trace as a later cell's value: its own dashboard.
    assert len(widgets(value)) == 1, value["outputs"]
    assert widgets(value) != widgets(watch)
    assert re.fullmatch(r"events=\d+\n", console(value))
    # sv.show: a widget too; one per trace for a list.
    assert len(widgets(show)) == 1, show["outputs"]
    assert console(show) == ""
    assert len(set(widgets(show_two))) == 2, show_two["outputs"]


def test_marimo_script_mode_prints_like_a_plain_script(notebook, tmp_path):
    out = subprocess.run(
        [sys.executable, str(notebook)],
        cwd=tmp_path,
        env=_env(tmp_path),
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Why| did| the| par|rot|" in out.stdout
    assert "✓ RunnableSequence [chain]" in out.stdout
    assert "events=" in out.stdout

"""The browser harness itself: an inline anywidget renders in JupyterLab and updates live."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from labdriver import (
    cell_output,
    error_outputs,
    open_notebook,
    prompts,
    record_text,
    run_all_cells,
    run_notebook,
    screenshot,
    texts,
    wait_cells_done,
    wait_for,
    wait_for_text,
)

STEPS = 4
STEP_SHOWN = "harness-step-{}"  # the test writes this file next to the notebook: step shown

CELLS = [
    "import sys\nprint(sys.prefix)",
    '''\
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      el.classList.add("harness-counter");
      const show = () => { el.textContent = `value=${model.get("value")}`; };
      show();
      model.on("change:value", show);
      return () => model.off("change:value", show);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)


counter = Counter()
counter''',
    f"""\
import pathlib, time

for i in range(1, {STEPS + 1}):
    counter.value = i
    for _ in range(6_000):  # a hang guard (10 minutes): the test lets each step go on
        if pathlib.Path("{STEP_SHOWN}".format(i)).exists():
            break
        time.sleep(0.1)""",
    nbformat.v4.new_markdown_cell("Markdown cells pass through and have no prompt to wait for."),
]


def test_inline_anywidget_renders_and_updates_while_the_cell_runs(
    page, jupyter_lab, console_messages
):
    jupyter_lab.write_notebook("harness.ipynb", CELLS)
    open_notebook(page, jupyter_lab, "harness.ipynb")
    recorder = record_text(page, ".harness-counter")

    run_all_cells(page)
    widget = wait_for(cell_output(page, 1), ".harness-counter")
    for step in range(1, STEPS + 1):  # each value is shown while the loop cell waits for it
        wait_for_text(page, ".harness-counter", f"value={step}")
        assert prompts(page)[2] == "[*]:"
        (jupyter_lab.root / STEP_SHOWN.format(step)).touch()
    done = wait_cells_done(page)
    samples = recorder.stop()

    assert done == ["[1]:", "[2]:", "[3]:"]
    # The kernel is this venv's Python (kernelspec python3 -> the server's interpreter).
    assert Path(texts(cell_output(page, 0), ".jp-OutputArea-output")[0]) == Path(sys.prefix)
    # Live: values rendered while the loop cell was still running, in order, ending at STEPS.
    seen = [int(m[1]) for s in samples if (m := re.fullmatch(r"value=(\d+)", s["text"]))]
    live = [s["text"] for s in samples if s["running"] and s["text"] != f"value={STEPS}"]
    assert any(re.fullmatch(r"value=[1-9]\d*", t) for t in live), samples
    assert seen == sorted(seen) and seen[-1] == STEPS, samples
    assert widget.text_content() == f"value={STEPS}"
    assert not error_outputs(page)
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages

    png = screenshot(page, "harness-counter")
    assert png.stat().st_size > 10_000


def test_a_raising_cell_fails_the_run_with_its_error(page, jupyter_lab):
    cells = ["x = 1", "1 / 0", "print('never runs')"]
    run_notebook(page, jupyter_lab, "harness_error.ipynb", cells, wait=False)

    with pytest.raises(AssertionError, match=r"cell 1: ZeroDivisionError"):
        wait_cells_done(page)
    assert prompts(page) == ["[1]:", "[2]:", "[ ]:"]

"""A big trace in JupyterLab: the header says it is loading until the whole trace is in.

A widget of a trace of more than 20,000 events starts with its first 20,000 and is sent the rest
as deltas (docs/protocol.md). Here the update thread sends 50,000 events a tick, and the kernel
holds the rest back after the first delta until the test has looked at the page (a gate file),
so the loading state is seen whatever the machine's load. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

import re

from labdriver import (
    cell_output,
    record_text,
    run_notebook,
    screenshot,
    texts,
    wait_cells_done,
    wait_for,
    wait_for_text,
)

TOKENS = 250_000
SETUP = f"""\
import pathlib
import streamviz as sv
import streamviz.widgets._widget as widget
from streamviz.demo import DemoChatModel

collector = sv.Collector()
list(collector.stream(DemoChatModel.for_benchmark({TOKENS}), "go"))
trace = collector.trace
widget._CATCH_UP = 50_000  # 50,000 events a delta
GATE = pathlib.Path("gate")  # written by the test once it has looked at the loading page
tick = widget.TraceWidget._tick

def gated_tick(self, now):
    if self.flushes >= 1 and not GATE.exists():  # after the first delta: wait for the test
        return
    tick(self, now)

widget.TraceWidget._tick = gated_tick
len(trace.events)
"""
SHOW = "trace"
LOADING = re.compile(r"^loading ([\d,]+) of ([\d,]+) events$")


def test_a_big_trace_says_loading_n_of_m_until_it_is_all_in(page, jupyter_lab):
    (jupyter_lab.root / "gate").unlink(missing_ok=True)
    run_notebook(page, jupyter_lab, "big.ipynb", [SETUP, SHOW], wait=False)
    status = record_text(page, ".jp-Cell .sv-header .sv-live")
    output = cell_output(page, 1)
    events = TOKENS + 3  # the model's start, its tokens and an empty last chunk, its end
    # The first snapshot (20,000 events) and the first delta (50,000 more) are in; the rest waits.
    held = f"loading 70,000 of {events:,} events"
    wait_for_text(output, ".sv-live", held, timeout_ms=300_000)
    wait_for(output, '.sv-live[data-loading="true"]')
    screenshot(page, "big-trace-loading", output)
    assert texts(output, ".sv-live") == [held]  # still loading once the picture is taken
    assert texts(output, ".sv-stats")[0].endswith(" · 70,000 events")
    (jupyter_lab.root / "gate").write_text("go")
    wait_for_text(output, ".sv-live", "finished", timeout_ms=300_000)
    wait_cells_done(page)
    assert int(texts(cell_output(page, 0), "pre")[0]) == events
    assert texts(output, ".sv-stats")[0].endswith(f" · {events:,} events")
    assert output.locator('.sv-live[data-loading="false"]').count() == 1
    screenshot(page, "big-trace-loaded", output)

    samples = status.stop()
    shown = [s["text"] for s in samples if s["text"]]
    loading = [LOADING.match(text) for text in shown[:-1]]
    # `loading N of M events`, N growing, then `finished`: never `finished` with events missing.
    assert all(loading), shown
    counts = [int(match.group(1).replace(",", "")) for match in loading if match]
    assert counts == sorted(counts) and 70_000 in counts and counts[-1] < events, shown
    assert {match.group(2) for match in loading if match} == {f"{events:,}"}, shown
    assert shown[-1] == "finished", shown
    # The cell ran until the rest was sent (a notebook saved as it ends keeps the whole trace).
    assert all(s["running"] for s in samples if LOADING.match(s["text"])), samples

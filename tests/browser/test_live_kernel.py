"""Live that never misses: many watches in ONE kernel, a busy machine, every one updates live.

The page never asks the kernel for anything while a cell runs (a kernel running a sync cell
answers comm messages only when the cell ends), so each watch must fill in live on what the kernel
pushes alone: its first deltas may come before the view is ready, and it catches up from the
snapshot the kernel refreshes while live. Two CPU-busy processes run beside the browser and the
kernel, as on a loaded 2-core CI machine.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from labdriver import cell_output, run_notebook, screenshot, texts, wait_cells_done, wait_for

SETUP = """\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_model_graph

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
# ~2.5 s: the parrot joke is 49 pieces
chain = prompt | DemoChatModel(time_to_first_token=0.3, token_delay=0.045) | StrOutputParser()
graph = build_model_graph(time_to_first_token=0.2, token_delay=0.025)
traces = []
"""
WATCH = 'traces.append(sv.watch(chain, {"topic": "parrot"}))'
AWATCH = 'traces.append(await sv.awatch(chain, {"topic": "parrot"}))'
GRAPH = (
    'traces.append(sv.watch(graph, {"topic": "cats"}, '
    'stream_mode=["updates", "messages", "custom"]))'
)
COUNTS = "print([len(trace.events) for trace in traces])"
CELLS = [SETUP, *[WATCH] * 6, AWATCH, GRAPH, COUNTS]
WATCH_CELLS = list(range(1, 9))


@pytest.fixture
def busy_machine():
    """Two processes that keep two cores busy for the whole test."""
    spin = [sys.executable, "-c", "while True: pass"]
    procs = [subprocess.Popen(spin) for _ in range(2)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def record_headers(page, cells: list[int]) -> None:
    """Record, in the page, every event count each cell's dashboard header shows, and whether
    that cell was still running ("[*]") when it showed it."""
    page.evaluate(
        """(cells) => {
          const panel = () => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')
            ?? document.querySelector('.jp-Notebook');
          const log = (window.__svHeaders = Object.fromEntries(cells.map((i) => [i, []])));
          const sample = () => {
            const all = panel()?.querySelectorAll('.jp-Cell') ?? [];
            for (const i of cells) {
              const cell = all[i];
              if (!cell) continue;
              const stats = cell.querySelector('.sv-header .sv-stats')?.textContent ?? null;
              if (stats === null) continue;
              const prompt = cell.querySelector('.jp-InputArea-prompt')?.textContent ?? '';
              const running = prompt.includes('*');
              const samples = log[i];
              const last = samples[samples.length - 1];
              if (!last || last.stats !== stats || last.running !== running) {
                samples.push({ stats, running });
              }
            }
          };
          window.__svObserver = new MutationObserver(sample);
          window.__svObserver.observe(document.body,
            { subtree: true, childList: true, characterData: true, attributes: true });
          sample();
        }""",
        cells,
    )


def recorded(page) -> dict[int, list[dict]]:
    found = page.evaluate("() => { window.__svObserver.disconnect(); return window.__svHeaders; }")
    return {int(cell): samples for cell, samples in found.items()}


def events_in(stats: str) -> int:
    match = re.search(r"([\d,]+) events?", stats)
    return int(match.group(1).replace(",", "")) if match else -1


def check_every_watch_was_live(page, headers: dict[int, list[dict]]) -> None:
    finals = [int(n) for n in re.findall(r"\d+", texts(cell_output(page, 9), "pre")[0])]
    assert len(finals) == len(WATCH_CELLS)
    missed = {}
    for cell, final in zip(WATCH_CELLS, finals, strict=True):
        samples = headers[cell]
        during = {events_in(s["stats"]) for s in samples if s["running"]}
        intermediate = {count for count in during if 0 < count < final}
        end = events_in(texts(cell_output(page, cell), ".sv-header .sv-stats")[0])
        if len(intermediate) < 3 or end != final:
            missed[cell] = {"intermediate": sorted(intermediate), "end": end, "final": final}
    assert not missed, missed


@pytest.mark.parametrize("front_end", ["lab", "notebook"])
def test_every_watch_in_one_kernel_updates_live_on_a_busy_machine(
    page, jupyter_lab, busy_machine, front_end
):
    jupyter_lab.write_notebook("live.ipynb", CELLS)
    run_notebook(page, jupyter_lab, "live.ipynb", wait=False, front_end=front_end)
    record_headers(page, WATCH_CELLS)
    wait_for(cell_output(page, 1), ".sv-root[data-view=dashboard]")
    wait_cells_done(page)
    headers = recorded(page)
    screenshot(page, f"live-eight-watches-one-kernel-{front_end}")
    check_every_watch_was_live(page, headers)

"""What a person feels in the browser: frame gaps of the dashboard under load, in JupyterLab.

Run with ``make bench`` or ``.venv/bin/python bench/browser.py [--rounds N]`` (needs Chromium; see
tests/browser/README.md). Uses the browser tests' harness: JupyterLab on a free port, Debian's
Chromium through Playwright. For each scenario it records the gaps between animation frames in
the page (16.7 ms = smooth at 60 Hz) and reports medians over rounds of the p95 and worst gap:

- ``stream``: 20,000 tokens offered at 20,000/s to ``sv.watch`` of a bare demo chat model (the
  rate the kernel sustains is reported too), while the page renders the dashboard live;
- ``timeline``: wheel-zooming and drag-panning a 10,000-run, 200,000-tick timeline;
- ``table``: wheel-scrolling the event table of the same trace (220,000 rows).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

from labdriver import (  # noqa: E402
    JupyterLab,
    cell_output,
    find_chromium,
    run_notebook,
    wait_cells_done,
    wait_for,
)
from test_dashboard import BIG_CELL, SETUP, TABLE_CELL  # noqa: E402

FAST_CELL = """\
import time
fast = DemoChatModel(time_to_first_token=0, token_delay=0.00005, responses=["tok " * 20_000])
started = time.perf_counter()
trace = sv.watch(fast, "go", name="fast", height=600)
elapsed = time.perf_counter() - started
model = next(r for r in trace.runs.values() if r.run_type == "chat_model")
print(f"RATE {model.chunk_count / elapsed:.0f} tokens/s CHUNKS {model.chunk_count}")
"""

FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def frame_gaps_start(page) -> None:
    page.evaluate(
        """() => {
          const gaps = (window.__gaps = []);
          let last = performance.now();
          const tick = (now) => { gaps.push(now - last); last = now;
                                  if (!window.__stopGaps) requestAnimationFrame(tick); };
          window.__stopGaps = false;
          requestAnimationFrame(tick);
        }"""
    )


def frame_gaps_stop(page) -> list[float]:
    return sorted(page.evaluate("() => { window.__stopGaps = true; return window.__gaps; }"))


def summary(gaps: list[float]) -> tuple[float, float]:
    return gaps[int(len(gaps) * 0.95)], gaps[-1]


def stream(page, lab: JupyterLab, index: int) -> tuple[float, float, int]:
    run_notebook(page, lab, f"bench_fast_{index}.ipynb", [SETUP, FAST_CELL], wait=False)
    output = cell_output(page, 1)
    wait_for(output, ".sv-root")
    frame_gaps_start(page)
    wait_cells_done(page, timeout_ms=120_000)
    page.wait_for_timeout(500)
    p95, worst = summary(frame_gaps_stop(page))
    rate = int(re.search(r"RATE (\d+) tokens/s", output.inner_text()).group(1))
    return p95, worst, rate


def big(page, lab: JupyterLab, index: int) -> tuple[tuple[float, float], tuple[float, float]]:
    run_notebook(page, lab, f"bench_big_{index}.ipynb", [BIG_CELL, TABLE_CELL], timeout_ms=180_000)
    canvas = wait_for(cell_output(page, 0), "canvas.sv-timeline-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    y = box["y"] + min(box["height"] / 2, 200)
    page.mouse.move(box["x"] + box["width"] * 0.6, y)
    frame_gaps_start(page)
    for _ in range(10):
        page.mouse.wheel(0, -240)
        page.wait_for_timeout(30)
    page.mouse.down()
    for step in range(10):
        page.mouse.move(box["x"] + box["width"] * (0.6 - 0.03 * step), y)
        page.wait_for_timeout(30)
    page.mouse.up()
    page.wait_for_timeout(300)
    timeline = summary(frame_gaps_stop(page))
    body = wait_for(cell_output(page, 1), ".sv-tbody")
    body.scroll_into_view_if_needed()
    rows = body.bounding_box()
    page.mouse.move(rows["x"] + 200, rows["y"] + 100)
    frame_gaps_start(page)
    for _ in range(40):
        page.mouse.wheel(0, 3_000)
        page.wait_for_timeout(20)
    page.wait_for_timeout(200)
    table = summary(frame_gaps_stop(page))
    return timeline, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("bench/browser.py: no Chromium found (apt-get install chromium); skipped.")
        return 0
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[float, ...]]] = {"stream": [], "timeline": [], "table": []}
    with tempfile.TemporaryDirectory() as home:
        lab = JupyterLab.start(Path(home))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
                for index in range(args.rounds):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    results["stream"].append(stream(page, lab, index))
                    page.close()
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    timeline, table = big(page, lab, index)
                    results["timeline"].append(timeline)
                    results["table"].append(table)
                    page.close()
                    lab.api("/api/kernels")  # still answering
                browser.close()
        finally:
            lab.stop()
    print(f"# Browser frame gaps ({args.rounds} rounds, medians; 16.7 ms = 60 frames/s)\n")
    print("| scenario | p95 gap (ms) | worst gap (ms) | note |")
    print("|---|---:|---:|---|")
    for name, rows in results.items():
        p95 = statistics.median(row[0] for row in rows)
        worst = statistics.median(row[1] for row in rows)
        note = ""
        if name == "stream":
            note = f"{statistics.median(row[2] for row in rows):,.0f} tokens/s reached"
        print(f"| {name} | {p95:.1f} | {worst:.0f} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What token usage and detached-run flags cost (``.venv/bin/python bench/usage.py``).

Traces built by bench/scale.py's workloads (``chain``: one model streaming ``size / 3`` tokens;
``graph``: a LangGraph agent, ~3,250 model calls at 1M events), captured once. Measured in CPU
time (``time.process_time``) per event, the garbage collector off, the least of ``--rounds``:

- ``usage_total``, ``usage()`` and ``detached_runs()`` of the live trace, and ``usage_total`` of
  the trace loaded from Parquet; beside them ``events_df(payloads=False)``, the column reader they
  are meant to cost about as much as;
- the widget's first snapshot with the usage reader and with it switched off
  (``TraceEncoder._read_usage`` made a no-op), alternating, and ``runs_df()`` with and without its
  usage columns: the ratios are what usage adds to what existed before.

Every figure is checked: the usage read equals the demo model's own count (every call's).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scale  # noqa: E402 - bench/scale.py: its workloads

import streamviz as sv  # noqa: E402
from streamviz.trace import Trace  # noqa: E402
from streamviz.widgets._encode import TraceEncoder  # noqa: E402


def cpu(rounds: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """Least CPU seconds of ``action`` over ``rounds`` runs, and its last result."""
    best, result = float("inf"), None
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            result = action()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best, result


def alternating(rounds: int, a: Callable[[], Any], b: Callable[[], Any]) -> tuple[float, float]:
    """Least CPU seconds of ``a`` and of ``b``, measured in alternating rounds."""
    best_a = best_b = float("inf")
    for _ in range(rounds):
        best_a = min(best_a, cpu(1, a)[0])
        best_b = min(best_b, cpu(1, b)[0])
    return best_a, best_b


def snapshot_without_usage(trace: sv.Trace) -> None:
    saved = TraceEncoder._read_usage
    TraceEncoder._read_usage = lambda self, start, stop, touched: set()  # type: ignore[method-assign]
    try:
        TraceEncoder(trace).snapshot()
    finally:
        TraceEncoder._read_usage = saved  # type: ignore[method-assign]


def runs_df_without_usage(trace: sv.Trace) -> None:
    saved = Trace._with_usage
    Trace._with_usage = lambda self, frame, runs: frame  # type: ignore[method-assign]
    try:
        trace.runs_df()
    finally:
        Trace._with_usage = saved  # type: ignore[method-assign]


def measure(workload: Any, size: int, rounds: int) -> list[tuple[str, str]]:
    trace = workload.capture()
    workload.check(trace)
    events = len(trace)
    models = [run for run in trace.runs.values() if run.run_type == "chat_model"]
    truth = sum(run.output.usage_metadata["total_tokens"] for run in models)
    total = trace.usage_total()
    if total.total != truth or total.calls != len(models):
        raise AssertionError(f"usage {total.total} over {total.calls} calls, expected {truth}")
    per = 1e6 / events
    rows: list[tuple[str, str]] = []

    def add(label: str, seconds: float) -> None:
        rows.append((label, f"{seconds * per:.3f} us/event ({seconds * 1000:.1f} ms)"))

    add("usage_total()", cpu(rounds, trace.usage_total)[0])
    add("usage()", cpu(rounds, trace.usage)[0])
    add("detached_runs()", cpu(rounds, trace.detached_runs)[0])
    add("events_df(payloads=False)", cpu(rounds, lambda: trace.events_df(payloads=False))[0])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "trace.parquet")
        trace.save(path)
        loaded = sv.Trace.load(path)
        seconds, loaded_total = cpu(rounds, loaded.usage_total)
        if loaded_total != total:
            raise AssertionError("the loaded trace's usage differs")
        add("usage_total() of the loaded Parquet file", seconds)
    with_usage, without = alternating(
        rounds, lambda: TraceEncoder(trace).snapshot(), lambda: snapshot_without_usage(trace)
    )
    add("snapshot, usage reader on", with_usage)
    add("snapshot, usage reader off", without)
    rows.append(("snapshot ratio on/off", f"{with_usage / without:.3f}"))
    with_usage, without = alternating(rounds, trace.runs_df, lambda: runs_df_without_usage(trace))
    add("runs_df()", with_usage)
    add("runs_df() without the usage columns", without)
    rows.append(("runs_df ratio", f"{with_usage / without:.3f}"))
    header = f"{workload.label} at {size:,} ({events:,} events, {len(trace.runs):,} runs, "
    header += f"{len(models):,} model calls, {total.total:,} tokens)"
    return [(header, ""), *rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workloads", nargs="+", choices=["chain", "graph"], default=["chain"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    for size in args.sizes:
        for name in args.workloads:
            workload = scale.Chain(size) if name == "chain" else scale.Graph(size)
            for label, value in measure(workload, size, args.rounds):
                print(f"{label:45} {value}" if value else f"\n{label}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

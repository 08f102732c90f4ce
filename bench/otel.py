"""What an OpenTelemetry export costs, per event, beside saving the same trace as JSONL.

A LangGraph graph streaming ``--tokens`` tokens (``messages`` and ``updates`` modes) is captured
once; then, in alternating rounds, the CPU time (``time.process_time``) of building its spans
(``streamviz.otel.trace_spans``, every token a span event: no cap), of writing them as OTLP/JSON
(``write_otlp_json``) and of ``trace.save`` to JSONL, the reference. Prints the minimum per event
of each and the ratios to the JSONL save, with the load average.

    PYTHONPATH=. python bench/otel.py --tokens 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path

from files import graph_trace

from streamviz.otel import trace_spans, write_otlp_json


def cpu(action) -> float:
    gc.collect()
    started = time.process_time()
    action()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trace = graph_trace(args.tokens)
    n = len(trace)
    folder = Path(tempfile.mkdtemp(prefix="streamviz-otel-bench-"))
    actions = {
        "trace.save (JSONL)": lambda: trace.save(folder / "t.jsonl"),
        "trace_spans": lambda: trace_spans(trace, max_events_per_span=None),
        "write_otlp_json": lambda: write_otlp_json(
            trace, folder / "t.otlp.jsonl", max_events_per_span=None
        ),
    }
    best = dict.fromkeys(actions, float("inf"))
    for _ in range(args.rounds):
        for name, action in actions.items():
            best[name] = min(best[name], cpu(action))
    reference = best["trace.save (JSONL)"]
    print(f"{n} events ({args.tokens} tokens), {args.rounds} rounds, load {os.getloadavg()}")
    for name, seconds in best.items():
        print(f"{name:20s} {seconds / n * 1e6:8.2f} us/event  {seconds / reference:5.2f}x JSONL")
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    print("file sizes:", sizes)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()

"""What looking for secrets split across tokens costs: files' pass and the live widget's.

Run with ``.venv/bin/python bench/split_secrets.py [--size N] [--rounds R]``. For the workloads of
``bench/scale.py`` (a chain streaming one long answer, a LangGraph agent of 10 nodes), captured
once at ``--size`` events (default 300,000), CPU time per event (best of R rounds) of:

- ``EventStore.stream_secrets()``: the pass every file and OTel export makes before writing
  (each template's texts joined, searched for hints);
- the widget encoder sending the whole trace as deltas of 300, 3,000 and 30,000 events (a live
  watch sends one per refresh), with and without its per-stream look (``_redact_streams``
  replaced by a no-op for the second), side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import Chain, Graph  # noqa: E402 - the same workloads as the scale benchmark

from streamviz.widgets._encode import TraceEncoder  # noqa: E402


def cpu(work, rounds: int, *args) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work(*args)
        best = min(best, time.process_time() - start)
    return best


def encode_in_deltas(trace, step: int, look: bool) -> None:
    encoder = TraceEncoder(trace)
    if not look:
        encoder._redact_streams = lambda start, stop: None  # type: ignore[method-assign]
    size = len(trace.events)
    while encoder.count < size:
        encoder.delta(limit=step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| workload | events | stream_secrets | deltas of | encoder without | with | extra |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for workload in (Chain(args.size), Graph(args.size)):
        trace = workload.capture()
        size = len(trace.events)
        found = trace.store.stream_secrets()
        assert not found, "the benchmark's answers hold no secret"
        secrets_us = cpu(trace.store.stream_secrets, args.rounds) / size * 1e6
        for step in (300, 3_000, 30_000):
            without = with_look = float("inf")
            for _ in range(args.rounds):  # alternating, so that both see the same load
                without = min(without, cpu(encode_in_deltas, 1, trace, step, False))
                with_look = min(with_look, cpu(encode_in_deltas, 1, trace, step, True))
            print(
                f"| {workload.label} | {size:,} | {secrets_us:.3f} | {step:,} "
                f"| {without / size * 1e6:.2f} | {with_look / size * 1e6:.2f} "
                f"| {(with_look - without) / size * 1e6:+.2f} |"
            )


if __name__ == "__main__":
    main()

"""Cost of writing a trace to its file while it is captured: ``sv.capture(path=...)``.

Run with ``.venv/bin/python bench/journal.py [--tokens N] [--rounds R]``. Chain B of run.py
(prompt | model | parser, 3 events per token, zero-delay model, in ``sv.capture``) and the bench
graph (``build_bench_graph``, in ``sv.watch`` with ``stream_mode=["updates", "messages"]``: its
parts are recorded too) are captured side by side, without and with a journal, rounds
alternating. Each figure is the median over R rounds of the
process's CPU time (``time.process_time``: the program's thread and the journal's writer
thread) from the call to the end of the capture block, when every event is in the file.
The zero-delay model is the worst case: the writer encodes while the program streams flat out.
The last row paces the chain's model at one token a millisecond (``--paced`` tokens), faster
than any hosted model, to show what a real stream pays: its wall time.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_bench_graph


def chain_run(n_tokens: int, token_delay: float = 0.0):
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    model = DemoChatModel.for_benchmark(n_tokens)
    if token_delay:
        model = model.model_copy(update={"token_delay": token_delay})
    chain = prompt | model | StrOutputParser()

    def run(path: Path | None) -> sv.Trace:
        with sv.capture(path=path) as trace:
            for _ in chain.stream({"topic": "parrot"}):
                pass
        return trace

    return run


def graph_run(n_tokens: int):
    graph, options = build_bench_graph(), {"stream_mode": ["updates", "messages"]}
    return lambda path: sv.watch(graph, {"n_tokens": n_tokens}, display=False, path=path, **options)


def timed(run, path: Path | None) -> tuple[float, float, int]:
    """CPU and wall seconds of one captured run (journal closed), and its event count."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    trace = run(path)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if path is not None:
        lines = path.read_bytes().count(b"\n")
        assert lines == len(trace) + 1, f"the journal holds {lines - 1} of {len(trace)} events"
    return cpu, wall, len(trace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--paced", type=int, default=2_000, help="tokens of the paced run")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(
        "| run | events | capture CPU us/event | with journal CPU us/event | ratio "
        "| wall ratio | file B/event |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.jsonl"
        runs = (
            ("chain B", lambda: chain_run(args.tokens)),
            ("graph", lambda: graph_run(args.tokens)),
            ("chain B, 1 token/ms", lambda: chain_run(args.paced, token_delay=0.001)),
        )
        for label, build in runs:
            run = build()
            timed(run, None), timed(run, path)  # warm-up
            plain, journaled = [], []
            for index in range(args.rounds):
                order = [(plain, None), (journaled, path)]
                for sink, target in order if index % 2 else order[::-1]:
                    sink.append(timed(run, target))
            n = plain[0][2]
            cpu = statistics.median(c for c, _, _ in plain)
            cpu_j = statistics.median(c for c, _, _ in journaled)
            wall = statistics.median(w for _, w, _ in plain)
            wall_j = statistics.median(w for _, w, _ in journaled)
            print(
                f"| {label} | {n:,} | {cpu / n * 1e6:.1f} | {cpu_j / n * 1e6:.1f} | "
                f"{cpu_j / cpu:.2f}x | {wall_j / wall:.2f}x | {path.stat().st_size / n:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

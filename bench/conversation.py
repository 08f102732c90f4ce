"""A chat agent's trace files: load time and memory as the conversation grows.

Run with ``make bench`` or ``.venv/bin/python bench/conversation.py [--turns N ...] [--rounds R]``.

A LangGraph chat of N model calls (``streamviz.demo.graphs.build_chat_graph``: a zero-delay demo
model answers, a user node asks again), streamed by ``sv.watch`` with ``stream_mode=["updates",
"messages"]``. Each call's start and end events carry the whole conversation so far, so a file
repeats each message once per later call: its text grows with N², while capture holds each
message once. For each N and file kind this prints the file's size, the CPU time of
``sv.Trace.load`` (best of R), the loaded trace's memory (tracemalloc), the distinct message
objects in the model calls' inputs, and whether the default memory bound let the file load at
all. Every load is checked against the capture.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import streamviz as sv
from streamviz.demo.graphs import build_chat_graph


def chat(turns: int) -> sv.Trace:
    """A chat of ``turns`` model calls (``build_chat_graph``), captured."""
    return sv.watch(
        build_chat_graph(turns),
        {"messages": [("user", "hi")]},
        {"recursion_limit": 2 * turns + 10},
        display=False,
        stream_mode=["updates", "messages"],
    )


def inputs(trace: sv.Trace) -> list[Any]:
    starts = (e for e in trace.events if e["event"] == "on_chat_model_start")
    return [message for e in starts for message in e["data"]["input"]["messages"][0]]


def measure(turns: int, rounds: int, folder: Path) -> list[str]:
    trace = chat(turns)
    rows = []
    for kind in ("jsonl", "parquet"):
        path = folder / f"chat-{turns}.{kind}"
        trace.save(path)
        best, loaded, refused = None, None, ""
        for _ in range(rounds):
            loaded = None
            gc.collect()
            started = time.process_time()
            try:
                loaded = sv.Trace.load(path)
            except sv.TraceFileError as error:
                refused = str(error).split(": ", 1)[-1][:60]
                break
            seconds = time.process_time() - started
            best = seconds if best is None else min(best, seconds)
        if loaded is None:
            rows.append(f"| {turns} | {kind} | {path.stat().st_size:,} | refused: {refused} | | |")
            continue
        if list(loaded.events) != list(trace.events):
            raise AssertionError(f"{path}: the loaded events differ from the captured ones")
        distinct = len({id(message) for message in inputs(loaded)})
        loaded = None
        gc.collect()
        tracemalloc.start()
        kept = sv.Trace.load(path)
        memory = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del kept
        rows.append(
            f"| {turns} | {kind} | {path.stat().st_size:,} | {best:.3f} | {memory / 2**20:.1f} "
            f"| {distinct:,} of {len(inputs(trace)):,} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print("| model calls | file | bytes | load CPU s | loaded MiB | message objects in inputs |")
    print("|--:|---|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory() as folder:
        for turns in args.turns:
            for row in measure(turns, args.rounds, Path(folder)):
                print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

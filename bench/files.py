"""Cost of trace files: save and load CPU time and size per event, JSONL against Parquet and Arrow.

Run with ``.venv/bin/python bench/files.py [--tokens N] [--rounds R]`` (needs pyarrow). Two traces
are captured first: chain B of run.py (prompt | model | parser, 3 events per token) and a one-node
LangGraph graph streamed with ``stream_mode=["updates", "messages"]``. Their events are read once
before timing, so "save" is the save alone, not the first read of a fresh capture. Each figure is
the best of R rounds of CPU time (``time.process_time``) in this one process.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas  # noqa: F401 - pyarrow imports it on its first write: outside the timings
import pyarrow.parquet  # noqa: F401 - likewise
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_bench_graph

FORMATS = ("jsonl", "parquet", "arrow")


def chain_trace(n_tokens: int) -> sv.Trace:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    collector = sv.Collector(name="chain")
    chain = prompt | DemoChatModel.for_benchmark(n_tokens) | StrOutputParser()
    for _ in collector.stream(chain, {"topic": "parrot"}):
        pass
    return collector.trace


def graph_trace(n_tokens: int) -> sv.Trace:
    return sv.watch(
        build_bench_graph(),
        {"n_tokens": n_tokens},
        display=False,
        stream_mode=["updates", "messages"],
    )


def cpu(action) -> float:
    gc.collect()
    started = time.process_time()
    action()
    return time.process_time() - started


def measure(
    trace: sv.Trace, folder: Path, rounds: int, formats: list[str]
) -> list[tuple[str, float, float, int]]:
    list(trace.events)  # the first full read, outside the timings
    rows = []
    for kind in formats:
        path = folder / f"trace.{kind}"
        save = min(cpu(lambda path=path: trace.save(path)) for _ in range(rounds))
        load = min(cpu(lambda path=path: sv.Trace.load(path)) for _ in range(rounds))
        rows.append((kind, save, load, path.stat().st_size))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=33_334, help="tokens per trace")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print("| trace | events | format | save s | save us/event | load s | load us/event | B/event |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for label, build in (("chain B", chain_trace), ("graph", graph_trace)):
            trace = build(args.tokens)
            n = len(trace)
            for kind, save, load, size in measure(trace, Path(folder), args.rounds, args.formats):
                print(
                    f"| {label} | {n:,} | {kind} | {save:.2f} | {save / n * 1e6:.1f} | "
                    f"{load:.2f} | {load / n * 1e6:.1f} | {size / n:.0f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

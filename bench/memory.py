"""Bytes per event a trace holds (``.venv/bin/python bench/memory.py [--million]``).

A streaming chain (``prompt | DemoChatModel.for_benchmark(N) | StrOutputParser()``: three
stream events per token, the model's, the parser's and the sequence's) is recorded four ways, and
the memory the trace keeps is measured with ``tracemalloc`` (what is still allocated once the
trace is built and everything else was dropped, divided by the trace's events):

- ``captured``: a :class:`streamviz.Collector` on ``chain.stream``;
- ``loaded .jsonl`` / ``.parquet`` / ``.arrow``: the captured trace saved, then ``Trace.load``;
- ``astream_events``: ``sv.from_astream_events(chain.astream_events(..., version="v2"))``.

Then the captured trace is read every way a user reads it (iterating ``trace.events``,
``filter``, ``save``, ``events_df``, the widget encoder's snapshot) and its memory after each
read is compared with its memory after capture (the store keeps nothing it builds for a reader).

Events are ~100 k (``--tokens 33334``) by default, ~1 M with ``--million``. The Parquet and Arrow
rows need pyarrow. CPU time is not measured here (see ``bench/run.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
import streamviz.frames  # imported before measuring: modules are not the trace
from streamviz.demo import DemoChatModel
from streamviz.widgets._encode import TraceEncoder


def chain(tokens: int) -> Any:
    """The benchmark's chain B: a prompt, a model streaming ``tokens`` tokens, a parser."""
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    return prompt | DemoChatModel.for_benchmark(tokens) | StrOutputParser()


def kept(build: Callable[[], Any]) -> tuple[Any, int]:
    """``build()`` and the bytes still allocated by it once built (tracemalloc, after a gc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        built = build()
        gc.collect()
        return built, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def captured(tokens: int) -> sv.Trace:
    collector = sv.Collector()
    for _ in collector.stream(chain(tokens), {"topic": "parrot"}):
        pass
    return collector.trace


async def _rebuilt(tokens: int) -> sv.Trace:
    events = chain(tokens).astream_events({"topic": "parrot"}, version="v2")
    return await sv.from_astream_events(events)


def rebuilt(tokens: int) -> sv.Trace:
    return asyncio.run(_rebuilt(tokens))


def formats() -> list[str]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return ["jsonl"]
    return ["jsonl", "parquet", "arrow"]


def reads(trace: sv.Trace, folder: Path) -> dict[str, Callable[[], Any]]:
    """Each way a user reads a trace (the result is dropped at once)."""

    return {
        "iterate trace.events": lambda: sum(1 for _ in trace.events),
        "trace.filter(...)": lambda: trace.filter(include_types=["chat_model"]),
        "trace.save(.jsonl)": lambda: trace.save(folder / "read.jsonl"),
        "trace.events_df()": trace.events_df,
        "widget snapshot": lambda: TraceEncoder(trace).snapshot(),
    }


def measure(tokens: int) -> tuple[list[tuple[str, int, float]], list[tuple[str, float]]]:
    """Rows (what, events, bytes/event) and, for the captured trace, memory after each read."""
    rows: list[tuple[str, int, float]] = []
    trace, size = kept(lambda: captured(tokens))
    rows.append(("captured", len(trace), size / len(trace)))
    after_reads: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for format in formats():
            path = folder / f"trace.{format}"
            trace.save(path)
            loaded, loaded_size = kept(lambda path=path: sv.Trace.load(path))
            assert len(loaded) == len(trace)
            rows.append((f"loaded .{format}", len(loaded), loaded_size / len(loaded)))
            del loaded
        # The captured trace's memory after each read, against after capture (traced while
        # the trace is built, so the same allocations are counted every time).
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            trace = captured(tokens)
            gc.collect()
            after_capture = tracemalloc.get_traced_memory()[0] - base
            for what, read in reads(trace, folder).items():
                read()
                gc.collect()
                now = tracemalloc.get_traced_memory()[0] - base
                after_reads.append((what, now / after_capture))
        finally:
            tracemalloc.stop()
    del trace
    rebuilt_trace, size = kept(lambda: rebuilt(tokens))
    rows.append(("astream_events", len(rebuilt_trace), size / len(rebuilt_trace)))
    return rows, after_reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=33_334, help="tokens (3 events each)")
    parser.add_argument("--million", action="store_true", help="333,334 tokens: ~1 M events")
    args = parser.parse_args()
    tokens = 333_334 if args.million else args.tokens
    rows, after_reads = measure(tokens)
    print(f"chain B, {tokens:,} tokens; tracemalloc, Python {sys.version.split()[0]}\n")
    print("| trace | events | bytes/event |")
    print("|---|---:|---:|")
    for what, events, per_event in rows:
        print(f"| {what} | {events:,} | {per_event:.0f} |")
    print("\n| captured trace, after | memory / after capture |")
    print("|---|---:|")
    for what, ratio in after_reads:
        print(f"| {what} | {ratio:.3f} |")


if __name__ == "__main__":
    main()

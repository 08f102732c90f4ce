"""Bytes per event a trace holds (``.venv/bin/python bench/memory.py [--million]``).

Two traces: chain B (``prompt | DemoChatModel.for_benchmark(N) | StrOutputParser()``: three
stream events per token, the model's, the parser's and the sequence's) and the bench graph
(``sv.watch(build_bench_graph(), stream_mode=["updates", "messages"])``: per token the model's
stream event and LangGraph's ``messages`` part). Each is recorded several ways, and the memory
the trace keeps is measured with ``tracemalloc`` (what is still allocated once the trace is built
and everything else was dropped, divided by the trace's events):

- ``captured``: a :class:`streamviz.Collector` (chain) or ``sv.watch`` (graph);
- ``loaded .jsonl`` / ``.parquet`` / ``.arrow``: the captured trace saved, then ``Trace.load``;
- ``astream_events`` (chain): ``sv.from_astream_events(chain.astream_events(..., version="v2"))``;
- with ``--remote``: ``sv.watch_remote`` of the bench graph on a local ``langgraph dev`` server
  (``stream_mode=["messages-tuple", "events"]``: per token the server's ``messages`` part and its
  ``on_chat_model_stream`` event, message chunks as JSON dicts).

Then each captured trace is read every way a user reads it (iterating ``trace.events``,
``filter``, ``save``, ``events_df``, the widget encoder's snapshot) and its memory after each
read is compared with its memory after capture (the store keeps nothing it builds for a reader).

The chain has ~100 k events (``--tokens 33334``) by default, ~1 M with ``--million``; the graph
has 2 events per token, and as many tokens. The Parquet and Arrow rows need pyarrow. CPU time is
not measured here (see ``bench/run.py`` and ``bench/files.py``).
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
from streamviz.demo.graphs import build_bench_graph
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


def graph_captured(tokens: int) -> sv.Trace:
    return sv.watch(
        build_bench_graph(),
        {"n_tokens": tokens},
        display=False,
        stream_mode=["updates", "messages"],
    )


async def _rebuild(tokens: int) -> sv.Trace:
    events = chain(tokens).astream_events({"topic": "parrot"}, version="v2")
    return await sv.from_astream_events(events)


def rebuild(tokens: int) -> sv.Trace:
    return asyncio.run(_rebuild(tokens))


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
        "trace.filter(...)": lambda: trace.filter(exclude_types=["chat_model"]),
        "trace.save(.jsonl)": lambda: trace.save(folder / "read.jsonl"),
        "trace.events_df()": trace.events_df,
        "widget snapshot": lambda: TraceEncoder(trace).snapshot(),
    }


Row = tuple[str, str, int, float]


def measure(
    label: str, capture: Callable[[int], sv.Trace], tokens: int, folder: Path
) -> tuple[list[Row], list[tuple[str, str, float]]]:
    """Rows (trace, how, events, bytes/event) and the captured trace's memory after each read."""
    rows: list[Row] = []
    capture(10)  # first calls import and build what is kept for good: not the trace
    trace, size = kept(lambda: capture(tokens))
    rows.append((label, "captured", len(trace), size / len(trace)))
    for format in formats():
        path = folder / f"{label}.{format}"
        trace.save(path)
        loaded, loaded_size = kept(lambda path=path: sv.Trace.load(path))
        assert len(loaded) == len(trace)
        rows.append((label, f"loaded .{format}", len(loaded), loaded_size / len(loaded)))
        del loaded
    del trace
    # The captured trace's memory after each read, against after capture (traced while the trace
    # is built, so the same allocations are counted every time).
    after_reads: list[tuple[str, str, float]] = []
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        trace = capture(tokens)
        gc.collect()
        after_capture = tracemalloc.get_traced_memory()[0] - base
        for what, read in reads(trace, folder).items():
            read()
            gc.collect()
            now = tracemalloc.get_traced_memory()[0] - base
            after_reads.append((label, what, now / after_capture))
    finally:
        tracemalloc.stop()
    return rows, after_reads


def remote(tokens: int) -> tuple[str, str, int, float]:
    """The bench graph on a local LangGraph server, watched: the row for the table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from langgraph_sdk import get_sync_client
    from langgraph_server import LangGraphServer

    with tempfile.TemporaryDirectory(prefix="streamviz-bench-") as workdir:
        server = LangGraphServer.start(Path(workdir) / "app", name="bench")
        try:
            client = get_sync_client(url=server.url)
            modes = ["messages-tuple", "events"]

            def watch(n: int) -> sv.Trace:
                inputs = {"n_tokens": n}
                return sv.watch_remote(
                    client, None, "bench", input=inputs, stream_mode=modes, display=False
                )

            watch(10)
            trace, size = kept(lambda: watch(tokens))
            return "graph", "watch_remote", len(trace), size / len(trace)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=33_334, help="tokens (3 events each)")
    parser.add_argument("--million", action="store_true", help="333,334 tokens: ~1 M events")
    parser.add_argument("--remote", action="store_true", help="also a LangGraph server's trace")
    args = parser.parse_args()
    tokens = 333_334 if args.million else args.tokens
    rows: list[Row] = []
    after_reads: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, capture in (("chain B", captured), ("graph", graph_captured)):
            more, reads_more = measure(label, capture, tokens, Path(tmp))
            rows += more
            after_reads += reads_more
    rebuild(10)
    trace, size = kept(lambda: rebuild(tokens))
    rows.append(("chain B", "astream_events", len(trace), size / len(trace)))
    if args.remote:
        rows.append(remote(tokens))
    print(f"{tokens:,} tokens; tracemalloc, Python {sys.version.split()[0]}\n")
    print("| trace | how | events | bytes/event |")
    print("|---|---|---:|---:|")
    for label, how, events, per_event in rows:
        print(f"| {label} | {how} | {events:,} | {per_event:.0f} |")
    print("\n| captured trace | after | memory / after capture |")
    print("|---|---|---:|")
    for label, what, ratio in after_reads:
        print(f"| {label} | {what} | {ratio:.3f} |")


if __name__ == "__main__":
    main()

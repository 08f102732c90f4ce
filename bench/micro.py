"""Micro-benchmarks of the collector's per-event cost (``.venv/bin/python bench/micro.py``, ~1 min).

1. The stream writer alone (``EventStore.stream_writer``, ``streamviz/_log.py``), per storage
   path: ``packed`` (a plain ``AIMessageChunk`` kept as its text), ``text`` (a parser's
   ``TextAccessor``), ``same`` (the previous row's object again, as a sequence re-yields its last
   step's chunks).
2. A LangGraph ``messages`` part recorded by ``GraphParts`` (``streamviz/sources/graph.py``,
   what ``sv.watch`` does with each part of a graph): ``put`` (the watch loop's call when nothing
   prints the parts: straight to the model call's writer), ``writer`` (``record``, which also
   returns the part split, through the same writer) and, for comparison, ``event`` (the same part
   built as an event and appended: the path of every other part, and of ``messages`` parts
   before they had a writer).
3. The collector's token callback, ``Collector.on_llm_new_token`` of a chat model run (what
   LangChain calls for each token, with a ``ChatGenerationChunk``), per call: ``callback``.
4. The whole pipeline: (collector - no-op handler) per token and per recorded stream event on
   rows A sync, A async and B sync of ``run.py`` (short runs, interleaved).

All run with the garbage collector off and report the minimum over repetitions (and the median),
in microseconds of the thread's CPU time (``time.thread_time``: on a machine shared with other
work, wall time counts the time the thread waited for a CPU): they measure CPU work, not the GC
(see ``run.py`` for that).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.messages.base import TextAccessor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import EVENTS_PER_TOKEN, INPUT, Bench, NoopHandler

from streamviz import Collector, Trace
from streamviz.demo import DemoChatModel


def writer_costs(tokens: int, reps: int) -> dict[str, list[float]]:
    """Microseconds per call of a stream writer, by storage path."""
    chunks = list(DemoChatModel.for_benchmark(tokens).stream("go"))[:-1]  # the plain tokens
    texts = [TextAccessor(chunk.content) for chunk in chunks]
    paths = {"packed": chunks, "text": texts, "same": [chunks[0]] * len(chunks)}
    results: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(reps):
        for path, values in paths.items():
            trace = Trace()
            fields = {"name": "m", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
            run = trace.store.append({**fields, "event": "on_chat_model_start", "data": {}})
            write = trace.store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
            gc.collect()
            gc.disable()
            t0 = time.thread_time()
            for value in values:
                write(value)
            elapsed = time.thread_time() - t0
            gc.enable()
            results[path].append(elapsed / len(chunks) * 1e6)
    return results


def part_costs(tokens: int, reps: int) -> dict[str, list[float]]:
    """Microseconds per LangGraph ``messages`` part recorded, by path."""
    from streamviz.sources.graph import GraphParts, part_event

    # A part as LangGraph yields it under stream_mode=[..., "messages"]: (mode, (token, metadata))
    # with the model call's metadata object (LangGraph's keys) shared by all its tokens.
    metadata = {
        "langgraph_step": 1,
        "langgraph_node": "agent",
        "langgraph_triggers": ("branch:to:agent",),
        "langgraph_path": ("__pregel_pull", "agent"),
        "langgraph_checkpoint_ns": "agent:0a8c0d1e",
        "checkpoint_ns": "agent:0a8c0d1e",
        "ls_provider": "demo",
        "ls_model_name": "demo",
        "ls_model_type": "chat",
    }
    chunks = list(DemoChatModel.for_benchmark(tokens).stream("go"))[:-1]
    items = [("messages", (chunk, metadata)) for chunk in chunks]
    results: dict[str, list[float]] = {"put": [], "writer": [], "event": []}
    if not hasattr(GraphParts, "put"):  # a build before it (to compare): no such path
        del results["put"]
    for _ in range(reps):
        for path in results:
            trace = Trace()
            parts = GraphParts(trace, "root", "agent", stream_mode=["updates", "messages"])
            append = trace.store.append
            gc.collect()
            gc.disable()
            t0 = time.thread_time()
            if path == "put":
                for item in items:
                    parts.put(item)
            elif path == "writer":
                for item in items:
                    parts.record(item)
            else:
                for mode, chunk in items:
                    append(part_event("root", "agent", (), mode, chunk))
            elapsed = time.thread_time() - t0
            gc.enable()
            results[path].append(elapsed / len(items) * 1e6)
    return results


def callback_costs(tokens: int, reps: int) -> list[float]:
    """Microseconds per ``Collector.on_llm_new_token`` call of a chat model run."""
    from uuid import uuid4

    from langchain_core.messages import HumanMessage
    from langchain_core.outputs import ChatGenerationChunk

    chunks = [
        ChatGenerationChunk(message=chunk)
        for chunk in list(DemoChatModel.for_benchmark(tokens).stream("go"))[:-1]
    ]
    results = []
    for _ in range(reps):
        collector, run_id = Collector(), uuid4()
        collector.on_chat_model_start({}, [[HumanMessage("go")]], run_id=run_id, name="m")
        callback = collector.on_llm_new_token
        gc.collect()
        gc.disable()
        t0 = time.thread_time()
        for chunk in chunks:
            callback(chunk.text, chunk=chunk, run_id=run_id)
        elapsed = time.thread_time() - t0
        gc.enable()
        assert collector.trace.runs[str(run_id)].chunk_count == len(chunks)
        results.append(elapsed / len(chunks) * 1e6)
    return results


def pipeline_costs(tokens: int, reps: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds per token of the no-op handler and the collector, by row."""
    loop = asyncio.new_event_loop()
    benches = {"A": Bench("A", tokens, parser=False), "B": Bench("B", tokens, parser=True)}

    async def consume(chain: Any, config: dict[str, Any]) -> None:
        async for _ in chain.astream(INPUT, config):
            pass

    results: dict[str, dict[str, list[float]]] = {}
    for row in ("A sync", "A async", "B sync"):
        label, mode = row.split()
        chain = benches[label].chain
        times: dict[str, list[float]] = {"noop": [], "collector": []}
        for r in range(reps + 1):  # the first round warms up
            for variant in ("noop", "collector") if r % 2 else ("collector", "noop"):
                config = {"callbacks": [NoopHandler() if variant == "noop" else Collector()]}
                gc.collect()
                gc.disable()
                t0 = time.thread_time()
                if mode == "sync":
                    for _ in chain.stream(INPUT, config):
                        pass
                else:
                    loop.run_until_complete(consume(chain, config))
                elapsed = time.thread_time() - t0
                gc.enable()
                if r:
                    times[variant].append(elapsed / tokens * 1e6)
        results[row] = times
    loop.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    print("stream writer, us per call: min / median")
    for path, times in writer_costs(args.tokens, args.reps).items():
        print(f"  {path:7s} {min(times):.3f} / {statistics.median(times):.3f}")
    print("LangGraph messages part, us per part: min / median")
    for path, times in part_costs(args.tokens, args.reps).items():
        print(f"  {path:7s} {min(times):.3f} / {statistics.median(times):.3f}")
    times = callback_costs(args.tokens, args.reps)
    print("collector token callback, us per call: min / median")
    print(f"  callback {min(times):.3f} / {statistics.median(times):.3f}")
    print("pipeline, us per token: min / median; collector - noop per recorded stream event")
    for row, times in pipeline_costs(args.tokens, args.reps).items():
        noop, coll = times["noop"], times["collector"]
        events = EVENTS_PER_TOKEN[row[0]]
        extra_min = (min(coll) - min(noop)) / events
        extra_med = (statistics.median(coll) - statistics.median(noop)) / events
        print(
            f"  {row:8s} noop {min(noop):.2f} / {statistics.median(noop):.2f}  collector "
            f"{min(coll):.2f} / {statistics.median(coll):.2f}  ratio {min(coll) / min(noop):.3f}"
            f"  +{extra_min:.2f} / +{extra_med:.2f} us per event"
        )


if __name__ == "__main__":
    main()

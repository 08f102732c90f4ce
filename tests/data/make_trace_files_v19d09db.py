"""Writes tests/data/trace_19d09db.{jsonl,parquet,arrow}: one trace, saved by commit 19d09db's code.

Run from a checkout of that commit (``git worktree add --detach /tmp/old 19d09db``)::

    PYTHONPATH=/tmp/old python tests/data/make_trace_files_v19d09db.py tests/data

The trace: a LangGraph graph streamed in process (``updates`` and ``messages`` parts, 30 tokens),
then a resumable LangGraph server run's parts as ``watch_remote`` records them (each with its
``server_t``, which that version wrote into the ``extra`` column). tests/test_store_io.py checks
that the current code loads the three files as the same events, key order included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamviz as sv
from streamviz.demo.graphs import build_bench_graph


def server_parts(trace: sv.Trace, tokens: int) -> None:
    def part(event: str, data: dict, server_t: float) -> dict:
        fields = {"event": event, "name": "model", "run_id": "m", "parent_ids": ["r"]}
        metadata = {"langgraph_node": "call_model", "langgraph_step": 1}
        fields |= {"tags": ["seq:step:1"], "metadata": metadata, "data": data}
        return {**fields, "mode": "events", "ns": [], "server_t": server_t}

    trace.store.append(part("on_chat_model_start", {"input": {"messages": []}}, 0.2))
    for i in range(tokens):
        message = {"content": f" w{i}", "additional_kwargs": {}, "response_metadata": {}}
        message |= {"type": "AIMessageChunk", "name": None, "id": "run-m", "tool_calls": []}
        trace.store.append(part("on_chat_model_stream", {"chunk": message}, 0.25 + 0.001 * i))
    trace.store.append(part("on_chat_model_end", {"output": {"content": "..."}}, 0.4))


def main(folder: Path) -> None:
    trace = sv.watch(
        build_bench_graph(),
        {"n_tokens": 30, "text": ""},
        display=False,
        stream_mode=["updates", "messages"],
        name="old",
    )
    server_parts(trace, 40)
    for suffix in ("jsonl", "parquet", "arrow"):
        trace.save(folder / f"trace_19d09db.{suffix}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

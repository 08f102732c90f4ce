"""Writes tests/data/trace_1f2e935.{jsonl,parquet,arrow}: one trace, saved by commit 1f2e935's code.

That commit wrote Parquet and Arrow files with the whole payload in the ``data`` column (a
LangGraph ``messages`` part's metadata included). Run from a checkout of that commit
(``git worktree add --detach /tmp/old 1f2e935``)::

    PYTHONPATH=/tmp/old python tests/data/make_trace_files_v1f2e935.py tests/data

The trace: bench/scale.py's agent (3 nodes in a loop, 5 tokens per model call, 7 calls) streamed
with ``updates`` and ``messages`` parts, then the server run of make_trace_files_v19d09db.py (each
part with its ``server_t``). tests/test_store_io.py checks that the current code loads the three
files as the same events, key order included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamviz as sv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "bench"))
sys.path.insert(0, str(HERE))
from make_trace_files_v19d09db import server_parts  # noqa: E402
from scale import build_agent  # noqa: E402


def main(folder: Path) -> None:
    trace = sv.watch(
        build_agent(3, 5),
        {"calls": 7, "step": 0, "text": ""},
        {"recursion_limit": 40},
        display=False,
        stream_mode=["updates", "messages"],
        name="v1f2e935",
    )
    server_parts(trace, 12)
    for suffix in ("jsonl", "parquet", "arrow"):
        trace.save(folder / f"trace_1f2e935.{suffix}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""What reading tool calls costs the widget encoder (``.venv/bin/python bench/toolcalls.py``).

The encoder reads a model run's tool calls as it encodes the events (``streamviz/toolcalls.py``).
Measured side by side, in CPU time (``time.process_time``) per event, with the garbage collector
off, the minimum over repetitions:

1. ``tokens``: a plain streamed answer of ``--tokens`` tokens (compact rows of the store: the
   reader skips each block after one look at its templates and texts), encoded with the reader
   and with it switched off (its ``apply``/``apply_block`` made no-ops): the ratio is what tool
   calls cost a trace that has none.
2. ``calls``: a model streaming two parallel tool calls of ``--args`` characters each, in pieces
   of 3 characters (every piece is an event dict), with and without the reader.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import streamviz as sv
from streamviz.demo import DemoChatModel, DemoToolModel
from streamviz.toolcalls import ToolCalls
from streamviz.widgets._encode import TraceEncoder


def encode_cost(trace: sv.Trace, reps: int, *, reader: bool) -> float:
    """Least CPU seconds per event of a first snapshot of ``trace``."""
    best = float("inf")
    saved = ToolCalls.apply, ToolCalls.apply_block
    if not reader:
        ToolCalls.apply = lambda self, event: set()  # type: ignore[method-assign]
        ToolCalls.apply_block = lambda self, store, block, *rest: set()  # type: ignore[method-assign]
    try:
        for _ in range(reps):
            gc.disable()
            start = time.process_time()
            TraceEncoder(trace).snapshot()
            best = min(best, time.process_time() - start)
            gc.enable()
    finally:
        ToolCalls.apply, ToolCalls.apply_block = saved
    return best / len(trace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--args", type=int, default=3_000)
    parser.add_argument("--reps", type=int, default=5)
    options = parser.parse_args()

    with sv.capture() as tokens:
        list(DemoChatModel.for_benchmark(options.tokens).stream("go"))
    calls: list[dict[str, Any]] = [
        {"name": name, "args": {"text": "x" * options.args}, "id": name}
        for name in ("first", "second")
    ]
    with sv.capture() as streamed:
        list(DemoToolModel(tool_calls=calls, chunk_chars=3).stream("go"))

    for label, trace in (("tokens", tokens), ("calls", streamed)):
        off = encode_cost(trace, options.reps, reader=False)
        on = encode_cost(trace, options.reps, reader=True)
        print(
            f"{label:6} {len(trace):>8,} events  encoder {off * 1e6:6.2f} us/event without the "
            f"reader, {on * 1e6:6.2f} us/event with it  (x{on / off:.3f})"
        )


if __name__ == "__main__":
    main()

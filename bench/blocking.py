"""How long a stream being recorded waits while another thread reads the same trace.

Run with ``.venv/bin/python bench/blocking.py [--events N] [--workload chain|graph]``. A trace of
``N`` events (default 300,000; ``bench/scale.py``'s workloads) is captured first. Then, for each
reader (save JSONL, save Parquet, ``events_df``, ``filter``, the dashboard snapshot,
``write_html``), a writer thread records a stream into that same trace (a model streaming a token
every millisecond, recorded by the collector through the store's lock) while the main thread
reads it, and the writer's waits are timed two ways:

- ``lock``: the longest time one append waited for the store's lock (the writer's lock is wrapped
  to time each ``acquire``): what a reader that held the lock for its whole run would cost;
- ``gap``: the longest time between two tokens as the stream's consumer saw them, minus the
  model's own 1 ms: the lock, plus the interpreter's lock (the GIL: a busy reader thread hands it
  over every ``sys.getswitchinterval()``, 5 ms), plus the machine.

The same stream recorded with no reader beside it gives the baseline. Reported, not asserted.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import scale  # noqa: E402 - the workloads of the scale benchmark

import streamviz as sv  # noqa: E402
from streamviz.demo import DemoChatModel  # noqa: E402

TOKEN_DELAY = 0.001


class TimedLock:
    """The store's lock, timing how long each acquire of the writer's thread waited (seconds)."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.waits: list[float] = []
        self.writer: int | None = None  # the thread whose waits are timed

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        if threading.get_ident() != self.writer:
            return self._lock.acquire(*args, **kwargs)
        began = time.perf_counter()
        got = self._lock.acquire(*args, **kwargs)
        self.waits.append(time.perf_counter() - began)
        return got

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def stream_beside(trace: sv.Trace, reader: Any, tokens: int) -> dict[str, float]:
    """Record a ``tokens``-token stream into ``trace`` while ``reader()`` runs (None: alone)."""
    store = trace.store
    original = store.lock
    timed = TimedLock(original)
    store.lock = timed  # the writer made below takes acquire/release from here
    model = DemoChatModel.for_benchmark(tokens).model_copy(update={"token_delay": TOKEN_DELAY})
    collector = sv.Collector(trace)
    arrivals: list[float] = []
    started = threading.Event()

    def write() -> None:
        timed.writer = threading.get_ident()
        for _ in collector.stream(model, "go"):
            arrivals.append(time.perf_counter())
            started.set()

    writer = threading.Thread(target=write)
    writer.start()
    started.wait()
    read_for = 0.0
    if reader is not None:
        began = time.perf_counter()
        reader()
        read_for = time.perf_counter() - began
    writer.join()
    store.lock = original
    gaps = [b - a - TOKEN_DELAY for a, b in itertools.pairwise(arrivals)]
    return {
        "read_s": read_for,
        "lock_max_ms": max(timed.waits) * 1e3,
        "gap_max_ms": max(gaps) * 1e3,
        "gap_p99_ms": statistics.quantiles(gaps, n=100)[98] * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--workload", choices=list(scale.WORKLOADS), default="chain")
    args = parser.parse_args(argv)
    trace = scale.WORKLOADS[args.workload](args.events).capture()
    print(f"{args.workload}: {len(trace.events):,} events; a token every {TOKEN_DELAY * 1e3:g} ms")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        readers: dict[str, Any] = {
            "(no reader)": None,
            "save jsonl": lambda: trace.save(directory / "t.jsonl"),
            "save parquet": lambda: trace.save(directory / "t.parquet"),
            "events_df": trace.events_df,
            "filter": lambda: trace.filter(include_types=["chat_model"]),
            "dashboard snapshot": lambda: scale.snapshot(trace),
            "write_html": lambda: sv.write_html(trace, directory / "t.html"),
        }
        print("| reader beside the stream | read s | lock wait max ms | gap max ms | gap p99 ms |")
        print("|---|--:|--:|--:|--:|")
        for label, reader in readers.items():
            # enough tokens to outlast the read (at least 2 s of stream)
            figures = stream_beside(trace, reader, tokens=2_000)
            print(
                f"| {label} | {figures['read_s']:.2f} | {figures['lock_max_ms']:.2f} | "
                f"{figures['gap_max_ms']:.2f} | {figures['gap_p99_ms']:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

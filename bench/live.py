"""Kernel-side cost of a live dashboard: capture alone vs capture shown by a live widget.

Run with ``make bench`` (after ``bench/run.py``) or ``.venv/bin/python bench/live.py [--quick]``.
Both variants stream ``prompt | DemoChatModel | StrOutputParser`` (zero-delay demo model, N
tokens) through a :class:`streamviz.Collector`; the ``dashboard`` variant also shows the trace in
a :class:`streamviz.widgets.Dashboard` that follows it live: the update thread wakes ~30 times a
second, encodes what is new and sends it, and at the end the widget settles (final delta + the
durable snapshot). There is no kernel here, so each message is turned into the JSON a kernel
would put on the wire; the time includes the final settle, which a user waits for too.
Rounds alternate the two variants; the report gives medians and their ratio (target <= 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.widgets import Dashboard

TARGET = 1.2
INPUT = {"topic": "parrot"}


class WireDashboard(Dashboard):
    """A dashboard whose messages are serialised as a kernel would, and counted."""

    def __init__(self, trace: sv.Trace) -> None:
        self.messages = 0
        self.bytes = 0
        super().__init__(trace)

    def send(self, content: Any, buffers: Any = None) -> None:
        self.messages += 1
        self.bytes += len(json.dumps(content, ensure_ascii=False))

    def send_state(self, key: Any = None) -> None:
        state = self.get_state(key=key)
        self.bytes += len(json.dumps(state, ensure_ascii=False, default=str))


def chain(n_tokens: int) -> Any:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    return prompt | DemoChatModel.for_benchmark(n_tokens) | StrOutputParser()


def run_sync(runnable: Any, live: bool) -> tuple[float, WireDashboard | None, sv.Trace]:
    collector = sv.Collector()
    gc.collect()
    started = time.perf_counter()
    widget = WireDashboard(collector.trace) if live else None
    for _ in collector.stream(runnable, INPUT):
        pass
    if widget is not None:
        widget.settle()
        widget.close()
    return time.perf_counter() - started, widget, collector.trace


async def run_async(runnable: Any, live: bool) -> tuple[float, WireDashboard | None, sv.Trace]:
    collector = sv.Collector()
    gc.collect()
    started = time.perf_counter()
    widget = WireDashboard(collector.trace) if live else None
    async for _ in collector.astream(runnable, INPUT):
        pass
    if widget is not None:
        widget.settle()
        widget.close()
    return time.perf_counter() - started, widget, collector.trace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 tokens, 3 rounds")
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    args = parser.parse_args(argv)
    n = args.tokens or (2_000 if args.quick else 20_000)
    rounds = args.rounds or (3 if args.quick else 7)
    runnable = chain(n)
    loop = asyncio.new_event_loop()
    modes = {
        "sync": lambda live: run_sync(runnable, live),
        "async": lambda live: loop.run_until_complete(run_async(runnable, live)),
    }
    times: dict[tuple[str, bool], list[float]] = {(m, live): [] for m in modes for live in (0, 1)}
    sent: dict[str, tuple[int, int, float]] = {}
    for mode, run in modes.items():  # warm-up, and a check that the dashboard got everything
        run(False)
        _, widget, trace = run(True)
        assert widget is not None
        if widget.snapshot["count"] != len(trace.events):
            raise AssertionError(f"{mode}: dashboard holds {widget.snapshot['count']} events")
    for index in range(rounds):
        for mode, run in modes.items():
            order = (False, True) if index % 2 == 0 else (True, False)
            for live in order:
                elapsed, widget, trace = run(live)
                times[(mode, live)].append(elapsed)
                if widget is not None:
                    sent[mode] = (widget.messages, widget.bytes, elapsed)
    print(f"# Live dashboard cost ({n:,} tokens, {rounds} rounds, medians)\n")
    print(f"`{' '.join(['bench/live.py', *(argv if argv is not None else sys.argv[1:])])}`\n")
    print("| mode | capture µs/token | capture + live dashboard µs/token | ratio | messages |")
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for mode in modes:
        alone = statistics.median(times[(mode, False)]) / n * 1e6
        shown = statistics.median(times[(mode, True)]) / n * 1e6
        ratio = shown / alone
        worst = max(worst, ratio)
        messages, size, elapsed = sent[mode]
        print(
            f"| {mode} | {alone:.1f} | {shown:.1f} | {ratio:.3f} | "
            f"{messages} in {elapsed:.2f} s, {size / 1e6:.1f} MB |"
        )
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"\nTarget: live dashboard <= {TARGET}x capture alone on every row: **{verdict}**.")
    return 1 if args.strict and worst > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())

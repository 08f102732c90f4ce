"""Cost of observing a streaming chain: bare, no-op handler, Collector, astream_events.

Run with ``make bench`` (or ``.venv/bin/python bench/run.py [--quick] [--tokens N] [--rounds R]``).
Everything runs in one process. Each round visits every (chain, mode) row and runs every variant of
that row once, in an order rotated from round to round; the table reports medians over rounds.
See ``bench/README.md`` for how to read the output.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import langchain_core
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tracers._streaming import _StreamingCallbackHandler

import streamviz
from streamviz import Collector
from streamviz.demo import DemoChatModel

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
INPUT = {"topic": "parrot"}
VARIANTS = ("bare", "noop", "collector", "astream_events")
TARGET_COLLECTOR_VS_NOOP = 1.05
TARGET_OVERHEAD_SHARE = 0.5
EVENTS_PER_TOKEN = {"A": 2, "B": 3}  # stream events per token: model, (parser,) root chain


# --------------------------------------------------------------------------- the no-op handler
class NoopHandler(BaseCallbackHandler, _StreamingCallbackHandler[Any]):
    """The cheapest callback-based observer: every callback returns at once, taps pass through.

    Being a streaming handler it is tapped like the Collector (and, for ``invoke``, it would make
    chat models stream), so it pays all of LangChain's own dispatch cost and nothing else.
    """

    run_inline = True
    raise_error = False

    def __copy__(self) -> NoopHandler:
        return self

    def __deepcopy__(self, memo: Any = None) -> NoopHandler:
        return self

    # The taps pass every chunk straight through, as any handler that sees chunks must: one
    # generator layer per tapped step, doing nothing with the chunk.
    def tap_output_iter(self, run_id: Any, output: Iterator[T]) -> Iterator[T]:
        for chunk in output:  # noqa: UP028 - the same loop LangChain's and the collector's taps use
            yield chunk

    async def tap_output_aiter(self, run_id: Any, output: AsyncIterator[T]) -> AsyncIterator[T]:
        async for chunk in output:
            yield chunk

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_chain_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_chain_error(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_llm_error(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_tool_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_tool_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_tool_error(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_retriever_start(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_retriever_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_retriever_error(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_text(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_retry(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_custom_event(self, *args: Any, **kwargs: Any) -> None:
        pass


class _CountingNoop(NoopHandler):
    """Checked once before timing: proves the no-op handler really receives every token."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = 0
        self.starts = 0

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        self.tokens += 1

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        self.starts += 1


# ----------------------------------------------------------------------------------- chains
class Bench:
    """One chain of the benchmark and what a complete run of it must produce."""

    def __init__(self, label: str, n_tokens: int, parser: bool) -> None:
        model = DemoChatModel.for_benchmark(n_tokens)
        prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
        self.label = label
        self.n = n_tokens
        self.parser = parser
        self.chain: Any = prompt | model | StrOutputParser() if parser else prompt | model
        self.text = model.responses[0]  # what the model answers, token by token
        # The model streams its N tokens, then one empty chunk carrying usage metadata.
        self.chunks = n_tokens + 1

    # -- checks: a variant that lost output must not look fast
    def check_output(self, parts: list[str], variant: str) -> None:
        """``parts``: the text of every chunk the chain yielded (kept as strings only, so that the
        harness keeps no GC-tracked object alive: that would slow every variant's GC)."""
        text = "".join(parts)
        if len(parts) != self.chunks or text != self.text:
            raise AssertionError(
                f"{self.label}/{variant}: {len(parts)} chunks, {len(text)} chars of output, "
                f"expected {self.chunks} chunks, {len(self.text)} chars"
            )

    def expected_counts(self) -> dict[str, int]:
        counts = {"on_chat_model_stream": self.chunks, "on_chain_stream": self.chunks}
        if self.parser:
            counts["on_parser_stream"] = self.chunks
        for kind in ("chain", "prompt", "chat_model") + (("parser",) if self.parser else ()):
            counts[f"on_{kind}_start"] = 1
            counts[f"on_{kind}_end"] = 1
        return counts

    def check_events(self, counts: dict[str, int], tokens: list[str], variant: str) -> None:
        """Event counts by kind, and the content of every ``on_chat_model_stream`` chunk."""
        expected = self.expected_counts()
        if dict(counts) != expected:
            raise AssertionError(f"{self.label}/{variant}: events {dict(counts)} != {expected}")
        if sum(1 for t in tokens if t) != self.n or "".join(tokens) != self.text:
            raise AssertionError(f"{self.label}/{variant}: model tokens incomplete")

    def check_collector(self, collector: Collector) -> None:
        trace = collector.trace
        events = trace.events
        tokens = [
            e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"
        ]
        self.check_events(Counter(e["event"] for e in events), tokens, "collector")
        statuses = {run.status for run in trace.runs.values()}
        if statuses != {"ok"} or len(trace.runs) != (4 if self.parser else 3):
            raise AssertionError(f"{self.label}/collector: run tree {trace.runs}")


# ---------------------------------------------------------------------------------- runners
class GcClock:
    """Seconds spent in the cyclic garbage collector (any thread), from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


GC_CLOCK = GcClock()
Timing = tuple[float, float]  # (seconds of the run, seconds of it spent in the GC)


def _handler(variant: str) -> Any:
    if variant == "noop":
        return NoopHandler()
    if variant == "collector":
        return Collector()
    return None


def run_sync(bench: Bench, variant: str) -> Timing:
    """Stream the chain once with ``variant`` observing it; checked afterwards."""
    handler = _handler(variant)
    config = {"callbacks": [handler]} if handler is not None else None
    parts: list[str] = []
    append = parts.append
    stream = bench.chain.stream
    gc_before = GC_CLOCK.total
    t0 = time.perf_counter()
    if bench.parser:
        for chunk in stream(INPUT, config):
            append(chunk)
    else:
        for chunk in stream(INPUT, config):
            append(chunk.content)
    elapsed = time.perf_counter() - t0
    in_gc = GC_CLOCK.total - gc_before
    bench.check_output(parts, variant)
    if variant == "collector":
        bench.check_collector(handler)
    return elapsed, in_gc


async def run_async(bench: Bench, variant: str) -> Timing:
    """Async twin of :func:`run_sync`, plus the ``astream_events`` variant."""
    parts: list[str] = []
    append = parts.append
    if variant == "astream_events":
        # Checked on the fly (counts and strings only): keeping the events would make the GC
        # slower for this variant alone.
        counts: Counter[str] = Counter()
        tokens: list[str] = []
        gc_before = GC_CLOCK.total
        t0 = time.perf_counter()
        async for event in bench.chain.astream_events(INPUT, version="v2"):
            kind = event["event"]
            counts[kind] += 1
            if kind == "on_chat_model_stream":
                tokens.append(event["data"]["chunk"].content)
            elif kind == "on_chain_stream" and not event["parent_ids"]:
                chunk = event["data"]["chunk"]
                append(chunk if bench.parser else chunk.content)
        elapsed = time.perf_counter() - t0
        in_gc = GC_CLOCK.total - gc_before
        bench.check_output(parts, variant)
        bench.check_events(counts, tokens, variant)
        return elapsed, in_gc
    handler = _handler(variant)
    config = {"callbacks": [handler]} if handler is not None else None
    astream = bench.chain.astream
    gc_before = GC_CLOCK.total
    t0 = time.perf_counter()
    if bench.parser:
        async for chunk in astream(INPUT, config):
            append(chunk)
    else:
        async for chunk in astream(INPUT, config):
            append(chunk.content)
    elapsed = time.perf_counter() - t0
    in_gc = GC_CLOCK.total - gc_before
    bench.check_output(parts, variant)
    if variant == "collector":
        bench.check_collector(handler)
    return elapsed, in_gc


def preflight(bench: Bench, loop: asyncio.AbstractEventLoop) -> None:
    """The no-op handler must see every start and token, or it would not be a fair floor."""
    for mode in ("sync", "async"):
        handler = _CountingNoop()
        config = {"callbacks": [handler]}
        if mode == "sync":
            outputs = list(bench.chain.stream(INPUT, config))
        else:

            async def collect(config: Any = config) -> list[Any]:
                return [chunk async for chunk in bench.chain.astream(INPUT, config)]

            outputs = loop.run_until_complete(collect())
        parts = outputs if bench.parser else [chunk.content for chunk in outputs]
        bench.check_output(parts, f"noop preflight ({mode})")
        if handler.tokens != bench.chunks or handler.starts != (3 if bench.parser else 2):
            raise AssertionError(
                f"{bench.label}/noop ({mode}): saw {handler.tokens} tokens, {handler.starts} "
                f"chain/prompt/parser starts"
            )


# ------------------------------------------------------------------------------ measuring
Row = tuple[str, str]  # (chain label, mode)
Samples = dict[Row, dict[str, list[tuple[float, float]]]]


def measure(
    benches: list[Bench], rounds: int, loop: asyncio.AbstractEventLoop, log: Callable[[str], None]
) -> Samples:
    """Round-robin: every round runs every variant of every row once.

    Returns, per row and variant, one ``(us/token, us/token spent in the GC)`` pair per round.
    """
    rows: list[tuple[Bench, str, tuple[str, ...]]] = []
    for bench in benches:
        rows.append((bench, "sync", VARIANTS[:3]))
        rows.append((bench, "async", VARIANTS))
    samples: Samples = {
        (bench.label, mode): {v: [] for v in variants} for bench, mode, variants in rows
    }
    for r in range(rounds):
        started = time.perf_counter()
        for bench, mode, variants in rows:
            shift = r % len(variants)  # each variant takes each position in turn
            for variant in variants[shift:] + variants[:shift]:
                gc.collect()  # start every run with the previous run's garbage gone
                if mode == "sync":
                    seconds, in_gc = run_sync(bench, variant)
                else:
                    seconds, in_gc = loop.run_until_complete(run_async(bench, variant))
                samples[(bench.label, mode)][variant].append(
                    (seconds / bench.n * 1e6, in_gc / bench.n * 1e6)
                )
        log(f"  round {r + 1}/{rounds} done in {time.perf_counter() - started:.1f} s")
    return samples


def measure_memory(bench: Bench, repeats: int = 2) -> dict[str, Any]:
    """Bytes the Collector's trace keeps alive per event (sync stream of ``bench``).

    Retained size = traced memory after the run (garbage collected, handler still alive) minus
    before. The no-op run's retained size (LangChain's own caches, the model's call counter...) is
    subtracted. Minimum over ``repeats`` of each, after a warm-up of each.
    """
    tracemalloc.start()
    try:
        retained: dict[str, list[int]] = {"noop": [], "collector": []}
        by_file: Counter[str] = Counter()
        n_events = 0
        for i in range(repeats + 1):
            for variant in ("noop", "collector"):
                handler: Any = NoopHandler() if variant == "noop" else Collector()
                gc.collect()
                before_snapshot = tracemalloc.take_snapshot() if variant == "collector" else None
                before = tracemalloc.get_traced_memory()[0]
                chars = count = 0
                for chunk in bench.chain.stream(INPUT, {"callbacks": [handler]}):
                    chars += len(chunk if bench.parser else chunk.content)
                    count += 1
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
                if variant == "collector" and i == 1:
                    # Before the checks below read the events (which turns them into dicts).
                    snapshot = tracemalloc.take_snapshot()
                    for stat in snapshot.compare_to(before_snapshot, "filename"):
                        by_file[_file_group(stat.traceback[0].filename)] += stat.size_diff
                if count != bench.chunks or chars != len(bench.text):
                    raise AssertionError(f"memory run ({variant}): incomplete output")
                if variant == "collector":
                    n_events = len(handler.trace.events)
                    bench.check_collector(handler)
                if i > 0:  # the first round is a warm-up
                    retained[variant].append(after - before)
                del handler
        noop = min(retained["noop"])
        collector = min(retained["collector"])
        return {
            "events": n_events,
            "noop_bytes": noop,
            "collector_bytes": collector,
            "per_event": (collector - noop) / n_events,
            "by_file": {k: v / n_events for k, v in by_file.most_common() if abs(v) >= n_events},
        }
    finally:
        tracemalloc.stop()


def _file_group(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/streamviz/", "/langchain_core/", "/pydantic/", "/pydantic_core/"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return f"{marker.strip('/')}/{tail}"
    if "/tracemalloc.py" in path:
        return "(tracemalloc itself)"
    return os.path.basename(path)


# ------------------------------------------------------------------------------- reporting
def fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def render(
    args: argparse.Namespace,
    samples: Samples,
    memory: dict[str, Any] | None,
    elapsed: float,
) -> tuple[str, bool]:
    lines: list[str] = []
    add = lines.append
    add("# streamviz benchmark: cost of observing a streaming chain")
    add("")
    add(f"- command: `{' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}`")
    add(
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}; "
        f"runtime {elapsed:.0f} s"
    )
    add(
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"langchain-core {langchain_core.__version__}, streamviz {streamviz.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )
    add(
        f"- {args.tokens} tokens per run (plus the model's final empty chunk), "
        f"{args.rounds} rounds, variants interleaved round-robin; medians over rounds, "
        "in microseconds per token"
    )
    add("- A = `prompt | DemoChatModel.for_benchmark(N)`; B = A `| StrOutputParser()`")
    add("")
    add(
        "| chain | mode | bare | noop | collector | astream_events | collector/noop | "
        "collector/bare | noop/bare | astream_events/bare | overhead share |"
    )
    add("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    checks: list[tuple[str, bool, str]] = []
    for (label, mode), by_variant in samples.items():
        med = {v: statistics.median(t for t, _ in s) for v, s in by_variant.items()}
        bare, noop, coll = med["bare"], med["noop"], med["collector"]
        aev = med.get("astream_events")
        share = (coll - bare) / (aev - bare) if aev is not None and aev != bare else None
        add(
            f"| {label} | {mode} | {fmt(bare)} | {fmt(noop)} | {fmt(coll)} | {fmt(aev)} | "
            f"{fmt(coll / noop, 3)} | {fmt(coll / bare, 3)} | {fmt(noop / bare, 3)} | "
            f"{fmt(aev / bare if aev is not None else None, 3)} | {fmt(share, 2)} |"
        )
        ratio = coll / noop
        checks.append(
            (
                f"{label} {mode}: collector/noop = {ratio:.3f} <= {TARGET_COLLECTOR_VS_NOOP}",
                ratio <= TARGET_COLLECTOR_VS_NOOP,
                f"collector costs {coll - noop:+.1f} us/token over the no-op handler, "
                f"{(coll - noop) / EVENTS_PER_TOKEN[label]:+.2f} us per recorded stream event",
            )
        )
        if aev is not None and share is not None:
            checks.append(
                (
                    f"{label} {mode}: (collector-bare) = {coll - bare:.1f} <= "
                    f"{TARGET_OVERHEAD_SHARE} x (astream_events-bare) = "
                    f"{TARGET_OVERHEAD_SHARE * (aev - bare):.1f} us/token (share {share:.2f})",
                    coll - bare <= TARGET_OVERHEAD_SHARE * (aev - bare),
                    "",
                )
            )
    add("")
    add("Overhead share = (collector - bare) / (astream_events - bare), async rows only.")
    add("")
    add("## Targets")
    add("")
    all_pass = True
    for text, ok, note in checks:
        all_pass &= ok
        add(f"- **{'PASS' if ok else 'FAIL'}** {text}" + (f" ({note})" if note else ""))
    add("")
    add("## Spread and garbage collection")
    add("")
    add(
        "us/token over rounds: min / median / max, IQR as % of the median; GC = median us/token "
        "spent in the cyclic garbage collector during the run (included in the times above)."
    )
    add("")
    add("| chain | mode | variant | min | median | max | IQR % | GC |")
    add("|---|---|---|--:|--:|--:|--:|--:|")
    for (label, mode), by_variant in samples.items():
        for variant, pairs in by_variant.items():
            times = [t for t, _ in pairs]
            med = statistics.median(times)
            if len(times) >= 4:
                q = statistics.quantiles(times, n=4)
                iqr = f"{(q[2] - q[0]) / med * 100:.1f}"
            else:
                iqr = "n/a"
            in_gc = statistics.median(g for _, g in pairs)
            add(
                f"| {label} | {mode} | {variant} | {min(times):.1f} | {med:.1f} | "
                f"{max(times):.1f} | {iqr} | {in_gc:.1f} |"
            )
    if memory is not None:
        add("")
        add("## Memory retained per captured event (chain B, sync, tracemalloc)")
        add("")
        add(
            f"- {memory['events']} events; retained after the run: collector "
            f"{memory['collector_bytes'] / 1e6:.2f} MB, noop {memory['noop_bytes'] / 1e3:.1f} kB"
        )
        add(f"- **{memory['per_event']:.0f} bytes/event** (collector minus noop, per event)")
        own = sum(
            size
            for where, size in memory["by_file"].items()
            if where.startswith("streamviz/") and not where.startswith("streamviz/demo/")
        )
        add(
            f"- of which {own:.0f} bytes/event allocated by streamviz itself (event and data "
            "dicts, stamps, run tree); the rest was allocated in langchain-core / pydantic / the "
            "demo model: mostly the model's message chunks, which the trace keeps alive"
        )
        add("- where the retained bytes were allocated (bytes/event, by source file):")
        add("")
        add("| allocated in | bytes/event |")
        add("|---|--:|")
        for where, size in memory["by_file"].items():
            add(f"| {where} | {size:.0f} |")
    add("")
    return "\n".join(lines), all_pass


# ------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 tokens, 3 rounds")
    parser.add_argument("--tokens", type=int, default=None, help="tokens per run (20,000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (7)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc part")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results.md", help="Markdown copy of the report"
    )
    args = parser.parse_args(argv)
    if args.tokens is None:
        args.tokens = 2_000 if args.quick else 20_000
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    gc.callbacks.append(GC_CLOCK)
    loop = asyncio.new_event_loop()  # one loop for every async run
    asyncio.set_event_loop(loop)
    try:
        benches = [Bench("A", args.tokens, parser=False), Bench("B", args.tokens, parser=True)]
        log(f"warm-up and checks ({args.tokens} tokens)...")
        for bench in benches:
            preflight(bench, loop)
            for variant in VARIANTS[:3]:
                run_sync(bench, variant)
            for variant in VARIANTS:
                loop.run_until_complete(run_async(bench, variant))
        log(f"measuring {args.rounds} rounds...")
        samples = measure(benches, args.rounds, loop, log)
        memory = None
        if not args.no_memory:
            log("memory per event...")
            memory = measure_memory(benches[1])
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    report, all_pass = render(args, samples, memory, time.perf_counter() - started)
    print(report)
    args.output.write_text(report, encoding="utf-8")
    log(f"written to {args.output}")
    return 1 if args.strict and not all_pass else 0


if __name__ == "__main__":
    sys.exit(main())

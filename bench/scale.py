"""Agent-sized traces: CPU time and bytes per event of every step, at 10k, 100k and 1M events.

Run with ``make bench`` or ``.venv/bin/python bench/scale.py [--full] [--sizes N ...] [--rounds R]
[--memory-max N] [--steps all|capture|files|events_df] [--json PATH]`` (needs pyarrow); sizes
10k and 100k events, ``--full`` adds 1M; ``--steps capture`` measures the capture row alone,
``--steps files`` the save and load rows alone, ``--steps events_df`` the ``events_df`` rows
alone.
Two workloads, captured through public APIs only (``sv.Collector``, ``sv.watch``):

- ``chain``: chain B of run.py (prompt | DemoChatModel | StrOutputParser, 3 events per token) with
  one zero-delay model streaming ``size / 3`` tokens: few runs, many tokens;
- ``graph``: a LangGraph agent of 10 nodes in a loop, each node calling its own zero-delay demo
  model for 150 tokens, streamed by ``sv.watch`` with ``stream_mode=["updates", "messages"]``
  (every token is a model stream event and a ``messages`` part): 1M events are ~3,250 model
  calls and ~9,750 runs. ``--token-step 5`` gives the nodes 105 to 195 tokens per call instead
  (150 on average): when every call is the same, the garbage collector's young-generation counter
  can fall into step with the calls, and the run's number of collections then depends on how many
  objects each call keeps (see docs/benchmarks.md, "Capture of a LangGraph agent").

For each workload and size it measures, in this one process, CPU time (``time.process_time``,
garbage collection included) per event of: capture (and the same run observed by run.py's no-op
handler instead, side by side, round-robin: the ratio; for the graph also the collector's
callbacks alone, its parts not recorded, as the no-op run does not record them; the garbage
collector's CPU time and collections of each run apart, and the ratio outside it), the first full
read (iterating ``trace.events``), save and load of JSONL and Parquet, ``events_df()``,
``filter`` (an ``astream_events``-style include/exclude), the widget's snapshot (its encoder) and
``sv.write_html``. Bytes per event: the trace's memory (tracemalloc, in a separate pass so that
tracing does not slow the timings) after capture, after every read above, and loaded from each
file; the file's size for save and write_html; the DataFrame's ``memory_usage(deep=True)``; the
snapshot's size as sent. Each figure is the best of R rounds (capture: the median ratio).

Every step is checked for completeness (tokens captured, events loaded back, rows in the
DataFrame), so a step that lost events cannot look fast. Targets (the issue's, at 1M events) are
shown per event, pass or miss, on every row.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import pandas  # noqa: F401 - pyarrow imports it on its first write: outside the timings
import pyarrow.parquet  # noqa: F401 - likewise
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

import streamviz as sv
from streamviz.demo import DemoChatModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import NoopHandler  # noqa: E402 - the same no-op handler as the capture benchmark

SIZES = (10_000, 100_000)
FULL = 1_000_000  # added by --full
WARM_UP = 1_000
GRAPH_NODES = 10
GRAPH_TOKENS = 150  # tokens per model call: ~100 events per run, so 1M events ~ 10,000 runs
# Events of one graph step: 2 per chunk (the model's stream event and the `messages` part; the
# model yields its tokens then one empty chunk), start and end of the node, of its model and of
# the routing function, and the step's `updates` part.
GRAPH_EVENTS_PER_CALL = 2 * (GRAPH_TOKENS + 1) + 7
CHAIN_EVENTS_PER_TOKEN = 3
# (step, target in microseconds per event or ratio, what it means)
TARGETS: dict[str, tuple[float, str]] = {
    "capture": (1.10, "<= 1.10x no-op"),
    "save jsonl": (10.0, "<= 10 us"),
    "save parquet": (3.0, "<= 3 us"),
    "load jsonl": (10.0, "<= 10 us"),
    "load parquet": (2.0, "<= 2 us"),
    "events_df": (1.5, "<= 1.5 us"),
    "filter": (0.5, "<= 0.5 us"),
}


# ------------------------------------------------------------------------------- workloads
class Workload:
    """One traced program: run it observed by the collector or by the no-op handler."""

    label = ""

    def capture(self) -> sv.Trace:
        raise NotImplementedError

    def noop(self) -> None:
        raise NotImplementedError

    def callbacks_only(self) -> None:
        """The collector's callbacks alone (a graph's parts not recorded); ``None`` if that is
        what :meth:`capture` does already."""
        return None

    def expected_model_chunks(self) -> int:
        raise NotImplementedError

    def check(self, trace: sv.Trace) -> None:
        """Every model chunk is in the trace, every run ended well."""
        models = [run for run in trace.runs.values() if run.run_type == "chat_model"]
        chunks = sum(run.chunk_count for run in models)
        statuses = {run.status for run in trace.runs.values()}
        if chunks != self.expected_model_chunks() or statuses != {"ok"}:
            raise AssertionError(
                f"{self.label}: {chunks} model chunks (expected {self.expected_model_chunks()}), "
                f"run statuses {statuses}"
            )


class Chain(Workload):
    label = "chain"

    def __init__(self, size: int) -> None:
        self.tokens = max(1, size // CHAIN_EVENTS_PER_TOKEN)
        prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
        self.chain = prompt | DemoChatModel.for_benchmark(self.tokens) | StrOutputParser()

    def capture(self) -> sv.Trace:
        collector = sv.Collector(name="chain")
        for _ in collector.stream(self.chain, {"topic": "parrot"}):
            pass
        return collector.trace

    def noop(self) -> None:
        for _ in self.chain.stream({"topic": "parrot"}, config={"callbacks": [NoopHandler()]}):
            pass

    def expected_model_chunks(self) -> int:
        return self.tokens + 1  # the tokens, then one empty chunk with usage metadata


class AgentState(TypedDict):
    calls: int
    step: int
    text: str


def node_tokens(nodes: int, tokens: int, step: int) -> list[int]:
    """Tokens per call of each node: ``tokens`` on average, ``step`` apart from node to node."""
    return [tokens + step * (2 * index - (nodes - 1)) for index in range(nodes)]


def build_agent(nodes: int, tokens: int, step: int = 0) -> CompiledStateGraph:
    """``nodes`` nodes in a loop, each calling its own model, until ``calls`` calls are made.

    Node ``i``'s model streams ``node_tokens(nodes, tokens, step)[i]`` tokens per call.
    """
    graph = StateGraph(AgentState)
    names = [f"agent_{index}" for index in range(nodes)]
    for index, (name, count) in enumerate(
        zip(names, node_tokens(nodes, tokens, step), strict=True)
    ):
        model = DemoChatModel.for_benchmark(count).model_copy(
            update={"model_name": f"demo-{index % 4}"}
        )

        def call_model(state: AgentState, model: DemoChatModel = model) -> dict[str, Any]:
            return {"text": model.invoke("go").content, "step": state["step"] + 1}

        graph.add_node(name, call_model)
    graph.add_edge(START, names[0])
    for index, name in enumerate(names):
        following = names[(index + 1) % nodes]

        def route(state: AgentState, following: str = following) -> str:
            return END if state["step"] >= state["calls"] else following

        graph.add_conditional_edges(name, route, [following, END])
    return graph.compile(name="agent")


class Graph(Workload):
    label = "graph"
    modes = ("updates", "messages")

    token_step = 0  # --token-step: tokens per call differ by node (same average)

    def __init__(self, size: int) -> None:
        self.calls = max(1, round(size / GRAPH_EVENTS_PER_CALL))
        self.graph = build_agent(GRAPH_NODES, GRAPH_TOKENS, self.token_step)
        self.input = {"calls": self.calls, "step": 0, "text": ""}
        self.config = {"recursion_limit": self.calls + 10}

    def capture(self) -> sv.Trace:
        return sv.watch(
            self.graph,
            self.input,
            dict(self.config),
            name="agent",
            display=False,
            stream_mode=list(self.modes),
        )

    def noop(self) -> None:
        config = {**self.config, "callbacks": [NoopHandler()]}
        for _ in self.graph.stream(self.input, config, stream_mode=list(self.modes)):
            pass

    def callbacks_only(self) -> sv.Trace:
        """The same stream with a bare ``Collector`` in its config: the callbacks recorded, the
        parts (which the no-op run does not record either) only consumed."""
        collector = sv.Collector(name="agent")
        config, _ = collector.config_for(dict(self.config))
        for _ in self.graph.stream(self.input, config, stream_mode=list(self.modes)):
            pass
        return collector.trace

    def expected_model_chunks(self) -> int:
        per_node = node_tokens(GRAPH_NODES, GRAPH_TOKENS, self.token_step)
        return sum(per_node[call % GRAPH_NODES] + 1 for call in range(self.calls))


WORKLOADS: dict[str, Callable[[int], Workload]] = {"chain": Chain, "graph": Graph}


# ------------------------------------------------------------------------------ measuring
def cpu(action: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of ``action()`` (garbage collection included), and what it returned."""
    gc.collect()
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


class Collections:
    """What the garbage collector did during one call of :meth:`run`: the CPU seconds spent in
    it and the collections of each generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.counts = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.counts[info["generation"]] += 1

    def run(self, action: Callable[[], Any]) -> tuple[float, Any]:
        """CPU seconds of ``action()``, like :func:`cpu`, with the collector's share noted."""
        gc.collect()
        self.seconds, self.counts = 0.0, [0, 0, 0]
        gc.callbacks.append(self)
        try:
            started = time.process_time()
            result = action()
            return time.process_time() - started, result
        finally:
            gc.callbacks.remove(self)


def forget_last_trace() -> None:
    """Drop the trace ``sv.last_trace()`` keeps, so that freeing it is not timed in the next
    watch (the no-op run has nothing to free)."""
    from streamviz._driver import latest  # no public API to forget it

    latest.trace = None


def best(rounds: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """The lowest CPU time of ``rounds`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(rounds):
        result = None  # drop the previous result before the next call (memory, GC)
        seconds, result = cpu(action)
        times.append(seconds)
    return min(times), result


def retained(action: Callable[[], Any]) -> tuple[int, int, Any]:
    """Bytes ``action()``'s result keeps alive, the peak while it ran (tracemalloc), the result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = action()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current - before, peak - before, result


def sent_bytes(value: Any) -> int:
    """Size of a widget message as sent: JSON text, binary buffers at their length."""
    buffers: list[int] = []

    def default(item: Any) -> Any:
        if isinstance(item, (bytes, bytearray, memoryview)):
            buffers.append(memoryview(item).nbytes)
            return None
        return str(item)

    return len(json.dumps(value, default=default, separators=(",", ":"))) + sum(buffers)


def snapshot(trace: sv.Trace) -> dict[str, Any]:
    from streamviz.widgets._encode import TraceEncoder  # the widget's encoder: no public API

    return TraceEncoder(trace).snapshot()


def filtered(trace: sv.Trace) -> sv.Trace:
    """What ``astream_events(include_types=[...], exclude_names=[...])`` would yield: the model
    and chain events, without the graph's routing functions."""
    return trace.filter(include_types=["chat_model", "chain"], exclude_names=["RunnableCallable"])


def same_events(a: sv.Trace, b: sv.Trace) -> None:
    if len(a) != len(b):
        raise AssertionError(f"{len(b)} events loaded, {len(a)} saved")
    events_a, events_b = a.events, b.events
    for index in {0, len(a) // 2, len(a) - 1}:
        x, y = events_a[index], events_b[index]
        if (x["event"], x["run_id"], x["seq"], x["name"]) != (
            y["event"],
            y["run_id"],
            y["seq"],
            y["name"],
        ):
            raise AssertionError(f"event {index} differs after loading: {x} != {y}")


def frame_rows(trace: sv.Trace, n: int, rounds: int, add: Callable[..., None]) -> None:
    """The ``events_df`` rows: the whole frame, and ``payloads=False``."""
    seconds, frame = best(rounds, trace.events_df)
    if len(frame) != n:
        raise AssertionError(f"events_df: {len(frame)} rows, {n} events")
    add("events_df", seconds, n, int(frame.memory_usage(deep=True).sum()), "DataFrame, deep")
    del frame
    seconds, frame = best(rounds, lambda: trace.events_df(payloads=False))
    note = "payloads=False: no payload/data objects"
    add("events_df lean", seconds, n, int(frame.memory_usage(deep=True).sum()), note)
    del frame


def measure(
    workload: Workload,
    size: int,
    rounds: int,
    memory: bool,
    folder: Path,
    log,
    capture_only: bool = False,
    files_only: bool = False,
    frames_only: bool = False,
) -> dict:
    steps: list[dict[str, Any]] = []

    def add(step: str, seconds: float | None, n: int, nbytes: float | None, note: str = "") -> None:
        row = {
            "step": step,
            "seconds": seconds,
            "us_per_event": None if seconds is None else seconds / n * 1e6,
            "bytes_per_event": None if nbytes is None else nbytes / n,
            "note": note,
        }
        steps.append(row)
        log(
            f"  {step}: {fmt(row['us_per_event'])} us/event, "
            f"{fmt(row['bytes_per_event'], 0)} B/event {note}"
        )

    if files_only:  # --steps files: one capture (not timed), then the save and load rows alone
        forget_last_trace()
        trace = workload.capture()
        workload.check(trace)
        n = len(trace)
        for kind in ("jsonl", "parquet"):
            path = folder / f"{workload.label}-{size}.{kind}"
            seconds, _ = best(rounds, lambda path=path: trace.save(path))
            add(f"save {kind}", seconds, n, path.stat().st_size, "file size")
        for kind in ("jsonl", "parquet"):
            path = folder / f"{workload.label}-{size}.{kind}"
            seconds, loaded = best(rounds, lambda path=path: sv.Trace.load(path))
            same_events(trace, loaded)
            del loaded
            add(f"load {kind}", seconds, n, None)
        runs = len(trace.runs)
        return {"workload": workload.label, "size": size, "events": n, "runs": runs, "steps": steps}

    if frames_only:  # --steps events_df: one capture (not timed), then the events_df rows alone
        forget_last_trace()
        trace = workload.capture()
        workload.check(trace)
        n = len(trace)
        frame_rows(trace, n, rounds, add)
        runs = len(trace.runs)
        return {"workload": workload.label, "size": size, "events": n, "runs": runs, "steps": steps}

    # -- capture, side by side with the no-op handler (rotated order), median of the ratios
    workload.capture()  # warm-up: imports, LangChain's caches
    workload.noop()
    captures, noops, callbacks, n, runs = [], [], [], 0, 0
    # per variant: (CPU s in the garbage collector, (young, middle, full) collections) per round
    collected: dict[str, list[tuple[float, tuple[int, ...]]]] = {}
    variants = ["collector", "noop"]
    if type(workload).callbacks_only is not Workload.callbacks_only:
        workload.callbacks_only()
        variants.append("callbacks")
    for index in range(rounds):
        order = variants[index % len(variants) :] + variants[: index % len(variants)]
        for variant in order:
            # Every variant runs on the same heap: no capture's trace is alive (a 1M-event trace
            # made the no-op run's full collections half as many and each twice as long).
            forget_last_trace()
            meter = Collections()
            if variant == "noop":
                noops.append(meter.run(workload.noop)[0])
            elif variant == "callbacks":
                callbacks.append(meter.run(workload.callbacks_only)[0])
            else:
                seconds, trace = meter.run(workload.capture)
                captures.append(seconds)
                workload.check(trace)
                n, runs = len(trace), len(trace.runs)
                trace = None
            collected.setdefault(variant, []).append((meter.seconds, tuple(meter.counts)))
    forget_last_trace()
    ratio = statistics.median(c / o for c, o in zip(captures, noops, strict=True))
    capture_memory = None
    if memory:
        capture_memory, _, kept = retained(workload.capture)
        del kept
    note = f"no-op handler {statistics.median(noops) / n * 1e6:.2f} us/event; ratio {ratio:.3f}"
    callbacks_ratio = None
    if callbacks:
        callbacks_ratio = statistics.median(c / o for c, o in zip(callbacks, noops, strict=True))
        note += f"; the collector's callbacks alone (parts not recorded): {callbacks_ratio:.3f}"
    # The garbage collector's share, apart: its CPU time and collections (median round), and
    # the ratio of the time outside it.
    rounds_gc = zip(captures, noops, collected["collector"], collected["noop"], strict=True)
    outside = statistics.median((c - gc_c[0]) / (o - gc_o[0]) for c, o, gc_c, gc_o in rounds_gc)
    shares = []
    for variant, label in (("noop", "no-op"), ("collector", "capture"), ("callbacks", "callbacks")):
        if variant in collected:
            seconds = statistics.median(item[0] for item in collected[variant])
            counts = "/".join(str(count) for count in collected[variant][-1][1])
            shares.append(f"{label} {seconds:.2f} s ({counts})")
    note += f"; GC CPU s (young/middle/full, last round): {', '.join(shares)}; "
    note += f"ratio outside the GC {outside:.3f}"
    add("capture", statistics.median(captures), n, capture_memory, note)
    steps[-1]["ratio"] = ratio
    steps[-1]["callbacks_ratio"] = callbacks_ratio
    steps[-1]["ratio_outside_gc"] = outside
    steps[-1]["gc"] = collected
    if capture_only:
        return {"workload": workload.label, "size": size, "events": n, "runs": runs, "steps": steps}

    trace = workload.capture()  # untimed: the trace every step below reads
    forget_last_trace()

    # -- the first full read of the fresh capture, then every other reader on the same trace
    seconds, _ = cpu(lambda: sum(1 for _ in trace.events))
    add("full read", seconds, n, None, "first iteration of trace.events")

    for kind in ("jsonl", "parquet"):
        path = folder / f"{workload.label}-{size}.{kind}"
        seconds, _ = best(rounds, lambda path=path: trace.save(path))
        add(f"save {kind}", seconds, n, path.stat().st_size, "file size")

    frame_rows(trace, n, rounds, add)

    seconds, view = best(rounds, lambda: filtered(trace))
    add("filter", seconds, n, None, f"{len(view):,} events kept")
    del view

    seconds, state = best(1, lambda: snapshot(trace))
    if state.get("count") != n:
        raise AssertionError(f"snapshot: {state.get('count')} events, {n} in the trace")
    add("widget snapshot", seconds, n, sent_bytes(state), "snapshot as sent")
    del state

    html = folder / f"{workload.label}-{size}.html"
    seconds, _ = best(1, lambda: sv.write_html(trace, html))
    add("write_html", seconds, n, html.stat().st_size, "file size")

    read_memory = None
    if memory:
        # The trace captured in the memory pass, read by every reader above: what it keeps.
        def capture_and_read() -> sv.Trace:
            fresh = workload.capture()
            sum(1 for _ in fresh.events)
            fresh.save(folder / "again.jsonl")
            fresh.save(folder / "again.parquet")
            fresh.events_df()
            filtered(fresh)
            snapshot(fresh)
            return fresh

        read_memory, _, kept = retained(capture_and_read)
        del kept
        steps[1]["bytes_per_event"] = read_memory / n
        steps[1]["note"] += "; bytes: the trace after every read of this table"

    for kind in ("jsonl", "parquet"):
        path = folder / f"{workload.label}-{size}.{kind}"
        seconds, loaded = best(rounds, lambda path=path: sv.Trace.load(path))
        same_events(trace, loaded)
        del loaded
        nbytes, note = None, ""
        if memory:
            nbytes, peak, loaded = retained(lambda path=path: sv.Trace.load(path))
            del loaded
            note = f"loaded trace; peak {peak / n:,.0f} B/event"
        add(f"load {kind}", seconds, n, nbytes, note)

    runs = len(trace.runs)
    return {"workload": workload.label, "size": size, "events": n, "runs": runs, "steps": steps}


# -------------------------------------------------------------------------------- report
def verdict(step: dict[str, Any]) -> str:
    target = TARGETS.get(step["step"])
    if target is None:
        return ""
    limit, text = target
    value = step["ratio"] if step["step"] == "capture" else step["us_per_event"]
    return f"{text}: {'pass' if value <= limit else '**miss**'}"


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def render(results: list[dict[str, Any]], header: list[str]) -> str:
    lines = [*header, ""]
    lines.append(
        "| trace | events | runs | step | CPU s | us/event | bytes/event | target (per event) "
        "| note |"
    )
    lines.append("|---|--:|--:|---|--:|--:|--:|---|---|")
    for result in results:
        for step in result["steps"]:
            lines.append(
                f"| {result['workload']} | {result['events']:,} | {result['runs']:,} | "
                f"{step['step']} | {fmt(step['seconds'])} | {fmt(step['us_per_event'])} | "
                f"{fmt(step['bytes_per_event'], 0)} | {verdict(step)} | {step['note']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="events")
    parser.add_argument("--full", action="store_true", help=f"add {FULL:,} events to the sizes")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds below 1M events (1 round at 1M and above)"
    )
    parser.add_argument(
        "--memory-max",
        type=int,
        default=FULL,
        help="measure bytes per event with tracemalloc up to this many events (a second pass)",
    )
    parser.add_argument(
        "--steps",
        choices=["all", "capture", "files", "events_df"],
        default="all",
        help="capture: measure the capture row only (and skip the memory pass); files: the "
        "save and load rows only (of one capture; no memory pass); events_df: the events_df "
        "rows only (of one capture; no memory pass; --rounds rounds at 1M too)",
    )
    parser.add_argument(
        "--token-step",
        type=int,
        default=0,
        help="graph: node i's model streams 150 + STEP * (2i - 9) tokens per call (150 on "
        "average; default 0: every call 150 tokens)",
    )
    parser.add_argument("--json", type=Path, default=HERE / "scale.json", help="results file")
    parser.add_argument("--quiet", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    if args.full and FULL not in args.sizes:
        args.sizes.append(FULL)
    Graph.token_step = args.token_step

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    now = datetime.datetime.now(datetime.timezone.utc)
    header = [
        f"# Agent-sized traces ({now:%Y-%m-%d %H:%M} UTC)",
        "",
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`",
    ]
    results = []
    started = time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        log("warm-up: every step once on small traces (imports, caches)")
        for label in args.workloads:
            measure(
                WORKLOADS[label](WARM_UP),
                WARM_UP,
                1,
                False,
                Path(folder),
                lambda _: None,
                args.steps == "capture",
                args.steps == "files",
                args.steps == "events_df",
            )
        for size in sorted(args.sizes):
            for label in args.workloads:
                rounds = 1 if size >= 1_000_000 and args.steps != "events_df" else args.rounds
                log(f"{label}, {size:,} events, {rounds} rounds")
                size_started = time.process_time()
                capture_only = args.steps == "capture"
                files_only = args.steps == "files"
                result = measure(
                    WORKLOADS[label](size),
                    size,
                    rounds,
                    size <= args.memory_max
                    and not capture_only
                    and not files_only
                    and args.steps != "events_df",
                    Path(folder),
                    log,
                    capture_only,
                    files_only,
                    args.steps == "events_df",
                )
                result["cpu_seconds"] = time.process_time() - size_started
                log(f"  ({result['cpu_seconds']:.0f} s CPU for this row)")
                results.append(result)
    table = render(results, header)
    print(table)
    cost = ", ".join(f"{r['workload']} {r['events']:,}: {r['cpu_seconds']:.0f} s" for r in results)
    print(f"\nCPU time of the benchmark itself: {cost}; {time.process_time() - started:.0f} s")
    args.json.write_text(
        json.dumps(
            {
                "date": now.isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "command": shlex.join([Path(sys.executable).name, *sys.argv]),
                "targets": {step: list(target) for step, target in TARGETS.items()},
                "results": results,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Tokens per second through the remote LangGraph source vs a bare SDK loop over the same run.

Run with ``.venv/bin/python bench/remote.py [--quick] [--tokens N] [--rounds R] [--strict]``.
One real ``langgraph dev`` server (started here, on a free port, as the tests start it) serves
``bench``: one node streaming N tokens from a zero-delay demo model. Each variant starts a
stateless run on it with ``stream_mode="messages-tuple"`` (one part per token) and consumes the
whole stream:

- ``bare``: ``client.runs.stream(...)``, keeping a receipt time per token part;
- ``streamviz``: ``sv.watch_remote``/``sv.awatch_remote(..., display=False)``: every part
  recorded into a trace (its ``t`` is the receipt time).

Rate = token parts / (last token time - first token time): how fast tokens flow once the model
streams, which leaves out the 0.5-1 s each run waits in the server's queue (the total time per
run is reported too). The server and the client share the machine's CPUs, so a client that
costs more CPU can slow the server down as well: that is part of what is measured. Rounds
alternate the order of the variants. The report gives medians and their ratio (target >= 0.9),
the median and spread of the per-round ratios (how noisy the server's rate is), and, as a
noise-free check, streamviz's own recording cost per part measured on the parts of one run
recorded again offline, with the ratio that cost implies at the bare rate (also >= 0.9).
Rows: async client, sync client, and the async client with ``["messages-tuple", "events"]``
(each token twice, the second as a server-side run event through the run tree).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client, get_sync_client

import streamviz as sv
from streamviz.sources.remote import RemoteParts

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from langgraph_server import LangGraphServer  # noqa: E402

TARGET = 0.9
ROWS = {
    "async, messages-tuple": ("async", ["messages-tuple"]),
    "sync, messages-tuple": ("sync", ["messages-tuple"]),
    "async, messages-tuple + events": ("async", ["messages-tuple", "events"]),
}


def _is_token(event: str, data: Any) -> bool:
    return event == "messages" and bool(data[0].get("content"))


async def bare_async(client: Any, n: int, modes: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    times = []
    async for part in client.runs.stream(None, "bench", input={"n_tokens": n}, stream_mode=modes):
        if _is_token(part.event, part.data):
            times.append(time.perf_counter())
    return times, time.perf_counter() - started


def bare_sync(client: Any, n: int, modes: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    times = []
    for part in client.runs.stream(None, "bench", input={"n_tokens": n}, stream_mode=modes):
        if _is_token(part.event, part.data):
            times.append(time.perf_counter())
    return times, time.perf_counter() - started


def _token_times(trace: sv.Trace, n: int) -> list[float]:
    times = [
        e["t"]
        for e in trace.events
        if e.get("mode") == "messages" and e["data"]["chunk"][0].get("content")
    ]
    if len(times) != n or trace.roots[0].status != "ok":
        raise AssertionError(f"streamviz recorded {len(times)} of {n} tokens")
    return times


async def streamviz_async(client: Any, n: int, modes: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    trace = await sv.awatch_remote(
        client, None, "bench", input={"n_tokens": n}, stream_mode=modes, display=False
    )
    return _token_times(trace, n), time.perf_counter() - started


def streamviz_sync(client: Any, n: int, modes: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    trace = sv.watch_remote(
        client, None, "bench", input={"n_tokens": n}, stream_mode=modes, display=False
    )
    return _token_times(trace, n), time.perf_counter() - started


def record_cost_us(client: Any, n: int, modes: list[str]) -> tuple[float, int]:
    """streamviz's own CPU cost per part, without the network: parts of one run recorded again.

    Returns (best microseconds per part over 5 repeats, parts per token).
    """
    parts = list(client.runs.stream(None, "bench", input={"n_tokens": n}, stream_mode=modes))
    best = float("inf")
    for _ in range(5):
        recorder = RemoteParts(sv.Trace(), "bench")
        gc.collect()
        started = time.perf_counter()
        for part in parts:
            recorder.record(part)
        recorder.finish()
        best = min(best, time.perf_counter() - started)
    return best / len(parts) * 1e6, round(len(parts) / n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tokens, 3 rounds")
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    args = parser.parse_args(argv)
    n = args.tokens or (1_000 if args.quick else 5_000)
    rounds = args.rounds or (3 if args.quick else 7)
    loop = asyncio.new_event_loop()
    costs: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="streamviz-bench-") as workdir:
        server = LangGraphServer.start(Path(workdir) / "app", name="bench")
        aclient, sclient = get_client(url=server.url), get_sync_client(url=server.url)
        try:
            runners = {
                ("async", "bare"): lambda m: loop.run_until_complete(bare_async(aclient, n, m)),
                ("async", "streamviz"): lambda m: loop.run_until_complete(
                    streamviz_async(aclient, n, m)
                ),
                ("sync", "bare"): lambda m: bare_sync(sclient, n, m),
                ("sync", "streamviz"): lambda m: streamviz_sync(sclient, n, m),
            }
            results: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for row, (kind, modes) in ROWS.items():  # warm-up (imports, connections, checks)
                for variant in ("bare", "streamviz"):
                    times, _ = runners[(kind, variant)](modes)
                    if len(times) != n:
                        raise AssertionError(f"{row} {variant}: {len(times)} of {n} tokens")
                    results[(row, variant)] = []
                costs[row] = record_cost_us(sclient, n, modes)
            for index in range(rounds):
                for row, (kind, modes) in ROWS.items():
                    order = ("bare", "streamviz") if index % 2 == 0 else ("streamviz", "bare")
                    for variant in order:
                        gc.collect()
                        times, total = runners[(kind, variant)](modes)
                        rate = (len(times) - 1) / (times[-1] - times[0])
                        results[(row, variant)].append((rate, total))
        finally:
            sclient.close()
            loop.run_until_complete(aclient.aclose())
            server.stop()
    print(f"# Remote source throughput ({n:,} tokens per run, {rounds} rounds, medians)\n")
    print(f"`{' '.join(['bench/remote.py', *(argv if argv is not None else sys.argv[1:])])}`\n")
    print(
        "| client, stream modes | bare SDK tokens/s | streamviz tokens/s | ratio of medians | "
        "paired ratio median (IQR) | total s per run (bare / streamviz) | "
        "recording µs/part | ratio implied by recording |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    worst = float("inf")
    for row in ROWS:
        bare_runs, seen_runs = results[(row, "bare")], results[(row, "streamviz")]
        bare = statistics.median(rate for rate, _ in bare_runs)
        seen = statistics.median(rate for rate, _ in seen_runs)
        # Each round runs both variants back to back: their ratio cancels slow drifts.
        paired = [s[0] / b[0] for s, b in zip(seen_runs, bare_runs, strict=True)]
        paired_median = statistics.median(paired)
        quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3
        bare_total = statistics.median(total for _, total in bare_runs)
        seen_total = statistics.median(total for _, total in seen_runs)
        cost, per_token = costs[row]
        implied = 1 / (1 + cost * 1e-6 * per_token * bare)
        worst = min(worst, seen / bare, implied)
        print(
            f"| {row} | {bare:,.0f} | {seen:,.0f} | {seen / bare:.3f} | "
            f"{paired_median:.3f} ({quartiles[0]:.3f}-{quartiles[2]:.3f}) | "
            f"{bare_total:.2f} / {seen_total:.2f} | {cost:.1f} | {implied:.3f} |"
        )
    verdict = "met" if worst >= TARGET else "NOT met"
    print(
        f"\nTarget: streamviz >= {TARGET}x the bare SDK loop's tokens/s on every row, both as the "
        f"ratio of the medians and as implied by the recording cost: **{verdict}**. The paired "
        "ratios (both variants back to back in each round) show how much the server's own rate "
        "varies from run to run."
    )
    return 1 if args.strict and worst < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())

"""sv.compare and the streaming statistics on agent-sized traces: CPU time, live and loaded.

Run with ``.venv/bin/python bench/compare.py [--size N] [--rounds R]`` (default 1M events, 3
rounds; needs pyarrow). The traces are scale.py's ``graph`` workload (a LangGraph agent of 10
nodes in a loop, each calling its own zero-delay demo model, ``sv.watch`` with
``stream_mode=["updates", "messages"]``), captured three times:

- ``a`` and ``same``: the same agent twice (the comparison finds no difference);
- ``other``: the agent with ``--token-step 1`` (every node's model answers 4 to 5 tokens more or
  less than in ``a``): a count difference in every model call's stream.

Measured, as the best of R rounds of CPU time (``time.process_time``, garbage collection
included) in this one process: ``sv.compare(a, same)``, ``sv.compare(a, other)`` (the event diff
is computed when the comparison is made), ``.to_frame()``, ``trace.stream_stats()`` and
``trace.stalls()`` of ``a``; then the same comparisons of the traces loaded back from Parquet.
Each step is checked (no difference between ``a`` and ``same``; one count difference per model
call against ``other``) so that a step that skipped work cannot look fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import scale  # the workload and the timing helpers of bench/scale.py

import streamviz as sv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="events per trace")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    def capture(step: int) -> sv.Trace:
        scale.Graph.token_step = step
        trace = scale.Graph(args.size).capture()
        scale.forget_last_trace()
        return trace

    a, same, other = capture(0), capture(0), capture(1)
    calls = sum(run.run_type == "chat_model" for run in a.runs.values())
    rows: list[tuple[str, float, int, str]] = []

    def step(label: str, action, events: int, check) -> None:
        seconds, result = scale.best(args.rounds, action)
        rows.append((label, seconds, events, check(result)))

    def no_difference(comparison: sv.Comparison) -> str:
        assert comparison.same_events, comparison.diffs[:3]
        return "same events"

    def one_per_call(comparison: sv.Comparison) -> str:
        model = [d for d in comparison.diffs if d.event == "on_chat_model_stream"]
        assert len(model) == calls, (len(model), calls)
        return f"{len(comparison.diffs):,} differences ({len(model):,} model streams)"

    both = len(a) + len(same)
    step("compare(a, same)", lambda: sv.compare(a, same), both, no_difference)
    step("compare(a, other)", lambda: sv.compare(a, other), len(a) + len(other), one_per_call)
    comparison = sv.compare(a, other)
    step("to_frame()", comparison.to_frame, len(a) + len(other), lambda f: f"{len(f):,} rows")
    step("a.stream_stats()", a.stream_stats, len(a), lambda f: f"{len(f):,} runs")
    step("a.stalls()", a.stalls, len(a), lambda f: f"{len(f):,} stalls")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, trace in (("a", a), ("same", same), ("other", other)):
            path = Path(folder) / f"{name}.parquet"
            trace.save(path)
            paths.append(path)
        del a, same, other, comparison
        a, same, other = (sv.Trace.load(path) for path in paths)
        step("loaded: compare(a, same)", lambda: sv.compare(a, same), both, no_difference)
        step("loaded: compare(a, other)", lambda: sv.compare(a, other), both, one_per_call)

    load = os.getloadavg()
    print(f"# sv.compare at {args.size:,} events per trace (best of {args.rounds}, CPU time)\n")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {calls:,} model calls\n")
    print("| step | CPU s | us / event | checked |")
    print("|---|---:|---:|---|")
    for label, seconds, events, note in rows:
        print(f"| {label} | {seconds:.2f} | {seconds / events * 1e6:.2f} | {note} |")


if __name__ == "__main__":
    main()

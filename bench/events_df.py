"""``trace.events_df()`` CPU time per event, this tree's against another checkout's, side by side.

Run with ``.venv/bin/python bench/events_df.py --before DIR [--sizes N ...] [--workloads chain
graph] [--rounds R]``: ``DIR`` is a checkout of the commit to compare with (``git worktree add
--detach DIR <commit>``). Each workload of ``bench/scale.py`` is captured once, by this tree; then
the frame is built by this tree's ``events_frame`` and by ``DIR``'s (its ``frames.py`` and its
store reader, ``_log.py``'s ``EventStore.columns``, loaded as modules of their own and run on the
same trace: the store's layout is the same), alternating, ``R`` rounds each; CPU time
(``time.process_time``, garbage collection included), the best round of each. Both frames are
checked equal (every column, every cell) before timing. ``--lean`` adds ``payloads=False``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import scale  # noqa: E402 - the workloads of the scale benchmark

from streamviz.frames import events_frame  # noqa: E402


def load_module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def cpu(action: Any) -> tuple[float, Any]:
    gc.collect()
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path, help="checkout to compare with")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workloads", nargs="+", default=["chain", "graph"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lean", action="store_true", help="also payloads=False")
    args = parser.parse_args(argv)
    old_log = load_module("_before_log", args.before / "streamviz" / "_log.py")
    old_frames = load_module("_before_frames", args.before / "streamviz" / "frames.py")

    def before(trace: Any, payloads: bool = True) -> Any:
        columns = old_log.EventStore.columns(trace.store)
        return old_frames.events_frame(columns, trace.runs, payloads=payloads)

    def after(trace: Any, payloads: bool = True) -> Any:
        return events_frame(trace.store.columns(), trace.runs, payloads=payloads)

    print(f"load average {os.getloadavg()}", flush=True)
    print("| workload | events | before (us/event) | after (us/event) | after/before |")
    print("|---|--:|--:|--:|--:|")
    for size in args.sizes:
        for label in args.workloads:
            trace = scale.WORKLOADS[label](size).capture()
            scale.forget_last_trace()
            n = len(trace)
            a, b = after(trace), before(trace)
            for column in b.columns:
                if list(a[column]) != list(b[column]) or a[column].dtype != b[column].dtype:
                    raise AssertionError(f"{label}: column {column} differs")
            del a, b
            kinds = [("", True)] + ([(" lean", False)] if args.lean else [])
            for suffix, payloads in kinds:
                times: dict[str, list[float]] = {"before": [], "after": []}
                for _ in range(args.rounds):
                    for name, build in (("before", before), ("after", after)):
                        seconds, frame = cpu(
                            lambda build=build, trace=trace, payloads=payloads: build(
                                trace, payloads
                            )
                        )
                        if len(frame) != n:
                            raise AssertionError(f"{name}: {len(frame)} rows, {n} events")
                        del frame
                        times[name].append(seconds / n * 1e6)
                old, new = min(times["before"]), min(times["after"])
                print(
                    f"| {label}{suffix} | {n:,} | {old:.2f} | {new:.2f} | {new / old:.2f} |",
                    flush=True,
                )
            del trace
    print(f"load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Loading guards: peak memory of hostile files, and the CPU cost of the guards on a normal load.

Usage (from the repository root; each measurement in a fresh subprocess)::

    python bench/load_guards.py make                        # files in /tmp/sv-load-guards
    python bench/load_guards.py memory WORKTREE [WORKTREE]  # peak RSS under RLIMIT_AS = 4 GiB
    python bench/load_guards.py cpu BEFORE AFTER            # Trace.load CPU time, 3 rounds

``memory`` loads a 63 MB line of ``[]`` and a 198 MB file of 1 MB lines of ``[]`` with each
worktree's streamviz; ``cpu`` loads a 96,000-event LangGraph trace (the shipped
graph_messages trace, 800 times over) as JSONL and Parquet with each, alternating, and prints
the best CPU time (``time.process_time``) of each and the ratio, with the load average.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

FOLDER = "/tmp/sv-load-guards"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = {"format": "streamviz-trace", "version": 1, "streamviz": "0.1.0", "name": "bench"}


def _event(index: int) -> dict:
    return {
        "event": "on_chain_start", "name": "n", "run_id": str(index), "parent_ids": [],
        "tags": [], "metadata": {}, "data": {"input": 0}, "t": index / 1000, "seq": index,
    }  # fmt: skip


def make() -> None:
    os.makedirs(FOLDER, exist_ok=True)
    with open(f"{FOLDER}/line63.jsonl", "w") as out:
        out.write(json.dumps(HEADER) + "\n[" + ",".join(["[]"] * 21_000_000) + "]\n")
    arrays = "[" + ",".join(["[]"] * 333_000) + "]"
    with open(f"{FOLDER}/file198.jsonl", "w") as out:
        out.write(json.dumps(HEADER) + "\n")
        for index in range(198):
            out.write(json.dumps(_event(index)).replace('"input": 0', f'"input": {arrays}') + "\n")
    with open(f"{ROOT}/notebooks/traces/graph_messages.jsonl") as source:
        lines = source.read().splitlines()
    events = [json.loads(line) for line in lines[1:]]
    ids = sorted({e["run_id"] for e in events} | {p for e in events for p in e["parent_ids"]})
    seq = 0
    graph = f"{FOLDER}/graph.jsonl"
    with open(graph, "w") as out:
        out.write(lines[0] + "\n")
        for copy in range(800):
            renamed = {run: f"{run[:-6]}{copy:06d}" for run in ids}
            for e in events:
                parents = [renamed[p] for p in e["parent_ids"]]
                moved = {**e, "run_id": renamed[e["run_id"]], "parent_ids": parents}
                moved.update(t=copy * 2.0 + e["t"], seq=seq)
                seq += 1
                out.write(json.dumps(moved, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.path.insert(0, ROOT)
    import streamviz as sv

    sv.Trace.load(graph).save(graph)  # as this version writes it (token lines read fast)
    sv.Trace.load(graph).save(graph.replace(".jsonl", ".parquet"))
    for name in sorted(os.listdir(FOLDER)):
        print(f"{name}: {os.path.getsize(f'{FOLDER}/{name}') / 1e6:.1f} MB")


def _one_memory(worktree: str, path: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
    sys.path.insert(0, worktree)
    import streamviz as sv

    cpu = time.process_time()
    try:
        outcome = f"loaded {len(sv.Trace.load(path)):,} events"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as error:
        outcome = f"{type(error).__name__}: {str(error)[:110]}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    took = time.process_time() - cpu
    print(f"{os.path.basename(path)} with {worktree}: peak RSS {peak:,.0f} MB, {took:.1f} CPU s")
    print(f"    {outcome}")


def _one_cpu(worktree: str, path: str) -> None:
    sys.path.insert(0, worktree)
    import streamviz as sv

    cpu = time.process_time()
    sv.Trace.load(path)
    print(time.process_time() - cpu)


def _run(*args: str) -> str:
    command = [sys.executable, __file__, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main(argv: list[str]) -> None:
    if argv[0] == "make":
        make()
    elif argv[0] == "memory":
        for name in ("line63.jsonl", "file198.jsonl"):
            for worktree in argv[1:]:
                print(_run("one-memory", worktree, f"{FOLDER}/{name}"), end="")
    elif argv[0] == "cpu":
        before, after = argv[1:3]
        files = [f"{FOLDER}/graph.jsonl", f"{FOLDER}/graph.parquet"]
        best: dict[tuple[str, str], float] = {}
        for _ in range(3):
            for worktree in (before, after):
                for path in files:
                    took = float(_run("one-cpu", worktree, path))
                    key = (worktree, path)
                    best[key] = min(best.get(key, took), took)
        for path in files:
            was, now = best[(before, path)], best[(after, path)]
            name = os.path.basename(path)
            print(f"{name}: before {was:.3f} s, after {now:.3f} s, ratio {now / was:.3f}")
        print("load average", os.getloadavg())
    elif argv[0] == "one-memory":
        _one_memory(argv[1], argv[2])
    elif argv[0] == "one-cpu":
        _one_cpu(argv[1], argv[2])


if __name__ == "__main__":
    main(sys.argv[1:])

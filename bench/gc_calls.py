"""Why watching the agent of scale.py makes the garbage collector run more often, call by call.

Run with ``.venv/bin/python bench/gc_calls.py [--calls N] [--token-step S]`` (~10 s). CPython
runs a young collection when its count of container allocations (less deallocations, never below
zero) passes 700. In the ``graph`` workload of ``bench/scale.py`` every model call streams the same
tokens, so every call moves that count the same way, and a few containers more per call decide
whether the call's end crosses the threshold once more (then the call's young chunks are promoted
and, collection after collection, reach the oldest generation: more full collections). This
prints, measured rather than inferred:

1. per model call, observed by run.py's no-op handler and by the collector (``sv.watch``'s, its
   callbacks alone): the count when the model starts, the token of each young collection, the
   count at the last token, and whether a collection came in the call's end;
2. what each of the collector's callbacks adds to the count (a real call's callbacks, recorded,
   then replayed into a fresh collector with the collector off);
3. the no-op handler keeping K empty dicts per model call: young / middle / full collections of
   one run, for K = 0, 5, 10, 20, 30 made at the model's start (any observer that keeps a few
   dozen containers per call), and K = 44 (what the trace keeps per call) made at its start or
   at its end.

Counts, not times: they do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import NoopHandler  # noqa: E402
from scale import GRAPH_EVENTS_PER_CALL, Graph  # noqa: E402

import streamviz as sv  # noqa: E402

MODES = ["updates", "messages"]


class Probe(BaseCallbackHandler):
    """Notes the young generation's count at a model's start, tokens and end (after the
    observer, which runs first), and each young collection between."""

    run_inline = True

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __copy__(self) -> Probe:
        return self

    def __deepcopy__(self, memo: Any = None) -> Probe:
        return self

    def collected(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 0 and self.calls:
            call = self.calls[-1]
            call["collections"].append(len(call["tokens"]) if call["end"] is None else "late")

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        call = {"start": gc.get_count()[0], "tokens": [], "collections": [], "end": None}
        self.calls.append(call)

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        self.calls[-1]["tokens"].append(gc.get_count()[0])

    def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
        self.calls[-1]["end"] = gc.get_count()[0]


def trajectories(workload: Graph) -> None:
    for label in ("no-op handler", "collector"):
        probe = Probe()
        if label == "collector":
            collector = sv.Collector(name="agent")
            config, _ = collector.config_for(dict(workload.config))
            config["callbacks"].append(probe)
        else:
            config = {**workload.config, "callbacks": [NoopHandler(), probe]}
        gc.collect()
        gc.callbacks.append(probe.collected)
        try:
            for _ in workload.graph.stream(workload.input, config, stream_mode=MODES):
                pass
        finally:
            gc.callbacks.remove(probe.collected)
        calls = probe.calls[len(probe.calls) // 2 :]  # past the first calls' warm-up
        # a collection after the last token: in the model's end (LangChain merging the chunks)
        ends = sum(len(call["tokens"]) in call["collections"] for call in calls)
        print(f"{label}: {len(calls)} calls")
        print(f"  count at the model's start: {sorted({call['start'] for call in calls})}")
        last = statistics.median(call["tokens"][-1] for call in calls)
        print(f"  count at the last token: median {last}")
        print(f"  young collections at tokens: {calls[-1]['collections']} (the last call)")
        print(f"  calls with a young collection after their last token: {ends} of {len(calls)}")


def callback_counts(workload: Graph) -> None:
    recorded: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    class Recorder(BaseCallbackHandler):
        run_inline = True

        def __copy__(self) -> Recorder:
            return self

        def __deepcopy__(self, memo: Any = None) -> Recorder:
            return self

    names = ("on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_new_token")
    for name in (*names, "on_llm_end"):
        setattr(Recorder, name, lambda self, *a, _name=name, **k: recorded.append((_name, a, k)))
    config = {**workload.config, "callbacks": [Recorder()]}
    for _ in workload.graph.stream(workload.input, config, stream_mode=MODES):
        pass
    collector = sv.Collector(name="agent")
    added: dict[str, list[int]] = {}
    streamed: set[Any] = set()
    gc.collect()
    gc.disable()
    try:
        for name, args, kwargs in recorded:
            label = name
            if name == "on_llm_new_token":
                label = "first token" if kwargs["run_id"] not in streamed else "other tokens"
                streamed.add(kwargs["run_id"])
            elif name == "on_chain_start" and kwargs.get("parent_run_id") is None:
                label = "on_chain_start (root)"
            before = gc.get_count()[0]
            getattr(collector, name)(*args, **kwargs)
            added.setdefault(label, []).append(gc.get_count()[0] - before)
    finally:
        gc.enable()
    print("containers each collector callback adds to the count (mean per call):")
    for label, values in added.items():
        print(f"  {label}: {statistics.mean(values):.2f} ({len(values)} calls)")


def keeping(workload: Graph, kept: list[tuple[int, str]]) -> None:
    counts = [0, 0, 0]

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            counts[info["generation"]] += 1

    class Keeper(NoopHandler):
        def __init__(self, size: int, at: str) -> None:
            self.size, self.at, self.kept = size, at, []

        def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            if self.at == "start":
                self.kept.append([{} for _ in range(self.size)])

        def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
            if self.at == "end":
                self.kept.append([{} for _ in range(self.size)])

    print("the no-op handler keeping K dicts (and one list) per model call: collections")
    print("(young / middle / full)")
    for size, at in kept:
        config = {**workload.config, "callbacks": [Keeper(size, at)]}
        gc.collect()
        counts[:] = [0, 0, 0]
        gc.callbacks.append(count)
        try:
            for _ in workload.graph.stream(workload.input, config, stream_mode=MODES):
                pass
        finally:
            gc.callbacks.remove(count)
        print(f"  K={size} at the model's {at}: {counts[0]} / {counts[1]} / {counts[2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="model calls of the agent")
    parser.add_argument("--token-step", type=int, default=0, help="as in scale.py")
    args = parser.parse_args()
    Graph.token_step = args.token_step
    workload = Graph(args.calls * GRAPH_EVENTS_PER_CALL)
    workload.noop()  # warm-up
    trajectories(workload)
    callback_counts(Graph(20 * GRAPH_EVENTS_PER_CALL))
    starts = [(size, "start") for size in (0, 5, 10, 20, 30, 44)]
    keeping(workload, [*starts, (44, "end")])


if __name__ == "__main__":
    main()

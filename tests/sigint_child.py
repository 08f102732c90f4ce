"""Fast streams hit by real SIGINTs at random moments; prints what each trace still allows.

Run by ``tests/test_sigint.py`` in a process of its own (a stray SIGINT must not reach pytest):
``python sigint_child.py MODE ROUNDS SEED``. MODE is ``stream`` (``Collector.stream``),
``capture`` (``with sv.capture()``) or ``watch`` (``sv.watch``). Each round streams a chain
while a thread sends SIGINT to the main thread after a random delay, then (the signal
delivered and caught) checks the trace: every event readable, saved and loaded back, a
DataFrame and a dashboard snapshot made, each run's recorded chunks a prefix of what the model
streams, no run left ``running``, and a second, uninterrupted stream recorded into the same
trace exactly. Prints one JSON line: counts of rounds, interrupts and each kind of failure.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.widgets import Dashboard

TOKENS = 400


def chain():
    prompt = ChatPromptTemplate.from_template("tell me about {topic}")
    return prompt | DemoChatModel.for_benchmark(TOKENS) | StrOutputParser()


EXPECTED = [c.content for c in DemoChatModel.for_benchmark(TOKENS).stream("x")]


def is_prefix(part: list, whole: list) -> bool:
    return part == whole[: len(part)]


def chunks_of(run, events) -> list:
    """The texts ``run`` streamed (a model's chunks' contents; a chain's or parser's strings)."""
    chunks = [
        e["data"]["chunk"] for e in events if e["run_id"] == run.run_id and "_stream" in e["event"]
    ]
    return [getattr(chunk, "content", chunk) for chunk in chunks]


def run_once(mode: str, trace: sv.Trace | None) -> sv.Trace:
    """Stream the chain once into ``trace`` (a new one if None); returns the trace."""
    if mode == "stream":
        collector = sv.Collector(trace)
        for _ in collector.stream(chain(), {"topic": "x"}):
            pass
        return collector.trace
    if mode == "capture":
        with sv.capture(trace) as captured:
            for _ in chain().stream({"topic": "x"}):
                pass
        return captured
    if trace is None:
        return sv.watch(chain(), {"topic": "x"}, display=False)
    with sv.capture(trace):
        sv.watch(chain(), {"topic": "x"}, display=False)
    return trace


def check(trace: sv.Trace, directory: Path, problems: dict[str, int]) -> None:
    """Count what a user could not do with ``trace``."""
    try:
        events = list(trace.events)
        path = directory / "t.jsonl"
        trace.save(path)
        loaded = sv.Trace.load(path)
        if len(loaded.events) != len(events):
            problems["lost_on_save"] += 1
        trace.events_df()
        Dashboard(trace).snapshot  # noqa: B018
    except Exception:
        problems["unreadable"] += 1
        traceback.print_exc(file=sys.stderr)
        return
    for run in trace.runs.values():
        if run.status == "running":
            problems["left_running"] += 1
        if not is_prefix(chunks_of(run, events), EXPECTED):
            problems["misaligned"] += 1


def main() -> None:
    # Python's own handler, also when started with SIGINT ignored (a background job of a shell)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    main_thread = threading.main_thread().ident
    # How long one stream takes here, to aim the signals inside it.
    began = time.perf_counter()
    run_once(mode, None)
    span = time.perf_counter() - began
    problems = dict.fromkeys(
        ("unreadable", "misaligned", "left_running", "lost_on_save", "second_run_wrong"), 0
    )
    interrupted = 0
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for _ in range(rounds):
            delay = rng.uniform(0, span)
            sent = threading.Event()

            def fire(delay: float = delay, sent: threading.Event = sent) -> None:
                time.sleep(delay)
                signal.pthread_kill(main_thread, signal.SIGINT)
                sent.set()

            sender = threading.Thread(target=fire)
            trace = sv.Trace() if mode != "watch" else None
            try:
                sender.start()
                trace = run_once(mode, trace)
                sent.wait()  # the signal may come after the stream: caught below
                time.sleep(0.05)  # let it be delivered while still inside the try
            except KeyboardInterrupt:
                interrupted += 1
            sender.join()
            if trace is None:  # sv.watch interrupted: its trace is the latest one
                trace = sv.last_trace()
            check(trace, directory, problems)
            try:  # the same trace keeps recording, and reads back right
                before = len(trace.runs)
                trace = run_once(mode if mode != "watch" else "capture", trace)
                events = list(trace.events)
                for run in list(trace.runs.values())[before:]:
                    if run.run_type != "prompt" and chunks_of(run, events) != EXPECTED:
                        problems["second_run_wrong"] += 1
            except Exception:
                problems["second_run_wrong"] += 1
                traceback.print_exc(file=sys.stderr)
    print(json.dumps({"rounds": rounds, "interrupted": interrupted, **problems}))


if __name__ == "__main__":
    main()

"""``trace.save("x.perfetto.json")``: Chrome trace-event JSON, held to the format's rules.

The validator below is written from the Trace Event Format document (the "JSON Object Format"
with ``traceEvents``; complete ``X``, duration ``B``/``E``, instant ``i``, flow ``s``/``f`` and
metadata ``M`` events), not from the writer:

- the file is one UTF-8 JSON object whose ``traceEvents`` is a list of objects, each with a
  known ``ph`` and integer ``pid``/``tid``;
- ``ts`` (and ``dur``) are numbers of microseconds, finite and not negative;
- every ``B`` has its ``E`` on the same track, in stack order (each slice closed);
- on each track (``pid``, ``tid``), slices nest: two slices are disjoint or one holds the other
  (a child slice lies within its parent, or is on another track);
- instant events have a scope (``g``, ``p`` or ``t``);
- flow events: each ``id`` has one ``s`` and one ``f`` of the same ``cat`` and ``name``, the
  ``f`` not before the ``s``, each bound to a slice of its track (``s`` inside one; ``f`` with
  ``bp: "e"`` inside one, else the next slice to begin);
- every ``pid`` and ``tid`` used is named by ``process_name`` / ``thread_name`` metadata.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import threading
from collections import defaultdict
from typing import Any

import pytest
from examples import ASYNC_ONLY, EXAMPLES
from langchain_core.runnables import RunnableLambda

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_failing_graph, build_fanout_graph, build_nested_graph

PHASES = {"X", "B", "E", "i", "I", "s", "t", "f", "M", "C", "b", "e", "n"}


def _ns(microseconds: float) -> int:
    return round(microseconds * 1000)


def validate(document: Any) -> dict[str, Any]:
    """Check ``document`` against the rules above; return what a reader would see per track."""
    assert isinstance(document, dict) and isinstance(document.get("traceEvents"), list)
    events = document["traceEvents"]
    named_pids, named_tids, used = set(), set(), set()
    slices: dict[tuple[int, int], list[tuple[int, int, dict]]] = defaultdict(list)
    open_b: dict[tuple[int, int], list[dict]] = defaultdict(list)
    flows: dict[Any, dict[str, dict]] = defaultdict(dict)
    for event in events:
        assert isinstance(event, dict) and event.get("ph") in PHASES, event
        phase = event["ph"]
        assert type(event.get("pid")) is int and type(event.get("tid")) is int, event
        track = (event["pid"], event["tid"])
        if phase == "M":
            if event["name"] == "process_name":
                assert isinstance(event["args"]["name"], str)
                named_pids.add(event["pid"])
            elif event["name"] == "thread_name":
                assert isinstance(event["args"]["name"], str)
                named_tids.add(track)
            continue
        used.add(track)
        ts = event.get("ts")
        assert isinstance(ts, (int, float)) and not isinstance(ts, bool), event
        assert math.isfinite(ts) and ts >= 0, event
        assert isinstance(event.get("name"), str), event
        if phase == "X":
            dur = event.get("dur")
            assert isinstance(dur, (int, float)) and math.isfinite(dur) and dur >= 0, event
            slices[track].append((_ns(ts), _ns(ts) + _ns(dur), event))
        elif phase == "B":
            open_b[track].append(event)
        elif phase == "E":
            assert open_b[track], f"E without its B on {track}: {event}"
            begin = open_b[track].pop()
            assert ts >= begin["ts"]
            slices[track].append((_ns(begin["ts"]), _ns(ts), begin))
        elif phase in ("i", "I"):
            assert event.get("s", "t") in ("g", "p", "t"), event
        elif phase in ("s", "t", "f"):
            assert "id" in event and event.get("cat") is not None, event
            assert phase not in flows[event["id"]], f"flow id {event['id']} has two {phase}"
            flows[event["id"]][phase] = event
    assert not any(open_b.values()), "a B without its E"
    for track, found in slices.items():  # nesting per track
        stack: list[int] = []
        for start, end, event in sorted(found, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1] <= start:
                stack.pop()
            assert not stack or end <= stack[-1], f"{event['name']} overlaps on {track}"
            stack.append(end)

    def bound(event: dict, *, enclosing: bool) -> bool:
        at, track = _ns(event["ts"]), (event["pid"], event["tid"])
        inside = any(start <= at <= end for start, end, _ in slices[track])
        return inside or (not enclosing and any(start >= at for start, _, _ in slices[track]))

    for flow_id, ends in flows.items():
        assert set(ends) >= {"s", "f"}, f"flow {flow_id} is not paired: {sorted(ends)}"
        start, finish = ends["s"], ends["f"]
        assert (start["cat"], start["name"]) == (finish["cat"], finish["name"])
        assert finish["ts"] >= start["ts"]
        assert bound(start, enclosing=True), f"flow {flow_id} start is in no slice"
        assert bound(finish, enclosing=finish.get("bp") == "e"), f"flow {flow_id} end unbound"
    for pid, tid in used:
        assert pid in named_pids, f"pid {pid} has no process_name"
        assert (pid, tid) in named_tids, f"tid {tid} has no thread_name"
    return {"slices": slices, "flows": flows, "events": events}


def exported(trace: sv.Trace, tmp_path, **options: Any) -> dict[str, Any]:
    path = tmp_path / "run.perfetto.json"
    if options:
        sv.write_perfetto(trace, path, **options)
    else:
        trace.save(path)
    document = json.loads(path.read_bytes().decode("utf-8"))  # strict UTF-8 JSON
    validate(document)
    return document


def slice_of(document: dict, name: str) -> dict:
    (found,) = [e for e in document["traceEvents"] if e["ph"] == "X" and e["name"] == name]
    return found


# ------------------------------------------------------------------- the validator itself
def test_validator_rejects_what_breaks_the_rules():
    named = [
        {"ph": "M", "pid": 1, "tid": 0, "name": "process_name", "args": {"name": "p"}},
        {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "t"}},
    ]
    x = {"ph": "X", "pid": 1, "tid": 1, "name": "a", "ts": 0, "dur": 10}
    validate({"traceEvents": [*named, x, {**x, "name": "b", "ts": 2, "dur": 3}]})
    broken = [
        [*named, x, {**x, "name": "b", "ts": 5, "dur": 10}],  # overlaps without nesting
        [*named, {**x, "ph": "B"}],  # B without E
        [*named, {**x, "ts": "0"}],  # ts not a number
        [*named, {**x, "tid": 2}],  # unnamed thread
        [*named, x, {"ph": "s", "pid": 1, "tid": 1, "ts": 1, "name": "f", "cat": "c", "id": 1}],
    ]
    for events in broken:
        with pytest.raises(AssertionError):
            validate({"traceEvents": events})


# ------------------------------------------------------------------------ the guide's chains
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_guide_chains_export_valid_perfetto(tmp_path, name):
    runnable, value = EXAMPLES[name]()
    collector = sv.Collector()

    async def consume() -> None:
        async for _ in collector.astream(runnable, value):
            pass

    try:
        if name in ASYNC_ONLY:
            asyncio.run(consume())
        else:
            list(collector.stream(runnable, value))
    except Exception:
        pass  # the errored examples: their error is in the trace
    trace = collector.trace
    document = exported(trace, tmp_path)
    runs = [e for e in document["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["args"]["run_id"] for e in runs) == sorted(trace.runs)
    tokens = [e for e in document["traceEvents"] if e["ph"] == "i" and e["cat"] == "token"]
    model_chunks = sum(
        1 for e in trace.events if e["event"] in ("on_chat_model_stream", "on_llm_stream")
    )
    assert len(tokens) == model_chunks
    for run in runs:  # times in microseconds from the trace's start
        source = trace.runs[run["args"]["run_id"]]
        assert run["ts"] == pytest.approx(source.start * 1e6, abs=0.001)
        if source.end is not None:
            assert run["dur"] == pytest.approx((source.end - source.start) * 1e6, abs=0.002)


def test_parent_child_nesting_and_args(tmp_path):
    model = DemoChatModel(time_to_first_token=0, token_delay=0)
    chain = RunnableLambda(lambda x: x["topic"]).with_config(run_name="pick") | model
    collector = sv.Collector()
    list(collector.stream(chain.with_config(run_name="outer", tags=["t1"]), {"topic": "parrot"}))
    document = exported(collector.trace, tmp_path)
    outer, model_run = slice_of(document, "outer"), slice_of(document, "DemoChatModel")
    assert outer["tid"] == model_run["tid"]  # one thread: one track, nested
    assert outer["ts"] <= model_run["ts"] and (
        model_run["ts"] + model_run["dur"] <= outer["ts"] + outer["dur"]
    )
    assert outer["args"]["tags"] == ["t1"] and outer["args"]["status"] == "ok"
    assert outer["args"]["input"] == "{topic: parrot}"
    assert model_run["args"]["run_type"] == "chat_model" and model_run["args"]["tokens"] > 3
    assert model_run["args"]["output_tokens"] > 0  # the usage the demo model reported
    assert not document["otherData"]["tokens_dropped"]


# ---------------------------------------------------------------- parallel graph, subgraphs
def test_parallel_graph_with_subgraphs(tmp_path):
    graph = build_fanout_graph()
    trace = asyncio.run(
        sv.awatch(graph, {"subjects": ["a", "b", "c", "d"]}, display=False,
                  stream_mode=["updates", "custom"], subgraphs=True)
    )  # fmt: skip
    checked = validate(exported(trace, tmp_path))
    writes = [e for track in checked["slices"].values() for *_, e in track if e["name"] == "write"]
    assert len(writes) == sum(run.name == "write" for run in trace.runs.values()) == 8
    # four branches: the "write" node and its subgraph (also named "write") each
    parts = [e for e in checked["events"] if e["ph"] == "i" and e["cat"] == "part"]
    assert sum(e["name"] == "custom: write" for e in parts) == 4  # named by their branch
    nested = build_nested_graph()
    trace = sv.watch(nested, {"foo": "foo"}, display=False, subgraphs=True)
    validate(exported(trace, tmp_path))
    # In sync code LangGraph runs parallel branches in a thread pool: tracks per thread.
    trace = sv.watch(graph, {"subjects": ["a", "b", "c", "d"]}, display=False)
    checked = validate(exported(trace, tmp_path))
    assert len({e["tid"] for t in checked["slices"].values() for *_, e in t}) > 1


def test_runs_overlapping_on_one_thread_go_to_other_tracks_with_flows(tmp_path):
    model = DemoChatModel(time_to_first_token=0.01, token_delay=0.002)

    async def two_at_once(topic: str, config) -> list[str]:
        answers = await asyncio.gather(
            model.ainvoke(f"a joke about {topic}", config), model.ainvoke("a poem", config)
        )
        return [answer.content for answer in answers]

    collector = sv.Collector()
    both = RunnableLambda(two_at_once).with_config(run_name="both")
    asyncio.run(both.ainvoke("cats", {"callbacks": [collector]}))
    checked = validate(exported(collector.trace, tmp_path))
    models = [e for t in checked["slices"].values() for *_, e in t if e["name"] == "DemoChatModel"]
    assert len(models) == 2 and len({e["tid"] for e in models}) == 2  # they overlap in time
    assert len(checked["flows"]) >= 1  # from "both" to the model on the other track
    names = {e["tid"]: e["args"]["name"] for e in checked["events"] if e["name"] == "thread_name"}
    assert sorted(names[e["tid"]].split(" · ")[0] for e in models) == 2 * [
        f"thread {threading.get_ident()}"
    ]


def test_threads_get_tracks_of_their_own(tmp_path):
    model = DemoChatModel(time_to_first_token=0.005, token_delay=0.001)
    collector = sv.Collector()
    (RunnableLambda(lambda x: x) | model).batch(
        ["a", "b", "c"], {"callbacks": [collector], "max_concurrency": 3}
    )
    checked = validate(exported(collector.trace, tmp_path))
    # A run's track is its start's thread (a later event may come from another thread).
    threads = {e["thread"] for e in collector.trace.events if e["event"].endswith("_start")}
    names = {e["args"]["name"] for e in checked["events"] if e["name"] == "thread_name"}
    assert {name.split(" · ")[0] for name in names} == {f"thread {t}" for t in threads}


# --------------------------------------------------------------------------- errors, hostility
def test_errored_run(tmp_path):
    with pytest.raises(ValueError, match="explode failed on purpose"):
        sv.watch(build_failing_graph(), {"topic": "x"}, display=False)
    trace = sv.last_trace()
    document = exported(trace, tmp_path)
    failed = [
        e for e in document["traceEvents"] if e["ph"] == "X" and e["args"]["status"] == "error"
    ]
    assert failed and all("explode failed on purpose" in e["args"]["error"] for e in failed)


SECRET = "sk-" + "Zq9xW8vU7tS6rR5pP4oN3mM2"


def test_hostile_payload_and_planted_secrets(tmp_path):
    def hostile(value: Any) -> Any:
        return {
            "api_key": SECRET,
            "note": f"Authorization: Bearer {SECRET}",
            "lone": "\ud800 half a pair",
            "nan": float("nan"),
            "deep": [[[[[[[[[[[[["x" * 10_000]]]]]]]]]]]]],
            "loop": (loop := []) or loop.append(loop) or loop,
            "obj": object(),
        }

    model = DemoChatModel(
        time_to_first_token=0, token_delay=0, responses=[f"here is {SECRET} \udfff ok"]
    )
    chain = (
        RunnableLambda(hostile).with_config(
            run_name="x\n" * 500, metadata={"password": "hunter2", "token": SECRET}
        )
        | RunnableLambda(lambda _: "ask")
        | model
    )
    collector = sv.Collector()
    list(collector.stream(chain, {"openai_api_key": SECRET}))
    document = exported(collector.trace, tmp_path)
    blob = (tmp_path / "run.perfetto.json").read_bytes()
    assert SECRET.encode() not in blob and b"hunter2" not in blob
    assert "\ud800".encode("utf-8", "surrogatepass") not in blob
    assert max(len(e["name"]) for e in document["traceEvents"] if e["ph"] == "X") <= 200


def test_token_cap_counts_what_is_dropped(tmp_path):
    model = DemoChatModel(time_to_first_token=0, token_delay=0)
    collector = sv.Collector()
    list(collector.stream(model, "what color is the sky?"))
    chunks = sum(1 for e in collector.trace.events if e["event"] == "on_chat_model_stream")
    document = exported(collector.trace, tmp_path, max_tokens=3)
    tokens = [e for e in document["traceEvents"] if e["ph"] == "i" and e["cat"] == "token"]
    assert len(tokens) == 3
    assert document["otherData"]["tokens_dropped"] == chunks - 3
    run = slice_of(document, "DemoChatModel")
    assert (run["args"]["tokens"], run["args"]["tokens_dropped"]) == (3, chunks - 3)


def test_file_objects_format_and_loaded_traces(tmp_path):
    model = DemoChatModel(time_to_first_token=0, token_delay=0)
    collector = sv.Collector()
    list(collector.stream(model, "hi"))
    collector.trace.save(tmp_path / "run.jsonl")
    loaded = sv.Trace.load(tmp_path / "run.jsonl")
    text, binary = io.StringIO(), io.BytesIO()
    loaded.save(text, format="perfetto")
    loaded.save(binary, format="perfetto")
    assert json.loads(text.getvalue()) == json.loads(binary.getvalue().decode())
    validate(json.loads(text.getvalue()))
    # The same file from the captured and the loaded trace (thread idents survive loading).
    collector.trace.save(tmp_path / "a.perfetto.json")
    loaded.save(tmp_path / "b.perfetto.json")
    a, b = (json.loads((tmp_path / f"{n}.perfetto.json").read_text()) for n in "ab")
    assert a["traceEvents"] == b["traceEvents"]


def test_server_stream_exports(tmp_path):
    stream = (
        'event: metadata\ndata: {"run_id": "r-1", "attempt": 1}\n\n'
        'event: updates|node_2:t1\ndata: {"inner": {"x": 1}}\n\n'
        'event: messages\ndata: [{"content": "Why", "type": "AIMessageChunk"}, '
        '{"langgraph_node": "call_model"}]\n\n'
    )
    document = exported(sv.from_sse(stream, assistant_id="model"), tmp_path)
    names = [e["name"] for e in document["traceEvents"] if e["ph"] == "i"]
    assert names == ["metadata: model", "updates: inner", "token"]

"""The collector sees what LangChain's own astream_events(v2) sees, on the guide's examples."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from _parity import comparable, normalize, reference_events, run
from examples import ASYNC_ONLY, CONCURRENT, COUNTRIES_PROMPT, EXAMPLES, REYIELDING_ROOTS, model
from langchain_core.output_parsers import JsonOutputParser

import streamviz as sv


def _by_run(events) -> dict:
    """Events grouped per run, keyed by the run's path of names (for concurrent examples).

    Within a run, order is kept, except that a parallel step's chunks are kept in order per key:
    how the branches interleave depends on scheduling.
    """
    names = {e["run_id"]: e["name"] for e in events if e["event"].endswith("_start")}
    per_run: dict = defaultdict(lambda: defaultdict(list))
    for event in events:
        if event["event"].endswith("_error") and event["event"] != "on_tool_error":
            continue
        path = (*(names.get(p, p) for p in event["parent_ids"]), event["name"])
        data = event["data"] if isinstance(event["data"], dict) else {}
        chunk = data.get("chunk")
        lane = next(iter(chunk)) if isinstance(chunk, dict) and len(chunk) == 1 else None
        per_run[(path, event["run_id"])][lane].append(
            (
                event["event"],
                tuple(event["tags"]),
                comparable(chunk),
                comparable(data.get("output")),
            )
        )
    merged: dict = defaultdict(list)
    for (path, _), lanes in per_run.items():
        merged[path].append(repr(sorted(lanes.items(), key=lambda kv: str(kv[0]))))
    return {path: sorted(runs) for path, runs in merged.items()}


def _assert_same(name, mine, theirs):
    if name in CONCURRENT:
        assert _by_run(mine) == _by_run(theirs)
    else:
        assert normalize(mine) == normalize(theirs)


async def _collect_astream(runnable, value):
    collector = sv.Collector()
    error = None
    try:
        async for _ in collector.astream(runnable, value):
            pass
    except Exception as exc:
        error = exc
    return collector.trace, error


def _collect_stream(runnable, value):
    collector = sv.Collector()
    error = None
    try:
        for _ in collector.stream(runnable, value):
            pass
    except Exception as exc:
        error = exc
    return collector.trace, error


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_astream_matches_astream_events(name):
    runnable, value = EXAMPLES[name]()
    theirs, their_error = run(reference_events(runnable, value))
    runnable, value = EXAMPLES[name]()
    trace, my_error = run(_collect_astream(runnable, value))
    assert theirs, "the reference produced no events"
    _assert_same(name, trace.events, theirs)
    assert type(my_error) is type(their_error)


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n not in ASYNC_ONLY])
def test_sync_stream_matches_astream_events(name):
    runnable, value = EXAMPLES[name]()
    theirs, _ = run(reference_events(runnable, value))
    runnable, value = EXAMPLES[name]()
    trace, _ = _collect_stream(runnable, value)
    _assert_same(name, trace.events, theirs)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_collector_beside_astream_events_loses_nothing_on_either_side(name):
    runnable, value = EXAMPLES[name]()
    alone, _ = run(reference_events(runnable, value))
    runnable, value = EXAMPLES[name]()
    first, second = sv.Collector(), sv.Collector()
    beside, _ = run(reference_events(runnable, value, {"callbacks": [first, second]}))
    # astream_events still gets everything it gets on its own...
    _assert_same(name, beside, alone)
    # ...and both collectors get what it yields, with the same run ids. Two exceptions, both
    # astream_events' doing: its own events hop through an async handler, so with concurrent
    # branches its order differs from the order the callbacks came in (compared run by run);
    # and it taps the outermost stream itself, which a handler cannot see, so the root's own
    # on_chain_stream events of runnables that only re-yield a child's chunks (fallbacks,
    # branches) are missing; `Collector.astream` taps that stream too (see the tests above).
    root = beside[0]["run_id"]
    expected = [
        e
        for e in beside
        if not (
            name in REYIELDING_ROOTS and e["run_id"] == root and e["event"] == "on_chain_stream"
        )
    ]
    for collector in (first, second):
        _assert_same(name, collector.trace.events, expected)
        mine = [
            e
            for e in collector.trace.events
            if not e["event"].endswith("_error") or e["event"] == "on_tool_error"
        ]
        assert sorted(e["run_id"] for e in mine) == sorted(e["run_id"] for e in expected)


def test_errors_of_every_run_type_are_recorded():
    runnable, value = EXAMPLES["error mid-stream"]()
    trace, error = run(_collect_astream(runnable, value))
    assert isinstance(error, ValueError)
    failed = {run.name: run for run in trace.runs.values() if run.status == "error"}
    assert "_explode_after_three" in failed
    assert "RunnableSequence" in failed
    assert failed["RunnableSequence"].error == "ValueError: the stream broke after three tokens"
    root = trace.roots[0]
    assert root.chunk_count == 3  # the three tokens that made it out before the failure
    assert all(run.status != "running" for run in trace.runs.values())


def test_a_roots_own_chunk_is_recorded_before_the_lookup_it_started_meanwhile():
    # The root yields "searching… " while its lookup task starts: under astream the chunk
    # leaves the root before the task runs, as astream_events reports it.
    runnable, value = EXAMPLES["own chunk, then a lookup"]()
    trace = run(sv.awatch(runnable, value, display=False))
    first = [(e["event"], e["name"], e["data"].get("chunk")) for e in trace.events[:3]]
    assert first == [
        ("on_chain_start", "status_then_joke", None),
        ("on_chain_stream", "status_then_joke", "searching… "),
        ("on_retriever_start", "Docs", None),
    ]
    assert trace.roots[0].status == "ok"
    assert trace.result.startswith("searching… ") and len(trace.result) > len("searching… ")


GUIDE_FILTERS = [
    ({"include_names": ["my_parser"]}, "run_name and tags"),
    ({"include_types": ["chat_model"]}, "run_name and tags"),
    ({"include_tags": ["my_chain"]}, "run_name and tags"),
    ({"exclude_types": ["chat_model"], "exclude_names": ["RunnableSequence"]}, "run_name and tags"),
    ({"include_types": ["progress"]}, "custom events"),
    ({"include_names": ["Docs"], "include_types": ["parser"]}, "retrieval chain"),
]


@pytest.mark.parametrize(("kwargs", "name"), GUIDE_FILTERS)
def test_trace_filter_matches_langchain_filters(kwargs, name):
    runnable, value = EXAMPLES[name]()
    theirs, _ = run(reference_events(runnable, value, **kwargs))
    runnable, value = EXAMPLES[name]()
    trace, _ = run(_collect_astream(runnable, value))
    view = trace.filter(**kwargs)
    assert normalize(view.events) == normalize(theirs)
    assert len(view.events) > 0
    assert set(view.runs) == {e["run_id"] for e in view.events if e["event"] != "on_custom_event"}


def test_the_three_start_events_of_model_and_json_parser():
    chain = model() | JsonOutputParser()
    trace, _ = run(_collect_astream(chain, COUNTRIES_PROMPT))
    starts = [e for e in trace.events if e["event"].endswith("_start")]
    assert [(e["event"], e["name"]) for e in starts] == [
        ("on_chain_start", "RunnableSequence"),
        ("on_chat_model_start", "DemoChatModel"),
        ("on_parser_start", "JsonOutputParser"),
    ]
    parser_chunks = [e["data"]["chunk"] for e in trace.events if e["event"] == "on_parser_stream"]
    assert parser_chunks[:3] == [{}, {"countries": []}, {"countries": [{}]}]
    assert parser_chunks[-1]["countries"][2] == {"name": "Japan", "population": 125584000}


def test_from_astream_events_builds_the_same_trace_sync_and_async():
    runnable, value = EXAMPLES["retrieval chain"]()
    theirs, _ = run(reference_events(runnable, value))
    from_list = sv.from_astream_events(theirs)
    runnable, value = EXAMPLES["retrieval chain"]()
    from_async = run(sv.from_astream_events(runnable.astream_events(value, version="v2")))
    runnable, value = EXAMPLES["retrieval chain"]()
    captured, _ = run(_collect_astream(runnable, value))
    assert normalize(from_list.events) == normalize(theirs)
    assert normalize(from_async.events) == normalize(theirs)

    def shape(trace):
        return [(r.name, r.run_type, r.status, r.chunk_count, r.depth) for r in trace.runs.values()]

    assert shape(from_list) == shape(from_async) == shape(captured)
    docs = next(r for r in from_list.runs.values() if r.name == "Docs")
    assert docs.output[0].page_content == "harrison worked at kensho"
    assert docs.chunk_count == 0  # a retriever does not stream


def test_from_astream_events_closes_runs_when_the_stream_raises():
    runnable, value = EXAMPLES["error mid-stream"]()
    trace = sv.Trace()
    with pytest.raises(ValueError, match="broke"):
        run(sv.from_astream_events(runnable.astream_events(value, version="v2"), trace))
    assert trace.events, "what was captured before the error is kept"
    assert {run.status for run in trace.runs.values()} <= {"ok", "error"}
    assert trace.roots[0].status == "error"


def test_concurrent_astream_runs_do_not_mix():
    async def main():
        collector = sv.Collector()
        runnable, _ = EXAMPLES["prompt|model|parser"]()

        async def one(topic):
            return "".join(
                [c async for c in runnable.astream({"topic": topic}, {"callbacks": [collector]})]
            )

        await asyncio.gather(*(one(t) for t in ["parrot", "sky"] * 3))
        return collector.trace

    trace = run(main())
    assert len(trace.roots) == 6
    assert all(root.status == "ok" and root.chunk_count > 5 for root in trace.roots)

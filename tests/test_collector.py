"""The collector on every way of running a runnable, from any thread, and never in the way."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from uuid import uuid4

import pytest
from _parity import normalize, reference_events, run
from examples import EXAMPLES, joke_prompt, model
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGenerationChunk, LLMResult
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

import streamviz as sv
from streamviz._errors import internal_error_counts
from streamviz._log import EventStore
from streamviz.demo import DemoChatModel, DemoLLM, DemoRetriever
from streamviz.runs import RunTree


def joke_chain(**timing):
    timing = timing or {"time_to_first_token": 0, "token_delay": 0}
    return joke_prompt() | DemoChatModel(**timing) | StrOutputParser()


def events_per_root(trace):
    """Each root's events, in arrival order."""
    groups = defaultdict(list)
    for event in trace.events:
        root = event["parent_ids"][0] if event["parent_ids"] else event["run_id"]
        groups[root].append(event)
    return list(groups.values())


# ------------------------------------------------------------------ every way to run
def test_invoke_records_tokens_because_the_collector_is_a_stream_handler():
    collector = sv.Collector()
    result = joke_chain().invoke({"topic": "parrot"}, config={"callbacks": [collector]})
    model_run = next(r for r in collector.trace.runs.values() if r.run_type == "chat_model")
    assert model_run.chunk_count > 20  # chat models stream internally for streaming handlers
    assert collector.trace.roots[0].output == result
    assert all(r.status == "ok" for r in collector.trace.runs.values())


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"])
def test_every_entry_point_records_a_complete_tree(how):
    chain = joke_chain()
    collector = sv.Collector()
    config = {"callbacks": [collector]}
    inputs = [{"topic": "parrot"}, {"topic": "parrot"}]
    if how == "invoke":
        chain.invoke(inputs[0], config)
    elif how == "ainvoke":
        run(chain.ainvoke(inputs[0], config))
    elif how == "stream":
        list(chain.stream(inputs[0], config))
    elif how == "astream":

        async def consume():
            return [chunk async for chunk in chain.astream(inputs[0], config)]

        run(consume())
    elif how == "batch":
        chain.batch(inputs, config)
    else:
        run(chain.abatch(inputs, config))
    trace = collector.trace
    expected_roots = 2 if "batch" in how else 1
    assert len(trace.roots) == expected_roots
    for root in trace.roots:
        assert [c.run_type for c in root.children] == ["prompt", "chat_model", "parser"]
        assert root.status == "ok" and root.duration is not None
        assert root.children[1].chunk_count > 20
    if "stream" in how:
        assert trace.roots[0].chunk_count > 20  # on_chain_stream through the tap


def test_llm_tool_and_retriever_callbacks_are_recorded():
    @tool
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    retriever = DemoRetriever.from_texts(["harrison worked at kensho", "harrison likes spicy food"])
    llm = DemoLLM(time_to_first_token=0, token_delay=0)
    collector = sv.Collector()
    config = {"callbacks": [collector]}
    docs = retriever.invoke("where did harrison work?", config)
    list(llm.stream("what color is the sky?", config))
    shout.invoke({"text": "hi"}, config)
    kinds = [e["event"] for e in collector.trace.events]
    for kind in [
        "on_retriever_start",
        "on_retriever_end",
        "on_llm_start",
        "on_llm_stream",
        "on_llm_end",
        "on_tool_start",
        "on_tool_end",
    ]:
        assert kind in kinds
    runs = {r.run_type: r for r in collector.trace.runs.values()}
    assert runs["retriever"].output == docs
    assert runs["tool"].output == "HI"
    assert runs["tool"].input == {"text": "hi"}
    assert runs["llm"].output["generations"][0][0]["text"] == "The sky appears blue during the day."


def test_tool_errors_are_recorded_like_astream_events():
    @tool
    def broken(x: int) -> int:
        """Always fails."""
        raise ValueError("no")

    collector = sv.Collector()
    with pytest.raises(ValueError, match="no"):
        broken.invoke({"x": 1}, {"callbacks": [collector]})
    event = collector.trace.events[-1]
    assert event["event"] == "on_tool_error"
    assert set(event["data"]) == {"error", "input", "tool_call_id"}
    assert collector.trace.roots[0].error == "ValueError: no"


# ------------------------------------------------------------------ capture()
def test_capture_records_everything_without_a_config():
    with sv.capture() as trace:
        joke_chain().invoke({"topic": "parrot"})
        model().invoke("what color is the sky?")
    assert [r.name for r in trace.roots] == ["RunnableSequence", "DemoChatModel"]
    assert trace.roots[1].chunk_count >= 8


def test_nested_captures_both_get_everything_and_nothing_twice():
    with sv.capture() as outer:
        model().invoke("hello")
        with sv.capture() as inner:
            joke_chain().invoke({"topic": "parrot"})
    assert len(inner.roots) == 1
    assert len(outer.roots) == 2
    inner_events = normalize(inner.events)
    outer_tail = normalize([e for e in outer.events if e["run_id"] in inner.runs])
    assert outer_tail == inner_events


@pytest.mark.parametrize("name", ["run_name and tags", "retrieval chain", "custom events"])
def test_capture_beside_astream_events_loses_nothing_on_either_side(name):
    runnable, value = EXAMPLES[name]()
    alone, _ = run(reference_events(runnable, value))
    runnable, value = EXAMPLES[name]()
    with sv.capture() as trace:
        beside, _ = run(reference_events(runnable, value))
    assert sorted(map(repr, normalize(beside))) == sorted(map(repr, normalize(alone)))
    assert sorted(map(repr, normalize(trace.events))) == sorted(map(repr, normalize(beside)))


# ------------------------------------------------------------- threads and concurrency
def test_100_runs_in_a_thread_pool_batch_lose_nothing_and_keep_order():
    reference = normalize(EVENTS_OF_ONE_RUN())
    collector = sv.Collector()
    topics = [{"topic": "parrot"}] * 100
    joke_chain().batch(topics, {"callbacks": [collector], "max_concurrency": 16})
    per_root = events_per_root(collector.trace)
    assert len(per_root) == 100
    assert all(normalize(events) == reference for events in per_root)
    assert len({e["thread"] for e in collector.trace.events}) > 1  # really from several threads
    assert [e["seq"] for e in collector.trace.events] == list(range(len(collector.trace.events)))


def test_100_runs_under_asyncio_gather_lose_nothing_and_keep_order():
    reference = normalize(EVENTS_OF_ONE_RUN())
    chain = joke_chain(time_to_first_token=0.001, token_delay=0.0005)
    collector = sv.Collector()

    async def main():
        await asyncio.gather(
            *(chain.ainvoke({"topic": "parrot"}, {"callbacks": [collector]}) for _ in range(100))
        )

    run(main())
    per_root = events_per_root(collector.trace)
    assert len(per_root) == 100
    assert all(normalize(events) == reference for events in per_root)
    # they really overlapped: the second run started before the first ended
    ends = [
        e["seq"]
        for e in collector.trace.events
        if e["event"] == "on_chain_end" and not e["parent_ids"]
    ]
    starts = [
        e["seq"]
        for e in collector.trace.events
        if e["event"] == "on_chain_start" and not e["parent_ids"]
    ]
    assert starts[1] < ends[0]


def EVENTS_OF_ONE_RUN():
    collector = sv.Collector()
    joke_chain().invoke({"topic": "parrot"}, {"callbacks": [collector]})
    return collector.trace.events


def test_sync_invoke_from_worker_threads_at_once():
    collector = sv.Collector()
    chain = joke_chain()
    threads = [
        threading.Thread(
            target=chain.invoke, args=({"topic": "parrot"}, {"callbacks": [collector]})
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(collector.trace.roots) == 8
    assert all(r.status == "ok" for r in collector.trace.runs.values())


# ------------------------------------------------------------ never breaking the program
class Boom(Exception):
    pass


def test_a_failing_subscriber_is_logged_once_and_the_result_is_unchanged(caplog):
    collector = sv.Collector()
    calls = []

    def bad_subscriber(event):
        calls.append(event["seq"])
        raise Boom("subscriber bug")

    collector.trace.subscribe(bad_subscriber)
    with caplog.at_level(logging.WARNING, logger="streamviz"):
        result = joke_chain().invoke({"topic": "parrot"}, {"callbacks": [collector]})
    assert result == joke_chain().invoke({"topic": "parrot"})
    assert len(calls) == len(collector.trace.events) > 20  # it kept being called
    warnings = [r for r in caplog.records if "trace subscriber" in r.getMessage()]
    assert len(warnings) == 1


def test_a_failing_collector_never_changes_results_or_exceptions(monkeypatch, caplog):
    collector = sv.Collector()

    def broken_record(event):
        raise Boom("collector bug")

    monkeypatch.setattr(collector, "_record", broken_record)
    monkeypatch.setattr(collector, "_record_start", broken_record)
    monkeypatch.setattr(collector.trace.store, "stream_writer", lambda run, fields: broken_record)
    with caplog.at_level(logging.WARNING, logger="streamviz"):
        streamed = list(joke_chain().stream({"topic": "parrot"}, {"callbacks": [collector]}))
        with pytest.raises(ZeroDivisionError):
            (joke_chain() | RunnableLambda(lambda s: 1 / 0)).invoke(
                {"topic": "parrot"}, {"callbacks": [collector]}
            )
    assert "".join(streamed) == joke_chain().invoke({"topic": "parrot"})
    assert caplog.records, "the collector's own failure is logged"


def test_the_chains_own_exception_passes_through_unchanged():
    error = ValueError("mine")

    def fail(_):
        raise error

    collector = sv.Collector()
    chain = joke_chain() | RunnableLambda(fail)
    with pytest.raises(ValueError, match="mine") as caught:
        chain.invoke({"topic": "x"}, {"callbacks": [collector]})
    assert caught.value is error
    assert collector.trace.roots[0].status == "error"


# --------------------------------------------------------------------- cancellation
def test_keyboard_interrupt_leaves_runs_cancelled_not_running():
    def interrupt_after_three(stream):
        for index, token in enumerate(stream):
            if index == 3:
                raise KeyboardInterrupt
            yield token

    collector = sv.Collector()
    chain = joke_chain(time_to_first_token=0, token_delay=0.001) | interrupt_after_three
    with pytest.raises(KeyboardInterrupt):
        for _ in collector.stream(chain, {"topic": "parrot"}):
            pass
    statuses = {r.name: r.status for r in collector.trace.runs.values()}
    assert statuses["RunnableSequence"] == "cancelled"
    assert statuses["DemoChatModel"] == "cancelled"
    assert "running" not in statuses.values()


def test_keyboard_interrupt_in_a_capture_block_between_steps():
    chain = joke_chain()
    # The block is the scenario: a consumer interrupted while the chain is suspended mid-stream.
    with pytest.raises(KeyboardInterrupt), sv.capture() as trace:  # noqa: PT012
        stream = chain.stream({"topic": "parrot"})
        for _ in range(3):
            next(stream)
        raise KeyboardInterrupt  # in the consumer, while the chain is suspended mid-stream
    assert trace.runs and all(r.status != "running" for r in trace.runs.values())
    assert trace.roots[0].status == "cancelled"
    assert trace.roots[0].error == "KeyboardInterrupt"
    errors = sum(internal_error_counts().values())
    stream.close()  # LangChain then ends the run as if it had finished; it was cut off
    assert trace.roots[0].status == "cancelled"
    assert trace.roots[0].error.startswith("GeneratorExit: the consumer stopped reading")
    # Closing, LangChain reads the model's stream to its end: those tokens were streamed, and
    # are recorded, with the model's own end after them.
    model_run = next(r for r in trace.runs.values() if r.run_type == "chat_model")
    streamed = [c.content for c in DemoChatModel().stream("tell me a joke about parrot")]
    assert model_run.status == "ok" and model_run.chunk_count == len(streamed)
    assert sum(internal_error_counts().values()) == errors


@pytest.mark.parametrize("how", ["watch", "capture"])
@pytest.mark.parametrize("moment", ["before it is stored", "stored, not applied", "after"])
def test_a_ctrl_c_as_the_root_ends_never_leaves_it_running(monkeypatch, tmp_path, how, moment):
    """A KeyboardInterrupt landing in the middle of recording the root's end (real SIGINTs hit
    these moments about once in a few hundred streams: tests/test_sigint.py): the root ends
    cancelled if its end was not stored, ``ok`` if it was, and the file says the same."""
    real_append, real_apply = EventStore.append, RunTree.apply
    fired = []

    def hit(event):
        if not fired and event["event"] == "on_chain_end" and not event["parent_ids"]:
            fired.append(event)
            return True
        return False

    def append(self, event):
        if moment == "before it is stored" and hit(event):
            raise KeyboardInterrupt
        run = real_append(self, event)
        if moment == "after" and hit(event):
            raise KeyboardInterrupt
        return run

    def apply(self, event):
        if moment == "stored, not applied" and hit(event):
            raise KeyboardInterrupt
        return real_apply(self, event)

    monkeypatch.setattr(EventStore, "append", append)
    monkeypatch.setattr(RunTree, "apply", apply)
    captured = None
    with pytest.raises(KeyboardInterrupt):  # noqa: PT012
        if how == "watch":
            sv.watch(joke_chain(), {"topic": "parrot"}, display=False)
        else:
            with sv.capture() as captured:
                joke_chain().invoke({"topic": "parrot"})
    assert fired
    trace = sv.last_trace() if how == "watch" else captured
    statuses = [run.status for run in trace.runs.values()]
    assert "running" not in statuses
    root = trace.roots[0].run_id
    ends = [e for e in trace.events if e["run_id"] == root and "_start" not in e["event"]]
    if moment == "before it is stored":
        assert trace.roots[0].status == "cancelled"
        assert [e["event"] for e in ends[-1:]] == ["on_chain_error"]
    else:
        assert trace.roots[0].status == "ok"
        assert [e["event"] for e in ends if "_stream" not in e["event"]] == ["on_chain_end"]
    trace.save(tmp_path / "t.jsonl")
    loaded = sv.Trace.load(tmp_path / "t.jsonl")
    assert [run.status for run in loaded.runs.values()] == statuses


def test_cancelling_the_task_marks_runs_cancelled():
    collector = sv.Collector()
    chain = joke_chain(time_to_first_token=0, token_delay=0.01)

    async def main():
        streaming = asyncio.Event()

        async def consume():
            async for _ in collector.astream(chain, {"topic": "parrot"}):
                streaming.set()

        task = asyncio.create_task(consume())
        await streaming.wait()  # cancelled mid-stream: the first chunk is in, the rest is not
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    root = collector.trace.roots[0]
    assert root.status == "cancelled" and root.chunk_count > 0
    assert all(r.status in {"ok", "cancelled"} for r in collector.trace.runs.values())
    assert any(r.status == "cancelled" for r in root.children)


# ----------------------------------------------------------------------- odd payloads
class Awkward:
    """A payload that refuses truth tests, comparisons and even repr."""

    def __bool__(self):
        raise ValueError("ambiguous truth value")

    def __eq__(self, other):
        raise ValueError("no comparisons")

    __hash__ = object.__hash__

    def __repr__(self):
        raise RuntimeError("no repr either")


def test_odd_payloads_and_huge_outputs_are_captured_and_saved(tmp_path, suffix):
    awkward = Awkward()
    huge = "x" * 1_000_000 + "<script>alert(1)</script>\x00\u202e"

    def passthrough(value):
        return value

    collector = sv.Collector()
    step = RunnableLambda(passthrough).with_config(run_name="step")
    assert step.invoke(awkward, {"callbacks": [collector]}) is awkward
    assert step.invoke(huge, {"callbacks": [collector]}) == huge
    runs = list(collector.trace.runs.values())
    assert runs[0].input is awkward and runs[0].output is awkward
    assert runs[1].output == huge
    collector.trace.save(tmp_path / f"odd.{suffix}")
    loaded = sv.Trace.load(tmp_path / f"odd.{suffix}")
    assert loaded.runs[runs[1].run_id].output == huge
    marker = loaded.runs[runs[0].run_id].output
    assert "Awkward" in repr(marker)  # kept as a marked stand-in, not dropped


# ------------------------------------------------------------- token callbacks, run by run
def test_tokens_of_interleaved_runs_go_to_their_own_run_and_none_after_the_end():
    collector = sv.Collector()
    first, second = uuid4(), uuid4()
    for run_id in (first, second):
        collector.on_chat_model_start(None, [[]], run_id=run_id, name=str(run_id))

    def token(run_id, text):
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text, id=f"m-{run_id}"))
        collector.on_llm_new_token(text, chunk=chunk, run_id=run_id)

    for text in ("a", "b"):
        token(first, text)
        token(second, text.upper())
        token(second, text.upper())
    collector.on_llm_end(LLMResult(generations=[]), run_id=first)
    key = "Collector.on_llm_new_token:KeyError"
    reported = internal_error_counts().get(key, 0)
    token(first, "late")  # the run ended: reported, not recorded
    assert internal_error_counts()[key] == reported + 1
    runs = collector.trace.runs
    assert runs[str(first)].chunk_count == 2 and runs[str(second)].chunk_count == 4
    streamed = [
        (e["run_id"], e["data"]["chunk"].content, e["data"]["chunk"].id)
        for e in collector.trace.events
        if e["event"] == "on_chat_model_stream"
    ]
    assert streamed == [
        (str(run_id), text, f"m-{run_id}")
        for text in ("a", "b")
        for run_id, text in ((first, text), (second, text.upper()), (second, text.upper()))
    ]


@pytest.mark.parametrize("example", ["model", "prompt|model|parser", "model|json|function"])
def test_stream_puts_the_callers_input_on_the_root_start_like_astream_events(example):
    runnable, value = EXAMPLES[example]()
    collector = sv.Collector()
    list(collector.stream(runnable, value))

    async def first_event():
        async for event in EXAMPLES[example]()[0].astream_events(value, version="v2"):
            return event

    reference = asyncio.run(first_event())
    start = collector.trace.events[0]
    assert start["event"] == reference["event"]
    assert start["data"] == reference["data"] == {"input": value}


# --------------------------------------------------- run starts kept as records, objects ahead
_START_KEYS = ["event", "name", "run_id", "parent_ids", "tags", "metadata", "data", "t", "seq",
               "thread"]  # fmt: skip


def _without_ids(events):
    ids: dict[str, int] = {}
    out = []
    for event in events:
        event = dict(event)
        event.pop("t")
        event.pop("thread", None)
        event["data"] = list(event["data"])  # its keys: a message's id differs between runs
        event["run_id"] = ids.setdefault(event["run_id"], len(ids))
        event["parent_ids"] = [ids.setdefault(p, len(ids)) for p in event["parent_ids"]]
        out.append(event)
    return out


def test_run_starts_kept_as_records_read_back_as_the_events_a_subscriber_is_given():
    """A run's start is kept as the collector's run info (``EventStore.append_record``); while
    someone subscribes, its dict is appended as before. Both read back the same events, keys in
    the same order, and a start read twice is two equal new dicts."""
    plain = sv.Collector()
    joke_chain().invoke({"topic": "parrot"}, {"callbacks": [plain]})
    watched = sv.Collector()
    given = []
    watched.trace.store.subscribe(given.append)
    joke_chain().invoke({"topic": "parrot"}, {"callbacks": [watched]})
    assert watched.trace.events == given
    events = plain.trace.events
    assert [list(e) for e in events] == [list(e) for e in given]
    assert _without_ids(e for e in events if e["event"].endswith("_start")) == _without_ids(
        e for e in given if e["event"].endswith("_start")
    )
    starts = [seq for seq, e in enumerate(events) if e["event"].endswith("_start")]
    assert len(starts) == 4 and len(plain.trace.store._dicts) > 4
    for seq in starts:
        first, again = plain.trace.store.event(seq), plain.trace.store.event(seq)
        assert list(first) == _START_KEYS and first == again and first is not again
        assert first["seq"] == seq and type(first["t"]) is float
        assert first["thread"] == threading.get_ident()
        run = plain.trace.runs[first["run_id"]]
        assert run.start == first["t"] and run.status == "ok"
        first["data"]["changed"] = "by a reader"
        assert "changed" not in plain.trace.store.event(seq)["data"]  # the trace is unchanged
    root_start = events[starts[0]]
    assert root_start["data"] == {"input": {"topic": "parrot"}} and not root_start["parent_ids"]


def test_a_model_calls_start_makes_few_objects_the_garbage_collector_counts():
    """What the collector keeps for a run (its info, parent ids, tags and metadata copies, the
    run, a model's input and writer) is mostly made ahead, as the previous run ended: an agent's
    model call then moves the young generation's count at its start about as a handler that keeps
    nothing does (it was moved by ~25, which made a young collection come in most calls' end:
    see docs/benchmarks.md and bench/gc_calls.py)."""
    import gc

    from langchain_core.messages import HumanMessage

    collector = sv.Collector()
    root = uuid4()
    node_meta = {"langgraph_node": "agent", "langgraph_step": 1}
    collector.on_chain_start(None, {"step": 0}, run_id=root, name="graph")
    messages = [[HumanMessage("hi")]]
    output = LLMResult(generations=[[ChatGenerationChunk(message=AIMessageChunk(content="a"))]])

    def step(number):
        node, call = uuid4(), uuid4()
        chunk = ChatGenerationChunk(message=AIMessageChunk(content="a", id=f"run-{number}"))
        counts = [gc.get_count()[0]]
        collector.on_chain_start(
            None, {"step": number}, run_id=node, parent_run_id=root, name="agent",
            tags=[f"graph:step:{number}"], metadata=node_meta,
        )  # fmt: skip
        collector.on_chat_model_start(
            {"name": "model"}, messages, run_id=call, parent_run_id=node, tags=["seq:step:1"],
            metadata=node_meta,
        )  # fmt: skip
        collector.on_llm_new_token("a", chunk=chunk, run_id=call)
        counts.append(gc.get_count()[0])
        collector.on_llm_end(output, run_id=call)
        collector.on_chain_end({"step": number + 1}, run_id=node)
        return node, call, counts[1] - counts[0]

    step(1)  # the previous step (and what a store makes once, for all its writers)
    gc.collect()
    gc.disable()
    try:
        node, call, made = step(2)
    finally:
        gc.enable()
    assert made <= 8, made
    assert [e["event"] for e in collector.trace.events][-5:] == [
        "on_chain_start", "on_chat_model_start", "on_chat_model_stream", "on_chat_model_end",
        "on_chain_end",
    ]  # fmt: skip
    model_run = collector.trace.runs[str(call)]
    assert model_run.parent is collector.trace.runs[str(node)] and model_run.chunk_count == 1
    assert model_run.status == "ok" and model_run.output == AIMessageChunk(content="a")
    assert model_run.tags == ["seq:step:1"] and model_run.metadata == node_meta
    assert model_run.metadata is not node_meta  # a copy, as before
    assert model_run.input == {"messages": messages}
    starts = [e for e in collector.trace.events if e["event"] == "on_chain_start"]
    assert starts[1]["parent_ids"] == starts[2]["parent_ids"] == [str(root)]
    assert starts[1]["parent_ids"] is not starts[2]["parent_ids"]  # each run its own list
    assert starts[1]["tags"] == ["graph:step:1"] and starts[2]["tags"] == ["graph:step:2"]
    assert starts[2]["data"] == {"input": {"step": 2}}


@pytest.mark.parametrize("moment", ["before it is stored", "stored, not applied", "after"])
def test_a_ctrl_c_as_a_model_starts_never_leaves_it_running(monkeypatch, tmp_path, moment):
    """A KeyboardInterrupt in the middle of recording a run's start, now kept as a record: the
    start is kept before it is applied, and the runs left open are closed, as for the ends."""
    real_append, real_apply = EventStore.append_record, RunTree.apply
    fired = []

    def hit(kind):
        if not fired and kind == "on_chat_model_start":
            fired.append(kind)
            return True
        return False

    def append_record(self, record):
        if moment == "before it is stored" and hit(record.as_event()["event"]):
            raise KeyboardInterrupt
        run = real_append(self, record)
        if moment == "after" and hit(record.as_event()["event"]):
            raise KeyboardInterrupt
        return run

    def apply(self, event):
        if moment == "stored, not applied" and hit(event["event"]):
            raise KeyboardInterrupt
        return real_apply(self, event)

    monkeypatch.setattr(EventStore, "append_record", append_record)
    monkeypatch.setattr(RunTree, "apply", apply)
    with pytest.raises(KeyboardInterrupt), sv.capture() as trace:
        joke_chain().invoke({"topic": "parrot"})
    assert fired
    statuses = {run.run_type: run.status for run in trace.runs.values()}
    assert "running" not in statuses.values()
    model_starts = [e for e in trace.events if e["event"] == "on_chat_model_start"]
    if moment == "before it is stored":
        assert not model_starts and "chat_model" not in statuses
    else:
        assert len(model_starts) == 1 and statuses["chat_model"] == "cancelled"
    assert trace.roots[0].status == "cancelled"
    trace.save(tmp_path / "t.jsonl")
    loaded = sv.Trace.load(tmp_path / "t.jsonl")
    assert [run.status for run in loaded.runs.values()] == list(statuses.values())
    assert [(e["event"], e["seq"], e["t"]) for e in loaded.events] == [
        (e["event"], e["seq"], e["t"]) for e in trace.events
    ]

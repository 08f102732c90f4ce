"""Token usage and cost per run, rolled up the tree; detached runs flagged.

Models are real langchain-core chat models: the demo models (their ``usage=`` modes are the
ways providers report usage) and, for a provider the demo does not imitate, a small
``BaseChatModel`` streaming exactly the chunks such a provider sends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool

import streamviz as sv
from streamviz.demo import DemoChatModel, DemoLLM
from streamviz.usage import Price

QUESTION = "why is the sky blue?"


@pytest.fixture(autouse=True)
def no_prices():
    """Each test starts (and leaves) with no price table set."""
    sv.prices({})
    yield
    sv.prices({})


def model(**options: Any) -> DemoChatModel:
    return DemoChatModel(time_to_first_token=0, token_delay=0, **options)


def streamed(runnable: Any, value: Any = QUESTION) -> sv.Trace:
    with sv.capture() as trace:
        for _ in runnable.stream(value):
            pass
    return trace


def expected(runnable: Any = None) -> dict[str, int]:
    """What the demo model itself says it used (its non-streamed answer's usage_metadata)."""
    message = (runnable or model()).invoke(QUESTION)
    usage = message.usage_metadata
    return {"input": usage["input_tokens"], "output": usage["output_tokens"]}


def counts(usage: sv.Usage) -> dict[str, int]:
    return {"input": usage.input, "output": usage.output}


def model_run(trace: sv.Trace) -> sv.Run:
    (run,) = [run for run in trace.runs.values() if run.run_type in ("chat_model", "llm")]
    return run


# ------------------------------------------------------------------------- usage sources
def test_usage_on_the_last_chunk_only_is_counted_once():
    trace = streamed(model(usage="last"))
    run = model_run(trace)
    assert run.chunk_count > 1  # it streamed
    total = trace.usage_total()
    assert counts(total) == expected() and total.total == total.input + total.output
    # the final message is the stream merged: it holds the same usage, and is not added again
    assert run.output.usage_metadata["output_tokens"] == total.output
    (row,) = trace.usage().itertuples()
    assert (row.source, row.model, row.calls) == ("stream", "demo-chat", 1)


def test_a_provider_repeating_its_running_total_on_every_chunk_is_not_double_counted():
    trace = streamed(model(usage="every"))
    run = model_run(trace)
    truth = expected()
    # LangChain's merged message adds every chunk's running total: the known double count
    assert run.output.usage_metadata["output_tokens"] > truth["output"]
    assert counts(trace.usage_total()) == truth
    assert trace.usage()["source"].tolist() == ["stream (cumulative)"]


def test_a_model_whose_streamed_chunks_have_no_usage_is_counted_from_its_final_message():
    trace = streamed(model(usage="end"))
    run = model_run(trace)
    assert run.chunk_count > 1  # tokens streamed through callbacks, none with usage
    assert counts(trace.usage_total()) == expected()
    assert trace.usage()["source"].tolist() == ["message"]


def test_a_legacy_llms_token_usage_comes_from_llm_output():
    llm = DemoLLM(time_to_first_token=0, token_delay=0)
    with sv.capture() as trace:
        answer = llm.invoke(QUESTION)
    total = trace.usage_total()
    assert total.input > 0 and total.output > 0 and total.total == total.input + total.output
    (row,) = trace.usage().itertuples()
    assert (row.source, row.model, row.output_tokens) == ("llm_output", "demo-llm", total.output)
    assert answer  # the program's result is untouched


def test_a_model_that_reports_no_usage_has_none_and_no_cost():
    sv.prices({"demo-chat": (1.0, 2.0)})
    trace = streamed(model(usage="none"))
    assert trace.usage().empty
    total = trace.usage_total()
    assert (total.calls, total.input, total.cost) == (0, 0, None)
    frame = trace.runs_df()
    assert frame["input_tokens"].isna().all() and frame["cost"].isna().all()


class SplitUsageModel(BaseChatModel):
    """Streams like Anthropic: input tokens on the first chunk, output tokens on the last."""

    @property
    def _llm_type(self) -> str:
        return "split-usage"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kw):
        usage = {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
        message = AIMessage(content="a b c", usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages, stop=None, run_manager=None, **kw) -> Iterator[ChatGenerationChunk]:
        first = {"input_tokens": 12, "output_tokens": 0, "total_tokens": 12}
        last = {"input_tokens": 0, "output_tokens": 3, "total_tokens": 3}
        pieces = [("a", first), (" b", None), (" c", None), ("", last)]
        for text, usage in pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text, usage_metadata=usage))
            if run_manager:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk


def test_usage_reported_in_parts_is_added_up():
    trace = streamed(SplitUsageModel())
    total = trace.usage_total()
    assert (total.input, total.output, total.total) == (12, 3, 15)
    assert trace.usage()["source"].tolist() == ["stream"]


def test_cache_and_reasoning_details_are_counted():
    trace = streamed(model(cache_read_tokens=2, reasoning_tokens=3))
    total = trace.usage_total()
    assert (total.cache_read, total.reasoning, total.cache_creation) == (2, 3, 0)
    (row,) = trace.usage().itertuples()
    assert (row.cache_read_tokens, row.reasoning_tokens) == (2, 3)


# -------------------------------------------------------------------------------- roll-up
def two_model_chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    return RunnableParallel(
        short=prompt | model(model_name="small"), long=prompt | model(model_name="big")
    )


def test_usage_rolls_up_to_every_ancestor_and_the_trace():
    trace = streamed(two_model_chain(), {"q": QUESTION})
    frame = trace.usage().set_index("name")
    small = frame[frame["model"] == "small"].iloc[0]
    big = frame[frame["model"] == "big"].iloc[0]
    root = trace.roots[0]
    root_row = frame.loc[root.name]
    assert root_row["input_tokens"] == small["input_tokens"] + big["input_tokens"]
    assert root_row["output_tokens"] == small["output_tokens"] + big["output_tokens"]
    assert root_row["calls"] == 2
    # each branch (a sequence) carries its model's usage
    sequences = frame[frame["run_type"] == "chain"].drop(index=root.name, errors="ignore")
    assert sorted(sequences["output_tokens"].tolist()) == sorted(
        [small["output_tokens"], big["output_tokens"]]
    )
    total = trace.usage_total()
    assert (total.input, total.output) == (root_row["input_tokens"], root_row["output_tokens"])
    assert total.models == ["small", "big"] or total.models == ["big", "small"]
    # runs_df: the same numbers, NA where a run has no model below it
    runs = trace.runs_df().set_index("run_id")
    assert runs.loc[root.run_id, "total_tokens"] == total.total
    prompts = runs[runs["run_type"] == "prompt"]
    assert prompts["total_tokens"].isna().all()


# ---------------------------------------------------------------------------------- costs
def test_cost_comes_from_the_price_table_with_cache_reads_at_their_price():
    sv.prices({"demo-chat": {"input": 3.0, "output": 15.0, "cache_read": 0.3}})
    trace = streamed(model(cache_read_tokens=2))
    total = trace.usage_total()
    paid = ((total.input - 2) * 3.0 + 2 * 0.3 + total.output * 15.0) / 1e6
    assert total.cost == pytest.approx(paid) and total.cost_known
    assert trace.usage()["cost"].iloc[0] == pytest.approx(paid)
    # a parameter overrides the table set
    other = trace.usage_total(prices={"demo-chat": (1.0, 1.0)})
    assert other.cost == pytest.approx((total.input + total.output) / 1e6)


def test_a_model_without_a_price_has_no_cost_and_is_never_guessed():
    sv.prices({"big": (1.0, 2.0), "small-2024": (9.0, 9.0)})  # no exact "small"
    trace = streamed(two_model_chain(), {"q": QUESTION})
    frame = trace.usage()
    small = frame[frame["model"] == "small"].iloc[0]
    big = frame[frame["model"] == "big"].iloc[0]
    assert pd.isna(small["cost"]) and small["unpriced"] == 1
    assert big["cost"] == pytest.approx((big["input_tokens"] + 2 * big["output_tokens"]) / 1e6)
    total = trace.usage_total()
    assert total.cost == pytest.approx(big["cost"]) and total.unpriced == 1
    assert not total.cost_known
    tree = trace.format_tree()
    assert "+ unknown" in tree.splitlines()[0]  # the root: a known part and an unknown part
    assert "cost unknown" in tree  # the unpriced model's own line


def test_price_tables_are_checked_and_can_be_cleared():
    table = sv.prices({"m": (1, 2, 0.5)})
    assert table["m"] == Price(1.0, 2.0, 0.5)
    assert set(sv.prices()) == {"m"}
    for bad in ({"m": (1,)}, {"m": {"input": 1}}, {"m": {"input": -1, "output": 1}}, ["m"]):
        with pytest.raises(ValueError, match="price"):
            sv.prices(bad)  # type: ignore[arg-type]
    assert set(sv.prices()) == {"m"}  # a bad table changes nothing
    sv.prices({})
    assert sv.prices() == {}


def test_without_a_price_table_the_tree_shows_tokens_and_no_cost():
    trace = streamed(model())
    line = trace.format_tree().splitlines()[0]
    assert "in ·" in line and "out tokens" in line
    assert "$" not in line and "unknown" not in line


# --------------------------------------------------------------------- files and servers
def test_usage_is_the_same_on_a_loaded_trace_file(tmp_path, suffix):
    sv.prices({"small": (1.0, 2.0), "big": (3.0, 4.0)})
    trace = streamed(two_model_chain(), {"q": QUESTION})
    path = tmp_path / f"trace.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    pd.testing.assert_frame_equal(loaded.usage(), trace.usage())
    assert loaded.usage_total() == trace.usage_total()
    columns = ["run_id", "input_tokens", "cost", "detached_from"]
    pd.testing.assert_frame_equal(loaded.runs_df()[columns], trace.runs_df()[columns])


def test_usage_of_server_shaped_events_with_message_dicts():
    """A LangGraph server sends message chunks as JSON dicts; a cumulative one is caught too."""
    run = {"run_id": "m", "name": "ChatModel", "parent_ids": [], "tags": [], "metadata": {}}
    usage = [{"input_tokens": 5, "output_tokens": n, "total_tokens": 5 + n} for n in (1, 2, 3)]
    events = [{**run, "event": "on_chat_model_start", "data": {"input": "hi"}, "t": 0.0}]
    for index, item in enumerate(usage):
        chunk = {"type": "AIMessageChunk", "content": "x", "usage_metadata": item,
                 "response_metadata": {"model_name": "served"}}  # fmt: skip
        events.append({**run, "event": "on_chat_model_stream", "data": {"chunk": chunk},
                       "t": 0.1 * (index + 1)})  # fmt: skip
    events.append({**run, "event": "on_chat_model_end", "t": 1.0,
                   "data": {"output": {"content": "xxx", "usage_metadata": {
                       "input_tokens": 15, "output_tokens": 6, "total_tokens": 21}}}})  # fmt: skip
    for seq, event in enumerate(events):
        event["seq"] = seq
    trace = sv.Trace.from_events(events)
    total = trace.usage_total(prices={"served": (1.0, 1.0)})
    assert (total.input, total.output, total.total) == (5, 3, 8)
    assert total.models == ["served"] and total.cost == pytest.approx(8 / 1e6)


def test_an_unreadable_usage_costs_its_usage_and_nothing_else(caplog):
    run = {"run_id": "m", "name": "ChatModel", "parent_ids": [], "tags": [], "metadata": {}}
    odd = {"content": "x", "usage_metadata": {"input_tokens": "many", "output_tokens": None}}
    events = [
        {**run, "event": "on_chat_model_start", "data": {"input": "hi"}, "t": 0.0},
        {**run, "event": "on_chat_model_stream", "data": {"chunk": odd}, "t": 0.1},
        {**run, "event": "on_chat_model_stream", "data": {"chunk": object()}, "t": 0.2},
        {**run, "event": "on_chat_model_end", "data": {"output": 42}, "t": 0.3},
    ]
    for seq, event in enumerate(events):
        event["seq"] = seq
    trace = sv.Trace.from_events(events)
    total = trace.usage_total()
    assert (total.input, total.output) == (0, 0)
    assert len(trace.events) == 4 and trace.runs_df()["status"].tolist() == ["ok"]


# -------------------------------------------------------------------------- detached runs
reverse_word = RunnableLambda(lambda word: word[::-1], name="reverse_word")


def test_notebook_06_thread_pool_run_is_flagged_detached_with_its_likely_parent_and_fix():
    pool = ThreadPoolExecutor(max_workers=1)

    @tool
    def bad_thread_tool(word: str) -> str:
        """Reverses the word in a worker thread, passing nothing on."""
        return pool.submit(reverse_word.invoke, word).result()

    @tool
    def correct_thread_tool(word: str, callbacks) -> str:
        """Reverses the word in a worker thread, passing the callbacks on."""
        return pool.submit(reverse_word.invoke, word, {"callbacks": callbacks}).result()

    with sv.capture(threads=True) as trace:
        assert bad_thread_tool.invoke("hello") == "olleh"
        assert correct_thread_tool.invoke("hello") == "olleh"
    pool.shutdown()
    names = [(run.name, run.parent_id is None) for run in trace.runs.values()]
    assert names.count(("reverse_word", True)) == 1  # the lost one: recorded, as a root
    (lost,) = [run for run in trace.roots if run.name == "reverse_word"]
    bad = next(run for run in trace.roots if run.name == "bad_thread_tool")
    flags = trace.detached_runs()
    assert list(flags) == [lost.run_id]
    assert flags[lost.run_id].likely_parent == bad.run_id
    assert "config" in flags[lost.run_id].fix and "RunnableConfig" in flags[lost.run_id].fix
    frame = trace.runs_df().set_index("run_id")
    assert frame.loc[lost.run_id, "detached_from"] == bad.run_id
    assert frame["detached_from"].notna().sum() == 1
    line = next(line for line in trace.format_tree().splitlines() if "possibly detached" in line)
    assert "reverse_word" in line and "bad_thread_tool" in line and "config" in line


def test_without_threads_capture_the_pool_run_is_not_seen_at_all():
    pool = ThreadPoolExecutor(max_workers=1)
    with sv.capture() as trace:
        pool.submit(reverse_word.invoke, "hi").result()
    pool.shutdown()
    assert len(trace.runs) == 0


def test_roots_run_one_after_the_other_are_not_flagged():
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model()
    with sv.capture(threads=True) as trace:
        chain.invoke({"q": QUESTION})
        chain.invoke({"q": "hello"})
    assert len(trace.roots) == 2
    assert trace.detached_runs() == {}
    assert trace.runs_df()["detached_from"].isna().all()


def test_independent_roots_running_side_by_side_in_threads_are_not_flagged():
    collector = sv.Collector()
    slow = DemoChatModel(time_to_first_token=0.02, token_delay=0.01)
    short = DemoChatModel(time_to_first_token=0.02, token_delay=0.01)
    barrier = threading.Barrier(2)

    def ask(chat: DemoChatModel, question: str) -> None:
        barrier.wait()
        for _ in chat.stream(question, {"callbacks": [collector]}):
            pass

    threads = [
        threading.Thread(target=ask, args=(slow, "tell me about countries")),
        threading.Thread(target=ask, args=(short, "hello")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    trace = collector.trace
    assert len(trace.roots) == 2 and {run.status for run in trace.roots} == {"ok"}
    assert trace.detached_runs() == {}


def test_a_detached_run_in_a_loaded_file_is_still_flagged(tmp_path):
    pool = ThreadPoolExecutor(max_workers=1)
    work = RunnableLambda(lambda word: pool.submit(reverse_word.invoke, word).result())
    with sv.capture(threads=True) as trace:
        work.invoke("abc")
    pool.shutdown()
    path = tmp_path / "t.jsonl"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert list(loaded.detached_runs()) == list(trace.detached_runs()) != []


# ------------------------------------------------------------------------- the widget's rows
def test_the_widget_rows_carry_usage_live_and_the_detached_flag():
    from streamviz.widgets._encode import TraceEncoder

    sv.prices({"demo-chat": (1.0, 2.0)})
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model()
    with sv.capture() as trace:
        encoder = TraceEncoder(trace)
        stream = chain.stream({"q": QUESTION})
        next(stream)
        rows = {row["name"]: row for row in encoder.snapshot()["runs"]}
        assert rows["DemoChatModel"]["usage"] is None  # its usage comes on its last chunk
        for _ in stream:
            pass
        delta = encoder.delta()
    sent = {row["name"]: row for row in delta["runs"]}
    total = trace.usage_total()
    for name in ("RunnableSequence", "DemoChatModel"):  # the model and the run above it
        usage = sent[name]["usage"]
        assert (usage["in"], usage["out"], usage["total"]) == (
            total.input,
            total.output,
            total.total,
        )
        assert usage["cost"] == pytest.approx(total.cost) and usage["priced"] is True
    assert sent["DemoChatModel"]["usage"]["model"] == "demo-chat"
    assert sent["RunnableSequence"]["detached"] is None


def test_the_widget_rolls_usage_up_as_each_model_reports_it():
    """Read window by window (a live page), the rows end with the trace's own figures."""
    from streamviz.widgets._encode import TraceEncoder

    sv.prices({"small": (1.0, 2.0)})
    with sv.capture() as trace:
        encoder = TraceEncoder(trace)
        rows: dict[str, dict] = {}
        for _ in two_model_chain().stream({"q": QUESTION}):
            delta = encoder.delta()
            rows.update({row["id"]: row for row in (delta or {"runs": []})["runs"]})
    rows.update({row["id"]: row for row in (encoder.delta() or {"runs": []})["runs"]})
    expected = trace.usage().set_index("run_id")
    assert {run_id for run_id, row in rows.items() if row["usage"]} == set(expected.index)
    for run_id, row in expected.iterrows():
        usage = rows[run_id]["usage"]
        assert (usage["in"], usage["out"], usage["calls"]) == (
            row["input_tokens"],
            row["output_tokens"],
            row["calls"],
        )
        assert usage["unpriced"] == row["unpriced"]
        assert (usage["cost"] is None) == pd.isna(row["cost"])


def test_the_widget_flags_a_detached_root_with_its_likely_parent():
    from streamviz.widgets._encode import TraceEncoder

    pool = ThreadPoolExecutor(max_workers=1)
    work = RunnableLambda(lambda word: pool.submit(reverse_word.invoke, word).result(), name="work")
    with sv.capture(threads=True) as trace:
        work.invoke("abc")
    pool.shutdown()
    rows = TraceEncoder(trace).snapshot()["runs"]
    (lost,) = [row for row in rows if row["name"] == "reverse_word"]
    (parent,) = [row for row in rows if row["name"] == "work"]
    assert lost["detached"]["parent"] == parent["i"] and lost["detached"]["name"] == "work"
    assert lost["detached"]["text"] == "possibly detached: callbacks not propagated"
    assert parent["detached"] is None


# ------------------------------------------------------------------------------ on a server
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from helpers import missing
    from langgraph_server import LangGraphServer

    from streamviz.demo.server import cli_path

    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("usage") / "app", name="usage")
    try:
        yield server
    finally:
        server.stop()


def test_a_server_runs_usage_is_the_same_as_in_process(server):
    from langgraph_sdk import get_sync_client

    from streamviz.demo.graphs import build_model_graph

    remote = sv.watch_remote(
        get_sync_client(url=server.url),
        None,
        "model_fast",
        input={"topic": "cats"},
        stream_mode=["events"],
        display=False,
    )
    local = sv.watch(
        build_model_graph(time_to_first_token=0, token_delay=0),
        {"topic": "cats"},
        stream_mode=["events"],
        display=False,
    )
    total = remote.usage_total(prices={"demo-chat": (1.0, 2.0)})
    assert total.calls >= 1 and total.total > 0
    assert counts(total) == counts(local.usage_total()) and total.models == ["demo-chat"]
    assert remote.usage()["source"].tolist() == local.usage()["source"].tolist()

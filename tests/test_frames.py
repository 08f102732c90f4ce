"""``events_df`` gives, cell for cell, the frame one would build reading the events one by one.

The frame is built per kind of row from the store's columns (token messages copied from a
prototype per run, the rows that repeat a chunk sharing it); here each frame is checked against a
frame built from ``trace.events`` (every event built anew) on real chains and graphs: every
column, every row, the type of every object at every level of the ``payload`` and ``data``
cells (an ``AIMessageChunk`` with the same fields set), on token streams, tool calls, errors,
filtered views and traces loaded from files.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import pandas as pd
import pytest
from helpers import need_pyarrow
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableGenerator
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import fanout_graph, tool_agent_graph
from streamviz.events import split_event
from streamviz.filters import event_type

PHASES = ["start", "stream", "end", "error"]


# ---------------------------------------------------------------------------- the traces
def chain_trace(tokens: int = 200) -> sv.Trace:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    collector = sv.Collector(name="chain")
    for _ in collector.stream(
        prompt | DemoChatModel.for_benchmark(tokens) | StrOutputParser(), {"topic": "parrot"}
    ):
        pass
    return collector.trace


class TwoCalls(TypedDict):
    text: str


def two_model_graph() -> Any:
    """Two nodes, each calling its own model: the same words (often the same text objects),
    two message ids."""
    graph = StateGraph(TwoCalls)
    for name, tokens in (("first", 120), ("second", 80)):
        model = DemoChatModel.for_benchmark(tokens)

        def call(state: TwoCalls, model: DemoChatModel = model) -> dict[str, str]:
            return {"text": state["text"] + model.invoke("go").content}

        graph.add_node(name, call)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    graph.add_edge("second", END)
    return graph.compile(name="two calls")


def graph_trace() -> sv.Trace:
    return sv.watch(
        two_model_graph(), {"text": ""}, display=False, stream_mode=["updates", "messages"]
    )


def tool_call_trace() -> sv.Trace:
    question = {"messages": [("user", "weather in Paris and time in Tokyo?")]}
    return sv.watch(tool_agent_graph, question, display=False, stream_mode=["messages", "updates"])


def error_trace() -> sv.Trace:
    """A chain whose last step fails after three of the model's tokens."""

    def explode(chunks: Iterator[str]) -> Iterator[str]:
        for n, chunk in enumerate(chunks):
            if n == 3:
                raise ValueError("exploded on purpose")
            yield chunk

    chain = DemoChatModel.for_benchmark(20) | StrOutputParser() | RunnableGenerator(explode)
    collector = sv.Collector(name="error")
    with pytest.raises(ValueError, match="exploded on purpose"):
        for _ in collector.stream(chain, "hi"):
            pass
    return collector.trace


def fanout_trace() -> sv.Trace:
    return sv.watch(
        fanout_graph,
        {"subjects": ["a", "b", "c"]},
        display=False,
        stream_mode=["custom", "updates"],
        subgraphs=True,
    )


TRACES: dict[str, Callable[[], sv.Trace]] = {
    "chain": chain_trace,
    "graph": graph_trace,
    "tool calls": tool_call_trace,
    "error": error_trace,
    "fanout": fanout_trace,
}


# -------------------------------------------------------------- the event-by-event frame
def same(a: Any, b: Any) -> bool:
    """Equal, with the same type at every level (and a model's same fields set)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, BaseModel):
        return (
            same(a.__dict__, b.__dict__)
            and a.__pydantic_fields_set__ == b.__pydantic_fields_set__
            and a.__pydantic_extra__ == b.__pydantic_extra__
            and a.__pydantic_private__ == b.__pydantic_private__
        )
    if type(a) is dict:
        return list(a) == list(b) and all(same(value, b[key]) for key, value in a.items())
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


def payload_of(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    for key in ("chunk", "output", "error", "input"):
        if key in data:
            return data[key]
    return None


def frame_one_by_one(trace: sv.Trace) -> pd.DataFrame:
    """The documented columns of ``events_df`` from ``trace.events``, one event at a time."""
    runs = trace.runs
    rows = []
    for event in trace.events:
        split = split_event(event["event"])
        run = runs.get(event.get("run_id"))
        parents = event["parent_ids"]
        rows.append(
            {
                "seq": event["seq"],
                "t": event["t"],
                "event": event["event"],
                "phase": split[1] if split else None,
                "run_type": event_type(event),
                "name": event["name"],
                "run_id": event["run_id"],
                "parent_id": parents[-1] if parents else None,
                "depth": len(parents),
                "path": " / ".join(run.path) if run is not None else event["name"],
                "tags": list(event["tags"]),
                "thread": event.get("thread"),
                "payload": payload_of(event["data"]),
                "data": event["data"],
            }
        )
    return pd.DataFrame(
        {
            "seq": pd.array([row["seq"] for row in rows], dtype="int64"),
            "t": pd.array([row["t"] for row in rows], dtype="float64"),
            "event": pd.array([row["event"] for row in rows], dtype="string"),
            "phase": pd.Categorical([row["phase"] for row in rows], categories=PHASES),
            "run_type": pd.array([row["run_type"] for row in rows], dtype="string"),
            "name": pd.array([row["name"] for row in rows], dtype="string"),
            "run_id": pd.array([row["run_id"] for row in rows], dtype="string"),
            "parent_id": pd.array([row["parent_id"] for row in rows], dtype="string"),
            "depth": pd.array([row["depth"] for row in rows], dtype="int64"),
            "path": pd.array([row["path"] for row in rows], dtype="string"),
            "tags": pd.Series([row["tags"] for row in rows], dtype="object"),
            "thread": pd.array([row["thread"] for row in rows], dtype="Int64"),
            "payload": pd.Series([row["payload"] for row in rows], dtype="object"),
            "data": pd.Series([row["data"] for row in rows], dtype="object"),
        }
    )


def token_text(payload: Any) -> str | None:
    """The text of a streamed token: a text chunk, a message chunk's, a messages part's."""
    if isinstance(payload, (tuple, list)) and len(payload) == 2:
        payload = payload[0]
    if isinstance(payload, str):
        return str(payload)
    content = payload.get("content") if isinstance(payload, dict) else None
    if isinstance(payload, AIMessageChunk):
        content = payload.content
    return content if isinstance(content, str) else None


def assert_frame_is_the_event_by_event_one(trace: sv.Trace) -> pd.DataFrame:
    frame = trace.events_df()
    expected = frame_one_by_one(trace)
    assert list(frame.columns) == [*expected.columns[:12], "text", "payload", "data"]
    for column in expected.columns:
        assert frame[column].dtype == expected[column].dtype, column
        if column in ("payload", "data"):
            continue
        got, want = frame[column].tolist(), expected[column].tolist()
        assert [None if value is pd.NA else value for value in got] == [
            None if value is pd.NA else value for value in want
        ], column
    for n, (got, want) in enumerate(zip(frame["payload"], expected["payload"], strict=True)):
        assert same(got, want), (n, got, want)
    for n, (got, want) in enumerate(zip(frame["data"], expected["data"], strict=True)):
        assert same(got, want), (n, got, want)
    # text: each token's own text where the store kept the token as text, nothing elsewhere
    streamed = frame["phase"].eq("stream").fillna(False) | frame["event"].str.endswith("messages")
    for n, text in enumerate(frame["text"]):
        if text is pd.NA:
            continue
        assert streamed[n] and text == token_text(frame["payload"][n]), n
    return frame


# --------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("kind", TRACES)
def test_events_df_is_the_frame_read_event_by_event(kind):
    frame = assert_frame_is_the_event_by_event_one(TRACES[kind]())
    assert len(frame) > 0


def test_token_messages_are_aimessagechunks_with_the_fields_set_of_the_captured_ones():
    trace = graph_trace()
    frame = assert_frame_is_the_event_by_event_one(trace)
    tokens = frame[frame["event"] == "on_chat_model_stream"]
    message = tokens["payload"].iloc[5]
    assert type(message) is AIMessageChunk and message.content == tokens["text"].iloc[5]
    captured = trace.events[int(tokens.index[5])]["data"]["chunk"]
    assert (
        message.model_fields_set == captured.model_fields_set
        and "content" in captured.model_fields_set
    )
    assert message.id.startswith("lc_run--")


def test_a_messages_part_and_its_model_stream_event_carry_one_message_as_captured():
    frame = graph_trace().events_df()
    models = frame[frame["event"] == "on_chat_model_stream"]["payload"].tolist()
    parts = [part for part, _ in frame[frame["event"] == "on_graph_messages"]["payload"]]
    assert len(parts) == len(models) == 120 + 1 + 80 + 1
    assert all(part is model for part, model in zip(parts, models, strict=True))
    # each message has containers of its own: changing one changes no other cell
    parts[0].additional_kwargs["note"] = "mine"
    parts[0].tool_calls.append({"name": "x", "args": {}, "id": "1", "type": "tool_call"})
    assert all(not message.additional_kwargs for message in models[1:])
    assert all(not message.tool_calls for message in models[1:])
    assert len({id(message.tool_call_chunks) for message in models}) == len(models)


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
@pytest.mark.parametrize("kind", ["chain", "graph", "tool calls", "error"])
def test_events_df_of_a_loaded_trace_is_its_event_by_event_frame(tmp_path, kind, suffix):
    if suffix != "jsonl":
        need_pyarrow()
    path = tmp_path / f"t.{suffix}"
    TRACES[kind]().save(path)
    assert_frame_is_the_event_by_event_one(sv.Trace.load(path))


def test_events_df_of_a_filtered_view_whose_repeats_lost_their_first_row():
    # The sequence re-streams its parser's chunks (one object, kept once); without the parser
    # the sequence's rows still read their own chunk.
    trace = chain_trace(50)
    view = trace.filter(exclude_types=["parser"])
    frame = assert_frame_is_the_event_by_event_one(view)
    sequence = frame[(frame["phase"] == "stream") & (frame["run_type"] == "chain")]
    assert len(sequence) == 51 and "".join(sequence["payload"]) == "".join(sequence["text"])


def test_events_df_leaves_the_garbage_collector_as_it_found_it():
    trace = chain_trace(30)
    assert gc.isenabled()
    gc.disable()
    try:
        trace.events_df()
        assert not gc.isenabled()
    finally:
        gc.enable()
    trace.events_df()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    # someone froze objects (a server before it forks): they stay frozen
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        frame = trace.events_df()
        assert gc.get_freeze_count() == frozen and gc.isenabled()
        assert len(frame) == len(trace)
    finally:
        gc.unfreeze()


def test_the_frames_objects_join_the_old_generation_at_once():
    # A frame is kept: its million objects are not walked as young ones first (the collector
    # would spend ~1 us per event finding them alive), but wait in the oldest generation.
    trace = chain_trace(30)
    gc.collect()
    frame = trace.events_df()
    message = frame["payload"][frame["event"] == "on_chat_model_stream"].iloc[3]
    assert type(message) is AIMessageChunk
    assert any(item is message for item in gc.get_objects(generation=2))


class Text(TypedDict):
    text: str


def repeated_tokens_trace(calls: int = 1) -> sv.Trace:
    """A graph whose models stream the same text objects again and again: a space and one-letter
    words (Python keeps one object per one-letter string), each token its own message."""
    graph = StateGraph(Text)
    names = ["first", "second", "third"][:calls]
    for name in names:
        model = GenericFakeChatModel(
            messages=itertools.cycle([AIMessage(content="a b a b c a")])
        ).with_config(run_name=f"{name} model")

        def call(state: Text, model: Any = model) -> dict[str, str]:
            return {"text": state["text"] + str(model.invoke("go").content)}

        graph.add_node(name, call)
    for before, after in zip([START, *names], [*names, END], strict=True):
        graph.add_edge(before, after)
    return sv.watch(
        graph.compile(), {"text": ""}, display=False, stream_mode=["updates", "messages"]
    )


def test_tokens_with_the_same_text_object_keep_a_message_each_as_captured():
    # Each token is its own message, carried by its model stream event and by its messages part
    # (one object, as captured); a repeated text ("a", " ") gave every token of that text one
    # shared message, so changing one token's message changed the others'.
    trace = repeated_tokens_trace()
    captured = [e["data"]["chunk"] for e in trace.events if e["event"] == "on_chat_model_stream"]
    assert [message.content for message in captured[:4]] == ["a", " ", "b", " "]
    assert captured[1].content is captured[3].content  # the same text object, twice
    frame = assert_frame_is_the_event_by_event_one(trace)
    models = frame[frame["event"] == "on_chat_model_stream"]["payload"].tolist()
    parts = [part for part, _ in frame[frame["event"] == "on_graph_messages"]["payload"]]
    assert len(models) == len(parts) == len(captured) == 11
    assert len({id(message) for message in models}) == len(models)
    assert all(part is model for part, model in zip(parts, models, strict=True))
    models[1].additional_kwargs["note"] = "mine"
    assert not models[3].additional_kwargs and not parts[3].additional_kwargs


def test_a_view_without_some_model_events_pairs_the_others_with_their_parts():
    # The first model's stream events are filtered out, its parts kept: the second model's rows
    # and its parts (the same texts again and again) still pair in order, one message each.
    view = repeated_tokens_trace(calls=2).filter(exclude_names=["first model"])
    frame = assert_frame_is_the_event_by_event_one(view)
    models = frame[frame["event"] == "on_chat_model_stream"]["payload"].tolist()
    parts = [part for part, _ in frame[frame["event"] == "on_graph_messages"]["payload"]]
    assert len(models) == 11 and len(parts) == 22
    assert all(part is model for part, model in zip(parts[11:], models, strict=True))
    assert len({id(message) for message in parts}) == 22

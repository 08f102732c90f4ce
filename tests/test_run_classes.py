"""Columnar files of an agent: many model calls whose token rows differ only in their holes.

A Parquet or Arrow load reads the first token of a later model call from its class's pattern
(message id and ``messages`` metadata as holes) instead of decoding it, and a ``messages`` part
carrying the chunk its model's stream event just held gets that chunk; a save fills a later
call's data skeleton from its class. Each is checked here against the paths that decode or
encode every row on their own, and against files edited by hand in those very rows.
"""

from __future__ import annotations

import io
from typing import Any, TypedDict

import pytest
from helpers import need_pyarrow
from langgraph.graph import END, START, StateGraph

import streamviz as sv
from streamviz._columnar import read_columnar, write_columnar
from streamviz.demo import DemoChatModel

CALLS = 7


class _State(TypedDict):
    step: int
    text: str


def agent_trace(calls: int = CALLS, tokens: int = 40) -> sv.Trace:
    """Three nodes in a loop, each calling its own model, ``calls`` model calls in all."""
    graph = StateGraph(_State)
    names = [f"node_{index}" for index in range(3)]
    for index, name in enumerate(names):
        model = DemoChatModel.for_benchmark(tokens + index).model_copy(
            update={"model_name": f"demo-{index}"}
        )

        def call(state: _State, model: DemoChatModel = model) -> dict[str, Any]:
            return {"text": model.invoke("go").content, "step": state["step"] + 1}

        def route(state: _State, following: str = names[(index + 1) % 3]) -> str:
            return END if state["step"] >= calls else following

        graph.add_node(name, call)
        graph.add_conditional_edges(name, route, [names[(index + 1) % 3], END])
    graph.add_edge(START, names[0])
    return sv.watch(
        graph.compile(name="agent"),
        {"step": 0, "text": ""},
        {"recursion_limit": calls + 5},
        display=False,
        stream_mode=["updates", "messages"],
    )


def decoded_row_by_row(path: Any, kind: str) -> list[dict[str, Any]]:
    """The file's events as the reader decodes each row on its own (no skeleton, no class)."""
    with open(path, "rb") as stream:
        return read_columnar(stream, None, kind)[1]


def first_tokens(rows: list[dict[str, Any]], event: str) -> list[int]:
    """The row of each run's first ``event`` row with a text (a model call's first token)."""
    seen, found = set(), []
    for i, row in enumerate(rows):
        key = (row["run_id"], row["name"], row["metadata"])  # a call's parts: its metadata
        if row["event"] == event and row["text"] and key not in seen:
            seen.add(key)
            found.append(i)
    return found


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_an_agents_model_calls_load_as_saved_and_as_each_row_decodes(tmp_path, kind):
    need_pyarrow()
    trace = agent_trace()
    path = tmp_path / f"t.{kind}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert loaded.events == list(trace.events)
    assert loaded.events == decoded_row_by_row(path, kind)
    models = [run for run in trace.runs.values() if run.run_type == "chat_model"]
    assert len(models) == CALLS
    for run in models:
        again = loaded.runs[run.run_id]
        assert (again.chunk_count, again.first_chunk, again.last_chunk) == (
            run.chunk_count,
            run.first_chunk,
            run.last_chunk,
        )


def test_a_messages_part_shares_the_chunk_its_model_stream_event_holds_as_captured(tmp_path):
    need_pyarrow()
    trace = agent_trace(3)
    path = tmp_path / "t.parquet"
    trace.save(path)

    def last_chunks(events: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
        streams = [e for e in events if e["event"] == "on_chat_model_stream"]
        parts = [e for e in events if e["event"] == "on_graph_messages"]
        return [
            (a["data"]["chunk"], b["data"]["chunk"][0])
            for a in streams
            for b in parts
            if a["data"]["chunk"].chunk_position == "last"
            and b["data"]["chunk"][0].chunk_position == "last"
            and a["data"]["chunk"].id == b["data"]["chunk"][0].id
        ]

    captured, loaded = last_chunks(list(trace.events)), last_chunks(sv.Trace.load(path).events)
    assert len(captured) == len(loaded) == 3
    assert all(stream is part for stream, part in captured)
    assert all(stream is part for stream, part in loaded)
    assert [stream for stream, _ in loaded] == [stream for stream, _ in captured]


def edit(path: Any, change: Any) -> list[int]:
    """Rewrite a Parquet file with ``change(rows)`` applied; the rows it changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    rows = table.to_pylist()
    changed = change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return changed


def new_id(rows: list[dict[str, Any]]) -> list[int]:
    """A later call's first token and first ``messages`` part: their message id edited."""
    changed = []
    for event in ("on_chat_model_stream", "on_graph_messages"):
        i = first_tokens(rows, event)[4]
        rows[i]["data"] = rows[i]["data"].replace('"id":"lc_run--', '"id":"edited--', 1)
        changed.append(i)
    return changed


def new_metadata(rows: list[dict[str, Any]]) -> list[int]:
    """A later call's first ``messages`` part: its part's metadata edited (data only)."""
    i = first_tokens(rows, "on_graph_messages")[3]
    # The file holds a marker where the part's metadata is the event's: written out here.
    data = rows[i]["data"].replace('{"__sv__":"metadata"}', rows[i]["metadata"], 1)
    assert '"langgraph_step":' in data
    rows[i]["data"] = data.replace('"langgraph_step":', '"langgraph_step":10', 1)
    return [i]


def escaped_text(rows: list[dict[str, Any]]) -> list[int]:
    """A later call's first token: its text written with a JSON escape (the same text)."""
    i = first_tokens(rows, "on_chat_model_stream")[5]
    text = rows[i]["text"]
    escaped = "".join(f"\\u{ord(c):04x}" for c in text)
    rows[i]["data"] = rows[i]["data"].replace(f'"content":"{text}"', f'"content":"{escaped}"', 1)
    return [i]


def spaced_id(rows: list[dict[str, Any]]) -> list[int]:
    """A later call's first token: a space before its id (the same JSON, not as written)."""
    i = first_tokens(rows, "on_chat_model_stream")[6]
    rows[i]["data"] = rows[i]["data"].replace('"id":"lc_run', '"id": "lc_run', 1)
    return [i]


def other_usage(rows: list[dict[str, Any]]) -> list[int]:
    """A ``messages`` part whose chunk is its model's last one but for its usage."""
    found = [
        i
        for i, row in enumerate(rows)
        if row["event"] == "on_graph_messages" and '"chunk_position":"last"' in row["data"]
    ]
    i = found[2]
    rows[i]["data"] = rows[i]["data"].replace('"output_tokens":', '"output_tokens":9', 1)
    return [i]


@pytest.mark.parametrize("change", [new_id, new_metadata, escaped_text, spaced_id, other_usage])
def test_rows_a_class_or_a_carried_chunk_would_read_edited_by_hand_are_read_as_written(
    tmp_path, change
):
    need_pyarrow()
    trace = agent_trace()
    path = tmp_path / "t.parquet"
    trace.save(path)
    changed = edit(path, change)
    loaded = sv.Trace.load(path)
    expected = decoded_row_by_row(path, "parquet")
    assert loaded.events == expected
    original = list(trace.events)
    for i in changed:
        assert expected[i] != original[i] or change is escaped_text or change is spaced_id
    untouched = [i for i in range(len(original)) if i not in set(changed)]
    assert [loaded.events[i] for i in untouched] == [original[i] for i in untouched]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_saving_an_agent_from_the_store_writes_what_the_event_by_event_writer_writes(kind):
    need_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    trace = agent_trace()
    header = {"format": "streamviz-trace", "version": 1}

    def columns(events: Any) -> Any:
        out = io.BytesIO()
        write_columnar(out, events, header, kind)
        out.seek(0)
        if kind == "parquet":
            return pq.read_table(out)
        return pa.ipc.open_file(out).read_all()

    # (the event-by-event writer leaves the derived text column empty: the others compared)
    store, events = columns(trace.store), columns(list(trace.events))
    assert store.drop(["text"]).equals(events.drop(["text"]))


def shared_payload_events() -> list[dict[str, Any]]:
    """Events whose payloads share objects, some of which reach a cycle or nest deeply."""
    from langchain_core.messages import AIMessageChunk

    state = {"text": "hello", "step": 1}
    looped: list[Any] = [1]
    looped.append(looped)
    deep: Any = "bottom"
    for _ in range(150):
        deep = {"d": deep}
    holder: dict[str, Any] = {}
    tied = {"input": holder}
    holder["back"] = tied  # reaches the very data dict it is found in
    chunk = AIMessageChunk(content="last", id="m1", response_metadata={"finish": "stop"})
    payloads = [
        {"input": state},
        {"output": "x", "input": state},
        {"input": looped},
        {"output": looped},
        {"input": deep},
        {"output": deep, "input": state},
        tied,
        {"other": holder},
        {"api_key": state, "input": state},
        {"chunk": chunk},
        {"chunk": (chunk, {"langgraph_node": "n"})},
        {"chunk": ((chunk,), state)},
        {1: state},
        {"__sv__": "x", "input": state},
    ]
    fields = {"event": "on_chain_start", "name": "n", "parent_ids": [], "tags": [], "metadata": {}}
    return [
        {**fields, "run_id": f"r{i}", "data": data, "t": float(i), "seq": i}
        for i, data in enumerate(payloads)
    ]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_payload_values_several_events_share_are_written_as_each_event_encodes_them(kind):
    need_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    from streamviz._columnar import _json_text
    from streamviz._serialization import to_json_member

    events = shared_payload_events()
    out = io.BytesIO()
    write_columnar(out, events, {"format": "streamviz-trace", "version": 1}, kind)
    out.seek(0)
    table = pq.read_table(out) if kind == "parquet" else pa.ipc.open_file(out).read_all()
    expected = [_json_text(to_json_member(event["data"], event)) for event in events]
    assert table.column("data").to_pylist() == expected


def test_a_messages_part_is_read_in_full_when_the_chunk_before_it_was_not_one_json_value(
    tmp_path,
):
    """A model's last stream row written with a duplicate key (it decodes to its chunk) and the
    ``messages`` part after it holding that very text: the part is not valid JSON, and the
    load says so as the row-by-row reader does, instead of taking the chunk decoded before."""
    need_pyarrow()
    trace = agent_trace(3)
    path = tmp_path / "t.parquet"
    trace.save(path)

    def duplicate(rows: list[dict[str, Any]]) -> list[int]:
        last = '"chunk_position":"last"'
        stream = next(
            i
            for i, row in enumerate(rows)
            if row["event"] == "on_chat_model_stream" and last in row["data"]
        )
        part = next(
            i
            for i in range(stream + 1, len(rows))
            if rows[i]["event"] == "on_graph_messages" and last in rows[i]["data"]
        )
        message = rows[stream]["data"][len('{"chunk":') : -1]
        rows[stream]["data"] = '{"chunk":1,"chunk":' + message + "}"
        rows[part]["data"] = rows[part]["data"].replace(message, '1,"chunk":' + message, 1)
        return [stream, part]

    edit(path, duplicate)
    with pytest.raises(sv.TraceFileError) as row_by_row:
        decoded_row_by_row(path, "parquet")
    with pytest.raises(sv.TraceFileError) as loaded:
        sv.Trace.load(path)
    assert loaded.value.row == row_by_row.value.row

"""Parquet and Arrow trace files: what pandas, polars and DuckDB see without streamviz, bad files.

The round trips themselves (every payload kind, hostile strings, secrets) run over every format in
test_persistence.py and test_trace_files.py (the ``suffix`` fixture).
"""

from __future__ import annotations

import io
import json
import math
import pathlib
import re
import sys
from typing import Any, TypedDict

import pytest
from helpers import need_pyarrow
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

import streamviz as sv
from streamviz._columnar import COLUMNS, HEADER_KEY
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_joke_graph
from streamviz.events import SerializedError

need_pyarrow(module=True)
import pyarrow as pa  # noqa: E402
import pyarrow.feather as feather  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "trace-files.md"
FAST = {"time_to_first_token": 0, "token_delay": 0}


def duckdb_connection() -> Any:
    try:
        import duckdb
    except ImportError:
        pytest.skip("duckdb is not installed (it is in the test extra)")
    return duckdb.connect()


# --- Traces to save ------------------------------------------------------------------------------


def chain_trace(name: str = "chain") -> sv.Trace:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    chain = prompt | DemoChatModel(model_name="demo-chat", **FAST) | StrOutputParser()
    collector = sv.Collector(name=name)
    list(collector.stream(chain, {"topic": "parrot"}, {"tags": ["demo"]}))
    return collector.trace


class TwoModels(TypedDict):
    topic: str
    draft: str
    answer: str


def two_model_graph(seed: int) -> Any:
    """``draft`` asks a small model, ``answer`` a big one: two nodes, two model names."""
    small = DemoChatModel(model_name="small-model", seed=seed, **FAST)
    big = DemoChatModel(model_name="big-model", seed=seed + 1, **FAST)

    def draft(state: TwoModels) -> dict[str, str]:
        return {"draft": small.invoke(f"tell me about the {state['topic']}").content}

    def answer(state: TwoModels) -> dict[str, str]:
        return {"answer": big.invoke(f"what about {state['draft'][:20]}?").content}

    graph = StateGraph(TwoModels)
    graph.add_node("draft", draft)
    graph.add_node("answer", answer)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "answer")
    graph.add_edge("answer", END)
    return graph.compile(name="two_models")


def graph_trace(topic: str, seed: int = 0) -> sv.Trace:
    inputs = {"topic": topic, "draft": "", "answer": ""}
    trace = sv.watch(
        two_model_graph(seed), inputs, display=False, stream_mode=["updates", "messages"]
    )
    trace.name = f"graph about {topic}"
    return trace


def errors_as_fields(value: Any) -> Any:
    if isinstance(value, SerializedError):
        return ("error", value.type, value.module, value.message, value.repr)
    if isinstance(value, dict):
        return {key: errors_as_fields(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(errors_as_fields(item) for item in value)
    return value


# --- The schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_one_flat_row_per_event_with_the_documented_columns(tmp_path, suffix):
    trace = graph_trace("sky")
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    table = pq.read_table(path) if suffix == "parquet" else feather.read_table(path)
    assert table.num_rows == len(trace)
    types = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string()}
    types["list<string>"] = pa.list_(pa.string())
    assert [(f.name, f.type) for f in table.schema] == [
        (name, types[kind]) for name, kind, _ in COLUMNS
    ]
    rows = table.to_pylist()
    for row, event in zip(rows, trace.events, strict=True):
        assert (row["t"], row["seq"], row["event"], row["name"]) == (
            event["t"], event["seq"], event["event"], event["name"],
        )  # fmt: skip
        assert (row["run_id"], row["parent_ids"], row["tags"]) == (
            event["run_id"], event["parent_ids"], event["tags"],
        )  # fmt: skip
        assert row["parent_id"] == (event["parent_ids"][-1] if event["parent_ids"] else None)
        assert (row["mode"], row["ns"], row["thread"]) == (
            event.get("mode"), event.get("ns"), event["thread"],
        )  # fmt: skip
        assert isinstance(json.loads(row["metadata"]), dict)
        assert row["extra"] is None
    starts = [r for r in rows if r["event"] == "on_chat_model_start"]
    assert {(r["run_type"], r["phase"]) for r in starts} == {("chat_model", "start")}
    parts = [r for r in rows if r["mode"] is not None]
    assert parts and all(r["run_type"] is None and r["phase"] is None for r in parts)
    assert {r["mode"] for r in parts} == {"updates", "messages"}


def test_the_header_is_the_files_key_value_metadata(tmp_path):
    trace = chain_trace("parrot run")
    trace.save(tmp_path / "t.parquet")
    trace.save(tmp_path / "t.jsonl")
    metadata = pq.read_schema(tmp_path / "t.parquet").metadata
    header = json.loads(metadata[HEADER_KEY.encode()])
    jsonl_header = json.loads((tmp_path / "t.jsonl").read_text("utf-8").splitlines()[0])
    assert header.keys() == jsonl_header.keys()
    assert header["format"] == "streamviz-trace" and header["version"] == 1
    assert header["streamviz"] == sv.__version__
    assert header["name"] == "parrot run" and header["time_unit"] == "s"
    assert header["trace_created"] == trace.created.isoformat()
    loaded = sv.Trace.load(tmp_path / "t.parquet")
    assert (loaded.name, loaded.created) == ("parrot run", trace.created)


def test_every_column_is_documented():
    text = DOCS.read_text("utf-8")
    for name, kind, _ in COLUMNS:
        assert re.search(rf"^\| `{name}` \| {re.escape(kind)} \|", text, re.MULTILINE), name
    assert HEADER_KEY in text


SAME_METADATA = '{"__sv__":"metadata"}'


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_a_messages_parts_copy_of_its_metadata_is_a_marker_the_metadata_column_fills(
    tmp_path, suffix
):
    """A ``messages`` part's ``data`` ends with the marker where its metadata item was; the row's
    ``metadata`` text put in its place is the JSONL line's payload, for every row."""
    trace = graph_trace("sky")
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    trace.save(tmp_path / "t.jsonl")
    lines = (tmp_path / "t.jsonl").read_text("utf-8").splitlines()[1:]
    table = pq.read_table(path) if suffix == "parquet" else feather.read_table(path)
    rows = table.to_pylist()
    assert len(rows) == len(lines) == len(trace)
    marked = 0
    for row, line in zip(rows, lines, strict=True):
        data = row["data"]
        if data is not None and data.endswith("," + SAME_METADATA + "]}}"):
            assert row["mode"] == "messages"
            data = data[: -len(SAME_METADATA + "]}}")] + row["metadata"] + "]}}"
            marked += 1
        assert SAME_METADATA not in (data or "")
        assert (json.loads(data) if data is not None else {}) == json.loads(line).get("data", {})
    parts = sum(e.get("mode") == "messages" for e in trace.events)
    assert parts > 10 and marked == parts  # every part of this graph: its metadata is the event's
    assert sv.Trace.load(path).events == trace.events


def test_a_parts_metadata_other_than_its_events_stays_in_data(tmp_path):
    """Only a copy whose text is the row's ``metadata`` becomes the marker; both load as saved."""
    from langchain_core.messages import AIMessageChunk

    def part(metadata: dict, in_part: dict, mode: str | None = "messages") -> dict:
        chunk = (AIMessageChunk(content="hi", id="m1"), in_part)
        event = {"event": "on_graph_messages", "name": "n", "run_id": "r", "parent_ids": []}
        event |= {"tags": [], "metadata": metadata, "data": {"chunk": chunk}}
        return event if mode is None else {**event, "mode": mode, "ns": []}

    same, other = {"langgraph_node": "n"}, {"langgraph_node": "m"}
    events = [part(same, dict(same)), part(same, other), part(same, dict(same), None)]
    for seq, event in enumerate(events):
        event |= {"t": 0.1 * seq, "seq": seq}
    trace = sv.Trace.from_events(events, name="parts")
    trace.save(tmp_path / "t.parquet")
    rows = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert rows[0]["data"].endswith("," + SAME_METADATA + "]}}")
    assert rows[1]["data"].endswith(',{"langgraph_node":"m"}]}}')
    assert rows[2]["data"].endswith(',{"langgraph_node":"n"}]}}')  # not a stream part
    assert sv.Trace.load(tmp_path / "t.parquet").events == trace.events


def test_parquet_readers_find_plain_columns_written_from_dictionaries(tmp_path, monkeypatch):
    """The run columns, written from Arrow dictionaries, read as strings (no categoricals), with
    the header in the key-value metadata; a pyarrow without ``add_key_value_metadata`` writes
    them as strings, with the Arrow schema, and the files load the same."""
    import pandas as pd

    trace = graph_trace("sea")
    trace.save(tmp_path / "t.parquet")
    monkeypatch.delattr(pq.ParquetWriter, "add_key_value_metadata")
    trace.save(tmp_path / "plain.parquet")
    monkeypatch.undo()
    files = pq.ParquetFile(tmp_path / "t.parquet"), pq.ParquetFile(tmp_path / "plain.parquet")
    assert b"ARROW:schema" not in files[0].metadata.metadata
    assert b"ARROW:schema" in files[1].metadata.metadata
    for file in files:
        assert HEADER_KEY.encode() in file.schema_arrow.metadata
        for name in ("event", "run_type", "phase", "name", "run_id", "parent_id", "metadata"):
            assert file.schema_arrow.field(name).type == pa.string(), name
    frame = pd.read_parquet(tmp_path / "t.parquet")
    assert not any(isinstance(kind, pd.CategoricalDtype) for kind in frame.dtypes)
    assert frame.equals(pd.read_parquet(tmp_path / "plain.parquet"))
    for name in ("t.parquet", "plain.parquet"):
        loaded = sv.Trace.load(tmp_path / name)
        assert (loaded.name, loaded.events) == (trace.name, trace.events)


# --- Read without streamviz ----------------------------------------------------------------------


def test_pandas_reads_the_file_as_a_table(tmp_path):
    import pandas as pd

    trace = chain_trace()
    trace.save(tmp_path / "t.parquet")
    trace.save(tmp_path / "t.arrow")
    frame = pd.read_parquet(tmp_path / "t.parquet")
    assert pd.read_feather(tmp_path / "t.arrow").equals(frame)
    assert len(frame) == len(trace)
    assert frame["t"].tolist() == [e["t"] for e in trace.events]
    assert frame["seq"].tolist() == list(range(len(trace)))
    counts = frame.groupby("event").size().to_dict()
    assert counts["on_chat_model_stream"] == trace.roots[0].children[1].chunk_count
    tokens = frame[frame["event"] == "on_chat_model_stream"]["data"].map(json.loads)
    text = "".join(data["chunk"]["fields"]["content"] for data in tokens)
    assert text == trace.roots[0].children[1].output.content
    assert list(frame["tags"].iloc[1]) == ["seq:step:1", "demo"]


def test_polars_reads_the_files_and_its_files_load_back(tmp_path):
    """A trace filtered in polars and written back (its Arrow files hold string views) opens in
    streamviz as the rows polars kept."""
    try:
        import polars as pl
    except ImportError:
        pytest.skip("polars is not installed (it is in the test extra)")
    trace = graph_trace("sea")
    trace.save(tmp_path / "t.parquet")
    trace.save(tmp_path / "t.arrow")
    frame = pl.read_parquet(tmp_path / "t.parquet")
    assert pl.read_ipc(tmp_path / "t.arrow").equals(frame)
    assert frame.height == len(trace)
    assert frame["seq"].to_list() == list(range(len(trace)))
    models = [r for r in trace.runs.values() if r.run_type == "chat_model"]
    tokens = frame.filter(pl.col("event") == "on_chat_model_stream")
    assert tokens.height == sum(r.chunk_count for r in models)
    # Written back by polars, whole and filtered: loaded, the same events.
    frame.write_ipc(tmp_path / "whole.arrow")
    frame.write_parquet(tmp_path / "whole.parquet")
    assert any(
        "view" in str(field.type) for field in pa.ipc.open_file(tmp_path / "whole.arrow").schema
    ), "polars wrote no string views: the test no longer covers them"
    for name in ("whole.arrow", "whole.parquet"):
        assert list(sv.Trace.load(tmp_path / name).events) == list(trace.events), name
    first = models[0].run_id
    kept = frame.filter(pl.col("run_id") == first)
    kept.write_ipc(tmp_path / "one-run.arrow")
    loaded = sv.Trace.load(tmp_path / "one-run.arrow")
    assert [e["seq"] for e in loaded.events] == kept["seq"].to_list()
    assert [e for e in trace.events if e["run_id"] == first] == list(loaded.events)


@pytest.mark.parametrize(
    "column", ["data", "text", "metadata", "event", "name", "run_id", "parent_ids", "tags"]
)
@pytest.mark.parametrize("as_", ["string_view", "dictionary", "large_string"])
def test_texts_typed_as_other_tools_type_them_load(tmp_path, column, as_):
    """A text column as a view, a dictionary or a large string (a list: of those) loads the same."""
    trace = chain_trace()
    trace.save(tmp_path / "t.arrow")
    table = feather.read_table(tmp_path / "t.arrow")
    values = table.column(column).combine_chunks()
    if pa.types.is_list(values.type):  # lists of views, of dictionaries, large of large
        items = {"string_view": pa.string_view(), "large_string": pa.large_string()}.get(
            as_, pa.dictionary(pa.int32(), pa.string())
        )
        values = values.cast((pa.large_list if as_ == "large_string" else pa.list_)(items))
    elif as_ == "string_view":
        values = values.cast(pa.string_view())
    elif as_ == "dictionary":
        values = values.dictionary_encode()
    else:
        values = values.cast(pa.large_string())
    table = table.set_column(table.schema.get_field_index(column), column, values)
    with pa.ipc.new_file(tmp_path / "other.arrow", table.schema) as writer:
        writer.write_table(table)
    assert list(sv.Trace.load(tmp_path / "other.arrow").events) == list(trace.events)


def test_duckdb_answers_questions_about_one_file(tmp_path):
    trace = graph_trace("sea")
    path = str(tmp_path / "t.parquet")
    trace.save(path)
    db = duckdb_connection()
    per_name = db.execute(
        "select name, count(*) from read_parquet(?) where event = 'on_chat_model_stream' "
        "group by name order by name",
        [path],
    ).fetchall()
    models = [r for r in trace.runs.values() if r.run_type == "chat_model"]
    assert per_name == [("DemoChatModel", sum(r.chunk_count for r in models))]
    # Time to first token per model, in SQL: the first stream event minus the start event.
    ttft = db.execute(
        """
        select json_extract_string(any_value(metadata), '$.ls_model_name') as model,
               min(t) filter (where phase = 'stream') - min(t) filter (where phase = 'start')
        from read_parquet(?) where run_type = 'chat_model'
        group by run_id order by model
        """,
        [path],
    ).fetchall()
    assert ttft == sorted((r.metadata["ls_model_name"], r.time_to_first_chunk) for r in models)
    assert [model for model, _ in ttft] == ["big-model", "small-model"]
    # LangGraph stream parts: their mode and namespace are columns too.
    modes = db.execute(
        "select mode, count(*) from read_parquet(?) where mode is not null group by mode "
        "order by mode",
        [path],
    ).fetchall()
    parts = [e for e in trace.events if "mode" in e]
    assert modes == sorted(
        (mode, sum(e["mode"] == mode for e in parts)) for mode in {e["mode"] for e in parts}
    )


def test_a_folder_of_traces_is_one_dataset(tmp_path):
    folder = tmp_path / "traces"
    folder.mkdir()
    traces = {}
    for n, topic in enumerate(["sky", "sea", "parrots", "rain", "snow"]):
        trace = graph_trace(topic, seed=n)
        trace.save(folder / f"run-{n}.parquet")
        traces[str(folder / f"run-{n}.parquet")] = trace
    chain_trace().save(folder / "chain.parquet")
    pattern = str(folder / "*.parquet")
    db = duckdb_connection()
    # Time to first token per model over every trace.
    rows = db.execute(
        """
        with calls as (
            select filename, run_id,
                   json_extract_string(any_value(metadata), '$.ls_model_name') as model,
                   min(t) filter (where phase = 'stream')
                     - min(t) filter (where phase = 'start') as ttft
            from read_parquet(?, filename = true)
            where run_type = 'chat_model'
            group by filename, run_id
        )
        select model, count(*), list(ttft order by filename, ttft), avg(ttft)
        from calls group by model order by model
        """,
        [pattern],
    ).fetchall()
    expected: dict[str, list[tuple[str, float]]] = {}
    for path in sorted(str(p) for p in folder.glob("*.parquet")):
        loaded = sv.Trace.load(path)
        for run in loaded.runs.values():
            if run.run_type == "chat_model":
                model = run.metadata["ls_model_name"]
                expected.setdefault(model, []).append((path, run.time_to_first_chunk))
    assert [model for model, *_ in rows] == ["big-model", "demo-chat", "small-model"]
    for model, calls, ttfts, mean in rows:
        values = [ttft for _, ttft in sorted(expected[model])]
        assert calls == len(values)
        assert ttfts == values
        assert mean == pytest.approx(sum(values) / len(values))
    # The slowest LangGraph node of each run.
    slowest = db.execute(
        """
        with nodes as (
            select filename, run_id, any_value(name) as node,
                   max(t) filter (where phase in ('end', 'error'))
                     - min(t) filter (where phase = 'start') as took
            from read_parquet(?, filename = true)
            where run_type = 'chain'
              and json_extract_string(metadata, '$.langgraph_node') = name
            group by filename, run_id
        )
        select filename, arg_max(node, took), max(took) from nodes
        group by filename order by filename
        """,
        [pattern],
    ).fetchall()
    assert [path for path, _, _ in slowest] == sorted(traces)
    for path, node, took in slowest:
        runs = sv.Trace.load(path).runs_df()
        nodes = runs[(runs["run_type"] == "chain") & runs["name"].isin(["draft", "answer"])]
        assert took == nodes["duration"].max()
        assert node in set(nodes[nodes["duration"] == took]["name"])


def test_rows_a_query_copies_to_a_new_file_load_as_a_trace(tmp_path):
    trace = chain_trace()
    source, subset = tmp_path / "t.parquet", tmp_path / "models only.parquet"
    trace.save(source)
    db = duckdb_connection()
    db.execute(
        f"copy (select * from read_parquet('{source}') where run_type = 'chat_model' "
        f"order by seq) to '{subset}' (format parquet)"
    )
    loaded = sv.Trace.load(subset)  # no header (DuckDB keeps no key-value metadata): no name
    assert loaded.name is None
    kept = [e for e in trace.events if e["event"].startswith("on_chat_model")]
    assert errors_as_fields(list(loaded.events)) == errors_as_fields(kept)
    assert [r.name for r in loaded.runs.values()] == ["DemoChatModel"]


# --- Round trips the other tests do not cover ----------------------------------------------------


def test_every_langgraph_stream_mode_round_trips(tmp_path):
    graph = build_joke_graph()
    graph.checkpointer = InMemorySaver()
    modes = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"]
    config = {"configurable": {"thread_id": "t1"}}
    trace = sv.watch(graph, {"topic": "ice cream"}, config, display=False, stream_mode=modes)
    trace.save(tmp_path / "t.jsonl")
    trace.save(tmp_path / "t.parquet")
    reference = sv.Trace.load(tmp_path / "t.jsonl")
    loaded = sv.Trace.load(tmp_path / "t.parquet")
    assert errors_as_fields(list(loaded.events)) == errors_as_fields(list(reference.events))
    assert (
        {e["mode"] for e in loaded.events if "mode" in e}
        == {e["mode"] for e in trace.events if "mode" in e}
        >= {"values", "updates", "debug", "tasks", "checkpoints"}
    )


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_binary_file_objects_and_unknown_names(tmp_path, suffix):
    trace = chain_trace("in memory")
    buffer = io.BytesIO()
    trace.save(buffer, format=suffix)
    buffer.seek(0)
    loaded = sv.Trace.load(buffer)  # told apart from JSONL by its first bytes
    assert loaded.name == "in memory" and len(loaded) == len(trace)
    (tmp_path / "download").write_bytes(buffer.getvalue())
    assert len(sv.Trace.load(tmp_path / "download")) == len(trace)
    with pytest.raises(TypeError, match="binary file"):
        trace.save(io.StringIO(), format=suffix)


def test_an_empty_trace_round_trips(tmp_path):
    sv.Trace("nothing yet").save(tmp_path / "empty.parquet")
    loaded = sv.Trace.load(tmp_path / "empty.parquet")
    assert (loaded.name, len(loaded), loaded.runs) == ("nothing yet", 0, {})


def test_many_events_are_written_in_several_batches(tmp_path):
    trace = sv.Trace.from_events(
        [
            {
                "event": "on_chain_stream",
                "name": f"step {i % 3}",
                "run_id": f"r{i % 3}",
                "parent_ids": [],
                "tags": ["x"],
                "metadata": {"i": i % 3},
                "data": {"chunk": i},
                "t": i / 1000,
                "seq": i,
            }
            for i in range(70_000)
        ]
    )
    trace.save(tmp_path / "big.parquet")
    assert pq.ParquetFile(tmp_path / "big.parquet").num_row_groups == 2
    loaded = sv.Trace.load(tmp_path / "big.parquet")
    assert [e["data"]["chunk"] for e in loaded.events] == list(range(70_000))
    assert [e["metadata"] for e in loaded.events[:4]] == [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 0}]


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_lists_whose_joined_items_look_alike_stay_apart(tmp_path, suffix):
    # The loader keys rows by their lists joined with "\x1f": items holding it must not make
    # two different lists one key (["a\x1fb", "c"] and ["a", "b\x1fc"] join alike).
    from langchain_core.messages import AIMessageChunk

    tag_lists = [["a\x1fb", "c"], ["a", "b\x1fc"], ["a\x1fb"], ["a", "b"], [], ["a\x1f"]]
    events = [
        {
            "event": "on_chat_model_stream",
            "name": "model",
            "run_id": "r",
            "parent_ids": [],
            "tags": tag_lists[i % len(tag_lists)],
            "metadata": {},
            "data": {"chunk": AIMessageChunk(content=f"token {i}", id="m")},
            "t": i / 1000,
            "seq": i,
        }
        for i in range(60)
    ]
    trace = sv.Trace.from_events(events)
    trace.save(tmp_path / f"t.{suffix}")
    loaded = sv.Trace.load(tmp_path / f"t.{suffix}")
    assert [e["tags"] for e in loaded.events] == [e["tags"] for e in events]
    assert list(loaded.events) == list(trace.events)


@pytest.mark.parametrize("depth", [3, 14])  # (14: too deep to number a row's ids as digits)
def test_parent_chains_that_differ_by_order_or_depth_stay_apart(tmp_path, depth):
    # A Parquet file's lists are read as codes of their items: lists with the same items in
    # another order, one more item, a repeated item, empty or null must each stay what they were.
    from langchain_core.messages import AIMessageChunk

    ids = [f"run-{i:02d}" for i in range(40)]
    chains = [[], ids[:1], ids[:2], ids[1::-1], [ids[0], ids[0]], ids[:depth], ids[depth::-1]]
    chains += [ids[i : i + depth] for i in range(0, 40 - depth, 3)]
    events = []
    for i in range(3 * len(chains)):
        event = {
            "event": "on_chat_model_stream",
            "name": "model",
            "run_id": "r",
            "parent_ids": chains[i % len(chains)],
            "tags": chains[(i // 2) % len(chains)][:2],
            "metadata": {},
            "data": {"chunk": AIMessageChunk(content=f"token {i}", id="m")},
            "t": i / 1000,
            "seq": i,
        }
        if i % 4 == 1:  # a stream part: its namespace (other rows: none, a null in the file)
            event.update(event="on_graph_part", mode="custom", ns=chains[(i // 4) % len(chains)])
            event["data"] = {"chunk": f"part {i}"}
        events.append(event)
    trace = sv.Trace.from_events(events)
    trace.save(tmp_path / "t.parquet")
    read = pq.read_table(tmp_path / "t.parquet")
    assert read.column("parent_ids").to_pylist() == [e["parent_ids"] for e in events]
    loaded = sv.Trace.load(tmp_path / "t.parquet")
    assert [e["parent_ids"] for e in loaded.events] == [e["parent_ids"] for e in events]
    assert [e["tags"] for e in loaded.events] == [e["tags"] for e in events]
    assert [e.get("ns") for e in loaded.events] == [e.get("ns") for e in events]
    assert list(loaded.events) == list(trace.events)


# --- Without pyarrow -----------------------------------------------------------------------------


def test_without_pyarrow_a_clear_error_and_jsonl_still_works(tmp_path, monkeypatch):
    trace = chain_trace()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an environment without it does
    with pytest.raises(ImportError, match=re.escape("pip install 'streamviz[parquet]'")):
        trace.save(tmp_path / "t.parquet")
    assert not (tmp_path / "t.parquet").exists()
    trace.save(tmp_path / "t.jsonl")
    assert len(sv.Trace.load(tmp_path / "t.jsonl")) == len(trace)
    monkeypatch.undo()
    trace.save(tmp_path / "t.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'streamviz[parquet]'")):
        sv.Trace.load(tmp_path / "t.parquet")


# --- Broken, foreign and hostile files -----------------------------------------------------------


def load_error(path: pathlib.Path) -> sv.TraceFileError:
    with pytest.raises(sv.TraceFileError) as info:
        sv.Trace.load(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ") or str(info.value).startswith(f"{path}, row ")
    return info.value


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
@pytest.mark.parametrize("keep", [0, 3, 100, -40, -1])
def test_a_truncated_file_is_refused(tmp_path, suffix, keep):
    path = tmp_path / f"t.{suffix}"
    chain_trace().save(path)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    error = load_error(path)
    assert "not a readable" in str(error) and "truncated" in str(error)


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_a_file_of_another_format_is_refused(tmp_path, suffix):
    path = tmp_path / f"t.{suffix}"
    path.write_text('{"format": "streamviz-trace", "version": 1}\n', "utf-8")
    assert "not a readable" in str(load_error(path))


def write_table(path: pathlib.Path, columns: dict[str, Any], header: Any = None) -> pathlib.Path:
    metadata = None if header is None else {HEADER_KEY: json.dumps(header)}
    pq.write_table(pa.table(columns).replace_schema_metadata(metadata), path)
    return path


def test_a_parquet_file_that_is_not_a_trace_is_refused(tmp_path):
    import pandas as pd

    path = tmp_path / "sales.parquet"
    pd.DataFrame({"region": ["north"], "amount": [3]}).to_parquet(path)
    error = load_error(path)
    assert "not a streamviz trace" in str(error)
    assert HEADER_KEY in str(error)


def good_columns(tmp_path: pathlib.Path) -> dict[str, Any]:
    trace = chain_trace()
    trace.save(tmp_path / "good.parquet")
    return pq.read_table(tmp_path / "good.parquet").to_pydict()


HEADER = {"format": "streamviz-trace", "version": 1, "streamviz": "x"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"format": "other", "version": 1}, 'unknown format "other"'),
        ({**HEADER, "version": 2}, "version 2 is newer than the supported version 1"),
        ({**HEADER, "version": "1"}, "invalid version"),
        ([1, 2], "missing trace header"),
    ],
)
def test_a_bad_header_is_refused(tmp_path, header, message):
    path = write_table(tmp_path / "t.parquet", good_columns(tmp_path), header)
    error = load_error(path)
    assert error.row is None
    assert message in str(error)


def test_a_column_missing_or_of_the_wrong_type_is_named(tmp_path):
    columns = good_columns(tmp_path)
    del columns["seq"]
    error = load_error(write_table(tmp_path / "t.parquet", columns, HEADER))
    assert "the 'seq' column is missing" in str(error)
    columns = good_columns(tmp_path)
    columns["seq"] = [str(s) for s in columns["seq"]]
    error = load_error(write_table(tmp_path / "t.parquet", columns, HEADER))
    assert "the 'seq' column must hold an integer, not string" in str(error)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("data", "not json", "data is not valid JSON"),
        ("data", '{"chunk": NaN}', "data is not valid JSON: NaN is not valid JSON"),
        ("data", "[" * 100_000 + "]" * 100_000, "data is nested too deeply"),
        ("data", '{"__sv__": "evil"}', "unknown __sv__ marker kind 'evil'"),
        ("metadata", "[]", "'metadata' must be an object"),
        ("metadata", "{", "metadata is not valid JSON"),
        ("seq", None, "event is missing key 'seq'"),
        ("run_id", None, "event is missing key 'run_id'"),
        ("t", math.nan, "'t' must be a finite number"),
        ("tags", ["ok", None], "'tags' must be a list of strings"),
        ("extra", '{"thread": "main"}', "'thread' must be an integer"),
        ("extra", "[1]", "extra must be a JSON object"),
    ],
)
def test_a_bad_row_is_named(tmp_path, column, value, message):
    columns = good_columns(tmp_path)
    columns[column][3] = value
    error = load_error(write_table(tmp_path / "t.parquet", columns, HEADER))
    assert error.row == 3
    assert str(error).startswith(f"{error.path}, row 3: ")
    assert message in str(error)


def test_loading_executes_nothing(tmp_path):
    marker_file = tmp_path / "pwned"
    payload = {
        "lc": {"__sv__": "lc", "type": "subprocess.Popen",
               "fields": {"args": ["touch", str(marker_file)]}},
        "model": {"__sv__": "model", "type": "os.system",
                  "fields": {"command": f"touch {marker_file}"}},
        "repr": {"__sv__": "repr", "type": "builtins.eval", "repr": "__import__('os')"},
    }  # fmt: skip
    columns = good_columns(tmp_path)
    columns["data"][0] = json.dumps(payload)
    columns["metadata"][0] = json.dumps({"m": payload["model"]})
    loaded = sv.Trace.load(write_table(tmp_path / "t.parquet", columns, HEADER))
    assert not marker_file.exists()
    first = loaded.events[0]
    assert first["data"]["lc"].error == "class is not in the allow-list"
    assert first["data"]["model"].fields == {"command": f"touch {marker_file}"}
    assert first["metadata"]["m"].type == "os.system"

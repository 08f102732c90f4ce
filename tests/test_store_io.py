"""Readers that read the store's columns give what reading event by event gives.

Saving writes each run's token rows from one encoded skeleton per shape, loading reads them
back without parsing each line, filtering decides per template, ``events_df`` is built from
columns: each is checked here against the event-by-event path it replaces, on real chains and
graphs, and against files edited by hand (a line the skeleton does not fit is read in full).
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from helpers import need_pyarrow
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz._persistence import write_trace
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_bench_graph
from streamviz.filters import EventFilter

SECRET = "sk-" + "A1b2C3d4E5f6G7h8J9k0"


def chain_trace(tokens: int = 300) -> sv.Trace:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    collector = sv.Collector(name="chain")
    for _ in collector.stream(
        prompt | DemoChatModel.for_benchmark(tokens) | StrOutputParser(), {"topic": "parrot"}
    ):
        pass
    return collector.trace


def graph_trace(tokens: int = 200) -> sv.Trace:
    return sv.watch(
        build_bench_graph(),
        {"n_tokens": tokens, "text": ""},
        display=False,
        stream_mode=["updates", "messages"],
    )


def secret_trace() -> sv.Trace:
    """A model whose stream holds a key-shaped token, among plain ones."""
    model = DemoChatModel(responses=[f"my key is {SECRET} ok"])
    collector = sv.Collector(name="secret")
    for _ in collector.stream(model, "hi"):
        pass
    return collector.trace


def server_trace(tokens: int = 300) -> sv.Trace:
    """A graph run in process, then a resumable LangGraph server run's parts as
    ``watch_remote`` records them: each part says when the server sent it (``server_t``, after
    ``ns``), a model's tokens as JSON dicts and as ``messages`` parts (a list: message, metadata).
    """
    trace = graph_trace(20)

    def part(event: str, data: dict, server_t: float, mode: str = "events") -> dict:
        fields = {"event": event, "name": "model", "run_id": "m", "parent_ids": ["r"]}
        metadata = {"langgraph_node": "call_model", "langgraph_step": 1}
        fields |= {"tags": ["seq:step:1"], "metadata": metadata, "data": data}
        return {**fields, "mode": mode, "ns": [], "server_t": server_t}

    trace.store.append(part("on_chat_model_start", {"input": {"messages": []}}, 0.2))
    for i in range(tokens):
        message = {"content": f" w{i}", "additional_kwargs": {}, "response_metadata": {}}
        message |= {"type": "AIMessageChunk", "name": None, "id": "run-m", "tool_calls": []}
        sent = 0.25 + 0.001 * i
        trace.store.append(part("on_chat_model_stream", {"chunk": message}, sent))
        pair = [dict(message), {"langgraph_node": "call_model"}]
        trace.store.append(part("on_graph_messages", {"chunk": pair}, sent, "messages"))
    trace.store.append(part("on_chat_model_end", {"output": {"content": "..."}}, 0.6))
    return trace


TRACES = {
    "chain": chain_trace,
    "graph": graph_trace,
    "secret": secret_trace,
    "server": server_trace,
}


def event_by_event_jsonl(trace: sv.Trace) -> bytes:
    """The file the event-by-event writer writes: every event built, then encoded."""
    out = io.BytesIO()
    write_trace(out, list(trace.events), streamviz_version="x", extra_header=trace.file_header())
    return out.getvalue()


def store_jsonl(trace: sv.Trace) -> bytes:
    out = io.BytesIO()
    write_trace(out, trace.store, streamviz_version="x", extra_header=trace.file_header())
    return out.getvalue()


def lines_without_header(blob: bytes) -> list[bytes]:
    return blob.splitlines()[1:]


@pytest.mark.parametrize("kind", TRACES)
def test_saving_from_the_store_writes_the_very_lines_of_the_event_by_event_writer(kind):
    trace = TRACES[kind]()
    assert lines_without_header(store_jsonl(trace)) == lines_without_header(
        event_by_event_jsonl(trace)
    )


def test_a_secret_token_is_redacted_in_every_file_format(tmp_path):
    need_pyarrow()
    import pyarrow.feather
    import pyarrow.parquet

    trace = secret_trace()
    assert any(SECRET in str(event["data"]) for event in trace.events)
    for suffix in ("jsonl", "parquet", "arrow"):
        path = tmp_path / f"s.{suffix}"
        trace.save(path)
        raw = path.read_bytes()
        if suffix == "parquet":
            raw = json.dumps(pyarrow.parquet.read_table(path).to_pylist()).encode()
        elif suffix == "arrow":
            raw = json.dumps(pyarrow.feather.read_table(path).to_pylist()).encode()
        assert SECRET.encode() not in raw, suffix
        assert b"[redacted]" in raw, suffix


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
@pytest.mark.parametrize("kind", ["chain", "graph", "server"])
def test_a_loaded_trace_equals_the_saved_one_and_is_compact(tmp_path, kind, suffix):
    if suffix != "jsonl":
        need_pyarrow()
    trace = TRACES[kind]()
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert loaded.events == list(trace.events)
    for run_id, run in trace.runs.items():
        again = loaded.runs[run_id]
        assert (again.chunk_count, again.first_chunk, again.last_chunk, again.status) == (
            run.chunk_count,
            run.first_chunk,
            run.last_chunk,
            run.status,
        )
    # Token events come back as compact rows, not as dicts.
    blocks = [item for item in loaded.store.blocks() if not isinstance(item, dict)]
    assert sum(block.count for block in blocks) >= len(loaded) * 0.9


def test_a_jsonl_line_edited_by_hand_is_read_as_written(tmp_path):
    trace = chain_trace(50)
    path = tmp_path / "t.jsonl"
    trace.save(path)
    lines = path.read_text("utf-8").splitlines()
    # Three token lines of one run, edited so that the run's skeleton no longer fits them.
    tokens = [i for i, line in enumerate(lines) if '"on_chat_model_stream"' in line and i > 1][5:8]
    edited = [json.loads(lines[i]) for i in tokens]
    edited[0]["name"] = "renamed by hand"
    edited[1]["t"] = 1e-3  # written "0.001", a float as json writes it: still read right
    edited[2]["tags"] = ["added"]
    for i, event in zip(tokens, edited, strict=True):
        lines[i] = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    loaded = sv.Trace.load(path)
    got = [loaded.events[i - 1] for i in tokens]  # line 0 is the header
    assert got[0]["name"] == "renamed by hand"
    assert got[1]["t"] == 1e-3
    assert got[2]["tags"] == ["added"]
    # The lines around them are the original events.
    assert loaded.events[tokens[0] - 2] == trace.events[tokens[0] - 2]
    assert loaded.events[tokens[2]] == trace.events[tokens[2]]


def test_the_text_column_holds_each_token_as_streamed(tmp_path):
    need_pyarrow()
    import duckdb

    trace = chain_trace(80)
    trace.save(tmp_path / "t.parquet")
    model = next(run for run in trace.runs.values() if run.run_type == "chat_model")
    ((joined,),) = duckdb.sql(
        f"select string_agg(text, '' order by seq) from '{tmp_path / 't.parquet'}' "
        f"where run_type = 'chat_model' and phase = 'stream'"
    ).fetchall()
    assert joined == model.output.content


def test_rows_a_query_selects_load_as_a_trace_of_those_events(tmp_path):
    need_pyarrow()
    import duckdb

    trace = graph_trace(60)
    trace.save(tmp_path / "t.parquet")
    duckdb.sql(
        f"copy (select * from '{tmp_path / 't.parquet'}' where mode = 'messages' order by seq) "
        f"to '{tmp_path / 'parts.parquet'}' (format parquet)"
    )
    parts = sv.Trace.load(tmp_path / "parts.parquet")
    expected = [event for event in trace.events if event.get("mode") == "messages"]
    assert parts.events == expected


@pytest.mark.parametrize("kind", ["chain", "graph"])
def test_filter_keeps_what_the_event_filter_keeps_with_their_seq(kind):
    trace = TRACES[kind]()
    rules = {"include_types": ["chat_model", "chain"], "exclude_names": ["RunnableSequence"]}
    view = trace.filter(**rules)
    keep = EventFilter(**rules)
    assert view.events == [event for event in trace.events if keep.matches(event)]
    again = view.filter(exclude_types=["chain"])
    assert again.events == [
        event for event in view.events if EventFilter(exclude_types=["chain"]).matches(event)
    ]


@pytest.mark.parametrize("kind", ["chain", "graph"])
def test_events_df_has_one_row_per_event_as_read_one_by_one(kind):
    trace = TRACES[kind]()
    frame = trace.events_df()
    events = list(trace.events)
    assert list(frame["seq"]) == [event["seq"] for event in events]
    assert list(frame["t"]) == [event["t"] for event in events]
    assert list(frame["event"]) == [event["event"] for event in events]
    assert list(frame["run_id"]) == [event["run_id"] for event in events]
    assert list(frame["tags"]) == [event["tags"] for event in events]
    assert list(frame["data"]) == [event["data"] for event in events]
    assert frame["thread"].astype(object).where(frame["thread"].notna(), None).tolist() == [
        event.get("thread") for event in events
    ]
    parents = [event["parent_ids"][-1] if event["parent_ids"] else None for event in events]
    assert frame["parent_id"].astype(object).where(frame["parent_id"].notna(), None).tolist() == (
        parents
    )
    view = trace.filter(include_types=["chat_model"])
    assert list(view.events_df()["seq"]) == [event["seq"] for event in view.events]


def test_events_df_has_each_tokens_text_and_a_lean_form_without_objects():
    trace = chain_trace(120)
    frame = trace.events_df()
    model = next(run for run in trace.runs.values() if run.run_type == "chat_model")
    tokens = frame[(frame["run_id"] == model.run_id) & (frame["phase"] == "stream")]
    assert "".join(tokens["text"].dropna()) == model.output.content
    assert frame.loc[frame["phase"] == "start", "text"].isna().all()
    lean = trace.events_df(payloads=False)
    assert "payload" not in lean and "data" not in lean
    assert lean.drop(columns=["tags"]).equals(frame.drop(columns=["payload", "data", "tags"]))


ODD_TEXT = 'a "quoted" word,\\ a back\\slash\nnew line\ttab \u2028 \U0001f99c \ud83d split \x00 end'


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_tokens_with_quotes_escapes_emoji_and_lone_surrogates_round_trip(tmp_path, suffix):
    if suffix != "jsonl":
        need_pyarrow()
    model = DemoChatModel(responses=[ODD_TEXT])
    collector = sv.Collector(name="odd")
    for _ in collector.stream(model, "hi"):
        pass
    trace = collector.trace
    path = tmp_path / f"odd.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert loaded.events == list(trace.events)
    (run,) = loaded.runs.values()
    assert run.output.content == ODD_TEXT
    if suffix == "jsonl":
        assert lines_without_header(store_jsonl(trace)) == lines_without_header(
            event_by_event_jsonl(trace)
        )


def test_a_replay_reads_the_recorded_events_instead_of_copying_them():
    import gc
    import tracemalloc

    trace = chain_trace(4_000)
    sv.Replay(trace, autoplay=False).close()  # imports and caches are not the replay's
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        player = sv.Replay(trace, autoplay=False)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept / len(trace) < 20  # its times column (8 B per event), no copy of the events
    player.seek(player.duration)
    assert player.trace.events == list(trace.events)
    player.close()


@pytest.mark.parametrize("edits", [3, 150])
def test_parquet_token_rows_edited_by_hand_are_read_as_written(tmp_path, edits):
    """A token row whose data no longer fits its run's skeleton is read in full, as written,
    also when it is as long as the rows that fit (the loader converts only the rows it expects
    to read in full, and then the rest of the batch when many more are)."""
    need_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    trace = chain_trace(400)
    path = tmp_path / "t.parquet"
    trace.save(path)
    table = pq.read_table(path)
    rows = table.to_pylist()
    tokens = [
        i for i, row in enumerate(rows) if row["event"] == "on_chat_model_stream" and row["text"]
    ][5 : 5 + edits]
    for i in tokens:  # the content edited in data only, the same length; text still the old one
        old = rows[i]["text"]
        rows[i]["data"] = rows[i]["data"].replace(
            f'"content":"{old}"', f'"content":"{"X" * len(old)}"'
        )
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    loaded = sv.Trace.load(path)
    assert len(loaded) == len(trace)
    for i in tokens:
        assert loaded.events[i]["data"]["chunk"].content == "X" * len(rows[i]["text"])
    untouched = [i for i in range(len(rows)) if i not in set(tokens)]
    events, original = loaded.events, trace.events
    assert [events[i] for i in untouched] == [original[i] for i in untouched]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
@pytest.mark.parametrize("kind", ["chain", "graph", "server"])
def test_a_loaded_trace_has_the_events_keys_in_their_order(tmp_path, kind, suffix):
    """Each event's keys come back in the order the trace had them (a graph part's ``mode``,
    ``ns`` and ``server_t`` before ``t``, ``seq`` and ``thread``), whatever the format."""
    if suffix != "jsonl":
        need_pyarrow()
    trace = TRACES[kind]()
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert [list(event) for event in loaded.events] == [list(event) for event in trace.events]
    assert loaded.events == trace.events


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_a_server_runs_tokens_are_saved_from_their_skeletons(tmp_path, monkeypatch, suffix):
    """A resumable server run's token rows (each with its ``server_t``) are written from their
    shape's skeleton, not encoded one event at a time, and read back as compact rows."""
    if suffix != "jsonl":
        need_pyarrow()
    import streamviz._columnar as columnar
    import streamviz._persistence as persistence

    trace = server_trace(2_000)
    tokens = sum(1 for event in trace.events if "server_t" in event) - 2
    encoded = []  # every event encoded on its own (the per-event path of each writer)
    by_event = persistence.encode_event_line
    by_row = columnar._Encoder.add
    monkeypatch.setattr(
        persistence, "encode_event_line", lambda e, i: encoded.append(i) or by_event(e, i)
    )
    monkeypatch.setattr(
        columnar._Encoder, "add", lambda self, e: encoded.append(e) or by_row(self, e)
    )
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    others = len(trace) - tokens
    assert len(encoded) < others + 20, (len(encoded), others)  # a skeleton per shape, not per token
    skeletons = []  # loading encodes a skeleton per shape learned, never one per line
    to_json = persistence.to_json
    monkeypatch.setattr(persistence, "to_json", lambda e: skeletons.append(1) or to_json(e))
    loaded = sv.Trace.load(path)
    assert len(skeletons) < 20
    assert loaded.events == trace.events
    blocks = [item for item in loaded.store.blocks() if not isinstance(item, dict)]
    assert sum(block.count for block in blocks) >= tokens


def test_files_written_by_commit_19d09db_load_as_the_same_events():
    """Trace files saved by an earlier version (tests/data/make_trace_files_v19d09db.py: a
    graph's parts, then a server run's, whose ``server_t`` that version kept in ``extra``) load
    as the same events, key order included, in every format; and save again equal."""
    need_pyarrow()
    data = Path(__file__).parent / "data"
    reference = sv.Trace.load(data / "trace_19d09db.jsonl")
    events = list(reference.events)
    assert sum("server_t" in event for event in events) == 42
    assert any(event.get("mode") == "messages" for event in events)
    for suffix in ("parquet", "arrow"):
        loaded = sv.Trace.load(data / f"trace_19d09db.{suffix}")
        assert loaded.name == "old"
        assert [list(e) for e in loaded.events] == [list(e) for e in events], suffix
        assert loaded.events == events, suffix
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("jsonl", "parquet", "arrow"):
            path = Path(folder) / f"again.{suffix}"
            reference.save(path)
            assert sv.Trace.load(path).events == events, suffix


def test_files_written_by_commit_1f2e935_load_as_the_same_events():
    """Trace files saved by commit 1f2e935 (tests/data/make_trace_files_v1f2e935.py: an agent's
    model calls with ``messages`` parts, whose metadata that version kept inside ``data``, then a
    server run) load as the same events, key order included, in every format."""
    need_pyarrow()
    data = Path(__file__).parent / "data"
    reference = sv.Trace.load(data / "trace_1f2e935.jsonl")
    events = list(reference.events)
    assert sum(event.get("mode") == "messages" for event in events) == 42
    assert sum("server_t" in event for event in events) == 14
    for suffix in ("parquet", "arrow"):
        loaded = sv.Trace.load(data / f"trace_1f2e935.{suffix}")
        assert loaded.name == "v1f2e935"
        assert [list(e) for e in loaded.events] == [list(e) for e in events], suffix
        assert loaded.events == events, suffix
        assert repr(list(loaded.events)) == repr(events), suffix

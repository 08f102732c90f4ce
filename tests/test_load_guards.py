"""Loading cannot hang or explode: cycles, deep trees, special files, memory, values out of range.

Every file here is written by hand, as a corrupt or hostile file would be; each load either
succeeds and everything reads the trace (the tree, the frames, the snapshot, the page), or
fails with a TraceFileError naming the file and the line (the row of a columnar file).
"""

from __future__ import annotations

import json
import os
import pathlib

import pandas as pd
import pytest
from helpers import need_pyarrow

import streamviz as sv
from streamviz import _persistence
from streamviz.export import write_html
from streamviz.presentation.tree import format_tree
from streamviz.widgets._encode import TraceEncoder

HEADER = {"format": "streamviz-trace", "version": 1, "streamviz": "0.1.0", "name": "hand-made"}


def event(run: str, parent: str | None, seq: int, kind: str = "on_chain_start", **extra):
    fields = {
        "event": kind, "name": f"step{run}", "run_id": run,
        "parent_ids": [] if parent is None else [parent], "tags": [], "metadata": {},
        "data": {}, "t": seq / 1000, "seq": seq,
    }  # fmt: skip
    fields.update(extra)
    return fields


def write(path: pathlib.Path, events: list, header: dict | None = None) -> pathlib.Path:
    lines = [json.dumps(HEADER if header is None else header)]
    lines += [item if isinstance(item, str) else json.dumps(item) for item in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def everything_reads(trace: sv.Trace, tmp_path: pathlib.Path) -> str:
    """What a user does with a loaded trace: each must work. Returns the tree's text."""
    for run in trace.runs.values():
        assert len(run.path) == run.depth + 1
    text = format_tree(trace.roots)
    assert len(trace.runs_df()) == len(trace.runs)
    assert len(trace.events_df()) == len(trace)
    snapshot = TraceEncoder(trace).snapshot()
    json.dumps(snapshot, allow_nan=False)  # what the page gets is plain, finite JSON
    page = write_html(trace, tmp_path / "page.html")
    assert page.stat().st_size > 0
    return text


# --- cycles ------------------------------------------------------------------------------------


def test_a_run_naming_itself_as_parent_loads_as_a_flagged_root(tmp_path):
    path = write(tmp_path / "self.jsonl", [event("a", "a", 0), event("b", "a", 1)])
    trace = sv.Trace.load(path)
    run = trace.runs["a"]
    assert run.cycle and run.parent is None and run.parent_id == "a"
    assert run.depth == 0 and run.path == ["stepa"]
    assert [child.run_id for child in run.children] == ["b"]
    assert trace.runs["b"].path == ["stepa", "stepb"]
    text = everything_reads(trace, tmp_path)
    assert "parent a is itself or below it: link not made" in text


def test_runs_naming_each_other_as_parents_load_as_a_tree(tmp_path):
    # a names b, b names c, c names a: a is adopted by b when b comes, and the link that would
    # close the loop (b below c, which is below a) is the one not made.
    events = [event("a", "b", 0), event("b", "c", 1), event("c", "a", 2)]
    trace = sv.Trace.load(write(tmp_path / "cycle.jsonl", events))
    assert [run.run_id for run in trace.roots] == ["b"]
    assert trace.runs["b"].cycle and not trace.runs["b"].orphan
    assert not trace.runs["a"].cycle and not trace.runs["c"].cycle
    assert trace.runs["c"].path == ["stepb", "stepa", "stepc"]
    assert [run.depth for run in trace.runs.values()] == [1, 0, 2]
    frame = trace.runs_df().set_index("run_id")
    assert frame.loc["c", "depth"] == 2
    assert trace.events_df()["path"].tolist() == [
        "stepb / stepa", "stepb", "stepb / stepa / stepc",
    ]  # fmt: skip
    everything_reads(trace, tmp_path)


# --- deep trees ----------------------------------------------------------------------------------

DEEP = 10_000


@pytest.fixture(scope="module")
def deep_chain(tmp_path_factory) -> sv.Trace:
    events = [event(str(i), str(i - 1) if i else None, i) for i in range(DEEP)]
    return sv.Trace.load(write(tmp_path_factory.mktemp("deep") / "deep.jsonl", events))


def test_a_chain_of_ten_thousand_runs_reads_everywhere(deep_chain, tmp_path):
    last = deep_chain.runs[str(DEEP - 1)]
    assert last.depth == DEEP - 1 and len(last.path) == DEEP
    text = everything_reads(deep_chain, tmp_path)
    lines = text.splitlines()
    assert len(lines) == DEEP
    assert f"└─[{DEEP - 1}] … step{DEEP - 1} [chain]" in lines[-1]
    assert max(map(len, lines)) < 400  # indentation stops growing: the text grows with the runs
    frame = deep_chain.runs_df()
    assert frame["depth"].tolist() == list(range(DEEP))
    path = deep_chain.events_df()["path"].iloc[-1]
    assert path.startswith("step0 / step1 / ") and path.endswith(f" / step{DEEP - 1}")
    assert f"… ({DEEP - 64:,} more) …" in path


# --- special files -------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(sv.TraceFileError, match="FIFO") as caught:
        sv.Trace.load(fifo)
    assert caught.value.path == str(fifo)
    with pytest.raises(sv.TraceFileError, match="not a regular file"):
        sv.replay(fifo, display=False)
    columnar = tmp_path / "run.parquet"
    os.mkfifo(columnar)
    with pytest.raises(sv.TraceFileError, match="FIFO"):
        sv.Trace.load(columnar)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(path):
    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    with pytest.raises(sv.TraceFileError, match="character device"):
        sv.Trace.load(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(sv.TraceFileError, match="is a directory"):
        sv.Trace.load(tmp_path)


# --- memory --------------------------------------------------------------------------------------


def test_a_line_of_empty_arrays_is_refused_before_it_is_parsed(tmp_path):
    # 6 MB of "[]," would take ~400 MB once parsed: over the default bound (16x + 64 MiB).
    arrays = "[" + ",".join(["[]"] * 2_000_000) + "]"
    path = write(tmp_path / "arrays.jsonl", [event("a", None, 0, data={"input": "x"}), arrays])
    with pytest.raises(sv.TraceFileError, match="more memory than the default bound") as caught:
        sv.Trace.load(path)
    assert caught.value.line == 3
    assert "max_bytes=" in str(caught.value) and str(path) in str(caught.value)


def test_max_bytes_bounds_a_load_and_raising_it_loads(tmp_path):
    items = {"input": {"items": list(range(50))}}
    events = [event(str(i), None, i, data=items) for i in range(200)]
    path = write(tmp_path / "run.jsonl", events)
    with pytest.raises(sv.TraceFileError, match=r"max_bytes=100,000") as caught:
        sv.Trace.load(path, max_bytes=100_000)
    assert caught.value.line is not None and caught.value.line > 1
    assert len(sv.Trace.load(path, max_bytes=50_000_000)) == 200
    with pytest.raises(ValueError, match="positive"):
        sv.Trace.load(path, max_bytes=0)


def test_a_columnar_data_text_of_empty_arrays_is_refused_with_its_row(tmp_path):
    need_pyarrow()
    import pyarrow.parquet as pq

    saved = tmp_path / "run.parquet"
    sv.Trace.load(write(tmp_path / "run.jsonl", [event("a", None, 0)])).save(saved)
    table = pq.read_table(saved)
    arrays = '{"input":[' + ",".join(["[]"] * 2_000_000) + "]}"
    column = table.schema.get_field_index("data")
    import pyarrow as pa

    table = table.set_column(column, table.schema.field(column), pa.array([arrays]))
    pq.write_table(table, saved, compression="zstd")
    assert saved.stat().st_size < 100_000  # it compresses to nothing: a bound by size alone
    with pytest.raises(sv.TraceFileError, match="more memory than") as caught:
        sv.Trace.load(saved)  # is not enough; the data text is charged before it is parsed
    assert caught.value.row == 0


# --- values out of range, malformed markers ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('"t": 1' + "0" * 400, "event key 't' must be a finite number"),
        ('"t": 1e308', "event key 't' must be a finite number"),
        ('"t": -1e10', "event key 't' must be a finite number"),
        ('"seq": 9223372036854775808', "event key 'seq' must be an integer"),
        ('"thread": -1', "event key 'thread' must be an integer from 0"),
        ('"thread": 18446744073709551616', "event key 'thread' must be an integer from 0"),
        ('"server_t": 1e300', "event key 'server_t' must be a finite number"),
        (
            '"data": {"input": {"__sv__": "timedelta", "value": [1000000000000, 0, 0]}}',
            "malformed 'timedelta' marker",
        ),
        ('"data": {"input": {"__sv__": "datetime", "value": "NaT"}}', "malformed 'datetime'"),
    ],
)
def test_values_out_of_range_are_refused_with_the_line(tmp_path, line, message):
    text = json.dumps(event("a", None, 0))
    key = line.split(":", 1)[0]
    fields = json.loads(text)
    fields.pop(json.loads(key), None)
    text = json.dumps(fields)[:-1] + ", " + line + "}"
    path = write(tmp_path / "run.jsonl", [event("z", None, 0), text])
    with pytest.raises(sv.TraceFileError) as caught:
        sv.Trace.load(path)
    assert str(caught.value).startswith(f"{path}, line 3: ")
    assert message in str(caught.value)


def test_a_header_name_that_is_not_text_is_refused_with_line_1(tmp_path):
    path = write(tmp_path / "run.jsonl", [event("a", None, 0)], {**HEADER, "name": 5})
    with pytest.raises(sv.TraceFileError, match=r"line 1: header key 'name' must be a string"):
        sv.Trace.load(path)


def test_an_event_without_data_loads_and_reads(tmp_path):
    fields = event("a", None, 0)
    del fields["data"]
    end = event("a", None, 1, "on_chain_end")
    trace = sv.Trace.load(write(tmp_path / "run.jsonl", [fields, end]))
    assert trace.runs["a"].status == "ok"
    everything_reads(trace, tmp_path)


def test_a_columnar_t_out_of_range_is_refused_with_its_row(tmp_path):
    need_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    saved = tmp_path / "run.parquet"
    events = [event("a", None, 0), event("a", None, 1, "on_chain_end")]
    sv.Trace.load(write(tmp_path / "run.jsonl", events)).save(saved)
    table = pq.read_table(saved)
    column = table.schema.get_field_index("t")
    table = table.set_column(column, table.schema.field(column), pa.array([0.0, 1e308]))
    pq.write_table(table, saved)
    with pytest.raises(sv.TraceFileError, match="event key 't' must be a finite number") as caught:
        sv.Trace.load(saved)
    assert caught.value.row == 1


# --- saving: one value cannot fail the whole save -------------------------------------------------


@pytest.mark.parametrize("name", ["run.jsonl", "run.parquet"])
def test_an_int_beyond_4300_digits_is_saved_as_a_marked_repr(tmp_path, name):
    if name.endswith(".parquet"):
        need_pyarrow()
    big = 7**20_000
    start = event("a", None, 0, data={"input": {"n": big, "ok": 1}})
    trace = sv.Trace.from_events([start, event("a", None, 1, "on_chain_end")])
    trace.save(tmp_path / name)
    value = sv.Trace.load(tmp_path / name).runs["a"].input
    assert value["ok"] == 1
    assert value["n"].reason == "repr" and value["n"].type == "builtins.int"
    assert value["n"].repr.startswith(hex(big)[:20])
    assert "digits" in value["n"].error


def test_a_value_over_the_line_limit_is_saved_as_a_marked_repr(tmp_path, monkeypatch):
    monkeypatch.setattr(_persistence, "MAX_LINE_BYTES", 400_000)  # 64 MiB in real life
    huge = "x" * 500_000
    end = event("a", None, 1, "on_chain_end", data={"output": huge})
    trace = sv.Trace.from_events([event("a", None, 0, data={"input": {"q": "small"}}), end])
    trace.save(tmp_path / "run.jsonl")
    loaded = sv.Trace.load(tmp_path / "run.jsonl")
    run = loaded.runs["a"]
    assert run.input == {"q": "small"} and run.status == "ok"
    assert run.output.reason == "repr" and "left out" in run.output.error
    assert run.output.repr.startswith('"xxxx')


@pytest.mark.parametrize("name", ["run.jsonl", "run.parquet"])
def test_nat_and_nanosecond_timestamps_round_trip(tmp_path, name):
    if name.endswith(".parquet"):
        need_pyarrow()
    stamp = pd.Timestamp("2026-12-07 05:20:00.123456789", tz="UTC")
    data = {"input": {"missing": pd.NaT, "at": stamp, "plain": pd.Timestamp("2026-01-01")}}
    trace = sv.Trace.from_events([event("a", None, 0, data=data)])
    trace.save(tmp_path / name)
    value = sv.Trace.load(tmp_path / name).runs["a"].input
    assert value["missing"] is pd.NaT
    assert value["at"] == stamp and value["at"].nanosecond == 789
    assert value["plain"] == pd.Timestamp("2026-01-01")


def test_a_parquet_file_is_refused_before_its_rows_are_read_past_max_bytes(tmp_path):
    need_pyarrow()
    events = [event(str(i), None, i, data={"input": "x" * 200}) for i in range(100)]
    saved = tmp_path / "run.parquet"
    sv.Trace.from_events(events).save(saved)
    with pytest.raises(sv.TraceFileError, match=r"a row group holds [\d,]+ bytes once") as caught:
        sv.Trace.load(saved, max_bytes=5_000)
    assert caught.value.path == str(saved) and caught.value.row is None
    assert len(sv.Trace.load(saved)) == 100

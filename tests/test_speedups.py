"""The C speedups (streamviz/_speedups.c) record exactly what the Python paths record.

`make test` builds them (the install's build hook); each workload below runs once with them and
once with the Python paths they stand for, in one process, and must give the same events, the
same stored rows and the same run counters. Without a C compiler streamviz runs the Python paths
only: ``STREAMVIZ_PURE_PYTHON=1`` gives that build, and the last test runs the store's, the
collector's and the trace files' tests under it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import need_pyarrow
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.prompts import ChatPromptTemplate
from langgraph.graph import END, START, MessagesState, StateGraph

import streamviz as sv
from streamviz import _columnar, _errors, _log
from streamviz.demo import DemoChatModel, DemoToolModel
from streamviz.sources import callbacks, graph

ROOT = Path(__file__).resolve().parent.parent
SPEEDUPS = _log.speedups
PURE = os.environ.get("STREAMVIZ_PURE_PYTHON") == "1"
needs_speedups = pytest.mark.skipif(PURE, reason="STREAMVIZ_PURE_PYTHON=1: no C paths")


def use_speedups(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    for module in (_log, callbacks, graph):
        monkeypatch.setattr(module, "speedups", SPEEDUPS if on else None)


@needs_speedups
def test_the_speedups_are_built_and_taken():
    """`make test` installs streamviz with its C speedups: a missing compiler shows here."""
    assert SPEEDUPS is not None, "streamviz/_speedups.c was not built (see hatch_build.py)"
    collector = sv.Collector()
    assert type(collector.on_llm_new_token) is SPEEDUPS.TokenCallback
    fields = {"event": "on_chat_model_stream", "name": "m", "run_id": "r", "parent_ids": [],
              "tags": [], "metadata": {}}  # fmt: skip
    assert type(collector.trace.store.stream_writer(None, fields)) is SPEEDUPS.Writer


# ---------------------------------------------------------------------------- workloads
def chain_run() -> sv.Trace:
    prompt = ChatPromptTemplate.from_messages([("user", "tell me about {topic}")])
    chain = prompt | DemoChatModel(token_delay=0, time_to_first_token=0) | StrOutputParser()
    with sv.capture() as trace:
        for _ in chain.stream({"topic": "parrots"}):
            pass
    return trace


def usage_on_every_chunk() -> sv.Trace:
    """Chunks carrying usage: not plain, so kept whole (the Python path, from the C one)."""
    model = DemoChatModel(token_delay=0, time_to_first_token=0, usage="every")
    with sv.capture() as trace:
        for _ in model.stream("hello"):
            pass
    return trace


def tool_calls() -> sv.Trace:
    model = DemoToolModel()
    with sv.capture() as trace:
        for _ in model.stream("what is the weather in Paris?"):
            pass
    return trace


def agent_graph(
    models: list[DemoChatModel] | None = None, names: tuple[str, str] = ("first", "second")
) -> sv.Trace:
    """A two-node graph streamed with updates and messages (a token's two rows)."""
    if models is None:
        models = [DemoChatModel(token_delay=0, time_to_first_token=0, seed=s) for s in (1, 2)]

    def first(state: MessagesState) -> dict[str, Any]:
        return {"messages": [models[0].invoke(state["messages"])]}

    def second(state: MessagesState) -> dict[str, Any]:
        return {"messages": [models[1].invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node(names[0], first)
    builder.add_node(names[1], second)
    builder.add_edge(START, names[0])
    builder.add_edge(names[0], names[1])
    builder.add_edge(names[1], END)
    return sv.watch(
        builder.compile(),
        {"messages": [("user", "tell me a joke")]},
        display=False,
        stream_mode=["updates", "messages"],
    )


def odd_chunks() -> sv.Trace:
    """A stream whose chunks change: an id, a field set, extra content kinds, the same object."""
    trace = sv.Trace()
    store = trace.store
    fields = {"name": "m", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    run = store.append({**fields, "event": "on_chat_model_start", "data": {}})
    write = store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
    parts = store.stream_writer(None, {**fields, "event": "on_chat_model_stream", "mode": "x"})
    metadata = {"langgraph_node": "n"}
    same = AIMessageChunk(content="again", id="a")
    chunks: list[Any] = [
        AIMessageChunk(content="one", id="a"),
        AIMessageChunk(content="two", id="a"),
        same,
        same,  # the previous row's object again
        AIMessageChunk(content="three", id="b"),  # another id: kept whole
        AIMessageChunk(content="four", id="a", name="named"),  # another field set
        AIMessageChunk(content="five", id="a"),
        AIMessageChunk(content=[{"type": "text", "text": "six"}], id="a"),  # not a str
        AIMessageChunk(content="seven", id="a", response_metadata={"x": 1}),
        "a plain str",
        None,
        None,
        {"a": "dict"},
    ]
    for chunk in chunks:
        write(chunk)
    for chunk in chunks[:3]:
        parts((chunk, metadata))  # a LangGraph "messages" part
    parts([chunks[0], metadata])  # as a list (a server's JSON)
    parts((chunks[1], dict(metadata)))  # equal metadata, another object
    parts((chunks[1], {"langgraph_node": "other"}))  # other metadata: kept whole
    return trace


def with_a_subscriber() -> sv.Trace:
    """While someone subscribes, every row takes the full path: the C writer hands it over."""
    trace = sv.Trace()
    seen: list[dict[str, Any]] = []
    trace.store.subscribe(seen.append)
    model = DemoChatModel(token_delay=0, time_to_first_token=0)
    with sv.capture(trace) as captured:
        for _ in model.stream("hello"):
            pass
    assert len(seen) == len(captured)
    return captured


WORKLOADS = {
    "chain": chain_run,
    "usage": usage_on_every_chunk,
    "tools": tool_calls,
    "graph": agent_graph,
    "odd": odd_chunks,
    "subscriber": with_a_subscriber,
}

_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded(trace: sv.Trace) -> dict[str, Any]:
    """What a run records, with what differs from run to run (ids, times, threads) taken out."""
    names: dict[str, str] = {}

    def name_of(match: re.Match) -> str:
        return names.setdefault(match.group(0), f"id{len(names)}")

    events = []
    for event in trace.events:
        event = {k: v for k, v in event.items() if k not in ("t", "thread", "seq")}
        events.append(_IDS.sub(name_of, repr(event)))
    # The stream of each run (or part mode) in order; across threads only the set is fixed.
    streams: dict[str, list[str]] = {}
    for text in events:
        key = re.search(r"'run_id': '([^']*)'", text)
        mode = re.search(r"'mode': '([^']*)'", text)
        streams.setdefault(f"{key and key.group(1)}/{mode and mode.group(1)}", []).append(text)
    runs = sorted(
        (run.name, run.run_type, run.status, run.chunk_count, run.first_chunk is None)
        for run in trace.runs.values()
    )
    store = trace.store
    return {
        "events": Counter(events),
        "streams": streams,
        "runs": runs,
        "kinds": Counter(store._kind.tolist()),  # how each row's chunk is stored
    }


@needs_speedups
@pytest.mark.parametrize("workload", WORKLOADS)
def test_c_and_python_record_the_same(workload, monkeypatch):
    use_speedups(monkeypatch, True)
    with_c = recorded(WORKLOADS[workload]())
    use_speedups(monkeypatch, False)
    in_python = recorded(WORKLOADS[workload]())
    assert with_c["runs"] == in_python["runs"]
    assert with_c["streams"] == in_python["streams"]
    assert with_c["events"] == in_python["events"]
    assert with_c["kinds"] == in_python["kinds"]
    if workload in ("chain", "graph", "odd"):  # packed rows were written by the C path
        assert any(kind >= 0 for kind in with_c["kinds"])


@needs_speedups
def test_the_c_writer_counts_and_times_its_run():
    trace = sv.Trace()
    store = trace.store
    fields = {"name": "m", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    run = store.append({**fields, "event": "on_chat_model_start", "data": {}})
    write = store.stream_writer(run, {**fields, "event": "on_chat_model_stream"})
    assert type(write) is SPEEDUPS.Writer
    for text in ("a", "b", "c"):
        write(AIMessageChunk(content=text, id="x"))
    times = [event["t"] for event in trace.events[1:]]
    assert run.chunk_count == 3
    assert run.first_chunk == times[0] and run.last_chunk == times[-1]
    assert times == sorted(times) and times[0] >= trace.events[0]["t"]
    assert [event["data"]["chunk"].content for event in trace.events[1:]] == ["a", "b", "c"]


@needs_speedups
def test_an_error_in_a_c_path_is_reported_not_raised():
    """The collector never breaks the program: a writer failing under the C token callback is
    logged and counted, as the Python method does."""
    collector = sv.Collector()
    model = DemoChatModel(token_delay=0, time_to_first_token=0)
    key = "Collector.on_llm_new_token:ValueError"
    before = _errors.internal_error_counts().get(key, 0)

    def broken(chunk: Any) -> None:
        raise ValueError("a writer that fails")

    failing = collector.trace.store.stream_writer

    def writer_that_fails(run: Any, fields: dict[str, Any]) -> Any:
        failing(run, fields)
        return broken

    collector.trace.store.stream_writer = writer_that_fails  # type: ignore[method-assign]
    text = "".join(chunk.content for chunk in model.stream("hello", {"callbacks": [collector]}))
    assert text  # the program got its stream
    failures = _errors.internal_error_counts().get(key, 0) - before
    assert failures > 1  # every token's (the first goes through the Python method, the rest C)


@needs_speedups
def test_a_keyboard_interrupt_in_a_c_path_is_not_swallowed():
    collector = sv.Collector()
    run_id = object()

    def interrupted(chunk: Any) -> None:
        raise KeyboardInterrupt

    class Info:
        live = True
        tapped = False

    collector._token_run = (run_id, Info(), interrupted)
    chunk = ChatGenerationChunk(message=AIMessageChunk(content="x"))
    with pytest.raises(KeyboardInterrupt):
        collector.on_llm_new_token("x", chunk=chunk, run_id=run_id)


# ---------------------------------------------------------------------------- loading
# A Parquet or Arrow file's token rows are stored compactly when their ``data`` is the shape's
# pieces around their ``text`` as a JSON string that needs no escape: streamviz/_columnar.py
# tests that in C (plain_texts, rows_fit) and, without the speedups, with Arrow compute.
TEXTS = [
    "hello",
    "",
    " a",
    "héllo wörld",
    "日本語",
    "🦜 parrot 🦜",
    "del\x7f",
    "\u2028 and \ufeff",  # not escaped by JSON
    'say "hi"',
    "back\\slash",
    "line\nbreak",
    "unit\x1fsep",
    "nul\x00",
    "tab\t",
    'é"',
    "🦜\\",
    "\x1f",
    '"',
    "\\",
    "end",
]


def is_plain(text: str) -> bool:
    """The rule: a text is its JSON string's inside if it holds no quote, backslash or control."""
    return not any(c in '"\\' or ord(c) < 0x20 for c in text)


def arrow() -> Any:
    need_pyarrow()
    import pyarrow

    return pyarrow


def shifted(pa: Any, values: list[Any], shift: int, kind: Any = None) -> Any:
    """``values`` as an Arrow array at offset ``shift`` (a slice of a longer array)."""
    padding = ['padding \\ " \x01 🦜'] * shift
    array = pa.array(padding + values, type=kind or pa.string())
    return array.slice(shift)


def c_plain_texts(array: Any) -> list[bool]:
    _, offsets, values = array.buffers()
    return [bool(flag) for flag in SPEEDUPS.plain_texts(offsets, values, array.offset, len(array))]


@needs_speedups
@pytest.mark.parametrize("shift", [0, 3])
def test_plain_texts_tells_the_texts_needing_no_escape(shift):
    pa = arrow()
    array = shifted(pa, TEXTS, shift)
    assert array.offset == shift
    assert c_plain_texts(array) == [is_plain(text) for text in TEXTS]
    assert c_plain_texts(array.slice(5, 4)) == [is_plain(text) for text in TEXTS[5:9]]
    assert c_plain_texts(array.slice(0, 0)) == []
    for text in TEXTS:  # each alone (its bytes at the end of the buffer)
        assert c_plain_texts(pa.array([text])) == [is_plain(text)], repr(text)


@needs_speedups
def test_plain_texts_of_empty_and_null_strings():
    pa = arrow()
    assert c_plain_texts(pa.array(["", "", ""])) == [True, True, True]
    texts = [None, "a", None, 'b"', None]
    flags = c_plain_texts(pa.array(texts))  # a null row: masked by the caller, no crash
    assert len(flags) == 5 and flags[1] and not flags[3]
    offsets = pa.array(["", ""]).buffers()[1]
    with pytest.raises(ValueError, match="offsets"):
        SPEEDUPS.plain_texts(offsets, None, 0, 3)  # more rows than offsets


@needs_speedups
def test_empty_strings_without_a_values_buffer():
    """Every string empty and no values buffer (None, which the C functions accept for that):
    an empty text is still plain, and a row of empty pieces around it still fits."""
    import numpy as np

    pa = arrow()
    offsets = pa.array(["", ""]).buffers()[1]
    assert list(SPEEDUPS.plain_texts(offsets, None, 0, 2)) == [1, 1]
    data = pa.array(['""', '{"a":""}'])
    _, data_offsets, data_values = data.buffers()
    fits = SPEEDUPS.rows_fit(
        data_offsets, data_values, 0, False, offsets, None, 0, 2,
        np.array([0, 1], dtype=np.int64), np.array([0, 1], dtype=np.int64),
        [b'"', b'{"a":"'], [b'"', b'"}'],
    )  # fmt: skip
    assert list(fits) == [1, 1]


@pytest.mark.parametrize("shift", [0, 3])
@pytest.mark.parametrize("c", [pytest.param(True, marks=needs_speedups), False])
def test_the_loaders_plain_texts_with_and_without_c(monkeypatch, c, shift):
    """The loader's test (C or Arrow's regex): the rule, and False for a null text."""
    pa = arrow()
    monkeypatch.setattr(_columnar, "speedups", SPEEDUPS if c else None)
    texts = [*TEXTS, None]
    plain = _columnar._plain_texts(pa, shifted(pa, texts, shift))
    assert plain.tolist() == [text is not None and is_plain(text) for text in texts]


# The pieces of data around a token's JSON string, as a shape gives them (without the quotes).
PIECES: list[tuple[str | None, str | None]] = [
    ('{"chunk":{"content":', ',"id":"run-1"}}'),
    ('{"chunk":[{"content":', ',"id":"é🦜"},{"node":"n"}]}'),
    ("", ""),
    (None, "}"),  # no such piece: a row never fits
    ('{"a":', None),
]


def data_of(which: int, text: str) -> str:
    before, after = PIECES[which]
    return f'{before}"{text}"{after}'


def fit_cases() -> list[tuple[str, Any, Any, int]]:
    """(what, data, text, which): rows of every kind that fits and of every way not to fit."""
    cases: list[tuple[str, Any, Any, int]] = []
    for text in TEXTS:
        for which in (0, 1, 2):
            cases.append(("fits", data_of(which, text), text, which))
    text = "héllo 🦜"
    good = data_of(1, text)
    cases += [
        ("empty text", data_of(0, ""), "", 0),
        ("one byte longer", good + " ", text, 1),
        ("one byte longer inside", good.replace('"hé', '" hé'), text, 1),
        ("one byte shorter", good[:-1], text, 1),
        ("one character shorter", good.replace("🦜", "", 1), text, 1),
        ("empty data", "", text, 1),
        ("empty data and pieces", "", "", 2),
        ("before differs", "[" + good[1:], text, 1),
        ("before differs in its last byte", good.replace(':"hé', ' "hé'), text, 1),
        ("text differs", good.replace("héllo", "hallo"), text, 1),
        ("text differs in one UTF-8 byte", good.replace("é", "è", 1), text, 1),
        ("text differs in its last byte", data_of(1, "héllo 🦝"), text, 1),
        ("text escaped in data", data_of(1, "h\\u00e9llo 🦜"), text, 1),
        ("after differs", good[:-1] + ")", text, 1),
        ("after differs in its first byte", good.replace('🦜",', "🦜' ,"), text, 1),
        ("another key's pieces", data_of(0, text), text, 1),
        ("no piece before", '"x"}', "x", 3),
        ("no piece after", '{"a":"x"', "x", 4),
        ("which negative", data_of(0, "x"), "x", -1),
        ("which past the pieces", data_of(0, "x"), "x", len(PIECES)),
        ("which far past", data_of(0, "x"), "x", 2**40),
        ("null data", None, "x", 0),
        ("null text", data_of(0, "x"), None, 0),
        ("null both", None, None, 2),
    ]
    return cases


def fits_by_the_rule(data: Any, text: Any, which: int) -> bool:
    if not 0 <= which < len(PIECES) or data is None or text is None:
        return False
    before, after = PIECES[which]
    return before is not None and after is not None and data == f'{before}"{text}"{after}'


def c_rows_fit(data: Any, text: Any, rows: list[int], which: list[int]) -> list[bool]:
    """SPEEDUPS.rows_fit called as _Checker._fits calls it."""
    import numpy as np

    pa = arrow()
    _, data_offsets, data_values = data.buffers()
    _, text_offsets, text_values = text.buffers()
    befores = [_columnar._piece_bytes(_columnar._quoted(piece[0], True)) for piece in PIECES]
    afters = [_columnar._piece_bytes(_columnar._quoted(piece[1], False)) for piece in PIECES]
    fits = SPEEDUPS.rows_fit(
        data_offsets,
        data_values,
        data.offset,
        pa.types.is_large_string(data.type),
        text_offsets,
        text_values,
        text.offset,
        len(data),
        np.array(rows, dtype=np.int64),
        np.array(which, dtype=np.int64),
        befores,
        afters,
    )
    assert type(fits) is bytes and len(fits) == len(rows)
    assert set(fits) <= {0, 1}
    return [bool(flag) for flag in fits]


@needs_speedups
@pytest.mark.parametrize("wide", [False, True], ids=["string", "large_string"])
@pytest.mark.parametrize(("data_shift", "text_shift"), [(0, 0), (3, 3), (5, 2), (0, 4)])
def test_rows_fit_follows_the_rule(wide, data_shift, text_shift):
    pa = arrow()
    cases = fit_cases()
    datas = [case[1] for case in cases]
    texts = [case[2] for case in cases]
    data = shifted(pa, datas, data_shift, pa.large_string() if wide else pa.string())
    text = shifted(pa, texts, text_shift)
    assert (data.offset, text.offset) == (data_shift, text_shift)
    rows = list(range(len(cases)))
    which = [case[3] for case in cases]
    got = c_rows_fit(data, text, rows, which)
    expected = [fits_by_the_rule(*case[1:]) for case in cases]
    assert expected.count(True) > len(TEXTS)  # (the rule's own sanity)
    by_case = [(case[0], repr(case[2]), case[3]) for case in cases]
    masked = [case[1] is None or case[2] is None for case in cases]  # null rows: the caller's
    assert [g for g, m in zip(got, masked, strict=True) if not m] == [
        e for e, m in zip(expected, masked, strict=True) if not m
    ], [c for c, g, e in zip(by_case, got, expected, strict=True) if g != e]
    # Some rows, out of order and repeated, each with its own piece.
    chosen = [len(cases) - 6, 0, 7, 7, 3, len(TEXTS) * 3 + 1, 1]
    chosen = [row for row in chosen if not masked[row]]
    assert c_rows_fit(data, text, chosen, [which[row] for row in chosen]) == [
        expected[row] for row in chosen
    ]
    assert c_rows_fit(data, text, [], []) == []
    # Rows outside the array: not fit (the caller never asks; no read past the buffers).
    assert c_rows_fit(data, text, [-1, len(cases), len(cases) + 10**6], [0, 0, 0]) == [
        False,
        False,
        False,
    ]


@needs_speedups
def test_rows_fit_refuses_bad_arguments():
    import numpy as np

    pa = arrow()
    data = pa.array([data_of(0, "x")])
    text = pa.array(["x"])
    _, data_offsets, data_values = data.buffers()
    _, text_offsets, text_values = text.buffers()
    rows = np.zeros(1, dtype=np.int64)

    def call(befores: Any, afters: Any, which: Any = rows, length: int = 1) -> Any:
        return SPEEDUPS.rows_fit(
            data_offsets, data_values, 0, False, text_offsets, text_values, 0, length,
            rows, which, befores, afters,
        )  # fmt: skip

    before, after = (PIECES[0][0] + '"').encode(), ('"' + PIECES[0][1]).encode()
    assert call([before], [after]) == b"\x01"
    assert call([None], [after]) == call([before], [None]) == b"\x00"
    with pytest.raises(ValueError, match="as many pieces"):
        call([b""], [])
    with pytest.raises(TypeError, match="bytes or None"):
        call(['{"chunk":{"content":"'], [b"x"])
    with pytest.raises(ValueError, match="one length"):
        call([b""], [b""], which=np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="offsets"):
        call([b""], [b""], length=2)


# Traces to save and load: tokens plain and not, of a chain, a graph and a long run.
ESCAPES = 'He said "hi" \\ back\\slash\nnew line\ttab \x1f unit, é ü 日本 🦜 \u2028 end "'
FAST = {"token_delay": 0, "time_to_first_token": 0}


def escaped_tokens() -> sv.Trace:
    """Tokens needing JSON escapes (kept whole) between plain ones, ASCII and not."""
    prompt = ChatPromptTemplate.from_messages([("user", 'say "{topic}"')])
    model = DemoChatModel(responses=[ESCAPES, "plain 🦜 then \\ and \x00"], **FAST)
    chain = prompt | model | StrOutputParser()
    with sv.capture() as trace:
        for topic in ("a\\b", 'c"d'):
            for _ in chain.stream({"topic": topic}):
                pass
    return trace


def escaped_graph() -> sv.Trace:
    """A graph's updates and messages parts whose tokens need escapes."""
    models = [DemoChatModel(responses=[ESCAPES[::-1], ESCAPES], seed=i, **FAST) for i in (1, 2)]
    return agent_graph(models, ("first 🦜", 'se"cond'))


def long_run() -> sv.Trace:
    """One run of more tokens than the loader compares in Python one key at a time."""
    words = [f" w{i}" if i % 97 else ' "q"' for i in range(_columnar._FEW_ROWS + 500)]
    model = DemoChatModel(responses=["".join(words)], **FAST)
    with sv.capture() as trace:
        for _ in model.stream("hello"):
            pass
    return trace


LOADED_WORKLOADS = {
    "chain": chain_run,
    "graph": agent_graph,
    "escapes": escaped_tokens,
    "escaped graph": escaped_graph,
    "long": long_run,
    "tools": tool_calls,
    "usage": usage_on_every_chunk,
}
# How a trace is saved: as streamviz writes it, or rewritten by pyarrow. streamviz writes a text
# only for the rows it stores compactly, all of which fit; the last two give the loader rows that
# look like tokens (a text needing no escape, beside a known shape's data) but do not fit.
FILE_KINDS = [
    "parquet",
    "arrow",
    "arrow large_string",  # data as large_string: 64-bit offsets
    "arrow small batches",  # batches of 7 rows
    "parquet texts everywhere",  # a null text made "" (the rows carrying usage, say)
    "arrow texts shifted",  # each token row's text the next token row's
]


def read_table(path: Path) -> Any:
    pa = arrow()
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    return pa.ipc.open_file(pa.py_buffer(path.read_bytes())).read_all()


def write_table(path: Path, table: Any, batch_rows: int | None = None) -> None:
    pa = arrow()
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
        return
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)


def with_column(table: Any, name: str, values: Any) -> Any:
    pa = arrow()
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    return table.set_column(table.schema.get_field_index(name), pa.field(name, values.type), values)


def save(trace: sv.Trace, directory: Path, kind: str) -> Path:
    """``trace`` saved as a file of ``kind`` (see FILE_KINDS)."""
    pa = arrow()
    path = directory / f"trace.{kind.split()[0]}"
    trace.save(path)
    if " " not in kind:
        return path
    table = read_table(path)
    texts = table["text"].to_pylist()
    if kind.endswith("large_string"):
        table = with_column(table, "data", table["data"].combine_chunks().cast(pa.large_string()))
    elif kind.endswith("texts everywhere"):
        table = with_column(table, "text", ["" if text is None else text for text in texts])
    elif kind.endswith("texts shifted"):
        rows = [row for row, text in enumerate(texts) if text is not None]
        for row, following in itertools.pairwise(rows):
            texts[row] = texts[following]
        table = with_column(table, "text", texts)
    write_table(path, table, 7 if kind.endswith("small batches") else None)
    return path


class CountingSpeedups:
    """The speedups, counting the calls of the loader's two functions."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(SPEEDUPS, name)

    def plain_texts(self, *args: Any) -> Any:
        self.calls["plain_texts"] += 1
        return SPEEDUPS.plain_texts(*args)

    def rows_fit(self, *args: Any) -> Any:
        self.calls["rows_fit"] += 1
        return SPEEDUPS.rows_fit(*args)


def stored(trace: sv.Trace) -> dict[str, list[int]]:
    """How the store keeps each event: which are compact rows, and how each row's chunk is."""
    store = trace.store
    return {"entries": list(store._entries), "kinds": list(store._kind)}


def load(path: Path, monkeypatch: pytest.MonkeyPatch, c: bool) -> tuple[Any, ...]:
    """The trace loaded with the C tests or the Arrow ones: (events, stored), or the error."""
    speedups = CountingSpeedups() if c else None
    monkeypatch.setattr(_columnar, "speedups", speedups)
    try:
        trace = sv.Trace.load(path)
    except sv.TraceFileError as error:
        return ("error", str(error), error.row)
    finally:
        monkeypatch.setattr(_columnar, "speedups", SPEEDUPS)
    if speedups is not None:
        assert speedups.calls["plain_texts"] >= 1  # the C paths were taken
    return (list(trace.events), stored(trace))


@needs_speedups
@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize("workload", LOADED_WORKLOADS)
def test_c_and_python_load_the_same(workload, kind, tmp_path, monkeypatch):
    trace = LOADED_WORKLOADS[workload]()
    path = save(trace, tmp_path, kind)
    with_c = load(path, monkeypatch, True)
    in_python = load(path, monkeypatch, False)
    assert with_c[0] == in_python[0]
    assert with_c[0] == list(trace.events)
    assert with_c[1] == in_python[1]
    if workload not in ("tools", "usage"):  # (whose chunks are kept whole)
        assert any(kind >= 0 for kind in with_c[1]["kinds"])  # token rows stored compactly
    if workload in ("escapes", "escaped graph", "long"):  # and some not: their text needs escapes
        texts = [
            event["data"]["chunk"].content
            for event in trace.events
            if event["event"] == "on_chat_model_stream"
        ]
        assert any(not is_plain(text) for text in texts)
        assert any(is_plain(text) for text in texts)


# One token row of a saved file edited by hand: the loader then decodes it in full, or refuses
# the file, the same way with and without the C tests. Each edit: the row's new data and text,
# and what the row's event is then ("same": the saved event; "error": the file refused;
# ("content", token): its chunk's token; ("id",): its chunk's id edited; ("data", value): its data).
def edit_data(data: str, text: str) -> dict[str, tuple[str | None, str | None, Any]]:
    inside = f'"content":"{text}"'
    assert data.count(inside) == 1
    other = text[:-1] + ("x" if text[-1] != "x" else "y")
    escaped = f"\\u{ord(text[0]):04x}" + text[1:]
    return {
        "token changed in data": (
            data.replace(inside, f'"content":"{other}"'),
            text,
            ("content", other),
        ),
        "a byte less in data": (
            data.replace(inside, f'"content":"{text[:-1]}"'),
            text,
            ("content", text[:-1]),
        ),
        "token escaped in data": (data.replace(inside, f'"content":"{escaped}"'), text, "same"),
        "a space in data": (data.replace('{"chunk":{', '{"chunk": {', 1), text, "same"),
        # the pieces before and after the token changed, the data as long
        "key changed in data": (data.replace('{"chunk":{', '{"chunK":{', 1), text, ("chunK",)),
        "id changed in data": (data.replace('"id":"lc_run--', '"id":"lc_run-X', 1), text, ("id",)),
        "token changed in text": (data, other, "same"),
        "text cut": (data, text[:-1], "same"),
        "text longer": (data, text + "x", "same"),
        "text null": (data, None, "same"),
        "data not JSON": (data[:-1], text, "error"),
        "a byte after the data's JSON": (data + "x", text, "error"),
        "data empty": ("", text, "error"),
        "data another chunk": ('{"chunk":"' + text + '"}', text, ("data", {"chunk": text})),
        "data null": (None, text, ("data", {})),
    }


EDITS = list(edit_data('{"chunk":{"content":"ab"}}', "ab"))


@needs_speedups
@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
@pytest.mark.parametrize("edit", EDITS)
def test_a_token_row_edited_by_hand_loads_the_same_with_c(edit, suffix, tmp_path, monkeypatch):
    trace = escaped_tokens()
    path = tmp_path / f"trace.{suffix}"
    trace.save(path)
    table = read_table(path)
    datas, texts = table["data"].to_pylist(), table["text"].to_pylist()
    # A token row in the middle of its run, its text long enough to change and plain.
    rows = [
        row
        for row, text in enumerate(texts)
        if text is not None and len(text) > 2 and is_plain(text) and f'"{text}"' in datas[row]
    ]
    row = rows[len(rows) // 2]
    assert texts[row - 1] is not None  # (not the first of its run)
    unedited = load(path, monkeypatch, True)
    assert unedited == load(path, monkeypatch, False)
    assert unedited[0] == list(trace.events)
    assert unedited[1]["entries"][row] >= 0  # stored compactly before the edit
    assert unedited[1]["kinds"][unedited[1]["entries"][row]] >= 0  # (as a packed chunk)
    datas[row], texts[row], expected = edit_data(datas[row], texts[row])[edit]
    write_table(path, with_column(with_column(table, "data", datas), "text", texts))
    with_c = load(path, monkeypatch, True)
    in_python = load(path, monkeypatch, False)
    assert with_c == in_python  # the same events and rows, or the same error
    if expected == "error":
        assert with_c[0] == "error" and with_c[2] == row
        return
    events = with_c[0]
    assert events[:row] + events[row + 1 :] == trace.events[:row] + trace.events[row + 1 :]
    saved = trace.events[row]["data"]["chunk"]
    if expected == "same":
        assert events[row] == trace.events[row]
    elif expected == ("chunK",):
        assert events[row]["data"] == {"chunK": saved}
    elif expected == ("id",):
        chunk = events[row]["data"]["chunk"]
        edited_id = saved.id.replace("lc_run--", "lc_run-X")
        assert (chunk.id, chunk.content) == (edited_id, saved.content)
    elif expected[0] == "content":
        chunk = events[row]["data"]["chunk"]
        assert (chunk.id, chunk.content) == (saved.id, expected[1])
    else:
        assert events[row]["data"] == expected[1]


# ---------------------------------------------------------------------------- same_json
def json_values() -> list[Any]:
    """Values as JSON parses them, some equal in Python but not as JSON text."""
    nan = float("nan")
    return [
        1, 1.0, True, 0, 0.0, -0.0, False, None, nan, float("inf"), -float("inf"), 10**30,
        "", "1", "é", "\U0001f600", "a\x00b", "\ud800",
        [], [1], [1.0], [[]], [1, [2, [3]]], [nan], {"a": [1, {"b": None}]},
        {}, {"a": 1}, {"a": 1.0}, {"a": True}, {"a": 1, "b": 2}, {"b": 2, "a": 1},
        {"__sv__": "lc", "type": "HumanMessage", "fields": {"content": "hi", "id": "m-1"}},
        {"__sv__": "lc", "type": "HumanMessage", "fields": {"id": "m-1", "content": "hi"}},
        {"__sv__": "lc", "type": "HumanMessage", "fields": {"content": "hi", "id": "m-2"}},
    ]  # fmt: skip


@needs_speedups
def test_same_json_tells_apart_what_the_exact_keys_tell_apart():
    """The C comparison a load shares LangChain objects by is the Python keys' rule: the same
    types, key order and sign of zero at every level; NaN is NaN."""
    from streamviz._serialization import _json_key

    values = json_values()
    copies = json.loads(json.dumps(values))  # equal values as other objects, parsed
    copies[values.index(10**30)] = 10**30
    for a, b in itertools.product(values + copies, repeat=2):
        key = _json_key(a)  # (None: not JSON, or None itself)
        expected = (a is None and b is None) or (key is not None and key == _json_key(b))
        assert SPEEDUPS.same_json(a, b) is expected, (a, b)
    assert SPEEDUPS.same_json({1, 2}, {1, 2}) is False  # not a JSON value: never shared
    deep: list[Any] = [[], []]
    for _ in range(100_000):
        deep = [[deep[0]], [deep[1]]]
    with pytest.raises(RecursionError):  # (a load then compares by the exact keys)
        SPEEDUPS.same_json(*deep)


@needs_speedups
@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_shared_objects_are_the_same_with_and_without_same_json(monkeypatch, tmp_path, suffix):
    """A conversation's history and messages alike but for one value load the same, with the C
    comparison or with the exact keys only."""
    from langchain_core.messages import HumanMessage
    from langchain_core.runnables import RunnableLambda

    from streamviz import _serialization
    from streamviz.demo.graphs import build_chat_graph

    if suffix != "jsonl":
        need_pyarrow()
    chat = sv.watch(
        build_chat_graph(6, 8),
        {"messages": [("user", "hi")]},
        {"recursion_limit": 30},
        display=False,
        stream_mode=["updates", "messages"],
    )
    step = RunnableLambda(lambda value: value, name="note")
    with sv.capture() as alike:
        for value in [1, 1.0, True, 1, -0.0, 0.0, 1.0]:
            step.invoke({"message": HumanMessage("same", id="m", additional_kwargs={"x": value})})
    loaded = {}
    for name, trace in (("chat", chat), ("alike", alike)):
        trace.save(tmp_path / f"{name}.{suffix}")
        for on in (True, False):
            monkeypatch.setattr(_serialization, "_same_json", SPEEDUPS.same_json if on else None)
            loaded[name, on] = sv.Trace.load(tmp_path / f"{name}.{suffix}")
    for name, trace in (("chat", chat), ("alike", alike)):
        assert list(loaded[name, True].events) == list(loaded[name, False].events)
        assert list(loaded[name, True].events) == list(trace.events)

    def objects(trace: sv.Trace) -> list[int]:
        """Which of the loaded messages are one object, numbered as first seen."""
        found: dict[int, int] = {}
        for event in trace.events:
            if event["event"] == "on_chat_model_start":
                messages = event["data"]["input"]["messages"][0]
            elif event["event"] == "on_chain_start" and event["name"] == "note":
                messages = [event["data"]["input"]["message"]]
            else:
                continue
            for message in messages:
                found.setdefault(id(message), len(found))
        return [found[key] for key in found]

    for name in ("chat", "alike"):
        assert objects(loaded[name, True]) == objects(loaded[name, False])
    values = [
        e["data"]["input"]["message"].additional_kwargs["x"]
        for e in loaded["alike", True].events
        if e["event"] == "on_chain_start" and e["name"] == "note"
    ]
    assert [repr(v) for v in values] == ["1", "1.0", "True", "1", "-0.0", "0.0", "1.0"]


@needs_speedups
def test_the_python_paths_pass_the_store_and_collector_tests():
    """The build without the speedups (no C compiler): the same tests, in a process of its own."""
    env = {**os.environ, "STREAMVIZ_PURE_PYTHON": "1"}
    tests = [
        "tests/test_store.py",
        "tests/test_compact.py",
        "tests/test_collector.py",
        "tests/test_columnar.py",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout

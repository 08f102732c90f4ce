"""Fuzzing trace files: every mutated file loads and reads everywhere, or fails clearly.

Real trace files (the shipped examples, captured from the demo models and a LangGraph graph) are
mutated by hypothesis: bytes flipped, inserted, deleted, lines cut, swapped or repeated, JSON
values replaced by hostile ones (huge or out-of-range numbers, deep nesting, malformed markers,
runs naming each other as parents), columnar cells likewise. For each file, ``Trace.load``
either succeeds, and then the tree, ``runs_df``, ``events_df``, the widget snapshot and
``write_html`` all work on it, or raises a :class:`TraceFileError` naming the file (and for
JSON Lines the line). Nothing else may escape, and nothing may hang: the loader's guards bound
every input (a bounded ``max_bytes`` here), so no example needs a timeout.

A fixed budget with a fixed seed (``derandomize``): the same examples on every run.
"""

from __future__ import annotations

import json
import pathlib
import tempfile
import warnings

import pytest
from helpers import need_pyarrow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamviz as sv
from streamviz.export import write_html
from streamviz.presentation.tree import format_tree
from streamviz.widgets._encode import TraceEncoder

TRACES = pathlib.Path(__file__).parent.parent / "notebooks" / "traces"
MAX_BYTES = 20_000_000  # every example's load is bounded: no hang, no gigabytes
# How the examples went (pytest -s prints it at the end).
OUTCOMES = {"loaded": 0, "failed": 0}

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _seed_lines() -> list[bytes]:
    lines = (TRACES / "graph_messages.jsonl").read_bytes().splitlines(keepends=True)
    return lines[:60]


SEED = _seed_lines()
RUN_IDS = sorted(
    {json.loads(line)["run_id"] for line in SEED[1:]}
    | {p for line in SEED[1:] for p in json.loads(line)["parent_ids"]}
)


def reads_everywhere(trace: sv.Trace, folder: pathlib.Path) -> None:
    for run in trace.runs.values():
        assert len(run.path) == run.depth + 1
    format_tree(trace.roots)
    trace.runs_df()
    trace.events_df()
    json.dumps(TraceEncoder(trace).snapshot(), allow_nan=False)
    write_html(trace, folder / "page.html")


def load_or_clear_error(path: pathlib.Path, *, lines: bool) -> None:
    """The property: a load succeeds (and everything reads it) or fails clearly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.TraceFileWarning)  # a cut last line: loads the rest
        try:
            trace = sv.Trace.load(path, max_bytes=MAX_BYTES)
        except sv.TraceFileError as error:
            failed = error
        else:
            failed = None
    OUTCOMES["failed" if failed else "loaded"] += 1
    if failed is None:
        reads_everywhere(trace, path.parent)
        return
    assert failed.path == str(path)
    assert str(failed).startswith(f"{path}")
    if lines and failed.line is not None:
        assert f"line {failed.line}: " in str(failed)


# --- JSON Lines: bytes ------------------------------------------------------------------------

_byte_edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
)
_line_edit = st.one_of(
    st.tuples(st.just("swap"), st.integers(0, 59), st.integers(0, 59)),
    st.tuples(st.just("repeat"), st.integers(0, 59), st.integers(1, 3)),
    st.tuples(st.just("drop"), st.integers(0, 59), st.just(0)),
)


def _apply_bytes(data: bytearray, edit: tuple) -> bytearray:
    kind, at, arg = edit
    at = at % (len(data) + 1)
    if kind == "set" and data:
        data[min(at, len(data) - 1)] = arg
    elif kind == "insert":
        data[at:at] = arg
    elif kind == "delete":
        del data[at : at + arg]
    elif kind == "cut":
        del data[at:]
    return data


def _apply_lines(lines: list[bytes], edit: tuple) -> list[bytes]:
    kind, at, arg = edit
    if not lines:
        return lines
    at %= len(lines)
    if kind == "swap":
        other = arg % len(lines)
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "repeat":
        lines[at:at] = [lines[at]] * arg
    elif kind == "drop":
        del lines[at]
    return lines


@FUZZ
@given(
    line_edits=st.lists(_line_edit, max_size=3),
    byte_edits=st.lists(_byte_edit, min_size=1, max_size=4),
)
def test_jsonl_files_with_mutated_bytes_load_or_fail_clearly(line_edits, byte_edits):
    lines = list(SEED)
    for edit in line_edits:
        lines = _apply_lines(lines, edit)
    data = bytearray(b"".join(lines))
    for edit in byte_edits:
        data = _apply_bytes(data, edit)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "fuzz.jsonl"
        path.write_bytes(bytes(data))
        load_or_clear_error(path, lines=True)


# --- JSON Lines: values -----------------------------------------------------------------------

_MARKER_KINDS = [
    "lc", "model", "dataclass", "error", "uuid", "datetime", "date", "time", "timedelta",
    "bytes", "float", "tuple", "set", "frozenset", "dict", "repr", "cycle", "depth", "nat",
    "timestamp", "nope",
]  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64, -1, 9 * 10**15]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 9.1e9, -0.0]),
    st.text(max_size=20),
    st.sampled_from(RUN_IDS),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.fixed_dictionaries(
            {"__sv__": st.sampled_from(_MARKER_KINDS)},
            optional={
                "value": inner,
                "items": inner,
                "type": inner,
                "fields": inner,
                "module": inner,
                "message": inner,
                "repr": inner,
            },
        ),
    ),
    max_leaves=12,
)
_KEYS = ["event", "name", "run_id", "parent_ids", "tags", "metadata", "data", "t", "seq",
         "thread", "mode", "ns", "server_t", "format", "version", "extra"]  # fmt: skip
_value_edit = st.tuples(
    st.integers(0, 59),  # which line
    st.sampled_from(_KEYS),
    st.one_of(
        _values,
        st.lists(st.sampled_from(RUN_IDS), max_size=3),  # parent_ids naming any run: cycles
        st.just("DELETE"),
        st.integers(1, 3000).map(lambda n: json.loads("[" * n + "]" * n) if n < 900 else "deep"),
    ),
)


@FUZZ
@given(edits=st.lists(_value_edit, min_size=1, max_size=4))
def test_jsonl_files_with_hostile_values_load_or_fail_clearly(edits):
    rows = [json.loads(line) for line in SEED]
    raw_deep: dict[int, str] = {}
    for index, key, value in edits:
        row = rows[index % len(rows)]
        if value == "DELETE":
            row.pop(key, None)
        elif value == "deep":  # nesting deeper than json (or the decoder) will walk
            raw_deep[index % len(rows)] = key
        else:
            row[key] = value
    lines = []
    for number, row in enumerate(rows):
        text = json.dumps(row, separators=(",", ":"))
        if number in raw_deep:
            text = text[:-1] + f',"{raw_deep[number]}":' + "[" * 5000 + "]" * 5000 + "}"
        lines.append(text)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "fuzz.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        load_or_clear_error(path, lines=True)


# --- Parquet: cells ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_table(tmp_path_factory):
    need_pyarrow()
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("fuzz")
    jsonl = folder / "seed.jsonl"
    jsonl.write_bytes(b"".join(SEED))
    sv.Trace.load(jsonl).save(folder / "seed.parquet")
    return pq.read_table(folder / "seed.parquet")


_CELL_VALUES = {
    "t": st.one_of(st.floats(), st.sampled_from([1e308, -1e308, 9.1e9, float("nan")])),
    "seq": st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 1, 2**62])),
    "thread": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "data": st.one_of(
        st.none(),
        _values.map(lambda value: json.dumps(value)),
        st.text(max_size=30),
        st.integers(1, 200_000).map(lambda n: "[" + ",".join(["[]"] * n) + "]"),
    ),
    "metadata": st.one_of(st.none(), _values.map(json.dumps), st.text(max_size=10)),
    "run_id": st.one_of(st.none(), st.sampled_from(RUN_IDS)),
    "parent_ids": st.one_of(st.none(), st.lists(st.sampled_from(RUN_IDS), max_size=3)),
    "extra": st.one_of(st.none(), _values.map(json.dumps)),
}


@settings(FUZZ, max_examples=60)
@given(
    edits=st.lists(
        st.sampled_from(sorted(_CELL_VALUES)).flatmap(
            lambda column: st.tuples(st.just(column), st.integers(0, 58), _CELL_VALUES[column])
        ),
        min_size=1,
        max_size=3,
    )
)
def test_parquet_files_with_hostile_cells_load_or_fail_clearly(seed_table, edits):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = seed_table
    for column, row, value in edits:
        if column not in table.column_names:
            continue
        values = table.column(column).to_pylist()
        values[row % len(values)] = value
        field = table.schema.field(column)
        table = table.set_column(
            table.schema.get_field_index(column), field, pa.array(values, type=field.type)
        )
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "fuzz.parquet"
        pq.write_table(table, path)
        load_or_clear_error(path, lines=False)


def teardown_module() -> None:
    print(f"\nfuzzed trace files: {OUTCOMES['loaded']} loaded, {OUTCOMES['failed']} refused")

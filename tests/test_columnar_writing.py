"""Saving Parquet and Arrow traces: the writer's shortcuts write what the plain way writes.

Each shortcut (a metadata text encoded once per content, blocks found by numpy, the ``data``
column joined by one take, the rows that take the full path found by search) is checked against
the plain way it stands for, on inputs where a wrong shortcut would differ.
"""

from __future__ import annotations

import math
import random
from array import array

import pytest
from helpers import need_pyarrow

import streamviz as sv
from streamviz._columnar import _joined_data, _next_full, _plain_key
from streamviz._log import _stretches, _stretches_of_few
from streamviz._serialization import to_json_member

need_pyarrow(module=True)
import pyarrow as pa  # noqa: E402


def event(seq: int, metadata: dict) -> dict:
    return {
        "event": "on_custom_event", "name": "note", "run_id": f"r{seq}", "parent_ids": [],
        "tags": [], "metadata": metadata, "data": {"n": seq}, "t": 0.1 * seq, "seq": seq,
    }  # fmt: skip


# Metadata dicts equal in Python (1 == 1.0 == True, 0.0 == -0.0, ("x",) and ["x"] as items)
# that JSON writes apart: each must load back as it was, though they follow one another.
LOOK_ALIKE = [
    {"a": 1}, {"a": True}, {"a": 1.0}, {"a": 0.0}, {"a": -0.0}, {"a": ("x",)}, {"a": ["x"]},
    {"a": "1"}, {"a": None}, {"b": 1}, {"a": 1, "b": 2}, {"b": 2, "a": 1},
]  # fmt: skip


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
def test_metadata_equal_in_python_but_written_apart_loads_back_as_it_was(tmp_path, suffix):
    trace = sv.Trace(name="look-alike")
    for seq, metadata in enumerate(LOOK_ALIKE * 2):  # each a dict of its own, twice
        trace.store.append(event(seq, dict(metadata)))
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    loaded = [found["metadata"] for found in sv.Trace.load(path).events]
    expected = LOOK_ALIKE * 2
    assert [list(found.items()) for found in loaded] == [list(m.items()) for m in expected]
    for found, metadata in zip(loaded, expected, strict=True):
        for key, value in metadata.items():
            assert type(found[key]) is type(value)
            if type(value) is float:
                assert math.copysign(1, found[key]) == math.copysign(1, value)


def test_plain_metadata_is_redacted_as_the_full_path_redacts_it(tmp_path):
    secret = "sk-" + "a1B2c3D4e5F6g7H8i9J0" * 2
    metadata = {"api_key": secret, "note": f"key {secret}", "url": "postgres://u:pw@host/db"}
    trace = sv.Trace(name="secrets")
    for seq in range(3):
        trace.store.append(event(seq, dict(metadata)))
    path = tmp_path / "t.parquet"
    trace.save(path)
    text = path.read_bytes()
    assert secret.encode() not in text and b"pw@" not in text
    for found in sv.Trace.load(path).events:
        assert found["metadata"] == to_json_member(metadata, {})


def test_a_metadata_dict_changed_between_saves_is_saved_as_it_is_then(tmp_path):
    metadata = {"step": 1, "node": "a"}
    trace = sv.Trace(name="changed")
    trace.store.append(event(0, metadata))
    trace.save(tmp_path / "1.parquet")
    metadata["step"] = 2
    trace.save(tmp_path / "2.parquet")
    assert next(iter(sv.Trace.load(tmp_path / "1.parquet").events))["metadata"]["step"] == 1
    assert next(iter(sv.Trace.load(tmp_path / "2.parquet").events))["metadata"]["step"] == 2


def test_only_dicts_of_plain_values_get_a_content_key():
    assert _plain_key({"a": 1, "b": ("x", "y"), "c": None}) is not None
    assert _plain_key({"a": {"nested": 1}}) is None
    assert _plain_key({"a": ("x", 1)}) is None
    assert _plain_key({1: "a"}) is None
    assert _plain_key({"a": 1}) != _plain_key({"a": True}) != _plain_key({"a": 1.0})
    assert _plain_key({"a": 0.0}) != _plain_key({"a": -0.0})
    assert _plain_key({"a": ("x",)}) != _plain_key({"a": ["x"]})


def test_stretches_found_by_numpy_are_those_found_one_by_one():
    rng = random.Random(7)
    for size in (257, 1000, 5000):
        entries, row, kept = array("q"), 0, 0
        while len(entries) < size:
            if rng.random() < 0.2:
                entries.append(~kept)  # an event kept as a dict
                kept += 1
            else:
                row += rng.choice((0, 1, 1, 1, 5))  # mostly the next row, some gaps
                entries.extend(range(row, row + rng.randrange(1, 40)))
                row = entries[-1] + 1
        assert _stretches(entries) == _stretches_of_few(entries)
        assert _stretches(entries) != [(0, len(entries))]


def test_blocks_split_a_long_stretch_at_most_rows_each():
    store = sv.Trace(name="blocks").store
    store.append(event(0, {}))
    writer = store.stream_writer(None, {"event": "on_custom_event", "name": "s", "run_id": "s",
                                        "parent_ids": [], "tags": [], "metadata": {}})  # fmt: skip
    for index in range(1000):
        writer(f"t{index}")
    store.append(event(1001, {}))
    blocks = list(store.blocks(most=300))
    sizes = [getattr(item, "count", None) for item in blocks]
    assert sizes == [None, 300, 300, 300, 100, None]
    assert [getattr(item, "seq", None) for item in blocks] == [None, 1, 301, 601, 901, None]


def test_the_data_column_is_each_rows_pieces_joined():
    before, after = ["<a:", "<bb:", ""], [":a>", ":bb>", ""]
    source = [0, 1, 1, 2, 0, 2]
    middle = ['"x"', '"é"', None, "{}", '""', None]
    cases = [(before, after, source, middle)]
    rng = random.Random(7)
    words = ["", "a", "é", "日本", '{"k":', "}]", "\x00", "🎉", "\\"]
    for _ in range(60):  # pieces of 1-4 bytes per character, empty ones, nulls
        kinds = rng.randint(1, 5)
        before = [rng.choice(words) * rng.randint(0, 3) for _ in range(kinds)]
        after = [rng.choice(words) * rng.randint(0, 3) for _ in range(kinds)]
        rows = rng.randint(0, 40)
        middle = [None if rng.random() < 0.2 else rng.choice(words) * 2 for _ in range(rows)]
        cases.append((before, after, [rng.randrange(kinds) for _ in range(rows)], middle))
    for before, after, source, middle in cases:
        joined = _joined_data(pa, before, after, pa.array(source, pa.int32()).to_numpy(),
                              pa.array(middle, pa.string()))  # fmt: skip
        expected = [
            None if text is None else before[at] + text + after[at]
            for at, text in zip(source, middle, strict=True)
        ]
        assert joined.to_pylist() == expected
        joined.validate(full=True)


def test_the_next_row_on_the_full_path_is_the_first_none_or_odd_row():
    skeletons = ["s", "s", None, "s", "s", "s"]
    tokens = ["t", "t", "t", "t", None, "t"]
    assert _next_full((skeletons, tokens), [], 0) == 2
    assert _next_full((skeletons, tokens), [], 3) == 4
    assert _next_full((skeletons, tokens), [1], 0) == 1
    assert _next_full((skeletons, tokens), [1, 5], 2) == 2
    assert _next_full((skeletons, tokens), [1, 5], 5) == 5
    assert _next_full((["s"] * 3, ["t"] * 3), [], 0) == 3

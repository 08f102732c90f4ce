"""The widget contract is declared once (streamviz/widgets/contract.json): both sides match it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import ipywidgets
import pytest
from langchain_core.runnables import RunnableGenerator, RunnableLambda

import streamviz as sv
from streamviz.widgets import TraceWidget
from streamviz.widgets._contract import CONTRACT
from streamviz.widgets._encode import TraceEncoder

_TYPES = {"string": str, "object": dict, "boolean": bool, "integer": int, "number": float}


def a_trace() -> sv.Trace:
    collector = sv.Collector()

    def shout(chunks):
        for text in chunks:
            yield from text.upper()

    list(collector.stream(RunnableLambda(lambda x: x) | RunnableGenerator(shout), "hi"))
    return collector.trace


def test_the_widget_syncs_exactly_the_declared_traits_with_their_types():
    widget = TraceWidget(a_trace())
    try:
        # Leave out what every ipywidgets DOM widget syncs, and anywidget's private traits.
        own = set(ipywidgets.DOMWidget.class_trait_names(sync=True))
        state = {
            k: v for k, v in widget.get_state().items() if k not in own and not k.startswith("_")
        }
        assert set(state) == set(CONTRACT["traits"])
        for name, spec in CONTRACT["traits"].items():
            assert isinstance(state[name], _TYPES[spec["type"]]), name
    finally:
        widget.close()


def test_snapshot_deltas_and_rows_have_the_declared_fields():
    collector = sv.Collector()
    encoder = TraceEncoder(collector.trace)
    empty = encoder.snapshot()
    list(collector.stream(RunnableLambda(lambda x: x), "hi"))
    delta = encoder.delta()
    snapshot = encoder.snapshot()
    assert list(empty) == list(snapshot) == CONTRACT["snapshot"]
    assert snapshot["v"] == CONTRACT["version"]
    assert list(delta) == CONTRACT["delta"]
    assert delta["type"] in CONTRACT["messages"]["to_page"]
    for events in (snapshot["events"], delta["events"]):
        assert list(events) == [*CONTRACT["columns"], "extra"]
    assert snapshot["runs"] and all(list(row) == CONTRACT["run_row"] for row in snapshot["runs"])
    assert {row["status"] for row in snapshot["runs"]} <= set(CONTRACT["statuses"])
    payload = encoder.payload(0)
    assert list(payload) == CONTRACT["payload"]
    assert payload["type"] in CONTRACT["messages"]["to_page"]


def test_every_declared_view_can_be_built_and_no_other():
    trace = a_trace()
    for view in CONTRACT["views"]:
        TraceWidget(trace, view=view).close()
    with pytest.raises(ValueError, match="gantt"):
        TraceWidget(trace, view="gantt")


def test_the_filters_trait_starts_with_every_declared_key_empty():
    widget = TraceWidget(a_trace())
    try:
        keys = CONTRACT["filters"]
        assert set(widget.filters) == {*keys["lists"], keys["kinds"], keys["search"]}
        assert not any(widget.filters.values())
    finally:
        widget.close()


def _regenerate_module():
    """js/test/fixtures/regenerate.py, the script that writes the JS test fixtures."""
    path = Path(__file__).parents[1] / "js" / "test" / "fixtures" / "regenerate.py"
    spec = importlib.util.spec_from_file_location("regenerate_js_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_js_fixtures_have_the_shape_of_a_fresh_regeneration():
    regenerate = _regenerate_module()
    fresh = regenerate.snapshot("parrot")
    committed = json.loads((regenerate.HERE / "parrot.json").read_text(encoding="utf-8"))
    assert list(committed) == list(fresh) == CONTRACT["snapshot"]
    assert committed["v"] == fresh["v"] == CONTRACT["version"]
    assert list(committed["events"]) == list(fresh["events"])
    assert committed["kinds"] == fresh["kinds"]
    assert [list(row) for row in committed["runs"]] == [list(row) for row in fresh["runs"]]
    assert [(row["name"], row["type"], row["parent"]) for row in committed["runs"]] == [
        (row["name"], row["type"], row["parent"]) for row in fresh["runs"]
    ]
    # Every fixture the JS tests read is one the script writes, and each has the contract's keys.
    assert {path.stem for path in regenerate.HERE.glob("*.json")} == set(regenerate.FIXTURES)
    for name in regenerate.FIXTURES:
        data = json.loads((regenerate.HERE / f"{name}.json").read_text(encoding="utf-8"))
        assert list(data) == CONTRACT["snapshot"], name
        assert list(data["events"]) == [*CONTRACT["columns"], "extra"], name
        assert all(list(row) == CONTRACT["run_row"] for row in data["runs"]), name

"""Filters: the shared JSON vectors, checked against streamviz and LangChain's own filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.runnables.utils import _RootEventFilter

from streamviz.filters import EventFilter, event_type

VECTORS = json.loads((Path(__file__).parent / "data" / "filter_vectors.json").read_text("utf-8"))
EVENTS = VECTORS["events"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: json.dumps(case["filter"]))
def test_streamviz_filter_gives_the_expected_events(case):
    keep = EventFilter(**case["filter"])
    assert [e["id"] for e in EVENTS if keep.matches(e)] == case["expected"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: json.dumps(case["filter"]))
def test_the_vectors_agree_with_langchains_own_filter(case):
    # The vectors are the contract; LangChain's astream_events filter is the oracle for them.
    theirs = _RootEventFilter(**case["filter"])
    assert [e["id"] for e in EVENTS if theirs.include_event(e, e["type"])] == case["expected"]


def test_event_type_is_the_run_type_or_the_custom_event_name():
    assert all(event_type(e) == e["type"] for e in EVENTS)


def test_a_lone_string_is_one_name_not_characters():
    keep = EventFilter(include_names="model")
    assert keep.matches({"event": "on_chat_model_start", "name": "model", "tags": []})
    assert not keep.matches({"event": "on_chat_model_start", "name": "m", "tags": []})

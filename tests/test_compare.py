"""sv.compare: two traces (or two runs of one trace) matched by run path, their events diffed."""

from __future__ import annotations

import re

import pytest
from langchain_core.callbacks import dispatch_custom_event
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda

import streamviz as sv
from streamviz.demo import DemoChatModel


def fast_model(**options) -> DemoChatModel:
    return DemoChatModel(time_to_first_token=0, token_delay=0, **options)


def capture(runnable, value, *, name: str | None = None) -> sv.Trace:
    collector = sv.Collector()
    for _ in collector.stream(runnable, value):
        pass
    collector.trace.name = name
    return collector.trace


def announcing(*names: str) -> RunnableLambda:
    """A step that dispatches a custom event per name, in that order, then passes its input on."""

    def step(text: str) -> str:
        for name in names:
            dispatch_custom_event(name, {"seen": len(text)})
        return text

    return RunnableLambda(step, name="announce")


def index_of(trace: sv.Trace, event: str, name: str) -> int:
    (index,) = [i for i, e in enumerate(trace.events) if e["event"] == event and e["name"] == name]
    return index


def test_two_captures_of_the_same_chain_compare_equal_and_so_does_the_saved_file(tmp_path):
    chain = fast_model() | StrOutputParser() | announcing("checked")
    a = capture(chain, "tell me a joke")
    b = capture(chain, "tell me a joke")
    comparison = sv.compare(a, b)
    assert comparison.same_events and comparison.first_divergence is None
    frame = comparison.to_frame()
    assert frame["path"].tolist() == ["", "DemoChatModel", "StrOutputParser", "announce"]
    assert frame["tokens_diff"].tolist() == [0, 0, 0, 0]
    assert frame["name_a"].tolist() == frame["name_b"].tolist()
    assert "events: the same sequence" in str(comparison)

    a.save(tmp_path / "a.parquet")
    loaded = sv.compare(a, sv.Trace.load(tmp_path / "a.parquet"))
    assert loaded.same_events
    assert loaded.to_frame()["duration_diff"].tolist() == [0.0] * 4


def test_an_inserted_event_is_found_where_it_happened_and_is_missing_the_other_way():
    base = fast_model() | StrOutputParser()
    a = capture(base | announcing("checked"), "hi")
    b = capture(base | announcing("checked", "extra"), "hi")
    (diff,) = sv.compare(a, b).diffs
    at_b = index_of(b, "on_custom_event", "extra")
    assert (diff.kind, diff.event, diff.name, diff.path, diff.count) == (
        "inserted", "on_custom_event", "extra", "announce", 1,
    )  # fmt: skip
    assert diff.b_index == at_b and diff.b_seq == b.events[at_b]["seq"]
    assert diff.a_index == at_b and diff.a_seq is None  # where it would have been in a

    (missing,) = sv.compare(b, a).diffs
    assert (missing.kind, missing.name, missing.a_index, missing.b_seq) == (
        "missing", "extra", at_b, None,
    )  # fmt: skip
    assert missing.a_seq == b.events[at_b]["seq"]


def test_the_same_events_in_another_order_are_reported_as_reordered():
    base = fast_model() | StrOutputParser()
    a = capture(base | announcing("first", "second"), "hi")
    b = capture(base | announcing("second", "first"), "hi")
    comparison = sv.compare(a, b)
    assert {d.kind for d in comparison.diffs} == {"reordered"}
    (moved,) = comparison.diffs
    assert moved.name in ("first", "second")
    assert moved.a_index == index_of(a, "on_custom_event", moved.name)
    assert moved.b_index == index_of(b, "on_custom_event", moved.name)
    assert comparison.first_divergence is moved


def test_a_longer_answer_is_extra_tokens_at_the_end_of_the_models_stream():
    a = capture(fast_model(responses=["one two three"]), "hi")
    b = capture(fast_model(responses=["one two three four five"]), "hi")
    comparison = sv.compare(a, b)
    model = comparison.to_frame().set_index("path").loc[""]
    extra = int(model["tokens_b"] - model["tokens_a"])
    assert extra > 0 and model["tokens_diff"] == extra
    first = comparison.first_divergence
    assert (first.kind, first.event, first.path, first.count) == (
        "inserted", "on_chat_model_stream", "", extra,
    )  # fmt: skip
    # After the tokens both sides have: the first of b's extra tokens.
    streamed_a = [i for i, e in enumerate(a.events) if e["event"] == "on_chat_model_stream"]
    streamed_b = [i for i, e in enumerate(b.events) if e["event"] == "on_chat_model_stream"]
    assert first.b_index == streamed_b[len(streamed_a)]
    assert first.a_index == streamed_a[-1] + 1


def test_runs_of_the_same_name_are_told_apart_by_order_and_two_runs_of_one_trace_compare():
    chain = fast_model() | StrOutputParser() | fast_model() | StrOutputParser()
    collector = sv.Collector()
    for _ in range(2):
        for _ in collector.stream(chain, "hi"):
            pass
    trace = collector.trace
    first, second = trace.roots
    comparison = sv.compare(first, second, trace=trace)
    paths = comparison.to_frame()["path"].tolist()
    assert paths == ["", "DemoChatModel", "StrOutputParser", "DemoChatModel#2",
                     "StrOutputParser#2"]  # fmt: skip
    assert comparison.same_events
    # By run id as well; a run needs its trace.
    assert sv.compare(first.run_id, second.run_id, trace=trace).same_events
    with pytest.raises(TypeError, match="trace="):
        sv.compare(first, second)


def test_runs_found_on_one_side_only_are_listed_with_the_differences_as_text():
    plain = fast_model() | StrOutputParser() | RunnableLambda(lambda s: s.upper(), name="plain")

    def upper(chunks):
        for chunk in chunks:
            yield chunk.upper()

    generator = fast_model() | StrOutputParser() | RunnableLambda(upper, name="generator")
    comparison = sv.compare(capture(plain, "hi", name="function"),
                            capture(generator, "hi", name="generator"))  # fmt: skip
    frame = comparison.to_frame().set_index("path")
    assert frame.loc["plain", "name_b"] is pd_na() and frame.loc["generator", "name_a"] is pd_na()
    root = frame.loc[""]
    assert root["tokens_a"] == 1 and root["tokens_b"] > 1  # the generator let the stream through
    text = str(comparison)
    assert "only in a: plain" in text and "only in b: generator" in text
    assert text.startswith("a (function): ")
    assert "first divergence: " in text


def pd_na():
    import pandas as pd

    return pd.NA


def test_the_figure_puts_both_sides_on_one_axis_from_their_starts():
    a = capture(fast_model() | StrOutputParser(), "hi", name="a side")
    b = capture(fast_model() | StrOutputParser(), "hi", name="b side")
    figure = sv.compare(a, b).figure()
    bars = {bar.name: bar for bar in figure.data if bar.type == "bar"}
    assert set(bars) == {"a: a side", "b: b side"}
    for key, trace in (("a", a), ("b", b)):
        bar = bars[f"{key}: {key} side"]
        root = trace.roots[0]
        assert bar.base[0] == 0.0  # the root starts each side's axis
        assert bar.x[0] == pytest.approx(1000 * root.duration)


def test_the_html_form_escapes_names_and_links_the_first_divergence_to_both_sides():
    base = fast_model() | StrOutputParser()
    a = capture(base | announcing("checked"), "hi", name="<b>before</b>")
    b = capture(base | announcing("checked", "<i>extra</i>"), "hi")
    html = sv.compare(a, b)._repr_html_()
    assert "<b>before</b>" not in html and "&lt;b&gt;before&lt;/b&gt;" in html
    assert "<i>extra</i>" not in html
    anchors = re.findall(r'href="#([\w-]+)"', html)
    assert len(anchors) == 2
    for anchor in anchors:  # each link goes to the highlighted row of one side's table
        assert re.search(rf'<tr id="{anchor}" style="background', html)


def test_longer_streams_interleaved_with_others_are_extra_events_after_the_common_ones():
    a = capture(fast_model(responses=["one two three"]) | StrOutputParser(), "hi")
    b = capture(fast_model(responses=["one two three four five"]) | StrOutputParser(), "hi")
    comparison = sv.compare(a, b)
    kinds = [(d.kind, d.event) for d in comparison.diffs]
    assert sorted(kinds) == [("inserted", "on_chain_stream"), ("inserted", "on_chat_model_stream"),
                             ("inserted", "on_parser_stream")]  # fmt: skip
    frame = comparison.to_frame().set_index("path")
    for diff in comparison.diffs:
        stream_a = [i for i, e in enumerate(a.events) if e["event"] == diff.event]
        stream_b = [i for i, e in enumerate(b.events) if e["event"] == diff.event]
        assert diff.count == len(stream_b) - len(stream_a) == frame.loc[diff.path, "tokens_diff"]
        assert diff.b_index == stream_b[len(stream_a)]  # b's first extra one
        assert diff.a_index == stream_a[-1] + 1  # just after a's last one
    assert comparison.first_divergence.b_index == min(d.b_index for d in comparison.diffs)


def test_the_same_graph_twice_compares_equal_whatever_the_timing_of_its_message_parts():
    from streamviz.demo.graphs import build_model_graph

    graph = build_model_graph(time_to_first_token=0, token_delay=0)

    def run() -> sv.Trace:
        return sv.watch(graph, {"topic": "cats"}, display=False,
                        stream_mode=["updates", "messages", "custom"])  # fmt: skip

    first, second = run(), run()
    comparison = sv.compare(first, second)
    assert comparison.same_events, comparison.diffs
    frame = comparison.to_frame()
    assert frame["path"].tolist() == ["", "call_model", "call_model/DemoChatModel",
                                      "call_model/DemoChatModel#2"]  # fmt: skip
    assert (frame["tokens_diff"] == 0).all()

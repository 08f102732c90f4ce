"""Streaming latency: time to first chunk, gaps between chunks and stalls, per run."""

from __future__ import annotations

import pytest

import streamviz as sv
from streamviz.demo import DemoChatModel


def scripted(gaps: list[float], *, start: float = 1.0, first: float = 0.4) -> sv.Trace:
    """A run that starts at ``start``, streams its first chunk ``first`` s later, then one
    chunk after each of ``gaps`` (a trace built from complete events, as a loaded file is)."""
    run = {"run_id": "model", "name": "Model", "parent_ids": [], "tags": [], "metadata": {}}
    events = [{**run, "event": "on_chat_model_start", "data": {"input": "hi"}, "t": start}]
    t = start + first
    for index in range(len(gaps) + 1):
        events.append({**run, "event": "on_chat_model_stream", "data": {"chunk": f"t{index}"},
                       "t": t})  # fmt: skip
        if index < len(gaps):
            t += gaps[index]
    events.append({**run, "event": "on_chat_model_end", "data": {"output": "done"}, "t": t})
    for seq, event in enumerate(events):
        event["seq"] = seq
    return sv.Trace.from_events(events)


def test_first_chunk_gaps_and_rate_of_a_steady_stream():
    trace = scripted([0.02] * 99)
    (row,) = trace.stream_stats().itertuples()
    assert (row.run_id, row.name, row.run_type, row.chunks) == ("model", "Model", "chat_model", 100)
    assert row.time_to_first_chunk == pytest.approx(0.4)
    assert row.first_chunk == pytest.approx(1.4)
    assert row.gap_p50 == pytest.approx(0.02) and row.gap_max == pytest.approx(0.02)
    assert row.chunks_per_s == pytest.approx(50.0)
    assert (row.stalls, row.stalled) == (0, 0.0)
    assert trace.stalls().empty


def test_a_pause_far_longer_than_the_runs_rhythm_is_a_stall_and_is_listed():
    gaps = [0.02] * 30 + [0.9] + [0.02] * 30
    trace = scripted(gaps)
    (row,) = trace.stream_stats().itertuples()
    assert (row.stalls, row.stalled) == (1, pytest.approx(0.9))
    assert row.gap_max == pytest.approx(0.9)
    (stall,) = trace.stalls().itertuples()
    assert (stall.run_id, stall.after_chunk) == ("model", 31)
    assert stall.gap == pytest.approx(0.9) and stall.threshold == pytest.approx(0.25)
    assert stall.at == pytest.approx(1.4 + 30 * 0.02)


def test_slow_but_steady_is_not_a_stall_and_thresholds_are_settable():
    steady_and_slow = scripted([0.4] * 20)  # above 250 ms, but the run's own rhythm
    assert steady_and_slow.stream_stats()["stalls"].tolist() == [0]
    gaps = [0.02] * 10 + [0.12] + [0.02] * 10  # 6x the median, below 250 ms
    assert scripted(gaps).stream_stats()["stalls"].tolist() == [0]
    assert scripted(gaps).stream_stats(stall_seconds=0.1)["stalls"].tolist() == [1]
    assert scripted(gaps).stream_stats(stall_seconds=0.1, stall_factor=10)["stalls"].tolist() == [0]


def test_every_streaming_run_of_a_real_chain_is_counted_live_and_loaded(tmp_path):
    model = DemoChatModel(time_to_first_token=0.05, token_delay=0.002, jitter=0.5, seed=3)
    collector = sv.Collector()
    for _ in collector.stream(model, "tell me a joke"):
        pass
    trace = collector.trace
    stats = trace.stream_stats()
    (run,) = [r for r in trace.runs.values() if r.run_type == "chat_model"]
    row = stats.set_index("run_id").loc[run.run_id]
    assert row["chunks"] == run.chunk_count
    assert row["first_chunk"] == run.first_chunk and row["last_chunk"] == run.last_chunk
    # The model waits 0.05 s before its first token, scaled by its jitter (at least half).
    assert row["time_to_first_chunk"] >= 0.05 * (1 - 0.5)
    trace.save(tmp_path / "t.jsonl")
    loaded = sv.Trace.load(tmp_path / "t.jsonl").stream_stats()
    assert loaded.equals(stats)


def test_scripted_jitter_and_a_scripted_stall_of_a_demo_model():
    model = DemoChatModel(
        time_to_first_token=0.02, token_delay=0.01, jitter=0.3, seed=5, pauses={15: 0.5},
        responses=[" ".join(f"w{index}" for index in range(30))],
    )  # fmt: skip
    collector = sv.Collector()
    for _ in collector.stream(model, "hi"):
        pass
    stalls = collector.trace.stalls()
    # The wait was before token 15 (0-based): after 15 chunks, at least the scripted 0.5 s. (A
    # busy machine may add a long gap elsewhere: a stall too, so no other gap is asserted.)
    (stall,) = stalls[stalls.after_chunk == 15].itertuples()
    assert stall.gap >= 0.5
    (row,) = collector.trace.stream_stats().itertuples()
    assert row.stalls == len(stalls) and row.gap_max >= stall.gap


def test_a_dashboard_marks_stalls_by_the_rule_it_is_given_and_its_page_keeps_it(tmp_path):
    """The page marks stalls by the widget's ``stall_rule`` (js/test/gaps.test.js checks the
    marks follow it); here: what Python sends, checks and writes into an offline page."""
    from streamviz.export import trace_state
    from streamviz.widgets import Dashboard

    trace = scripted([0.02] * 30 + [0.9] + [0.02] * 30)
    default = Dashboard(trace)
    assert default.stall_rule == {"ms": 250.0, "factor": 5.0}
    strict = Dashboard(trace, stall_seconds=1.0, stall_factor=3)
    assert strict.stall_rule == {"ms": 1000.0, "factor": 3.0}
    # The same rule in Python: no stall by it, one by the default.
    assert trace.stalls(stall_seconds=1.0, stall_factor=3).empty
    assert len(trace.stalls()) == 1
    strict.set_stall_rule(0.5)
    assert strict.stall_rule == {"ms": 500.0, "factor": 5.0}
    for bad in (-1, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="stall_seconds"):
            Dashboard(trace, stall_seconds=bad)
    with pytest.raises(ValueError, match="stall_factor"):
        strict.set_stall_rule(stall_factor=-2)
    assert strict.stall_rule == {"ms": 500.0, "factor": 5.0}  # unchanged by the refused call
    for widget in (default, strict):
        widget.close()
    assert trace_state(trace)["stall_rule"] == {"ms": 250.0, "factor": 5.0}

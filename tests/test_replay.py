"""Workshop replay: a saved trace played back into a live trace with its recorded timing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import eventually

import streamviz as sv
from streamviz.replay import Replay, replay
from streamviz.widgets._replay import ReplayControls

TRACES = Path(__file__).parent.parent / "notebooks" / "traces"


def essentials(trace: sv.Trace) -> list[tuple]:
    return [(e["event"], e["name"], e["run_id"], e["t"], e["seq"]) for e in trace.events]


@pytest.fixture(scope="module")
def parrot() -> sv.Trace:
    return sv.Trace.load(TRACES / "parrot.jsonl")


def test_shipped_traces_load_and_hold_the_guides_examples():
    names = sorted(path.stem for path in TRACES.glob("*.jsonl"))
    assert names == ["countries_function", "graph_messages", "parrot"]
    for path in TRACES.glob("*.jsonl"):
        assert path.stat().st_size < 200_000  # small enough to ship
        trace = sv.Trace.load(path)
        assert all(run.status == "ok" for run in trace.runs.values())
    countries = sv.Trace.load(TRACES / "countries_function.jsonl")
    (hold,) = countries.stream_holds()
    assert hold.run.name == "_extract_country_names"


@pytest.fixture
def clock(monkeypatch, fake_clock):
    """The replay's wall clock, moved by the test: what is played depends on it alone."""
    monkeypatch.setattr(sys.modules[Replay.__module__], "time", fake_clock)
    return fake_clock


def halfway(trace: sv.Trace) -> tuple[float, int]:
    """A moment between two events near the middle, and how many events come before it."""
    times = [event["t"] for event in trace.events]
    index = next(i for i in range(len(times) // 2, len(times)) if times[i] > times[i - 1])
    return (times[index - 1] + times[index]) / 2, index


def test_a_replay_plays_every_event_with_the_recorded_timing(parrot, clock):
    speed = 8.0
    player = Replay(parrot, speed=speed)
    moment, before = halfway(parrot)
    clock.advance(moment / speed)
    # The tokens are not dumped at once: with the wall clock standing there, the replay has
    # played exactly the events recorded before that moment.
    eventually(lambda: player.played == before, f"{before} events played")
    assert player.position == pytest.approx(moment)
    assert essentials(player.trace) == essentials(parrot)[:before]
    assert player.playing and not player.done
    clock.advance(parrot.duration / speed)  # past the end
    assert player.wait(timeout=60)
    assert essentials(player.trace) == essentials(parrot)
    assert [r.status for r in player.trace.runs.values()] == ["ok"] * len(parrot.runs)
    assert player.done and not player.playing
    assert player.trace.clock() == pytest.approx(parrot.duration)


def test_pause_and_step_event_by_event(parrot, clock):
    player = Replay(parrot, speed=1.0, autoplay=False)
    clock.advance(2 * parrot.duration)
    # Before play() the position stays at the start however much time passes: nothing is due.
    assert not player.playing and player.position == 0.0
    assert player.step(3) == 3
    assert essentials(player.trace) == essentials(parrot)[:3]
    assert player.position == parrot.events[2]["t"]
    clock.advance(2 * parrot.duration)
    # Stepping leaves it paused: the position stays at the third event.
    assert not player.playing and player.position == parrot.events[2]["t"]
    player.speed = 50
    player.play()
    clock.advance(parrot.duration / 50 * 1.01)  # a little more than the rest takes at 50x
    assert player.wait(timeout=60)
    assert essentials(player.trace) == essentials(parrot)


def test_speed_changes_while_playing(parrot, clock):
    player = Replay(parrot, speed=0.5)
    moment, before = halfway(parrot)
    clock.advance(moment / 0.5)
    eventually(lambda: player.played == before, f"{before} events played")
    player.speed = 100
    # The position is kept across the change; the rest now takes 1/100 of its length.
    assert player.position == pytest.approx(moment)
    clock.advance((parrot.duration - moment) / 100 * 1.01)
    assert player.wait(timeout=60)
    assert len(player.trace) == len(parrot)
    with pytest.raises(ValueError, match="speed must be positive"):
        player.speed = 0


def test_replay_from_a_file_into_the_player_widget():
    player = replay(TRACES / "graph_messages.jsonl", speed=20, display=False)
    controls = ReplayControls(player, view="dashboard")
    assert player.wait(timeout=60)
    controls.view.settle()
    controls._tick(0)
    snapshot = controls.view.snapshot
    assert snapshot["count"] == len(player.source)
    assert "done" in controls.progress.value
    assert controls.play_button.description == "Play"
    modes = {extra.get("mode") for extra in snapshot["events"]["extra"].values()}
    assert {"updates", "messages", "custom"} <= modes
    json.dumps(snapshot)
    controls.close()


def test_the_widget_clock_follows_the_replay_not_the_wall(parrot, clock):
    player = Replay(parrot, speed=1.0, autoplay=False)
    player.step(5)
    clock.advance(60)
    # Paused: the replayed trace's clock stays at the fifth event however much time passes.
    assert player.trace.clock() == parrot.events[4]["t"]
    player.close()


def test_a_file_whose_last_line_is_not_its_latest_event_plays_to_the_end(tmp_path, clock):
    # Hand-edited or merged files may hold events out of time order: each plays in its line's
    # order once its time (or an earlier line's later time) has come, and the replay finishes.
    header = {"format": "streamviz-trace", "version": 1, "streamviz": "0.1.0", "name": "late"}
    base = {"name": "step", "run_id": "a", "parent_ids": [], "tags": [], "metadata": {}}
    events = [
        {**base, "event": "on_chain_start", "data": {}, "t": 0.0, "seq": 0},
        {**base, "event": "on_chain_stream", "data": {"chunk": "x"}, "t": 0.5, "seq": 1},
        {**base, "event": "on_chain_end", "data": {"output": "x"}, "t": 0.2, "seq": 2},
    ]
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in [header, *events]) + "\n")
    player = Replay(path)
    assert player.duration == 0.5
    clock.advance(0.3)
    eventually(lambda: player.played == 1, "the start played")
    clock.advance(0.3)
    assert player.wait(timeout=60)
    assert player.played == 3 and player.trace.runs["a"].status == "ok"

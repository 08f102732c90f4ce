"""Workshop replay: a saved trace played back into a live trace with its recorded timing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

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


def test_a_replay_plays_every_event_with_the_recorded_timing(parrot):
    speed = 8.0
    started = time.perf_counter()
    player = Replay(parrot, speed=speed)
    assert player.wait(timeout=30)
    elapsed = time.perf_counter() - started
    assert essentials(player.trace) == essentials(parrot)
    assert [r.status for r in player.trace.runs.values()] == ["ok"] * len(parrot.runs)
    # The tokens were not dumped at once: the replay took about duration / speed.
    assert elapsed >= 0.7 * parrot.duration / speed
    assert player.done and not player.playing
    assert player.trace.clock() == pytest.approx(parrot.duration)


def test_pause_and_step_event_by_event(parrot):
    player = Replay(parrot, speed=1.0, autoplay=False)
    time.sleep(0.2)
    assert len(player.trace) == 0  # nothing plays before play()
    assert player.step(3) == 3
    assert essentials(player.trace) == essentials(parrot)[:3]
    assert player.position == parrot.events[2]["t"]
    time.sleep(0.2)
    assert len(player.trace) == 3  # stepping leaves it paused
    player.speed = 50
    player.play()
    assert player.wait(timeout=30)
    assert essentials(player.trace) == essentials(parrot)


def test_speed_changes_while_playing(parrot):
    player = Replay(parrot, speed=0.5)
    time.sleep(0.3)
    early = len(player.trace)
    assert early < len(parrot)
    player.speed = 100
    assert player.wait(timeout=30)
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


def test_the_widget_clock_follows_the_replay_not_the_wall(parrot):
    player = Replay(parrot, speed=1.0, autoplay=False)
    player.step(5)
    time.sleep(0.3)
    # Paused: the replayed trace's clock stays at the fifth event however long we wait.
    assert player.trace.clock() == parrot.events[4]["t"]
    player.close()

"""A replay to teach with: restart at the end, step back, seek, controls that tell the truth.

Every check here runs on a paused player (or waits for the end), so nothing depends on timing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import streamviz as sv
from streamviz.replay import Replay
from streamviz.widgets._replay import SPEEDS, ReplayControls

TRACES = Path(__file__).parent.parent / "notebooks" / "traces"


def essentials(trace: sv.Trace) -> list[tuple]:
    return [(e["event"], e["name"], e["run_id"], e["t"], e["seq"]) for e in trace.events]


@pytest.fixture(scope="module")
def parrot() -> sv.Trace:
    return sv.Trace.load(TRACES / "parrot.jsonl")


@pytest.fixture
def player(parrot):
    player = Replay(parrot, autoplay=False)
    yield player
    player.close()


def test_play_at_the_end_plays_again_from_the_start(parrot):
    player = Replay(parrot, speed=1000)
    assert player.wait(timeout=60)
    first = player.trace
    player.play()
    assert player.wait(timeout=60)
    assert player.trace is not first  # a new trace, filled again from the first event
    assert essentials(player.trace) == essentials(parrot) == essentials(first)
    player.close()


def test_restart_goes_back_to_the_start_and_plays(player, parrot):
    player.step(10)
    player.speed = 0.001  # so slow that nothing more plays while the test looks
    player.restart()
    assert player.playing
    assert len(player.trace) == sum(1 for e in parrot.events if e["t"] == 0.0)
    assert player.played == len(player.trace)


def test_a_step_back_takes_back_the_last_event(player, parrot):
    assert player.step(5) == 5
    before = player.trace
    assert player.step(-2) == -2
    assert essentials(player.trace) == essentials(parrot)[:3]
    assert player.played == 3 and not player.playing
    assert player.position == parrot.events[2]["t"]
    assert essentials(before) == essentials(parrot)[:5]  # the old trace is left as it was
    assert player.step(-10) == -3  # no further back than the start
    assert len(player.trace) == 0 and player.position == 0.0


def test_seek_forward_plays_up_to_that_moment_and_back_starts_again(player, parrot):
    moment = parrot.events[20]["t"]
    player.seek(moment)
    upto = [e for e in essentials(parrot) if e[3] <= moment]
    assert essentials(player.trace) == upto and player.position == moment
    assert not player.playing  # paused stays paused
    earlier = parrot.events[4]["t"]
    first = player.trace
    player.seek(earlier)
    assert player.trace is not first
    assert essentials(player.trace) == [e for e in essentials(parrot) if e[3] <= earlier]
    player.seek(parrot.duration + 100)  # past the end: the end
    assert player.done and essentials(player.trace) == essentials(parrot)


def test_new_trace_callbacks_hear_of_every_rewind(player):
    seen = []
    player.on_new_trace(seen.append)
    player.step(3)
    player.step(-1)
    player.restart()
    player.pause()
    assert len(seen) == 2 and seen[-1] is player.trace


def test_controls_show_what_python_set(player, parrot):
    controls = ReplayControls(player, view="timeline", height=300)
    player.speed = 4
    controls._tick(0)
    assert controls.speed.value == 4
    player.speed = 3  # not one of the offered speeds: offered now
    controls._tick(0)
    assert controls.speed.value == 3 and (f"{3:g}x", 3) in controls.speed.options
    assert 3 not in SPEEDS
    player.seek(parrot.events[30]["t"])
    controls._tick(0)
    assert controls.position.value == pytest.approx(parrot.events[30]["t"], abs=0.001)
    assert controls.play_button.value is False and controls.play_button.description == "Play"
    controls.close()


def test_controls_drive_the_player_and_follow_its_new_trace(player, parrot):
    controls = ReplayControls(player, view="dashboard", height=400)
    controls.view.filters = {**controls.view.filters, "include_types": ["chat_model"]}
    controls.step_button.click()
    controls.step_button.click()
    assert player.played == 2
    old_view = controls.view
    controls.back_button.click()
    assert player.played == 1
    assert controls.view is not old_view and controls.view.trace is player.trace
    assert controls.children[1] is controls.view
    assert controls.view.filters["include_types"] == ["chat_model"]  # the user's choice stays
    assert old_view.comm is None  # the old view was closed
    controls.position.value = parrot.events[40]["t"]  # the user drags the slider
    assert player.position == parrot.events[40]["t"] and player.played >= 41
    controls.speed.value = 0.1
    assert player.speed == 0.1
    controls.close()


def test_a_click_on_the_timeline_axis_seeks_the_player_also_after_a_rewind(player, parrot):
    controls = ReplayControls(player, view="timeline", height=300)
    view = controls.view
    assert view.seekable and view.time_span == pytest.approx(player.duration * 1000)
    moment = parrot.events[30]["t"]
    # What the page sends when the user clicks the axis at that moment (ms).
    view._on_front_end_message(view, {"type": "seek", "ms": moment * 1000}, [])
    assert player.position == pytest.approx(moment)
    assert essentials(player.trace) == [e for e in essentials(parrot) if e[3] <= moment]
    # Back in time: the player has a new trace, shown in a new view that seeks as well.
    earlier = parrot.events[5]["t"]
    view._on_front_end_message(view, {"type": "seek", "ms": earlier * 1000}, [])
    assert player.position == pytest.approx(earlier)
    new_view = controls.view
    assert new_view is not view and new_view.trace is player.trace
    assert new_view.seekable and new_view.time_span == pytest.approx(player.duration * 1000)
    later = parrot.events[40]["t"]
    new_view._on_front_end_message(new_view, {"type": "seek", "ms": later * 1000}, [])
    assert player.position == pytest.approx(later)
    assert essentials(player.trace) == [e for e in essentials(parrot) if e[3] <= later]
    controls.close()


def test_a_widget_that_is_not_seekable_ignores_seek_messages(parrot):
    widget = sv.widgets.TraceWidget(parrot, view="timeline")
    heard = []
    widget.on_seek(heard.append)
    for junk in ({"type": "seek", "ms": 5.0}, {"type": "seek"}, {"type": "seek", "ms": "x"}):
        widget._on_front_end_message(widget, junk, [])
    assert heard == []
    widget.seekable = True
    widget._on_front_end_message(widget, {"type": "seek", "ms": float("nan")}, [])
    widget._on_front_end_message(widget, {"type": "seek", "ms": True}, [])
    widget._on_front_end_message(widget, {"type": "seek", "ms": -3}, [])
    assert heard == [0.0]
    widget.close()

"""The replay player: play/pause, step back and forward, restart, seek and speed above a live view.

The controls always show the player's true state, however it was changed (a click here, or
``player.speed = 4``, ``player.seek(2.5)`` from Python): the update thread brings them in step
on every tick. Going back in time gives the player a new trace, and the view below is replaced by
one of the new trace, keeping its view, height and filters.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from streamviz.widgets import _live
from streamviz.widgets._widget import TraceWidget

if TYPE_CHECKING:
    from streamviz.replay import Replay
    from streamviz.trace import Trace

__all__ = ["SPEEDS", "ReplayControls"]

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


def _button(description: str, icon: str, tooltip: str) -> widgets.Button:
    return widgets.Button(
        description=description, icon=icon, tooltip=tooltip, layout=widgets.Layout(width="auto")
    )


class ReplayControls(widgets.VBox):
    """ipywidgets controls for a :class:`~streamviz.replay.Replay`, above its trace's widget."""

    def __init__(self, player: Replay, *, view: str = "dashboard", height: int = 560) -> None:
        self.player = player
        self._view_options = {"view": view, "height": height}
        self.play_button = widgets.ToggleButton(
            value=player.playing,
            description="Play",
            icon="play",
            tooltip="play / pause (at the end: play again from the start)",
            layout=widgets.Layout(width="auto"),
        )
        self.back_button = _button("Back", "step-backward", "pause and take back the last event")
        self.step_button = _button("Step", "step-forward", "pause and play the next event")
        self.restart_button = _button("Restart", "undo", "back to the start, and play")
        self.speed = widgets.Dropdown(
            options=self._speed_options(player.speed),
            value=player.speed,
            description="speed",
            layout=widgets.Layout(width="150px"),
        )
        self.position = widgets.FloatSlider(
            value=0.0,
            min=0.0,
            max=max(player.duration, 0.001),
            step=0.001,
            description="time",
            readout_format=".2f",
            continuous_update=False,
            tooltip="seconds into the recording: drag to jump",
            layout=widgets.Layout(flex="1 1 240px", min_width="200px"),
        )
        self.progress = widgets.Label()
        self.view = self._make_view(player.trace)
        self.play_button.observe(self._on_play, "value")
        self.back_button.on_click(lambda _: self.player.step(-1))
        self.step_button.on_click(lambda _: self.player.step())
        self.restart_button.on_click(lambda _: self.player.restart())
        self.speed.observe(self._on_speed, "value")
        self.position.observe(self._on_seek, "value")
        buttons = [self.play_button, self.back_button, self.step_button, self.restart_button]
        bar = widgets.HBox(
            [*buttons, self.speed, self.position, self.progress],
            layout=widgets.Layout(align_items="center", grid_gap="8px", flex_flow="row wrap"),
        )
        super().__init__([bar, self.view])
        self.add_class("sv-replay")
        self._shown: tuple[Any, ...] = ()
        # Set while the update thread moves the controls to the player's state: their observers
        # then fire in that thread and must not act (a click comes in the kernel's thread).
        self._sync = threading.local()
        player.on_new_trace(self._show_trace)
        self._tick(0.0)
        _live.follow(self)

    def _syncing(self) -> bool:
        return getattr(self._sync, "active", False)

    @staticmethod
    def _speed_options(speed: float) -> list[tuple[str, float]]:
        return [(f"{value:g}x", value) for value in sorted({*SPEEDS, speed})]

    # ------------------------------------------------------------------ from the user
    def _on_play(self, change: dict[str, Any]) -> None:
        if self._syncing():
            return
        if change["new"]:
            self.player.play()
        else:
            self.player.pause()

    def _on_speed(self, change: dict[str, Any]) -> None:
        if not self._syncing() and change["new"] is not None:
            self.player.speed = change["new"]

    def _on_seek(self, change: dict[str, Any]) -> None:
        if not self._syncing():
            self.player.seek(change["new"])

    # --------------------------------------------------------------- from the player
    def _make_view(self, trace: Trace) -> TraceWidget:
        """A view of the player's trace, seekable: the timeline spans the whole recording.

        A click on its time axis seeks the player there.
        """
        view = TraceWidget(
            trace,
            **self._view_options,
            seekable=True,
            time_span=self.player.duration * 1000.0,
        )
        view.on_seek(self._on_timeline_seek)
        return view

    def _on_timeline_seek(self, ms: float) -> None:
        self.player.seek(ms / 1000.0)

    def _show_trace(self, trace: Trace) -> None:
        """Show the player's new trace (after going back in time) where the old one was."""
        old = self.view
        self.view = self._make_view(trace)
        self.view.filters = old.filters
        self.children = (self.children[0], self.view)
        old.close()

    def _tick(self, now: float) -> None:
        """Keep every control in step with the player (update thread)."""
        player = self.player
        state = (player.playing, player.played, round(player.position, 2), player.done,
                 player.speed)  # fmt: skip
        if state == self._shown:
            return
        self._shown = state
        total = len(player.source.events)
        self.progress.value = (
            f"{player.played:,} / {total:,} events · "
            f"{player.position:,.2f} / {player.duration:,.2f} s"
            + (" · done" if player.done else "")
        )
        self._sync.active = True
        try:
            if self.play_button.value != player.playing:
                self.play_button.value = player.playing
            self.play_button.description = "Pause" if player.playing else "Play"
            self.play_button.icon = "pause" if player.playing else "play"
            if self.speed.value != player.speed:
                if player.speed not in SPEEDS:
                    self.speed.options = self._speed_options(player.speed)
                self.speed.value = player.speed
            self.position.value = min(player.position, self.position.max)
        finally:
            self._sync.active = False

    def close(self) -> None:
        """Stop the replay and close the widgets."""
        _live.unfollow(self)
        self.player.close()
        self.view.close()
        super().close()

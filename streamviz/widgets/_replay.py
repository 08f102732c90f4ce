"""The replay player: play/pause, step, speed and progress above a live view of the replay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from streamviz.widgets import _live
from streamviz.widgets._widget import TraceWidget

if TYPE_CHECKING:
    from streamviz.replay import Replay

__all__ = ["SPEEDS", "ReplayControls"]

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


class ReplayControls(widgets.VBox):
    """ipywidgets controls for a :class:`~streamviz.replay.Replay`, above its trace's widget."""

    def __init__(self, player: Replay, *, view: str = "dashboard", height: int = 560) -> None:
        self.player = player
        self.play_button = widgets.ToggleButton(
            value=player.playing, description="Play", icon="play", tooltip="play / pause"
        )
        self.step_button = widgets.Button(description="Step", icon="step-forward",
                                          tooltip="pause and play the next event")  # fmt: skip
        speeds = sorted({*SPEEDS, player.speed})
        self.speed = widgets.Dropdown(
            options=[(f"{speed:g}x", speed) for speed in speeds],
            value=player.speed,
            description="speed",
            layout=widgets.Layout(width="150px"),
        )
        self.progress = widgets.Label()
        self.view = TraceWidget(player.trace, view=view, height=height)
        self.play_button.observe(self._on_play, "value")
        self.step_button.on_click(lambda _: self.player.step())
        self.speed.observe(self._on_speed, "value")
        bar = widgets.HBox(
            [self.play_button, self.step_button, self.speed, self.progress],
            layout=widgets.Layout(align_items="center", grid_gap="8px"),
        )
        super().__init__([bar, self.view])
        self.add_class("sv-replay")
        self._shown: tuple[Any, ...] = ()
        self._tick(0.0)
        _live.follow(self)

    def _on_play(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.player.play()
        else:
            self.player.pause()

    def _on_speed(self, change: dict[str, Any]) -> None:
        self.player.speed = change["new"]

    def _tick(self, now: float) -> None:
        """Keep the button and the progress text in step with the player (update thread)."""
        player = self.player
        state = (player.playing, player.played, round(player.position, 1), player.done)
        if state == self._shown:
            return
        self._shown = state
        total = len(player.source.events)
        self.progress.value = (
            f"{player.played:,} / {total:,} events · "
            f"{player.position:,.1f} / {player.duration:,.1f} s"
            + (" · done" if player.done else "")
        )
        if self.play_button.value != player.playing:
            self.play_button.value = player.playing
        self.play_button.description = "Pause" if player.playing else "Play"
        self.play_button.icon = "pause" if player.playing else "play"

    def close(self) -> None:
        """Stop the replay and close the widgets."""
        _live.unfollow(self)
        self.player.close()
        self.view.close()
        super().close()

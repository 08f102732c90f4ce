"""Workshop replay: play a saved trace into the widgets with its original timing.

A replay copies the events of a finished (usually loaded) trace into a new trace, each when its
time comes: at ``speed=1`` the tokens arrive as fast as they did when the trace was recorded, at
``speed=0.25`` four times slower, so a room can watch a stream unfold, pause it, step through it
one event at a time (forward and back), jump to any moment and start again. The widgets see an
ordinary growing trace, so everything they show live (tokens, the growing timeline, the table)
works the same. No model, key or network is needed.

A trace only grows, so going back in time starts a new one: after :meth:`Replay.seek` to an
earlier moment (or :meth:`~Replay.restart`, or ``step(-1)``) :attr:`Replay.trace` is a fresh trace
holding the events up to that moment, and the player's widget shows it in place of the old one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamviz._errors import report_internal_error
from streamviz.trace import Trace

__all__ = ["Replay", "replay"]


class _ReplayTrace(Trace):
    """A trace whose clock is the replay's position in the original recording."""

    def __init__(self, name: str | None, player: Replay) -> None:
        super().__init__(name)
        self._player = player

    def clock(self) -> float:
        return self._player.position


class Replay:
    """Plays the events of ``source`` into :attr:`trace` with their recorded timing.

    Parameters
    ----------
    source
        A :class:`~streamviz.Trace` or the path of a saved one.
    speed
        1.0 plays in real time, 2.0 twice as fast, 0.5 at half speed.
    autoplay
        Start playing at once (else call :meth:`play` or :meth:`step`).

    Attributes
    ----------
    trace
        The trace being filled; show it with :func:`streamviz.show`. Going back in time replaces
        it with a new one (see the module doc and :meth:`on_new_trace`).
    """

    def __init__(self, source: Trace | str | Path, *, speed: float = 1.0, autoplay: bool = True):
        original = source if isinstance(source, Trace) else Trace.load(source)
        self.source = original
        self._events = _Recorded(original)
        self._next = 0
        # (playing, wall time, position, speed): replaced whole, so the clock is read without a
        # lock (the widgets read it while holding the trace's lock).
        self._clock = (False, time.perf_counter(), 0.0, _valid_speed(speed))
        self._playing = threading.Event()
        self._wake = threading.Condition()
        self._lock = threading.RLock()
        self._finished = threading.Event()
        self._closed = False
        self._new_trace_callbacks: list[Callable[[Trace], None]] = []
        self.trace: Trace = _ReplayTrace(original.name, self)
        self._thread = threading.Thread(target=self._run, name="streamviz-replay", daemon=True)
        self._thread.start()
        if not len(self._events):
            self._finished.set()
        if autoplay:
            self.play()

    # ------------------------------------------------------------ controls
    @property
    def position(self) -> float:
        """Seconds into the recording (the trace clock of the replay)."""
        playing, wall, position, speed = self._clock
        if not playing:
            return position
        return min(position + (time.perf_counter() - wall) * speed, self.duration)

    def _set_clock(self, playing: bool, position: float, speed: float | None = None) -> None:
        speed = self._clock[3] if speed is None else speed
        self._clock = (playing, time.perf_counter(), position, speed)

    @property
    def duration(self) -> float:
        """Length of the recording in seconds."""
        return self._events.time(len(self._events) - 1) if len(self._events) else 0.0

    @property
    def speed(self) -> float:
        """Playback speed (1.0 = as recorded)."""
        return self._clock[3]

    @speed.setter
    def speed(self, value: float) -> None:
        value = _valid_speed(value)
        with self._lock:
            self._set_clock(self._clock[0], self.position, value)
        self._notify()

    @property
    def playing(self) -> bool:
        """Whether the replay is playing (not paused, not finished)."""
        return self._playing.is_set()

    @property
    def done(self) -> bool:
        """Whether every event has been played."""
        return self._finished.is_set()

    @property
    def played(self) -> int:
        """Number of events played so far."""
        return self._next

    def play(self) -> None:
        """Play (or resume) from the current position; at the end, play again from the start."""
        with self._lock:
            if self._closed or not len(self._events):
                return
            if self.done:
                self._rewind_to(0)
            self._set_clock(True, self.position)
            self._playing.set()
        self._notify()

    def restart(self) -> None:
        """Go back to the start and play."""
        with self._lock:
            self._rewind_to(0)
            self._set_clock(False, 0.0)
        self.play()

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` into the recording, playing or paused as before.

        Forward, the events up to that moment are played at once; back, :attr:`trace` becomes a
        new trace holding the events up to that moment.
        """
        with self._lock:
            target = min(max(float(seconds), 0.0), self.duration)
            if target < self.position:
                self._rewind_to(self._events.count_until(target))
            while self._next < len(self._events) and self._events.time(self._next) <= target:
                self._emit()
            self._set_clock(self.playing, target)
        self._notify()

    def pause(self) -> None:
        """Stop at the current position; :meth:`play` resumes, :meth:`step` advances."""
        with self._lock:
            self._set_clock(False, self.position)
            self._playing.clear()
        self._notify()

    def step(self, events: int = 1) -> int:
        """Pause and play the next ``events`` events at once; returns how many were played.

        A negative ``events`` steps back: the replay restarts its trace with that many events
        fewer (returns the negative count).
        """
        self.pause()
        with self._lock:
            if events < 0:
                keep = max(self._next + events, 0)
                stepped = keep - self._next
                self._rewind_to(keep)
                self._set_clock(False, self._events.time(keep - 1) if keep else 0.0)
                return stepped
            played = 0
            while played < events and self._next < len(self._events):
                self._set_clock(False, self._events.time(self._next))
                self._emit()
                played += 1
        return played

    def on_new_trace(self, callback: Callable[[Trace], None]) -> None:
        """Call ``callback(trace)`` whenever going back in time starts a new :attr:`trace`."""
        self._new_trace_callbacks.append(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every event has been played; returns whether it finished in time."""
        return self._finished.wait(timeout)

    def close(self) -> None:
        """Stop playing for good."""
        with self._lock:
            self._closed = True
            self._events.truncate(self._next)
            self._finished.set()
        self.pause()

    def __repr__(self) -> str:
        state = "done" if self.done else "playing" if self.playing else "paused"
        return (
            f"<Replay of {self.source!r}: {self._next}/{len(self._events)} events, "
            f"{self.position:.2f}/{self.duration:.2f} s, speed {self.speed:g}, {state}>"
        )

    # -------------------------------------------------------------- playing
    def _rewind_to(self, count: int) -> None:
        """Start a new trace holding the first ``count`` events (call with the lock held)."""
        if self._closed:
            return
        self.trace = _ReplayTrace(self.source.name, self)
        self._next = 0
        self._finished.clear()
        if count:
            self._next = count
            try:
                self.trace.store.extend(self._events[:count])
            except Exception as error:
                report_internal_error("streamviz replay", error)
        if self._next >= len(self._events):
            self._finished.set()
        for callback in list(self._new_trace_callbacks):
            try:
                callback(self.trace)
            except Exception as error:  # a broken view must not stop the show
                report_internal_error("streamviz replay view", error)

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _emit(self) -> None:
        event = self._events[self._next]
        self._next += 1
        try:
            self.trace.store.extend([event])
        except Exception as error:  # an odd event must not stop the show
            report_internal_error("streamviz replay", error)
        if self._next >= len(self._events):
            self._set_clock(False, self.duration)
            self._playing.clear()
            self._finished.set()

    def _run(self) -> None:
        while not self._closed:
            with self._wake:
                if not self._playing.is_set():
                    self._wake.wait()  # play(), seek(), speed and close() wake it
                    continue
            with self._lock:
                if not self._playing.is_set() or self._next >= len(self._events):
                    continue
                due = self._events.time(self._next)
                now = self.position
                if now >= due:
                    while self._next < len(self._events) and self._events.time(self._next) <= now:
                        self._emit()
                    continue
                wait = (due - now) / self.speed
            with self._wake:
                self._wake.wait(min(wait, 0.05))


class _Recorded:
    """The events of a finished trace, each copied when played.

    A replay of a million events keeps no copy of them: it reads each from the recorded trace's
    store as it plays it, and their times from one column.
    """

    def __init__(self, trace: Trace) -> None:
        import numpy as np

        self._store = trace.store
        # When each event is due: its t, or an earlier event's if later (events play in seq
        # order, and a file may hold them out of time order; NaN counts as the time before),
        # so the due times never go back and the last one is the replay's duration.
        times = np.asarray(trace.store.columns().t, dtype=np.float64)
        self._times = np.nan_to_num(np.fmax.accumulate(times), nan=0.0) if len(times) else times
        self._size = len(self._times)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, _ = index.indices(self._size)
            return [dict(event) for event in self._store.events(start, stop)]
        if not 0 <= index < self._size:
            raise IndexError("event index out of range")
        return dict(self._store.event(index))

    def time(self, index: int) -> float:
        """When event ``index`` is due: its ``t``, or an earlier event's if that is later."""
        return float(self._times[index])

    def count_until(self, moment: float) -> int:
        """How many events happened at or before ``moment``."""
        return int((self._times[: self._size] <= moment).sum())

    def truncate(self, size: int) -> None:
        """Keep only the first ``size`` events."""
        self._size = min(size, self._size)


def _valid_speed(speed: float) -> float:
    speed = float(speed)
    if not speed > 0:
        raise ValueError(f"speed must be positive, not {speed!r}")
    return speed


def replay(
    source: Trace | str | Path,
    *,
    speed: float = 1.0,
    view: str = "dashboard",
    height: int = 560,
    autoplay: bool = True,
    display: bool | None = None,
) -> Replay:
    """Play a saved trace into a live dashboard with its original timing.

    Parameters
    ----------
    source
        A trace, or the path of a trace file (``trace.save(path)``).
    speed
        1.0 as recorded, 0.5 half speed, 4.0 four times faster; change it later with
        ``replay.speed = ...`` or the speed control.
    view, height
        The widget to show (as in :func:`streamviz.show`).
    autoplay
        Start at once; otherwise press play, or step event by event.
    display
        ``None``: show the player with its controls in Jupyter (nothing elsewhere).

    Returns
    -------
    Replay
        The player: ``play()``, ``pause()``, ``step()``, ``speed``, ``wait()``, and ``trace``.

    Examples
    --------
    >>> player = sv.replay("notebooks/traces/parrot.jsonl", speed=0.5)  # doctest: +SKIP
    """
    player = Replay(source, speed=speed, autoplay=False)
    from streamviz._display import kernel

    if display or (display is None and kernel() is not None):
        from IPython.display import display as show_now

        from streamviz.widgets._replay import ReplayControls

        show_now(ReplayControls(player, view=view, height=height))
    if autoplay:
        player.play()
    return player

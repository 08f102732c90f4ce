"""One background thread that keeps every visible widget up to date with its trace.

Widgets never subscribe per event: the observed program only appends to its trace. About 30
times a second this thread asks each live widget to send what is new (one batched message), so a
10,000 tokens/s stream costs the program nothing per token beyond capture, and a widget sends at
most ~30 messages a second however fast events come. When a trace has been quiet for a moment,
the widget's durable state (the ``snapshot`` trait) is brought up to date, so a saved notebook
holds the final picture. The thread exits when no widget is left and starts again on demand.
"""

from __future__ import annotations

import sys
import threading
import weakref
from time import perf_counter, sleep
from typing import Protocol

from streamviz._errors import report_internal_error

__all__ = [
    "CELL_END_WAIT",
    "FLUSH_INTERVAL",
    "follow",
    "followers",
    "unfollow",
    "whole_at_cell_end",
]

FLUSH_INTERVAL = 1 / 30
"""Seconds between two flushes of one widget (at most ~30 messages a second)."""


class Follower(Protocol):
    """What the thread needs of a widget."""

    def _tick(self, now: float) -> None: ...


class CatchingUp(Protocol):
    """A widget whose first snapshot holds only the first events of its trace."""

    def wait_whole(self, timeout: float) -> bool: ...


_followers: weakref.WeakSet[Follower] = weakref.WeakSet()
_lock = threading.Lock()
_thread: threading.Thread | None = None

CELL_END_WAIT = 300.0
"""Seconds a cell's end waits at most for the rest of its big traces (a hang guard)."""
_catching_up: weakref.WeakSet[CatchingUp] = weakref.WeakSet()
_hooked: set[int] = set()  # ids of the IPython shells the cell-end hook is registered with


def follow(widget: Follower) -> None:
    """Keep ``widget`` updated until :func:`unfollow` (or until it is garbage)."""
    global _thread
    with _lock:
        _followers.add(widget)
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="streamviz-widgets", daemon=True)
            _thread.start()


def unfollow(widget: Follower) -> None:
    """Stop updating ``widget``.

    Never blocks for long: at interpreter exit (ipywidgets closes widgets from ``__del__``) the
    update thread, a daemon, may have been frozen while it held the lock.
    """
    if sys.is_finalizing():
        return
    if _lock.acquire(timeout=1.0):
        try:
            _followers.discard(widget)
        finally:
            _lock.release()


def followers() -> list[Follower]:
    """The widgets followed now."""
    with _lock:
        return list(_followers)


def _run() -> None:
    global _thread
    idle_since = None
    while True:
        started = perf_counter()
        with _lock:
            widgets = list(_followers)
            if not widgets:
                idle_since = idle_since or started
                if started - idle_since > 5.0:
                    _thread = None
                    return
            else:
                idle_since = None
        _tick_all(widgets, started)
        del widgets  # between ticks the thread holds no widget
        sleep(max(0.0, FLUSH_INTERVAL - (perf_counter() - started)))


def _tick_all(widgets: list[Follower], now: float) -> None:
    for widget in widgets:
        try:
            widget._tick(now)
        except Exception as error:  # a broken widget must not stop the others
            report_internal_error("streamviz widget update", error)


def whole_at_cell_end(widget: CatchingUp) -> None:
    """In a Jupyter kernel, end the running cell only once ``widget`` holds its whole trace.

    A big trace's widget starts with its first events and this thread sends the rest; a
    notebook saved from the model state as the cell ends (nbclient, ``jupyter nbconvert
    --execute``, a save right after the run) would keep only the first events. So the cell's
    end (IPython's ``post_run_cell``, registered at the first such widget, never at import)
    waits for the rest to be sent and the snapshot settled. The page draws the first events
    at once all the same: the wait comes after the cell's outputs are sent.
    """
    shell = _kernel_shell()
    if shell is None:
        return
    with _lock:
        _catching_up.add(widget)
        if id(shell) not in _hooked:
            shell.events.register("post_run_cell", _wait_for_catch_up)
            _hooked.add(id(shell))


def _kernel_shell() -> object | None:
    ipython = sys.modules.get("IPython")  # never imports IPython
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def _wait_for_catch_up(*_result: object) -> None:
    """IPython's ``post_run_cell``: wait (bounded) until every big widget holds its whole trace."""
    try:
        with _lock:
            widgets = list(_catching_up)
            _catching_up.clear()
        deadline = perf_counter() + CELL_END_WAIT
        for widget in widgets:
            if not widget.wait_whole(max(0.0, deadline - perf_counter())):
                report_internal_error(
                    "streamviz widget catch-up",
                    TimeoutError(f"the rest of a big trace was not sent in {CELL_END_WAIT:.0f} s"),
                )
        del widgets
    except Exception as error:  # the cell's end must not fail for a widget
        report_internal_error("streamviz widget catch-up", error)

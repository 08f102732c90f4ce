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

__all__ = ["FLUSH_INTERVAL", "follow", "followers", "unfollow"]

FLUSH_INTERVAL = 1 / 30
"""Seconds between two flushes of one widget (at most ~30 messages a second)."""


class Follower(Protocol):
    """What the thread needs of a widget."""

    def _tick(self, now: float) -> None: ...


_followers: weakref.WeakSet[Follower] = weakref.WeakSet()
_lock = threading.Lock()
_thread: threading.Thread | None = None


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

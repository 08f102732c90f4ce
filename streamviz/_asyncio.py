"""Running a coroutine to the end from synchronous code, also inside a notebook cell.

A notebook cell already runs inside the kernel's event loop, where ``asyncio.run`` refuses to
start another. ``nest_asyncio`` makes the running loop re-entrant, but it swaps asyncio's C task
for a slower pure-Python one for the whole process and cannot be undone, so it is applied only
when it is needed: when a synchronous streamviz call has to run async code inside a running loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["kept_loop", "run_sync"]

T = TypeVar("T")

_kept = threading.local()


def kept_loop() -> asyncio.AbstractEventLoop:
    """The event loop of this thread for :func:`run_sync` with ``keep_loop`` (kept open)."""
    loop = getattr(_kept, "loop", None)
    if loop is None or loop.is_closed():
        loop = _kept.loop = asyncio.new_event_loop()
    return loop


def run_sync(coroutine: Coroutine[Any, Any, T], *, keep_loop: bool = False) -> T:
    """Run ``coroutine`` to completion and return its result, with or without a running loop.

    Without a running loop it runs on a fresh loop (``asyncio.run``), or with ``keep_loop`` on
    :func:`kept_loop`, the same loop at every call: an async client's pooled connections belong
    to the loop that opened them, and on a second fresh loop they fail ("Event loop is closed").
    """
    # The coroutine must not run inside this except block: its errors would get the
    # RuntimeError as their __context__.
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        if keep_loop:
            return kept_loop().run_until_complete(coroutine)
        return asyncio.run(coroutine)
    import nest_asyncio

    nest_asyncio.apply(loop)
    return loop.run_until_complete(coroutine)

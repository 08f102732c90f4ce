"""Running a coroutine to the end from synchronous code, also inside a notebook cell.

A notebook cell already runs inside the kernel's event loop, where ``asyncio.run`` refuses to
start another. ``nest_asyncio`` makes the running loop re-entrant, but it swaps asyncio's C task
for a slower pure-Python one for the whole process and cannot be undone, so it is applied only
when it is needed: when a synchronous streamviz call has to run async code inside a running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion and return its result, with or without a running loop.

    What it raises is re-raised without the event loop's frames and streamviz's (see
    :mod:`streamviz._tracebacks`), and the streamviz entry point that called this is hidden
    from IPython's tracebacks: the error reads from the user's line into the user's code.
    """
    # The coroutine must not run inside this except block: its errors would get the
    # RuntimeError as their __context__.
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    try:
        if loop is None:
            return asyncio.run(coroutine)
        import nest_asyncio

        nest_asyncio.apply(loop)
        return loop.run_until_complete(coroutine)
    except BaseException as error:
        from streamviz._tracebacks import hide_calling_frames, program_traceback

        error.__traceback__ = program_traceback(error.__traceback__)
        hide_calling_frames()
        raise  # a bare raise adds no frame of its own

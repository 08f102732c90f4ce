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
    """Run ``coroutine`` to completion and return its result, with or without a running loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    import nest_asyncio

    nest_asyncio.apply(loop)
    return loop.run_until_complete(coroutine)

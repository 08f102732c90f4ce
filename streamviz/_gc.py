"""Pausing the cyclic garbage collector while a bulk reader builds many objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc(*, keep: bool = False) -> Iterator[None]:
    """No automatic collection inside the block (it is re-enabled after, if it was enabled).

    Building a million events or rows allocates a million containers; each automatic collection
    meanwhile walks all of them again (loading spent ~40 % of its time there). Nothing is freed
    later than it would be: the next collection after the block finds what this one would have.

    ``keep=True``: what the block builds is a result the caller keeps (a DataFrame's cells),
    which the collector would otherwise walk once as young objects at the next collection and
    again as middle-aged ones, to find them alive, before it joins the old ones (at 1M events,
    ~1 us per event of pure walking). So, when the block ends without an error, the objects it
    made go straight to the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``), where
    only full collections look at them, as they would anyway. The young objects are collected
    first, so that nothing made before the block skips a collection; a block that made a
    reference cycle of garbage leaves it to the next full collection. Not done when someone
    froze objects (``gc.get_freeze_count()``: unfreezing would thaw theirs) or when the
    collector was disabled.
    """
    enabled = gc.isenabled()
    promote = keep and enabled and hasattr(gc, "freeze") and not gc.get_freeze_count()
    if promote:
        gc.collect(0)
    gc.disable()
    done = False
    try:
        yield
        done = True
    finally:
        if promote and done and not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()

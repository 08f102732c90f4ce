"""Swallow-and-log for streamviz's own failures: observing a program must never break it."""

from __future__ import annotations

import logging
import threading

__all__ = ["logger", "report_internal_error"]

logger = logging.getLogger("streamviz")

_seen: set[str] = set()
_lock = threading.Lock()
_counts: dict[str, int] = {}


def report_internal_error(where: str, error: BaseException) -> None:
    """Log an error raised inside streamviz (or a subscriber) once per place and type.

    The first occurrence is logged with its traceback at WARNING; later ones of the same place and
    type are only counted (see :func:`internal_error_counts`) so a failure on every token cannot
    flood the notebook.
    """
    key = f"{where}:{type(error).__name__}"
    with _lock:
        _counts[key] = _counts.get(key, 0) + 1
        first = key not in _seen
        _seen.add(key)
    if first:
        logger.warning(
            "streamviz: error in %s was ignored (the observed program is unaffected; "
            "further errors of this kind are counted, not logged)",
            where,
            exc_info=error,
        )


def internal_error_counts() -> dict[str, int]:
    """How many internal errors were swallowed, by ``"place:ExceptionType"``."""
    with _lock:
        return dict(_counts)

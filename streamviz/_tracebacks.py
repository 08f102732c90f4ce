"""Errors of the observed program shown from the user's code, without streamviz's own frames.

An exception raised by the runnable that ``sv.watch`` (``awatch``, ``watch_remote``,
``Collector.stream``...) runs passes through streamviz's frames on its way to the caller: the
entry point, the watch driver, the stream taps, and for ``watch(use_async=True)`` the event loop
streamviz runs. Printed first, they hide where the error really is. The entry points
(:func:`entry_point`, and the collector's outermost stream tap) catch the error, replace its
traceback by :func:`program_traceback` and re-raise it with a bare ``raise``:

- since Python 3.11 a bare ``raise`` re-raises the exception with its ``__traceback__`` and adds
  no frame of its own, so the caller's traceback goes from the caller's line straight into
  LangChain's frames and the user's; on Python 3.10 it re-raises the traceback it caught, and
  tracebacks stay whole;
- the exception is the same object with the same type, message, notes, cause and context (the
  watch functions add their note about ``last_trace``): only its traceback loses streamviz's
  frames, those of the entry point and those of the stream taps between LangChain's;
- an error raised by streamviz itself (its innermost frame is streamviz's) keeps its whole
  traceback, and this module never raises: on any failure the traceback is left as it was.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TypeVar

from streamviz._errors import report_internal_error

__all__ = ["entry_point", "is_streamviz_frame", "program_traceback"]

F = TypeVar("F", bound=Callable[..., Any])

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Example code shipped with streamviz, run by users like their own: its frames are kept.
_EXAMPLES = _PACKAGE + "demo" + os.sep
_ASYNCIO = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep


def is_streamviz_frame(frame: FrameType) -> bool:
    """Whether ``frame`` runs streamviz's own code (its demo examples excepted)."""
    filename = frame.f_code.co_filename
    return filename.startswith(_PACKAGE) and not filename.startswith(_EXAMPLES)


def _is_event_loop_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    if filename.startswith(_ASYNCIO):
        return True
    nest_asyncio = sys.modules.get("nest_asyncio")  # patches the loop of a notebook cell
    return nest_asyncio is not None and filename == getattr(nest_asyncio, "__file__", None)


def program_traceback(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without streamviz's frames, for an error of the observed program.

    - Every frame of streamviz's code is dropped (those of ``streamviz.demo`` are kept).
    - So are the event-loop frames among streamviz's first frames: the loop that
      ``watch(use_async=True)`` runs the program on, not one of the program's own.
    - When nothing else is left, the error was raised by streamviz (or by the loop it runs) and
      ``tb`` is returned unchanged.

    The frames kept are linked anew: the original traceback objects are not modified.
    """
    try:
        entries: list[TracebackType] = []
        entry = tb
        while entry is not None:
            entries.append(entry)
            entry = entry.tb_next
        start = 0
        while start < len(entries) and (
            is_streamviz_frame(entries[start].tb_frame)
            or _is_event_loop_frame(entries[start].tb_frame)
        ):
            start += 1
        if start == len(entries) or is_streamviz_frame(entries[-1].tb_frame):
            return tb
        kept = [e for e in entries[start:] if not is_streamviz_frame(e.tb_frame)]
        if len(kept) == len(entries):
            return tb
        linked: TracebackType | None = None
        for entry in reversed(kept):
            # tb_lineno is None for an entry whose instruction has no line (an interrupt that
            # landed in a generated line): the frame's line stands in for it.
            line = entry.tb_lineno if entry.tb_lineno is not None else entry.tb_frame.f_lineno
            linked = TracebackType(linked, entry.tb_frame, entry.tb_lasti, line or 0)
        return linked
    except Exception as error:
        report_internal_error("traceback trimming", error)
        return tb


def entry_point(function: F) -> F:
    """Make ``function`` (sync or async) an entry point whose program errors read from the caller.

    What it raises leaves with :func:`program_traceback`, re-raised bare from this wrapper:
    since Python 3.11 that adds no entry, so the caller's frame is followed by the program's.
    Signature and docs are ``function``'s.
    """
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def awaited(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except BaseException as error:
                error.__traceback__ = program_traceback(error.__traceback__)
                raise  # a bare raise adds no frame of its own

        return awaited  # type: ignore[return-value]

    @functools.wraps(function)
    def called(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BaseException as error:
            error.__traceback__ = program_traceback(error.__traceback__)
            raise  # a bare raise adds no frame of its own

    return called  # type: ignore[return-value]

"""``with sv.capture():`` - record every LangChain run started inside a block, no config needed."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from langchain_core.tracers.context import register_configure_hook

from streamviz.sources.callbacks import Collector
from streamviz.trace import Trace

__all__ = ["capture"]

# LangChain adds the handler found in each of these variables to every run it configures, so a
# `with capture():` block needs no config. One variable per nesting level: each level is a
# separate handler, and LangChain's own de-duplication keeps them from seeing an event twice.
# They are handed to LangChain at the first capture, not when streamviz is imported.
_MAX_NESTING = 8
_capture_vars: list[ContextVar[Collector | None]] = [
    ContextVar(f"streamviz_capture_{level}", default=None) for level in range(_MAX_NESTING)
]
_hooked = threading.Event()
_hooking = threading.Lock()


class _OtherThreads:
    """What LangChain asks for runs configured in a context with no capture of its own.

    The latest open ``capture(threads=True)`` block's collector: a thread pool's worker starts
    with an empty context, so without this its runs are not seen at all; with it they are
    recorded as roots (and flagged detached: see :mod:`streamviz.usage`).
    """

    def __init__(self) -> None:
        self.collectors: list[Collector] = []
        self.lock = threading.Lock()

    def get(self) -> Collector | None:
        collectors = self.collectors
        if not collectors or any(var.get() is not None for var in _capture_vars):
            return None
        return collectors[-1]


_other_threads = _OtherThreads()
_other_threads_hooked = False


def _hook_other_threads() -> None:
    global _other_threads_hooked
    with _hooking:
        if not _other_threads_hooked:
            register_configure_hook(_other_threads, inheritable=True)  # type: ignore[arg-type]
            _other_threads_hooked = True


def _hook_into_langchain() -> None:
    with _hooking:
        if not _hooked.is_set():
            for var in _capture_vars:
                register_configure_hook(var, inheritable=True)
            _hooked.set()


@contextlib.contextmanager
def capture(
    trace: Trace | None = None,
    *,
    name: str | None = None,
    path: str | os.PathLike[str] | None = None,
    threads: bool = False,
) -> Iterator[Trace]:
    """Capture every LangChain run started inside the block, without passing a config.

    Parameters
    ----------
    trace
        Record into this trace instead of a new one.
    name
        Name of the new trace.
    path
        Also write the trace to this JSONL file while it is captured (a journal): events are
        appended at least every half second and as soon as a top-level run ends, and the rest
        when the block exits, in the format of :meth:`Trace.save`. If the program is killed,
        the file keeps everything written before; :meth:`Trace.load` opens it, also while it
        is still being written. A file that cannot be written is logged, not raised: the trace
        is still captured in memory.
    threads
        Also record runs started, while the block is open, in threads that have no capture
        of their own: a ``ThreadPoolExecutor``'s workers start with an empty context, so a
        runnable called there without a ``config`` is otherwise not seen. Those runs become
        roots, and :meth:`Trace.detached_runs` (``format_tree``, ``runs_df``'s
        ``detached_from``, the dashboard's tree) flags the ones that ran inside another run.

    Yields
    ------
    Trace
        The trace being filled; it stays usable after the block.

    Notes
    -----
    The block's collector also works beside ``astream_events`` and LangGraph's stream handlers
    started inside it: it puts itself ahead of them and passes output streams on.

    If the block exits with an exception (``KeyboardInterrupt``, a cancelled task), runs that
    are still open are recorded as ended with that error, so none stays ``running`` forever.

    Examples
    --------
    >>> import streamviz as sv
    >>> with sv.capture() as trace:  # doctest: +SKIP
    ...     chain.invoke({"topic": "parrot"})
    """
    if not _hooked.is_set():
        _hook_into_langchain()
    if trace is not None and any(
        (open_ := var.get()) is not None and open_.trace is trace for var in _capture_vars
    ):
        # An enclosing block already records into this trace: a second collector would record
        # every event twice. The inner block is the outer one's (its `path` journal aside).
        yield from _journaled(trace, path)
        return
    var = next((v for v in _capture_vars if v.get() is None), None)
    if var is None:
        raise RuntimeError(f"streamviz.capture() blocks can be nested {_MAX_NESTING} deep at most")
    collector = Collector(trace, name=name)
    journal = None
    if path is not None:
        from streamviz._journal import Journal

        journal = Journal(collector.trace, path)
    token = var.set(collector)
    if threads:
        _hook_other_threads()
        with _other_threads.lock:
            _other_threads.collectors = [*_other_threads.collectors, collector]
    try:
        yield collector.trace
    except BaseException as error:
        collector.abandon_running(error)
        raise
    finally:
        var.reset(token)
        if threads:
            with _other_threads.lock:
                _other_threads.collectors = [
                    item for item in _other_threads.collectors if item is not collector
                ]
        if journal is not None:
            journal.close()


def _journaled(trace: Trace, path: str | os.PathLike[str] | None) -> Iterator[Trace]:
    """Yield ``trace`` (already being recorded), written to ``path`` while the block is open."""
    journal = None
    if path is not None:
        from streamviz._journal import Journal

        journal = Journal(trace, path)
    try:
        yield trace
    finally:
        if journal is not None:
            journal.close()

"""The one watch driver: a feed of items, followed on screen, ended the same way every time.

Every ``sv.watch`` flavour (sync or async, in-process or on a LangGraph API server) is a *feed*
driven by :class:`Watch`:

- :class:`LocalFeed` streams a runnable in-process through a :class:`~streamviz.Collector` (and
  records a graph's stream parts as they are yielded);
- :class:`RemoteFeed` streams a run of a LangGraph API server through ``langgraph_sdk``
  (:class:`~streamviz.sources.remote.RemoteCall`).

The driver starts the trace's clock when the run is called, shows the trace (a live widget in
a notebook, printed output in a console: :mod:`streamviz._display`,
:mod:`streamviz.presentation.console`), hands each item to the feed, and on the way out records
an error or the end, closes the stream and settles what is shown. What the run raises is
noted (:func:`note_error`) and re-raised.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

from streamviz import _display
from streamviz._errors import report_internal_error
from streamviz.presentation.console import Console, PartDescriber, describe_chunk
from streamviz.sources.callbacks import Collector
from streamviz.sources.graph import GraphParts, is_graph, pause_event
from streamviz.sources.remote import RemoteCall
from streamviz.trace import Trace

__all__ = ["LocalFeed", "RemoteFeed", "Watch", "latest", "note_error"]


class _Latest:
    """The trace of the latest watch (``sv.last_trace()``), set when a watch starts."""

    trace: Trace | None = None


latest = _Latest()
_NO_PART: Any = object()


class LocalFeed:
    """A runnable streamed in-process, recorded by a collector of its own."""

    def __init__(
        self, runnable: Any, input: Any, config: Any, name: str | None, kwargs: dict[str, Any]
    ) -> None:
        self.collector = Collector(
            name=name or getattr(runnable, "name", None) or type(runnable).__name__
        )
        self.trace = self.collector.trace
        self.runnable, self.input, self.kwargs = runnable, input, kwargs
        self.config, self.run_id = self.collector.config_for(config)
        self.parts = _graph_parts(self.trace, runnable, self.run_id, kwargs)
        # What the result falls back to when the run reports no output: a runnable's chunks, to
        # be added up; a graph's last part only (its parts do not add up, and keeping them all
        # would keep every token's message alive until the end: garbage collections that walk
        # them cost the observed program more than recording them).
        self.chunks: list[Any] = []
        self.last_part: Any = _NO_PART
        self.describe = describe_chunk

    def stream(self) -> Iterator[Any]:
        if self.parts is not None:  # a graph: its parts are recorded as they are yielded
            return self.runnable.stream(self.input, self.config, **self.kwargs)
        return self.collector.stream(self.runnable, self.input, self.config, **self.kwargs)

    def astream(self) -> AsyncIterator[Any]:
        if self.parts is not None:
            return self.runnable.astream(self.input, self.config, **self.kwargs)
        return self.collector.astream(self.runnable, self.input, self.config, **self.kwargs)

    def take(self, chunk: Any) -> tuple[Any, ...]:
        """Keep one yielded chunk; returns what the console prints of it."""
        if self.parts is None:
            self.chunks.append(chunk)
            return chunk, None
        self.last_part = chunk
        return chunk, self.parts.record(chunk)

    def put(self) -> Any:
        """For a graph, the function recording each part, else None.

        What :meth:`take` does, but for ``last_part``, which the watch loop sets at its end.
        """
        return None if self.parts is None else self.parts.putter()

    def fail(self, error: BaseException) -> None:
        self.collector.abandon_running(error)

    def finish(self) -> None:
        """LangChain's callbacks ended the runs; a graph paused unseen is noted (see below)."""
        if self._may_have_paused():
            try:
                self._note_pause(self.runnable.get_state(self._thread_config()))
            except Exception as error:
                report_internal_error("streamviz graph state after the run", error)

    async def afinish(self) -> None:
        """:meth:`finish` for ``astream`` (an async checkpointer answers ``aget_state`` only)."""
        if self._may_have_paused():
            try:
                self._note_pause(await self.runnable.aget_state(self._thread_config()))
            except Exception as error:
                report_internal_error("streamviz graph state after the run", error)

    def _may_have_paused(self) -> bool:
        # interrupt_before/after stop a graph without an error nor, unless "updates" is
        # streamed, any part: a graph on a thread that ended "ok" is asked whether nodes are
        # still to run (the thread's checkpoint), which is what a pause is.
        if self.parts is None or getattr(self.runnable, "checkpointer", None) is None:
            return False
        root = self.trace.runs.get(str(self.run_id))
        return root is not None and root.status == "ok" and root.thread_id is not None

    def _thread_config(self) -> dict[str, Any]:
        return {"configurable": dict(self.config.get("configurable") or {})}

    def _note_pause(self, state: Any) -> None:
        if state.next and self.parts is not None:
            self.trace.store.append(pause_event(self.parts, state.next, state.interrupts))

    def close(self) -> None:
        chunks = self.chunks if self.last_part is _NO_PART else [self.last_part]
        self.trace.result = _result(self.trace, self.run_id, chunks)


class RemoteFeed:
    """A run on a LangGraph API server, streamed through the SDK and recorded part by part."""

    def __init__(self, call: RemoteCall) -> None:
        self.call, self.parts, self.trace = call, call.parts, call.trace
        self.describe = PartDescriber()

    def stream(self) -> Any:
        return self.call.stream()

    astream = stream  # the SDK's async client gives an async iterator, the sync client not

    def take(self, part: Any) -> tuple[Any, ...] | None:
        """Record one part; returns what the console prints of it (``None``: not readable)."""
        return self.parts.record(part)

    def fail(self, error: BaseException) -> None:
        self.parts.fail(error)

    def finish(self) -> None:
        # A clean end of the stream is also what a proxy cut looks like: the server says which.
        self.parts.finish(self.call.server_status())

    async def afinish(self) -> None:
        self.parts.finish(await self.call.aserver_status())

    def close(self) -> None:
        self.trace.result = self.parts.result


Feed = LocalFeed | RemoteFeed


class Watch:
    """Drives one feed to its end, with its trace shown live (see the module doc).

    ``display``: ``None`` shows a live widget in Jupyter or marimo and prints elsewhere,
    ``True`` makes the widget wherever it runs, ``False`` shows nothing. ``path``: a JSONL
    file the trace is written to as it is captured (:mod:`streamviz._journal`).
    """

    def __init__(
        self,
        feed: Feed,
        *,
        display: bool | None,
        view: str,
        height: int,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.feed, self.trace = feed, feed.trace
        self.journal = None
        if path is not None:
            from streamviz._journal import Journal

            self.journal = Journal(self.trace, path)
        self.widget = None
        self.console: Console | None = None
        if display is not False:
            self.widget = _display.show_trace(
                self.trace, view=view, height=height, anywhere=bool(display)
            )
            if self.widget is None:  # no notebook: print the run as it goes
                self.console = Console(feed.describe)

    def run(self) -> Trace:
        """Drive a sync stream to its end; returns the trace, raises what the run raised."""
        stream = None
        try:
            self._begin()
            stream = self.feed.stream()
            put = self._put()
            if put is not None:  # a graph's parts, nothing printed: one call per part
                item = _NO_PART
                try:
                    for item in stream:
                        put(item)
                finally:
                    self._kept(item)
            else:
                for item in stream:
                    self._take(item)
        except BaseException as error:
            self._fail(error)
            raise
        else:
            self.feed.finish()
        finally:
            with contextlib.suppress(Exception):  # an interrupted stream lets its resources go
                getattr(stream, "close", lambda: None)()
            self._close()
        return self.trace

    async def arun(self) -> Trace:
        """Async twin of :meth:`run` (the stream may be sync: a sync SDK client's)."""
        stream = None
        try:
            self._begin()
            stream = self.feed.astream()
            put = self._put()
            if put is not None and hasattr(stream, "__aiter__"):  # as in run
                item = _NO_PART
                try:
                    async for item in stream:
                        put(item)
                finally:
                    self._kept(item)
            elif hasattr(stream, "__aiter__"):
                async for item in stream:
                    self._take(item)
            else:
                for item in stream:
                    self._take(item)
        except BaseException as error:
            self._fail(error)
            raise
        else:
            await self.feed.afinish()
        finally:
            with contextlib.suppress(Exception):
                if hasattr(stream, "aclose"):
                    await stream.aclose()
                else:
                    getattr(stream, "close", lambda: None)()
            self._close()
        return self.trace

    def _begin(self) -> None:
        latest.trace = self.trace  # also when the run raises: sv.last_trace() has what it did
        self.trace.start_clock()  # t = 0 when the run is called, not when the widget was made

    def _put(self) -> Any:
        """What takes each item when it only needs recording (:meth:`LocalFeed.put`), else None."""
        if self.console is None and isinstance(self.feed, LocalFeed):
            return self.feed.put()
        return None

    def _kept(self, item: Any) -> None:
        """The last item of a loop over :meth:`_put`'s function (``_NO_PART``: none came)."""
        if item is not _NO_PART:
            self.feed.last_part = item  # type: ignore[union-attr]

    def _take(self, item: Any) -> None:
        shown = self.feed.take(item)
        if self.console is not None and shown is not None:
            self.console.print(*shown)

    def _fail(self, error: BaseException) -> None:
        self.feed.fail(error)
        note_error(error)

    def _close(self) -> None:
        self.feed.close()
        if self.journal is not None:
            self.journal.close()
        # What is shown must not cost the program its result (text a page cannot carry, a
        # closed comm): the failure is logged, the trace is returned or the error re-raised.
        try:
            if self.widget is not None:
                self.widget.settle()
            if self.console is not None:
                self.console.close(self.trace.format_tree())
        except Exception as error:
            report_internal_error("streamviz display at the end of the run", error)


def _graph_parts(trace: Trace, runnable: Any, run_id: Any, kwargs: dict[str, Any]) -> Any:
    """A recorder of the stream parts of ``runnable`` if it is a LangGraph graph, else ``None``."""
    if not is_graph(runnable):
        return None
    stream_mode = kwargs.get("stream_mode")
    return GraphParts(
        trace,
        str(run_id),
        runnable.get_name(),
        stream_mode=stream_mode if stream_mode is not None else runnable.stream_mode,
        subgraphs=bool(kwargs.get("subgraphs", False)),
        version=kwargs.get("version", "v1"),
    )


def _result(trace: Trace, run_id: Any, chunks: list[Any]) -> Any:
    """The run's output as LangChain reports it at the end, else the chunks added up."""
    root = trace.runs.get(str(run_id))
    if root is not None and root.status == "ok" and root.output is not None:
        return root.output
    if not chunks:
        return None
    total = chunks[0]
    for chunk in chunks[1:]:
        try:
            total = total + chunk
        except TypeError:  # chunks that do not add up (progressive dicts): the last one is whole
            total = chunk
    return total


def note_error(error: BaseException) -> None:
    """Add streamviz's notes to an error of the watched run.

    They tell where the captured trace is and how to watch async-only runnables. Nothing else of
    the error changes (the public entry points trim its traceback to the program's frames:
    ``streamviz._tracebacks.entry_point``).
    """
    if not hasattr(error, "add_note"):
        return
    try:
        error.add_note("streamviz: what was captured is in streamviz.last_trace()")
        message = str(error)
        # LangChain's "Cannot invoke a coroutine function synchronously" and LangGraph's 'No
        # synchronous function provided to "node"': a sync stream met an async-only step.
        if "coroutine function synchronously" in message or "No synchronous function" in message:
            error.add_note("streamviz: for async-only runnables use sv.watch(..., use_async=True)")
    except Exception as failure:  # an exception whose str() fails is re-raised as it is
        report_internal_error("watch error notes", failure)

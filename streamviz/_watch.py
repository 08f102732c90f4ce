"""``sv.watch``: run a runnable streaming, with its dashboard live; ``sv.show`` for a trace.

In Jupyter the dashboard appears before the first event and follows the run; in a plain script
(no kernel to draw widgets in) the output chunks are printed as they come, ``|``-separated like
the guides print them, followed by the run tree. ``sv.watch_remote`` does the same for a run on a
LangGraph API server, streamed through ``langgraph_sdk``.
"""

from __future__ import annotations

import contextlib
import sys
import weakref
from collections.abc import Sequence
from typing import Any

from streamviz import _marimo
from streamviz.sources.callbacks import Collector
from streamviz.sources.graph import GraphParts, is_graph
from streamviz.trace import Trace

__all__ = [
    "awatch",
    "awatch_remote",
    "close_widgets",
    "last_trace",
    "show",
    "watch",
    "watch_remote",
]

_last: Trace | None = None
# Traces already on screen, by the kernel's execution count of the cell that showed them: the
# trace returned by `sv.watch(...)` as a cell's last value is not drawn a second time.
_on_screen: weakref.WeakKeyDictionary[Trace, int] = weakref.WeakKeyDictionary()


def _kernel() -> Any:
    """The running IPython kernel shell, or ``None`` (plain Python, or a terminal IPython)."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return None
    shell = ipython_module.get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def last_trace() -> Trace | None:
    """The trace of the latest :func:`watch`/:func:`awatch`, also when the run raised."""
    return _last


class _Session:
    """What one watch shows while it runs: a dashboard in Jupyter, printed chunks elsewhere."""

    def __init__(self, trace: Trace, display: bool | None, view: str, height: int) -> None:
        global _last
        _last = self.trace = trace
        shell = _kernel()
        self.widget = None
        self.console = False
        in_marimo = shell is None and _marimo.active()
        if display is None:
            display = True
            self.console = shell is None and not in_marimo
        if display and not self.console:
            from IPython.display import display as show_now

            from streamviz.widgets import TraceWidget

            self.widget = TraceWidget(trace, view=view, height=height)
            if in_marimo:
                _marimo.display(self.widget)
            else:
                show_now(self.widget)
            if shell is not None:
                _on_screen[trace] = shell.execution_count
        self._pieces = 0

    def chunk(self, chunk: Any, parts: GraphParts | None = None) -> None:
        """Take one yielded item: recorded as a graph part if it is one, printed in a console."""
        part = parts.record(chunk) if parts is not None else None
        if not self.console:
            return
        from streamviz.widgets._text import chunk_text, is_json_chunk, part_text

        if part is not None:
            namespace, mode, value = part
            if mode == "messages":
                print(part_text(mode, value), end="|", flush=True)
            else:
                where = f" {'/'.join(namespace)}" if namespace else ""
                print(f"\n[{mode}{where}] {part_text(mode, value)}", flush=True)
        else:
            text = chunk_text(chunk)
            print(text, end="\n" if is_json_chunk(chunk) else "|", flush=True)
        self._pieces += 1

    def remote_part(self, part: tuple[str, list[str], Any] | None, console: Any) -> None:
        """Print one recorded server part in a console (a widget follows the trace by itself)."""
        if not self.console or part is None:
            return
        text, inline = console(*part)
        if text is None:
            return
        if inline:
            print(text, end="|", flush=True)
        else:
            print(f"\n{text}", flush=True)
        self._pieces += 1

    def close(self) -> None:
        if self.widget is not None:
            self.widget.settle()
        if self.console:
            print("\n" if self._pieces else "", end="")
            print(self.trace.format_tree())


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


def _graph_parts(
    collector: Collector, runnable: Any, run_id: Any, kwargs: dict[str, Any]
) -> GraphParts | None:
    """A recorder of the stream parts of ``runnable`` if it is a LangGraph graph, else ``None``."""
    if not is_graph(runnable):
        return None
    stream_mode = kwargs.get("stream_mode")
    return GraphParts(
        collector.trace,
        str(run_id),
        runnable.get_name(),
        stream_mode=stream_mode if stream_mode is not None else runnable.stream_mode,
        subgraphs=bool(kwargs.get("subgraphs", False)),
        version=kwargs.get("version", "v1"),
    )


def _note(error: BaseException) -> None:
    """Ready an error of the watched run to be re-raised with a bare ``raise``.

    Its traceback loses streamviz's frames (see ``streamviz._tracebacks``), so it starts at the
    caller's line and goes on into LangChain's and the user's code; notes tell where the
    captured trace is and how to watch async-only runnables. Nothing else of it changes.
    """
    from streamviz._errors import report_internal_error
    from streamviz._tracebacks import program_traceback

    error.__traceback__ = program_traceback(error.__traceback__)
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


def _prepare(runnable: Any, config: Any, name: str | None) -> tuple[Collector, dict[str, Any], Any]:
    collector = Collector(name=name or getattr(runnable, "name", None) or type(runnable).__name__)
    config, run_id = collector._config_for(config)
    return collector, config, run_id


def watch(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    name: str | None = None,
    view: str = "dashboard",
    height: int = 560,
    display: bool | None = None,
    use_async: bool = False,
    **kwargs: Any,
) -> Trace:
    """Stream ``runnable`` on ``input`` with a live dashboard; return the captured trace.

    Parameters
    ----------
    runnable
        A LangChain runnable (an LCEL chain, a chat model, a LangGraph graph...).
    input, config, **kwargs
        Passed to ``runnable.stream(input, config, **kwargs)``. For a LangGraph graph these
        include ``stream_mode`` (one mode or a list: ``values``, ``updates``, ``messages``,
        ``custom``, ``debug``, ``tasks``, ``checkpoints``), ``subgraphs`` and ``version``: each
        part the graph yields is recorded with its mode and namespace, beside the callback events
        of the same run (graph, nodes, subgraphs, models).
    name
        Name of the trace (default: the runnable's name).
    view
        What to show: ``dashboard``, ``tokens``, ``table``, ``timeline``, ``tree`` or ``graph``.
    height
        Widget height in pixels.
    display
        ``None`` (default): a live widget in Jupyter, printed chunks and the run tree elsewhere;
        ``False``: show nothing.
    use_async
        Stream with ``astream`` (for runnables written with async functions only), also from a
        notebook cell, where an event loop already runs: then ``nest_asyncio`` is applied to it
        (once, for the process). In async code prefer ``await sv.awatch(...)``.

    Returns
    -------
    Trace
        The trace, with ``trace.result`` set to what the run returned (the streamed output
        added up, as ``invoke`` would return it).

    Raises
    ------
    Exception
        Whatever the runnable raised; what was captured stays on screen and in
        :func:`last_trace`.
    """
    if use_async:
        from streamviz._asyncio import run_sync

        options = {"name": name, "view": view, "height": height, "display": display}
        return run_sync(awatch(runnable, input, config, **options, **kwargs))
    collector, config, run_id = _prepare(runnable, config, name)
    session = _Session(collector.trace, display, view, height)
    chunks: list[Any] = []
    parts = _graph_parts(collector, runnable, run_id, kwargs)
    try:
        if parts is None:
            stream = collector.stream(runnable, input, config, **kwargs)
        else:  # a graph: its parts are recorded as they are yielded, each with mode and ns
            stream = runnable.stream(input, config, **kwargs)
        collector.trace.start_clock()  # t = 0 when the runnable is called, not at widget build
        for chunk in stream:
            chunks.append(chunk)
            session.chunk(chunk, parts)
    except BaseException as error:
        collector.abandon_running(error)
        _note(error)
        raise  # a bare raise adds no frame: the traceback is the one _note left
    finally:
        collector.trace.result = _result(collector.trace, run_id, chunks)
        session.close()
    return collector.trace


async def awatch(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    name: str | None = None,
    view: str = "dashboard",
    height: int = 560,
    display: bool | None = None,
    **kwargs: Any,
) -> Trace:
    """Async form of :func:`watch`: ``await sv.awatch(chain, input)`` streams with ``astream``."""
    collector, config, run_id = _prepare(runnable, config, name)
    session = _Session(collector.trace, display, view, height)
    chunks: list[Any] = []
    parts = _graph_parts(collector, runnable, run_id, kwargs)
    try:
        if parts is None:
            stream = collector.astream(runnable, input, config, **kwargs)
        else:
            stream = runnable.astream(input, config, **kwargs)
        collector.trace.start_clock()
        async for chunk in stream:
            chunks.append(chunk)
            session.chunk(chunk, parts)
    except BaseException as error:
        collector.abandon_running(error)
        _note(error)
        raise  # a bare raise adds no frame: the traceback is the one _note left
    finally:
        collector.trace.result = _result(collector.trace, run_id, chunks)
        session.close()
    return collector.trace


class _RemoteWatch:
    """One ``watch_remote``: its SDK call (``sources.remote.RemoteCall``) and what is shown."""

    def __init__(self, client: Any, thread_id: Any, assistant_id: Any, options: dict[str, Any]):
        from streamviz.sources.remote import RemoteCall, RemoteConsole

        shown = {key: options.pop(key) for key in ("display", "view", "height")}
        self.call = RemoteCall(client, thread_id, assistant_id, **options)
        self.trace, self.parts = self.call.trace, self.call.parts
        self.session = _Session(self.trace, shown["display"], shown["view"], shown["height"])
        self.console = RemoteConsole()

    def take(self, part: Any) -> None:
        self.session.remote_part(self.parts.record(part), self.console)

    def fail(self, error: BaseException) -> None:
        self.parts.fail(error)
        _note(error)

    def close(self) -> None:
        self.trace.result = self.parts.result
        self.session.close()


def watch_remote(
    client: Any,
    thread_id: str | None,
    assistant_id: str | None,
    *,
    input: Any = None,
    stream_mode: str | list[str] | None = None,
    stream_subgraphs: bool = False,
    join: str | None = None,
    name: str | None = None,
    view: str = "dashboard",
    height: int = 560,
    display: bool | None = None,
    **kwargs: Any,
) -> Trace:
    """Stream a run on a LangGraph API server with a live dashboard; return the captured trace.

    The arguments are those of ``client.runs.stream(thread_id, assistant_id, ...)``; each part
    the server sends is recorded as it arrives (see :mod:`streamviz.sources.remote`), inside a
    root run whose id is the server's run id.

    Parameters
    ----------
    client
        ``langgraph_sdk.get_sync_client(...)`` or ``langgraph_sdk.get_client(...)`` (the async
        client is run to the end here, also from a notebook cell; in async code use
        :func:`awatch_remote`). Nothing of the client (URL, headers, API key) is recorded.
    thread_id
        The thread to run on, or ``None`` for a stateless run.
    assistant_id
        The assistant id or graph name (``None`` is allowed with ``join``): the root run's name.
    input
        The run's input.
    stream_mode
        One mode or a list: ``values``, ``updates``, ``messages-tuple``, ``messages``,
        ``custom``, ``events`` (the server's run tree: nodes, model calls, tokens), ``debug``,
        ``tasks``, ``checkpoints``. Default: ``["values", "updates", "messages-tuple",
        "custom"]`` (with ``join``: every mode the run streams).
    stream_subgraphs
        Also stream the parts of subgraphs (recorded with their namespace in ``ns``).
    join
        Instead of starting a run, follow the run with this id (``client.runs.join_stream``)
        from its first part: a run created with ``stream_resumable=True`` is replayed from the
        start, also after it finished (pass ``last_event_id`` to start elsewhere).
    name
        Name of the trace (default: the assistant id).
    view, height, display
        As for :func:`watch`.
    **kwargs
        Passed to ``client.runs.stream`` (``config``, ``context``, ``metadata``, ``command``,
        ``stream_resumable``, ``headers``...) or to ``join_stream``.

    Returns
    -------
    Trace
        The trace, with ``trace.result`` set to the last ``values`` part of the root graph (or
        the output the server's events report).

    Raises
    ------
    Exception
        Transport errors, as the SDK raises them (an HTTP error status such as 401 or 422, a
        dropped connection...), after they are recorded: the root run ends with that error,
        and what was captured stays on screen and in :func:`last_trace`. An error of the graph
        on the server (an ``error`` part) is not raised: the root run ends with status
        ``"error"`` and the server's message, as the SDK yields it as a part.

    Examples
    --------
    >>> from langgraph_sdk import get_sync_client
    >>> client = get_sync_client(url="http://127.0.0.1:2024")  # doctest: +SKIP
    >>> trace = sv.watch_remote(client, None, "model", input={"topic": "cats"})  # doctest: +SKIP
    """
    from streamviz.sources.remote import is_async_client, run_with_async_client

    options = {
        "input": input, "stream_mode": stream_mode, "stream_subgraphs": stream_subgraphs,
        "join": join, "name": name, "view": view, "height": height, "display": display,
    }  # fmt: skip
    if is_async_client(client):
        return run_with_async_client(
            awatch_remote(client, thread_id, assistant_id, **options, **kwargs)
        )
    watching = _RemoteWatch(client, thread_id, assistant_id, {**options, "kwargs": kwargs})
    stream = None
    try:
        watching.trace.start_clock()
        stream = watching.call.stream()
        for part in stream:
            watching.take(part)
    except BaseException as error:
        watching.fail(error)  # through _note
        raise  # a bare raise adds no frame: the traceback is the one _note left
    else:
        watching.parts.finish()
    finally:
        with contextlib.suppress(Exception):  # an interrupted stream lets its connection go
            getattr(stream, "close", lambda: None)()
        watching.close()
    return watching.trace


async def awatch_remote(
    client: Any,
    thread_id: str | None,
    assistant_id: str | None,
    *,
    input: Any = None,
    stream_mode: str | list[str] | None = None,
    stream_subgraphs: bool = False,
    join: str | None = None,
    name: str | None = None,
    view: str = "dashboard",
    height: int = 560,
    display: bool | None = None,
    **kwargs: Any,
) -> Trace:
    """Async form of :func:`watch_remote`, for ``langgraph_sdk.get_client()``'s async client.

    ``trace = await sv.awatch_remote(client, thread_id, "agent", input=...)``. A sync client
    works too, but its blocking reads then hold up the event loop.
    """
    options = {
        "input": input, "stream_mode": stream_mode, "stream_subgraphs": stream_subgraphs,
        "join": join, "name": name, "view": view, "height": height, "display": display,
        "kwargs": kwargs,
    }  # fmt: skip
    watching = _RemoteWatch(client, thread_id, assistant_id, options)
    stream = None
    try:
        watching.trace.start_clock()
        stream = watching.call.stream()
        if hasattr(stream, "__aiter__"):
            async for part in stream:
                watching.take(part)
        else:
            for part in stream:
                watching.take(part)
    except BaseException as error:
        watching.fail(error)  # through _note
        raise  # a bare raise adds no frame: the traceback is the one _note left
    else:
        watching.parts.finish()
    finally:
        with contextlib.suppress(Exception):  # an interrupted stream lets its connection go
            if hasattr(stream, "aclose"):
                await stream.aclose()
            elif hasattr(stream, "close"):
                stream.close()
        watching.close()
    return watching.trace


def show(
    trace: Trace | Sequence[Trace], *, view: str | None = None, height: int | None = None
) -> None:
    """Show a trace (finished, loaded, or still being captured) as a widget in Jupyter or marimo.

    Given several traces (``sv.show([before, after])``), shows one widget each, by default their
    timelines, on one time scale: the same milliseconds per pixel, so they compare at a glance.
    Elsewhere, prints the run tree(s) instead.
    """
    traces = [trace] if isinstance(trace, Trace) else list(trace)
    if not all(isinstance(item, Trace) for item in traces):
        raise TypeError("sv.show takes a Trace or a list of Traces")
    shell = _kernel()
    in_marimo = shell is None and _marimo.active()
    if shell is None and not in_marimo:
        print("\n\n".join(item.format_tree() for item in traces))
        return
    from IPython.display import display

    from streamviz.widgets import TraceWidget

    several = len(traces) > 1
    view = view or ("timeline" if several else "dashboard")
    height = height or (max(200, 120 + 24 * max(len(t.runs) for t in traces)) if several else 560)
    span = max(t.clock() if t._running() else t.duration for t in traces) if several else 0.0
    for item in traces:
        widget = TraceWidget(item, view=view, height=height, time_span=span * 1000)
        if in_marimo:
            _marimo.display(widget)
            continue
        display(widget)
        _on_screen[item] = shell.execution_count


def close_widgets(trace: Trace | None = None) -> int:
    """Close the streamviz widgets showing ``trace`` (all of them when ``None``).

    A widget on screen keeps its trace (to answer the details pane) until it is closed; closing
    lets both go. Returns how many widgets were closed.
    """
    live = sys.modules.get("streamviz.widgets._live")
    if live is None:
        return 0
    closed = 0
    for widget in live.followers():
        if trace is None or widget.trace is trace:
            widget.close()
            closed += 1
    return closed


def _trace_mimebundle(trace: Trace, include: Any = None, exclude: Any = None) -> Any:
    """IPython's display hook for traces: the live dashboard, unless already on screen."""
    shell = _kernel()
    if shell is None or _on_screen.get(trace) == shell.execution_count:
        return None
    from streamviz.widgets import Dashboard

    _on_screen[trace] = shell.execution_count
    return Dashboard(trace)._repr_mimebundle_()


def register_display() -> None:
    """Make traces display as their dashboard in Jupyter (called when streamviz is imported)."""
    shell = _kernel()
    if shell is None:
        return
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(Trace, _trace_mimebundle)

"""The public watch API: ``sv.watch`` and friends run a runnable streaming with its dashboard live.

In Jupyter (and marimo) the dashboard appears before the first event and follows the run; in a
plain script (no notebook to draw widgets in) the output chunks are printed as they come,
``|``-separated like the guides print them, followed by the run tree. ``sv.watch_remote`` does
the same for a run on a LangGraph API server, streamed through ``langgraph_sdk``. Each function
here only says what to run: :mod:`streamviz._driver` runs it, :mod:`streamviz._display` shows it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from streamviz import _display
from streamviz._driver import LocalFeed, RemoteFeed, Watch, latest
from streamviz._tracebacks import entry_point
from streamviz.sources.remote import RemoteCall, is_async_client
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


def last_trace() -> Trace | None:
    """The trace of the latest watch (any of them), also when the run raised."""
    return latest.trace


@entry_point
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
    path: str | os.PathLike[str] | None = None,
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
        ``None`` (default): a live widget in Jupyter or marimo, printed chunks and the run tree
        elsewhere; ``True``: the widget wherever it runs (IPython's ``display``); ``False``:
        show nothing.
    use_async
        Stream with ``astream`` (for runnables written with async functions only), also from a
        notebook cell, where an event loop already runs: then ``nest_asyncio`` is applied to it
        (once, for the process). In async code prefer ``await sv.awatch(...)``.
    path
        Also write the trace to this JSONL file as it is captured (a journal): events are
        appended at least every half second and as soon as a top-level run ends, the rest when
        the run is over, in the format of :meth:`Trace.save`. A killed kernel leaves a file
        that :meth:`Trace.load` opens with everything written before; a file that cannot be
        written is logged, and the watch goes on in memory.

    Returns
    -------
    Trace
        The trace, with ``trace.result`` set to what the run returned (the streamed output
        added up, as ``invoke`` would return it; for a graph its final state, or the last part
        it yielded if it reported none, having failed).

    Raises
    ------
    Exception
        Whatever the runnable raised; what was captured stays on screen and in
        :func:`last_trace`.
    """
    if use_async:
        from streamviz._asyncio import run_sync

        options = {"name": name, "view": view, "height": height, "display": display, "path": path}
        return run_sync(awatch(runnable, input, config, **options, **kwargs))
    feed = LocalFeed(runnable, input, config, name, kwargs)
    return Watch(feed, display=display, view=view, height=height, path=path).run()


@entry_point
async def awatch(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    name: str | None = None,
    view: str = "dashboard",
    height: int = 560,
    display: bool | None = None,
    path: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Trace:
    """Async form of :func:`watch`: ``await sv.awatch(chain, input)`` streams with ``astream``."""
    feed = LocalFeed(runnable, input, config, name, kwargs)
    return await Watch(feed, display=display, view=view, height=height, path=path).arun()


@entry_point
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
    path: str | os.PathLike[str] | None = None,
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
    view, height, display, path
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
    request = {"input": input, "stream_mode": stream_mode, "stream_subgraphs": stream_subgraphs,
               "join": join, "name": name}  # fmt: skip
    shown = {"display": display, "view": view, "height": height, "path": path}
    if is_async_client(client):
        from streamviz._asyncio import run_sync

        coroutine = awatch_remote(client, thread_id, assistant_id, **request, **shown, **kwargs)
        return run_sync(coroutine, keep_loop=True)  # the client's connections stay usable
    feed = RemoteFeed(RemoteCall(client, thread_id, assistant_id, **request, kwargs=kwargs))
    return Watch(feed, **shown).run()


@entry_point
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
    path: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Trace:
    """Async form of :func:`watch_remote`, for ``langgraph_sdk.get_client()``'s async client.

    ``trace = await sv.awatch_remote(client, thread_id, "agent", input=...)``. A sync client
    works too, but its blocking reads then hold up the event loop.
    """
    call = RemoteCall(
        client, thread_id, assistant_id, input=input, stream_mode=stream_mode,
        stream_subgraphs=stream_subgraphs, join=join, name=name, kwargs=kwargs,
    )  # fmt: skip
    shown = {"display": display, "view": view, "height": height, "path": path}
    return await Watch(RemoteFeed(call), **shown).arun()


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
    if _display.frontend() is None:
        print("\n\n".join(item.format_tree() for item in traces))
        return
    several = len(traces) > 1
    view = view or ("timeline" if several else "dashboard")
    height = height or (max(200, 120 + 24 * max(len(t.runs) for t in traces)) if several else 560)
    span = max(t.clock() if t.running() else t.duration for t in traces) if several else 0.0
    for item in traces:
        _display.show_trace(item, view=view, height=height, time_span=span * 1000)


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

"""LangGraph stream parts as streamviz events, beside the callback events of the same run.

``graph.stream(..., stream_mode=..., subgraphs=..., version=...)`` yields its parts in one of
five shapes, depending on how it was called:

==========================  ==================  =====================================
call                        yields              example
==========================  ==================  =====================================
one mode                    ``chunk``           ``{"refine_topic": {"topic": ...}}``
several modes               ``(mode, chunk)``   ``("custom", {"progress": 1})``
one mode, subgraphs         ``(ns, chunk)``     ``(("sub:<task id>",), {...})``
several modes, subgraphs    ``(ns, mode, chunk)``
``version="v2"``            ``{"type", "ns", "data", ...}``
==========================  ==================  =====================================

:class:`GraphParts` takes each part as it was yielded (the caller keeps getting exactly what
LangGraph yields) and records it as one event ``on_graph_<mode>`` with its ``mode`` and ``ns``.
The event belongs to the graph's root run, carries the node it came from as its ``name`` when the
part says so (``updates``, ``messages``, ``tasks``, ``debug``), and for ``messages`` the LLM call's
tags and metadata (``langgraph_node``...), so the usual filters work on parts too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from streamviz._errors import report_internal_error
from streamviz._log import speedups

__all__ = [
    "GRAPH_EVENT_PREFIX",
    "GraphParts",
    "graph_event_name",
    "is_graph",
    "node_of",
    "node_of_namespace",
    "part_event",
    "pause_event",
    "split_part",
]

GRAPH_EVENT_PREFIX = "on_graph_"
INTERRUPT_KEY = "__interrupt__"
"""The key of an ``updates`` (or ``values``) part saying the graph paused, and why."""


def graph_event_name(mode: str) -> str:
    """The ``event`` of a stream part of ``mode``: ``on_graph_values``, ``on_graph_updates``..."""
    return GRAPH_EVENT_PREFIX + mode


def is_graph(runnable: Any) -> bool:
    """Whether ``runnable`` is a compiled LangGraph graph (it streams parts, not output chunks)."""
    # No graph exists unless langgraph's Pregel was imported: never pay that import (~0.5 s) here.
    pregel = sys.modules.get("langgraph.pregel")
    return pregel is not None and isinstance(runnable, pregel.Pregel)


def split_part(
    item: Any, *, several_modes: bool, subgraphs: bool, mode: str, version: str = "v1"
) -> tuple[tuple[str, ...], str, Any]:
    """``(namespace, mode, chunk)`` of one yielded part, whatever its shape.

    ``mode`` is the single mode asked for (used when the part does not name its mode).
    """
    if version == "v2" and isinstance(item, dict) and "type" in item and "data" in item:
        return tuple(item.get("ns") or ()), str(item["type"]), item["data"]
    namespace: tuple[str, ...] = ()
    if subgraphs:
        namespace, item = tuple(item[0]), item[1] if len(item) == 2 else tuple(item[1:])
    if several_modes:
        part_mode, chunk = item
        return namespace, str(part_mode), chunk
    return namespace, mode, item


def _message_metadata(mode: str, chunk: Any) -> dict[str, Any] | None:
    """The metadata of a ``messages`` part ``(message chunk, metadata)``."""
    is_pair = isinstance(chunk, (tuple, list)) and len(chunk) == 2
    if mode in ("messages", "messages-tuple") and is_pair and isinstance(chunk[1], dict):
        return chunk[1]
    return None


def node_of(mode: str, chunk: Any) -> str | None:
    """The node a stream part came from, when the part says so (else ``None``)."""
    if mode == "updates" and isinstance(chunk, dict) and len(chunk) == 1:
        key = str(next(iter(chunk)))
        return None if key == INTERRUPT_KEY else key  # a pause: the graph's, not a node's
    metadata = _message_metadata(mode, chunk)
    if metadata is not None and metadata.get("langgraph_node") is not None:
        return str(metadata["langgraph_node"])
    if mode == "tasks" and isinstance(chunk, dict) and chunk.get("name") is not None:
        return str(chunk["name"])
    if mode == "debug" and isinstance(chunk, dict):
        payload = chunk.get("payload")
        if chunk.get("type") in ("task", "task_result") and isinstance(payload, dict):
            return str(payload.get("name"))
    return None


def node_of_namespace(namespace: Sequence[str]) -> str | None:
    """The node whose task a part of ``namespace`` came from (``None``: the root graph).

    ``"node_2"`` of ``("node_2:<task id>",)``: the innermost level.

    LangGraph says no more: a ``custom`` part written by a node of the root graph has an empty
    namespace (the writer drops the writing task's own level), one written inside a subgraph
    names the task running that subgraph.
    """
    if not namespace:
        return None
    node = str(namespace[-1]).split(":", 1)[0]
    return node or None


def part_event(
    run_id: str | None,
    graph_name: str,
    namespace: Sequence[str],
    mode: str,
    chunk: Any,
    parent_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The event recording one stream part (the trace adds ``t``, ``seq`` and ``thread``)."""
    tags: list[str] = []
    metadata: dict[str, Any] = {}
    message_metadata = _message_metadata(mode, chunk)
    if message_metadata is not None:
        metadata = dict(message_metadata)
        tags = [str(tag) for tag in metadata.get("tags") or ()]
    node = node_of(mode, chunk)
    if node is None and mode == "custom":
        node = node_of_namespace(namespace)
    return {
        "event": graph_event_name(mode),
        "name": node or graph_name,
        "run_id": run_id,
        "parent_ids": list(parent_ids),
        "tags": tags,
        "metadata": metadata,
        "data": {"chunk": chunk},
        "mode": mode,
        "ns": list(namespace),
    }


def pause_event(parts: GraphParts, next_nodes: Sequence[str], interrupts: Any) -> dict[str, Any]:
    """The event noting that a graph run stopped with nodes still to run (a pause).

    ``on_graph_state`` (``mode="state"``), ``data={"chunk": {"next": [...], "__interrupt__":
    [...]}}``: what the thread's checkpoint said after the run, read by the watch when the
    stream showed no pause itself (``interrupt_before/after`` without ``updates``).
    """
    chunk = {"next": [str(node) for node in next_nodes], "__interrupt__": list(interrupts or ())}
    return part_event(parts.run_id, parts.graph_name, (), "state", chunk)


class GraphParts:
    """Records the parts of one ``graph.stream``/``astream`` call into a trace.

    Parameters
    ----------
    trace
        Where to record.
    run_id
        The graph run's id (its root run in the trace), or ``None`` if unknown.
    graph_name
        Name used for parts that do not name their node.
    stream_mode, subgraphs, version
        The arguments the graph was streamed with (they decide the shape of each part).
    """

    def __init__(
        self,
        trace: Any,
        run_id: str | None,
        graph_name: str,
        *,
        stream_mode: str | Sequence[str] | None,
        subgraphs: bool = False,
        version: str = "v1",
    ) -> None:
        self.trace = trace
        self.run_id = run_id
        self.graph_name = graph_name
        self.several_modes = stream_mode is not None and not isinstance(stream_mode, str)
        self.mode = stream_mode if isinstance(stream_mode, str) else "values"
        self.subgraphs = subgraphs
        self.version = version
        # The writer of each model call's "messages" parts, by id of the parts' metadata object.
        self._writers: dict[int, tuple[Any, ...]] = {}
        self._latest: tuple[Any, ...] | None = None  # the entry of the latest part's writer
        self._pairs = self.several_modes and not subgraphs and version != "v2"

    def putter(self) -> Callable[[Any], None]:
        """:meth:`put`, in C when the speedups are built (the usual part there, any other here)."""
        if speedups is None:
            return self.put
        return speedups.PartPut(
            self, self.put, partial(report_internal_error, "streamviz graph part")
        )

    def put(self, item: Any) -> None:
        """:meth:`record` without its return value: the watch loop's path when nothing prints.

        The next ``messages`` part of the model call of the previous part (the usual part of a
        streaming agent: same metadata object, unchanged, several modes without subgraphs) goes
        straight to that call's writer; any other part through :meth:`record`. Never raises.
        """
        write = None
        try:
            latest = self._latest
            if latest is not None and type(item) is tuple and len(item) == 2 and self._pairs:
                chunk = item[1]
                if (
                    type(chunk) is tuple
                    and len(chunk) == 2
                    and chunk[1] is latest[0]
                    and not latest[1]
                    and item[0] == latest[2]
                    and _unchanged(chunk[1], latest[3], latest[4])
                ):
                    write = latest[5]
        except Exception:  # an odd item: recorded the general way
            write = None
        if write is None:
            self.record(item)
            return
        try:
            write(chunk)
        except Exception as error:
            report_internal_error("streamviz graph part", error)

    def record(self, item: Any) -> tuple[tuple[str, ...], str, Any] | None:
        """Record one yielded part; returns its ``(namespace, mode, chunk)`` (``None`` on error).

        Never raises: a part that cannot be understood is logged, and the stream goes on.
        """
        try:
            if self._pairs and type(item) is tuple and len(item) == 2:
                # (mode, chunk), the shape of several modes without subgraphs: no need to split
                namespace = ()
                mode, chunk = item
            else:
                namespace, mode, chunk = split_part(
                    item,
                    several_modes=self.several_modes,
                    subgraphs=self.subgraphs,
                    mode=self.mode,
                    version=self.version,
                )
            write = None
            if type(chunk) is tuple and len(chunk) == 2 and mode in _MESSAGE_MODES:
                latest = self._latest  # the writer of the previous part's model call
                if (
                    latest is not None
                    and latest[0] is chunk[1]
                    and latest[1] == namespace
                    and latest[2] == mode
                    and _unchanged(chunk[1], latest[3], latest[4])
                ):
                    write = latest[5]
                else:
                    write = self._message_writer(namespace, mode, chunk)
            if write is not None:
                write(chunk)
            else:
                self.trace.store.append(
                    part_event(self.run_id, self.graph_name, namespace, mode, chunk)
                )
            return namespace, mode, chunk
        except Exception as error:
            report_internal_error("streamviz graph part", error)
            return None

    def _message_writer(
        self, namespace: tuple[str, ...], mode: str, chunk: tuple[Any, Any]
    ) -> Callable[[Any], None] | None:
        """The store's stream writer for the ``messages`` parts of one model call, if it has one.

        A part is ``(token, metadata)`` with the same metadata object for every token of a call,
        so its event's fields (``name``, ``tags``, ``metadata``...) are the call's first part's
        while that object is unchanged: the call's parts skip building an event and go the way
        of the collector's tokens (one template per call, each token kept as its text). ``None``
        when the metadata is not a dict or changed since the call's first part: the part is then
        appended as an event like any other.
        """
        metadata = chunk[1]
        if type(metadata) is not dict:
            return None
        known = self._writers.get(id(metadata))
        self._latest = None
        if known is None:
            fields = part_event(self.run_id, self.graph_name, namespace, mode, chunk)
            fields["data"] = None  # its place among the fields; the writer fills it
            write = self.trace.store.stream_writer(None, fields)
            tags = metadata.get("tags")
            if len(self._writers) >= _KEPT_WRITERS:
                # The oldest call's writer goes (the garbage collector would walk every one of
                # them for the whole run): a part of that call, if one still comes, gets a new
                # writer, and reads back the same.
                del self._writers[next(iter(self._writers))]
            self._writers[id(metadata)] = self._latest = (
                metadata,
                namespace,
                mode,
                fields["metadata"],
                list(tags) if tags else [],
                write,
            )
            return write
        held, held_namespace, held_mode, copy, tags, write = known
        if (
            held is metadata
            and held_namespace == namespace
            and held_mode == mode
            and _unchanged(metadata, copy, tags)
        ):
            self._latest = known
            return write
        return None


_MESSAGE_MODES = frozenset({"messages", "messages-tuple"})
_KEPT_WRITERS = 32  # writers of the latest model calls kept (calls streaming at once, and more)


def _unchanged(metadata: dict[str, Any], copy: dict[str, Any], tags: list[Any]) -> bool:
    """Whether ``part_event`` would give the fields it gave when ``copy`` and ``tags`` were taken.

    ``copy`` is a shallow copy of ``metadata``, ``tags`` a copy of its ``tags`` list. Unchanged
    values are the same objects, so ``==`` compares them by identity, in C: a value replaced by an
    unequal one, a key added or removed, or tags changed in place are seen (a value replaced by an
    equal one of another type, or keys reordered, are not: the part keeps the first part's).
    """
    try:
        if len(copy) != len(metadata) or copy != metadata:
            return False
    except Exception:  # a value whose == fails: not known to be unchanged
        return False
    now = metadata.get("tags")  # the same object as the copy's: it may have changed in place
    if not now:
        return not tags
    return type(now) is tuple or now == tags

"""Runs on a LangGraph API server (``langgraph_sdk`` stream parts) as streamviz events.

``client.runs.stream(...)`` and ``client.runs.join_stream(...)`` yield ``StreamPart(event, data,
id)`` tuples, one per server-sent event. :class:`RemoteParts` records each part as exactly one
event, in the shape of the in-process graph source (:mod:`streamviz.sources.graph`), plus the
start and end of one root run standing for the remote run:

=================================  =====================================================
server-sent event                  streamviz event
=================================  =====================================================
``metadata`` ``{run_id, attempt}``  ``on_graph_metadata``; the root run (``on_chain_start``,
                                   ``run_id`` = the server's run id, ``name`` = the
                                   assistant or graph id) opens when the server creates the
                                   run (:meth:`RemoteParts.run_created`), else here
``values``, ``updates``,           ``on_graph_<mode>``, ``data={"chunk": payload}``, ``name``
``custom``, ``debug``, ``tasks``,  = the node when the part names it
``checkpoints``
``messages`` ``[chunk, metadata]``  ``on_graph_messages``; ``name`` = ``langgraph_node``,
(stream mode ``messages-tuple``)   tags and metadata of the LLM call (filters work on them)
``messages/metadata``,             ``on_graph_messages/metadata``... with that exact
``messages/partial``,              ``mode``; partial and complete messages get the node and
``messages/complete``              tags of the metadata announced for their message id
``events`` (an ``astream_events``   the event itself (``on_chain_start``,
v2 dict)                           ``on_chat_model_stream``...) with its own run ids, plus
                                   ``mode="events"``: the server-side run tree
``error`` ``{error, message}``     ``on_chain_error`` of the root run, ``mode="error"``:
                                   the run ends as failed, nothing captured is lost
``<mode>|<ns>|<ns>``               the same, with ``ns=[<ns>, <ns>]`` (``stream_subgraphs``)
anything else                      ``on_graph_<event>`` with the raw data
=================================  =====================================================

Every event's ``t`` is when the part *arrived* (the client's clock, as for any source). A part
of a resumable run (``stream_resumable=True``, or a joined run) also says when the server queued
it (its event id, in milliseconds): that time is recorded as ``server_t``, on the trace's clock
(the server's wall clock read against the client's: on another machine, shifted by the clocks'
difference), so ``trace.stream_stats(clock="server")`` gives the server-side token times.

Payloads are kept as the server sent them (JSON dicts and lists: no message classes are made
up). When the stream ends the root run ends (``on_chain_end``, output = the last root
``values`` part) unless the server already ended or failed it; a transport error (HTTP status,
dropped connection...) ends it with that error (:meth:`RemoteParts.fail`). In ``events`` mode
the server's graph run has the server run id too, so its own start and end land on the root
run (whose start then moves to the graph's start, after the queue wait).

Nothing of the client (headers, API key) is recorded: only the parts, the input and the
arguments that say what was asked for (on langgraph-api 0.16 no request header came back in any
part either, in any mode; saved files redact secret-looking keys and values anyway). Like every
source, this one never raises: a part it cannot read is logged with
:func:`streamviz._errors.report_internal_error`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from streamviz._errors import report_internal_error
from streamviz.events import SerializedError, is_event_dict, split_event
from streamviz.sources.graph import GRAPH_EVENT_PREFIX, node_of, node_of_namespace
from streamviz.trace import Trace

_log = logging.getLogger("streamviz")

__all__ = [
    "DEFAULT_STREAM_MODES",
    "NAMESPACE_SEPARATOR",
    "REMOTE_ERROR_MODULE",
    "RemoteCall",
    "RemoteParts",
    "is_async_client",
    "remote_event_name",
    "server_time",
    "split_remote_event",
]

DEFAULT_STREAM_MODES = ("values", "updates", "messages-tuple", "custom")
"""Stream modes :func:`streamviz.watch_remote` asks for when none are given: state, node
updates, LLM tokens and custom data (the SDK's own default is ``"values"`` alone)."""

NAMESPACE_SEPARATOR = "|"
"""Separates the mode from each namespace level in a server-sent event name (verified on
``langgraph dev`` 0.4 / langgraph-api 0.16: ``updates|outer:<task id>|node_2:<task id>``)."""

REMOTE_ERROR_MODULE = "langgraph_api (remote)"
"""``module`` of the :class:`~streamviz._serialization.SerializedError` that stands for an error
the server reported (its ``type`` is the server-side exception class name)."""


def split_remote_event(event: str) -> tuple[str, list[str]]:
    """``("updates", ["node_2:<task id>"])`` from ``"updates|node_2:<task id>"``."""
    mode, *namespace = event.split(NAMESPACE_SEPARATOR)
    return mode, namespace


def remote_event_name(mode: str) -> str:
    """``on_graph_<mode>``, made safe from being read as a run's life-cycle event.

    A server event whose name ends like a phase (``end``, ``error``...) would otherwise make
    ``on_graph_end``, which the run tree reads as the end of a run of type ``graph``; those get a
    ``_part`` suffix (``on_graph_end_part``).
    """
    name = GRAPH_EVENT_PREFIX + mode
    return name + "_part" if split_event(name) is not None else name


def _part_of(part: Any) -> tuple[str, Any]:
    """``(event name, data)`` of an SDK stream part (v1 ``StreamPart`` or a v2 dict)."""
    if isinstance(part, dict) and "type" in part:  # SDK version="v2": {type, ns, data}
        namespace = [str(level) for level in part.get("ns") or ()]
        return NAMESPACE_SEPARATOR.join([str(part["type"]), *namespace]), part.get("data")
    event, data = part[0], part[1]
    return str(event), data


_SERVER_ID = re.compile(r"(\d{12,14})-\d+")


def server_time(part: Any) -> float | None:
    """When the server sent ``part`` (seconds since the epoch), if its event id says so.

    langgraph-api gives each part of a *resumable* run (``stream_resumable=True``, or a joined
    run) a Redis-style id, ``<milliseconds since the epoch>-<n>``, stamped when the server
    queued the part; other parts have no id (``None`` here).
    """
    part_id = part.get("id") if isinstance(part, dict) else getattr(part, "id", None)
    if not isinstance(part_id, str):
        return None
    found = _SERVER_ID.fullmatch(part_id)
    return None if found is None else int(found.group(1)) / 1000


def _odd(what: str) -> None:
    report_internal_error(f"streamviz remote part ({what})", ValueError(what))


class RemoteParts:
    """Records the parts of one server run's stream into a trace.

    Parameters
    ----------
    trace
        Where to record.
    assistant_id
        The assistant or graph id the run was asked of: the root run's name.
    thread_id
        The thread (``None`` for a stateless run).
    run_id
        The server run id when known in advance (joining a run); otherwise it comes from the
        ``metadata`` part.
    input
        The run's input, recorded as the root run's input.
    stream_mode
        What was asked for (recorded in the root run's metadata).

    Examples
    --------
    >>> parts = RemoteParts(trace, "agent")  # doctest: +SKIP
    >>> async for part in client.runs.stream(None, "agent", input=x):  # doctest: +SKIP
    ...     parts.record(part)
    >>> parts.finish()  # doctest: +SKIP
    """

    def __init__(
        self,
        trace: Trace,
        assistant_id: str | None,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        input: Any = None,
        stream_mode: str | Sequence[str] | None = None,
    ) -> None:
        self.trace = trace
        self.name = str(assistant_id) if assistant_id is not None else "remote run"
        self.thread_id = thread_id
        self.run_id: str | None = None if run_id is None else str(run_id)
        """The root run's id: the server run id, or a local one if the server never sent it."""
        self.input = input
        several = stream_mode is not None and not isinstance(stream_mode, str)
        self.stream_mode = list(stream_mode) if several else stream_mode  # type: ignore[arg-type]
        self._opened = False
        self._values: Any = None
        self._has_values = False
        self._message_metadata: dict[str, dict[str, Any]] = {}
        self._server_t: float | None = None  # the part being recorded: its server time
        self.server_zero: float | None = None
        """The wall time (s) ``server_t`` counts from; ``None``: the trace's clock's 0, now."""

    # ------------------------------------------------------------------ reading
    @property
    def result(self) -> Any:
        """The last root ``values`` part, else the output the server's events gave the root."""
        if self._has_values:
            return self._values
        root = self.trace.runs.get(self.run_id) if self.run_id is not None else None
        return root.output if root is not None and root.status == "ok" else None

    # ---------------------------------------------------------------- recording
    def record(self, part: Any) -> tuple[str, list[str], Any] | None:
        """Record one stream part; returns its ``(mode, namespace, data)`` (``None`` on error).

        Never raises: a part that cannot be understood is logged, and the stream goes on.
        """
        try:
            event, data = _part_of(part)
            mode, namespace = split_remote_event(event)
            if not self._opened:
                announced = data.get("run_id") if isinstance(data, dict) else None
                if mode == "metadata" and announced is not None and self.run_id is None:
                    self.run_id = str(announced)
                self.open()
            sent = server_time(part)
            # On the trace's clock: the wall time of its 0 is the wall time now minus its time.
            zero = self.server_zero
            if zero is None:
                zero = time.time() - self.trace.clock()
            self._server_t = None if sent is None else sent - zero
            if mode == "error":
                self._error_part(namespace, data)
            elif mode == "events" and is_event_dict(data):
                self._server_event(namespace, data)
            else:
                if mode == "events":
                    _odd("an events part that is not an astream_events dict")
                self._part(mode, namespace, data)
            return mode, namespace, data
        except Exception as error:
            report_internal_error("streamviz remote part", error)
            return None
        finally:
            self._server_t = None

    def run_created(self, created: Any) -> None:
        """Start the root run as soon as the server says it created the run. Never raises.

        Given to the SDK as ``on_run_created``: it is called with ``{run_id, thread_id}`` when
        the response headers arrive, before the run waits in the server's queue, whereas the
        ``metadata`` part comes when a worker picks the run up. So the root run's time includes
        the queue wait, as the user's time to first token does.
        """
        try:
            if not self._opened:
                if self.run_id is None and isinstance(created, dict) and created.get("run_id"):
                    self.run_id = str(created["run_id"])
                self.open()
        except Exception as error:
            report_internal_error("streamviz remote run start", error)

    def open(self) -> None:
        """Start the root run, once (when created, at the first part, or at an empty end)."""
        if self._opened:
            return
        self._opened = True
        if self.run_id is None:  # nothing said which: a refused request, or an unusual server
            self.run_id = str(uuid.uuid4())
        metadata: dict[str, Any] = {
            "assistant_id": self.name,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "stream_mode": self.stream_mode,
        }
        self._root_event("on_chain_start", {"input": self.input}, metadata)

    def fail(self, error: BaseException) -> None:
        """End the root run with ``error`` (a transport error, a cancellation...). Never raises."""
        try:
            self.open()
            if self._root_running():
                self._root_event("on_chain_error", {"error": error, "input": self.input})
        except Exception as internal:
            report_internal_error("streamviz remote run end", internal)

    def finish(self, server_status: str | None = None) -> None:
        """End the root run after the stream ended normally, unless the server ended it.

        ``server_status`` is the run's status the server gave once the stream had ended
        (:meth:`RemoteCall.server_status`). A stream that a proxy or a restart cut ends as
        cleanly as a finished run's: a run the server still has ``pending`` or ``running`` lost
        the rest of its parts, and its root ends with a ``StreamTruncated`` error saying so; one
        the server ended in ``error`` or ``timeout`` without streaming why ends with that.
        """
        try:
            self.open()
            if not self._root_running():
                return
            if server_status in UNFINISHED or server_status in ("error", "timeout"):
                kind, message = (
                    ("StreamTruncated", f"the stream ended while the server's run was still "
                     f"{server_status}: what it streams after that is not in the trace")
                    if server_status in UNFINISHED
                    else ("RemoteRunError", f"the server reports the run as {server_status}")
                )  # fmt: skip
                error = SerializedError(kind, REMOTE_ERROR_MODULE, message)
                self._root_event("on_chain_error", {"error": error, "input": self.input})
            else:
                self._root_event("on_chain_end", {"output": self.result, "input": self.input})
        except Exception as error:
            report_internal_error("streamviz remote run end", error)

    # ------------------------------------------------------------------ helpers
    def root_running(self) -> bool:
        """Whether the root run is still open (no part or error has ended it)."""
        return self._root_running()

    def _root_running(self) -> bool:
        root = self.trace.runs.get(self.run_id) if self.run_id is not None else None
        return root is not None and root.status == "running"

    def _root_event(
        self, event: str, data: dict[str, Any], metadata: dict[str, Any] | None = None, **extra: Any
    ) -> None:
        self.trace.store.append(
            {
                "event": event,
                "name": self.name,
                "run_id": self.run_id,
                "parent_ids": [],
                "tags": [],
                "metadata": metadata if metadata is not None else {},
                "data": data,
                **extra,
            }
        )

    def _sent(self) -> dict[str, float]:
        """``{"server_t": ...}`` when the part being recorded says when the server sent it."""
        return {} if self._server_t is None else {"server_t": self._server_t}

    def _part(self, mode: str, namespace: list[str], data: Any) -> None:
        name, tags, metadata = self._describe(mode, data)
        if name is None and mode == "custom":  # written in a subgraph: the task running it
            name = node_of_namespace(namespace)
        if mode == "values" and not namespace:
            self._values, self._has_values = data, True
        self.trace.store.append(
            {
                "event": remote_event_name(mode),
                "name": name or self.name,
                "run_id": self.run_id,
                "parent_ids": [],
                "tags": tags,
                "metadata": metadata,
                "data": {"chunk": data},
                "mode": mode,
                "ns": namespace,
                **self._sent(),
            }
        )

    def _describe(self, mode: str, data: Any) -> tuple[str | None, list[str], dict[str, Any]]:
        """Node name, tags and metadata of a part (the LLM call's, for message parts)."""
        metadata: dict[str, Any] | None = None
        if mode == "messages" and isinstance(data, list) and len(data) == 2:
            metadata = data[1] if isinstance(data[1], dict) else None
        elif mode == "messages/metadata" and isinstance(data, dict):
            for message_id, entry in data.items():
                found = entry.get("metadata") if isinstance(entry, dict) else None
                if isinstance(found, dict):
                    self._message_metadata[str(message_id)] = metadata = found
        elif mode.startswith("messages/") and isinstance(data, list):
            for message in data:
                if isinstance(message, dict) and message.get("id") is not None:
                    metadata = self._message_metadata.get(str(message["id"]))
                    if metadata is not None:
                        break
        if metadata is None:
            return node_of(mode, data), [], {}
        node = metadata.get("langgraph_node")
        tags = metadata.get("tags")
        tags = [str(tag) for tag in tags] if isinstance(tags, list) else []
        return (None if node is None else str(node)), tags, metadata

    def _server_event(self, namespace: list[str], data: dict[str, Any]) -> None:
        run_id = str(data["run_id"])
        parent_ids = [str(parent) for parent in data.get("parent_ids") or ()]
        if run_id != self.run_id and (not parent_ids or parent_ids[0] != self.run_id):
            # Not rooted in the remote run (not seen on langgraph-api 0.16, where the graph's
            # root run id is the server run id): keep one tree by hanging it below.
            parent_ids.insert(0, str(self.run_id))
        tags, metadata = data.get("tags"), data.get("metadata")
        self.trace.store.append(
            {
                "event": data["event"],
                "name": str(data.get("name", "")),
                "run_id": run_id,
                "parent_ids": parent_ids,
                "tags": [str(tag) for tag in tags] if isinstance(tags, list) else [],
                "metadata": metadata if isinstance(metadata, dict) else {},
                "data": data.get("data", {}),
                "mode": "events",
                "ns": namespace,
                **self._sent(),
            }
        )

    def _error_part(self, namespace: list[str], data: Any) -> None:
        if isinstance(data, dict):
            kind, message = data.get("error"), data.get("message")
        else:
            kind, message = None, data
        error = SerializedError(
            str(kind or "Error"), REMOTE_ERROR_MODULE, "" if message is None else str(message)
        )
        # Recorded even if the root already ended (the server's events may have closed it):
        # the error is the last word on the run.
        self._root_event(
            "on_chain_error",
            {"error": error, "input": self.input, "chunk": data},
            mode="error",
            ns=namespace,
            **self._sent(),
        )


class RemoteCall:
    """The SDK call of one ``sv.watch_remote``, its arguments checked, and its recorder.

    ``stream()`` returns ``client.runs.stream(...)`` (with ``on_run_created`` hooked so the root
    run opens when the server creates the run, the caller's own callback still called) or, with
    ``join``, ``client.runs.join_stream(...)`` from the run's first part (``last_event_id="-1"``
    unless given: a resumable run is replayed from its start, even after it ended).
    """

    def __init__(
        self,
        client: Any,
        thread_id: str | None,
        assistant_id: str | None,
        *,
        input: Any,
        stream_mode: str | Sequence[str] | None,
        stream_subgraphs: bool,
        join: str | None,
        name: str | None,
        kwargs: dict[str, Any],
    ) -> None:
        if kwargs.get("version", "v1") != "v1":
            raise ValueError("streamviz records the parts as the server sends them: drop version=")
        if join is not None:
            if thread_id is None:
                raise ValueError("join= needs the thread_id of the run to join")
            if input is not None or stream_subgraphs:
                raise ValueError("input and stream_subgraphs are set when a run is created")
            kwargs.setdefault("last_event_id", "-1")
        elif assistant_id is None:
            raise ValueError("assistant_id is needed to start a run")
        if stream_mode is None and join is None:
            stream_mode = list(DEFAULT_STREAM_MODES)
        self.client, self.thread_id, self.assistant_id = client, thread_id, assistant_id
        self.input, self.stream_mode, self.stream_subgraphs = input, stream_mode, stream_subgraphs
        self.join, self.kwargs = join, kwargs
        self.trace = Trace(name or assistant_id or f"run {join}")
        command = kwargs.get("command")
        self.parts = RemoteParts(
            self.trace,
            assistant_id,
            thread_id=thread_id,
            run_id=None if join is None else str(join),
            input={"command": command} if input is None and command is not None else input,
            stream_mode=stream_mode,
        )

    def _may_ask(self) -> bool:
        # Only a run on a thread can be asked for (runs.get needs both ids), only one whose
        # stream did not end it, and only by the id the server gave (not a local stand-in).
        parts = self.parts
        return self.thread_id is not None and parts.run_id is not None and parts.root_running()

    def server_status(self) -> str | None:
        """The run's status on the server (``runs.get``) once its stream ended; never raises.

        ``None`` if it cannot be asked (no thread, the stream ended the run) or the server does
        not answer. A status still ``pending`` or ``running`` is asked again a few times.
        """
        if not self._may_ask():
            return None
        status = None
        try:
            for wait in _STATUS_WAITS:
                if wait:
                    time.sleep(wait)
                status = _status_of(self.client.runs.get(self.thread_id, self.parts.run_id))
                if status not in UNFINISHED:
                    break
        except Exception as error:  # the server went away: the stream's end is all we know
            _log.debug("streamviz: the run's status could not be asked: %r", error)
            return None
        return status

    async def aserver_status(self) -> str | None:
        """:meth:`server_status` with the SDK's async client."""
        if not self._may_ask():
            return None
        status = None
        try:
            for wait in _STATUS_WAITS:
                if wait:
                    await asyncio.sleep(wait)
                status = _status_of(await self.client.runs.get(self.thread_id, self.parts.run_id))
                if status not in UNFINISHED:
                    break
        except Exception as error:
            _log.debug("streamviz: the run's status could not be asked: %r", error)
            return None
        return status

    def stream(self) -> Any:
        """The SDK's (sync or async) iterator of stream parts; nothing is sent before it is read."""
        runs = self.client.runs
        if self.join is not None:
            return runs.join_stream(
                self.thread_id, self.join, stream_mode=self.stream_mode, **self.kwargs
            )
        kwargs = dict(self.kwargs)
        theirs = kwargs.get("on_run_created")

        def run_created(metadata: Any) -> None:
            self.parts.run_created(metadata)
            if theirs is not None:
                theirs(metadata)

        kwargs["on_run_created"] = run_created
        return runs.stream(
            self.thread_id,
            self.assistant_id,
            input=self.input,
            stream_mode=self.stream_mode,
            stream_subgraphs=self.stream_subgraphs,
            **kwargs,
        )


UNFINISHED = ("pending", "running")
"""Statuses of a server run that has not ended."""
_STATUS_WAITS = (0.0, 0.05, 0.1, 0.2, 0.4)
"""Seconds waited before each ask of a run's status after its stream ended: a server may mark
the run ended a moment after it closed the stream (under a second in all)."""


def _status_of(run: Any) -> str | None:
    status = run.get("status") if isinstance(run, dict) else getattr(run, "status", None)
    return None if status is None else str(status)


def is_async_client(client: Any) -> bool:
    """Whether ``client`` is ``langgraph_sdk.get_client()``'s (async) rather than the sync one."""
    create = getattr(getattr(client, "runs", None), "create", None)
    return inspect.iscoroutinefunction(create)

"""A Trace as the JSON the front-end draws: a snapshot, then deltas (see ``js/PROTOCOL.md``).

The encoder reads the trace without owning it: under the trace's lock it only notes how many
events there are and the state of the runs it will describe; turning events into display text
happens outside the lock, so the observed program is held up as little as possible. Stream
chunks kept compactly by the trace are read from their columns, without rebuilding the chunk.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from streamviz._serialization import to_json
from streamviz.analysis import hold_of
from streamviz.events import CUSTOM_EVENT, split_event
from streamviz.widgets._text import chunk_text, cut, is_json_chunk, preview

if TYPE_CHECKING:
    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = ["PAYLOAD_CHARS", "PROTOCOL_VERSION", "TraceEncoder"]

PROTOCOL_VERSION = 1
PAYLOAD_CHARS = 200_000
"""Longest payload text sent to the details pane."""

_COLUMNS = ("seq", "t", "kind", "run", "text", "name", "tags", "mode", "ns")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class TraceEncoder:
    """Encodes one trace for one widget: :meth:`snapshot`, then :meth:`delta` as it grows."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.count = 0  # events encoded so far
        self._runs: list[Run] = []
        self._index: dict[str, int] = {}
        self._kinds: list[str] = []
        self._kind_index: dict[str, int] = {}
        self._kind_first: list[int] = []  # seq at which each kind first appeared
        self._stream_kind: dict[int, str] = {}  # run index -> "text" or "json"
        self._sent: list[dict[str, Any] | None] = []  # the row last sent for each run
        self._open: set[int] = set()  # runs whose last sent row was still running

    # ----------------------------------------------------------------- public
    def delta(self, *, force: bool = False) -> dict[str, Any] | None:
        """The events and run changes since the previous call; ``None`` if nothing changed.

        With ``force`` a delta is returned even if empty (it carries the trace clock, ``now``).
        """
        start = self.count
        events, rows, now = self._advance()
        if not force and not rows and not events["seq"]:
            return None
        return {
            "type": "delta",
            "from": start,
            "to": self.count,
            "now": now,
            "kinds": [
                k for k, first in zip(self._kinds, self._kind_first, strict=True) if first >= start
            ],
            "runs": rows,
            "events": events,
        }

    def resync(self, have: int) -> dict[str, Any]:
        """Everything from event ``have`` on, with every run row (a front-end that lost track)."""
        fresh = TraceEncoder(self.trace)
        fresh._advance(stop=self.count)
        events = {column: values[have:] for column, values in fresh._columns.items()}
        return {
            "type": "delta",
            "from": have,
            "to": fresh.count,
            "now": _ms(self._clock()),
            "kinds": [
                k for k, first in zip(fresh._kinds, fresh._kind_first, strict=True) if first >= have
            ],
            "runs": [row for row in fresh._sent if row is not None],
            "events": events,
        }

    def snapshot(self) -> dict[str, Any]:
        """The whole trace as the durable ``snapshot`` trait (everything encoded so far)."""
        fresh = TraceEncoder(self.trace)
        _, _, now = fresh._advance(stop=self.count or None)
        if not self.count:
            # A first snapshot: this encoder continues from there with deltas.
            self.__dict__.update(fresh.__dict__)
            self._columns = {}
        return {
            "v": PROTOCOL_VERSION,
            "name": self.trace.name,
            "count": fresh.count,
            "now": now,
            "kinds": list(fresh._kinds),
            "runs": [row for row in fresh._sent if row is not None],
            "events": fresh._columns,
        }

    def payload(self, seq: int) -> dict[str, Any]:
        """The full payload of event ``seq`` as indented JSON text (secrets redacted)."""
        try:
            event = self.trace.events[seq]
            body = {"data": to_json(event.get("data")), "metadata": to_json(event.get("metadata"))}
            text = json.dumps(body, indent=2, ensure_ascii=False)
        except Exception as error:  # an out-of-range seq from a confused front-end, a bad value
            text = f"(payload unavailable: {type(error).__name__}: {error})"
        return {
            "type": "payload",
            "seq": seq,
            "text": cut(text, PAYLOAD_CHARS),
            "truncated": len(text) > PAYLOAD_CHARS,
        }

    # ---------------------------------------------------------------- encoding
    def _clock(self) -> float:
        return time.perf_counter() - self.trace._t0 if self.trace._log else 0.0

    def _advance(
        self, stop: int | None = None
    ) -> tuple[dict[str, list[Any]], list[dict[str, Any]], float | None]:
        trace = self.trace
        start = self.count
        with trace._lock:
            stop = len(trace._log) if stop is None else min(stop, len(trace._log))
            entries = trace._log[start:stop]
            now = self._clock()
        columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
        touched: set[int] = set()
        added_before = len(self._runs)
        for seq, entry in enumerate(entries, start):
            touched.add(self._encode(seq, entry, columns))
        touched.discard(-1)
        self.count = stop
        if start == 0:
            self._columns = columns  # kept for snapshot() and resync()
        # Children of runs first described now may have been sent as orphans: refresh them.
        for index in range(added_before, len(self._runs)):
            touched.update(
                self._index[child.run_id]
                for child in self._runs[index].children
                if child.run_id in self._index
            )
        with trace._lock:  # read each run in one consistent state
            rows = [
                row
                for index in sorted(touched | self._open)
                if (row := self._row_if_changed(index)) is not None
            ]
        return columns, rows, _ms(now)

    def _kind(self, name: str, seq: int) -> int:
        index = self._kind_index.get(name)
        if index is None:
            index = self._kind_index[name] = len(self._kinds)
            self._kinds.append(name)
            self._kind_first.append(seq)
        return index

    def _run_index(self, run_id: Any) -> int:
        index = self._index.get(run_id)
        if index is None:
            run = self.trace.runs.get(run_id) if isinstance(run_id, str) else None
            if run is None:
                return -1
            index = self._index[run_id] = len(self._runs)
            self._runs.append(run)
            self._sent.append(None)
        return index

    def _encode(self, seq: int, entry: Any, columns: dict[str, list[Any]]) -> int:
        trace = self.trace
        if type(entry) is int:  # a stream chunk kept in the trace's columns
            chunks = trace._chunks
            fields = trace._templates[chunks.template[entry]]
            t = chunks.t[entry]
            text = chunks.text(entry)
            if text is None:
                chunk = chunks.chunk(entry)
                text, stream_kind = chunk_text(chunk), "json" if is_json_chunk(chunk) else "text"
            else:
                text, stream_kind = cut(text, 20_000), "text"
            name, tags, mode, ns, data, phase = (
                fields["name"],
                fields["tags"],
                None,
                None,
                None,
                "stream",
            )
            event_name = fields["event"]
            run_id = fields["run_id"]
        else:
            event_name, t, data = entry["event"], entry["t"], entry.get("data")
            name, tags, run_id = entry.get("name"), entry.get("tags"), entry.get("run_id")
            mode, ns = entry.get("mode"), entry.get("ns")
            split = split_event(event_name) if event_name != CUSTOM_EVENT else None
            phase = split[1] if split else "custom"
            text, stream_kind = self._event_text(phase, data)
        run = self._run_index(run_id)
        if phase == "stream" and run >= 0 and run not in self._stream_kind:
            self._stream_kind[run] = stream_kind
        known = self._runs[run] if run >= 0 else None
        columns["seq"].append(seq)
        columns["t"].append(round(t * 1000, 3))
        columns["kind"].append(self._kind(event_name, seq))
        columns["run"].append(run)
        columns["text"].append(text)
        columns["name"].append(None if known is not None and name == known.name else name)
        columns["tags"].append(
            None if known is not None and tags == known.tags else list(tags or ())
        )
        columns["mode"].append(mode)
        columns["ns"].append("|".join(ns) if isinstance(ns, (tuple, list)) else ns)
        return run

    @staticmethod
    def _event_text(phase: str, data: Any) -> tuple[str, str]:
        if not isinstance(data, dict):
            return preview(data), "text"
        if phase == "stream":
            chunk = data.get("chunk")
            return chunk_text(chunk), "json" if is_json_chunk(chunk) else "text"
        if phase == "start":
            return preview(data.get("input")), "text"
        if phase == "end":
            return preview(data.get("output")), "text"
        if phase == "error":
            return preview(data.get("error")), "text"
        return preview(data), "text"

    def _row_if_changed(self, index: int) -> dict[str, Any] | None:
        row = self._row(index)
        if row == self._sent[index]:
            return None
        self._sent[index] = row
        if row["status"] == "running":
            self._open.add(index)
        else:
            self._open.discard(index)
        return row

    def _row(self, index: int) -> dict[str, Any]:
        run = self._runs[index]
        hold = hold_of(run)
        upstream = -1 if hold is None else self._index.get(hold.upstream.run_id, -1)
        parent = -1 if run.parent is None else self._index.get(run.parent.run_id, -1)
        return {
            "i": index,
            "id": run.run_id,
            "name": run.name,
            "type": run.run_type,
            "parent": parent,
            "tags": list(run.tags),
            "start": _ms(run.start),
            "end": _ms(run.end),
            "status": run.status,
            "error": None if run.error is None else preview(run.error, 2_000),
            "first": _ms(run.first_chunk),
            "chunks": run.chunk_count,
            "orphan": run.orphan or (run.parent is not None and parent == -1),
            "held": None if hold is None else round(hold.held * 1000, 3),
            "upstream": upstream,
            "node": _node(run),
            "stream": self._stream_kind.get(index),
        }


def _node(run: Run) -> str | None:
    node = run.metadata.get("langgraph_node") if isinstance(run.metadata, dict) else None
    return None if node is None else str(node)

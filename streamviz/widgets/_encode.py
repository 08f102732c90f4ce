"""A Trace as the JSON the front-end draws: a snapshot, then deltas (see ``docs/protocol.md``).

The encoder reads the trace without owning it: under the trace's lock it only notes how many
events there are and the state of the runs it will describe; turning events into display text
happens outside the lock, so the observed program is held up as little as possible. Stream
chunks kept compactly by the trace are read from their columns, without rebuilding the chunk.

Every string the page receives (names, tags, texts, run rows, diffs, payloads) goes through
:func:`streamviz._redact.display_text`: secrets redacted as in trace files, lone surrogates
(which no widget message or page could carry) shown as U+FFFD.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from streamviz._errors import report_internal_error
from streamviz._log import ChunkBlock
from streamviz._redact import display_text, display_value, encodable_text, redact_pieces
from streamviz._serialization import to_json
from streamviz.analysis import hold_of, holding_since
from streamviz.events import CUSTOM_EVENT, split_event, with_stream_text
from streamviz.presentation.text import (
    STREAM_CHARS,
    chunk_text,
    cut,
    interrupt_text,
    is_json_chunk,
    part_text,
    preview,
    resume_text,
    send_text,
    tool_args_text,
)
from streamviz.statediff import apply_writes, diff_text, update_text
from streamviz.toolcalls import ToolCalls
from streamviz.usage import (
    Detached,
    UsageReport,
    detached_runs,
    read_calls,
    report_of,
    update_report,
)
from streamviz.widgets._contract import CONTRACT, VERSION

if TYPE_CHECKING:
    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = ["PAYLOAD_CHARS", "TraceEncoder"]

_TOKEN_MODES = ("messages", "messages-tuple")  # LangGraph parts whose text is one token

PAYLOAD_CHARS = 200_000
"""Longest payload text sent to the details pane."""
SAVED_PAYLOAD_CHARS = 20_000
"""Longest payload text of one event kept in a finished trace's snapshot (for pages offline)."""
SAVED_PAYLOADS_BUDGET = 2_000_000
"""Most characters of payload text a snapshot keeps in all (the first events' come first)."""

_COLUMNS = tuple(CONTRACT["columns"])


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class TraceEncoder:
    """Encodes one trace for one widget: :meth:`snapshot`, then :meth:`delta` as it grows.

    Every event is encoded once; the encoded columns are kept, so the durable snapshot, refreshed
    while live, costs a copy, not a second encoding. Stream chunks, the bulk of a trace,
    are encoded a block of consecutive rows at a time.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.count = 0  # events encoded so far
        self._columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
        self._extra_seqs: list[int] = []  # events whose name/tags/mode/ns are their own
        self._extra_values: list[dict[str, Any]] = []
        self._runs: list[Run] = []
        self._index: dict[str, int] = {}
        self._kinds: list[str] = []
        self._kind_index: dict[str, int] = {}
        self._kind_first: list[int] = []  # seq at which each kind first appeared
        self._stream_kind: dict[int, str] = {}  # run index -> "text" or "json"
        # store template -> its events' (kind, run, extra); None: encoded event by event
        self._templates: dict[int, tuple[int, int, dict[str, Any] | None] | None] = {}
        self._token_parts: set[int] = set()  # templates of LangGraph messages parts
        self._sent: list[dict[str, Any] | None] = []  # the row last sent for each run
        self._open: set[int] = set()  # runs whose last sent row was still running
        self._saved_payloads: dict[str, str] = {}  # seq -> payload text kept in the snapshot
        self._payloads_scanned = 0  # events looked at for it
        self._payload_chars = 0
        self._calls = ToolCalls()  # tool calls of model runs, read as the events are encoded
        self._linked: set[str] = set()  # runs whose calls changed in this _advance
        self._states = _PartStates()  # the diff of values/updates/checkpoints parts
        # Each open stream, (kind, run) -> its events, and whether each kind is a stream's or
        # ends a run: a secret split across a stream's tokens is found in their joined text.
        self._streams: dict[tuple[int, int], _Stream] = {}
        self._streamed_kinds: list[bool] = []
        self._ending_kinds: list[bool] = []
        self._retext: dict[str, str] = {}  # seq -> new text of an event already sent
        self._split: dict[int, str] = {}  # seq -> text of a token holding part of a secret
        self.behind = False
        """The last encoding stopped at its ``limit`` with events left (more to send)."""
        self._usage_calls: dict[str, Any] = {}  # model run id -> what it reported (usage.py)
        self._usage: UsageReport | None = None  # every run's usage, once a model reported some
        self._detached: dict[str, Detached] = {}  # roots flagged (usage.detached_runs)
        self._roots_checked: set[str] = set()  # ended roots already looked at
        self.held = 0
        """How many events the trace held at the last encoding (more than :attr:`count` while
        :attr:`behind`)."""

    # ----------------------------------------------------------------- public
    @property
    def running(self) -> bool:
        """Whether a run was still running in what was last encoded (no scan of the trace)."""
        return bool(self._open)

    def delta(self, *, force: bool = False, limit: int | None = None) -> dict[str, Any] | None:
        """The events and run changes since the previous call; ``None`` if nothing changed.

        With ``force`` a delta is returned even if empty (it carries the trace clock, ``now``).
        With ``limit``, at most that many events (the rest come with the next calls:
        :attr:`behind` says whether some are left).
        """
        start = self.count
        rows, now = self._advance(limit)
        if not force and not rows and self.count == start:
            return None
        return {
            "type": "delta",
            "from": start,
            "to": self.count,
            "now": now,
            "kinds": self._kinds_since(start),
            "runs": rows,
            "events": self._events_since(start),
            "retext": self._take_retext(start),
        }

    def _take_retext(self, start: int) -> dict[str, str]:
        """The new texts of events sent before ``start`` (the page has the old ones)."""
        retext, self._retext = self._retext, {}
        return {key: text for key, text in retext.items() if int(key) < start}

    def snapshot(self, *, limit: int | None = None) -> dict[str, Any]:
        """The whole trace as the durable ``snapshot`` trait (all events encoded so far).

        The first call encodes what the trace holds (its first ``limit`` events at most: a
        first screenful, the rest sent as deltas); later calls describe what the deltas sent.
        ``total`` is how many events the trace held then: more than ``count`` while the rest
        of a big trace is still to be sent (the page says it is loading), else ``count``.
        """
        now = self._advance(limit)[1] if self.count == 0 else _ms(self._clock())
        return {
            "v": VERSION,
            "name": display_text(name) if isinstance(name := self.trace.name, str) else name,
            "count": self.count,
            "total": max(self.held, self.count) if self.behind else self.count,
            "now": now,
            "kinds": list(self._kinds),
            "runs": [row for row in self._sent if row is not None],
            "events": self._events_since(0),
            "payloads": {} if self.running else self._payloads_to_save(),
        }

    def _payloads_to_save(self) -> dict[str, str]:
        """Whole payloads of the events that are not stream chunks, for pages with no kernel.

        A saved notebook or an exported page has no kernel to ask for a payload: a finished
        trace's snapshot carries them (each cut at :data:`SAVED_PAYLOAD_CHARS`, up to
        :data:`SAVED_PAYLOADS_BUDGET` in all, first events first). Stream events need none: their
        text is the chunk.
        """
        kinds, kind_of = self._kinds, self._columns["kind"]
        for seq in range(self._payloads_scanned, self.count):
            if self._payload_chars >= SAVED_PAYLOADS_BUDGET:
                break
            if kinds[kind_of[seq]].endswith("_stream"):
                continue
            text = self.payload(seq)["text"]
            text = cut(text, min(SAVED_PAYLOAD_CHARS, SAVED_PAYLOADS_BUDGET - self._payload_chars))
            self._saved_payloads[str(seq)] = text
            self._payload_chars += len(text)
        self._payloads_scanned = self.count
        return dict(self._saved_payloads)

    def payload(self, seq: int) -> dict[str, Any]:
        """The full payload of event ``seq`` as indented JSON text (secrets redacted)."""
        try:
            event = self.trace.events[seq]
            shown = self._split.get(seq)
            if shown is not None:  # a token holding a share of a secret split across its stream
                event = {
                    **event,
                    "data": {"chunk": with_stream_text(event["data"]["chunk"], shown)},
                }
            body = {"data": to_json(event.get("data")), "metadata": to_json(event.get("metadata"))}
            text = json.dumps(body, indent=2, ensure_ascii=False)
        except Exception as error:  # an out-of-range seq from a confused front-end, a bad value
            text = f"(payload unavailable: {type(error).__name__}: {error})"
        text = encodable_text(text)  # to_json redacted it
        return {
            "type": "payload",
            "seq": seq,
            "text": cut(text, PAYLOAD_CHARS),
            "truncated": len(text) > PAYLOAD_CHARS,
        }

    # ---------------------------------------------------------------- encoding
    def _clock(self) -> float:
        """Where the timeline ends: the trace clock while runs are open, else the last event."""
        if self._open:
            return self.trace.clock()
        times = self._columns["us"]
        return times[-1] / 1e6 if times else 0.0

    def _kinds_since(self, seq: int) -> list[str]:
        """Event kinds first seen at or after event ``seq`` (the front-end has the others)."""
        return [k for k, first in zip(self._kinds, self._kind_first, strict=True) if first >= seq]

    def _events_since(self, seq: int) -> dict[str, Any]:
        """The event columns from event ``seq`` on (new lists: trait values must not change)."""
        events: dict[str, Any] = {name: values[seq:] for name, values in self._columns.items()}
        first = bisect_left(self._extra_seqs, seq)
        events["extra"] = {
            str(at): value
            for at, value in zip(self._extra_seqs[first:], self._extra_values[first:], strict=True)
        }
        return events

    def _advance(self, limit: int | None = None) -> tuple[list[dict[str, Any]], float | None]:
        """Encode the events that arrived since the last call; return changed run rows, clock.

        With ``limit``, at most that many events (:attr:`behind` says whether some are left).
        """
        trace = self.trace
        store = trace.store
        start = self.count
        with store.lock:
            stop = held = len(store)
            clock = trace.clock()
        self.held = held
        if limit is not None:
            stop = min(stop, start + max(limit, 1))
        self.behind = stop < held
        touched: set[int] = set()
        added_before = len(self._runs)
        seq = start
        calls, linked = self._calls, self._linked
        for item in store.blocks(start, stop):
            if type(item) is ChunkBlock:  # stream chunks kept in the store's columns
                touched.update(self._encode_block(item))  # (tool calls read there)
                seq += item.count
            else:
                touched.add(self._encode_event(seq, item))
                linked |= self._read_calls(calls.apply, item)
                seq += 1
        calls.count = stop
        self._redact_streams(start, stop)
        touched.update(self._index.get(run_id, -1) for run_id in linked)
        linked.clear()
        touched.update(self._read_usage(start, stop, touched))
        touched.discard(-1)
        self.count = stop
        # Children of runs first described now may have been sent as orphans: refresh them.
        for index in range(added_before, len(self._runs)):
            touched.update(
                self._index[child.run_id]
                for child in self._runs[index].children
                if child.run_id in self._index
            )
        with store.lock:  # read each run in one consistent state
            rows = [
                row
                for index in sorted(touched | self._open)
                if (row := self._row_if_changed(index)) is not None
            ]
        times = self._columns["us"]
        now = clock if self._open else (times[-1] / 1e6 if times else 0.0)
        return rows, _ms(now)

    def _redact_streams(self, start: int, stop: int) -> None:
        """Leave out of each stream that grew the secrets its joined text holds.

        A model streams a secret split into tokens (``" sk"``, ``"-"``, ``"proj"``...): no token
        looks secret, so each is shown as it comes. Once the stream's text holds one, each token
        gets its share of :func:`~streamviz._redact.redact_pieces`: new events before they are
        sent, the ones sent already in the next delta's ``retext``. While a stream grows, its
        latest :data:`SECRET_WINDOW` events are looked at again with the new ones (and every
        secret found in them whole); when its run ends, the whole stream once.
        """
        columns = self._columns
        kinds, runs, texts = columns["kind"], columns["run"], columns["text"]
        streamed, ending = self._streamed_kinds, self._ending_kinds
        for name in self._kinds[len(streamed) :]:
            split = split_event(name) if isinstance(name, str) else None
            streamed.append(
                (split is not None and split[1] == "stream")
                or (isinstance(name, str) and name.removeprefix("on_graph_") in _TOKEN_MODES)
            )
            ending.append(split is not None and split[1] in ("end", "error"))
        if stop <= start:
            return
        import numpy as np

        # The new events by stream, as columns (a trace's events are mostly stream events).
        kind = np.asarray(kinds[start:stop], dtype=np.int64)
        run = np.asarray(runs[start:stop], dtype=np.int64)
        ended = set(run[np.asarray(ending, dtype=bool)[kind]].tolist())
        positions = np.flatnonzero(np.asarray(streamed, dtype=bool)[kind])
        keys = (kind[positions] << 32) | (run[positions] + 1)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        seqs = (positions[order] + start).tolist()
        pieces = [texts[seq] for seq in seqs]  # as encoded, before any stream redaction
        bounds = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist(), len(seqs)]
        if not seqs:
            bounds = []
        streams = self._streams
        grown: dict[tuple[int, int], int] = {}  # stream -> its number of events before
        for low, high in pairwise(bounds):
            key = (int(keys[low] >> 32), int(keys[low] & 0xFFFFFFFF) - 1)
            stream = streams.get(key)
            if stream is None:
                stream = streams[key] = _Stream()
            grown[key] = len(stream.seqs)
            stream.seqs += seqs[low:high]
            stream.pieces += pieces[low:high]
        retext = self._retext
        for key, before in grown.items():
            streams[key].check(streams[key].window_start(before), texts, start, retext, self._split)
        if ended:  # a run's stream is complete once its end is encoded: a last look, then forget
            for key in [key for key in streams if key[1] in ended]:
                stream = streams.pop(key)
                if stream.looked_from > 0:
                    stream.check(0, texts, start, retext, self._split)

    def _kind(self, name: str, seq: int) -> int:
        index = self._kind_index.get(name)
        if index is None:
            index = self._kind_index[name] = len(self._kinds)
            self._kinds.append(display_text(name) if isinstance(name, str) else name)
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

    def _fixed(
        self,
        seq: int,
        event: str,
        run_id: Any,
        name: Any,
        tags: Any,
        mode: Any = None,
        ns: Any = None,
    ) -> tuple[int, int, dict[str, Any] | None]:
        """Kind, run index, and what of name/tags/mode/ns differs from the run's (or ``None``)."""
        run = self._run_index(run_id)
        known = self._runs[run] if run >= 0 else None
        extra: dict[str, Any] = {}
        if known is None or name != known.name:
            extra["name"] = name
        if known is None or tags != known.tags:
            extra["tags"] = list(tags or ())
        if mode is not None:
            extra["mode"] = mode
        if ns is not None:
            extra["ns"] = "|".join(ns) if isinstance(ns, (tuple, list)) else str(ns)
        return self._kind(event, seq), run, display_value(extra) if extra else None

    def _append(self, seq: int, t: float, kind: int, run: int, text: str, extra: Any) -> None:
        columns = self._columns
        columns["us"].append(int(t * 1e6))
        columns["kind"].append(kind)
        columns["run"].append(run)
        columns["text"].append(display_text(text))
        if extra is not None:
            self._extra_seqs.append(seq)
            self._extra_values.append(extra)

    def _encode_event(self, seq: int, event: Any) -> int:
        """Encode one event dict; return its run index."""
        name = event["event"]
        kind, run, extra = self._fixed(
            seq,
            name,
            event.get("run_id"),
            event.get("name"),
            event.get("tags"),
            event.get("mode"),
            event.get("ns"),
        )
        split = split_event(name) if name != CUSTOM_EVENT else None
        phase = split[1] if split else "custom"
        mode, data = event.get("mode"), event.get("data")
        if mode is not None and split is None:  # a LangGraph stream part
            chunk = data.get("chunk") if isinstance(data, dict) else data
            text, stream_kind = part_text(str(mode), chunk), "text"
            if mode in DIFF_MODES and extra is not None:
                root = self._runs[run] if run >= 0 else None
                while root is not None and root.parent is not None:
                    root = root.parent
                diff = self._states.diff(root, str(mode), extra.get("ns", ""), chunk)
                extra.update(display_value(diff))
        else:
            text, stream_kind = self._event_text(phase, data)
        if phase == "stream" and run >= 0:
            self._stream_kind.setdefault(run, stream_kind)
        self._append(seq, event["t"], kind, run, text, extra)
        return run

    def _encode_block(self, block: ChunkBlock) -> set[int]:
        """Encode a block of compact events; stream chunks are read from the store's columns."""
        store, cache = self.trace.store, self._templates
        seq = block.seq
        templates = block.templates()
        distinct = set(templates)
        # New templates in the order of their first rows: event kinds are numbered as first seen.
        for template in sorted(distinct - cache.keys(), key=templates.index):
            fields = store.template(template)
            at = seq + templates.index(template)
            mode = fields.get("mode")
            if mode in _TOKEN_MODES:  # a LangGraph messages part: its text is its token's
                self._token_parts.add(template)
                cache[template] = self._fixed(
                    at, fields["event"], fields.get("run_id"), fields.get("name"),
                    fields.get("tags"), mode, fields.get("ns"),
                )  # fmt: skip
                continue
            if mode is not None or not str(fields["event"]).endswith("_stream"):
                cache[template] = None  # another LangGraph part: its text depends on its mode
                self._kind(fields["event"], at)
                continue
            cache[template] = self._fixed(
                at, fields["event"], fields.get("run_id"), fields.get("name"), fields.get("tags")
            )
        if any(cache[template] is None for template in distinct):
            # Rows of such parts event by event (no model's rows: no tool calls to read), the
            # rows between them as blocks.
            touched: set[int] = set()
            start = 0
            for offset, template in enumerate(templates):
                if cache[template] is None:
                    if offset > start:
                        touched.update(self._encode_block(block.part(start, offset)))
                    touched.add(self._encode_event(seq + offset, store.event(seq + offset)))
                    start = offset + 1
            if start < block.count:
                touched.update(self._encode_block(block.part(start, block.count)))
            return touched
        fixed = [cache[template] for template in templates]
        runs = [item[1] for item in fixed]
        texts = block.texts()
        parts = self._token_parts.intersection(distinct)
        objects: dict[int, Any] = {}  # offset -> chunk of a row not kept as text
        if None in texts:
            # A plain string chunk (StrOutputParser's, a generator's) is its own text (cut
            # below), and holds no tool call: filled in before the tool calls are read, so
            # that reader skips it instead of rebuilding it.
            for offset, text in enumerate(texts):
                if text is None and (not parts or templates[offset] not in parts):
                    chunk = objects[offset] = block.chunk(offset)
                    if type(chunk) is str:
                        texts[offset] = chunk
        # Tool calls are read before the other texts are filled in.
        self._linked |= self._read_calls(
            self._calls.apply_block, store, block, texts, templates, distinct
        )
        if parts:  # messages parts: the token's text where the store keeps it, else in full
            tokens = block.shapes()[1]
            for offset, template in enumerate(templates):
                if template in parts:
                    text = tokens[offset]
                    if not text:
                        mode = str(store.template(template).get("mode"))
                        text = part_text(mode, block.chunk(offset))
                    texts[offset] = text
        for offset, chunk in objects.items():  # chunks kept as objects: dicts, Documents...
            if type(chunk) is str:
                self._stream_kind.setdefault(runs[offset], "text")
                continue
            texts[offset] = chunk_text(chunk)
            kind = "json" if is_json_chunk(chunk) else "text"
            self._stream_kind.setdefault(runs[offset], kind)
        if max(map(len, texts)) > STREAM_CHARS:
            texts = [cut(text, STREAM_CHARS) for text in texts]
        touched = set(runs)
        streamed = touched if not parts else {
            run for run, template in zip(runs, templates, strict=True) if template not in parts
        }  # fmt: skip
        for run in streamed:  # a graph's messages parts do not make the graph a token stream
            self._stream_kind.setdefault(run, "text")
        columns = self._columns
        columns["us"].extend([int(t * 1e6) for t in block.times()])
        columns["kind"].extend([item[0] for item in fixed])
        columns["run"].extend(runs)
        columns["text"].extend(map(display_text, texts))
        if any(cache[template][2] is not None for template in distinct):
            for offset, item in enumerate(fixed):
                if item[2] is not None:
                    self._extra_seqs.append(seq + offset)
                    self._extra_values.append(item[2])
        return touched

    def _read_usage(self, start: int, stop: int, touched: set[int]) -> set[int]:
        """Read usage reported in events ``start..stop`` and flag roots that ended detached.

        Returns the indexes of the runs whose usage or flag changed (a model run and every run
        above it). A failure costs the usage and flags, never the events.
        """
        changed: set[int] = set()
        if start >= stop:
            return changed
        trace = self.trace
        try:
            reported = read_calls(trace.store.columns(start, stop), self._usage_calls)
            with trace.store.lock:
                runs = trace.runs
                if reported:
                    if self._usage is None:
                        self._usage = report_of(self._usage_calls, runs)
                        ids = set(self._usage.rolled)
                    else:  # only these model runs and the runs above them change
                        ids = update_report(self._usage, self._usage_calls, reported, runs)
                    changed.update(self._index.get(run_id, -1) for run_id in ids)
                ended = [
                    run
                    for index in touched
                    if index < len(self._runs)
                    and (run := self._runs[index]).parent_id is None
                    and run.end is not None
                    and run.run_id not in self._roots_checked
                ]
                if ended:
                    self._roots_checked.update(run.run_id for run in ended)
                    found = detached_runs(runs, ended)
                    self._detached.update(found)
                    changed.update(self._index.get(run_id, -1) for run_id in found)
        except Exception as error:
            report_internal_error("streamviz usage", error)
        return changed

    def _usage_of(self, run: Run) -> dict[str, Any] | None:
        """A run's usage row (``usage`` in docs/protocol.md), ``None`` without any."""
        report = self._usage
        usage = report.rolled.get(run.run_id) if report is not None else None
        if usage is None:
            return None
        return {
            "in": usage.input,
            "out": usage.output,
            "total": usage.total,
            "cache_read": usage.cache_read,
            "cache_write": usage.cache_creation,
            "reasoning": usage.reasoning,
            "calls": usage.calls,
            "cost": usage.cost,
            "unpriced": usage.unpriced,
            "priced": report.priced,  # type: ignore[union-attr]
            "model": report.models.get(run.run_id),  # type: ignore[union-attr]
        }

    def _detached_of(self, run: Run) -> dict[str, Any] | None:
        """A root's detached flag (``detached`` in docs/protocol.md), ``None`` if not flagged."""
        flag = self._detached.get(run.run_id)
        if flag is None:
            return None
        return {
            "parent": self._index.get(flag.likely_parent, -1),
            "name": flag.parent_name,
            "text": flag.message,
            "fix": flag.fix,
        }

    @staticmethod
    def _read_calls(read: Any, *args: Any) -> set[str]:
        """Feed the tool-call reader; its failure costs the calls, never the events."""
        try:
            return read(*args)
        except Exception as error:
            report_internal_error("streamviz tool calls", error)
            return set()

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
        """A run's row as the page gets it (every string through display_text)."""
        return display_value(self._run_row(index))

    def _run_row(self, index: int) -> dict[str, Any]:
        run = self._runs[index]
        hold = hold_of(run)
        holding = holding_since(run) if hold is None else None
        feeding = hold.upstream if hold is not None else holding[1] if holding else None
        upstream = -1 if feeding is None else self._index.get(feeding.run_id, -1)
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
            "holding": None if holding is None else _ms(holding[0]),
            "upstream": upstream,
            "node": _node(run),
            "stream": self._stream_kind.get(index),
            "interrupt": interrupt_text(run, 2_000),
            "resume": resume_text(run, 2_000),
            "thread": run.thread_id,
            "send": send_text(run),
            "calls": self._calls_of(run),
            "call": self._call_of(run),
            "usage": self._usage_of(run),
            "detached": self._detached_of(run),
        }

    def _calls_of(self, run: Run) -> list[dict[str, Any]] | None:
        """The tool calls a model run asked for, as far as they streamed (``None``: none)."""
        calls = self._calls.of_run(run.run_id)
        if not calls:
            return None
        return [
            {
                "id": call.id,
                "name": call.name,
                "args": tool_args_text(call, 2_000),
                "done": call.complete,
                "tool": -1 if call.tool_run_id is None else self._index.get(call.tool_run_id, -1),
            }
            for call in calls
        ]

    def _call_of(self, run: Run) -> dict[str, Any] | None:
        """For a tool run, the call it answered: its id and the model run that asked for it."""
        call = self._calls.call_of(run.run_id)
        if call is None:
            return None
        return {"id": call.id, "by": self._index.get(call.run_id, -1), "n": call.position}


DIFF_MODES = frozenset({"values", "updates", "checkpoints"})
"""Stream modes whose parts get a ``diff`` (and a ``note`` for a state carried over)."""
DIFF_CHARS = 2_000
"""Longest diff text of one part."""
CARRIED_OVER = "state before this run (carried over from the thread)"
CARRIED_OVER_WITH_INPUT = "state carried over from the thread, with this run's input"


SECRET_WINDOW = 4096
"""Events of a growing stream looked at again with its new tokens for a secret split across
them (its whole text once its run ends): 4,096 characters at least."""


class _Stream:
    """The events of one open stream (one kind of event of one run) and its texts as encoded."""

    __slots__ = ("looked_from", "pieces", "secrets", "seqs")

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.pieces: list[str] = []  # each event's text before any stream redaction
        self.secrets: list[tuple[int, int]] = []  # events (first, last) of each secret found
        self.looked_from = 0  # where the last look started

    def window_start(self, before: int) -> int:
        """Where to look again now that events from ``before`` on are new.

        The last :data:`SECRET_WINDOW` events before them, moved back to the start of a
        secret found earlier that the window would cut: a secret is always looked at whole, so
        that one found earlier stays left out as a whole.
        """
        first = max(before - SECRET_WINDOW, 0)  # each event holds one character or more
        for low, high in reversed(self.secrets):
            if high < first:
                break
            if low < first:
                first = low
        return first

    def check(
        self,
        first: int,
        texts: list[Any],
        sent: int,
        retext: dict[str, str],
        split: dict[int, str],
    ) -> None:
        """Redact the secrets of events ``first`` on in ``texts``.

        Events before ``sent`` (on the page already) get their new text in ``retext``; every
        event whose text changes is noted in ``split`` (its payload shows that text). A text
        redacted earlier is never shown whole again.
        """
        self.looked_from = first
        pieces = self.pieces[first:]
        redacted = redact_pieces(pieces)
        if redacted is None:
            return
        secrets = [span for span in self.secrets if span[1] < first]
        opened = -1
        for index, (seq, piece, new) in enumerate(
            zip(self.seqs[first:], pieces, redacted, strict=True), first
        ):
            if new == piece:
                if opened >= 0:
                    secrets.append((opened, index - 1))
                    opened = -1
                continue
            if opened < 0:
                opened = index
            if texts[seq] != new:
                texts[seq] = split[seq] = new
                if seq < sent:
                    retext[str(seq)] = new
        if opened >= 0:
            secrets.append((opened, len(self.pieces) - 1))
        self.secrets = secrets


class _PartStates:
    """The state each graph level last showed, per root run: what a part's diff is taken from.

    ``values``: from the previous values part of the same run and namespace; ``checkpoints``:
    from the previous checkpoint's values; ``updates``: what the node's writes change in the
    latest state known (values, checkpoints, earlier updates). The first values or checkpoint
    part of a run on a thread that already had state gets a ``note`` saying so.
    """

    def __init__(self) -> None:
        self.last: dict[tuple[str, str, str], Any] = {}  # (root id, mode, ns) -> state
        self.known: dict[tuple[str, str], Any] = {}  # (root id, ns) -> latest state known

    def diff(self, root: Run | None, mode: str, ns: str, chunk: Any) -> dict[str, str]:
        try:
            return self._diff(root, mode, ns, chunk)
        except Exception as error:  # the encoder must not fail on an odd part
            return {"diff": f"(diff unavailable: {type(error).__name__})"}

    def _diff(self, root: Run | None, mode: str, ns: str, chunk: Any) -> dict[str, str]:
        run_id = "" if root is None else root.run_id
        if mode == "updates":
            state = self.known.get((run_id, ns))
            text = update_text(state, chunk)
            if isinstance(chunk, dict):
                for writes in chunk.values():
                    if isinstance(writes, dict):
                        state = apply_writes(state, writes)
                self.known[(run_id, ns)] = state
            return {"diff": cut(text, DIFF_CHARS)}
        state = chunk.get("values") if mode == "checkpoints" and isinstance(chunk, dict) else chunk
        if isinstance(state, dict) and "__interrupt__" in state:
            state = {key: value for key, value in state.items() if key != "__interrupt__"}
        key = (run_id, mode, ns)
        first = key not in self.last
        before = self.last.get(key)
        self.last[key] = state
        self.known[(run_id, ns)] = state
        out = {"diff": cut(diff_text(before, state), DIFF_CHARS)}
        if first and ns == "" and root is not None and root.thread_id is not None and state:
            note = _carried_over(root, mode, state)
            if note:
                out["note"] = note
        return out


def _carried_over(root: Run, mode: str, state: Any) -> str | None:
    """The note of a run's first state when the thread had state before the run, else None."""
    given = root.input
    if root.is_resume or not isinstance(given, dict) or mode == "checkpoints":
        return CARRIED_OVER
    if not isinstance(state, dict):
        return None
    if state.keys() <= given.keys() and all(state.get(k) == v for k, v in given.items()):
        return None  # the state is the run's input: nothing came from before
    return CARRIED_OVER_WITH_INPUT


def _node(run: Run) -> str | None:
    node = run.metadata.get("langgraph_node") if isinstance(run.metadata, dict) else None
    return None if node is None else str(node)

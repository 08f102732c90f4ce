"""A trace as Chrome trace-event JSON, for the Perfetto UI (ui.perfetto.dev) and chrome://tracing.

``trace.save("run.perfetto.json")`` (or ``format="perfetto"``, or :func:`write_perfetto`)
writes one JSON object, ``{"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}``,
in the Trace Event Format:

- **runs are slices**: one complete event (``"ph": "X"``) per run, ``ts`` and ``dur`` in
  microseconds from the trace's start; a run still open when saved ends at the trace's last
  event (its ``status`` arg says ``running``);
- **tracks**: one process (``pid`` 1, named after the trace); each OS thread that reported runs
  gets a track (``tid`` 1, 2..., named ``thread <ident>``). Runs overlapping without nesting on
  one thread (asyncio tasks, a graph's parallel branches) cannot share a track, so they go to
  further tracks of that thread (``thread <ident> · 2``...): on every track, any two slices are
  either disjoint or one holds the other;
- **parent → child flows**: when a child run is on another track than its parent, a flow
  (``"ph": "s"`` on the parent's slice, ``"ph": "f"`` with ``"bp": "e"`` on the child's, one
  ``id``) joins them; on one track the nesting shows it;
- **tokens are instant events** (``"ph": "i"``, ``"s": "t"``) on their run's track, named
  ``token``, their text as an arg; at most ``max_tokens`` of them (default 100,000, in order):
  later tokens are dropped, counted per run (``tokens_dropped`` arg) and in ``otherData``;
- **LangGraph stream parts and custom events** are instant events too (``updates: node``...),
  their payload previewed;
- **args**: run id, type, parent id, tags, metadata, status, error, input and output previews,
  token count, first-token time and the token usage the models reported.

Nothing secret is written: previews and texts go through the redaction of trace files
(:mod:`streamviz._redact`; metadata and tags through :func:`streamviz._serialization.to_json`),
and lone surrogates become U+FFFD, so the file is valid UTF-8 JSON.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from streamviz._redact import redact_pieces, redact_text
from streamviz._serialization import to_json
from streamviz.events import split_event
from streamviz.presentation.text import chunk_text, part_text, preview
from streamviz.runs import Run

__all__ = ["DEFAULT_MAX_TOKENS", "is_perfetto_target", "to_perfetto", "write_perfetto"]

DEFAULT_MAX_TOKENS = 100_000
"""Token instant events written at most (the first ones, in order); the rest are counted."""

PREVIEW_CHARS = 2_000
"""Longest input, output, part or metadata text in a slice's args."""
NAME_CHARS = 200
SUFFIX = ".perfetto.json"
_MODELS = frozenset({"chat_model", "llm"})
PID = 1


def is_perfetto_target(path_or_file: Any, format: str | None = None) -> bool:
    """Whether ``trace.save`` writes Perfetto JSON: ``format="perfetto"``, or a name ending so."""
    if format is not None:
        return format == "perfetto"
    name = path_or_file if isinstance(path_or_file, (str, os.PathLike)) else None
    if name is None:
        name = getattr(path_or_file, "name", None)
        if not isinstance(name, (str, os.PathLike)):
            return False
    return os.fsdecode(os.fspath(name)).lower().endswith(SUFFIX)


def _clean(text: str) -> str:
    """The text with lone surrogates as U+FFFD (valid UTF-8 JSON)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def _cut(text: str, limit: int) -> str:
    return _clean(text if len(text) <= limit else text[: limit - 1] + "…")


def _us(ns: int) -> float:
    return ns / 1000


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _json_arg(value: Any) -> Any:
    """A small JSON value as it is (redacted), a large one as its preview text."""
    try:
        encoded = to_json(value)
        text = json.dumps(encoded, ensure_ascii=False, allow_nan=False)
    except Exception:
        return _cut(preview(value, PREVIEW_CHARS), PREVIEW_CHARS)
    if len(text) > PREVIEW_CHARS:
        return _cut(text, PREVIEW_CHARS)
    return json.loads(_clean(text))


@dataclass
class _Slice:
    run: Run
    start: int  # ns
    end: int  # ns
    thread: int | None
    tid: int = 0
    tokens: int = 0
    dropped: int = 0


@dataclass
class _Tracks:
    """Tracks of one OS thread: each a stack of the slice ends open on it."""

    thread: int | None
    stacks: list[list[int]] = field(default_factory=list)
    tids: list[int] = field(default_factory=list)

    def place(self, start: int, end: int, prefer: int | None, new_tid: Any) -> int:
        order = list(range(len(self.stacks)))
        if prefer is not None and prefer in self.tids:
            first = self.tids.index(prefer)
            order.remove(first)
            order.insert(0, first)
        for index in order:
            stack = self.stacks[index]
            while stack and stack[-1] <= start:
                stack.pop()
            if not stack or end <= stack[-1]:
                stack.append(end)
                return self.tids[index]
        self.stacks.append([end])
        self.tids.append(new_tid(self.thread, len(self.stacks)))
        return self.tids[-1]


def _usage_of(trace: Any) -> Mapping[str, Any]:
    try:
        from streamviz.usage import read_usage

        return read_usage(trace.store.columns(), trace.runs).rolled
    except Exception:  # usage is a nicety here: never a reason not to export
        return {}


def to_perfetto(trace: Any, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """The trace as a Chrome trace-event JSON object (see the module doc).

    Parameters
    ----------
    trace
        A :class:`streamviz.Trace`.
    max_tokens
        Token instant events kept at most (the first ones); the rest are counted, not written.
    """
    if max_tokens < 0:
        raise ValueError("max_tokens must be 0 or more")
    store = trace.store
    stop = len(store)  # the events stored when called; read twice, built as they go, not kept
    runs: dict[str, Run] = dict(trace.runs)
    last_t = 0.0
    first_thread: dict[str, int | None] = {}
    first_t: dict[str, float] = {}
    for event in store.events(0, stop):
        last_t = max(last_t, event["t"])
        run_id = event.get("run_id")
        if run_id is not None and run_id not in first_thread:
            first_thread[run_id] = event.get("thread")
            first_t[run_id] = event["t"]

    slices: dict[str, _Slice] = {}
    for run in runs.values():
        start = run.start if run.start is not None else first_t.get(run.run_id, 0.0)
        end = run.end if run.end is not None else max(last_t, start)
        slices[run.run_id] = _Slice(
            run, _ns(start), max(_ns(end), _ns(start)), first_thread.get(run.run_id)
        )

    # Tracks: per OS thread, as few as keep every track's slices nested.
    names: dict[int, str] = {}
    by_thread: dict[int | None, _Tracks] = {}

    def new_tid(thread: int | None, index: int) -> int:
        tid = len(names) + 1
        label = "thread ?" if thread is None else f"thread {thread}"
        names[tid] = label if index == 1 else f"{label} · {index}"
        return tid

    ordered = sorted(slices.values(), key=lambda s: (s.start, -s.end, s.run.depth))
    for item in ordered:
        tracks = by_thread.get(item.thread)
        if tracks is None:
            tracks = by_thread[item.thread] = _Tracks(item.thread)
        parent = slices.get(item.run.parent_id) if item.run.parent_id else None
        prefer = parent.tid if parent is not None and parent.thread == item.thread else None
        item.tid = tracks.place(item.start, item.end, prefer, new_tid)

    title = _cut(str(trace.name or "streamviz trace"), NAME_CHARS)
    out: list[dict[str, Any]] = [_metadata(0, "process_name", {"name": title})]
    if not names:  # no runs: the parts still need a named track
        names[1] = "events"
    for tid, label in names.items():
        out.append(_metadata(tid, "thread_name", {"name": label}))
        out.append(_metadata(tid, "thread_sort_index", {"sort_index": tid}))

    # Instants: tokens (capped), graph parts and custom events.
    written = dropped = 0
    streamed: dict[tuple[Any, Any, Any], list[tuple[int, str]]] = {}  # stream -> (instant, text)
    for event in store.events(0, stop):
        kind = event["event"]
        phase = split_event(kind)
        item = slices.get(event.get("run_id"))  # type: ignore[arg-type]
        tid = item.tid if item is not None else 1
        ts = _us(_ns(event["t"]))
        mode = event.get("mode")
        data = event.get("data") or {}
        chunk = data.get("chunk") if isinstance(data, dict) else None
        if (phase is not None and phase[1] == "stream") or (mode == "messages" and not phase):
            if written >= max_tokens:
                dropped += 1
                if item is not None:
                    item.dropped += 1
                continue
            written += 1
            if item is not None:
                item.tokens += 1
            text = part_text(mode, chunk) if mode == "messages" else chunk_text(chunk)
            name = "token" if mode == "messages" or (phase and phase[0] in _MODELS) else "chunk"
            args = {"text": _cut(redact_text(text), PREVIEW_CHARS)}
            stream = (event.get("run_id"), kind, mode)
            streamed.setdefault(stream, []).append((len(out), text))
            out.append(_instant(tid, ts, name, name, args))
        elif phase is None:
            if mode:
                label = f"{mode}: {event.get('name', '')}"
                shown, category = part_text(mode, chunk), "part"
                args = {"ns": [_cut(str(level), NAME_CHARS) for level in event.get("ns") or ()]}
            else:
                label, shown, category, args = kind, preview(data, PREVIEW_CHARS), "event", {}
            args["data"] = _cut(redact_text(shown), PREVIEW_CHARS)
            out.append(_instant(tid, ts, _cut(label, NAME_CHARS), category, args))

    # A secret a model streamed split into tokens: each token's share of it left out.
    for instants in streamed.values():
        redacted = redact_pieces([text for _, text in instants])
        if redacted is not None:
            for (index, _), text in zip(instants, redacted, strict=True):
                out[index]["args"]["text"] = _cut(text, PREVIEW_CHARS)

    usage = _usage_of(trace)
    flows = 0
    for item in ordered:
        run = item.run
        out.append(
            {
                "ph": "X",
                "pid": PID,
                "tid": item.tid,
                "ts": _us(item.start),
                "dur": _us(item.end - item.start),
                "name": _cut(str(run.name), NAME_CHARS),
                "cat": _cut(str(run.run_type), NAME_CHARS),
                "args": _run_args(run, item, usage.get(run.run_id)),
            }
        )
        parent = slices.get(run.parent_id) if run.parent_id else None
        if parent is None or parent.tid == item.tid:
            continue
        if not parent.start <= item.start <= parent.end:
            continue  # a child outside its parent's time (clock skew): no slice to bind to
        flows += 1
        common = {"pid": PID, "ts": _us(item.start), "name": "child", "cat": "run", "id": flows}
        out.append({"ph": "s", "tid": parent.tid, **common})
        out.append({"ph": "f", "bp": "e", "tid": item.tid, **common})

    return {
        "traceEvents": out,
        "displayTimeUnit": "ms",
        "otherData": {
            "source": "streamviz",
            "trace": _cut(str(trace.name or ""), NAME_CHARS),
            "created": str(trace.created.isoformat()),
            "tokens_written": written,
            "tokens_dropped": dropped,
            "max_tokens": max_tokens,
        },
    }


def _metadata(tid: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"ph": "M", "pid": PID, "tid": tid, "name": name, "args": args}


def _instant(tid: int, ts: float, name: str, category: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"ph": "i", "s": "t", "pid": PID, "tid": tid, "ts": ts, "name": name,
            "cat": category, "args": args}  # fmt: skip


def _run_args(run: Run, item: _Slice, usage: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "run_id": _cut(str(run.run_id), NAME_CHARS),
        "run_type": _cut(str(run.run_type), NAME_CHARS),
        "parent_id": None if run.parent_id is None else _cut(str(run.parent_id), NAME_CHARS),
        "status": run.status,
        "tags": _json_arg(list(run.tags)),
        "metadata": _json_arg(run.metadata),
    }
    if run.error is not None:
        args["error"] = _cut(redact_text(str(run.error)), PREVIEW_CHARS)
    if run.has_input:
        args["input"] = _cut(preview(run.input, PREVIEW_CHARS), PREVIEW_CHARS)
    if run.status == "ok":
        args["output"] = _cut(preview(run.output, PREVIEW_CHARS), PREVIEW_CHARS)
    if run.chunk_count:
        args["chunks"] = run.chunk_count
    if item.tokens or item.dropped:
        args["tokens"] = item.tokens
    if item.dropped:
        args["tokens_dropped"] = item.dropped
    if run.time_to_first_chunk is not None:
        args["first_chunk_ms"] = round(run.time_to_first_chunk * 1000, 3)
    if usage is not None and (usage.input or usage.output or usage.total):
        args["input_tokens"], args["output_tokens"] = usage.input, usage.output
        args["total_tokens"] = usage.total
    return args


def write_perfetto(
    trace: Any,
    path_or_file: str | os.PathLike[str] | IO[Any],
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> None:
    """Write :func:`to_perfetto`'s JSON to a path (atomically) or an open file (text or binary).

    Open the file at https://ui.perfetto.dev ("Open trace file") or in chrome://tracing.
    """
    document = to_perfetto(trace, max_tokens=max_tokens)
    blob = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    data = blob.encode("utf-8")
    if isinstance(path_or_file, (str, os.PathLike)):
        from streamviz._persistence import write_atomically

        write_atomically(path_or_file, lambda handle: handle.write(data))
        return
    mode = getattr(path_or_file, "mode", "")
    binary = isinstance(path_or_file, (io.RawIOBase, io.BufferedIOBase)) or (
        isinstance(mode, str) and "b" in mode
    )
    path_or_file.write(data if binary else blob)

"""Two traces (or two runs of one trace) side by side: ``sv.compare(a, b)``.

People compare a run before and after a change (a plain function turned into a generator, a
graph run in-process and through a server, ``stream`` and ``astream``): did the same steps run,
did they take longer, did the first token come later, did the events come in the same order?

- **Runs are matched by their path**, the names from the side's root down (a side with one root
  run: that root is the side itself, whatever its name; two runs of the same name under one
  parent are told apart by start order, ``model#2``). Runs found on one side only are listed.
- **Per-run differences**: duration, time to first token (first chunk) and token (chunk) count,
  ``b - a``: :meth:`Comparison.to_frame`.
- **The event sequences are diffed ignoring ids and times**: an event is its *signature*
  ``(event, path of its run, name, mode)``. Between two events that are not stream events
  (starts, ends, custom events, graph parts), the stream events of each signature are one item
  with a count: a run's tokens are compared by their number, so a million tokens cost a count,
  not a million comparisons, and how two concurrent streams happened to interleave (timing) is
  not reported as a change. :class:`difflib.SequenceMatcher` aligns the items; a longer stream
  is extra events after the common ones. A stretch missing at one place and inserted at another
  with the same events is reported as *reordered*, not as missing and inserted. The first
  divergence names the event's position and ``seq`` in each trace.
- Read from each trace's columns (:meth:`streamviz._log.EventStore.columns`): a million-event
  pair costs numpy passes plus one small sequence diff, live or loaded.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from streamviz._redact import display_text
from streamviz.runs import Run
from streamviz.trace import Trace

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["Comparison", "EventDiff", "Side", "compare"]

_UNKNOWN = "?"
_RUN_COLUMNS = {
    "path": "string",
    "run_type": "string",
    "name_a": "string",
    "name_b": "string",
    "status_a": "string",
    "status_b": "string",
    "start_a": "Float64",
    "start_b": "Float64",
    "duration_a": "Float64",
    "duration_b": "Float64",
    "duration_diff": "Float64",
    "first_token_a": "Float64",
    "first_token_b": "Float64",
    "first_token_diff": "Float64",
    "tokens_a": "Int64",
    "tokens_b": "Int64",
    "tokens_diff": "Int64",
}
_DIFF_COLUMNS = {
    "kind": "string",
    "event": "string",
    "path": "string",
    "name": "string",
    "count": "int64",
    "a_index": "int64",
    "b_index": "int64",
    "a_seq": "Int64",
    "b_seq": "Int64",
}


def _label(name: str, order: int) -> str:
    return name if order == 1 else f"{name}#{order}"


def _paths(roots: list[Run], single_root: bool) -> dict[str, str]:
    """Path of every run below ``roots`` ("" for a lone root), repeated names by start order."""
    paths: dict[str, str] = {}

    def label_children(prefix: str, runs: list[Run]) -> None:
        seen: Counter[str] = Counter()
        ordered = sorted(runs, key=lambda run: (run.start is None, run.start or 0.0))
        for run in ordered:
            seen[run.name] += 1
            path = _label(run.name, seen[run.name])
            paths[run.run_id] = f"{prefix}/{path}" if prefix else path
            label_children(paths[run.run_id], run.children)

    if single_root and len(roots) == 1:
        paths[roots[0].run_id] = ""
        label_children("", roots[0].children)
    else:
        label_children("", roots)
    return paths


def _column(values: list[Any], dtype: str) -> Any:
    """A typed column of a comparison's frame (text with a lone surrogate kept by Python)."""
    import pandas as pd

    from streamviz.frames import string_array

    return string_array(values) if dtype == "string" else pd.array(values, dtype=dtype)


@dataclass
class Side:
    """One side of a comparison: a trace, or one run of a trace and what ran inside it."""

    label: str
    trace: Trace
    roots: list[Run]
    origin: float
    """The side's time 0 on its trace's clock: its first run's start (or first event)."""
    paths: dict[str, str]
    """Path of each run of the side, by run id."""
    runs: dict[str, Run] = field(repr=False)
    """The side's runs by path."""
    positions: Any = field(repr=False)
    """Positions (in the trace) of the side's events, ascending (numpy int64)."""
    signature: Any = field(repr=False)
    """Per event of the side: its signature's number (see :attr:`Comparison.signatures`)."""
    seq: Any = field(repr=False)
    t: Any = field(repr=False)

    @property
    def duration(self) -> float:
        """Seconds from the side's start to its last event."""
        return float(self.t[-1] - self.origin) if len(self.t) else 0.0


@dataclass(frozen=True)
class EventDiff:
    """One difference between the event sequences: a stretch of events.

    ``kind`` is ``inserted`` (in b, not in a), ``missing`` (in a, not in b) or ``reordered``
    (the same events at another place). ``a_index`` / ``b_index`` are positions in each
    side's event sequence where it starts (or would have); ``a_seq`` / ``b_seq`` the ``seq`` of
    that event in each trace (``None`` on the side that lacks it). ``event``, ``path`` and
    ``name`` are those of the stretch's first event; ``events`` counts every kind of event in it:
    ``((event, path, name), count)`` in order of first appearance.
    """

    kind: str
    event: str
    path: str
    name: str
    count: int
    a_index: int
    b_index: int
    a_seq: int | None
    b_seq: int | None
    events: tuple[tuple[tuple[str, str, str], int], ...] = ()

    def describe(self, limit: int = 3) -> str:
        """What the stretch holds: ``on_chain_stream gen 'gen' x65, ...``."""
        parts = []
        for (event, path, name), count in self.events[:limit]:
            times = "" if count == 1 else f" x{count}"
            parts.append(f"{event} {path or '(root)'} {name!r}{times}")
        if len(self.events) > limit:
            parts.append(f"{len(self.events) - limit} more kinds")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = f"a #{self.a_index}" + ("" if self.a_seq is None else f" (seq {self.a_seq})")
        where += f", b #{self.b_index}" + ("" if self.b_seq is None else f" (seq {self.b_seq})")
        total = "" if self.count == 1 else f" ({self.count} events)"
        return f"{self.kind}{total} at {where}: {self.describe()}"


def _side(subject: Trace | Run | str, trace: Trace | None, label: str, signatures: dict) -> Side:
    import numpy as np

    if isinstance(subject, Trace):
        owner, roots, single = subject, list(subject.roots), True
    else:
        if trace is None:
            raise TypeError("comparing runs needs the trace they belong to: trace=")
        run = subject if isinstance(subject, Run) else trace.runs.get(str(subject))
        if run is None:
            raise KeyError(f"no run {subject!r} in the trace")
        owner, roots, single = trace, [run], True
    with owner.store.lock:
        paths = _paths(roots, single)
        columns = owner.store.columns()
    by_path = {}
    with owner.store.lock:
        for run_id, path in paths.items():
            by_path[path] = owner.runs[run_id]

    def number(fields: dict[str, Any]) -> int:
        run_id = fields.get("run_id")
        try:
            path = paths.get(run_id, None) if run_id is not None else None
        except TypeError:
            path = None
        if path is None:
            if isinstance(subject, Trace):
                path = _UNKNOWN
            else:
                return -1  # not an event of the compared run
        mode = fields.get("mode")
        if mode == "events":  # a server run's own event: the same as one recorded here
            mode = None
        key = (
            str(fields.get("event")),
            path,
            str(fields.get("name")),
            None if mode is None else str(mode),
        )
        found = signatures.get(key)
        if found is None:
            found = signatures[key] = len(signatures)
        return found

    by_template = np.array([number(fields) for fields in columns.templates] + [-1], dtype=np.int64)
    signature = np.full(len(columns), -1, dtype=np.int64)
    compact = columns.template >= 0
    signature[compact] = by_template[columns.template[compact]]
    if len(columns.positions):
        signature[columns.positions] = [number(event) for event in columns.dicts]
    positions = np.flatnonzero(signature >= 0)
    t = columns.t[positions]
    starts = [run.start for run in roots if run.start is not None]
    origin = min(starts) if starts else (float(t[0]) if len(t) else 0.0)
    return Side(
        label=label,
        trace=owner,
        roots=roots,
        origin=origin,
        paths=paths,
        runs=by_path,
        positions=positions,
        signature=signature[positions],
        seq=columns.seq[positions],
        t=t,
    )


def _streamed(event: str, _path: str, _name: str, mode: str | None) -> bool:
    """Whether events of this signature are a stream's pieces.

    A run's stream events, and the ``messages`` parts of a graph (its models' tokens, which the
    graph hands on with a lag).
    """
    return event.endswith("_stream") or (mode is not None and mode.startswith("messages"))


class _Items:
    """A side's events as the items the diff aligns.

    Each event that is not a stream event (starts, ends, errors, custom events, graph parts
    other than ``messages``) is an item; the stream events of one signature between two such
    events are one item with a count (a run's tokens, even interleaved with another run's). So
    token streams are compared by their length, and the order in which two concurrent streams
    interleave, which is timing, is not reported as a reordering.
    """

    def __init__(self, every: np.ndarray, is_stream: np.ndarray, keep: np.ndarray) -> None:
        import numpy as np

        where = np.flatnonzero(keep)  # the events of this channel, as positions in the side
        signature = every[where]
        stream = is_stream[signature] if len(signature) else np.zeros(0, dtype=bool)
        segment = np.cumsum(~stream)  # which stretch between non-stream events
        spos = np.flatnonzero(stream)
        key_segment, key_sig = segment[spos], signature[spos]
        order = np.lexsort((spos, key_sig, key_segment))
        self.grouped = spos[order]
        """Positions of the stream events, by group (segment, signature), ascending in each."""
        segments, sigs = key_segment[order], key_sig[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (segments[1:] != segments[:-1]) | (sigs[1:] != sigs[:-1])
        self.group_start = np.flatnonzero(new)
        group_count = np.diff(np.append(self.group_start, len(order)))
        single = np.flatnonzero(~stream)
        position = np.concatenate((single, self.grouped[self.group_start]))
        ranked = np.argsort(position, kind="stable")
        self.grouped = where[self.grouped]  # from here on: positions in the whole side
        self.position = where[position[ranked]]
        """Per item: the position of its first event."""
        self.signature = np.concatenate((signature[single], sigs[self.group_start]))[ranked]
        self.count = np.concatenate((np.ones(len(single), dtype=np.int64), group_count))[ranked]
        group = np.arange(len(self.group_start), dtype=np.int64)
        self.group = np.concatenate((np.full(len(single), -1, dtype=np.int64), group))[ranked]
        self.size = len(every)

    def nth(self, item: int, n: int) -> int:
        """Position of the ``n``-th event (from 0) of ``item``; past its last: one after it."""
        group = int(self.group[item])
        if group < 0:
            return int(self.position[item]) + min(n, 1)
        count = int(self.count[item])
        start = int(self.group_start[group])
        if n < count:
            return int(self.grouped[start + n])
        return int(self.grouped[start + count - 1]) + 1

    def at(self, item: int) -> int:
        """Position of ``item``'s first event (the end of the sequence past the last item)."""
        return int(self.position[item]) if item < len(self.position) else self.size


class Comparison:
    """What :func:`compare` found; shows itself in Jupyter (figure, tables, the event diff).

    - :meth:`to_frame`: per-run differences (one row per path).
    - :attr:`diffs` / :meth:`diff_frame`: the event-sequence differences; :attr:`first_divergence`.
    - :meth:`figure`: both timelines on one axis, aligned at their starts.
    - ``str(comparison)``: the same as text.
    """

    def __init__(self, a: Side, b: Side, signatures: dict[tuple, int]) -> None:
        self.a, self.b = a, b
        self.signatures = {number: key for key, number in signatures.items()}
        """Signature number to ``(event, path, name, mode)``."""
        self.diffs: list[EventDiff] = self._diff()
        """Differences of the event sequences, in the order of the sequences."""

    # ---------------------------------------------------------------- events
    def _stretch(self, kind: str, items: list[tuple[int, int, int, int]]) -> EventDiff:
        """One :class:`EventDiff` of contiguous ``(signature, count, a index, b index)`` items."""
        a, b = self.a, self.b
        _, _, ia, ib = items[0]
        on_a, on_b = kind != "inserted", kind != "missing"
        kinds: Counter[tuple[str, str, str]] = Counter()
        for sig, count, _, _ in items:
            event, path, name, _mode = self.signatures[sig]
            kinds[(event, path, name)] += count
        (event, path, name), _ = next(iter(kinds.items()))
        return EventDiff(
            kind=kind,
            event=event,
            path=path,
            name=name,
            count=sum(count for _, count, _, _ in items),
            a_index=ia,
            b_index=ib,
            a_seq=int(a.seq[ia]) if on_a and ia < len(a.seq) else None,
            b_seq=int(b.seq[ib]) if on_b and ib < len(b.seq) else None,
            events=tuple(kinds.items()),
        )

    def _diff(self) -> list[EventDiff]:
        import numpy as np

        kinds = [self.signatures[n] for n in range(len(self.signatures))]
        is_stream = np.array([_streamed(*kind) for kind in kinds] + [False])
        # Graph parts reach the trace through the graph's stream, run events through callbacks:
        # how the two channels interleave is timing, so each is diffed on its own.
        is_part = np.array([kind[3] is not None for kind in kinds] + [False])
        diffs: list[EventDiff] = []
        for part in (False, True):
            diffs += self._diff_channel(
                _Items(self.a.signature, is_stream, is_part[self.a.signature] == part),
                _Items(self.b.signature, is_stream, is_part[self.b.signature] == part),
            )
        diffs.sort(key=lambda diff: (diff.a_index, diff.b_index))  # in the order they happen
        return diffs

    def _diff_channel(self, items_a: _Items, items_b: _Items) -> list[EventDiff]:
        seq_a, seq_b = items_a.signature.tolist(), items_b.signature.tolist()
        counts_a, counts_b = items_a.count.tolist(), items_b.count.tolist()
        opcodes = difflib.SequenceMatcher(None, seq_a, seq_b, autojunk=False).get_opcodes()
        # (kind, signature, count, a index, b index), in sequence order.
        found: list[tuple[str, int, int, int, int]] = []
        deleted: list[int] = []  # indexes into found
        inserted: list[int] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    count_a, count_b = counts_a[i], counts_b[j]
                    if count_a != count_b:  # one stream is longer: the extra after the common
                        common = min(count_a, count_b)
                        kind = "inserted" if count_b > count_a else "missing"
                        ia, ib = items_a.nth(i, common), items_b.nth(j, common)
                        found.append((kind, seq_a[i], abs(count_b - count_a), ia, ib))
                continue
            b_at, a_at = items_b.at(j1), items_a.at(i1)
            for i in range(i1, i2):
                deleted.append(len(found))
                found.append(("missing", seq_a[i], counts_a[i], items_a.at(i), b_at))
            for j in range(j1, j2):
                inserted.append(len(found))
                found.append(("inserted", seq_b[j], counts_b[j], a_at, items_b.at(j)))
        # A stretch gone from one place and found at another is a move, not two changes.
        waiting: dict[tuple[int, int], list[int]] = {}
        for index in inserted:
            _, sig, count, _, _ = found[index]
            waiting.setdefault((sig, count), []).append(index)
        dropped: set[int] = set()
        for index in deleted:
            _, sig, count, ia, _ = found[index]
            matches = waiting.get((sig, count))
            if matches:
                other = matches.pop(0)
                dropped.add(other)
                found[index] = ("reordered", sig, count, ia, found[other][4])
        items = [item for index, item in enumerate(found) if index not in dropped]
        diffs: list[EventDiff] = []
        group: list[tuple[int, int, int, int]] = []
        group_kind = ""
        for kind, sig, count, ia, ib in items:
            if group and kind == group_kind and kind != "reordered":
                _, _, last_a, last_b = group[-1]
                # One stretch: what one side lacks at one place of the other.
                if (kind == "missing" and ib == last_b) or (kind == "inserted" and ia == last_a):
                    group.append((sig, count, ia, ib))
                    continue
            if group:
                diffs.append(self._stretch(group_kind, group))
            group, group_kind = [(sig, count, ia, ib)], kind
        if group:
            diffs.append(self._stretch(group_kind, group))
        return diffs

    @property
    def same_events(self) -> bool:
        """Whether both sides have the same events in the same order (ids and times aside)."""
        return not self.diffs

    @property
    def first_divergence(self) -> EventDiff | None:
        """The first place the event sequences differ (``None`` if they do not)."""
        return self.diffs[0] if self.diffs else None

    def diff_frame(self) -> pd.DataFrame:
        """:attr:`diffs` as a DataFrame, one row per stretch.

        Columns ``kind``, ``event``, ``path``, ``name``, ``count``, ``a_index``, ``b_index``,
        ``a_seq``, ``b_seq``.
        """
        import pandas as pd

        rows = {name: [getattr(d, name) for d in self.diffs] for name in _DIFF_COLUMNS}
        return pd.DataFrame(
            {name: _column(values, _DIFF_COLUMNS[name]) for name, values in rows.items()}
        )

    # ------------------------------------------------------------------ runs
    def paths(self) -> list[str]:
        """Every run path of either side: a's in tree order, then those only b has."""
        seen = dict.fromkeys(self._tree_paths(self.a))
        seen.update(dict.fromkeys(self._tree_paths(self.b)))
        return list(seen)

    @staticmethod
    def _tree_paths(side: Side) -> list[str]:
        return [side.paths[run.run_id] for root in side.roots for run in root.walk()]

    def to_frame(self) -> pd.DataFrame:
        """Per-run differences, one row per path (either side), ``b - a``.

        Columns: ``path``, ``run_type``, ``name_a``/``name_b``, ``status_a``/``status_b``,
        ``start_a``/``start_b`` (from each side's start), ``duration_a``/``_b``/``_diff``,
        ``first_token_a``/``_b``/``_diff`` (time to first chunk, from the run's start),
        ``tokens_a``/``_b``/``_diff`` (chunk counts). Seconds; missing on a side: ``<NA>``.
        """
        import pandas as pd

        rows: dict[str, list[Any]] = {name: [] for name in _RUN_COLUMNS}

        def diff(x: Any, y: Any) -> Any:
            return None if x is None or y is None else y - x

        for path in self.paths():
            ra, rb = self.a.runs.get(path), self.b.runs.get(path)
            either = ra or rb
            assert either is not None
            rows["path"].append(path)
            rows["run_type"].append(either.run_type)
            for suffix, run, side in (("a", ra, self.a), ("b", rb, self.b)):
                rows[f"name_{suffix}"].append(None if run is None else run.name)
                rows[f"status_{suffix}"].append(None if run is None else run.status)
                start = None if run is None or run.start is None else run.start - side.origin
                rows[f"start_{suffix}"].append(start)
                rows[f"duration_{suffix}"].append(None if run is None else run.duration)
                ttft = None if run is None else run.time_to_first_chunk
                rows[f"first_token_{suffix}"].append(ttft)
                rows[f"tokens_{suffix}"].append(None if run is None else run.chunk_count)
            rows["duration_diff"].append(diff(rows["duration_a"][-1], rows["duration_b"][-1]))
            rows["first_token_diff"].append(
                diff(rows["first_token_a"][-1], rows["first_token_b"][-1])
            )
            rows["tokens_diff"].append(diff(rows["tokens_a"][-1], rows["tokens_b"][-1]))
        return pd.DataFrame(
            {name: _column(values, _RUN_COLUMNS[name]) for name, values in rows.items()}
        )

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """The comparison as text: both sides, the runs that differ, the event diff."""
        a, b = self.a, self.b
        lines = [
            f"a{_named(a.label)}: {len(a.signature)} events, {len(a.runs)} runs, "
            f"{a.duration * 1000:,.1f} ms",
            f"b{_named(b.label)}: {len(b.signature)} events, {len(b.runs)} runs, "
            f"{b.duration * 1000:,.1f} ms",
        ]
        only_a = [p for p in a.runs if p not in b.runs]
        only_b = [p for p in b.runs if p not in a.runs]
        lines.append(
            f"runs: {len(a.runs) - len(only_a)} matched by path, "
            f"{len(only_a)} only in a, {len(only_b)} only in b"
        )
        lines += [f"  only in a: {p or '(root)'}" for p in only_a[:10]]
        lines += [f"  only in b: {p or '(root)'}" for p in only_b[:10]]
        frame = self.to_frame()
        matched = frame[frame["name_a"].notna() & frame["name_b"].notna()]
        for row in matched.itertuples():
            parts = []
            if not _na(row.duration_diff):
                parts.append(
                    f"duration {_ms(row.duration_a)} -> {_ms(row.duration_b)} "
                    f"({_signed_ms(row.duration_diff)})"
                )
            if not _na(row.first_token_diff):
                parts.append(f"first token {_signed_ms(row.first_token_diff)}")
            if not _na(row.tokens_diff) and row.tokens_diff:
                parts.append(f"tokens {row.tokens_a} -> {row.tokens_b}")
            if parts:
                lines.append(f"  {row.path or '(root)'}: " + ", ".join(parts))
        if self.same_events:
            lines.append("events: the same sequence (ids and times aside)")
        else:
            kinds = Counter(d.kind for d in self.diffs)
            lines.append("events: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
            lines.append(f"  first divergence: {self.first_divergence}")
            lines += [f"  {d}" for d in self.diffs[1:20]]
            if len(self.diffs) > 20:
                lines.append(f"  ... {len(self.diffs) - 20} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"<Comparison {self.a.label!r} vs {self.b.label!r}: "
            f"{len(self.diffs)} event differences>"
        )

    # ---------------------------------------------------------------- figure
    def figure(self, *, row_height: int = 26) -> go.Figure:
        """Both timelines on one axis, in ms since each side's start.

        A row per run path, a's bar above b's, first-token marks (diamonds) and stalls (see
        :meth:`streamviz.Trace.stalls`, hatched, with their length and threshold).
        """
        import plotly.graph_objects as go

        from streamviz.plotting import _text

        paths = self.paths()
        row = {path: index for index, path in enumerate(paths)}
        figure = go.Figure()
        colors = {"a": "#4c78a8", "b": "#f58518"}
        for key, side, offset in (("a", self.a, -0.2), ("b", self.b, 0.2)):
            members = [(path, side.runs[path]) for path in paths if path in side.runs]
            now = side.trace.duration
            starts = [1000 * ((run.start or side.origin) - side.origin) for _, run in members]
            ends = [
                1000 * ((run.end if run.end is not None else now) - side.origin)
                for _, run in members
            ]
            figure.add_bar(
                name=f"{key}: {_text(side.label, 60)}",
                orientation="h",
                base=starts,
                x=[max(end - start, 0.05) for start, end in zip(starts, ends, strict=True)],
                y=[row[path] + offset for path, _ in members],
                width=0.38,
                marker={"color": colors[key]},
                customdata=[
                    [_text(run.name), run.status, run.chunk_count, _ms(run.time_to_first_chunk)]
                    for _, run in members
                ],
                hovertemplate=(
                    f"<b>{key}</b> %{{customdata[0]}} (%{{customdata[1]}})"
                    "<br>start %{base:,.1f} ms, took %{x:,.1f} ms"
                    "<br>first token after %{customdata[3]}, %{customdata[2]} tokens"
                    "<extra></extra>"
                ),
            )
            firsts = [(path, run) for path, run in members if run.first_chunk is not None]
            if firsts:
                figure.add_scatter(
                    name=f"{key}: first token",
                    mode="markers",
                    x=[1000 * (run.first_chunk - side.origin) for _, run in firsts],
                    y=[row[path] + offset for path, _ in firsts],
                    marker={"symbol": "diamond", "size": 8, "color": "black"},
                    hovertemplate=f"{key}: first token at %{{x:,.1f}} ms<extra></extra>",
                    showlegend=False,
                )
            stalls = side.trace.stalls()
            by_id = {run.run_id: path for path, run in members}
            marks = [s for s in stalls.itertuples() if s.run_id in by_id]
            if marks:
                figure.add_bar(
                    name=f"{key}: stalls",
                    orientation="h",
                    base=[1000 * (s.at - side.origin) for s in marks],
                    x=[1000 * s.gap for s in marks],
                    y=[row[by_id[s.run_id]] + offset for s in marks],
                    width=0.38,
                    marker={
                        "color": "rgba(255,255,255,0.85)",
                        "line": {"color": "#d62728", "width": 1},
                        "pattern": {"shape": "x", "fgcolor": "#d62728"},
                    },
                    customdata=[[s.threshold * 1000] for s in marks],
                    hovertemplate=(
                        "stall: %{x:,.1f} ms without a token"
                        "<br>threshold %{customdata[0]:,.1f} ms<extra></extra>"
                    ),
                )
        figure.update_layout(
            barmode="overlay",
            title=_text(f"a: {self.a.label}  vs  b: {self.b.label}"),
            height=150 + row_height * max(len(paths), 1),
            xaxis={"title": "time since each side's start (ms)", "rangemode": "tozero"},
            yaxis={
                "autorange": "reversed",
                "tickmode": "array",
                "tickvals": list(range(len(paths))),
                "ticktext": [
                    "\u2003" * (path.count("/") + (1 if path else 0))
                    + _text(path.rsplit("/", 1)[-1] or self._root_name(), 60)
                    for path in paths
                ],
            },
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
            margin={"l": 10, "r": 10, "t": 70, "b": 10},
        )
        return figure

    def _root_name(self) -> str:
        ra, rb = self.a.runs.get(""), self.b.runs.get("")
        names = [run.name for run in (ra, rb) if run is not None]
        return " | ".join(dict.fromkeys(names)) or "(root)"

    # ---------------------------------------------------------------- Jupyter
    def _events_window(
        self, key: str, index: int, anchor: str, lacks: bool = False, span: int = 4
    ) -> str:
        """A few events of one side around ``index``, the one at ``index`` highlighted."""
        side = self.a if key == "a" else self.b
        rows = []
        for i in range(max(0, index - span), min(len(side.signature), index + span + 1)):
            event, path, name, _mode = self.signatures[int(side.signature[i])]
            mark = i == index
            style = ' style="background:#fde2e1;font-weight:bold"' if mark else ""
            ident = f' id="{anchor}-{key}"' if mark else ""
            rows.append(
                f"<tr{ident}{style}><td>{i}</td><td>{int(side.seq[i])}</td>"
                f"<td>{1000 * (float(side.t[i]) - side.origin):,.1f}</td>"
                f"<td>{escape(event)}</td><td>{escape(path or '(root)')}</td>"
                f"<td>{escape(name)}</td></tr>"
            )
        if index >= len(side.signature):
            rows.append(f'<tr id="{anchor}-{key}" style="background:#fde2e1"><td colspan="6">'
                        "(end of the sequence)</td></tr>")  # fmt: skip
        head = "<tr><th>#</th><th>seq</th><th>ms</th><th>event</th><th>path</th><th>name</th></tr>"
        title = escape(f"{key}: {side.label}")
        note = " (lacks them: they would come before the highlighted event)" if lacks else ""
        return f"<div><b>{title}</b>{note}<table>{head}{''.join(rows)}</table></div>"

    def _repr_html_(self) -> str:
        """The differences as HTML tables (all data text-escaped)."""
        anchor = f"sv-compare-{id(self):x}"
        parts = [f"<pre>{escape(self.summary())}</pre>"]
        frame = self.to_frame()
        parts.append(frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4f}"))
        first = self.first_divergence
        if first is not None:
            diff_rows = []
            for index, d in enumerate(self.diffs[:200]):
                style = ' style="background:#fde2e1;font-weight:bold"' if index == 0 else ""
                links = (
                    f'<a href="#{anchor}-a">a #{d.a_index}</a> / <a href="#{anchor}-b">'
                    f"b #{d.b_index}</a>"
                    if index == 0
                    else f"a #{d.a_index} / b #{d.b_index}"
                )
                diff_rows.append(
                    f"<tr{style}><td>{escape(d.kind)}</td><td>{escape(d.event)}</td>"
                    f"<td>{escape(d.path or '(root)')}</td><td>{escape(d.name)}</td>"
                    f"<td>{d.count}</td><td>{links}</td>"
                    f"<td>{'' if d.a_seq is None else d.a_seq}</td>"
                    f"<td>{'' if d.b_seq is None else d.b_seq}</td></tr>"
                )
            parts.append(
                "<table><tr><th>kind</th><th>event</th><th>path</th><th>name</th><th>count</th>"
                "<th>where</th><th>a seq</th><th>b seq</th></tr>" + "".join(diff_rows) + "</table>"
            )
            parts.append(
                '<div style="display:flex;gap:2em">'
                + self._events_window("a", first.a_index, anchor, first.kind == "inserted")
                + self._events_window("b", first.b_index, anchor, first.kind == "missing")
                + "</div>"
            )
        # Names and paths come from payloads: secret-free and encodable like every output.
        return display_text("<div class='streamviz-compare'>" + "".join(parts) + "</div>")

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        display(self.figure())
        display(HTML(self._repr_html_()))


def _named(label: str) -> str:
    return f" ({label})" if label and label not in ("a", "b") else ""


def _na(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _ms(value: Any) -> str:
    return "-" if _na(value) else f"{value * 1000:,.1f} ms"


def _signed_ms(value: Any) -> str:
    return "-" if _na(value) else f"{value * 1000:+,.1f} ms"


def compare(
    a: Trace | Run | str,
    b: Trace | Run | str,
    *,
    trace: Trace | None = None,
    labels: tuple[str, str] | None = None,
) -> Comparison:
    """Compare two traces, or two runs of one trace (``trace=`` it; runs or run ids).

    Examples
    --------
    >>> sv.compare(before, after).to_frame()  # doctest: +SKIP
    >>> sv.compare(run_1, run_2, trace=trace)  # doctest: +SKIP
    """

    def label(subject: Any, default: str) -> str:
        if isinstance(subject, Trace):
            return subject.name or default
        if isinstance(subject, Run):
            return subject.name
        return str(subject)

    names = labels or (label(a, "a"), label(b, "b"))
    signatures: dict[tuple, int] = {}
    side_a = _side(a, trace, names[0], signatures)
    side_b = _side(b, trace, names[1], signatures)
    return Comparison(side_a, side_b, signatures)

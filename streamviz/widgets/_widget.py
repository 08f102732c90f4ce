"""The trace widget: one anywidget model per view of a trace (see ``docs/protocol.md``)."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from streamviz._errors import report_internal_error
from streamviz.latency import STALL_FACTOR, STALL_SECONDS
from streamviz.runs import Run
from streamviz.trace import Trace
from streamviz.widgets import _live
from streamviz.widgets._contract import FILTER_LISTS, VIEWS, empty_filters
from streamviz.widgets._encode import TraceEncoder
from streamviz.widgets._wire import snapshot_to_wire, wire_message

__all__ = [
    "VIEWS",
    "Dashboard",
    "EventTable",
    "GraphView",
    "RunTreeView",
    "Timeline",
    "TokenStream",
    "TraceWidget",
    "bundle_path",
]

_STATIC = Path(__file__).resolve().parent.parent / "static"
_QUIET = 0.4  # seconds without news before the durable snapshot is refreshed
_HEARTBEAT = 0.2  # seconds between clock-only updates while runs are running
# While live, the durable snapshot is also refreshed now and then, so a page that missed
# deltas (they came before its view was ready, or were lost) catches up without asking the
# kernel, which cannot answer while the cell runs. Small traces: every _REFRESH seconds; large
# ones only once they grew by half, so all refreshes together send about three times the trace.
# And never more than a _REFRESH_BUDGET share of the time: after a refresh that took c seconds
# (encoding and serialising the state, in the watched program's process) the next one waits
# c / _REFRESH_BUDGET, so a program streaming as fast as it can is not slowed by its dashboard.
_REFRESH = 0.25
_REFRESH_SMALL = 5_000
_REFRESH_GROWTH = 0.5
_REFRESH_BUDGET = 0.02
# A big trace is shown a screenful first: the widget's first snapshot holds its first
# _FIRST_EVENTS events, and the update thread sends the rest as deltas of at most _CATCH_UP
# events a tick (then settles the snapshot), so a page draws at once instead of waiting for the
# kernel to encode, and the page to take in, a million events (docs/benchmarks.md).
_FIRST_EVENTS = 20_000
_CATCH_UP = 200_000
_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "streamviz: the widget front-end was not built. Reinstall streamviz, or in a "
    + "source checkout run `make setup` (needs node and npm).";
} };
"""


def _stall_rule(seconds: float | None, factor: float | None) -> dict[str, float]:
    """The ``stall_rule`` trait for these thresholds (None: the default), checked."""
    seconds = STALL_SECONDS if seconds is None else seconds
    factor = STALL_FACTOR if factor is None else factor
    for name, value in (("stall_seconds", seconds), ("stall_factor", factor)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return {"ms": float(seconds) * 1000.0, "factor": float(factor)}


def bundle_path(name: str = "widget.js") -> Path:
    """Path of a built front-end file (``widget.js`` or ``widget.css``) in the package."""
    return _STATIC / name


def _read_bundle(name: str, missing: str) -> str:
    path = bundle_path(name)
    return path.read_text(encoding="utf-8") if path.is_file() else missing


class TraceWidget(anywidget.AnyWidget):
    """A live view of a :class:`~streamviz.Trace` (the data stays in the trace).

    Parameters
    ----------
    trace
        The trace to show; it may still be growing (the widget follows it).
    view
        ``dashboard`` (everything, linked), ``tokens``, ``table``, ``timeline``, ``tree`` or
        ``graph`` (LangGraph stream parts by mode).
    height
        Height in pixels.
    stall_seconds, stall_factor
        The stall rule of the timeline's marks and the token pane's gap charts: a gap between
        two chunks of a run is a stall when longer than ``max(stall_seconds, stall_factor x the
        run's median gap)`` (defaults 0.25 s and 5, as :meth:`Trace.stalls`); settable later
        through :meth:`set_stall_rule`.
    """

    # Text, not a Path: anywidget ties every instance to a class-level file watcher for a Path,
    # which keeps each widget (and its trace) alive for the life of the process.
    _esm = _read_bundle("widget.js", _MISSING_BUNDLE)
    _css = _read_bundle("widget.css", "")

    uid = traitlets.Unicode().tag(sync=True)
    """Unique per widget: the front-end's views of one widget share one copy of the trace."""
    view = traitlets.Unicode("dashboard").tag(sync=True)
    snapshot = traitlets.Dict().tag(sync=True, to_json=snapshot_to_wire)
    """The durable state (docs/protocol.md); its event columns travel as binary buffers."""
    live = traitlets.Bool(False).tag(sync=True)
    selected_run = traitlets.Unicode("").tag(sync=True)
    filters = traitlets.Dict().tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)
    time_span = traitlets.Float(0.0).tag(sync=True)
    """Milliseconds the timeline spans at least (0: its own trace's); one scale for traces
    compared side by side (``sv.show([a, b])``)."""
    stall_rule = traitlets.Dict({"ms": STALL_SECONDS * 1000.0, "factor": STALL_FACTOR}).tag(
        sync=True
    )
    """``{"ms": ..., "factor": ...}``: the stall rule the page marks stalls by (see above)."""
    seekable = traitlets.Bool(False).tag(sync=True)
    """The timeline's time axis is clickable: a click sends a ``seek`` message (a replay's view,
    see :meth:`on_seek`), and a playhead marks the clock."""

    def __init__(
        self,
        trace: Trace,
        *,
        view: str = "dashboard",
        height: int = 560,
        stall_seconds: float | None = None,
        stall_factor: float | None = None,
        **kwargs: Any,
    ) -> None:
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        kwargs["stall_rule"] = _stall_rule(stall_seconds, stall_factor)
        self._trace = trace
        self._encoder = TraceEncoder(trace)
        self._flush_lock = threading.RLock()
        self._last_send = 0.0
        self._last_news = self._last_refresh = time.perf_counter()
        self._refresh_wait = _REFRESH
        self._stale = False  # deltas were sent since the last snapshot
        self._retexted = False  # a delta since the last snapshot changed texts it holds
        self.flushes = 0
        """Number of delta messages sent (for tests and curious users)."""
        self._seek_callbacks: list[Callable[[float], None]] = []
        snapshot = self._encoder.snapshot(limit=_FIRST_EVENTS)
        # The rest of a big trace is on its way: a finished trace is not shown as live for it.
        self._catching_up = self._encoder.behind
        self._whole = threading.Event()  # set once the rest is sent (and a finished one settled)
        if not self._catching_up:
            self._whole.set()
        super().__init__(
            uid=uuid.uuid4().hex,
            view=view,
            height=height,
            filters=empty_filters(),
            snapshot=snapshot,
            live=self._encoder.running,
            **kwargs,
        )
        self.on_msg(self._on_front_end_message)
        _live.follow(self)
        if self._catching_up:  # a notebook saved as the cell ends keeps the whole trace
            _live.whole_at_cell_end(self)

    @property
    def trace(self) -> Trace:
        """The trace shown."""
        return self._trace

    def filtered(self) -> Trace:
        """The trace narrowed by the filter controls' include/exclude choices.

        Uses :meth:`Trace.filter` (astream_events semantics, the same as the widget's own
        filtering); event-kind toggles and the search box are left to the widget.
        """
        spec = {key: list(values) for key in FILTER_LISTS if (values := self.filters.get(key))}
        return self._trace.filter(**spec)

    @property
    def selected(self) -> Run | None:
        """The run selected in the widget (tree, timeline or table), if any."""
        return self._trace.runs.get(self.selected_run) if self.selected_run else None

    def set_stall_rule(
        self, stall_seconds: float | None = None, stall_factor: float | None = None
    ) -> None:
        """Mark stalls by another rule (None: the default's value); the page redraws at once."""
        self.stall_rule = _stall_rule(stall_seconds, stall_factor)

    def on_seek(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(ms)`` when the user clicks the timeline's axis at ``ms``.

        Only a ``seekable`` widget hears clicks; the replay controls seek their player.
        """
        self._seek_callbacks.append(callback)

    # ------------------------------------------------------------- updating
    def flush(self, *, limit: int | None = None) -> bool:
        """Send what is new in the trace now; returns whether a message was sent.

        With ``limit``, at most that many events (the update thread's catch-up step).
        """
        with self._flush_lock:
            delta = self._encoder.delta(limit=limit)
            if delta is None:
                return False
            self._send_delta(delta)
            return True

    def settle(self) -> None:
        """Send what is new, then make the durable state (``snapshot``) the whole trace."""
        with self._flush_lock:
            self.flush()
            running = self._encoder.running
            if self._stale or self.snapshot.get("count") != self._encoder.count:
                self.snapshot = self._encoder.snapshot()
                self._stale = False
            self.live = running
            self._catching_up = False
            self._whole.set()

    def wait_whole(self, timeout: float | None = None) -> bool:
        """Wait until the widget's state holds its whole trace; returns whether it does.

        A big trace's widget starts with its first events and is sent the rest
        (docs/protocol.md); a small trace's holds it at once.
        """
        return self._whole.wait(timeout)

    def close(self) -> None:
        """Stop following the trace and close the widget (its front-end views go away)."""
        if self.comm is None:  # closed already (ipywidgets closes again from __del__)
            return
        _live.unfollow(self)
        self._whole.set()  # nothing more comes: no cell waits for it
        super().close()

    def _send_delta(self, delta: dict[str, Any]) -> None:
        content, buffers = wire_message(delta)
        self.send(content, buffers)
        self.flushes += 1
        self._stale = True
        self._last_send = time.perf_counter()
        if delta.get("retext"):  # texts the durable snapshot holds changed: a secret left out
            self._retexted = True

    def _tick(self, now: float) -> None:
        """Called by the update thread about 30 times a second."""
        with self._flush_lock:
            if self.flush(limit=_CATCH_UP):
                self._last_news = now
                if self._encoder.behind:  # catching up: the snapshot is settled after
                    return
                if self._catching_up:  # the rest of a big trace is all sent now
                    self._catching_up = False
                    if not self._encoder.running:
                        self.settle()
                        return
                    self._whole.set()  # still running: the page has all there is, live
                if not self.live:
                    self.live = True
                self._refresh_if_due(now)
                return
            if self.live and self._encoder.running:
                if now - self._last_send >= _HEARTBEAT:  # let running bars grow
                    self._send_delta(self._encoder.delta(force=True))  # type: ignore[arg-type]
                self._refresh_if_due(now)
                return
            if (self._stale or self.live) and now - self._last_news >= _QUIET:
                self.settle()

    def _refresh_if_due(self, now: float) -> None:
        """Bring the durable snapshot up to date while live, at a cost bounded by the trace size.

        Deltas are sent once and never asked for again, so a page that missed some (they came
        before its view was ready, or were lost) is put right by the next snapshot instead.
        """
        have = self.snapshot.get("count", 0)
        count = self._encoder.count
        if now - self._last_refresh < self._refresh_wait:
            return
        # A snapshot holding pieces of a secret found since (a delta's retext) is not kept
        # until the trace has grown: a notebook saved meanwhile would keep them.
        if not self._retexted:
            if count <= have:
                return
            if count > _REFRESH_SMALL and count - have < _REFRESH_GROWTH * have:
                return
        started = time.perf_counter()
        self.snapshot = self._encoder.snapshot()  # serialised and sent as it is set
        self._stale = self._retexted = False
        self._last_refresh = now
        self._refresh_wait = max(_REFRESH, (time.perf_counter() - started) / _REFRESH_BUDGET)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            if not isinstance(content, dict):
                return
            kind = content.get("type")
            if kind == "payload":
                seq = content.get("seq")
                if isinstance(seq, int) and not isinstance(seq, bool):
                    self.send(self._encoder.payload(seq))
            elif kind == "seek" and self.seekable:
                at = content.get("ms")
                if isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at):
                    for callback in list(self._seek_callbacks):
                        callback(max(0.0, float(at)))
        except Exception as error:
            report_internal_error("streamviz widget message", error)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._trace!r}>"


class Dashboard(TraceWidget):
    """Token streams, event table, timeline and run tree of a trace, with shared filters."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        super().__init__(trace, view="dashboard", **kwargs)


class TokenStream(TraceWidget):
    """The tokens of each streaming run as they arrive (``|``-separated and accumulated)."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        kwargs.setdefault("height", 320)
        super().__init__(trace, view="tokens", **kwargs)


class EventTable(TraceWidget):
    """Every event, with include/exclude filters, kind toggles, search and payload details."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        super().__init__(trace, view="table", **kwargs)


class Timeline(TraceWidget):
    """Gantt chart of the runs: bars nested by parent, token ticks, first-token marks."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        kwargs.setdefault("height", 420)
        super().__init__(trace, view="timeline", **kwargs)


class RunTreeView(TraceWidget):
    """Collapsible run tree with status, duration and first-token time per run."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        kwargs.setdefault("height", 420)
        super().__init__(trace, view="tree", **kwargs)


class GraphView(TraceWidget):
    """LangGraph stream parts by mode: states, per-node updates, tokens per node, custom data."""

    def __init__(self, trace: Trace, **kwargs: Any) -> None:
        kwargs.setdefault("height", 480)
        super().__init__(trace, view="graph", **kwargs)

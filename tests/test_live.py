"""Live without asking: what the kernel sends lets a page catch up on its own; clocks; memory."""

from __future__ import annotations

import gc
import itertools
import json
import textwrap
import weakref

import pytest
from examples import parrot_chain
from helpers import eventually
from langchain_core.runnables import RunnableGenerator

import streamviz as sv
from streamviz.widgets import VIEWS, TraceWidget, _live
from streamviz.widgets._encode import TraceEncoder
from streamviz.widgets._wire import decode_message


class Recording(TraceWidget):
    """A trace widget that keeps what it sends: custom messages and snapshot refreshes, in order."""

    def __init__(self, *args, **kwargs):
        self.wire: list[tuple[str, dict]] = []
        super().__init__(*args, **kwargs)
        self.wire.append(("snapshot", json.loads(json.dumps(self.snapshot))))
        self.observe(self._snapshot_sent, names="snapshot")

    def _snapshot_sent(self, change):
        self.wire.append(("snapshot", json.loads(json.dumps(change["new"]))))

    def send(self, content, buffers=None):
        content = decode_message(json.loads(json.dumps(content)), buffers)  # the columns' buffers
        self.wire.append(("message", content))


class Page:
    """What the front-end's store does with the wire (js/src/store.js), reduced to event counts.

    A delta beyond the copy waits; a snapshot with more events extends the copy; a delta that
    overlaps adds its new part. ``lose`` drops the given messages, as a page that was not ready.
    """

    def __init__(self):
        self.texts: list[str] = []
        self.pending: dict[int, dict] = {}
        self.counts: list[int] = []

    def take(self, kind: str, content: dict) -> None:
        if kind == "snapshot":
            self._extend(0, content["count"], content["events"]["text"])
        elif content.get("type") == "delta":
            if content["from"] > len(self.texts):
                self.pending[content["from"]] = content
            else:
                self._extend(content["from"], content["to"], content["events"]["text"])
        progress = True
        while progress:
            progress = False
            for start, delta in list(self.pending.items()):
                if delta["to"] <= len(self.texts):
                    del self.pending[start]
                elif start <= len(self.texts):
                    del self.pending[start]
                    self._extend(start, delta["to"], delta["events"]["text"])
                    progress = True
        self.counts.append(len(self.texts))

    def _extend(self, start: int, stop: int, texts: list[str]) -> None:
        if stop > len(self.texts):
            self.texts.extend(texts[len(self.texts) - start : stop - start])


def encoded_texts(trace: sv.Trace) -> list[str]:
    return TraceEncoder(trace).snapshot()["events"]["text"]


def recorded_run(token_delay: float) -> tuple[sv.Trace, Recording]:
    """Stream the parrot chain with a recording widget following it live; return both."""
    chain = parrot_chain(time_to_first_token=0.05, token_delay=token_delay)
    collector = sv.Collector()
    widget = Recording(collector.trace)
    try:
        list(collector.stream(chain, {"topic": "parrot"}))
        widget.settle()
    finally:
        widget.close()
    return collector.trace, widget


def test_a_page_that_missed_the_first_deltas_catches_up_while_the_run_goes_on():
    """A page gets the model late (its first deltas came before it was ready): no sync needed."""
    trace, widget = recorded_run(token_delay=0.03)
    live = [
        (kind, content)
        for kind, content in widget.wire
        if kind == "message" and content["type"] == "delta" and content["to"] > content["from"]
    ]
    assert len(live) >= 6
    # Refreshed while the run went on, not only at its end.
    refreshes = [content["count"] for kind, content in widget.wire if kind == "snapshot"]
    total = len(trace.events)
    assert any(0 < count < total for count in refreshes), refreshes
    # A page that lost every message until the third delta (its view was not ready yet)...
    page = Page()
    cut = widget.wire.index(live[2])
    page.take(*widget.wire[0])
    for kind, content in widget.wire[cut:]:
        page.take(kind, content)
    # ...catches up before the run's last event reached it, then ends complete.
    assert page.texts == encoded_texts(trace)
    before_end = [count for count in page.counts if count < total]
    assert len(set(before_end)) >= 3


def test_a_lost_delta_is_filled_in_by_the_next_snapshot_and_reordered_ones_apply_in_order():
    trace, widget = recorded_run(token_delay=0.02)
    wire = list(widget.wire)
    deltas = [i for i, (kind, m) in enumerate(wire) if kind == "message" and m["to"] > m["from"]]
    # One delta lost in the middle, two others swapped.
    lost, a, b = deltas[3], deltas[5], deltas[6]
    wire[a], wire[b] = wire[b], wire[a]
    page = Page()
    for index, item in enumerate(wire):
        if index != lost:
            page.take(*item)
    assert page.texts == encoded_texts(trace)


def test_snapshot_refreshes_of_a_large_live_trace_cost_a_few_times_its_size(
    monkeypatch, fake_clock, ticked_by_hand
):
    """Refreshing is what makes pages catch up on their own; it must not grow with the square."""
    import streamviz.widgets._widget as widget_module

    # Refreshes here cost no time (the widget's clock stands still): only size decides.
    monkeypatch.setattr(widget_module, "time", fake_clock)
    widget = None
    sizes: list[int] = []
    # The ticks' times on the widget's clock: the real one may read less than the fake's start
    # (a machine booted minutes ago), and then no refresh would ever be due.
    clock = [fake_clock.perf_counter()]

    def tokens(_input):
        for n in range(60_000):
            if n % 1_000 == 0 and widget is not None:
                clock[0] += 0.3  # each tick is past the refresh interval: size decides
                widget._tick(clock[0])
            yield "x"

    collector = sv.Collector()
    widget = TraceWidget(collector.trace, view="table")
    _live.unfollow(widget)  # ticked by hand, in step with the run
    widget.observe(lambda change: sizes.append(change["new"]["count"]), names="snapshot")
    try:
        list(collector.stream(RunnableGenerator(tokens), "go"))
    finally:
        widget.close()
    total = len(collector.trace.events)
    assert total > 60_000
    assert len(sizes) >= 8, sizes
    assert sum(sizes) <= 3 * total, (sum(sizes), total)
    # Never long behind: each refresh came once the trace grew by half (plus one tick).
    for before, after in zip([5_000, *sizes], sizes, strict=False):
        assert after - before <= max(5_000, 0.5 * before) + 2_002


def test_refreshes_take_a_bounded_share_of_the_time_when_they_are_slow(
    monkeypatch, fake_clock, ticked_by_hand
):
    """A trace whose snapshot is slow to serialise is refreshed less often, not at every chance."""
    import streamviz.widgets._widget as widget_module

    clock = fake_clock
    monkeypatch.setattr(widget_module, "time", clock)
    widget = None
    refreshed_at: list[float] = []

    def tokens(_input):
        for n in range(6_000):
            if n % 50 == 0 and widget is not None:
                clock.now += 0.3  # every tick is past the small-trace interval
                widget._tick(clock.now)
            yield "x"

    collector = sv.Collector()
    widget = TraceWidget(collector.trace, view="table")
    _live.unfollow(widget)
    encode = widget._encoder.snapshot

    def slow_snapshot():
        clock.now += 0.1  # serialising this snapshot takes 0.1 s
        return encode()

    widget._encoder.snapshot = slow_snapshot
    widget.observe(lambda change: refreshed_at.append(clock.now), names="snapshot")
    try:
        list(collector.stream(RunnableGenerator(tokens), "go"))
    finally:
        widget.close()
    live_refreshes = refreshed_at[:-1]  # the last one is the settle at the end
    assert len(live_refreshes) >= 3, refreshed_at
    gaps = [b - a for a, b in itertools.pairwise(live_refreshes)]
    # 0.1 s of work allows one refresh per 5 s (2 %), however often the chance comes.
    assert min(gaps) >= 5.0, gaps


def test_time_starts_when_watch_calls_the_runnable_not_when_the_widget_was_built(monkeypatch):
    built = TraceWidget.__init__
    clock_while_built: list[float] = []

    def build(self, trace, *args, **kwargs):  # however long building takes, it is not counted
        clock_while_built.append(trace.clock())
        built(self, trace, *args, **kwargs)
        clock_while_built.append(trace.clock())

    monkeypatch.setattr(TraceWidget, "__init__", build)
    trace = sv.watch(parrot_chain(), {"topic": "parrot"}, display=True)
    sv.close_widgets(trace)
    assert clock_while_built and set(clock_while_built) == {0.0}  # the clock was not running
    assert [run.status for run in trace.roots] == ["ok"]


def test_a_capture_starts_its_clock_at_its_first_event():
    collector = sv.Collector()
    chain = parrot_chain()
    assert collector.trace.clock() == 0.0  # waiting for a run is not counted
    chain.invoke({"topic": "parrot"}, config={"callbacks": [collector]})
    # Exactly 0, not the (positive) time since the collector was made: the first event is time 0.
    assert collector.trace.events[0]["t"] == 0.0


def test_traces_shown_together_share_one_time_scale():
    fast = sv.Collector()
    list(fast.stream(parrot_chain(time_to_first_token=0, token_delay=0), {"topic": "parrot"}))
    slow = sv.Collector()
    list(slow.stream(parrot_chain(time_to_first_token=0.2, token_delay=0), {"topic": "parrot"}))
    span = 1000 * slow.trace.duration
    widgets = [TraceWidget(trace.trace, view="timeline", time_span=span) for trace in (fast, slow)]
    try:
        assert widgets[0].time_span == widgets[1].time_span == span  # not each trace's own
    finally:
        for widget in widgets:
            widget.close()


@pytest.mark.parametrize("view", VIEWS)
def test_closed_widgets_of_every_view_let_go_of_their_traces(view):
    refs = []
    for _ in range(20):
        collector = sv.Collector()
        list(collector.stream(parrot_chain(time_to_first_token=0, token_delay=0), {"topic": "p"}))
        widget = TraceWidget(collector.trace, view=view)
        refs += [weakref.ref(collector.trace), weakref.ref(widget), weakref.ref(widget._encoder)]
        widget.close()
        del widget, collector
    gc.collect()
    assert [ref() for ref in refs if ref() is not None] == []


def test_close_widgets_closes_what_watch_showed_and_lets_the_traces_go():
    refs = []
    for _ in range(5):
        chain = parrot_chain(time_to_first_token=0, token_delay=0)
        trace = sv.watch(chain, {"topic": "p"}, display=True)
        refs.append(weakref.ref(trace))
        del trace
    assert len(_live.followers()) >= 5
    assert sv.close_widgets() >= 5
    assert _live.followers() == []  # the update thread holds nothing once widgets close
    sv._driver.latest.trace = None

    def all_gone() -> bool:
        # The update thread may be mid-tick with a follower in a local when the widgets close
        # (a busy machine preempts it there): it lets go when that tick ends.
        gc.collect()
        return all(ref() is None for ref in refs)

    eventually(all_gone, "every watched trace let go after close_widgets")


KERNEL_CODE = textwrap.dedent(
    """
    import tracemalloc
    tracemalloc.start()  # the Python heap, whole: what the kernel keeps, allocator aside
    import gc, os, streamviz as sv
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from streamviz.demo import DemoChatModel

    chain = (
        ChatPromptTemplate.from_template("tell me a joke about {topic}")
        | DemoChatModel.for_benchmark(2_000)
        | StrOutputParser()
    )

    def heap():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def watches(n):
        for _ in range(n):
            trace = sv.watch(chain, {"topic": "parrot"})
            del trace
        sv.close_widgets()
        sv._driver.latest.trace = None
        gc.collect()
    """
)


def test_a_kernel_that_runs_50_watches_and_closes_them_returns_to_its_baseline_memory(kernel):
    kernel(KERNEL_CODE)
    kernel("watches(3)")
    baseline = int(kernel("print(heap())"))
    kernel("watches(50)")  # 50 x 2,000 tokens: 300,000 events shown and let go
    after = int(kernel("print(heap())"))
    alive = int(kernel("print(sum(type(o).__name__ == 'Trace' for o in gc.get_objects()))"))
    assert alive == 0
    print(f"heap {baseline / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB after 50 watches")
    assert after <= 1.10 * baseline, (after / 2**20, baseline / 2**20)


@pytest.fixture
def kernel():
    """Run code in a real IPython kernel; returns what it printed (errors fail the test)."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")

    def run(code: str) -> str:
        out: list[str] = []
        errors: list[str] = []

        def hook(message):
            content = message["content"]
            if message["msg_type"] == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif message["msg_type"] == "error":
                errors.append("\n".join(content["traceback"]))

        reply = client.execute_interactive(code, output_hook=hook, timeout=600)
        assert reply["content"]["status"] == "ok", "\n".join(errors)
        return "".join(out)

    try:
        yield run
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_script_that_closed_its_widgets_exits():
    """ipywidgets closes widgets again from __del__ at exit, when the update thread is frozen."""
    import subprocess
    import sys

    script = textwrap.dedent(
        """
        import streamviz as sv
        from streamviz.widgets import Dashboard

        def show_and_close():
            widget = Dashboard(sv.Trace("x"))
            widget.close()

        show_and_close()
        print("done")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"

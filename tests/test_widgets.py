"""Widget models: what the front-end receives (snapshot, deltas, payloads) for real runs."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading

import pytest
from examples import EXAMPLES, parrot_chain
from helpers import eventually
from langchain_core.runnables import RunnableLambda

import streamviz as sv
from streamviz._errors import internal_error_counts
from streamviz.demo import DemoChatModel
from streamviz.presentation.text import PREVIEW_CHARS, chunk_text, preview
from streamviz.widgets import Dashboard, TraceWidget, bundle_path
from streamviz.widgets._encode import SAVED_PAYLOAD_CHARS, TraceEncoder
from streamviz.widgets._wire import decode_message


class Recording(TraceWidget):
    """A trace widget that keeps the messages it sends (no kernel in these tests)."""

    def __init__(self, *args, **kwargs):
        self.sent: list[dict] = []
        self.ticks = 0  # the update thread's calls
        super().__init__(*args, **kwargs)

    def send(self, content, buffers=None):
        # what a comm would carry, back in the JSON form (the columns travel as buffers)
        self.sent.append(decode_message(json.loads(json.dumps(content)), buffers))

    def _tick(self, now):
        self.ticks += 1
        super()._tick(now)


def sent_up_to(widget: Recording) -> int:
    """How many of the trace's events the deltas sent so far reach."""
    return max((m["to"] for m in list(widget.sent) if m["type"] == "delta"), default=0)


def run_end_sent(widget: Recording, name: str) -> bool:
    return any(
        m["type"] == "delta" and any(r["name"] == name and r["status"] == "ok" for r in m["runs"])
        for m in list(widget.sent)
    )


def front_end_copy(widget: Recording) -> dict:
    """Rebuild what the front-end holds: the initial snapshot plus every delta, in order."""
    state = json.loads(json.dumps(widget._initial))
    for message in widget.sent:
        if message["type"] != "delta":
            continue
        assert message["from"] == state["count"], "deltas must follow each other without gaps"
        state["kinds"].extend(message["kinds"])
        for row in message["runs"]:
            if row["i"] < len(state["runs"]):
                state["runs"][row["i"]] = row
            else:
                assert row["i"] == len(state["runs"])
                state["runs"].append(row)
        for column, values in message["events"].items():
            if column == "extra":
                state["events"]["extra"].update(values)
            else:
                state["events"][column].extend(values)
        state["count"] = message["to"]
    return state


def tokens_of(state: dict, run_type: str) -> list[str]:
    runs = [row["i"] for row in state["runs"] if row["type"] == run_type]
    kinds = state["kinds"]
    events = state["events"]
    return [
        text
        for kind, run, text in zip(events["kind"], events["run"], events["text"], strict=True)
        if run in runs and kinds[kind].endswith("_stream")
    ]


def test_front_end_bundle_is_built_into_the_package():
    assert bundle_path("widget.js").is_file(), "run `make setup` to build js/ into the package"
    assert bundle_path("widget.css").is_file()
    assert re.search(r"export\s*(default|\{[^}]*as default)", bundle_path("widget.js").read_text())


def test_snapshot_describes_every_event_and_run_of_a_finished_trace():
    collector = sv.Collector()
    chunks = list(collector.stream(parrot_chain(), {"topic": "parrot"}))
    trace = collector.trace
    snapshot = Dashboard(trace).snapshot

    assert snapshot["count"] == len(trace.events) == len(snapshot["events"]["kind"])
    assert [snapshot["kinds"][k] for k in snapshot["events"]["kind"]] == [
        e["event"] for e in trace.events
    ]
    assert snapshot["events"]["us"] == [int(e["t"] * 1e6) for e in trace.events]
    assert snapshot["events"]["extra"] == {}  # every event has its run's name and tags
    assert [row["name"] for row in snapshot["runs"]] == [r.name for r in trace.runs.values()]
    assert all(row["status"] == "ok" for row in snapshot["runs"])
    model_row = next(row for row in snapshot["runs"] if row["type"] == "chat_model")
    model = next(r for r in trace.runs.values() if r.run_type == "chat_model")
    assert model_row["first"] == pytest.approx(model.first_chunk * 1000, abs=0.001)
    assert model_row["chunks"] == model.chunk_count and model_row["stream"] == "text"
    assert model_row["parent"] == 0 and snapshot["runs"][0]["parent"] == -1
    # The token view's text: the model's pieces are the streamed chunks, in order.
    assert "".join(tokens_of(snapshot, "chat_model")) == "".join(chunks)
    assert tokens_of(snapshot, "chat_model")[:5] == ["Why", " did", " the", " par", "rot"]
    json.dumps(snapshot)  # the trait must be JSON


def test_live_deltas_rebuild_the_whole_trace_without_gaps():
    trace = sv.Trace("live")
    widget = Recording(trace)
    widget._initial = widget.snapshot
    collector = sv.Collector(trace)
    pieces = []
    for chunk in collector.stream(parrot_chain(), {"topic": "parrot"}):
        pieces.append(chunk)
        if len(pieces) in (1, 4, 8):
            # The stream waits here until the update thread has sent what it produced so far.
            have = len(trace.events)
            eventually(lambda have=have: sent_up_to(widget) >= have, f"deltas up to event {have}")
    widget.settle()
    widget.close()

    state = front_end_copy(widget)
    assert state["count"] == len(trace.events)
    assert "".join(tokens_of(state, "parser")) == "".join(pieces)
    assert [row["status"] for row in state["runs"]] == ["ok"] * len(trace.runs)
    assert widget.flushes >= 3, "the stream is shown while it runs, not only at the end"
    # The durable state equals what the deltas built.
    assert widget.snapshot["count"] == state["count"]
    assert widget.snapshot["events"]["text"] == state["events"]["text"]
    assert widget.live is False


def test_a_fast_stream_is_sent_in_one_message_per_update_not_per_token():
    """The update thread sends one batched delta per tick (its pace is measured by make bench)."""
    trace = sv.Trace()
    widget = Recording(trace)
    widget._initial = widget.snapshot
    model = DemoChatModel.for_benchmark(12_000)  # no delays: as fast as LangChain goes
    text = "".join(
        c.content for c in model.stream("go", config={"callbacks": [sv.Collector(trace)]})
    )
    widget.settle()
    widget.close()

    deltas = [m for m in widget.sent if m["type"] == "delta"]
    assert len(deltas) <= widget.ticks + 1, (len(deltas), widget.ticks)  # + the settle
    state = front_end_copy(widget)
    assert "".join(tokens_of(state, "chat_model")) == text  # every token arrives
    assert state["runs"][0]["status"] == "ok"


def test_each_run_end_reaches_the_front_end_while_the_program_runs():
    trace = sv.Trace()
    widget = Recording(trace)
    widget._initial = widget.snapshot
    collector = sv.Collector(trace)

    def slow(x):
        # `slow` runs on only once a delta has said that `quick` ended.
        eventually(lambda: run_end_sent(widget, "quick"), "a delta saying that quick ended")
        return x

    chain = RunnableLambda(lambda x: x).with_config(run_name="quick") | RunnableLambda(slow)
    chain.invoke("hi", config={"callbacks": [collector]})
    widget.settle()
    assert run_end_sent(widget, "slow")
    widget.close()


def test_payload_requests_return_the_whole_payload_without_secrets():
    collector = sv.Collector()
    chain = RunnableLambda(lambda x: {"answer": "x" * 5_000, "echo": x}).with_config(run_name="f")
    chain.invoke(
        {"api_key": "sk-abcdefghijklmnopqrstuvwxyz", "q": "hi"}, {"callbacks": [collector]}
    )
    widget = Recording(collector.trace)
    end = next(e for e in collector.trace.events if e["event"] == "on_chain_end")
    widget._on_front_end_message(widget, {"type": "payload", "seq": end["seq"]}, [])
    reply = widget.sent[-1]
    assert reply["type"] == "payload" and reply["seq"] == end["seq"]
    assert "x" * 5_000 in reply["text"]
    assert "sk-abcdefghijklmnopqrstuvwxyz" not in reply["text"]
    assert "sk-abcdef" not in json.dumps(widget.snapshot)
    # A confused front-end gets an answer, not a crash.
    widget._on_front_end_message(widget, {"type": "payload", "seq": 10**9}, [])
    assert "unavailable" in widget.sent[-1]["text"]
    # Messages that ask for nothing get nothing, and are no error the handler had to swallow.
    sent, errors = len(widget.sent), internal_error_counts()
    for confused in ("nonsense", {"type": "payload", "seq": "7"}, {"type": "payload"}, None):
        widget._on_front_end_message(widget, confused, [])
    assert len(widget.sent) == sent
    assert internal_error_counts() == errors
    widget.close()


def test_a_step_that_holds_the_stream_back_is_marked_and_a_generator_is_not():
    def snapshot_of(example):
        runnable, value = EXAMPLES[example]()
        collector = sv.Collector()

        async def run():
            async for _ in collector.astream(runnable, value):
                pass

        asyncio.run(run())
        return collector.trace, Dashboard(collector.trace).snapshot

    trace, held = snapshot_of("model|json|function")
    function = next(row for row in held["runs"] if row["name"] == "_extract_country_names")
    parser = next(row for row in held["runs"] if row["name"] == "JsonOutputParser")
    assert function["upstream"] == parser["i"]
    assert function["held"] == pytest.approx(function["first"] - parser["first"], abs=0.01)
    assert function["first"] >= parser["end"]
    assert parser["stream"] == "json" and parser["held"] is None
    (hold,) = trace.stream_holds()
    assert hold.run.name == "_extract_country_names" and hold.upstream.name == "JsonOutputParser"

    _, streaming = snapshot_of("model|json|generator")
    assert all(row["held"] is None for row in streaming["runs"])


def test_json_parser_chunks_are_progressive_json_values():
    runnable, value = EXAMPLES["model|json"]()
    collector = sv.Collector()
    list(collector.stream(runnable, value))
    state = Dashboard(collector.trace).snapshot
    texts = tokens_of(state, "parser")
    values = [json.loads(text) for text in texts]
    assert values[-1]["countries"][0]["name"] == "France"
    assert len(json.dumps(values[-1])) >= len(json.dumps(values[len(values) // 2]))


def test_hostile_payloads_become_bounded_text():
    huge = "<script>alert(1)</script>" + "A" * 1_000_000
    assert len(preview({"x": huge})) <= PREVIEW_CHARS
    assert len(chunk_text(huge)) <= 20_000
    assert preview({"Authorization": "Bearer abc.def.ghi"}) == "{Authorization: [redacted]}"

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no repr for you")

    # A value whose repr raises is still named: "<Hostile ...>", whichever way it was read.
    assert re.fullmatch(r"<Hostile[^<>]*>", preview(Hostile()))
    collector = sv.Collector()
    RunnableLambda(lambda x: x).with_config(run_name="<img src=x onerror=alert(1)>").invoke(
        huge, {"callbacks": [collector]}
    )
    snapshot = Dashboard(collector.trace).snapshot
    assert snapshot["runs"][0]["name"] == "<img src=x onerror=alert(1)>"  # text, shown as text
    assert max(len(t) for t in snapshot["events"]["text"]) <= PREVIEW_CHARS
    # A megabyte in, a bounded page state out: two payloads (input, output) kept for pages with
    # no kernel, each cut, and the rest previews.
    assert all(len(text) <= SAVED_PAYLOAD_CHARS for text in snapshot["payloads"].values())
    assert len(json.dumps(snapshot)) < 10_000 + 2 * 1.1 * SAVED_PAYLOAD_CHARS


def test_encoder_reads_a_trace_that_grows_from_another_thread():
    trace = sv.Trace()
    encoder = TraceEncoder(trace)
    encoder.snapshot()
    collector = sv.Collector(trace)
    done = threading.Event()

    def produce():
        for _ in range(5):
            list(collector.stream(parrot_chain(), {"topic": "parrot"}))
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    seen = 0
    while not done.is_set() or seen < len(trace):
        delta = encoder.delta()
        if delta is not None:
            assert delta["from"] == seen
            seen = delta["to"]
    thread.join()
    assert seen == len(trace.events)


def test_watch_returns_the_trace_and_the_result():
    trace = sv.watch(parrot_chain(), {"topic": "parrot"}, display=False)
    assert trace.result.startswith("Why did the parrot")
    assert [run.status for run in trace.roots] == ["ok"]
    assert sv.last_trace() is trace


def test_awatch_streams_with_astream():
    trace = asyncio.run(sv.awatch(parrot_chain(), {"topic": "parrot"}, display=False))
    assert trace.result.startswith("Why did the parrot")
    assert any(e["event"] == "on_parser_stream" for e in trace.events)


def test_watch_reraises_the_runnables_error_and_keeps_what_was_captured():
    runnable, value = EXAMPLES["error mid-stream"]()
    with pytest.raises(ValueError, match="broke after three") as raised:
        sv.watch(runnable, value, display=False)
    trace = sv.last_trace()
    assert trace.roots[0].status == "error"
    assert any(e["event"] == "on_chain_stream" for e in trace.events)
    if sys.version_info >= (3, 11):
        assert "last_trace" in " ".join(raised.value.__notes__)


def test_watch_in_a_plain_script_prints_tokens_and_the_tree():
    script = (
        "import streamviz as sv\n"
        "from langchain_core.output_parsers import StrOutputParser\n"
        "from langchain_core.prompts import ChatPromptTemplate\n"
        "from streamviz.demo import DemoChatModel\n"
        "prompt = ChatPromptTemplate.from_template('tell me a joke about {topic}')\n"
        "chain = prompt | DemoChatModel(time_to_first_token=0, token_delay=0) | StrOutputParser()\n"
        "trace = sv.watch(chain, {'topic': 'parrot'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "Why| did| the| par|rot|" in result.stdout
    assert "DemoChatModel [chat_model]" in result.stdout


def test_show_outside_jupyter_prints_the_tree(capsys):
    trace = sv.watch(parrot_chain(), {"topic": "parrot"}, display=False)
    sv.show(trace)
    assert "RunnableSequence [chain]" in capsys.readouterr().out


def test_widgets_validate_their_view():
    with pytest.raises(ValueError, match="view must be one of"):
        TraceWidget(sv.Trace(), view="pie chart")


def test_custom_events_carry_their_own_name():
    runnable, value = EXAMPLES["custom events"]()
    collector = sv.Collector()

    async def run():
        async for _ in collector.astream(runnable, value):
            pass

    asyncio.run(run())
    snapshot = Dashboard(collector.trace).snapshot
    customs = [e for e in collector.trace.events if e["event"] == "on_custom_event"]
    assert customs
    for event in customs:
        extra = snapshot["events"]["extra"][str(event["seq"])]
        assert extra["name"] == event["name"]
        assert snapshot["runs"][snapshot["events"]["run"][event["seq"]]]["id"] == event["run_id"]


def test_the_widgets_filter_and_selection_are_usable_from_python():
    collector = sv.Collector()
    list(collector.stream(parrot_chain(), {"topic": "parrot"}))
    widget = Dashboard(collector.trace)
    assert len(widget.filtered()) == len(collector.trace)  # empty lists: no filter
    # What a click on the "chat_model" type chip writes into the synced trait.
    widget.filters = {**widget.filters, "include_types": ["chat_model"]}
    kept = widget.filtered()
    assert kept.events and {e["event"].split("_")[1] for e in kept.events} == {"chat"}
    assert list(kept.runs) == [
        r.run_id for r in collector.trace.runs.values() if r.run_type == "chat_model"
    ]
    assert widget.selected is None
    model = next(r for r in collector.trace.runs.values() if r.run_type == "chat_model")
    widget.selected_run = model.run_id
    assert widget.selected is model
    widget.close()


def test_async_only_runnables_are_watched_with_use_async():
    runnable, value = EXAMPLES["RunnableLambda nesting"]()
    with pytest.raises(TypeError) as raised:
        sv.watch(runnable, value, display=False)
    if sys.version_info >= (3, 11):
        assert "use_async=True" in " ".join(raised.value.__notes__)
    runnable, value = EXAMPLES["RunnableLambda nesting"]()
    trace = sv.watch(runnable, value, display=False, use_async=True)
    assert trace.result == "43214321"
    assert [run.name for run in trace.roots] == ["reverse_and_double"]


def test_messages_from_a_server_show_as_their_text():
    from streamviz.presentation.text import part_text

    token = {"type": "AIMessageChunk", "content": "Why", "id": "run-1", "tool_call_chunks": []}
    assert chunk_text(token) == "Why"
    assert part_text("messages", [token, {"langgraph_node": "call_model"}]) == "Why"
    partial = [{"type": "ai", "content": "Why did the", "id": "run-1"}]
    assert part_text("messages/partial", partial) == "Why did the"
    blocks = {"type": "ai", "content": [{"type": "text", "text": "Hi"}, "!"]}
    assert chunk_text(blocks) == "Hi!"
    # A parser's JSON that happens to have a "content" key stays JSON.
    assert chunk_text({"content": "x"}) == '{"content":"x"}'


def test_a_step_holding_the_stream_is_shown_as_holding_while_it_holds():
    """The countries chain ends with a plain function: while the parser streams and the function
    has let nothing out, its row says since when it holds; once it yields, how long it held."""
    from pathlib import Path

    from streamviz.replay import Replay

    recorded = sv.Trace.load(
        Path(__file__).parent.parent / "notebooks/traces/countries_function.jsonl"
    )
    (hold,) = recorded.stream_holds()
    player = Replay(recorded, autoplay=False)
    player.seek((hold.start + hold.end) / 2)  # the parser streams, the function holds
    rows = {row["name"]: row for row in TraceEncoder(player.trace).snapshot()["runs"]}
    function, parser = rows[hold.run.name], rows[hold.upstream.name]
    assert function["status"] == "running" and function["held"] is None
    assert function["holding"] == parser["first"] == pytest.approx(hold.start * 1000, abs=0.001)
    assert rows[hold.upstream.name]["holding"] is None  # the parser lets chunks through
    assert function["upstream"] == parser["i"]
    player.seek(recorded.duration)
    rows = {row["name"]: row for row in TraceEncoder(player.trace).snapshot()["runs"]}
    assert rows[hold.run.name]["holding"] is None
    assert rows[hold.run.name]["held"] == pytest.approx(hold.held * 1000, abs=0.001)
    player.close()


def test_a_finished_snapshot_carries_the_payloads_a_page_without_kernel_shows(monkeypatch):
    from streamviz.widgets import _encode

    trace = sv.watch(
        parrot_chain(time_to_first_token=0, token_delay=0), {"topic": "p"}, display=False
    )
    encoder = TraceEncoder(trace)
    saved = encoder.snapshot()["payloads"]
    kinds = [event["event"] for event in trace.events]
    wanted = {str(seq) for seq, kind in enumerate(kinds) if not kind.endswith("_stream")}
    assert set(saved) == wanted  # starts and ends: inputs, outputs; no token's
    for seq, text in saved.items():
        assert text == encoder.payload(int(seq))["text"]
    assert '"topic": "p"' in saved["0"]  # the root's input, whole
    monkeypatch.setattr(_encode, "SAVED_PAYLOADS_BUDGET", 300)
    small = TraceEncoder(trace).snapshot()["payloads"]
    assert 0 < len(small) < len(saved) and sum(map(len, small.values())) <= 300
    running = sv.Trace("live")
    start = {"name": "r", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    running.store.append({**start, "event": "on_chain_start", "data": {"input": "x"}})
    assert TraceEncoder(running).snapshot()["payloads"] == {}  # live: the kernel answers

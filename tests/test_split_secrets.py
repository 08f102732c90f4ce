"""A secret a model streams split into tokens reaches no output.

A tokenizer splits ``sk-proj-...`` into ``" sk"``, ``"-"``, ``"proj"``...: no token alone looks
secret, their join does. Every output that writes tokens one by one (trace files, the widget's
snapshot and live deltas, the offline page, OpenTelemetry and Perfetto exports) must leave the
secret out of the stream's joined text, keep the tokens around it, and keep every event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, TypedDict

import pytest
from bs4 import BeautifulSoup
from helpers import need_pyarrow
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableGenerator
from langgraph.graph import END, START, StateGraph

import streamviz as sv
from streamviz._redact import REDACTED, _secret_spans, redact_pieces, redact_text
from streamviz.demo import DemoChatModel, tokenize
from streamviz.export import trace_html, write_otlp_json
from streamviz.widgets import TraceWidget, _live
from streamviz.widgets._encode import TraceEncoder
from streamviz.widgets._wire import decode_state

# Secrets as a model would echo them, each with the part that must appear in no output.
SECRETS = {
    "sk-proj-OpenAIProjV4lue0123456789": "OpenAIProjV4lue0123456789",
    "ghp_GitHubTokV4lue1234567890abcdefghij": "GitHubTokV4lue1234567890",
    "OPENAI_API_KEY=oaEnvV4lue1234567": "oaEnvV4lue1234567",
    "Authorization: Bearer BearerV4lue0123456789abc": "BearerV4lue0123456789abc",
    "postgres://admin:PgPassW0rd9@db.internal:5432/app": "PgPassW0rd9",
    "AKIAIOSFODNN7TAG0001": "IOSFODNN7TAG0001",
    "xoxb-111122223333-444455556666-SlackV4lue": "SlackV4lue",
}
ANSWER = "Your settings: " + " then ".join(SECRETS) + ". Keep them safe."
KEPT = ["Your settings: ", " then ", ". Keep them safe."]  # text around the secrets


def test_the_demo_tokenizer_splits_every_secret():
    # Else the tests below would check what the per-token redaction does already.
    tokens = tokenize(ANSWER)
    for part in SECRETS.values():
        assert not any(part in token for token in tokens), part
        assert redact_text(next(t for t in tokens if part[:3] in t)) == next(
            t for t in tokens if part[:3] in t
        )


def leaked(text: str) -> list[str]:
    return [part for part in SECRETS.values() if part in text]


def assert_clean_stream(text: str) -> None:
    assert not leaked(text), text
    assert REDACTED in text
    for kept in KEPT:
        assert kept in text  # ordinary text around the secrets keeps its tokens


def chunk_text(chunk: Any) -> str:
    if isinstance(chunk, (tuple, list)) and chunk:
        chunk = chunk[0]  # a LangGraph messages part: (message, metadata)
    if isinstance(chunk, str):
        return chunk
    content = chunk.get("content") if isinstance(chunk, dict) else getattr(chunk, "content", "")
    return content if isinstance(content, str) else ""


def streams_of(trace: sv.Trace) -> dict[tuple[Any, str], str]:
    """Each run's stream (and each graph's messages parts) as its chunks' texts joined."""
    joined: dict[tuple[Any, str], str] = defaultdict(str)
    for event in trace.events:
        name = event["event"]
        if name.endswith("_stream") or name == "on_graph_messages":
            joined[(event.get("run_id"), name)] += chunk_text(event["data"]["chunk"])
    return dict(joined)


# --------------------------------------------------------------------------- the traced programs
def secret_model() -> DemoChatModel:
    return DemoChatModel(time_to_first_token=0, token_delay=0, responses=[ANSWER])


def chain_trace() -> sv.Trace:
    chain = ChatPromptTemplate.from_template("{question}") | secret_model() | StrOutputParser()
    trace = sv.watch(chain, {"question": "my settings?"}, display=False)
    assert trace.result == ANSWER  # the program gets its answer whole
    return trace


class State(TypedDict):
    messages: list


def graph_trace() -> sv.Trace:
    model = secret_model()

    def agent(state: State) -> State:
        return {"messages": [*state["messages"], model.invoke(state["messages"])]}

    graph = StateGraph(State).add_node("agent", agent)
    graph = graph.add_edge(START, "agent").add_edge("agent", END).compile()
    trace = sv.watch(
        graph,
        {"messages": [HumanMessage("my settings?")]},
        stream_mode=["updates", "messages"],
        display=False,
    )
    final = trace.result
    assert isinstance(final, dict)
    return trace


@pytest.fixture(scope="module", params=["chain", "graph"])
def captured(request) -> sv.Trace:
    trace = chain_trace() if request.param == "chain" else graph_trace()
    streams = streams_of(trace)
    # In memory the trace holds what was streamed, secrets included (outputs leave them out).
    assert any(all(part in text for part in SECRETS.values()) for text in streams.values())
    if request.param == "graph":
        assert any(name == "on_graph_messages" for _, name in streams)
    return trace


# ------------------------------------------------------------------------------------ outputs
@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_a_trace_file_keeps_every_token_but_not_the_secret(captured, tmp_path, suffix):
    if suffix != "jsonl":
        need_pyarrow()
    path = tmp_path / f"trace.{suffix}"
    captured.save(path)
    loaded = sv.Trace.load(path)
    assert len(loaded.events) == len(captured.events)  # every token event is still there
    streams = streams_of(loaded)
    assert streams.keys() == streams_of(captured).keys()
    answers = [text for text in streams.values() if KEPT[0] in text]
    assert answers
    for text in answers:
        assert_clean_stream(text)
    raw = path.read_bytes().decode("utf-8", "replace")
    assert not leaked(raw)


def test_a_capture_journal_holds_no_secret_once_the_capture_ends(tmp_path):
    path = tmp_path / "journal.jsonl"
    chain = secret_model() | StrOutputParser()
    with sv.capture(path=path) as trace:
        assert chain.invoke("my settings?") == ANSWER
    loaded = sv.Trace.load(path)
    assert len(loaded.events) == len(trace.events)
    answers = [text for text in streams_of(loaded).values() if KEPT[0] in text]
    assert answers  # the model's stream (invoke streams only through the callbacks)
    for text in answers:
        assert_clean_stream(text)


def snapshot_streams(snapshot: dict[str, Any]) -> dict[tuple[str, int], str]:
    events = snapshot["events"]
    joined: dict[tuple[str, int], str] = defaultdict(str)
    for kind, run, text in zip(events["kind"], events["run"], events["text"], strict=True):
        name = snapshot["kinds"][kind]
        if name.endswith("_stream") or name == "on_graph_messages":
            joined[(name, run)] += text
    return dict(joined)


def payload_chunk_text(payload: str) -> str:
    """The text of the chunk in a payload pane's JSON (a string, or a message's content)."""
    chunk = json.loads(payload)["data"]["chunk"]

    def find(value: Any) -> str | None:
        if isinstance(value, dict):
            if isinstance(value.get("content"), str):
                return value["content"]
            return next((t for t in map(find, value.values()) if t is not None), None)
        if isinstance(value, list):
            return next((t for t in map(find, value) if t is not None), None)
        return None

    return chunk if isinstance(chunk, str) else (find(chunk) or "")


def test_the_widget_snapshot_and_payload_pane_show_no_secret(captured):
    encoder = TraceEncoder(captured)
    snapshot = encoder.snapshot()
    streams = snapshot_streams(snapshot)
    assert streams
    for text in streams.values():
        assert_clean_stream(text)
    # The payload pane of each token shows its share of the stream, not its piece.
    events = snapshot["events"]
    panes: dict[tuple[str, int], str] = defaultdict(str)
    for seq, (kind, run) in enumerate(zip(events["kind"], events["run"], strict=True)):
        name = snapshot["kinds"][kind]
        if name.endswith("_stream") or name == "on_graph_messages":
            panes[(name, run)] += payload_chunk_text(encoder.payload(seq)["text"])
    assert panes.keys() == streams.keys()
    for text in panes.values():
        assert_clean_stream(text)


def test_the_offline_page_shows_no_secret(captured):
    soup = BeautifulSoup(trace_html(captured), "html.parser")
    (script,) = soup.select("script.sv-state")
    state = json.loads(script.string)

    def unbase64(value: Any) -> Any:
        import base64

        if isinstance(value, dict):
            if list(value) == ["$base64"]:
                return base64.b64decode(value["$base64"])
            return {key: unbase64(item) for key, item in value.items()}
        return value

    snapshot = decode_state(unbase64(state))["snapshot"]
    for text in snapshot_streams(snapshot).values():
        assert_clean_stream(text)


def test_a_live_page_gets_the_earlier_tokens_redacted_once_the_secret_shows():
    """The page's copy, grown by deltas as the tokens come, ends with no secret."""
    collector = sv.Collector(name="live")
    encoder = TraceEncoder(collector.trace)
    page: dict[str, list[Any]] = {"kind": [], "run": [], "text": []}
    kinds: list[str] = []
    retexts = 0

    def receive(delta: dict[str, Any] | None) -> None:
        nonlocal retexts
        if delta is None:
            return
        assert delta["from"] == len(page["text"])
        kinds.extend(delta["kinds"])
        for seq, text in delta["retext"].items():
            assert int(seq) < delta["from"]  # only events the page holds
            page["text"][int(seq)] = text
            retexts += 1
        for name in page:
            page[name].extend(delta["events"][name])

    chain = secret_model() | StrOutputParser()
    receive(encoder.delta(force=True))
    for _ in collector.stream(chain, "my settings?"):
        receive(encoder.delta())  # a delta per token: each secret's first tokens were sent
    receive(encoder.delta())
    assert retexts > 0
    streams = snapshot_streams({"kinds": kinds, "events": page})
    assert len(streams) == 3  # the model's, the parser's and the sequence's
    for text in streams.values():
        assert_clean_stream(text)
    # The snapshot (what a saved notebook keeps) says the same.
    assert snapshot_streams(encoder.snapshot()) == streams


def test_a_live_widget_keeps_no_secret_in_its_saved_state_while_still_running(
    monkeypatch, fake_clock, ticked_by_hand
):
    """The durable snapshot (what a notebook saved now keeps) is refreshed once texts changed,
    even when the trace has not grown enough for a refresh."""
    import streamviz.widgets._widget as widget_module

    monkeypatch.setattr(widget_module, "time", fake_clock)
    widget: TraceWidget | None = None
    seen: dict[str, Any] = {}

    def tick() -> None:
        fake_clock.now += 0.3  # past the refresh interval: only the refresh rules decide
        widget._tick(fake_clock.now)  # type: ignore[union-attr]

    def tokens(_input):
        for n in range(12_000):  # a trace past the small ones refreshed at every tick
            if n % 500 == 0 and widget is not None:
                tick()
            yield "x "
        for piece in tokenize(ANSWER):
            tick()  # each piece is on the page before the next comes
            yield piece
        tick()  # the last pieces, and the earlier ones again, redacted (retext)
        tick()
        seen["snapshot"] = widget.snapshot  # type: ignore[union-attr]
        seen["running"] = widget._encoder.running  # type: ignore[union-attr]
        yield " ok"

    collector = sv.Collector()
    widget = TraceWidget(collector.trace, view="tokens")
    _live.unfollow(widget)  # ticked by hand, in step with the run
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(widget, "send", lambda content, buffers=None: sent.append(content))
    try:
        list(collector.stream(RunnableGenerator(tokens), "go"))
    finally:
        widget.close()
    assert seen["running"]  # the run had not ended: no settle has happened
    assert any(message.get("retext") for message in sent)
    (stream,) = snapshot_streams(seen["snapshot"]).values()
    assert REDACTED in stream and not leaked(stream)


def test_the_opentelemetry_file_shows_no_secret(captured, tmp_path):
    pytest.importorskip("opentelemetry.sdk")
    path = tmp_path / "spans.jsonl"
    write_otlp_json(captured, path)
    requests = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    joined: dict[str, str] = defaultdict(str)
    for resource in [item for request in requests for item in request["resourceSpans"]]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for event in span.get("events", ()):
                    for attribute in event["attributes"]:
                        if attribute["key"] == "streamviz.text":
                            joined[span["spanId"]] += attribute["value"]["stringValue"]
    answers = [text for text in joined.values() if KEPT[0] in text]
    assert answers
    for text in answers:
        assert_clean_stream(text)
    assert not leaked(path.read_text(encoding="utf-8"))


def test_the_perfetto_file_shows_no_secret(captured, tmp_path):
    path = tmp_path / "trace.perfetto.json"
    captured.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    joined: dict[tuple[Any, str], str] = defaultdict(str)
    for event in document["traceEvents"]:
        if event.get("ph") == "i" and event.get("name") in ("token", "chunk"):
            joined[(event["tid"], event["name"])] += event["args"]["text"]
    answers = [text for text in joined.values() if KEPT[0] in text]
    assert answers
    for text in answers:
        assert_clean_stream(text)


# ------------------------------------------------------------------------------ redact_pieces
def test_pieces_without_a_secret_are_left_alone():
    assert redact_pieces(tokenize("The key to a good password reset flow is a token.")) is None


@pytest.mark.parametrize("secret", list(SECRETS))
def test_a_secret_is_left_out_however_it_is_split(secret):
    text = f"use {secret} now"
    for cut in range(1, len(text)):
        for second in (cut + 1, cut + 7, len(text)):
            pieces = [text[:cut], text[cut:second], text[second:]]
            redacted = redact_pieces(pieces)
            assert redacted is not None and len(redacted) == 3
            assert "".join(redacted) == redact_text(text)  # the same as the whole text's
            assert not leaked("".join(redacted))


def test_text_around_a_secret_keeps_its_pieces():
    pieces = ["Hello", " there", ", key", " sk", "-proj", "-OpenAIProjV4lue", "0123456789", " bye"]
    assert redact_pieces(pieces) == ["Hello", " there", ", key", " [redacted]", "", "", "", " bye"]


def test_a_kept_part_that_could_sit_in_two_places_leaves_out_more_never_less():
    # "|M|" is kept between two secrets, and also occurs inside the first one: the spans cover
    # every place it could be, so the secrets are left out whichever place was the real one.
    joined = "A|x|M|x|M|yy|Z"  # secrets "x|M|x" and "yy"
    spans = _secret_spans(joined, f"A|{REDACTED}|M|{REDACTED}|Z")
    assert spans == [(2, 12)]
    assert _secret_spans("abc", f"x{REDACTED}") is None  # not a redaction of that text


def test_ai_messages_in_a_graph_state_are_redacted_whole():
    # The model's end event and the graph's updates hold the whole message: one text.
    assert redact_text(AIMessage(ANSWER).content) != ANSWER


def test_a_row_an_interrupt_left_half_appended_does_not_stop_a_save(tmp_path):
    # A KeyboardInterrupt between two column appends leaves the first columns one row longer
    # than the chunk values (tests/test_sigint.py sends real ones); the look for split secrets
    # reads only whole rows.
    trace = chain_trace()
    store = trace.store
    store._template.append(store._template[-1])
    store._t.append(store._t[-1])
    store._thread.append(store._thread[-1])
    store._kind.append(store._kind[-1])
    path = tmp_path / "trace.jsonl"
    trace.save(path)
    loaded = sv.Trace.load(path)
    assert len(loaded.events) == len(trace.events)
    for text in [t for t in streams_of(loaded).values() if KEPT[0] in t]:
        assert_clean_stream(text)

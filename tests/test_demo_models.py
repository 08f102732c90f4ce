"""Tests for the offline demo models in streamviz.demo."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from streamviz.demo import DemoChatModel, DemoLLM, DemoRetriever, _scripts, tokenize

SKY_TOKENS = ["The", " sky", " appears", " blue", " during", " the", " day", "."]
SKY_TEXT = "The sky appears blue during the day."
COUNTRIES_PROMPT = (
    "output a list of the countries france, spain and japan and their populations in JSON "
    'format. Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)
RAG_TEMPLATE = """Answer the question based only on the following context:
{context}

Question: {question}
"""


def fast(**kwargs: Any) -> DemoChatModel:
    return DemoChatModel(time_to_first_token=0, token_delay=0, **kwargs)


async def collect(aiter: Any) -> list[Any]:
    return [item async for item in aiter]


class Recorder(BaseCallbackHandler):
    """Sync handler run on the caller's thread, recording events and thread ids."""

    run_inline = True

    def __init__(self) -> None:
        self.events: list[str] = []
        self.tokens: list[str] = []
        self.threads: set[int] = set()

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self.events.append("start")

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.events.append("token")
        self.tokens.append(token)
        self.threads.add(threading.get_ident())

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.events.append("end")


# --- DemoChatModel: contents ---------------------------------------------------------------


def test_stream_sky_tokens_then_final_usage_chunk():
    chunks = list(fast().stream("what color is the sky?"))
    assert [c.content for c in chunks] == [*SKY_TOKENS, ""]
    final = chunks[-1]
    assert final.chunk_position == "last"
    assert final.usage_metadata["output_tokens"] == len(SKY_TOKENS)
    assert final.response_metadata["finish_reason"] == "stop"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total, AIMessageChunk)
    assert total.content == SKY_TEXT
    assert total.usage_metadata["output_tokens"] == len(SKY_TOKENS)


def test_astream_sky_tokens():
    chunks = asyncio.run(collect(fast().astream("what color is the sky?")))
    assert [c.content for c in chunks] == [*SKY_TOKENS, ""]
    assert sum(chunks[1:], chunks[0]).content == SKY_TEXT


def test_invoke_and_ainvoke_return_full_text():
    model = fast()
    message = model.invoke("what color is the sky?")
    assert message.content == SKY_TEXT
    assert message.usage_metadata["output_tokens"] == len(SKY_TOKENS)
    assert asyncio.run(model.ainvoke("Hello there")).content == "Hello! How can I assist you today?"


def test_parrot_joke_streams_token_by_token():
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    chain = prompt | fast() | StrOutputParser()
    pieces = list(chain.stream({"topic": "parrot"}))
    assert len(pieces) > 20
    assert "".join(pieces) == "".join(_scripts.PARROT)
    assert " par" in pieces
    assert "rot" in pieces


def test_json_parser_streams_progressively_completed_objects():
    chain = fast() | JsonOutputParser()
    items = list(chain.stream(COUNTRIES_PROMPT))
    assert items[:3] == [{}, {"countries": []}, {"countries": [{}]}]
    assert {"countries": [{"name": ""}]} in items
    assert {"countries": [{"name": "France"}]} in items
    expected = {
        "countries": [
            {"name": "France", "population": 67413000},
            {"name": "Spain", "population": 47351567},
            {"name": "Japan", "population": 125584000},
        ]
    }
    assert items[-1] == expected
    assert "".join(_scripts.COUNTRIES) == json.dumps(expected, indent=2)
    # Every item extends the previous one: list items and keys only grow.
    for before, after in itertools.pairwise(items):
        old_list = before.get("countries", [])
        assert len(after["countries"]) >= len(old_list)
        for old, new in zip(old_list, after["countries"][: len(old_list)], strict=True):
            assert set(old) <= set(new)


def test_async_json_parser_stream():
    items = asyncio.run(collect((fast() | JsonOutputParser()).astream(COUNTRIES_PROMPT)))
    assert items[:3] == [{}, {"countries": []}, {"countries": [{}]}]
    assert items[-1]["countries"][2] == {"name": "Japan", "population": 125584000}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("HELLO!", _scripts.GREETING),
        ("where did harrison work?", _scripts.KENSHO),
        ("Tell me about Kensho", _scripts.KENSHO),
        ("Context: nothing\nQuestion: who?", _scripts.KENSHO),
    ],
)
def test_keyword_rules(question, expected):
    assert fast().invoke(question).content == "".join(expected)


def test_last_human_message_selects_the_answer():
    messages = [
        SystemMessage("You know everything about the sky."),
        HumanMessage("what color is the sky?"),
        HumanMessage("hello"),
    ]
    assert fast().invoke(messages).content.startswith("Hello!")


def test_default_answer_is_deterministic_and_quotes_the_question():
    first = fast().invoke("What is the airspeed of a swallow?").content
    assert first == fast().invoke("What is the airspeed of a swallow?").content
    assert "airspeed of a swallow" in first


def test_user_script_wins_over_built_ins():
    model = fast(script={"sky": "Grey | cloudy, as usual."})
    chunks = [c.content for c in model.stream("what color is the sky?")]
    assert "".join(chunks) == "Grey | cloudy, as usual."
    assert " |" in chunks
    assert model.invoke("hello").content.startswith("Hello!")


def test_responses_cycle_and_ignore_scripts():
    model = fast(responses=["one", "two words"])
    answers = [model.invoke("what color is the sky?").content for _ in range(3)]
    assert answers == ["one", "two words", "one"]
    assert [c.content for c in model.stream("x")][:-1] == ["two", " words"]


def test_stop_sequence_truncates_answer():
    message = fast().invoke("what color is the sky?", stop=[" during"])
    assert message.content == "The sky appears blue"


def test_identifying_params_and_llm_type():
    model = DemoChatModel(token_delay=0.01)
    assert model._llm_type == "demo-chat"
    params = model._identifying_params
    assert params["model_name"] == "demo-chat"
    assert params["token_delay"] == 0.01
    assert params["time_to_first_token"] == 0.25


# --- DemoChatModel: threads, callbacks and timing --------------------------------------------


def test_astream_yields_every_token_from_the_event_loop_thread():
    recorder = Recorder()
    model = DemoChatModel(time_to_first_token=0.01, token_delay=0.002)

    async def main() -> tuple[int, set[int]]:
        loop_threads = set()
        async for _ in model.astream("what color is the sky?", {"callbacks": [recorder]}):
            loop_threads.add(threading.get_ident())
        return threading.get_ident(), loop_threads

    loop_thread, loop_threads = asyncio.run(main())
    assert recorder.tokens == [*SKY_TOKENS, ""]
    assert recorder.threads == {loop_thread}
    assert loop_threads == {loop_thread}


def test_stream_fires_new_token_callbacks_in_order():
    recorder = Recorder()
    list(fast().stream("what color is the sky?", {"callbacks": [recorder]}))
    assert recorder.tokens == [*SKY_TOKENS, ""]
    assert recorder.events[-1] == "end"


@pytest.fixture
def waits(monkeypatch, fake_clock):
    """The clock of ``time`` and of asyncio's loops: sleeping records the seconds asked for and
    moves the clock by them at once, so a model that sleeps until its deadline reaches it."""
    monkeypatch.setattr(time, "perf_counter", fake_clock.perf_counter)
    monkeypatch.setattr(time, "monotonic", fake_clock.monotonic)  # what loop.time() reads
    monkeypatch.setattr(time, "sleep", fake_clock.sleep)
    monkeypatch.setattr(asyncio, "sleep", fake_clock.asleep)
    return fake_clock


SKY_SCHEDULE = [0.2 + 0.05 * n for n in range(len(SKY_TOKENS))]  # each token's arrival


def test_stream_releases_each_token_on_its_schedule(waits):
    model = DemoChatModel(time_to_first_token=0.2, token_delay=0.05)
    start = waits.now
    arrivals = [(waits.now - start, c.content) for c in model.stream("what color is the sky?")]
    assert arrivals[: len(SKY_TOKENS)] == [
        (pytest.approx(t), token) for t, token in zip(SKY_SCHEDULE, SKY_TOKENS, strict=True)
    ]
    assert waits.slept == pytest.approx([0.2] + [0.05] * (len(SKY_TOKENS) - 1))


def test_astream_releases_each_token_on_its_schedule(waits):
    model = DemoChatModel(time_to_first_token=0.2, token_delay=0.05)

    async def main() -> list[tuple[float, str]]:
        start = waits.now
        return [(waits.now - start, c.content) async for c in model.astream("the sky?")]

    arrivals = asyncio.run(main())
    assert arrivals[: len(SKY_TOKENS)] == [
        (pytest.approx(t), token) for t, token in zip(SKY_SCHEDULE, SKY_TOKENS, strict=True)
    ]
    assert waits.slept == pytest.approx([0.2] + [0.05] * (len(SKY_TOKENS) - 1))


def test_invoke_waits_for_the_whole_answer(waits):
    model = DemoChatModel(time_to_first_token=0.05, token_delay=0.01)
    model.invoke("what color is the sky?")
    assert sum(waits.slept) == pytest.approx(0.05 + 7 * 0.01)


def test_jitter_is_reproducible_with_the_same_seed():
    a = DemoChatModel(jitter=0.5, seed=7)
    b = DemoChatModel(jitter=0.5, seed=7)
    other = DemoChatModel(jitter=0.5, seed=8)
    assert a.delays(20) == b.delays(20)
    assert a.delays(20, call=3) == b.delays(20, call=3)
    assert a.delays(20) != other.delays(20)
    assert a.delays(20) != a.delays(20, call=1)
    delays = a.delays(20)
    assert 0.125 <= delays[0] <= 0.375
    assert all(0.015 <= d <= 0.045 for d in delays[1:])
    assert DemoChatModel().delays(3) == [0.25, 0.03, 0.03]


def test_zero_delays_never_sleep(monkeypatch):
    def forbidden(*args: Any) -> None:
        raise AssertionError("slept with zero delays")

    async def aforbidden(*args: Any) -> None:
        raise AssertionError("awaited asyncio.sleep with zero delays")

    monkeypatch.setattr(time, "sleep", forbidden)
    monkeypatch.setattr(asyncio, "sleep", aforbidden)
    model = fast()
    assert len(list(model.stream("what color is the sky?"))) == 9
    assert len(asyncio.run(collect(model.astream("what color is the sky?")))) == 9
    assert model.invoke("hello").content.startswith("Hello")


def test_for_benchmark_yields_exact_token_count():
    model = DemoChatModel.for_benchmark(1000)
    tokens = [c.content for c in model.stream("go") if c.content]
    assert len(tokens) == 1000
    assert all(tokens)
    async_tokens = asyncio.run(collect(model.astream("go again")))
    assert len([c for c in async_tokens if c.content]) == 1000
    assert model.time_to_first_token == 0
    assert model.token_delay == 0
    with pytest.raises(ValueError, match="n_tokens"):
        DemoChatModel.for_benchmark(0)


# --- tokenize --------------------------------------------------------------------------------

CORPUS = [
    "",
    " ",
    "Hello, world!",
    "  leading and trailing  ",
    "line one\nline two\r\n\n\ttabbed",
    "Population: 125584000 (2024), pi ~ 3.14159",
    "snake_case_names and CamelCaseWords",
    "emoji 🦜🎉 and 👩🏽‍💻 family 👨‍👩‍👧",
    "שלום עולם, مرحبا بالعالم!",
    "नमस्ते दुनिया — 你好\uff0c世界\u3002",
    'a|b\\c {"json": [1, 2]}',
    "supercalifragilisticexpialidocious",
]


@pytest.mark.parametrize("text", CORPUS)
def test_tokenize_round_trips(text):
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_tokenize_shapes():
    assert tokenize("The sky is blue.") == ["The", " sky", " is", " blue", "."]
    assert tokenize(" 67413000") == [" 67", "413", "000"]
    assert all(len(t.strip()) <= 5 for t in tokenize("supercalifragilisticexpialidocious"))
    assert tokenize("a\n\nb") == ["a", "\n\n", "b"]
    assert tokenize("x \n  y") == ["x", " \n ", " y"]
    assert tokenize("x") is not tokenize("x")  # callers get their own list


# --- DemoLLM ---------------------------------------------------------------------------------


def test_llm_streams_sky_and_fires_callbacks():
    recorder = Recorder()
    llm = DemoLLM(time_to_first_token=0, token_delay=0)
    pieces = list(llm.stream("what color is the sky?", {"callbacks": [recorder]}))
    assert pieces == SKY_TOKENS
    assert recorder.events == ["start", *["token"] * len(SKY_TOKENS), "end"]
    assert recorder.tokens == SKY_TOKENS
    assert llm.invoke("hello") == "Hello! How can I assist you today?"
    assert llm._llm_type == "demo-llm"


def test_llm_astream_and_run_type():
    class RunTypes(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.starts = 0
            self.tokens: list[str] = []

        async def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
            self.starts += 1

        async def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens.append(token)

    handler = RunTypes()
    llm = DemoLLM(time_to_first_token=0.01, token_delay=0.001)
    pieces = asyncio.run(collect(llm.astream("the sky", {"callbacks": [handler]})))
    assert pieces == SKY_TOKENS
    assert handler.tokens == SKY_TOKENS
    assert handler.starts == 1

    async def events() -> list[dict[str, Any]]:
        return [e async for e in llm.astream_events("hello", version="v2")]

    names = [e["event"] for e in asyncio.run(events())]
    assert names[0] == "on_llm_start"
    assert names.count("on_llm_stream") == len(_scripts.GREETING)
    assert names[-1] == "on_llm_end"


# --- DemoRetriever ---------------------------------------------------------------------------

GUIDE_TEXTS = ["harrison worked at kensho", "harrison likes spicy food"]


def test_retriever_ranks_sync_and_async():
    retriever = DemoRetriever.from_texts(GUIDE_TEXTS, k=4, latency=0.0)
    docs = retriever.invoke("where did harrison work?")
    assert [d.page_content for d in docs] == GUIDE_TEXTS
    adocs = asyncio.run(retriever.ainvoke("where did harrison work?"))
    assert adocs == docs
    assert [d.page_content for d in retriever.invoke("spicy food please")] == [GUIDE_TEXTS[1]]
    assert retriever.invoke("where is the moon?") == []
    assert len(DemoRetriever.from_texts(GUIDE_TEXTS, k=1).invoke("harrison")) == 1


def test_retriever_accepts_documents_and_orders_by_score():
    documents = [
        Document(page_content="cats sleep a lot"),
        Document(page_content="kensho office with spicy food and cats"),
        Document(page_content="spicy food"),
    ]
    retriever = DemoRetriever(documents=documents)
    ranked = retriever.invoke("spicy food for cats")
    assert [d.page_content for d in ranked] == [
        "kensho office with spicy food and cats",
        "spicy food",
        "cats sleep a lot",
    ]


def test_retriever_waits_its_latency_sync_and_async(waits):
    retriever = DemoRetriever.from_texts(GUIDE_TEXTS, latency=0.05)
    retriever.invoke("harrison")
    asyncio.run(retriever.ainvoke("harrison"))
    assert waits.slept == [0.05, 0.05]


def test_guide_retrieval_chain_streams_kensho_answer():
    retriever = DemoRetriever.from_texts(GUIDE_TEXTS).with_config(run_name="Docs")
    prompt = ChatPromptTemplate.from_template(RAG_TEMPLATE)
    chain = (
        {"context": retriever, "question": RunnablePassthrough()}
        | prompt
        | fast()
        | StrOutputParser()
    )
    pieces = list(chain.stream("where did harrison work?"))
    assert len(pieces) > 20
    assert "".join(pieces) == "".join(_scripts.KENSHO)
    assert "".join(pieces).startswith("Harrison worked at Kensho")

    async def events() -> list[dict[str, Any]]:
        return [e async for e in chain.astream_events("where did harrison work?", version="v2")]

    names = {(e["event"], e["name"]) for e in asyncio.run(events())}
    assert ("on_retriever_end", "Docs") in names
    assert ("on_chat_model_stream", "DemoChatModel") in names


def test_chat_model_is_offline_unless_a_real_model_is_named(monkeypatch):
    from streamviz.demo import MODEL_VARIABLE, chat_model

    monkeypatch.delenv(MODEL_VARIABLE, raising=False)
    model = chat_model(time_to_first_token=0, token_delay=0)
    assert isinstance(model, DemoChatModel)
    assert model.invoke("what color is the sky?").content.startswith("The sky")
    monkeypatch.setenv(MODEL_VARIABLE, "openai:gpt-4o-mini")
    try:
        import langchain  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="needs the `langchain` package"):
            chat_model()

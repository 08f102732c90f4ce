"""The runnables of LangChain's "how to stream runnables" guide and a few more, built offline.

Each factory returns a fresh ``(runnable, input)`` pair, so stateful examples (retry) start over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from langchain_core.callbacks import adispatch_custom_event
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableBranch,
    RunnableGenerator,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    chain,
)
from langchain_core.runnables.config import RunnableConfig
from langchain_core.tools import tool

from streamviz.demo import DemoChatModel, DemoRetriever

COUNTRIES_PROMPT = (
    "output a list of the countries france, spain and japan and their populations in JSON format. "
    'Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)


def model() -> DemoChatModel:
    return DemoChatModel(time_to_first_token=0, token_delay=0)


def joke_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_template("tell me a joke about {topic}")


def parrot_chain(**timing: float) -> Runnable:
    """prompt | demo model | parser for ``{"topic": "parrot"}``; the delays default to 0."""
    timing = {"time_to_first_token": 0, "token_delay": 0, **timing}
    return joke_prompt() | DemoChatModel(**timing) | StrOutputParser()


def _extract_country_names(inputs: Any) -> Any:
    if not isinstance(inputs, dict) or not isinstance(inputs.get("countries"), list):
        return ""
    return [country.get("name") for country in inputs["countries"] if isinstance(country, dict)]


async def _extract_country_names_streaming(input_stream: AsyncIterator[Any]) -> AsyncIterator[str]:
    seen: set[str] = set()
    async for value in input_stream:
        if not isinstance(value, dict) or not isinstance(value.get("countries"), list):
            continue
        for country in value["countries"]:
            name = country.get("name") if isinstance(country, dict) else None
            if name and name not in seen:
                seen.add(name)
                yield name


def _reverse_word(word: str) -> str:
    return word[::-1]


reverse_word = RunnableLambda(_reverse_word).with_config(run_name="reverse_word")


@tool
def bad_tool(word: str):
    """Custom tool that doesn't propagate callbacks."""
    return reverse_word.invoke(word)


@tool
def correct_tool(word: str, callbacks):
    """A tool that correctly propagates callbacks."""
    return reverse_word.invoke(word, {"callbacks": callbacks})


async def _reverse_and_double(word: str) -> str:
    return await reverse_word.ainvoke(word) * 2


@chain
async def reverse_and_double_chain(word: str) -> str:
    """The guide's @chain example."""
    return await reverse_word.ainvoke(word) * 2


async def _announce(value: str) -> str:
    await adispatch_custom_event("progress", {"stage": "halfway", "value": value})
    await adispatch_custom_event("progress", {"stage": "done"})
    return value.upper()


def _explode_after_three(stream: Iterator[str]) -> Iterator[str]:
    for count, token in enumerate(stream, 1):
        if count > 3:
            raise ValueError("the stream broke after three tokens")
        yield token


async def _aexplode_after_three(stream: AsyncIterator[str]) -> AsyncIterator[str]:
    count = 0
    async for token in stream:
        count += 1
        if count > 3:
            raise ValueError("the stream broke after three tokens")
        yield token


def _retriever_chain():
    retriever = DemoRetriever.from_texts(["harrison worked at kensho", "harrison likes spicy food"])
    prompt = ChatPromptTemplate.from_template(
        "Answer the question based only on the following context:\n{context}\n\n"
        "Question: {question}\n"
    )
    return (
        {"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough()}
        | prompt
        | model()
        | StrOutputParser()
    )


async def _batch_jokes(topics: list[str], config) -> list[str]:
    jokes = joke_prompt() | model() | StrOutputParser()
    return await jokes.abatch([{"topic": topic} for topic in topics], config)


def _batch_jokes_sync(topics: list[str], config) -> list[str]:
    jokes = joke_prompt() | model() | StrOutputParser()
    return jokes.batch([{"topic": topic} for topic in topics], config)


def _fails_then_succeeds():
    calls = {"n": 0}

    def flaky(value: str) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("transient failure")
        return value + "!"

    return RunnableLambda(flaky).with_retry(stop_after_attempt=3, wait_exponential_jitter=False)


def _always_fails(value: Any) -> Any:
    raise RuntimeError("primary is down")


def _lookup():
    return DemoRetriever.from_texts(
        ["harrison worked at kensho", "harrison likes spicy food"]
    ).with_config(run_name="Docs")


def _joke_chain():
    return joke_prompt() | model() | StrOutputParser()


# Roots that stream a chunk of their own before their children run. The async forms start the
# lookup as a task first and stream the status chunk while it runs (a common pattern: "searching…"
# shown while a retriever works).
def _status_then_joke(questions: Iterator[str]) -> Iterator[str]:
    for question in questions:
        yield "searching… "
        docs = _lookup().invoke(question)
        yield from _joke_chain().stream({"topic": docs[0].page_content})


async def _astatus_then_joke(questions: AsyncIterator[str]) -> AsyncIterator[str]:
    async for question in questions:
        lookup = asyncio.ensure_future(_lookup().ainvoke(question))
        yield "searching… "
        docs = await lookup
        async for token in _joke_chain().astream({"topic": docs[0].page_content}):
            yield token


@chain
async def status_then_joke_chain(question: str) -> AsyncIterator[str]:
    """The same as a @chain-decorated async generator."""
    lookup = asyncio.ensure_future(_lookup().ainvoke(question))
    yield "searching… "
    docs = await lookup
    async for token in _joke_chain().astream({"topic": docs[0].page_content}):
        yield token


class StatusThenJoke(Runnable[str, str]):
    """A custom runnable: a status chunk of its own, then a child chain's chunks, streamed
    through LangChain's ``_transform_stream_with_config`` as the base class's docs advise."""

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return "".join(self.stream(input, config))

    def stream(self, input: str, config: RunnableConfig | None = None, **kwargs: Any):
        yield from self._transform_stream_with_config(iter([input]), self._jokes, config)

    async def astream(self, input: str, config: RunnableConfig | None = None, **kwargs: Any):
        async def one() -> AsyncIterator[str]:
            yield input

        async for chunk in self._atransform_stream_with_config(one(), self._ajokes, config):
            yield chunk

    @staticmethod
    def _jokes(topics: Iterator[str], config: RunnableConfig) -> Iterator[str]:
        for topic in topics:
            yield "thinking… "
            yield from _joke_chain().stream({"topic": topic}, config)

    @staticmethod
    async def _ajokes(topics: AsyncIterator[str], config: RunnableConfig) -> AsyncIterator[str]:
        async for topic in topics:
            yield "thinking… "
            async for token in _joke_chain().astream({"topic": topic}, config):
                yield token


def _pick_chain(inputs: dict[str, Any]) -> Runnable:
    return _joke_chain() if "topic" in inputs else model()


EXAMPLES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "model": lambda: (model(), "what color is the sky?"),
    "prompt|model|parser": lambda: (
        joke_prompt() | model() | StrOutputParser(),
        {"topic": "parrot"},
    ),
    "model|json": lambda: (model() | JsonOutputParser(), COUNTRIES_PROMPT),
    "model|json|function": lambda: (
        model() | JsonOutputParser() | _extract_country_names,
        COUNTRIES_PROMPT,
    ),
    "model|json|generator": lambda: (
        model() | JsonOutputParser() | _extract_country_names_streaming,
        COUNTRIES_PROMPT,
    ),
    "retriever": lambda: (
        DemoRetriever.from_texts(["harrison worked at kensho", "harrison likes spicy food"]),
        "where did harrison work?",
    ),
    "retrieval chain": lambda: (
        _retriever_chain(),
        "Where did harrison work? Write 3 made up sentences about this place.",
    ),
    "run_name and tags": lambda: (
        (
            model().with_config({"run_name": "model"})
            | JsonOutputParser().with_config({"run_name": "my_parser"})
        ).with_config({"tags": ["my_chain"]}),
        COUNTRIES_PROMPT,
    ),
    "bad_tool": lambda: (bad_tool, "hello"),
    "correct_tool": lambda: (correct_tool, "hello"),
    "RunnableLambda nesting": lambda: (
        RunnableLambda(_reverse_and_double).with_config(run_name="reverse_and_double"),
        "1234",
    ),
    "@chain nesting": lambda: (reverse_and_double_chain, "1234"),
    "custom events": lambda: (RunnableLambda(_announce).with_config(run_name="announce"), "go"),
    "RunnableParallel": lambda: (
        RunnableParallel(
            joke=joke_prompt() | model() | StrOutputParser(),
            sky=ChatPromptTemplate.from_template("what color is the {thing}?") | model(),
        ),
        {"topic": "parrot", "thing": "sky"},
    ),
    "batch inside a step": lambda: (
        RunnableLambda(_batch_jokes_sync, afunc=_batch_jokes).with_config(run_name="batch_jokes"),
        ["parrot", "sky", "parrot"],
    ),
    "with_fallbacks": lambda: (
        RunnableLambda(_always_fails).with_fallbacks([joke_prompt() | model() | StrOutputParser()]),
        {"topic": "parrot"},
    ),
    "with_retry": lambda: (_fails_then_succeeds(), "again"),
    "RunnableBranch": lambda: (
        RunnableBranch(
            (lambda x: "sky" in x["q"], ChatPromptTemplate.from_template("{q}") | model()),
            ChatPromptTemplate.from_template("tell me a joke about {q}")
            | model()
            | StrOutputParser(),
        ),
        {"q": "parrot"},
    ),
    "error mid-stream": lambda: (
        joke_prompt()
        | model()
        | StrOutputParser()
        | RunnableGenerator(_explode_after_three, _aexplode_after_three).with_config(
            run_name="_explode_after_three"
        ),
        {"topic": "parrot"},
    ),
    "own chunk, then a lookup": lambda: (
        RunnableGenerator(_status_then_joke, _astatus_then_joke).with_config(
            run_name="status_then_joke"
        ),
        "where did harrison work?",
    ),
    "@chain generator, own chunk first": lambda: (
        status_then_joke_chain,
        "where did harrison work?",
    ),
    "Runnable subclass, own chunk first": lambda: (StatusThenJoke(), "parrot"),
    "RunnableLambda returning a runnable": lambda: (
        RunnableLambda(_pick_chain).with_config(run_name="pick_chain"),
        {"topic": "parrot"},
    ),
}

# Examples whose branches run concurrently: the interleaving of their events can differ between
# two separate runs, so those compare run by run rather than in one global order.
# Examples written with async functions only: LangChain cannot stream them synchronously.
ASYNC_ONLY = {
    "model|json|generator",
    "RunnableLambda nesting",
    "@chain nesting",
    "custom events",
    "@chain generator, own chunk first",
}

CONCURRENT = {"RunnableParallel", "batch inside a step", "retrieval chain"}

# Roots that re-yield their child's chunks instead of streaming through LangChain's tap.
REYIELDING_ROOTS = {"with_fallbacks", "RunnableBranch"}

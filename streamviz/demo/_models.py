"""Scripted, offline chat model and LLM that stream with realistic token timing."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import LLM, BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    GenerationChunk,
    LLMResult,
)
from pydantic import BaseModel, Field, PrivateAttr, model_validator

from streamviz.demo._scripts import answer_tokens, tokens_of

_BENCH_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "sed", "do", "magna")


class _Plan:
    """What one call will emit: tokens, per-token delays (None = no waiting), usage."""

    __slots__ = ("delays", "pauses", "tokens", "usage")

    def __init__(
        self,
        tokens: Sequence[str],
        delays: list[float] | None,
        usage: UsageMetadata,
        pauses: frozenset[int] = frozenset(),
    ) -> None:
        self.tokens = tokens
        self.pauses = pauses  # tokens after a scripted pause: waited for from the one before
        self.delays = delays
        self.usage = usage


def _cut_at_stop(tokens: Sequence[str], stop: list[str] | None) -> Sequence[str]:
    """Truncate the answer before the first stop sequence, as real models do."""
    text = "".join(tokens)
    cuts = [text.find(s) for s in stop or () if s and s in text]
    if not cuts:
        return tokens
    limit, kept, used = min(cuts), [], 0
    for token in tokens:
        if used + len(token) > limit:
            if limit > used:
                kept.append(token[: limit - used])
            break
        kept.append(token)
        used += len(token)
    return kept


class _ScriptedModel(BaseModel):
    """Fields and planning shared by `DemoChatModel` and `DemoLLM`."""

    time_to_first_token: float = Field(default=0.25, ge=0)
    token_delay: float = Field(default=0.03, ge=0)
    jitter: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0
    pauses: dict[int, float] | None = None
    responses: list[str] | None = None
    script: dict[str, str] | None = None
    usage: Literal["last", "every", "end", "none"] = "last"
    cache_read_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    # Counts calls, so `responses` cycle and each call gets its own jitter draw.
    _calls: int = PrivateAttr(default=0)

    def delays(self, n_tokens: int, call: int = 0) -> list[float]:
        """Return the waits, in seconds, before each token of one answer.

        The first entry is the time to first token, the rest are the gaps
        between tokens.  With ``jitter > 0`` each wait is scaled by a random
        factor in ``[1 - jitter, 1 + jitter]`` drawn from a generator seeded
        by ``(seed, call)``, so the same model settings give the same timeline
        on every run.

        Parameters
        ----------
        n_tokens : int
            Number of tokens in the answer.
        call : int, default 0
            Zero-based index of the call on this model instance.

        Returns
        -------
        list of float
            ``n_tokens`` non-negative delays.

        """
        bases = [self.time_to_first_token] + [self.token_delay] * max(n_tokens - 1, 0)
        bases = bases[:n_tokens]
        if self.jitter:
            rng = random.Random(self.seed * 1_000_003 + call)
            bases = [base * (1 + self.jitter * rng.uniform(-1, 1)) for base in bases]
        for index, pause in (self.pauses or {}).items():
            if 0 <= index < len(bases):
                bases[index] += pause
        return bases

    def _plan(self, question: str, prompt_text: str, stop: list[str] | None) -> _Plan:
        call = self._calls
        self._calls += 1
        if self.responses:
            tokens: Sequence[str] = tokens_of(self.responses[call % len(self.responses)])
        else:
            tokens = answer_tokens(question, self.script)
        tokens = _cut_at_stop(tokens, stop)
        # Zero delays take a path without any clock reads (benchmarks rely on it).
        timed = self.time_to_first_token or self.token_delay or self.pauses
        delays = self.delays(len(tokens), call) if timed else None
        n_in = len(tokens_of(prompt_text))
        usage = self._usage(n_in, len(tokens))
        pauses = frozenset(i for i in (self.pauses or {}) if 0 <= i < len(tokens))
        return _Plan(tokens, delays, usage, pauses)

    def _usage(self, n_in: int, n_out: int) -> UsageMetadata:
        """Token counts as a provider reports them (cache reads and reasoning are parts)."""
        usage = UsageMetadata(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
        if self.cache_read_tokens:
            usage["input_token_details"] = {"cache_read": min(self.cache_read_tokens, n_in)}
        if self.reasoning_tokens:
            usage["output_token_details"] = {"reasoning": min(self.reasoning_tokens, n_out)}
        return usage

    def _timing_params(self) -> dict[str, Any]:
        return {
            "model_name": getattr(self, "model_name", None),
            "time_to_first_token": self.time_to_first_token,
            "token_delay": self.token_delay,
            "jitter": self.jitter,
            "seed": self.seed,
        }


def _paced(plan: _Plan) -> Iterator[str]:
    """Release tokens on their schedule, measured from the start of the call.

    Like a server streaming into a socket buffer: a slow consumer gets a burst
    of waiting tokens instead of slowing the "model" down.
    """
    if plan.delays is None:
        yield from plan.tokens
        return
    deadline = time.perf_counter()
    for index, (token, delay) in enumerate(zip(plan.tokens, plan.delays, strict=True)):
        if index in plan.pauses:  # a scripted stall: never shortened by catching up
            deadline = max(deadline, time.perf_counter())
        deadline += delay
        remaining = deadline - time.perf_counter()
        if remaining > 0:
            time.sleep(remaining)
        yield token


async def _apaced(plan: _Plan) -> AsyncIterator[str]:
    """Async twin of `_paced`; waits with asyncio.sleep, never leaves the loop thread."""
    if plan.delays is None:
        for token in plan.tokens:
            yield token
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time()
    for index, (token, delay) in enumerate(zip(plan.tokens, plan.delays, strict=True)):
        if index in plan.pauses:
            deadline = max(deadline, loop.time())
        deadline += delay
        remaining = deadline - loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        yield token


def _message_text(message: BaseMessage) -> str:
    # `.text` flattens content-block lists to their text parts.
    return str(message.text)


def _question(messages: list[BaseMessage]) -> str:
    """Text the scripts match on: the last human message, else the last message."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return _message_text(message)
    return _message_text(messages[-1]) if messages else ""


class DemoChatModel(_ScriptedModel, BaseChatModel):
    """Scripted streaming chat model for offline demos, workshops and tests.

    Answers come from keyword rules (or a fixed list of ``responses``) and are
    streamed token by token with a configurable time to first token and
    inter-token delay, so traces and timelines look like a hosted model's.

    Parameters
    ----------
    time_to_first_token : float, default 0.25
        Seconds before the first token.
    token_delay : float, default 0.03
        Seconds between consecutive tokens.
    jitter : float, default 0.0
        Fractional random variation of every delay, between 0 and 1.
    seed : int, default 0
        Seed for the jitter, so runs are reproducible.
    pauses : dict of int to float, optional
        Scripted stalls: ``{i: seconds}`` adds that wait before token ``i`` (0-based) of every
        answer, on top of its usual delay. Counted from when token ``i - 1`` was taken, so a
        late consumer never shortens it (other tokens keep to their schedule from the call's
        start, catching up after a slow consumer as a buffered socket would).
    responses : list of str, optional
        If given, answers cycle through these in order, one per call, and the
        keyword rules are ignored.  They are split with `tokenize`.
    script : dict of str to str, optional
        Extra ``keyword -> answer`` rules, checked (case-insensitively) before
        the built-in ones.  Answers are split with `tokenize`.
    model_name : str, default "demo-chat"
        Name reported in traces and response metadata.
    usage : {"last", "every", "end", "none"}, default "last"
        How token usage is reported, like the providers streamviz's usage roll-up is tested
        against: ``"last"`` on the last chunk only (OpenAI's ``stream_usage``); ``"every"``
        as a running total on every chunk (the integrations whose merged message double
        counts); ``"end"`` streamed through callbacks from ``_generate`` with no usage on the
        chunks, only on the final message (a ``streaming=True`` integration: the model never
        takes the ``_stream`` path); ``"none"`` never.
    cache_read_tokens, reasoning_tokens : int, default 0
        Reported as ``input_token_details["cache_read"]`` and
        ``output_token_details["reasoning"]`` (parts of the input and output counts).

    Notes
    -----
    The rules match the lower-cased text of the last human message, first
    match wins: user ``script``, then ``"sky"``, ``"parrot"``,
    ``"countries"``, ``"harrison"``/``"kensho"``/``"context:"``, ``"hello"``;
    anything else gets a short default answer quoting the question.

    Streaming yields one chunk per token and then one empty chunk with
    ``chunk_position="last"``, ``usage_metadata`` (token counts from
    `tokenize`) and ``response_metadata["finish_reason"] == "stop"``, the
    way hosted models report usage at the end of a stream.  Stop sequences
    truncate the answer.

    Tokens are released on a schedule measured from the start of the call
    (see `delays`), like a server writing into a socket buffer: a slow
    consumer receives a burst of waiting tokens rather than slowing the model.
    With both delays at zero the model never sleeps, so per-token overhead is
    only LangChain's own.  ``invoke`` waits for the whole schedule at once.

    Examples
    --------
    >>> model = DemoChatModel(time_to_first_token=0, token_delay=0)
    >>> [c.content for c in model.stream("what color is the sky?")][:4]
    ['The', ' sky', ' appears', ' blue']

    """

    model_name: str = "demo-chat"

    @classmethod
    def for_benchmark(cls, n_tokens: int) -> DemoChatModel:
        """Build a zero-delay model whose every answer is exactly ``n_tokens`` tokens.

        Parameters
        ----------
        n_tokens : int
            Number of non-empty content tokens per answer (at least 1).

        Returns
        -------
        DemoChatModel
            A model with no delays answering short lorem-ipsum words.

        """
        if n_tokens < 1:
            msg = f"n_tokens must be at least 1, got {n_tokens}"
            raise ValueError(msg)
        # Every word has at most five letters, so each one is a single token.
        words = [_BENCH_WORDS[i % len(_BENCH_WORDS)] for i in range(n_tokens)]
        return cls(time_to_first_token=0, token_delay=0, responses=[" ".join(words)])

    @property
    def _llm_type(self) -> str:
        return "demo-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return self._timing_params()

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "demo"
        return params

    def _plan_messages(self, messages: list[BaseMessage], stop: list[str] | None) -> _Plan:
        prompt_text = "\n".join(_message_text(m) for m in messages)
        return self._plan(_question(messages), prompt_text, stop)

    @model_validator(mode="after")
    def _end_usage_does_not_stream(self) -> DemoChatModel:
        if self.usage == "end":  # streams through callbacks from _generate instead
            self.disable_streaming = True
        return self

    def _token_chunk(self, plan: _Plan, index: int, token: str) -> ChatGenerationChunk:
        usage = None
        if self.usage == "every":  # a running total on every chunk
            usage = self._usage(plan.usage["input_tokens"], index + 1)
        return ChatGenerationChunk(message=AIMessageChunk(content=token, usage_metadata=usage))

    def _final_chunk(self, plan: _Plan) -> ChatGenerationChunk:
        message = AIMessageChunk(
            content="",
            chunk_position="last",
            usage_metadata=plan.usage if self.usage in ("last", "every") else None,
            response_metadata={"finish_reason": "stop", "model_name": self.model_name},
        )
        return ChatGenerationChunk(message=message)

    def _result(self, plan: _Plan) -> ChatResult:
        message = AIMessage(
            content="".join(plan.tokens),
            usage_metadata=plan.usage if self.usage != "none" else None,
            response_metadata={"finish_reason": "stop", "model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _report_tokens(self, plan: _Plan, run_manager: Any) -> None:
        """``usage="end"``: stream the tokens through callbacks, as ``streaming=True`` models do."""
        if self.usage == "end" and run_manager is not None:
            for token in plan.tokens:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
                run_manager.on_llm_new_token(token, chunk=chunk)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan_messages(messages, stop)
        if plan.delays:
            time.sleep(sum(plan.delays))
        self._report_tokens(plan, run_manager)
        return self._result(plan)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan_messages(messages, stop)
        if plan.delays:
            await asyncio.sleep(sum(plan.delays))
        if self.usage == "end" and run_manager is not None:
            for token in plan.tokens:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
                await run_manager.on_llm_new_token(token, chunk=chunk)
        return self._result(plan)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self._plan_messages(messages, stop)
        for index, token in enumerate(_paced(plan)):
            chunk = self._token_chunk(plan, index, token)
            # langchain-core's stream() fires the callback itself and passes no
            # run_manager; paths that do pass one expect the model to fire it.
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        final = self._final_chunk(plan)
        if run_manager:
            run_manager.on_llm_new_token("", chunk=final)
        yield final

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        plan = self._plan_messages(messages, stop)
        index = 0
        async for token in _apaced(plan):
            chunk = self._token_chunk(plan, index, token)
            index += 1
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        final = self._final_chunk(plan)
        if run_manager:
            await run_manager.on_llm_new_token("", chunk=final)
        yield final


class DemoLLM(_ScriptedModel, LLM):
    """Scripted text-completion LLM (legacy string-in, string-out interface).

    Same scripts, timing fields and reproducible jitter as `DemoChatModel`,
    but the whole prompt string is matched and streaming yields plain
    strings.  Runs are traced with run type ``"llm"`` and the model fires
    ``on_llm_new_token`` for every token while streaming.

    Parameters
    ----------
    time_to_first_token : float, default 0.25
        Seconds before the first token.
    token_delay : float, default 0.03
        Seconds between consecutive tokens.
    jitter : float, default 0.0
        Fractional random variation of every delay, between 0 and 1.
    seed : int, default 0
        Seed for the jitter, so runs are reproducible.
    responses : list of str, optional
        Answers to cycle through, one per call, ignoring the keyword rules.
    script : dict of str to str, optional
        Extra ``keyword -> answer`` rules checked before the built-in ones.
    model_name : str, default "demo-llm"
        Name reported in traces.
    usage : {"last", "every", "end", "none"}, default "last"
        Anything but ``"none"``: a call that does not stream reports its token counts the
        legacy way, ``llm_output["token_usage"]`` (``prompt_tokens``, ``completion_tokens``,
        ``total_tokens``), like OpenAI's completion LLM.

    Examples
    --------
    >>> llm = DemoLLM(time_to_first_token=0, token_delay=0)
    >>> "".join(llm.stream("Why is the sky blue?"))
    'The sky appears blue during the day.'

    """

    model_name: str = "demo-llm"

    @property
    def _llm_type(self) -> str:
        return "demo-llm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return self._timing_params()

    def _plan_prompt(self, prompt: str, stop: list[str] | None) -> _Plan:
        return self._plan(prompt, prompt, stop)

    def _with_token_usage(self, prompts: list[str], result: LLMResult) -> LLMResult:
        if self.usage == "none":
            return result
        n_in = sum(len(tokens_of(prompt)) for prompt in prompts)
        n_out = sum(len(tokens_of(gen.text)) for gens in result.generations for gen in gens)
        result.llm_output = {
            "token_usage": {
                "prompt_tokens": n_in,
                "completion_tokens": n_out,
                "total_tokens": n_in + n_out,
            },
            "model_name": self.model_name,
        }
        return result

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        result = super()._generate(prompts, stop=stop, run_manager=run_manager, **kwargs)
        return self._with_token_usage(prompts, result)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        result = await super()._agenerate(prompts, stop=stop, run_manager=run_manager, **kwargs)
        return self._with_token_usage(prompts, result)

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        plan = self._plan_prompt(prompt, stop)
        if plan.delays:
            time.sleep(sum(plan.delays))
        return "".join(plan.tokens)

    async def _acall(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        plan = self._plan_prompt(prompt, stop)
        if plan.delays:
            await asyncio.sleep(sum(plan.delays))
        return "".join(plan.tokens)

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        # Unlike chat models, BaseLLM.stream() leaves on_llm_new_token to the model.
        for token in _paced(self._plan_prompt(prompt, stop)):
            chunk = GenerationChunk(text=token)
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        async for token in _apaced(self._plan_prompt(prompt, stop)):
            chunk = GenerationChunk(text=token)
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk

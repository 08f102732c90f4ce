"""An offline chat model that streams parallel tool calls, and two tools for it to call."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool, tool
from pydantic import Field

__all__ = ["DEMO_TOOL_CALLS", "DemoToolModel", "get_time", "get_weather"]

_WEATHER = {"paris": "sunny, 21 °C", "tokyo": "rain, 17 °C", "lima": "cloudy, 19 °C"}
_OFFSETS = {"paris": 1, "tokyo": 9, "lima": -5}


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """The weather in a city (offline demo data)."""
    found = _WEATHER.get(city.lower(), "clear, 20 °C")
    return f"{city}: {found}" if unit == "celsius" else f"{city}: {found} (in {unit})"


@tool
def get_time(city: str) -> str:
    """The local time in a city (offline demo data: a fixed UTC noon plus its offset)."""
    offset = _OFFSETS.get(city.lower(), 0)
    return f"{city}: {(12 + offset) % 24:02d}:00"


DEMO_TOOL_CALLS: list[dict[str, Any]] = [
    {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}, "id": "call_weather"},
    {"name": "get_time", "args": {"city": "Tokyo"}, "id": "call_time"},
]
"""What :class:`DemoToolModel` asks for by default: two calls in parallel."""


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class DemoToolModel(BaseChatModel):
    """Scripted chat model that asks for tools, streaming the calls as a hosted model does.

    Asked a question, it streams ``tool_calls`` (default :data:`DEMO_TOOL_CALLS`, two calls in
    parallel) as ``tool_call_chunks``: each call's first chunk carries its ``name``, ``id`` and
    ``index`` and the start of its JSON arguments, the following ones only the ``index`` and
    ``chunk_chars`` more characters of the arguments; the calls' chunks are interleaved (call 0,
    call 1, call 0, ...), so parallel calls are told apart only by their ``index``. Once the
    conversation holds the tools' answers (``ToolMessage`` s after the last question) it streams
    an answer quoting them, word by word. ``bind_tools`` accepts any tools (they are not read).

    >>> model = DemoToolModel()
    >>> [c.tool_call_chunks[0]["index"] for c in model.stream("weather?") if c.tool_call_chunks][:4]
    [0, 1, 0, 1]
    """

    tool_calls: list[dict[str, Any]] = Field(default_factory=lambda: list(DEMO_TOOL_CALLS))
    chunk_chars: int = Field(default=6, ge=1)
    token_delay: float = Field(default=0.0, ge=0)
    model_name: str = "demo-tools"

    @property
    def _llm_type(self) -> str:
        return "demo-tools"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable | BaseTool], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools as hosted models do; the scripted calls do not depend on them."""
        return self

    # ------------------------------------------------------------ what to say
    @staticmethod
    def _answers(messages: list[BaseMessage]) -> list[ToolMessage]:
        """The tools' answers after the last message that is not an AI or tool message."""
        found: list[ToolMessage] = []
        for message in reversed(messages):
            if isinstance(message, ToolMessage):
                found.append(message)
            elif message.type != "ai":
                break
        return found[::-1]

    def _chunks(self, messages: list[BaseMessage]) -> list[AIMessageChunk]:
        answers = self._answers(messages)
        if answers:
            text = "Here is what I found: " + "; ".join(str(m.content) for m in answers) + "."
            words = text.split(" ")
            tokens = [w if i == 0 else " " + w for i, w in enumerate(words)]
            return [AIMessageChunk(content=token) for token in tokens]
        streams = [
            _pieces(json.dumps(call.get("args", {}), ensure_ascii=False), self.chunk_chars)
            for call in self.tool_calls
        ]
        chunks: list[AIMessageChunk] = []
        for step in range(max((len(s) for s in streams), default=0)):
            for index, (call, pieces) in enumerate(zip(self.tool_calls, streams, strict=True)):
                if step >= len(pieces):
                    continue
                first = step == 0
                piece = {
                    "name": call.get("name") if first else None,
                    "args": pieces[step],
                    "id": call.get("id") if first else None,
                    "index": index,
                    "type": "tool_call_chunk",
                }
                chunks.append(AIMessageChunk(content="", tool_call_chunks=[piece]))
        return chunks

    def _last(self, messages: list[BaseMessage]) -> AIMessageChunk:
        reason = "stop" if self._answers(messages) else "tool_calls"
        return AIMessageChunk(
            content="",
            chunk_position="last",
            response_metadata={"finish_reason": reason, "model_name": self.model_name},
        )

    # ----------------------------------------------------------- LangChain API
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        merged = AIMessageChunk(content="")
        for chunk in self._chunks(messages):
            merged = merged + chunk
        merged = merged + self._last(messages)
        message = AIMessage(
            content=merged.content,
            tool_calls=merged.tool_calls,
            response_metadata=merged.response_metadata,
            id=merged.id,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for message in [*self._chunks(messages), self._last(messages)]:
            if self.token_delay:
                time.sleep(self.token_delay)
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                run_manager.on_llm_new_token(str(message.content), chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for message in [*self._chunks(messages), self._last(messages)]:
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                await run_manager.on_llm_new_token(str(message.content), chunk=chunk)
            yield chunk

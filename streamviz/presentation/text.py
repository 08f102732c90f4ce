"""Payloads as short text for people: token pieces, stream parts, input/output previews.

The widgets and the console of ``sv.watch`` show what is built here (the front-end puts it in
the page as text, never as HTML). Texts are bounded, never raise for a hostile value, and leave
out secrets the way trace files do.
"""

from __future__ import annotations

import json
import reprlib
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue

from streamviz._redact import REDACTED, is_secret_key, redact_text
from streamviz._serialization import SerializedObject, UnserializableValue
from streamviz.events import SerializedError

__all__ = [
    "LABEL_CHARS",
    "PART_CHARS",
    "PREVIEW_CHARS",
    "STREAM_CHARS",
    "chunk_text",
    "cut",
    "interrupt_text",
    "is_json_chunk",
    "message_text",
    "part_text",
    "preview",
    "resume_text",
    "send_text",
    "tool_args_text",
    "tool_call_text",
]

PREVIEW_CHARS = 300
"""Longest preview of a start/end/custom payload (the details pane asks for the whole one)."""
STREAM_CHARS = 20_000
"""Longest text kept for one stream chunk (a token is a few characters)."""

_repr = reprlib.Repr()
_repr.maxstring = PREVIEW_CHARS
_repr.maxother = PREVIEW_CHARS
_repr.maxlevel = 3


def cut(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with a trailing ``…`` when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_json_chunk(chunk: Any) -> bool:
    """Whether a stream chunk is a JSON-like value (JsonOutputParser's progressive dicts)."""
    return (
        isinstance(chunk, (dict, list))
        and not isinstance(chunk, SerializedObject)
        and not _is_message_dict(chunk)
    )


def _is_message_dict(value: Any) -> bool:
    """A message as JSON (what a LangGraph server sends): ``{"type": "AIMessageChunk", ...}``."""
    return (
        isinstance(value, dict)
        and "content" in value
        and isinstance(value.get("type"), str)
        and (value["type"].endswith(("Message", "MessageChunk")) or value["type"] in _ROLES)
    )


_ROLES = frozenset({"ai", "human", "system", "tool", "function", "chat"})


def _content_text(content: Any, tool_call_chunks: Any) -> str:
    """The text of a message's content (a string or content blocks), else its tool-call args."""
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):  # content blocks: keep their text parts
        text = "".join(
            block if isinstance(block, str) else str(block.get("text", ""))
            for block in content
            if isinstance(block, (str, dict))
        )
    else:
        text = ""
    if not text:
        pieces = tool_call_chunks or []
        text = "".join(str(p.get("args") or "") for p in pieces if isinstance(p, dict))
    return text


def message_text(message: BaseMessage | dict[str, Any]) -> str:
    """The text of a message (or of one as JSON): its content, else its tool-call arguments."""
    if isinstance(message, dict):
        return _content_text(message.get("content"), message.get("tool_call_chunks"))
    return _content_text(message.content, getattr(message, "tool_call_chunks", None))


def chunk_text(chunk: Any) -> str:
    """A stream chunk as the text a person reads in the token view."""
    try:
        if isinstance(chunk, str):
            text = str.__str__(chunk)
        elif isinstance(chunk, BaseMessage) or _is_message_dict(chunk):
            text = message_text(chunk)
        elif is_json_chunk(chunk):
            text = json.dumps(_plain(chunk, 0), ensure_ascii=False, separators=(",", ":"))
        elif hasattr(chunk, "text") and isinstance(getattr(chunk, "text", None), str):
            text = chunk.text  # GenerationChunk
        else:
            return preview(chunk, STREAM_CHARS)
    except Exception:  # a hostile chunk: show what repr gives
        return preview(chunk, STREAM_CHARS)
    return cut(text, STREAM_CHARS)


PART_CHARS = 2_000
"""Longest text of a LangGraph stream part (a state, an update...) in the widgets."""


def part_text(mode: str, chunk: Any) -> str:
    """A LangGraph stream part as display text: a token for ``messages``, else compact JSON."""
    try:
        if mode.startswith("messages") and isinstance(chunk, (tuple, list)) and chunk:
            # messages / messages-tuple: (message, metadata); messages/partial: [message, ...]
            message = chunk[-1] if mode == "messages/partial" else chunk[0]
            if isinstance(message, BaseMessage) or _is_message_dict(message):
                return cut(message_text(message), STREAM_CHARS)
        text = json.dumps(_plain(chunk, 0), ensure_ascii=False, separators=(",", ":"), default=str)
    except Exception:
        return preview(chunk, PART_CHARS)
    return cut(text, PART_CHARS)


def _plain(value: Any, depth: int) -> Any:
    """JSON-compatible copy of a parser's output for display, secrets left out."""
    if depth > 20:
        return "…"
    if isinstance(value, dict):
        return {
            str(key): REDACTED if is_secret_key(str(key)) else _plain(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact_text(str.__str__(value))
    if isinstance(value, BaseMessage):
        return {"type": value.type, "content": _plain(message_text(value), depth + 1)}
    if type(value).__name__ == "Interrupt" and hasattr(value, "value"):  # LangGraph's pause
        found = getattr(value, "id", None)
        return {"value": _plain(value.value, depth + 1), "id": found and str(found)}
    return preview(value, PREVIEW_CHARS)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A short, readable, secret-free text for any payload (never raises)."""
    try:
        text = _preview(value, limit)
    except Exception as error:
        text = f"<{type(value).__name__}: preview failed: {type(error).__name__}>"
    return cut(text, limit)


def _preview(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return redact_text(str.__str__(value)[: limit * 2])
    if isinstance(value, BaseMessage):
        return f"{value.type}: {redact_text(message_text(value)[: limit * 2])}"
    if isinstance(value, Document):
        return f"Document: {redact_text(value.page_content[: limit * 2])}"
    if isinstance(value, PromptValue):
        return _preview(value.to_messages(), limit)
    if isinstance(value, (SerializedError, BaseException)):
        return redact_text(f"{getattr(value, 'type', None) or type(value).__name__}: {value}")
    if isinstance(value, UnserializableValue):
        return redact_text(str(value))
    if isinstance(value, dict):
        parts, size = [], 0
        for key, item in value.items():
            key_text = str(key)[:100]
            shown = REDACTED if is_secret_key(key_text) else _preview(item, limit)
            parts.append(f"{key_text}: {shown}")
            size += len(parts[-1]) + 2
            if size > limit:
                break
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        parts, size = [], 0
        for item in value:
            parts.append(_preview(item, limit))
            size += len(parts[-1]) + 2
            if size > limit:
                break
        return "[" + ", ".join(parts) + "]"
    return redact_text(_repr.repr(value))


# ---------------------------------------------------------------- LangGraph pauses and branches
LABEL_CHARS = 80
"""Longest text of a ``Send`` argument shown beside its node's name."""


def interrupt_text(run: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """What a paused run asks (its interrupts' values), ``None`` unless it is paused."""
    if not getattr(run, "paused", False):
        return None
    return cut("; ".join(preview(value, limit) for value in run.interrupts), limit)


def resume_text(run: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """The ``Command(resume=...)`` value a run was started with, ``None`` if not a resume."""
    return preview(run.resume, limit) if getattr(run, "is_resume", False) else None


def send_text(run: Any, limit: int = LABEL_CHARS) -> str | None:
    """A short text of the ``Send`` argument of a node run (``None`` if not a ``Send``)."""
    if not getattr(run, "is_send", False) or not run.has_input:
        return None
    return preview(run.input, limit)


def tool_args_text(call: Any, limit: int = PREVIEW_CHARS) -> str:
    """A tool call's arguments as ``key: value, ...`` (its raw text while it does not parse)."""
    args = call.args
    if isinstance(args, dict):
        text = ", ".join(
            f"{preview(key, limit)}: {preview(value, limit)}" for key, value in args.items()
        )
    elif args is None:
        text = redact_text(call.args_text[: limit * 2])
    else:
        text = preview(args, limit)
    return cut(text, limit)


def tool_call_text(call: Any, limit: int = PREVIEW_CHARS) -> str:
    """A tool call as ``name(key: value, ...)``, as far as it has streamed."""
    return cut(f"{call.name or '?'}({tool_args_text(call, limit)})", limit)

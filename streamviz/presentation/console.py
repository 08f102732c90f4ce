"""What a watch prints where there is no notebook to draw in: its output as it comes, then the tree.

Tokens are printed inline, ``|``-separated, the way the streaming guides print them; JSON chunks
(a parser's progressive dicts) and LangGraph stream parts get a line each, parts as
``[mode namespace] json``. When the run ends, its run tree follows.

A :class:`Console` prints; what it prints for one item comes from a *describer*:
:func:`describe_chunk` for what a runnable yields in-process, :class:`PartDescriber` for the parts
a LangGraph API server sends. A describer returns ``(text, end)`` for ``print(text, end=end)``,
or ``None`` for an item not worth printing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamviz._redact import display_text
from streamviz.events import is_event_dict
from streamviz.presentation.text import chunk_text, is_json_chunk, message_text, part_text

__all__ = ["Console", "PartDescriber", "describe_chunk"]

Printed = tuple[str, str] | None
"""``(text, end)`` to print, or ``None``."""

TOKEN_END = "|"
"""What separates tokens printed inline."""


class Console:
    """Prints the items of one watch as they come (see the module doc), then its run tree."""

    def __init__(self, describe: Callable[..., Printed]) -> None:
        self._describe = describe
        self._printed = 0

    def print(self, *item: Any) -> None:
        """Print one item (the describer's arguments), if it is worth printing."""
        shown = self._describe(*item)
        if shown is None:
            return
        text, end = shown
        print(display_text(text), end=end, flush=True)  # secret-free, encodable (_redact)
        self._printed += 1

    def close(self, tree: str) -> None:
        """End the output with the run tree, on a line of its own."""
        print("\n" if self._printed else "", end="")
        print(tree)


def _where(namespace: list[str] | tuple[str, ...]) -> str:
    return f" {'/'.join(namespace)}" if namespace else ""


def describe_chunk(chunk: Any, part: tuple[tuple[str, ...], str, Any] | None) -> Printed:
    """What to print for one chunk a runnable yielded (``part``: the graph part it was read as)."""
    if part is None:
        return chunk_text(chunk), "\n" if is_json_chunk(chunk) else TOKEN_END
    namespace, mode, value = part
    if mode == "messages":
        return part_text(mode, value), TOKEN_END
    return f"\n[{mode}{_where(namespace)}] {part_text(mode, value)}", "\n"


class PartDescriber:
    """What to print for each part a LangGraph API server sends: ``(mode, namespace, data)``.

    Message parts are tokens; ``messages/partial`` parts repeat the message so far, so only what
    is new since the last part of the same message is printed. Message metadata is not printed.
    """

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}  # message id -> text printed so far (messages/partial)

    def __call__(self, mode: str, namespace: list[str], data: Any) -> Printed:
        """``(text, end)`` for one part, or ``None``."""
        if mode == "messages" and isinstance(data, list) and data and isinstance(data[0], dict):
            return _token(message_text(data[0]))
        if mode in ("messages/partial", "messages/complete") and isinstance(data, list):
            new = self._new_text([message for message in data if isinstance(message, dict)])
            return _token(new) if mode == "messages/partial" else None
        if mode == "messages/metadata":
            return None
        if mode == "events" and is_event_dict(data):
            inner = data.get("data")
            chunk = inner.get("chunk") if isinstance(inner, dict) else None
            if data["event"].endswith("_stream") and isinstance(chunk, dict) and "content" in chunk:
                return _token(message_text(chunk))
            return _line(f"[events{_where(namespace)}] {data['event']} {data.get('name', '')}")
        if mode == "error" and isinstance(data, dict):
            return _line(f"[error{_where(namespace)}] {data.get('error')}: {data.get('message')}")
        return _line(f"[{mode}{_where(namespace)}] {part_text(mode, data)}")

    def _new_text(self, messages: list[dict[str, Any]]) -> str:
        pieces = []
        for message in messages:
            key, text = str(message.get("id")), message_text(message)
            before = self._texts.get(key, "")
            self._texts[key] = text
            pieces.append(text[len(before) :] if text.startswith(before) else text)
        return "".join(pieces)


def _token(text: str) -> Printed:
    return (text, TOKEN_END) if text else None


def _line(text: str) -> Printed:
    return f"\n{text}", "\n"

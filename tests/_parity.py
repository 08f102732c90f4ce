"""Helpers to compare streamviz events with LangChain's own ``astream_events(version="v2")``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.outputs import Generation
from langchain_core.prompt_values import PromptValue

# astream_events reports errors only for tools; the collector reports them for every run type.
ASTREAM_EVENTS_ERRORS = {"on_tool_error"}


def comparable(value: Any) -> Any:
    """A value with run-dependent parts (message ids) removed, comparable across two runs."""
    if isinstance(value, BaseMessage):
        dumped = value.model_dump()
        dumped.pop("id", None)
        return (type(value).__name__, comparable(dumped))
    if isinstance(value, Document):
        return ("Document", value.page_content, comparable(value.metadata))
    if isinstance(value, PromptValue):
        return (type(value).__name__, comparable(value.to_messages()))
    if isinstance(value, Generation):
        return (type(value).__name__, comparable(value.model_dump()))
    if isinstance(value, BaseException):
        # a loaded trace gives errors back as SerializedError, carrying the original type name
        return ("error", getattr(value, "type", type(value).__name__), str(value))
    if isinstance(value, dict):
        return {key: comparable(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [comparable(item) for item in value]
    if isinstance(value, str):
        return str(value)  # parser chunks are a str subclass
    return value


def normalize(events: Iterable[dict[str, Any]], *, lc_kinds_only: bool = True) -> list[tuple]:
    """Events as tuples of what must match: kind, name, tags, metadata, place, chunk, output.

    Run ids become their order of first appearance; inputs are left out (astream_events moves
    the root's input onto whichever event it yields first).
    """
    ids: dict[str, int] = {}

    def number(run_id: str) -> int:
        return ids.setdefault(run_id, len(ids))

    out = []
    for event in events:
        kind = event["event"]
        if lc_kinds_only and kind.endswith("_error") and kind not in ASTREAM_EVENTS_ERRORS:
            continue
        parents = tuple(number(p) for p in event["parent_ids"])
        data = event["data"] if isinstance(event["data"], dict) else {"custom": event["data"]}
        out.append(
            (
                kind,
                event["name"],
                tuple(event["tags"]),
                comparable(_stable_metadata(event["metadata"])),
                number(event["run_id"]),
                parents,
                comparable(data.get("chunk")),
                comparable(data.get("output")),
                comparable(data.get("error")),
                comparable(data.get("custom")),
            )
        )
    return out


def _stable_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    # LangGraph adds per-run checkpoint and task ids; they differ between two runs.
    return {
        k: v for k, v in metadata.items() if "checkpoint" not in k and k != "langgraph_triggers"
    }


async def reference_events(runnable, value, config=None, **kwargs) -> tuple[list[dict], Any]:
    """LangChain's own events for one run, and the exception it raised (or None)."""
    events: list[dict] = []
    try:
        async for event in runnable.astream_events(value, config, version="v2", **kwargs):
            events.append(event)
    except Exception as error:  # the example may raise on purpose
        return events, error
    return events, None


def run(coro):
    return asyncio.run(coro)

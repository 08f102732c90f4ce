"""Event filters with the semantics of ``astream_events``' ``include_*`` / ``exclude_*`` arguments.

- An event passes when no ``include_*`` is given or when it matches any of them (name, run type or
  any tag), and it matches none of the ``exclude_*``.
- Matching looks at the event's own name, type and tags only; children match a tag filter because
  LangChain copies inherited tags onto them, not because the filter walks the tree.
- The "type" of a custom event is its name, as in LangChain.
- The same rules are checked against a shared file of JSON test vectors, so the front-end filter
  and this one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamviz.events import CUSTOM_EVENT, split_event

__all__ = ["EventFilter", "event_type"]


def event_type(event: Mapping[str, Any]) -> str:
    """The type an event is filtered by: its run type, the name of a custom event, or its mode."""
    kind = event["event"]
    if kind == CUSTOM_EVENT:
        return event["name"]
    split = split_event(kind)
    if split is not None:
        return split[0]
    return event.get("mode") or kind


def _frozen(values: Iterable[str] | str | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):  # a lone string is one name, not a set of characters
        return frozenset((values,))
    return frozenset(values)


@dataclass(frozen=True, init=False)
class EventFilter:
    """A reusable ``include_*`` / ``exclude_*`` filter.

    Parameters
    ----------
    include_names, include_types, include_tags
        Keep events whose name, type or any tag is listed (any of the three suffices).
    exclude_names, exclude_types, exclude_tags
        Then drop events whose name, type or any tag is listed.

    Examples
    --------
    >>> f = EventFilter(include_types=["chat_model"], exclude_tags=["internal"])
    >>> f.matches({"event": "on_chat_model_stream", "name": "model", "tags": []})
    True
    """

    include_names: frozenset[str] | None
    include_types: frozenset[str] | None
    include_tags: frozenset[str] | None
    exclude_names: frozenset[str] | None
    exclude_types: frozenset[str] | None
    exclude_tags: frozenset[str] | None

    def __init__(
        self,
        *,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> None:
        for key, values in (
            ("include_names", include_names),
            ("include_types", include_types),
            ("include_tags", include_tags),
            ("exclude_names", exclude_names),
            ("exclude_types", exclude_types),
            ("exclude_tags", exclude_tags),
        ):
            object.__setattr__(self, key, _frozen(values))

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every event."""
        return all(
            value is None
            for value in (
                self.include_names,
                self.include_types,
                self.include_tags,
                self.exclude_names,
                self.exclude_types,
                self.exclude_tags,
            )
        )

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` passes the filter."""
        name = event["name"]
        tags = event.get("tags") or ()
        kind = event_type(event)
        includes = (self.include_names, self.include_types, self.include_tags)
        keep = all(value is None for value in includes)
        if not keep:
            keep = (
                (self.include_names is not None and name in self.include_names)
                or (self.include_types is not None and kind in self.include_types)
                or (self.include_tags is not None and any(t in self.include_tags for t in tags))
            )
        if not keep:
            return False
        if self.exclude_names is not None and name in self.exclude_names:
            return False
        if self.exclude_types is not None and kind in self.exclude_types:
            return False
        return not (self.exclude_tags is not None and any(t in self.exclude_tags for t in tags))

    def __call__(self, event: Mapping[str, Any]) -> bool:
        """Same as :meth:`matches`, so a filter can be passed where a predicate is expected."""
        return self.matches(event)

"""What changed between two states of a LangGraph graph, as data and as text.

:func:`diff` compares two states (dicts of channel values, nested dicts, lists, messages...) and
returns :class:`Change` items: keys ``added``, ``removed`` or ``changed`` (nested dicts by path:
``plan.steps``), and lists that only grew at their end as ``appended`` (a message list after a
node ran: the new messages, not the whole list twice). :func:`diff_text` is the same as lines a
person reads::

    + draft: 'Cats are great.'
    ~ status: 'draft' → 'review'
    - scratch (was: 'tmp')
    messages += 1 item: ai: Why did the cat...

Pure functions of their arguments: no trace, no widget, no LangGraph import. Values are shown
through :func:`streamviz.presentation.text.preview` (short, secrets redacted). Never raises on
odd values: a value that cannot be compared counts as changed when its text differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamviz.presentation.text import preview

__all__ = ["Change", "apply_writes", "diff", "diff_text", "format_change", "update_text"]

VALUE_CHARS = 120
"""Longest text of one value in a change line."""


@dataclass(frozen=True)
class Change:
    """One difference between two states.

    ``kind``: ``added`` (``after`` is the new value), ``removed`` (``before`` was the value),
    ``changed`` (both), or ``appended`` (a list grew at its end: ``after`` holds the new items,
    ``before`` the list's length before). ``path``: the keys from the state's top down.
    """

    kind: str
    path: tuple[Any, ...]
    before: Any = None
    after: Any = None

    @property
    def key(self) -> str:
        """The path as text: ``plan.steps`` (list positions as ``[2]``)."""
        return path_text(self.path)


def path_text(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(state)"


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an object whose == raises or is ambiguous (arrays)
        return preview(a, 10_000) == preview(b, 10_000)


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def diff(before: Any, after: Any) -> list[Change]:
    """The changes that turn ``before`` into ``after`` (``None`` counts as an empty state).

    Dicts are compared key by key, nested dicts by path; a list whose old items are still its
    first items is ``appended`` to; any other difference is a ``changed`` value.
    """
    changes: list[Change] = []
    _diff(
        {} if before is None else before,
        {} if after is None else after,
        (),
        changes,
    )
    return changes


def _diff(before: Any, after: Any, path: tuple[Any, ...], out: list[Change]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key, value in after.items():
            if key not in before:
                out.append(Change("added", (*path, key), after=value))
            else:
                _diff(before[key], value, (*path, key), out)
        out.extend(
            Change("removed", (*path, key), before=value)
            for key, value in before.items()
            if key not in after
        )
        return
    if _is_list(before) and _is_list(after):
        size = len(before)
        if len(after) > size and _same(list(after[:size]), list(before)):
            out.append(Change("appended", path, before=size, after=list(after[size:])))
            return
    if not _same(before, after):
        out.append(Change("changed", path, before=before, after=after))


def _value(value: Any, limit: int = VALUE_CHARS) -> str:
    if isinstance(value, str):
        return repr(preview(value, limit))
    if value is None:
        return "None"
    if _is_list(value) and not value:
        return "[]"
    if isinstance(value, Mapping) and not value:
        return "{}"
    text = preview(value, limit)
    return text if text else repr(value)[:limit]


def format_change(change: Change, limit: int = VALUE_CHARS) -> str:
    """One change as a line of text (see the module's doc for the forms)."""
    key = change.key
    if change.kind == "added":
        return f"+ {key}: {_value(change.after, limit)}"
    if change.kind == "removed":
        return f"- {key} (was: {_value(change.before, limit)})"
    if change.kind == "appended":
        items = change.after
        label = "1 item" if len(items) == 1 else f"{len(items)} items"
        shown = " | ".join(_value(item, limit) for item in items[:5])
        more = f" | … {len(items) - 5} more" if len(items) > 5 else ""
        return f"{key} += {label}: {shown}{more}"
    return f"~ {key}: {_value(change.before, limit)} → {_value(change.after, limit)}"


def diff_text(before: Any, after: Any, limit: int = VALUE_CHARS) -> str:
    """The changes from ``before`` to ``after`` as lines of text; ``"(no change)"`` if none."""
    try:
        changes = diff(before, after)
    except Exception as error:  # a state too odd to walk (a recursive structure...)
        return f"(diff unavailable: {type(error).__name__})"
    if not changes:
        return "(no change)"
    return "\n".join(format_change(change, limit) for change in changes)


def apply_writes(state: Any, writes: Any) -> dict[str, Any]:
    """``state`` after a node's ``writes`` (a dict of channel values), as far as one can tell.

    LangGraph applies each channel's reducer, which a stream part does not name. A key that holds
    a list and gets a list that does not start with it is taken as appended to (``add_messages``,
    ``operator.add``: the usual reducers of list channels); any other write replaces the value.
    """
    after = dict(state) if isinstance(state, Mapping) else {}
    if not isinstance(writes, Mapping):
        return after
    for key, value in writes.items():
        old = after.get(key)
        if _is_list(old) and _is_list(value) and not _same(list(value[: len(old)]), list(old)):
            after[key] = [*old, *value]
        else:
            after[key] = value
    return after


def update_text(state: Any, update: Any, limit: int = VALUE_CHARS) -> str:
    """What an ``updates`` part (``{node: writes}``) changes in ``state``, as lines of text."""
    if not isinstance(update, Mapping):
        return "(no change)"
    lines: list[str] = []
    current = dict(state) if isinstance(state, Mapping) else {}
    for node, writes in update.items():
        if not isinstance(writes, Mapping):
            continue
        after = apply_writes(current, writes)
        text = diff_text(current, after, limit)
        label = f"{node}: " if len(update) > 1 else ""
        lines.extend(label + line for line in text.splitlines())
        current = after
    return "\n".join(lines) or "(no change)"

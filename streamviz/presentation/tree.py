"""The run tree as indented text, for terminals, logs and ``make demo``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from streamviz.presentation.text import interrupt_text, resume_text, send_text, tool_call_text
from streamviz.runs import Run

if TYPE_CHECKING:
    from streamviz.toolcalls import ToolCalls
    from streamviz.usage import Detached, UsageReport

__all__ = ["format_tree"]

_MARK = {"running": "…", "ok": "✓", "error": "✗", "cancelled": "⊘", "interrupted": "‖"}


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _line(
    run: Run,
    chunks: bool,
    calls: ToolCalls | None = None,
    usage: UsageReport | None = None,
    detached: dict[str, Detached] | None = None,
) -> str:
    send = send_text(run)
    label = run.name if send is None else f"{run.name} {send}"
    parts = [f"{_MARK.get(run.status, '?')} {label} [{run.run_type}]"]
    parts.append(_ms(run.duration) if run.status != "running" else "running")
    resume = resume_text(run, 120)
    if resume is not None:
        parts.append(f"resumed {run.thread_id or 'thread'} with {resume}")
    question = interrupt_text(run, 120)
    if question is not None:
        parts.append(f"paused: {question}" if question else "paused")
    if run.first_chunk is not None:
        parts.append(f"first chunk {_ms(run.time_to_first_chunk)}")
    if chunks and run.chunk_count:
        parts.append(f"{run.chunk_count:,} chunk{'' if run.chunk_count == 1 else 's'}")
    answered = calls.call_of(run.run_id) if calls is not None else None
    if answered is not None:
        parts.append(f"answers {answered.id}")
    if run.orphan:
        parts.append(f"parent {run.parent_id} not seen")
    if run.cycle:
        parts.append(f"parent {run.parent_id} is itself or below it: link not made")
    if usage is not None and run.run_id in usage.rolled:
        from streamviz.usage import usage_text

        parts.append(usage_text(usage.rolled[run.run_id], priced=usage.priced))
    flag = detached.get(run.run_id) if detached else None
    if flag is not None:
        parts.append(f"⚠ {flag.message} (likely inside {flag.parent_name}; fix: {flag.fix})")
    if run.error:
        parts.append(run.error.splitlines()[0][:120])
    # Names and errors come from payloads: keep control characters out of the terminal.
    return "  ".join(parts).translate(_CONTROL)


_MAX_INDENT = 64  # levels of indentation; deeper runs are drawn at this one, with their depth

_CONTROL = {code: " " for code in [*range(0, 32), 127] if code != 9}


def _call_lines(run: Run, calls: ToolCalls) -> list[str]:
    """One line per tool call the run asked for: ``→ name(args)  id  answered by <tool run>``."""
    lines = []
    for call in calls.of_run(run.run_id):
        parts = [f"→ {tool_call_text(call, 160)}", call.id or f"#{call.position}"]
        if call.tool_run_id is not None:
            parts.append("answered")
        elif not call.complete:
            parts.append("streaming")
        lines.append("  ".join(parts).translate(_CONTROL))
    return lines


def format_tree(
    roots: Sequence[Run],
    *,
    chunks: bool = True,
    calls: ToolCalls | None = None,
    usage: UsageReport | None = None,
    detached: dict[str, Detached] | None = None,
) -> str:
    """Render runs as a tree, one line each: status mark, name, type, duration, first chunk.

    With ``calls`` (:func:`streamviz.tool_calls`), a model run's tool calls follow it, one line
    each (``→ get_weather(city: Paris)  call_1  answered``), and a tool run says which call it
    answers (``answers call_1``). With ``usage`` (:mod:`streamviz.usage`), every run with model
    usage in or below it says it (``120 in · 45 out tokens  $0.0004``); with ``detached``, a root
    that very likely lost its parent says so, with the likely parent and the fix.
    """
    lines: list[str] = []
    # Depth first with a stack, not recursion, so a chain of runs thousands of levels deep (a
    # file can hold one) prints like any other tree; its indentation stops growing at
    # _MAX_INDENT levels (deeper lines say their depth), so the text grows with the run count.
    stack = [(root, "", True, 0) for root in reversed(roots)]
    while stack:
        run, prefix, last, depth = stack.pop()
        if depth == 0:
            branch = ""
        elif depth > _MAX_INDENT:
            branch = f"└─[{depth}] " if last else f"├─[{depth}] "
        else:
            branch = "└─ " if last else "├─ "
        lines.append(prefix + branch + _line(run, chunks, calls, usage, detached))
        flat = depth == 0 or depth > _MAX_INDENT
        below = prefix if flat else prefix + ("   " if last else "│  ")
        if calls is not None:
            inside = below + ("│  " if run.children else "   ")
            lines.extend(inside + line for line in _call_lines(run, calls))
        children = run.children
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], below, index == len(children) - 1, depth + 1))
    return "\n".join(lines)

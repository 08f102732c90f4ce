"""Token usage and cost per run, rolled up the run tree; runs that very likely lost their parent.

Usage
-----
A model run's token usage is read from what the model reported, in this order:

1. its streamed chunks' ``usage_metadata`` (``AIMessageChunk``; a dict from a server or a
   file). LangChain merges a stream's chunks by *adding* their usage, which is right for a
   provider that reports usage once (OpenAI's ``stream_usage``: the last chunk) or in parts
   (Anthropic: input on the first chunk, output on the last), and wrong for one that repeats
   its running total on every chunk (the double count of several streaming integrations). Such a
   stream is recognised (two or more chunks with usage, all with the same non-zero
   ``input_tokens`` and totals that never decrease) and its *last* usage is the run's;
2. else the final message's ``usage_metadata`` (the end event's output: a model whose streamed
   chunks carry no usage but whose result does), never added to the stream's: the final message
   of a stream is the stream's chunks merged;
3. else a legacy LLM's ``llm_output["token_usage"]`` (``prompt_tokens``, ``completion_tokens``,
   ``total_tokens``).

``input_token_details`` / ``output_token_details`` give ``cache_read``, ``cache_creation`` and
``reasoning`` (parts of the input and output counts, as LangChain defines them).

Every run's usage is its own (a model run's) plus that of every run below it, so a chain, a
graph node and a root show what their model calls used; the trace's total is the sum over its
model runs.

Cost is computed only from a price table the user gives (:func:`prices`, or ``prices=``): per
model name, dollars per million input and output tokens, and optionally per million cache-read
input tokens. The model's name is the one it reported (``response_metadata["model_name"]`` or
``["model"]``), else LangChain's ``ls_model_name``; a name is looked up exactly (``gpt-4o``'s
price is not ``gpt-4o-mini``'s). A model with no price gets no cost: its usage is counted and the
cost above it says that part is unknown (``unpriced``). Nothing is guessed.

Everything is read from the trace's columns (:meth:`streamviz._log.EventStore.columns`): the
chunks kept as objects (a stream's last chunk with its usage; never a plain token) and the end
events, so a million-event trace costs about what a DataFrame column does, live or loaded. Like
:mod:`streamviz.latency` this module stores nothing back and raises nothing into the observed
program: a chunk it cannot read costs that chunk's usage (logged), never an event.

Detached runs
-------------
A run that became a root although it very likely belongs inside another: LangChain gives a run
its parent through the ``config`` passed on, or through a context variable that a thread pool
(``ThreadPoolExecutor``) and, before Python 3.11, a new asyncio task do not inherit. Such a run
starts and ends inside a running run's span with no parent. :func:`detached_runs` flags a root
(no parent id; an ``orphan`` names one and is not flagged) whose whole span lies within another
run's, when that run (its likely parent: the innermost such run) and every run below it recorded
nothing while the root ran: it was waiting, very likely for the detached run. Two roots running
side by side (each doing its own work) and roots run one after the other are not flagged.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streamviz._errors import report_internal_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from streamviz._log import Columns
    from streamviz.runs import Run

__all__ = [
    "DETACHED_FIX",
    "Detached",
    "Price",
    "Usage",
    "UsageReport",
    "detached_runs",
    "prices",
    "read_usage",
    "usage_frame",
]

_MODEL_STREAMS = frozenset({"on_chat_model_stream", "on_llm_stream"})
_MODEL_ENDS = frozenset({"on_chat_model_end", "on_llm_end"})
_COUNTS = ("input", "output", "total", "cache_read", "cache_creation", "reasoning")

DETACHED_FIX = (
    "pass `config` on to the inner call (RunnableConfig propagation), "
    "or run it with ContextThreadPoolExecutor"
)
"""What fixes a detached run: hand the parent's config (its callbacks) to the inner call."""


# ------------------------------------------------------------------------------------ prices
@dataclass(frozen=True, slots=True)
class Price:
    """A model's price in dollars per million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    """Price of input tokens read from the provider's cache (``None``: the input price)."""

    def cost(self, usage: Usage) -> float:
        """Dollars for ``usage`` (cache reads at :attr:`cache_read`, if given)."""
        cached = usage.cache_read if self.cache_read is not None else 0
        return (
            (usage.input - cached) * self.input
            + cached * (self.cache_read or 0.0)
            + usage.output * self.output
        ) / 1e6


_prices: dict[str, Price] = {}
_prices_lock = threading.Lock()


def _price(name: str, value: Any) -> Price:
    if isinstance(value, Price):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"input", "output", "cache_read"}
        if unknown or "input" not in value or "output" not in value:
            raise ValueError(
                f"price of {name!r}: give 'input' and 'output' (and optionally 'cache_read'), "
                f"dollars per 1M tokens; got {sorted(value)}"
            )
        parts = [value["input"], value["output"], value.get("cache_read")]
    elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
        parts = [*value, None][:3]
    else:
        raise ValueError(
            f"price of {name!r}: a dict {{'input': ..., 'output': ...}} or a tuple "
            f"(input, output[, cache_read]) in dollars per 1M tokens, not {value!r}"
        )
    for part in parts:
        if part is not None and (
            isinstance(part, bool)
            or not isinstance(part, (int, float))
            or not math.isfinite(part)
            or part < 0
        ):
            raise ValueError(f"price of {name!r}: {part!r} is not a non-negative number")
    cache = None if parts[2] is None else float(parts[2])
    return Price(float(parts[0]), float(parts[1]), cache)


def price_table(table: Mapping[str, Any] | None) -> dict[str, Price]:
    """``table`` checked and as :class:`Price` s (``None``: the table set with :func:`prices`)."""
    if table is None:
        with _prices_lock:
            return dict(_prices)
    if not isinstance(table, Mapping):
        raise ValueError(f"prices: a dict of model name -> price, not {type(table).__name__}")
    return {str(name): _price(str(name), value) for name, value in table.items()}


def prices(table: Mapping[str, Any] | None = None, /) -> dict[str, Price]:
    """Set the prices usage costs are computed with; return the table in use.

    ``table`` maps a model name (as the model reports it) to its price in dollars per million
    tokens: ``{"input": 2.5, "output": 10.0}`` (optionally ``"cache_read": 1.25``) or a tuple
    ``(input, output[, cache_read])``. It replaces the table set before (``prices({})``
    clears it). Called with no argument it only returns the table. A model not in the table
    gets no cost (shown as unknown): prices are never guessed.

    >>> import streamviz as sv
    >>> sv.prices({"gpt-4o-mini": {"input": 0.15, "output": 0.60}})  # doctest: +SKIP
    """
    global _prices
    if table is None:
        return price_table(None)
    new = price_table(table)
    with _prices_lock:
        _prices = new
    return dict(new)


# ------------------------------------------------------------------------------------- usage
@dataclass(slots=True)
class Usage:
    """Token counts (and their cost, when priced) of one model call, a run or a trace."""

    input: int = 0
    output: int = 0
    total: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    cost: float | None = None
    """Dollars of the priced part (``None`` if no part is priced)."""
    unpriced: int = 0
    """Model calls counted here whose model has no price: the cost leaves them out."""
    calls: int = 0
    """Model calls with usage counted here."""
    models: list[str] = field(default_factory=list)
    """The model names counted here (each once, in order of first call)."""

    def add(self, other: Usage) -> None:
        """Add ``other``'s counts and cost to these."""
        self.input += other.input
        self.output += other.output
        self.total += other.total
        self.cache_read += other.cache_read
        self.cache_creation += other.cache_creation
        self.reasoning += other.reasoning
        if other.cost is not None:
            self.cost = other.cost + (self.cost or 0.0)
        self.unpriced += other.unpriced
        self.calls += other.calls
        for name in other.models:
            if name not in self.models:
                self.models.append(name)

    def remove(self, other: Usage) -> None:
        """Take ``other`` (added before) out of these counts and cost."""
        self.input -= other.input
        self.output -= other.output
        self.total -= other.total
        self.cache_read -= other.cache_read
        self.cache_creation -= other.cache_creation
        self.reasoning -= other.reasoning
        self.unpriced -= other.unpriced
        self.calls -= other.calls
        if other.cost is not None and self.cost is not None:
            self.cost -= other.cost
        if self.calls - self.unpriced <= 0:  # no priced call left
            self.cost = None

    @property
    def cost_known(self) -> bool:
        """Whether every call counted here has a price (the cost is complete)."""
        return self.unpriced == 0 and self.cost is not None


@dataclass(slots=True)
class _Call:
    """What one model run reported."""

    stream: list[dict[str, int]] = field(default_factory=list)
    end: dict[str, int] | None = None
    end_source: str | None = None
    model: str | None = None


def _get(item: Any, key: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value) if math.isfinite(value) else 0


def _counts(usage: Any) -> dict[str, int] | None:
    """A ``usage_metadata`` (dict or object) as counts, or None if there is none."""
    if usage is None:
        return None
    if not isinstance(usage, Mapping):
        usage = getattr(usage, "__dict__", None)
        if not isinstance(usage, Mapping):
            return None
    if not any(key in usage for key in ("input_tokens", "output_tokens", "total_tokens")):
        return None
    inputs, outputs = (
        usage.get("input_token_details") or {},
        usage.get("output_token_details") or {},
    )
    counts = {
        "input": _int(usage.get("input_tokens")),
        "output": _int(usage.get("output_tokens")),
        "total": _int(usage.get("total_tokens")),
        "cache_read": _int(_get(inputs, "cache_read")),
        "cache_creation": _int(_get(inputs, "cache_creation")),
        "reasoning": _int(_get(outputs, "reasoning")),
    }
    if "total_tokens" not in usage:
        counts["total"] = counts["input"] + counts["output"]
    return counts


def _legacy_counts(llm_output: Any) -> dict[str, int] | None:
    """A legacy LLM's ``llm_output["token_usage"]`` as counts."""
    token_usage = _get(llm_output, "token_usage") if llm_output is not None else None
    if not isinstance(token_usage, Mapping) or not token_usage:
        return None
    inputs = token_usage.get("prompt_tokens_details") or {}
    outputs = token_usage.get("completion_tokens_details") or {}
    counts = {
        "input": _int(token_usage.get("prompt_tokens")),
        "output": _int(token_usage.get("completion_tokens")),
        "total": _int(token_usage.get("total_tokens")),
        "cache_read": _int(_get(inputs, "cached_tokens")),
        "cache_creation": 0,
        "reasoning": _int(_get(outputs, "reasoning_tokens")),
    }
    if "total_tokens" not in token_usage:
        counts["total"] = counts["input"] + counts["output"]
    return counts


def _message(value: Any) -> Any:
    """The message in a stream chunk or an output (a generation chunk holds one)."""
    if isinstance(value, Mapping):
        return value.get("message", value) if "message" in value else value
    # Asked of the class: a missing attribute of a pydantic message costs microseconds.
    if "message" in getattr(type(value), "model_fields", ()):
        return value.message
    return value


def _model_name(message: Any) -> str | None:
    metadata = _get(message, "response_metadata")
    if isinstance(metadata, Mapping):
        for key in ("model_name", "model"):
            name = metadata.get(key)
            if isinstance(name, str) and name:
                return name
    return None


def _is_cumulative(stream: list[dict[str, int]]) -> bool:
    """Whether a stream's usages repeat a running total (the double-count pattern)."""
    if len(stream) < 2:
        return False
    first = stream[0]["input"]
    if first <= 0 or any(item["input"] != first for item in stream):
        return False
    return all(
        later["output"] >= earlier["output"] and later["total"] >= earlier["total"]
        for earlier, later in itertools.pairwise(stream)
    )


def _call_usage(call: _Call) -> tuple[dict[str, int] | None, str | None]:
    """A model run's counts and where they came from (see the module docstring)."""
    if call.stream:
        if _is_cumulative(call.stream):
            return dict(call.stream[-1]), "stream (cumulative)"
        total = dict.fromkeys(_COUNTS, 0)
        for item in call.stream:
            for key in _COUNTS:
                total[key] += item[key]
        return total, "stream"
    if call.end is not None:
        return call.end, call.end_source
    return None, None


def _read_chunk(call: _Call, chunk: Any) -> None:
    message = _message(chunk)
    counts = _counts(_get(message, "usage_metadata"))
    if counts is not None:
        call.stream.append(counts)
    name = _model_name(message)
    if name is not None:
        call.model = name


def _read_end(call: _Call, event: Mapping[str, Any]) -> None:
    data = event.get("data")
    output = data.get("output") if isinstance(data, Mapping) else None
    if output is None:
        return
    message = _message(output)
    counts = _counts(_get(message, "usage_metadata"))
    source = "message"
    if counts is None:
        counts, source = _legacy_counts(_get(output, "llm_output")), "llm_output"
    if counts is None:  # a chat result's generations (LLMResult-shaped output)
        generations = _get(output, "generations")
        if isinstance(generations, list) and generations and isinstance(generations[0], list):
            for generation in generations[0][:1]:
                counts = _counts(_get(_message(generation), "usage_metadata"))
                source = "message"
    if counts is not None:
        call.end, call.end_source = counts, source
    name = _model_name(message)
    if name is None:
        llm_output = _get(output, "llm_output")
        name = _get(llm_output, "model_name") if llm_output is not None else None
    if isinstance(name, str) and name:
        call.model = name


def _model_templates(columns: Columns) -> np.ndarray:
    """Per template, whether its rows are a model run's own stream.

    A graph's parts are ``on_graph_<mode>`` events; a server's ``events`` parts keep their kind
    (and a ``mode``): they are the model's own stream, as ``astream_events`` gave it there.
    """
    import numpy as np

    return np.array(
        [
            fields.get("event") in _MODEL_STREAMS and "run_id" in fields
            for fields in columns.templates
        ]
        or [False],
        dtype=bool,
    )


def read_calls(columns: Columns, calls: dict[str, _Call] | None = None) -> dict[str, _Call]:
    """What every model run of a window reported, by run id (chunks kept as objects, ends).

    ``calls``: what earlier windows reported, updated in place with this window's (a live
    reader reads each window once). Returns the calls of the runs this window touched.
    """
    import numpy as np

    calls = {} if calls is None else calls
    touched: dict[str, _Call] = {}
    templates = columns.templates
    try:
        positions, chunks = columns.objects(_model_templates(columns))
    except Exception as error:  # the analysis is lost, never an event
        report_internal_error("streamviz usage (stream chunks)", error)
        positions, chunks = np.empty(0, dtype=np.int64), []
    template_of = columns.template
    items: list[tuple[int, Any, Any]] = [
        (position, templates[template_of[position]].get("run_id"), chunk)
        for position, chunk in zip(positions.tolist(), chunks, strict=True)
    ]
    for position, event in zip(columns.positions.tolist(), columns.dicts, strict=True):
        kind = event.get("event")
        if kind in _MODEL_ENDS or kind in _MODEL_STREAMS:
            items.append((position, event.get("run_id"), event))
    items.sort(key=lambda item: item[0])
    for _, run_id, item in items:
        if not isinstance(run_id, str):
            continue
        try:
            call = calls.get(run_id)
            if call is None:
                call = calls[run_id] = _Call()
            touched[run_id] = call
            if isinstance(item, dict) and item.get("event") in _MODEL_ENDS and "data" in item:
                _read_end(call, item)
            elif isinstance(item, dict) and item.get("event") in _MODEL_STREAMS:
                data = item.get("data")
                if isinstance(data, Mapping):
                    _read_chunk(call, data.get("chunk"))
            else:
                _read_chunk(call, item)
        except Exception as error:  # one unreadable report costs its usage, never an event
            report_internal_error("streamviz usage", error)
    return touched


@dataclass(slots=True)
class UsageReport:
    """Every run's usage: its own (model runs) and rolled up (every run), and the trace's."""

    own: dict[str, Usage]
    """Model runs' own usage, by run id."""
    sources: dict[str, str]
    """Where each model run's usage came from (``stream``, ``stream (cumulative)``, ``message``,
    ``llm_output``)."""
    models: dict[str, str]
    """Each model run's model name, when known."""
    rolled: dict[str, Usage]
    """Every run with usage in or below it, by run id."""
    total: Usage
    """The trace's: the sum over its model runs."""
    priced: bool = False
    """Whether a price table was in use (else costs are not shown as unknown: not asked)."""


def read_usage(
    columns: Columns, runs: Mapping[str, Run], table: Mapping[str, Any] | None = None
) -> UsageReport:
    """Every run's usage and cost from a window of columns and the run tree (lock held or not).

    ``table``: the prices (:func:`prices` form); ``None``: the table set with :func:`prices`.
    """
    calls: dict[str, _Call] = {}
    read_calls(columns, calls)
    return report_of(calls, runs, table)


def report_of(
    calls: Mapping[str, _Call], runs: Mapping[str, Run], table: Mapping[str, Any] | None = None
) -> UsageReport:
    """Every run's usage and cost from what the model runs reported (see :func:`read_calls`)."""
    price_of = price_table(table)
    report = UsageReport({}, {}, {}, {}, Usage(), bool(price_of))
    update_report(report, calls, calls, runs, price_of)
    return report


def update_report(
    report: UsageReport,
    calls: Mapping[str, _Call],
    run_ids: Iterable[str],
    runs: Mapping[str, Run],
    price_of: Mapping[str, Price] | None = None,
) -> set[str]:
    """Update ``report`` for the model runs ``run_ids`` whose reports changed (a live reader).

    Each run's change is added to the run, every run above it and the total, so an update
    costs its model runs' depth, not the trace. Returns the ids of the runs whose usage changed.
    """
    price_of = price_table(None) if price_of is None else price_of
    changed: set[str] = set()
    for run_id in run_ids:
        call = calls.get(run_id)
        if call is None:
            continue
        run = runs.get(run_id)
        name = call.model
        if name is None and run is not None and isinstance(run.metadata, dict):
            name = run.metadata.get("ls_model_name")
            name = name if isinstance(name, str) and name else None
        if name is not None:
            report.models[run_id] = name
        counts, source = _call_usage(call)
        if counts is None:
            continue
        usage = Usage(**counts, calls=1, models=[name] if name else [])
        price = price_of.get(name) if name is not None else None
        if price is None:
            usage.unpriced = 1
        else:
            usage.cost = price.cost(usage)
        old = report.own.get(run_id)
        if old == usage:
            continue
        report.own[run_id] = usage
        report.sources[run_id] = source or ""
        if old is not None:
            report.total.remove(old)
        report.total.add(usage)
        seen: set[str] = set()
        while run is not None and run.run_id not in seen:  # the run and its ancestors
            seen.add(run.run_id)
            rolled = report.rolled.setdefault(run.run_id, Usage())
            if old is not None:
                rolled.remove(old)
            rolled.add(usage)
            run = run.parent
        if run_id not in seen:  # a model run the tree does not know
            rolled = report.rolled.setdefault(run_id, Usage())
            if old is not None:
                rolled.remove(old)
            rolled.add(usage)
            seen.add(run_id)
        changed |= seen
    return changed


_FRAME_COLUMNS = {
    "run_id": "string",
    "parent_id": "string",
    "name": "string",
    "run_type": "string",
    "model": "string",
    "source": "string",
    "input_tokens": "Int64",
    "output_tokens": "Int64",
    "total_tokens": "Int64",
    "cache_read_tokens": "Int64",
    "cache_creation_tokens": "Int64",
    "reasoning_tokens": "Int64",
    "calls": "Int64",
    "cost": "Float64",
    "unpriced": "Int64",
}

USAGE_COLUMNS = (
    "model",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "cost",
    "unpriced",
)
"""The usage columns :meth:`streamviz.Trace.runs_df` adds (see :func:`usage_columns`)."""


def _row(usage: Usage | None) -> dict[str, Any]:
    if usage is None:
        return dict.fromkeys(
            (
                "input_tokens",
                "output_tokens",
                "total_tokens",
                "cache_read_tokens",
                "cache_creation_tokens",
                "reasoning_tokens",
                "calls",
                "cost",
                "unpriced",
            )
        )
    return {
        "input_tokens": usage.input,
        "output_tokens": usage.output,
        "total_tokens": usage.total,
        "cache_read_tokens": usage.cache_read,
        "cache_creation_tokens": usage.cache_creation,
        "reasoning_tokens": usage.reasoning,
        "calls": usage.calls,
        "cost": usage.cost,
        "unpriced": usage.unpriced,
    }


def usage_frame(report: UsageReport, runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run with usage in or below it, in start order (see ``Trace.usage``)."""
    import pandas as pd

    rows: dict[str, list[Any]] = {name: [] for name in _FRAME_COLUMNS}
    for run in runs:
        usage = report.rolled.get(run.run_id)
        if usage is None:
            continue
        values = {
            "run_id": run.run_id,
            "parent_id": run.parent_id,
            "name": run.name,
            "run_type": run.run_type,
            "model": report.models.get(run.run_id),
            "source": report.sources.get(run.run_id),
            **_row(usage),
        }
        for name, value in values.items():
            rows[name].append(value)
    return pd.DataFrame(
        {name: pd.array(values, dtype=_FRAME_COLUMNS[name]) for name, values in rows.items()}
    )


def usage_columns(report: UsageReport, runs: list[Run]) -> dict[str, Any]:
    """The usage columns of ``runs_df`` for ``runs`` (rolled-up usage; NA where none)."""
    import pandas as pd

    from streamviz.frames import string_array

    rows = [_row(report.rolled.get(run.run_id)) for run in runs]
    columns: dict[str, Any] = {
        "model": string_array([report.models.get(run.run_id) for run in runs])
    }
    for name in USAGE_COLUMNS[1:]:
        columns[name] = pd.array([row[name] for row in rows], dtype=_FRAME_COLUMNS[name])
    return columns


def _count(value: int) -> str:
    return f"{value:,}"


def cost_text(usage: Usage) -> str:
    """``$0.0123``, ``$0.0123 + unknown`` (some calls unpriced) or ``cost unknown``."""
    if usage.cost is None:
        return "cost unknown"
    cost = usage.cost
    dollars = f"${cost:,.2f}" if cost >= 1 else f"${cost:.4f}" if cost >= 0.01 else f"${cost:.6f}"
    return dollars if usage.unpriced == 0 else f"{dollars} + unknown"


def usage_text(usage: Usage, *, priced: bool = True) -> str:
    """Usage for people: ``120 in · 45 out tokens (cache read 100, reasoning 10)  $0.0004``.

    ``priced``: whether a price table is in use; without one, no cost is mentioned.
    """
    text = f"{_count(usage.input)} in · {_count(usage.output)} out tokens"
    details = [
        f"{label} {_count(value)}"
        for label, value in (
            ("cache read", usage.cache_read),
            ("cache write", usage.cache_creation),
            ("reasoning", usage.reasoning),
        )
        if value
    ]
    if details:
        text += f" ({', '.join(details)})"
    if priced or usage.cost is not None:
        text += f"  {cost_text(usage)}"
    return text


# ----------------------------------------------------------------------------- detached runs
@dataclass(frozen=True, slots=True)
class Detached:
    """A root that very likely belongs inside another run (see the module docstring)."""

    run_id: str
    likely_parent: str
    """Id of the run it very likely belongs to (the innermost run whose span holds it)."""
    parent_name: str
    message: str = "possibly detached: callbacks not propagated"
    fix: str = DETACHED_FIX


def _busy(run: Run, start: float, end: float) -> bool:
    """Whether ``run`` or a run below it recorded anything strictly between start and end."""
    stack, seen = [run], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for moment in (item.start, item.end):
            if moment is not None and start < moment < end:
                return True
        first, last = item.first_chunk, item.last_chunk
        if first is not None and last is not None and first < end and last > start:
            return True
        stack.extend(item.children)
    return False


def detached_runs(
    runs: Mapping[str, Run], roots: Iterable[Run] | None = None
) -> dict[str, Detached]:
    """The roots that very likely lost their parent, by run id (see the module docstring).

    ``roots``: only look at these (a live reader asks once per root, when it has ended: what
    the flag depends on was recorded by then).
    """
    import numpy as np

    found: dict[str, Detached] = {}
    roots = [
        run
        for run in (runs.values() if roots is None else roots)
        if run.parent_id is None and run.start is not None and run.end is not None
    ]
    if not roots or len(runs) < 2:
        return found
    timed = [run for run in runs.values() if run.start is not None]
    starts = np.array([run.start for run in timed], dtype=np.float64)
    ends = np.array([math.inf if run.end is None else run.end for run in timed], dtype=np.float64)
    for run in roots:
        holding = np.flatnonzero((starts < run.start) & (ends > run.end))
        if not len(holding):
            continue
        holder = timed[int(holding[np.argmax(starts[holding])])]  # the innermost
        if _below(holder, run) or _busy(holder, run.start, run.end):  # type: ignore[arg-type]
            continue
        found[run.run_id] = Detached(run.run_id, holder.run_id, holder.name)
    return found


def _below(run: Run, root: Run) -> bool:
    """Whether ``run`` is ``root`` or below it."""
    seen: set[str] = set()
    while run is not None and run.run_id not in seen:
        if run is root:
            return True
        seen.add(run.run_id)
        run = run.parent  # type: ignore[assignment]
    return False

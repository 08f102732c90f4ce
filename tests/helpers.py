"""Small helpers shared by the tests: a clock the test moves, waiting for what must happen, skips.

Imported like the other helper modules here (``from helpers import ...``): pytest puts this folder
on ``sys.path`` while it imports the tests (its default ``prepend`` import mode).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import pytest

_real_asyncio_sleep = asyncio.sleep

EVENTUALLY_TIMEOUT_S = 60.0  # only a hang guard: the condition is expected long before


class FakeClock:
    """A clock only the test moves, shaped like the ``time`` module where code reads the time.

    ``perf_counter``/``monotonic`` read it; ``sleep`` (and ``asleep``, for ``asyncio.sleep``)
    returns at once, recording the seconds asked for in :attr:`slept` and moving the clock by
    them, so code that waits "until its deadline" sees the deadline reached.
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def perf_counter(self) -> float:
        return self.now

    monotonic = perf_counter

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float, result=None):
        self.sleep(seconds)
        await _real_asyncio_sleep(0)  # still a point where other tasks run, as a sleep is
        return result


def eventually(
    condition: Callable[[], bool], what: str = "", timeout: float = EVENTUALLY_TIMEOUT_S
):
    """Wait until ``condition()`` is true (another thread makes it so); fail only on a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after {timeout:.0f} s: {what or condition}")
        time.sleep(0.005)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str, *, module: bool = False) -> None:
    """A tool the test (or with ``module=True``, the whole test module) needs is missing: fail
    under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{what}; this test must run under CI", pytrace=False)
    pytest.skip(what, allow_module_level=module)


def without_task_ids(namespace) -> tuple[str, ...]:
    """A LangGraph namespace (``("node:task-id", ...)``) without the run-dependent task ids."""
    return tuple(level.split(":")[0] for level in namespace)


TRACE_SUFFIXES = ("jsonl", "parquet", "arrow")
"""The trace file formats, by the suffix that picks them (tests run over each)."""


def need_pyarrow(*, module: bool = False) -> None:
    """Parquet and Arrow trace files need pyarrow (in the ``test`` extra)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        missing("pyarrow is not installed (pip install 'streamviz[parquet]')", module=module)


def readable_text(path) -> str:
    """Everything a reader of a trace file sees, as text.

    A JSONL file's bytes; for a Parquet or Arrow file (compressed, so its bytes prove nothing),
    every cell of every row and the key-value metadata.
    """
    import json
    import pathlib

    path = pathlib.Path(path)
    if path.suffix == ".jsonl":
        return path.read_bytes().decode("utf-8")
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    table = pq.read_table(path) if path.suffix == ".parquet" else feather.read_table(path)
    metadata = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    assert isinstance(table, pa.Table)
    return json.dumps([metadata, table.to_pylist()], ensure_ascii=False)

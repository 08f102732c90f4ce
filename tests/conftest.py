"""Fixtures shared by the test folders."""

from __future__ import annotations

import pytest
from helpers import TRACE_SUFFIXES, FakeClock, need_pyarrow
from notebook_runs import NotebookRuns


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> NotebookRuns:
    """``executed_notebooks.get("00_tour.ipynb", ...)``: notebooks run once per session."""
    return NotebookRuns(tmp_path_factory)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock the test moves; put it where the code under test reads the time (monkeypatch)."""
    return FakeClock()


@pytest.fixture(params=TRACE_SUFFIXES)
def suffix(request) -> str:
    """Each trace file format in turn, as the suffix that picks it: jsonl, parquet, arrow."""
    if request.param != "jsonl":
        need_pyarrow()
    return request.param


@pytest.fixture
def ticked_by_hand(monkeypatch) -> None:
    """Widgets made in the test are never followed by the update thread: the test ticks them.

    Unfollowing a widget after it is made is not enough: making it starts the thread if none
    runs, and the new thread may tick the widget once, on the real clock, before the test
    unfollows it (a test run alone lost that race every time).
    """
    from streamviz.widgets import _live

    monkeypatch.setattr(_live, "follow", lambda widget: None)

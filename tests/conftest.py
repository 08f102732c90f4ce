"""Fixtures shared by the test folders."""

from __future__ import annotations

import pytest
from helpers import FakeClock
from notebook_runs import NotebookRuns


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> NotebookRuns:
    """``executed_notebooks.get("00_tour.ipynb", ...)``: notebooks run once per session."""
    return NotebookRuns(tmp_path_factory)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock the test moves; put it where the code under test reads the time (monkeypatch)."""
    return FakeClock()

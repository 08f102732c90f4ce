"""Fixtures shared by the test folders."""

from __future__ import annotations

import pytest
from notebook_runs import NotebookRuns


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> NotebookRuns:
    """``executed_notebooks.get("00_tour.ipynb", ...)``: notebooks run once per session."""
    return NotebookRuns(tmp_path_factory)

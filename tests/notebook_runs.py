"""The teaching notebooks executed headless, each at most once per test session.

Every notebook runs with nbclient (``store_widget_state=True``, as JupyterLab saves widget state
when that setting is on), several at a time (they mostly wait on the demo model's timing), each
in its own directory holding a copy of ``notebooks/traces``, offline (no
``STREAMVIZ_CHAT_MODEL``). The ``executed_notebooks`` fixture (``conftest.py``) shares one
:class:`NotebookRuns` between ``test_notebooks.py`` and the browser tests of exported pages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PARALLEL = 4  # kernels at once: the notebooks mostly sleep on the demo model's token delays
# Hang guards, not speed limits (speed is measured by `make bench`): a kernel that does not start
# or a cell that does not end in this long is stuck, however busy the machine.
CELL_TIMEOUT_S = 300
KERNEL_START_TIMEOUT_S = 300


async def _execute(path: Path, workdir: Path, limit: asyncio.Semaphore) -> Any:
    notebook = nbformat.read(path, as_version=4)
    shutil.copytree(NOTEBOOK_DIR / "traces", workdir / "traces")
    async with limit:
        try:
            await _client(notebook, workdir).async_execute()
        except Exception as error:  # reported by the test of this notebook
            return error
    return notebook


def _client(notebook: Any, workdir: Path, **options: Any) -> NotebookClient:
    return NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=KERNEL_START_TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
        **options,
    )


class NotebookRuns:
    """Executes notebooks on demand and keeps the results (notebook, or the exception)."""

    def __init__(self, tmp_path_factory: Any) -> None:
        self._tmp = tmp_path_factory
        self._done: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, *names: str) -> dict[str, Any]:
        """Name -> executed notebook (or the exception that stopped it), running what is new."""
        with self._lock:
            todo = [NOTEBOOK_DIR / name for name in names if name not in self._done]
            if todo:
                self._done.update(zip([p.name for p in todo], self._run(todo), strict=True))
            return {name: self._done[name] for name in names}

    def _run(self, paths: list[Path]) -> list[Any]:
        async def run_all() -> list[Any]:
            limit = asyncio.Semaphore(PARALLEL)
            return await asyncio.gather(
                *(_execute(path, self._tmp.mktemp(path.stem), limit) for path in paths)
            )

        # In a thread of its own: a browser test's Playwright (sync API) marks an event loop as
        # running in the test's thread, where asyncio.run would refuse to start.
        saved = os.environ.pop("STREAMVIZ_CHAT_MODEL", None)  # offline: the demo model
        try:
            with ThreadPoolExecutor(1) as worker:
                return worker.submit(lambda: asyncio.run(run_all())).result()
        finally:
            if saved is not None:
                os.environ["STREAMVIZ_CHAT_MODEL"] = saved


def execute_cells(cells: list[str], workdir: Path, *, allow_errors: bool = False) -> Any:
    """A new notebook of these code cells, executed like the teaching notebooks.

    Raises on a cell's error, unless ``allow_errors`` (then the errors are the cells' outputs).
    Runs in a thread of its own, so it also works while a browser test's Playwright is started.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    cells = [nbformat.v4.new_code_cell(source.strip()) for source in cells]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = _client(notebook, workdir, allow_errors=allow_errors)
    with ThreadPoolExecutor(1) as worker:
        worker.submit(lambda: asyncio.run(client.async_execute())).result()
    return notebook

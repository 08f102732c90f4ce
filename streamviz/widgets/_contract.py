"""The widget contract (``contract.json``), the one declaration both sides of the widget read.

The Python widget takes its views, filter keys and snapshot version from here; the front-end
imports the same file (``js/src/contract.js``); tests hold the widget's traits and the encoder's
messages against it, so a field renamed on one side only fails the build instead of leaving
pages blank.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CONTRACT", "FILTER_LISTS", "VERSION", "VIEWS", "empty_filters"]

CONTRACT: dict[str, Any] = json.loads(
    (Path(__file__).with_name("contract.json")).read_text(encoding="utf-8")
)
VERSION: int = CONTRACT["version"]
"""Version of the snapshot and deltas; a front-end refuses one it does not know."""
VIEWS: tuple[str, ...] = tuple(CONTRACT["views"])
FILTER_LISTS: tuple[str, ...] = tuple(CONTRACT["filters"]["lists"])
"""The include/exclude lists of the ``filters`` trait (astream_events semantics)."""


def empty_filters() -> dict[str, Any]:
    """The ``filters`` trait with nothing filtered."""
    filters: dict[str, Any] = {key: [] for key in FILTER_LISTS}
    filters[CONTRACT["filters"]["kinds"]] = []
    filters[CONTRACT["filters"]["search"]] = ""
    return filters

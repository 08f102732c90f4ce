"""The optional C module, ``streamviz._speedups``, or None.

Built at install when a C compiler is there (``hatch_build.py``); ``STREAMVIZ_PURE_PYTHON`` set
chooses the Python paths at run time. ``_log.py`` configures the module; every user takes it
from here, so the rule is one.
"""

from __future__ import annotations

import os
from typing import Any

speedups: Any = None
if not os.environ.get("STREAMVIZ_PURE_PYTHON"):
    try:
        from streamviz import _speedups as speedups  # type: ignore[attr-defined,no-redef]
    except ImportError:
        speedups = None

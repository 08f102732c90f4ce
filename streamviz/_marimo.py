"""marimo support: live dashboards in marimo notebooks and apps (``marimo edit`` / ``marimo run``).

marimo runs anywidgets without IPython: a widget's comm is marimo's own, bound to the session
that opened it, so the update thread's deltas (custom messages) and trait changes reach the page
while the cell still runs. What differs from Jupyter:

- **Showing.** There is no IPython display: a widget is appended to the running cell's output with
  ``mo.output.append``, and a :class:`~streamviz.Trace` that is a cell's last value is shown
  through marimo's ``_display_`` protocol (``Trace._display_`` calls :func:`trace_display`
  through :mod:`streamviz._display`, the only module that uses this one).
  A trace already on screen in the same cell run (``sv.watch(...)`` as the last expression) keeps
  that dashboard instead of getting a second one.
- **A page that loads late.** marimo's front-end drops custom messages that come before the
  widget's module has loaded (it loads it when the output is drawn, often after the first
  delta), and hands page messages to the kernel only when the cell has finished. The widget's own
  snapshot refreshes while live (``widgets/_widget.py``) fill that gap: nothing marimo-specific.

marimo is imported only when it is already running the program (:func:`active`), so importing
streamviz never imports marimo.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamviz.trace import Trace
    from streamviz.widgets import TraceWidget

__all__ = ["active", "display", "trace_display"]

# The output element last shown for each trace and the marimo execution context (one per cell
# run) it was shown in, both weakly: a trace that is the last value of that same cell run is not
# drawn twice. (A strong element would keep its widget, and so the trace, alive forever.)
_shown: weakref.WeakKeyDictionary[Trace, tuple[Any, weakref.ref[Any]]] = weakref.WeakKeyDictionary()
_shown_lock = threading.Lock()


def active() -> bool:
    """Whether this code runs in a marimo notebook or app kernel (never imports marimo)."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an unexpected marimo: behave as outside marimo
        return False


def _execution() -> Any:
    """The current cell run's marimo execution context (a new object per run), or ``None``."""
    try:
        from marimo._runtime.context import get_context

        return get_context().execution_context
    except Exception:  # not in a cell, or marimo moved it: no deduplication then
        return None


def _element(widget: TraceWidget) -> Any:
    import marimo as mo

    return mo.ui.anywidget(widget)


def _remember(trace: Trace, element: Any) -> None:
    execution = _execution()
    if execution is not None:
        with _shown_lock:
            _shown[trace] = (weakref.ref(execution), weakref.ref(element))


def display(widget: TraceWidget) -> None:
    """Append ``widget`` to the running cell's output (``sv.watch``, ``sv.show``)."""
    import marimo as mo

    element = _element(widget)
    mo.output.append(element)
    _remember(widget.trace, element)


def _output_now(execution: Any, element: Any) -> Any:
    """The cell run's output as shown now (it holds ``element``), else ``element`` itself.

    Returning the very output marimo shows keeps the dashboard's page element (no redraw when
    the cell ends); returning the element alone would replace the output with a new copy.
    """
    try:
        stack = execution.output.stack()
    except Exception:  # marimo changed: a redraw of the same widget is the fallback
        return element
    return element if stack is None else stack


def trace_display(trace: Trace) -> Any:
    """What marimo shows for a trace that is a cell's value: its dashboard, once per cell run."""
    with _shown_lock:
        shown = _shown.get(trace)
    execution = _execution()
    if shown is not None and execution is not None and shown[0]() is execution:
        element = shown[1]()
        if element is not None:  # already in this cell run's output: keep that output as it is
            return _output_now(execution, element)
    from streamviz.widgets import Dashboard

    widget = Dashboard(trace)
    element = _element(widget)
    _remember(trace, element)
    return element

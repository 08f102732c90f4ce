"""Where widgets appear: a Jupyter kernel, a marimo notebook, or nowhere (a plain script).

This is the one module that knows the front-ends a trace can be drawn in. It tells which one
runs the program (:func:`frontend`), puts a trace's widget on screen there (:func:`show_trace`),
and answers the display protocols a :class:`~streamviz.Trace` takes part in when it is a cell's
value (:func:`trace_mimebundle` for IPython, :func:`trace_marimo` for marimo). Nothing is
registered with IPython: the trace's own ``_repr_mimebundle_`` calls in here when it is shown.

A trace is drawn once per cell: ``sv.watch(...)`` as a cell's last expression returns the trace
whose dashboard the watch already put on screen, and that trace is not drawn a second time.
"""

from __future__ import annotations

import sys
import weakref
from typing import TYPE_CHECKING, Any, Literal

from streamviz import _marimo

if TYPE_CHECKING:
    from streamviz.trace import Trace
    from streamviz.widgets import TraceWidget

__all__ = ["frontend", "kernel", "show_trace", "trace_marimo", "trace_mimebundle"]

Frontend = Literal["jupyter", "marimo"]

# Traces on screen in Jupyter, by the kernel's execution count of the cell that showed them
# (weakly: a trace that nothing else holds goes, and its entry with it).
_on_screen: weakref.WeakKeyDictionary[Trace, int] = weakref.WeakKeyDictionary()


def kernel() -> Any:
    """The running IPython kernel shell, or ``None`` (plain Python, or a terminal IPython)."""
    ipython_module = sys.modules.get("IPython")  # never imports IPython
    if ipython_module is None:
        return None
    shell = ipython_module.get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def frontend() -> Frontend | None:
    """``"jupyter"`` in a Jupyter kernel, ``"marimo"`` in a marimo notebook, else ``None``."""
    if kernel() is not None:
        return "jupyter"
    return "marimo" if _marimo.active() else None


def show_trace(
    trace: Trace, *, view: str, height: int, time_span: float = 0.0, anywhere: bool = False
) -> TraceWidget | None:
    """Put a widget of ``trace`` on screen in the running front-end; ``None`` where there is none.

    ``anywhere``: make the widget and hand it to IPython's ``display`` also where no front-end
    was detected. ``time_span`` (ms) gives several widgets one time scale (see ``sv.show``).
    """
    where = frontend()
    if where is None and not anywhere:
        return None
    from streamviz.widgets import TraceWidget

    widget = TraceWidget(trace, view=view, height=height, time_span=time_span)
    if where == "marimo":
        _marimo.display(widget)
        return widget
    from IPython.display import display

    display(widget)
    shell = kernel()
    if shell is not None:
        _on_screen[trace] = shell.execution_count
    return widget


def trace_mimebundle(trace: Trace) -> dict[str, Any] | None:
    """What Jupyter shows for a trace that is a cell's value: its dashboard.

    ``None`` when the same cell already put it on screen: IPython then shows the trace's text.
    """
    shell = kernel()
    if shell is None or _on_screen.get(trace) == shell.execution_count:
        return None
    from streamviz.widgets import Dashboard

    _on_screen[trace] = shell.execution_count
    return Dashboard(trace)._repr_mimebundle_()


def trace_marimo(trace: Trace) -> Any:
    """What marimo shows for a trace that is a cell's value (see :mod:`streamviz._marimo`)."""
    return _marimo.trace_display(trace)

"""Jupyter widgets showing a :class:`~streamviz.Trace` live.

Widgets read a trace and never own its data: the trace can be shown by several widgets at once,
while it is being captured or long after. The front-end (``js/``) is built into
``streamviz/static/`` when the package is installed.
"""

from streamviz.widgets._widget import (
    VIEWS,
    Dashboard,
    EventTable,
    GraphView,
    RunTreeView,
    Timeline,
    TokenStream,
    TraceWidget,
    bundle_path,
)

__all__ = [
    "VIEWS",
    "Dashboard",
    "EventTable",
    "GraphView",
    "RunTreeView",
    "Timeline",
    "TokenStream",
    "TraceWidget",
    "bundle_path",
]

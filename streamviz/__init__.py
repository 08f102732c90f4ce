"""streamviz: see what your streaming LangChain runnables and LangGraph graphs do, live.

Capture with :class:`Collector` or :func:`capture`, explore the :class:`Trace` (``events``,
``runs``, DataFrames, filters), save and load it, and run everything offline with
:mod:`streamviz.demo`.
"""

from streamviz import demo
from streamviz._persistence import TraceFileError
from streamviz._version import __version__
from streamviz._watch import awatch, last_trace, show, watch
from streamviz.events import Event
from streamviz.filters import EventFilter
from streamviz.runs import Run
from streamviz.sources.astream_events import from_astream_events
from streamviz.sources.callbacks import Collector
from streamviz.sources.capture import capture
from streamviz.trace import Trace

__all__ = [
    "Collector",
    "Event",
    "EventFilter",
    "Run",
    "Trace",
    "TraceFileError",
    "__version__",
    "awatch",
    "capture",
    "demo",
    "from_astream_events",
    "last_trace",
    "show",
    "watch",
]


def _register_display() -> None:
    from streamviz._watch import register_display

    register_display()


_register_display()

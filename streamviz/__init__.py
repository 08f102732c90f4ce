"""streamviz: see what your streaming LangChain runnables and LangGraph graphs do, live.

Capture with :class:`Collector` or :func:`capture` (or watch live with :func:`watch`, and
:func:`watch_remote` for runs on a LangGraph API server), explore the :class:`Trace` (``events``,
``runs``, DataFrames, filters), save and load it, and run everything offline with
:mod:`streamviz.demo`.
"""

from streamviz import demo
from streamviz._persistence import TraceFileError, TraceFileWarning
from streamviz._version import __version__
from streamviz._watch import (
    awatch,
    awatch_remote,
    close_widgets,
    last_trace,
    show,
    watch,
    watch_remote,
)
from streamviz.compare import Comparison, compare
from streamviz.events import Event
from streamviz.export import write_html
from streamviz.filters import EventFilter
from streamviz.perfetto import write_perfetto
from streamviz.replay import Replay, replay
from streamviz.runs import Run, link_resumes
from streamviz.sources.astream_events import from_astream_events
from streamviz.sources.callbacks import Collector
from streamviz.sources.capture import capture
from streamviz.sources.sse import from_sse
from streamviz.threads import ThreadView, show_thread, thread_history
from streamviz.toolcalls import ToolCall, ToolCalls, tool_calls
from streamviz.trace import Trace
from streamviz.usage import Usage, prices

__all__ = [
    "Collector",
    "Comparison",
    "Event",
    "EventFilter",
    "Replay",
    "Run",
    "ThreadView",
    "ToolCall",
    "ToolCalls",
    "Trace",
    "TraceFileError",
    "TraceFileWarning",
    "Usage",
    "__version__",
    "awatch",
    "awatch_remote",
    "capture",
    "close_widgets",
    "compare",
    "demo",
    "from_astream_events",
    "from_sse",
    "last_trace",
    "link_resumes",
    "prices",
    "replay",
    "show",
    "show_thread",
    "thread_history",
    "tool_calls",
    "watch",
    "watch_remote",
    "write_html",
    "write_perfetto",
]

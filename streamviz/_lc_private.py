"""Every private langchain-core name streamviz relies on, in one place.

- ``StreamingCallbackHandler``: the protocol behind ``tap_output_iter`` / ``tap_output_aiter``
  (``langchain_core.tracers._streaming``). Runnables hand their output iterators to a handler that
  is an instance of it; that is how ``astream_events`` sees ``on_chain_stream`` and
  ``on_parser_stream`` chunks. LangGraph taps only handlers that *inherit* from it.
- ``var_child_runnable_config``: the context variable holding the child config of the run being
  executed; inside a tap it tells which other handlers the run has.
- ``FIRST_ONLY_TAP_CALLERS``: the langchain-core functions that tap only the first streaming
  handler of a run (``Runnable._transform_stream_with_config`` and its async twin). When streamviz
  is that first handler it passes the stream on to the others, so that ``astream_events`` running
  beside it loses nothing.

- ``handlers_being_called``: the list of handlers langchain-core is dispatching a start callback
  to (a local of ``handle_event`` / ``ahandle_event``). It is the very list the run's manager
  taps from, and ``BaseCallbackManager.merge`` builds it from a set, so its order is arbitrary;
  the collector moves itself ahead of other streaming handlers there, then passes them the stream.

``tests/test_lc_private.py`` checks each of these against the installed langchain-core and fails
loudly when a release changes them.
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tracers._streaming import _StreamingCallbackHandler

__all__ = [
    "FIRST_ONLY_TAP_CALLERS",
    "StreamingCallbackHandler",
    "called_from_first_only_tap",
    "child_handlers_of",
    "handlers_being_called",
    "var_child_runnable_config",
]

StreamingCallbackHandler = _StreamingCallbackHandler

FIRST_ONLY_TAP_CALLERS = frozenset(
    {"_transform_stream_with_config", "_atransform_stream_with_config"}
)
_RUNNABLES_BASE = "langchain_core" + ("\\" if sys.platform == "win32" else "/") + "runnables"


def called_from_first_only_tap(depth: int = 2) -> bool:
    """Whether the calling tap method was invoked by a first-handler-only langchain-core caller.

    ``depth`` counts frames up from this function: 1 is the tap method, 2 its caller.
    """
    code = sys._getframe(depth).f_code
    return code.co_name in FIRST_ONLY_TAP_CALLERS and _RUNNABLES_BASE in code.co_filename


def child_handlers_of(run_id: Any) -> list[Any]:
    """Handlers of the run whose child config is active in this context, or ``[]``.

    Inside a tap, langchain-core has set the running step's child config (its ``callbacks`` is the
    step's child callback manager, whose ``parent_run_id`` is the step's run id).
    """
    config = var_child_runnable_config.get()
    manager = config.get("callbacks") if config else None
    if manager is None or getattr(manager, "parent_run_id", None) != run_id:
        return []
    return list(getattr(manager, "handlers", ()))


_DISPATCHERS = frozenset({"handle_event", "ahandle_event"})
_CALLBACKS_MANAGER = "langchain_core" + ("\\" if sys.platform == "win32" else "/") + "callbacks"


def handlers_being_called(handler: Any, max_depth: int = 5) -> list[Any] | None:
    """The handler list langchain-core dispatches the current callback to, if ``handler`` is in it.

    Looks a few frames up for langchain-core's dispatch function; ``None`` when not found.
    """
    frame = sys._getframe(1)
    for _ in range(max_depth):
        frame = frame.f_back
        if frame is None:
            return None
        code = frame.f_code
        if code.co_name in _DISPATCHERS and _CALLBACKS_MANAGER in code.co_filename:
            handlers = frame.f_locals.get("handlers")
            if isinstance(handlers, list) and any(h is handler for h in handlers):
                return handlers
            return None
    return None

"""Loud checks of every private langchain-core name streamviz relies on (streamviz/_lc_private.py).

If one of these fails after upgrading langchain-core, the collector's stream taps or its handler
ordering need a look before anything else.
"""

from __future__ import annotations

import asyncio
import inspect
from contextvars import ContextVar

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from streamviz import _lc_private as lc
from streamviz.demo import DemoChatModel


class TapRecorder(BaseCallbackHandler, lc.StreamingCallbackHandler):
    """A minimal streaming handler that notes which runs it was asked to tap, and by whom."""

    run_inline = True

    def __init__(self):
        self.tapped = []
        self.first_only = []
        self.seen_handlers = []

    def tap_output_iter(self, run_id, output):
        self.tapped.append(run_id)
        self.first_only.append(lc.called_from_first_only_tap(depth=2))
        return output

    def tap_output_aiter(self, run_id, output):
        self.tapped.append(run_id)
        self.first_only.append(lc.called_from_first_only_tap(depth=2))
        return output

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.seen_handlers.append(lc.handlers_being_called(self))


def chain():
    return DemoChatModel(time_to_first_token=0, token_delay=0) | StrOutputParser()


def test_streaming_handler_protocol_has_both_taps_and_is_runtime_checkable():
    assert hasattr(lc.StreamingCallbackHandler, "tap_output_iter")
    assert hasattr(lc.StreamingCallbackHandler, "tap_output_aiter")
    assert isinstance(TapRecorder(), lc.StreamingCallbackHandler)
    assert not isinstance(BaseCallbackHandler(), lc.StreamingCallbackHandler)


def test_child_config_variable_is_a_context_variable():
    assert isinstance(lc.var_child_runnable_config, ContextVar)


def test_first_only_tap_callers_exist_and_tap_only_the_first_streaming_handler():
    for name in lc.FIRST_ONLY_TAP_CALLERS:
        source = inspect.getsource(getattr(Runnable, name))
        assert "tap_output_" in source, name
    first, second = TapRecorder(), TapRecorder()
    list(chain().stream("what color is the sky?", {"callbacks": [first, second]}))
    assert first.tapped and not second.tapped  # the behaviour the collector's hand-over relies on
    assert all(first.first_only)


def test_first_only_tap_callers_are_recognised_in_async_too():
    first = TapRecorder()

    async def main():
        async for _ in chain().astream("what color is the sky?", {"callbacks": [first]}):
            pass

    asyncio.run(main())
    assert first.tapped and all(first.first_only)


def test_child_handlers_of_sees_the_running_steps_handlers():
    seen = []

    class Peek(TapRecorder):
        def tap_output_iter(self, run_id, output):
            def gen():
                seen.append(lc.child_handlers_of(run_id))
                yield from output

            return gen()

    peek = Peek()
    list(chain().stream("hello", {"callbacks": [peek]}))
    assert seen and all(any(h is peek for h in handlers) for handlers in seen)


def test_handlers_being_called_is_the_list_the_run_taps_from():
    recorder = TapRecorder()
    list(chain().stream("hello", {"callbacks": [recorder]}))

    async def main():
        async for _ in chain().astream("hello", {"callbacks": [recorder]}):
            pass

    asyncio.run(main())
    assert len(recorder.seen_handlers) >= 4  # sync and async chain and parser starts
    assert all(h is not None and any(x is recorder for x in h) for h in recorder.seen_handlers)


def test_handlers_being_called_outside_a_dispatch_is_none():
    assert lc.handlers_being_called(TapRecorder()) is None

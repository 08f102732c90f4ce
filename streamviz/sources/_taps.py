"""How the Collector sees chain and parser output chunks: langchain-core's stream taps.

- langchain-core hands each streaming step's output iterator to ONE handler: the first in the
  run's handler list that implements ``tap_output_iter`` / ``tap_output_aiter`` (see
  :mod:`streamviz._lc_private`). That handler sees every chunk as it passes.
- The order of that list is arbitrary once configs have been merged (LangChain merges handler
  lists through a set). So at the start of every chain-like run the collector moves itself ahead
  of other streaming handlers (``_go_first``), records the chunks, and passes the stream on to
  the handlers that langchain-core skipped (``_others``): ``astream_events`` and other
  collectors beside it lose nothing.
- A run tapped twice (by langchain-core and again by an outer tap) is reported once.
- ``stream`` / ``astream`` tap the outermost stream as well, as ``astream_events`` does, so the
  root's own chunks are recorded even for runnables that only re-yield a child's chunks. That
  outer tap only stands by: a root that streams through its own tap (``RunnableGenerator``,
  ``RunnableLambda``, a sequence...) has its chunks recorded there, the moment it yields them,
  like every other run. At the outer tap they would come late under ``astream``: a chunk gets
  there only after the task ``_atransform_stream_with_config`` runs per chunk has ended, and a
  child the root started meanwhile (a task it awaits later) has run and been recorded by then.
  ``astream_events`` records at its outer tap too, but its handler is async and hears of that
  child one task later (through ``asyncio.gather``), so it reports the root's chunk first, in
  the order the root produced them; the collector, called inline, records it so by tapping
  where the chunk is produced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar
from uuid import UUID

from streamviz._errors import report_internal_error
from streamviz._lc_private import (
    StreamingCallbackHandler,
    called_from_first_only_tap,
    child_handlers_of,
    handlers_being_called,
)
from streamviz._tracebacks import program_traceback

__all__ = ["StreamTaps"]

_NO_INPUT: Any = object()  # stream()/astream() called without an input to record
# The claim of a root run held by the outer tap of stream()/astream() until the root's own tap,
# if it has one, takes it over (see _claim).
_STANDBY: Any = object()

T = TypeVar("T")
_DONE: Any = object()


def _ignore(chunk: Any) -> None:
    """The writer of a run whose own writer could not be made: the stream still flows."""


class StreamTaps:
    """The stream-tap half of the :class:`~streamviz.Collector` (a mixin).

    Expects ``self._live`` (run id -> run info with ``tapped``), ``self._tapped`` (run id ->
    claim token) and ``self._writer(info)`` (the function recording a run's stream events).
    """

    _live: dict[UUID, Any]
    _tapped: dict[UUID, object]
    _writer: Any

    def _go_first(self) -> None:
        """Stand before other streaming handlers of the run that is starting.

        langchain-core hands a step's output stream to the first streaming handler only, and the
        order of handlers is arbitrary once configs were merged (through a set). Being first,
        the collector records the chunks and passes the stream on to the others (see ``_tap``);
        handlers behind it are unaffected. Other collectors pass streams on too, so they are
        not jumped.
        """
        try:
            handlers = handlers_being_called(self)
            if handlers is None:
                return
            for handler in handlers:
                if handler is self:
                    return
                if isinstance(handler, StreamingCallbackHandler) and not isinstance(
                    handler, StreamTaps
                ):
                    break
            # Moving the handler being called to the front does not disturb the dispatch loop:
            # the ones after it keep their positions.
            index = next(i for i, h in enumerate(handlers) if h is self)
            handlers.insert(0, handlers.pop(index))
        except Exception as error:
            report_internal_error("Collector handler ordering", error)

    # ------------------------------------------------------------ stream taps
    def tap_output_iter(self, run_id: UUID, output: Iterator[T]) -> Iterator[T]:
        """Record each output chunk of a streaming step (``on_chain_stream``, parser chunks)."""
        return self._tap(run_id, output, self._pass_on_tap())

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[T]) -> AsyncIterator[T]:
        """Async twin of :meth:`tap_output_iter`."""
        return self._atap(run_id, output, self._pass_on_tap())

    @staticmethod
    def _pass_on_tap() -> bool:
        try:
            return called_from_first_only_tap(depth=3)
        except Exception as error:
            report_internal_error("Collector tap caller check", error)
            return False

    def _claim(self, run_id: UUID) -> bool:
        """Whether this tap records the run: the first of its own taps does.

        A run tapped twice is reported once. The outer tap of :meth:`stream` only holds the
        root's claim (``_STANDBY``) until the root's own tap comes, which takes it over.
        """
        token = object()
        held = self._tapped.setdefault(run_id, token)
        if held is _STANDBY:
            self._tapped[run_id] = held = token
        info = self._live.get(run_id)
        if info is not None:
            info.tapped = True
        return held is token

    def _stand_by(self, run_id: UUID) -> None:
        """Hold the claim of a root run before it starts (its token callbacks are then skipped)."""
        self._tapped.setdefault(run_id, _STANDBY)

    def _left_to_outer(self, run_id: UUID) -> bool:
        """Whether the outer tap records the root: no tap of its own came before its first chunk.

        A run's own tap is made when its stream starts, so before its first chunk. A root that
        only re-yields its children's chunks (``RunnableBranch``, fallbacks) or reports its
        chunks without a tap (chat models) has none. A root that already ended is not recorded.
        """
        if self._tapped.get(run_id) is not _STANDBY:
            return False
        self._tapped[run_id] = object()
        return True

    def _safe_writer(self, info: Any) -> Any:
        """The run's chunk writer; one that only logs if it cannot be made (never raises)."""
        try:
            return self._writer(info)
        except Exception as error:
            report_internal_error("Collector stream tap", error)
            return _ignore

    def _others(self, run_id: UUID) -> list[Any]:
        # Only reached when langchain-core tapped this collector alone: the other streaming
        # handlers of the step (astream_events, another collector...) would see nothing.
        try:
            return [
                handler
                for handler in child_handlers_of(run_id)
                if handler is not self and isinstance(handler, StreamingCallbackHandler)
            ]
        except Exception as error:
            report_internal_error("Collector tap hand-over", error)
            return []

    def _tap(
        self, run_id: UUID, output: Iterator[T], pass_on: bool, outer: bool = False
    ) -> Iterator[T]:
        try:
            if outer:
                self._stand_by(run_id)
            else:
                if pass_on:
                    for handler in self._others(run_id):
                        output = handler.tap_output_iter(run_id, output)
                mine = self._claim(run_id)
            first = next(output, _DONE)
            if first is _DONE:
                return
            if outer:
                mine = self._left_to_outer(run_id)
            # Looked up only now: a model's run starts when its stream is first pulled.
            info = self._live.get(run_id) if mine else None
            if info is None:
                yield first
                for chunk in output:
                    yield chunk
                return
            write = self._safe_writer(info)
            try:
                write(first)
            except Exception as error:
                report_internal_error("Collector stream tap", error)
            info.at_yield = True  # stays set if the consumer closes the stream at the yield
            yield first
            info.at_yield = False
            for chunk in output:
                try:
                    write(chunk)
                except Exception as error:
                    report_internal_error("Collector stream tap", error)
                info.at_yield = True
                yield chunk
                info.at_yield = False
        except BaseException as error:
            if outer:  # the caller's own stream: its error is shown from the caller's code
                error.__traceback__ = program_traceback(error.__traceback__)
            raise  # a bare raise adds no frame of its own

    async def _atap(
        self, run_id: UUID, output: AsyncIterator[T], pass_on: bool, outer: bool = False
    ) -> AsyncIterator[T]:
        try:
            if outer:
                self._stand_by(run_id)
            else:
                if pass_on:
                    for handler in self._others(run_id):
                        output = handler.tap_output_aiter(run_id, output)
                mine = self._claim(run_id)
            first = await anext(output, _DONE)
            if first is _DONE:
                return
            if outer:
                mine = self._left_to_outer(run_id)
            info = self._live.get(run_id) if mine else None
            if info is None:
                yield first
                async for chunk in output:
                    yield chunk
                return
            write = self._safe_writer(info)
            try:
                write(first)
            except Exception as error:
                report_internal_error("Collector stream tap", error)
            info.at_yield = True
            yield first
            info.at_yield = False
            async for chunk in output:
                try:
                    write(chunk)
                except Exception as error:
                    report_internal_error("Collector stream tap", error)
                info.at_yield = True
                yield chunk
                info.at_yield = False
        except BaseException as error:
            if outer:
                error.__traceback__ = program_traceback(error.__traceback__)
            raise

    # ---------------------------------------------------- streaming a runnable
    def stream(self, runnable: Any, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        """``runnable.stream(input)`` recorded by this collector, outermost output included.

        LangChain reports a step's output chunks only when the step streams through its own tap;
        some runnables (``RunnableBranch``, ``with_fallbacks``) just re-yield their child's chunks.
        Like ``astream_events``, this taps the outermost stream too, so the root's
        ``on_chain_stream`` events are recorded whatever the runnable (where the root yields
        them when it streams through its own tap, so at the place ``astream_events`` reports
        them), and the root's start event carries the input as given (a streamed chain reports an
        empty one; a chat model, its formatted messages).
        """
        config, run_id = self.config_for(config, input)
        return self._tap(run_id, iter(runnable.stream(input, config, **kwargs)), False, outer=True)

    def astream(
        self, runnable: Any, input: Any, config: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async twin of :meth:`stream`: ``runnable.astream(input)`` recorded by this collector."""
        config, run_id = self.config_for(config, input)
        return self._atap(
            run_id, aiter(runnable.astream(input, config, **kwargs)), False, outer=True
        )

    def config_for(self, config: Any, input: Any = _NO_INPUT) -> tuple[dict[str, Any], UUID]:
        """``(config, run_id)``: ``config`` with this collector first among its callbacks.

        The root's ``run_id`` is set (kept when given). Pass the config to the runnable's
        ``stream`` or ``invoke`` to record that call; ``input``, when given, goes on the root's
        start event.
        """
        from langchain_core.callbacks import BaseCallbackManager
        from langchain_core.runnables import ensure_config
        from langchain_core.utils.uuid import uuid7

        config = ensure_config(config)
        run_id = config.setdefault("run_id", uuid7())
        if input is not _NO_INPUT:
            self._root_inputs[run_id] = input  # put on the root's start event, see _start
        callbacks = config.get("callbacks")
        if callbacks is None:
            config["callbacks"] = [self]
        elif isinstance(callbacks, list):
            # First, so that LangChain hands step output streams to this collector, which
            # passes them on to any other streaming handler.
            config["callbacks"] = [self, *(c for c in callbacks if c is not self)]
        elif isinstance(callbacks, BaseCallbackManager):
            manager = callbacks.copy()
            manager.add_handler(self, inherit=True)
            config["callbacks"] = manager
        return config, run_id

"""A trace written to a JSONL file while it is captured: ``sv.capture(path=...)``, ``watch``.

A long session must not lose what it captured when the kernel dies. A :class:`Journal` appends
a trace's events to a file as they come, in the very lines :meth:`Trace.save` writes (the same
header, encoder and secrets redaction: :mod:`streamviz._persistence`), so at every flush the
file is a valid trace file that :meth:`Trace.load` opens, also while it is still being written.

- **One writer thread per journal.** The observed program only appends to its trace, as without
  a journal; the thread reads what is new through :meth:`Trace.window` (a short window at a
  time, so appends never wait long), encodes it and writes it with one unbuffered ``write`` per
  batch. It looks every :data:`POLL_INTERVAL` seconds: new events are written once
  :data:`FLUSH_INTERVAL` has passed since the last write, and at once when a root run has ended.
  :meth:`Journal.close` (at the end of the capture block or the watch) writes the rest.
- **What a kill keeps.** Written bytes are in the operating system's hands: a killed process
  (``SIGKILL``, a crashed kernel) keeps everything up to the last write. A kill during a write
  can leave half a line at the end; loading skips it with a
  :class:`~streamviz.TraceFileWarning`. Closing also syncs the file to disk.
- **Never in the way.** A file that cannot be opened or written (no such folder, disk full) is
  reported once (:func:`~streamviz._errors.report_internal_error`) and journaling stops; the
  capture goes on in memory. An event that cannot be encoded is reported and left out of the
  file (the trace keeps it).
- **The header waits for the clock.** The header records when the trace's clock started, so it
  is written with the first events (or at close, for a trace without any): until then the
  file is empty.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

from streamviz._errors import report_internal_error
from streamviz._persistence import encode_event_line, encode_header_line, trace_format
from streamviz._version import __version__

if TYPE_CHECKING:
    from streamviz.runs import Run
    from streamviz.trace import Trace

__all__ = ["FLUSH_INTERVAL", "POLL_INTERVAL", "Journal"]

FLUSH_INTERVAL = 0.5
"""Most seconds new events wait before they are written (and so survive a kill)."""
POLL_INTERVAL = 0.05
"""Seconds between two looks of the writer thread (for new events and ended root runs)."""
WINDOW = 256
"""Events read from the trace at a time (the trace's appends wait while one is read)."""

_open: weakref.WeakSet[Journal] = weakref.WeakSet()


class Journal:
    """Append the events of ``trace`` to the JSONL file ``path`` as they are captured.

    The file is created (or emptied) now, readable by its owner only if new; the events the
    trace already holds are written too. Call :meth:`close` when the capture ends.

    Raises
    ------
    ValueError
        If ``path`` names a Parquet or Arrow file: a journal is JSON Lines (save a columnar
        copy at the end with ``trace.save``).
    """

    def __init__(
        self,
        trace: Trace,
        path: str | os.PathLike[str],
        *,
        flush_interval: float = FLUSH_INTERVAL,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        kind = trace_format(path)
        if kind != "jsonl":
            raise ValueError(
                f"a capture journal is written as JSON Lines, not {kind}: pass a .jsonl path "
                f"and save a {kind} copy at the end with trace.save()"
            )
        self.trace = trace
        self.path = os.fsdecode(os.fspath(path))
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self.written = 0
        """How many of the trace's events are in the file."""
        self._header = False
        self._fd: int | None = None
        self._lock = threading.Lock()  # one flush at a time: the thread's, or close's
        self._stop = threading.Event()
        self._last_write = time.monotonic()
        self._roots_seen = 0
        self._running_roots: list[Run] = []
        self._thread: threading.Thread | None = None
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as error:
            report_internal_error(f"trace journal {self.path!r} (not written)", error)
            return
        _open.add(self)
        self._thread = threading.Thread(target=self._run, name="streamviz-journal", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        """Whether events still go to the file (not closed, no disk error)."""
        return self._fd is not None

    def flush(self, *, final: bool = False) -> None:
        """Write the events not written yet (from any thread); never raises."""
        with self._lock:
            if self._fd is None:
                return
            try:
                self._write_new(final)
            except OSError as error:
                report_internal_error(f"trace journal {self.path!r} (writing stopped)", error)
                self._release()
            except Exception as error:  # a bug here must not reach the observed program
                report_internal_error(f"trace journal {self.path!r}", error)

    def close(self) -> None:
        """Write what is left, sync the file to disk and stop; never raises. Idempotent."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10.0)
        self.flush(final=True)
        with self._lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as error:
                    report_internal_error(f"trace journal {self.path!r} (sync)", error)
                self._release()
                self._rewrite_if_split_secrets()

    def _rewrite_if_split_secrets(self) -> None:
        """Write the file anew if a stream held a secret split across its tokens.

        The journal writes each token as it comes (a kill must lose none), before the tokens
        after it show that it starts a secret: the pieces are in the file until the capture
        ends, then the file is written again as :meth:`Trace.save` writes it (redacted).
        """
        try:
            if self.trace.store.stream_secrets():
                self.trace.save(self.path)
        except Exception as error:
            report_internal_error(f"trace journal {self.path!r} (rewrite)", error)

    # ------------------------------------------------------------------------- internals
    def _release(self) -> None:
        fd, self._fd = self._fd, None
        _open.discard(self)
        if fd is not None:
            try:
                os.close(fd)
            except OSError as error:
                report_internal_error(f"trace journal {self.path!r} (close)", error)

    def _write_new(self, final: bool) -> None:
        trace = self.trace
        if not self._header:
            # The header records when the trace's clock started: wait until it has.
            if not (final or len(trace) or trace.clock() > 0):
                return
            self._write(encode_header_line(__version__, trace.file_header()) + b"\n")
            self._header = True
        end = len(trace)
        while self.written < end:
            stop = min(self.written + WINDOW, end)
            lines = []
            for index, event in enumerate(trace.window(self.written, stop), self.written):
                try:
                    lines.append(encode_event_line(event, index))
                except Exception as error:  # the trace keeps the event; the file lacks it
                    report_internal_error(f"trace journal {self.path!r} (event left out)", error)
            if lines:
                lines.append(b"")
                self._write(b"\n".join(lines))
            self.written = stop
        self._last_write = time.monotonic()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]  # type: ignore[arg-type]

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            if self._due():
                self.flush()
            if self._fd is None:
                return

    def _due(self) -> bool:
        """Whether new events should be written now: it is time, or a root run has ended."""
        if len(self.trace) <= self.written:
            return False
        if time.monotonic() - self._last_write >= self.flush_interval:
            return True
        roots = self.trace.roots
        if len(roots) > self._roots_seen:
            self._running_roots += roots[self._roots_seen :]
            self._roots_seen = len(roots)
        running = [run for run in self._running_roots if run.status == "running"]
        ended = len(running) < len(self._running_roots)
        self._running_roots = running
        return ended


@atexit.register
def _close_all() -> None:
    """At interpreter exit, write what open journals still hold (their threads are daemons)."""
    for journal in list(_open):
        journal.close()

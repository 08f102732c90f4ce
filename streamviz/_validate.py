"""Guards that keep loading a trace file from hanging or exploding (docs/trace-files.md).

Called from the load paths (:mod:`streamviz._persistence` for JSON Lines, :mod:`streamviz._columnar`
for Parquet and Arrow, :mod:`streamviz.replay`) with few-line hooks, so the readers' per-event
loops stay as they are:

- :func:`open_regular` opens a path only if it is a regular file: a FIFO would block ``open``
  forever, a device (``/dev/zero``) never ends.
- :class:`Budget` estimates, before a JSON text is parsed, what its Python objects will take, and
  refuses the text once the load's total would pass its bound (by default 16 times the bytes read,
  plus 64 MiB): a 63 MB line of ``[]`` would otherwise take gigabytes.
- :data:`MAX_T`, :data:`SEQ_RANGE`, :data:`THREAD_RANGE`: the values an event's numbers may
  hold, so a value that would break the snapshot, the page or ``events_df`` later is refused at
  load, with the line.

The run tree itself never loops (:class:`streamviz.runs.RunTree` does not link a run below
itself), and every walker of it is iterative, so what loads can be shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from typing import IO, Any

__all__ = [
    "DEFAULT_MEMORY_FACTOR",
    "MAX_T",
    "SEQ_RANGE",
    "THREAD_RANGE",
    "Budget",
    "open_regular",
    "regular_file_problem",
]

MAX_T = 9e9
"""Largest ``t`` (and ``server_t``) a loaded event may have, in seconds either way (285 years):
its microseconds, what the page's clock counts, stay exact in a float64 (below 2**53)."""
SEQ_RANGE = (-(2**63), 2**63)
"""``seq`` must be within int64 (``events_df``'s ``seq`` column), lower bound included."""
THREAD_RANGE = (0, 2**64)
"""``thread`` (a thread identifier) must be within uint64, as the store keeps it."""

DEFAULT_MEMORY_FACTOR = 16
"""By default a load may take about this many times the bytes read, plus :data:`BASE_BYTES`."""
BASE_BYTES = 64 * 1024 * 1024

# What one JSON token may cost once parsed, over-estimated: an object (a dict: 64 bytes empty,
# ~184 with one key), an array (a list: 56 + 8 per item) and an item after a comma (a slot plus,
# at worst, a new small str/int/float object).
_OBJECT_COST, _ARRAY_COST, _ITEM_COST = 200, 64, 64


def regular_file_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not loaded (``None`` for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a directory" if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
        else "a character device" if stat.S_ISCHR(mode)
        else "a block device" if stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a regular file"
    )  # fmt: skip
    return (
        f"is {kind}, not a regular file; trace files are read only from regular files "
        "(read a stream through a file object instead)"
    )


def open_regular(path: Any, error: Any) -> IO[bytes]:
    """Open ``path`` for binary reading if it is a regular file, else raise ``error(reason)``.

    Checked with ``os.stat`` before opening, and again on the open descriptor (opened
    non-blocking, so a FIFO put there meanwhile cannot block): nothing waits for a writer.
    """
    try:
        problem = regular_file_problem(os.stat(path).st_mode)
    except OSError:
        problem = None  # let open() raise its usual FileNotFoundError / PermissionError
    if problem is not None:
        raise error(problem)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        problem = regular_file_problem(os.fstat(fd).st_mode)
        if problem is not None:
            raise error(problem)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def json_cost(value: Any) -> int:
    """What :meth:`Budget.charge` counts for ``value``'s most compact JSON text (a JSON value).

    A file's text of the same value is that long or longer (spaces, escaped characters), so this
    never takes back more than was charged for it.
    """
    return text_cost(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def text_cost(text: str | bytes) -> int:
    """The estimated memory of what JSON ``text`` parses to.

    Twice its length, plus the cost of each object, array and item it may hold (counted by its
    ``{``, ``[`` and ``,``).
    """
    if type(text) is bytes:
        objects, arrays, items = text.count(b"{"), text.count(b"["), text.count(b",")
    else:
        objects, arrays, items = text.count("{"), text.count("["), text.count(",")
    return 2 * len(text) + _OBJECT_COST * objects + _ARRAY_COST * arrays + _ITEM_COST * items


class Budget:
    """The memory a load may take, and an estimate of what it has taken so far.

    ``limit`` ``None`` is the default bound, :data:`DEFAULT_MEMORY_FACTOR` times the bytes read
    so far plus :data:`BASE_BYTES`; a number is a fixed bound in bytes. :meth:`charge` is called
    with each JSON text before it is parsed (not with the token lines a loader reads without
    parsing: they cost ~100 bytes each, less than their line).
    """

    __slots__ = ("limit", "read", "used")

    def __init__(self, limit: int | None) -> None:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise TypeError(f"max_bytes must be an int or None, not {type(limit).__name__}")
        if limit is not None and limit <= 0:
            raise ValueError(f"max_bytes must be positive, not {limit}")
        self.limit = limit
        self.read = 0  # bytes of the file read so far (set by the reader)
        self.used = 0  # estimated bytes of what was parsed so far

    def bound(self) -> int:
        if self.limit is not None:
            return self.limit
        return BASE_BYTES + DEFAULT_MEMORY_FACTOR * self.read

    def refund(self, cost: int) -> None:
        """Take back ``cost`` of what was charged.

        For parts of a text decoded to objects the load had already made and shares (see
        :func:`streamviz._serialization.shared_objects`).
        """
        self.used = max(0, self.used - cost)

    def charge(self, text: str | bytes) -> str | None:
        """Count ``text``'s estimated cost; why it is refused if over the bound, else None."""
        cost = text_cost(text)
        self.used += cost
        bound = self.bound()
        if self.used <= bound:
            return None
        how = (
            f"max_bytes={self.limit:,}"
            if self.limit is not None
            else f"the default bound of {DEFAULT_MEMORY_FACTOR} times the {self.read:,} bytes "
            f"read plus {BASE_BYTES // 2**20} MiB"
        )
        return (
            f"loading would take more memory than {how} (about {self.used:,} bytes so far, "
            f"{cost:,} for this text of {len(text):,} characters, which holds that many "
            "arrays, objects or items); pass a larger max_bytes= to load it"
        )

"""The binary wire form of the event columns: what the kernel sends, and its decoder.

The encoder (``_encode.py``) builds the snapshot and deltas in their JSON form (lists), which is
what Python code reads (``widget.snapshot``). On the wire (the ``snapshot`` trait's
serialisation and every ``delta`` message) the bulk columns travel as binary buffers instead, so
neither side parses a million numbers and strings as JSON (see ``docs/protocol.md``, "Binary
columns"):

- ``us``: float64, little-endian (integer microseconds, exact below 2**53);
- ``kind`` and ``run``: int32, little-endian;
- ``text``: ``{"utf8": <the texts one after the other, UTF-8>, "end": <uint32, little-endian:
  where each text ends, in UTF-16 code units of the decoded whole>}`` — the page decodes the blob
  once and slices it.

A column that cannot be put so (a text with a lone surrogate, which UTF-8 cannot carry; more text
than uint32 offsets reach) stays a JSON list: the page reads either form, column by column.
ipywidgets takes ``bytes`` out of a trait's state into the message's buffers (with their paths)
by itself; a custom message names its buffers' places in ``buffer_paths``, as ipywidgets does.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Mapping
from contextlib import suppress
from itertools import accumulate
from typing import Any

from streamviz.widgets._contract import CONTRACT

__all__ = [
    "BUFFER_PATHS",
    "binary_events",
    "decode_message",
    "decode_state",
    "json_events",
    "saved_buffers",
    "saved_state",
    "snapshot_to_wire",
    "wire_message",
]

BUFFER_PATHS: str = CONTRACT["binary"]["buffer_paths"]
"""The key of a custom message listing where its buffers go (ipywidgets' name)."""
_TYPES: dict[str, str] = CONTRACT["binary"]["columns"]
_CODES = {"float64": "d", "int32": "i", "uint32": "I"}
# The array module's sizes are the platform's; the wire's are fixed (all common ones agree).
_USABLE = array("d").itemsize == 8 and array("i").itemsize == 4 and array("I").itemsize == 4
_SWAP = sys.byteorder == "big"


def _pack(code: str, values: Any) -> bytes:
    packed = array(code, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(code: str, data: Any) -> list[Any]:
    values = array(code)
    values.frombytes(bytes(data))
    if _SWAP:
        values.byteswap()
    return values.tolist()


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _binary_text(texts: list[str]) -> dict[str, bytes] | None:
    """The texts as one UTF-8 blob and their UTF-16 end offsets, or None if they cannot be."""
    joined = "".join(texts)
    try:
        blob = joined.encode("utf-8")
        lengths = map(len, texts) if len(blob) == len(joined) else map(_utf16_length, texts)
        return {"utf8": blob, "end": _pack("I", accumulate(lengths))}
    except (UnicodeEncodeError, OverflowError):  # a lone surrogate; more than 4 G code units
        return None


def binary_events(events: dict[str, Any]) -> dict[str, Any]:
    """The event columns of a snapshot or delta (JSON form) in their binary wire form."""
    if not _USABLE:
        return events
    wire: dict[str, Any] = dict(events)
    for name, kind in _TYPES.items():
        values = events.get(name)
        if not isinstance(values, list):
            continue
        if kind == "utf8":
            text = _binary_text(values)
            if text is not None:
                wire[name] = text
        else:
            with suppress(TypeError, OverflowError):  # not numbers of the column's type: JSON
                wire[name] = _pack(_CODES[kind], values)
    return wire


def json_events(events: dict[str, Any]) -> dict[str, Any]:
    """The event columns back in their JSON form (what :func:`binary_events` was given)."""
    plain: dict[str, Any] = dict(events)
    for name, kind in _TYPES.items():
        value = events.get(name)
        if kind == "utf8" and isinstance(value, dict):
            whole = bytes(value["utf8"]).decode("utf-8").encode("utf-16-le")
            texts, at = [], 0
            for end in _unpack("I", value["end"]):
                texts.append(whole[2 * at : 2 * end].decode("utf-16-le"))
                at = end
            plain[name] = texts
        elif isinstance(value, (bytes, bytearray, memoryview)):
            numbers = _unpack(_CODES[kind], value)
            plain[name] = [int(n) for n in numbers] if kind == "float64" else numbers
    return plain


def snapshot_to_wire(snapshot: dict[str, Any], _widget: Any = None) -> dict[str, Any]:
    """The ``snapshot`` trait's serialiser: its event columns as binary buffers."""
    events = snapshot.get("events")
    if not isinstance(events, dict):
        return snapshot
    return {**snapshot, "events": binary_events(events)}


def wire_message(message: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
    """A delta as a custom message's content and buffers (other messages as they are)."""
    events = message.get("events")
    if not isinstance(events, dict):
        return message, []
    wire = binary_events(events)
    paths: list[list[str]] = []
    buffers: list[bytes] = []
    for name, value in list(wire.items()):
        if isinstance(value, bytes):
            paths.append(["events", name])
            buffers.append(value)
            del wire[name]
        elif isinstance(value, dict) and name in _TYPES:
            wire[name] = dict(value)
            for part, data in value.items():
                paths.append(["events", name, part])
                buffers.append(data)
                del wire[name][part]
    return {**message, "events": wire, BUFFER_PATHS: paths}, buffers


def _put_buffers(content: dict[str, Any], paths: Any, buffers: Any) -> dict[str, Any]:
    """``content`` with each buffer put back at its path (a deep enough copy)."""
    content = dict(content)
    for path, buffer in zip(paths, buffers or (), strict=False):
        holder = content
        for key in path[:-1]:
            holder[key] = dict(holder[key])
            holder = holder[key]
        holder[path[-1]] = bytes(buffer)
    return content


def decode_message(content: dict[str, Any], buffers: Any = None) -> dict[str, Any]:
    """A custom message as sent (content and buffers) back in its JSON form (for tests, tools)."""
    paths = content.get(BUFFER_PATHS)
    if not paths:
        return content
    content = _put_buffers(content, paths, buffers)
    del content[BUFFER_PATHS]
    return {**content, "events": json_events(content["events"])}


def decode_state(state: dict[str, Any], buffers: Any = (), paths: Any = ()) -> dict[str, Any]:
    """A widget's state with its serialised ``snapshot`` back in the JSON form.

    The buffers are in place (bytes, as ``get_state`` gives them), or apart with their paths.
    """
    if paths:
        state = _put_buffers(state, paths, buffers)
    snapshot = state.get("snapshot")
    if isinstance(snapshot, dict) and isinstance(snapshot.get("events"), dict):
        state = {**state, "snapshot": {**snapshot, "events": json_events(snapshot["events"])}}
    return state


def saved_buffers(model: Mapping[str, Any]) -> dict[str, Any]:
    """A widget's state as a saved notebook keeps it, with its buffers (bytes) back in place.

    The notebook keeps ``{"state": ..., "buffers": [{"path", "encoding", "data"}]}``, each buffer
    base64 (or hex) text. A damaged entry is left out (that column is then missing).
    """
    state = dict(model.get("state") or {})
    paths, buffers = [], []
    for saved in model.get("buffers") or ():
        try:
            data = saved["data"]
            raw = bytes.fromhex(data) if saved.get("encoding") == "hex" else base64.b64decode(data)
            paths.append(list(saved["path"]))
            buffers.append(raw)
        except (KeyError, TypeError, ValueError):
            continue
    try:
        return _put_buffers(state, paths, buffers)
    except (KeyError, TypeError, IndexError):  # paths that do not fit the state
        return state


def saved_state(model: Mapping[str, Any]) -> dict[str, Any]:
    """A widget's state as a saved notebook keeps it, with its snapshot in the JSON form."""
    try:
        return decode_state(saved_buffers(model))
    except (KeyError, TypeError, ValueError):  # columns that do not decode: as saved
        return dict(model.get("state") or {})

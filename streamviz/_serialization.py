"""Faithful, secret-redacting JSON codecs for the arbitrary payloads found in traced events."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import json
import math
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import langchain_core.documents as lc_documents
import langchain_core.messages as lc_messages
import langchain_core.outputs as lc_outputs
import langchain_core.prompt_values as lc_prompt_values
from pydantic import BaseModel, SecretBytes, SecretStr

from streamviz import _native
from streamviz._redact import REDACTED, is_secret_key, redact_text
from streamviz._validate import json_cost
from streamviz.events import SerializedError

__all__ = [
    "MARKER", "MAX_DEPTH", "MAX_REPR_CHARS", "REDACTED", "SerializedError", "SerializedObject",
    "UnserializableValue", "from_json", "from_parsed", "may_hold_markers", "redact_text",
    "to_json", "to_json_key", "to_json_member",
]  # fmt: skip

# streamviz/_speedups.c's same_json (see _native.py); without it, LangChain objects are
# compared by their exact keys only.
_same_json: Any = None if _native.speedups is None else _native.speedups.same_json

MARKER = "__sv__"
MAX_DEPTH = 200
MAX_REPR_CHARS = 10_000

# The only classes ever rebuilt on load. Looking classes up in this table (never importing a
# name found in a file) is what makes loading a trace unable to execute anything.
_LC_CLASSES: dict[str, type[BaseModel]] = {
    name: getattr(module, name)
    for module, names in (
        (lc_messages, "AIMessage AIMessageChunk HumanMessage HumanMessageChunk SystemMessage "
         "SystemMessageChunk ToolMessage ToolMessageChunk ChatMessage ChatMessageChunk "
         "FunctionMessage FunctionMessageChunk RemoveMessage"),
        (lc_documents, "Document"),
        (lc_prompt_values, "StringPromptValue ChatPromptValue ChatPromptValueConcrete "
         "ImagePromptValue"),
        (lc_outputs, "Generation GenerationChunk ChatGeneration ChatGenerationChunk LLMResult "
         "ChatResult RunInfo"),
    )
    for name in names.split()
}  # fmt: skip
_LC_TAGS = {cls: tag for tag, cls in _LC_CLASSES.items()}


class UnserializableValue:
    """Placeholder for a value that was recorded only as its ``repr`` (or could not be at all).

    ``reason`` is ``"repr"`` for ordinary objects, ``"cycle"`` for a circular reference and
    ``"depth"`` for nesting deeper than :data:`MAX_DEPTH`.
    """

    __slots__ = ("error", "reason", "repr", "type")

    def __init__(self, type: str, repr: str, reason: str = "repr", error: str | None = None):
        self.type = type
        self.repr = repr
        self.reason = reason
        self.error = error

    def __repr__(self) -> str:
        return f"<unserializable {self.type}: {self.repr}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnserializableValue):
            return NotImplemented
        return (self.type, self.repr, self.reason) == (other.type, other.repr, other.reason)

    def __hash__(self) -> int:
        return hash((self.type, self.repr, self.reason))


class SerializedObject(dict):
    """A recorded object that is deliberately not re-instantiated: the marker as a ``dict``.

    Used for foreign pydantic models and dataclasses (``kind`` ``"model"``/``"dataclass"``) and
    for allow-listed LangChain classes whose construction failed (``kind`` ``"lc"``, with
    ``error`` set). Keys: ``"__sv__"``, ``"type"``, ``"fields"`` and optionally ``"error"``.
    """

    def __init__(self, kind: str, type: str, fields: Any, error: str | None = None):
        super().__init__({MARKER: kind, "type": type, "fields": fields})
        if error is not None:
            self["error"] = error

    kind = property(lambda self: self[MARKER], doc="Marker kind: lc, model or dataclass.")
    type = property(lambda self: self["type"], doc="Qualified name of the original class.")
    fields = property(lambda self: self["fields"], doc="Decoded field values.")
    error = property(lambda self: self.get("error"), doc="Why it was not rebuilt, if known.")

    def __repr__(self) -> str:
        return f"SerializedObject({self.kind} {self.type}, fields={self.fields!r})"


# --- Encoding ------------------------------------------------------------------------------------

# Scalar types stored as {"__sv__": kind, "value": ...}: (type, kind, encode, decode).
# datetime precedes date because it is a subclass of it.
_SCALARS: tuple[tuple[type, str, Any, Any], ...] = (
    (uuid.UUID, "uuid", str, uuid.UUID),
    (_dt.datetime, "datetime", _dt.datetime.isoformat, _dt.datetime.fromisoformat),
    (_dt.date, "date", _dt.date.isoformat, _dt.date.fromisoformat),
    (_dt.time, "time", _dt.time.isoformat, _dt.time.fromisoformat),
    (_dt.timedelta, "timedelta", lambda v: [v.days, v.seconds, v.microseconds],
     lambda v: _dt.timedelta(*v)),
    ((bytes, bytearray), "bytes", lambda v: base64.b64encode(v).decode("ascii"),
     lambda v: base64.b64decode(v, validate=True)),
)  # fmt: skip
_SCALAR_DECODERS = {kind: decode for _, kind, _, decode in _SCALARS}


def _qualname(cls: type) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls.__name__)}"


def to_json(value: Any) -> Any:
    """Encode an arbitrary Python value as JSON-compatible data, redacting secrets.

    Parameters
    ----------
    value : Any
        An event or payload: LangChain messages, documents, prompt values, generations,
        containers, pydantic models, dataclasses, exceptions or anything else.

    Returns
    -------
    Any
        Only ``dict`` (str keys), ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.
        Non-JSON values become ``{"__sv__": kind, ...}`` markers that :func:`from_json` inverts.
        Never raises for a hostile value; it is recorded as a ``repr`` marker instead.

    """
    return _encode(value, 0, set())


def to_json_member(value: Any, container: Any) -> Any:
    """Encode ``value`` exactly as :func:`to_json` encodes it as an item of ``container``.

    ``to_json(container)[key] == to_json_member(container[key], container)`` for a dict
    ``container`` whose ``key`` does not name a secret: the same redaction, and the same nesting
    limit and cycle check as one level down. Lets a writer encode an event field by field.
    """
    return _encode(value, 1, {id(container)})


def to_json_key(key: str) -> str:
    """A string dict key as :func:`to_json` writes it (credentials in it redacted)."""
    return redact_text(str.__str__(key))


def _encode(value: Any, depth: int, active: set[int]) -> Any:
    cls = type(value)
    if cls is str:
        return redact_text(value)
    if value is None or cls is bool:
        return value
    if cls is int:  # beyond 4,300 digits json cannot write it: a marked repr, not a failed save
        return value if -_BIG_INT < value < _BIG_INT else _big_int(value)
    if cls is float:
        return value if math.isfinite(value) else {MARKER: "float", "value": repr(value)}
    if depth >= MAX_DEPTH:
        return {MARKER: "depth", "type": _qualname(cls)}
    if id(value) in active:
        return {MARKER: "cycle", "type": _qualname(cls)}
    # Everything after this point may contain itself: track the path from the root. All
    # containers are walked here with plain loops so a nesting level costs few stack frames.
    active.add(id(value))
    try:
        if isinstance(value, dict) and not isinstance(value, SerializedObject):
            return _encode_dict(value, depth + 1, active)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = []
            for item in value:
                items.append(_encode(item, depth + 1, active))
            if isinstance(value, list):
                return items
            if not isinstance(value, tuple):  # set order follows the hash seed: sort it
                items.sort(key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
            kind = "frozenset" if isinstance(value, frozenset) else "set"
            return {MARKER: "tuple" if isinstance(value, tuple) else kind, "items": items}
        return _encode_other(value, cls, depth, active)
    except Exception as exc:  # a hostile __getattr__/__iter__ must not crash the trace writer
        return _repr_marker(value, cls, f"encoding failed: {type(exc).__name__}: {exc}")
    finally:
        active.discard(id(value))


def _encode_other(value: Any, cls: type, depth: int, active: set[int]) -> Any:
    if isinstance(value, (SecretStr, SecretBytes)):
        return REDACTED
    if isinstance(value, str):  # str subclasses such as the parsers' TextAccessor
        return redact_text(str.__str__(value))
    if isinstance(value, int):  # IntEnum and friends (bool is exact-typed above)
        return _encode(int(value), depth, active)
    if cls.__name__ in ("NaTType", "Timestamp") and cls.__module__.startswith("pandas"):
        return _pandas_time(value)
    if isinstance(value, float):
        return _encode(float(value), depth, active)
    for scalar_type, kind, encode, _ in _SCALARS:
        if isinstance(value, scalar_type):
            return {MARKER: kind, "value": encode(value)}
    if isinstance(value, UnserializableValue):  # re-saving a loaded trace
        if value.reason in ("cycle", "depth"):
            return {MARKER: value.reason, "type": str(value.type)}
        marker = {MARKER: "repr", "type": str(value.type), "repr": redact_text(str(value.repr))}
        if value.error is not None:
            marker["error"] = redact_text(str(value.error))
        return marker
    if isinstance(value, BaseException):
        if isinstance(value, SerializedError):  # re-saving a loaded trace keeps the original type
            type_name, module = value.type, value.module
            message, text = value.message, value.repr or ""
        else:
            type_name, module = cls.__name__, cls.__module__
            message, text = _safe_text(str, value), _safe_text(repr, value)
        return {MARKER: "error", "type": str(type_name), "module": str(module),
                "message": redact_text(str(message)), "repr": redact_text(str(text))}  # fmt: skip
    if isinstance(value, SerializedObject):  # re-saving a loaded trace
        kind = value.kind if value.kind in ("lc", "model", "dataclass") else "model"
        name, fields = str(value.type), value.fields
    elif isinstance(value, BaseModel):
        fields = {name: getattr(value, name) for name, info in cls.model_fields.items()
                  if not info.exclude}  # fmt: skip
        fields.update(value.__pydantic_extra__ or {})
        tag = _LC_TAGS.get(cls)
        kind, name = ("lc", tag) if tag is not None else ("model", _qualname(cls))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        kind, name = "dataclass", _qualname(cls)
    else:
        return _repr_marker(value, cls)
    # The fields object is part of the marker, not a nesting level that may be cut off.
    encoded = (_encode_dict if isinstance(fields, dict) else _encode)(fields, depth + 1, active)
    return {MARKER: kind, "type": name, "fields": encoded}


_BIG_INT = 10**4000  # json writes ints of up to 4,300 digits (sys.get_int_max_str_digits)


def _big_int(value: int) -> dict[str, Any]:
    digits = value.bit_length() * 30103 // 100000 + 1  # about, without the decimal text
    text = f"{value:#x}"
    if len(text) > MAX_REPR_CHARS:
        text = (
            f"{text[: MAX_REPR_CHARS - 60]}... [{len(text) - MAX_REPR_CHARS + 60} more hex digits]"
        )
    return {MARKER: "repr", "type": "builtins.int", "repr": text,
            "error": f"an integer of about {digits:,} digits, more than JSON text holds here; "
                     "kept in hexadecimal"}  # fmt: skip


def _pandas_time(value: Any) -> dict[str, Any]:
    """``pandas.NaT`` as a ``nat`` marker; a Timestamp with nanoseconds as a ``timestamp``."""
    if type(value).__name__ == "NaTType":
        return {MARKER: "nat"}
    if getattr(value, "nanosecond", 0):
        return {MARKER: "timestamp", "value": value.isoformat()}
    return {MARKER: "datetime", "value": _dt.datetime.isoformat(value)}


def _encode_dict(value: dict, depth: int, active: set[int]) -> Any:
    plain = MARKER not in value and all(isinstance(key, str) for key in value)
    out: Any = {} if plain else []
    for key, item in value.items():
        if item is not None and isinstance(key, str) and is_secret_key(key):
            item = REDACTED
        else:
            item = _encode(item, depth, active)
        if plain:
            out[redact_text(str.__str__(key))] = item
        else:
            out.append([_encode(key, depth, active), item])
    # Non-string keys, or a user dict that would be mistaken for a marker: store as pairs.
    return out if plain else {MARKER: "dict", "items": out}


def _safe_text(func: Any, value: Any) -> str:
    try:
        return str(func(value))
    except Exception as exc:
        return f"<{func.__name__}() raised {type(exc).__name__}>"


def _repr_marker(value: Any, cls: type, error: str | None = None) -> dict[str, Any]:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr() raised {type(exc).__name__}>"
        error = error or f"repr() raised {type(exc).__name__}: {_safe_text(str, exc)}"
    if len(text) > MAX_REPR_CHARS:
        keep = MAX_REPR_CHARS - 60
        text = f"{text[:keep]}... [{len(text) - keep} more chars truncated]"
    marker = {MARKER: "repr", "type": _qualname(cls), "repr": redact_text(text)}
    if error is not None:
        marker["error"] = redact_text(error[:MAX_REPR_CHARS])
    return marker


# --- Decoding ------------------------------------------------------------------------------------


class _MalformedMarker(ValueError):
    pass


def from_json(value: Any) -> Any:
    """Decode data produced by :func:`to_json` back into Python values.

    Parameters
    ----------
    value : Any
        JSON-compatible data, typically from :func:`json.loads`.

    Returns
    -------
    Any
        Allow-listed LangChain objects are rebuilt by pydantic validation (a :class:`dict`-like
        :class:`SerializedObject` if that fails); UUIDs, datetimes, bytes, tuples, sets and
        non-finite floats come back as such; exceptions as :class:`SerializedError`; foreign
        models and dataclasses as :class:`SerializedObject`; repr markers as
        :class:`UnserializableValue`. Nothing is imported or executed.

    Raises
    ------
    ValueError
        For an unknown or malformed ``__sv__`` marker, or nesting too deep to decode.

    """
    try:
        return _decode(value)
    except RecursionError:
        raise ValueError("value is nested too deeply to decode") from None


def may_hold_markers(text: str) -> bool:
    r"""Whether :func:`from_json` of JSON ``text`` may differ from the text's value as parsed.

    It decodes ``__sv__`` markers and nothing else, so a text without that key needs no
    decoding: the key cannot hide in it, since only a ``\u`` escape could spell it otherwise.
    """
    return MARKER in text or "\\u" in text


def from_parsed(value: Any, text: Any) -> Any:
    """:func:`from_json` of ``value``, parsed from JSON ``text``.

    ``value`` itself when the text holds no marker (:func:`may_hold_markers`).
    """
    return from_json(value) if type(text) is not str or may_hold_markers(text) else value


def _decode(value: Any) -> Any:
    cls = type(value)
    if cls is list:
        out = []
        for item in value:  # a loop, not a comprehension: one stack frame per nesting level
            out.append(_decode(item))
        return out
    if cls is not dict:
        return value
    if MARKER not in value:
        decoded = {}
        for key, item in value.items():
            decoded[key] = _decode(item)
        return decoded
    kind = value[MARKER]
    try:
        return _decode_marker(kind, value)
    except (_MalformedMarker, RecursionError):
        raise
    except Exception as exc:  # OverflowError (a timedelta of 10**12 days) and any other
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else f"{exc}"[:200]
        raise _MalformedMarker(f"malformed {kind!r} marker: {detail}") from None


def _decode_marker(kind: Any, m: dict[str, Any]) -> Any:
    if kind in ("tuple", "set", "frozenset", "dict"):
        items = m["items"]
        if not isinstance(items, list):
            raise TypeError("'items' must be an array")
        if kind == "dict":
            return _decode_pairs(items)
        decoded = []
        for item in items:  # decoded here rather than via _decode(items): fewer stack frames
            decoded.append(_decode(item))
        if kind == "tuple":
            return tuple(decoded)
        try:
            return set(decoded) if kind == "set" else frozenset(decoded)
        except TypeError:  # members that decode to unhashable stand-ins stay a list
            return decoded
    if kind == "lc":
        memo = getattr(_loading, "memo", None)
        if memo is None:
            return _rebuild_langchain(m["type"], _decode(m["fields"]))
        return _shared_langchain(memo, m)
    if kind in ("model", "dataclass"):
        return SerializedObject(kind, str(m["type"]), _decode(m["fields"]))
    if kind == "error":
        return SerializedError(str(m["type"]), str(m["module"]), str(m["message"]), m.get("repr"))
    if kind == "repr":
        return UnserializableValue(str(m["type"]), str(m["repr"]), "repr", m.get("error"))
    if kind == "cycle":
        return UnserializableValue(str(m["type"]), "<circular reference>", "cycle")
    if kind == "depth":
        return UnserializableValue(str(m["type"]), f"<nested deeper than {MAX_DEPTH}>", "depth")
    if kind == "float":
        if m["value"] not in ("nan", "inf", "-inf"):
            raise ValueError(f"not a non-finite float: {m['value']!r}")
        return float(m["value"])
    if kind == "nat":
        return _pandas().NaT
    if kind == "timestamp":  # a pandas Timestamp with nanoseconds
        return _pandas().Timestamp(str(m["value"]))
    if isinstance(kind, str) and kind in _SCALAR_DECODERS:
        return _SCALAR_DECODERS[kind](m["value"])
    raise _MalformedMarker(f"unknown {MARKER} marker kind {kind!r}")


def _pandas() -> Any:
    import pandas

    return pandas


def _decode_pairs(pairs: list[Any]) -> dict[Any, Any]:
    result = {}
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise TypeError("each item must be a [key, value] pair")
        key, item = _decode(pair[0]), _decode(pair[1])
        try:
            result[key] = item
        except TypeError:  # a key that decodes to an unhashable stand-in (e.g. a dataclass)
            result[repr(key)] = item
    return result


# What a load in this thread decoded so far (see shared_objects), or no attribute outside loads.
_loading = threading.local()
_TRUE, _FALSE = object(), object()  # in keys: not the ints 1 and 0, which they equal


@contextlib.contextmanager
def shared_objects() -> Iterator[None]:
    """Within it, equal LangChain objects in the JSON :func:`from_json` decodes are one object.

    A LangGraph agent's model calls each take the whole conversation so far, and capture holds
    each message once (the graph's state passes the same objects to every call), so a file
    repeats it once per call after it. A load decodes each distinct message once and gives every
    event that holds it that object, as capture did: a trace of n calls costs n messages, not
    n²/2, in time and memory. Equal means the same JSON text: the same fields, values of the
    same types, keys in the same order (``1``, ``1.0`` and ``true`` differ). Nested calls share
    one memo; it is dropped when the outermost ends.
    """
    if getattr(_loading, "memo", None) is not None:
        yield
        return
    _loading.memo, _loading.credit = {}, 0
    try:
        yield
    finally:
        _loading.memo, _loading.credit = None, 0


class _Shared:
    """The objects decoded from the ``lc`` markers of one hint (see :func:`_shared_langchain`).

    ``marker`` and ``rebuilt``: the first marker of the hint and what it was decoded to, which
    later markers are compared with (:func:`_same_json`) while they are all the same as it. Once
    one is not, ``exact`` maps each marker's exact key (:func:`_json_key`) to its object and its
    JSON cost. A cost is made when the object is first shared.
    """

    __slots__ = ("cost", "exact", "marker", "rebuilt")

    def __init__(self, marker: dict[str, Any], rebuilt: Any) -> None:
        self.marker, self.rebuilt = marker, rebuilt
        self.cost: int | None = None
        self.exact: dict[Any, list[Any]] | None = None


def _hint(m: dict[str, Any]) -> Any:
    """A cheap key of an ``lc`` marker: equal for equal markers, rarely for different ones.

    The class, the number of fields, the message's ``id`` if it is a string (most messages a
    graph passes around have one) and its ``content``'s length. A message seen once (a model's
    answer) is then told apart without walking it; only markers whose hints meet are compared
    exactly.
    """
    fields = m.get("fields")
    tag = m.get("type")
    if type(fields) is not dict or type(tag) is not str:
        return None
    message_id = fields.get("id")
    content = fields.get("content")
    return (
        tag,
        len(fields),
        message_id if type(message_id) is str else None,
        len(content) if type(content) in (str, list) else None,
    )


def _shared_langchain(memo: dict[Any, _Shared], m: dict[str, Any]) -> Any:
    """An ``lc`` marker decoded, or the object an equal marker of this load was decoded to.

    Equal markers are the same JSON (:func:`_json_key`). Only markers whose :func:`_hint` an
    earlier one had are compared: with the first of their hint in C while they are all the
    same as it (a conversation's history repeated call after call), else by their exact keys.
    A shared object adds its JSON cost to the credit.
    """
    hint = _hint(m)
    shared = memo.get(hint) if hint is not None else None
    if shared is None:
        rebuilt = _rebuild_langchain(m["type"], _decode(m["fields"]))
        if hint is not None:
            memo[hint] = _Shared(m, rebuilt)
        return rebuilt
    if shared.exact is None:
        if _same_json is not None and _same_as(shared.marker, m):
            if shared.cost is None:
                shared.cost = json_cost(shared.marker)
            _loading.credit += shared.cost
            return shared.rebuilt
        # Another marker of this hint (or no C): exact keys from now on.
        shared.exact = {}
        first_key = _json_key(shared.marker)
        if first_key is not None:
            shared.exact[first_key] = [shared.rebuilt, shared.marker]
    key = _json_key(m)
    found = shared.exact.get(key) if key is not None else None
    if found is None:
        rebuilt = _rebuild_langchain(m["type"], _decode(m["fields"]))
        if key is not None:
            shared.exact[key] = [rebuilt, m]
        return rebuilt
    if type(found[1]) is not int:  # its cost, made once: from the marker it was decoded from
        found[1] = json_cost(found[1])
    _loading.credit += found[1]
    return found[0]


def _same_as(first: dict[str, Any], m: dict[str, Any]) -> bool:
    """:func:`_same_json` of two markers; nested too deeply for it: not known to be the same."""
    try:
        return bool(_same_json(first, m))
    except RecursionError:
        return False


def shared_credit() -> int:
    """What the objects shared since the last call would have cost, then 0 again.

    Their JSON's :func:`~streamviz._validate.json_cost`: what a loader refunds to its budget.
    """
    credit = getattr(_loading, "credit", 0)
    _loading.credit = 0
    return credit


def _json_key(value: Any) -> Any:
    """A hashable key of a JSON value, equal only for the same JSON text (None: not JSON)."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is dict:
        key: list[Any] = ["d"]
        for name, item in value.items():
            item_key = _json_key(item)
            if item_key is None and item is not None:
                return None
            key.append(name)
            key.append(item_key)
        return tuple(key)
    if kind is list:
        key = ["l"]
        for item in value:
            item_key = _json_key(item)
            if item_key is None and item is not None:
                return None
            key.append(item_key)
        return tuple(key)
    if kind is bool:
        return _TRUE if value else _FALSE
    if kind is int:
        return ("i", value)
    if kind is float:
        return ("f", repr(value))  # (-0.0 is not 0.0)
    return None


def _rebuild_langchain(tag: Any, fields: Any) -> Any:
    if not isinstance(fields, dict):
        raise TypeError("'fields' must be an object")
    cls = _LC_CLASSES.get(tag) if isinstance(tag, str) else None
    if cls is None:  # e.g. a class added to the allow-list by a newer streamviz
        return SerializedObject("lc", str(tag), fields, error="class is not in the allow-list")
    try:
        return cls(**fields)
    except Exception as exc:  # keep the data visible instead of failing the whole load
        return SerializedObject("lc", tag, fields, error=f"{type(exc).__name__}: {exc}")

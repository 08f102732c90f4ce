"""The one redaction layer: secrets left out of every output, and text every output can carry.

Every output of a trace asks this module about every key and string it writes: trace files
(JSONL through :mod:`streamviz._serialization`, Parquet and Arrow through
:mod:`streamviz._columnar`), the widget's snapshot, deltas and payload pane
(:mod:`streamviz.widgets._encode`), offline pages (:mod:`streamviz.export`, which show the
widget's state) and the exports of other formats (they call :func:`redact_text` and
:func:`~streamviz._serialization.to_json`).

- :func:`is_secret_key`: a dict key or field name whose value is never written
  (``api_key``, ``OPENAI_API_KEY``, ``Authorization``, ``pwd``, ``dsn``,
  ``Ocp-Apim-Subscription-Key``...).
- :func:`redact_text`: credentials inside text (``Bearer``/``Basic`` credentials, ``KEY=value``
  and ``"key": "value"`` for secret keys, passwords in URLs, known token formats).
- :func:`display_text`: :func:`redact_text`, then each lone surrogate (a split emoji, a
  ``surrogateescape`` file name) replaced by U+FFFD: what the page shows. Files keep them exactly.
- :func:`add_pattern`, :func:`add_secret_key`: more of either, for a user's own formats
  (public as :mod:`streamviz.redaction`).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "REDACTED",
    "REPLACEMENT",
    "add_pattern",
    "add_secret_key",
    "display_text",
    "display_value",
    "encodable_text",
    "is_secret_key",
    "redact_pieces",
    "redact_text",
    "redact_value",
]

REDACTED = "[redacted]"
REPLACEMENT = "\ufffd"
"""What a lone surrogate is shown as (pages and widgets; files keep the surrogate itself)."""


# --- Secret keys -------------------------------------------------------------------------------

# Whole key names, compared with case and separators ("-", "_", ".", " ") ignored.
_SECRET_NAMES = {
    "apikey", "xapikey", "authorization", "proxyauthorization", "password", "passwd", "secret",
    "clientsecret", "accesstoken", "refreshtoken", "idtoken", "sessiontoken", "cookie", "cookies",
    "setcookie", "privatekey", "auth", "credential", "credentials", "pwd", "passphrase", "dsn",
    "jwt", "connectionstring", "connstr", "accesskey", "secretkey", "subscriptionkey",
}  # fmt: skip
# Found anywhere in the flattened name (aws_secret_access_key, ocp-apim-subscription-key...).
_SECRET_PARTS = (
    "apikey", "privatekey", "accesskey", "secretkey", "subscriptionkey", "signingkey",
    "encryptionkey", "masterkey", "password", "passwd", "passphrase", "connectionstring",
)  # fmt: skip
# A word anywhere in a separated key that marks it secret (db_password, client_credentials).
_SECRET_WORDS = {"secret", "secrets", "password", "passwd", "pwd", "credential", "credentials"}
# The last word of a key of two words or more that marks it secret (sentry_dsn, db_pass).
_LAST_WORDS = {"auth", "dsn", "jwt", "pass", "cookie", "cookies"}
# "<word>_token" keys that count tokens rather than hold one (max_token, total_token...).
_COUNT_WORDS = frozenset({
    "max", "min", "num", "n", "total", "input", "output", "prompt", "completion", "reasoning",
    "cached", "audio", "used", "remaining",
})  # fmt: skip
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-. ]")


def is_secret_key(key: str) -> bool:
    """Whether a dict key or field name names a secret (its value is then not written)."""
    # Only short keys are cached, so huge keys in hostile payloads are not kept alive.
    return _is_secret_short_key(key) if len(key) <= 100 else _classify_key(key)


@functools.lru_cache(maxsize=4096)
def _is_secret_short_key(key: str) -> bool:
    return _classify_key(key)


def _classify_key(key: str) -> bool:
    snake = _SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", key).lower())
    flat = snake.replace("_", "")
    if flat in _SECRET_NAMES or any(part in flat for part in _SECRET_PARTS):
        return True
    words = [word for word in snake.split("_") if word]
    if _SECRET_WORDS.intersection(words):
        return True
    if len(words) >= 2 and words[-1] in _LAST_WORDS:
        return True
    # Plural "_tokens" keys are counts (usage metadata must survive); a singular "_token"
    # key holds a credential unless the word before it is a count word.
    return snake.endswith("_token") and (len(words) < 2 or words[-2] not in _COUNT_WORDS)


# --- Secrets in text -----------------------------------------------------------------------------

_TOKEN_CHARS = r"[A-Za-z0-9\-._~+/=]*[A-Za-z0-9\-_~+/=]"
# Each kind of secret has its own expression, searched only in text holding its hints (below):
# one expression of them all costs ~2x their sum on long text, and most text holds few hints.
# A cookie header: the rest of the line (before KEY=value, which would take one crumb only).
_COOKIE = re.compile(r"(?P<head>\b(?i:set-cookie|cookie)[\"']?[ \t]*:[ \t]*)[^\r\n\"']+")
# KEY=value, key: value, "key": "value" (JSON, a repr, an env file, a header, a query): the
# value is left out when the key names a secret (is_secret_key), checked in _redact_assign.
_ASSIGN = re.compile(
    r"(?P<key>(?<![\w.\-])[A-Za-z_][\w.\-]*)(?P<sep>[\"']?[ \t]*[:=][ \t]*)"
    r"(?P<value>\"[^\"\r\n]*\"?|'[^'\r\n]*'?"
    r"|(?:(?i:bearer|basic|token|digest|negotiate|bot|apikey)[ \t]+)?[^\s\"',;}&<>]+)"
)
# An HTTP credential after its scheme word ("Bearer abc...", "Basic dXNlcjpw...").
_SCHEME = re.compile(r"(?P<head>\b(?i:bearer|basic)[ \t]+)(?P<cred>" + _TOKEN_CHARS + ")")
# The password of a URL (postgres://admin:pass@host, redis://:pass@host).
_URL = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@\"'<>]*:)[^\s/@\"'<>]+(?=@)")
# Known token formats: OpenAI/Anthropic, LangSmith, GitHub, Hugging Face, Slack, AWS access key
# ids, Google API keys, JWTs, GitLab, Stripe. Each starts with a literal (the engine skips to
# it); a match glued to a letter or digit before it is not a token (checked in _redact_format).
_FORMATS = re.compile(
    r"(?:sk-ant-|sk-|lsv2_)[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
)

# Every secret in text contains one of these hints (in any case; a secret key one of the key
# hints): text without any of them holds none, and is checked by a few substring searches
# instead of the expressions. The expressions' case folding also matches "s" to U+017F (long s)
# and "k" to U+212A (Kelvin sign, which lower() turns into "k").
_KEY_HINTS = ("key", "secret", "pass", "pwd", "token", "auth", "cred", "cookie", "dsn", "jwt",
              "conn")  # fmt: skip
# Token formats' hints, by the separator they hold (most text holds no "_" or "-": one search
# of a character rules a group out).
_FORMAT_HINTS = ("akia", "asia", "aiza", "eyj")
_UNDERSCORE_HINTS = ("lsv2_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "hf_",
                     "k_live_", "k_test_")  # fmt: skip
_DASH_HINTS = ("sk-", "xox", "glpat-")


def _holds_format(lowered: str) -> bool:
    return (
        any(hint in lowered for hint in _FORMAT_HINTS)
        or ("_" in lowered and any(hint in lowered for hint in _UNDERSCORE_HINTS))
        or ("-" in lowered and any(hint in lowered for hint in _DASH_HINTS))
    )


class _Registry:
    """What :func:`add_pattern`/:func:`add_secret_key` added to the built-in rules."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key_hints: tuple[str, ...] = _KEY_HINTS
        self.extra: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = ()
        self.extra_hints: tuple[str, ...] = ()
        self.always = False  # a pattern without hints: every string is searched


_registry = _Registry()


def _lowered(text: str) -> str:
    return text.lower().replace("\u017f", "s")


def _may_hold_secret(text: str, lowered: str | None = None) -> bool:
    if lowered is None:
        lowered = _lowered(text)
    registry = _registry
    return (
        registry.always
        or any(hint in lowered for hint in registry.key_hints)
        or "bearer" in lowered
        or "basic" in lowered
        or ("@" in lowered and "://" in lowered)
        or _holds_format(lowered)
        or any(hint in lowered for hint in registry.extra_hints)
    )


def _redact_assign(match: re.Match[str]) -> str:
    key, sep, value = match.group("key", "sep", "value")
    if is_secret_key(key):
        quote = value[0] if value[:1] in ("'", '"') else ""
        return f"{key}{sep}{quote}{REDACTED}{quote}"
    # Not a secret's name: what it is given may still hold one (?key=AIza..., note: ghp_...).
    return _redact(key) + sep + _redact(value)


def _redact_scheme(match: re.Match[str]) -> str:
    cred = match.group("cred")
    # Prose ("the bearer of bad news", "Basic English") must survive: a short, purely
    # alphabetic, lower- or title-case word is not a credential; real tokens have digits,
    # symbols, mixed case or length.
    if cred.isalpha() and len(cred) < 16 and (cred.islower() or cred.istitle()):
        return match.group(0)
    return match.group("head") + REDACTED


def _redact_head(match: re.Match[str]) -> str:
    return match.group("head") + REDACTED


def _redact_format(match: re.Match[str]) -> str:
    start = match.start()
    if start and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
        return match.group(0)  # part of a longer word (e.g. "task-..."), not a token
    return REDACTED


def _redact(text: str, lowered: str | None = None) -> str:
    """``text`` redacted by every rule whose hints it holds (no cache)."""
    if lowered is None:
        lowered = _lowered(text)
    registry = _registry
    if registry.always or any(hint in lowered for hint in registry.key_hints):
        if "cookie" in lowered:
            text = _COOKIE.sub(_redact_head, text)
        if ":" in text or "=" in text:
            text = _ASSIGN.sub(_redact_assign, text)
    if "bearer" in lowered or "basic" in lowered:
        text = _SCHEME.sub(_redact_scheme, text)
    if "@" in lowered and "://" in lowered:
        text = _URL.sub(_redact_head, text)
    if _holds_format(lowered):
        text = _FORMATS.sub(_redact_format, text)
    for pattern, hints in registry.extra:
        if not hints or any(hint in lowered for hint in hints):
            text = pattern.sub(_redact_extra, text)
    return text


def _redact_extra(match: re.Match[str]) -> str:
    if "secret" in match.re.groupindex and match.group("secret") is not None:
        start, end = match.span("secret")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + REDACTED + whole[end - offset :]
    return REDACTED


def redact_text(text: str) -> str:
    """Replace credentials in text (and what :func:`add_pattern` added).

    Bearer/Basic credentials, ``SECRET_KEY=...`` values, URL passwords, API-key-shaped tokens.

    Parameters
    ----------
    text : str
        Any text (message content, an exception message, a repr, a run name).

    Returns
    -------
    str
        ``text`` with each credential replaced by ``"[redacted]"``. Ordinary text (tokens,
        prose, code) comes back unchanged, as the same object. Lone surrogates are kept.

    """
    # Short strings (keys, names, ids, tokens) repeat across a trace's events: the ones found
    # clean are remembered, so they are scanned once. Long ones (a message's content, a graph's
    # state) repeat too, in the events of every run that passed them on: the last few clean ones
    # are remembered (a string's hash is kept by the string, so looking one up again is cheap),
    # within a bound on their characters. A secret is never kept alive here.
    if len(text) > _CLEAN_MAX_CHARS:
        if len(text) > _LONG_MAX_CHARS:
            lowered = _lowered(text)
            return _redact(text, lowered) if _may_hold_secret(text, lowered) else text
        if text in _clean_long:
            return text
        lowered = _lowered(text)
        redacted = _redact(text, lowered) if _may_hold_secret(text, lowered) else text
        if redacted == text:
            global _long_chars
            if _long_chars + len(text) > _LONG_BUDGET:
                _clean_long.clear()
                _long_chars = 0
            _clean_long.add(text)
            _long_chars += len(text)
            return text
        return redacted
    if text in _clean:
        return text
    lowered = _lowered(text)
    redacted = _redact(text, lowered) if _may_hold_secret(text, lowered) else text
    if redacted == text:
        if len(_clean) >= _CLEAN_MAX_COUNT:
            _clean.clear()
        _clean.add(text)
        return text
    return redacted


_CLEAN_MAX_CHARS = 200
_CLEAN_MAX_COUNT = 8192
_clean: set[str] = set()
_LONG_MAX_CHARS = 100_000  # longer texts are scanned every time
_LONG_BUDGET = 1_000_000  # characters of long clean texts remembered at most
_clean_long: set[str] = set()
_long_chars = 0

_SURROGATE = re.compile("[\ud800-\udfff]")


def display_text(text: str) -> str:
    """``text`` as a page shows it: redacted, each lone surrogate replaced by U+FFFD.

    Lone surrogates (half of an emoji split across two chunks, ``surrogateescape`` bytes of a
    non-UTF-8 file name) cannot be encoded as UTF-8: a widget message or an HTML page holding
    one could not be sent or written. Files keep them exactly (JSON escapes).
    """
    # The common case first, without a call: a short text already found clean (a token).
    shown = text if text in _clean else redact_text(text)
    if shown.isascii() or not _SURROGATE.search(shown):
        return shown
    return _SURROGATE.sub(REPLACEMENT, shown)


def redact_pieces(pieces: Sequence[str]) -> list[str] | None:
    """The pieces of one streamed text with the secrets of the joined text left out.

    A model streams a secret the way its tokenizer splits it (``" sk"``, ``"-"``, ``"proj"``,
    ``"-"``, ``"Ab12"``...): no piece alone looks secret, their join does. Each secret of the
    joined text becomes ``"[redacted]"`` in the piece where it starts; what the secret covers
    of that piece and of the following ones is left out (a piece inside a secret becomes
    ``""``). Text around the secrets keeps its pieces, so a token stream keeps its tokens.

    Returns ``None`` when the joined text holds no secret: then each piece is written as it is
    (through :func:`redact_text`, as any text).
    """
    joined = "".join(pieces)
    # Not through redact_text's cache of clean texts: a join is seen once, its pieces often.
    lowered = _lowered(joined)
    if not _may_hold_secret(joined, lowered):
        return None
    redacted = _redact(joined, lowered)
    if redacted == joined:
        return None
    spans = _secret_spans(joined, redacted)
    if spans is None:  # no way to place what was kept: the join, redacted, in the first piece
        return [redacted] + [""] * (len(pieces) - 1)
    out: list[str] = []
    spans_left = iter(spans)
    span = next(spans_left, None)
    offset = 0
    for piece in pieces:
        end = offset + len(piece)
        parts: list[str] = []
        at = offset  # the next character of the piece to look at
        while span is not None and span[0] < end:
            start, stop = span
            if start >= at:
                parts.append(piece[at - offset : start - offset])
                parts.append(REDACTED)
            at = max(at, min(stop, end))
            if stop > end:
                break  # the secret goes on into the next piece
            span = next(spans_left, None)
        parts.append(piece[at - offset :])
        out.append("".join(parts))
        offset = end
    return out


def _secret_spans(joined: str, redacted: str) -> list[tuple[int, int]] | None:
    """Where in ``joined`` the text :func:`redact_text` replaced lies, as ``(start, stop)``.

    ``redacted`` is the text kept, in order, with ``"[redacted]"`` between: each kept part is
    placed once as early and once as late as it fits, and a secret spans from the earliest end
    of the part before it to the latest start of the part after it. Where a kept part could
    sit in several places the span covers them all: more is left out, never less. ``None`` if
    the parts cannot be placed.
    """
    kept = redacted.split(REDACTED)
    first, last = kept[0], kept[-1]
    if not joined.startswith(first) or not joined.endswith(last):
        return None
    if len(first) + len(last) > len(joined):
        return None
    ends = [len(first)]  # the earliest end of each kept part
    for part in kept[1:-1]:
        found = joined.find(part, ends[-1])
        if found < 0:
            return None
        ends.append(found + len(part))
    starts = [len(joined) - len(last)]  # the latest start of each kept part, from the last
    for part in reversed(kept[1:-1]):
        found = joined.rfind(part, 0, starts[-1])
        if found < 0:
            return None
        starts.append(found)
    starts.reverse()
    spans: list[tuple[int, int]] = []
    for start, stop in zip(ends, starts, strict=True):
        if stop < start:
            return None
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(stop, spans[-1][1]))
        else:
            spans.append((start, stop))
    return spans


def encodable_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD.

    For text redacted already, such as :func:`~streamviz._serialization.to_json`'s output dumped
    as JSON.
    """
    if not text.isascii() and _SURROGATE.search(text):
        return _SURROGATE.sub(REPLACEMENT, text)
    return text


def redact_value(value: Any) -> Any:
    """A JSON-like value (dicts, lists, tuples, strings, scalars) with secrets left out.

    Values of secret keys (:func:`is_secret_key`) become ``"[redacted]"``, every string (keys
    included) goes through :func:`redact_text`; tuples come back as lists. For arbitrary Python
    objects use :func:`streamviz._serialization.to_json`, which redacts the same way.
    """
    return _walk(value, redact_text, True, 0)


def display_value(value: Any, *, keys: bool = False) -> Any:
    """Every string of a JSON-like value through :func:`display_text`.

    With ``keys``, values of secret keys are left out too (as :func:`redact_value`); without,
    keys are a protocol's own names and only strings are looked at.
    """
    return _walk(value, display_text, keys, 0)


def _forget_clean() -> None:
    """Forget the texts found clean (the rules changed)."""
    global _long_chars
    _clean.clear()
    _clean_long.clear()
    _long_chars = 0


def _walk(value: Any, text: Any, keys: bool, depth: int) -> Any:
    cls = type(value)
    if cls is str:
        return text(value)
    if value is None or cls is bool or cls is int or cls is float:
        return value
    if depth > 100:
        return REDACTED
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            shown_key = text(key) if type(key) is str else key
            if keys and item is not None and type(key) is str and is_secret_key(key):
                out[shown_key] = REDACTED
            else:
                out[shown_key] = _walk(item, text, keys, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_walk(item, text, keys, depth + 1) for item in value]
    if isinstance(value, str):
        return text(str.__str__(value))
    return value


# --- Adding patterns ---------------------------------------------------------------------------


def add_pattern(pattern: str | re.Pattern[str], *, hints: Iterable[str] = ()) -> None:
    r"""Redact every match of ``pattern`` in every output from now on.

    Parameters
    ----------
    pattern : str or re.Pattern
        A regular expression. The whole match becomes ``"[redacted]"``, or only its group named
        ``secret`` if it has one (``r"employee-id: (?P<secret>\\d+)"``).
    hints : iterable of str
        Lower-case substrings, one of which every match contains (``["employee-id"]``): text
        holding none of them is not searched, which keeps saving fast. Without hints the
        pattern is searched in every string.
    """
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    hint_list = tuple(str(hint).lower() for hint in hints)
    with _registry.lock:
        _registry.extra = (*_registry.extra, (compiled, hint_list))
        _registry.extra_hints = (*_registry.extra_hints, *hint_list)
        _registry.always = _registry.always or not hint_list
        _forget_clean()


def add_secret_key(name: str) -> None:
    """Treat ``name`` as the name of a secret: its values are left out of every output.

    Compared with case and the separators ``-``, ``_``, ``.`` and spaces ignored, as a dict key
    or field name anywhere in a payload, and as ``name=value`` / ``name: value`` in text.
    """
    snake = _SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", str(name)).lower())
    words = [word for word in snake.split("_") if word]
    if not words:
        raise ValueError("a secret key name needs at least one letter or digit")
    with _registry.lock:
        _SECRET_NAMES.add("".join(words))
        # Any spelling of the name (camelCase, kebab-case, snake_case) holds its first word.
        if not any(hint in words[0] for hint in _registry.key_hints):
            _registry.key_hints = (*_registry.key_hints, words[0])
        _is_secret_short_key.cache_clear()
        _forget_clean()

"""Secret redaction for trace files: key names that hold credentials, and credentials in text.

A trace file must never carry an API key, an ``Authorization`` header or a ``SecretStr`` value,
wherever in a payload it hides; :mod:`streamviz._serialization` asks this module about every key
and every string it writes.
"""

from __future__ import annotations

import functools
import re

__all__ = ["REDACTED", "is_secret_key", "redact_text"]

REDACTED = "[redacted]"


# Key names compared with case, "-" and "_" ignored.
_SECRET_NAMES = frozenset({
    "apikey", "xapikey", "authorization", "proxyauthorization", "password", "passwd", "secret",
    "clientsecret", "accesstoken", "refreshtoken", "idtoken", "sessiontoken", "cookie", "cookies",
    "setcookie", "privatekey",
})  # fmt: skip
# A word anywhere in a snake_case key that marks it secret (aws_secret_access_key, db_password).
_SECRET_WORDS = frozenset({"secret", "secrets", "password", "passwd", "credentials"})
# "<word>_token" keys that count tokens rather than hold one (max_token, total_token...).
_COUNT_WORDS = frozenset({
    "max", "min", "num", "n", "total", "input", "output", "prompt", "completion", "reasoning",
    "cached", "audio", "used", "remaining",
})  # fmt: skip
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_key(key: str) -> bool:
    """Whether a dict key or field name names a secret (its value is then not written)."""
    # Only short keys are cached, so huge keys in hostile payloads are not kept alive.
    return _is_secret_short_key(key) if len(key) <= 100 else _classify_key(key)


@functools.lru_cache(maxsize=4096)
def _is_secret_short_key(key: str) -> bool:
    return _classify_key(key)


def _classify_key(key: str) -> bool:
    snake = _CAMEL_BOUNDARY.sub("_", key).lower().replace("-", "_")
    flat = snake.replace("_", "")
    if flat in _SECRET_NAMES or "apikey" in flat or "privatekey" in flat:
        return True
    words = snake.split("_")
    if _SECRET_WORDS.intersection(words):
        return True
    # Plural "_tokens" keys are counts (usage metadata must survive); a singular "_token"
    # key holds a credential unless the word before it is a count word.
    return snake.endswith("_token") and (len(words) < 2 or words[-2] not in _COUNT_WORDS)


_SECRET_TEXT = re.compile(
    r"(?P<scheme>\b(?i:bearer)\s+)(?P<cred>[A-Za-z0-9\-._~+/=]*[A-Za-z0-9\-_~+/=])"
    r"|(?<![A-Za-z0-9])(?:sk-ant-|sk-|lsv2_)[A-Za-z0-9_\-]{16,}"
    r"|(?P<assign>\b(?i:api[_-]?key|client[_-]?secret|password|passwd|secret"
    r"|access[_-]?token|refresh[_-]?token)[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;}&]+)"
)


# Every alternative of _SECRET_TEXT contains one of these (in any case): text without any of them
# holds no match, and is checked by a few substring searches instead of the expression. The
# expression's case folding also matches "s" to U+017F (long s) and "k" to U+212A (Kelvin sign,
# which lower() turns into "k").
_HINTS = ("bearer", "sk-", "lsv2_", "key", "secret", "passw", "token")


def _may_hold_secret(text: str) -> bool:
    lowered = text.lower().replace("\u017f", "s")
    return any(hint in lowered for hint in _HINTS)


def _redact_match(match: re.Match[str]) -> str:
    if match.group("scheme") is not None:
        scheme, cred = match.group("scheme"), match.group("cred")
        # Prose ("the bearer of bad news", "Bearer bonds") must survive: a short, purely
        # alphabetic, lower- or title-case word is not a credential; real tokens have digits,
        # symbols, mixed case or length.
        if cred.isalpha() and len(cred) < 16 and (cred.islower() or cred.istitle()):
            return match.group(0)
        return scheme + REDACTED
    if match.group("assign") is not None:
        return match.group("assign") + REDACTED
    return REDACTED


def redact_text(text: str) -> str:
    """Replace bearer credentials, API-key-shaped tokens and ``password=...`` values in text.

    Parameters
    ----------
    text : str
        Any text (message content, an exception message, a repr).

    Returns
    -------
    str
        ``text`` with each credential replaced by ``"[redacted]"``.

    """
    # Short strings (keys, names, ids, tokens) repeat across a trace's events: the ones found
    # clean are remembered, so they are scanned once. Only clean ones (a secret is never kept
    # alive here) and only short ones (huge payload strings are not kept either).
    if len(text) > _CLEAN_MAX_CHARS:
        if not _may_hold_secret(text):
            return text
        return _SECRET_TEXT.sub(_redact_match, text)
    if text in _clean:
        return text
    redacted = _SECRET_TEXT.sub(_redact_match, text)
    if redacted == text:
        if len(_clean) >= _CLEAN_MAX_COUNT:
            _clean.clear()
        _clean.add(text)
    return redacted


_CLEAN_MAX_CHARS = 200
_CLEAN_MAX_COUNT = 8192
_clean: set[str] = set()

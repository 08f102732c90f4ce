r"""What streamviz leaves out of its outputs, and how to add your own secrets' shapes.

Every output of a trace (JSONL, Parquet and Arrow files, the widget and its payload pane, offline
pages, the OpenTelemetry and Perfetto exports) goes through one redaction layer: values of
secret-named keys, and credentials found in any text (names, tags, metadata, payloads, errors),
are written as ``"[redacted]"``. The README lists what is covered. To add a pattern::

    import streamviz as sv
    sv.redaction.add_pattern(r"emp-\d{6}", hints=["emp-"])      # the whole match
    sv.redaction.add_pattern(r"badge: (?P<secret>\w+)", hints=["badge"])  # one group
    sv.redaction.add_secret_key("tenant_secret_code")            # a key whose values are hidden

Patterns apply to outputs written from then on (a trace in memory keeps what it captured).
"""

from __future__ import annotations

from streamviz._redact import (
    REDACTED,
    REPLACEMENT,
    add_pattern,
    add_secret_key,
    display_text,
    is_secret_key,
    redact_text,
    redact_value,
)

__all__ = [
    "REDACTED",
    "REPLACEMENT",
    "add_pattern",
    "add_secret_key",
    "display_text",
    "is_secret_key",
    "redact_text",
    "redact_value",
]

"""The span attribute and event names streamviz writes to OpenTelemetry and reads back from it.

One table for both directions, so that an export followed by an import gives back the same runs.
Where the OpenInference semantic conventions name a thing (span kind, model, inputs and outputs,
token counts, tags, metadata) their names are used, so Phoenix and other OpenInference readers
understand the spans; what they do not name (the run's own id and type, stream chunks, how a run
ended beyond ok / error) lives under ``streamviz.``.

Ids: a trace's OpenTelemetry trace id is its root run's UUID (16 bytes); a run's span id is the
last 8 bytes of its UUID. The full UUIDs are kept in ``streamviz.run_id`` and
``streamviz.parent_run_id`` so nothing depends on those 8 bytes being unique.
"""

from __future__ import annotations

# OpenInference conventions (openinference-semantic-conventions).
SPAN_KIND = "openinference.span.kind"
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
MODEL_NAME = "llm.model_name"
TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
TOKEN_COUNT_TOTAL = "llm.token_count.total"
TAGS = "tag.tags"
METADATA = "metadata"
JSON_MIME = "application/json"

# A LangChain run type -> an OpenInference span kind (anything else is a CHAIN).
SPAN_KINDS = {
    "llm": "LLM",
    "chat_model": "LLM",
    "tool": "TOOL",
    "retriever": "RETRIEVER",
    "embedding": "EMBEDDING",
    "prompt": "CHAIN",
    "parser": "CHAIN",
    "chain": "CHAIN",
}

# streamviz's own.
RUN_ID = "streamviz.run_id"
PARENT_RUN_ID = "streamviz.parent_run_id"
RUN_TYPE = "streamviz.run_type"
STATUS = "streamviz.status"  # "ok" | "error" | "interrupted" | "cancelled" | "running"
THREAD = "streamviz.thread"  # the LangGraph thread id the run ran on (text), when known

# Each streamed chunk of a run is one span event named STREAM_EVENT, at the time it was captured.
STREAM_EVENT = "streamviz.stream"
CHUNK = "streamviz.chunk"  # the chunk as JSON text (as trace files write it)
CHUNK_TEXT = "streamviz.text"  # its text, when it has one (a token)
SEQ = "streamviz.seq"  # the event's sequence number in the trace
# A run whose chunks were cut at the user's cap says how many were left out.
DROPPED_CHUNKS = "streamviz.dropped_chunks"

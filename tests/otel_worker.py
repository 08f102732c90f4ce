"""One worker process of a batch traced with OpenInference under a trace id it is handed.

``python otel_worker.py TRACEPARENT INDEX OUT TOPIC...`` runs the guide's parrot chain
(prompt | offline demo model | parser) on each topic with ``chain.batch`` under
openinference-instrumentation-langchain, inside a ``worker-INDEX`` span whose parent is the span
named by the W3C ``traceparent`` string (the batch's root, in another process). It writes every
span it recorded to ``OUT`` as one OTLP/JSON request, the way the OTel protobuf JSON mapping
writes it (``MessageToJson`` of the SDK's OTLP encoding: ids in base64, times as strings).
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.protobuf.json_format import MessageToJson
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import parrot_chain


def main(traceparent: str, index: int, out: str, topics: list[str]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"worker-{index}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        tracer = provider.get_tracer("otel_worker")
        context = propagate.extract({"traceparent": traceparent})
        with tracer.start_as_current_span(f"worker-{index}", context=context) as span:
            span.set_attribute("worker.topics", topics)
            parrot_chain().batch([{"topic": topic} for topic in topics])
    finally:
        instrumentor.uninstrument()
    request = encode_spans(exporter.get_finished_spans())
    Path(out).write_text(MessageToJson(request), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:])

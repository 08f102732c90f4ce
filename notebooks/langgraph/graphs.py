"""The example graphs served by ``langgraph dev`` from this folder (see streamviz.demo.graphs).

Run a local LangGraph API server on them, offline::

    cd notebooks/langgraph
    LANGGRAPH_CLI_NO_ANALYTICS=1 LANGSMITH_TRACING=false langgraph dev --no-browser --port 2025

``langgraph-auth.json`` serves the same graphs behind the API-key check of ``auth.py``.
"""

from streamviz.demo.graphs import (
    bench_graph,
    failing_graph,
    joke_graph,
    model_graph,
    nested_graph,
    subgraph_graph,
)

__all__ = [
    "bench_graph",
    "failing_graph",
    "joke_graph",
    "model_graph",
    "nested_graph",
    "subgraph_graph",
]

"""The example graphs served by ``langgraph dev`` from this folder (see streamviz.demo.graphs).

Run a local LangGraph API server on them, offline::

    cd notebooks/langgraph
    LANGGRAPH_CLI_NO_ANALYTICS=1 LANGSMITH_TRACING=false langgraph dev --no-browser --port 2025
"""

from streamviz.demo.graphs import joke_graph, model_graph, subgraph_graph

__all__ = ["joke_graph", "model_graph", "subgraph_graph"]

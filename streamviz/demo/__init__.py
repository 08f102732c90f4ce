"""Offline demo models for running LangChain's streaming guide without an API key.

`DemoChatModel` is a drop-in chat model that streams scripted answers token
by token with a realistic time to first token and inter-token delay, so
streamviz timelines look like those of a hosted model.  `DemoLLM` does the
same for the legacy text-completion interface and `DemoRetriever` is a tiny
keyword retriever for the guide's retrieval chain.  `DemoToolModel` streams
tool calls (two in parallel, their chunks interleaved) for the tools
`get_weather` and `get_time`.  `tokenize` is the
BPE-like splitter used for answers that are not pre-tokenized.

The built-in scripts answer the prompts of the guide:

- ``"what color is the sky?"`` -> ``The| sky| appears| blue| during| the| day|.``
- ``"tell me a joke about parrot"`` -> a short parrot joke
- the ``countries`` JSON prompt -> a pretty-printed JSON object that
  ``JsonOutputParser`` streams as progressively completed dicts
- the retrieval prompt (``"harrison"``, ``"kensho"`` or ``"context:"``) ->
  an answer saying Harrison worked at Kensho
- ``"hello"`` -> a greeting
- LangGraph's guide: a joke about ``"ice cream and cats"``, and a ``"poem"`` about cats

Example LangGraph graphs built on these models are in :mod:`streamviz.demo.graphs`.
``chat_model()`` is what the notebooks call: the demo model, or a real provider model when the
environment variable ``STREAMVIZ_CHAT_MODEL`` names one (``init_chat_model`` syntax).

Examples
--------
>>> from langchain_core.output_parsers import StrOutputParser
>>> from langchain_core.prompts import ChatPromptTemplate
>>> from streamviz.demo import DemoChatModel
>>> model = DemoChatModel(time_to_first_token=0, token_delay=0)
>>> prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
>>> chain = prompt | model | StrOutputParser()
>>> next(iter(chain.stream({"topic": "parrot"})))
'Why'

Use ``DemoChatModel.for_benchmark(n)`` for a zero-delay model that always
answers exactly ``n`` tokens.

"""

from streamviz.demo._choice import MODEL_VARIABLE, chat_model
from streamviz.demo._models import DemoChatModel, DemoLLM
from streamviz.demo._retriever import DemoRetriever
from streamviz.demo._scripts import tokenize
from streamviz.demo._tools import DEMO_TOOL_CALLS, DemoToolModel, get_time, get_weather

__all__ = [
    "DEMO_TOOL_CALLS",
    "MODEL_VARIABLE",
    "DemoChatModel",
    "DemoLLM",
    "DemoRetriever",
    "DemoToolModel",
    "chat_model",
    "get_time",
    "get_weather",
    "tokenize",
]

"""Example LangGraph graphs of LangGraph's streaming guide, offline, on the demo models.

- :data:`joke_graph`: ``refine_topic -> generate_joke`` (the guide's graph for ``updates`` and
  ``values``).
- :data:`subgraph_graph`: a parent graph whose node ``node_2`` is a compiled subgraph (for
  ``subgraphs=True`` namespaces).
- :data:`model_graph`: a node that streams a joke from :class:`~streamviz.demo.DemoChatModel`
  (tagged ``joke``) and a poem (tagged ``poem``), and reports progress with
  ``get_stream_writer`` (for ``messages`` filtered by node or tag, and ``custom``).
- :data:`nested_graph`: a graph whose node ``outer`` is the subgraph graph above (two levels of
  namespaces: ``outer:<task id>``, then ``node_2:<task id>``).
- :data:`failing_graph`: ``prepare -> explode``, whose second node raises (a server-side error).
- :data:`bench_graph`: one node streaming ``n_tokens`` tokens (from the input) from a zero-delay
  demo model (to measure streaming throughput).
- :data:`approval_graph`: ``draft -> review -> publish``, whose ``review`` node pauses with
  ``interrupt({"question": ...})`` until resumed with ``Command(resume=...)`` (a human in the
  loop). Served without a checkpointer (the server has its own); in-process use
  ``build_approval_graph(checkpointer=InMemorySaver())``.
- :data:`fanout_graph`: ``plan`` sends one ``Send("write", {"subject": ...})`` per subject, the
  ``write`` branches (a subgraph each) run in parallel and write ``custom`` progress,
  ``collect`` joins them.
- :data:`tool_agent_graph`: ``agent -> tools -> agent``, an agent whose model
  (:class:`~streamviz.demo.DemoToolModel`) streams two tool calls in parallel (``get_weather``,
  ``get_time``), a ``ToolNode`` runs them, and the model answers with their results.
- :func:`build_chat_graph`: a chat of ``turns`` model calls, each given the whole conversation so
  far (traces whose events repeat a growing history).

They are also served by ``langgraph dev`` from ``notebooks/langgraph/langgraph.json``.

Examples
--------
>>> from streamviz.demo.graphs import joke_graph
>>> list(joke_graph.stream({"topic": "ice cream"}, stream_mode="updates"))
[{'refine_topic': {'topic': 'ice cream and cats'}}, {'generate_joke': {'joke': 'This is a joke about ice cream and cats'}}]
"""  # noqa: E501

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send, interrupt

from streamviz.demo._models import DemoChatModel

__all__ = [
    "APPROVAL_QUESTION",
    "FAILURE_MESSAGE",
    "ApprovalState",
    "BenchState",
    "FailingState",
    "FanoutState",
    "JokeState",
    "ModelState",
    "approval_graph",
    "bench_graph",
    "build_approval_graph",
    "build_bench_graph",
    "build_chat_graph",
    "build_failing_graph",
    "build_fanout_graph",
    "build_joke_graph",
    "build_model_graph",
    "build_nested_graph",
    "build_subgraph_graph",
    "build_tool_agent_graph",
    "failing_graph",
    "fanout_graph",
    "joke_graph",
    "model_graph",
    "nested_graph",
    "subgraph_graph",
    "tool_agent_graph",
]


class JokeState(TypedDict):
    """State of the joke graph."""

    topic: str
    joke: str


def _refine_topic(state: JokeState) -> dict[str, Any]:
    return {"topic": state["topic"] + " and cats"}


def _generate_joke(state: JokeState) -> dict[str, Any]:
    return {"joke": f"This is a joke about {state['topic']}"}


def build_joke_graph() -> CompiledStateGraph:
    """The guide's ``refine_topic -> generate_joke`` graph."""
    return (
        StateGraph(JokeState)
        .add_node("refine_topic", _refine_topic)
        .add_node("generate_joke", _generate_joke)
        .add_edge(START, "refine_topic")
        .add_edge("refine_topic", "generate_joke")
        .add_edge("generate_joke", END)
        .compile(name="joke")
    )


class _SubgraphState(TypedDict):
    foo: str  # shared with the parent graph
    bar: str


class _ParentState(TypedDict):
    foo: str


def _subgraph_node_1(state: _SubgraphState) -> dict[str, Any]:
    return {"bar": "bar"}


def _subgraph_node_2(state: _SubgraphState) -> dict[str, Any]:
    return {"foo": state["foo"] + state["bar"]}


def _node_1(state: _ParentState) -> dict[str, Any]:
    return {"foo": "hi! " + state["foo"]}


def build_subgraph_graph() -> CompiledStateGraph:
    """The guide's parent graph: ``node_1``, then ``node_2``, a compiled subgraph."""
    subgraph = (
        StateGraph(_SubgraphState)
        .add_node("subgraph_node_1", _subgraph_node_1)
        .add_node("subgraph_node_2", _subgraph_node_2)
        .add_edge(START, "subgraph_node_1")
        .add_edge("subgraph_node_1", "subgraph_node_2")
        .compile(name="subgraph")
    )
    return (
        StateGraph(_ParentState)
        .add_node("node_1", _node_1)
        .add_node("node_2", subgraph)
        .add_edge(START, "node_1")
        .add_edge("node_1", "node_2")
        .compile(name="parent")
    )


def build_nested_graph() -> CompiledStateGraph:
    """A graph whose only node, ``outer``, is :func:`build_subgraph_graph`'s graph (2 levels)."""
    return (
        StateGraph(_ParentState)
        .add_node("outer", build_subgraph_graph())
        .add_edge(START, "outer")
        .compile(name="nested")
    )


@dataclass
class ModelState:
    """State of the model graph (a dataclass, as in the guide)."""

    topic: str
    joke: str = ""
    poem: str = ""


def build_model_graph(
    *, time_to_first_token: float = 0.25, token_delay: float = 0.03
) -> CompiledStateGraph:
    """A graph whose node streams from the demo chat model and writes custom progress data.

    ``call_model`` asks a model tagged ``joke`` for a joke and one tagged ``poem`` for a poem,
    with ``invoke`` (LangGraph still streams their tokens in ``messages`` mode), and reports
    each step with ``get_stream_writer()`` (``custom`` mode).
    """
    timing = {"time_to_first_token": time_to_first_token, "token_delay": token_delay}
    joke_model = DemoChatModel(**timing).with_config(tags=["joke"])
    poem_model = DemoChatModel(**timing, seed=1).with_config(tags=["poem"])

    def call_model(state: ModelState) -> dict[str, Any]:
        writer = get_stream_writer()
        writer({"progress": f"writing a joke about {state.topic}"})
        joke = joke_model.invoke(
            [{"role": "user", "content": f"Generate a joke about {state.topic}"}]
        )
        writer({"progress": "writing a poem"})
        poem = poem_model.invoke([{"role": "user", "content": f"Write a poem about {state.topic}"}])
        writer({"progress": "done"})
        return {"joke": joke.content, "poem": poem.content}

    return (
        StateGraph(ModelState)
        .add_node("call_model", call_model)
        .add_edge(START, "call_model")
        .compile(name="model")
    )


class FailingState(TypedDict):
    """State of the failing graph."""

    topic: str
    notes: list[str]


FAILURE_MESSAGE = "explode failed on purpose"
"""The message of the error the failing graph raises."""


def _prepare(state: FailingState) -> dict[str, Any]:
    get_stream_writer()({"progress": "prepared"})
    return {"notes": [f"prepared {state['topic']}"]}


def _explode(state: FailingState) -> dict[str, Any]:
    get_stream_writer()({"progress": "about to fail"})
    raise ValueError(FAILURE_MESSAGE)


def build_failing_graph() -> CompiledStateGraph:
    """``prepare -> explode``: the first node succeeds, the second raises ``ValueError``.

    Both write ``custom`` progress first, so a stream has something to lose before the error.
    """
    return (
        StateGraph(FailingState)
        .add_node("prepare", _prepare)
        .add_node("explode", _explode)
        .add_edge(START, "prepare")
        .add_edge("prepare", "explode")
        .add_edge("explode", END)
        .compile(name="failing")
    )


class BenchState(TypedDict):
    """State of the bench graph: how many tokens to stream, and the text streamed."""

    n_tokens: int
    text: str


def _bench_call_model(state: BenchState) -> dict[str, Any]:
    model = DemoChatModel.for_benchmark(max(1, int(state["n_tokens"])))
    return {"text": model.invoke("stream").content}


def build_bench_graph() -> CompiledStateGraph:
    """One node, ``call_model``, that streams ``n_tokens`` tokens from a zero-delay model.

    ``messages`` mode yields one part per token (plus a final empty chunk with usage).
    """
    return (
        StateGraph(BenchState)
        .add_node("call_model", _bench_call_model)
        .add_edge(START, "call_model")
        .compile(name="bench")
    )


class ApprovalState(TypedDict, total=False):
    """State of the approval graph."""

    topic: str
    draft: str
    decision: str
    published: str


APPROVAL_QUESTION = "Publish this draft?"
"""The ``question`` the approval graph's ``review`` node asks when it pauses."""


def _draft(state: ApprovalState) -> dict[str, Any]:
    return {"draft": f"A short note about {state['topic']}"}


def _review(state: ApprovalState) -> dict[str, Any]:
    decision = interrupt({"question": APPROVAL_QUESTION, "draft": state["draft"]})
    return {"decision": str(decision)}


def _publish(state: ApprovalState) -> dict[str, Any]:
    verdict = "published" if state.get("decision") == "yes" else "dropped"
    return {"published": f"{verdict}: {state['draft']}"}


def build_approval_graph(checkpointer: Any = None) -> CompiledStateGraph:
    """``draft -> review -> publish``: ``review`` pauses with ``interrupt()`` for a decision.

    Resume it on the same thread with ``Command(resume="yes")`` (anything else drops the
    draft). A pause needs a checkpointer: pass one in-process (a server brings its own).
    """
    return (
        StateGraph(ApprovalState)
        .add_node("draft", _draft)
        .add_node("review", _review)
        .add_node("publish", _publish)
        .add_edge(START, "draft")
        .add_edge("draft", "review")
        .add_edge("review", "publish")
        .add_edge("publish", END)
        .compile(name="approval", checkpointer=checkpointer)
    )


class FanoutState(TypedDict, total=False):
    """State of the fan-out graph: the subjects, and one draft per subject (any order)."""

    subjects: list[str]
    drafts: Annotated[list[str], operator.add]
    summary: str


def _plan(state: FanoutState) -> dict[str, Any]:
    return {}


def _send_each(state: FanoutState) -> list[Send]:
    return [Send("write", {"subject": subject}) for subject in state["subjects"]]


class _BranchState(TypedDict, total=False):
    subject: str
    drafts: Annotated[list[str], operator.add]


class _BranchOutput(TypedDict):
    drafts: Annotated[list[str], operator.add]


def _compose(branch: _BranchState) -> dict[str, Any]:
    get_stream_writer()({"progress": f"writing about {branch['subject']}"})
    return {"drafts": [f"a line about {branch['subject']}"]}


def _branch_graph() -> CompiledStateGraph:
    """One branch: a subgraph whose ``compose`` node writes progress and one draft."""
    return (
        StateGraph(_BranchState, output_schema=_BranchOutput)
        .add_node("compose", _compose)
        .add_edge(START, "compose")
        .compile(name="write")
    )


def _collect(state: FanoutState) -> dict[str, Any]:
    return {"summary": " / ".join(sorted(state.get("drafts") or []))}


def build_fanout_graph() -> CompiledStateGraph:
    """``plan`` fans out one ``Send("write", {"subject": s})`` per subject; ``collect`` joins.

    ``write`` is a subgraph (one node, ``compose``) that writes ``custom`` progress naming its
    subject: its parts' namespace (``write:<task id>``) says which branch wrote them.
    """
    return (
        StateGraph(FanoutState)
        .add_node("plan", _plan)
        .add_node("write", _branch_graph())
        .add_node("collect", _collect)
        .add_edge(START, "plan")
        .add_conditional_edges("plan", _send_each, ["write"])
        .add_edge("write", "collect")
        .add_edge("collect", END)
        .compile(name="fanout")
    )


joke_graph = build_joke_graph()
subgraph_graph = build_subgraph_graph()
nested_graph = build_nested_graph()
model_graph = build_model_graph()
failing_graph = build_failing_graph()
bench_graph = build_bench_graph()
approval_graph = build_approval_graph()
fanout_graph = build_fanout_graph()


def build_tool_agent_graph(model: Any = None) -> CompiledStateGraph:
    """``agent -> tools -> agent``: a model asking for tools, LangGraph's ``ToolNode`` running them.

    ``model`` defaults to :class:`~streamviz.demo.DemoToolModel` (two parallel calls, streamed
    interleaved); the tools are :func:`~streamviz.demo.get_weather` and
    :func:`~streamviz.demo.get_time`. Input: ``{"messages": [("user", "...")]}``.
    """
    from langgraph.prebuilt import ToolNode, tools_condition

    from streamviz.demo._tools import DemoToolModel, get_time, get_weather

    tools = [get_weather, get_time]
    chat = (model or DemoToolModel()).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [chat.invoke(state["messages"])]}

    return (
        StateGraph(MessagesState)
        .add_node("agent", agent)
        .add_node("tools", ToolNode(tools))
        .add_edge(START, "agent")
        .add_conditional_edges("agent", tools_condition)
        .add_edge("tools", "agent")
        .compile(name="tool_agent")
    )


tool_agent_graph = build_tool_agent_graph()


def build_chat_graph(turns: int, words: int = 40) -> CompiledStateGraph:
    """``agent -> user -> agent ...``: a chat of ``turns`` model calls, then the end.

    Each call of the zero-delay :class:`~streamviz.demo.DemoChatModel` (a reply of ``words``
    words) takes the whole conversation so far, as a chat agent's does; a ``user`` node asks
    again in between. Input: ``{"messages": [("user", "...")]}``; pass a ``recursion_limit`` of
    at least ``2 * turns + 2`` in the config.
    """
    reply = " ".join(f"word{i}" for i in range(words))
    model = DemoChatModel(responses=[reply], time_to_first_token=0, token_delay=0)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def user(state: MessagesState) -> dict[str, Any]:
        return {"messages": [("user", f"and then? ({len(state['messages'])})")]}

    def route(state: MessagesState) -> str:
        return END if len(state["messages"]) >= 2 * turns else "user"

    return (
        StateGraph(MessagesState)
        .add_node("agent", agent)
        .add_node("user", user)
        .add_edge(START, "agent")
        .add_conditional_edges("agent", route, ["user", END])
        .add_edge("user", "agent")
        .compile(name="chat")
    )

"""Threads: the state diff, a thread's checkpoint history in-process and on a server, show_thread.

A user reading a thread checks: which node wrote each super-step, what it changed (keys added,
changed, removed; messages appended, not the whole list again), where it paused, and that a
server thread reads the same as the same graph run in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import missing
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command
from langgraph_sdk import get_sync_client
from langgraph_server import LangGraphServer

import streamviz as sv
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import APPROVAL_QUESTION, build_approval_graph, build_subgraph_graph
from streamviz.demo.server import cli_path
from streamviz.statediff import apply_writes, diff, diff_text, update_text
from streamviz.widgets import Dashboard

DRAFT = "A short note about cats"
QUESTION = {"question": APPROVAL_QUESTION, "draft": DRAFT}


def thread(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


# ------------------------------------------------------------------------- the diff


def test_diff_names_added_changed_and_removed_keys():
    before = {"topic": "cats", "draft": "v1", "scratch": "tmp"}
    after = {"topic": "cats", "draft": "v2", "status": "review"}
    assert [(c.kind, c.key) for c in diff(before, after)] == [
        ("changed", "draft"),
        ("added", "status"),
        ("removed", "scratch"),
    ]
    assert diff_text(before, after).splitlines() == [
        "~ draft: 'v1' → 'v2'",
        "+ status: 'review'",
        "- scratch (was: 'tmp')",
    ]
    assert diff_text(before, before) == "(no change)"
    assert diff_text(None, {"a": 1}) == "+ a: 1"


def test_a_list_that_grew_at_its_end_is_shown_as_an_append():
    hi = HumanMessage("hi", id="1")
    before = {"messages": [hi]}
    after = {"messages": [hi, AIMessage("Why did the cat sit on the laptop?", id="2")]}
    (change,) = diff(before, after)
    assert (change.kind, change.key, change.before) == ("appended", "messages", 1)
    assert diff_text(before, after) == (
        "messages += 1 item: ai: Why did the cat sit on the laptop?"
    )
    # Server states hold messages as dicts: the same append.
    assert diff_text({"xs": [1, 2]}, {"xs": [1, 2, 3, 4]}) == "xs += 2 items: 3 | 4"
    # A list changed elsewhere than its end is a change, not an append.
    assert diff_text({"xs": [1, 2]}, {"xs": [9, 2, 3]}) == "~ xs: [1, 2] → [9, 2, 3]"


def test_nested_dicts_are_compared_by_path():
    before = {"plan": {"steps": ["a"], "owner": "ann", "meta": {"v": 1}}}
    after = {"plan": {"steps": ["a", "b"], "meta": {"v": 2}, "due": "mon"}}
    assert diff_text(before, after).splitlines() == [
        "plan.steps += 1 item: 'b'",
        "~ plan.meta.v: 1 → 2",
        "+ plan.due: 'mon'",
        "- plan.owner (was: 'ann')",
    ]


def test_an_update_is_read_against_the_state_before_it():
    state = {"topic": "cats", "messages": ["hi"]}
    # A node's list write to a list key is an append (the usual reducers); other writes replace.
    assert update_text(state, {"chat": {"messages": ["yo"], "topic": "dogs"}}).splitlines() == [
        "~ topic: 'cats' → 'dogs'",
        "messages += 1 item: 'yo'",
    ]
    # Parallel nodes in one part: each line names its node; the second sees the first's writes.
    assert update_text(state, {"a": {"x": 1}, "b": {"x": 2}}).splitlines() == [
        "a: + x: 1",
        "b: ~ x: 1 → 2",
    ]
    assert update_text(None, {"chat": None}) == "(no change)"
    assert apply_writes(state, {"messages": ["hi", "yo"]}) == {
        "topic": "cats",
        "messages": ["hi", "yo"],
    }


def test_odd_values_do_not_break_the_diff():
    class Weird:
        def __eq__(self, other):
            raise RuntimeError("no")

        def __repr__(self):
            return "Weird()"

    assert diff_text({"w": Weird()}, {"w": Weird()}) == "(no change)"  # same text: same value
    loop: dict[str, Any] = {}
    loop["self"] = loop
    assert diff_text({}, loop) == "+ self: <dict: preview failed: RecursionError>"


# ------------------------------------------------------------------------- in-process


def two_runs_with_a_pause(graph: Any, config: dict[str, Any]) -> list[sv.Trace]:
    paused = sv.watch(graph, {"topic": "cats"}, config, display=False)
    resumed = sv.watch(graph, Command(resume="yes"), config, display=False)
    again = sv.watch(graph, {"topic": "dogs"}, config, display=False)
    return [paused, resumed, again]


def readable(steps: list[sv.threads.Step]) -> list[tuple[Any, ...]]:
    """What a user checks of each step: number, source, writers, next, diff, interrupts."""
    return [(s.step, s.source, s.writers, s.next, s.diff, s.interrupts) for s in steps]


EXPECTED_STEPS = [
    (-1, "input", (), ("__start__",), "(no change)", []),
    (0, "loop", ("__start__",), ("draft",), "+ topic: 'cats'", []),
    (1, "loop", ("draft",), ("review",), f"+ draft: '{DRAFT}'", [QUESTION]),
    (2, "loop", ("review",), ("publish",), "+ decision: 'yes'", []),
    (3, "loop", ("publish",), (), f"+ published: 'published: {DRAFT}'", []),
    (4, "input", (), ("__start__",), "(no change)", []),
    (5, "loop", ("__start__",), ("draft",), "~ topic: 'cats' → 'dogs'", []),
    (
        6,
        "loop",
        ("draft",),
        ("review",),
        f"~ draft: '{DRAFT}' → 'A short note about dogs'",
        [{"question": APPROVAL_QUESTION, "draft": "A short note about dogs"}],
    ),
]


def test_an_in_process_thread_lists_each_step_with_its_writer_diff_and_pause():
    graph = build_approval_graph(InMemorySaver())
    traces = two_runs_with_a_pause(graph, thread("t1"))

    steps = sv.thread_history(graph, thread("t1"))
    assert readable(steps) == EXPECTED_STEPS

    view = sv.show_thread(graph, thread("t1"), traces)
    assert [item.run.status for item in view.runs] == ["interrupted", "ok", "interrupted"]
    assert [item.trace for item in view.runs] == traces  # in the order they ran
    text = str(view).splitlines()
    assert text[0] == "thread t1: 3 run(s), 8 checkpoint(s)"
    assert text[2].endswith(
        f"approval  paused: {{question: {APPROVAL_QUESTION}, draft: A short note about c…"
    )
    assert text[3].endswith("approval  resumed with yes")
    assert "  step 2 (loop) written by review; next: publish" in text
    assert "      + decision: 'yes'" in text

    frame = view.history_df()
    assert list(frame["written by"]) == [
        "",
        "__start__",
        "draft",
        "review",
        "publish",
        "",
        "__start__",
        "draft",
    ]
    assert frame.loc[2, "interrupts"] == f"{{question: {APPROVAL_QUESTION}, draft: {DRAFT}}}"
    assert frame.loc[5, "diff"] == "(no change)"

    figure = view.figure()
    labels = list(figure.layout.yaxis.ticktext)
    assert labels[:2] == [
        f"run 1: approval  paused: {{question: {APPROVAL_QUESTION}, draft: A short note ab…",
        "run 2: approval  resumed with yes",
    ]
    assert labels[-1] == "checkpoints"
    starts = [bar.base[0] for bar in figure.data if bar.type == "bar" and bar.width is None]
    assert starts == sorted(starts) and starts[0] == 0  # one time axis, runs in order


def test_a_run_on_another_thread_is_left_out_and_messages_append():
    model = DemoChatModel(time_to_first_token=0, token_delay=0, responses=["Why not?"])
    graph = (
        StateGraph(MessagesState)
        .add_node("chat", lambda state: {"messages": [model.invoke(state["messages"])]})
        .add_edge(START, "chat")
        .compile(checkpointer=InMemorySaver())
    )
    first = sv.watch(graph, {"messages": [("user", "hi")]}, thread("chat"), display=False)
    other = sv.watch(graph, {"messages": [("user", "yo")]}, thread("other"), display=False)
    second = sv.watch(graph, {"messages": [("user", "more")]}, thread("chat"), display=False)

    view = sv.show_thread(graph, thread("chat"), [first, other, second])
    assert [item.trace for item in view.runs] == [first, second]
    diffs = [step.diff for step in view.steps if step.source == "loop"]
    # each super-step that wrote messages shows the new ones as appended
    appended = [d for d in diffs if d.startswith("messages += ")]
    assert len(appended) == 4, diffs
    assert appended[1] == "messages += 1 item: ai: Why not?"
    assert appended[2] == "messages += 1 item: human: more"


# ------------------------------------------------------------------------- on a server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LangGraphServer]:
    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("threads") / "app", name="threads")
    try:
        yield server
    finally:
        server.stop()


def test_a_server_thread_has_the_same_history_as_in_process(server):
    client = get_sync_client(url=server.url)
    thread_id = client.threads.create()["thread_id"]
    modes = {"stream_mode": ["values", "updates"], "display": False}
    traces = [
        sv.watch_remote(client, thread_id, "approval", input={"topic": "cats"}, **modes),
        sv.watch_remote(client, thread_id, "approval", command={"resume": "yes"}, **modes),
        sv.watch_remote(client, thread_id, "approval", input={"topic": "dogs"}, **modes),
    ]

    view = sv.show_thread(client, thread_id, traces)
    assert readable(view.steps) == EXPECTED_STEPS
    assert [item.run.status for item in view.runs] == ["interrupted", "ok", "interrupted"]
    assert str(view).splitlines()[0] == f"thread {thread_id}: 3 run(s), 8 checkpoint(s)"
    # The pane's diffs read the same as in-process: the resume starts from the paused state.
    assert part_rows(traces[1])[:2] == [
        ("values", f"+ topic: 'cats'\n+ draft: '{DRAFT}'", CARRIED),
        ("updates", "+ decision: 'yes'", None),
    ]
    assert ("values", DOGS, None) in part_rows(traces[2])


# ------------------------------------------------------------------------- the pane's diffs


def part_rows(trace: sv.Trace) -> list[tuple[str, str, str | None]]:
    """(mode, diff, note) of each values/updates/checkpoints part the dashboard receives."""
    extra = Dashboard(trace).snapshot["events"]["extra"]
    return [
        (fields["mode"], fields["diff"], fields.get("note"))
        for _, fields in sorted(extra.items(), key=lambda item: int(item[0]))
        if "diff" in fields
    ]


CARRIED = "state before this run (carried over from the thread)"
CARRIED_WITH_INPUT = "state carried over from the thread, with this run's input"
DOGS = "~ draft: 'A short note about cats' → 'A short note about dogs'"
OLD_STATE = f"+ draft: '{DRAFT}'\n+ decision: 'yes'\n+ published: 'published: {DRAFT}'"


def test_the_pane_gets_each_state_as_a_diff_and_a_carried_over_state_is_labelled():
    graph = build_approval_graph(InMemorySaver())
    modes = ["values", "updates", "checkpoints"]
    first = sv.watch(graph, {"topic": "cats"}, thread("t"), display=False, stream_mode=modes)
    resumed = sv.watch(
        graph, Command(resume="yes"), thread("t"), display=False, stream_mode="values"
    )
    again = sv.watch(graph, {"topic": "dogs"}, thread("t"), display=False, stream_mode=modes)

    # A new thread: the first state is the run's input, no note.
    assert part_rows(first)[:4] == [
        ("checkpoints", "(no change)", None),
        ("values", "+ topic: 'cats'", None),
        ("checkpoints", "+ topic: 'cats'", None),
        ("updates", f"+ draft: '{DRAFT}'", None),
    ]
    # A resume starts from the paused state: said so.
    assert part_rows(resumed) == [
        ("values", f"+ topic: 'cats'\n+ draft: '{DRAFT}'", CARRIED),
        ("values", "+ decision: 'yes'", None),
        ("values", f"+ published: 'published: {DRAFT}'", None),
    ]
    # A new input on a used thread: the old state with the new input, then diffs.
    assert part_rows(again)[:6] == [
        ("checkpoints", f"+ topic: 'cats'\n{OLD_STATE}", CARRIED),
        ("values", f"+ topic: 'dogs'\n{OLD_STATE}", CARRIED_WITH_INPUT),
        ("checkpoints", "~ topic: 'cats' → 'dogs'", None),
        ("updates", DOGS, None),
        ("values", DOGS, None),
        ("checkpoints", DOGS, None),
    ]


def test_message_states_diff_as_appends_and_subgraph_states_diff_within_their_namespace():
    model = DemoChatModel(time_to_first_token=0, token_delay=0, responses=["Why not?"])
    graph = (
        StateGraph(MessagesState)
        .add_node("chat", lambda state: {"messages": [model.invoke(state["messages"])]})
        .add_edge(START, "chat")
        .compile()
    )
    trace = sv.watch(
        graph, {"messages": [("user", "hi")]}, display=False, stream_mode=["values", "updates"]
    )
    assert [(mode, diff) for mode, diff, _ in part_rows(trace)] == [
        ("values", "+ messages: [human: hi]"),
        ("updates", "messages += 1 item: ai: Why not?"),
        ("values", "messages += 1 item: ai: Why not?"),
    ]

    nested = sv.watch(
        build_subgraph_graph(), {"foo": "foo"}, display=False, stream_mode="values", subgraphs=True
    )
    extra = Dashboard(nested).snapshot["events"]["extra"]
    by_ns: dict[str, list[str]] = {}
    for _, fields in sorted(extra.items(), key=lambda item: int(item[0])):
        if fields.get("mode") == "values":
            by_ns.setdefault(fields["ns"].split(":")[0], []).append(fields["diff"])
    assert by_ns == {
        "": ["+ foo: 'foo'", "~ foo: 'foo' → 'hi! foo'", "~ foo: 'hi! foo' → 'hi! foobar'"],
        "node_2": [
            "+ foo: 'hi! foo'",
            "+ bar: 'bar'",
            "~ foo: 'hi! foo' → 'hi! foobar'",
        ],
    }


def test_only_the_thread_s_runs_of_a_capture_are_shown():
    graph = build_approval_graph(InMemorySaver())
    with sv.capture() as trace:
        graph.invoke({"topic": "cats"}, thread("mine"))
        graph.invoke({"topic": "dogs"}, thread("theirs"))
        DemoChatModel(time_to_first_token=0, token_delay=0).invoke("hi")  # on no thread
    view = sv.show_thread(graph, thread("mine"), trace)
    assert [(item.run.name, item.run.thread_id) for item in view.runs] == [("approval", "mine")]

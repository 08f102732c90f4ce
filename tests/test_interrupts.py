"""LangGraph as agents really run: interrupts are pauses, resumes are linked, Send branches differ.

The same graphs (``streamviz.demo.graphs``: ``approval`` pauses with ``interrupt()``, ``fanout``
sends one branch per subject) run in-process and on a real ``langgraph dev`` server; what a
user reads of them (statuses, the question, the tree, ``runs_df``, the widget's rows) must agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import missing
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from langgraph_sdk import get_sync_client
from langgraph_server import LangGraphServer

import streamviz as sv
from streamviz.demo.graphs import (
    APPROVAL_QUESTION,
    build_approval_graph,
    build_fanout_graph,
    build_joke_graph,
)
from streamviz.demo.server import cli_path
from streamviz.widgets import Dashboard

DRAFT = "A short note about cats"
QUESTION = f"{{question: {APPROVAL_QUESTION}, draft: {DRAFT}}}"  # the value, as text


def thread(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def statuses(trace: sv.Trace) -> dict[str, str]:
    return {run.name: run.status for run in trace.runs.values()}


def rows(trace: sv.Trace) -> dict[str, dict[str, Any]]:
    """The widget's run rows by name (the last run of a name wins)."""
    return {row["name"]: row for row in Dashboard(trace).snapshot["runs"]}


# ------------------------------------------------------------------------- in-process


@pytest.mark.parametrize("stream_mode", [None, "messages", ["updates", "custom"]])
def test_an_interrupt_in_process_is_a_pause_with_its_question_not_a_failure(stream_mode):
    graph = build_approval_graph(InMemorySaver())
    options = {} if stream_mode is None else {"stream_mode": stream_mode}
    trace = sv.watch(graph, {"topic": "cats"}, thread("t1"), display=False, **options)

    assert statuses(trace) == {"approval": "interrupted", "draft": "ok", "review": "interrupted"}
    root = trace.roots[0]
    assert root.error is None and root.interrupts == [
        {"question": APPROVAL_QUESTION, "draft": DRAFT}
    ]
    tree = trace.format_tree()
    assert tree.splitlines()[0].startswith("‖ approval [chain]")
    # The review line: its mark, name, duration (whatever the machine took) and its question.
    (review,) = [line for line in tree.splitlines() if "review [chain]" in line]
    assert review.lstrip(" │├└─").startswith("‖ review [chain]  ")
    assert review.endswith(f" ms  paused: {QUESTION}")
    assert "GraphInterrupt" not in tree and "✗" not in tree
    frame = trace.runs_df().set_index("name")
    assert frame.loc["approval", "status"] == "interrupted"
    assert frame.loc["approval", "interrupt"] == QUESTION
    assert frame.loc["approval", "thread_id"] == "t1"
    assert rows(trace)["review"]["status"] == "interrupted"
    assert rows(trace)["approval"]["interrupt"] == QUESTION
    assert rows(trace)["approval"]["error"] is None


@pytest.mark.parametrize("stream_mode", ["updates", "values", "messages"])
def test_interrupt_before_is_a_pause_whatever_is_streamed(stream_mode):
    graph = build_joke_graph().builder.compile(
        checkpointer=InMemorySaver(), interrupt_before=["generate_joke"]
    )
    trace = sv.watch(
        graph, {"topic": "x"}, thread("before"), display=False, stream_mode=stream_mode
    )
    assert statuses(trace) == {"LangGraph": "interrupted", "refine_topic": "ok"}
    assert trace.format_tree().splitlines()[0].endswith("paused")


def test_without_a_thread_a_graph_that_ends_is_ok():
    trace = sv.watch(build_joke_graph(), {"topic": "x"}, display=False)
    assert set(statuses(trace).values()) == {"ok"}
    assert trace.runs_df()["interrupt"].isna().all()


def test_a_resume_is_linked_to_the_run_it_resumes_in_one_trace_and_across_watches():
    graph = build_approval_graph(InMemorySaver())
    paused = sv.watch(graph, {"topic": "cats"}, thread("t1"), display=False)
    resumed = sv.watch(graph, Command(resume="yes"), thread("t1"), display=False)

    root = resumed.roots[0]
    assert (root.status, root.resume, root.thread_id) == ("ok", "yes", "t1")
    assert root.resumes is None  # not known until the paused run's trace is given
    assert sv.link_resumes([paused, resumed]) == [(root, paused.roots[0])]
    assert root.resumes == paused.roots[0].run_id
    assert resumed.format_tree().splitlines()[0].endswith("resumed t1 with yes")
    frame = resumed.runs_df()
    assert frame.loc[0, ["resume", "resumes", "thread_id"]].tolist() == [
        "yes",
        paused.roots[0].run_id,
        "t1",
    ]
    assert resumed.result["published"] == f"published: {DRAFT}"
    assert rows(resumed)["approval"]["resume"] == "yes"
    assert rows(resumed)["approval"]["thread"] == "t1"

    with sv.capture() as both:  # a pause and its resume captured together link themselves
        graph.invoke({"topic": "dogs"}, thread("t2"))
        graph.invoke(Command(resume="no"), thread("t2"))
    first, second = both.roots
    assert (first.status, second.status) == ("interrupted", "ok")
    assert second.resumes == first.run_id and second.resume == "no"


def test_a_paused_trace_reads_back_the_same_from_its_file(tmp_path, suffix):
    graph = build_approval_graph(InMemorySaver())
    paused = sv.watch(graph, {"topic": "cats"}, thread("t1"), display=False)
    resumed = sv.watch(graph, Command(resume="yes"), thread("t1"), display=False)
    loaded = []
    for index, trace in enumerate((paused, resumed)):
        path = tmp_path / f"{index}.{suffix}"
        trace.save(path)
        loaded.append(sv.Trace.load(path))
    assert loaded[0].format_tree(chunks=False) == paused.format_tree(chunks=False)
    assert loaded[1].format_tree(chunks=False) == resumed.format_tree(chunks=False)
    assert [(a.resume, b.run_id) for a, b in sv.link_resumes(loaded)] == [
        ("yes", paused.roots[0].run_id)
    ]


def test_send_branches_are_labelled_with_their_argument():
    trace = sv.watch(
        build_fanout_graph(), {"subjects": ["cats", "dogs"]}, display=False, subgraphs=True
    )
    tree = trace.format_tree()
    assert "├─ ✓ write {subject: cats} [chain]" in tree
    assert "├─ ✓ write {subject: dogs} [chain]" in tree
    sends = trace.runs_df().dropna(subset=["send"])
    assert sends[["name", "send"]].values.tolist() == [
        ["write", "{subject: cats}"],
        ["write", "{subject: dogs}"],
    ]
    assert sorted(row["send"] for row in Dashboard(trace).snapshot["runs"] if row["send"]) == [
        "{subject: cats}",
        "{subject: dogs}",
    ]


def test_custom_parts_are_attributed_to_the_task_that_wrote_them_in_process():
    trace = sv.watch(
        build_fanout_graph(),
        {"subjects": ["cats", "dogs"]},
        display=False,
        stream_mode=["custom"],
        subgraphs=True,
    )
    custom = [(e["name"], e["ns"][0].split(":")[0]) for e in trace.events if e.get("mode")]
    assert custom == [("write", "write"), ("write", "write")]


# ------------------------------------------------------------------------- on a server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LangGraphServer]:
    if cli_path() is None:
        missing("the langgraph CLI is missing: pip install -e '.[test]' (langgraph-cli[inmem])")
    server = LangGraphServer.start(tmp_path_factory.mktemp("interrupts") / "app", name="pauses")
    try:
        yield server
    finally:
        server.stop()


def test_an_interrupt_on_a_server_is_the_same_pause_as_in_process_and_its_resume_is_linked(
    server,
):
    client = get_sync_client(url=server.url)
    thread_id = client.threads.create()["thread_id"]
    paused = sv.watch_remote(client, thread_id, "approval", input={"topic": "cats"}, display=False)
    local = sv.watch(
        build_approval_graph(InMemorySaver()), {"topic": "cats"}, thread("t"), display=False
    )

    root = paused.roots[0]
    assert (root.status, root.error, root.thread_id) == ("interrupted", None, thread_id)
    assert root.interrupts == local.roots[0].interrupts
    assert paused.runs_df().loc[0, "interrupt"] == local.runs_df().loc[0, "interrupt"] == QUESTION
    assert paused.format_tree().splitlines()[0].endswith(f"paused: {QUESTION}")
    assert rows(paused)["approval"]["status"] == "interrupted"
    assert client.threads.get(thread_id)["status"] == "interrupted"

    resumed = sv.watch_remote(
        client, thread_id, "approval", command={"resume": "yes"}, display=False
    )
    again = resumed.roots[0]
    assert (again.status, again.resume, again.thread_id) == ("ok", "yes", thread_id)
    assert sv.link_resumes([paused, resumed]) == [(again, root)]
    assert resumed.format_tree().splitlines()[0].endswith(f"resumed {thread_id} with yes")
    assert resumed.result["published"] == f"published: {DRAFT}"


def test_send_branches_and_their_custom_parts_on_a_server(server):
    client = get_sync_client(url=server.url)
    trace = sv.watch_remote(
        client,
        None,
        "fanout",
        input={"subjects": ["cats", "dogs"]},
        stream_mode=["custom", "events"],
        stream_subgraphs=True,
        display=False,
    )
    tree = trace.format_tree()
    assert "write {subject: cats} [chain]" in tree and "write {subject: dogs} [chain]" in tree
    custom = [e for e in trace.events if e.get("mode") == "custom"]
    assert sorted(e["data"]["chunk"]["progress"] for e in custom) == [
        "writing about cats",
        "writing about dogs",
    ]
    assert [(e["name"], e["ns"][0].split(":")[0]) for e in custom] == [("write", "write")] * 2
    assert uuid.UUID(trace.roots[0].run_id)

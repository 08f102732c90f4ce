"""The Trace and its run tree: what ran inside what, when, how it streamed; DataFrames; views."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from examples import COUNTRIES_PROMPT, EXAMPLES, joke_prompt, model
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser

import streamviz as sv
from streamviz.__main__ import main


def joke_trace(**timing):
    collector = sv.Collector(name="joke")
    chain = joke_prompt() | sv.demo.DemoChatModel(**timing) | StrOutputParser()

    async def go():
        return [
            c
            async for c in collector.astream(
                chain, {"topic": "parrot"}, {"tags": ["t1"], "metadata": {"m": 1}}
            )
        ]

    chunks = asyncio.run(go())
    return collector.trace, chunks


def test_run_tree_has_every_field_a_user_asks_about():
    trace, chunks = joke_trace(time_to_first_token=0.05, token_delay=0.002)
    root = trace.roots[0]
    prompt_run, model_run, parser_run = root.children
    assert (root.name, root.run_type, root.parent, root.parent_id) == (
        "RunnableSequence",
        "chain",
        None,
        None,
    )
    assert [c.parent is root for c in root.children] == [True] * 3
    assert (prompt_run.run_type, model_run.run_type, parser_run.run_type) == (
        "prompt",
        "chat_model",
        "parser",
    )
    assert root.tags == ["t1"] and model_run.tags == ["seq:step:2", "t1"]
    assert root.metadata == {"m": 1} and model_run.metadata["m"] == 1
    assert all(r.status == "ok" and r.error is None for r in trace.runs.values())
    assert prompt_run.input == {"topic": "parrot"}
    assert root.input == {"topic": "parrot"}  # known only at the end for a streaming root
    assert root.output == "".join(chunks)
    assert model_run.output.content == "".join(chunks)
    # timing: times are seconds since the trace began, and they nest
    assert 0 <= root.start <= model_run.start < model_run.first_chunk <= model_run.end <= root.end
    assert model_run.time_to_first_chunk >= 0.045  # the model's scripted 50 ms time to first token
    assert model_run.chunk_count == len(chunks) == root.chunk_count
    assert prompt_run.chunk_count == 0 and prompt_run.first_chunk is None
    assert [r.depth for r in trace.runs.values()] == [0, 1, 1, 1]
    assert model_run.path == ["RunnableSequence", "DemoChatModel"]
    assert [e["seq"] for e in trace.events] == list(range(len(trace.events)))
    times = [e["t"] for e in trace.events]
    assert times == sorted(times)


def test_a_run_whose_parent_is_unknown_becomes_a_flagged_root_and_is_adopted_later():
    trace = sv.Trace()
    child = {
        "event": "on_chain_start",
        "name": "child",
        "run_id": "c",
        "parent_ids": ["p"],
        "tags": [],
        "metadata": {},
        "data": {},
    }
    trace.store.append(child)
    assert trace.roots[0].name == "child" and trace.roots[0].orphan
    assert "parent p not seen" in trace.format_tree()
    trace.store.append({**child, "name": "parent", "run_id": "p", "parent_ids": []})
    assert [r.name for r in trace.roots] == ["parent"]
    assert trace.runs["c"].parent is trace.runs["p"] and not trace.runs["c"].orphan


def test_parent_ending_before_its_child_is_kept_as_it_happened():
    trace = sv.Trace()
    base = {"name": "x", "tags": [], "metadata": {}, "data": {}}
    trace.store.append({**base, "event": "on_chain_start", "run_id": "p", "parent_ids": []})
    trace.store.append({**base, "event": "on_chain_start", "run_id": "c", "parent_ids": ["p"]})
    trace.store.append({**base, "event": "on_chain_end", "run_id": "p", "parent_ids": []})
    assert trace.runs["c"].status == "running"
    trace.store.append({**base, "event": "on_chain_end", "run_id": "c", "parent_ids": ["p"]})
    assert trace.runs["c"].status == "ok" and trace.runs["c"].end > trace.runs["p"].end


def test_filter_returns_a_read_only_view_sharing_the_runs():
    trace, _ = joke_trace(time_to_first_token=0, token_delay=0)
    view = trace.filter(include_types=["chat_model"])
    assert {e["name"] for e in view.events} == {"DemoChatModel"}
    (model_run,) = view.runs.values()
    assert model_run is next(r for r in trace.runs.values() if r.run_type == "chat_model")
    assert view.roots == [model_run] and model_run.parent is trace.roots[0]
    with pytest.raises(TypeError):
        view.store.append({"event": "on_chain_start"})


def test_events_df_and_runs_df_have_typed_columns():
    trace, _ = joke_trace(time_to_first_token=0, token_delay=0)
    events = trace.events_df()
    assert len(events) == len(trace.events)
    assert events["seq"].dtype == "int64" and events["t"].dtype == "float64"
    assert isinstance(events["phase"].dtype, pd.CategoricalDtype)
    assert events["event"].dtype == "string" and events["thread"].dtype == "Int64"
    tokens = events[(events["run_type"] == "chat_model") & (events["phase"] == "stream")]
    assert "".join(c.content for c in tokens["payload"]) == trace.roots[0].output
    runs = trace.runs_df()
    assert list(runs["name"]) == [
        "RunnableSequence",
        "ChatPromptTemplate",
        "DemoChatModel",
        "StrOutputParser",
    ]
    assert runs["duration"].dtype == "Float64" and runs["chunk_count"].dtype == "int64"
    assert list(runs["status"].cat.categories) == [
        "running",
        "ok",
        "error",
        "cancelled",
        "interrupted",
    ]
    assert runs.loc[2, "time_to_first_chunk"] >= 0


def test_subscribers_see_every_event_in_order_and_replay_delivers_the_past_once():
    trace, _ = joke_trace(time_to_first_token=0, token_delay=0)
    seen = []
    unsubscribe = trace.subscribe(lambda e: seen.append(e["seq"]), replay=True)
    assert seen == list(range(len(trace.events)))
    trace.store.append(
        {
            "event": "on_custom_event",
            "name": "late",
            "run_id": "r",
            "parent_ids": [],
            "tags": [],
            "metadata": {},
            "data": 1,
        }
    )
    assert seen[-1] == len(trace.events) - 1
    unsubscribe()
    trace.store.append(
        {
            "event": "on_custom_event",
            "name": "later",
            "run_id": "r",
            "parent_ids": [],
            "tags": [],
            "metadata": {},
            "data": 2,
        }
    )
    assert seen[-1] == len(trace.events) - 2


def test_json_parser_chunks_and_the_step_that_held_the_stream_back():
    runnable, value = EXAMPLES["model|json|function"]()
    collector = sv.Collector()

    async def go():
        return [c async for c in collector.astream(runnable, value)]

    assert asyncio.run(go()) == [["France", "Spain", "Japan"]]
    runs = {r.name: r for r in collector.trace.runs.values()}
    parser, function = runs["JsonOutputParser"], runs["_extract_country_names"]
    assert parser.chunk_count > 10
    # the plain function produced its only chunk after the parser's input stream was over
    assert function.chunk_count == 1 and function.first_chunk >= parser.last_chunk


def test_trace_repr_and_tree_text():
    trace, _ = joke_trace(time_to_first_token=0, token_delay=0)
    assert repr(trace).startswith("<Trace 'joke':") and "4 runs" in repr(trace)
    text = trace.format_tree()
    assert text.splitlines()[0].startswith("✓ RunnableSequence [chain]")
    assert "└─ ✓ StrOutputParser [parser]" in text


def test_tree_text_keeps_control_characters_out_of_the_terminal():
    trace = sv.Trace()
    trace.store.append(
        {
            "event": "on_chain_start",
            "name": "evil\x1b[2J\nname",
            "run_id": "r",
            "parent_ids": [],
            "tags": [],
            "metadata": {},
            "data": {},
        }
    )
    assert "\x1b" not in trace.format_tree() and "\n" not in trace.format_tree()


def test_make_demo_prints_tokens_and_the_run_tree(capsys, tmp_path):
    path = tmp_path / "parrot.jsonl"
    assert main(["demo", "--console", "--fast", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Why| did| the| par|rot|" in out
    assert "├─ ✓ DemoChatModel [chat_model]" in out and "first chunk" in out
    loaded = sv.Trace.load(path)
    assert [r.name for r in loaded.runs.values()][:2] == ["RunnableSequence", "ChatPromptTemplate"]


def test_a_chain_inside_json_parser_example_streams_progressive_json():
    collector = sv.Collector()
    list(collector.stream(model() | JsonOutputParser(), COUNTRIES_PROMPT))
    chunks = [
        e["data"]["chunk"] for e in collector.trace.events if e["event"] == "on_parser_stream"
    ]
    for before, after in itertools.pairwise(chunks):
        assert len(repr(after)) >= len(repr(before))


def test_from_events_rebuilds_the_same_tree_from_a_list_of_events():
    trace, _ = joke_trace(time_to_first_token=0, token_delay=0)
    copy = sv.Trace.from_events([dict(e) for e in trace.events], name="copy")
    shape = [(r.name, r.run_type, r.status, r.chunk_count, r.depth) for r in trace.runs.values()]
    assert [
        (r.name, r.run_type, r.status, r.chunk_count, r.depth) for r in copy.runs.values()
    ] == shape
    assert [r.first_chunk for r in copy.runs.values()] == [
        r.first_chunk for r in trace.runs.values()
    ]


def test_importing_streamviz_registers_nothing_until_it_is_used():
    """No IPython formatter, no LangChain configure hook: a trace displays through its own
    ``_repr_mimebundle_``, and ``sv.capture`` hooks into LangChain at its first use."""
    code = textwrap.dedent(
        """
        from IPython.core.interactiveshell import InteractiveShell
        from langchain_core.tracers import context

        shell = InteractiveShell.instance()
        formatters = shell.display_formatter.formatters.values()
        printers = lambda: sum(len(f.type_printers) + len(f.deferred_printers) for f in formatters)
        hooks, before = len(context._configure_hooks), printers()
        import streamviz as sv

        assert printers() == before, "a display formatter was registered"
        assert len(context._configure_hooks) == hooks, "a configure hook was registered"
        import sys

        assert not {"streamviz.widgets", "ipywidgets", "anywidget", "marimo"} & set(sys.modules)
        assert sv.Trace("t")._repr_mimebundle_() is None  # no kernel: IPython shows the text
        with sv.capture():
            pass
        assert len(context._configure_hooks) == hooks + 8
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_tree_text_counts_one_chunk_as_a_chunk():
    """A runnable that yields once (a plain function after a parser) reads "1 chunk"."""
    trace = sv.Trace()
    start = {"name": "f", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}}
    trace.store.append({**start, "event": "on_chain_start", "data": {}})
    trace.store.append({**start, "event": "on_chain_stream", "data": {"chunk": "all of it"}})
    trace.store.append({**start, "event": "on_chain_end", "data": {"output": "all of it"}})
    line = trace.format_tree()
    assert "1 chunk" in line and "1 chunks" not in line
    many = {**start, "name": "g", "run_id": "s"}
    trace.store.append({**many, "event": "on_chain_start", "data": {}})
    for _ in range(1_500):
        trace.store.append({**many, "event": "on_chain_stream", "data": {"chunk": "x"}})
    assert "1,500 chunks" in trace.format_tree()


def test_a_run_made_ahead_by_refill_starts_as_a_new_run():
    """RunTree.refill makes runs ahead (a live source's quiet moment); a start takes one: it is
    the run ``Run(...)`` would have made, with lists of its own."""
    import dataclasses

    from streamviz.runs import Run, RunTree

    def start(run_id, parent_ids):
        return {"event": "on_chain_start", "name": "step", "run_id": run_id,
                "parent_ids": parent_ids, "tags": ["a"], "metadata": {"k": 1},
                "data": {"input": {"x": 1}}, "t": 0.5, "seq": 0}  # fmt: skip

    fresh, ahead = RunTree(), RunTree()
    ahead.refill(2)
    runs = []
    for tree in (fresh, ahead):
        root = tree.apply(start("root", []))
        child = tree.apply(start("child", ["root"]))
        runs.append((root, child))
    for made, taken in zip(runs[0], runs[1], strict=True):
        for field in dataclasses.fields(Run):
            if field.name not in ("parent", "children"):
                assert getattr(taken, field.name) == getattr(made, field.name), field.name
        assert [c.run_id for c in taken.children] == [c.run_id for c in made.children]
    root, child = runs[1]
    assert child.parent is root and root.children == [child] and child.children == []
    assert root.children is not child.children and root.interrupts is not child.interrupts
    assert ahead.roots == [root] and list(ahead.runs) == ["root", "child"]
    third = ahead.apply(start("third", ["root"]))  # none left: made as before
    assert third.parent is root and third.children == [] and root.children == [child, third]

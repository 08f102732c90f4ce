"""The teaching notebooks run top to bottom in a real kernel, offline, and keep the final picture.

Every notebook in ``notebooks/`` is executed headless with nbclient (``store_widget_state=True``),
several at a time, each in its own directory holding a copy of ``notebooks/traces``
(``notebook_runs.py``: once per session, shared with the tests of exported pages). Then: no cell
failed, and the widget state saved in the notebook (what a reader of the saved notebook or its
HTML export sees) holds what the notebook teaches.
Widgets are found by the source of the cell that drew them, not by cell numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from notebook_runs import NOTEBOOKS

from streamviz.widgets._wire import saved_state

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# ------------------------------------------------------------------------------------ running


@pytest.fixture(scope="module")
def executed(executed_notebooks) -> dict[str, Any]:
    """Each notebook's name -> the executed notebook, or the exception that stopped it."""
    return executed_notebooks.get(*(path.name for path in NOTEBOOKS))


def notebook_named(executed: dict[str, Any], name: str):
    result = executed[name]
    if isinstance(result, BaseException):
        pytest.fail(f"{name} did not run: {type(result).__name__}: {result}")
    return result


# ------------------------------------------------------------------------------ reading state


def cell_with(notebook, text: str, *, exact: bool = False):
    """The one code cell whose source contains ``text`` (or is ``text``, if ``exact``)."""
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and (c.source.strip() == text if exact else text in c.source)
    ]
    assert len(cells) == 1, f"{len(cells)} code cells contain {text!r}"
    return cells[0]


def printed(notebook) -> str:
    """Everything the cells printed, with each cell's pieces of output joined."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            else:
                parts.append("\n" + output.get("data", {}).get("text/plain", "") + "\n")
    return "".join(parts)


def saved_states(notebook) -> dict[str, dict]:
    return {  # the snapshot's columns are saved as buffers: back in their JSON form
        model_id: saved_state(model)
        for model_id, model in notebook.metadata["widgets"][WIDGET_STATE]["state"].items()
    }


def streamviz_widgets(notebook, cell) -> list[dict]:
    """The states of the streamviz widgets a cell drew, in order, also inside boxes and players."""
    states = saved_states(notebook)
    found: list[dict] = []

    def visit(model_id: str) -> None:
        state = states[model_id]
        if state.get("_anywidget_id", "").startswith("streamviz."):
            found.append(state)
        for child in state.get("children", []):
            visit(child.removeprefix("IPY_MODEL_"))

    for output in cell.get("outputs", []):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view:
            visit(view["model_id"])
    return found


def widget(notebook, text: str, view: str | None = None, *, exact: bool = False) -> dict:
    """The state of the single streamviz widget drawn by the cell containing ``text``."""
    (state,) = streamviz_widgets(notebook, cell_with(notebook, text, exact=exact))
    if view is not None:
        assert state["view"] == view
    return state


class Snapshot:
    """A widget's durable snapshot (``docs/protocol.md``), with the questions the tests ask."""

    def __init__(self, state: dict):
        self.state = state
        self.data = state["snapshot"]
        self.runs = self.data["runs"]
        self.kinds = self.data["kinds"]
        self.events = self.data["events"]

    def run(self, name: str, **fields: Any) -> dict:
        rows = [r for r in self.runs if r["name"] == name and fields.items() <= r.items()]
        assert len(rows) == 1, f"{len(rows)} runs named {name!r} {fields} in {self.names()}"
        return rows[0]

    def names(self) -> list[str]:
        return [row["name"] for row in self.runs]

    def parent(self, row: dict) -> dict | None:
        return self.runs[row["parent"]] if row["parent"] >= 0 else None

    def kind_names(self) -> set[str]:
        return {self.kinds[k] for k in self.events["kind"]}

    def texts(self, keep: Callable[[str, int, dict], bool]) -> list[str]:
        """Texts of the events ``keep(kind, run index, extra)`` accepts, in order."""
        extra = self.events["extra"]
        return [
            text
            for seq, (kind, run, text) in enumerate(
                zip(self.events["kind"], self.events["run"], self.events["text"], strict=True)
            )
            if keep(self.kinds[kind], run, extra.get(str(seq), {}))
        ]

    def chunks(self, row: dict) -> str:
        """The stream pieces of one run, ``|``-joined as the guides print them."""
        pieces = self.texts(lambda kind, run, _: run == row["i"] and kind.endswith("_stream"))
        return "|".join(pieces)

    def parts(self, mode: str | None = None) -> list[dict]:
        """The ``extra`` of the LangGraph stream parts (of ``mode``), in order."""
        extra = self.events["extra"]
        found = [extra[seq] for seq in sorted(extra, key=int) if "mode" in extra[seq]]
        return [part for part in found if mode is None or part["mode"] == mode]

    def finished(self) -> bool:
        return self.state["live"] is False and all(r["status"] == "ok" for r in self.runs)


def snapshot(notebook, text: str, view: str | None = None, *, exact: bool = False) -> Snapshot:
    return Snapshot(widget(notebook, text, view, exact=exact))


# --------------------------------------------------------------------------------- every notebook


def test_the_committed_notebooks_are_clean():
    """Outputs stay out of the repository: the tests execute the notebooks."""
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(not cell.outputs and cell.execution_count is None for cell in code), path.name
        assert "widgets" not in notebook.metadata, path.name
        assert "/work/shared" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_errors(executed, path):
    notebook = notebook_named(executed, path.name)
    errors = [
        "\n".join(output.get("traceback", []))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors[0]


# ------------------------------------------------------------------------------ what each shows

PARROT = "Why| did| the| par|rot|"


def test_tour(executed):
    notebook = notebook_named(executed, "00_tour.ipynb")
    text = printed(notebook)
    assert PARROT in text  # the capture loop's own prints
    assert "├─ ✓ DemoChatModel [chat_model]" in text

    watched = snapshot(notebook, "trace = sv.watch(chain", "dashboard")
    assert watched.finished()
    model = watched.run("DemoChatModel")
    assert watched.chunks(model).startswith(PARROT)
    assert model["first"] is not None and model["first"] > model["start"]  # first-token mark
    assert watched.names()[:1] == ["RunnableSequence"]

    timeline = snapshot(notebook, 'sv.show(trace, view="timeline"', "timeline")
    assert timeline.data["count"] == watched.data["count"]

    captured = snapshot(notebook, "captured", "dashboard", exact=True)  # displays itself
    assert captured.chunks(captured.run("StrOutputParser")).startswith(PARROT)
    assert f"{captured.data['count']} events, 4 runs" in text  # saved and loaded back whole

    (player,) = streamviz_widgets(notebook, cell_with(notebook, "replay("))
    assert player["view"] == "dashboard"


def test_streaming_basics(executed):
    notebook = notebook_named(executed, "01_streaming_basics.ipynb")
    text = printed(notebook)
    assert "The| sky| appears| blue| during| the| day|.|" in text
    assert "'The sky appears blue during'" in text  # chunks[0] + ... + chunks[4]

    sky = snapshot(notebook, "sky = sv.watch(model", "tokens")
    assert sky.chunks(sky.run("DemoChatModel")).startswith("The| sky| appears| blue|")
    sky_timeline = snapshot(notebook, "sv.show(sky", "timeline")
    model = sky_timeline.run("DemoChatModel")
    assert model["first"] - model["start"] >= 200  # the time to first token, in ms

    parrot = snapshot(notebook, "parrot = await sv.awatch(chain", "tokens")
    assert parrot.finished()
    for name in ("RunnableSequence", "DemoChatModel", "StrOutputParser"):
        row = parrot.run(name)
        assert row["chunks"] == 49 and row["stream"] == "text"
        assert parrot.chunks(row).startswith(PARROT)
    # the usage the model reported on its last chunk, rolled up, with its price
    priced = printed_by(notebook, 'sv.prices({"demo-chat"').splitlines()
    assert "in · " in priced[0] and "out tokens  $" in priced[0], priced[0]  # the chain


def test_input_streams_hold_and_generator(executed):
    notebook = notebook_named(executed, "02_input_streams.ipynb")
    text = printed(notebook)

    progressive = snapshot(notebook, "json_trace = await sv.awatch", "tokens")
    parser = progressive.run("JsonOutputParser")
    assert parser["stream"] == "json"
    steps = progressive.texts(lambda kind, run, _: run == parser["i"] and kind.endswith("_stream"))
    assert steps[0] == "{}" and "Japan" in steps[-1]

    assert "_extract_country_names held the stream for" in text
    held = snapshot(notebook, "function_trace = await sv.awatch", "timeline")
    function = held.run("_extract_country_names")
    assert function["held"] is not None and function["held"] > 500
    assert held.runs[function["upstream"]]["name"] == "JsonOutputParser"
    assert held.run("RunnableSequence")["chunks"] == 1

    streaming = snapshot(notebook, "generator_trace = await sv.awatch", "tokens")
    assert streaming.chunks(streaming.run("RunnableSequence")) == "France|Spain|Japan"
    assert all(row["held"] is None for row in streaming.runs)
    assert "holds: []" in text

    # One above the other on one time scale: the held function, then the generator.
    above, below = streamviz_widgets(notebook, cell_with(notebook, "sv.show([function_trace"))
    above, below = Snapshot(above), Snapshot(below)
    assert above.state["view"] == below.state["view"] == "timeline"
    assert above.state["time_span"] == below.state["time_span"] > 0
    assert above.run("_extract_country_names")["held"] == function["held"]
    generator = below.run("_extract_country_names_streaming")
    assert generator["chunks"] == 3 and all(row["held"] is None for row in below.runs)


def test_non_streaming_components(executed):
    notebook = notebook_named(executed, "03_non_streaming_components.ipynb")
    assert "harrison worked at kensho" in printed(notebook)

    alone = snapshot(notebook, "docs = sv.watch(retriever", "table")
    assert alone.kind_names() == {"on_retriever_start", "on_retriever_end"}

    rag = snapshot(notebook, "rag = sv.watch(", "dashboard")
    assert rag.finished()
    docs = rag.run("Docs", type="retriever")
    assert docs["chunks"] == 0 and docs["end"] - docs["start"] >= 250  # the 300 ms lookup
    model = rag.run("DemoChatModel")
    assert model["start"] >= docs["end"]  # the model runs after the last non-streaming step
    assert rag.chunks(model).startswith("Harrison| worked| at| Ken|sho|")
    assert rag.run("RunnableSequence")["chunks"] == model["chunks"]  # and the answer streams

    held = snapshot(notebook, "held = sv.watch(function_chain", "tokens")
    root, model = held.run("RunnableSequence"), held.run("DemoChatModel")
    assert root["chunks"] == 1 and held.run("JsonOutputParser")["chunks"] > 10
    assert model["first"] < root["first"] - 1000  # events of the streaming steps come early


def test_astream_events(executed):
    notebook = notebook_named(executed, "04_astream_events.ipynb")
    text = printed(notebook)

    reference = snapshot(notebook, "with sv.capture() as reference", "table")
    expected = {
        f"on_{run_type}_{phase}"
        for run_type in ("chat_model", "llm", "chain", "tool", "retriever", "prompt", "parser")
        for phase in ("start", "end")
    } | {f"on_{run_type}_stream" for run_type in ("chat_model", "llm", "chain", "parser")}
    assert reference.kind_names() == expected

    hello = snapshot(notebook, "hello = await sv.awatch(model", "table")
    assert hello.kinds[hello.events["kind"][0]] == "on_chat_model_start"
    assert hello.kinds[hello.events["kind"][-1]] == "on_chat_model_end"

    starts = [
        line.split()[-2:] for line in text.splitlines() if "_start " in line and " ms " in line
    ]
    assert starts == [
        ["on_chain_start", "RunnableSequence"],
        ["on_chat_model_start", "DemoChatModel"],
        ["on_parser_start", "JsonOutputParser"],
    ]
    assert "Chat model chunk: '{'\nParser chunk: {}\n" in text

    table = widget(notebook, "table = EventTable(json_trace", "table")
    assert table["filters"]["kinds"] == ["on_chat_model_stream", "on_parser_stream"]
    assert "same kinds and names in the same order: True" in text
    from_langchain = snapshot(notebook, "sv.show(from_langchain", "timeline")
    assert from_langchain.data["count"] == Snapshot(table).data["count"]


def test_filtering_events(executed):
    notebook = notebook_named(executed, "05_filtering_events.ipynb")
    text = printed(notebook)

    named = snapshot(notebook, "named = await sv.awatch(chain", "dashboard")
    assert {"model", "my_parser"} <= set(named.names())
    # trace.filter(include_names=...) keeps what astream_events(include_names=...) reports
    assert "\nTrue\n" in text
    parser = named.run("my_parser")["i"]
    parser_events = len(named.texts(lambda _kind, run, _: run == parser))
    assert f"{parser_events} of {named.data['count']} events" in text

    tagged = snapshot(notebook, "tagged = await sv.awatch(tagged_chain", "tree")
    assert all("my_chain" in row["tags"] for row in tagged.runs)  # inherited by the children
    assert len(tagged.runs) == 3

    dashboard = widget(notebook, "dashboard = Dashboard(named", "dashboard")
    assert dashboard["filters"]["include_names"] == ["my_parser"]
    assert f"{parser_events} events pass the dashboard's filters" in text


def test_propagating_callbacks(executed):
    notebook = notebook_named(executed, "06_propagating_callbacks.ipynb")

    def nested_under(state: dict, outer: str) -> bool:
        trace = Snapshot(state)
        return trace.parent(trace.run("reverse_word"))["name"] == outer

    bad, correct = streamviz_widgets(notebook, cell_with(notebook, "bad = sv.watch(bad_tool"))
    assert nested_under(bad, "bad_tool") and nested_under(correct, "correct_tool")

    lost, kept = map(Snapshot, streamviz_widgets(notebook, cell_with(notebook, "lost = sv.watch")))
    assert lost.names() == ["bad_thread_tool"]  # the worker thread's run went unreported
    assert nested_under(kept.state, "correct_thread_tool")
    assert all(view["view"] == "tree" for view in (bad, correct, lost.state, kept.state))

    # with capture(threads=True) the worker's run is recorded, and flagged as detached
    flagged = [
        line for line in printed_by(notebook, "sv.capture(threads=True)").splitlines()
        if "possibly detached: callbacks not propagated" in line
    ]  # fmt: skip
    assert len(flagged) == 1 and "reverse_word" in flagged[0], flagged
    assert "likely inside bad_thread_tool" in flagged[0] and "config" in flagged[0]

    assert nested_under(widget(notebook, "nested = await sv.awatch", "tree"), "reverse_and_double")
    decorated = widget(notebook, "decorated = await sv.awatch", "tree")
    assert nested_under(decorated, "reverse_and_double")
    assert "43214321" in printed(notebook)


def test_langgraph_stream_modes(executed):
    notebook = notebook_named(executed, "07_langgraph_stream_modes.ipynb")

    updates = snapshot(notebook, "updates = sv.watch(graph", "graph")
    assert [p["name"] for p in updates.parts()] == ["refine_topic", "generate_joke"]
    assert {p["mode"] for p in updates.parts()} == {"updates"}
    values = snapshot(notebook, "values = sv.watch(graph", "graph")
    assert len(values.parts("values")) == 3

    parts = snapshot(notebook, "parts = sv.watch(", "dashboard")
    assert parts.finished()
    assert {p["mode"] for p in parts.parts()} == {"updates", "messages", "custom"}
    assert len(parts.parts("custom")) == 3

    def tokens(trace: Snapshot, tag: str) -> str:
        return "|".join(
            trace.texts(
                lambda _kind, _run, extra: (
                    extra.get("mode") == "messages" and tag in extra.get("tags", [])
                )
            )
        )

    assert tokens(parts, "joke").startswith("Why| did| the| cat|")
    assert tokens(parts, "poem").startswith("Whisk|ers|")
    assert all(p.get("name") == "call_model" for p in parts.parts("messages"))
    assert "Whisk|ers| in| the| moon|light|" in printed(notebook)  # filtered by node and tag

    jokes_only = widget(notebook, "jokes_only = GraphView(parts", "graph")
    assert jokes_only["filters"]["include_tags"] == ["joke"]

    nested = snapshot(notebook, "nested = sv.watch(", "graph")
    namespaces = [p["ns"].split(":")[0] for p in nested.parts("updates")]
    assert namespaces == ["", "node_2", "node_2", ""]
    assert [p["name"] for p in nested.parts()][1:3] == ["subgraph_node_1", "subgraph_node_2"]

    bookkeeping = snapshot(notebook, "bookkeeping = sv.watch(", "graph")
    assert {p["mode"] for p in bookkeeping.parts()} == {"tasks", "checkpoints"}
    debug = snapshot(notebook, "debug = sv.watch(", "graph")
    assert {p["mode"] for p in debug.parts()} == {"debug"}
    v2 = snapshot(notebook, "v2 = sv.watch(", "graph")
    assert [p["mode"] for p in v2.parts()] == ["values", "updates", "values", "updates", "values"]


def test_workshop_replay(executed):
    notebook = notebook_named(executed, "09_workshop_replay.ipynb")
    text = printed(notebook)
    for name in ("parrot.jsonl", "countries_function.jsonl", "graph_messages.jsonl"):
        assert name in text

    players = ('replay("traces/parrot', 'replay("traces/countries', 'replay("traces/graph',
               'replay("my_parrot')  # fmt: skip
    views = [
        [state["view"] for state in streamviz_widgets(notebook, cell_with(notebook, source))]
        for source in players
    ]
    assert views == [["dashboard"], ["timeline"], ["graph"], ["tokens"]]
    assert "12/120 events" in text  # stepped from Python

    replayed = snapshot(notebook, "sv.show(mine.trace", "timeline")
    assert replayed.finished()
    assert replayed.chunks(replayed.run("DemoChatModel")).startswith(PARROT)
    assert "chat_model() is DemoChatModel" in text


def test_many_traces(executed):
    notebook = notebook_named(executed, "10_many_traces.ipynb")
    assert printed_by(notebook, "trace.save(folder").startswith("100 traces saved in")
    # Every file is in the folder's table: 75 agent runs (3 model calls) and 25 chains (1).
    counts = result_of(notebook, "group by event order by events desc")
    assert re.search(r"on_chat_model_start\s+250\s+100\b", counts), counts
    assert re.search(r"on_parser_start\s+25\s+25\b", counts), counts
    ttft = result_of(notebook, "ttft = duckdb.sql(")
    for model, traces in (("small-fast", 84), ("medium", 83), ("large-slow", 83)):
        assert re.search(rf"{model}\s+{traces}\s+{traces}\s+\d", ttft), ttft
    slowest = printed_by(notebook, "slowest = duckdb.sql(")
    assert slowest.startswith("75 agent runs; the slowest node, how often:")
    assert (
        sum(int(n) for n in re.findall(r"^(?:plan|research|write)\s+(\d+)$", slowest, re.M)) == 75
    )

    # The run DuckDB found slowest, loaded from its Parquet file, in the dashboard.
    worst = snapshot(notebook, "sv.show(worst)", "dashboard")
    assert worst.finished()
    assert sorted(worst.names()) == sorted(
        ["agent", "plan", "research", "write"] + 3 * ["DemoChatModel"]
    )
    top = result_of(notebook, "slowest = duckdb.sql(").splitlines()[1]
    number = re.search(r"many_traces/run-(\d+)\.parquet", top).group(1)
    assert worst.data["name"] == f"run {int(number)}"  # the file DuckDB named


def test_langgraph_server(executed):
    notebook = notebook_named(executed, "08_langgraph_server.ipynb")
    text = printed(notebook)
    assert "This is a joke about ice cream and cats" in text
    assert "'Why| did| the| cat| sit|" in text  # tokens of the joke model only, by tag
    assert "ValueError: explode failed on purpose" in text

    updates = snapshot(notebook, 'input={"topic": "ice cream"}, stream_mode="updates", view=',
                       "graph")  # fmt: skip
    assert [p["name"] for p in updates.parts("updates")] == ["refine_topic", "generate_joke"]
    tokens = snapshot(notebook, 'stream_mode="messages-tuple"', "graph")
    assert len(tokens.parts("messages")) == 54
    assert tokens.texts(lambda _k, _r, extra: extra.get("mode") == "messages")[:3] == [
        "Why", " did", " the",
    ]  # fmt: skip
    nested = snapshot(notebook, "stream_subgraphs=True", "graph")
    namespaces = [p.get("ns", "").split(":")[0] for p in nested.parts("updates")]
    assert namespaces == ["", "node_2", "node_2", ""]
    failing = Snapshot(streamviz_widgets(notebook, cell_with(notebook, '"failing"'))[0])
    assert [row["status"] for row in failing.runs if row["parent"] == -1] == ["error"]
    tree = snapshot(notebook, 'stream_mode=["events", "debug"]', "tree")
    assert {"call_model", "DemoChatModel"} <= set(tree.names())


# ------------------------------------------------- the guides' examples, as the guides print them
# Each guide example runs in its notebook as the guide writes it (its own loop and print); these
# hold what it printed against the guide's output, or against the demo model's answer where the
# notebook says why the two differ.


def printed_by(notebook, text: str) -> str:
    """What the one code cell containing ``text`` printed (its stream outputs, joined)."""
    cell = cell_with(notebook, text)
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def result_of(notebook, text: str) -> str:
    """The ``text/plain`` value the one code cell containing ``text`` ended with."""
    cell = cell_with(notebook, text)
    (value,) = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
    return value["data"]["text/plain"]


def demo_tokens(question: str) -> list[str]:
    """The chunks' texts of the demo model's answer, its closing (empty) usage chunk included."""
    from streamviz.demo import DemoChatModel

    model = DemoChatModel(time_to_first_token=0, token_delay=0)
    return [chunk.content for chunk in model.stream(question)]


def barred(pieces: list[str]) -> str:
    """``print(piece, end="|")`` for every piece."""
    return "".join(f"{piece}|" for piece in pieces)


GUIDE_SKY = "The| sky| appears| blue| during| the| day|.|"
GUIDE_INTERLEAVED = """Chat model chunk: '{'
Parser chunk: {}
Chat model chunk: '\\n  '
Chat model chunk: '"'
Chat model chunk: 'countries'
Chat model chunk: '":'
Chat model chunk: ' ['
Parser chunk: {'countries': []}
Chat model chunk: '\\n    '
Chat model chunk: '{'
Parser chunk: {'countries': [{}]}
Chat model chunk: '\\n      '
Chat model chunk: '"'
Chat model chunk: 'name'
Chat model chunk: '":'
Chat model chunk: ' "'
Parser chunk: {'countries': [{'name': ''}]}
Chat model chunk: 'France'
Parser chunk: {'countries': [{'name': 'France'}]}
Chat model chunk: '",'
Chat model chunk: '\\n      '
Chat model chunk: '"'
Chat model chunk: 'population'
"""  # the guide's first 23 lines of both interleaved loops (before '...')
GUIDE_COUNTRIES = [
    "{}",
    "{'countries': []}",
    "{'countries': [{}]}",
    "{'countries': [{'name': ''}]}",
    "{'countries': [{'name': 'France'}]}",
    "{'countries': [{'name': 'France', 'population': 67}]}",
    "{'countries': [{'name': 'France', 'population': 67413}]}",
    "{'countries': [{'name': 'France', 'population': 67413000}]}",
]  # the first 8 of the guide's 20 lines; the 20th is the whole list
COUNTRIES_FINAL = (
    "{'countries': [{'name': 'France', 'population': 67413000}, "
    "{'name': 'Spain', 'population': 47351567}, {'name': 'Japan', 'population': 125584000}]}"
)


def test_guide_sky_and_parrot_loops_print_the_demo_answer(executed):
    notebook = notebook_named(executed, "01_streaming_basics.ipynb")
    sky = demo_tokens("what color is the sky?")
    assert sky[-1] == ""  # the demo model's closing usage chunk: one more '|' than the guide
    assert barred(sky) == GUIDE_SKY + "|"
    assert printed_by(notebook, 'in model.stream("what color is the sky?")') == barred(sky)
    assert printed_by(notebook, "async for chunk in model.astream(") == barred(sky)
    assert printed_by(notebook, 'if chunk.content) + "|")') == GUIDE_SKY + "\n"
    assert "usage_metadata={'input_tokens'" in result_of(notebook, "chunks[-1]")

    parrot = printed_by(notebook, 'async for chunk in chain.astream({"topic": "parrot"})')
    assert parrot == barred(demo_tokens("tell me a joke about parrot"))
    assert parrot.startswith(PARROT) and parrot.endswith(".||")


def test_guide_json_loops_print_the_guides_lines(executed):
    notebook = notebook_named(executed, "02_input_streams.ipynb")
    lines = printed_by(notebook, "print(text, flush=True)").splitlines()
    assert len(lines) == 20
    assert lines[:8] == GUIDE_COUNTRIES and lines[-1] == COUNTRIES_FINAL
    function = printed_by(notebook, "chain = model | JsonOutputParser() | _extract_country_names\n")
    assert function == "['France', 'Spain', 'Japan']|"
    generator = printed_by(notebook, "async def _extract_country_names_streaming")
    assert generator == "France|Spain|Japan|"


def test_guide_non_streaming_loops(executed):
    notebook = notebook_named(executed, "03_non_streaming_components.ipynb")
    answer = printed_by(notebook, "for chunk in retrieval_chain.stream(")
    assert answer.startswith("Harrison| worked| at| Ken|sho|") and answer.endswith(".||")
    assert printed_by(notebook, "print(chunk, flush=True)") == "['France', 'Spain', 'Japan']\n"
    events = printed_by(notebook, "num_events = 0")
    assert events == GUIDE_INTERLEAVED + (
        "Chat model chunk: '\":'\n"
        "Chat model chunk: ' '\n"
        "Chat model chunk: '67'\n"
        "Parser chunk: {'countries': [{'name': 'France', 'population': 67}]}\n"
        "...\n"
    )  # the guide's lines for the chain that ends with a plain function


def test_guide_astream_events_loops(executed):
    notebook = notebook_named(executed, "04_astream_events.ipynb")
    assert printed_by(notebook, "num_events = 0") == GUIDE_INTERLEAVED + "...\n"
    last_token, usage = printed_by(notebook, 'print(repr(events[-3]["data"]').splitlines()
    assert last_token == "'?'"  # the guide's events[-2]
    assert usage.startswith("'' {'input_tokens': ")  # the demo model's closing usage chunk
    assert "'event': 'on_chat_model_end'" in result_of(notebook, "events[-2:]")


def test_guide_filtering_loops(executed):
    notebook = notebook_named(executed, "05_filtering_events.ipynb")

    def events(text: str) -> list[str]:
        lines = printed_by(notebook, text).splitlines()
        assert len(lines) == 12 and lines[-1] == "..."  # 11 events, then the truncation
        return lines[:-1]

    by_name = events('include_names=["my_parser"],\n')
    assert by_name[0].startswith("{'event': 'on_parser_start'")
    assert all("'name': 'my_parser'" in line for line in by_name)
    by_type = events('include_types=["chat_model"],\n')
    assert by_type[0].startswith("{'event': 'on_chat_model_start'")
    assert all("'name': 'model'" in line and "on_chat_model_" in line for line in by_type)
    by_tag = events('include_tags=["my_chain"],\n')
    assert all("'my_chain'" in line for line in by_tag)
    runs = {name for name in ("RunnableSequence", "JsonOutputParser") if name in "".join(by_tag)}
    assert runs == {"RunnableSequence", "JsonOutputParser"}  # the tag is inherited by the children


def test_guide_callback_loops(executed):
    notebook = notebook_named(executed, "06_propagating_callbacks.ipynb")

    def kinds_and_names(text: str) -> list[tuple[str, str]]:
        lines = printed_by(notebook, text).splitlines()
        return [
            (line.split("'event': '")[1].split("'")[0], line.split("'name': '")[1].split("'")[0])
            for line in lines
        ]

    for tool in ("bad_tool", "correct_tool"):
        assert kinds_and_names(f"async for event in {tool}.astream_events") == [
            ("on_tool_start", tool),
            ("on_chain_start", "reverse_word"),
            ("on_chain_end", "reverse_word"),
            ("on_tool_end", tool),
        ]
    for text in ("reverse_and_double = RunnableLambda(reverse_and_double)\n", "@chain\n"):
        assert kinds_and_names(text) == [
            ("on_chain_start", "reverse_and_double"),
            ("on_chain_start", "reverse_word"),
            ("on_chain_end", "reverse_word"),
            ("on_chain_stream", "reverse_and_double"),
            ("on_chain_end", "reverse_and_double"),
        ]
        assert "'chunk': '43214321'" in printed_by(notebook, text)


def test_guide_langgraph_examples_in_process(executed):
    notebook = notebook_named(executed, "07_langgraph_stream_modes.ipynb")
    updates = printed_by(notebook, 'graph.stream({"topic": "ice cream"}, stream_mode="updates")')
    assert updates == (
        "{'refine_topic': {'topic': 'ice cream and cats'}}\n"
        "{'generate_joke': {'joke': 'This is a joke about ice cream and cats'}}\n"
    )
    joke = [t for t in demo_tokens("Generate a joke about ice cream and cats") if t]
    assert printed_by(notebook, "if message_chunk.content:\n        print(") == barred(joke)


def test_guide_langgraph_server_examples(executed):
    notebook = notebook_named(executed, "08_langgraph_server.ipynb")
    updates = [
        "{'refine_topic': {'topic': 'ice cream and cats'}}",
        "{'generate_joke': {'joke': 'This is a joke about ice cream and cats'}}",
    ]
    basic = printed_by(notebook, "# create a streaming run").splitlines()
    assert basic[0].startswith("{'run_id': ") and basic[1:] == updates  # the guide's output

    # The guide's values run on the thread of its updates run: the previous run's joke is there
    # from the first state on; the streamviz view runs on a fresh thread and starts from the input.
    values = printed_by(notebook, 'stream_mode="values"\n):').splitlines()
    assert values[1] == "{'topic': 'ice cream', 'joke': 'This is a joke about ice cream and cats'}"
    assert result_of(notebook, "fresh = await client.threads.create()").startswith(
        "[{'topic': 'ice cream'},"
    )

    assert "422 " in printed_by(notebook, "refused = httpx.post")  # the body without its comma
    fixed = printed_by(notebook, "fixed_body = guide_body.replace")
    assert '"updates",\n' in fixed and "event: updates" in fixed
    assert "data: " + '{"generate_joke":{"joke":"This is a joke about ice cream and cats"}}' in (
        printed_by(notebook, "curl_thread = httpx.post")
    )
    assert "TypeError: 'async_generator' object is not iterable" in printed_by(
        notebook, "except TypeError as error"
    )  # a plain `for` over the async client's stream
    assert "list_events: False" in printed_by(notebook, 'hasattr(client.runs, "list_events")')

    joke = [t for t in demo_tokens("Generate a joke about ice cream and cats") if t]
    poem = [t for t in demo_tokens("Write a poem about ice cream and cats") if t]
    assert printed_by(notebook, 'print(message_chunk["content"], end="|"') == barred(joke + poem)
    custom = printed_by(notebook, 'stream_mode="custom"\n):').splitlines()[1:]
    assert custom == [
        "{'progress': 'writing a joke about ice cream and cats'}",
        "{'progress': 'writing a poem'}",
        "{'progress': 'done'}",
    ]


def compare_text(notebook, source: str) -> str:
    """The text form a cell's sv.compare(...) showed (the summary atop its HTML tables)."""
    import html

    outputs = cell_with(notebook, source).outputs
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    plots = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(pages) == 1 and len(plots) == 1  # the figure, then the tables
    return html.unescape(re.search(r"<pre>(.*?)</pre>", pages[0], re.S).group(1))


def test_compare_in_notebooks_02_and_08(executed):
    text = compare_text(notebook_named(executed, "02_input_streams.ipynb"),
                        "comparison = sv.compare(")  # fmt: skip
    assert "only in a: _extract_country_names\n" in text
    assert "only in b: _extract_country_names_streaming" in text
    root = re.search(r"\(root\): .*first token (-[\d,.]+) ms, tokens 1 -> 3", text)
    assert root is not None and float(root.group(1).replace(",", "")) < -500
    assert "first divergence: missing at a #5 (seq 5), b #5: on_chain_start " in text

    notebook = notebook_named(executed, "08_langgraph_server.ipynb")
    text = compare_text(notebook, "here_vs_there = sv.compare(")
    assert "runs: 4 matched by path, 0 only in a, 0 only in b" in text
    assert "tokens" not in text.split("events:")[0].split("\n", 3)[3]  # same token counts
    # The server's root opens when the run is created, and its metadata part comes first.
    assert "first divergence: inserted at a #0, b #0 (seq 0): on_chain_start (root) 'model'" in text
    assert "inserted at a #" in text and ", b #1 (seq 1): on_graph_metadata (root)" in text
    printed_text = printed(notebook)
    assert "events: 1 inserted" in printed_text
    assert "on_chain_stream call_model 'call_model'" in printed_text  # astream's node chunk


def test_guide_curl_and_javascript_forms_in_streamviz(executed):
    """Notebook 08 runs the guide's cURL commands (real curl) and JavaScript examples (node with
    the JS SDK) on its server; each stream, read by ``sv.from_sse``, equals the Python SDK form."""
    notebook = notebook_named(executed, "08_langgraph_server.ipynb")
    assert '"thread_id":' in printed_by(notebook, "print(run_shell(CREATE_THREAD).decode())")
    raw = printed_by(notebook, 'print((streams / "updates.sse").read_text())')
    assert raw.startswith("event: metadata\ndata: {")
    assert 'event: updates\ndata: {"generate_joke":{"joke":"This is a joke about ice cream' in raw

    # Each table: one row per example, "same runs" and "same events" True for each.
    curl_table = result_of(notebook, "curl_traces, sdk_traces, rows = {}, {}, []")
    assert "False" not in curl_table and curl_table.count("True") == 2 * 8
    basic_js = printed_by(notebook, "print(run_node(BASIC_JS))")
    assert "{ refine_topic: { topic: 'ice cream and cats' } }" in basic_js  # node's notation
    js_table = result_of(notebook, "js_traces, js_rows = {}, []")
    assert "False" not in js_table and js_table.count("True") == 2 * 7
    tokens = snapshot(notebook, 'sv.show(curl_traces["messages-tuple"]', "graph")
    assert len(tokens.parts("messages")) == 54
    refused = printed_by(notebook, "sv.from_sse(broken)")
    assert refused.startswith("line 8: the data of event 'updates' is not JSON")

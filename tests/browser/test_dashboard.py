"""What a person sees: `sv.watch` of a demo chain in JupyterLab, driven in Chromium.

Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from labdriver import (
    cell_output,
    poll,
    prompts,
    record_text,
    run_notebook,
    screenshot,
    texts,
    wait_cells_done,
    wait_for,
    wait_for_text,
)
from nbclient import NotebookClient

SETUP = """\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | DemoChatModel(time_to_first_token=0.4, token_delay=0.04) | StrOutputParser()
"""
WATCH = 'trace = sv.watch(chain, {"topic": "parrot"}, name="parrot joke", height=720)'
EXPECTED_START = "Why| did| the| par|rot|"


MODEL_PIECES = ".sv-pane[data-pane=tokens] .sv-token-run:has-text('DemoChatModel') .sv-token-pieces"


def model_pieces(page) -> str:
    return "\n".join(texts(page, MODEL_PIECES))


def test_watch_streams_tokens_live_and_the_dashboard_works_by_clicking(
    page, jupyter_lab, console_messages
):
    run_notebook(page, jupyter_lab, "watch.ipynb", [SETUP, WATCH], wait=False)
    output = cell_output(page, 1)
    recorder = record_text(page, ".sv-pane[data-pane=tokens] .sv-token-pieces")
    wait_for(output, ".sv-root[data-view=dashboard]")
    wait_cells_done(page)
    samples = recorder.stop()

    # Tokens appeared while the cell was still running, before the run ended, in order.
    live = [s["text"] for s in samples if s["running"] and "Why" in s["text"]]
    final = samples[-1]["text"]
    assert live, samples[:5]
    assert any(len(text) < len(final) for text in live), "tokens only appeared at the end"
    assert EXPECTED_START in model_pieces(page)
    assert "feather|ed| echo|." in model_pieces(page)
    screenshot(page, "dashboard-parrot")

    # The event table: rows, then narrowed by clicking a type chip (include chat_model).
    table = output.locator(".sv-pane[data-pane=table]")
    count = output.locator(".sv-count")
    total = int(re.search(r"of ([\d,]+)", count.inner_text()).group(1).replace(",", ""))
    assert total > 100
    assert table.locator(".sv-row").count() > 5
    output.locator(".sv-chip[data-value='chat_model']").first.click()
    narrowed = wait_for_text(output, ".sv-count", lambda t: not t.startswith(f"{total:,} of"))
    shown = int(narrowed.split()[0].replace(",", ""))
    assert 0 < shown < total
    rows = table.locator(".sv-row")
    # The rows are redrawn in the frame after the count: wait for them.
    poll(
        lambda: (
            rows.count() > 0
            and all("chat_model" in rows.nth(i).inner_text() for i in range(min(rows.count(), 8)))
        ),
        message="the table to show only chat_model rows",
    )
    screenshot(page, "dashboard-filtered-chat-model")
    output.locator(".sv-clear").first.click()
    wait_for_text(output, ".sv-count", lambda t: t.startswith(f"{total:,} of"))

    # Event-kind chip: only the parser's stream events.
    output.locator(".sv-kind[data-kind='on_parser_stream']").click()
    only = wait_for_text(output, ".sv-count", lambda t: not t.startswith(f"{total:,} of"))
    assert int(only.split()[0].replace(",", "")) >= 40
    assert all("on_parser_stream" in rows.nth(i).inner_text() for i in range(min(rows.count(), 8)))
    output.locator(".sv-clear").first.click()

    # Search narrows to the events that mention the prompt text.
    output.locator("input[data-filter=search]").fill("tell me a joke")
    found = wait_for_text(output, ".sv-count", lambda t: not t.startswith(f"{total:,} of"))
    assert 0 < int(found.split()[0].replace(",", "")) < 10
    output.locator(".sv-clear").first.click()
    wait_for_text(output, ".sv-count", f"{total:,} of {total:,} events")

    # A row opens its payload (whichever row is first in view: the table keeps its scroll).
    seq = rows.first.get_attribute("data-seq")
    row = output.locator(f".sv-row[data-seq='{seq}']")
    event = next(word for word in row.inner_text().split() if word.startswith("on_"))
    row.click()
    wait_for(output, ".sv-details")
    details = wait_for_text(output, ".sv-details", f"Event #{seq}")
    assert event in details
    # The whole payload comes from the kernel once the cell has ended.
    wait_for_text(output, ".sv-payload-note", lambda t: t.startswith("Full payload"))

    # Linked selection: a tree node narrows the table to that run.
    output.locator(".sv-tree-node", has_text="DemoChatModel").first.click()
    wait_for(output, ".sv-run-chip")
    model_only = wait_for_text(output, ".sv-count", lambda t: not t.startswith(f"{total:,} of"))
    assert 40 < int(model_only.split()[0].replace(",", "")) < total
    assert output.locator(".sv-tree-node.sv-selected, .sv-tree-node[aria-selected=true]").count()

    # The timeline has one bar per run.
    canvas = output.locator("canvas.sv-timeline-canvas")
    assert canvas.get_attribute("data-bars") == "4"
    screenshot(page, "dashboard-selected-model")
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages
    # anywidget loads the module as its current form: no deprecation warning per widget.
    assert not [m for m in console_messages if "[anywidget]" in m], console_messages


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "javascript:window.__pwned=3",
    "\u0000\u001b[31mred\u001b[0m\u0007 bell",
    "emoji 🦜🎉👩‍👩‍👧 and \u202eRTL override",
    "مرحبا بالعالم — עברית",
]

HOSTILE_CELL = f"""\
import streamviz as sv
from langchain_core.runnables import RunnableLambda

hostile = {HOSTILE!r}
trace = sv.Trace("<b>hostile</b> corpus")
collector = sv.Collector(trace)
for i, text in enumerate(hostile):
    step = RunnableLambda(lambda x: {{"echo": x, "long": "A" * 1_000_000}}).with_config(
        run_name=text, tags=[text, f"t{{i}}"]
    )
    step.invoke({{"input": text, "line": "<b>" * 300_000}}, {{"callbacks": [collector]}})
sv.show(trace)
"""


def test_hostile_strings_render_as_inert_text(page, jupyter_lab, console_messages):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    run_notebook(page, jupyter_lab, "hostile.ipynb", [HOSTILE_CELL])
    output = cell_output(page, 0)
    root = wait_for(output, ".sv-root")
    wait_for_text(output, ".sv-tree-node", "<script>")
    found = page.evaluate(
        """(root) => ({
            scripts: root.querySelectorAll('script, img, iframe, object, embed, a[href]').length,
            handlers: [...root.querySelectorAll('*')].flatMap(
              e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
            pwned: window.__pwned ?? null,
            text: root.innerText,
        })""",
        root.element_handle(),
    )
    assert found["scripts"] == 0
    assert found["handlers"] == []
    assert found["pwned"] is None and not dialogs
    for text in ("<script>window.__pwned = 1</script>", "javascript:window.__pwned=3", "🦜"):
        assert text in found["text"]
    # Open the 1 MB payload: shown as (cut) text, the page stays alive.
    output.locator(".sv-row[data-phase=end]").first.click()
    wait_for(output, ".sv-details")
    shown = wait_for_text(output, ".sv-details", lambda t: "more characters" in t)
    assert "<b><b><b>" in shown  # markup from the payload is shown as text
    screenshot(page, "hostile-corpus")
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages


PAGE_ANSWERED = "page-answered"  # written next to the notebook once the page answered a click
FAST_CELL = f"""\
import pathlib, time
from langchain_core.callbacks import BaseCallbackHandler

class HoldForThePage(BaseCallbackHandler):
    \"\"\"After 2,000 tokens the stream waits until the test has used the page.\"\"\"
    tokens = 0
    def on_llm_new_token(self, token, **kwargs):
        self.tokens += 1
        if self.tokens == 2_000:
            for _ in range(6_000):  # a hang guard (10 minutes), not a timing
                if pathlib.Path("{PAGE_ANSWERED}").exists():
                    break
                time.sleep(0.1)

fast = DemoChatModel(time_to_first_token=0, token_delay=0.00005, responses=["tok " * 20_000])
trace = sv.watch(fast, "go", name="fast", height=600, config={{"callbacks": [HoldForThePage()]}})
model = next(r for r in trace.runs.values() if r.run_type == "chat_model")
print(f"CHUNKS {{model.chunk_count}}")
"""


def test_a_10k_tokens_per_second_stream_stays_responsive_and_ends_complete(
    page, jupyter_lab, console_messages
):
    """Usable while 20,000 tokens stream as fast as the kernel takes them, complete at the end.

    The demo model offers 20,000 tokens/s. The stream holds after 2,000 tokens until the page has
    answered a click, so the click surely lands on a running stream. Speed and frame gaps are not
    asserted here: ``make bench`` (bench/browser.py) measures them.
    """
    run_notebook(page, jupyter_lab, "fast.ipynb", [SETUP, FAST_CELL], wait=False)
    output = cell_output(page, 1)
    wait_for(output, ".sv-root")
    # While the stream runs, the filter controls answer a click.
    chip = wait_for(output, ".sv-kind[data-kind='on_chat_model_stream']")
    chip.click()
    wait_for_text(output, ".sv-count", lambda t: re.match(r"[\d,]+ of [\d,]+ events", t))
    assert "[*]:" in prompts(page), "the stream is still running (held for the page)"
    (jupyter_lab.root / PAGE_ANSWERED).touch()
    wait_cells_done(page, timeout_ms=600_000)
    chunks = int(re.search(r"CHUNKS (\d+)", output.inner_text()).group(1))
    # Every token arrived: the token block counts them, the table holds one row per token.
    assert chunks >= 20_000  # every token, and the final empty chunk carrying usage
    wait_for_text(output, ".sv-token-run .sv-token-head", f"{chunks:,} chunks")
    wait_for_text(output, ".sv-count", f"{chunks:,} of ")
    screenshot(page, "dashboard-fast-stream")


def test_a_saved_notebook_reopens_with_the_final_picture(page, jupyter_lab, tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(WATCH + "\ntrace")]
    )
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    jupyter_lab.write_notebook("saved.ipynb", notebook)
    page.goto(jupyter_lab.notebook_url("saved.ipynb"))
    # No cell is run: the widgets render from the state saved in the notebook.
    output = cell_output(page, 1)
    wait_for(output, ".sv-root[data-view=dashboard]", timeout_ms=60_000)
    wait_for_text(output, ".sv-token-pieces", EXPECTED_START)
    assert output.locator("canvas.sv-timeline-canvas").get_attribute("data-bars") == "4"
    assert json.loads(json.dumps(output.locator(".sv-count").inner_text()))
    screenshot(page, "dashboard-reopened")


@pytest.fixture(autouse=True)
def _no_stray_dialogs(page):
    page.on("dialog", lambda dialog: dialog.dismiss())


BIG_CELL = """\
import random
import streamviz as sv

# A trace the size of a long session: 10,000 runs (2,000 chains of a prompt, a model, a parser
# and a tool) and 200,000 streamed chunks, built as astream_events-shaped events.
rng = random.Random(7)
events, t = [], 0.0

def add(kind, run_id, name, parents, data, tags=()):
    events.append({"event": kind, "run_id": run_id, "name": name, "parent_ids": parents,
                   "tags": list(tags), "metadata": {}, "data": data, "t": t})

for chain in range(2_000):
    root = f"chain-{chain}"
    add("on_chain_start", root, f"chain {chain}", [], {"input": chain})
    for step, kind, name in ((1, "prompt", "prompt"), (2, "chat_model", "model"),
                             (3, "parser", "parser"), (4, "tool", "lookup")):
        run_id = f"{root}-{step}"
        t += rng.random() * 0.002
        add(f"on_{kind}_start", run_id, name, [root], {"input": chain}, [f"seq:step:{step}"])
        if kind in ("chat_model", "parser"):
            for token in range(50):
                t += 0.0001
                add(f"on_{kind}_stream", run_id, name, [root], {"chunk": f"t{token} "},
                    [f"seq:step:{step}"])
        t += rng.random() * 0.003
        add(f"on_{kind}_end", run_id, name, [root], {"output": chain}, [f"seq:step:{step}"])
    add("on_chain_end", root, f"chain {chain}", [], {"output": chain})
big = sv.Trace.from_events(events, name="10,000 runs")
print(len(big.runs), sum(r.chunk_count for r in big.runs.values()))
sv.show(big, view="timeline", height=700)
"""


TABLE_CELL = 'sv.show(big, view="table", height=600)'


def test_the_timeline_stays_interactive_with_10000_runs_and_200000_ticks(
    page, jupyter_lab, console_messages
):
    run_notebook(page, jupyter_lab, "big.ipynb", [BIG_CELL, TABLE_CELL], timeout_ms=180_000)
    output = cell_output(page, 0)
    assert "10000 200000" in output.inner_text()
    canvas = wait_for(output, "canvas.sv-timeline-canvas")
    # A big trace comes a screenful first, the rest as deltas: every bar, once they are in.
    poll(lambda: canvas.get_attribute("data-bars") == "10000", message="all 10,000 bars")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    y = box["y"] + min(box["height"] / 2, 200)  # inside the viewport, over the bars
    span = lambda r: (lambda a, b: b - a)(*map(float, r.split(",")))  # noqa: E731
    before = canvas.get_attribute("data-range")
    page.mouse.move(box["x"] + box["width"] * 0.6, y)
    for _ in range(10):  # zoom in around the cursor
        page.mouse.wheel(0, -240)
        page.wait_for_timeout(30)
    poll(
        lambda: span(canvas.get_attribute("data-range")) < span(before) / 2,
        message=lambda: f"zoomed in from {before}: {canvas.get_attribute('data-range')}",
    )
    zoomed = canvas.get_attribute("data-range")
    page.mouse.down()  # pan by dragging
    for step in range(10):
        page.mouse.move(box["x"] + box["width"] * (0.6 - 0.03 * step), y)
        page.wait_for_timeout(30)
    page.mouse.up()
    page.mouse.wheel(0, 2_000)  # scroll down through the rows
    poll(lambda: canvas.get_attribute("data-range") != zoomed, message="panned by the drag")
    screenshot(page, "timeline-10k-runs")

    # The event table of the same trace: 220,000 rows, virtualized, scrolled with the wheel.
    table = cell_output(page, 1)
    body = wait_for(table, ".sv-tbody")
    wait_for_text(table, ".sv-count", "220,000 of 220,000 events")
    assert table.locator(".sv-count").inner_text() == "220,000 of 220,000 events"
    body.scroll_into_view_if_needed()
    rows_box = body.bounding_box()
    first_seq = int(table.locator(".sv-row").first.get_attribute("data-seq"))
    page.mouse.move(rows_box["x"] + 200, rows_box["y"] + 100)
    for _ in range(40):  # a finished trace's table shows its end: scroll up through the rows
        page.mouse.wheel(0, -3_000)
        page.wait_for_timeout(20)
    top = table.locator(".sv-row").first
    poll(lambda: int(top.get_attribute("data-seq")) < first_seq - 1_000, message="table scrolled")
    seqs = [
        int(seq)
        for seq in table.locator(".sv-row").evaluate_all("rows => rows.map(r => r.dataset.seq)")
    ]
    assert len(seqs) < 200, "only the visible rows exist in the page"
    assert seqs == sorted(seqs)
    screenshot(page, "table-220k-rows")

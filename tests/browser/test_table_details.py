"""The events table and its details pane, as a person checks them in Chromium.

- After a run (live in JupyterLab, or a finished trace in an offline page) the table ends on the
  last event: the end events, which carry the outputs, are in view.
- The details pane shows a payload as LangChain prints it (``AIMessageChunk(content=...)``), with a
  raw JSON toggle that shows no ``__sv__`` marker; an offline page shows the whole payload it
  carries; the pane keeps the columns that identify the row in view, beside or below the table.

Screenshots (``test-artifacts/browser/table-details-*.png``) at 1000 and 1400 px, light and dark.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from labdriver import cell_output, run_notebook, screenshot, wait_cells_done, wait_for

# JupyterLab's dark theme colours, for an offline page (it has no JupyterLab theme of its own).
DARK = (
    ":root{--jp-layout-color0:#111111;--jp-layout-color1:#111111;--jp-layout-color2:#212121;"
    "--jp-ui-font-color1:rgba(255,255,255,.87);--jp-ui-font-color2:rgba(255,255,255,.54);"
    "--jp-border-color2:#424242;--jp-brand-color1:#64b5f6} body{background:#111111}"
)
IDENTIFYING = ["t", "seq", "event", "name", "type", "tags"]

VISIBLE_SEQS = """(root) => {
  const scope = root ?? document;
  const body = scope.querySelector('.sv-tbody').getBoundingClientRect();
  return [...scope.querySelectorAll('.sv-row')]
    .filter((row) => {
      const r = row.getBoundingClientRect();
      return r.height > 0 && r.top >= body.top - 1 && r.bottom <= body.bottom + 1;
    })
    .map((row) => Number(row.dataset.seq));
}"""

COLUMNS_IN_VIEW = """(keys) => {
  const table = document.querySelector('.sv-table').getBoundingClientRect();
  const details = document.querySelector('.sv-details');
  const pane = details && !details.hidden ? details.getBoundingClientRect() : null;
  const overlaps = (r) => pane && r.left < pane.right && r.right > pane.left
                          && r.top < pane.bottom && r.bottom > pane.top;
  return Object.fromEntries(keys.map((key) => {
    const r = document.querySelector(`.sv-thead .sv-c-${key}`).getBoundingClientRect();
    const shown = r.width >= 36 && r.left >= table.left - 1 && r.right <= table.right + 1
                  && !overlaps(r);
    return [key, shown];
  }));
}"""

ONE_LINE = """(word) => {
  const pre = document.querySelector('.sv-payload');
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  }
  return -1;
}"""


@pytest.fixture(scope="module")
def parrot_page(tmp_path_factory):
    """The parrot demo's dashboard as an offline page, and its event count."""
    path = tmp_path_factory.mktemp("table") / "parrot.html"
    subprocess.run(
        [sys.executable, "-m", "streamviz", "demo", "--html", str(path), "--fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


def open_page(browser, path, width: int, *, dark: bool = False):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    if dark:
        page.add_style_tag(content=DARK)
    return page, errors


def event_count(page) -> int:
    text = page.inner_text(".sv-header .sv-stats")
    return int(text.split("·")[1].strip().split()[0].replace(",", ""))


def click_event(page, kind: str) -> int:
    """Click the last visible row of event `kind`; returns its seq."""
    seq = page.evaluate(
        """(kind) => { const rows = [...document.querySelectorAll('.sv-row')]
             .filter((row) => row.querySelector('.sv-c-event').textContent === kind);
           return rows.length ? Number(rows[rows.length - 1].dataset.seq) : -1; }""",
        kind,
    )
    assert seq >= 0, f"no {kind} row in view"
    page.click(f'.sv-row[data-seq="{seq}"]')
    return seq


def test_a_finished_trace_opens_on_its_last_event(browser, parrot_page):
    page, errors = open_page(browser, parrot_page, 1400)
    count = event_count(page)
    assert count - 1 in page.evaluate(VISIBLE_SEQS, None)
    assert page.is_hidden(".sv-jump")
    assert errors == []
    page.close()


@pytest.mark.parametrize("width", [1000, 1600])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_details_show_the_output_as_langchain_prints_it_and_keep_the_row_in_view(
    browser, parrot_page, width, theme
):
    page, errors = open_page(browser, parrot_page, width, dark=theme == "dark")
    seq = click_event(page, "on_chat_model_end")
    payload = page.locator(".sv-payload")
    text = payload.inner_text()
    assert text.startswith("output: AIMessageChunk(content='Why did the parrot"), text[:80]
    assert "__sv__" not in text and '"fields"' not in text
    assert page.inner_text(".sv-payload-note") == "Full payload"
    assert "when the kernel answers" not in page.inner_text(".sv-details")
    # Words are not cut across lines.
    assert page.evaluate(ONE_LINE, "AIMessageChunk") == 1
    # The row stays in view, with the columns that identify it.
    assert seq in page.evaluate(VISIBLE_SEQS, None)
    shown = page.evaluate(COLUMNS_IN_VIEW, IDENTIFYING)
    assert all(shown.values()), shown
    place = page.get_attribute(".sv-table-wrap", "data-details")
    screenshot(page, f"table-details-{width}-{theme}")
    screenshot(page, f"table-details-{width}-{theme}-pane", page.locator(".sv-table-wrap"))
    # The raw JSON: the same payload without streamviz's markers.
    page.click(".sv-payload-mode")
    raw = payload.inner_text()
    assert "__sv__" not in raw
    assert json.loads(raw)["data"]["output"]["content"].startswith("Why did the parrot")
    # Beside the table only when it is wide enough to keep its columns beside them.
    table_width = page.evaluate("() => document.querySelector('.sv-table-wrap').clientWidth")
    assert place == ("beside" if table_width >= 900 else "below"), table_width
    assert place == ("beside" if width >= 1600 else "below")
    assert errors == []
    page.close()


def test_an_offline_page_shows_the_whole_output_of_the_end_event(browser, parrot_page):
    page, _ = open_page(browser, parrot_page, 1400)
    click_event(page, "on_chain_end")
    text = page.inner_text(".sv-payload")
    # The preview in the table is cut; the details carry the whole joke.
    assert text.startswith("output: 'Why did the parrot")
    assert "the feathered echo.'" in text
    assert "input: {'topic': 'parrot'}" in text
    page.close()


FOLLOW_RECORDER = """(el) => {
  const body = el.querySelector('.sv-tbody');
  const samples = [];
  const sample = () => samples.push({
    live: el.querySelector('.sv-live')?.dataset.live === 'true',
    rows: body.scrollHeight / 24,
    atEnd: body.scrollTop + body.clientHeight >= body.scrollHeight - 2,
  });
  const observer = new MutationObserver(sample);
  observer.observe(body, { subtree: true, childList: true, characterData: true });
  el.__svFollow = { samples, stop: () => observer.disconnect() };
}"""

SETUP = """\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | DemoChatModel(time_to_first_token=0.2, token_delay=0.03) | StrOutputParser()
"""
WATCH = 'trace = sv.watch(chain, {"topic": "parrot"}, height=560)'


def test_after_a_live_run_the_table_ends_on_its_last_event_and_a_chunk_shows_as_langchain_prints_it(
    page, jupyter_lab
):
    run_notebook(page, jupyter_lab, "table.ipynb", [SETUP, WATCH], wait=False)
    out = cell_output(page, 1)
    # While live, after every change of the table, is its end in view?
    wait_for(out, ".sv-tbody")
    out.evaluate(FOLLOW_RECORDER)
    wait_cells_done(page)
    wait_for(out, ".sv-root[data-view=dashboard] .sv-header .sv-live[data-live=false]")
    samples = out.evaluate("(el) => { el.__svFollow.stop(); return el.__svFollow.samples; }")
    live = [sample for sample in samples if sample["live"] and sample["rows"] > 12]
    assert len(live) >= 5, samples
    assert all(sample["atEnd"] for sample in live), [s for s in live if not s["atEnd"]]
    count = int(out.locator(".sv-stats").inner_text().split("·")[1].strip().split()[0])
    seqs = out.evaluate(VISIBLE_SEQS)
    assert count - 1 in seqs, (count, seqs)
    assert out.locator(".sv-jump").is_hidden()
    # A chat model's chunk: the kernel answers with the whole AIMessageChunk.
    seq = out.evaluate(
        """(el) => { const rows = [...el.querySelectorAll('.sv-row')].filter(
             (row) => row.querySelector('.sv-c-event').textContent === 'on_chat_model_stream');
           return Number(rows[rows.length - 1].dataset.seq); }"""
    )
    out.locator(f'.sv-row[data-seq="{seq}"]').click()
    payload = out.locator(".sv-payload")
    payload.filter(has_text="AIMessageChunk(content=").wait_for(timeout=15_000)
    assert payload.inner_text().startswith("chunk: AIMessageChunk(content=")
    screenshot(page, "table-details-lab-chunk", out)
    out.locator(".sv-payload-mode").click()
    raw = json.loads(payload.inner_text())
    assert raw["data"]["chunk"]["type"] == "AIMessageChunk"
    assert "__sv__" not in payload.inner_text()
    out.locator(".sv-payload-mode").click()
    # JupyterLab's dark theme at 1000 px: the same pane, legible (looked at, not measured).
    change_theme = "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})"
    try:
        page.set_viewport_size({"width": 1000, "height": 1000})
        page.evaluate(change_theme, "JupyterLab Dark")
        page.wait_for_function(
            "() => document.body.dataset.jpThemeLight === 'false'"
            " && !document.querySelector('#jupyterlab-splash')",
            timeout=15_000,
        )
        out.locator(f'.sv-row[data-seq="{seq}"]').scroll_into_view_if_needed()
        screenshot(page, "table-details-lab-1000-dark", out)
    finally:
        page.evaluate(change_theme, "JupyterLab Light")
        page.wait_for_function(
            "() => document.body.dataset.jpThemeLight === 'true'"
            " && !document.querySelector('#jupyterlab-splash')"
        )


@pytest.mark.parametrize("width", [800, 1000, 1400])
def test_the_text_column_stays_in_view_at_any_width(browser, parrot_page, width):
    page, _ = open_page(browser, parrot_page, width)
    narrow = page.evaluate("() => document.querySelector('.sv-table').clientWidth") <= 560
    # A very narrow table lets its tags go before the text (the details pane shows them).
    keys = [key for key in IDENTIFYING if not (narrow and key == "tags")]
    shown = page.evaluate(COLUMNS_IN_VIEW, [*keys, "text"])
    assert all(shown.values()), shown
    # The text of the last row (the chain's output) is readable, cut with an ellipsis and a tooltip.
    last = page.locator(".sv-row").last
    cell = last.locator(".sv-c-text")
    assert cell.inner_text().startswith("Why did the parrot")
    assert cell.get_attribute("title").startswith("Why did the parrot")
    screenshot(page, f"table-text-column-{width}", page.locator(".sv-table-wrap"))
    page.close()

"""What a person sees of the dashboard's layout, in JupyterLab and Chromium: at 800, 1000 (also
with the left sidebar open) and 1400 px, light and dark theme.

Screenshots go to test-artifacts/browser/layout-*.png.
"""

from __future__ import annotations

from labdriver import cell_output, poll, run_notebook, screenshot, wait_for

import streamviz as sv
from streamviz.export import write_html

PARROT = """\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from streamviz.demo import DemoChatModel

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
chain = prompt | DemoChatModel(time_to_first_token=0.05, token_delay=0.005) | StrOutputParser()
trace = sv.watch(chain, {"topic": "parrot"}, name="parrot joke", height=720)
"""

GRAPH = """\
import streamviz as sv
from streamviz.demo.graphs import build_model_graph

graph = build_model_graph(time_to_first_token=0.05, token_delay=0.005)
trace = sv.watch(
    graph,
    {"topic": "ice cream and cats"},
    stream_mode=["values", "updates", "messages", "custom", "tasks"],
    subgraphs=True,
    height=760,
)
"""

DARK = "JupyterLab Dark"
LIGHT = "JupyterLab Light"

# Layout facts of one rendered dashboard, as a person would check them on screen.
FACTS = """(root) => {
  const box = (e) => e.getBoundingClientRect();
  const rb = box(root);
  const panes = [...root.querySelectorAll('.sv-pane')].map((p) => {
    const b = box(p);
    return {pane: p.dataset.pane, left: b.left, right: b.right, top: b.top, bottom: b.bottom,
            width: b.width, height: b.height};
  });
  const canvas = root.querySelector('canvas.sv-timeline-canvas');
  const tree = root.querySelector('.sv-pane[data-pane=tree]');
  const tb = box(tree);
  const figures = [...root.querySelectorAll(
      '.sv-tree-node .sv-tree-dur, .sv-tree-node .sv-tree-first, .sv-tree-node .sv-tree-chunks')]
    .filter((e) => e.textContent !== '')
    .map((e) => {
      const b = box(e);
      return {text: e.textContent, cut: e.scrollWidth > e.clientWidth,
              inside: b.left >= tb.left - 0.5 && b.right <= tb.right + 0.5};
    });
  // Everything in the header, filter bar and Runs pane that shows an ellipsis because it is cut.
  const cutWithoutTitle = [];
  let cutCount = 0;
  for (const e of root.querySelectorAll('.sv-header *, .sv-filterbar *, .sv-tree-view *')) {
    if (getComputedStyle(e).textOverflow !== 'ellipsis') continue;
    if (e.scrollWidth <= e.clientWidth || e.clientWidth === 0) continue;
    cutCount += 1;
    const holder = e.closest('[title]');
    if (!holder || !holder.getAttribute('title')) {
      cutWithoutTitle.push(e.className + ': ' + e.textContent);
    }
  }
  // Chips past the widget's right edge, or in a row that hides them without a scrollbar.
  const offEdge = [...root.querySelectorAll('.sv-chip, .sv-kind')]
    .filter((c) => box(c).right > rb.right + 0.5 && box(c).width > 0)
    .map((c) => c.textContent);
  const rows = [...root.querySelectorAll('.sv-kinds, .sv-chips')].map((r) => ({
    hiddenX: r.scrollWidth > r.clientWidth + 1,
    hiddenY: r.scrollHeight > r.clientHeight + 1,
    overflowY: getComputedStyle(r).overflowY,
  }));
  return {
    layout: root.dataset.layout, width: rb.width, height: rb.height,
    scrollHeight: root.scrollHeight, panes, cutCount, cutWithoutTitle, offEdge, rows, figures,
    canvas: {width: box(canvas).width, bars: Number(canvas.dataset.bars)},
    chipRadius: getComputedStyle(root.querySelector('.sv-chip')).borderTopLeftRadius,
  };
}"""


def facts(root) -> dict:
    return root.evaluate(FACTS)


def overlaps(panes: list[dict]) -> list[tuple[str, str]]:
    found = []
    for n, a in enumerate(panes):
        for b in panes[n + 1 :]:
            if (
                a["left"] < b["right"] - 1
                and b["left"] < a["right"] - 1
                and a["top"] < b["bottom"] - 1
                and b["top"] < a["bottom"] - 1
            ):
                found.append((a["pane"], b["pane"]))
    return found


def set_theme(page, theme: str) -> None:
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        "(light) => document.body.dataset.jpThemeLight === light",
        arg="true" if theme == LIGHT else "false",
        timeout=30_000,
    )


def left_sidebar(page, *, open_: bool) -> None:
    """Open or close JupyterLab's left sidebar (the file browser, open in a fresh workspace)."""
    page.evaluate(
        """(open) => open ? window.jupyterapp.shell.expandLeft()
                         : window.jupyterapp.shell.collapseLeft()""",
        open_,
    )
    page.wait_for_function(
        "(open) => window.jupyterapp.shell.leftCollapsed === !open", arg=open_, timeout=10_000
    )


def settle(page, root, width: int) -> dict:
    """Resize the window to `width` and return the facts once the dashboard has laid out."""
    page.set_viewport_size({"width": width, "height": 1000})
    expected_width = {"value": None}

    def stable():
        now = facts(root)
        same = expected_width["value"] == now["width"] and now["canvas"]["bars"] > 0
        expected_width["value"] = now["width"]
        return now if same else None

    page.wait_for_timeout(100)  # one resize, then two equal reads
    return poll(stable, timeout_ms=10_000, interval_ms=150, message="the dashboard to settle")


def check_common(seen: dict, name: str) -> None:
    assert seen["height"] == 720, f"{name}: the height trait sets the widget's height"
    assert not overlaps(seen["panes"]), f"{name}: panes overlap {overlaps(seen['panes'])}"
    assert seen["cutWithoutTitle"] == [], f"{name}: cut without a tooltip {seen['cutWithoutTitle']}"
    assert seen["offEdge"] == [], f"{name}: chips past the right edge {seen['offEdge']}"
    for row in seen["rows"]:
        assert not row["hiddenX"], f"{name}: a chip row hides chips sideways {seen['rows']}"
        assert not row["hiddenY"] or row["overflowY"] == "auto", f"{name}: {seen['rows']}"


def test_the_dashboard_fits_800_1000_1400_px_in_light_and_dark(
    page, browser, jupyter_lab, console_messages, tmp_path
):
    run_notebook(page, jupyter_lab, "layout.ipynb", [PARROT])
    output = cell_output(page, 0)
    root = wait_for(output, ".sv-root[data-view=dashboard]")
    left_sidebar(page, open_=False)
    lab_radius = None
    for theme, label in ((LIGHT, "light"), (DARK, "dark")):
        set_theme(page, theme)
        for width in (800, 1000, 1400):
            seen = settle(page, root, width)
            name = f"layout-{width}-{label}"
            screenshot(page, name, root)
            check_common(seen, name)
            panes = {p["pane"]: p for p in seen["panes"]}
            if width <= 1000:
                # In a 1000 px window the notebook leaves the widget ~820 px: stacked, every
                # pane spans the widget, the timeline has room for its bars.
                assert seen["width"] < 900 and seen["layout"] == "stacked", (name, seen["width"])
                assert [p["pane"] for p in seen["panes"]] == ["tree", "timeline", "tokens", "table"]
                for pane in seen["panes"]:
                    assert pane["width"] >= seen["width"] - 20, (name, pane)
                tops = [p["top"] for p in seen["panes"]]
                assert tops == sorted(tops), f"{name}: panes one under the other {tops}"
                assert seen["canvas"]["width"] >= 400 and seen["canvas"]["bars"] == 4, seen
                assert seen["scrollHeight"] > seen["height"], "stacked: the widget scrolls"
                if width == 800:  # the rest of the stack: token stream and events
                    root.evaluate("(r) => { r.scrollTop = r.scrollHeight; }")
                    screenshot(page, f"{name}-scrolled", root)
                    root.evaluate("(r) => { r.scrollTop = 0; }")
            else:
                assert seen["layout"] == "columns", name
                assert panes["tree"]["top"] == panes["timeline"]["top"], name
                # Three runs' worth of rows, not a 220 px pane of empty space.
                assert panes["tree"]["height"] < 200, (name, panes["tree"])
            if width == 1400:
                # Every run's duration, first token and chunks, whole and inside the Runs pane.
                assert len(seen["figures"]) == 4 + 3 + 3, seen["figures"]
                assert [f for f in seen["figures"] if f["cut"] or not f["inside"]] == [], seen
            lab_radius = lab_radius or seen["chipRadius"]

    # The left sidebar open at 1000 px narrows the notebook: the dashboard stacks.
    set_theme(page, LIGHT)
    page.set_viewport_size({"width": 1000, "height": 1000})
    left_sidebar(page, open_=True)
    seen = poll(
        lambda: (f := facts(root))["layout"] == "stacked" and f,
        timeout_ms=10_000,
        message="the dashboard to stack with the sidebar open",
    )
    seen = settle(page, root, 1000)
    screenshot(page, "layout-1000-sidebar-light", root)
    check_common(seen, "layout-1000-sidebar")
    assert seen["canvas"]["width"] >= 400, seen["canvas"]

    # Chips have the same shape in JupyterLab and in an offline page.
    trace = sv.Trace("chips")
    collector = sv.Collector(trace)
    from langchain_core.runnables import RunnableLambda

    RunnableLambda(lambda x: x).with_config(run_name="step", tags=["t"]).invoke(
        "x", {"callbacks": [collector]}
    )
    offline = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        offline.goto(write_html(trace, tmp_path / "chips.html").as_uri())
        offline.wait_for_selector("body[data-ready=true]", timeout=15_000)
        offline_radius = offline.evaluate(
            "() => getComputedStyle(document.querySelector('.sv-chip')).borderTopLeftRadius"
        )
    finally:
        offline.close()
    assert lab_radius == offline_radius == "10px", (lab_radius, offline_radius)
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages


def test_a_graph_dashboard_stacks_five_panes_and_tells_its_models_apart(
    page, jupyter_lab, console_messages
):
    run_notebook(page, jupyter_lab, "layout-graph.ipynb", [GRAPH])
    output = cell_output(page, 0)
    root = wait_for(output, ".sv-root[data-view=dashboard]")
    wait_for(output, ".sv-pane[data-pane=graph]")
    left_sidebar(page, open_=False)
    for width in (1000, 1400):
        seen = settle(page, root, width)
        name = f"layout-graph-{width}-light"
        screenshot(page, name, root)
        assert seen["height"] == 760
        assert not overlaps(seen["panes"]), (name, overlaps(seen["panes"]))
        assert seen["cutWithoutTitle"] == [], (name, seen["cutWithoutTitle"])
        assert seen["offEdge"] == [], (name, seen["offEdge"])
        order = [p["pane"] for p in seen["panes"]]
        assert order == ["tree", "timeline", "tokens", "graph", "table"], order
        if width == 1000:
            assert seen["layout"] == "stacked"
            assert seen["canvas"]["width"] >= 400 and seen["canvas"]["bars"] == 4
        else:
            assert seen["layout"] == "columns"
            assert [f for f in seen["figures"] if f["cut"] or not f["inside"]] == [], seen
    # The two calls of the same model differ by their node and tag.
    metas = root.locator(".sv-tree-node .sv-tree-meta").all_inner_texts()
    assert metas == ["joke · call_model", "poem · call_model"], metas
    assert not [m for m in console_messages if m.startswith("[pageerror]")], console_messages

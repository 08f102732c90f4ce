"""The offline dashboard of a big LangGraph trace in Chromium: first paint, frame gaps, filters.

Run with ``.venv/bin/python bench/paint.py [--events N] [--runs R] [--rounds K] [--profile]``
(needs Chromium; see tests/browser/README.md). It builds a graph-shaped trace through the public
API (``sv.Trace.from_events`` of astream_events-shaped events of a LangGraph agent: a root graph,
then supersteps of an ``agent`` node whose chat model streams tokens and a ``tools`` node running
a tool; ``R`` runs and ``N`` events in all), writes its offline page with
``streamviz.export.write_html`` (kept in the temp folder between calls, by size: ``--rebuild``
writes it again) and opens it in Chromium. Per round, in a fresh page:

- ``first paint``: from navigation start to the first animation frame with table rows in the
  page (and ``ready``: to the frame that saw ``body[data-ready=true]``, the boot script done);
- ``table scroll``: p95 and worst gap between animation frames while wheel-scrolling the event
  table (40 wheel steps of 3,000 px, 20 ms apart);
- ``timeline zoom``: the same while wheel-zooming the timeline (15 steps in, 15 out);
- ``filter click``: from a click on the ``chat_model`` type chip to the next frame after the
  count above the table changed (and the same for the click that removes the filter).

``--profile`` records a CPU profile of the page load and the filter click (CDP ``Profiler``) and
prints the functions with the most time. Figures are medians over rounds. ``--baseline DIR``
measures another build of the front-end (``widget.js`` and ``widget.css`` in DIR, e.g. built from
an earlier commit) in turn with this one, round by round, on the same page data. ``--json-form``
measures, in turn with this build's page, the same page with the snapshot's event columns
embedded as JSON lists (the form before binary columns) instead of base64 buffers. ``--lab``
measures the dashboard in JupyterLab instead (see bench/README.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

from labdriver import find_chromium  # noqa: E402

FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def graph_events(n_events: int, n_runs: int) -> list[dict]:
    """astream_events-shaped events of a LangGraph agent: ``n_runs`` runs, ``n_events`` events."""
    steps = max(1, (n_runs - 1) // 4)
    tokens = max(1, (n_events - 2 - steps * 8) // steps)
    rng = random.Random(7)
    events: list[dict] = []
    t = 0.0
    root = "graph"
    meta: dict = {}

    def add(kind, run_id, name, parents, data, tags=(), metadata=meta):
        events.append({"event": kind, "run_id": run_id, "name": name, "parent_ids": parents,
                       "tags": list(tags), "metadata": metadata, "data": data, "t": t})  # fmt: skip

    add("on_chain_start", root, "LangGraph", [], {"input": {"messages": []}})
    for step in range(steps):
        for offset, node in ((1, "agent"), (2, "tools")):
            superstep = 2 * step + offset
            tags = [f"graph:step:{superstep}"]
            node_meta = {"langgraph_step": superstep, "langgraph_node": node}
            node_id = f"{node}-{step}"
            t += rng.random() * 0.002
            add("on_chain_start", node_id, node, [root], {"input": step}, tags, node_meta)
            child = f"{node_id}-inner"
            parents = [root, node_id]
            if node == "agent":
                add("on_chat_model_start", child, "DemoChatModel", parents, {"input": step},
                    tags, node_meta)  # fmt: skip
                for token in range(tokens):
                    t += 0.00002
                    add("on_chat_model_stream", child, "DemoChatModel", parents,
                        {"chunk": f"t{token} "}, tags, node_meta)  # fmt: skip
                add("on_chat_model_end", child, "DemoChatModel", parents, {"output": step},
                    tags, node_meta)  # fmt: skip
            else:
                add("on_tool_start", child, "lookup", parents, {"input": step}, tags, node_meta)
                t += rng.random() * 0.001
                add("on_tool_end", child, "lookup", parents, {"output": step}, tags, node_meta)
            t += rng.random() * 0.001
            add("on_chain_end", node_id, node, [root], {"output": step}, tags, node_meta)
    t += 0.001
    add("on_chain_end", root, "LangGraph", [], {"output": {"messages": []}})
    return events


def json_form_page(page: Path) -> Path:
    """`page` with the snapshot's columns embedded as JSON lists instead of base64 buffers."""
    import base64
    import json

    from streamviz.export import script_json
    from streamviz.widgets._wire import json_events

    def buffers(value):
        if isinstance(value, dict):
            if set(value) == {"$base64"}:
                return base64.b64decode(value["$base64"])
            return {key: buffers(item) for key, item in value.items()}
        return value

    html = page.read_text(encoding="utf-8")
    start = html.index(">", html.index('<script type="application/json" class="sv-state">')) + 1
    end = html.index("</script>", start)
    state = json.loads(html[start:end])
    state["snapshot"]["events"] = json_events(buffers(state["snapshot"]["events"]))
    out = page.with_suffix(".json-form.html")
    out.write_text(html[:start] + script_json(state) + html[end:], encoding="utf-8")
    return out


def page_file(n_events: int, n_runs: int, rebuild: bool, bundle: Path | None = None) -> Path:
    """The offline page of the big trace with the front-end as built now (or the one in `bundle`).

    The page's data is written once per size (building the trace is the slow part); the module
    and stylesheet are put in afresh on each call, so a rebuilt front-end is measured at once.
    """
    import streamviz as sv
    from streamviz.export import script_json, widget_assets, write_html
    from streamviz.widgets import bundle_path

    data = Path(tempfile.gettempdir()) / f"streamviz-paint-{n_events}-{n_runs}.html"
    if rebuild or not data.exists():
        started = time.process_time()
        trace = sv.Trace.from_events(graph_events(n_events, n_runs), name=f"{n_runs:,} runs")
        built = time.process_time() - started
        started = time.process_time()
        write_html(trace, data)
        wrote = time.process_time() - started
        print(
            f"# built {len(trace.events):,} events, {len(trace.runs):,} runs in {built:.1f} s "
            f"CPU; page written in {wrote:.1f} s CPU ({data.stat().st_size / 1e6:.0f} MB)",
            file=sys.stderr,
        )
    html = data.read_text(encoding="utf-8")
    style, scripts = widget_assets()
    if bundle is not None:  # another build of the front-end (e.g. of an earlier commit)
        for name in ("widget.js", "widget.css"):
            ours = bundle_path(name).read_text(encoding="utf-8")
            theirs = (bundle / name).read_text(encoding="utf-8")
            if name == "widget.js":
                scripts = scripts.replace(script_json(ours), script_json(theirs))
            else:
                style = style.replace(ours.replace("</", "<\\/"), theirs.replace("</", "<\\/"))
    head = html.index("</head>")
    css_at = html.rindex("<style>", 0, head)
    body = html.index('<script type="application/json" id="sv-module">')
    page = data.with_suffix(".base.html" if bundle is not None else ".page.html")
    page.write_text(
        f"{html[:css_at]}{style}\n{html[head:body]}{scripts}\n</body>\n</html>\n",
        encoding="utf-8",
    )
    return page


# Recorded in the page (a poll from outside would query the big DOM and slow the load down): when
# the first table rows were in a drawn frame, and when the boot script marked the page ready.
FIRST_PAINT = """
window.__paint = { rows: 0, ready: 0 };
let rows = false, ready = false;
// A task queued from an animation frame runs once that frame was laid out and painted.
const after = (key) => setTimeout(() => { window.__paint[key] = performance.now(); }, 0);
const poll = () => {
  if (!rows && document.querySelector('.sv-tbody .sv-row')) { rows = true; after('rows'); }
  if (!ready && document.body?.dataset.ready === 'true') { ready = true; after('ready'); }
  if (!rows || !ready) requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
"""

GAPS_START = """() => {
  const gaps = (window.__gaps = []);
  let last = performance.now();
  const tick = (now) => { gaps.push(now - last); last = now;
                          if (!window.__stopGaps) requestAnimationFrame(tick); };
  window.__stopGaps = false;
  requestAnimationFrame(tick);
}"""
GAPS_STOP = "() => { window.__stopGaps = true; return window.__gaps; }"

# Click a chip and wait for the count above the table to change, then for the next frame.
CLICK = """async (selector) => {
  const count = document.querySelector('.sv-count');
  const before = count.textContent;
  const started = performance.now();
  document.querySelector(selector).click();
  const changed = await new Promise((resolve) => {
    if (count.textContent !== before) return resolve(performance.now());
    const watch = new MutationObserver(() => {
      if (count.textContent !== before) { watch.disconnect(); resolve(performance.now()); }
    });
    watch.observe(count, { childList: true, characterData: true, subtree: true });
  });
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return { changed: changed - started, painted: performance.now() - started,
           text: count.textContent };
}"""


def summary(gaps: list[float]) -> tuple[float, float]:
    gaps = sorted(gaps)
    return gaps[int(len(gaps) * 0.95)], gaps[-1]


def top_functions(profile: dict, limit: int = 25) -> list[tuple[float, float, str]]:
    """(total ms, self ms, function) of a CDP CPU profile, by total time (callees included)."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}

    def name(node_id: int) -> str:
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url", "").rsplit("/", 1)[-1][:12]
        return f"{frame['functionName'] or '(anon)'} {url}:{frame['lineNumber'] + 1}"

    total: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    samples, deltas = profile.get("samples", []), profile.get("timeDeltas", [])
    for sample, delta in zip(samples, deltas, strict=False):
        own[name(sample)] += delta
        seen = set()
        node_id: int | None = sample
        while node_id is not None:
            label = name(node_id)
            if label not in seen:
                seen.add(label)
                total[label] += delta
            node_id = parent.get(node_id)
    ranked = sorted(
        ((us / 1000, own[label] / 1000, label) for label, us in total.items()), reverse=True
    )
    return ranked[:limit]


def one_round(browser, path: Path, profile: bool) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = None
    if profile:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
    page.add_init_script(FIRST_PAINT)
    page.goto(path.as_uri(), timeout=300_000)
    page.wait_for_function(
        "() => window.__paint?.ready && window.__paint.rows", timeout=300_000, polling=500
    )
    rows_at, ready_at = page.evaluate("() => [window.__paint.rows, window.__paint.ready]")
    if cdp is not None:
        print_profile("page load", cdp.send("Profiler.stop")["profile"])
    page.wait_for_timeout(500)
    result = {"first paint": rows_at, "ready": ready_at}
    interact(page, result, cdp)
    if errors:
        print(f"# page errors: {errors}", file=sys.stderr)
    page.close()
    return result


def interact(page, result: dict[str, float], cdp=None) -> None:
    """Scroll the table, zoom the timeline and click a filter chip; add the figures to `result`."""
    body = page.locator(".sv-tbody").first
    body.scroll_into_view_if_needed()
    box = body.bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 100)
    # The table follows its end: scroll up from there (a check that the wheel moved it).
    before = page.evaluate("() => document.querySelector('.sv-tbody').scrollTop")
    if cdp is not None:
        cdp.send("Profiler.start")
    page.evaluate(GAPS_START)
    for _ in range(40):
        page.mouse.wheel(0, -3_000)
        page.wait_for_timeout(20)
    page.wait_for_timeout(200)
    result["table p95"], result["table worst"] = summary(page.evaluate(GAPS_STOP))
    if cdp is not None:
        print_profile("table scroll", cdp.send("Profiler.stop")["profile"])
    after = page.evaluate("() => document.querySelector('.sv-tbody').scrollTop")
    if before - after < 60_000:
        print(f"# the table did not scroll: {before} -> {after}", file=sys.stderr)

    canvas = page.locator("canvas.sv-timeline-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + min(box["height"] / 2, 200))
    before = canvas.get_attribute("data-range")
    page.evaluate(GAPS_START)
    for step in range(30):
        page.mouse.wheel(0, -240 if step < 15 else 240)
        page.wait_for_timeout(30)
    page.wait_for_timeout(200)
    result["timeline p95"], result["timeline worst"] = summary(page.evaluate(GAPS_STOP))
    if canvas.get_attribute("data-range") == before:
        print(f"# the timeline did not zoom: {before}", file=sys.stderr)

    chip = ".sv-filterbar .sv-chip[data-value='chat_model']"
    page.locator(chip).first.scroll_into_view_if_needed()
    if cdp is not None:
        cdp.send("Profiler.start")
    on = page.evaluate(CLICK, chip)
    page.wait_for_timeout(300)
    off = page.evaluate(CLICK, chip)
    if cdp is not None:
        print_profile("filter clicks", cdp.send("Profiler.stop")["profile"])
    result["filter on"] = on["painted"]
    result["filter off"] = off["painted"]
    print(f"#   filter: {on['text']!r} then {off['text']!r}", file=sys.stderr)


def trace_file(n_events: int, n_runs: int, rebuild: bool) -> Path:
    """The big trace as a Parquet file (written once per size), for a kernel to load."""
    import streamviz as sv

    path = Path(tempfile.gettempdir()) / f"streamviz-paint-{n_events}-{n_runs}.parquet"
    if rebuild or not path.exists():
        trace = sv.Trace.from_events(graph_events(n_events, n_runs), name=f"{n_runs:,} runs")
        trace.save(path)
    return path


# The notebook of a JupyterLab round: load the trace (not measured), show it (measured from the
# click that runs the cell), then note what the kernel spent and sent (after the measurement).
LAB_CELLS = [
    "import json, time\nimport streamviz as sv\nfrom streamviz.widgets import Dashboard\n"
    "trace = sv.Trace.load({path!r})\nNone",
    "_clock = [time.time(), time.process_time()]\n"
    "_w = Dashboard(trace, height=720)\n"
    "_clock += [time.time(), time.process_time()]\n"
    "_w",
    "from ipywidgets.widgets.widget import _remove_buffers\n"
    "_state, _paths, _buffers = _remove_buffers(_w.get_state())\n"
    "_started = time.process_time()\n"
    "_text = json.dumps(_state)\n"
    "_note = {{'cell start': _clock[0], 'widget built': _clock[2],\n"
    "         'encode cpu': _clock[3] - _clock[1],\n"
    "         'state json cpu': time.process_time() - _started,\n"
    "         'state json bytes': len(_text), 'buffer bytes': sum(len(b) for b in _buffers)}}\n"
    "open({note!r}, 'w').write(json.dumps(_note))\nNone",
]

# Run cell `index` of the visible notebook and note when the first table rows were in a frame,
# and when the whole trace was (the header counts all `expected` events: a big trace comes a
# screenful first, the rest as deltas).
LAB_RUN = """([index, expected]) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const output = nb.widgets[index].node;
  const paint = { t0: performance.now(), origin: performance.timeOrigin, rows: 0, complete: 0 };
  window.__paint = paint;
  const whole = `${expected.toLocaleString('en-US')} events`;
  let stats = null;  // the header's counts, once there are rows (then one look a frame)
  const poll = () => {
    if (stats === null && output.querySelector('.sv-tbody .sv-row')) {
      stats = output.querySelector('.sv-stats');
      setTimeout(() => { paint.rows = performance.now(); }, 0);
    }
    if (stats !== null && (stats.textContent || '').includes(whole)) {
      setTimeout(() => { paint.complete = performance.now(); }, 0);
    } else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
  nb.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def run_cell(page, index: int) -> None:
    """Run cell `index` and wait until the kernel has finished it."""
    from labdriver import poll, prompts, wait_kernel_idle

    page.evaluate(
        """(index) => { const nb = window.jupyterapp.shell.currentWidget.content;
                        nb.activeCellIndex = index;
                        return window.jupyterapp.commands.execute('notebook:run-cell'); }""",
        index,
    )
    poll(lambda: "[*]:" not in prompts(page) and prompts(page)[index] != "[ ]:",
         timeout_ms=600_000, message="the cell to run")  # fmt: skip
    wait_kernel_idle(page, timeout_ms=600_000)


def lab_round(
    browser,
    lab,
    trace_path: Path,
    index: int,
    profile: bool,
    expected: int,
    shots: Path | None = None,
) -> dict[str, float]:
    """One JupyterLab round in a fresh notebook (and kernel): show the trace, then interact."""
    import json

    from labdriver import error_outputs, open_notebook, poll

    note = lab.root / f"note-{index}.json"
    name = f"paint-{index}.ipynb"
    lab.write_notebook(
        name, [cell.format(path=str(trace_path), note=str(note)) for cell in LAB_CELLS]
    )
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_notebook(page, lab, name)
    run_cell(page, 0)
    cdp = None
    if profile:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
    page.evaluate(LAB_RUN, [1, expected])
    poll(
        lambda: error_outputs(page) or page.evaluate("() => window.__paint.rows"),
        timeout_ms=300_000,
        interval_ms=500,
        message="the first table rows",
    )
    if error_outputs(page):
        raise RuntimeError(f"the notebook raised: {error_outputs(page)}")
    paint = page.evaluate("() => window.__paint")
    if shots is not None:  # what the page shows soon after its first paint, then whole
        page.screenshot(path=str(shots / f"lab-{index}-first.png"))
    if cdp is not None:
        print_profile("JupyterLab: cell run to first rows", cdp.send("Profiler.stop")["profile"])
        cdp.send("Profiler.start")
    poll(
        lambda: error_outputs(page) or page.evaluate("() => window.__paint.complete"),
        timeout_ms=300_000,
        interval_ms=500,
        message="the whole trace on the page",
    )
    paint = page.evaluate("() => window.__paint")
    if shots is not None:
        page.screenshot(path=str(shots / f"lab-{index}-whole.png"))
    if cdp is not None:
        print_profile(
            "JupyterLab: first rows to the whole trace", cdp.send("Profiler.stop")["profile"]
        )
    run_cell(page, 2)  # the kernel's own figures, noted after the measurement
    kernel = json.loads(note.read_text())
    clicked = paint["origin"] + paint["t0"]  # ms since the epoch, as the kernel's time.time()
    result = {
        "first paint": paint["rows"] - paint["t0"],
        "whole trace drawn": paint["complete"] - paint["t0"],
        "cell start": kernel["cell start"] * 1000 - clicked,
        "widget built": kernel["widget built"] * 1000 - clicked,
        "encode cpu": kernel["encode cpu"] * 1000,
        "state json cpu": kernel["state json cpu"] * 1000,
    }
    print(f"#   kernel: state JSON {kernel['state json bytes'] / 1e6:.1f} MB, "
          f"buffers {kernel['buffer bytes'] / 1e6:.1f} MB", file=sys.stderr)  # fmt: skip
    page.wait_for_timeout(500)
    interact(page, result, cdp)
    if errors or error_outputs(page):
        print(f"# page errors: {errors} {error_outputs(page)}", file=sys.stderr)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    page.close()
    return result


def lab_main(args, chromium: str) -> int:
    """The JupyterLab mode: rounds of a fresh notebook showing the big trace."""
    import pyarrow.parquet
    from labdriver import JupyterLab
    from playwright.sync_api import sync_playwright

    trace_path = trace_file(args.events, args.runs, args.rebuild)
    expected = pyarrow.parquet.ParquetFile(trace_path).metadata.num_rows  # one row an event
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="streamviz-paint-lab-") as home:
        lab = JupyterLab.start(Path(home))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
                for index in range(args.rounds):
                    rounds.append(
                        lab_round(
                            browser,
                            lab,
                            trace_path,
                            index,
                            args.profile and index == 0,
                            expected,
                            args.shots,
                        )
                    )
                    print(f"# round {index + 1}: {rounds[-1]}", file=sys.stderr)
                browser.close()
        finally:
            lab.stop()
    size = f"{args.events:,} events, {args.runs:,} runs"
    print(f"# JupyterLab, {size} ({args.rounds} rounds, medians, ms)\n")
    print("| measure | median | min | max |\n|---|---:|---:|---:|")
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        print(
            f"| {key} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |"
        )
    return 0


def print_profile(phase: str, profile: dict) -> None:
    print(f"# profile, {phase}: total and self time (ms)", file=sys.stderr)
    for total, own, name in top_functions(profile, 40):
        print(f"#   {total:8.1f} {own:8.1f}  {name}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--lab", action="store_true", help="measure the widget in JupyterLab")
    parser.add_argument(
        "--shots", type=Path, help="--lab: a folder for screenshots after first paint and whole"
    )
    parser.add_argument(
        "--json-form",
        action="store_true",
        help="also measure the page with the snapshot's columns as JSON lists, not base64 buffers",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a folder with another build's widget.js and widget.css, measured in turn with this",
    )
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("bench/paint.py: no Chromium found (apt-get install chromium); skipped.")
        return 0
    if args.lab:
        return lab_main(args, chromium)
    from playwright.sync_api import sync_playwright

    pages = {"this build": page_file(args.events, args.runs, args.rebuild)}
    if args.baseline is not None:
        pages = {"baseline": page_file(args.events, args.runs, False, args.baseline), **pages}
    if args.json_form:
        pages = {"JSON form": json_form_page(pages["this build"]), **pages}
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        for index in range(args.rounds):
            for label, path in pages.items():  # side by side: one round of each in turn
                rounds[label].append(one_round(browser, path, args.profile and index == 0))
                print(f"# round {index + 1}, {label}: {rounds[label][-1]}", file=sys.stderr)
        browser.close()
    size = f"{args.events:,} events, {args.runs:,} runs"
    print(f"# Offline page, {size} ({args.rounds} rounds, medians, ms)\n")
    print(f"| measure | {' | '.join(pages)} |")
    print(f"|---|{'---:|' * len(pages)}")
    for key in rounds["this build"][0]:
        cells = " | ".join(
            f"{statistics.median(r[key] for r in rounds[label]):.0f}" for label in pages
        )
        print(f"| {key} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

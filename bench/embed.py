"""How an offline page should embed a big snapshot: its JSON form, or its binary columns as base64.

Run with ``.venv/bin/python bench/embed.py [--events N] [--runs R] [--rounds K]`` (needs
Chromium). It encodes the big graph trace of bench/paint.py, writes two pages that each hold the
widget's snapshot in a JSON script element (one in the JSON form, the lists; one with the binary
wire form's buffers as base64 text), and in Chromium measures per round, in a fresh page:

- ``page``: from navigation start to the end of the page's script (loading and parsing the HTML,
  with its big script element, included);
- ``decode``: ``JSON.parse`` of the state plus, for the base64 page, decoding the buffers
  (``Uint8Array.fromBase64``, typed arrays, one ``TextDecoder`` call and a slice per text): the
  columns ready as the store reads them.

Figures are medians over rounds, in ms; the page sizes are printed too.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))
sys.path.insert(0, str(HERE))

from labdriver import find_chromium  # noqa: E402
from paint import FLAGS, graph_events  # noqa: E402

PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script type="application/json" id="state">{state}</script>
<script>
const started = performance.now();
const state = JSON.parse(document.getElementById("state").textContent);
const events = state.snapshot.events;
const bytes = (value) => Uint8Array.fromBase64(value.$base64);
if (events.us.$base64 !== undefined) {{
  const b = bytes(events.us);
  events.us = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  for (const key of ["kind", "run"]) {{
    const c = bytes(events[key]);
    events[key] = new Int32Array(c.buffer, c.byteOffset, c.byteLength / 4);
  }}
  const whole = new TextDecoder("utf-8", {{ ignoreBOM: true }}).decode(bytes(events.text.utf8));
  const e = bytes(events.text.end);
  const ends = new Uint32Array(e.buffer, e.byteOffset, e.byteLength / 4);
  const texts = new Array(ends.length);
  let at = 0;
  for (let i = 0; i < ends.length; i += 1) {{ texts[i] = whole.slice(at, ends[i]); at = ends[i]; }}
  events.text = texts;
}}
let check = 0;  // read every column once, as the store does
for (let i = 0; i < events.us.length; i += 1) {{
  check += events.us[i] + events.kind[i] + events.run[i] + events.text[i].length;
}}
window.__embed = {{ page: performance.now(), decode: performance.now() - started, check }};
</script></body></html>
"""


def base64_buffers(value):
    """The wire form with every buffer as ``{"$base64": text}``."""
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: base64_buffers(item) for key, item in value.items()}
    return value


def pages(n_events: int, n_runs: int) -> dict[str, Path]:
    import streamviz as sv
    from streamviz.export import script_json
    from streamviz.widgets._encode import TraceEncoder
    from streamviz.widgets._wire import snapshot_to_wire

    trace = sv.Trace.from_events(graph_events(n_events, n_runs), name="embed")
    snapshot = TraceEncoder(trace).snapshot()
    forms = {
        "JSON form": {"snapshot": snapshot},
        "base64 buffers": {"snapshot": base64_buffers(snapshot_to_wire(snapshot))},
    }
    out = {}
    for label, state in forms.items():
        path = Path(tempfile.gettempdir()) / f"streamviz-embed-{label.split()[0]}.html"
        path.write_text(PAGE.format(state=script_json(state)), encoding="utf-8")
        print(f"# {label}: {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        out[label] = path
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("bench/embed.py: no Chromium found; skipped.")
        return 0
    from playwright.sync_api import sync_playwright

    files = pages(args.events, args.runs)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in files}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        for _ in range(args.rounds):
            for label, path in files.items():  # side by side, a round of each in turn
                page = browser.new_page()
                page.goto(path.as_uri(), timeout=300_000)
                page.wait_for_function("() => window.__embed", timeout=300_000, polling=200)
                results[label].append(page.evaluate("() => window.__embed"))
                page.close()
        browser.close()
    print(f"# Embedded snapshot, {args.events:,} events ({args.rounds} rounds, medians, ms)\n")
    print(f"| measure | {' | '.join(files)} |\n|---|{'---:|' * len(files)}")
    for key in ("page", "decode"):
        cells = " | ".join(
            f"{statistics.median(r[key] for r in results[label]):.0f}" for label in files
        )
        print(f"| {key} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

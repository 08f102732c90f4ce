"""A trace's dashboard as one standalone HTML file: no kernel, no server, no network.

The page carries everything it needs: the widget's front-end module and stylesheet (the same
files Jupyter loads, inlined once per page however many dashboards it holds), each widget's
synced state (what a saved notebook keeps: the trace's snapshot, the view, the filters...), and a
small stand-in for the widget model. A Content-Security-Policy forbids every network request, so
what you see is exactly what the file holds, on a plane, in a workshop without Wi-Fi, or years
later. Payloads are data in JSON blocks and reach the page as text only.

:mod:`streamviz.notebook_export` uses the same pieces to turn a whole executed notebook into one
offline page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamviz.otel import to_otel, write_otlp_json  # OpenTelemetry: see streamviz/otel.py

if TYPE_CHECKING:
    from streamviz.trace import Trace

__all__ = ["to_otel", "trace_html", "write_html", "write_otlp_json"]

CSP = (
    "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; connect-src 'none'"
)
"""The Content-Security-Policy of offline pages: inline code and data URLs only, no network."""

_PAGE_STYLE = "body { margin: 16px; font-family: system-ui, sans-serif; }"

# Every `[data-sv-widget]` holds its model's state (a JSON script) and the element to render in.
# The module is imported once; each widget model gets a stand-in, initialized once then rendered
# in each of its views (`data-sv-model` names the model) through the module's default export, as
# anywidget does. A widget that fails to draw says so in
# its place, the others still draw, and the error is raised once all were tried.
_BOOT = """
const source = JSON.parse(document.getElementById("sv-module").textContent);
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const widget = (await import(url)).default;

// The snapshot's binary columns are embedded as {"$base64": text}: back to the DataViews a
// kernel's buffers arrive as (docs/protocol.md, "Binary columns").
const fromBase64 = Uint8Array.fromBase64
  ?? ((text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0)));
function withBuffers(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && typeof value.$base64 === "string") {
    const bytes = fromBase64(value.$base64);
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  for (const key of keys) value[key] = withBuffers(value[key]);
  return value;
}

function standIn(state) {
  if (state.snapshot?.events) state.snapshot.events = withBuffers(state.snapshot.events);
  const listeners = new Map();
  return {
    get: (name) => state[name],
    set: (name, value) => {
      state[name] = value;
      for (const callback of listeners.get(`change:${name}`) ?? []) callback();
    },
    save_changes: () => {},
    send: () => {},  // no kernel: the views show what the saved state holds
    on: (name, callback) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(callback);
    },
    off: (name, callback) => {
      if (name === undefined) listeners.clear();
      else if (callback === undefined) listeners.delete(name);
      else listeners.get(name)?.delete(callback);
    },
  };
}

const failures = [];
const models = new Map();  // views of one widget model share it, as in Jupyter
for (const holder of document.querySelectorAll("[data-sv-widget]")) {
  const mount = holder.querySelector(".sv-mount");
  try {
    const key = holder.dataset.svModel;
    let model = key ? models.get(key) : undefined;
    if (model === undefined) {
      model = standIn(JSON.parse(holder.querySelector("script.sv-state").textContent));
      await widget.initialize?.({ model });
      if (key) models.set(key, model);
    }
    await widget.render({ model, el: mount });
  } catch (error) {
    failures.push(error);
    mount.textContent = `streamviz: this dashboard could not be drawn (${error}).`;
    holder.dataset.svError = "true";
  }
}
document.body.dataset.ready = "true";
if (failures.length) throw failures[0];
"""


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` can end it early)."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def front_end_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """What a page's stand-in model needs of a widget's synced state.

    Every synced trait of the widget is kept (so a trait added to the widget reaches offline pages
    without a change here) except the module and stylesheet (inlined once per page) and the
    traits every ipywidgets DOM widget has (model and view names, layout, classes, tooltip).
    ``live`` is false: nothing follows the trace in a page. The snapshot's binary columns (bytes,
    as ``get_state`` gives them) are embedded as ``{"$base64": text}``, which the page turns back
    into buffers: faster for a page than the same columns as JSON lists (docs/benchmarks.md, "The
    kernel → page data path").
    """
    import ipywidgets

    private = {*ipywidgets.DOMWidget.class_trait_names(sync=True), "_esm", "_css"}
    kept = {name: value for name, value in state.items() if name not in private}
    snapshot = kept.get("snapshot")
    if isinstance(snapshot, Mapping) and isinstance(snapshot.get("events"), Mapping):
        kept["snapshot"] = {**snapshot, "events": _embedded(snapshot["events"])}
    kept["live"] = False
    return kept


def _embedded(value: Any) -> Any:
    """``value`` with every buffer (bytes) as ``{"$base64": text}``, inside dicts."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {key: _embedded(item) for key, item in value.items()}
    return value


def trace_state(trace: Trace, *, view: str = "dashboard", height: int = 720) -> dict[str, Any]:
    """The front-end state of a widget showing ``trace`` as ``view`` (a real widget's state)."""
    from streamviz.widgets import TraceWidget

    widget = TraceWidget(trace, view=view, height=height)
    try:
        widget.settle()  # the whole trace (a big one's first snapshot holds its first events)
        return front_end_state(widget.get_state())
    finally:
        widget.layout.close()
        widget.close()


def widget_block(
    state: Mapping[str, Any], *, label: str, model: str = "", mount_id: str | None = None
) -> str:
    """The HTML of one view of a widget in a page: its state as JSON, and where it renders.

    Views with the same ``model`` key (a notebook's model id) share one model in the page.
    """
    mount = f' id="{escape(mount_id)}"' if mount_id else ""
    return (
        f'<div class="sv-export" data-sv-widget data-sv-model="{escape(model)}">'
        f'<script type="application/json" class="sv-state">{script_json(dict(state))}</script>'
        f'<div class="sv-mount"{mount} aria-label="{escape(label)}"></div>'
        "</div>"
    )


def _bundle() -> tuple[str, str]:
    from streamviz.widgets import bundle_path

    module, css = bundle_path("widget.js"), bundle_path("widget.css")
    if not module.is_file():
        raise RuntimeError("the widget front-end is not built: run `make setup` (needs npm)")
    return module.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")


def widget_assets() -> tuple[str, str]:
    """The ``<style>`` and the ``<script>``s a page of widgets needs, once per page.

    The first goes in the head; the second after the last widget (it draws them all).
    """
    module, css = _bundle()
    css = css.replace("</", "<\\/")  # no `</style>` in it can end the element early
    style = f"<style>\n{css}\n</style>"
    scripts = (
        f'<script type="application/json" id="sv-module">{script_json(module)}</script>\n'
        f'<script type="module">{_BOOT}</script>'
    )
    return style, scripts


def trace_html(trace: Trace, *, view: str = "dashboard", height: int = 720) -> str:
    """The standalone HTML page of ``trace`` shown as ``view`` (see :func:`write_html`)."""
    from streamviz.widgets import VIEWS

    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    style, scripts = widget_assets()
    state = trace_state(trace, view=view, height=height)
    title = escape(trace.name or "streamviz trace")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · streamviz</title>\n"
        f"<style>\n{_PAGE_STYLE}\n</style>\n{style}\n"
        "</head>\n<body>\n"
        f"{widget_block(state, label=trace.name or 'streamviz trace', mount_id='sv')}\n"
        f"{scripts}\n"
        "</body>\n</html>\n"
    )


def write_html(
    trace: Trace, path: str | Path, *, view: str = "dashboard", height: int = 720
) -> Path:
    """Write ``trace``'s dashboard (or another ``view``) as a standalone, offline HTML file.

    The file needs no kernel, server or network: open it in any modern browser. To turn a whole
    executed notebook into such a page, use ``python -m streamviz export NOTEBOOK.ipynb``.
    """
    path = Path(path)
    path.write_text(trace_html(trace, view=view, height=height), encoding="utf-8")
    return path

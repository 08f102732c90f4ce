"""A trace's dashboard as one standalone HTML file: no kernel, no server, no network.

The page carries everything it needs: the widget's front-end module and stylesheet (the same
files Jupyter loads), the trace's snapshot (the durable state a saved notebook keeps), and a
small stand-in for the widget model. A Content-Security-Policy forbids every network request, so
what you see is exactly what the file holds, on a plane, in a workshop without Wi-Fi, or years
later. Payloads are data in a JSON block and reach the page as text only.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamviz.trace import Trace

__all__ = ["trace_html", "write_html"]

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; connect-src 'none'"
)

_PAGE_STYLE = "body { margin: 16px; font-family: system-ui, sans-serif; }"

_BOOT = """
const state = JSON.parse(document.getElementById("sv-state").textContent);
const source = JSON.parse(document.getElementById("sv-module").textContent);
const listeners = new Map();
const model = {
  get: (name) => state[name],
  set: (name, value) => {
    state[name] = value;
    for (const callback of listeners.get(`change:${name}`) ?? []) callback();
  },
  save_changes: () => {},
  send: () => {},  // no kernel: the views show what the snapshot holds
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
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const widget = (await import(url)).default;
await widget.initialize?.({ model });
await widget.render({ model, el: document.getElementById("sv") });
document.body.dataset.ready = "true";
"""


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` can end it early)."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def trace_html(trace: Trace, *, view: str = "dashboard", height: int = 720) -> str:
    """The standalone HTML page of ``trace`` shown as ``view`` (see :func:`write_html`)."""
    from streamviz.widgets._encode import TraceEncoder
    from streamviz.widgets._widget import VIEWS, bundle_path

    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    module, css = bundle_path("widget.js"), bundle_path("widget.css")
    if not module.is_file():
        raise RuntimeError("the widget front-end is not built: run `make setup` (needs npm)")
    state = {
        "view": view,
        "snapshot": TraceEncoder(trace).snapshot(),
        "live": False,
        "selected_run": "",
        "filters": {
            **{
                f"{way}_{what}": []
                for way in ("include", "exclude")
                for what in ("names", "types", "tags")
            },
            "kinds": [],
            "search": "",
        },
        "height": height,
    }
    title = escape(trace.name or "streamviz trace")
    styles = css.read_text(encoding="utf-8").replace("</", "<\\/")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · streamviz</title>\n"
        f"<style>\n{_PAGE_STYLE}\n{styles}\n</style>\n"
        "</head>\n<body>\n"
        f'<div id="sv" aria-label="{title}"></div>\n'
        f'<script type="application/json" id="sv-state">{_script_json(state)}</script>\n'
        '<script type="application/json" id="sv-module">'
        f"{_script_json(module.read_text(encoding='utf-8'))}</script>\n"
        f'<script type="module">{_BOOT}</script>\n'
        "</body>\n</html>\n"
    )


def write_html(
    trace: Trace, path: str | Path, *, view: str = "dashboard", height: int = 720
) -> Path:
    """Write ``trace``'s dashboard (or another ``view``) as a standalone, offline HTML file.

    The file needs no kernel, server or network: open it in any modern browser.
    """
    path = Path(path)
    path.write_text(trace_html(trace, view=view, height=height), encoding="utf-8")
    return path

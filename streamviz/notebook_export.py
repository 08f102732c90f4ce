"""An executed notebook as one HTML page whose streamviz dashboards work offline.

``python -m streamviz export NOTEBOOK.ipynb -o page.html`` (or :func:`export_notebook`) renders
the notebook with nbconvert's HTMLExporter (its ``lab`` template: markdown, code, text and image
outputs look as in ``jupyter nbconvert --to html``) and swaps every output that shows a streamviz
widget for the same offline dashboard :func:`streamviz.export.write_html` draws: the widget's
saved state (``metadata.widgets``, as JupyterLab and nbclient save it) in a JSON block, the
front-end module and stylesheet inlined once per page. The page loads nothing: no require.js, no
widget embedder, MathJax or Mermaid from a CDN (math and diagrams show as their source), and a
Content-Security-Policy forbids every network request.

- A widget output that holds streamviz widgets inside other widgets (the replay player's
  controls around its dashboard, a ``VBox`` of timelines) shows those dashboards; the controls
  need a kernel and are left out.
- A widget output whose state was not saved shows a message saying how to save it.
- A big trace's dashboard saved before the rest of its trace arrived (its snapshot holds fewer
  events than its ``total``: docs/protocol.md) says above it how many of them it shows.
- Other widgets fall back to their text, as in nbconvert's HTML.

nbconvert is in the ``export`` extra (``pip install 'streamviz[export]'``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from streamviz.export import CSP, front_end_state, widget_assets, widget_block

__all__ = ["MISSING_STATE", "PARTIAL_STATE", "export_notebook", "notebook_html"]

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
OFFLINE_VIEW = "application/vnd.streamviz.offline-view+html"
"""The output type the preprocessor gives swapped outputs: ready HTML for the template."""

MISSING_STATE = (
    "This interactive widget{kind} was saved without its state, so it cannot be drawn here. "
    "To keep it, turn on widget-state saving and save the notebook after running it: in "
    'JupyterLab, Settings → Widgets → "Save Jupyter widget state in notebooks" (make demo '
    "turns it on), or run it headless with `jupyter nbconvert --to notebook --execute "
    "--inplace NOTEBOOK.ipynb`. Then export it again."
)

PARTIAL_STATE = (
    "Showing {count:,} of {total:,} events: this notebook was saved before the rest of the trace "
    "arrived. Run the cell again and save the notebook once it has finished, then export it again."
)

_STYLE = """
.sv-export { margin: 2px 0; }
.sv-export-missing {
  padding: 8px 12px; border-left: 4px solid var(--jp-warn-color1, #d97706);
  background: var(--jp-layout-color2, #f3f4f6); color: var(--jp-ui-font-color1, #1f2937);
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); white-space: normal;
}
"""

_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{#- nbconvert's lab page without anything it would fetch, plus the streamviz dashboards. -#}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.streamviz.csp }}">
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style>{{ resources.streamviz.page_style }}</style>
{{ resources.streamviz.widget_style }}
{%- endblock html_head_css -%}
{%- block data_other scoped -%}
{#- (the display loop's `type` is not visible in this block) -#}
{%- set offline = 'application/vnd.streamviz.offline-view+html' -%}
{%- if offline in output.data %}
<div class="jp-OutputArea-output sv-export-output" data-mime-type="{{ offline }}">
{{ output.data[offline] }}
</div>
{%- endif -%}
{%- endblock data_other -%}
{%- block footer_js -%}
{{ resources.streamviz.widget_scripts }}
{%- endblock footer_js -%}
"""
_TEMPLATE_NAME = "streamviz_offline.html.j2"


def _is_streamviz(state: Mapping[str, Any]) -> bool:
    return state.get("_model_module") == "anywidget" and str(
        state.get("_anywidget_id", "")
    ).startswith("streamviz.widgets._widget.")


def _streamviz_states(
    states: Mapping[str, Any], model_id: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """The streamviz widgets shown by ``model_id`` (id, state): itself, or those inside it."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or not isinstance(states.get(key), Mapping):
            return
        seen.add(key)
        state = states[key]
        if _is_streamviz(state):
            found.append((key, state))
            return
        children = state.get("children")
        for child in children if isinstance(children, list) else []:
            if isinstance(child, str):
                visit(child.removeprefix("IPY_MODEL_"))

    visit(model_id)
    return found


def _missing(output_data: Mapping[str, Any]) -> str:
    plain = output_data.get("text/plain", "")
    plain = "".join(plain) if isinstance(plain, list) else str(plain)
    kind = re.match(r"<?([A-Za-z_]\w*)", plain)
    text = MISSING_STATE.format(kind=f" ({kind.group(1)})" if kind else "")
    return f'<div class="sv-export-missing" role="note">{escape(text)}</div>'


def _partial(state: Mapping[str, Any]) -> str:
    """A note above a dashboard saved with the first events of its trace only, else ``""``."""
    snapshot = state.get("snapshot")
    if not isinstance(snapshot, Mapping):
        return ""
    count, total = snapshot.get("count"), snapshot.get("total")
    if not isinstance(count, int) or not isinstance(total, int) or total <= count:
        return ""
    text = PARTIAL_STATE.format(count=count, total=total)
    return f'<div class="sv-export-missing sv-export-partial" role="note">{escape(text)}</div>'


def _offline_preprocessor() -> Any:
    from nbconvert.preprocessors import Preprocessor

    class OfflineWidgets(Preprocessor):
        """Swap widget outputs for offline dashboards (or a message); drop the saved state.

        Sets ``resources["streamviz"]``: what the template adds to the page (the CSP, the
        stylesheet and the scripts, the last two only when the page holds a dashboard) and the
        counts ``dashboards`` and ``missing``.
        """

        def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            from streamviz.widgets._wire import saved_buffers

            saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
            states = {
                key: saved_buffers(model)  # the snapshot's binary columns back in place
                for key, model in saved.items()
                if isinstance(model, Mapping) and isinstance(model.get("state"), Mapping)
            }
            dashboards = missing = 0
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    data = output.get("data", {})
                    view = data.get(WIDGET_VIEW)
                    if view is None:
                        continue
                    model_id = view.get("model_id") if isinstance(view, Mapping) else None
                    if not isinstance(model_id, str) or model_id not in states:
                        output["data"] = {OFFLINE_VIEW: _missing(data)}
                        missing += 1
                        continue
                    shown = _streamviz_states(states, model_id)
                    if not shown:  # another library's widget: its text, as nbconvert shows it
                        del data[WIDGET_VIEW]
                        continue
                    blocks = []
                    for key, state in shown:
                        name = (state.get("snapshot") or {}).get("name") or "streamviz trace"
                        label = str(f"{name} ({state.get('view', 'dashboard')})")
                        if note := _partial(state):
                            blocks.append(note)
                        blocks.append(widget_block(front_end_state(state), label=label, model=key))
                    output["data"] = {OFFLINE_VIEW: "\n".join(blocks)}
                    dashboards += len(shown)
            nb.metadata.pop("widgets", None)  # nbconvert would embed it for its CDN embedder
            style, scripts = widget_assets() if dashboards else ("", "")
            resources["streamviz"] = {
                "csp": CSP,
                "page_style": _STYLE,
                "widget_style": style,
                "widget_scripts": scripts,
                "dashboards": dashboards,
                "missing": missing,
            }
            return nb, resources

    return OfflineWidgets()


def _require_nbconvert() -> None:
    import importlib.util

    if not all(importlib.util.find_spec(name) for name in ("nbconvert", "nbformat")):
        raise RuntimeError("exporting a notebook needs nbconvert: pip install 'streamviz[export]'")


def notebook_html(notebook: Any, *, name: str = "notebook", path: str | Path = ".") -> tuple[
    str, dict[str, int]
]:  # fmt: skip
    """The offline HTML page of an executed ``notebook`` (an nbformat v4 ``NotebookNode``).

    ``name`` is the page title (unless the notebook's metadata has one) and ``path`` the folder
    relative images of markdown cells are read from (they are embedded). Returns the page and
    the counts ``{"dashboards": ..., "missing": ...}``.
    """
    _require_nbconvert()
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    priority = HTMLExporter().default_config.NbConvertBase.display_data_priority
    config = Config()
    config.NbConvertBase.display_data_priority = [OFFLINE_VIEW, *priority]
    config.HTMLExporter.template_name = "lab"
    config.HTMLExporter.embed_images = True  # markdown images that are local files
    exporter = HTMLExporter(
        config=config,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    exporter.register_preprocessor(_offline_preprocessor(), enabled=True)
    html, resources = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": name, "path": str(path)}}
    )
    counts = {key: resources["streamviz"][key] for key in ("dashboards", "missing")}
    return html, counts


def export_notebook(source: str | Path, target: str | Path | None = None) -> tuple[
    Path, dict[str, int]
]:  # fmt: skip
    """Write the offline page of the notebook file ``source`` to ``target``.

    ``target`` defaults to ``source`` with the suffix ``.html``. Returns the path written and the
    counts of :func:`notebook_html`.
    """
    _require_nbconvert()
    import nbformat

    source = Path(source)
    target = Path(target) if target is not None else source.with_suffix(".html")
    notebook = nbformat.read(source, as_version=4)
    html, counts = notebook_html(notebook, name=source.stem, path=source.resolve().parent)
    target.write_text(html, encoding="utf-8")
    return target, counts

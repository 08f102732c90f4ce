"""Command line: ``python -m streamviz demo`` opens the tour notebook in JupyterLab, offline.

- ``streamviz demo``: JupyterLab on ``notebooks/00_tour.ipynb`` with widget-state saving on (the
  browser opens when there is a display; the URL of the tour is printed either way, with the SSH
  port forward that reaches it, and JupyterLab's log goes to a file; see ``streamviz/_lab.py``).
- ``streamviz demo --console``: stream the guide's parrot-joke chain here and print the run tree.
- ``streamviz demo --html PATH``: write the dashboard of that chain's trace as a standalone HTML
  page that works offline.
- ``streamviz export NOTEBOOK.ipynb -o PAGE.html``: an executed notebook (saved with its widget
  state) as one HTML page whose dashboards work offline (needs nbconvert: the ``export`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

TOUR = "00_tour.ipynb"

__all__ = ["main"]


def _notebooks() -> Path | None:
    """The repository's notebooks folder (the demo runs from a source checkout)."""
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (base / "notebooks" / TOUR).is_file():
            return base / "notebooks"
    return None


def _lab(args: argparse.Namespace) -> int:
    notebooks = _notebooks()
    if notebooks is None:
        print(f"streamviz demo: notebooks/{TOUR} not found; run it from a streamviz checkout, or "
              "use `streamviz demo --console` / `--html PATH`.", file=sys.stderr)  # fmt: skip
        return 2
    if importlib.util.find_spec("jupyterlab") is None:
        print("streamviz demo: JupyterLab is not installed (`pip install jupyterlab`, or "
              "`make demo` in the checkout, which installs it).", file=sys.stderr)  # fmt: skip
        return 2
    from streamviz._lab import run_lab

    display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return run_lab(
        notebooks,
        TOUR,
        port=args.port,
        browser=display and not args.no_browser,
        state=args.state_dir,
    )


def _html(args: argparse.Namespace) -> int:
    from streamviz.export import write_html

    trace = _parrot_trace(fast=args.fast, quiet=True)
    path = write_html(trace, args.html)
    print(f"Wrote {path} ({path.stat().st_size:,} bytes): the dashboard of the parrot-joke chain, "
          "one file, works offline.")  # fmt: skip
    return 0


def _parrot_trace(*, fast: bool, quiet: bool) -> Any:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    import streamviz as sv
    from streamviz.demo import DemoChatModel

    timing = {"time_to_first_token": 0.0, "token_delay": 0.0} if fast else {}
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    chain = prompt | DemoChatModel(**timing) | StrOutputParser()
    collector = sv.Collector(name="parrot joke")

    async def stream() -> None:
        async for chunk in collector.astream(chain, {"topic": "parrot"}):
            if not quiet:
                print(chunk, end="|", flush=True)

    asyncio.run(stream())
    return collector.trace


def _demo(args: argparse.Namespace) -> int:
    if args.html:
        return _html(args)
    if not args.console:
        return _lab(args)
    print("prompt | DemoChatModel | StrOutputParser, streamed with astream:\n")
    trace = _parrot_trace(fast=args.fast, quiet=False)
    print("\n\nRun tree (status, duration, time to first chunk, chunks):\n")
    print(trace.format_tree())
    model_run = next(run for run in trace.runs.values() if run.run_type == "chat_model")
    print(
        f"\n{len(trace.events)} events captured; the model's first token came after "
        f"{model_run.time_to_first_chunk * 1000:.0f} ms, the last after "
        f"{(model_run.last_chunk - model_run.start) * 1000:.0f} ms."
    )
    if args.save:
        trace.save(args.save)
        print(f"Trace saved to {args.save}; load it with streamviz.Trace.load({args.save!r}).")
    return 0


def _export(args: argparse.Namespace) -> int:
    from streamviz.notebook_export import export_notebook

    try:
        path, counts = export_notebook(args.notebook, args.output)
    except (OSError, RuntimeError, ValueError) as error:  # unreadable, not built, not a notebook
        print(f"streamviz export: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {path} ({path.stat().st_size:,} bytes): {counts['dashboards']} streamviz "
          "dashboards, one file, works offline.")  # fmt: skip
    if counts["missing"]:
        print(f"streamviz export: {counts['missing']} widget outputs were saved without their "
              "state and show a note instead; see the page for how to save the state.",
              file=sys.stderr)  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streamviz`` command."""
    parser = argparse.ArgumentParser(prog="streamviz", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="the tour notebook in JupyterLab, or the parrot-joke chain (--console, --html)"
    )
    demo.add_argument(
        "--console",
        action="store_true",
        help="stream the chain here and print the run tree (no JupyterLab)",
    )
    demo.add_argument(
        "--html",
        metavar="PATH",
        help="write the chain's dashboard as a standalone offline HTML page",
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument("--port", type=int, default=0, help="JupyterLab port (default: a free one)")
    demo.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where the demo keeps its JupyterLab settings, workspaces and log "
        "(default: $XDG_STATE_HOME/streamviz/demo, i.e. ~/.local/state/streamviz/demo)",
    )
    demo.add_argument("--fast", action="store_true", help="no simulated model latency")
    demo.add_argument("--save", metavar="PATH", help="also save the trace as JSONL (--console)")
    export = commands.add_parser(
        "export",
        help="an executed notebook as one HTML page whose dashboards work offline",
        description="Turn an executed notebook, saved with its widget state, into one HTML page "
        "(nbconvert's, with every streamviz dashboard interactive) that needs no kernel, server "
        "or network.",
    )
    export.add_argument("notebook", help="the .ipynb file")
    export.add_argument(
        "-o", "--output", metavar="PAGE", help="the HTML file to write (default: NOTEBOOK.html)"
    )
    args = parser.parse_args(argv)
    return _export(args) if args.command == "export" else _demo(args)


if __name__ == "__main__":
    sys.exit(main())

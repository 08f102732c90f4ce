"""A real ``langgraph dev`` server on the example graphs, for tests and benchmarks.

- :func:`prepare_app` copies ``notebooks/langgraph`` (``langgraph.json``, ``graphs.py``,
  ``auth.py``) into a fresh directory, where the server keeps its state (``.langgraph_api/``),
  and adds ``model_fast``: the model graph without delays, so tests do not wait for tokens, and
  ``approval`` (``interrupt()``), ``fanout`` (``Send``) and ``tool_agent`` (streamed tool calls)
  from :mod:`streamviz.demo.graphs`, and ``stalling`` (a model with jitter and a scripted stall).
- :meth:`LangGraphServer.start` runs the CLI from the venv (``sys.executable``'s ``bin/``)
  offline, on a free loopback port, in a new session (its own process group), and waits until
  ``GET /ok`` answers. The CLI moves silently to another port when the one asked for is busy, so
  the URL is the one the server reports in its log, checked against the port asked for.
- :meth:`LangGraphServer.stop` ends the process group: SIGTERM, then SIGKILL.
  The log is kept in ``test-artifacts/langgraph/<name>.log``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from streamviz.demo.server import LangGraphServer as _Server

REPO = Path(__file__).resolve().parents[1]
APP_DIR = REPO / "notebooks" / "langgraph"
ARTIFACTS = REPO / "test-artifacts" / "langgraph"
FAST_GRAPHS = '''"""Test-only graphs: the model graph without token delays; interrupt() and Send."""

from typing_extensions import TypedDict

from langgraph.graph import START, StateGraph

from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import approval_graph, build_model_graph, fanout_graph, tool_agent_graph

model_fast = build_model_graph(time_to_first_token=0, token_delay=0)

# A model with jittery tokens (60) and one scripted stall (0.6 s before token 40).
STALLING_ANSWER = " ".join(f"word{index}" for index in range(30))
stalling_model = DemoChatModel(
    time_to_first_token=0.05, token_delay=0.02, jitter=0.3, seed=7, pauses={40: 0.6},
    responses=[STALLING_ANSWER],
)


class StallingState(TypedDict, total=False):
    question: str
    answer: str


def answer(state: StallingState) -> dict:
    return {"answer": stalling_model.invoke(state["question"]).content}


stalling = (
    StateGraph(StallingState).add_node("answer", answer).add_edge(START, "answer")
    .compile(name="stalling")
)
'''


def prepare_app(directory: Path, *, auth: bool = False) -> Path:
    """Copy the example app into ``directory`` (created); return its ``langgraph.json``.

    With ``auth`` the config is ``langgraph-auth.json`` (custom auth from ``auth.py``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("graphs.py", "auth.py"):
        shutil.copy(APP_DIR / name, directory / name)
    (directory / "fast_graphs.py").write_text(FAST_GRAPHS)
    source = APP_DIR / ("langgraph-auth.json" if auth else "langgraph.json")
    config = json.loads(source.read_text())
    config["graphs"]["model_fast"] = "./fast_graphs.py:model_fast"
    config["graphs"]["approval"] = "./fast_graphs.py:approval_graph"
    config["graphs"]["fanout"] = "./fast_graphs.py:fanout_graph"
    config["graphs"]["tool_agent"] = "./fast_graphs.py:tool_agent_graph"
    config["graphs"]["stalling"] = "./fast_graphs.py:stalling"
    target = directory / "langgraph.json"
    target.write_text(json.dumps(config, indent=2))
    return target


class LangGraphServer(_Server):
    """``streamviz.demo.server.LangGraphServer`` with the test app and logs in test-artifacts."""

    @classmethod
    def start(cls, workdir: Path, *, name: str = "server", auth: bool = False, **options):
        prepare_app(workdir, auth=auth)
        return super().start(workdir, name=name, log_dir=ARTIFACTS, **options)

"""Errors of the watched program point at the user's code, not at streamviz's.

The rule checked on the traceback a caller catches (``traceback.extract_tb``): it runs from the
caller's own frame to the frame that raised, and holds no frame of the streamviz package
(``streamviz/demo``, example code users run, excepted), so the frame right after the caller's
is LangChain's, LangGraph's or the SDK's, also when a synchronous entry point runs an async one
on an event loop (``sv.watch(..., use_async=True)``, ``sv.watch_remote`` with an async client).
The exception itself is the program's, unchanged but for streamviz's note.
A bare ``raise`` re-raises a changed ``__traceback__`` only since Python 3.11.
"""

from __future__ import annotations

import asyncio
import re
import sys
import traceback
from pathlib import Path
from typing import TypedDict

import httpx
import pytest
from examples import EXAMPLES, joke_prompt, model
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from notebook_runs import execute_cells

import streamviz as sv
from streamviz.demo.server import free_port

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="a bare raise keeps the caught traceback before 3.11"
)

PACKAGE = Path(sv.__file__).resolve().parent
NOTE = "streamviz: what was captured is in streamviz.last_trace()"
ASYNC_HINT = "streamviz: for async-only runnables use sv.watch(..., use_async=True)"


def is_streamviz(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(PACKAGE) and not path.is_relative_to(PACKAGE / "demo")


def frames(error: BaseException) -> list[tuple[str, str, bool]]:
    """(file, function, hidden) of each frame of the error's traceback, the caller's first."""
    out = []
    entry = error.__traceback__
    while entry is not None:
        code = entry.tb_frame.f_code
        hidden = bool(entry.tb_frame.f_locals.get("__tracebackhide__", False))
        out.append((code.co_filename, code.co_name, hidden))
        entry = entry.tb_next
    assert [(f, n) for f, n, _ in out] == [
        (f.filename, f.name) for f in traceback.extract_tb(error.__traceback__)
    ]
    return out


def assert_points_at_the_program(
    error: BaseException, caller: str, raiser: str, first: str
) -> None:
    """The rule of this module, from the frame of ``caller`` (the function calling streamviz).

    ``first``: the package of the frame right after it.
    """
    seen = frames(error)
    at = next(i for i, (f, name, _) in enumerate(seen) if f == __file__ and name == caller)
    rest = seen[at + 1 :]
    assert not [f for f in rest if is_streamviz(f[0])], "\n".join(f"{f} {n}" for f, n, _ in rest)
    assert first in Path(rest[0][0]).parts, rest[0]
    assert rest[-1][1] == raiser


def _collect_stream(runnable, value):
    for _ in sv.Collector().stream(runnable, value):
        pass


async def _collect_astream(runnable, value):
    async for _ in sv.Collector().astream(runnable, value):
        pass


async def _await_awatch(runnable, value):
    await sv.awatch(runnable, value, display=False)


def _watch(runnable, value):
    sv.watch(runnable, value, display=False)


def _watch_async(runnable, value):
    sv.watch(runnable, value, display=False, use_async=True)


# (how the chain is run, the function calling streamviz, the user's function that raises)
WAYS = {
    "sv.watch": (_watch, "_watch", "_explode_after_three"),
    "sv.watch use_async": (_watch_async, "_watch_async", "_aexplode_after_three"),
    "sv.awatch": (
        lambda *args: asyncio.run(_await_awatch(*args)),
        "_await_awatch",
        "_aexplode_after_three",
    ),
    "Collector.stream": (_collect_stream, "_collect_stream", "_explode_after_three"),
    "Collector.astream": (
        lambda *args: asyncio.run(_collect_astream(*args)),
        "_collect_astream",
        "_aexplode_after_three",
    ),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_an_error_mid_stream_is_shown_from_the_callers_line_into_the_users_step(way):
    run, caller, raiser = WAYS[way]
    runnable, value = EXAMPLES["error mid-stream"]()
    with pytest.raises(ValueError, match="the stream broke after three tokens") as raised:
        run(runnable, value)
    assert_points_at_the_program(raised.value, caller, raiser, "langchain_core")
    # raised with nothing being handled, as when the chain runs without streamviz
    assert raised.value.__context__ is None and raised.value.__cause__ is None
    if way.startswith("sv."):
        assert raised.value.__notes__ == [NOTE]
        assert sv.last_trace().roots[0].status == "error"


def test_the_exception_is_the_programs_own_with_its_cause_and_context():
    made: dict[str, BaseException] = {}

    def to_number(text: str) -> int:
        try:
            return int(text)
        except ValueError as error:
            made["cause"] = error
            made["error"] = RuntimeError("the model did not answer with a number")
            raise made["error"] from error

    chain = joke_prompt() | model() | StrOutputParser() | RunnableLambda(to_number)
    with pytest.raises(RuntimeError) as raised:
        _watch(chain, {"topic": "parrot"})
    error = raised.value
    assert error is made["error"]
    assert type(error) is RuntimeError and str(error) == "the model did not answer with a number"
    assert error.__cause__ is made["cause"] and error.__context__ is made["cause"]
    assert error.__suppress_context__
    assert error.__notes__ == [NOTE]
    assert_points_at_the_program(error, "_watch", "to_number", "langchain_core")
    # the cause keeps its own traceback: where int() failed, in the user's function
    assert traceback.extract_tb(made["cause"].__traceback__)[-1].name == "to_number"


def test_an_error_of_streamviz_itself_keeps_its_whole_traceback():
    with pytest.raises(AttributeError) as raised:
        sv.watch(object(), "not a runnable", display=False)
    innermost = frames(raised.value)[-1]
    assert is_streamviz(innermost[0]) and innermost[1] == "stream"  # Collector.stream


class Joke(TypedDict):
    topic: str
    joke: str


async def write_joke(state: Joke) -> dict[str, str]:
    return {"joke": f"a joke about {state['topic']}"}


def async_joke_graph():
    graph = StateGraph(Joke)
    graph.add_node("write_joke", write_joke)
    graph.add_edge(START, "write_joke")
    graph.add_edge("write_joke", END)
    return graph.compile()


def test_a_sync_watch_of_a_graph_with_async_nodes_says_to_use_use_async():
    with pytest.raises(TypeError, match="No synchronous function provided") as raised:
        _watch(async_joke_graph(), {"topic": "cats"})
    assert raised.value.__notes__[-2:] == [NOTE, ASYNC_HINT]
    assert_points_at_the_program(raised.value, "_watch", "invoke", "langgraph")
    trace = sv.watch(async_joke_graph(), {"topic": "cats"}, display=False, use_async=True)
    assert trace.result == {"topic": "cats", "joke": "a joke about cats"}


def test_langchains_own_async_only_error_gets_the_hint_too():
    runnable, value = EXAMPLES["RunnableLambda nesting"]()
    with pytest.raises(TypeError, match="coroutine function synchronously") as raised:
        sv.watch(runnable, value, display=False)
    assert raised.value.__notes__ == [NOTE, ASYNC_HINT]


# A server nobody listens on: the SDK's request fails in httpx (no retries: it fails at once).
def _nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _watch_remote_sync() -> None:
    http = httpx.Client(base_url=_nowhere(), transport=httpx.HTTPTransport(retries=0))
    with SyncLangGraphClient(http) as client:
        sv.watch_remote(client, None, "joke", input={"topic": "x"}, display=False)


def _watch_remote_async_client() -> None:
    http = httpx.AsyncClient(base_url=_nowhere(), transport=httpx.AsyncHTTPTransport(retries=0))
    sv.watch_remote(LangGraphClient(http), None, "joke", input={"topic": "x"}, display=False)


async def _awatch_remote() -> None:
    http = httpx.AsyncClient(base_url=_nowhere(), transport=httpx.AsyncHTTPTransport(retries=0))
    async with LangGraphClient(http) as client:
        await sv.awatch_remote(client, None, "joke", input={"topic": "x"}, display=False)


@pytest.mark.parametrize(
    ("run", "caller"),
    [
        (_watch_remote_sync, "_watch_remote_sync"),
        (_watch_remote_async_client, "_watch_remote_async_client"),
        (lambda: asyncio.run(_awatch_remote()), "_awatch_remote"),
    ],
    ids=["watch_remote", "watch_remote async client", "awatch_remote"],
)
def test_a_failed_remote_request_is_shown_from_the_callers_line(run, caller):
    with pytest.raises(httpx.ConnectError) as raised:
        run()
    assert_points_at_the_program(raised.value, caller, "map_httpcore_exceptions", "langgraph_sdk")
    assert raised.value.__notes__ == [NOTE]
    assert sv.last_trace().roots[0].status == "error"


# ------------------------------------------------------------------ in a real kernel
CELLS = [
    """
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from streamviz.demo import DemoChatModel

def check_length(text):
    raise ValueError(f"too long: {len(text)} characters")

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
model = DemoChatModel(time_to_first_token=0, token_delay=0)
chain = prompt | model | StrOutputParser() | RunnableLambda(check_length)
""",
    'sv.watch(chain, {"topic": "parrot"})',
    'sv.watch(chain, {"topic": "parrot"}, use_async=True)',
    'await sv.awatch(chain, {"topic": "parrot"})',
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_cells(CELLS, tmp_path_factory.mktemp("nb"), allow_errors=True)


def rendered_traceback(cell) -> list[str]:
    (error,) = [o for o in cell.outputs if o["output_type"] == "error"]
    assert error["ename"] == "ValueError"
    return [ANSI.sub("", block) for block in error["traceback"]]


@pytest.mark.parametrize("index", [1, 2, 3], ids=["watch", "watch use_async", "awatch"])
def test_jupyter_shows_the_error_from_the_cell_into_the_users_function(executed, index):
    blocks = rendered_traceback(executed.cells[index])
    text = "\n".join(blocks)
    cell = next(i for i, block in enumerate(blocks) if block.startswith("Cell In["))
    following = blocks[cell + 1]  # no hidden streamviz frame between: none at all
    assert "langchain_core" in following.splitlines()[0], following
    assert str(PACKAGE) not in text
    assert "in check_length" in text and "ValueError: too long" in text
    assert NOTE in text

import asyncio
import dataclasses
import datetime as dt
import io
import itertools
import json
import os
import pathlib
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
from helpers import readable_text
from langchain_core.callbacks import adispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompt_values import ChatPromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph

import streamviz._persistence as persistence
from streamviz._persistence import TraceFileError, TraceFileWarning, read_trace, write_trace
from streamviz._serialization import MAX_DEPTH, SerializedError, UnserializableValue

VERSION = "9.9.9-test"
GOOD_HEADER = (
    '{"format":"streamviz-trace","version":1,"streamviz":"x","created":"2024-01-01T00:00:00+00:00"}'
)


def event(**overrides: Any) -> dict[str, Any]:
    base = {
        "event": "on_chain_stream",
        "name": "chain",
        "run_id": str(uuid.uuid4()),
        "parent_ids": [],
        "tags": [],
        "metadata": {},
        "data": {"chunk": "x"},
        "t": 0.25,
        "seq": 0,
    }
    base.update(overrides)
    return base


# --- Events recorded from real runnables -----------------------------------------------------


class ToolCallingFakeModel(BaseChatModel):
    """Streams one tool call in two chunks, with usage metadata on the last."""

    @property
    def _llm_type(self) -> str:
        return "tool-calling-fake"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        raise NotImplementedError

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        first = {"name": "add", "args": '{"a": 1,', "id": "call_1", "index": 0}
        second = {"name": None, "args": ' "b": 2}', "id": None, "index": 0}
        yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[first]))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                tool_call_chunks=[second],
                usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
                response_metadata={"finish_reason": "tool_calls"},
                chunk_position="last",
            )
        )


class KeywordRetriever(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [
            Document(
                page_content=f"all about {query}",
                metadata={"source": "wiki", "score": 0.9},
                id="d1",
            ),
            Document(
                page_content="ميزة النص العربي ✓", metadata={"source": "ar", "tags": ("rtl",)}
            ),
        ]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@dataclasses.dataclass
class Progress:
    step: int
    when: dt.datetime


async def report_progress(x: str) -> str:
    await adispatch_custom_event(
        "progress",
        {"p": Progress(1, dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)), "ids": {3, 1}},
    )
    await adispatch_custom_event("raw", ("tuple", b"\x00bytes", uuid.UUID(int=1)))
    return x.upper()


def explode(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


class GraphState(TypedDict):
    messages: list[BaseMessage]


def build_graph() -> Any:
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content="graph says hi")]))

    def call_model(state: GraphState) -> dict[str, Any]:
        return {"messages": [*state["messages"], model.invoke(state["messages"])]}

    graph = StateGraph(GraphState)
    graph.add_node("model", call_model)
    graph.add_edge(START, "model")
    graph.add_edge("model", END)
    return graph.compile()


async def record_all() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    t0 = time.perf_counter()

    def stamp(ev: dict[str, Any]) -> None:
        events.append({**ev, "t": time.perf_counter() - t0, "seq": len(events)})

    async def run(runnable: Any, value: Any, **config: Any) -> None:
        try:
            async for ev in runnable.astream_events(value, version="v2", config=config or None):
                stamp(dict(ev))
        except Exception as exc:  # streamviz records the failure as an error event
            start = next(e for e in reversed(events) if e["event"].endswith("_start"))
            keep = ("name", "run_id", "parent_ids", "tags", "metadata")
            stamp(
                {"event": "on_chain_error", **{k: start[k] for k in keep}, "data": {"error": exc}}
            )

    joke_model = GenericFakeChatModel(
        messages=itertools.cycle([AIMessage(content="why did the parrot talk")])
    )
    joke = (
        ChatPromptTemplate.from_template("tell me a joke about {topic}")
        | joke_model
        | StrOutputParser()
    )
    await run(joke, {"topic": "parrots"}, tags=["joke"], metadata={"user": "u1"})
    json_model = GenericFakeChatModel(
        messages=itertools.cycle([AIMessage(content='{"a": [1, 2], "b": "x"}')])
    )
    await run(json_model | JsonOutputParser(), "give me json")
    await run(RunnableLambda(explode), 3)
    await run(add, {"a": 1, "b": 2})
    await run(add, {"type": "tool_call", "id": "call_7", "name": "add", "args": {"a": 4, "b": 5}})
    await run(KeywordRetriever(), "parrots")
    await run(ToolCallingFakeModel(), "add things")
    await run(RunnableLambda(report_progress), "custom")
    async for ns, mode, chunk in build_graph().astream(
        {"messages": [HumanMessage("hi graph")]},
        stream_mode=["updates", "messages"],
        subgraphs=True,
    ):
        stamp(
            event(
                event="on_graph_stream",
                name="LangGraph",
                mode=mode,
                ns=list(ns),
                thread=1,
                data={"chunk": chunk},
            )
        )
    return events


@pytest.fixture(scope="module")
def recorded() -> list[dict[str, Any]]:
    return asyncio.run(record_all())


def comparable(value: Any) -> Any:
    """Errors compare by type name and message, dataclasses as their field markers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: comparable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        return {"__sv__": "dataclass", "type": name, "fields": fields}
    if isinstance(value, SerializedError):
        return ("error", value.type, str(value))
    if isinstance(value, BaseException):
        return ("error", type(value).__name__, str(value))
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(v) for v in value)
    return value


def test_real_runnable_events_round_trip(
    recorded: list[dict[str, Any]], tmp_path: pathlib.Path, suffix: str
) -> None:
    path = tmp_path / f"run.{suffix}"
    write_trace(path, recorded, streamviz_version=VERSION, extra_header={"title": "demo"})
    header, loaded = read_trace(path)
    assert header["format"] == "streamviz-trace"
    assert header["version"] == 1
    assert header["streamviz"] == VERSION
    assert header["title"] == "demo"
    assert dt.datetime.fromisoformat(header["created"]).utcoffset() == dt.timedelta(0)
    assert len(loaded) == len(recorded)
    for original, back in zip(recorded, loaded, strict=True):
        assert comparable(back) == comparable(original), original["event"]
    if suffix == "jsonl":
        assert len(path.read_bytes().splitlines()) == len(recorded) + 1


def test_every_format_gives_back_what_jsonl_gives_back(
    recorded: list[dict[str, Any]], tmp_path: pathlib.Path, suffix: str
) -> None:
    # JSONL is the reference: the columnar files load the very same events, in the same order.
    write_trace(tmp_path / "ref.jsonl", recorded, streamviz_version=VERSION)
    write_trace(tmp_path / f"run.{suffix}", recorded, streamviz_version=VERSION)
    reference = read_trace(tmp_path / "ref.jsonl")[1]
    loaded = read_trace(tmp_path / f"run.{suffix}")[1]
    assert [comparable(e) for e in loaded] == [comparable(e) for e in reference]
    assert [{k: type(v) for k, v in e.items()} for e in loaded] == [
        {k: type(v) for k, v in e.items()} for e in reference
    ]


def by_event(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def test_user_visible_fields_survive(
    recorded: list[dict[str, Any]], tmp_path: pathlib.Path, suffix: str
) -> None:
    write_trace(tmp_path / f"t.{suffix}", recorded, streamviz_version=VERSION)
    _, loaded = read_trace(tmp_path / f"t.{suffix}")

    chunks = [e["data"]["chunk"] for e in by_event(loaded, "on_chat_model_stream")]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(c.content for c in chunks[:9]) == "why did the parrot talk"

    prompt = by_event(loaded, "on_prompt_end")[0]["data"]["output"]
    assert isinstance(prompt, ChatPromptValue)
    assert prompt.messages == [HumanMessage("tell me a joke about parrots")]
    assert by_event(loaded, "on_prompt_end")[0]["tags"] == ["seq:step:1", "joke"]

    parser_chunks = [e["data"]["chunk"] for e in by_event(loaded, "on_parser_stream")]
    assert "".join(c for c in parser_chunks if isinstance(c, str)) == "why did the parrot talk"
    assert {"a": [1, 2], "b": "x"} in parser_chunks

    error = by_event(loaded, "on_chain_error")[0]["data"]["error"]
    assert isinstance(error, SerializedError)
    assert (error.type, str(error)) == ("ValueError", "cannot handle 3")

    tool_outputs = [e["data"]["output"] for e in by_event(loaded, "on_tool_end")]
    assert tool_outputs[0] == 3
    assert isinstance(tool_outputs[1], ToolMessage)
    assert (tool_outputs[1].tool_call_id, tool_outputs[1].content) == ("call_7", "9")

    docs = by_event(loaded, "on_retriever_end")[0]["data"]["output"]
    assert [d.page_content for d in docs] == ["all about parrots", "ميزة النص العربي ✓"]
    assert docs[0].metadata == {"source": "wiki", "score": 0.9}
    assert docs[0].id == "d1"
    assert docs[1].metadata["tags"] == ("rtl",)

    final = next(
        e for e in by_event(loaded, "on_chat_model_end") if e["name"] == "ToolCallingFakeModel"
    )
    message = final["data"]["output"]
    assert message.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.usage_metadata["total_tokens"] == 8

    custom = by_event(loaded, "on_custom_event")
    assert custom[0]["data"]["ids"] == {1, 3}
    assert custom[0]["data"]["p"].fields["when"] == dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    assert custom[1]["data"] == ("tuple", b"\x00bytes", uuid.UUID(int=1))

    graph_parts = by_event(loaded, "on_graph_stream")
    assert {p["mode"] for p in graph_parts} == {"updates", "messages"}
    message_part = next(p for p in graph_parts if p["mode"] == "messages")["data"]["chunk"]
    assert isinstance(message_part, tuple)
    assert isinstance(message_part[0], AIMessageChunk)


def test_saving_a_loaded_trace_is_stable(
    recorded: list[dict[str, Any]], tmp_path: pathlib.Path, suffix: str
) -> None:
    write_trace(tmp_path / f"a.{suffix}", recorded, streamviz_version=VERSION)
    _header, loaded = read_trace(tmp_path / f"a.{suffix}")
    write_trace(tmp_path / f"b.{suffix}", loaded, streamviz_version=VERSION)
    if suffix == "jsonl":
        a = (tmp_path / "a.jsonl").read_bytes().splitlines()[1:]
        b = (tmp_path / "b.jsonl").read_bytes().splitlines()[1:]
        assert a == b
    else:  # every cell the same (the header's write time differs)
        a, b = (json.loads(readable_text(tmp_path / f"{n}.{suffix}"))[1] for n in "ab")
        assert a == b


# --- File objects, atomicity, validation on write --------------------------------------------


def test_text_and_binary_file_objects() -> None:
    events = [event(seq=i, data={"chunk": f"part {i}"}) for i in range(3)]
    text = io.StringIO()
    write_trace(text, events, streamviz_version=VERSION)
    text.seek(0)
    assert read_trace(text)[1] == events
    binary = io.BytesIO()
    write_trace(binary, events, streamviz_version=VERSION)
    binary.seek(0)
    assert read_trace(binary)[1] == events
    # Same bytes apart from the header's creation time.
    assert binary.getvalue().decode("utf-8").splitlines()[1:] == text.getvalue().splitlines()[1:]


def test_str_path_and_format_details(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "plain.jsonl")
    write_trace(path, [event(data={"chunk": "héllo ✓"})], streamviz_version=VERSION)
    raw = pathlib.Path(path).read_bytes()
    assert raw.endswith(b"}\n")
    assert raw.count(b"\n") == 2
    assert "héllo ✓".encode() in raw  # ensure_ascii=False
    assert b'","name":"chain",' in raw  # compact separators
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []
    assert os.stat(path).st_mode & 0o777 == 0o600  # traces hold prompts: owner-only by default
    write_trace(os.fsencode(path), [event(), event()], streamviz_version=VERSION)
    assert len(read_trace(os.fsencode(path))[1]) == 2


def test_failed_write_leaves_existing_file_untouched(tmp_path: pathlib.Path, suffix: str) -> None:
    path = tmp_path / f"keep.{suffix}"
    write_trace(path, [event()], streamviz_version=VERSION)
    assert os.stat(path).st_mode & 0o777 == 0o600  # traces hold prompts: owner-only by default
    os.chmod(path, 0o640)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="event 1: event is missing key 'run_id'"):
        write_trace(path, [event(), {"event": "x", "name": "n"}], streamviz_version=VERSION)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [f"keep.{suffix}"]
    write_trace(path, [event(), event()], streamviz_version=VERSION)
    assert os.stat(path).st_mode & 0o777 == 0o640  # replacing keeps permissions
    assert len(read_trace(path)[1]) == 2
    stream: Any = io.StringIO("untouched") if suffix == "jsonl" else io.BytesIO(b"untouched")
    stream.seek(0, io.SEEK_END)
    with pytest.raises(ValueError, match="'t' must be a finite number"):
        write_trace(stream, [event(t=float("nan"))], streamviz_version=VERSION, format=suffix)
    assert stream.getvalue() in ("untouched", b"untouched")


def test_extra_header_cannot_override_reserved_keys() -> None:
    with pytest.raises(ValueError, match="reserved"):
        write_trace(io.StringIO(), [], streamviz_version=VERSION, extra_header={"version": 2})


def test_oversized_event_is_refused_on_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persistence, "MAX_LINE_BYTES", 1000)
    with pytest.raises(ValueError, match="more than"):
        write_trace(io.StringIO(), [event(data={"chunk": "x" * 2000})], streamviz_version=VERSION)


# --- Payload edge cases -----------------------------------------------------------------------


def test_unserializable_payload_loads_as_placeholder(tmp_path: pathlib.Path, suffix: str) -> None:
    class Socketish:
        def __repr__(self) -> str:
            return "<Socketish fd=3>"

    path = tmp_path / f"odd.{suffix}"
    write_trace(path, [event(data={"output": Socketish()})], streamviz_version=VERSION)
    assert '"__sv__":"repr"' in readable_text(path).replace('\\"', '"')
    loaded = read_trace(path)[1][0]["data"]["output"]
    assert isinstance(loaded, UnserializableValue)
    assert loaded.repr == "<Socketish fd=3>"


TRICKY_STRINGS = [
    "x" * 1_000_000,
    "".join(chr(c) for c in range(32)) + "\x7f\x85\u2028\u2029",
    "emoji 🦜🎉👩‍👩‍👧 and flags 🇫🇷",
    "RTL: שלום עולם مرحبا \u202eevil\u202c",
    "combining e\u0301 and zero width \u200b\ufeff",
    "lone surrogate \ud800 and \udfff",
    '{"__sv__": "uuid"}',
    "line one\nline two\r\nline three",
]


@pytest.mark.parametrize("text", TRICKY_STRINGS, ids=lambda s: repr(s[:20]))
def test_tricky_strings_round_trip_exactly(text: str, tmp_path: pathlib.Path, suffix: str) -> None:
    ev = event(
        name=text[:50],
        run_id=text[-20:],
        parent_ids=[text[:5], "p"],
        tags=[text[:10]],
        metadata={text[:30]: text},
        data={"chunk": text},
        mode=text[:7],
        ns=[text[:12]],
    )
    path = tmp_path / f"s.{suffix}"
    write_trace(path, [ev], streamviz_version=VERSION, extra_header={"note": text[:40]})
    if suffix == "jsonl":
        assert path.read_bytes().count(b"\n") == 2
    header, events = read_trace(path)
    assert events == [ev]
    assert header["note"] == text[:40]


@pytest.mark.parametrize("kind", ["list", "tuple", "int-keyed dict", "message"])
def test_deepest_writable_nesting_reads_back(
    kind: str, tmp_path: pathlib.Path, suffix: str
) -> None:
    wrap = {
        "list": lambda v: [v],
        "tuple": lambda v: (v,),
        "int-keyed dict": lambda v: {1: v},
        "message": lambda v: AIMessage(content="m", additional_kwargs={"inner": v}),
    }[kind]
    levels = (MAX_DEPTH - 2) // (2 if kind == "message" else 1)
    value: Any = "leaf"
    for _ in range(levels):
        value = wrap(value)
    write_trace(tmp_path / f"deep.{suffix}", [event(data=value)], streamviz_version=VERSION)
    assert read_trace(tmp_path / f"deep.{suffix}")[1][0]["data"] == value


def test_deep_payload_is_written_and_read_without_crashing(
    tmp_path: pathlib.Path, suffix: str
) -> None:
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = [deep]
    path = tmp_path / f"deep.{suffix}"
    write_trace(
        path, [event(data={"chunk": deep}, metadata={"deep": deep})], streamviz_version=VERSION
    )
    loaded = read_trace(path)[1][0]["data"]["chunk"]
    assert isinstance(loaded, list)


# --- Hostile and broken files -----------------------------------------------------------------


def write_raw(tmp_path: pathlib.Path, data: bytes) -> pathlib.Path:
    path = tmp_path / "run.jsonl"
    path.write_bytes(data)
    return path


def good_file(lines: int = 3) -> bytes:
    stream = io.BytesIO()
    write_trace(stream, [event(seq=i) for i in range(lines)], streamviz_version=VERSION)
    return stream.getvalue()


def read_error(path: pathlib.Path) -> TraceFileError:
    with pytest.raises(TraceFileError) as info:
        read_trace(path)
    assert isinstance(info.value, ValueError)
    assert info.value.path == str(path)
    return info.value


def test_blank_trailing_lines_are_fine(tmp_path: pathlib.Path) -> None:
    assert len(read_trace(write_raw(tmp_path, good_file() + b"\n\n"))[1]) == 3


@pytest.mark.parametrize("data", [b"", b"\n", b"  \n\n"])
def test_empty_file(tmp_path: pathlib.Path, data: bytes) -> None:
    error = read_error(write_raw(tmp_path, data))
    assert error.line is None
    assert "empty" in str(error)


def test_a_last_line_cut_short_is_skipped_with_a_warning(tmp_path: pathlib.Path) -> None:
    # What a writer killed mid-write leaves: every complete line loads, the cut one is dropped.
    data = good_file(3)
    path = write_raw(tmp_path, data[: len(data) - 25])
    with pytest.warns(TraceFileWarning, match=r"run\.jsonl, line 4: the last line is incomplete"):
        header, events = read_trace(path)
    assert header["streamviz"] == VERSION
    assert [e["seq"] for e in events] == [0, 1]


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_a_last_line_cut_inside_a_character_is_skipped_with_a_warning(
    tmp_path: pathlib.Path, cut: int
) -> None:
    stream = io.BytesIO()
    smile = "\U0001f600"
    events = [event(seq=0), event(seq=1, data={"chunk": smile * 3})]
    write_trace(stream, events, streamviz_version=VERSION)
    data = stream.getvalue()
    path = write_raw(tmp_path, data[: data.rindex(smile.encode()) + cut])  # inside a character
    with pytest.warns(TraceFileWarning, match="line 3"):
        assert [e["seq"] for e in read_trace(path)[1]] == [0]


def test_a_complete_last_line_without_a_newline_loads_without_a_warning(
    tmp_path: pathlib.Path,
) -> None:
    data = good_file(3)
    path = write_raw(tmp_path, data.rstrip(b"\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_trace(path)[1]) == 3


def test_a_cut_line_before_the_last_is_still_an_error(tmp_path: pathlib.Path) -> None:
    lines = good_file(3).split(b"\n")
    path = write_raw(tmp_path, b"\n".join([*lines[:2], lines[2][:30], *lines[3:]]))
    error = read_error(path)
    assert error.line == 3 and "not valid JSON" in str(error)


def test_a_header_cut_short_is_an_error(tmp_path: pathlib.Path) -> None:
    path = write_raw(tmp_path, good_file(0)[:30])
    error = read_error(path)
    assert error.line == 1 and "truncated" in str(error)


MINIMAL_EVENT = (
    b'{"event": "e", "name": "n", "run_id": "r", "parent_ids": [], "tags": [], "metadata": {}, '
    b'"t": 1, "seq": 1}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"garbage here", "not valid JSON"),
        (b"\x00\x01\x02", "not valid JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"just a string"', "not a JSON object"),
        (b'{"__sv__": "dict", "items": []}', "not a JSON object"),
        (b"\xff\xfe invalid utf-8", "not valid UTF-8"),
        (MINIMAL_EVENT[:-1] + b', "t": NaN}', "NaN"),
        (
            MINIMAL_EVENT[:-1] + b', "data": {"__sv__": "evil"}}',
            "unknown __sv__ marker kind 'evil'",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"event": "e", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ],
)
def test_bad_line_names_its_line(tmp_path: pathlib.Path, line: bytes, message: str) -> None:
    data = good_file(2)
    error = read_error(write_raw(tmp_path, data + line + b"\n" + data.splitlines(keepends=True)[1]))
    assert error.line == 4
    assert "line 4: " in str(error)
    assert message in str(error)


BASE = {
    "event": "e",
    "name": "n",
    "run_id": "r",
    "parent_ids": ["p"],
    "tags": ["t"],
    "metadata": {},
    "t": 1.5,
    "seq": 0,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_id": None}, "event is missing key 'run_id'"),
        ({"event": None}, "event is missing key 'event'"),
        ({"seq": None}, "event is missing key 'seq'"),
        ({"name": 5}, "'name' must be a string"),
        (
            {"run_id": {"__sv__": "uuid", "value": str(uuid.UUID(int=1))}},
            "'run_id' must be a string",
        ),
        ({"parent_ids": "p"}, "'parent_ids' must be a list of strings"),
        ({"tags": [1]}, "'tags' must be a list of strings"),
        ({"metadata": []}, "'metadata' must be an object"),
        ({"t": "soon"}, "'t' must be a finite number"),
        ({"t": True}, "'t' must be a finite number"),
        ({"t": {"__sv__": "float", "value": "inf"}}, "'t' must be a finite number"),
        ({"seq": 1.5}, "'seq' must be an integer"),
        ({"seq": False}, "'seq' must be an integer"),
        ({"thread": "main"}, "'thread' must be an integer"),
        ({"mode": 3}, "'mode' must be a string"),
        ({"ns": [None]}, "'ns' must be a list of strings"),
    ],
)
def test_event_shape_is_validated(
    tmp_path: pathlib.Path, change: dict[str, Any], message: str
) -> None:
    bad = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    error = read_error(
        write_raw(tmp_path, GOOD_HEADER.encode() + b"\n" + json.dumps(bad).encode() + b"\n")
    )
    assert error.line == 2
    assert f"{error.path}, line 2: " in str(error)
    assert message in str(error)


def test_valid_minimal_event_loads(tmp_path: pathlib.Path) -> None:
    data = GOOD_HEADER.encode() + b"\n" + json.dumps({**BASE, "t": 2}).encode()  # no final newline
    # An event without "data" reads with an empty one, as every reader of events expects.
    assert read_trace(write_raw(tmp_path, data))[1] == [{**BASE, "t": 2, "data": {}}]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (json.dumps(BASE), "missing trace header"),
        ("[1]", "missing trace header"),
        ('{"format": "other-trace", "version": 1}', 'unknown format "other-trace"'),
        ('{"format": "streamviz-trace"}', "invalid version"),
        ('{"format": "streamviz-trace", "version": "1"}', "invalid version"),
        (
            '{"format": "streamviz-trace", "version": 2}',
            "version 2 is newer than the supported version 1",
        ),
        ("not json at all", "not valid JSON"),
    ],
)
def test_bad_header(tmp_path: pathlib.Path, header: str, message: str) -> None:
    error = read_error(
        write_raw(tmp_path, header.encode() + b"\n" + json.dumps(BASE).encode() + b"\n")
    )
    assert error.line == 1
    assert message in str(error)


def test_overlong_line_is_rejected(tmp_path: pathlib.Path) -> None:
    path = write_raw(
        tmp_path, good_file(1) + json.dumps({**BASE, "data": "x" * 5000}).encode() + b"\n"
    )
    with pytest.raises(
        TraceFileError, match=r"line 3: line is longer than the 1,000-byte limit"
    ) as info:
        read_trace(path, max_line_bytes=1000)
    assert info.value.line == 3
    assert len(read_trace(path)[1]) == 2


def test_line_limit_boundary(tmp_path: pathlib.Path) -> None:
    line = json.dumps({**BASE, "name": "n" * 200}).encode()
    assert len(line) > len(GOOD_HEADER) + 1
    path = write_raw(tmp_path, GOOD_HEADER.encode() + b"\n" + line + b"\n")
    assert len(read_trace(path, max_line_bytes=len(line))[1]) == 1
    with pytest.raises(TraceFileError, match="line 2: line is longer"):
        read_trace(path, max_line_bytes=len(line) - 1)


def test_default_line_limit_is_64_mib() -> None:
    assert persistence.MAX_LINE_BYTES == 64 * 1024 * 1024


def test_byte_order_mark_is_tolerated(tmp_path: pathlib.Path) -> None:
    assert len(read_trace(write_raw(tmp_path, b"\xef\xbb\xbf" + good_file(2)))[1]) == 2


def test_binary_stream_with_invalid_utf8_names_line(tmp_path: pathlib.Path) -> None:
    path = write_raw(tmp_path, good_file(1) + b'{"event": "caf\xe9"}\n')
    with open(path, "rb") as handle, pytest.raises(TraceFileError) as info:
        read_trace(handle)
    assert info.value.line == 3
    assert "not valid UTF-8" in str(info.value)
    assert info.value.path == str(path)


def test_text_stream_with_invalid_utf8_is_rejected(tmp_path: pathlib.Path) -> None:
    path = write_raw(tmp_path, good_file(1) + b"\xff\xff\n")
    with (
        open(path, encoding="utf-8") as handle,
        pytest.raises(TraceFileError, match="not valid UTF-8"),
    ):
        read_trace(handle)


def test_loading_executes_nothing(tmp_path: pathlib.Path) -> None:
    marker_file = tmp_path / "pwned"
    payload = {
        "lc": {
            "__sv__": "lc",
            "type": "subprocess.Popen",
            "fields": {"args": ["touch", str(marker_file)]},
        },
        "model": {
            "__sv__": "model",
            "type": "os.system",
            "fields": {"command": f"touch {marker_file}"},
        },
        "repr": {"__sv__": "repr", "type": "builtins.eval", "repr": "__import__('os')"},
    }
    line = json.dumps({**BASE, "data": payload})
    _header, events = read_trace(
        write_raw(tmp_path, GOOD_HEADER.encode() + b"\n" + line.encode() + b"\n")
    )
    assert not marker_file.exists()
    assert events[0]["data"]["lc"].error == "class is not in the allow-list"
    assert events[0]["data"]["model"].fields == {"command": f"touch {marker_file}"}


# --- Secrets never reach the file ------------------------------------------------------------

SECRETS = {
    "openai": "sk-proj-AAAbbbCCC111222333dddEEE",
    "anthropic": "sk-ant-api03-QQQwwwEEE444555666rrr",
    "langsmith": "lsv2_pt_00112233445566778899aabbccddeeff_99",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0NTYifQ.c2lnbmF0dXJlMg",
    "password": "correct-horse-battery-staple",
    "cookie": "sessionid=deadbeefcafe0001",
    "secretstr": "pydantic-secret-value-0042",
}


def test_secrets_never_appear_in_file_bytes(tmp_path: pathlib.Path, suffix: str) -> None:
    from pydantic import SecretStr

    try:
        raise PermissionError(
            f"401: bad key {SECRETS['openai']} (Authorization: Bearer {SECRETS['jwt']})"
        )
    except PermissionError as exc:
        failure = exc
    ev = event(
        name=f"client {SECRETS['openai']}",
        tags=[f"Bearer {SECRETS['jwt']}", "plain"],
        mode=f"password={SECRETS['password']}",
        ns=[f"node:{SECRETS['langsmith']}"],
        stolen_key=SECRETS["anthropic"],  # an unknown key: kept, and redacted like the rest
        metadata={
            "api_key": SECRETS["openai"],
            "ls_model_name": "gpt-test",
            "headers": {
                "Authorization": f"Bearer {SECRETS['jwt']}",
                "X-Api-Key": SECRETS["anthropic"],
            },
            "nested": [{"db": {"password": SECRETS["password"]}}],
        },
        data={
            "output": AIMessage(
                content=f"LANGSMITH key: {SECRETS['langsmith']}",
                additional_kwargs={
                    "Cookie": SECRETS["cookie"],
                    "client": {"secret": SECRETS["password"]},
                },
                usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
            ),
            "error": failure,
            "settings": {"token": SecretStr(SECRETS["secretstr"])},
        },
    )
    path = tmp_path / f"secret.{suffix}"
    write_trace(
        path, [ev], streamviz_version=VERSION, extra_header={"access_token": SECRETS["jwt"]}
    )
    raw, text = path.read_bytes(), readable_text(path)
    for name, secret in SECRETS.items():
        assert secret.encode() not in raw, name
        assert secret not in text, name
    assert "[redacted]" in text
    header, (loaded,) = read_trace(path)
    assert header["access_token"] == "[redacted]"
    assert loaded["name"] == "client [redacted]"
    assert loaded["tags"] == ["Bearer [redacted]", "plain"]
    assert loaded["stolen_key"] == "[redacted]"
    assert loaded["metadata"]["ls_model_name"] == "gpt-test"
    assert loaded["data"]["output"].usage_metadata["total_tokens"] == 3
    assert loaded["data"]["error"].type == "PermissionError"


@pytest.mark.parametrize("block", [1, 7, 100])
def test_lines_read_a_block_at_a_time_are_the_lines_of_the_file(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """A binary file is read in blocks; lines across block ends, errors and a cut last line are
    read as when each line is read on its own (1 MiB blocks in use; small ones here)."""
    monkeypatch.setattr(persistence, "_BLOCK_BYTES", block)
    smile = "\U0001f600"
    stream = io.BytesIO()
    events = [event(seq=i, data={"chunk": smile * i}) for i in range(5)]
    write_trace(stream, events, streamviz_version=VERSION)
    data = stream.getvalue()
    assert read_trace(write_raw(tmp_path, data))[1] == events
    assert read_trace(write_raw(tmp_path, data.rstrip(b"\n")))[1] == events  # no last newline
    bad = data + b'{"event": "caf\xe9"}\n' + good_file(1)
    assert read_error(write_raw(tmp_path, bad)).line == 7
    long = good_file(1) + json.dumps({**BASE, "data": "x" * 5000}).encode() + b"\n"
    with pytest.raises(TraceFileError, match="line 3: line is longer") as info:
        read_trace(write_raw(tmp_path, long + good_file(1)), max_line_bytes=1000)
    assert info.value.line == 3
    with pytest.raises(TraceFileError, match="line 3: line is longer"):
        read_trace(write_raw(tmp_path, long.rstrip(b"\n")), max_line_bytes=1000)
    path = write_raw(tmp_path, data[: data.rindex(smile.encode()) + 2])  # inside a character
    with pytest.warns(TraceFileWarning, match="line 6"):
        assert [e["seq"] for e in read_trace(path)[1]] == [0, 1, 2, 3]

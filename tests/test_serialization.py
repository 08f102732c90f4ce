import dataclasses
import datetime as dt
import enum
import json
import math
import pickle
import uuid
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    ToolMessageChunk,
)
from langchain_core.messages.base import TextAccessor
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    LLMResult,
    RunInfo,
)
from langchain_core.prompt_values import ChatPromptValue, ChatPromptValueConcrete, StringPromptValue
from pydantic import BaseModel, SecretBytes, SecretStr

from streamviz._serialization import (
    MAX_DEPTH,
    MAX_REPR_CHARS,
    REDACTED,
    SerializedError,
    SerializedObject,
    UnserializableValue,
    from_json,
    redact_text,
    to_json,
)

OPENAI_KEY = "sk-proj-Abc123Def456Ghi789Jkl012"
ANTHROPIC_KEY = "sk-ant-api03-ZZZyyyXXXwww111222333"
LANGSMITH_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_01"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def assert_json_compatible(value: Any) -> None:
    """Only dict-with-str-keys / list / str / int / float / bool / None, at every level."""
    if isinstance(value, dict):
        assert type(value) is dict
        for key, item in value.items():
            assert type(key) is str
            assert_json_compatible(item)
    elif isinstance(value, list):
        assert type(value) is list
        for item in value:
            assert_json_compatible(item)
    else:
        assert value is None or type(value) in (str, int, float, bool), type(value)
        if type(value) is float:
            assert math.isfinite(value)


def roundtrip(value: Any) -> Any:
    encoded = to_json(value)
    assert_json_compatible(encoded)
    text = json.dumps(encoded, allow_nan=False)
    return from_json(json.loads(text))


def dumped(value: Any) -> str:
    return json.dumps(to_json(value), ensure_ascii=False)


# --- LangChain objects -----------------------------------------------------------------------

TOOL_CALL = {
    "name": "search",
    "args": {"q": "parrots", "n": 3},
    "id": "call_1",
    "type": "tool_call",
}
USAGE = {
    "input_tokens": 12,
    "output_tokens": 7,
    "total_tokens": 19,
    "input_token_details": {"cache_read": 4},
    "output_token_details": {"reasoning": 2},
}

LANGCHAIN_VALUES = [
    HumanMessage(content="hi", name="me", id="h1", additional_kwargs={"x": [1, 2]}),
    HumanMessageChunk(content="h"),
    SystemMessage(content=[{"type": "text", "text": "be nice"}]),
    AIMessage(
        content="calling",
        tool_calls=[TOOL_CALL],
        invalid_tool_calls=[
            {
                "name": "bad",
                "args": "{oops",
                "id": "c2",
                "error": "bad json",
                "type": "invalid_tool_call",
            }
        ],
        usage_metadata=USAGE,
        response_metadata={"model_name": "fake", "finish_reason": "tool_calls"},
        id="ai-1",
    ),
    AIMessageChunk(
        content="",
        tool_call_chunks=[{"name": "search", "args": '{"q": "par', "id": "call_1", "index": 0}],
        usage_metadata=USAGE,
        chunk_position="last",
        id="chunk-1",
    ),
    AIMessageChunk(content="partial", id="chunk-2"),
    ToolMessage(
        content="3", tool_call_id="call_1", name="add", artifact={"raw": (1, 2)}, status="error"
    ),
    ToolMessageChunk(content="x", tool_call_id="call_9"),
    ChatMessage(role="critic", content="meh"),
    FunctionMessage(name="f", content="out"),
    RemoveMessage(id="gone"),
    AIMessage(content="with extra field", custom_extra={"k": uuid.UUID(int=5)}),
    Document(page_content="doc body", metadata={"source": "a.txt", "page": 3}, id="doc-1"),
    StringPromptValue(text="tell me a joke"),
    ChatPromptValue(messages=[SystemMessage("sys"), HumanMessage("hello")]),
    ChatPromptValueConcrete(messages=[HumanMessage("hello")]),
    Generation(text="g", generation_info={"finish_reason": "stop"}),
    GenerationChunk(text="gc"),
    ChatGeneration(message=AIMessage("cg")),
    ChatGenerationChunk(message=AIMessageChunk(content="cgc"), generation_info={"i": 1}),
    LLMResult(
        generations=[[ChatGeneration(message=AIMessage("a"))], [Generation(text="b")]],
        llm_output={"token_usage": {"total_tokens": 3}},
        run=[RunInfo(run_id=uuid.UUID(int=7))],
    ),
]


@pytest.mark.parametrize("value", LANGCHAIN_VALUES, ids=lambda v: type(v).__name__)
def test_langchain_objects_round_trip_exactly(value: Any) -> None:
    encoded = to_json(value)
    assert encoded["__sv__"] == "lc"
    assert encoded["type"] == type(value).__name__
    loaded = roundtrip(value)
    assert type(loaded) is type(value)
    assert loaded == value
    assert loaded.model_dump() == value.model_dump()


def test_message_marker_contains_every_field() -> None:
    message = LANGCHAIN_VALUES[4]
    fields = to_json(message)["fields"]
    for name in AIMessageChunk.model_fields:
        assert name in fields
    assert fields["tool_call_chunks"][0]["args"] == '{"q": "par'
    assert fields["usage_metadata"] == USAGE
    assert fields["chunk_position"] == "last"


def test_nested_objects_inside_langchain_fields_are_rebuilt() -> None:
    loaded = roundtrip(LANGCHAIN_VALUES[-1])
    assert isinstance(loaded.generations[0][0].message, AIMessage)
    assert loaded.run[0].run_id == uuid.UUID(int=7)
    tool = roundtrip(LANGCHAIN_VALUES[6])
    assert tool.artifact == {"raw": (1, 2)}


def test_failed_construction_returns_marker_dict() -> None:
    marker = {"__sv__": "lc", "type": "ToolMessage", "fields": {"content": "x", "status": 42}}
    loaded = from_json(marker)
    assert isinstance(loaded, SerializedObject)
    assert isinstance(loaded, dict)
    assert loaded.kind == "lc"
    assert loaded.type == "ToolMessage"
    assert loaded["fields"]["content"] == "x"
    assert loaded.error  # why it was not rebuilt


def test_class_names_outside_allow_list_are_never_imported() -> None:
    for kind in ("lc", "model", "dataclass"):
        marker = {"__sv__": kind, "type": "os.system", "fields": {"command": "echo pwned"}}
        loaded = from_json(marker)
        assert isinstance(loaded, SerializedObject)
        assert loaded.fields == {"command": "echo pwned"}


# --- Plain Python values ---------------------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


class Mode(str, enum.Enum):
    FAST = "fast"


PLAIN_VALUES = [
    None,
    True,
    0,
    -(2**70),
    1.5,
    "text",
    "",
    [1, [2, [3]]],
    {"a": {"b": [None]}},
    (1, "two", (3,)),
    set(),
    {1, 2, 3},
    frozenset({"a", "b"}),
    uuid.uuid4(),
    dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2024, 5, 6, 7, 8, 9),
    dt.date(2024, 2, 29),
    dt.time(12, 30, 1, 5),
    dt.timedelta(days=-1, seconds=5, microseconds=7),
    b"\x00\xffbinary",
    b"",
    {1: "one", (2, 3): "pair", None: "none", "s": "str"},
    {"__sv__": "not a marker", "nested": {"__sv__": "uuid", "value": "nope"}},
    [{"__sv__": 1}],
    float("inf"),
    float("-inf"),
]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=repr)
def test_plain_values_round_trip_with_types(value: Any) -> None:
    loaded = roundtrip(value)
    assert loaded == value
    assert type(loaded) is type(value)


def test_nan_round_trips() -> None:
    assert math.isnan(roundtrip(float("nan")))
    assert to_json(float("nan")) == {"__sv__": "float", "value": "nan"}


def test_subclasses_become_their_plain_base() -> None:
    chunk = TextAccessor("why")
    assert to_json(chunk) == "why"
    assert type(to_json(chunk)) is str
    assert type(to_json(Mode.FAST)) is str
    assert to_json(Color.RED) == 1
    assert type(to_json(Color.RED)) is int
    assert roundtrip(bytearray(b"ab")) == b"ab"


def test_set_encoding_is_deterministic() -> None:
    assert to_json({"b", "a", "c"}) == {"__sv__": "set", "items": ["a", "b", "c"]}


def test_set_with_unhashable_decoded_members_becomes_list() -> None:
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int

    loaded = roundtrip({Point(1)})
    assert isinstance(loaded, list)
    assert loaded[0].fields == {"x": 1}
    keyed = roundtrip({Point(2): "v"})
    assert list(keyed.values()) == ["v"]


# --- Foreign objects, errors, unserializable values -----------------------------------------


class Settings(BaseModel):
    name: str = "s"
    when: dt.date = dt.date(2020, 1, 1)
    nested: list[HumanMessage] = [HumanMessage("in model")]


@dataclasses.dataclass
class Step:
    index: int
    payload: Any


def test_pydantic_models_and_dataclasses_load_as_markers() -> None:
    encoded = to_json(Settings())
    assert encoded["__sv__"] == "model"
    assert encoded["type"].endswith("test_serialization.Settings")
    loaded = from_json(encoded)
    assert isinstance(loaded, SerializedObject)
    assert loaded.fields == {
        "name": "s",
        "when": dt.date(2020, 1, 1),
        "nested": [HumanMessage("in model")],
    }
    step = roundtrip(Step(1, AIMessage("x")))
    assert step.kind == "dataclass"
    assert step.fields == {"index": 1, "payload": AIMessage("x")}
    # Re-saving a loaded trace produces the same encoding.
    assert to_json(loaded) == encoded
    assert to_json(step) == to_json(Step(1, AIMessage("x")))


def test_exceptions_load_as_serialized_error() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error = exc
    loaded = roundtrip(error)
    assert isinstance(loaded, SerializedError)
    assert isinstance(loaded, Exception)
    assert loaded.type == "KeyError"
    assert loaded.module == "builtins"
    assert str(loaded) == str(error) == "'missing'"
    assert loaded.repr == "KeyError('missing')"
    assert "KeyError" in repr(loaded)
    assert to_json(loaded) == to_json(error)
    assert str(pickle.loads(pickle.dumps(loaded))) == "'missing'"


def test_exception_whose_str_raises_is_still_recorded() -> None:
    class Nasty(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    loaded = roundtrip(Nasty())
    assert loaded.type == "Nasty"
    assert "raised RuntimeError" in loaded.message


def test_unknown_objects_become_unserializable_values() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque 42>"

    loaded = roundtrip({"x": Opaque()})["x"]
    assert isinstance(loaded, UnserializableValue)
    assert loaded.repr == "<Opaque 42>"
    assert loaded.type.endswith("Opaque")
    assert repr(loaded) == f"<unserializable {loaded.type}: <Opaque 42>>"
    assert to_json(loaded) == to_json(Opaque())


def test_long_repr_is_truncated() -> None:
    class Huge:
        def __repr__(self) -> str:
            return "x" * 50_000

    loaded = roundtrip(Huge())
    assert len(loaded.repr) <= MAX_REPR_CHARS
    assert "truncated" in loaded.repr


def test_repr_that_raises_is_recorded() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise ValueError("repr exploded")

    encoded = to_json(Broken())
    assert encoded["__sv__"] == "repr"
    assert "repr exploded" in encoded["error"]
    assert isinstance(from_json(encoded), UnserializableValue)


def test_hostile_model_attribute_does_not_crash() -> None:
    class Trap(BaseModel):
        a: int = 1

        def __getattribute__(self, name: str) -> Any:
            if name == "a":
                raise RuntimeError("trap")
            return super().__getattribute__(name)

    encoded = to_json([Trap(), "after"])
    assert encoded[0]["__sv__"] == "repr"
    assert "trap" in encoded[0]["error"]
    assert encoded[1] == "after"


def test_cycles_are_marked() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    shared = [1]
    encoded = to_json({"l": looped, "d": mapping, "shared": [shared, shared]})
    assert encoded["l"][1] == {"__sv__": "cycle", "type": "builtins.list"}
    assert encoded["d"]["self"]["__sv__"] == "cycle"
    assert encoded["shared"] == [[1], [1]]  # repeated, not circular
    loaded = from_json(encoded)
    assert isinstance(loaded["l"][1], UnserializableValue)
    assert loaded["l"][1].reason == "cycle"


def test_depth_is_bounded() -> None:
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = [deep]
    encoded = to_json(deep)
    json.dumps(encoded)  # must not blow the stack either
    level, depth = encoded, 0
    while isinstance(level, list):
        level, depth = level[0], depth + 1
    assert depth == MAX_DEPTH
    assert level == {"__sv__": "depth", "type": "builtins.list"}
    assert from_json(encoded) is not None


def test_moderate_nesting_round_trips() -> None:
    deep: Any = {"leaf": (1, 2)}
    for _ in range(MAX_DEPTH - 5):
        deep = [deep]
    assert roundtrip(deep) == deep


@pytest.mark.parametrize(
    "marker",
    [
        {"__sv__": "mystery"},
        {"__sv__": None},
        {"__sv__": "uuid"},
        {"__sv__": "uuid", "value": "not-a-uuid"},
        {"__sv__": "bytes", "value": "@@@"},
        {"__sv__": "tuple", "items": "abc"},
        {"__sv__": "float", "value": "1.5"},
        {"__sv__": "dict", "items": [[1]]},
        {"__sv__": "lc", "type": "AIMessage", "fields": []},
        [{"ok": 1}, {"__sv__": "datetime", "value": "yesterday"}],
    ],
)
def test_malformed_or_unknown_markers_raise_value_error(marker: Any) -> None:
    with pytest.raises(ValueError, match="marker"):
        from_json(marker)


# --- Secret redaction ------------------------------------------------------------------------

SECRET_KEYS = [
    "api_key", "apiKey", "API-KEY", "apikey", "x-api-key", "X-Api-Key", "openai_api_key",
    "ANTHROPIC_API_KEY", "authorization", "Authorization", "Proxy-Authorization", "password",
    "passwd", "secret", "client_secret", "clientSecret", "access_token", "refresh_token",
    "id_token", "session_token", "cookie", "Cookie", "set-cookie", "Set-Cookie", "private_key",
    "webhook_secret", "db_password", "github_token", "hfToken", "aws_secret_access_key",
]  # fmt: skip
NON_SECRET_KEYS = [
    "max_tokens", "total_tokens", "input_tokens", "output_tokens", "reasoning_tokens",
    "num_tokens", "completion_tokens", "prompt_tokens", "max_token", "token", "tokens",
    "input_token_details", "token_usage", "secretary", "keyword", "author", "content",
]  # fmt: skip


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_redacted(key: str) -> None:
    encoded = to_json({key: "hunter2-value", "nested": [{key: {"deep": "hunter2-value"}}]})
    assert encoded[key] == REDACTED
    assert encoded["nested"][0][key] == REDACTED
    assert "hunter2" not in json.dumps(encoded)


@pytest.mark.parametrize("key", NON_SECRET_KEYS)
def test_token_counts_and_ordinary_keys_survive(key: str) -> None:
    assert to_json({key: 123}) == {key: 123}


def test_usage_metadata_survives() -> None:
    message = AIMessage(content="x", usage_metadata=USAGE, response_metadata={"token_usage": USAGE})
    assert roundtrip(message) == message


def test_none_under_secret_key_stays_none() -> None:
    assert to_json({"api_key": None}) == {"api_key": None}


def test_secret_types_are_redacted_everywhere() -> None:
    class Client(BaseModel):
        model: str = "m"
        key: SecretStr = SecretStr("plain-secret-value")
        raw: SecretBytes = SecretBytes(b"bytes-secret-value")

    text = dumped(
        {
            "client": Client(),
            "loose": SecretStr("loose-secret-value"),
            "t": (SecretStr("tuple-secret-value"),),
        }
    )
    for needle in ("plain-secret", "bytes-secret", "loose-secret", "tuple-secret"):
        assert needle not in text
    assert REDACTED in text


@pytest.mark.parametrize(
    "text",
    [
        f"use {OPENAI_KEY} now",
        f"key={ANTHROPIC_KEY}",
        f"LANGSMITH_API_KEY is {LANGSMITH_KEY}.",
        f"curl -H 'Authorization: Bearer {JWT}'",
        "Authorization: Bearer abc123def456",
        f"bearer {JWT}",
        "BEARER sOmEtOkEn",
        'config {"api_key": "hunter2-value"}',
        "password=hunter2-value&user=bob",
    ],
)
def test_credentials_in_text_are_redacted(text: str) -> None:
    for payload in (text, TextAccessor(text), {"k": [text]}, (text,), ValueError(text)):
        out = dumped(payload)
        for needle in (
            OPENAI_KEY,
            ANTHROPIC_KEY,
            LANGSMITH_KEY,
            JWT,
            "abc123def456",
            "sOmEtOkEn",
            "hunter2",
        ):
            assert needle not in out
        assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "the ring-bearer of the fellowship",
        "Bearer bonds, the bearer instrument",
        "task-0123456789abcdefghij and desk-0123456789abcdefghij",
        "sk-short",
        "a secret garden",
        "passwords should be long",
    ],
)
def test_ordinary_text_is_not_redacted(text: str) -> None:
    assert redact_text(text) == text


def test_secrets_cannot_leak_through_messages_metadata_headers_or_errors() -> None:
    event = {
        "event": "on_chat_model_end",
        "metadata": {
            "ls_provider": "openai",
            "headers": {
                "Authorization": f"Bearer {JWT}",
                "x-api-key": ANTHROPIC_KEY,
                "Accept": "json",
            },
            "config": {"credentials": {"user": "u", "pw": "hunter2-value"}},
        },
        "data": {
            "output": AIMessage(
                content=f"your key is {OPENAI_KEY}",
                additional_kwargs={
                    "api_key": "hunter2-value",
                    "headers": {"Cookie": "session=hunter2-value"},
                },
                response_metadata={
                    "request": {"headers": {"authorization": "Basic hunter2-value"}}
                },
                usage_metadata=USAGE,
            ),
            "error": PermissionError(f"invalid api key {LANGSMITH_KEY}; password=hunter2-value"),
            "odd": {(1, "api_key"): OPENAI_KEY, "__sv__": {"token": OPENAI_KEY}},
            "opaque": type("Holder", (), {"__repr__": lambda self: f"Holder({OPENAI_KEY})"})(),
            "keyed_by_secret": {OPENAI_KEY: 1},
        },
    }
    out = dumped(event)
    for needle in (OPENAI_KEY, ANTHROPIC_KEY, LANGSMITH_KEY, JWT, "hunter2"):
        assert needle not in out
    loaded = from_json(to_json(event))
    assert loaded["data"]["output"].usage_metadata == USAGE
    assert loaded["metadata"]["headers"]["Accept"] == "json"
    assert loaded["data"]["error"].type == "PermissionError"


def test_redaction_remembers_clean_strings_only_so_no_secret_is_kept_alive() -> None:
    from streamviz import _redact

    secret = "Authorization: Bearer " + "q" * 20 + "tok3n"
    for _ in range(2):  # the second time answers from what the first remembered
        assert "tok3n" not in redact_text(secret)
        assert redact_text("on_chat_model_stream") == "on_chat_model_stream"
    assert secret not in _redact._clean
    assert "on_chat_model_stream" in _redact._clean

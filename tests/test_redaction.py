"""One redaction layer for every output, and text that is never a reason to fail.

Secrets planted through a real chain (model fields, config, metadata, tags, run names, messages,
tool output, exceptions, custom events, streamed chunks) must reach no output: trace files
(JSONL, Parquet, Arrow, read as raw bytes), the widget's snapshot and payload pane, the offline
page, the printed run tree. Ordinary text (tokens, prose, code) must come through untouched.
Lone surrogates must not make a watch, a widget or a page fail, and files keep them exactly.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from helpers import need_pyarrow
from langchain_core.callbacks import dispatch_custom_event
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool

import streamviz as sv
from streamviz._redact import REDACTED, display_text, is_secret_key, redact_text
from streamviz.demo import DemoChatModel
from streamviz.widgets import TraceWidget
from streamviz.widgets._encode import TraceEncoder

# Each planted secret, and the distinctive part of it that must appear in no output.
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJKd3RTdWJqZWN0OTkifQ."
    "JwtSignatureV4lue_dozjgNryP4J3jVmNHl0w5N"
)
SECRETS = {
    # env-style names (an underscore used to defeat the word boundary)
    "OPENAI_API_KEY=oaEnvV4lue1234567": "oaEnvV4lue1234567",
    "AWS_SECRET_ACCESS_KEY=awsSecr3tV4lue/K7MDENG": "awsSecr3tV4lue",
    "DATABASE_PASSWORD=DbPassW0rd55": "DbPassW0rd55",
    # HTTP credentials
    "Authorization: Basic dXNlcjpzM2NyM3RCYXNpYw==": "dXNlcjpzM2NyM3RCYXNpYw",
    "Authorization: Token TokV4lue9944b09199c62bcf": "TokV4lue9944b09199c62bcf",
    "Cookie: sessionid=CookieSess1on42; csrftoken=CsrfT0ken77": "CookieSess1on42",
    "Cookie: theme=dark; csrftoken=CsrfT0ken77": "CsrfT0ken77",
    "Bearer BearerV4lue0123456789abc": "BearerV4lue0123456789abc",
    # passwords in URLs, keys in queries
    "postgres://admin:PgPassW0rd9@db.internal:5432/app": "PgPassW0rd9",
    "redis://:RedisPw0rd7@cache:6379/0": "RedisPw0rd7",
    "https://maps.googleapis.com/maps/api/js?key=AIzaSyA1234567890abcdefghijklmnopqrstuv": (
        "AIzaSyA1234567890abcdefghijklmnopqrstuv"
    ),
    # token formats
    "ghp_GitHubTokV4lue1234567890abcdefghij": "GitHubTokV4lue1234567890",
    "hf_HuggingFaceV4lue1234567890abcdefg": "HuggingFaceV4lue1234567890",
    "xoxb-111122223333-444455556666-SlackV4lue": "SlackV4lue",
    "AKIAIOSFODNN7TAG0001": "IOSFODNN7TAG0001",
    JWT: "JwtSignatureV4lue",
    "sk-proj-OpenAIProjV4lue0123456789": "OpenAIProjV4lue0123456789",
    "lsv2_pt_LangSmithV4lue0123456789": "LangSmithV4lue0123456789",
}
# Values of keys that name secrets (metadata, config, dicts in payloads).
KEYED = {
    "auth": "authV4lue0001",
    "credential": "credentialV4lue0002",
    "pwd": "pwdV4lue0003",
    "passphrase": "passphraseV4lue0004",
    "dsn": "dsnV4lue0005",
    "connection_string": "connStrV4lue0006",
    "jwt": "jwtKeyV4lue0007",
    "access_key": "accessKeyV4lue0008",
    "Ocp-Apim-Subscription-Key": "subscrKeyV4lue0009",
    "access_token": "accessTokV4lue0010",
}
CONFIGURED = {"db_password": "cfgDbPassV4lue0011", "user_api_key": "cfgApiKeyV4lue0012"}
MODEL_KEY, MODEL_ENDPOINT_PW = "mdlApiKeyV4lue0013", "mdlEndpointPw0014"
CUSTOM_NAME = "deploy ghp_CustomNameV4lue1234567890abcdefgh"

PLANTED = [*SECRETS.values(), *KEYED.values(), *CONFIGURED.values(), MODEL_KEY, MODEL_ENDPOINT_PW]
PLANTED.append("CustomNameV4lue1234567890")


class KeyedChatModel(DemoChatModel):
    """A demo model configured the way hosted ones are: a key and an endpoint as fields."""

    api_key: str = ""
    endpoint: str = ""


def planted_chain():
    """A real chain through which every secret reaches the trace somewhere."""
    texts = list(SECRETS)
    model = KeyedChatModel(
        time_to_first_token=0,
        token_delay=0,
        responses=["All good, nothing to repeat."],
        api_key=MODEL_KEY,  # model fields: in its repr (the exception) and the custom event
        endpoint=f"https://svc:{MODEL_ENDPOINT_PW}@llm.internal/v1",
    )
    prompt = ChatPromptTemplate.from_messages(
        [("system", f"Use {texts[3]} and {texts[0]}."), ("human", "{question}")]
    )
    answer = (prompt | model | StrOutputParser()).with_config(
        run_name=texts[1],  # a run name
        tags=[texts[13], texts[14]],  # tags
        metadata=dict(KEYED),  # metadata
    )

    @tool
    def fetch_settings(service: str) -> str:
        """Return the settings of a service."""
        return f"{texts[5]}\n{texts[10]}\nservice={service}"

    def fails(_: dict) -> str:
        raise RuntimeError(f"connect failed: {texts[2]} with {texts[12]}; model {model!r}")

    def custom(question: dict) -> str:
        dispatch_custom_event(
            CUSTOM_NAME, {"header": texts[4], "token": JWT, "model": model, "cookie": texts[6]}
        )
        return "sent"

    def chunks(_: dict):
        # whole-chunk secrets, as a generator would stream lines of a config file
        yield f"line {texts[7]}\n"
        yield f"line {texts[16]}\n"
        yield f"line {texts[17]}\n"
        yield f"line {texts[9]}\n"
        yield f"line {texts[8]}\n"
        yield f"line {texts[11]} {texts[15]}\n"

    def configured(_: dict, config) -> dict:
        return {"thread": "t-1", **config["configurable"]}  # a step that reports its config

    return RunnableParallel(
        configured=RunnableLambda(configured),
        answer=answer,
        settings=RunnableLambda(lambda q: q["question"]) | fetch_settings,
        risky=RunnableLambda(fails).with_fallbacks([RunnableLambda(lambda _: "fallback")]),
        custom=RunnableLambda(custom),
        lines=RunnableLambda(chunks),
    )


@pytest.fixture(scope="module")
def planted_trace():
    config = {"configurable": dict(CONFIGURED)}
    trace = sv.watch(planted_chain(), {"question": "the settings?"}, config, display=False)
    assert trace.result["risky"] == "fallback"
    # Every secret did reach the trace in memory (else the checks below would prove nothing).
    captured = repr(list(trace.events))
    missing = [secret for secret in PLANTED if secret not in captured]
    assert not missing, missing
    return trace


def found_in(text: str) -> list[str]:
    return [secret for secret in PLANTED if secret in text]


def test_at_least_thirty_secrets_are_planted():
    assert len(set(PLANTED)) >= 30


def test_no_planted_secret_reaches_a_trace_file(planted_trace, tmp_path):
    need_pyarrow()
    for suffix in ("jsonl", "parquet", "arrow"):
        path = tmp_path / f"trace.{suffix}"
        planted_trace.save(path)
        raw = path.read_bytes()
        for secret in PLANTED:
            assert secret.encode() not in raw, (suffix, secret)
        # and it loads back with the redaction marks where secrets were
        loaded = sv.Trace.load(path)
        assert len(loaded.events) == len(planted_trace.events)
        assert REDACTED in repr(list(loaded.events))
        assert not found_in(repr(list(loaded.events)))


def test_no_planted_secret_reaches_the_widget_snapshot_or_payload_pane(planted_trace):
    widget = TraceWidget(planted_trace)
    widget.settle()
    try:
        snapshot = json.dumps(widget.snapshot, ensure_ascii=False)
        assert not found_in(snapshot)
        assert REDACTED in snapshot
        names = {row["name"] for row in widget.snapshot["runs"]}
        assert "AWS_SECRET_ACCESS_KEY=[redacted]" in names  # the run name, redacted, still there
        encoder = TraceEncoder(planted_trace)
        encoder.snapshot()
        panes = "\n".join(encoder.payload(seq)["text"] for seq in range(len(planted_trace.events)))
        assert not found_in(panes)
        assert '"auth": "[redacted]"' in panes  # metadata keys stay, their values do not
    finally:
        widget.close()


def test_no_planted_secret_reaches_the_offline_page_or_the_printed_tree(planted_trace, tmp_path):
    path = sv.write_html(planted_trace, tmp_path / "page.html")
    page = path.read_text(encoding="utf-8")
    assert not found_in(page)
    # the snapshot's columns are embedded as base64: look inside them too
    blobs = re.findall(r'\{"\$base64":\s*"([A-Za-z0-9+/=]*)"\}', page)
    assert blobs
    inside = "\n".join(base64.b64decode(blob).decode("utf-8", "replace") for blob in blobs)
    assert not found_in(inside)
    assert not found_in(planted_trace.format_tree())


ORDINARY = [
    "The key to a good password reset flow is a short-lived token.",
    "the author signed the book; basic usage; Bearer of bad news; Asia; connection pooling",
    "def get(key, token):\n    return cache[key][token]  # auth check: see credentials.md",
    "dGhpcyBpcyBiYXNlNjQgdGV4dA== aGVsbG8gd29ybGQ= c29tZSBiYXNlNjQgd29yZHM=",
    '{"input_tokens": 7, "output_tokens": 48, "max_tokens": 256, "token": "Hello", "key": "k1"}',
    "time 12:30, ratio 3:4, https://example.com/docs?page=2&lang=en, user@example.com",
    "x = {'keyword': 'passage', 'author': 'Ann', 'tokenizer': 'bpe'}",
    "SELECT password_hash FROM users WHERE id = :id",
    "task-1234567890abcdefghijkl mask-abcdefghijklmnop1234 risk-free",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_not_hidden(text):
    assert redact_text(text) == text


def test_streamed_ordinary_tokens_reach_every_output_whole(tmp_path):
    text = " ".join(ORDINARY)
    model = DemoChatModel(time_to_first_token=0, token_delay=0, responses=[text])
    trace = sv.watch(model | StrOutputParser(), "hi", display=False)
    assert trace.result == text
    path = tmp_path / "t.jsonl"
    trace.save(path)
    loaded = sv.Trace.load(path)
    pieces = [e["data"]["chunk"] for e in loaded.events if e["event"] == "on_parser_stream"]
    assert "".join(pieces) == text
    widget = TraceWidget(trace)
    widget.settle()
    try:
        snapshot = widget.snapshot
        model_stream = snapshot["kinds"].index("on_chat_model_stream")
        events = snapshot["events"]
        shown = [
            piece
            for piece, kind in zip(events["text"], events["kind"], strict=True)
            if kind == model_stream
        ]
        assert "".join(shown) == text
        assert REDACTED not in json.dumps(widget.snapshot)
    finally:
        widget.close()


@pytest.mark.parametrize(
    ("secret", "kept"),
    [
        ("OPENAI_API_KEY=oaEnvV4lue1234567", "OPENAI_API_KEY="),
        ("export AWS_SECRET_ACCESS_KEY=abc/def", "export AWS_SECRET_ACCESS_KEY="),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: "),
        ("postgres://admin:pass@db:5432/x", "postgres://admin:"),
        ("curl 'https://x.io/v1?key=AIzaSyA1234567890abcdefghijklmnopqrstuv&q=1'", "&q=1"),
        ('{"Ocp-Apim-Subscription-Key": "0123456789abcdef"}', '"Ocp-Apim-Subscription-Key": '),
        ('password = "correct horse battery staple"', 'password = "'),
    ],
)
def test_text_keeps_what_says_where_the_secret_was(secret, kept):
    redacted = redact_text(secret)
    assert REDACTED in redacted and kept in redacted
    for word in ("oaEnvV4lue", "abc/def", "dXNlcjpwYXNz", ":pass@", "AIzaSy", "0123456789abcdef",
                 "horse"):  # fmt: skip
        assert word not in redacted


@pytest.mark.parametrize(
    "key",
    ["auth", "credential", "pwd", "passphrase", "dsn", "connection_string", "jwt", "access_key",
     "Ocp-Apim-Subscription-Key", "access_token", "OPENAI_API_KEY", "db_pass", "sentryDsn"],
)  # fmt: skip
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["author", "token", "tokens", "input_tokens", "max_tokens", "key", "keyword", "passage",
     "langgraph_auth_user", "authentication_method", "connection", "monkey"],
)  # fmt: skip
def test_ordinary_keys(key):
    assert not is_secret_key(key)


def test_added_patterns_and_keys_reach_every_output(tmp_path, monkeypatch):
    from streamviz import _redact

    # Registry changes are process-wide: restore what this test adds.
    monkeypatch.setattr(_redact, "_SECRET_NAMES", set(_redact._SECRET_NAMES))
    monkeypatch.setattr(_redact, "_registry", _redact._Registry())
    monkeypatch.setattr(_redact, "_clean", set())
    monkeypatch.setattr(_redact, "_clean_long", set())
    _redact._is_secret_short_key.cache_clear()
    sv.redaction.add_pattern(r"emp-\d{6}", hints=["emp-"])
    sv.redaction.add_pattern(r"badge no\. (?P<secret>\w+)", hints=["badge"])
    sv.redaction.add_secret_key("tenantCode")
    try:
        chain = RunnableLambda(lambda x: f"{x} badge no. B4dgeV4lue").with_config(
            metadata={"tenant_code": "T3nantV4lue"}, run_name="emp-123456 run"
        )
        trace = sv.watch(chain, "for emp-654321:", display=False)
        path = tmp_path / "t.jsonl"
        trace.save(path)
        page = sv.write_html(trace, tmp_path / "t.html").read_text(encoding="utf-8")
        widget = TraceWidget(trace)
        widget.settle()
        snapshot = json.dumps(widget.snapshot)
        widget.close()
        for output in (path.read_text(encoding="utf-8"), page, snapshot):
            for secret in ("123456", "654321", "B4dgeV4lue", "T3nantV4lue"):
                assert secret not in output
        assert "badge no. [redacted]" in path.read_text(encoding="utf-8")
        assert redact_text("TENANT-CODE: abc") == "TENANT-CODE: [redacted]"
    finally:
        _redact._is_secret_short_key.cache_clear()


# ---------------------------------------------------------------- text is never a reason to fail

SPLIT_EMOJI = ["pieces: \ud83d", "\ude00 done"]  # 😀 split across two chunks
ESCAPED_NAME = "report-\udcff\udcfe.csv"  # a non-UTF-8 file name, read with surrogateescape


def surrogate_chain():
    def stream(_):
        yield SPLIT_EMOJI[0]
        yield SPLIT_EMOJI[1]

    def opened(_):
        return {"file": ESCAPED_NAME, "text": "ok"}

    return (
        RunnableLambda(stream)
        | RunnableLambda(lambda s: s).with_config(run_name=f"open {ESCAPED_NAME}")
        | RunnableLambda(opened)
    )


def test_watch_returns_the_result_whatever_the_payload_holds():
    # A widget shown (display=True): its final update carries the trace.
    trace = sv.watch(surrogate_chain(), "x", display=True)
    assert trace.result == {"file": ESCAPED_NAME, "text": "ok"}
    sv.close_widgets(trace)


KERNEL_CELLS = [
    """
import streamviz as sv
from langchain_core.runnables import RunnableLambda

def stream(_):
    yield "pieces: \\ud83d"
    yield "\\ude00 done"

name = b"report-\\xff.csv".decode("utf-8", "surrogateescape")
chain = RunnableLambda(stream) | RunnableLambda(lambda s: {"file": name, "text": s})
""",
    "trace = sv.watch(chain, 'x')\nprint(repr(trace.result['text']))",
    "sv.show(trace)",
    "print(sv.write_html(trace, 'page.html').stat().st_size > 0)",
]


def test_in_a_kernel_watch_show_and_write_html_work_with_lone_surrogates(tmp_path):
    from notebook_runs import execute_cells

    notebook = execute_cells(KERNEL_CELLS, tmp_path / "nb", allow_errors=True)
    outputs = [cell.outputs for cell in notebook.cells]
    errors = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
    assert not errors, [(e["ename"], e["evalue"]) for e in errors]
    assert outputs[1][-1]["text"].strip() == repr("pieces: \ud83d\ude00 done")
    assert outputs[3][-1]["text"].strip() == "True"
    page = (tmp_path / "nb" / "page.html").read_text(encoding="utf-8")
    assert "report-\ufffd.csv" in page


def test_widget_and_page_show_a_replacement_for_lone_surrogates(tmp_path):
    trace = sv.watch(surrogate_chain(), "x", display=False)
    widget = TraceWidget(trace)
    widget.settle()
    try:
        state = json.dumps(widget.snapshot, ensure_ascii=False)
        state.encode("utf-8")  # what a kernel's comm does with it
        assert "pieces: \ufffd" in state and "\ufffd done" in state
        assert "open report-\ufffd\ufffd.csv" in state
        payloads = "".join(widget._encoder.payload(seq)["text"] for seq in range(len(trace)))
        payloads.encode("utf-8")
        assert "report-\ufffd\ufffd.csv" in payloads
        widget.get_state()  # what the comm serialises
    finally:
        widget.close()
    page = sv.write_html(trace, tmp_path / "page.html").read_text(encoding="utf-8")
    assert "report-\ufffd\ufffd.csv" in page
    tree = trace.format_tree()
    tree.encode("utf-8")
    assert "open report-\ufffd\ufffd.csv" in tree


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_files_keep_lone_surrogates_exactly(tmp_path, suffix):
    if suffix != "jsonl":
        need_pyarrow()
    trace = sv.watch(surrogate_chain(), "x", display=False)
    path = tmp_path / f"t.{suffix}"
    trace.save(path)
    loaded = sv.Trace.load(path)
    chunks = [e["data"]["chunk"] for e in loaded.events if e["event"] == "on_chain_stream"]
    assert SPLIT_EMOJI[0] in chunks and SPLIT_EMOJI[1] in chunks
    names = {run.name for run in loaded.runs.values()}
    assert f"open {ESCAPED_NAME}" in names
    ends = [e["data"].get("output") for e in loaded.events if e["event"] == "on_chain_end"]
    assert {"file": ESCAPED_NAME, "text": "ok"} in ends


def test_display_text():
    assert display_text("a\ud83db") == "a\ufffdb"
    assert display_text("😀 ok") == "😀 ok"
    assert display_text("key=AKIAIOSFODNN7EXAMPLE \udcff") == f"key={REDACTED} \ufffd"


def test_a_comparison_page_shows_no_secret():
    def traced(name):
        chain = RunnableLambda(lambda x: x).with_config(run_name=name)
        return sv.watch(chain, "x", display=False)

    a = traced("step OPENAI_API_KEY=oaCmpV4lue123")
    b = traced("other step")
    page = sv.compare(a, b)._repr_html_()
    assert "oaCmpV4lue123" not in page and "OPENAI_API_KEY=[redacted]" in page


CONSOLE_SCRIPT = """
import streamviz as sv
from langchain_core.runnables import RunnableLambda

def stream(_):
    yield "pieces: \\ud83d"
    yield "\\ude00 done"

trace = sv.watch(RunnableLambda(stream).with_config(run_name="OPENAI_API_KEY=oaConsV4lue1"), "x")
print("RESULT", ascii(trace.result))
"""


def test_a_watch_printing_to_a_utf8_console_returns_the_result():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}  # strict: a lone surrogate cannot pass
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT], capture_output=True, env=env, timeout=300
    )
    out = done.stdout.decode("utf-8")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    assert "RESULT 'pieces: \\ud83d\\ude00 done'" in out
    assert "pieces: \ufffd" in out and "oaConsV4lue1" not in out


def test_frames_and_comparisons_keep_a_lone_surrogate_exactly():
    model = DemoChatModel.for_benchmark(3)
    name = "half an emoji \ud83d here"
    with sv.capture() as first:
        model.invoke("x", {"run_name": name})
    with sv.capture() as second:
        model.invoke("x", {"run_name": name})
    assert first.runs_df()["name"].tolist() == [name]  # pandas' Arrow strings cannot hold it
    assert name in first.events_df()["name"].tolist()
    comparison = sv.compare(first, second)
    assert comparison.to_frame()["name_a"].tolist() == [name]
    assert "\ufffd" in comparison._repr_html_()  # shown with a visible replacement

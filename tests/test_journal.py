"""A trace written to its file while it is captured: ``sv.capture(path=...)``, ``watch(path=)``.

What a user checks: the file holds what ``trace.save`` would write once the run is over; it
opens while the run goes on, with what was written so far; a program killed mid-run leaves a
file with every event written before the kill; a file that cannot be written costs nothing
but a logged error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
import warnings
from pathlib import Path

import pytest
from helpers import eventually
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

import streamviz as sv
from streamviz._errors import internal_error_counts
from streamviz._journal import Journal
from streamviz.demo import DemoChatModel
from streamviz.demo.graphs import build_joke_graph

ROOT = Path(__file__).resolve().parents[1]


def chain(tokens: int = 40, token_delay: float = 0.0):
    model = DemoChatModel(
        time_to_first_token=0, token_delay=token_delay, responses=[" ".join(["word"] * tokens)]
    )
    return ChatPromptTemplate.from_template("tell me about {topic}") | model | StrOutputParser()


def outline(trace: sv.Trace) -> list[tuple]:
    """What a trace holds, without ids and times: each event's kind, name and chunk text."""
    chunks = [e["data"].get("chunk") for e in trace.events]
    texts = [getattr(chunk, "content", chunk) for chunk in chunks]
    return [(e["event"], e["name"], text) for e, text in zip(trace.events, texts, strict=True)]


def lines_of(path: Path) -> list[bytes]:
    """The complete lines of a file (a line still being written is left out)."""
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1].splitlines()


def load_quietly(path: Path) -> sv.Trace:
    """Load a file that may end in a line cut off mid-write (skipped, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.TraceFileWarning)
        return sv.Trace.load(path)


def header_of(path: Path) -> dict:
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    del header["created"]  # when the file was written
    return header


def assert_journal_equals_save(journal: Path, trace: sv.Trace, tmp_path: Path) -> None:
    """The journal holds the very lines ``trace.save`` writes (the header's write time aside)."""
    saved = tmp_path / "saved.jsonl"
    trace.save(saved)
    assert header_of(journal) == header_of(saved)
    event_lines = journal.read_bytes().split(b"\n")[1:]
    assert len(event_lines) == len(trace) + 1  # and the final newline
    assert event_lines == saved.read_bytes().split(b"\n")[1:]
    from_journal = sv.Trace.load(journal)
    assert (from_journal.name, from_journal.created) == (trace.name, trace.created)
    assert [run.status for run in from_journal.runs.values()] == [
        run.status for run in trace.runs.values()
    ]


# --- after the run: the file is what trace.save writes -------------------------------------------


def test_a_capture_block_leaves_the_file_trace_save_would_write(tmp_path):
    path = tmp_path / "run.jsonl"
    with sv.capture(path=path, name="two calls") as trace:
        chain().invoke({"topic": "parrots"})
        list(chain(tokens=7).stream({"topic": "owls"}))
    assert [root.status for root in trace.roots] == ["ok", "ok"]
    assert_journal_equals_save(path, trace, tmp_path)


@pytest.mark.parametrize("how", ["watch", "awatch", "watch with use_async"])
def test_a_watch_leaves_the_file_trace_save_would_write(tmp_path, how):
    path = tmp_path / "graph.jsonl"
    graph, value = build_joke_graph(), {"topic": "ice cream"}
    options = {"display": False, "path": path, "stream_mode": ["updates", "messages"]}
    if how == "awatch":
        trace = asyncio.run(sv.awatch(graph, value, **options))
    else:
        trace = sv.watch(graph, value, use_async=how != "watch", **options)
    assert any("mode" in event for event in trace.events)  # graph parts are in the file too
    assert_journal_equals_save(path, trace, tmp_path)


def test_a_failing_watch_leaves_the_error_in_the_file(tmp_path):
    path = tmp_path / "failed.jsonl"

    def fail(_):
        raise RuntimeError("no luck")

    with pytest.raises(RuntimeError, match="no luck"):
        sv.watch(chain() | fail, {"topic": "x"}, display=False, path=path)
    (root,) = sv.Trace.load(path).roots
    assert root.status == "error" and "no luck" in root.error
    assert_journal_equals_save(path, sv.last_trace(), tmp_path)


def test_secrets_never_reach_the_file(tmp_path):
    path = tmp_path / "run.jsonl"
    config = {"metadata": {"api_key": "sk-live-1234567890abcdefghij", "user": "ann"}}
    with sv.capture(path=path) as trace:
        chain().invoke({"topic": "parrots"}, config)
    text = path.read_text(encoding="utf-8")
    assert "sk-live-1234567890abcdefghij" not in text and '"user":"ann"' in text
    assert sv.Trace.load(path).roots[0].metadata["api_key"] == "[redacted]"
    assert trace.roots[0].metadata["api_key"] == "sk-live-1234567890abcdefghij"


# --- while the run goes on ------------------------------------------------------------------------


def test_the_file_opens_while_the_capture_runs_with_the_events_written_so_far(tmp_path):
    path = tmp_path / "live.jsonl"
    with sv.capture(path=path) as trace:
        stream = chain(tokens=100).stream({"topic": "parrots"})
        for count, _ in enumerate(stream, 1):
            if count == 30:  # the run waits here, in the middle of its answer
                held = len(trace)
                eventually(lambda: len(lines_of(path)) == held + 1)  # noqa: B023
                so_far = load_quietly(path)
                (root,) = so_far.roots
                assert root.status == "running" and root.chunk_count == 30
                assert list(so_far.events) == list(sv.Trace.from_events(trace.window(0)).events)
    assert_journal_equals_save(path, trace, tmp_path)


def test_a_top_level_run_that_ends_is_written_at_once(tmp_path):
    path = tmp_path / "run.jsonl"
    trace = sv.Trace("interval of an hour")
    journal = Journal(trace, path, flush_interval=3600.0)
    try:
        with sv.capture(trace):
            chain().invoke({"topic": "parrots"})
        # Not the hour: the end of the top-level run has the journal write what it holds.
        eventually(lambda: len(lines_of(path)) == len(trace) + 1, "the run's end is written")
        so_far = sv.Trace.from_events(trace.window(0))
        assert list(sv.Trace.load(path).events) == list(so_far.events)
    finally:
        journal.close()


def test_a_file_is_written_before_the_capture_has_events_only_at_its_end(tmp_path):
    path = tmp_path / "empty.jsonl"
    with sv.capture(path=path, name="nothing ran") as trace:
        assert path.exists()
    loaded = sv.Trace.load(path)
    assert (len(loaded), loaded.name, loaded.created) == (0, "nothing ran", trace.created)


def test_a_trace_given_to_capture_is_written_from_its_first_event(tmp_path):
    with sv.capture(name="earlier") as trace:
        chain().invoke({"topic": "first"})
    before = len(trace)
    with sv.capture(trace, path=tmp_path / "all.jsonl"):
        chain().invoke({"topic": "second"})
    assert len(trace) > 2 * before - 1
    assert_journal_equals_save(tmp_path / "all.jsonl", trace, tmp_path)


# --- a killed program ----------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    import streamviz as sv
    from streamviz.demo import DemoChatModel

    journal, side, wanted = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    # A run far longer than the test: 100,000 tokens, a millisecond apart.
    model = DemoChatModel(
        time_to_first_token=0, token_delay=0.001, responses=[" ".join(["word"] * 100_000)]
    )
    chain = ChatPromptTemplate.from_template("tell me about {x}") | model | StrOutputParser()

    def report(trace):
        # Wait until the journal holds `wanted` whole event lines, then hand over (through a
        # file of its own) the events the program had then, and say how many were written.
        while True:
            data = journal.read_bytes() if journal.exists() else b""
            written = data.count(b"\\n") - 1  # complete lines, less the header
            if written >= wanted:
                break
            time.sleep(0.01)
        sv.Trace.from_events(trace.window(0, written)).save(side)
        print(written, flush=True)

    with sv.capture(path=journal) as trace:
        threading.Thread(target=report, args=(trace,), daemon=True).start()
        for _ in chain.stream({"x": "y"}):
            pass
    print("the run ended before it was killed", flush=True)
    """
)


def test_a_program_killed_mid_run_leaves_every_event_written_before_the_kill(tmp_path):
    journal, side = tmp_path / "run.jsonl", tmp_path / "side.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(journal), str(side), "500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120.0)
        assert ready, "the child never reported (hang guard)"
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)  # mid-run: the model streams for another 100 s
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert line.strip().isdigit(), (line, child.stderr.read().decode(errors="replace"))
    written = int(line)
    assert written >= 500
    loaded, expected = load_quietly(journal), sv.Trace.load(side)
    assert len(expected) == written
    assert len(loaded) >= written
    assert list(loaded.events)[:written] == list(expected.events)
    (root,) = loaded.roots
    assert root.status == "running"  # it was killed; what the file holds still loads


# --- a file that cannot be written ----------------------------------------------------------------


def test_a_file_that_cannot_be_created_is_logged_and_the_capture_is_whole(tmp_path, caplog):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    path = blocker / "run.jsonl"
    caplog.set_level(logging.WARNING, logger="streamviz")
    with sv.capture(path=path) as trace:
        result = chain().invoke({"topic": "parrots"})
    assert result == " ".join(["word"] * 40)
    with sv.capture() as reference:
        chain().invoke({"topic": "parrots"})
    assert outline(trace) == outline(reference) and trace.roots[0].status == "ok"
    journal_logs = [r for r in caplog.records if "trace journal" in r.getMessage()]
    assert len(journal_logs) == 1 and str(path) in journal_logs[0].getMessage()
    assert not path.exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_is_logged_once_and_the_capture_is_whole(caplog):
    caplog.set_level(logging.WARNING, logger="streamviz")
    key = "trace journal '/dev/full' (writing stopped):OSError"
    before = internal_error_counts().get(key, 0)
    with sv.capture(path="/dev/full") as trace:
        for topic in ("parrots", "owls", "cats"):
            chain().invoke({"topic": topic})
    with sv.capture() as reference:
        for topic in ("parrots", "owls", "cats"):
            chain().invoke({"topic": topic})
    assert [root.status for root in trace.roots] == ["ok", "ok", "ok"]
    assert outline(trace) == outline(reference)
    assert internal_error_counts()[key] == before + 1  # once: the journal stops writing


def test_a_columnar_path_is_refused_before_anything_runs(tmp_path):
    for name in ("run.parquet", "run.arrow"):
        with pytest.raises(ValueError, match="JSON Lines"), sv.capture(path=tmp_path / name):
            pytest.fail("the block must not run")
        with pytest.raises(ValueError, match="JSON Lines"):
            sv.watch(chain(), {"topic": "x"}, display=False, path=tmp_path / name)
        assert not (tmp_path / name).exists()


def test_a_path_given_as_a_string_works_and_no_writer_thread_outlives_the_watch(tmp_path):
    path = str(tmp_path / f"{uuid.uuid4().hex}.jsonl")
    trace = sv.watch(chain(), {"topic": "x"}, display=False, path=path)
    assert len(sv.Trace.load(path)) == len(trace)
    assert not [t for t in threading.enumerate() if t.name == "streamviz-journal"]

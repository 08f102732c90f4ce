"""A LangGraph server that shuts down in the middle of a run: the trace says the run did not end."""

from __future__ import annotations

import threading
import time
import warnings

from langgraph_sdk import get_sync_client
from langgraph_server import LangGraphServer

import streamviz as sv


def test_a_server_shut_down_mid_run_leaves_an_error_root_and_every_token_that_came(tmp_path):
    server = LangGraphServer.start(tmp_path / "app", name="shutdown")
    try:
        client = get_sync_client(url=server.url)
        thread = client.threads.create()
        before = sv.last_trace()
        outcome: dict[str, object] = {}

        def watch() -> None:
            try:
                with warnings.catch_warnings():  # the SDK warns when it tries to reconnect
                    warnings.simplefilter("ignore")
                    sv.watch_remote(
                        client,
                        thread["thread_id"],
                        "stalling",  # a token every ~20 ms, 60 of them
                        input={"question": "why?"},
                        stream_mode="messages-tuple",
                        display=False,
                    )
            except BaseException as error:  # what the program sees
                outcome["error"] = error

        watcher = threading.Thread(target=watch)
        watcher.start()
        trace = before
        while trace is before or sum(e.get("mode") == "messages" for e in trace.events) < 5:
            assert watcher.is_alive(), outcome.get("error") or "the run ended before the shutdown"
            time.sleep(0.02)  # waiting for tokens to come, not proving anything did not happen
            trace = sv.last_trace()
        server.stop()  # SIGTERM to its process group: a graceful shutdown, then SIGKILL
        watcher.join()
    finally:
        server.stop()
    # The SDK tries to reconnect, then gives up: the program gets an error, not a cut result.
    assert "error" in outcome
    (root,) = trace.roots
    assert root.status == "error"
    assert root.error.startswith("TransportError")
    tokens = [e for e in trace.events if e.get("mode") == "messages"]
    assert len(tokens) >= 5
    assert trace.events[-1]["event"] == "on_chain_error"

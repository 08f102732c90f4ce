"""A LangGraph server run whose stream stops early: the trace says the run did not end.

The server shuts down mid-run (the SDK gives up reconnecting: an error), or a proxy ends the
stream cleanly mid-run (no error: streamviz asks the server for the run's status).
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from typing import Any

import httpx
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
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


class CuttingProxy(httpx.BaseTransport):
    """What a proxy that times a stream out does: the run's stream ends cleanly after a few
    parts, without the ``Location`` a client could reconnect to; other requests pass."""

    def __init__(self, parts: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.parts = parts
        self.cut = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/runs/stream"):
            return response
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"location"]
        return httpx.Response(
            response.status_code, headers=headers, stream=self._first_parts(response.stream)
        )

    def _first_parts(self, stream: Any) -> httpx.SyncByteStream:
        proxy = self

        class First(httpx.SyncByteStream):
            def __iter__(self):
                seen = 0
                for chunk in stream:
                    seen += chunk.count(b"\n\n") + chunk.count(b"\r\n\r\n")
                    yield chunk
                    if seen >= proxy.parts:
                        proxy.cut += 1
                        return  # a clean end: the client cannot tell it from a finished run

            def close(self) -> None:
                stream.close()

        return First()

    def close(self) -> None:
        self.inner.close()


class AsyncCuttingProxy(httpx.AsyncBaseTransport):
    """:class:`CuttingProxy` for the SDK's async client."""

    def __init__(self, parts: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.parts = parts
        self.cut = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/runs/stream"):
            return response
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"location"]
        return httpx.Response(
            response.status_code, headers=headers, stream=self._first_parts(response.stream)
        )

    def _first_parts(self, stream: Any) -> httpx.AsyncByteStream:
        proxy = self

        class First(httpx.AsyncByteStream):
            async def __aiter__(self):
                seen = 0
                async for chunk in stream:
                    seen += chunk.count(b"\n\n") + chunk.count(b"\r\n\r\n")
                    yield chunk
                    if seen >= proxy.parts:
                        proxy.cut += 1
                        return

            async def aclose(self) -> None:
                await stream.aclose()

        return First()

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_stream_cut_cleanly_mid_run_is_marked_truncated_by_asking_the_server(tmp_path):
    server = LangGraphServer.start(tmp_path / "app", name="cut")
    try:
        proxy = CuttingProxy(parts=12)
        client = SyncLangGraphClient(httpx.Client(base_url=server.url, transport=proxy))
        thread = client.threads.create()
        trace = sv.watch_remote(
            client,
            thread["thread_id"],
            "stalling",  # a token every ~20 ms, 60 of them, a stall before token 40
            input={"question": "why?"},
            stream_mode="messages-tuple",
            display=False,
        )  # the program gets what came, no error: the stream ended as a finished one does
        assert proxy.cut == 1
        (root,) = trace.roots
        assert root.status == "error"
        assert root.error.startswith("StreamTruncated")
        assert "still running" in root.error or "still pending" in root.error
        tokens = [e for e in trace.events if e.get("mode") == "messages"]
        assert 0 < len(tokens) < 60

        # A run whose stream is not cut ends ok: the server says it finished.
        whole = sv.watch_remote(
            get_sync_client(url=server.url),
            thread["thread_id"],
            "stalling",
            input={"question": "why?"},
            stream_mode="messages-tuple",
            display=False,
        )
        assert whole.roots[0].status == "ok"

        # The same through the SDK's async client (awatch_remote asks with await).
        async def cut_async() -> sv.Trace:
            async_proxy = AsyncCuttingProxy(parts=12)
            aclient = LangGraphClient(httpx.AsyncClient(base_url=server.url, transport=async_proxy))
            athread = await aclient.threads.create()
            traced = await sv.awatch_remote(
                aclient,
                athread["thread_id"],
                "stalling",
                input={"question": "why?"},
                stream_mode="messages-tuple",
                display=False,
            )
            assert async_proxy.cut == 1
            return traced

        (async_root,) = asyncio.run(cut_async()).roots
        assert async_root.status == "error" and async_root.error.startswith("StreamTruncated")
    finally:
        server.stop()

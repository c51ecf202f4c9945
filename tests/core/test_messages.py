"""Error messages that say what went wrong and what to do instead (issue 18)."""

from __future__ import annotations

import asyncio
import gc
import http.server
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, RetryConfig
from tests.core.support import LocalServer

NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def threaded_url() -> Iterator[str]:
    """A loopback server on its own thread, so that it serves whichever loop asks."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_client_used_from_another_event_loop_says_so(threaded_url: str) -> None:
    client = HTTPClient(NO_RETRY)
    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(client.get(threaded_url)).is_ok()
        with pytest.raises(RuntimeError, match="opened on another event loop") as caught:
            asyncio.run(client.get(threaded_url))
        assert "create the client inside the loop that uses it" in str(caught.value)
        first.run_until_complete(client.aclose())
    finally:
        first.close()


@pytest.mark.parametrize("kind", ["HTTPClient", "BaseURLHTTPClient"])
async def test_an_unclosed_client_warns_once_naming_our_class(kind: str) -> None:
    async with LocalServer() as server:
        client: HTTPClient | BaseURLHTTPClient
        if kind == "HTTPClient":
            client = HTTPClient(NO_RETRY)
            await client.get(server.url_for("/"))
        else:
            client = BaseURLHTTPClient(server.url_for("/"), config=NO_RETRY)
            await client.get("/")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
            await asyncio.sleep(0)
        assert [(w.category, str(w.message)) for w in caught] == [
            (
                ResourceWarning,
                f"unclosed {kind}: close it with `async with {kind}(...) as client:` "
                "or `await client.aclose()`",
            )
        ]


async def test_a_closed_or_never_used_client_does_not_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unused = HTTPClient()
        async with HTTPClient() as closed:
            pass
        del unused, closed
        gc.collect()
    assert caught == []


async def test_stream_without_async_with_says_how_to_use_it() -> None:
    async with HTTPClient(NO_RETRY) as client:
        context: Any = client.stream("GET", "http://127.0.0.1:9/")
        with pytest.raises(TypeError, match=r"async with client\.stream\(method, url\) as"):
            async for _ in context:
                pass
        with pytest.raises(TypeError, match="returns an async context manager"):
            await context

"""``stream()`` against real aiohttp servers on 127.0.0.1, through both clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
from aiohttp import web

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.web import (
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    TimeoutPhase,
)
from lexigram.http import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
    ServerSentEvent,
)
from tests.core.support import LocalServer, eventually

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

T = TypeVar("T")


async def collect(items: AsyncIterator[T], into: list[T]) -> None:
    """Append what ``items`` yields to ``into`` (kept when it ends in an error)."""
    async for item in items:
        into.append(item)


class Upstream:
    """Streaming routes, with counters and what the server saw."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.disconnected = asyncio.Event()
        self.bodies: list[Any] = []

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat", self.chat),
            web.get("/sse", self.sse),
            web.get("/ndjson", self.ndjson),
            web.get("/lines", self.lines),
            web.get("/error", self.error),
            web.get("/endless", self.endless),
            web.get("/infinite", self.infinite),
            web.get("/pause", self.pause),
            web.get("/steady", self.steady),
            web.get("/sse-drop", self.drop),
            web.get("/flaky", self.flaky),
        ]

    def _hit(self, request: web.Request) -> int:
        self.hits[request.path] = count = self.hits.get(request.path, 0) + 1
        return count

    async def _open(self, request: web.Request, content_type: str) -> web.StreamResponse:
        self._hit(request)
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        return response

    async def chat(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        response = await self._open(request, "text/event-stream")
        for token in ["Hel", "lo", " wor", "ld", " ✓"]:
            chunk = {"choices": [{"delta": {"content": token}}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await asyncio.sleep(0.005)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def sse(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/event-stream")
        await response.write(b"\xef\xbb\xbf: hello\r\nretry: 3000\r\n\r\n")
        for index in range(3):
            await response.write(f"id: {index}\nevent: tick\ndata: {index}\n".encode())
            await asyncio.sleep(0.005)
            await response.write(b"\n")
        await response.write(b"data: unfinished\n")
        await response.write_eof()
        return response

    async def ndjson(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "application/x-ndjson")
        body = "".join(json.dumps({"n": n, "s": "é\u2028"}) + "\n" for n in range(50)).encode()
        for start in range(0, len(body), 37):  # splits inside values and characters
            await response.write(body[start : start + 37])
        await response.write_eof()
        return response

    async def lines(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/plain; charset=utf-8")
        for piece in [b"one\r", b"\ntwo\rthree\n", b"f\xc3", b"\xbcnf", b"\n", b"tail"]:
            await response.write(piece)
            await asyncio.sleep(0.002)
        await response.write_eof()
        return response

    async def error(self, request: web.Request) -> web.Response:
        self._hit(request)
        detail = {"error": {"message": "bad request", "padding": "p" * 100_000}}
        return web.json_response(detail, status=400)

    async def endless(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/plain")
        try:
            while True:
                await response.write(b"x" * 65536)
        except (ConnectionError, asyncio.CancelledError):
            self.disconnected.set()
            raise

    async def infinite(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/event-stream")
        try:
            index = 0
            while True:
                await response.write(f"data: {index}\n\n".encode())
                index += 1
                await asyncio.sleep(0.005)
        except (ConnectionError, asyncio.CancelledError):
            self.disconnected.set()
            raise

    async def pause(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/event-stream")
        await response.write(b"data: before\n\n")
        await asyncio.sleep(float(request.query.get("seconds", "0.3")))
        await response.write(b"data: after\n\n")
        await response.write_eof()
        return response

    async def steady(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/plain")
        for index in range(8):
            await asyncio.sleep(0.05)
            await response.write(f"{index}\n".encode())
        await response.write_eof()
        return response

    async def drop(self, request: web.Request) -> web.StreamResponse:
        response = await self._open(request, "text/event-stream")
        await response.write(b"id: 1\ndata: first\n\ndata: sec")
        await asyncio.sleep(0.02)  # let the bytes leave before the connection drops
        assert request.transport is not None
        request.transport.close()
        return response

    async def flaky(self, request: web.Request) -> web.StreamResponse:
        if self._hit(request) == 1:
            return web.Response(status=503, text="warming up", headers={"Retry-After": "0"})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: ready\n\n")
        await response.write_eof()
        return response


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, LocalServer]]:
    state = Upstream()
    async with LocalServer(extra_routes=state.routes()) as server:
        yield state, server


def config(**overrides: Any) -> HTTPClientConfig:
    values: dict[str, Any] = {"retry": RetryConfig(backoff_base=0.01)}
    values.update(overrides)
    return HTTPClientConfig(**values)


# -- both clients, every form ----------------------------------------------------------------------


async def test_llm_style_post_sse_through_both_clients(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    state, server = upstream
    async with (
        HTTPClient(config()) as client,
        client.stream(
            "POST", server.url_for("/v1/chat"), json={"model": "m", "stream": True}
        ) as response,
    ):
        response.raise_for_status()
        assert response.headers["content-type"] == "text/event-stream"
        tokens = [
            event.json()["choices"][0]["delta"]["content"]
            async for event in response.sse()
            if event.data != "[DONE]"
        ]
    assert "".join(tokens) == "Hello world ✓"
    async with (
        BaseURLHTTPClient(f"{server.url}/v1", config=config()) as base,
        base.stream("POST", "/chat", json={"model": "m"}) as response,
    ):
        events = [event async for event in response.sse()]
    assert events[-1] == ServerSentEvent(data="[DONE]")
    assert state.bodies == [{"model": "m", "stream": True}, {"model": "m"}]


async def test_sse_over_the_wire(upstream: tuple[Upstream, LocalServer]) -> None:
    _, server = upstream
    async with HTTPClient(config()) as client, client.stream("GET", server.url_for("/sse")) as r:
        events = [event async for event in r.sse()]
    assert events == [ServerSentEvent(data=str(i), event="tick", id=str(i)) for i in range(3)]
    assert (r.last_event_id, r.retry) == ("2", 3000)


async def test_ndjson_and_lines_through_both_clients(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    _, server = upstream
    async with BaseURLHTTPClient(server.url, config=config()) as base:
        async with base.stream("GET", "/ndjson") as response:
            values = [value async for value in response.ndjson()]
        async with base.stream("GET", "/lines") as response:
            lines = [line async for line in response]
    assert values == [{"n": n, "s": "é\u2028"} for n in range(50)]
    assert lines == ["one", "two", "three", "fünf", "tail"]
    async with HTTPClient(config()) as client:
        async with client.stream("GET", server.url_for("/lines")) as response:
            assert [line async for line in response.lines()] == lines
        async with client.stream("GET", server.url_for("/ndjson")) as response:
            assert len([value async for value in response.ndjson()]) == 50


async def test_raise_for_status_on_a_4xx_stream(upstream: tuple[Upstream, LocalServer]) -> None:
    _, server = upstream
    async with (
        BaseURLHTTPClient(server.url, config=config()) as base,
        base.stream("GET", "/error") as response,
    ):
        assert response.status == 400
        with pytest.raises(HTTPStatusError) as caught:
            response.raise_for_status()
    body = caught.value.response.body
    assert len(body) == 64 * 1024
    assert body.startswith(b'{"error": {"message": "bad request"')
    assert caught.value.status == 400
    assert response.is_closed


# -- release ---------------------------------------------------------------------------------------


async def test_breaking_out_closes_the_connection(upstream: tuple[Upstream, LocalServer]) -> None:
    state, server = upstream
    async with (
        HTTPClient(config()) as client,
        client.stream("GET", server.url_for("/infinite")) as response,
    ):
        async for event in response.sse():
            if event.data == "3":
                break
        # Still inside the block: the abandoned iterator already released the connection.
        assert await eventually(lambda: server.open_connections == 0)
        await asyncio.wait_for(state.disconnected.wait(), 2)
        assert response.is_closed


async def test_an_exception_in_the_loop_frees_the_pool_slot(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    _, server = upstream
    one = config(pool=PoolConfig(max_connections=1, max_connections_per_host=1))
    async with BaseURLHTTPClient(server.url, config=one) as base:

        async def fail_in_the_loop() -> None:
            async with base.stream("GET", "/infinite") as response:
                async for _ in response:
                    raise ValueError("stop")

        with pytest.raises(ValueError, match="stop"):
            await fail_in_the_loop()
        # The only connection of the pool is free again: this would wait for it otherwise.
        async with base.stream("GET", "/sse", timeout=2.0) as response:
            assert len([event async for event in response.sse()]) == 3


# -- timeouts --------------------------------------------------------------------------------------


async def test_a_pause_longer_than_the_idle_timeout(upstream: tuple[Upstream, LocalServer]) -> None:
    _, server = upstream
    async with (
        HTTPClient(config()) as client,
        client.stream("GET", server.url_for("/pause"), idle_timeout=0.1) as response,
    ):
        seen: list[ServerSentEvent] = []
        with pytest.raises(HTTPTimeoutError) as caught:
            await collect(response.sse(), seen)
    assert [event.data for event in seen] == ["before"]
    assert (caught.value.phase, caught.value.timeout) == (TimeoutPhase.IDLE, 0.1)
    assert await eventually(lambda: server.open_connections == 0)


async def test_the_idle_timeout_may_exceed_read_timeout(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    # read_timeout bounds socket reads of the verbs; a stream's body has its own idle bound.
    _, server = upstream
    async with (
        HTTPClient(config(read_timeout=0.1)) as client,
        client.stream("GET", server.url_for("/pause"), idle_timeout=2.0) as r,
    ):
        assert [event.data async for event in r.sse()] == ["before", "after"]


async def test_a_slow_steady_stream_outlives_the_deadline(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    _, server = upstream
    loop = asyncio.get_running_loop()
    async with HTTPClient(config()) as client:
        started = loop.time()
        async with client.stream(
            "GET", server.url_for("/steady"), timeout=0.2, idle_timeout=1.0
        ) as response:
            lines = [line async for line in response]
    assert lines == [str(index) for index in range(8)]
    assert loop.time() - started > 0.3  # longer than the call's deadline


# -- failures --------------------------------------------------------------------------------------


async def test_a_disconnect_carries_what_was_received_and_is_not_retried(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    state, server = upstream
    # GET is retryable, but not once the body began.
    async with (
        HTTPClient(config()) as client,
        client.stream("GET", server.url_for("/sse-drop")) as response,
    ):
        events: list[ServerSentEvent] = []
        with pytest.raises(HTTPStreamDisconnectedError) as caught:
            await collect(response.sse(), events)
    assert events == [ServerSentEvent(data="first", id="1")]
    assert caught.value.received == b"id: 1\ndata: first\n\ndata: sec"
    assert caught.value.bytes_received == len(caught.value.received)
    assert isinstance(caught.value, ConnectionError)
    assert state.hits["/sse-drop"] == 1


async def test_a_503_before_the_body_is_retried(upstream: tuple[Upstream, LocalServer]) -> None:
    state, server = upstream
    async with (
        BaseURLHTTPClient(server.url, config=config()) as base,
        base.stream("GET", "/flaky") as response,
    ):
        assert response.status == 200
        assert [event.data async for event in response.sse()] == ["ready"]
    assert state.hits["/flaky"] == 2


async def test_an_endless_line_hits_the_limit(upstream: tuple[Upstream, LocalServer]) -> None:
    state, server = upstream
    async with (
        HTTPClient(config()) as client,
        client.stream("GET", server.url_for("/endless"), max_line_bytes=256 * 1024) as response,
    ):
        with pytest.raises(HTTPStreamLimitError) as caught:
            async for _ in response:
                pass
        # Failed soon after the limit, not after buffering the stream.
        assert response.bytes_received < 256 * 1024 + 512 * 1024
    assert (caught.value.limit_name, caught.value.limit) == ("max_line_bytes", 256 * 1024)
    await asyncio.wait_for(state.disconnected.wait(), 2)


async def test_connection_refused_raises_from_stream() -> None:
    from lexigram.contracts.web import HTTPConnectionError, HTTPRetryExhaustedError
    from tests.core.support import closed_port

    url = f"http://127.0.0.1:{closed_port()}/sse"
    async with HTTPClient(HTTPClientConfig(retry=RetryConfig(enabled=False))) as client:
        with pytest.raises(HTTPConnectionError):
            async with client.stream("GET", url):
                pass
    async with BaseURLHTTPClient(url, config=config()) as base:
        with pytest.raises(HTTPRetryExhaustedError):
            async with base.stream("GET", "/"):
                pass


# -- metrics ---------------------------------------------------------------------------------------


async def test_metrics_for_the_attempt_and_the_stream(
    upstream: tuple[Upstream, LocalServer],
) -> None:
    _, server = upstream
    recorder = InMemoryMetricsRecorder()
    async with (
        HTTPClient(config(), metrics=recorder) as client,
        client.stream("GET", server.url_for("/steady")) as response,
    ):
        assert len([line async for line in response]) == 8
    by_name = {record.name: record for record in recorder.records}
    assert set(by_name) == {
        "http.request.duration",
        "http.request.status",
        "http.stream.ttfb",
        "http.stream.duration",
    }
    assert by_name["http.request.status"].tags == {"method": "GET", "status": "200"}
    ttfb, duration = by_name["http.stream.ttfb"], by_name["http.stream.duration"]
    assert ttfb.kind == duration.kind == "histogram"
    assert ttfb.tags == duration.tags == {"method": "GET"}
    assert 0.04 < ttfb.value < duration.value
    assert duration.value > 0.35

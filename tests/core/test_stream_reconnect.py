"""Opt-in SSE reconnection (``EventSource`` semantics) against local servers that drop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from lexigram.contracts.web import HTTPStatusError, HTTPStreamDisconnectedError
from lexigram.http import (
    HTTPClient,
    HTTPClientConfig,
    RetryConfig,
    ServerSentEvent,
    SSEReconnect,
)
from tests.core.support import serve

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

Script = Callable[[web.Request, web.StreamResponse, int], Awaitable[None]]


class Server:
    """Answers connection *n* with ``scripts[n]`` (the last repeats); records Last-Event-ID."""

    def __init__(self, *scripts: Script | int) -> None:
        self.scripts = scripts
        self.last_event_ids: list[str | None] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.last_event_ids.append(request.headers.get("Last-Event-ID"))
        count = len(self.last_event_ids)
        script = self.scripts[min(count, len(self.scripts)) - 1]
        if isinstance(script, int):
            return web.Response(status=script)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await script(request, response, count)
        return response


async def drop(request: web.Request) -> None:
    await asyncio.sleep(0.02)  # let the bytes leave first
    assert request.transport is not None
    request.transport.close()


def sends(body: bytes, *, then_drop: bool) -> Script:
    async def script(request: web.Request, response: web.StreamResponse, count: int) -> None:
        await response.write(body)
        if then_drop:
            await drop(request)
        else:
            await response.write_eof()

    return script


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def sleep(delays: list[float]) -> Callable[[float], Awaitable[None]]:
    async def record(delay: float) -> None:
        delays.append(delay)
        await asyncio.sleep(0)

    return record


async def run(
    server: Server,
    reconnect: SSEReconnect,
    sleep: Callable[[float], Awaitable[None]],
    *,
    headers: dict[str, str] | None = None,
) -> tuple[list[ServerSentEvent], int]:
    app = web.Application()
    app.router.add_get("/events", server.handle)
    async with serve(app) as url:
        config = HTTPClientConfig(retry=RetryConfig(enabled=False))
        async with (
            HTTPClient(config, sleep=sleep) as client,
            client.stream("GET", f"{url}/events", headers=headers, reconnect=reconnect) as response,
        ):
            events = [event async for event in response.sse()]
            return events, response.reconnects


async def test_reconnects_with_last_event_id_until_204(
    sleep: Callable[[float], Awaitable[None]], delays: list[float]
) -> None:
    server = Server(
        sends(b"retry: 10\nid: 1\ndata: a\n\ndata: lost", then_drop=True),
        sends(b"id: 2\ndata: b\n\n", then_drop=False),  # a clean end reconnects too
        204,
    )
    events, reconnects = await run(server, SSEReconnect(jitter=0.0), sleep)
    assert events == [
        ServerSentEvent(data="a", id="1", retry=10),
        ServerSentEvent(data="b", id="2"),
    ]
    assert server.last_event_ids == [None, "1", "2"]
    assert reconnects == 2
    assert delays == [0.01, 0.01]  # the server's retry, in seconds


async def test_gives_up_after_max_reconnects_with_the_last_error(
    sleep: Callable[[float], Awaitable[None]], delays: list[float]
) -> None:
    server = Server(sends(b": nothing yet\n", then_drop=True))
    app = web.Application()
    app.router.add_get("/events", server.handle)
    async with (
        serve(app) as url,
        HTTPClient(sleep=sleep) as client,
        client.stream(
            "GET", f"{url}/events", reconnect=SSEReconnect(max_reconnects=2, jitter=0.0)
        ) as response,
    ):
        with pytest.raises(HTTPStreamDisconnectedError):
            async for _ in response.sse():
                pass
    assert len(server.last_event_ids) == 3  # the first connection and two reconnections
    assert delays == [3.0, 3.0]  # the default without a server retry


async def test_an_event_resets_the_count(sleep: Callable[[float], Awaitable[None]]) -> None:
    def numbered(count: int) -> bytes:
        return f"id: {count}\ndata: {count}\n\n".encode()

    async def one_event_then_drop(
        request: web.Request, response: web.StreamResponse, count: int
    ) -> None:
        await response.write(numbered(count))
        await drop(request)

    server = Server(*[one_event_then_drop] * 5, 204)
    events, reconnects = await run(server, SSEReconnect(max_reconnects=1, jitter=0.0), sleep)
    assert [event.data for event in events] == ["1", "2", "3", "4", "5"]
    assert reconnects == 5


async def test_an_error_status_on_reconnection_raises(
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    server = Server(sends(b"data: a\n\n", then_drop=True), 404)
    with pytest.raises(HTTPStatusError) as caught:
        await run(server, SSEReconnect(), sleep)
    assert caught.value.status == 404


async def test_an_empty_id_sends_no_header(sleep: Callable[[float], Awaitable[None]]) -> None:
    server = Server(
        sends(b"id: 7\ndata: a\n\nid\ndata: b\n\n", then_drop=True),
        204,
    )
    events, _ = await run(server, SSEReconnect(), sleep, headers={"Last-Event-ID": "5"})
    assert [(event.data, event.id) for event in events] == [("a", "7"), ("b", "")]
    assert server.last_event_ids == ["5", None]


async def test_the_initial_last_event_id_header_is_kept_until_an_id_arrives(
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    server = Server(sends(b"data: a\n\n", then_drop=True), 204)
    events, _ = await run(server, SSEReconnect(), sleep, headers={"Last-Event-ID": "41"})
    assert events == [ServerSentEvent(data="a", id="41")]
    assert server.last_event_ids == ["41", "41"]


async def test_reconnect_on_end_can_be_turned_off(
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    server = Server(sends(b"data: a\n\n", then_drop=False))
    events, reconnects = await run(server, SSEReconnect(reconnect_on_end=False), sleep)
    assert [event.data for event in events] == ["a"]
    assert (reconnects, len(server.last_event_ids)) == (0, 1)


async def test_a_first_answer_of_204_means_no_events(
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    server = Server(204)
    assert await run(server, SSEReconnect(), sleep) == ([], 0)
    assert len(server.last_event_ids) == 1


async def test_without_a_server_retry_the_default_is_used_with_jitter(
    sleep: Callable[[float], Awaitable[None]], delays: list[float]
) -> None:
    server = Server(sends(b"id: 1\ndata: a\n\n", then_drop=True), 204)
    events, _ = await run(server, SSEReconnect(jitter=0.5, default_retry=0.02), sleep)
    assert [event.data for event in events] == ["a"]
    assert len(delays) == 1
    assert 0.02 <= delays[0] <= 0.03  # default_retry lengthened by up to 50 %


def test_reconnect_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="jitter"):
        SSEReconnect(jitter=-0.1)
    with pytest.raises(TypeError, match="max_reconnects"):
        SSEReconnect(max_reconnects=1.5)  # type: ignore[arg-type]
    assert SSEReconnect(max_retry=1.0).delay(60_000, random=lambda: 0.5) == 1.05


async def test_streams_without_reconnect_end_at_the_drop(
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    server = Server(sends(b"data: a\n\n", then_drop=True))
    app = web.Application()
    app.router.add_get("/events", server.handle)
    async with (
        serve(app) as url,
        HTTPClient(sleep=sleep) as client,
        client.stream("GET", f"{url}/events") as response,
    ):
        got: list[ServerSentEvent] = []
        with pytest.raises(HTTPStreamDisconnectedError):  # noqa: PT012 - events before the drop
            async for event in response.sse():
                got.append(event)
    assert [event.data for event in got] == ["a"]
    assert len(server.last_event_ids) == 1

"""SSE rules real producers exercise: undispatched fields are dropped at the end of a
connection, only a 200 ``text/event-stream`` answer opens an event stream, and a request made
for SSE says so in its headers. Real aiohttp servers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from lexigram.contracts.web import HTTPEventStreamError
from lexigram.http import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    RetryConfig,
    ServerSentEvent,
    SSEDecoder,
    SSEReconnect,
)
from tests.core.support import serve

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

CONFIG = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
QUICK = SSEReconnect(max_reconnects=3, default_retry=0.0, jitter=0.0)


async def no_wait(delay: float) -> None:
    await asyncio.sleep(0)


class Producer:
    """Answers request *n* with ``answers[n]`` (the last repeats) and records its headers."""

    def __init__(self, *answers: tuple[int, str, bytes]) -> None:
        self.answers = answers
        self.headers: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.headers.append({name.lower(): value for name, value in request.headers.items()})
        status, content_type, body = self.answers[min(len(self.headers), len(self.answers)) - 1]
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})


@pytest.fixture
async def base() -> AsyncIterator[tuple[Producer, str]]:
    producer = Producer()
    app = web.Application()
    app.router.add_get("/events", producer.handle)
    async with serve(app) as url:
        yield producer, f"{url}/events"


# -- flush() drops the fields of an event that was never dispatched -------------------------


def test_flush_discards_the_id_of_an_undispatched_event() -> None:
    decoder = SSEDecoder()
    assert [event.id for event in decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b")] == ["1"]
    decoder.flush()
    assert decoder.last_event_id == "1"
    # The next connection: an event without an id keeps the last dispatched one.
    (event,) = decoder.feed(b"data: c\n\n")
    assert (event.data, event.id) == ("c", "1")
    assert decoder.last_event_id == "1"


async def test_a_reconnection_never_resumes_after_an_event_it_did_not_receive(
    base: tuple[Producer, str],
) -> None:
    producer, url = base
    producer.answers = (
        (200, "text/event-stream", b"id: 1\ndata: a\n\nid: 2\ndata: b-never-finished"),
        (200, "text/event-stream", b": keep-alive\n\ndata: c\n\n"),
        (204, "text/plain", b""),
    )
    async with (
        HTTPClient(CONFIG, sleep=no_wait) as client,
        client.stream("GET", url, reconnect=QUICK) as response,
    ):
        events = [(event.data, event.id) async for event in response.sse()]
    assert events == [("a", "1"), ("c", "1")]
    assert [headers.get("last-event-id") for headers in producer.headers] == [None, "1", "1"]


# -- only a 200 text/event-stream answer is an event stream ----------------------------------


@pytest.mark.parametrize(
    ("status", "content_type"),
    [
        (205, "text/event-stream"),
        (210, "text/event-stream"),
        (299, "text/event-stream"),
        (200, "text/plain"),
        (200, "application/json"),
    ],
)
async def test_anything_but_200_event_stream_ends_reconnection_with_a_typed_error(
    base: tuple[Producer, str], status: int, content_type: str
) -> None:
    producer, url = base
    producer.answers = ((status, content_type, b"data: x\n\n"),)
    async with (
        HTTPClient(CONFIG, sleep=no_wait) as client,
        client.stream("GET", url, reconnect=QUICK) as response,
    ):
        with pytest.raises(HTTPEventStreamError) as caught:
            async with asyncio.timeout(10):  # a hang guard: on failure it loops for ever
                _ = [event async for event in response.sse()]
    assert (caught.value.status, caught.value.content_type) == (status, content_type)
    assert len(producer.headers) == 1


async def test_a_reconnection_that_is_not_an_event_stream_ends_it(
    base: tuple[Producer, str],
) -> None:
    producer, url = base
    producer.answers = (
        (200, "text/event-stream; charset=utf-8", b"id: 7\ndata: a\n\n"),
        (200, "text/html", b"data: not-an-event\n\n"),
    )
    seen: list[str] = []

    async def read_all(events: AsyncIterator[ServerSentEvent]) -> None:
        async with asyncio.timeout(10):  # a hang guard
            async for event in events:
                seen.append(event.data)

    async with (
        HTTPClient(CONFIG, sleep=no_wait) as client,
        client.stream("GET", url, reconnect=QUICK) as response,
    ):
        with pytest.raises(HTTPEventStreamError):
            await read_all(response.sse())
    assert seen == ["a"]
    assert len(producer.headers) == 2


# -- a request made for SSE says so -----------------------------------------------------------


async def test_sse_requests_send_accept_and_no_cache(base: tuple[Producer, str]) -> None:
    producer, url = base
    producer.answers = ((204, "text/plain", b""),)
    async with HTTPClient(CONFIG, sleep=no_wait) as client:
        async with client.stream("GET", url, sse=True):
            pass
        async with client.stream("GET", url, reconnect=QUICK):
            pass
        async with client.stream("GET", url, sse=True, headers={"accept": "text/x-custom"}):
            pass
        async with client.stream("GET", url):
            pass
    first, reconnecting, custom, plain = producer.headers
    for headers in (first, reconnecting):
        assert headers["accept"] == "text/event-stream"
        assert headers["cache-control"] == "no-cache"
    assert custom["accept"] == "text/x-custom"
    assert custom["cache-control"] == "no-cache"
    assert plain["accept"] != "text/event-stream"
    assert "cache-control" not in plain


async def test_base_url_clients_mark_sse_requests_too(base: tuple[Producer, str]) -> None:
    producer, url = base
    producer.answers = ((204, "text/plain", b""),)
    root = url.removesuffix("/events")
    async with (
        BaseURLHTTPClient(root, config=CONFIG) as client,
        client.stream("GET", "/events", sse=True),
    ):
        pass
    assert producer.headers[0]["accept"] == "text/event-stream"

"""Scripted streams through ``MockTransport.send_stream``: chunks, delays, endings."""

from __future__ import annotations

import json

import pytest

from lexigram.contracts.web import (
    HTTPBodyTooLargeError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPUsageError,
    RequestContext,
    StreamingResponseProtocol,
    TimeoutPhase,
)
from lexigram.result import Err
from lexigram.testing.http import (
    Chunk,
    FakeClock,
    FakeHTTPClient,
    MockStreamingResponse,
    MockTransport,
    Router,
)

URL = "https://llm.example.com/v1/chat"
SSE = {"Content-Type": "text/event-stream"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router(clock: FakeClock) -> Router:
    return Router(sleep=clock.sleep)


@pytest.fixture
def transport(router: Router) -> MockTransport:
    return MockTransport(router)


def post() -> RequestContext:
    return RequestContext("POST", URL, body=b'{"stream":true}')


async def collect(response: StreamingResponseProtocol) -> list[bytes]:
    return [chunk async for chunk in response.iter_bytes()]


async def test_chunks_arrive_one_by_one_with_their_delays(
    router: Router, transport: MockTransport, clock: FakeClock
) -> None:
    # An SSE event split across chunks, a CRLF split in two, and a pause mid-event.
    router.post(URL).stream(
        "data: hel",
        Chunk("lo\r", delay=0.5),
        b"\n\r\n",
        Chunk(b"data: [DONE]\n\n", delay=2.0),
        headers=SSE,
    )
    response = await transport.send_stream(post())
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.url == URL
    assert response.method == "POST"
    assert await collect(response) == [b"data: hel", b"lo\r", b"\n\r\n", b"data: [DONE]\n\n"]
    assert clock.sleeps == [0.5, 2.0]
    assert isinstance(response, MockStreamingResponse)
    assert response.is_closed


async def test_disconnect_mid_stream_carries_what_was_sent(
    router: Router, transport: MockTransport
) -> None:
    lines = [json.dumps({"n": n}) + "\n" for n in range(3)]
    router.post(URL).stream(*lines, '{"n": 3, "trunc', disconnect=True)
    response = await transport.send_stream(post())
    received: list[bytes] = []

    async def consume() -> None:
        async for chunk in response.iter_bytes():
            received.append(chunk)

    with pytest.raises(HTTPStreamDisconnectedError) as caught:
        await consume()
    sent = "".join(lines).encode() + b'{"n": 3, "trunc'
    assert b"".join(received) == sent
    assert caught.value.received == sent
    assert caught.value.bytes_received == len(sent)
    assert str(caught.value) == f"stream disconnected after {len(sent)} bytes for POST {URL}"
    assert isinstance(caught.value, HTTPConnectionError)


async def test_a_stream_can_end_with_another_error(
    router: Router, transport: MockTransport
) -> None:
    router.post(URL).stream("data: 1\n\n", error=HTTPTimeoutError(phase=TimeoutPhase.IDLE))
    response = await transport.send_stream(post())
    chunks = response.iter_bytes()
    assert await anext(chunks) == b"data: 1\n\n"
    with pytest.raises(HTTPTimeoutError) as caught:
        await anext(chunks)
    assert caught.value.phase is TimeoutPhase.IDLE


async def test_aread_reads_the_rest_within_a_limit(
    router: Router, transport: MockTransport
) -> None:
    router.post(URL).stream("a" * 10, "b" * 10)
    assert await (await transport.send_stream(post())).aread() == b"a" * 10 + b"b" * 10
    response = await transport.send_stream(post())
    with pytest.raises(HTTPBodyTooLargeError, match="larger than 15 bytes"):
        await response.aread(limit=15)


async def test_the_body_is_read_once_and_aclose_stops_it(
    router: Router, transport: MockTransport
) -> None:
    router.post(URL).stream("a", "b", "c")
    response = await transport.send_stream(post())
    chunks = response.iter_bytes()
    assert await anext(chunks) == b"a"
    with pytest.raises(HTTPUsageError, match="already read"):
        response.iter_bytes()
    await response.aclose()
    assert [chunk async for chunk in chunks] == []
    assert isinstance(response, MockStreamingResponse)
    assert response.received == b"a"


async def test_latency_before_the_headers(
    router: Router, transport: MockTransport, clock: FakeClock
) -> None:
    router.post(URL).stream("x", delay=3.0)
    response = await transport.send_stream(post())
    assert await response.aread() == b"x"
    assert clock.sleeps == [3.0]


async def test_a_reply_streams_as_one_chunk(router: Router, transport: MockTransport) -> None:
    router.post(URL).respond(200, json={"a": 1})
    response = await transport.send_stream(post())
    assert await collect(response) == [b'{"a":1}']


async def test_an_error_answer_raises_before_the_headers(
    router: Router, transport: MockTransport
) -> None:
    router.post(URL).raises(HTTPConnectionError)
    with pytest.raises(HTTPConnectionError):
        await transport.send_stream(post())


async def test_a_stream_read_in_full_by_send(router: Router, transport: MockTransport) -> None:
    router.post(URL).stream("ab", Chunk("cd", delay=1.0), headers={"X-Id": "1"})
    response = await transport.send(post())
    assert isinstance(response, HttpResponse)
    assert (response.body, response.headers["x-id"], response.elapsed) == (b"abcd", "1", 1.0)


async def test_a_disconnect_through_the_fake_client_is_a_connection_error(
    router: Router,
) -> None:
    router.post(URL).stream("partial", disconnect=True)
    result = await FakeHTTPClient(router).post(URL)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPStreamDisconnectedError)
    assert result.error.received == b"partial"


async def test_the_call_records_the_streaming_response(
    router: Router, transport: MockTransport
) -> None:
    route = router.post(URL).stream("x")
    response = await transport.send_stream(post())
    assert route.calls.last.response is response
    assert route.calls.last.status == 200
    assert isinstance(response, MockStreamingResponse)
    assert not response.is_closed  # the code under test has not read or closed it yet
    async with response:
        pass
    assert response.is_closed

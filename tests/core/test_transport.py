"""AiohttpTransport against real loopback servers: sending, streaming, lifecycle."""

from __future__ import annotations

import asyncio
import pickle
import time
import warnings
from collections.abc import AsyncIterator

import pytest

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBodyTooLargeError,
    HttpResponse,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    HTTPUsageError,
    RequestContext,
    StreamingResponseProtocol,
    TimeoutPhase,
)
from lexigram.http._config import HTTPClientConfig, PoolConfig
from lexigram.http._deadline import DeadlineTimer
from lexigram.http._transport import AiohttpTransport
from tests.core.support import LocalServer, echo_of, eventually


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    # trust_env off: a proxy variable on the machine running the tests must not interfere.
    async with AiohttpTransport(HTTPClientConfig(trust_env=False)) as instance:
        yield instance


def has_session(transport: AiohttpTransport) -> bool:
    return transport._session is not None


def test_it_is_a_transport() -> None:
    assert isinstance(AiohttpTransport(), HTTPTransportProtocol)


async def test_send_returns_status_url_headers_body_and_elapsed(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    response = await transport.send(RequestContext("GET", server.url_for("/")))

    assert isinstance(response, HttpResponse)
    assert (response.status, response.method, response.body) == (200, "GET", b"ok")
    assert response.url == server.url_for("/")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers.readonly
    assert all(type(name) is str for name in response.headers)
    assert response.elapsed > 0


async def test_send_passes_method_params_headers_and_body(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    context = RequestContext(
        "post",
        server.url_for("/echo?a=1"),
        headers=Headers({"X-Trace": "t-1", "Content-Type": "application/octet-stream"}),
        params=[("b", "2"), ("b", "3")],
        body=b"\x00payload",
    )

    echo = echo_of((await transport.send(context)).body)

    assert echo["method"] == "POST"
    assert echo["query"] == [["a", "1"], ["b", "2"], ["b", "3"]]
    assert echo["headers"]["X-Trace"] == "t-1"
    assert echo["body"] == "\x00payload"


async def test_error_statuses_are_returned_not_raised(
    transport: AiohttpTransport, server: LocalServer
) -> None:
    response = await transport.send(RequestContext("GET", server.url_for("/missing")))

    assert response.status == 404


async def test_redirects_are_followed_unless_disabled(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    followed = await transport.send(RequestContext("GET", server.url_for("/redirect")))
    kept = await transport.send(
        RequestContext("GET", server.url_for("/redirect"), allow_redirects=False)
    )

    assert (followed.status, followed.url) == (200, server.url_for("/echo"))
    assert (kept.status, kept.headers["Location"]) == (302, "/echo")


async def test_the_final_url_carries_the_query_of_each_request(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    # The text of final URLs is cached per URL: each request must still get its own.
    urls = [
        (await transport.send(RequestContext("GET", server.url_for("/"), params=[("q", q)]))).url
        for q in ("a", "b", "a")
    ]

    assert urls == [server.url_for("/?q=a"), server.url_for("/?q=b"), server.url_for("/?q=a")]


async def test_repeated_response_headers_are_joined(transport: AiohttpTransport) -> None:
    from aiohttp import web

    async def two_values(request: web.Request) -> web.Response:
        return web.Response(headers=[("X-Multi", "a"), ("x-multi", "b")])

    async with LocalServer(extra_routes=[web.get("/multi", two_values)]) as local:
        response = await transport.send(RequestContext("GET", local.url_for("/multi")))

    assert response.headers["X-Multi"] == "a, b"
    assert pickle.loads(pickle.dumps(response)).headers == response.headers


# --- deadline -------------------------------------------------------------------------------


async def test_deadline_bounds_the_wait_for_headers(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    with pytest.raises(HTTPTimeoutError) as caught:
        await transport.send(RequestContext("GET", server.url_for("/hold"), timeout=0.1))

    assert caught.value.phase is TimeoutPhase.DEADLINE
    assert caught.value.timeout == 0.1


async def test_long_deadlines_still_fire(
    server: LocalServer, transport: AiohttpTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deadlines above the rounding threshold share a per-second timer; make one "long" here.
    monkeypatch.setattr("lexigram.http._deadline.CEIL_THRESHOLD", 0.0)
    with pytest.raises(HTTPTimeoutError) as caught:
        await transport.send(RequestContext("GET", server.url_for("/hold"), timeout=0.05))

    assert caught.value.phase is TimeoutPhase.DEADLINE


async def test_an_exhausted_deadline_fails_without_sending(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    with pytest.raises(HTTPTimeoutError) as caught:
        await transport.send(RequestContext("GET", server.url_for("/"), timeout=0.0))

    assert caught.value.phase is TimeoutPhase.DEADLINE
    assert server.requests == 0


async def test_a_deadline_that_did_not_fire_leaves_the_task_uncancelled(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    await transport.send(RequestContext("GET", server.url_for("/"), timeout=5.0))
    await transport.send(RequestContext("GET", server.url_for("/"), timeout=30.0))

    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_outer_cancellation_is_not_turned_into_a_timeout(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    sending = asyncio.create_task(
        transport.send(RequestContext("GET", server.url_for("/hold"), timeout=30.0))
    )
    assert await eventually(lambda: server.in_flight == 1)

    sending.cancel()

    with pytest.raises(asyncio.CancelledError):
        await sending


async def test_a_deadline_racing_an_outer_cancel_lets_the_cancel_through() -> None:
    timer = DeadlineTimer(asyncio.get_running_loop())

    async def guarded() -> str:
        deadline = timer.start(0.01)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if deadline.stop():
                return "timed out"
            raise
        deadline.stop()
        return "done"

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0)  # the deadline (10 ms) is armed
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, task.cancel)
    # Block the loop past both: the deadline fires, then the outer cancel runs, in the same
    # iteration and before the task resumes. The CancelledError is then not only ours.
    loop.call_soon(time.sleep, 0.05)

    with pytest.raises(asyncio.CancelledError):
        await task


# --- lifecycle ------------------------------------------------------------------------------


def test_construction_opens_nothing() -> None:
    # No running loop here: creating an aiohttp session now would fail.
    transport = AiohttpTransport()

    assert not has_session(transport)
    assert not transport.is_closed


async def test_session_is_created_on_first_send(server: LocalServer) -> None:
    transport = AiohttpTransport(HTTPClientConfig(trust_env=False))
    assert not has_session(transport)

    await transport.send(RequestContext("GET", server.url_for("/")))

    assert has_session(transport)
    await transport.aclose()


async def test_aclose_is_idempotent_and_clean_when_never_opened() -> None:
    transport = AiohttpTransport()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await transport.aclose()
        await transport.aclose()

    assert transport.is_closed


async def test_send_after_aclose_raises_client_closed(server: LocalServer) -> None:
    transport = AiohttpTransport(HTTPClientConfig(trust_env=False))
    await transport.send(RequestContext("GET", server.url_for("/")))
    await transport.aclose()
    await transport.aclose()

    with pytest.raises(ClientClosedError):
        await transport.send(RequestContext("GET", server.url_for("/")))
    with pytest.raises(ClientClosedError):
        await transport.send_stream(RequestContext("GET", server.url_for("/")))


async def test_aclose_closes_pooled_connections(server: LocalServer) -> None:
    transport = AiohttpTransport(HTTPClientConfig(trust_env=False))
    await transport.send(RequestContext("GET", server.url_for("/")))
    assert server.open_connections == 1

    await transport.aclose()

    assert await eventually(lambda: server.open_connections == 0)


async def test_in_flight_send_fails_as_closed_when_the_transport_closes(
    server: LocalServer,
) -> None:
    transport = AiohttpTransport(HTTPClientConfig(trust_env=False))
    sending = asyncio.create_task(transport.send(RequestContext("GET", server.url_for("/hold"))))
    assert await eventually(lambda: server.in_flight == 1)

    await transport.aclose()

    with pytest.raises(ClientClosedError):
        await sending


async def test_cancelling_a_send_releases_its_connection(server: LocalServer) -> None:
    config = HTTPClientConfig(
        trust_env=False, pool=PoolConfig(max_connections=1, max_connections_per_host=1)
    )
    async with AiohttpTransport(config) as transport:
        sending = asyncio.create_task(
            transport.send(RequestContext("GET", server.url_for("/hold")))
        )
        assert await eventually(lambda: server.in_flight == 1)

        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending

        assert await eventually(lambda: server.open_connections == 0)
        # The only pool slot is free again: this would otherwise wait for a slot forever.
        response = await transport.send(RequestContext("GET", server.url_for("/"), timeout=5.0))
        assert response.status == 200


async def test_cancelling_during_the_body_releases_the_connection(server: LocalServer) -> None:
    config = HTTPClientConfig(
        trust_env=False, pool=PoolConfig(max_connections=1, max_connections_per_host=1)
    )
    async with AiohttpTransport(config) as transport:
        sending = asyncio.create_task(
            transport.send(RequestContext("GET", server.url_for("/stall")))
        )
        assert await eventually(lambda: server.in_flight == 1)
        await asyncio.sleep(0.05)  # the headers and the first bytes are in; the body waits

        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending

        assert await eventually(lambda: server.open_connections == 0)
        response = await transport.send(RequestContext("GET", server.url_for("/"), timeout=5.0))
        assert response.status == 200


# --- streaming ------------------------------------------------------------------------------


async def test_stream_yields_chunks_as_the_server_flushes_them(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/stream")))
    assert isinstance(stream, StreamingResponseProtocol)
    assert (stream.status, stream.method, stream.url) == (200, "GET", server.url_for("/stream"))
    chunks = stream.iter_bytes()

    # The server sends chunk-2 only after release(): chunk-1 must arrive on its own.
    first = await anext(chunks)
    server.release()
    rest = [chunk async for chunk in chunks]

    assert first == b"chunk-1"
    assert b"".join(rest) == b"chunk-2"
    assert stream.is_closed
    await stream.aclose()
    await stream.aclose()


async def test_stream_aread_reads_the_rest(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    async with await transport.send_stream(
        RequestContext("GET", server.url_for("/bytes/5000?chunked=1"))
    ) as stream:
        body = await stream.aread()

    assert body == b"x" * 5000


async def test_stream_aread_limit(server: LocalServer, transport: AiohttpTransport) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/bytes/5000")))

    with pytest.raises(HTTPBodyTooLargeError) as caught:
        await stream.aread(limit=100)

    assert caught.value.limit == 100
    assert stream.is_closed


async def test_stream_body_can_be_read_once(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    async with await transport.send_stream(RequestContext("GET", server.url_for("/"))) as stream:
        assert await stream.aread() == b"ok"
        with pytest.raises(HTTPUsageError):
            stream.iter_bytes()


async def test_closing_a_stream_early_releases_the_connection(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/stall")))
    assert await anext(stream.iter_bytes()) == b"first"

    await stream.aclose()

    assert await eventually(lambda: server.open_connections == 0)


async def test_breaking_out_of_a_stream_releases_the_connection(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/stall")))

    async for chunk in stream.iter_bytes():
        assert chunk == b"first"
        break

    assert await eventually(lambda: stream.is_closed)
    assert await eventually(lambda: server.open_connections == 0)


async def test_a_fully_read_stream_returns_its_connection_to_the_pool(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    async with await transport.send_stream(RequestContext("GET", server.url_for("/"))) as stream:
        await stream.aread()
    await transport.send(RequestContext("GET", server.url_for("/")))

    assert len(set(server.client_ports)) == 1


async def test_the_deadline_does_not_cut_a_stream_body(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    stream = await transport.send_stream(
        RequestContext("GET", server.url_for("/stream"), timeout=0.1)
    )
    chunks = stream.iter_bytes()
    assert await anext(chunks) == b"chunk-1"

    await asyncio.sleep(0.2)  # past the deadline, within the read timeout
    server.release()

    assert [chunk async for chunk in chunks] == [b"chunk-2"]
    await stream.aclose()


async def test_stream_silence_beyond_the_read_timeout(server: LocalServer) -> None:
    async with AiohttpTransport(HTTPClientConfig(trust_env=False, read_timeout=0.1)) as transport:
        stream = await transport.send_stream(RequestContext("GET", server.url_for("/stall")))
        chunks = stream.iter_bytes()
        assert await anext(chunks) == b"first"

        with pytest.raises(HTTPTimeoutError) as caught:
            await anext(chunks)

    assert caught.value.phase is TimeoutPhase.READ
    assert stream.is_closed

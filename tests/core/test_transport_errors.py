"""AiohttpTransport maps every backend failure to a lexigram error, with no aiohttp type."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from lexigram.contracts.web import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    InvalidURLError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http._config import HTTPClientConfig, PoolConfig
from lexigram.http._transport import AiohttpTransport
from tests.core.support import (
    LocalServer,
    StaticResolver,
    closed_port,
    eventually,
    unresponsive_listener,
)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    async with AiohttpTransport(HTTPClientConfig(trust_env=False)) as instance:
        yield instance


def assert_ours(error: BaseException) -> None:
    """Ours, chained from the backend error, and never an aiohttp type itself."""
    assert isinstance(error, HTTPClientError)
    assert not isinstance(error, aiohttp.ClientError)
    assert error.__cause__ is not None


async def test_refused_connection(transport: AiohttpTransport) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"

    with pytest.raises(HTTPConnectionError) as caught:
        await transport.send(RequestContext("GET", url))

    assert isinstance(caught.value, ConnectionError)
    assert (caught.value.method, caught.value.url) == ("GET", url)
    assert_ours(caught.value)


async def test_dns_failure_through_the_resolver() -> None:
    resolver = StaticResolver({})
    async with AiohttpTransport(HTTPClientConfig(trust_env=False), resolver=resolver) as transport:
        with pytest.raises(HTTPConnectionError) as caught:
            await transport.send(RequestContext("GET", "http://nowhere.test/"))

    assert resolver.lookups == ["nowhere.test"]
    assert "DNS" in str(caught.value)
    assert_ours(caught.value)


async def test_server_closing_mid_body(server: LocalServer, transport: AiohttpTransport) -> None:
    with pytest.raises(HTTPConnectionError) as caught:
        await transport.send(RequestContext("GET", server.url_for("/drop")))

    assert_ours(caught.value)


async def test_stream_disconnect_carries_what_was_received(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/drop")))
    received = bytearray()

    async def consume() -> None:
        async for chunk in stream.iter_bytes():
            received.extend(chunk)

    with pytest.raises(HTTPStreamDisconnectedError) as caught:
        await consume()

    assert received == b"0123456789"
    assert caught.value.received == b"0123456789"
    assert caught.value.bytes_received == 10
    assert stream.is_closed
    assert_ours(caught.value)


async def test_stream_aread_disconnect(server: LocalServer, transport: AiohttpTransport) -> None:
    stream = await transport.send_stream(RequestContext("GET", server.url_for("/drop")))

    with pytest.raises(HTTPStreamDisconnectedError) as caught:
        await stream.aread()

    assert caught.value.received == b"0123456789"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/file",
        "ws://127.0.0.1/socket",
        "/relative/path",
        "not a url",
        "http://",
        "http:///no-host",
    ],
)
async def test_invalid_urls(transport: AiohttpTransport, url: str) -> None:
    with pytest.raises(InvalidURLError) as caught:
        await transport.send(RequestContext("GET", url))

    assert isinstance(caught.value, ValueError)
    assert caught.value.url == url


async def test_invalid_url_errors_hide_secrets(transport: AiohttpTransport) -> None:
    url = "ftp://user:hunter2@127.0.0.1/x?token=s3cret"

    with pytest.raises(InvalidURLError) as caught:
        await transport.send(RequestContext("GET", url))

    text = f"{caught.value} {caught.value!r} {caught.value.url}"
    assert "hunter2" not in text
    assert "s3cret" not in text


async def test_connection_errors_hide_secrets(transport: AiohttpTransport) -> None:
    url = f"http://user:hunter2@127.0.0.1:{closed_port()}/x?api_key=s3cret"

    with pytest.raises(HTTPConnectionError) as caught:
        await transport.send(RequestContext("GET", url))

    text = f"{caught.value} {caught.value!r} {caught.value.url}"
    assert "hunter2" not in text
    assert "s3cret" not in text


async def test_connect_timeout() -> None:
    config = HTTPClientConfig(trust_env=False, connect_timeout=0.1)
    with unresponsive_listener() as port:
        async with AiohttpTransport(config) as transport:
            with pytest.raises(HTTPTimeoutError) as caught:
                await transport.send(RequestContext("GET", f"http://127.0.0.1:{port}/"))

    assert caught.value.phase is TimeoutPhase.CONNECT
    assert caught.value.timeout == 0.1
    assert isinstance(caught.value, TimeoutError)
    assert_ours(caught.value)


async def test_pool_timeout(server: LocalServer) -> None:
    config = HTTPClientConfig(
        trust_env=False,
        connect_timeout=0.1,
        pool=PoolConfig(max_connections=1, max_connections_per_host=1),
    )
    async with AiohttpTransport(config) as transport:
        holding = asyncio.create_task(
            transport.send(RequestContext("GET", server.url_for("/hold")))
        )
        assert await eventually(lambda: server.in_flight == 1)

        with pytest.raises(HTTPTimeoutError) as caught:
            await transport.send(RequestContext("GET", server.url_for("/")))

        server.release()
        assert (await holding).status == 200

    assert caught.value.phase is TimeoutPhase.POOL
    assert_ours(caught.value)


async def test_a_connect_timeout_after_a_pool_timeout_is_still_a_connect_timeout(
    server: LocalServer,
) -> None:
    # The pool-wait marker is task-local; a later connect in the same task must not inherit it.
    config = HTTPClientConfig(
        trust_env=False,
        connect_timeout=0.1,
        pool=PoolConfig(max_connections=2, max_connections_per_host=1),
    )
    async with AiohttpTransport(config) as transport:
        holding = asyncio.create_task(
            transport.send(RequestContext("GET", server.url_for("/hold")))
        )
        assert await eventually(lambda: server.in_flight == 1)
        with pytest.raises(HTTPTimeoutError) as pool:
            await transport.send(RequestContext("GET", server.url_for("/")))
        with unresponsive_listener() as port, pytest.raises(HTTPTimeoutError) as connect:
            await transport.send(RequestContext("GET", f"http://127.0.0.1:{port}/"))
        server.release()
        await holding

    assert (pool.value.phase, connect.value.phase) == (TimeoutPhase.POOL, TimeoutPhase.CONNECT)


async def test_read_timeout_waiting_for_headers(server: LocalServer) -> None:
    async with AiohttpTransport(HTTPClientConfig(trust_env=False, read_timeout=0.1)) as transport:
        with pytest.raises(HTTPTimeoutError) as caught:
            await transport.send(RequestContext("GET", server.url_for("/hold")))

    assert caught.value.phase is TimeoutPhase.READ
    assert caught.value.timeout == 0.1
    assert_ours(caught.value)


async def test_read_timeout_in_the_body(server: LocalServer) -> None:
    async with AiohttpTransport(HTTPClientConfig(trust_env=False, read_timeout=0.1)) as transport:
        with pytest.raises(HTTPTimeoutError) as caught:
            await transport.send(RequestContext("GET", server.url_for("/stall")))

    assert caught.value.phase is TimeoutPhase.READ


async def test_deadline_wins_over_connect(server: LocalServer) -> None:
    config = HTTPClientConfig(trust_env=False, connect_timeout=5.0)
    with unresponsive_listener() as port:
        async with AiohttpTransport(config) as transport:
            with pytest.raises(HTTPTimeoutError) as caught:
                await transport.send(
                    RequestContext("GET", f"http://127.0.0.1:{port}/", timeout=0.1)
                )

    assert caught.value.phase is TimeoutPhase.DEADLINE


async def test_tls_handshake_to_a_plain_server_is_a_connection_error(
    server: LocalServer, transport: AiohttpTransport
) -> None:
    url = server.url_for("/").replace("http://", "https://")

    with pytest.raises(HTTPConnectionError) as caught:
        await transport.send(RequestContext("GET", url))

    assert_ours(caught.value)

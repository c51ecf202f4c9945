"""``read_timeout`` kept by one lazy timer per connection (``LazyReadTimeoutHandler``).

The protocol records the time of the last activity instead of rescheduling a timer handle on
every response and chunk; a single pending check fires the timeout when the connection has
been silent for the whole ``read_timeout``, else re-arms. Driven here on a fake clock (the
checks are called by hand), then end to end against a local server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.client_exceptions import SocketTimeoutError

from lexigram.contracts.clock import FakeClock
from lexigram.contracts.web import HTTPTimeoutError, TimeoutPhase
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.http._connector import LazyReadTimeoutHandler, make_connector


def _handler(clock: FakeClock, timeout: float | None) -> LazyReadTimeoutHandler:
    handler = LazyReadTimeoutHandler(asyncio.get_running_loop())
    handler._lex_now = clock
    handler.read_timeout = timeout
    return handler


def _at(clock: FakeClock, now: float) -> None:
    clock.advance(now - clock())


def _due(handler: LazyReadTimeoutHandler) -> float | None:
    handle = handler._read_timeout_handle
    return None if handle is None else handle.when()


async def test_chunks_reuse_the_pending_check_instead_of_new_timers() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, 10.0)
    handler.start_timeout()  # the request was sent
    first = handler._read_timeout_handle
    assert _due(handler) == 10.0
    for now in (1.0, 2.5, 4.0):  # bytes arrive
        _at(clock, now)
        handler._reschedule_timeout()
        assert handler._read_timeout_handle is first
    # The check comes due: not silent for 10 s, so it re-arms for the last bytes + 10 s.
    _at(clock, 10.0)
    handler._lex_check()
    assert _due(handler) == 14.0
    assert handler.exception() is None
    _at(clock, 14.0)
    handler._lex_check()
    assert isinstance(handler.exception(), SocketTimeoutError)
    assert handler._read_timeout_handle is None


async def test_a_finished_response_leaves_a_check_that_ends_quietly() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, 10.0)
    handler.start_timeout()
    handler._drop_timeout()  # the body ended: no timer is cancelled on the hot path
    _at(clock, 10.0)
    handler._lex_check()
    assert handler.exception() is None
    assert handler._read_timeout_handle is None


async def test_the_next_response_on_the_connection_reuses_the_pending_check() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, 10.0)
    handler.start_timeout()
    handler._drop_timeout()
    pending = handler._read_timeout_handle
    _at(clock, 3.0)
    handler.start_timeout()  # the next request on the kept-alive connection
    assert handler._read_timeout_handle is pending
    _at(clock, 10.0)
    handler._lex_check()
    assert _due(handler) == 13.0
    _at(clock, 13.0)
    handler._lex_check()
    assert isinstance(handler.exception(), SocketTimeoutError)


async def test_a_lower_read_timeout_rearms_earlier() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, 30.0)
    handler.start_timeout()
    _at(clock, 1.0)
    handler.read_timeout = 2.0  # as AiohttpStreamingResponse.set_read_timeout does
    handler.start_timeout()
    assert _due(handler) == 3.0
    _at(clock, 3.0)
    handler._lex_check()
    assert isinstance(handler.exception(), SocketTimeoutError)


async def test_no_read_timeout_means_no_check() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, None)
    handler.start_timeout()
    assert handler._read_timeout_handle is None
    handler.read_timeout = 5.0
    handler.start_timeout()
    handler.read_timeout = None  # a stream takes over with its own idle timeout
    handler.start_timeout()
    _at(clock, 5.0)
    handler._lex_check()
    assert handler.exception() is None


async def test_a_lost_connection_cancels_its_pending_check() -> None:
    clock = FakeClock(0.0)
    handler = _handler(clock, 10.0)
    handler.start_timeout()
    handle = handler._read_timeout_handle
    assert handle is not None
    handler.connection_lost(None)
    assert handle.cancelled()
    assert handler._read_timeout_handle is None


async def test_every_connector_builds_the_lazy_protocol() -> None:
    for cap in (2, 50):
        connector = make_connector(max_keepalive=cap, limit_per_host=5, limit=10)
        try:
            assert isinstance(connector._factory(), LazyReadTimeoutHandler)
        finally:
            await connector.close()


async def _trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(8):  # 8 x 50 ms: longer than read_timeout, never silent for that long
        await response.write(b"x" * 10)
        await asyncio.sleep(0.05)
    await response.write_eof()
    return response


async def _stall(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    await response.write(b"x" * 10)
    await asyncio.sleep(5)
    return response


@pytest.fixture
async def base() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/trickle", _trickle)
    app.router.add_get("/stall", _stall)
    runner = web.AppRunner(app, shutdown_timeout=0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_body_that_keeps_coming_outlives_the_read_timeout(base: str) -> None:
    async with HTTPClient(HTTPClientConfig(read_timeout=0.2, trust_env=False)) as client:
        for _ in range(2):  # twice on one connection: the pending check carries over
            response = (await client.get(f"{base}/trickle")).unwrap()
            assert response.body == b"x" * 80


async def test_silence_mid_body_is_a_read_timeout(base: str) -> None:
    config = HTTPClientConfig(read_timeout=0.2, trust_env=False, retry=RetryConfig(enabled=False))
    async with HTTPClient(config) as client:
        result = await client.get(f"{base}/stall")
    error = result.unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.READ

"""``aclose()`` ends every call in flight with ``ClientClosedError``, whatever it is doing.

Real servers that stall (a raw asyncio server): a call queued for a pool slot, one waiting
for headers, a verb reading a body, an open stream (default idle timeout and none), a call
sleeping in a retry back-off, and an SSE stream waiting to reconnect. Each waits with a hang
guard only; nothing asserts a duration. A cancellation from the caller stays a cancellation.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from lexigram.contracts.web import ClientClosedError
from lexigram.http import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
    SSEReconnect,
)
from tests.core.faults import Fault, FaultServer, Kind
from tests.core.support import eventually

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

NO_RETRY = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
HANG_GUARD = 10.0


async def closed_outcomes(
    client: HTTPClient | BaseURLHTTPClient,
    calls: list[Callable[[], Coroutine[Any, Any, Any]]],
    ready: Callable[[], bool],
) -> list[BaseException | None]:
    """Start ``calls`` in tasks, wait until ``ready()``, close the client; their outcomes."""
    tasks = [asyncio.create_task(call()) for call in calls]
    assert await eventually(ready)
    await asyncio.sleep(0.05)  # let each call settle into its wait
    await client.aclose()
    _, pending = await asyncio.wait(tasks, timeout=HANG_GUARD)
    for task in pending:  # pragma: no cover - only when the behaviour is broken
        task.cancel()
    assert not pending, "calls still running after aclose()"
    for task in tasks:
        assert not task.cancelled(), "a call ended as a bare cancellation"
    return [task.exception() for task in tasks]


async def test_a_call_waiting_for_headers_and_one_queued_for_the_pool() -> None:
    config = HTTPClientConfig(
        trust_env=False,
        retry=RetryConfig(enabled=False),
        pool=PoolConfig(max_connections=1, max_connections_per_host=1),
    )
    async with FaultServer(lambda n, head: Fault(Kind.STALL)) as server:
        client = HTTPClient(config)
        url = server.url_for("/stall")
        outcomes = await closed_outcomes(
            client, [lambda: client.get(url), lambda: client.get(url)], lambda: server.requests == 1
        )
        assert server.requests == 1  # the second call never left the pool queue
    assert all(isinstance(outcome, ClientClosedError) for outcome in outcomes), outcomes


async def test_a_task_group_sees_the_error_not_a_silent_cancellation() -> None:
    config = HTTPClientConfig(
        trust_env=False,
        retry=RetryConfig(enabled=False),
        pool=PoolConfig(max_connections=1, max_connections_per_host=1),
    )
    async with FaultServer(lambda n, head: Fault(Kind.STALL)) as server:
        client = HTTPClient(config)
        url = server.url_for("/stall")

        async def close_soon() -> None:
            assert await eventually(lambda: server.requests == 1)
            await asyncio.sleep(0.05)
            await client.aclose()

        async def run_group() -> None:
            async with asyncio.timeout(HANG_GUARD), asyncio.TaskGroup() as group:
                group.create_task(client.get(url))
                group.create_task(client.get(url))  # queued for the only connection
                group.create_task(close_soon())

        with pytest.raises(ExceptionGroup) as caught:
            await run_group()
    assert len(caught.value.exceptions) == 2
    assert all(isinstance(error, ClientClosedError) for error in caught.value.exceptions)


async def test_a_verb_reading_a_body() -> None:
    body = Fault(Kind.STALL_BODY, body=b"x" * 2000)
    async with FaultServer(lambda n, head: body) as server:
        client = HTTPClient(NO_RETRY)
        url = server.url_for("/body")
        (outcome,) = await closed_outcomes(
            client, [lambda: client.get(url)], lambda: server.requests == 1
        )
    assert isinstance(outcome, ClientClosedError)


async def test_a_base_url_client_reading_a_body() -> None:
    body = Fault(Kind.STALL_BODY, body=b"x" * 2000)
    async with FaultServer(lambda n, head: body) as server:
        client = BaseURLHTTPClient(server.url, config=NO_RETRY)
        (outcome,) = await closed_outcomes(
            client, [lambda: client.get("/body")], lambda: server.requests == 1
        )
    assert isinstance(outcome, ClientClosedError)


@pytest.mark.parametrize("idle_timeout", [None, math.inf])
async def test_an_open_stream(idle_timeout: float | None) -> None:
    body = Fault(Kind.STALL_BODY, body=b"line\n" * 400)
    async with FaultServer(lambda n, head: body) as server:
        client = HTTPClient(NO_RETRY)
        url = server.url_for("/stream")
        lines: list[str] = []

        async def read() -> None:
            async with client.stream("GET", url, idle_timeout=idle_timeout) as response:
                async for line in response:
                    lines.append(line)

        (outcome,) = await closed_outcomes(client, [read], lambda: bool(lines))
    assert isinstance(outcome, ClientClosedError)


async def test_a_stream_between_reads_fails_its_next_read() -> None:
    body = Fault(Kind.STALL_BODY, body=b"line\n" * 400)
    async with FaultServer(lambda n, head: body) as server:
        client = HTTPClient(NO_RETRY)
        async with client.stream("GET", server.url_for("/s"), idle_timeout=math.inf) as response:
            chunks = response.iter_bytes()
            assert await anext(chunks)
            await client.aclose()
            with pytest.raises(ClientClosedError):
                await asyncio.wait_for(anext(chunks), HANG_GUARD)


async def test_a_call_sleeping_in_a_retry_back_off() -> None:
    busy = Fault(status=503, body=b"busy", headers=(("Retry-After", "30"),))
    config = HTTPClientConfig(trust_env=False, retry=RetryConfig(max_attempts=3))
    async with FaultServer(lambda n, head: busy) as server:
        client = HTTPClient(config)  # real asyncio.sleep: the back-off really waits
        url = server.url_for("/busy")
        (outcome,) = await closed_outcomes(
            client, [lambda: client.get(url, timeout=60)], lambda: server.requests == 1
        )
        assert server.requests == 1
    assert isinstance(outcome, ClientClosedError)


async def test_an_sse_stream_waiting_to_reconnect() -> None:
    events = Fault(body=b"data: a\n\n", headers=(("Content-Type", "text/event-stream"),))
    async with FaultServer(lambda n, head: events) as server:
        client = HTTPClient(NO_RETRY)
        url = server.url_for("/events")
        seen: list[str] = []

        async def read() -> None:
            reconnect = SSEReconnect(default_retry=30.0)
            async with client.stream("GET", url, reconnect=reconnect) as response:
                async for event in response.sse():
                    seen.append(event.data)

        (outcome,) = await closed_outcomes(client, [read], lambda: bool(seen))
    assert isinstance(outcome, ClientClosedError)
    assert seen == ["a"]


async def test_the_callers_own_cancellation_stays_a_cancellation() -> None:
    async with (
        FaultServer(lambda n, head: Fault(Kind.STALL)) as server,
        HTTPClient(NO_RETRY) as client,
    ):
        task = asyncio.create_task(client.get(server.url_for("/stall")))
        assert await eventually(lambda: server.requests == 1)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=HANG_GUARD)
        assert task in done
        assert task.cancelled()
        # The client still works afterwards.
        assert client.state.value == "opened"


async def test_a_transport_closed_under_a_queued_send() -> None:
    from lexigram.contracts.web import RequestContext
    from lexigram.http import AiohttpTransport

    config = HTTPClientConfig(
        trust_env=False, pool=PoolConfig(max_connections=1, max_connections_per_host=1)
    )
    async with FaultServer(lambda n, head: Fault(Kind.STALL)) as server:
        transport = AiohttpTransport(config)
        url = server.url_for("/stall")
        tasks = [asyncio.create_task(transport.send(RequestContext("GET", url))) for _ in range(2)]
        assert await eventually(lambda: server.requests == 1)
        await asyncio.sleep(0.05)
        await transport.aclose()
        _, pending = await asyncio.wait(tasks, timeout=HANG_GUARD)
        assert not pending
    for task in tasks:
        assert not task.cancelled()
        assert isinstance(task.exception(), ClientClosedError)

"""No allocation made for a request outlives it (issue 20).

N requests run against a loopback server after a warm-up; tracemalloc snapshots taken before
and after (each after a full collection) are compared over the allocations whose traceback
passes through lexigram's packages. A per-request leak (a list that grows, a cache keyed by
request, a reference cycle kept alive) leaves at least one block per request; the tolerance is
far below that. Nothing here measures time.

Two kinds of allocation outlive a request by design, bounded by time rather than by requests,
and are left out: the event loop's timer handles (aiohttp's read timer and the deadline's own
timer, cancelled when the request ends, stay in the loop's heap until the loop purges it) and
the per-second deadline buckets of deadlines longer than ``CEIL_THRESHOLD`` (dropped when their
second passes), avoided here with a 5-second deadline.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from lexigram.contracts.observability import NoopMetricsRecorder
from lexigram.contracts.web import HttpResponse, InterceptorProtocol, RequestContext
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, PoolConfig, RetryConfig
from tests.core.support import serve

WARMUP = 30
REQUESTS = 200
# Net blocks and bytes a run of REQUESTS may leave behind in lexigram's frames: a leak of one
# block per request would leave REQUESTS blocks. What is measured without a leak moves by a few
# dozen blocks either way from run to run (context variables, aiohttp's pool bookkeeping),
# whatever the number of requests.
MAX_BLOCKS = REQUESTS // 2
MAX_BYTES = 32 * 1024
_OURS = [
    tracemalloc.Filter(True, "*/lexigram/*", all_frames=True),
    # Timer handles, made by the loop itself (see above).
    tracemalloc.Filter(False, "*/asyncio/events.py"),
    tracemalloc.Filter(False, "*/asyncio/base_events.py"),
]
_CONFIG = HTTPClientConfig(pool=PoolConfig(timeout=5.0), retry=RetryConfig(enabled=False))


class _Stamp(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Stamp"] = "1"
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        return response


async def _json(request: web.Request) -> web.Response:
    return web.json_response({"id": "inv_1", "lines": [1, 2, 3]})


async def _ndjson(request: web.Request) -> web.Response:
    body = b"".join(b'{"n":%d}\n' % i for i in range(50))
    return web.Response(body=body, content_type="application/x-ndjson")


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/json", _json)
    app.router.add_get("/ndjson", _ndjson)
    async with serve(app) as url:
        yield url


async def _leftover(once: Callable[[], Awaitable[None]]) -> tuple[int, int]:
    """Net (blocks, bytes) left in lexigram's frames by REQUESTS calls of ``once``."""
    for _ in range(WARMUP):
        await once()
    tracemalloc.start(32)
    try:
        for _ in range(WARMUP):
            await once()
        gc.collect()
        before = tracemalloc.take_snapshot().filter_traces(_OURS)
        for _ in range(REQUESTS):
            await once()
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(_OURS)
    finally:
        tracemalloc.stop()
    stats = after.compare_to(before, "filename")
    return sum(stat.count_diff for stat in stats), sum(stat.size_diff for stat in stats)


def _assert_nothing_survives(blocks: int, size: int) -> None:
    assert blocks <= MAX_BLOCKS, f"{blocks} blocks left after {REQUESTS} requests"
    assert size <= MAX_BYTES, f"{size} bytes left after {REQUESTS} requests"


async def test_bare_client_requests_leave_nothing_behind(base_url: str) -> None:
    async with HTTPClient(_CONFIG) as client:

        async def once() -> None:
            response = (await client.get(f"{base_url}/json")).unwrap()
            assert response.json["id"] == "inv_1"

        _assert_nothing_survives(*await _leftover(once))


async def test_interceptors_metrics_and_retry_leave_nothing_behind(base_url: str) -> None:
    client = HTTPClient(
        HTTPClientConfig(pool=PoolConfig(timeout=5.0)),
        interceptors=[_Stamp()],
        metrics=NoopMetricsRecorder(),
    )
    async with client:

        async def once() -> None:
            (await client.get(f"{base_url}/json")).unwrap()

        _assert_nothing_survives(*await _leftover(once))


async def test_base_url_client_requests_leave_nothing_behind(base_url: str) -> None:
    async with BaseURLHTTPClient(base_url, config=_CONFIG) as client:

        async def once() -> None:
            (await client.get("/json")).raise_for_status()

        _assert_nothing_survives(*await _leftover(once))


async def test_streams_leave_nothing_behind(base_url: str) -> None:
    async with HTTPClient(_CONFIG) as client:

        async def once() -> None:
            async with client.stream("GET", f"{base_url}/ndjson") as response:
                values = [value async for value in response.ndjson()]
            assert len(values) == 50

        _assert_nothing_survives(*await _leftover(once))


async def test_the_probe_sees_a_per_request_leak(base_url: str) -> None:
    # The check itself works: an interceptor that keeps every context is caught.
    kept: list[RequestContext] = []

    class Hoarder(_Stamp):
        async def intercept_request(self, context: RequestContext) -> RequestContext:
            kept.append(context)
            return context

    async with HTTPClient(_CONFIG, interceptors=[Hoarder()]) as client:

        async def once() -> None:
            (await client.get(f"{base_url}/json")).unwrap()

        blocks, _ = await _leftover(once)
    assert blocks > MAX_BLOCKS

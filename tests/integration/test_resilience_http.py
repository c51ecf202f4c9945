"""lexigram.resilience with the real HTTPClient against local aiohttp servers.

Runs in the full workspace only (it needs lexigram-http-core and aiohttp). Servers listen on
127.0.0.1, port 0; every retry is counted where it matters, at the server. Back-offs, breaks
and budget windows run on a FakeClock: nothing really sleeps.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lexigram.contracts.resilience import (
    CircuitBreakerRegistryProtocol,
    CircuitState,
    ResiliencePipelineProtocol,
)
from lexigram.contracts.web import (
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientProtocol,
    HTTPRetryExhaustedError,
    HTTPStatusError,
)
from lexigram.di import Application
from lexigram.http import HTTPClient, HTTPClientConfig, HTTPModule
from lexigram.resilience import (
    BulkheadConfig,
    CircuitBreaker,
    CircuitBreakerConfig,
    FakeClock,
    ResilienceConfig,
    ResilienceModule,
    ResiliencePipeline,
    RetryConfig,
)

ONE_ATTEMPT = RetryConfig(max_attempts=1)
QUIET_BREAKER = CircuitBreakerConfig(enabled=False)


class Upstream:
    """A flaky server: statuses scripted per path (the last one repeats), hits counted."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.scripts: dict[str, list[int]] = {}
        self.retry_after: dict[str, str] = {}
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    async def scripted(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        script = self.scripts.get(path, [200])
        status = script[min(self.hits[path], len(script)) - 1]
        headers = {}
        if status >= 400 and path in self.retry_after:
            headers["Retry-After"] = self.retry_after[path]
        return web.json_response({"hit": self.hits[path]}, status=status, headers=headers)

    async def slow(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.entered.set()
        await self.release.wait()
        return web.Response(text="late")


async def _serve() -> tuple[Upstream, TestServer]:
    state = Upstream()
    app = web.Application()
    app.router.add_get("/slow", state.slow)
    app.router.add_route("*", "/{name}", state.scripted)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return state, server


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    state, server = await _serve()
    try:
        yield state, f"http://127.0.0.1:{server.port}"
    finally:
        state.release.set()
        await server.close()


@pytest.fixture
async def second() -> AsyncIterator[tuple[Upstream, str]]:
    state, server = await _serve()
    try:
        yield state, f"http://127.0.0.1:{server.port}"
    finally:
        state.release.set()
        await server.close()


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    await asyncio.sleep(0)
    current = asyncio.current_task()
    assert [task for task in asyncio.all_tasks() if task is not current and not task.done()] == []


def standard(clock: FakeClock, config: ResilienceConfig | None = None) -> ResiliencePipeline:
    return ResiliencePipeline.standard(
        config, clock=clock, sleep=clock.sleep, wall_clock=clock.time
    )


def breaker_of(pipeline: ResiliencePipeline) -> CircuitBreaker:
    found = [s for s in pipeline.strategies if isinstance(s, CircuitBreaker)]
    assert len(found) == 1
    return found[0]


async def test_recovery_by_retry(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/flaky"] = [503, 502, 200]
    async with HTTPClient(pipeline=standard(clock)) as client:
        result = await client.get(f"{url}/flaky")
    assert result.is_ok()
    assert result.value.json == {"hit": 3}
    assert state.hits["/flaky"] == 3
    assert len(clock.sleeps) == 2


async def test_retry_after_is_honoured(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/limited"] = [429, 200]
    state.retry_after["/limited"] = "3"
    async with HTTPClient(pipeline=standard(clock)) as client:
        assert (await client.get(f"{url}/limited")).is_ok()
    assert clock.sleeps == [3.0]
    assert state.hits["/limited"] == 2


async def test_post_is_not_retried_without_a_key(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/once"] = [503, 200]
    state.scripts["/keyed"] = [503, 200]
    async with HTTPClient(pipeline=standard(clock)) as client:
        once = await client.post(f"{url}/once", json={})
        keyed = await client.post(f"{url}/keyed", json={}, idempotency_key="k-1")
    assert isinstance(once.error, HTTPStatusError)
    assert once.error.status == 503
    assert state.hits["/once"] == 1
    assert keyed.is_ok()
    assert state.hits["/keyed"] == 2


async def test_the_budget_caps_retries_during_a_long_outage(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/down"] = [503]
    config = ResilienceConfig(circuit_breaker=QUIET_BREAKER)  # the budget alone, no breaker
    calls = 150
    async with HTTPClient(pipeline=standard(clock, config)) as client:
        for _ in range(calls):
            with pytest.raises(HTTPRetryExhaustedError):
                await client.get(f"{url}/down")
    floor = config.retry.budget.min_retries_per_second * config.retry.budget.window
    assert state.hits["/down"] <= 1.2 * calls + floor
    assert state.hits["/down"] > calls  # the budget still paid for some retries
    # Without a budget every call would have cost three requests.
    assert state.hits["/down"] < 3 * calls


async def test_the_breaker_opens_fails_fast_probes_and_closes(
    upstream: tuple[Upstream, str],
) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/down"] = [503, 503, 503, 503, 200]
    config = ResilienceConfig(
        retry=ONE_ATTEMPT,
        circuit_breaker=CircuitBreakerConfig(
            minimum_throughput=4, failure_ratio=0.5, break_duration=5
        ),
    )
    pipeline = standard(clock, config)
    breaker = breaker_of(pipeline)
    origin = url
    # As HTTPProvider wires it: the pipeline, and the same breaker guarding each attempt.
    async with HTTPClient(pipeline=pipeline, circuit_breaker=breaker) as client:
        for _ in range(4):
            result = await client.get(f"{url}/down")
            assert isinstance(result.error, HTTPStatusError)
        assert breaker.state(origin) is CircuitState.OPEN
        assert breaker.snapshot(origin).calls == 0  # the window restarts when it opens
        for _ in range(3):
            with pytest.raises(HTTPCircuitOpenError) as caught:
                await client.get(f"{url}/down")
        assert caught.value.key == origin
        assert state.hits["/down"] == 4  # failing fast: the server saw nothing more
        clock.advance(5)
        probe = await client.get(f"{url}/down")
        assert probe.is_ok()
        assert breaker.state(origin) is CircuitState.CLOSED
        assert (await client.get(f"{url}/down")).is_ok()
    assert state.hits["/down"] == 6


async def test_each_attempt_is_counted_once_by_the_shared_breaker(
    upstream: tuple[Upstream, str],
) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/flaky"] = [503, 200]
    pipeline = standard(clock)
    breaker = breaker_of(pipeline)
    async with HTTPClient(pipeline=pipeline, circuit_breaker=breaker) as client:
        assert (await client.get(f"{url}/flaky")).is_ok()
    snapshot = breaker.snapshot(url)
    assert (snapshot.calls, snapshot.failures) == (2, 1)


async def test_one_failing_host_does_not_open_the_circuit_of_another(
    upstream: tuple[Upstream, str], second: tuple[Upstream, str]
) -> None:
    failing, failing_url = upstream
    healthy, healthy_url = second
    failing.scripts["/api"] = [500]
    clock = FakeClock()
    config = ResilienceConfig(
        retry=ONE_ATTEMPT, circuit_breaker=CircuitBreakerConfig(minimum_throughput=3)
    )
    pipeline = standard(clock, config)
    async with HTTPClient(pipeline=pipeline) as client:
        for _ in range(3):
            assert (await client.get(f"{failing_url}/api")).is_err()
            assert (await client.get(f"{healthy_url}/api")).is_ok()
        with pytest.raises(HTTPCircuitOpenError):
            await client.get(f"{failing_url}/api")
        for _ in range(5):
            assert (await client.get(f"{healthy_url}/api")).is_ok()
    breaker = breaker_of(pipeline)
    assert breaker.state(failing_url) is CircuitState.OPEN
    assert breaker.state(healthy_url) is CircuitState.CLOSED
    assert (failing.hits["/api"], healthy.hits["/api"]) == (3, 8)


async def test_bulkhead_rejects_beyond_its_limit(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    config = ResilienceConfig(bulkhead=BulkheadConfig(max_concurrent=1))
    async with HTTPClient(pipeline=standard(clock, config)) as client:
        first = asyncio.create_task(client.get(f"{url}/slow"))
        await state.entered.wait()
        with pytest.raises(HTTPBulkheadFullError):
            await client.get(f"{url}/slow")
        state.release.set()
        assert (await first).is_ok()
        assert (await client.get(f"{url}/other")).is_ok()
    assert state.hits["/slow"] == 1


async def test_di_wiring_the_client_picks_up_the_pipeline(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    state.scripts["/down"] = [503]
    config = ResilienceConfig(
        retry=ONE_ATTEMPT, circuit_breaker=CircuitBreakerConfig(minimum_throughput=3)
    )
    async with Application.boot(
        modules=[HTTPModule.configure(HTTPClientConfig()), ResilienceModule.configure(config)],
        environ={},
    ) as app:
        client = await app.container.resolve(HTTPClientProtocol)
        registry = await app.container.resolve(CircuitBreakerRegistryProtocol)
        pipeline = await app.container.resolve(ResiliencePipelineProtocol)
        breaker = registry.get("http-default")
        assert isinstance(breaker, CircuitBreaker)
        assert isinstance(pipeline, ResiliencePipeline)
        assert breaker_of(pipeline) is breaker
        for _ in range(3):
            assert (await client.get(f"{url}/down")).is_err()
        assert breaker.state(url) is CircuitState.OPEN
        with pytest.raises(HTTPCircuitOpenError):
            await client.get(f"{url}/down")
    assert state.hits["/down"] == 3

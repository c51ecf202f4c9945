"""RedisRateLimiter against a real redis-server: shared quotas, weights, leases, outages."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("redis")  # the `redis` extra; every isolation run installs it (dev group)

from redis.asyncio import Redis

from lexigram.contracts.resilience import RateLimiterProtocol
from lexigram.contracts.web import HTTPRateLimitedError, HttpResponse
from lexigram.di import Application, ConfigError
from lexigram.resilience import (
    FakeClock,
    RateLimitBackendError,
    RedisRateLimiter,
    ResilienceModule,
    ResiliencePipeline,
)
from tests.resilience._redis_server import RedisServer, _find_redis_server
from tests.resilience._redis_server import redis_server as redis_server
from tests.resilience._support import ORIGIN, OTHER_URL, URL, request


class Metrics:
    """A ``MetricsRecorderProtocol`` that keeps what it is given."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.gauges: dict[str, float] = {}

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + value

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        pass

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        self.gauges[name] = value


class Limiters:
    """Makes limiters on one Redis with a prefix of their own (tests never share keys)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"test:{uuid.uuid4().hex}:"
        self.made: list[RedisRateLimiter] = []

    def __call__(self, rate: float = 10.0, **options: Any) -> RedisRateLimiter:
        options.setdefault("key_prefix", self.prefix)
        options.setdefault("url", self.url)
        limiter = RedisRateLimiter(options.pop("url"), rate, **options)
        self.made.append(limiter)
        return limiter


@pytest.fixture
async def limiters(redis_server: RedisServer) -> AsyncIterator[Limiters]:
    made = Limiters(redis_server.url)
    yield made
    for limiter in made.made:
        await limiter.aclose()


def up(limiter: RedisRateLimiter) -> bool:
    """Read through a call: mypy would narrow the property across awaits."""
    return limiter.backend_available


async def evalsha_calls(url: str) -> int:
    client = Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_implements_the_protocol(limiters: Limiters) -> None:
    assert isinstance(limiters(), RateLimiterProtocol)


async def test_two_processes_share_one_quota(limiters: Limiters) -> None:
    # Two limiters, two clients: what one takes, the other cannot.
    first, second = limiters(1.0, burst=3, mode="reject"), limiters(1.0, burst=3, mode="reject")
    await first.acquire("k")
    await second.acquire("k")
    await first.acquire("k")
    with pytest.raises(HTTPRateLimitedError) as caught:
        await second.acquire("k")
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 1.0
    assert "fleet rate limit of 1 requests/s for k" in str(caught.value)
    await second.acquire("other")  # keys are independent


async def test_one_number_per_quota_on_the_redis_server_clock(
    limiters: Limiters, redis_server: RedisServer
) -> None:
    # The client's clock is a day off: it plays no part in the decision.
    limiter = limiters(100.0, burst=10, clock=FakeClock(start=86_400.0))
    for _ in range(50):
        await limiter.acquire("k")
    client = Redis.from_url(redis_server.url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{limiters.prefix}*")]
        assert keys == [f"{limiters.prefix}{{k}}:requests:tat".encode()]  # O(1) state per key
        raw = await client.get(keys[0])
        assert raw is not None
        tat = float(raw)
        seconds, micros = await client.time()
        server_now = seconds * 1e6 + micros
        # 50 permits at 100/s, 10 at once: the next one is due ~0.4 s after the server's now.
        assert 0 < tat - server_now <= 0.41e6
        assert 0 < await client.pttl(keys[0]) <= 1_500  # expires once the bucket is full again
    finally:
        await client.aclose()


async def test_wait_mode_reserves_future_slots_in_order(limiters: Limiters) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = limiters(10.0, burst=1, sleep=sleep)
    for _ in range(4):
        await limiter.acquire("k")
    # Redis time moves a little between calls: the waits grow by about one interval each.
    assert waits[0] > 0
    assert waits == sorted(waits)
    assert waits[-1] <= 0.3 + 1e-6


async def test_a_wait_past_the_call_deadline_is_rejected(limiters: Limiters) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    limiter = limiters(1.0, burst=1, max_wait=30, sleep=sleep)
    seen: list[int] = []

    async def operation(attempt: int) -> HttpResponse:
        seen.append(attempt)
        return HttpResponse(200, URL, "GET")

    pipeline = ResiliencePipeline([limiter])
    await pipeline.execute(request(timeout=5.0), operation)
    with pytest.raises(HTTPRateLimitedError) as caught:
        await pipeline.execute(request(timeout=0.2), operation)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0.2
    assert caught.value.url == URL
    assert sleeps == []
    assert seen == [1]


async def test_weighted_reservation_is_settled_with_actual_usage(limiters: Limiters) -> None:
    tokens = limiters(1.0, burst=100, unit="tokens", mode="reject")
    reservation = await tokens.reserve("org", 100)
    with pytest.raises(HTTPRateLimitedError):
        await tokens.reserve("org", 5)
    await reservation.settle(40)  # 60 estimated tokens were not used: they go back
    await tokens.acquire("org", 60)
    with pytest.raises(HTTPRateLimitedError):
        await tokens.acquire("org", 5)
    await reservation.settle(0)  # settled once only


async def test_settling_more_than_the_estimate_charges_the_difference(limiters: Limiters) -> None:
    tokens = limiters(1.0, burst=100, unit="tokens", mode="reject")
    reservation = await tokens.reserve("org", 50)
    await reservation.settle(90)
    with pytest.raises(HTTPRateLimitedError):
        await tokens.acquire("org", 20)
    await tokens.acquire("org", 10)


async def test_pipeline_token_costs_read_usage_from_the_response(limiters: Limiters) -> None:
    tokens = limiters(
        1.0,
        burst=1000,
        unit="tokens",
        mode="reject",
        cost=lambda req: int(req.headers["x-estimate"]),
        usage=lambda resp: int(resp.headers["x-used"]),
    )
    pipeline = ResiliencePipeline([tokens])

    async def operation(attempt: int) -> HttpResponse:
        return HttpResponse(200, URL, "GET", {"x-used": "100"})

    for _ in range(6):  # estimates of 500, each settled to 100
        call = request()
        call.headers["x-estimate"] = "500"
        await pipeline.execute(call, operation)
    call = request()
    call.headers["x-estimate"] = "500"
    with pytest.raises(HTTPRateLimitedError):  # 600 used + 500 estimated > 1000
        await pipeline.execute(call, operation)


async def test_leases_take_several_permits_per_round_trip(
    limiters: Limiters, redis_server: RedisServer
) -> None:
    clock = FakeClock()
    leased = limiters(10.0, burst=50, lease=10, clock=clock)
    await leased.acquire("warm-up")  # the script is loaded by then: one EVALSHA per round trip
    before = await evalsha_calls(redis_server.url)
    for _ in range(30):
        await leased.acquire("k")
    assert await evalsha_calls(redis_server.url) - before == 3
    single = limiters(10.0, burst=50, clock=clock)  # no lease: one round trip per decision
    await single.acquire("warm-up")
    before = await evalsha_calls(redis_server.url)
    for _ in range(10):
        await single.acquire("single")
    assert await evalsha_calls(redis_server.url) - before == 10
    # Another process sees the leased permits as taken: 30 of the 50 are gone.
    other = limiters(10.0, burst=50, mode="reject", max_wait=0)
    granted = 0
    for _ in range(30):
        try:
            await other.acquire("k")
        except HTTPRateLimitedError:
            break
        granted += 1
    assert 20 <= granted <= 22  # 20 left, plus what Redis time refilled meanwhile


async def test_an_expired_lease_gives_its_permits_back(limiters: Limiters) -> None:
    clock = FakeClock()
    leased = limiters(0.001, burst=10, lease=10, lease_ttl=1.0, clock=clock, mode="reject")
    other = limiters(0.001, burst=10, mode="reject")
    await leased.acquire("k")  # leases 10, uses 1
    with pytest.raises(HTTPRateLimitedError):
        await other.acquire("k")
    clock.advance(2.0)  # the lease expired: its 9 unused permits go back with the next call
    await leased.acquire("k")  # without the refund, the quota would be spent for hours
    with pytest.raises(HTTPRateLimitedError):
        await other.acquire("k")


async def test_a_partner_exhaustion_signal_holds_every_process(limiters: Limiters) -> None:
    seen, other = limiters(100.0, mode="reject"), limiters(100.0, mode="reject")
    held = await seen.learn(
        "k", 200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}
    )
    assert held == 360.0
    with pytest.raises(HTTPRateLimitedError) as caught:
        await other.acquire("k")
    assert "partner's requests quota for k is spent" in str(caught.value)
    assert caught.value.retry_after is not None
    assert 359 < caught.value.retry_after <= 360
    # A token quota is not held by a requests signal.
    tokens = limiters(100.0, unit="tokens", mode="reject")
    await tokens.acquire("k")


async def test_a_pipeline_learns_from_a_429(limiters: Limiters) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    learner = limiters(100.0)
    waiter = limiters(100.0, sleep=sleep, max_wait=10)
    statuses = [429, 200]

    async def operation(attempt: int) -> HttpResponse:
        return HttpResponse(statuses.pop(0), URL, "GET", {"retry-after": "3"})

    first = await ResiliencePipeline([learner]).execute(request(), operation)
    assert first.status == 429
    second = await ResiliencePipeline([waiter]).execute(request(timeout=30), operation)
    assert second.status == 200
    assert len(sleeps) == 1
    assert 2.5 < sleeps[0] <= 3.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_url() -> str:
    return f"redis://127.0.0.1:{_closed_port()}/0"


async def test_backend_down_allow(
    limiters: Limiters, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    limiter = limiters(1.0, burst=1, url=dead_url, on_backend_error="allow", metrics=metrics)
    with caplog.at_level(logging.INFO, logger="lexigram.resilience.rate_limit"):
        for _ in range(50):
            await limiter.acquire("k")
    assert not up(limiter)
    downs = [r for r in caplog.records if r.getMessage() == "resilience.rate_limit.backend_down"]
    assert len(downs) == 1
    assert metrics.counts == {"resilience.rate_limit.backend_outage": 1.0}
    assert metrics.gauges == {"resilience.rate_limit.backend_up": 0.0}


async def test_backend_down_deny_raises_a_typed_error(limiters: Limiters, dead_url: str) -> None:
    limiter = limiters(1.0, url=dead_url, on_backend_error="deny")
    with pytest.raises(RateLimitBackendError) as caught:
        await limiter.acquire("k")
    assert isinstance(caught.value, HTTPRateLimitedError)
    assert "rate-limit backend redis://127.0.0.1" in str(caught.value)
    assert caught.value.__cause__ is not None


async def test_backend_down_local_uses_a_share_of_the_quota(
    limiters: Limiters, dead_url: str
) -> None:
    clock = FakeClock()
    limiter = limiters(8.0, burst=8, url=dead_url, local_share=0.25, mode="reject", clock=clock)
    await limiter.acquire("k")
    await limiter.acquire("k")
    with pytest.raises(HTTPRateLimitedError) as caught:
        await limiter.acquire("k")
    assert caught.value.retry_after == pytest.approx(0.5)
    assert "this process's share of the rate limit for k" in str(caught.value)
    clock.advance(0.5)
    await limiter.acquire("k")


async def test_the_password_of_the_url_is_not_shown(dead_url: str) -> None:
    url = dead_url.replace("redis://", "redis://:s3cret@")
    limiter = RedisRateLimiter(url, 1.0, on_backend_error="deny")
    try:
        with pytest.raises(RateLimitBackendError) as caught:
            await limiter.acquire("k")
        assert "s3cret" not in str(caught.value)
        assert "s3cret" not in repr(limiter)
    finally:
        await limiter.aclose()


async def test_a_silent_backend_does_not_hang_a_call(limiters: Limiters) -> None:
    # A server that accepts and never answers: each call is bounded by the limiter's timeout.
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        limiter = limiters(1.0, url=f"redis://127.0.0.1:{port}/0", timeout=0.05,
                           on_backend_error="allow")  # fmt: skip
        async with asyncio.timeout(30):  # a hang fails the test instead of blocking the run
            for _ in range(20):
                await limiter.acquire("k")
        assert not up(limiter)
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(_find_redis_server(), tmp_path_factory.mktemp("redis-own"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_killed_then_restarted_redis_is_used_again(
    own_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    metrics = Metrics()
    limiter = RedisRateLimiter(
        own_server.url, 1.0, burst=2, mode="reject", on_backend_error="local", local_share=0.5,
        clock=clock, metrics=metrics, random=lambda: 1.0,
    )  # fmt: skip
    other = RedisRateLimiter(own_server.url, 1.0, burst=2, mode="reject")
    try:
        with caplog.at_level(logging.INFO, logger="lexigram.resilience.rate_limit"):
            await limiter.acquire("k")
            own_server.stop()
            await limiter.acquire("k")  # local: a share of 1 permit
            with pytest.raises(HTTPRateLimitedError):
                await limiter.acquire("k")
            assert not up(limiter)
            own_server.start()  # a fresh, empty Redis: the script is loaded again
            with pytest.raises(HTTPRateLimitedError):  # not retried before the back-off ends
                await limiter.acquire("k")
            clock.advance(0.1)
            await limiter.acquire("k")
            assert up(limiter)
            await limiter.acquire("k")
            with pytest.raises(HTTPRateLimitedError):  # shared again: the other process sees it
                await other.acquire("k")
        messages = [r.getMessage() for r in caplog.records]
        assert messages.count("resilience.rate_limit.backend_down") == 1
        assert messages.count("resilience.rate_limit.backend_restored") == 1
        assert metrics.counts == {"resilience.rate_limit.backend_outage": 1.0}
        assert metrics.gauges == {"resilience.rate_limit.backend_up": 1.0}
    finally:
        await limiter.aclose()
        await other.aclose()


async def test_cancelled_wait_gives_the_permit_back(limiters: Limiters) -> None:
    started = asyncio.Event()

    async def sleep(seconds: float) -> None:
        started.set()
        await asyncio.Event().wait()

    waiter = limiters(0.01, burst=1, sleep=sleep, max_wait=1000)
    probe = limiters(0.01, burst=1, mode="reject")
    await waiter.acquire("k")
    task = asyncio.create_task(waiter.acquire("k"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await waiter.aclose()  # waits for the refund
    with pytest.raises(HTTPRateLimitedError) as caught:
        await probe.acquire("k")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after <= 100.0  # one interval, not two


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="rate must be"):
        RedisRateLimiter("redis://127.0.0.1:1/0", 0)
    with pytest.raises(ValueError, match="on_backend_error must be"):
        RedisRateLimiter("redis://127.0.0.1:1/0", 1, on_backend_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="local_share"):
        RedisRateLimiter("redis://127.0.0.1:1/0", 1, local_share=0)
    with pytest.raises(TypeError, match="redis must be a URL"):
        RedisRateLimiter(42, 1)  # type: ignore[arg-type]


async def test_origin_keys_share_one_hash_tag(limiters: Limiters) -> None:
    limiter = limiters(1, key_prefix="p:")
    assert limiter._redis_keys(ORIGIN) == [
        "p:{https://api.example.com}:requests:tat",
        "p:{https://api.example.com}:requests:block",
        "p:{https://api.example.com}:block",
    ]
    assert limiter._redis_keys("a{b}")[0] == "p:{a(b)}:requests:tat"


async def test_the_module_builds_a_fleet_limiter_from_config(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    path = tmp_path / "application.yaml"
    path.write_text(
        "resilience:\n"
        "  retry:\n    max_attempts: 1\n"
        "  rate_limit:\n"
        "    backend: redis\n    rate: 0.01\n    burst: 2\n    mode: reject\n"
        "    name: partner\n    on_backend_error: deny\n"
        f"  redis:\n    url: {redis_server.url}\n    key_prefix: 'cfg:{uuid.uuid4().hex}:'\n"
    )

    async def operation(attempt: int) -> HttpResponse:
        return HttpResponse(200, URL, "GET")

    async with (
        Application.boot(modules=[ResilienceModule.configure()], config_file=path) as one,
        Application.boot(modules=[ResilienceModule.configure()], config_file=path) as two,
    ):
        first = await one.container.resolve(ResiliencePipeline)
        second = await two.container.resolve(ResiliencePipeline)
        assert [type(s).__name__ for s in first.strategies] == [
            "RedisRateLimiter",
            "CircuitBreaker",
        ]
        await first.execute(request(), operation)
        await second.execute(request(url=OTHER_URL), operation)  # a named quota: any origin
        with pytest.raises(HTTPRateLimitedError):
            await first.execute(request(), operation)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {
                "LEX_RESILIENCE__RATE_LIMIT__BACKEND": "redis",
                "LEX_RESILIENCE__RATE_LIMIT__RATE": "1",
            },
            r"redis\.url is not set",
        ),
        (
            {"LEX_RESILIENCE__REDIS__URL": "http://127.0.0.1:6379"},
            r"resilience\.redis\.url.*redis://",
        ),
        (
            {"LEX_RESILIENCE__RATE_LIMIT__ON_BACKEND_ERROR": "ignore"},
            r"resilience\.rate_limit\.on_backend_error",
        ),
    ],
)
async def test_bad_fleet_configuration_names_the_key(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        async with Application.boot(modules=[ResilienceModule.configure()], environ=environ):
            pass

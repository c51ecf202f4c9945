"""RateLimiter: a token bucket per key; wait (bounded) or reject."""

from __future__ import annotations

import asyncio

import pytest

from lexigram.contracts.resilience import RateLimiterProtocol
from lexigram.contracts.web import HTTPRateLimitedError
from lexigram.resilience import FakeClock, RateLimitConfig, RateLimiter, ResiliencePipeline
from tests.resilience._support import ORIGIN, OTHER_URL, Script, request


def limiter(clock: FakeClock, rate: float = 1.0, **options: object) -> RateLimiter:
    return RateLimiter(rate, clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def test_implements_the_protocol() -> None:
    assert isinstance(RateLimiter(1.0), RateLimiterProtocol)


async def test_burst_then_wait(clock: FakeClock) -> None:
    limit = limiter(clock, rate=2.0, burst=2)
    await limit.acquire("k")
    await limit.acquire("k")
    assert clock.sleeps == []
    await limit.acquire("k")
    await limit.acquire("k")
    assert clock.sleeps == [0.5, pytest.approx(0.5)]


async def test_waiters_reserve_in_order(clock: FakeClock) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limit = RateLimiter(1.0, burst=1, clock=clock, sleep=sleep, max_wait=10)
    await asyncio.gather(*(limit.acquire("k") for _ in range(4)))
    assert waits == [1.0, 2.0, 3.0]
    assert limit.tokens("k") == -3.0


async def test_reject_mode(clock: FakeClock) -> None:
    limit = limiter(clock, rate=4.0, burst=1, mode="reject")
    await limit.acquire()
    with pytest.raises(HTTPRateLimitedError) as caught:
        await limit.acquire()
    assert caught.value.retry_after == pytest.approx(0.25)
    clock.advance(0.25)
    await limit.acquire()


async def test_a_wait_longer_than_max_wait_is_rejected(clock: FakeClock) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # time stands still: the waiters pile up
        waits.append(seconds)

    limit = RateLimiter(1.0, burst=1, max_wait=1.5, clock=clock, sleep=sleep)
    await limit.acquire()
    await limit.acquire()  # its token is due in 1s
    with pytest.raises(HTTPRateLimitedError, match="rate limit") as caught:
        await limit.acquire()  # would be due in 2s
    assert caught.value.retry_after == pytest.approx(2.0)
    assert waits == [1.0]
    assert limit.tokens() == -1  # the refused call reserved nothing


async def test_tokens_refill_up_to_the_burst(clock: FakeClock) -> None:
    limit = limiter(clock, rate=10.0, burst=3)
    for _ in range(3):
        await limit.acquire()
    assert limit.tokens() == 0
    clock.advance(60)
    assert limit.tokens() == 3
    for _ in range(3):
        await limit.acquire()
    assert clock.sleeps == []


async def test_keys_have_their_own_buckets(clock: FakeClock) -> None:
    limit = limiter(clock, rate=1.0, burst=1, mode="reject")
    await limit.acquire("a")
    await limit.acquire("b")
    with pytest.raises(HTTPRateLimitedError):
        await limit.acquire("a")


async def test_a_cancelled_waiter_gives_its_token_back(clock: FakeClock) -> None:
    entered = asyncio.Event()

    async def sleep(seconds: float) -> None:
        entered.set()
        await asyncio.Event().wait()

    limit = RateLimiter(1.0, burst=1, clock=clock, sleep=sleep)
    await limit.acquire()
    task = asyncio.create_task(limit.acquire())
    await entered.wait()
    assert limit.tokens() == -1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limit.tokens() == 0


async def test_in_a_pipeline_it_keys_on_the_origin(clock: FakeClock) -> None:
    limit = RateLimiter.from_config(
        RateLimitConfig(rate=1.0, mode="reject"), clock=clock, sleep=clock.sleep
    )
    assert limit.burst == 1
    pipeline = ResiliencePipeline([limit])
    await pipeline.execute(request(), Script(200))
    await pipeline.execute(request(url=OTHER_URL), Script(200))
    with pytest.raises(HTTPRateLimitedError) as caught:
        await pipeline.execute(request(), Script(200))
    assert caught.value.method == "GET"
    assert ORIGIN in caught.value.reason


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="mode"):
        RateLimiter(1, mode="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_wait"):
        RateLimiter(1, max_wait=-1)
    with pytest.raises(ValueError, match=r"rate_limit\.rate is not set"):
        RateLimiter.from_config(RateLimitConfig())


def test_default_burst_is_the_rate_rounded_up() -> None:
    assert RateLimiter(2.5).burst == 3
    assert RateLimiter(0.2).burst == 1
    assert RateLimitConfig(rate=7.2).effective_burst() == 8

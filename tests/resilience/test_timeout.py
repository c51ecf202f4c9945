"""TotalTimeout and AttemptTimeout: asyncio-based, typed errors, in the right phase."""

from __future__ import annotations

import asyncio

import pytest

from lexigram.contracts.web import (
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    TimeoutPhase,
)
from lexigram.resilience import (
    AttemptTimeout,
    CircuitBreaker,
    CircuitBreakerConfig,
    FakeClock,
    JitterKind,
    ResiliencePipeline,
    RetryBudgetConfig,
    RetryConfig,
    RetryPolicy,
    TotalTimeout,
)
from tests.resilience._support import ORIGIN, Script, request, response, timeout_error

NO_WAIT = RetryConfig(
    jitter=JitterKind.NONE, backoff_base=0.001, budget=RetryBudgetConfig(enabled=False)
)


async def hang(attempt: int) -> HttpResponse:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def test_total_timeout_raises_a_deadline_timeout() -> None:
    pipeline = ResiliencePipeline([TotalTimeout(0.02)])
    with pytest.raises(HTTPTimeoutError) as caught:
        await pipeline.execute(request(), hang)
    assert caught.value.phase is TimeoutPhase.DEADLINE
    assert caught.value.timeout == 0.02
    assert caught.value.method == "GET"


async def test_total_timeout_covers_the_retries() -> None:
    attempts: list[int] = []

    async def fail_fast_then_hang(attempt: int) -> HttpResponse:
        attempts.append(attempt)
        if attempt < 3:
            raise timeout_error()
        return await hang(attempt)

    pipeline = ResiliencePipeline([TotalTimeout(0.05), RetryPolicy(NO_WAIT)])
    with pytest.raises(HTTPTimeoutError) as caught:
        await pipeline.execute(request(), fail_fast_then_hang)
    assert caught.value.phase is TimeoutPhase.DEADLINE
    assert attempts == [1, 2, 3]


async def test_the_retry_stops_before_the_total_deadline() -> None:
    # Each attempt takes 10 ms and the back-offs 15 ms, then 30 ms, on a fake clock: the third
    # attempt would start past the 50 ms budget, so the retry gives up after two ("deadline").
    # Nothing sleeps for real, so the outcome does not depend on how loaded the machine is.
    clock = FakeClock()
    script = Script("timeout", clock=clock, advance=0.01)
    retry = RetryPolicy(
        NO_WAIT.model_copy(update={"backoff_base": 0.015}), clock=clock, sleep=clock.sleep
    )
    pipeline = ResiliencePipeline([TotalTimeout(0.05), retry])
    with pytest.raises(HTTPRetryExhaustedError, match="deadline"):
        await pipeline.execute(request(), script)
    assert script.calls == 2


async def test_total_timeout_lowers_the_budget_the_retry_sees() -> None:
    seen: list[float | None] = []

    async def record(attempt: int) -> HttpResponse:
        seen.append(req.timeout)
        return response(200)

    req = request(timeout=30.0)
    await ResiliencePipeline([TotalTimeout(5)]).execute(req, record)
    req = request(timeout=2.0)
    await ResiliencePipeline([TotalTimeout(5)]).execute(req, record)
    req = request()
    await ResiliencePipeline([TotalTimeout(5)]).execute(req, record)
    assert seen == [5.0, 2.0, 5.0]


async def test_an_inner_timeout_error_is_not_converted() -> None:
    pipeline = ResiliencePipeline([TotalTimeout(10)])
    with pytest.raises(HTTPTimeoutError) as caught:
        await pipeline.execute(request(), Script(lambda: timeout_error(TimeoutPhase.CONNECT)))
    assert caught.value.phase is TimeoutPhase.CONNECT
    with pytest.raises(TimeoutError) as plain:
        await pipeline.execute(request(), Script(TimeoutError("mine")))
    assert not isinstance(plain.value, HTTPTimeoutError)


async def test_attempt_timeout_is_retried_and_counted_by_the_breaker() -> None:
    breaker = CircuitBreaker(config=CircuitBreakerConfig(minimum_throughput=100))
    pipeline = ResiliencePipeline([RetryPolicy(NO_WAIT), breaker, AttemptTimeout(0.02)])
    attempts: list[int] = []

    async def slow_then_fast(attempt: int) -> HttpResponse:
        attempts.append(attempt)
        if attempt == 1:
            await asyncio.sleep(3600)
        return response(200)

    assert (await pipeline.execute(request(), slow_then_fast)).status == 200
    assert attempts == [1, 2]
    snapshot = breaker.snapshot(ORIGIN)
    assert (snapshot.calls, snapshot.failures) == (2, 1)


async def test_attempt_timeout_error() -> None:
    with pytest.raises(HTTPTimeoutError, match=r"attempt 1 timed out after 0\.01s") as caught:
        await ResiliencePipeline([AttemptTimeout(0.01)]).execute(request(), hang)
    assert caught.value.phase is TimeoutPhase.READ
    assert caught.value.timeout == 0.01


async def test_cancellation_passes_through_timeouts() -> None:
    pipeline = ResiliencePipeline([TotalTimeout(60), AttemptTimeout(30)])
    task = asyncio.create_task(pipeline.execute(request(), hang))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan")])
def test_seconds_are_checked(seconds: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        TotalTimeout(seconds)
    with pytest.raises(ValueError, match="positive"):
        AttemptTimeout(seconds)


def test_reprs() -> None:
    assert repr(TotalTimeout(30)) == "TotalTimeout(30)"
    assert repr(AttemptTimeout(2.5)) == "AttemptTimeout(2.5)"

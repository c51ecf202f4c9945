"""ResiliencePipeline: composition order, validation, the standard pipeline."""

from __future__ import annotations

import pytest

from lexigram.contracts.resilience import AttemptOperation, ResiliencePipelineProtocol
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HttpResponse,
    HTTPRetryExhaustedError,
    RequestContext,
)
from lexigram.resilience import (
    AttemptTimeout,
    Bulkhead,
    BulkheadConfig,
    CircuitBreaker,
    CircuitBreakerConfig,
    FakeClock,
    NextStage,
    RateLimitConfig,
    RateLimiter,
    ResilienceConfig,
    ResiliencePipeline,
    ResilienceStrategy,
    RetryConfig,
    RetryPolicy,
    TimeoutConfig,
    TotalTimeout,
)
from tests.resilience._support import ORIGIN, Script, request


class Trace:
    """A strategy that logs when a call enters and leaves it."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def bind(self, next: NextStage) -> NextStage:
        async def stage(
            request: RequestContext, operation: AttemptOperation, attempt: int
        ) -> HttpResponse:
            self.log.append(f"{self.name}>{attempt}")
            result = await next(request, operation, attempt)
            self.log.append(f"<{self.name}")
            return result

        return stage


def test_implements_the_protocol() -> None:
    assert isinstance(ResiliencePipeline(), ResiliencePipelineProtocol)
    assert isinstance(Trace("x", []), ResilienceStrategy)


async def test_an_empty_pipeline_passes_through() -> None:
    script = Script(503)
    assert (await ResiliencePipeline().execute(request(), script)).status == 503
    assert script.attempts == [1]


async def test_strategies_wrap_outermost_first(clock: FakeClock) -> None:
    log: list[str] = []
    retry = RetryPolicy(RetryConfig(max_attempts=2), clock=clock, sleep=clock.sleep)
    pipeline = ResiliencePipeline([Trace("a", log), retry, Trace("b", log)])
    await pipeline.execute(request(), Script(503, 200))
    assert log == ["a>1", "b>1", "<b", "b>2", "<b", "<a"]


async def test_a_pipeline_nests_in_a_pipeline() -> None:
    log: list[str] = []
    inner = ResiliencePipeline([Trace("b", log), Trace("c", log)])
    await ResiliencePipeline([Trace("a", log), inner]).execute(request(), Script(200))
    assert log == ["a>1", "b>1", "c>1", "<c", "<b", "<a"]


def test_not_a_strategy() -> None:
    with pytest.raises(TypeError, match="no bind"):
        ResiliencePipeline([object()])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("strategies", "message"),
    [
        (
            [TotalTimeout(5), RetryPolicy(), AttemptTimeout(10)],
            r"AttemptTimeout \(10s\) exceeds TotalTimeout \(5s\)",
        ),
        (
            [TotalTimeout(1), RetryPolicy(RetryConfig(max_attempts=5, backoff_base=0.5))],
            "back-offs can add up to 7.5s",
        ),
        (
            [
                RetryPolicy(),
                CircuitBreaker(config=CircuitBreakerConfig(sampling_duration=10)),
                AttemptTimeout(6),
            ],
            "less than twice AttemptTimeout",
        ),
        ([RetryPolicy(), TotalTimeout(5)], "TotalTimeout.5. comes after the RetryPolicy"),
        ([AttemptTimeout(5), RetryPolicy()], "AttemptTimeout.5. comes before the RetryPolicy"),
        ([RetryPolicy(), RetryPolicy()], "attempts would multiply"),
    ],
)
def test_composition_is_checked(strategies: list[ResilienceStrategy], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResiliencePipeline(strategies)
    ResiliencePipeline(strategies, validate=False)


def test_a_disabled_breaker_does_not_constrain_the_attempt_timeout() -> None:
    quiet = CircuitBreaker(config=CircuitBreakerConfig(enabled=False, sampling_duration=1))
    ResiliencePipeline([RetryPolicy(), quiet, AttemptTimeout(6)])


def test_standard_defaults_are_retry_and_breaker() -> None:
    pipeline = ResiliencePipeline.standard()
    assert [type(s) for s in pipeline.strategies] == [RetryPolicy, CircuitBreaker]
    breaker = pipeline.strategies[1]
    assert isinstance(breaker, CircuitBreaker)
    assert breaker.name == "http-default"


def test_standard_with_everything_in_order() -> None:
    config = ResilienceConfig(
        rate_limit=RateLimitConfig(rate=50),
        bulkhead=BulkheadConfig(max_concurrent=10),
        timeout=TimeoutConfig(total=30, attempt=10),
    )
    assert [type(s) for s in ResiliencePipeline.standard(config).strategies] == [
        RateLimiter,
        Bulkhead,
        TotalTimeout,
        RetryPolicy,
        CircuitBreaker,
        AttemptTimeout,
    ]


def test_standard_without_retry_keeps_the_breaker() -> None:
    pipeline = ResiliencePipeline.standard(ResilienceConfig(retry=RetryConfig(max_attempts=1)))
    assert [type(s) for s in pipeline.strategies] == [CircuitBreaker]


def test_standard_shares_a_given_breaker() -> None:
    breaker = CircuitBreaker("shared")
    assert ResiliencePipeline.standard(breaker=breaker).strategies[-1] is breaker


async def test_standard_raises_exhausted_then_circuit_open(clock: FakeClock) -> None:
    config = ResilienceConfig(
        circuit_breaker=CircuitBreakerConfig(minimum_throughput=6, failure_ratio=0.5)
    )
    pipeline = ResiliencePipeline.standard(config, clock=clock, sleep=clock.sleep)
    server = Script(503)
    with pytest.raises(HTTPRetryExhaustedError):
        await pipeline.execute(request(), server)
    with pytest.raises(HTTPRetryExhaustedError):
        await pipeline.execute(request(), server)
    assert server.calls == 6
    with pytest.raises(HTTPCircuitOpenError) as caught:
        await pipeline.execute(request(), server)
    assert caught.value.key == ORIGIN
    assert server.calls == 6  # failing fast: the server saw nothing more


async def test_standard_recovers_by_retry(clock: FakeClock) -> None:
    pipeline = ResiliencePipeline.standard(clock=clock, sleep=clock.sleep)
    server = Script("conn", 502, 200)
    assert (await pipeline.execute(request(), server)).status == 200
    assert server.attempts == [1, 2, 3]


def test_repr_lists_the_strategies() -> None:
    assert repr(ResiliencePipeline([TotalTimeout(3)])) == "ResiliencePipeline([TotalTimeout(3)])"

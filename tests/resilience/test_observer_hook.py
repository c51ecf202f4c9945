"""The resilience package reports retries, refusals and breaker transitions to the hook."""

from __future__ import annotations

import pytest

from lexigram.contracts.observability import InMemoryHTTPObserver, ObservedEvent
from lexigram.contracts.web import HTTPCircuitOpenError, HTTPRetryExhaustedError
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerRegistry,
    FakeClock,
    ResilienceConfig,
    ResiliencePipeline,
    RetryBudgetConfig,
    RetryConfig,
    RetryPolicy,
)
from tests.resilience._support import ORIGIN, Script, request


def _policy(observer: InMemoryHTTPObserver, **config: object) -> RetryPolicy:
    clock = FakeClock()
    return RetryPolicy(
        RetryConfig(**config),  # type: ignore[arg-type]
        observer=observer,
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.5,
    )


async def test_each_retry_is_reported_with_its_delay_and_reason() -> None:
    observer = InMemoryHTTPObserver()
    policy = _policy(observer, backoff_base=1.0)
    await policy.execute(request(), Script(503, "conn", 200))
    assert observer.events == [
        ObservedEvent("retry", 1, (0.5, "503")),
        ObservedEvent("retry", 2, (1.0, "connection_error")),
    ]


async def test_exhausted_retries_are_reported_as_refused() -> None:
    observer = InMemoryHTTPObserver()
    policy = _policy(observer, max_attempts=2)
    with pytest.raises(HTTPRetryExhaustedError):
        await policy.execute(request(), Script(503))
    assert observer.events[-1] == ObservedEvent("refused", 2, "exhausted")


async def test_a_budget_refusal_is_reported_as_such() -> None:
    observer = InMemoryHTTPObserver()
    policy = _policy(observer, budget=RetryBudgetConfig(ratio=0.0, min_retries_per_second=0.0))
    with pytest.raises(HTTPRetryExhaustedError):
        await policy.execute(request(), Script("conn"))
    assert observer.events == [ObservedEvent("refused", 1, "budget")]


async def test_breaker_transitions_are_reported() -> None:
    observer = InMemoryHTTPObserver()
    clock = FakeClock()
    breaker = CircuitBreaker(
        "partner",
        CircuitBreakerConfig(minimum_throughput=2, failure_ratio=0.5),
        clock=clock,
        observer=observer,
    )
    script = Script(500)
    for _ in range(2):
        await breaker.call(ORIGIN, script)
    with pytest.raises(HTTPCircuitOpenError):
        await breaker.call(ORIGIN, script)
    assert observer.events == [ObservedEvent("breaker", 0, ("partner", ORIGIN, "closed", "open"))]


def test_the_registry_and_the_standard_pipeline_hand_the_observer_on() -> None:
    observer = InMemoryHTTPObserver()
    registry = CircuitBreakerRegistry(observer=observer)
    assert registry.get_or_create("x")._observer is observer
    pipeline = ResiliencePipeline.standard(ResilienceConfig(), observer=observer)
    retry = next(s for s in pipeline.strategies if isinstance(s, RetryPolicy))
    breaker = next(s for s in pipeline.strategies if isinstance(s, CircuitBreaker))
    assert retry._observer is observer
    assert breaker._observer is observer

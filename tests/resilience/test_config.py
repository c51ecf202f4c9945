"""ResilienceConfig: defaults, strictness, and the checks across sections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lexigram.resilience import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    CircuitBreakerConfig,
    JitterKind,
    RateLimitConfig,
    ResilienceConfig,
    RetryConfig,
    TimeoutConfig,
)


def test_defaults() -> None:
    config = ResilienceConfig()
    assert config.retry.max_attempts == 3
    assert config.retry.jitter is JitterKind.FULL
    assert config.retry.retryable_statuses == RETRYABLE_STATUSES == {408, 429, 500, 502, 503, 504}
    assert config.retry.methods == IDEMPOTENT_METHODS
    assert config.retry.budget.enabled
    assert config.circuit_breaker.enabled
    assert not config.circuit_breaker.count_429_as_failure
    assert config.bulkhead.max_concurrent is None
    assert config.timeout.total is None
    assert config.rate_limit.rate is None


def test_frozen_and_strict() -> None:
    with pytest.raises(ValidationError):
        ResilienceConfig().retry.max_attempts = 5
    with pytest.raises(ValidationError, match="Extra inputs"):
        ResilienceConfig.model_validate({"retry": {"max_atempts": 5}})


@pytest.mark.parametrize(
    "data",
    [
        {"retry": {"max_attempts": 0}},
        {"retry": {"backoff_base": 0}},
        {"retry": {"retryable_statuses": [99]}},
        {"retry": {"jitter": "sometimes"}},
        {"circuit_breaker": {"failure_ratio": 0}},
        {"circuit_breaker": {"break_duration": 90, "max_break_duration": 60}},
        {"rate_limit": {"mode": "drop"}},
        {"timeout": {"total": -1}},
    ],
)
def test_bad_values(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ResilienceConfig.model_validate(data)


def test_methods_are_upper_cased() -> None:
    assert RetryConfig(methods=frozenset({"get"})).methods == {"GET"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timeout": {"total": 5, "attempt": 10}}, r"timeout.attempt \(10s\) exceeds"),
        ({"timeout": {"total": 0.5}}, "retry back-offs can add up to 0.6s"),
        ({"timeout": {"attempt": 20}}, r"sampling_duration \(30s\) is less than twice"),
    ],
)
def test_sections_must_fit_together(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ResilienceConfig.model_validate(data)


def test_fitting_sections() -> None:
    ResilienceConfig(timeout=TimeoutConfig(total=30, attempt=10))
    ResilienceConfig(
        timeout=TimeoutConfig(attempt=20),
        circuit_breaker=CircuitBreakerConfig(enabled=False),
    )


def test_max_total_delay() -> None:
    assert RetryConfig().max_total_delay() == pytest.approx(0.2 + 0.4)
    assert RetryConfig(enabled=False).max_total_delay() == 0
    capped = RetryConfig(max_attempts=5, backoff_base=1, backoff_max=3)
    assert capped.max_total_delay() == 1 + 2 + 3 + 3
    decorrelated = RetryConfig(
        max_attempts=3, backoff_base=1, backoff_max=5, jitter=JitterKind.DECORRELATED
    )
    assert decorrelated.max_total_delay() == 3 + 5


def test_effective_burst() -> None:
    assert RateLimitConfig(rate=10, burst=2).effective_burst() == 2

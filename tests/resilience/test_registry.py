"""CircuitBreakerRegistry: named breakers, created once, bounded in number."""

from __future__ import annotations

import pytest

from lexigram.contracts.resilience import CircuitBreakerRegistryProtocol
from lexigram.resilience import CircuitBreaker, CircuitBreakerConfig, CircuitBreakerRegistry


def test_implements_the_protocol() -> None:
    assert isinstance(CircuitBreakerRegistry(), CircuitBreakerRegistryProtocol)


def test_get_returns_none_for_an_unknown_name() -> None:
    assert CircuitBreakerRegistry().get("payments") is None


def test_get_or_create_creates_once_with_the_defaults() -> None:
    defaults = CircuitBreakerConfig(failure_ratio=0.25)
    registry = CircuitBreakerRegistry(defaults)
    breaker = registry.get_or_create("payments")
    assert breaker.name == "payments"
    assert breaker.config is defaults
    assert registry.get_or_create("payments") is breaker
    assert registry.get("payments") is breaker
    assert "payments" in registry
    assert registry.names() == ["payments"]
    assert list(registry) == [breaker]


def test_get_or_create_with_its_own_config() -> None:
    registry = CircuitBreakerRegistry()
    config = CircuitBreakerConfig(minimum_throughput=5)
    assert registry.get_or_create("search", config).config is config


def test_the_number_of_breakers_is_bounded() -> None:
    registry = CircuitBreakerRegistry(max_breakers=2)
    registry.get_or_create("a")
    registry.get_or_create("b")
    with pytest.raises(ValueError, match=r"limit of 2 breakers \(max_breakers\)"):
        registry.get_or_create("c")
    assert len(registry) == 2
    assert registry.get_or_create("a") is registry.get("a")  # existing names still resolve


def test_max_breakers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_breakers"):
        CircuitBreakerRegistry(max_breakers=0)


def test_add_an_existing_breaker() -> None:
    registry = CircuitBreakerRegistry()
    breaker = CircuitBreaker("http-default")
    registry.add(breaker)
    registry.add(breaker)  # idempotent
    assert registry.get("http-default") is breaker
    with pytest.raises(ValueError, match="already registered"):
        registry.add(CircuitBreaker("http-default"))


def test_repr() -> None:
    registry = CircuitBreakerRegistry()
    registry.get_or_create("a")
    assert repr(registry) == "<CircuitBreakerRegistry ['a']>"

"""Resilience contracts: retry policies, pipelines, circuit breakers, bulkheads, rate limiters.

Implemented by ``lexigram.resilience`` (lexigram-http-resilience); the HTTP client resolves
them from the DI container at boot. They speak ``RequestContext`` / ``HttpResponse`` and the
errors of ``lexigram.contracts.web``.
"""

from lexigram.contracts.resilience._protocols import (
    AttemptOperation,
    BulkheadProtocol,
    CircuitBreakerProtocol,
    CircuitBreakerRegistryProtocol,
    CircuitState,
    RateLimiterProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)

__all__ = [
    "AttemptOperation",
    "BulkheadProtocol",
    "CircuitBreakerProtocol",
    "CircuitBreakerRegistryProtocol",
    "CircuitState",
    "RateLimiterProtocol",
    "ResiliencePipelineProtocol",
    "RetryPolicyProtocol",
]

"""lexigram.resilience: retry, circuit breaker, bulkhead, timeouts and rate limiting for HTTP.

Strategies compose into a :class:`ResiliencePipeline`, outermost first;
``ResiliencePipeline.standard(config)`` builds the HTTP default (rate limit, bulkhead, total
timeout, retry, circuit breaker, attempt timeout, each when configured). Everything speaks the
contracts of ``lexigram.contracts.resilience``, so the HTTP client runs it unchanged;
:class:`ResilienceModule` registers it in the DI container. Clocks and sleeps are injectable:
:class:`FakeClock` runs retries and breaker breaks in no real time.
"""

import logging

from lexigram.contracts.clock import FakeClock
from lexigram.resilience._budget import RetryBudget
from lexigram.resilience._bulkhead import Bulkhead
from lexigram.resilience._circuit import (
    DEFAULT_BREAKER_NAME,
    CircuitBreaker,
    CircuitBreakerRegistry,
    CircuitSnapshot,
    CircuitTransition,
    TransitionListener,
)
from lexigram.resilience._config import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    BulkheadConfig,
    CircuitBreakerConfig,
    JitterKind,
    RateLimitConfig,
    RedisConfig,
    ResilienceConfig,
    RetryBudgetConfig,
    RetryConfig,
    TimeoutConfig,
)
from lexigram.resilience._module import ResilienceModule, ResilienceProvider
from lexigram.resilience._partner import exhausted_for, parse_go_duration
from lexigram.resilience._pipeline import ResiliencePipeline
from lexigram.resilience._rate_limit import RateLimiter
from lexigram.resilience._redis_limit import (
    BackendErrorMode,
    RateLimitBackendError,
    RedisRateLimiter,
    Reservation,
)
from lexigram.resilience._retry import RetryPolicy, parse_retry_after
from lexigram.resilience._strategy import Clock, NextStage, ResilienceStrategy, Sleep
from lexigram.resilience._timeout import AttemptTimeout, TotalTimeout

# Library practice: records go nowhere until the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_BREAKER_NAME",
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "AttemptTimeout",
    "BackendErrorMode",
    "Bulkhead",
    "BulkheadConfig",
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "CircuitBreakerRegistry",
    "CircuitSnapshot",
    "CircuitTransition",
    "Clock",
    "FakeClock",
    "JitterKind",
    "NextStage",
    "RateLimitBackendError",
    "RateLimitConfig",
    "RateLimiter",
    "RedisConfig",
    "RedisRateLimiter",
    "Reservation",
    "ResilienceConfig",
    "ResilienceModule",
    "ResiliencePipeline",
    "ResilienceProvider",
    "ResilienceStrategy",
    "RetryBudget",
    "RetryBudgetConfig",
    "RetryConfig",
    "RetryPolicy",
    "Sleep",
    "TimeoutConfig",
    "TotalTimeout",
    "TransitionListener",
    "exhausted_for",
    "parse_go_duration",
    "parse_retry_after",
]

"""``ResilienceConfig``: the ``resilience:`` configuration section and its defaults.

Every key has an environment form: ``LEX_RESILIENCE__`` followed by the key path in upper case
with ``__`` between levels (``retry.max_attempts`` -> ``LEX_RESILIENCE__RETRY__MAX_ATTEMPTS``).
The models are frozen and refuse unknown keys; :class:`ResilienceConfig` also checks that the
sections fit together (an attempt timeout within the total, back-offs that fit the total, a
breaker window at least twice the attempt timeout) and says which keys disagree.
"""

from __future__ import annotations

import enum
import math
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "BulkheadConfig",
    "CircuitBreakerConfig",
    "JitterKind",
    "RateLimitConfig",
    "RedisConfig",
    "ResilienceConfig",
    "RetryBudgetConfig",
    "RetryConfig",
    "TimeoutConfig",
]

_FROZEN: Final = ConfigDict(frozen=True, extra="forbid", validate_default=True)

_Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods retried by default (RFC 9110 §9.2.2); any method is when an idempotency key is set."""
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses retried by default: transient by definition, or overload that passes."""


class JitterKind(enum.StrEnum):
    """How a back-off delay is randomised; ``d = min(backoff_max, backoff_base * 2**(n-1))``."""

    FULL = "full"
    """Uniform in ``[0, d)``: spreads retries best (AWS "full jitter"); the default."""
    EQUAL = "equal"
    """Uniform in ``[d/2, d)``: never retries almost at once."""
    NONE = "none"
    """Exactly ``d``: deterministic, for tests and single clients."""
    DECORRELATED = "decorrelated"
    """Uniform in ``[backoff_base, 3 * previous delay)``, capped (AWS "decorrelated jitter")."""


class RetryBudgetConfig(BaseModel):
    """The per-host retry budget (``resilience.retry.budget``).

    Within any ``window`` seconds, retries to one host stay below
    ``min_retries_per_second * window + ratio * requests``: an outage never multiplies the load
    by more than ``1 + ratio``, while a quiet client keeps a floor of retries for blips.
    """

    model_config = _FROZEN

    enabled: bool = True
    ratio: float = Field(default=0.2, ge=0, le=10, allow_inf_nan=False)
    """Retries allowed per request sent in the window (0.2: one retry per five requests)."""
    min_retries_per_second: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    """Floor, so that a client with little traffic can still retry a blip."""
    window: _Seconds = 10.0
    """Length of the sliding window in seconds (ten buckets)."""
    max_keys: int = Field(default=1024, ge=1)
    """Hosts tracked at most; the least recently used one is forgotten beyond that."""


class RetryConfig(BaseModel):
    """The retry policy (``resilience.retry``); the defaults are DESIGN §3's rules."""

    model_config = _FROZEN

    enabled: bool = True
    """``false``: one attempt, no retry."""
    max_attempts: int = Field(default=3, ge=1, le=100)
    """Attempts in all, the first one included."""
    backoff_base: _Seconds = 0.2
    """Back-off before the second attempt (before jitter); it doubles per attempt."""
    backoff_max: _Seconds = 10.0
    """Cap of one back-off."""
    jitter: JitterKind = JitterKind.FULL
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES
    """Statuses worth another attempt."""
    retry_on_connection_errors: bool = True
    """Retry ``HTTPConnectionError``."""
    retry_on_timeouts: bool = True
    """Retry ``HTTPTimeoutError`` (never the ``deadline`` phase: the call's budget is spent)."""
    methods: frozenset[str] = IDEMPOTENT_METHODS
    """Methods retried; any method is retried when the request carries an idempotency key."""
    retry_after_max: _Seconds = 60.0
    """Longest ``Retry-After`` / ``retry-after-ms`` honoured; a longer one ends the retries."""
    honor_should_retry_header: bool = False
    """Obey an ``x-should-retry: true|false`` response header (OpenAI/Anthropic-style APIs)."""
    budget: RetryBudgetConfig = Field(default_factory=RetryBudgetConfig)

    @field_validator("retryable_statuses")
    @classmethod
    def _statuses(cls, value: frozenset[int]) -> frozenset[int]:
        bad = sorted(status for status in value if not 100 <= status <= 599)
        if bad:
            raise ValueError(f"not HTTP statuses: {bad}")
        return value

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(method.upper() for method in value)

    def max_total_delay(self) -> float:
        """The longest the back-offs of one call can add up to (jitter at its worst)."""
        if not self.enabled:
            return 0.0
        total, previous = 0.0, self.backoff_base
        for retry in range(self.max_attempts - 1):
            if self.jitter is JitterKind.DECORRELATED:
                previous = min(self.backoff_max, previous * 3 if retry else self.backoff_base * 3)
                total += previous
            else:
                total += min(self.backoff_max, self.backoff_base * 2.0**retry)
        return total


class CircuitBreakerConfig(BaseModel):
    """The circuit breaker (``resilience.circuit_breaker``), one circuit per host.

    A circuit opens when, over the last ``sampling_duration`` seconds, at least
    ``minimum_throughput`` calls were seen and failures (or slow calls) reach their ratio. It
    stays open ``break_duration`` seconds, doubling on each trip in a row up to
    ``max_break_duration``; then ``half_open_max_calls`` probes decide.
    """

    model_config = _FROZEN

    enabled: bool = True
    """``false``: never opens on its own (``isolate()`` still works)."""
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    """Share of failed calls in the window that opens the circuit."""
    minimum_throughput: int = Field(default=20, ge=1)
    """Calls the window must hold before a ratio counts."""
    sampling_duration: _Seconds = 30.0
    """Length of the sliding window in seconds."""
    buckets: int = Field(default=10, ge=1, le=1000)
    """Buckets the window is divided into (its time resolution)."""
    break_duration: _Seconds = 5.0
    """First open period; it grows by ``break_multiplier`` on each trip in a row."""
    break_multiplier: float = Field(default=2.0, ge=1, allow_inf_nan=False)
    max_break_duration: _Seconds = 60.0
    """Cap of the open period."""
    half_open_max_calls: int = Field(default=1, ge=1)
    """Probes admitted while half-open; all must succeed to close, one failure reopens."""
    slow_call_duration: _Seconds | None = None
    """Calls at least this long count as slow (``null``: slow calls are not tracked)."""
    slow_call_ratio: float = Field(default=1.0, gt=0, le=1)
    """Share of slow calls in the window that opens the circuit."""
    count_429_as_failure: bool = False
    """Count ``429 Too Many Requests`` as a failure (other 4xx never are)."""
    max_keys: int = Field(default=1024, ge=1)
    """Hosts tracked at most; the least recently used circuit is forgotten beyond that."""

    @model_validator(mode="after")
    def _break_within_max(self) -> CircuitBreakerConfig:
        if self.break_duration > self.max_break_duration:
            raise ValueError(
                f"break_duration ({self.break_duration:g}s) exceeds "
                f"max_break_duration ({self.max_break_duration:g}s)"
            )
        return self


class BulkheadConfig(BaseModel):
    """Concurrency limit of the calls through the pipeline (``resilience.bulkhead``)."""

    model_config = _FROZEN

    max_concurrent: int | None = Field(default=None, ge=1)
    """Calls in flight at most (``null``: no bulkhead)."""
    max_queue: int = Field(default=0, ge=0)
    """Calls waiting for a slot at most; beyond, ``HTTPBulkheadFullError`` at once."""
    queue_timeout: _Seconds | None = None
    """Longest wait for a slot (``null``: as long as it takes)."""


class TimeoutConfig(BaseModel):
    """Pipeline timeouts (``resilience.timeout``); the client's own call deadline always applies.

    Off by default: ``http.pool.timeout`` already bounds the call and the transport bounds each
    attempt. Set them to bound a call or an attempt more tightly than the client does.
    """

    model_config = _FROZEN

    total: _Seconds | None = None
    """The whole call, retries and back-offs included (``HTTPTimeoutError``, phase deadline)."""
    attempt: _Seconds | None = None
    """One attempt (``HTTPTimeoutError``, phase read; retried like any timeout)."""


class RateLimitConfig(BaseModel):
    """Client-side rate limit per host (``resilience.rate_limit``).

    ``backend: local`` (the default) is a token bucket in this process. ``backend: redis``
    shares the quota with every process using the same Redis (``resilience.redis``): the keys
    below marked *redis* apply to it.
    """

    model_config = _FROZEN

    rate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Calls per second per host (``null``: no limit)."""
    burst: int | None = Field(default=None, ge=1)
    """Bucket size: calls allowed at once after a quiet period (default: ``ceil(rate)``)."""
    mode: Literal["wait", "reject"] = "wait"
    """``wait`` for a token (up to ``max_wait``), or ``reject`` with ``HTTPRateLimitedError``."""
    max_wait: float = Field(default=5.0, ge=0, allow_inf_nan=False)
    """Longest wait in ``wait`` mode; a longer one is rejected at once."""
    max_keys: int = Field(default=1024, ge=1)
    backend: Literal["local", "redis"] = "local"
    """``local``: this process only; ``redis``: one quota for the fleet (``resilience.redis``)."""
    name: str | None = Field(default=None, min_length=1)
    """*redis*: one named quota shared by every origin (``null``: one quota per origin)."""
    lease: int = Field(default=1, ge=1)
    """*redis*: permits taken per round trip; the extra ones serve this process's next calls."""
    lease_ttl: float = Field(default=0.25, ge=0, allow_inf_nan=False)
    """*redis*: seconds a leased permit stays usable (unused ones go back to the fleet)."""
    learn_from_headers: bool = True
    """*redis*: hold the fleet when a partner's rate-limit headers or a 429 say it is spent."""
    on_backend_error: Literal["local", "allow", "deny"] = "local"
    """*redis*: during an outage, ``local`` limits each process to ``local_share`` of the
    quota, ``allow`` lets calls through, ``deny`` rejects them (``RateLimitBackendError``)."""
    local_share: float = Field(default=0.25, gt=0, le=1)
    """*redis*: this process's share of the quota while Redis is down (1 / the processes)."""

    def effective_burst(self) -> int:
        """``burst``, or ``ceil(rate)`` (at least 1) when not set."""
        if self.burst is not None:
            return self.burst
        return max(1, math.ceil(self.rate or 1.0))


class RedisConfig(BaseModel):
    """The Redis that fleet-wide limits share (``resilience.redis``)."""

    model_config = _FROZEN

    url: str = Field(min_length=1)
    """``redis://[:password@]host:port/db`` (``rediss://`` for TLS); never logged unredacted."""
    key_prefix: str = "lexigram:rl:"
    """Prefix of every key the limiter writes (``<prefix>{<quota>}:...``)."""
    timeout: _Seconds = 0.25
    """Longest wait for one Redis call (connect included); past it, Redis counts as down."""
    reconnect_min: _Seconds = 0.1
    """First pause before Redis is tried again after a failure; it doubles per failure."""
    reconnect_max: _Seconds = 5.0
    """Longest pause between two tries while Redis is down."""

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class ResilienceConfig(BaseModel):
    """The ``resilience:`` section: what ``ResiliencePipeline.standard`` builds.

    Order of the standard pipeline, outermost first: rate limit, bulkhead, total timeout, retry,
    circuit breaker, attempt timeout. Sections left at their defaults give retry + circuit
    breaker (with the retry budget); the others are off until configured.
    """

    model_config = _FROZEN

    retry: RetryConfig = Field(default_factory=RetryConfig)
    circuit_breaker: CircuitBreakerConfig = Field(default_factory=CircuitBreakerConfig)
    bulkhead: BulkheadConfig = Field(default_factory=BulkheadConfig)
    timeout: TimeoutConfig = Field(default_factory=TimeoutConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    redis: RedisConfig | None = None
    """Where fleet-wide limits live (needed by ``rate_limit.backend: redis``)."""

    @model_validator(mode="after")
    def _consistent(self) -> ResilienceConfig:
        if self.rate_limit.backend == "redis":
            if self.redis is None:
                raise ValueError(
                    "rate_limit.backend is 'redis' but redis.url is not set: "
                    "give the Redis URL the fleet shares"
                )
            if self.rate_limit.rate is None:
                raise ValueError("rate_limit.backend is 'redis' but rate_limit.rate is not set")
        problems = _check_consistency(
            total=self.timeout.total,
            attempt=self.timeout.attempt,
            max_total_delay=self.retry.max_total_delay(),
            sampling_duration=(
                self.circuit_breaker.sampling_duration if self.circuit_breaker.enabled else None
            ),
            names=_CONFIG_NAMES,
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


_CONFIG_NAMES: Final = {
    "total": "timeout.total",
    "attempt": "timeout.attempt",
    "delay": "the retry back-offs",
    "sampling": "circuit_breaker.sampling_duration",
}


def _check_consistency(
    *,
    total: float | None,
    attempt: float | None,
    max_total_delay: float,
    sampling_duration: float | None,
    names: dict[str, str],
) -> list[str]:
    """What is wrong with these settings together, one sentence each (empty: nothing)."""
    problems: list[str] = []
    if total is not None and attempt is not None and attempt > total:
        problems.append(
            f"{names['attempt']} ({attempt:g}s) exceeds {names['total']} ({total:g}s): "
            "no attempt could ever use its full timeout"
        )
    if total is not None and max_total_delay >= total:
        problems.append(
            f"{names['delay']} can add up to {max_total_delay:g}s, which does not fit in "
            f"{names['total']} ({total:g}s): lower max_attempts or the back-off, or raise the total"
        )
    if sampling_duration is not None and attempt is not None and sampling_duration < 2 * attempt:
        problems.append(
            f"{names['sampling']} ({sampling_duration:g}s) is less than twice "
            f"{names['attempt']} ({attempt:g}s): slow failures would fall out of the window "
            "before the breaker could count them"
        )
    return problems

"""Resilience protocols, HTTP-aware, as the core client's request path calls them.

An *attempt operation* is ``Callable[[int], Awaitable[HttpResponse]]``: it takes the attempt
number (from 1), sends one attempt, and returns a response of any status or raises an
``HTTPClientError`` subclass. Policies decide from that outcome whether to try again.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias, TypeVar, runtime_checkable

from lexigram.contracts.web import HttpResponse, RequestContext

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

_T = TypeVar("_T")

AttemptOperation: TypeAlias = Callable[[int], Awaitable[HttpResponse]]
"""One attempt of a call: takes the attempt number (from 1), returns the response or raises."""


class CircuitState(enum.StrEnum):
    """State of a circuit breaker (per key)."""

    CLOSED = "closed"
    """Calls flow; failures are counted."""
    OPEN = "open"
    """Calls are refused with ``HTTPCircuitOpenError`` until the cool-down ends."""
    HALF_OPEN = "half_open"
    """A few trial calls are admitted to probe recovery."""
    ISOLATED = "isolated"
    """Forced open by an operator (``isolate()``) until ``reset()``."""


@runtime_checkable
class RetryPolicyProtocol(Protocol):
    """Runs an attempt operation, retrying per policy.

    Raises ``HTTPRetryExhaustedError`` when attempts run out on a retryable outcome;
    non-retryable outcomes are returned (responses) or raised (errors) as they are.
    """

    async def execute(
        self,
        request: RequestContext,
        operation: Callable[[int], Awaitable[HttpResponse]],
    ) -> HttpResponse:
        """Run ``operation`` for ``request`` until it succeeds or the policy gives up."""
        ...


@runtime_checkable
class ResiliencePipelineProtocol(Protocol):
    """A composed pipeline (retry, circuit breaker, bulkhead, timeout...) around a call.

    Same contract as :class:`RetryPolicyProtocol`; preferred by the client when registered.
    """

    async def execute(
        self,
        request: RequestContext,
        operation: Callable[[int], Awaitable[HttpResponse]],
    ) -> HttpResponse:
        """Run ``operation`` for ``request`` through every stage of the pipeline."""
        ...


@runtime_checkable
class CircuitBreakerProtocol(Protocol):
    """A circuit breaker with one circuit per key (the client keys on the origin)."""

    @property
    def name(self) -> str:
        """The breaker's name (``"http-default"`` for the client's own)."""
        ...

    def state(self, key: str = "") -> CircuitState:
        """The state of the circuit for ``key``."""
        ...

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        """Run ``operation`` if the circuit for ``key`` admits it.

        Raises ``HTTPCircuitOpenError`` when it does not; records the outcome otherwise.
        """
        ...

    def isolate(self) -> None:
        """Force every circuit open until :meth:`reset`."""
        ...

    def reset(self) -> None:
        """Close every circuit and forget recorded outcomes."""
        ...


@runtime_checkable
class CircuitBreakerRegistryProtocol(Protocol):
    """Named circuit breakers shared across clients."""

    def get(self, name: str) -> CircuitBreakerProtocol | None:
        """The breaker called ``name``, if it exists."""
        ...

    def get_or_create(self, name: str) -> CircuitBreakerProtocol:
        """The breaker called ``name``, created with the registry's defaults if needed."""
        ...


@runtime_checkable
class BulkheadProtocol(Protocol):
    """Bounds concurrency; raises ``HTTPBulkheadFullError`` when no slot is available."""

    async def execute(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``operation`` in a slot."""
        ...


@runtime_checkable
class RateLimiterProtocol(Protocol):
    """Client-side rate limiting per key; waits, or raises ``HTTPRateLimitedError``."""

    async def acquire(self, key: str = "") -> None:
        """Return when a call for ``key`` may proceed."""
        ...

"""``DefaultRetryPolicy``: what the client retries when no policy or pipeline is configured."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random as _random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Final

from lexigram.contracts.observability import HTTPObserverProtocol
from lexigram.contracts.web import (
    Headers,
    HTTPConnectionError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
    redact_url,
)
from lexigram.http._config import RetryConfig

__all__ = ["DefaultRetryPolicy"]

_logger: Final = logging.getLogger("lexigram.http.retry")

_RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


class DefaultRetryPolicy:
    """Retries idempotent calls on transient failures, with capped exponential back-off.

    Implements ``RetryPolicyProtocol``. The rules:

    - only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or a request that
      carries an idempotency key are retried (``RequestContext.is_idempotent``);
    - retried outcomes: ``HTTPConnectionError``, ``HTTPTimeoutError`` of any phase but
      ``deadline`` (the call's budget is spent), and the statuses 408, 429, 500, 502, 503, 504;
    - back-off before attempt ``n + 1``: full jitter, ``random() * min(backoff_max,
      backoff_base * 2 ** (n - 1))``;
    - ``retry-after-ms`` then ``Retry-After`` (seconds or an HTTP date) replace the back-off
      when present; a hint longer than ``retry_after_max`` ends the retries;
    - the policy never sleeps past the call's deadline (``request.timeout`` when ``execute``
      starts): if the next delay would not fit in what is left, it stops;
    - cancellation is never retried (it is not caught at all).

    Stopping on a retryable outcome (attempts used up, hint too long, no time left) raises
    :class:`HTTPRetryExhaustedError` with the last error or response. Any other outcome is
    returned or re-raised as it is. ``sleep``, ``clock`` (monotonic), ``random`` and
    ``wall_clock`` (for HTTP dates) are injectable so tests need no real time. An
    ``observer`` hears each retry (``retry_scheduled``) and each retryable outcome given up on
    (``retry_refused``, reason ``"exhausted"``).
    """

    __slots__ = (
        "_backoff_base",
        "_backoff_max",
        "_clock",
        "_config",
        "_max_attempts",
        "_observer",
        "_random",
        "_retry_after_max",
        "_sleep",
        "_wall_clock",
    )

    def __init__(
        self,
        config: RetryConfig | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
        observer: HTTPObserverProtocol | None = None,
    ) -> None:
        self._config = config = config if config is not None else RetryConfig()
        self._max_attempts = config.max_attempts if config.enabled else 1
        self._backoff_base = config.backoff_base
        self._backoff_max = config.backoff_max
        self._retry_after_max = config.retry_after_max
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._wall_clock = wall_clock
        self._observer = observer

    @property
    def config(self) -> RetryConfig:
        """The settings in use (``enabled=False`` means a single attempt)."""
        return self._config

    async def execute(
        self,
        request: RequestContext,
        operation: Callable[[int], Awaitable[HttpResponse]],
    ) -> HttpResponse:
        """Run ``operation`` for ``request`` until it succeeds or the policy gives up."""
        max_attempts = self._max_attempts
        if max_attempts == 1 or not request.is_idempotent:
            return await operation(1)
        budget = request.timeout
        started = self._clock() if budget is not None else 0.0
        attempt = 1
        while True:
            try:
                response = await operation(attempt)
            except (HTTPConnectionError, HTTPTimeoutError) as exc:
                if isinstance(exc, HTTPTimeoutError) and exc.phase is TimeoutPhase.DEADLINE:
                    raise
                delay = self._backoff(attempt)
                # Decided inside the except block: keeping ``exc`` in a local past it would
                # tie the error, its traceback and this frame into a reference cycle.
                if attempt >= max_attempts or not self._fits(delay, budget, started):
                    if self._observer is not None:
                        self._observer.retry_refused(request, attempt, "exhausted")
                    raise HTTPRetryExhaustedError(attempts=attempt, last_error=exc) from exc
                reason = "timeout" if isinstance(exc, HTTPTimeoutError) else "connection_error"
            else:
                status = response.status
                if status not in _RETRYABLE_STATUSES:
                    return response
                if attempt >= max_attempts:
                    raise self._give_up(request, attempt, response)
                hint = self._retry_after(response.headers)
                if hint is None:
                    delay = self._backoff(attempt)
                elif hint > self._retry_after_max:
                    raise self._give_up(request, attempt, response)
                else:
                    delay = hint
                if not self._fits(delay, budget, started):
                    raise self._give_up(request, attempt, response)
                reason = str(status)
            if _logger.isEnabledFor(logging.DEBUG):
                _logger.debug(
                    "http.client.retry: %s %s attempt %d ended with %s; retrying in %.3fs",
                    request.method,
                    redact_url(request.url),
                    attempt,
                    reason,
                    delay,
                    extra={
                        "http_method": request.method,
                        "attempt": attempt,
                        "retry_reason": reason,
                        "retry_delay": delay,
                    },
                )
            if self._observer is not None:
                self._observer.retry_scheduled(request, attempt, delay, reason)
            await self._sleep(delay)
            attempt += 1

    def _give_up(
        self, request: RequestContext, attempt: int, response: HttpResponse
    ) -> HTTPRetryExhaustedError:
        if self._observer is not None:
            self._observer.retry_refused(request, attempt, "exhausted")
        return HTTPRetryExhaustedError(attempts=attempt, last_response=response)

    def _backoff(self, attempt: int) -> float:
        return self._random() * min(self._backoff_max, self._backoff_base * 2.0 ** (attempt - 1))

    def _fits(self, delay: float, budget: float | None, started: float) -> bool:
        if budget is None:
            return True
        # Sleeping until the deadline would leave nothing for the next attempt.
        return delay < budget - (self._clock() - started)

    def _retry_after(self, headers: Headers) -> float | None:
        """The server's wait hint in seconds, ``None`` if absent or unreadable."""
        value = headers.get("retry-after-ms")
        if value is not None:
            seconds = _non_negative(value)
            if seconds is not None:
                return seconds / 1000
        value = headers.get("retry-after")
        if value is None:
            return None
        seconds = _non_negative(value)
        if seconds is not None:
            return seconds
        try:
            date = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if date.tzinfo is None:  # "-0000": UTC, says RFC 5322
            date = date.replace(tzinfo=UTC)
        return max(0.0, date.timestamp() - self._wall_clock())

    def __repr__(self) -> str:
        config = self._config
        return (
            f"DefaultRetryPolicy(max_attempts={self._max_attempts}, "
            f"backoff_base={config.backoff_base}, backoff_max={config.backoff_max}, "
            f"retry_after_max={config.retry_after_max})"
        )


def _non_negative(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and math.isfinite(value) else None

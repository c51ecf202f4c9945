"""``RetryPolicy``: DESIGN §3's retry rules, configurable, with a per-host retry budget."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import math
import random as _random
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import (
    Headers,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.resilience._budget import RetryBudget
from lexigram.resilience._circuit import _ACTIVE, _CLOSED
from lexigram.resilience._config import JitterKind, RetryConfig
from lexigram.resilience._strategy import (
    _URL_ORIGINS,
    Clock,
    NextStage,
    Sleep,
    _origin_of,
    _terminal,
)

if TYPE_CHECKING:
    from lexigram.resilience._circuit import CircuitBreaker

__all__ = ["RetryPolicy", "parse_retry_after"]

_ATTEMPT_METRIC: Final = "resilience.retry.attempt"

# One frozen mapping per outcome: recording a metric allocates nothing.
_OK: Final = MappingProxyType({"outcome": "ok"})
_ERROR: Final = MappingProxyType({"outcome": "error"})
_RETRY: Final = MappingProxyType({"outcome": "retry"})
_EXHAUSTED: Final = MappingProxyType({"outcome": "exhausted"})
_BUDGET_EXHAUSTED: Final = MappingProxyType({"outcome": "budget_exhausted"})

_DEADLINE: Final = TimeoutPhase.DEADLINE


def _innermost(next: NextStage) -> NextStage | None:
    """``next`` as ``_run`` takes it: ``None`` for the terminal stage, whose work (calling the
    operation) ``_run`` then does itself, a function call fewer per attempt."""
    return None if next is _terminal else next


class RetryPolicy:
    """Retries a call on transient failures; implements ``RetryPolicyProtocol``.

    The rules, all from :class:`RetryConfig` (defaults in brackets):

    - only ``methods`` [GET HEAD OPTIONS PUT DELETE TRACE] are retried, or any method whose
      request carries an idempotency key (``idempotency_key`` or an ``Idempotency-Key`` header);
    - retryable outcomes: ``HTTPConnectionError``, ``HTTPTimeoutError`` of any phase but
      ``deadline``, and ``retryable_statuses`` [408 429 500 502 503 504]; ``x-should-retry:
      true|false`` overrides the status when ``honor_should_retry_header`` [off];
    - back-off before attempt ``n + 1``: ``min(backoff_max, backoff_base * 2**(n-1))``,
      jittered per ``jitter`` [full];
    - ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP date), replaces the back-off;
      a hint over ``retry_after_max`` [60 s] ends the retries (waiting less than the server
      asked for would only earn another refusal);
    - never sleeps past the call's deadline: ``request.timeout`` when the call starts is the
      budget; a back-off that would not end before it ends the retries;
    - never retries cancellation (``asyncio.CancelledError`` is not even caught);
    - the per-host :class:`RetryBudget` [on] must grant every retry.

    Giving up on a retryable outcome (attempts used, hint too long, deadline, budget empty)
    raises :class:`HTTPRetryExhaustedError` with the attempts made and the last error or
    response; the reason is in its message. Other outcomes are returned or raised as they are.
    With a ``metrics`` recorder each attempt increments ``resilience.retry.attempt`` tagged
    ``outcome``: ``ok``, ``error`` (not retryable), ``retry``, ``exhausted`` or
    ``budget_exhausted``. An ``observer`` hears each retry (``retry_scheduled``) and each
    retryable outcome given up on (``retry_refused``: ``"budget"`` or ``"exhausted"``).
    ``clock``, ``sleep``, ``random`` and ``wall_clock`` (for HTTP dates) are injectable, so
    tests need no real time.
    """

    __slots__ = (
        "_base",
        "_budget",
        "_cap",
        "_clock",
        "_config",
        "_honor_should_retry",
        "_jitter",
        "_max_attempts",
        "_methods",
        "_metrics",
        "_observer",
        "_random",
        "_retry_after_max",
        "_retry_on",
        "_sleep",
        "_statuses",
        "_wall_clock",
    )

    def __init__(
        self,
        config: RetryConfig | None = None,
        *,
        budget: RetryBudget | None = None,
        retry_on: tuple[type[Exception], ...] | None = None,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
        observer: HTTPObserverProtocol | None = None,
    ) -> None:
        """``budget`` replaces the one ``config.budget`` describes (share one across policies);
        ``retry_on`` replaces the exception types the config selects."""
        config = config if config is not None else RetryConfig()
        self._config = config
        self._max_attempts = config.max_attempts if config.enabled else 1
        self._base = config.backoff_base
        self._cap = config.backoff_max
        self._jitter = config.jitter
        self._statuses = config.retryable_statuses
        self._methods = config.methods
        self._retry_after_max = config.retry_after_max
        self._honor_should_retry = config.honor_should_retry_header
        if retry_on is None:
            selected: list[type[Exception]] = []
            if config.retry_on_connection_errors:
                selected.append(HTTPConnectionError)
            if config.retry_on_timeouts:
                selected.append(HTTPTimeoutError)
            retry_on = tuple(selected)
        for kind in retry_on:
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                raise TypeError(f"retry_on takes Exception subclasses, not {kind!r}")
        self._retry_on = retry_on
        if budget is None and config.budget.enabled and self._max_attempts > 1:
            budget = RetryBudget(config.budget, clock=clock)
        self._budget = budget
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._wall_clock = wall_clock
        self._observer = observer

    @property
    def config(self) -> RetryConfig:
        """The settings in use."""
        return self._config

    @property
    def budget(self) -> RetryBudget | None:
        """The retry budget (``None``: retries are limited by ``max_attempts`` alone)."""
        return self._budget

    @property
    def max_attempts(self) -> int:
        """Attempts in all (1 when retries are disabled)."""
        return self._max_attempts

    def max_total_delay(self) -> float:
        """The longest the back-offs of one call can add up to (Retry-After hints aside)."""
        return self._config.max_total_delay() if self._max_attempts > 1 else 0.0

    async def execute(self, request: RequestContext, operation: AttemptOperation) -> HttpResponse:
        """Run ``operation`` for ``request`` until it succeeds or the policy gives up."""
        return await self._run(None, None, request, operation)

    def _compose_stage(self) -> NextStage | None:
        """The stage ``execute`` enters, for ``HTTPClient`` to call directly (one coroutine frame
        fewer per call). ``None`` when a subclass redefines ``execute``."""
        if type(self).execute is not RetryPolicy.execute:
            return None
        return self.bind(_terminal)

    def bind(self, next: NextStage) -> NextStage:
        """The retry as a pipeline stage: runs ``next`` once per attempt."""
        return functools.partial(self._run, _innermost(next), None)

    def _bind_guarded(self, breaker: CircuitBreaker, next: NextStage) -> NextStage:
        """The retry and, inside it, ``breaker`` as one stage: what
        ``self.bind(breaker.bind(next))`` runs, without the breaker's coroutine frame per
        attempt (``ResiliencePipeline`` composes them so when they are adjacent)."""
        return functools.partial(self._run, _innermost(next), breaker)

    def is_retryable_request(self, request: RequestContext) -> bool:
        """Whether the request may be sent twice: a retried method or an idempotency key."""
        return (
            request.method in self._methods
            or request.idempotency_key is not None
            or "Idempotency-Key" in request.headers
        )

    async def _run(
        self,
        next: NextStage | None,
        guard: CircuitBreaker | None,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        budget = self._budget
        now = self._clock()
        key = ""
        if budget is not None or guard is not None:
            key = _URL_ORIGINS.get(request.url) or _origin_of(request)
        if budget is not None:
            # RetryBudget.record_request, inlined: this runs on every call.
            window = budget._windows.get(key)
            if window is None or now >= window.bucket_end:
                budget.record_request(key, now)
            else:
                window.requests += 1
        metrics = self._metrics
        retryable = self._max_attempts > 1 and (
            request.method in self._methods
            or request.idempotency_key is not None
            or "Idempotency-Key" in request.headers
        )
        if not retryable and guard is None:
            if metrics is None:
                return await (operation(1) if next is None else next(request, operation, 1))
            try:
                response = await (operation(1) if next is None else next(request, operation, 1))
            except Exception:
                metrics.increment(_ATTEMPT_METRIC, tags=_ERROR)
                raise
            metrics.increment(_ATTEMPT_METRIC, tags=_OK)
            return response
        timeout = request.timeout
        deadline = None if timeout is None else now + timeout
        previous = self._base  # the last delay, for decorrelated jitter
        attempt = 1
        while True:
            try:
                if guard is None:
                    response = await (
                        operation(attempt) if next is None else next(request, operation, attempt)
                    )
                else:
                    # The breaker's stage (_BreakerStage.run), inlined around this attempt.
                    circuit = guard._circuits.get(key)
                    if circuit is None or circuit.state is not _CLOSED or guard._isolated:
                        circuit = guard._admit(key, request)
                    if circuit is None:
                        response = await (
                            operation(attempt)
                            if next is None
                            else next(request, operation, attempt)
                        )
                    else:
                        generation = circuit.generation
                        started = guard._clock() if guard._slow_threshold is not None else 0.0
                        token = _ACTIVE.set(guard)
                        try:
                            response = await (
                                operation(attempt)
                                if next is None
                                else next(request, operation, attempt)
                            )
                        except BaseException as exc:
                            guard._on_error(key, circuit, generation, started, exc)
                            raise
                        finally:
                            _ACTIVE.reset(token)
                        if (
                            response.status < 429
                            and circuit.state is _CLOSED
                            and circuit.generation == generation
                            and guard._slow_threshold is None
                        ):
                            # CircuitBreaker._on_response's happy path, inlined.
                            now = guard._clock()
                            if now >= circuit.bucket_end:
                                circuit.rotate(now, guard._inverse_width)
                            circuit.calls += 1
                        else:
                            guard._on_response(key, circuit, generation, started, response.status)
            except Exception as exc:
                if (
                    not retryable
                    or not isinstance(exc, self._retry_on)
                    or (isinstance(exc, HTTPTimeoutError) and exc.phase is _DEADLINE)
                ):
                    if metrics is not None:
                        metrics.increment(_ATTEMPT_METRIC, tags=_ERROR)
                    raise
                # Decided inside the handler: keeping ``exc`` past it would tie the error, its
                # traceback and this frame into a reference cycle.
                delay = self._backoff(attempt, previous)
                stop = self._stop(attempt, delay, deadline)
                if stop is None and budget is not None and not budget.try_spend(key):
                    stop = f"the retry budget of {key} is spent"
                    if metrics is not None:
                        metrics.increment(_ATTEMPT_METRIC, tags=_BUDGET_EXHAUSTED)
                elif metrics is not None:
                    metrics.increment(_ATTEMPT_METRIC, tags=_RETRY if stop is None else _EXHAUSTED)
                if stop is not None:
                    if self._observer is not None:
                        self._refused(request, attempt, stop)
                    raise _exhausted(attempt, stop, error=exc) from exc
                reason = "timeout" if isinstance(exc, HTTPTimeoutError) else "connection_error"
            else:
                status = response.status
                if not retryable:
                    if metrics is not None:
                        metrics.increment(_ATTEMPT_METRIC, tags=_OK)
                    return response
                if status in self._statuses:
                    if self._honor_should_retry and _should_retry(response) is False:
                        if metrics is not None:
                            metrics.increment(_ATTEMPT_METRIC, tags=_OK)
                        return response
                elif (
                    status < 400
                    or not self._honor_should_retry
                    or _should_retry(response) is not True
                ):
                    if metrics is not None:
                        metrics.increment(_ATTEMPT_METRIC, tags=_OK)
                    return response
                hint = parse_retry_after(response.headers, self._wall_clock)
                if hint is None:
                    delay = self._backoff(attempt, previous)
                    stop = self._stop(attempt, delay, deadline)
                else:
                    delay = hint
                    stop = self._stop(attempt, delay, deadline)
                    if stop is None and hint > self._retry_after_max:
                        stop = (
                            f"the server asked to wait {hint:g}s, more than "
                            f"retry_after_max ({self._retry_after_max:g}s)"
                        )
                if stop is None and budget is not None and not budget.try_spend(key):
                    stop = f"the retry budget of {key} is spent"
                    if metrics is not None:
                        metrics.increment(_ATTEMPT_METRIC, tags=_BUDGET_EXHAUSTED)
                elif metrics is not None:
                    metrics.increment(_ATTEMPT_METRIC, tags=_RETRY if stop is None else _EXHAUSTED)
                if stop is not None:
                    if self._observer is not None:
                        self._refused(request, attempt, stop)
                    raise _exhausted(attempt, stop, response=response)
                reason = str(status)
            if self._observer is not None:
                self._observer.retry_scheduled(request, attempt, delay, reason)
            previous = delay
            await self._sleep(delay)
            attempt += 1

    def _refused(self, request: RequestContext, attempt: int, stop: str) -> None:
        assert self._observer is not None
        reason = "budget" if stop.startswith("the retry budget") else "exhausted"
        self._observer.retry_refused(request, attempt, reason)

    def _backoff(self, attempt: int, previous: float) -> float:
        """The jittered back-off after attempt ``attempt`` (``previous``: the last delay)."""
        jitter = self._jitter
        if jitter is JitterKind.DECORRELATED:
            base = self._base
            return min(self._cap, base + self._random() * (3 * previous - base))
        ceiling = min(self._cap, self._base * 2.0 ** (attempt - 1))
        if jitter is JitterKind.FULL:
            return self._random() * ceiling
        if jitter is JitterKind.EQUAL:
            return ceiling / 2 * (1 + self._random())
        return ceiling

    def _stop(self, attempt: int, delay: float, deadline: float | None) -> str | None:
        """Why not to retry after ``attempt`` with ``delay``, or ``None`` to go on."""
        if attempt >= self._max_attempts:
            return ""
        if deadline is not None:
            left = deadline - self._clock()
            if delay >= left:
                return (
                    f"a wait of {delay:g}s would not end before the call's deadline "
                    f"({max(left, 0.0):g}s left)"
                )
        return None

    def __repr__(self) -> str:
        config = self._config
        return (
            f"RetryPolicy(max_attempts={self._max_attempts}, backoff_base={config.backoff_base:g}, "
            f"backoff_max={config.backoff_max:g}, jitter={config.jitter.value!r}, "
            f"budget={self._budget!r})"
        )


def _exhausted(
    attempts: int,
    reason: str,
    *,
    error: Exception | None = None,
    response: HttpResponse | None = None,
) -> HTTPRetryExhaustedError:
    last_error = error if isinstance(error, HTTPClientError) else None
    exhausted = HTTPRetryExhaustedError(
        attempts=attempts, last_error=last_error, last_response=response
    )
    if last_error is None and error is not None:
        # A custom ``retry_on`` type that is not an HTTPClientError: say what it was.
        reason = f"{reason}; last error: {type(error).__name__}: {error}".lstrip("; ")
    if reason:
        exhausted.message = f"{exhausted.message} ({reason})"
        exhausted.args = (exhausted.message,)
    return exhausted


def _should_retry(response: HttpResponse) -> bool | None:
    """The ``x-should-retry`` header as a boolean, ``None`` when absent or neither value."""
    value = response.headers.get("x-should-retry")
    if value is None:
        return None
    value = value.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def parse_retry_after(
    headers: Headers | Mapping[str, str], wall_clock: Callable[[], float] = time.time
) -> float | None:
    """The server's wait hint in seconds: ``retry-after-ms``, else ``Retry-After``.

    ``Retry-After`` is delta-seconds or an HTTP date (RFC 9110 §10.2.3), measured against
    ``wall_clock``; a date in the past means 0. ``None`` when absent or unreadable. Pass a
    case-insensitive :class:`Headers` (responses have one).
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        millis = _non_negative(value)
        if millis is not None:
            return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative(value)
    if seconds is not None:
        return seconds
    try:
        date = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if date.tzinfo is None:  # "-0000": UTC, says RFC 5322
        date = date.replace(tzinfo=UTC)
    return max(0.0, date.timestamp() - wall_clock())


def _non_negative(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and math.isfinite(value) else None

"""``TotalTimeout`` (the whole call, retries included) and ``AttemptTimeout`` (one attempt)."""

from __future__ import annotations

import asyncio
import functools

from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import (
    HttpResponse,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
    redact_url,
)
from lexigram.resilience._strategy import NextStage

__all__ = ["AttemptTimeout", "TotalTimeout"]


def _check(seconds: float) -> float:
    if not (isinstance(seconds, int | float) and 0 < seconds < float("inf")):
        raise ValueError(f"a timeout must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


class _Timeout:
    """What both timeouts share: a checked budget in seconds, bound as a pipeline stage."""

    __slots__ = ("_seconds",)

    def __init__(self, seconds: float) -> None:
        self._seconds = _check(seconds)

    @property
    def seconds(self) -> float:
        """The budget in seconds."""
        return self._seconds

    def bind(self, next: NextStage) -> NextStage:
        """The timeout as a pipeline stage."""
        return functools.partial(self._stage, next)

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        raise NotImplementedError


class TotalTimeout(_Timeout):
    """Bounds a whole call, retries and back-offs included (put it outside the retry).

    Raises ``HTTPTimeoutError`` with phase ``deadline`` (never retried). It also lowers
    ``request.timeout`` to ``seconds`` when that is shorter, so the retry inside knows the
    budget and never starts a back-off that cannot end in time.
    """

    __slots__ = ()

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        seconds = self._seconds
        budget = request.timeout
        if budget is None or budget > seconds:
            request.timeout = seconds
        timeout = asyncio.timeout(seconds)
        try:
            async with timeout:
                return await next(request, operation, attempt)
        except TimeoutError as exc:
            if not timeout.expired():
                raise
            raise HTTPTimeoutError(
                phase=TimeoutPhase.DEADLINE,
                timeout=seconds,
                method=request.method,
                url=request.url,
            ) from exc

    def __repr__(self) -> str:
        return f"TotalTimeout({self._seconds:g})"


class AttemptTimeout(_Timeout):
    """Bounds one attempt (put it inside the retry, and inside the circuit breaker).

    Raises ``HTTPTimeoutError`` with phase ``read`` ("the response did not come in time"), so
    the retry tries again and the breaker counts a failure.
    """

    __slots__ = ()

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        seconds = self._seconds
        timeout = asyncio.timeout(seconds)
        try:
            async with timeout:
                return await next(request, operation, attempt)
        except TimeoutError as exc:
            if not timeout.expired():
                raise
            raise HTTPTimeoutError(
                f"attempt {attempt} timed out after {seconds:g}s for "
                f"{request.method} {redact_url(request.url)}",
                phase=TimeoutPhase.READ,
                timeout=seconds,
                method=request.method,
                url=request.url,
            ) from exc

    def __repr__(self) -> str:
        return f"AttemptTimeout({self._seconds:g})"

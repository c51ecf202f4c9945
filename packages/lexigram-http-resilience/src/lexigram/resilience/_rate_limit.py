"""``RateLimiter``: a token bucket per key (host), waiting or rejecting when empty."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from typing import Literal

from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import HTTPRateLimitedError, HttpResponse, RequestContext
from lexigram.resilience._config import RateLimitConfig
from lexigram.resilience._strategy import Clock, NextStage, Sleep, _origin_of

__all__ = ["RateLimiter"]


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


class RateLimiter:
    """Client-side rate limit per key; implements ``RateLimiterProtocol``.

    Each key (the host origin, in a pipeline) has a bucket of ``burst`` tokens refilled at
    ``rate`` per second; a call takes one. When the bucket is empty, ``mode="wait"`` sleeps
    until the call's token is due, if that is within ``max_wait`` seconds, and
    ``mode="reject"`` (or a longer wait) raises ``HTTPRateLimitedError`` with ``retry_after``.
    Waiting calls reserve their token up front, so they are served in order; one cancelled
    while it waits gives its token back. At most ``max_keys`` buckets are kept (least recently
    used forgotten). ``clock`` and ``sleep`` are injectable.
    """

    __slots__ = (
        "_buckets",
        "_burst",
        "_clock",
        "_max_keys",
        "_max_wait",
        "_mode",
        "_rate",
        "_sleep",
    )

    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        mode: Literal["wait", "reject"] = "wait",
        max_wait: float = 5.0,
        max_keys: int = 1024,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0 < rate < float("inf"):
            raise ValueError(f"rate must be a positive number of calls per second, got {rate!r}")
        if mode not in ("wait", "reject"):
            raise ValueError(f"mode must be 'wait' or 'reject', got {mode!r}")
        if max_wait < 0:
            raise ValueError(f"max_wait cannot be negative, got {max_wait!r}")
        self._rate = float(rate)
        self._burst = float(burst if burst is not None else max(1, int(-(-rate // 1))))
        if self._burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self._mode = mode
        self._max_wait = max_wait
        self._max_keys = max_keys
        self._clock = clock
        self._sleep = sleep
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @classmethod
    def from_config(
        cls, config: RateLimitConfig, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> RateLimiter:
        """A limiter from the ``resilience.rate_limit`` section (which must set ``rate``)."""
        if config.rate is None:
            raise ValueError("rate_limit.rate is not set: there is no rate limiter to build")
        return cls(
            config.rate,
            burst=config.effective_burst(),
            mode=config.mode,
            max_wait=config.max_wait,
            max_keys=config.max_keys,
            clock=clock,
            sleep=sleep,
        )

    @property
    def rate(self) -> float:
        """Calls per second per key."""
        return self._rate

    @property
    def burst(self) -> int:
        """Calls allowed at once after a quiet period."""
        return int(self._burst)

    def tokens(self, key: str = "") -> float:
        """Tokens left for ``key`` now (negative: that many calls are waiting)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return self._burst
        elapsed = self._clock() - bucket.updated
        return min(self._burst, bucket.tokens + elapsed * self._rate)

    async def acquire(self, key: str = "") -> None:
        """Return when a call for ``key`` may proceed; raise ``HTTPRateLimitedError`` if not."""
        wait = self._reserve(key, None)
        if wait:
            await self._wait(key, wait)

    def bind(self, next: NextStage) -> NextStage:
        """The limiter as a pipeline stage, keyed on ``request.origin``."""
        return functools.partial(self._stage, next)

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        key = _origin_of(request)
        wait = self._reserve(key, request)
        if wait:
            await self._wait(key, wait)
        return await next(request, operation, attempt)

    def _reserve(self, key: str, request: RequestContext | None) -> float:
        """Take a token for ``key``; the seconds to wait for it (0: none)."""
        now = self._clock()
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = _Bucket(self._burst, now)
            if len(buckets) > self._max_keys:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(key)
            tokens = bucket.tokens + (now - bucket.updated) * self._rate
            bucket.tokens = tokens if tokens < self._burst else self._burst
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        wait = (1 - bucket.tokens) / self._rate
        if self._mode == "reject" or wait > self._max_wait:
            reason = f"rate limit of {self._rate:g}/s for {key or 'this client'}"
            if request is None:
                raise HTTPRateLimitedError(reason=reason, retry_after=wait)
            raise HTTPRateLimitedError(
                reason=reason, retry_after=wait, method=request.method, url=request.url
            )
        bucket.tokens -= 1
        return wait

    async def _wait(self, key: str, seconds: float) -> None:
        try:
            await self._sleep(seconds)
        except BaseException:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens += 1  # give the reserved token back
            raise

    def __repr__(self) -> str:
        return (
            f"RateLimiter(rate={self._rate:g}, burst={int(self._burst)}, mode={self._mode!r}, "
            f"max_wait={self._max_wait:g})"
        )

"""``Bulkhead``: at most N calls in flight, a bounded queue, and nothing leaked on cancel."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import HTTPBulkheadFullError, HttpResponse, RequestContext
from lexigram.resilience._config import BulkheadConfig
from lexigram.resilience._strategy import NextStage

__all__ = ["Bulkhead"]

_T = TypeVar("_T")


class Bulkhead:
    """Bounds concurrency; implements ``BulkheadProtocol``.

    Up to ``max_concurrent`` calls run at once; up to ``max_queue`` more wait for a slot, first
    come first served, for at most ``queue_timeout`` seconds (``None``: no limit). A call that
    finds the queue full, or waits too long, raises ``HTTPBulkheadFullError`` (its ``reason``
    says which). A call cancelled while it waits leaves the queue, and if a slot had just been
    handed to it, passes the slot on: cancellation never leaks a slot. In a pipeline it holds
    its slot for the whole call, retries included.
    """

    __slots__ = ("_active", "_max_concurrent", "_max_queue", "_name", "_queue_timeout", "_waiters")

    def __init__(
        self,
        max_concurrent: int,
        *,
        max_queue: int = 0,
        queue_timeout: float | None = None,
        name: str = "bulkhead",
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        if max_queue < 0:
            raise ValueError(f"max_queue cannot be negative, got {max_queue}")
        if queue_timeout is not None and not queue_timeout > 0:
            raise ValueError(f"queue_timeout must be positive or None, got {queue_timeout}")
        self._max_concurrent = max_concurrent
        self._max_queue = max_queue
        self._queue_timeout = queue_timeout
        self._name = name
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @classmethod
    def from_config(cls, config: BulkheadConfig, *, name: str = "bulkhead") -> Bulkhead:
        """A bulkhead from the ``resilience.bulkhead`` section (which must set max_concurrent)."""
        if config.max_concurrent is None:
            raise ValueError("bulkhead.max_concurrent is not set: there is no bulkhead to build")
        return cls(
            config.max_concurrent,
            max_queue=config.max_queue,
            queue_timeout=config.queue_timeout,
            name=name,
        )

    @property
    def active(self) -> int:
        """Calls holding a slot now."""
        return self._active

    @property
    def queued(self) -> int:
        """Calls waiting for a slot now."""
        return sum(not waiter.done() for waiter in self._waiters)

    async def execute(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``operation`` in a slot; raise ``HTTPBulkheadFullError`` if none comes."""
        if self._active < self._max_concurrent and not self._waiters:
            self._active += 1
        else:
            await self._wait(None)
        try:
            return await operation()
        finally:
            self._release()

    def bind(self, next: NextStage) -> NextStage:
        """The bulkhead as a pipeline stage."""
        return functools.partial(self._stage, next)

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        if self._active < self._max_concurrent and not self._waiters:
            self._active += 1
        else:
            await self._wait(request)
        try:
            return await next(request, operation, attempt)
        finally:
            self._release()

    async def _wait(self, request: RequestContext | None) -> None:
        """Queue for a slot; on return the caller holds one."""
        if len(self._waiters) >= self._max_queue:
            raise self._full(f"{self._name} full ({self._active} in flight, queue full)", request)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timeout = self._queue_timeout
        try:
            if timeout is None:
                await waiter
            else:
                async with asyncio.timeout(timeout):
                    await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over just as this call gave up: pass it on.
                self._release()
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise self._full(
                    f"{self._name} full (no slot within {timeout:g}s)", request
                ) from None
            raise

    def _release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the waiter: _active is unchanged
                return
        self._active -= 1

    def _full(self, reason: str, request: RequestContext | None) -> HTTPBulkheadFullError:
        if request is None:
            return HTTPBulkheadFullError(reason=reason)
        return HTTPBulkheadFullError(reason=reason, method=request.method, url=request.url)

    def __repr__(self) -> str:
        return (
            f"Bulkhead(max_concurrent={self._max_concurrent}, max_queue={self._max_queue}, "
            f"queue_timeout={self._queue_timeout!r}, active={self._active})"
        )

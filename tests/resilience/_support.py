"""Scripted attempt operations and request builders for the resilience tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeAlias

from lexigram.contracts.web import (
    HTTPConnectionError,
    HttpResponse,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.resilience import FakeClock

URL = "https://api.example.com/v1/items"
ORIGIN = "https://api.example.com"
OTHER_URL = "https://other.example.com/v1/items"
OTHER_ORIGIN = "https://other.example.com"

Outcome: TypeAlias = "int | HttpResponse | BaseException | Callable[[], BaseException] | str"


def request(
    method: str = "GET",
    url: str = URL,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> RequestContext:
    return RequestContext(method, url, timeout=timeout, idempotency_key=idempotency_key)


def response(status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, URL, "GET", headers)


def connection_error() -> HTTPConnectionError:
    return HTTPConnectionError(method="GET", url=URL)


def timeout_error(phase: TimeoutPhase = TimeoutPhase.READ) -> HTTPTimeoutError:
    return HTTPTimeoutError(phase=phase, timeout=1.0, method="GET", url=URL)


class Script:
    """An attempt operation that plays ``outcomes`` in order, the last one forever.

    An int is a response with that status; ``"conn"`` / ``"timeout"`` raise a fresh connection
    / read-timeout error; a callable builds the exception to raise; ``advance`` moves a fake
    clock forward during each attempt (a slow call).
    """

    def __init__(
        self, *outcomes: Outcome, clock: FakeClock | None = None, advance: float = 0.0
    ) -> None:
        self.outcomes = list(outcomes) or [200]
        self.attempts: list[int] = []
        self.clock = clock
        self.advance = advance

    @property
    def calls(self) -> int:
        return len(self.attempts)

    async def __call__(self, attempt: int = 0) -> HttpResponse:
        self.attempts.append(attempt)
        if self.clock is not None and self.advance:
            self.clock.advance(self.advance)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if outcome == "conn":
            raise connection_error()
        if outcome == "timeout":
            raise timeout_error()
        if isinstance(outcome, int):
            return response(outcome)
        if isinstance(outcome, HttpResponse):
            return outcome
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            raise outcome()
        raise AssertionError(f"bad outcome {outcome!r}")

    async def call(self) -> HttpResponse:
        """The zero-argument form ``CircuitBreaker.call`` takes."""
        return await self(0)


class Gate:
    """An operation that waits until released: to hold a call in flight."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, attempt: int = 0) -> HttpResponse:
        self.calls += 1
        self.entered.set()
        await self.release.wait()
        return response(self.status)

    async def call(self) -> HttpResponse:
        return await self(0)

"""Test doubles for the client tests: a stub transport and a fake clock.

The stub implements ``HTTPTransportProtocol``: each ``send`` records what was sent and answers
with the next scripted outcome (an ``HttpResponse``, a status code, or an exception to raise),
or with what a handler function returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import pytest

from lexigram.contracts.resilience import CircuitState
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HttpResponse,
    RequestBody,
    RequestContext,
    StreamingResponseProtocol,
)

Outcome: TypeAlias = HttpResponse | int | BaseException
Handler: TypeAlias = Callable[[RequestContext], Outcome]


@dataclass(frozen=True)
class Sent:
    """A snapshot of one context as the transport received it."""

    method: str
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]]
    body: bytes | RequestBody | None
    timeout: float | None
    attempt: int
    extensions: dict[str, Any]
    allow_redirects: bool
    idempotency_key: str | None


class StubTransport:
    """Answers from a script (the last outcome repeats) or a handler; records every send."""

    def __init__(self, *outcomes: Outcome, handler: Handler | None = None) -> None:
        self._outcomes = list(outcomes) or [200]
        self._handler = handler
        self.sent: list[Sent] = []
        self.contexts: list[RequestContext] = []
        self.closed = 0

    async def send(self, context: RequestContext) -> HttpResponse:
        self.contexts.append(context)
        self.sent.append(
            Sent(
                context.method,
                context.url,
                dict(context.headers),
                list(context.params),
                context.body,
                context.timeout,
                context.attempt,
                dict(context.extensions),
                context.allow_redirects,
                context.idempotency_key,
            )
        )
        if self._handler is not None:
            outcome = self._handler(context)
        else:
            index = min(len(self.sent), len(self._outcomes)) - 1
            outcome = self._outcomes[index]
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, int):
            return HttpResponse(outcome, url=context.url, method=context.method)
        return outcome

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed += 1


class FakeBreaker:
    def __init__(self, *, open_: bool = False) -> None:
        self.open = open_
        self.keys: list[str] = []

    @property
    def name(self) -> str:
        return "http-default"

    def state(self, key: str = "") -> CircuitState:
        return CircuitState.OPEN if self.open else CircuitState.CLOSED

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.keys.append(key)
        if self.open:
            raise HTTPCircuitOpenError(breaker=self.name, key=key)
        return await operation()

    def isolate(self) -> None:
        self.open = True

    def reset(self) -> None:
        self.open = False


class FakeClock:
    """A monotonic clock that only moves when told, and a ``sleep`` that moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def responses(*statuses: int, headers: Iterable[tuple[str, str]] = ()) -> list[HttpResponse]:
    """Plain responses with the given statuses (and headers)."""
    return [HttpResponse(status, headers=list(headers)) for status in statuses]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Fail the test if it leaves a task running (a leaked connection, a stray timer task)."""
    yield
    # Let callbacks scheduled by closing transports run first.
    await asyncio.sleep(0)
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    assert leftovers == []

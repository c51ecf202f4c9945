"""The attempts of one call, seen from public seams only.

- :class:`RecordingTransport` wraps the transport: when each attempt started, how long it
  took, its status or error, and the server's ``Retry-After`` hint;
- :class:`TimelineRecorder` is a ``MetricsRecorderProtocol``: the retry policy's decision after
  each attempt (``resilience.retry.attempt``: retry, exhausted, budget_exhausted) and the
  breaker's refusals (``resilience.circuit.rejected``);
- :meth:`Timeline.sleep` is the pipeline's injected sleep: the wait before the next attempt;
- :meth:`Timeline.on_transition` listens to the breaker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from lexigram.contracts.web import (
    Headers,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.resilience import CircuitTransition, parse_retry_after

__all__: list[str] = []

_RETRY_METRIC: Final = "resilience.retry.attempt"
_REJECTED_METRIC: Final = "resilience.circuit.rejected"


@dataclass(slots=True)
class Attempt:
    """One attempt: sent to the server, or refused by the breaker before that."""

    number: int
    started: float
    """Seconds since the call started."""
    duration: float | None = None
    status: int | None = None
    reason: str = ""
    error: str | None = None
    refused: str | None = None
    retry_after: float | None = None
    """The server's wait hint in seconds, when the response carried one."""
    hint_header: str | None = None
    decision: str | None = None
    """The retry policy's outcome tag for this attempt (``retry``, ``exhausted``...)."""
    wait: float | None = None
    wait_reason: str | None = None


@dataclass(slots=True)
class Timeline:
    """Everything recorded for one call, in order."""

    clock: Callable[[], float] = time.perf_counter
    real_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    started: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    transitions: list[tuple[float, CircuitTransition]] = field(default_factory=list)
    """Breaker transitions, with the seconds since the call started."""
    sent: list[RequestContext] = field(default_factory=list)
    """The context of every attempt as the transport received it."""
    max_attempts: int = 1
    """Attempts the retry policy allows, to tell why it gave up."""
    user_agent: str | None = None
    """The client's default ``User-Agent``, shown with the request headers."""
    shown: bool = False
    """Whether the request and the timeline were printed already (a stream's head)."""

    def start(self) -> None:
        """Mark the start of the call."""
        self.started = self.clock()

    def now(self) -> float:
        """Seconds since :meth:`start`."""
        return self.clock() - self.started

    def begin(self, context: RequestContext) -> Attempt:
        """Record an attempt that reaches the transport."""
        self.sent.append(context)
        attempt = Attempt(number=context.attempt, started=self.now())
        self.attempts.append(attempt)
        return attempt

    def refused(self, reason: str) -> None:
        """Record an attempt the breaker refused."""
        last = self.attempts[-1] if self.attempts else None
        number = 1 if last is None or last.decision != "retry" else last.number + 1
        self.attempts.append(Attempt(number=number, started=self.now(), refused=reason))

    def decided(self, outcome: str) -> None:
        """The retry policy's decision about the latest attempt."""
        if self.attempts:
            self.attempts[-1].decision = outcome

    async def sleep(self, seconds: float) -> None:
        """The retry policy's sleep: recorded on the latest attempt, then really slept."""
        if self.attempts:
            last = self.attempts[-1]
            last.wait = seconds
            if last.retry_after is not None and abs(seconds - last.retry_after) < 1e-9:
                last.wait_reason = f"{last.hint_header} from the server"
            else:
                last.wait_reason = "back-off (exponential, jittered)"
        await self.real_sleep(seconds)

    def on_transition(self, transition: CircuitTransition) -> None:
        """A breaker listener."""
        self.transitions.append((self.now(), transition))


def describe_error(error: BaseException) -> str:
    """A short, secret-free description of an attempt's failure."""
    if isinstance(error, HTTPTimeoutError):
        return f"timeout ({error.phase.value}, {error.timeout:g}s)"
    if isinstance(error, HTTPConnectionError):
        return f"connection error: {error.message}"
    if isinstance(error, HTTPClientError):
        return f"{type(error).__name__}: {error.message}"
    return type(error).__name__


class RecordingTransport:
    """An ``HTTPTransportProtocol`` that records each attempt on a :class:`Timeline`."""

    __slots__ = ("_inner", "_timeline")

    def __init__(self, inner: HTTPTransportProtocol, timeline: Timeline) -> None:
        self._inner = inner
        self._timeline = timeline

    async def send(self, context: RequestContext) -> HttpResponse:
        """Send through the wrapped transport, recording the attempt."""
        attempt = self._timeline.begin(context)
        try:
            response = await self._inner.send(context)
        except BaseException as exc:
            self._failed(attempt, exc)
            raise
        self._answered(attempt, response.status, response.headers)
        return response

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        """Open a stream through the wrapped transport, recording the attempt to its head."""
        attempt = self._timeline.begin(context)
        try:
            response = await self._inner.send_stream(context)
        except BaseException as exc:
            self._failed(attempt, exc)
            raise
        self._answered(attempt, response.status, response.headers)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()

    def _answered(self, attempt: Attempt, status: int, headers: Headers) -> None:
        attempt.duration = self._timeline.now() - attempt.started
        attempt.status = status
        attempt.retry_after = parse_retry_after(headers)
        if attempt.retry_after is not None:
            attempt.hint_header = (
                "retry-after-ms" if headers.get("retry-after-ms") is not None else "Retry-After"
            )

    def _failed(self, attempt: Attempt, error: BaseException) -> None:
        attempt.duration = self._timeline.now() - attempt.started
        attempt.error = describe_error(error)


class TimelineRecorder:
    """A metrics recorder feeding a :class:`Timeline`, and forwarding to another recorder."""

    __slots__ = ("_timeline",)

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Retry decisions and breaker refusals."""
        if name == _RETRY_METRIC and tags is not None:
            self._timeline.decided(tags.get("outcome", ""))
        elif name == _REJECTED_METRIC:
            self._timeline.refused("refused by the circuit breaker (open)")

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Not needed: the transport times the attempts."""

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Not needed: transitions come from the breaker's listener."""

"""The per-attempt observation hook: what tracing and metrics adapters are told.

A metrics recorder hears two numbers per attempt and an interceptor never hears about a
connection error; an :class:`HTTPObserverProtocol` sees every step of a call:

- ``attempt_started(context, streaming)``: an attempt is about to go on the wire (after the
  request interceptors). The observer may add headers to ``context.headers`` (``traceparent``).
  It returns an :class:`AttemptObservationProtocol` for that attempt, or ``None`` to ignore it.
- on that observation, in this order: ``response(response)`` once the response is in (for a
  verb, the whole body has been read; for a stream, only the head), ``first_byte()`` when a
  stream hands out its first body bytes, and ``end(error)`` exactly once: after ``response``
  for a verb, when a stream's body ends or is closed, or with the error when the attempt
  failed (``HTTPConnectionError``, ``HTTPTimeoutError`` with its ``phase``,
  ``HTTPDecodeError``, ``asyncio.CancelledError``, ...);
- ``retry_scheduled(context, attempt, delay, reason)``: the retry policy will wait ``delay``
  seconds and send attempt ``attempt + 1``; ``reason`` is ``"timeout"``,
  ``"connection_error"`` or the status code that is retried;
- ``retry_refused(context, attempt, reason)``: a retryable outcome was not retried:
  ``"budget"`` (the retry budget refused) or ``"exhausted"`` (attempts, deadline or
  ``Retry-After`` ran out);
- ``breaker_transition(breaker, key, previous, current)``: a circuit changed state
  (``"closed"``, ``"open"``, ``"half_open"``, ``"isolated"``).

Optionally, an observer that also implements :class:`HTTPPoolObserverProtocol` (every
:class:`BaseHTTPObserver` and :class:`ObserverGroup` does) hears the connection pool of the
aiohttp transport, per :class:`ConnectionOrigin`:

- ``connection_state(origin, previous, current)``: a connection went from ``previous`` to
  ``current``, each ``"active"`` (carrying a request), ``"idle"`` (kept alive in the pool) or
  ``None`` (``None -> "active"``: opened; ``... -> None``: closed);
- ``connection_closed(origin, duration)``: a connection closed after ``duration`` seconds open;
- ``pool_wait(origin, seconds)``: a request waited ``seconds`` for a free slot (only requests
  that had to queue are reported, including a wait cut short by a timeout).

Watching the pool costs a little on every request, so the transport asks first: an observer
with a ``wants_pool_events()`` method that returns false when the pool opens (the first
request) gets none. :class:`BaseHTTPObserver` wants them only when a subclass overrides one of
the three methods.

The calls are synchronous and on the request path: buffer, never do I/O inline. An observer
that raises breaks the request, as an interceptor would. When no observer is given, the
client does not call anything (no observation objects are made).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from lexigram.contracts.web import HttpResponse, RequestContext

__all__ = [
    "AttemptObservationProtocol",
    "BaseHTTPObserver",
    "ConnectionOrigin",
    "ConnectionState",
    "HTTPObserverProtocol",
    "HTTPPoolObserverProtocol",
    "InMemoryHTTPObserver",
    "ObservedEvent",
    "ObserverGroup",
    "wants_pool_events",
]

ConnectionState = Literal["active", "idle"]
"""A pooled connection's state: carrying a request, or kept alive in the pool."""


class ConnectionOrigin(NamedTuple):
    """Where a pooled connection goes: ``("https", "api.example.com", 443, "203.0.113.7")``.

    ``peer_address`` is the IP address the socket is connected to (``None`` before the
    connection is made, or when the transport does not know it).
    """

    scheme: str
    host: str
    port: int
    peer_address: str | None = None


@runtime_checkable
class HTTPPoolObserverProtocol(Protocol):
    """The optional pool events of an observer (see the module docstring)."""

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """A connection to ``origin`` went from ``previous`` to ``current`` (``None``: none)."""
        ...

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """A connection to ``origin`` closed after ``duration`` seconds open."""
        ...

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """A request to ``origin`` waited ``seconds`` for a free pool slot."""
        ...


@runtime_checkable
class AttemptObservationProtocol(Protocol):
    """One attempt being observed (see the module docstring for the order of calls)."""

    def response(self, response: HttpResponse) -> None:
        """The response is in: the whole of it for a verb, the head for a stream."""
        ...

    def first_byte(self) -> None:
        """A stream handed out its first body bytes."""
        ...

    def end(self, error: BaseException | None = None) -> None:
        """The attempt is over: body read, stream closed, or ``error`` (called once)."""
        ...


@runtime_checkable
class HTTPObserverProtocol(Protocol):
    """Receives the steps of every call of a client (see the module docstring)."""

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """An attempt is about to be sent; may add headers; returns its observation."""
        ...

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Attempt ``attempt`` will be retried after ``delay`` seconds, because of ``reason``."""
        ...

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Attempt ``attempt`` had a retryable outcome that is not retried (``reason``)."""
        ...

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """The circuit ``key`` of ``breaker`` went from ``previous`` to ``current``."""
        ...


class BaseHTTPObserver:
    """An observer that ignores everything: subclass it and override what you need."""

    __slots__ = ()

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Ignore the attempt (``None``)."""
        return None

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Ignore."""

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Ignore."""

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Ignore."""

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """Ignore."""

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """Ignore."""

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """Ignore."""

    def wants_pool_events(self) -> bool:
        """Whether a subclass overrides a pool event (if not, the pool is not watched)."""
        cls = type(self)
        return (
            cls.connection_state is not BaseHTTPObserver.connection_state
            or cls.connection_closed is not BaseHTTPObserver.connection_closed
            or cls.pool_wait is not BaseHTTPObserver.pool_wait
        )


def wants_pool_events(observer: object) -> bool:
    """Whether the pool should report to ``observer``: it implements
    :class:`HTTPPoolObserverProtocol` and its ``wants_pool_events()``, if any, agrees."""
    if not isinstance(observer, HTTPPoolObserverProtocol):
        return False
    wants = getattr(observer, "wants_pool_events", None)
    return wants is None or bool(wants())


class _GroupObservation:
    __slots__ = ("_parts",)

    def __init__(self, parts: list[AttemptObservationProtocol]) -> None:
        self._parts = parts

    def response(self, response: HttpResponse) -> None:
        for part in self._parts:
            part.response(response)

    def first_byte(self) -> None:
        for part in self._parts:
            part.first_byte()

    def end(self, error: BaseException | None = None) -> None:
        for part in self._parts:
            part.end(error)


class ObserverGroup:
    """Several observers as one, called in order (e.g. OpenTelemetry and Prometheus)."""

    __slots__ = ("_observers", "_pool_observers")

    def __init__(self, observers: Iterable[HTTPObserverProtocol]) -> None:
        self._observers = tuple(observers)
        for observer in self._observers:
            if not isinstance(observer, HTTPObserverProtocol):
                raise TypeError(
                    f"ObserverGroup takes HTTPObserverProtocol objects, not "
                    f"{type(observer).__name__}"
                )
        # Pool events go to the members that implement them (they are optional).
        self._pool_observers: tuple[HTTPPoolObserverProtocol, ...] = tuple(
            observer
            for observer in self._observers
            if isinstance(observer, HTTPPoolObserverProtocol)
        )

    @property
    def observers(self) -> tuple[HTTPObserverProtocol, ...]:
        """The observers, in call order."""
        return self._observers

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Start the attempt in every observer; one observation for those that want it."""
        parts = []
        for observer in self._observers:
            part = observer.attempt_started(context, streaming)
            if part is not None:
                parts.append(part)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _GroupObservation(parts)

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Tell every observer."""
        for observer in self._observers:
            observer.retry_scheduled(context, attempt, delay, reason)

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Tell every observer."""
        for observer in self._observers:
            observer.retry_refused(context, attempt, reason)

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Tell every observer."""
        for observer in self._observers:
            observer.breaker_transition(breaker, key, previous, current)

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """Tell every observer that takes pool events."""
        for observer in self._pool_observers:
            observer.connection_state(origin, previous, current)

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """Tell every observer that takes pool events."""
        for observer in self._pool_observers:
            observer.connection_closed(origin, duration)

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """Tell every observer that takes pool events."""
        for observer in self._pool_observers:
            observer.pool_wait(origin, seconds)

    def wants_pool_events(self) -> bool:
        """Whether any member wants pool events (see :func:`wants_pool_events`)."""
        return any(wants_pool_events(observer) for observer in self._pool_observers)

    def __repr__(self) -> str:
        return f"ObserverGroup({list(self._observers)!r})"


class ObservedEvent(NamedTuple):
    """One call received by :class:`InMemoryHTTPObserver`: ``(name, attempt, detail)``.

    ``name`` is ``"start"``, ``"response"``, ``"first_byte"``, ``"end"``, ``"retry"``,
    ``"refused"`` or ``"breaker"``; ``detail`` is what the call carried (a status, the error,
    ``(delay, reason)``, ...).
    """

    name: str
    attempt: int
    detail: object


class _RecordedAttempt:
    __slots__ = ("_attempt", "_events")

    def __init__(self, events: list[ObservedEvent], attempt: int) -> None:
        self._events = events
        self._attempt = attempt

    def response(self, response: HttpResponse) -> None:
        self._events.append(ObservedEvent("response", self._attempt, response.status))

    def first_byte(self) -> None:
        self._events.append(ObservedEvent("first_byte", self._attempt, None))

    def end(self, error: BaseException | None = None) -> None:
        self._events.append(ObservedEvent("end", self._attempt, error))


class InMemoryHTTPObserver:
    """An observer that keeps every call in its ``events`` list, for tests.

    Pool events go to ``pool_events`` instead, as ``(name, detail)`` pairs:
    ``("state", (origin, previous, current))``, ``("closed", (origin, duration))``,
    ``("wait", (origin, seconds))``.
    """

    __slots__ = ("events", "pool_events")

    events: list[ObservedEvent]
    """Every per-call event so far, oldest first."""

    pool_events: list[tuple[str, object]]
    """Every pool event so far, oldest first."""

    def __init__(self) -> None:
        self.events = []
        self.pool_events = []

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Record ``("start", attempt, "stream" | "verb")``."""
        self.events.append(
            ObservedEvent("start", context.attempt, "stream" if streaming else "verb")
        )
        return _RecordedAttempt(self.events, context.attempt)

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Record ``("retry", attempt, (delay, reason))``."""
        self.events.append(ObservedEvent("retry", attempt, (delay, reason)))

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Record ``("refused", attempt, reason)``."""
        self.events.append(ObservedEvent("refused", attempt, reason))

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Record ``("breaker", 0, (breaker, key, previous, current))``."""
        self.events.append(ObservedEvent("breaker", 0, (breaker, key, previous, current)))

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """Record ``("state", (origin, previous, current))`` in ``pool_events``."""
        self.pool_events.append(("state", (origin, previous, current)))

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """Record ``("closed", (origin, duration))`` in ``pool_events``."""
        self.pool_events.append(("closed", (origin, duration)))

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """Record ``("wait", (origin, seconds))`` in ``pool_events``."""
        self.pool_events.append(("wait", (origin, seconds)))

    def names(self) -> list[str]:
        """The names of the recorded events, oldest first."""
        return [event.name for event in self.events]

"""``CircuitBreaker`` (one circuit per key) and ``CircuitBreakerRegistry`` (named breakers).

```
            failure or slow ratio >= threshold
            with >= minimum_throughput calls in the window
   CLOSED ─────────────────────────────────────────────▶ OPEN ◀──────────┐
     ▲                                                   │ break over   │ a probe fails
     │ every probe succeeded                             ▼ (next call)  │ (longer break)
     └────────────────────────────────────────────── HALF_OPEN ─────────┘
   isolate(): every key ISOLATED until reset(); reset(): every key CLOSED, outcomes forgotten
```
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Final, NamedTuple, TypeAlias

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import AttemptOperation, CircuitState
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.resilience._config import CircuitBreakerConfig
from lexigram.resilience._strategy import _URL_ORIGINS, Clock, NextStage, _origin_of

__all__ = [
    "DEFAULT_BREAKER_NAME",
    "CircuitBreaker",
    "CircuitBreakerRegistry",
    "CircuitSnapshot",
    "CircuitTransition",
    "TransitionListener",
]

DEFAULT_BREAKER_NAME: Final = "http-default"
"""The breaker the HTTP client takes from a registry, and the one the standard pipeline uses."""

_logger: Final = logging.getLogger("lexigram.resilience.circuit")

_CLOSED: Final = CircuitState.CLOSED
_OPEN: Final = CircuitState.OPEN
_HALF_OPEN: Final = CircuitState.HALF_OPEN
_ISOLATED: Final = CircuitState.ISOLATED

_STATE_CODES: Final = {_CLOSED: 0.0, _OPEN: 1.0, _HALF_OPEN: 2.0, _ISOLATED: 3.0}
_STATE_METRIC: Final = "resilience.circuit.state"
_TRANSITION_METRIC: Final = "resilience.circuit.transition"
_REJECTED_METRIC: Final = "resilience.circuit.rejected"
_FAILURE_ERRORS: Final = (HTTPConnectionError, HTTPTimeoutError)

# The breaker whose pipeline stage is running in this context. The HTTP client guards each
# attempt with the registry's "http-default" breaker, which the standard pipeline already
# applies; a nested call of the same breaker then passes through, so an attempt counts once
# and a half-open probe does not refuse itself.
_ACTIVE: ContextVar[CircuitBreaker | None] = ContextVar("lexigram.resilience.breaker", default=None)


class CircuitTransition(NamedTuple):
    """A change of state of one circuit, as listeners receive it."""

    breaker: str
    key: str
    previous: CircuitState
    state: CircuitState
    reason: str
    """Why: ``failure ratio``, ``slow call ratio``, ``break elapsed``, ``probe failed``,
    ``probes succeeded``, ``isolate`` or ``reset``."""
    at: float
    """The breaker's clock when it happened."""


class CircuitSnapshot(NamedTuple):
    """The state of one circuit and what its window holds."""

    state: CircuitState
    calls: int
    """Calls recorded in the sampling window."""
    failures: int
    slow_calls: int
    retry_after: float | None
    """Seconds until an open circuit admits a probe (``None`` unless open)."""


class _Circuit:
    """One key's state and sliding window.

    The window is a ring of ``buckets`` time buckets. The current bucket's counts live in
    plain attributes (``calls``, ``failures``, ``slows``: one increment per call); they move
    into the ring, and the oldest bucket out of the ``past_*`` sums, only when the clock
    crosses ``bucket_end``.
    """

    __slots__ = (
        "bucket_end",
        "calls",
        "epoch",
        "failures",
        "generation",
        "open_until",
        "past_calls",
        "past_failures",
        "past_slows",
        "probes",
        "ring_calls",
        "ring_failures",
        "ring_slows",
        "seen",
        "slows",
        "state",
        "successes",
        "trips",
    )

    def __init__(self, buckets: int, now: float) -> None:
        self.state = _CLOSED
        # Bumped on every change of state: an outcome is recorded only if the circuit is still
        # in the state (and incarnation) that admitted the call.
        self.generation = 0
        self.seen = now  # recency, to the bucket: what the key eviction goes by
        self.open_until = 0.0
        self.trips = 0
        self.probes = 0
        self.successes = 0
        self.epoch = 0
        self.bucket_end = float("-inf")  # forces a rotation on first use
        self.ring_calls = [0] * buckets
        self.ring_failures = [0] * buckets
        self.ring_slows = [0] * buckets
        self.calls = self.failures = self.slows = 0
        self.past_calls = self.past_failures = self.past_slows = 0

    def clear_window(self) -> None:
        buckets = len(self.ring_calls)
        self.ring_calls = [0] * buckets
        self.ring_failures = [0] * buckets
        self.ring_slows = [0] * buckets
        self.calls = self.failures = self.slows = 0
        self.past_calls = self.past_failures = self.past_slows = 0

    def rotate(self, now: float, inverse_width: float) -> None:
        """Start the bucket ``now`` falls in, dropping those that left the window."""
        self.seen = now
        epoch = int(now * inverse_width)
        gap = epoch - self.epoch
        buckets = len(self.ring_calls)
        if gap >= buckets or gap < 0:
            self.clear_window()
        elif gap > 0:
            ring_calls, ring_failures, ring_slows = (
                self.ring_calls,
                self.ring_failures,
                self.ring_slows,
            )
            index = self.epoch % buckets
            ring_calls[index] = self.calls
            ring_failures[index] = self.failures
            ring_slows[index] = self.slows
            self.past_calls += self.calls
            self.past_failures += self.failures
            self.past_slows += self.slows
            for step in range(self.epoch + 1, epoch + 1):
                index = step % buckets
                self.past_calls -= ring_calls[index]
                self.past_failures -= ring_failures[index]
                self.past_slows -= ring_slows[index]
                ring_calls[index] = ring_failures[index] = ring_slows[index] = 0
            self.calls = self.failures = self.slows = 0
        self.epoch = epoch
        self.bucket_end = (epoch + 1) / inverse_width


TransitionListener: TypeAlias = Callable[[CircuitTransition], None]
"""What :meth:`CircuitBreaker.on_transition` takes."""


class CircuitBreaker:
    """A circuit breaker with one circuit per key; implements ``CircuitBreakerProtocol``.

    The key is the host origin (``scheme://host:port``) in the pipeline and the HTTP client, so
    one failing host never opens the circuit of another. Per :class:`CircuitBreakerConfig`:

    - failures are 5xx responses, ``HTTPConnectionError`` and ``HTTPTimeoutError`` (and an
      ``HTTPStatusError`` with such a status); 4xx never are, except 429 when
      ``count_429_as_failure``; cancellation, a ``deadline`` timeout (the caller's budget, not
      the host's fault) and other errors count as nothing (a half-open probe that ends so
      frees its slot);
    - the window is a ring of time buckets over ``sampling_duration``; the circuit opens when it
      holds ``minimum_throughput`` calls and ``failure_ratio`` of them failed (or, with
      ``slow_call_duration``, ``slow_call_ratio`` of them were slow);
    - open for ``break_duration``, times ``break_multiplier`` per trip in a row, up to
      ``max_break_duration``; calls fail fast with ``HTTPCircuitOpenError`` (``retry_after``
      set). The first call after the break turns the circuit half-open and is a probe; up to
      ``half_open_max_calls`` probes run, the others fail fast; all succeed: closed (and the
      break length resets), one fails or is slow: open again, for longer;
    - ``isolate()`` refuses everything until ``reset()``; ``reset()`` closes every circuit.

    Listeners (``on_transition``) and, with a ``metrics`` recorder, the gauge
    ``resilience.circuit.state`` (0 closed, 1 open, 2 half-open, 3 isolated) and the counters
    ``resilience.circuit.transition`` and ``resilience.circuit.rejected`` (tags ``breaker``,
    ``key``, and ``from``/``to`` for transitions) see every change. At most ``max_keys``
    circuits are kept: beyond, the least recently used eighth (to the bucket) is forgotten.
    An ``observer`` (``HTTPObserverProtocol``) hears every transition too.
    """

    __slots__ = (
        "_buckets",
        "_circuits",
        "_clock",
        "_config",
        "_count_429",
        "_enabled",
        "_failure_ratio",
        "_inverse_width",
        "_isolated",
        "_listeners",
        "_max_keys",
        "_max_probes",
        "_metrics",
        "_minimum_throughput",
        "_name",
        "_observer",
        "_slow_ratio",
        "_slow_threshold",
    )

    def __init__(
        self,
        name: str = DEFAULT_BREAKER_NAME,
        config: CircuitBreakerConfig | None = None,
        *,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Clock = time.monotonic,
        observer: HTTPObserverProtocol | None = None,
    ) -> None:
        config = config if config is not None else CircuitBreakerConfig()
        self._name = name
        self._config = config
        self._enabled = config.enabled
        self._failure_ratio = config.failure_ratio
        self._minimum_throughput = config.minimum_throughput
        self._buckets = config.buckets
        self._inverse_width = config.buckets / config.sampling_duration
        self._max_probes = config.half_open_max_calls
        self._slow_threshold = config.slow_call_duration
        self._slow_ratio = config.slow_call_ratio
        self._count_429 = config.count_429_as_failure
        self._max_keys = config.max_keys
        self._metrics = metrics
        self._observer = observer
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self._isolated = False
        self._listeners: list[TransitionListener] = []

    @property
    def name(self) -> str:
        """The breaker's name (``"http-default"`` for the client's own)."""
        return self._name

    @property
    def config(self) -> CircuitBreakerConfig:
        """The settings in use."""
        return self._config

    @property
    def sampling_duration(self) -> float:
        """Length of the sliding window in seconds."""
        return self._config.sampling_duration

    def state(self, key: str = "") -> CircuitState:
        """The state of the circuit for ``key``.

        An open circuit reports ``OPEN`` until the first call after its break, which turns it
        half-open.
        """
        if self._isolated:
            return _ISOLATED
        circuit = self._circuits.get(key)
        return _CLOSED if circuit is None else circuit.state

    def snapshot(self, key: str = "") -> CircuitSnapshot:
        """The state of ``key``'s circuit and the counts in its window, now."""
        circuit = self._circuits.get(key)
        state = self.state(key)
        if circuit is None:
            return CircuitSnapshot(state, 0, 0, 0, None)
        now = self._clock()
        if circuit.state is _CLOSED and now >= circuit.bucket_end:
            circuit.rotate(now, self._inverse_width)
        retry_after = max(0.0, circuit.open_until - now) if state is _OPEN else None
        return CircuitSnapshot(
            state,
            circuit.past_calls + circuit.calls,
            circuit.past_failures + circuit.failures,
            circuit.past_slows + circuit.slows,
            retry_after,
        )

    def keys(self) -> list[str]:
        """The keys that have a circuit, oldest first."""
        return list(self._circuits)

    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        """Call ``listener`` on every change of state; returns a function that unsubscribes.

        Listeners run synchronously on the request path: keep them quick. One that raises is
        logged (logger ``lexigram.resilience.circuit``) and never breaks the call.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        """Run ``operation`` if the circuit for ``key`` admits it; record its outcome.

        Raises ``HTTPCircuitOpenError`` when it does not. Inside this breaker's own pipeline
        stage (the client guarding an attempt the pipeline already guards) it only runs
        ``operation``, so the attempt is counted once.
        """
        if _ACTIVE.get() is self:
            return await operation()
        circuit = self._circuits.get(key)
        if circuit is None or circuit.state is not _CLOSED or self._isolated:
            circuit = self._admit(key, None)
            if circuit is None:
                return await operation()
        generation = circuit.generation
        started = self._clock() if self._slow_threshold is not None else 0.0
        try:
            response = await operation()
        except BaseException as exc:
            self._on_error(key, circuit, generation, started, exc)
            raise
        self._on_response(key, circuit, generation, started, response.status)
        return response

    def bind(self, next: NextStage) -> NextStage:
        """The breaker as a pipeline stage, per attempt, keyed on ``request.origin``."""
        stage = _BreakerStage(self, next)
        return stage.run

    def isolate(self) -> None:
        """Refuse every call, for every key, until :meth:`reset` (manual override)."""
        if self._isolated:
            return
        self._isolated = True
        now = self._clock()
        for key, circuit in list(self._circuits.items()):
            self._transition(key, circuit, _ISOLATED, now, "isolate")

    def reset(self) -> None:
        """Close every circuit and forget recorded outcomes (and break lengths)."""
        now = self._clock()
        self._isolated = False
        circuits = list(self._circuits.items())
        self._circuits.clear()
        for key, circuit in circuits:
            if circuit.state is not _CLOSED:
                self._transition(key, circuit, _CLOSED, now, "reset")
            else:
                circuit.generation += 1  # calls in flight must not write to a forgotten circuit

    # -- the request path ------------------------------------------------------------------

    def _admit(self, key: str, request: RequestContext | None) -> _Circuit | None:
        """The circuit for ``key`` if it admits a call now (``None``: disabled, pass through).

        The slow path: a new key, a circuit not closed, or the breaker isolated or disabled.
        Raises ``HTTPCircuitOpenError`` when the call is refused.
        """
        if self._isolated:
            raise self._refuse(key, None, request)
        if not self._enabled:
            return None
        circuits = self._circuits
        circuit = circuits.get(key)
        now = self._clock()
        if circuit is None:
            if len(circuits) >= self._max_keys:
                self._evict()
            circuit = circuits[key] = _Circuit(self._buckets, now)
            return circuit
        circuit.seen = now
        state = circuit.state
        if state is _CLOSED:
            return circuit
        if state is _OPEN:
            if now < circuit.open_until:
                raise self._refuse(key, circuit.open_until - now, request)
            circuit.probes = circuit.successes = 0
            self._transition(key, circuit, _HALF_OPEN, now, "break elapsed")
        if circuit.probes >= self._max_probes:
            raise self._refuse(key, self._config.break_duration, request)
        circuit.probes += 1
        return circuit

    def _evict(self) -> None:
        """Forget the least recently seen eighth of the circuits (to the bucket)."""
        circuits = self._circuits
        by_age = sorted(circuits, key=lambda name: circuits[name].seen)
        for name in by_age[: max(1, self._max_keys // 8)]:
            circuits.pop(name).generation += 1  # calls in flight must not write to it

    def _on_response(
        self, key: str, circuit: _Circuit, generation: int, started: float, status: int
    ) -> None:
        """Record an admitted call answered with ``status``."""
        failed = status >= 500 or (status == 429 and self._count_429)
        if (
            not failed
            and circuit.state is _CLOSED
            and circuit.generation == generation
            and self._slow_threshold is None
        ):
            # The happy path: one clock read and one increment.
            now = self._clock()
            if now >= circuit.bucket_end:
                circuit.rotate(now, self._inverse_width)
            circuit.calls += 1
        else:
            self._record(key, circuit, generation, started, failed)

    def _on_error(
        self, key: str, circuit: _Circuit, generation: int, started: float, exc: BaseException
    ) -> None:
        if isinstance(exc, _FAILURE_ERRORS):
            # A deadline is the caller's budget running out (perhaps before anything was
            # sent), not evidence against the host: it counts as nothing, like cancellation.
            if isinstance(exc, HTTPTimeoutError) and exc.phase is TimeoutPhase.DEADLINE:
                if circuit.generation == generation and circuit.state is _HALF_OPEN:
                    circuit.probes -= 1
                return
            failed = True
        elif isinstance(exc, HTTPStatusError):
            status = exc.status
            failed = status >= 500 or (status == 429 and self._count_429)
        else:
            # Cancellation, usage errors, interceptor bugs: not the host's doing. A probe that
            # ends so gives its slot back.
            if circuit.generation == generation and circuit.state is _HALF_OPEN:
                circuit.probes -= 1
            return
        self._record(key, circuit, generation, started, failed)

    def _record(
        self, key: str, circuit: _Circuit, generation: int, started: float, failed: bool
    ) -> None:
        if circuit.generation != generation:
            return  # the circuit changed state since this call was admitted
        now = self._clock()
        threshold = self._slow_threshold
        slow = threshold is not None and now - started >= threshold
        if circuit.state is _HALF_OPEN:
            if failed or slow:
                self._trip(key, circuit, now, "probe failed")
                return
            circuit.successes += 1
            if circuit.successes >= self._max_probes:
                circuit.trips = 0
                circuit.clear_window()
                self._transition(key, circuit, _CLOSED, now, "probes succeeded")
            return
        if now >= circuit.bucket_end:
            circuit.rotate(now, self._inverse_width)
        circuit.calls += 1
        calls = circuit.past_calls + circuit.calls
        if failed:
            circuit.failures += 1
            if (
                calls >= self._minimum_throughput
                and circuit.past_failures + circuit.failures >= self._failure_ratio * calls
            ):
                self._trip(key, circuit, now, "failure ratio")
                return
        if slow:
            circuit.slows += 1
            if (
                calls >= self._minimum_throughput
                and circuit.past_slows + circuit.slows >= self._slow_ratio * calls
            ):
                self._trip(key, circuit, now, "slow call ratio")

    def _trip(self, key: str, circuit: _Circuit, now: float, reason: str) -> None:
        config = self._config
        duration = min(
            config.max_break_duration,
            config.break_duration * config.break_multiplier**circuit.trips,
        )
        circuit.trips += 1
        circuit.open_until = now + duration
        circuit.clear_window()
        self._transition(key, circuit, _OPEN, now, reason)

    def _transition(
        self, key: str, circuit: _Circuit, state: CircuitState, now: float, reason: str
    ) -> None:
        previous = circuit.state
        circuit.state = state
        circuit.generation += 1
        _logger.info(
            "resilience.circuit.transition",
            extra={
                "breaker": self._name,
                "circuit_key": key,
                "from_state": previous.value,
                "to_state": state.value,
                "reason": reason,
            },
        )
        metrics = self._metrics
        if metrics is not None:
            tags = {"breaker": self._name, "key": key}
            metrics.gauge(_STATE_METRIC, _STATE_CODES[state], tags)
            metrics.increment(
                _TRANSITION_METRIC, tags={**tags, "from": previous.value, "to": state.value}
            )
        if self._observer is not None:
            self._observer.breaker_transition(self._name, key, previous.value, state.value)
        if self._listeners:
            event = CircuitTransition(self._name, key, previous, state, reason, now)
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    _logger.exception("circuit breaker listener %r failed on %s", listener, event)

    def _refuse(
        self, key: str, retry_after: float | None, request: RequestContext | None
    ) -> HTTPCircuitOpenError:
        if self._metrics is not None:
            self._metrics.increment(_REJECTED_METRIC, tags={"breaker": self._name, "key": key})
        if request is None:
            return HTTPCircuitOpenError(breaker=self._name, key=key, retry_after=retry_after)
        return HTTPCircuitOpenError(
            breaker=self._name,
            key=key,
            retry_after=retry_after,
            method=request.method,
            url=request.url,
        )

    def __repr__(self) -> str:
        state = " isolated" if self._isolated else ""
        return f"<CircuitBreaker {self._name!r} circuits={len(self._circuits)}{state}>"


class _BreakerStage:
    """The breaker around the rest of the pipeline, one attempt at a time."""

    __slots__ = ("_breaker", "_circuits", "_clock", "_next")

    def __init__(self, breaker: CircuitBreaker, next: NextStage) -> None:
        self._breaker = breaker
        self._next = next
        # The same dict and clock as the breaker's (reset() clears the dict, never swaps it).
        self._circuits = breaker._circuits
        self._clock = breaker._clock

    async def run(
        self, request: RequestContext, operation: AttemptOperation, attempt: int = 1
    ) -> HttpResponse:
        breaker = self._breaker
        key = _URL_ORIGINS.get(request.url) or _origin_of(request)
        circuit = self._circuits.get(key)
        if circuit is None or circuit.state is not _CLOSED or breaker._isolated:
            circuit = breaker._admit(key, request)
            if circuit is None:
                return await self._next(request, operation, attempt)
        generation = circuit.generation
        started = breaker._clock() if breaker._slow_threshold is not None else 0.0
        token = _ACTIVE.set(breaker)
        try:
            response = await self._next(request, operation, attempt)
        except BaseException as exc:
            breaker._on_error(key, circuit, generation, started, exc)
            raise
        finally:
            _ACTIVE.reset(token)
        breaker._on_response(key, circuit, generation, started, response.status)
        return response


class CircuitBreakerRegistry:
    """Named circuit breakers; implements ``CircuitBreakerRegistryProtocol``.

    ``get_or_create(name)`` builds a breaker with the registry's ``defaults`` the first time.
    The number of breakers is bounded by ``max_breakers``: beyond it ``get_or_create`` raises
    ``ValueError`` rather than forget a breaker that someone still holds (its state would
    silently split in two). Breakers are few and named in code; keys inside a breaker are the
    unbounded part, and each breaker bounds those itself.
    """

    __slots__ = ("_breakers", "_clock", "_defaults", "_max_breakers", "_metrics", "_observer")

    def __init__(
        self,
        defaults: CircuitBreakerConfig | None = None,
        *,
        max_breakers: int = 64,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Clock = time.monotonic,
        observer: HTTPObserverProtocol | None = None,
    ) -> None:
        if max_breakers < 1:
            raise ValueError(f"max_breakers must be at least 1, got {max_breakers}")
        self._defaults = defaults if defaults is not None else CircuitBreakerConfig()
        self._max_breakers = max_breakers
        self._metrics = metrics
        self._observer = observer
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker | None:
        """The breaker called ``name``, if it exists."""
        return self._breakers.get(name)

    def get_or_create(
        self, name: str, config: CircuitBreakerConfig | None = None
    ) -> CircuitBreaker:
        """The breaker called ``name``; created with ``config`` (or the defaults) if needed."""
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(
                name,
                config if config is not None else self._defaults,
                metrics=self._metrics,
                clock=self._clock,
                observer=self._observer,
            )
            self.add(breaker)
        return breaker

    def add(self, breaker: CircuitBreaker) -> None:
        """Register an existing ``breaker`` under its name.

        Raises ``ValueError`` if another breaker has that name or the registry is full.
        """
        current = self._breakers.get(breaker.name)
        if current is breaker:
            return
        if current is not None:
            raise ValueError(f"a circuit breaker named {breaker.name!r} is already registered")
        if len(self._breakers) >= self._max_breakers:
            raise ValueError(
                f"cannot add circuit breaker {breaker.name!r}: the registry holds its limit of "
                f"{self._max_breakers} breakers (max_breakers)"
            )
        self._breakers[breaker.name] = breaker

    def names(self) -> list[str]:
        """The names of the breakers, in creation order."""
        return list(self._breakers)

    def __len__(self) -> int:
        return len(self._breakers)

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(list(self._breakers.values()))

    def __repr__(self) -> str:
        return f"<CircuitBreakerRegistry {self.names()!r}>"

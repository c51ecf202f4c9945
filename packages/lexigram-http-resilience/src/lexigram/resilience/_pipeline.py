"""``ResiliencePipeline``: strategies composed outermost first, checked when built."""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Callable, Iterable

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import HttpResponse, RequestContext
from lexigram.resilience._budget import RetryBudget
from lexigram.resilience._bulkhead import Bulkhead
from lexigram.resilience._circuit import DEFAULT_BREAKER_NAME, CircuitBreaker
from lexigram.resilience._config import ResilienceConfig, _check_consistency
from lexigram.resilience._rate_limit import RateLimiter
from lexigram.resilience._redis_limit import RedisRateLimiter
from lexigram.resilience._retry import RetryPolicy
from lexigram.resilience._strategy import Clock, NextStage, ResilienceStrategy, Sleep, _terminal
from lexigram.resilience._timeout import AttemptTimeout, TotalTimeout

__all__ = ["ResiliencePipeline"]


class ResiliencePipeline:
    """Strategies around a call, outermost first; implements ``ResiliencePipelineProtocol``.

    ``ResiliencePipeline([TotalTimeout(10), RetryPolicy(), CircuitBreaker(), AttemptTimeout(2)])``
    runs the total timeout around the retry, which runs the breaker and the attempt timeout
    around each attempt. Each strategy is bound to the next once, here, so a call goes down a
    chain of bound methods with no allocation of its own. No strategies: one plain attempt.

    The composition is checked when built, with errors that name the strategies: an
    ``AttemptTimeout`` longer than the ``TotalTimeout``, back-offs that cannot fit in the total,
    a breaker window shorter than twice the attempt timeout, a timeout on the wrong side of the
    retry, two retries (their attempts would multiply). Pass ``validate=False`` to skip this.
    """

    __slots__ = ("_first", "_strategies")

    def __init__(
        self, strategies: Iterable[ResilienceStrategy] = (), *, validate: bool = True
    ) -> None:
        self._strategies = tuple(strategies)
        for strategy in self._strategies:
            if not callable(getattr(strategy, "bind", None)):
                raise TypeError(
                    f"{strategy!r} is not a resilience strategy: it has no bind(next) method"
                )
        if validate:
            problems = _problems(self._strategies)
            if problems:
                raise ValueError("invalid resilience pipeline: " + "; ".join(problems))
        self._first = _compose(self._strategies, _terminal)

    @property
    def strategies(self) -> tuple[ResilienceStrategy, ...]:
        """The strategies, outermost first."""
        return self._strategies

    async def execute(self, request: RequestContext, operation: AttemptOperation) -> HttpResponse:
        """Run ``operation`` for ``request`` through every strategy of the pipeline."""
        return await self._first(request, operation, 1)

    def _compose_stage(self) -> NextStage | None:
        """The stage ``execute`` enters, for ``HTTPClient`` to call directly (one coroutine frame
        fewer per call): ``stage(request, operation, 1)`` is ``execute(request, operation)``.
        ``None`` when a subclass redefines ``execute``."""
        if type(self).execute is not ResiliencePipeline.execute:
            return None
        return self._first

    def bind(self, next: NextStage) -> NextStage:
        """This pipeline's strategies as a stage of another pipeline."""
        return _compose(self._strategies, next)

    @classmethod
    def standard(
        cls,
        config: ResilienceConfig | None = None,
        *,
        breaker: CircuitBreaker | None = None,
        budget: RetryBudget | None = None,
        metrics: MetricsRecorderProtocol | None = None,
        observer: HTTPObserverProtocol | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> ResiliencePipeline:
        """The standard HTTP pipeline for ``config`` (default: :class:`ResilienceConfig()`).

        Outermost first, each stage present only when configured: rate limit (per host;
        with ``rate_limit.backend: redis`` a :class:`RedisRateLimiter` placed inside the retry
        instead, so that each attempt counts), bulkhead, total timeout, retry (with its
        per-host budget), circuit breaker (per host; ``breaker`` replaces the one the config
        describes, to share it), attempt timeout.
        The defaults give retry + circuit breaker. ``metrics`` and ``observer`` reach the retry
        policy and the breaker built here.
        """
        config = config if config is not None else ResilienceConfig()
        strategies: list[ResilienceStrategy] = []
        fleet: RedisRateLimiter | None = None
        if config.rate_limit.rate is not None:
            if config.rate_limit.backend == "redis":
                assert config.redis is not None  # ResilienceConfig checked it
                fleet = RedisRateLimiter.from_config(
                    config.rate_limit,
                    config.redis,
                    metrics=metrics,
                    clock=clock,
                    sleep=sleep,
                    wall_clock=wall_clock,
                )
            else:
                strategies.append(
                    RateLimiter.from_config(config.rate_limit, clock=clock, sleep=sleep)
                )
        if config.bulkhead.max_concurrent is not None:
            strategies.append(Bulkhead.from_config(config.bulkhead))
        if config.timeout.total is not None:
            strategies.append(TotalTimeout(config.timeout.total))
        if config.retry.enabled and config.retry.max_attempts > 1:
            strategies.append(
                RetryPolicy(
                    config.retry,
                    budget=budget,
                    metrics=metrics,
                    observer=observer,
                    clock=clock,
                    sleep=sleep,
                    random=random,
                    wall_clock=wall_clock,
                )
            )
        if fleet is not None:
            # Per attempt: every attempt spends the partner's quota, and every response (a
            # 429 the retry will handle included) tells the fleet what the partner says.
            strategies.append(fleet)
        if breaker is None:
            breaker = CircuitBreaker(
                DEFAULT_BREAKER_NAME,
                config.circuit_breaker,
                metrics=metrics,
                clock=clock,
                observer=observer,
            )
        strategies.append(breaker)
        if config.timeout.attempt is not None:
            strategies.append(AttemptTimeout(config.timeout.attempt))
        return cls(strategies)

    def __repr__(self) -> str:
        return f"ResiliencePipeline({list(self._strategies)!r})"


def _compose(strategies: tuple[ResilienceStrategy, ...], last: NextStage) -> NextStage:
    """Bind each strategy to the next, innermost first; the stage of the outermost.

    A :class:`RetryPolicy` directly around a :class:`CircuitBreaker` (the standard pipeline)
    becomes one stage, the breaker's bookkeeping inlined in the retry loop: one coroutine
    frame fewer per attempt, same behaviour. Subclasses keep their own ``bind``.
    """
    stage = last
    pending: tuple[CircuitBreaker, NextStage] | None = None  # a breaker and what it wraps
    for strategy in reversed(strategies):
        if pending is not None and type(strategy) is RetryPolicy:
            stage = strategy._bind_guarded(*pending)
            pending = None
            continue
        pending = (strategy, stage) if type(strategy) is CircuitBreaker else None
        stage = strategy.bind(stage)
    return stage


def _problems(strategies: tuple[ResilienceStrategy, ...]) -> list[str]:
    """What is wrong with this composition, one sentence each."""
    problems: list[str] = []
    retries = [i for i, s in enumerate(strategies) if isinstance(s, RetryPolicy)]
    totals = [i for i, s in enumerate(strategies) if isinstance(s, TotalTimeout)]
    attempts = [i for i, s in enumerate(strategies) if isinstance(s, AttemptTimeout)]
    breakers = [i for i, s in enumerate(strategies) if isinstance(s, CircuitBreaker)]
    if len(retries) > 1:
        problems.append(
            f"{len(retries)} RetryPolicy strategies: their attempts would multiply; keep one"
        )
    if retries:
        retry_at = retries[0]
        problems.extend(
            f"TotalTimeout({_seconds(strategies[i])}) comes after the RetryPolicy, so it bounds "
            "each attempt, not the call: put it before the RetryPolicy, or use AttemptTimeout"
            for i in totals
            if i > retry_at
        )
        problems.extend(
            f"AttemptTimeout({_seconds(strategies[i])}) comes before the RetryPolicy, so it "
            "bounds the whole call, not one attempt: put it after the RetryPolicy"
            for i in attempts
            if i < retry_at
        )
    total = min((_value(strategies[i]) for i in totals), default=None)
    attempt = min((_value(strategies[i]) for i in attempts), default=None)
    delay = 0.0
    if retries:
        retry = strategies[retries[0]]
        assert isinstance(retry, RetryPolicy)
        delay = retry.max_total_delay()
    sampling = None
    if breakers:
        breaker = strategies[breakers[0]]
        assert isinstance(breaker, CircuitBreaker)
        if breaker.config.enabled:
            sampling = breaker.sampling_duration
    names = {
        "total": "TotalTimeout",
        "attempt": "AttemptTimeout",
        "delay": "the RetryPolicy's back-offs",
        "sampling": "the CircuitBreaker's sampling_duration",
    }
    problems.extend(
        _check_consistency(
            total=total,
            attempt=attempt,
            max_total_delay=delay,
            sampling_duration=sampling,
            names=names,
        )
    )
    return problems


def _value(strategy: ResilienceStrategy) -> float:
    assert isinstance(strategy, TotalTimeout | AttemptTimeout)
    return strategy.seconds


def _seconds(strategy: ResilienceStrategy) -> str:
    return f"{_value(strategy):g}"

"""``lexigram-http demo``: a few hundred calls through the full stack against a bad upstream.

The stack is the one an application gets: ``HTTPClient`` with the resilience standard pipeline
(retry with its budget, circuit breaker), an interceptor and a metrics recorder. What it shows
comes from public seams only: the recorder's signals, the breaker's transition listener, the
interceptor, and the results of the calls.

``fast`` runs the same script on a :class:`~lexigram.resilience.FakeClock`: back-offs,
``Retry-After`` waits and the breaker's break take no real time, calls run one at a time, and a
seed gives the same outcomes on any machine (the slow answers still wait for their real
deadline, a second each).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lexigram.contracts.resilience import CircuitState
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    RequestContext,
)
from lexigram.http import HTTPClient, HTTPClientConfig, PoolConfig
from lexigram.http_cli._upstream import SEARCH_EVERY, Script, Upstream
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitTransition,
    FakeClock,
    ResilienceConfig,
    ResiliencePipeline,
    RetryBudgetConfig,
    RetryConfig,
)
from lexigram.result import Err, Ok

__all__: list[str] = []

TICK: Final = 0.025
"""Seconds between the starts of two calls: 250 calls take about six seconds."""
CONCURRENCY: Final = 8
SEARCH_TIMEOUT: Final = 0.5
FAST_SEARCH_TIMEOUT: Final = 1.0
"""In fast mode the deadline is the one real wait left: a wider margin keeps a busy machine's
ordinary answers inside it, so a seed's outcomes do not depend on the machine."""
CALL_TIMEOUT: Final = 2.5

DEMO_RESILIENCE: Final = ResilienceConfig(
    retry=RetryConfig(
        max_attempts=3,
        backoff_base=0.05,
        backoff_max=0.5,
        budget=RetryBudgetConfig(ratio=0.1, min_retries_per_second=0.5, window=5.0),
    ),
    circuit_breaker=CircuitBreakerConfig(
        failure_ratio=0.5,
        minimum_throughput=10,
        sampling_duration=2.0,
        break_duration=0.75,
        max_break_duration=3.0,
    ),
)
"""Tighter than the defaults, so that a nine-second demo shows every mechanism."""


class DemoRecorder:
    """The metrics recorder of the demo: counts what the client and the pipeline report."""

    def __init__(self) -> None:
        self.attempt_statuses: Counter[str] = Counter()
        self.retry_outcomes: Counter[str] = Counter()
        self.rejected = 0
        self.attempt_durations: list[float] = []

    @property
    def attempts(self) -> int:
        """Attempts that reached the transport."""
        return sum(self.attempt_statuses.values())

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Count attempts by status, retry decisions and breaker refusals."""
        tags = tags or {}
        if name == "http.request.status":
            self.attempt_statuses[tags.get("status", "?")] += 1
        elif name == "resilience.retry.attempt":
            self.retry_outcomes[tags.get("outcome", "?")] += 1
        elif name == "resilience.circuit.rejected":
            self.rejected += 1

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Keep attempt durations."""
        if name == "http.request.duration":
            self.attempt_durations.append(value)

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Breaker state gauges: the transitions come from the listener instead."""


class DemoInterceptor:
    """Tags every attempt for the upstream's script, and counts what it sees."""

    def __init__(self) -> None:
        self.requests = 0
        self.responses = 0

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        """Add ``X-Demo-Call``, ``X-Demo-Attempt`` and a request id."""
        call = context.extensions.get("demo.call", -1)
        context.headers["X-Demo-Call"] = str(call)
        context.headers["X-Demo-Attempt"] = str(context.attempt)
        context.headers["X-Request-Id"] = f"demo-{call}-{context.attempt}"
        self.requests += 1
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        """Count the responses."""
        self.responses += 1
        return response


@dataclass(slots=True)
class Transition:
    """A breaker transition, timed from the start of the demo."""

    at: float
    previous: str
    state: str
    reason: str


@dataclass(slots=True)
class DemoState:
    """What the demo has seen so far; the live view and the summary read it."""

    calls: int
    seed: int
    fast: bool
    done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    breaker_state: str = "closed"
    tokens: list[str] = field(default_factory=list)
    stream_complete: bool = False
    stream_error: str | None = None
    elapsed: float = 0.0
    recorder: DemoRecorder = field(default_factory=DemoRecorder)
    interceptor: DemoInterceptor = field(default_factory=DemoInterceptor)
    behaviours: dict[str, int] = field(default_factory=dict)
    upstream_requests: dict[str, int] = field(default_factory=dict)

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (nearest rank) of call latencies, in seconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``--json``)."""
        recorder = self.recorder
        retries = recorder.retry_outcomes.get("retry", 0)
        return {
            "seed": self.seed,
            "calls": self.calls,
            "fast": self.fast,
            "completed": self.done,
            "outcomes": dict(sorted(self.outcomes.items())),
            "attempts": recorder.attempts,
            "attempt_statuses": dict(sorted(recorder.attempt_statuses.items())),
            "retries": retries,
            "retry_budget_refusals": recorder.retry_outcomes.get("budget_exhausted", 0),
            "retries_exhausted": recorder.retry_outcomes.get("exhausted", 0),
            "breaker": {
                "rejected": recorder.rejected,
                "opened": sum(1 for t in self.transitions if t.state == "open"),
                "closed": sum(1 for t in self.transitions if t.state == "closed"),
                "final_state": self.breaker_state,
                "transitions": [
                    {"at": round(t.at, 3), "from": t.previous, "to": t.state, "reason": t.reason}
                    for t in self.transitions
                ],
            },
            "latency_ms": {
                name: None if value is None else round(value * 1000, 2)
                for name, value in (
                    ("p50", self.percentile(0.50)),
                    ("p95", self.percentile(0.95)),
                    ("p99", self.percentile(0.99)),
                )
            },
            "interceptor": {
                "requests": self.interceptor.requests,
                "responses": self.interceptor.responses,
            },
            "upstream": {
                "script": dict(sorted(self.behaviours.items())),
                "requests": dict(sorted(self.upstream_requests.items())),
            },
            "stream": {
                "tokens": len(self.tokens),
                "text": "".join(self.tokens),
                "complete": self.stream_complete,
                "error": self.stream_error,
            },
            "elapsed_s": round(self.elapsed, 3),
        }


def classify(outcome: object) -> str:
    """The outcome type of one call, as the summary counts it."""
    match outcome:
        case Ok():
            return "ok"
        case Err(HTTPStatusError() as error):
            return f"http_{error.status}"
        case Err(HTTPTimeoutError()) | HTTPTimeoutError():
            return "timeout"
        case Err(HTTPConnectionError()) | HTTPConnectionError():
            return "connection_error"
        case HTTPRetryExhaustedError():
            return "retries_exhausted"
        case HTTPCircuitOpenError():
            return "circuit_open"
        case Err(error):
            return type(error).__name__
    return type(outcome).__name__


async def run_demo(
    state: DemoState,
    *,
    on_progress: Callable[[DemoState], None] = lambda state: None,
    on_token: Callable[[str], None] = lambda token: None,
    on_stream: Callable[[], None] = lambda: None,
) -> DemoState:
    """Run the demo, updating ``state`` as it goes; returns it."""
    calls, seed, fast = state.calls, state.seed, state.fast
    script = Script.build(calls, seed)
    state.behaviours = script.counts()
    fake = FakeClock(0.0, wall_start=time.time()) if fast else None
    clock: Callable[[], float] = fake if fake is not None else time.monotonic
    sleep: Callable[[float], Awaitable[None]] = fake.sleep if fake is not None else asyncio.sleep
    wall: Callable[[], float] = fake.time if fake is not None else time.time
    started = clock()
    real_started = time.perf_counter()

    recorder, interceptor = state.recorder, state.interceptor
    breaker = CircuitBreaker(
        "http-default", DEMO_RESILIENCE.circuit_breaker, metrics=recorder, clock=clock
    )

    def on_transition(transition: CircuitTransition) -> None:
        if transition.key == api_origin:
            state.breaker_state = transition.state.value
        state.transitions.append(
            Transition(
                transition.at - started,
                transition.previous.value,
                transition.state.value,
                transition.reason,
            )
        )

    breaker.on_transition(on_transition)
    pipeline = ResiliencePipeline.standard(
        DEMO_RESILIENCE,
        breaker=breaker,
        metrics=recorder,
        clock=clock,
        sleep=sleep,
        random=random.Random(seed).random,
        wall_clock=wall,
    )
    config = HTTPClientConfig(pool=PoolConfig(timeout=CALL_TIMEOUT), connect_timeout=2.0)
    search_timeout = FAST_SEARCH_TIMEOUT if fast else SEARCH_TIMEOUT
    upstream = Upstream(script, slow_seconds=3 * search_timeout, token_delay=0 if fast else 0.02)
    api_origin = ""
    async with (
        upstream,
        HTTPClient(
            config,
            interceptors=[interceptor],
            pipeline=pipeline,
            metrics=recorder,
            clock=clock,
            sleep=sleep,
        ) as client,
    ):
        api_origin = upstream.api_url

        async def one(call: int) -> None:
            if fake is not None:
                # One call at a time: each starts a tick after the previous one ended, so a
                # long wait of one call delays the next instead of crowding the ones after it.
                fake.advance(TICK)
            else:
                await asyncio.sleep(max(0.0, started + call * TICK - clock()))
            search = call % SEARCH_EVERY == 0
            url = (
                f"{upstream.api_url}/v1/search?q=item-{call}"
                if search
                else f"{upstream.api_url}/v1/items/{call}"
            )
            real0, virtual0 = time.perf_counter(), clock()
            outcome: object
            try:
                outcome = await client.get(
                    url, timeout=search_timeout if search else None, extensions={"demo.call": call}
                )
            except HTTPClientError as exc:
                outcome = exc
            latency = time.perf_counter() - real0
            if fake is not None:
                latency += clock() - virtual0
            state.outcomes[classify(outcome)] += 1
            state.latencies.append(latency)
            state.done += 1
            state.breaker_state = breaker.state(api_origin).value
            on_progress(state)

        pending = iter(range(calls))

        async def worker() -> None:
            for call in pending:
                await one(call)

        workers = 1 if fast else CONCURRENCY
        await asyncio.gather(*(worker() for _ in range(workers)))
        if breaker.state(api_origin) is CircuitState.OPEN and fake is not None:
            fake.advance(DEMO_RESILIENCE.circuit_breaker.max_break_duration)
        on_stream()
        await _stream(client, upstream.llm_url, state, on_token)
        state.upstream_requests = dict(upstream.requests)
    state.elapsed = time.perf_counter() - real_started
    return state


async def _stream(
    client: HTTPClient, base: str, state: DemoState, on_token: Callable[[str], None]
) -> None:
    try:
        async with client.stream(
            "POST",
            f"{base}/v1/chat/completions",
            json={"model": "demo", "stream": True, "messages": [{"role": "user", "content": "?"}]},
            idempotency_key="demo-chat-1",
            extensions={"demo.call": -1},
        ) as response:
            response.raise_for_status()
            async for event in response.sse():
                if event.data == "[DONE]":
                    state.stream_complete = True
                    break
                token = event.json()["choices"][0]["delta"]["content"]
                state.tokens.append(token)
                on_token(token)
    except HTTPClientError as exc:
        state.stream_error = f"{type(exc).__name__}: {exc}"

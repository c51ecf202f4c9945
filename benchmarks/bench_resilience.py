"""Micro-benchmark: per-call overhead of the standard resilience pipeline on the happy path.

The operation is an async function returning a prebuilt ``HttpResponse(200)``, so what is
measured is the pipeline itself. Compared with a bare call and with tenacity's ``AsyncRetrying``
(as its ``@retry`` decorator uses it: 3 attempts, random exponential wait). Rounds interleave
the variants to share noise; each figure is the median over rounds, in microseconds per call,
loop overhead included alike. Every body yields to the event loop once per 256 calls, as a
real application does, so that cancelled timers are purged (``asyncio.timeout`` leaves one per
use) and the heap of scheduled timers stays realistic. Run with
``uv run python benchmarks/bench_resilience.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import tenacity

from lexigram.contracts.web import HTTPConnectionError, HttpResponse, RequestContext
from lexigram.resilience import (
    CircuitBreaker,
    ResilienceConfig,
    ResiliencePipeline,
    RetryPolicy,
    TimeoutConfig,
)

N = 20_000
ROUNDS = 11
YIELD_EVERY = 256

Body = Callable[[int], Awaitable[None]]


async def _medians(bodies: dict[str, Body]) -> dict[str, float]:
    """Median time per call of each body, in µs, over interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(ROUNDS):
        for name, body in bodies.items():
            start = time.perf_counter()
            await body(N)
            samples[name].append((time.perf_counter() - start) / N * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


async def main() -> None:
    response = HttpResponse(200, "https://api.example.com/v1/items", "GET")
    request = RequestContext("GET", "https://api.example.com/v1/items", timeout=30.0)

    async def operation(attempt: int) -> HttpResponse:
        return response

    standard = ResiliencePipeline.standard()
    with_timeouts = ResiliencePipeline.standard(
        ResilienceConfig(timeout=TimeoutConfig(total=30.0, attempt=10.0))
    )
    retry_only = RetryPolicy()
    breaker_only = CircuitBreaker()
    origin = request.origin

    retrying = tenacity.retry(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=10),
        retry=tenacity.retry_if_exception_type(HTTPConnectionError),
        reraise=True,
    )
    tenacity_operation = retrying(operation)

    async def bare(n: int) -> None:
        for i in range(n):
            await operation(1)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def pipeline(n: int) -> None:
        execute = standard.execute
        for i in range(n):
            await execute(request, operation)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def pipeline_timeouts(n: int) -> None:
        execute = with_timeouts.execute
        for i in range(n):
            await execute(request, operation)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def retry(n: int) -> None:
        execute = retry_only.execute
        for i in range(n):
            await execute(request, operation)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def breaker(n: int) -> None:
        call = breaker_only.call

        async def attempt() -> HttpResponse:
            return response

        for i in range(n):
            await call(origin, attempt)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def with_tenacity(n: int) -> None:
        for i in range(n):
            await tenacity_operation(1)
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    results = await _medians(
        {
            "bare call": bare,
            "standard pipeline (retry + breaker)": pipeline,
            "  RetryPolicy.execute alone": retry,
            "  CircuitBreaker.call alone": breaker,
            "standard + total/attempt timeouts": pipeline_timeouts,
            "tenacity @retry (AsyncRetrying)": with_tenacity,
        }
    )
    floor = results["bare call"]
    print(f"per-call time, median of {ROUNDS} interleaved rounds of {N} calls")
    for name, micros in results.items():
        overhead = micros - floor
        print(f"{name:<38} {micros:7.2f} µs/call  (overhead {overhead:6.2f} µs)")


if __name__ == "__main__":
    asyncio.run(main())

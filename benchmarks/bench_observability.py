"""What tracing and metrics cost per request: ours against aiohttp's OpenTelemetry instrumentation.

Each variant GETs nginx's small JSON body on loopback, in its own process (the OpenTelemetry
globals and the instrumentation's patch of ``aiohttp.ClientSession`` stay out of the others):

- ``aiohttp``: a raw ``aiohttp.ClientSession``;
- ``aiohttp-otel``: the same, with ``opentelemetry-instrumentation-aiohttp-client`` on the
  OpenTelemetry SDK (a span per request into an in-memory exporter, metrics into an
  in-memory reader);
- ``bare`` / ``bare-api``: ``HTTPClient`` with no retry, without and with an
  ``OpenTelemetryObserver`` when only the API is configured (no SDK);
- ``full`` / ``full-otel`` / ``full-api``: our full stack (resilience pipeline, an interceptor,
  a metrics recorder) without an observer, with ``OpenTelemetryObserver`` on the same SDK
  setup as ``aiohttp-otel`` (tracing and metrics), and with it on the API only.

Reported: CPU time per request (``time.process_time`` in the child, the median of
``--rounds`` rounds, variants interleaved), and with ``--icount`` instructions per request
under callgrind (``N`` requests minus ``0``, after the same warm-up; see ``bench_icount.py``).

Run: ``uv run python benchmarks/bench_observability.py [--requests 2000] [--concurrency 8]
[--rounds 3] [--icount]``. Bounded: requests and rounds are counts, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._nginx import SMALL_PATH, Upstream  # noqa: E402

VARIANTS: Final = {
    "aiohttp": "aiohttp ClientSession (raw)",
    "aiohttp-otel": "aiohttp + otel instrumentation (SDK)",
    "bare": "HTTPClient bare",
    "bare-api": "HTTPClient bare + observer (API only)",
    "full": "HTTPClient full stack",
    "full-otel": "full stack + OpenTelemetryObserver (SDK)",
    "full-api": "full stack + OpenTelemetryObserver (API only)",
}
_WARMUP: Final = 300


def _configure_sdk() -> Callable[[], None]:
    """Set the global SDK providers (in-memory exporter and reader); returns a reset step."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    return exporter.clear


async def _variant(
    key: str, url: str, concurrency: int
) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]], Callable[[], None]]:
    """``(once, close, clear)`` for ``key``."""
    import aiohttp

    from benchmarks._variants import StampInterceptor, pool_config
    from lexigram.contracts.observability import NoopMetricsRecorder
    from lexigram.http import HTTPClient
    from lexigram.observability import OpenTelemetryObserver
    from lexigram.resilience import ResiliencePipeline

    def nothing() -> None:
        pass

    clear = nothing
    if key.endswith("-otel"):
        clear = _configure_sdk()
    if key.startswith("aiohttp"):
        if key == "aiohttp-otel":
            from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

            AioHttpClientInstrumentor().instrument()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
        )

        async def raw_once() -> None:
            async with session.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"unexpected status {resp.status}")

        return raw_once, session.close, clear
    observer = OpenTelemetryObserver() if key.endswith(("-otel", "-api")) else None
    if key.startswith("bare"):
        client = HTTPClient(pool_config(concurrency, retry=False), observer=observer)
    else:
        client = HTTPClient(
            pool_config(concurrency, retry=True),
            interceptors=[StampInterceptor()],
            metrics=NoopMetricsRecorder(),
            pipeline=ResiliencePipeline.standard(),
            observer=observer,
        )

    async def ours_once() -> None:
        (await client.get(url)).unwrap()

    return ours_once, client.aclose, clear


async def _drive(once: Callable[[], Awaitable[None]], n: int, concurrency: int) -> None:
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await once()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _child(url: str, key: str, requests: int, concurrency: int) -> float:
    """Run the warm-up then ``requests`` requests; the CPU seconds of the latter."""
    once, close, clear = await _variant(key, url, concurrency)
    try:
        await _drive(once, _WARMUP, concurrency)
        clear()
        started = time.process_time()
        if requests:
            await _drive(once, requests, concurrency)
        return time.process_time() - started
    finally:
        await close()


def _run_child(url: str, key: str, requests: int, concurrency: int) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, key, str(requests), str(concurrency)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{key} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _icount(url: str, key: str, requests: int, concurrency: int) -> int:
    from benchmarks._callgrind import ensure_valgrind, run_under_callgrind

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    child = [url, key, str(requests), str(concurrency)]
    return run_under_callgrind(ensure_valgrind(), __file__, child, key, env=env)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests (2000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--icount", action="store_true", help="also count instructions")
    parser.add_argument("--icount-requests", type=int, default=300)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, key, requests, concurrency = args.child
        seconds = asyncio.run(_child(url, key, int(requests), int(concurrency)))
        print(seconds)
        return
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    upstream = Upstream(cpu=None)
    upstream.start()
    try:
        url = upstream.url(SMALL_PATH)
        print(
            f"{args.requests} requests x {args.rounds} rounds, concurrency {args.concurrency}, "
            f"loopback nginx {upstream.version}",
            flush=True,
        )
        cpu: dict[str, list[float]] = {key: [] for key in args.variants}
        for _ in range(args.rounds):
            for key in args.variants:
                seconds = float(_run_child(url, key, args.requests, args.concurrency))
                cpu[key].append(seconds / args.requests * 1e6)
        print(f"  {'variant':<46} {'CPU us/req':>10}")
        for key in args.variants:
            print(f"  {VARIANTS[key]:<46} {statistics.median(cpu[key]):>10.1f}", flush=True)
        if args.icount:
            n = args.icount_requests
            print(f"\ninstructions per request (callgrind, {n} requests after {_WARMUP})")
            for key in args.variants:
                total = _icount(url, key, n, args.concurrency)
                empty = _icount(url, key, 0, args.concurrency)
                print(f"  {VARIANTS[key]:<46} {(total - empty) / n:>12,.0f}", flush=True)
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()

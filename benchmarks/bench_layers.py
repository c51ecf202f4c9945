"""Instructions per call of the client's own layers, over a transport that answers at once.

``bench_icount.py`` measures whole requests against nginx, where aiohttp's share dominates and
the event loop's timing moves the figures by 1-3 % between runs. Here the transport returns
a prebuilt response without suspending, so what is left is the client's Python work per
call (validation, the request context, interceptors, the resilience stages, the metrics
observer, the ``Result``), and the count is the same from run to run. Each configuration runs
in its own process under ``valgrind --tool=callgrind``, with 0 and with N calls after the same
warm-up; the difference divided by N is its cost per call.

Configurations (``+`` combines them; ``full`` is ``benchmarks/``' full stack):

- ``bare``: ``HTTPClient`` without retries;
- ``interceptor``: one interceptor setting one header (``StampInterceptor``);
- ``metrics``: a ``NoopMetricsRecorder``;
- ``pipeline``: ``ResiliencePipeline.standard()`` (retry with its budget, circuit breaker).

Run: ``uv run python benchmarks/bench_layers.py [--calls 2000] [config ...]`` (about a minute;
two processes at a time). valgrind is installed with apt-get when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

# Run as a script, the helpers are imported as the package ``benchmarks`` (as run.py does).
_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._callgrind import ensure_valgrind, run_under_callgrind  # noqa: E402
from benchmarks._variants import StampInterceptor, pool_config  # noqa: E402
from lexigram.contracts.observability import NoopMetricsRecorder  # noqa: E402
from lexigram.contracts.web import (  # noqa: E402
    Headers,
    HttpResponse,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.http import HTTPClient  # noqa: E402
from lexigram.resilience import ResiliencePipeline  # noqa: E402

LAYERS: Final = ("interceptor", "metrics", "pipeline")
DEFAULT_CONFIGS: Final = (
    "bare",
    "interceptor",
    "metrics",
    "pipeline",
    "pipeline+interceptor",
    "full",
)
_URL: Final = "http://127.0.0.1:9/small.json"
_WARMUP: Final = 300


class InstantTransport:
    """Answers every request with the same small JSON response, without suspending."""

    def __init__(self) -> None:
        self._response = HttpResponse(
            200, _URL, "GET", Headers({"Content-Type": "application/json"}), b'{"ok":true}'
        )

    async def send(self, context: RequestContext) -> HttpResponse:
        return self._response

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        raise NotImplementedError("bench_layers measures the verbs only")

    async def aclose(self) -> None:
        return None


def build(config: str) -> HTTPClient:
    """The client of ``config`` (see the module docstring) over an :class:`InstantTransport`."""
    layers = set(LAYERS) if config == "full" else set(config.split("+")) - {"bare"}
    unknown = layers - set(LAYERS)
    if unknown:
        raise SystemExit(f"unknown layer(s) {sorted(unknown)} in {config!r}; known: {LAYERS}")
    return HTTPClient(
        pool_config(1, retry="pipeline" in layers),
        transport=InstantTransport(),
        interceptors=[StampInterceptor()] if "interceptor" in layers else None,
        metrics=NoopMetricsRecorder() if "metrics" in layers else None,
        pipeline=ResiliencePipeline.standard() if "pipeline" in layers else None,
    )


async def _child(config: str, calls: int) -> None:
    client = build(config)
    for _ in range(_WARMUP):
        (await client.get(_URL)).unwrap()
    gc.collect()
    for _ in range(calls):
        (await client.get(_URL)).unwrap()
    await client.aclose()


def _count(valgrind: str, config: str, calls: int) -> int:
    return run_under_callgrind(valgrind, __file__, [config, str(calls)], config)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="measured calls (2000)")
    parser.add_argument("configs", nargs="*", default=list(DEFAULT_CONFIGS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        config, calls = args.child
        asyncio.run(_child(config, int(calls)))
        return
    for config in args.configs:
        build(config)  # refuse an unknown layer before starting valgrind
    valgrind = ensure_valgrind()
    jobs = [(config, calls) for config in args.configs for calls in (0, args.calls)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: _count(valgrind, *job), jobs), strict=True))
    print(
        f"instructions per call (callgrind), {args.calls} calls after {_WARMUP}, instant transport"
    )
    bare = None
    for config in args.configs:
        value = (totals[config, args.calls] - totals[config, 0]) / args.calls
        if config == "bare":
            bare = value
        extra = "" if bare is None or config == "bare" else f"  (+{value - bare:,.0f} over bare)"
        print(f"  {config:<24} {value:>10,.0f}{extra}")


if __name__ == "__main__":
    main()

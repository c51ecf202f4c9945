"""Observability: traces and metrics of a call that is retried, on the console and Prometheus.

A loopback server answers the first attempt with 503 and the second with 200. The client has
an ``OpenTelemetryObserver`` (the OpenTelemetry SDK prints spans and metrics with its console
exporters) and a ``PrometheusMetricsRecorder`` (its registry served on loopback, then scraped
once and printed). Look for two ``GET`` spans under the caller's ``list items`` span, the
second with ``http.request.resend_count`` 1, both carrying the redacted ``url.full``; the
retry counted in both metric systems; log records carrying the correlation id.

Needs the SDK, a dev dependency: run ``uv run --frozen examples/observability.py``.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from lexigram.contracts.observability import ObserverGroup
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.observability import (
    CorrelationIdInterceptor,
    CorrelationIdLogFilter,
    LoggingObserver,
    OpenTelemetryObserver,
    PrometheusMetricsRecorder,
    correlation_id,
    start_metrics_server,
)


def configure_opentelemetry() -> tuple[TracerProvider, MeterProvider]:
    """What an application does once at start-up: the SDK with console exporters."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=60_000)
    meter_provider = MeterProvider(metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


async def flaky_server() -> tuple[web.AppRunner, str]:
    """A loopback server: 503 to the first request, 200 afterwards."""
    calls = 0

    async def items(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        print(f"server: attempt {calls}, traceparent {request.headers.get('traceparent')}")
        if calls == 1:
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "0"})
        return web.json_response({"items": [1, 2, 3]})

    app = web.Application()
    app.router.add_get("/v1/items", items)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def main() -> None:
    tracer_provider, meter_provider = configure_opentelemetry()
    logging.basicConfig(format="log: %(name)s %(message)s correlation=%(correlation_id)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(CorrelationIdLogFilter())
    logging.getLogger("lexigram.observability").setLevel(logging.DEBUG)
    tracer = trace.get_tracer("example")

    prometheus = PrometheusMetricsRecorder()
    observer = ObserverGroup([OpenTelemetryObserver(), prometheus, LoggingObserver()])
    runner, base = await flaky_server()
    server, thread = start_metrics_server(prometheus)  # loopback, a free port
    config = HTTPClientConfig(retry=RetryConfig(backoff_base=0.01, backoff_max=0.01))
    try:
        async with HTTPClient(
            config, observer=observer, interceptors=[CorrelationIdInterceptor()]
        ) as client:
            # The caller's span: both attempts' spans are its children, in one trace.
            with tracer.start_as_current_span("list items"), correlation_id("example-1"):
                result = await client.get(f"{base}/v1/items?api_key=not-for-your-logs")
            print("result:", result.unwrap().json)
        scrape = f"http://127.0.0.1:{server.server_port}/metrics"
        async with aiohttp.ClientSession() as session, session.get(scrape) as response:
            text = await response.text()
        print("prometheus:")
        for line in text.splitlines():
            if line.startswith(
                ("http_client_request_duration_seconds_count", "http_client_retries")
            ):
                print("  " + line)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        await runner.cleanup()
        tracer_provider.shutdown()
        meter_provider.shutdown()  # exports the metrics to the console once more


if __name__ == "__main__":
    asyncio.run(main())

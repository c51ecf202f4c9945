"""No secret reaches a span attribute, a span event, a metric point, a Prometheus label or a log
record (property test), and nothing is recorded with only the OpenTelemetry API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lexigram.contracts.observability import ObserverGroup
from lexigram.contracts.web import (
    HTTPConnectionError,
    HttpResponse,
    HTTPTimeoutError,
    RequestContext,
    StreamingResponseProtocol,
    TimeoutPhase,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.observability import (
    LoggingObserver,
    OpenTelemetryObserver,
    PrometheusMetricsRecorder,
    render_metrics,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ", min_size=12, max_size=24).map(
    lambda text: f"Zq{text}"
)
PARAMS = st.sampled_from(["token", "api_key", "signature", "access_token", "password", "key"])
HEADERS = st.sampled_from(["Authorization", "Cookie", "X-Api-Key", "Proxy-Authorization"])
OUTCOMES = st.sampled_from(["200", "503", "404", "connection", "timeout"])


class _Transport:
    """Answers every attempt with ``outcome``; errors carry the request's URL, as ours do."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    async def send(self, context: RequestContext) -> HttpResponse:
        if self.outcome == "connection":
            raise HTTPConnectionError(method=context.method, url=context.url)
        if self.outcome == "timeout":
            raise HTTPTimeoutError(
                phase=TimeoutPhase.READ, timeout=1.0, method=context.method, url=context.url
            )
        return HttpResponse(int(self.outcome), url=context.url, method=context.method, body=b"x")

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=40, deadline=None)
@given(
    secret=SECRET,
    param=PARAMS,
    header=HEADERS,
    outcome=OUTCOMES,
    in_userinfo=st.booleans(),
    in_params=st.booleans(),
)
def test_no_secret_in_spans_metrics_labels_or_logs(
    secret: str, param: str, header: str, outcome: str, in_userinfo: bool, in_params: bool
) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    prometheus = PrometheusMetricsRecorder()
    logger = logging.getLogger("tests.observability.secrets")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = _Records()
    logger.addHandler(handler)
    observer = ObserverGroup(
        [
            OpenTelemetryObserver(tracer_provider=tracer_provider, meter_provider=meter_provider),
            prometheus,
            LoggingObserver(logger),
        ]
    )
    userinfo = f"user:{secret}@" if in_userinfo else ""
    url = f"https://{userinfo}api.partner.test/v1/items?{param}={secret}&page=1"
    config = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001, backoff_max=0.001))

    async def call() -> None:
        async with HTTPClient(config, transport=_Transport(outcome), observer=observer) as client:
            params = {"signature": secret} if in_params else None
            # Retries exhausted: raised, and observed all the same.
            with contextlib.suppress(Exception):
                await client.get(url, headers={header: secret}, params=params)

    try:
        asyncio.run(call())
        seen: list[str] = []
        for span in spans.get_finished_spans():
            seen.append(span.name)
            seen.extend(f"{k}={v!r}" for k, v in (span.attributes or {}).items())
            for event in span.events:
                seen.append(event.name)
                seen.extend(f"{k}={v!r}" for k, v in (event.attributes or {}).items())
            assert span.status.description is None or secret not in span.status.description
        data = reader.get_metrics_data()
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        seen.extend(f"{k}={v!r}" for k, v in (point.attributes or {}).items())
        seen.append(render_metrics(prometheus).decode())
        for record in handler.records:
            seen.append(record.getMessage())
            seen.extend(f"{k}={v!r}" for k, v in vars(record).items())
        assert len(seen) > 10
        assert not [text for text in seen if secret in text]
        assert any("[REDACTED]" in text for text in seen)
    finally:
        logger.removeHandler(handler)
        tracer_provider.shutdown()
        meter_provider.shutdown()


_API_ONLY = """
import asyncio, sys

# The SDK is absent: importing any of it fails, as in an install with only opentelemetry-api.
for name in ("opentelemetry.sdk", "opentelemetry.sdk.trace", "opentelemetry.sdk.metrics"):
    sys.modules[name] = None

from aiohttp import web
from lexigram.contracts.web import RequestContext
from lexigram.http import HTTPClient
from lexigram.observability import OpenTelemetryObserver

seen = []

async def main():
    async def ok(request):
        seen.append(dict(request.headers))
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/?token=t"
    observer = OpenTelemetryObserver()
    assert observer.attempt_started(RequestContext("GET", url), False) is None
    async with HTTPClient(observer=observer) as client:
        assert (await client.get(url)).is_ok()
    await runner.cleanup()

asyncio.run(main())
assert "traceparent" not in {name.lower() for name in seen[0]}, seen
loaded = [n for n, m in sys.modules.items() if n.startswith("opentelemetry.sdk") and m is not None]
assert not loaded, loaded
print("nothing recorded")
"""


def test_with_only_the_api_nothing_is_recorded() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_API_ONLY)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing recorded"


_SDK_LATER = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from lexigram.contracts.web import RequestContext
from lexigram.observability import OpenTelemetryObserver

observer = OpenTelemetryObserver()  # built before the application configures the SDK
context = RequestContext("GET", "http://127.0.0.1:9/")
assert observer.attempt_started(context, False) is None
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
observation = observer.attempt_started(context, False)
assert observation is not None
observation.end(None)
assert [span.name for span in exporter.get_finished_spans()] == ["GET"]
print("recorded")
"""


def test_an_sdk_configured_later_is_picked_up() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SDK_LATER)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "recorded"

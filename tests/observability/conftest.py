"""Fixtures: the real OpenTelemetry SDK with in-memory exporters, and a loopback upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lexigram.observability import OpenTelemetryObserver


@dataclass
class Otel:
    """An SDK tracer and meter provider, exporting in memory."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def observer(
        self, *, tracing: bool = True, metrics: bool = True, detailed: bool = True
    ) -> OpenTelemetryObserver:
        return OpenTelemetryObserver(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            tracing=tracing,
            metrics=metrics,
            detailed_metrics=detailed,
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def points(self, name: str) -> list[tuple[dict[str, object], object]]:
        """``(attributes, point)`` of every data point of the metric ``name``."""
        data = self.reader.get_metrics_data()
        found: list[tuple[dict[str, object], object]] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found.append((dict(point.attributes or {}), point))
        return found

    def all_metrics(self) -> list[tuple[str, str, dict[str, object]]]:
        """``(name, unit, attributes)`` of every data point."""
        data = self.reader.get_metrics_data()
        found: list[tuple[str, str, dict[str, object]]] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        found.append((metric.name, metric.unit or "", dict(point.attributes or {})))
        return found


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(tracer_provider, meter_provider, exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@dataclass
class Upstream:
    """A loopback aiohttp server that records what it received."""

    url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    script: list[int] = field(default_factory=list)

    def url_for(self, path: str) -> str:
        return f"{self.url}{path}"


def _app(state: Upstream) -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        state.headers.append(dict(request.headers))
        await request.read()
        status = state.script.pop(0) if state.script else 200
        return web.Response(status=status, text="ok" if status < 400 else "no")

    async def stream(request: web.Request) -> web.StreamResponse:
        state.headers.append(dict(request.headers))
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"data: one\n\n")
        await state.release.wait()
        await response.write(b"data: two\n\n")
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_route("*", "/ok", ok)
    app.router.add_get("/stream", stream)
    app.router.add_get("/slow", slow)
    return app


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    state = Upstream()
    runner = web.AppRunner(_app(state), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

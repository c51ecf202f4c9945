"""Pool metrics: open connections by state, connection duration, pool wait time.

Against a loopback aiohttp server whose ``/hold`` handler keeps a request (and its
connection) active until the test releases it, with the real OpenTelemetry SDK and
prometheus-client parsed back with its own parser.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from lexigram.contracts.observability import (
    AttemptObservationProtocol,
    BaseHTTPObserver,
    ConnectionOrigin,
    HTTPPoolObserverProtocol,
    InMemoryHTTPObserver,
    ObserverGroup,
)
from lexigram.contracts.web import RequestContext
from lexigram.http import HTTPClient, HTTPClientConfig, PoolConfig, RetryConfig
from lexigram.http._connector import (
    LazyReadTimeoutHandler,
    LimitedConnector,
    PoolConnector,
    make_connector,
)
from lexigram.observability import (
    OpenTelemetryObserver,
    PrometheusMetricsRecorder,
    render_metrics,
)
from tests.observability.conftest import Otel

ONE_PER_HOST = HTTPClientConfig(
    retry=RetryConfig(enabled=False),
    pool=PoolConfig(max_connections_per_host=1, max_keepalive_connections=1),
)


@dataclass
class Server:
    """A loopback server; ``/hold`` answers once ``release`` is set."""

    url: str = ""
    arrived: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def port(self) -> int:
        return int(self.url.rpartition(":")[2])


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def hold(request: web.Request) -> web.Response:
        await state.arrived.put(request.path)
        await state.release.wait()
        return web.Response(text="held")

    async def ok(request: web.Request) -> web.Response:
        await state.arrived.put(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/hold", hold)
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def open_connections(otel: Otel) -> dict[str, object]:
    """``http.client.open_connections`` by ``http.connection.state``."""
    return {
        str(attributes["http.connection.state"]): getattr(point, "value", None)
        for attributes, point in otel.points("http.client.open_connections")
    }


def histogram(otel: Otel, name: str) -> tuple[dict[str, object], HistogramDataPoint]:
    [(attributes, point)] = otel.points(name)
    assert isinstance(point, HistogramDataPoint)
    return attributes, point


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(recorder: PrometheusMetricsRecorder) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(render_metrics(recorder).decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
    return found


def gauge(recorder: PrometheusMetricsRecorder, host: str, state: str) -> float | None:
    labels = frozenset({"host": host, "scheme": "http", "state": state}.items())
    return samples(recorder).get(("http_client_open_connections", labels))


async def test_otel_open_connections_go_active_then_idle_then_away(
    otel: Otel, server: Server
) -> None:
    async with HTTPClient(ONE_PER_HOST, observer=otel.observer(tracing=False)) as client:
        held = asyncio.create_task(client.get(f"{server.url}/hold"))
        await server.arrived.get()
        assert open_connections(otel) == {"active": 1}
        server.release.set()
        assert (await held).is_ok()
        assert open_connections(otel) == {"active": 0, "idle": 1}
        assert (await client.get(f"{server.url}/ok")).is_ok()  # reuses the idle one
        assert open_connections(otel) == {"active": 0, "idle": 1}
        assert otel.points("http.client.connection.duration") == []
    await asyncio.sleep(0)  # the socket's connection_lost runs on the next loop turn
    assert open_connections(otel) == {"active": 0, "idle": 0}
    attributes, duration = histogram(otel, "http.client.connection.duration")
    assert duration.count == 1
    assert duration.sum >= 0
    assert duration.explicit_bounds[0] == 0.01
    assert attributes == {
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "url.scheme": "http",
        "network.peer.address": "127.0.0.1",
    }
    [(states, _), *_] = otel.points("http.client.open_connections")
    assert set(states) == {*attributes, "http.connection.state"}


async def test_otel_pool_wait_is_recorded_when_a_request_queues(otel: Otel, server: Server) -> None:
    async with HTTPClient(ONE_PER_HOST, observer=otel.observer(tracing=False)) as client:
        held = asyncio.create_task(client.get(f"{server.url}/hold"))
        await server.arrived.get()
        queued = asyncio.create_task(client.get(f"{server.url}/ok"))
        await asyncio.sleep(0)  # let it reach the pool and queue for the one slot
        assert otel.points("lexigram.http.client.pool.wait_time") == []
        server.release.set()
        assert (await held).is_ok()
        assert (await queued).is_ok()
        attributes, wait = histogram(otel, "lexigram.http.client.pool.wait_time")
        assert wait.count == 1
        assert wait.sum >= 0
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["url.scheme"] == "http"
        # One connection served both.
        assert open_connections(otel) == {"active": 0, "idle": 1}


async def test_prometheus_pool_metrics(server: Server) -> None:
    recorder = PrometheusMetricsRecorder(CollectorRegistry())
    labels = frozenset({"host": server.host, "scheme": "http"}.items())
    async with HTTPClient(ONE_PER_HOST, observer=recorder) as client:
        held = asyncio.create_task(client.get(f"{server.url}/hold"))
        await server.arrived.get()
        assert gauge(recorder, server.host, "active") == 1
        assert gauge(recorder, server.host, "idle") is None
        queued = asyncio.create_task(client.get(f"{server.url}/ok"))
        await asyncio.sleep(0)
        server.release.set()
        assert (await held).is_ok()
        assert (await queued).is_ok()
        assert gauge(recorder, server.host, "active") == 0
        assert gauge(recorder, server.host, "idle") == 1
        found = samples(recorder)
        assert found[("http_client_pool_wait_seconds_count", labels)] == 1
        assert found.get(("http_client_connection_duration_seconds_count", labels)) is None
    await asyncio.sleep(0)
    assert gauge(recorder, server.host, "active") == 0
    assert gauge(recorder, server.host, "idle") == 0
    found = samples(recorder)
    assert found[("http_client_connection_duration_seconds_count", labels)] == 1
    # Bounded labels: host and scheme (and state), never the peer's address or a path.
    for name, sample_labels in found:
        if name.startswith(("http_client_open", "http_client_connection", "http_client_pool")):
            assert {label for label, _ in sample_labels} <= {"host", "scheme", "state", "le"}


async def test_an_observer_group_fans_pool_events_out_to_the_members_that_take_them(
    otel: Otel, server: Server
) -> None:
    class AttemptsOnly:
        """An observer written before the pool events: it has none of their methods."""

        def attempt_started(
            self, context: RequestContext, streaming: bool
        ) -> AttemptObservationProtocol | None:
            return None

        def retry_scheduled(
            self, context: RequestContext, attempt: int, delay: float, reason: str
        ) -> None: ...

        def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None: ...

        def breaker_transition(
            self, breaker: str, key: str, previous: str, current: str
        ) -> None: ...

    assert not isinstance(AttemptsOnly(), HTTPPoolObserverProtocol)
    recorder = PrometheusMetricsRecorder(CollectorRegistry())
    memory = InMemoryHTTPObserver()
    group = ObserverGroup([AttemptsOnly(), otel.observer(tracing=False), recorder, memory])
    async with HTTPClient(ONE_PER_HOST, observer=group) as client:
        assert (await client.get(f"{server.url}/ok")).is_ok()
    await asyncio.sleep(0)
    origin = ConnectionOrigin("http", "127.0.0.1", server.port, "127.0.0.1")
    assert [(name, detail) for name, detail in memory.pool_events if name == "state"] == [
        ("state", (origin, None, "active")),
        ("state", (origin, "active", "idle")),
        ("state", (origin, "idle", None)),
    ]
    [closed] = [detail for name, detail in memory.pool_events if name == "closed"]
    assert isinstance(closed, tuple)
    assert closed[0] == origin
    assert isinstance(closed[1], float)
    assert open_connections(otel) == {"active": 0, "idle": 0}
    assert gauge(recorder, server.host, "idle") == 0


async def test_observers_without_pool_events_keep_working(server: Server) -> None:
    class Counting(BaseHTTPObserver):
        """Overrides nothing of the pool: the base's no-ops take the events."""

        started = 0

        def attempt_started(
            self, context: RequestContext, streaming: bool
        ) -> AttemptObservationProtocol | None:
            Counting.started += 1
            return None

    async with HTTPClient(ONE_PER_HOST, observer=Counting()) as client:
        assert (await client.get(f"{server.url}/ok")).is_ok()
    assert Counting.started == 1


async def test_without_an_observer_the_connector_is_the_plain_one(
    otel: Otel, server: Server
) -> None:
    """No observer (or one without pool events): aiohttp's classes as they are, no hook."""
    for observer in (None, object()):
        built = [
            make_connector(max_keepalive=50, limit_per_host=20, observer=observer),
            make_connector(max_keepalive=1, limit_per_host=20, observer=observer),
        ]
        for connector in built:
            await connector.close()
        assert [type(connector) for connector in built] == [PoolConnector, LimitedConnector]

    class WaitsOnly(BaseHTTPObserver):
        def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None: ...

    # Observers that take no pool event, or do not want them now: the plain classes too.
    quiet = [
        BaseHTTPObserver(),
        ObserverGroup([BaseHTTPObserver()]),
        otel.observer(metrics=False),
        OpenTelemetryObserver(),  # the global providers: no SDK configured in this test
    ]
    for observer in quiet:
        connector = make_connector(max_keepalive=50, limit_per_host=20, observer=observer)
        await connector.close()
        assert type(connector) is PoolConnector, observer
    for observer in [
        WaitsOnly(),
        ObserverGroup([BaseHTTPObserver(), WaitsOnly()]),
        otel.observer(),
    ]:
        connector = make_connector(max_keepalive=50, limit_per_host=20, observer=observer)
        await connector.close()
        assert type(connector) is not PoolConnector, observer
        assert isinstance(connector, PoolConnector)
    # The client without an observer builds the plain connector, and its protocols are the
    # lazy read-timeout ones, not the observing ones: no pool event runs per request.
    async with HTTPClient(ONE_PER_HOST) as client:
        assert (await client.get(f"{server.url}/ok")).is_ok()
        session = client.transport._session  # type: ignore[attr-defined]
        assert type(session.connector) is PoolConnector
        assert session.connector._factory.func is LazyReadTimeoutHandler

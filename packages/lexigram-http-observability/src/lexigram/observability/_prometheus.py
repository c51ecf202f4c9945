"""``PrometheusMetricsRecorder``: the client's metrics in a prometheus-client registry."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from lexigram.contracts.observability import (
    AttemptObservationProtocol,
    ConnectionOrigin,
    ConnectionState,
)
from lexigram.contracts.web import HttpResponse, RequestContext
from lexigram.observability._target import (
    CIRCUIT_CODES,
    CONNECTION_BUCKETS,
    DURATION_BUCKETS,
    error_type,
    method_of,
    target_of,
)

__all__ = ["PrometheusMetricsRecorder", "render_metrics", "start_metrics_server"]

_INVALID: Final = re.compile(r"[^a-zA-Z0-9_:]")
_STREAM_BUCKETS: Final = (*DURATION_BUCKETS, 30.0, 60.0, 120.0, 300.0)
_SIZE_BUCKETS: Final = tuple(float(4**n) for n in range(4, 14))  # 256 B .. 64 MiB
_REQUEST_LABELS: Final = ("method", "host")
_DURATION_LABELS: Final = ("method", "host", "status_code", "error_type")
_POOL_LABELS: Final = ("host", "scheme")


def _host(context: RequestContext) -> str:
    """``host[:port]``, the port only when it is not the scheme's default."""
    target = target_of(context.url)
    default = 443 if target.scheme == "https" else 80
    if target.port is None or target.port == default:
        return target.host
    return f"{target.host}:{target.port}"


def _origin_host(origin: ConnectionOrigin) -> str:
    """``host[:port]`` of a pooled connection, as :func:`_host` writes it."""
    if origin.port == (443 if origin.scheme == "https" else 80):
        return origin.host
    return f"{origin.host}:{origin.port}"


class PrometheusMetricsRecorder:
    """Records the client's metrics with Prometheus names on a ``CollectorRegistry``.

    As an ``HTTPObserverProtocol`` (pass it as ``observer=``), per attempt and call:

    - ``http_client_request_duration_seconds`` (histogram; labels ``method``, ``host``,
      ``status_code``, ``error_type``; the semantic conventions' buckets);
    - ``http_client_active_requests`` (gauge; ``method``, ``host``);
    - ``http_client_request_body_size_bytes`` / ``http_client_response_body_size_bytes``;
    - ``http_client_retries_total`` (``method``, ``host``, ``reason``),
      ``http_client_retry_refusals_total`` (``reason``: ``budget`` or ``exhausted``);
    - ``http_client_circuit_state`` (0 closed, 1 open, 2 half-open, 3 isolated; ``breaker``,
      ``host``) and ``http_client_circuit_transitions_total`` (plus ``state``);
    - ``http_client_stream_time_to_first_byte_seconds``, ``http_client_stream_duration_seconds``;
    - from the connection pool (the transport an ``HTTPClient`` builds):
      ``http_client_open_connections`` (gauge; ``host``, ``scheme``, ``state``: ``active`` or
      ``idle``), ``http_client_connection_duration_seconds`` (how long connections stayed
      open) and ``http_client_pool_wait_seconds`` (requests that queued for a free
      connection), both with ``host``, ``scheme``.

    Labels are bounded: the method (``_OTHER`` for unknown ones), the host (``host[:port]``,
    never a path or query), the status code, the error's class name.

    As a ``MetricsRecorderProtocol`` (pass it as ``metrics=``) it also takes the seed's signals
    and the resilience metrics: a dotted name becomes ``lexigram_`` + the name with ``_``
    (``http.request.duration`` -> ``lexigram_http_request_duration``), tags become labels. A
    name keeps the label names of its first record; a later record with other tag names raises
    ``ValueError`` naming both.

    ``registry`` defaults to a new ``CollectorRegistry`` (not the global one), so several
    recorders, and tests, do not collide; ``namespace`` prefixes every name.
    """

    __slots__ = (
        "_active",
        "_body_in",
        "_body_out",
        "_circuit_state",
        "_clock",
        "_connection_duration",
        "_dynamic",
        "_lock",
        "_namespace",
        "_open_connections",
        "_pool_wait",
        "_refusals",
        "_registry",
        "_request_duration",
        "_retries",
        "_stream_duration",
        "_stream_ttfb",
        "_transitions",
    )

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._registry = registry = registry if registry is not None else CollectorRegistry()
        self._namespace = namespace
        self._clock = clock
        self._lock = threading.Lock()
        self._dynamic: dict[str, tuple[str, tuple[str, ...], Counter | Gauge | Histogram]] = {}
        self._request_duration = Histogram(
            "http_client_request_duration_seconds",
            "Duration of HTTP client requests (attempts), up to the body's end (verbs) or the "
            "response headers (streams).",
            _DURATION_LABELS,
            buckets=DURATION_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._active = Gauge(
            "http_client_active_requests",
            "HTTP requests in flight.",
            _REQUEST_LABELS,
            namespace=namespace,
            registry=registry,
        )
        self._body_out = Histogram(
            "http_client_request_body_size_bytes",
            "Size of request bodies.",
            _REQUEST_LABELS,
            buckets=_SIZE_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._body_in = Histogram(
            "http_client_response_body_size_bytes",
            "Size of response bodies (verbs).",
            _REQUEST_LABELS,
            buckets=_SIZE_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._retries = Counter(
            "http_client_retries",
            "Retries scheduled.",
            (*_REQUEST_LABELS, "reason"),
            namespace=namespace,
            registry=registry,
        )
        self._refusals = Counter(
            "http_client_retry_refusals",
            "Retryable outcomes not retried (budget refused, or retries exhausted).",
            (*_REQUEST_LABELS, "reason"),
            namespace=namespace,
            registry=registry,
        )
        self._circuit_state = Gauge(
            "http_client_circuit_state",
            "Circuit state: 0 closed, 1 open, 2 half-open, 3 isolated.",
            ("breaker", "host"),
            namespace=namespace,
            registry=registry,
        )
        self._transitions = Counter(
            "http_client_circuit_transitions",
            "Circuit state changes.",
            ("breaker", "host", "state"),
            namespace=namespace,
            registry=registry,
        )
        self._stream_ttfb = Histogram(
            "http_client_stream_time_to_first_byte_seconds",
            "From sending a stream's request to its first body bytes.",
            _REQUEST_LABELS,
            buckets=DURATION_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._stream_duration = Histogram(
            "http_client_stream_duration_seconds",
            "From sending a stream's request to the stream's end.",
            _REQUEST_LABELS,
            buckets=_STREAM_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._open_connections = Gauge(
            "http_client_open_connections",
            "Connections of the pool, by state (active: carrying a request; idle: kept alive).",
            (*_POOL_LABELS, "state"),
            namespace=namespace,
            registry=registry,
        )
        self._connection_duration = Histogram(
            "http_client_connection_duration_seconds",
            "How long connections stayed open.",
            _POOL_LABELS,
            buckets=CONNECTION_BUCKETS,
            namespace=namespace,
            registry=registry,
        )
        self._pool_wait = Histogram(
            "http_client_pool_wait_seconds",
            "Time a request waited for a free connection of the pool (requests that queued).",
            _POOL_LABELS,
            buckets=DURATION_BUCKETS,
            namespace=namespace,
            registry=registry,
        )

    @property
    def registry(self) -> CollectorRegistry:
        """The registry the metrics live in."""
        return self._registry

    # -- HTTPObserverProtocol ------------------------------------------------------------------

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Count the attempt active; time it."""
        method = method_of(context.method)
        host = _host(context)
        self._active.labels(method, host).inc()
        body = context.body
        # a streamed upload (RequestBody) knows its size, or None until sent
        size = None if body is None else len(body) if isinstance(body, bytes) else body.length
        if size is not None:
            self._body_out.labels(method, host).observe(size)
        return _Attempt(self, method, host, streaming)

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Count the retry."""
        self._retries.labels(method_of(context.method), _host(context), reason).inc()

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Count the refusal."""
        self._refusals.labels(method_of(context.method), _host(context), reason).inc()

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Set the circuit gauge, count the transition (``key``: the origin, as a host)."""
        host = key.partition("://")[2] or key
        self._circuit_state.labels(breaker, host).set(CIRCUIT_CODES.get(current, -1))
        self._transitions.labels(breaker, host, current).inc()

    def connection_state(
        self,
        origin: ConnectionOrigin,
        previous: ConnectionState | None,
        current: ConnectionState | None,
    ) -> None:
        """Move one connection between the ``active`` / ``idle`` gauges."""
        host = _origin_host(origin)
        if previous is not None:
            self._open_connections.labels(host, origin.scheme, previous).dec()
        if current is not None:
            self._open_connections.labels(host, origin.scheme, current).inc()

    def connection_closed(self, origin: ConnectionOrigin, duration: float) -> None:
        """Observe how long the connection was open."""
        self._connection_duration.labels(_origin_host(origin), origin.scheme).observe(duration)

    def pool_wait(self, origin: ConnectionOrigin, seconds: float) -> None:
        """Observe the time a request queued for a free connection."""
        self._pool_wait.labels(_origin_host(origin), origin.scheme).observe(seconds)

    # -- MetricsRecorderProtocol ---------------------------------------------------------------

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        """Add ``value`` to the counter ``lexigram_<name>``."""
        metric = self._metric(name, "counter", tags)
        assert isinstance(metric, Counter)
        (metric.labels(**tags) if tags else metric).inc(value)

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Observe ``value`` in the histogram ``lexigram_<name>``."""
        metric = self._metric(name, "histogram", tags)
        assert isinstance(metric, Histogram)
        (metric.labels(**tags) if tags else metric).observe(value)

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Set the gauge ``lexigram_<name>``."""
        metric = self._metric(name, "gauge", tags)
        assert isinstance(metric, Gauge)
        (metric.labels(**tags) if tags else metric).set(value)

    def _metric(
        self, name: str, kind: str, tags: Mapping[str, str] | None
    ) -> Counter | Gauge | Histogram:
        labels = tuple(sorted(tags)) if tags else ()
        found = self._dynamic.get(name)
        if found is None:
            with self._lock:
                found = self._dynamic.get(name)
                if found is None:
                    found = (kind, labels, self._create(name, kind, labels))
                    self._dynamic[name] = found
        if found[0] != kind or found[1] != labels:
            raise ValueError(
                f"metric {name!r} was first recorded as a {found[0]} with tags "
                f"{list(found[1])}, now as a {kind} with tags {list(labels)}"
            )
        return found[2]

    def _create(self, name: str, kind: str, labels: tuple[str, ...]) -> Counter | Gauge | Histogram:
        prom = "lexigram_" + _INVALID.sub("_", name)
        namespace, registry = self._namespace, self._registry
        doc = f"{name} (lexigram-http)"
        if kind == "counter":
            return Counter(prom, doc, labels, namespace=namespace, registry=registry)
        if kind == "gauge":
            return Gauge(prom, doc, labels, namespace=namespace, registry=registry)
        return Histogram(
            prom, doc, labels, namespace=namespace, registry=registry, buckets=DURATION_BUCKETS
        )

    def __repr__(self) -> str:
        return f"PrometheusMetricsRecorder(namespace={self._namespace!r})"


class _Attempt:
    __slots__ = ("_ended", "_host", "_method", "_recorder", "_started", "_status", "_streaming")

    def __init__(
        self, recorder: PrometheusMetricsRecorder, method: str, host: str, streaming: bool
    ) -> None:
        self._recorder = recorder
        self._method = method
        self._host = host
        self._streaming = streaming
        self._started = recorder._clock()
        self._status: int | None = None
        self._ended = False

    def response(self, response: HttpResponse) -> None:
        recorder = self._recorder
        status = response.status
        self._status = status
        error = str(status) if status >= 400 else ""
        recorder._request_duration.labels(self._method, self._host, str(status), error).observe(
            recorder._clock() - self._started
        )
        if not self._streaming:
            recorder._body_in.labels(self._method, self._host).observe(len(response.body))

    def first_byte(self) -> None:
        recorder = self._recorder
        recorder._stream_ttfb.labels(self._method, self._host).observe(
            recorder._clock() - self._started
        )

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        recorder = self._recorder
        elapsed = recorder._clock() - self._started
        if self._status is None:
            kind = error_type(error) if error is not None else ""
            recorder._request_duration.labels(self._method, self._host, "", kind).observe(elapsed)
        elif self._streaming:
            recorder._stream_duration.labels(self._method, self._host).observe(elapsed)
        recorder._active.labels(self._method, self._host).dec()


def render_metrics(registry: CollectorRegistry | PrometheusMetricsRecorder) -> bytes:
    """The registry in the Prometheus text format (what a ``/metrics`` endpoint returns)."""
    if isinstance(registry, PrometheusMetricsRecorder):
        registry = registry.registry
    return generate_latest(registry)


def start_metrics_server(
    registry: CollectorRegistry | PrometheusMetricsRecorder,
    port: int = 0,
    address: str = "127.0.0.1",
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the registry on ``http://address:port/metrics`` from a daemon thread.

    Binds loopback by default (exposing metrics wider is a decision to make on purpose);
    ``port=0`` picks a free port (``server.server_port``). Stop it with ``server.shutdown()``
    then ``server.server_close()``.
    """
    if isinstance(registry, PrometheusMetricsRecorder):
        registry = registry.registry
    return start_http_server(port, addr=address, registry=registry)

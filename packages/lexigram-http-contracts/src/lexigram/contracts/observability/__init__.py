"""Observability contracts: the metrics recorder and the observation hook of the HTTP client.

:class:`HTTPObserverProtocol` sees every attempt (start, response, stream end, failure),
retry decision and breaker transition (and, optionally, :class:`HTTPPoolObserverProtocol`
the connection pool); :class:`MetricsRecorderProtocol` receives the seed's
two per-attempt signals.

``lexigram.observability`` (lexigram-http-observability) provides OpenTelemetry and Prometheus
recorders; :class:`InMemoryMetricsRecorder` is enough for tests.
"""

from lexigram.contracts.observability._hooks import (
    AttemptObservationProtocol,
    BaseHTTPObserver,
    ConnectionOrigin,
    ConnectionState,
    HTTPObserverProtocol,
    HTTPPoolObserverProtocol,
    InMemoryHTTPObserver,
    ObservedEvent,
    ObserverGroup,
    wants_pool_events,
)
from lexigram.contracts.observability._metrics import (
    InMemoryMetricsRecorder,
    MetricKind,
    MetricRecord,
    MetricsRecorderProtocol,
    NoopMetricsRecorder,
)

__all__ = [
    "AttemptObservationProtocol",
    "BaseHTTPObserver",
    "ConnectionOrigin",
    "ConnectionState",
    "HTTPObserverProtocol",
    "HTTPPoolObserverProtocol",
    "InMemoryHTTPObserver",
    "InMemoryMetricsRecorder",
    "MetricKind",
    "MetricRecord",
    "MetricsRecorderProtocol",
    "NoopMetricsRecorder",
    "ObservedEvent",
    "ObserverGroup",
    "wants_pool_events",
]

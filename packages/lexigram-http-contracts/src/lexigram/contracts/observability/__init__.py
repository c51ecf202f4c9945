"""Observability contracts: the metrics recorder the HTTP client reports to.

``lexigram.observability`` (lexigram-http-observability) provides OpenTelemetry and Prometheus
recorders; :class:`InMemoryMetricsRecorder` is enough for tests.
"""

from lexigram.contracts.observability._metrics import (
    InMemoryMetricsRecorder,
    MetricKind,
    MetricRecord,
    MetricsRecorderProtocol,
    NoopMetricsRecorder,
)

__all__ = [
    "InMemoryMetricsRecorder",
    "MetricKind",
    "MetricRecord",
    "MetricsRecorderProtocol",
    "NoopMetricsRecorder",
]

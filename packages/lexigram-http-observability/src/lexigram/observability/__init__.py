"""lexigram.observability: OpenTelemetry, Prometheus and logs for lexigram-http.

- :class:`OpenTelemetryObserver` (extra ``otel``, ``opentelemetry-api`` only): one CLIENT span
  per attempt and the HTTP client metrics of the stable semantic conventions;
- :class:`PrometheusMetricsRecorder` (extra ``prometheus``): the same figures with Prometheus
  names on a registry you choose; :func:`start_metrics_server` / :func:`render_metrics`;
- :class:`LoggingObserver`, :class:`CorrelationIdInterceptor`, :class:`CorrelationIdLogFilter`,
  :func:`correlation_id`: readable, redacted logs that carry a correlation id;
- :class:`ObservabilityModule`: all of it from the ``observability:`` config section.

Each observer implements ``HTTPObserverProtocol`` (``lexigram.contracts.observability``):
pass it as ``HTTPClient(observer=...)`` / ``BaseURLHTTPClient(observer=...)``, or combine
several with ``ObserverGroup``. The OpenTelemetry and Prometheus names are imported on first
use, so this package imports without its extras; using one without its extra raises
``ImportError`` with the ``pip install`` line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from lexigram.contracts.observability import ObserverGroup
from lexigram.observability._logs import (
    CORRELATION_HEADER,
    CorrelationIdInterceptor,
    CorrelationIdLogFilter,
    LoggingObserver,
    correlation_id,
    current_correlation_id,
)
from lexigram.observability._module import (
    LogsConfig,
    ObservabilityConfig,
    ObservabilityModule,
    ObservabilityProvider,
    OpenTelemetryConfig,
    PrometheusConfig,
)
from lexigram.observability._target import DURATION_BUCKETS

if TYPE_CHECKING:
    from lexigram.observability._otel import OpenTelemetryObserver
    from lexigram.observability._prometheus import (
        PrometheusMetricsRecorder,
        render_metrics,
        start_metrics_server,
    )

__all__ = [
    "CORRELATION_HEADER",
    "DURATION_BUCKETS",
    "CorrelationIdInterceptor",
    "CorrelationIdLogFilter",
    "LoggingObserver",
    "LogsConfig",
    "ObservabilityConfig",
    "ObservabilityModule",
    "ObservabilityProvider",
    "ObserverGroup",
    "OpenTelemetryConfig",
    "OpenTelemetryObserver",
    "PrometheusConfig",
    "PrometheusMetricsRecorder",
    "correlation_id",
    "current_correlation_id",
    "render_metrics",
    "start_metrics_server",
]

_LAZY: Final = {
    "OpenTelemetryObserver": ("lexigram.observability._otel", "otel"),
    "PrometheusMetricsRecorder": ("lexigram.observability._prometheus", "prometheus"),
    "render_metrics": ("lexigram.observability._prometheus", "prometheus"),
    "start_metrics_server": ("lexigram.observability._prometheus", "prometheus"),
}


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'lexigram.observability' has no attribute {name!r}")
    module_name, extra = found
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"lexigram.observability.{name} needs the {extra!r} extra: "
            f'pip install "lexigram-http-observability[{extra}]" ({exc})'
        ) from exc
    value = getattr(module, name)
    globals()[name] = value
    return value

"""``ObservabilityModule``: the configured observers in the DI container.

The ``observability:`` section (``LEX_OBSERVABILITY__OTEL__ENABLED=true`` and so on)::

    observability:
      otel: {enabled: true, tracing: true, metrics: true, detailed_metrics: false}
      prometheus: {enabled: true, namespace: "", serve: false, port: 9464, address: 127.0.0.1}
      logs: {attempts: true}

What is enabled is registered as one ``HTTPObserverProtocol`` (an ``ObserverGroup`` when there
are several); ``HTTPModule`` and ``ResilienceModule`` resolve it at boot, so the client, its
retries and its breakers report to it. ``PrometheusMetricsRecorder`` is registered too when
Prometheus is enabled (to reach its registry), and with ``serve: true`` its registry is served
on ``http://address:port/metrics`` from boot to shutdown.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field

from lexigram.contracts.observability import HTTPObserverProtocol, ObserverGroup
from lexigram.di import Container, DynamicModule, Module, Provider, module
from lexigram.di.module import fields_set_in_code
from lexigram.observability._logs import LoggingObserver

if TYPE_CHECKING:
    from lexigram.observability._prometheus import PrometheusMetricsRecorder

__all__ = [
    "LogsConfig",
    "ObservabilityConfig",
    "ObservabilityModule",
    "ObservabilityProvider",
    "OpenTelemetryConfig",
    "PrometheusConfig",
]

_FROZEN: Final = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class OpenTelemetryConfig(BaseModel):
    """``observability.otel``: spans and metrics through the OpenTelemetry API."""

    model_config = _FROZEN

    enabled: bool = False
    tracing: bool = True
    metrics: bool = True
    detailed_metrics: bool = False
    """Also the opt-in ``http.client.active_requests`` and body-size histograms."""


class PrometheusConfig(BaseModel):
    """``observability.prometheus``: metrics in a prometheus-client registry."""

    model_config = _FROZEN

    enabled: bool = False
    namespace: str = ""
    serve: bool = False
    """Serve ``/metrics`` from boot to shutdown."""
    port: int = Field(default=9464, ge=0, le=65535)
    address: str = "127.0.0.1"


class LogsConfig(BaseModel):
    """``observability.logs``: per-attempt log records (``LoggingObserver``)."""

    model_config = _FROZEN

    attempts: bool = False


class ObservabilityConfig(BaseModel):
    """The ``observability:`` section; everything is off by default."""

    model_config = _FROZEN

    otel: OpenTelemetryConfig = OpenTelemetryConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    logs: LogsConfig = LogsConfig()


def _load(module_name: str, extra: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"observability.{extra} is enabled but its packages are missing: "
            f'pip install "lexigram-http-observability[{extra}]" ({exc})'
        ) from exc


class ObservabilityProvider(Provider):
    """Registers the observers the ``observability`` section enables (see the module doc)."""

    config_key = "observability"
    config_model = ObservabilityConfig
    config: ObservabilityConfig | None

    def __init__(self, config: ObservabilityConfig | None = None) -> None:
        if config is not None and not isinstance(config, ObservabilityConfig):
            raise TypeError(f"config must be an ObservabilityConfig, got {type(config).__name__}")
        self.config = config
        self._servers: list[Any] = []

    def register(self, container: Container) -> None:
        """Register ``HTTPObserverProtocol`` (and the Prometheus recorder) if enabled."""
        config = self.config if self.config is not None else ObservabilityConfig()
        if config.prometheus.enabled:
            prometheus = _load("lexigram.observability._prometheus", "prometheus")

            def recorder(container: Container) -> PrometheusMetricsRecorder:
                recorder: PrometheusMetricsRecorder = prometheus.PrometheusMetricsRecorder(
                    namespace=config.prometheus.namespace
                )
                return recorder

            container.singleton(prometheus.PrometheusMetricsRecorder, factory=recorder)
        if not (config.otel.enabled or config.prometheus.enabled or config.logs.attempts):
            return
        otel = _load("lexigram.observability._otel", "otel") if config.otel.enabled else None

        async def observer(container: Container) -> HTTPObserverProtocol:
            observers: list[HTTPObserverProtocol] = []
            if otel is not None:
                observers.append(
                    otel.OpenTelemetryObserver(
                        tracing=config.otel.tracing,
                        metrics=config.otel.metrics,
                        detailed_metrics=config.otel.detailed_metrics,
                    )
                )
            if config.prometheus.enabled:
                prometheus = _load("lexigram.observability._prometheus", "prometheus")
                observers.append(await container.resolve(prometheus.PrometheusMetricsRecorder))
            if config.logs.attempts:
                observers.append(LoggingObserver())
            return observers[0] if len(observers) == 1 else ObserverGroup(observers)

        container.singleton(HTTPObserverProtocol, factory=observer)

    async def boot(self, container: Container) -> None:
        """Build the observers; start the ``/metrics`` server if asked."""
        config = self.config if self.config is not None else ObservabilityConfig()
        if container.has(HTTPObserverProtocol):
            await container.resolve(HTTPObserverProtocol)
        if config.prometheus.enabled and config.prometheus.serve:
            prometheus = _load("lexigram.observability._prometheus", "prometheus")
            recorder = await container.resolve(prometheus.PrometheusMetricsRecorder)
            server, _thread = prometheus.start_metrics_server(
                recorder, config.prometheus.port, config.prometheus.address
            )
            self._servers.append(server)

    async def shutdown(self) -> None:
        """Stop the ``/metrics`` server of the latest boot, if any."""
        if self._servers:
            server = self._servers.pop()
            server.shutdown()
            server.server_close()

    def __repr__(self) -> str:
        return "ObservabilityProvider()"


@dataclass(frozen=True, slots=True)
class _Identity:
    fields: tuple[tuple[str, object], ...]


def _identity(config: ObservabilityConfig | None) -> _Identity:
    return _Identity(fields_set_in_code(config))


@module()
class ObservabilityModule(Module):
    """Observability as a module: ``imports=[ObservabilityModule.configure(), HTTPModule...]``.

    Registers ``HTTPObserverProtocol`` when the ``observability`` section (or ``config``)
    enables something; ``HTTPModule`` and ``ResilienceModule`` pick it up at boot. For a
    ``BaseURLHTTPClient`` built by hand, resolve it and pass ``observer=``.
    """

    @classmethod
    def configure(cls, config: ObservabilityConfig | None = None) -> DynamicModule:
        """The observers for ``config``; its explicitly set fields win over file and env."""
        return DynamicModule(
            cls, providers=[ObservabilityProvider(config)], config=_identity(config)
        )

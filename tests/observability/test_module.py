"""ObservabilityModule: the ``observability:`` section wires observers into HTTPModule and
ResilienceModule at boot."""

from __future__ import annotations

import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lexigram.contracts.observability import HTTPObserverProtocol, ObserverGroup
from lexigram.di import Application, ConfigError, Container
from lexigram.http import HTTPClient, HTTPModule
from lexigram.observability import (
    LoggingObserver,
    ObservabilityConfig,
    ObservabilityModule,
    ObservabilityProvider,
    OpenTelemetryObserver,
    PrometheusConfig,
    PrometheusMetricsRecorder,
    render_metrics,
)
from lexigram.resilience import CircuitBreakerRegistry, ResilienceModule, RetryPolicy
from tests.observability.conftest import Upstream


def boot(*modules: object, environ: dict[str, str] | None = None, **kw: object) -> Application:
    return Application.boot(modules=list(modules), environ=environ or {}, **kw)  # type: ignore[arg-type]


async def test_nothing_enabled_registers_nothing() -> None:
    async with boot(ObservabilityModule.configure(), HTTPModule.configure()) as app:
        assert not app.container.has(HTTPObserverProtocol)
        client = await app.container.resolve(HTTPClient)
        assert client._hook is None


async def test_environment_enables_prometheus_for_the_client_and_resilience(
    upstream: Upstream,
) -> None:
    environ = {"LEX_OBSERVABILITY__PROMETHEUS__ENABLED": "true"}
    async with boot(
        ObservabilityModule.configure(),
        ResilienceModule.configure(),
        HTTPModule.configure(),
        environ=environ,
    ) as app:
        recorder = await app.container.resolve(PrometheusMetricsRecorder)
        assert await app.container.resolve(HTTPObserverProtocol) is recorder
        client = await app.container.resolve(HTTPClient)
        assert client._hook is recorder
        registry = await app.container.resolve(CircuitBreakerRegistry)
        assert registry.get_or_create("http-default")._observer is recorder
        retry = await app.container.resolve(RetryPolicy)
        assert retry._observer is recorder
        await client.get(upstream.url_for("/ok"))
    names = {
        family.name for family in text_string_to_metric_families(render_metrics(recorder).decode())
    }
    assert "http_client_request_duration_seconds" in names


async def test_several_observers_become_one_group(tmp_path: Path) -> None:
    config_file = tmp_path / "application.yaml"
    config_file.write_text(
        "observability:\n"
        "  otel: {enabled: true}\n"
        "  prometheus: {enabled: true, namespace: partner}\n"
        "  logs: {attempts: true}\n"
    )
    async with boot(ObservabilityModule.configure(), config_file=str(config_file)) as app:
        group = await app.container.resolve(HTTPObserverProtocol)
    assert isinstance(group, ObserverGroup)
    kinds = [type(observer) for observer in group.observers]
    assert kinds == [OpenTelemetryObserver, PrometheusMetricsRecorder, LoggingObserver]


async def test_a_bad_value_fails_the_boot_naming_the_key() -> None:
    environ = {"LEX_OBSERVABILITY__PROMETHEUS__PORT": "99999"}
    with pytest.raises(ConfigError, match=r"observability\.prometheus\.port"):
        async with boot(ObservabilityModule.configure(), environ=environ):
            pass


async def test_serve_exposes_metrics_on_loopback_until_shutdown() -> None:
    config = ObservabilityConfig(prometheus=PrometheusConfig(enabled=True, serve=True, port=0))
    async with boot(ObservabilityModule.configure(config)) as app:
        provider = next(p for p in app.providers if isinstance(p, ObservabilityProvider))
        server = provider._servers[-1]
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
    assert provider._servers == []


def test_an_enabled_extra_that_is_missing_fails_with_the_install_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "lexigram.observability._prometheus", raising=False)
    provider = ObservabilityProvider(ObservabilityConfig(prometheus=PrometheusConfig(enabled=True)))
    with pytest.raises(
        ImportError, match=r'pip install "lexigram-http-observability\[prometheus\]"'
    ):
        provider.register(Container())

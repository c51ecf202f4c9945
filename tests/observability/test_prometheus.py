"""PrometheusMetricsRecorder on a fresh CollectorRegistry, parsed back with its own parser."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from lexigram.contracts.observability import ObserverGroup
from lexigram.contracts.web import (
    HTTPConnectionError,
    HttpResponse,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.observability import (
    PrometheusMetricsRecorder,
    render_metrics,
    start_metrics_server,
)
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerConfig,
    RetryBudgetConfig,
    RetryPolicy,
)
from lexigram.resilience import RetryConfig as ResilienceRetryConfig
from tests.observability.conftest import Upstream

QUICK_RETRY = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001, backoff_max=0.001))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(recorder: PrometheusMetricsRecorder) -> Samples:
    """Every sample of the exposition, keyed by name and labels."""
    text = render_metrics(recorder).decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
    return found


def value(recorder: PrometheusMetricsRecorder, name: str, **labels: str) -> float | None:
    return samples(recorder).get((name, frozenset(labels.items())))


async def test_requests_are_recorded_with_prometheus_names_and_bounded_labels(
    upstream: Upstream,
) -> None:
    registry = CollectorRegistry()
    recorder = PrometheusMetricsRecorder(registry)
    host = upstream.url.removeprefix("http://")
    upstream.script = [503]
    async with HTTPClient(QUICK_RETRY, observer=recorder) as client:
        result = await client.get(upstream.url_for("/ok?token=s3cret&id=12345"))
    assert result.is_ok()
    labels = {"method": "GET", "host": host}
    assert value(
        recorder, "http_client_request_duration_seconds_count",
        **labels, status_code="503", error_type="503",
    ) == 1  # fmt: skip
    assert value(
        recorder, "http_client_request_duration_seconds_count",
        **labels, status_code="200", error_type="",
    ) == 1  # fmt: skip
    assert value(recorder, "http_client_active_requests", **labels) == 0
    assert value(recorder, "http_client_retries_total", **labels, reason="503") == 1
    assert value(recorder, "http_client_response_body_size_bytes_sum", **labels) == 4
    # The registry given is the one used, and nothing holds a path, a query or a secret.
    assert recorder.registry is registry
    text = render_metrics(registry).decode()
    assert "s3cret" not in text
    assert "/ok" not in text
    assert "12345" not in text


async def test_connection_errors_are_labelled_by_error_type(closed_port: int) -> None:
    recorder = PrometheusMetricsRecorder()
    disabled = HTTPClientConfig(retry=RetryConfig(enabled=False))
    async with HTTPClient(disabled, observer=recorder) as client:
        assert (await client.get(f"http://127.0.0.1:{closed_port}/")).is_err()
    assert value(
        recorder, "http_client_request_duration_seconds_count",
        method="GET", host=f"127.0.0.1:{closed_port}", status_code="",
        error_type="HTTPConnectionError",
    ) == 1  # fmt: skip


async def test_streams_record_time_to_first_byte_and_duration(upstream: Upstream) -> None:
    recorder = PrometheusMetricsRecorder()
    host = upstream.url.removeprefix("http://")
    upstream.release.set()
    async with (
        HTTPClient(observer=recorder) as client,
        client.stream("GET", upstream.url_for("/stream")) as response,
    ):
        assert await response.aread() == b"data: one\n\ndata: two\n\n"
    assert (
        value(
            recorder, "http_client_stream_time_to_first_byte_seconds_count", method="GET", host=host
        )
        == 1
    )
    assert (
        value(recorder, "http_client_stream_duration_seconds_count", method="GET", host=host) == 1
    )
    assert value(recorder, "http_client_active_requests", method="GET", host=host) == 0


async def test_retry_refusals_and_circuit_state_from_resilience() -> None:
    recorder = PrometheusMetricsRecorder()
    policy = RetryPolicy(
        ResilienceRetryConfig(budget=RetryBudgetConfig(ratio=0.0, min_retries_per_second=0.0)),
        observer=recorder,
    )
    breaker = CircuitBreaker(
        "partner", CircuitBreakerConfig(minimum_throughput=1), observer=recorder
    )

    async def fail(attempt: int) -> HttpResponse:
        raise HTTPConnectionError(method="GET", url="https://api.partner.test/x")

    with pytest.raises(Exception, match="retry budget"):
        await policy.execute(RequestContext("GET", "https://api.partner.test/x"), fail)
    assert value(
        recorder, "http_client_retry_refusals_total",
        method="GET", host="api.partner.test", reason="budget",
    ) == 1  # fmt: skip

    async def answer() -> HttpResponse:
        return HttpResponse(500)

    await breaker.call("https://api.partner.test", answer)
    assert (
        value(recorder, "http_client_circuit_state", breaker="partner", host="api.partner.test")
        == 1
    )
    assert value(
        recorder, "http_client_circuit_transitions_total",
        breaker="partner", host="api.partner.test", state="open",
    ) == 1  # fmt: skip


async def test_the_seed_signals_as_a_metrics_recorder() -> None:
    recorder = PrometheusMetricsRecorder(namespace="app")
    async with HTTPClient(
        HTTPClientConfig(retry=RetryConfig(enabled=False)),
        metrics=recorder,
        transport=_Static(),
    ) as client:
        await client.get("https://api.partner.test/x")
    assert (
        value(recorder, "app_lexigram_http_request_status_total", method="GET", status="200") == 1
    )
    assert value(recorder, "app_lexigram_http_request_duration_count", method="GET") == 1
    with pytest.raises(ValueError, match=r"'http\.request\.status' was first recorded"):
        recorder.increment("http.request.status", tags={"other": "x"})


async def test_the_metrics_server_serves_the_registry_on_loopback(upstream: Upstream) -> None:
    recorder = PrometheusMetricsRecorder()
    async with HTTPClient(observer=recorder) as client:
        await client.get(upstream.url_for("/ok"))
    server, thread = start_metrics_server(recorder)
    try:
        assert server.server_address[0] == "127.0.0.1"
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            body = await response.text()
        names = {family.name for family in text_string_to_metric_families(body)}
        assert "http_client_request_duration_seconds" in names
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_an_observer_group_takes_the_recorder() -> None:
    recorder = PrometheusMetricsRecorder()
    assert ObserverGroup([recorder]).observers == (recorder,)


class _Static:
    async def send(self, context: RequestContext) -> HttpResponse:
        return HttpResponse(200)

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

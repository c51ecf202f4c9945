"""OpenTelemetryObserver on the real SDK (in-memory exporters) against a loopback server."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.utils import suppress_http_instrumentation
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from opentelemetry.trace import SpanKind, StatusCode, format_trace_id

from lexigram.contracts.web import HTTPTimeoutError
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.observability import DURATION_BUCKETS
from tests.observability.conftest import Otel, Upstream

NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))
QUICK_RETRY = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001, backoff_max=0.001))


async def test_a_call_is_one_client_span_with_the_semconv_attributes(
    otel: Otel, upstream: Upstream
) -> None:
    port = int(upstream.url.rsplit(":", 1)[1])
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        result = await client.get(upstream.url_for("/ok?token=s3cret&page=2"))
    assert result.is_ok()
    [span] = otel.spans()
    assert span.name == "GET"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "lexigram.observability"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.scheme": "http",
        "url.full": f"{upstream.url}/ok?token=[REDACTED]&page=2",
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_an_unknown_method_is_other_with_the_original_kept(
    otel: Otel, upstream: Upstream
) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        await client.request("PURGE", upstream.url_for("/ok"))
    [span] = otel.spans()
    assert span.name == "HTTP"
    assert span.attributes is not None
    assert span.attributes["http.request.method"] == "_OTHER"
    assert span.attributes["http.request.method_original"] == "PURGE"


async def test_one_span_per_attempt_with_resend_counts(otel: Otel, upstream: Upstream) -> None:
    upstream.script = [503, 502]
    async with HTTPClient(QUICK_RETRY, observer=otel.observer()) as client:
        assert (await client.get(upstream.url_for("/ok"))).is_ok()
    spans = otel.spans()
    assert len(spans) == 3
    attributes = [dict(span.attributes or {}) for span in spans]
    assert [a.get("http.request.resend_count") for a in attributes] == [None, 1, 2]
    assert [a["http.response.status_code"] for a in attributes] == [503, 502, 200]
    assert [a.get("error.type") for a in attributes] == ["503", "502", None]
    assert [span.status.status_code for span in spans] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    # Each attempt carried its own span's context.
    sent = [headers["traceparent"].split("-")[2] for headers in upstream.headers]
    assert sent == [format(span.context.span_id, "016x") for span in spans]
    retries = {
        str(attrs["lexigram.http.retry.reason"]): getattr(point, "value", None)
        for attrs, point in otel.points("lexigram.http.client.retries")
    }
    assert retries == {"503": 1, "502": 1}


async def test_traceparent_continues_the_callers_trace(otel: Otel, upstream: Upstream) -> None:
    tracer = otel.tracer_provider.get_tracer("test")
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        with tracer.start_as_current_span("caller") as caller:
            await client.get(upstream.url_for("/ok"))
    ours = next(span for span in otel.spans() if span.name == "GET")
    assert ours.parent is not None
    assert ours.parent.span_id == caller.get_span_context().span_id
    version, trace_id, parent_id, _flags = upstream.headers[0]["traceparent"].split("-")
    assert version == "00"
    assert trace_id == format_trace_id(caller.get_span_context().trace_id)
    assert parent_id == format(ours.context.span_id, "016x")


async def test_a_stream_span_ends_when_the_stream_closes(otel: Otel, upstream: Upstream) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        async with client.stream("GET", upstream.url_for("/stream")) as response:
            events = response.sse()
            first = await anext(events)
            assert first.data == "one"
            assert otel.spans() == []  # still open: the body is being read
            upstream.release.set()
            assert [event.data async for event in events] == ["two"]
        [span] = otel.spans()
    assert span.attributes is not None
    assert span.attributes["lexigram.http.streaming"] is True
    assert span.attributes["http.response.status_code"] == 200
    [(_, ttfb)] = otel.points("lexigram.http.client.stream.time_to_first_byte")
    assert isinstance(ttfb, HistogramDataPoint)
    assert ttfb.count == 1
    [(_, duration)] = otel.points("lexigram.http.client.stream.duration")
    assert isinstance(duration, HistogramDataPoint)
    assert duration.count == 1
    [(_, active)] = otel.points("http.client.active_requests")
    assert getattr(active, "value", None) == 0


async def test_connection_errors_and_timeouts_have_their_error_type(
    otel: Otel, upstream: Upstream, closed_port: int
) -> None:
    config = HTTPClientConfig(retry=RetryConfig(enabled=False), read_timeout=0.05)
    async with HTTPClient(config, observer=otel.observer()) as client:
        refused = await client.get(f"http://127.0.0.1:{closed_port}/x?api_key=k3y")
        slow = await client.get(upstream.url_for("/slow"))
    assert refused.is_err()
    assert slow.is_err()
    assert isinstance(slow.error, HTTPTimeoutError)
    first, second = otel.spans()
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["error.type"] == "HTTPConnectionError"
    assert "http.response.status_code" not in first.attributes
    assert second.attributes["error.type"] == "HTTPTimeoutError"
    assert second.attributes["lexigram.http.timeout.phase"] == "read"
    [event] = first.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "HTTPConnectionError"
    message = str(event.attributes["exception.message"])
    assert "k3y" not in message
    assert "connection failed" in message
    assert first.status.status_code is StatusCode.ERROR
    error_types = {
        attrs.get("error.type") for attrs, _ in otel.points("http.client.request.duration")
    }
    assert error_types == {"HTTPConnectionError", "HTTPTimeoutError"}


async def test_duration_metric_has_the_semconv_attributes_and_buckets(
    otel: Otel, upstream: Upstream
) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        await client.post(upstream.url_for("/ok"), content=b"12345")
    [(attributes, point)] = otel.points("http.client.request.duration")
    port = int(upstream.url.rsplit(":", 1)[1])
    assert attributes == {
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.scheme": "http",
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
    }
    assert isinstance(point, HistogramDataPoint)
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS
    [(_, sent)] = otel.points("http.client.request.body.size")
    assert isinstance(sent, HistogramDataPoint)
    assert sent.sum == 5
    [(_, received)] = otel.points("http.client.response.body.size")
    assert isinstance(received, HistogramDataPoint)
    assert received.sum == 2
    units = {name: unit for name, unit, _ in otel.all_metrics()}
    assert units["http.client.request.duration"] == "s"
    assert units["http.client.active_requests"] == "{request}"


async def test_no_duplicate_spans_beside_the_aiohttp_instrumentation(
    otel: Otel, upstream: Upstream
) -> None:
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider
    )
    try:
        # Without our observer, the instrumentation records its own span...
        async with HTTPClient(NO_RETRY) as client:
            await client.get(upstream.url_for("/ok"))
        scopes = [span.instrumentation_scope for span in otel.spans()]
        assert [scope.name for scope in scopes if scope is not None] == [
            "opentelemetry.instrumentation.aiohttp_client"
        ]
        otel.spans_exporter.clear()
        [(_, before)] = otel.points("http.client.duration")
        assert isinstance(before, HistogramDataPoint)
        assert before.count == 1
        # ...with it, ours is the only one, once per attempt, and it records no metric either.
        upstream.script = [503]
        async with HTTPClient(QUICK_RETRY, observer=otel.observer()) as client:
            await client.get(upstream.url_for("/ok"))
        scopes = [span.instrumentation_scope for span in otel.spans()]
        assert [scope.name for scope in scopes if scope is not None] == [
            "lexigram.observability",
            "lexigram.observability",
        ]
        [(_, after)] = otel.points("http.client.duration")
        assert isinstance(after, HistogramDataPoint)
        assert after.count == 1
    finally:
        instrumentor.uninstrument()


async def test_a_caller_that_suppresses_http_instrumentation_gets_no_span(
    otel: Otel, upstream: Upstream
) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer()) as client:
        with suppress_http_instrumentation():
            await client.get(upstream.url_for("/ok"))
        assert otel.spans() == []
        await client.get(upstream.url_for("/ok"))
    assert len(otel.spans()) == 1
    assert "traceparent" not in upstream.headers[0]
    assert "traceparent" in upstream.headers[1]


async def test_tracing_or_metrics_can_be_turned_off(otel: Otel, upstream: Upstream) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer(tracing=False)) as client:
        await client.get(upstream.url_for("/ok"))
    assert otel.spans() == []
    assert "traceparent" not in upstream.headers[0]
    assert otel.points("http.client.request.duration")
    async with HTTPClient(NO_RETRY, observer=otel.observer(metrics=False)) as client:
        await client.get(upstream.url_for("/ok"))
    assert len(otel.spans()) == 1


async def test_breaker_transitions_set_the_state_gauge(otel: Otel) -> None:
    observer = otel.observer()
    observer.breaker_transition("http-default", "https://a.test", "closed", "open")
    [(attributes, point)] = otel.points("lexigram.http.client.circuit.state")
    assert attributes == {
        "lexigram.circuit.breaker": "http-default",
        "lexigram.circuit.key": "https://a.test",
    }
    assert getattr(point, "value", None) == 1


@pytest.mark.parametrize("name", ["OpenTelemetryObserver", "PrometheusMetricsRecorder"])
def test_the_lazy_names_resolve(name: str) -> None:
    import lexigram.observability as package

    value: Any = getattr(package, name)
    assert value is not None


async def test_opt_in_metrics_are_off_by_default(otel: Otel, upstream: Upstream) -> None:
    async with HTTPClient(NO_RETRY, observer=otel.observer(detailed=False)) as client:
        await client.post(upstream.url_for("/ok"), content=b"12345")
    names = {name for name, _, _ in otel.all_metrics()}
    # The pool's metrics are not opt-in (the connection closed with the client).
    assert names == {
        "http.client.request.duration",
        "http.client.open_connections",
        "http.client.connection.duration",
    }

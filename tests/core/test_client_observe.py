"""Per-attempt metrics and logs of HTTPClient, and what they must never contain."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricRecord
from lexigram.contracts.web import (
    HTTPBodyTooLargeError,
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from tests.core.conftest import FakeBreaker, FakeClock, StubTransport

URL = "https://api.example.com/v1/items"
SECRET_URL = "https://user:hunter2@api.example.com/v1/items?api_key=sk-live-123&page=2"
NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))
LOGGER = "lexigram.http.client"


def timed(clock: FakeClock, *outcomes: Any) -> StubTransport:
    """A transport whose every send takes 0.25 s of fake time."""
    script = list(outcomes)

    def handler(context: RequestContext) -> Any:
        clock.advance(0.25)
        return script[min(context.attempt, len(script)) - 1]

    return StubTransport(handler=handler)


# -- metrics ---------------------------------------------------------------------------------


async def test_each_attempt_records_duration_and_status(clock: FakeClock) -> None:
    recorder = InMemoryMetricsRecorder()
    transport = timed(clock, 503, HTTPConnectionError("refused"), 200)
    async with HTTPClient(
        transport=transport, metrics=recorder, clock=clock, sleep=clock.sleep
    ) as client:
        result = await client.get(URL)
    assert result.is_ok()
    assert recorder.records == [
        MetricRecord("histogram", "http.request.duration", 0.25, {"method": "GET"}),
        MetricRecord("counter", "http.request.status", 1.0, {"method": "GET", "status": "503"}),
        MetricRecord("histogram", "http.request.duration", 0.25, {"method": "GET"}),
        MetricRecord(
            "counter",
            "http.request.status",
            1.0,
            {"method": "GET", "status": "connection_error"},
        ),
        MetricRecord("histogram", "http.request.duration", 0.25, {"method": "GET"}),
        MetricRecord("counter", "http.request.status", 1.0, {"method": "GET", "status": "200"}),
    ]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (HTTPTimeoutError(phase=TimeoutPhase.READ), "timeout"),
        (HTTPTimeoutError(phase=TimeoutPhase.DEADLINE), "timeout"),
        (HTTPConnectionError(), "connection_error"),
        (HTTPBodyTooLargeError(limit=1), "error"),
        (404, "404"),
    ],
)
async def test_failed_attempts_are_tagged(outcome: Any, status: str, clock: FakeClock) -> None:
    recorder = InMemoryMetricsRecorder()
    async with HTTPClient(
        NO_RETRY, transport=timed(clock, outcome), metrics=recorder, clock=clock
    ) as client:
        with contextlib.suppress(HTTPBodyTooLargeError):
            await client.post(URL)
    assert recorder.values("http.request.duration", "histogram") == [0.25]
    assert [record.tags for record in recorder.records if record.kind == "counter"] == [
        {"method": "POST", "status": status}
    ]


async def test_no_recorder_means_no_metrics_work() -> None:
    client = HTTPClient(transport=StubTransport())
    assert client._observer is None


async def test_an_open_circuit_records_nothing() -> None:
    recorder = InMemoryMetricsRecorder()
    async with HTTPClient(
        transport=StubTransport(), metrics=recorder, circuit_breaker=FakeBreaker(open_=True)
    ) as client:
        with pytest.raises(Exception, match="is open"):
            await client.get(URL)
    assert recorder.records == []


# -- logs ------------------------------------------------------------------------------------


def _events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


async def test_error_responses_are_logged_per_attempt(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    caplog.set_level(logging.DEBUG, logger="lexigram.http")
    transport = StubTransport(503, 500, 200)
    async with HTTPClient(transport=transport, sleep=clock.sleep) as client:
        assert (await client.get(URL)).is_ok()
    records = _events(caplog)
    assert [record.getMessage() for record in records] == [
        f"http.client.error_response: GET {URL} answered 503 Service Unavailable (attempt 1)",
        f"http.client.error_response: GET {URL} answered 500 Internal Server Error (attempt 2)",
    ]
    first = records[0]
    assert first.levelno == logging.WARNING
    assert first.__dict__["event"] == "http.client.error_response"
    assert first.__dict__["http_method"] == "GET"
    assert first.__dict__["http_url"] == URL
    assert first.__dict__["http_status"] == 503
    assert [record.__dict__["attempt"] for record in records] == [1, 2]


async def test_a_client_without_any_layer_logs_error_responses_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No retry, breaker, interceptor or recorder: the client's direct path to the transport.
    caplog.set_level(logging.WARNING, logger="lexigram.http")
    async with HTTPClient(NO_RETRY, transport=StubTransport(503)) as client:
        assert client._direct
        result = await client.get(URL)
    assert isinstance(result.error, HTTPStatusError)
    (record,) = _events(caplog)
    assert record.getMessage().startswith("http.client.error_response: GET ")
    assert (record.__dict__["http_status"], record.__dict__["attempt"]) == (503, 1)


async def test_connection_errors_and_timeouts_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lexigram.http")
    transport = StubTransport(
        HTTPConnectionError("connection failed (refused)"),
        HTTPTimeoutError(phase=TimeoutPhase.READ, timeout=2.0),
    )
    async with HTTPClient(NO_RETRY, transport=transport) as client:
        assert isinstance((await client.get(URL)).error, HTTPConnectionError)
        assert isinstance((await client.get(URL)).error, HTTPTimeoutError)
    connection, timeout = _events(caplog)
    assert connection.getMessage() == (
        f"http.client.connection_error: GET {URL} failed: connection failed (refused) (attempt 1)"
    )
    assert connection.__dict__["error"] == "connection failed (refused)"
    assert connection.__dict__["error_type"] == "HTTPConnectionError"
    assert timeout.getMessage().startswith(f"http.client.timeout: GET {URL} failed: read timeout")
    assert timeout.__dict__["timeout_phase"] == "read"
    assert timeout.levelno == logging.WARNING


async def test_successes_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="lexigram.http")
    async with HTTPClient(transport=StubTransport(200)) as client:
        await client.get(URL)
    assert _events(caplog) == []


async def test_nothing_is_formatted_when_the_logger_is_disabled(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.ERROR, logger="lexigram.http")

    def fail(url: str) -> str:
        raise AssertionError("redact_url called with logging disabled")

    monkeypatch.setattr("lexigram.http._observe.redact_url", fail)
    transport = StubTransport(500, HTTPConnectionError(), HTTPTimeoutError())
    async with HTTPClient(NO_RETRY, transport=transport) as client:
        for _ in range(3):
            assert (await client.get(URL)).is_err()
    assert _events(caplog) == []


def _all_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    for name, value in vars(record).items():
        parts.append(f"{name}={value!r} {value}")
    return "\n".join(parts)


async def test_logs_never_contain_secrets(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = ["hunter2", "sk-live-123", "Bearer tok-abc", "tok-abc", "session=s3cr3t"]
    headers = {"Authorization": "Bearer tok-abc", "Cookie": "session=s3cr3t"}
    transport = StubTransport(
        503,
        HTTPConnectionError(method="GET", url=SECRET_URL),
        HTTPTimeoutError(method="GET", url=SECRET_URL, phase=TimeoutPhase.READ),
    )
    async with HTTPClient(transport=transport, sleep=clock.sleep) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.get(SECRET_URL, headers=headers)
    assert len(caplog.records) >= 3
    texts = [_all_text(record) for record in caplog.records]
    texts.append(f"{info.value} {info.value!r}")
    for text in texts:
        for secret in secrets:
            assert secret not in text
    url = next(r.__dict__["http_url"] for r in caplog.records if hasattr(r, "http_url"))
    assert url == "https://[REDACTED]@api.example.com/v1/items?api_key=[REDACTED]&page=2"


async def test_retries_are_logged_at_debug(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    caplog.set_level(logging.DEBUG, logger="lexigram.http")
    async with HTTPClient(transport=StubTransport(503, 200), sleep=clock.sleep) as client:
        await client.get(URL)
    (retry,) = [r for r in caplog.records if r.name == "lexigram.http.retry"]
    assert retry.getMessage() == (
        f"http.client.retry: GET {URL} attempt 1 ended with 503; retrying in {clock.sleeps[0]:.3f}s"
    )
    assert retry.levelno == logging.DEBUG
    assert retry.__dict__["retry_reason"] == "503"
    assert retry.__dict__["retry_delay"] == clock.sleeps[0]

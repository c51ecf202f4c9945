"""Correlation ids (header and log records) and the per-attempt log records."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lexigram.contracts.web import InvalidHeaderError, RequestContext
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.observability import (
    CorrelationIdInterceptor,
    CorrelationIdLogFilter,
    LoggingObserver,
    correlation_id,
    current_correlation_id,
)
from tests.observability.conftest import Upstream

QUICK_RETRY = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001, backoff_max=0.001))


async def test_the_correlation_id_of_the_context_is_sent(upstream: Upstream) -> None:
    async with HTTPClient(interceptors=[CorrelationIdInterceptor()]) as client:
        with correlation_id("req-42") as value:
            assert value == "req-42"
            assert current_correlation_id() == "req-42"
            await client.get(upstream.url_for("/ok"))
        assert current_correlation_id() is None
    assert upstream.headers[0]["X-Correlation-ID"] == "req-42"


async def test_a_block_or_the_call_extensions_keep_one_id_across_retries(
    upstream: Upstream,
) -> None:
    upstream.script = [503, 503]
    ids = iter(["generated"])
    interceptor = CorrelationIdInterceptor("X-Request-ID", generate=lambda: next(ids))
    async with HTTPClient(QUICK_RETRY, interceptors=[interceptor]) as client:
        with correlation_id("block"):
            await client.get(upstream.url_for("/ok"))
        await client.get(upstream.url_for("/ok"), extensions={"correlation_id": "call"})
        await client.get(upstream.url_for("/ok"))
    sent = [h["X-Request-ID"] for h in upstream.headers]
    assert sent == ["block", "block", "block", "call", "generated"]


async def test_an_explicit_header_wins_and_generate_none_sends_nothing(
    upstream: Upstream,
) -> None:
    async with HTTPClient(interceptors=[CorrelationIdInterceptor(generate=None)]) as client:
        await client.get(upstream.url_for("/ok"))
        await client.get(upstream.url_for("/ok"), headers={"X-Correlation-ID": "mine"})
    assert "X-Correlation-ID" not in upstream.headers[0]
    assert upstream.headers[1]["X-Correlation-ID"] == "mine"


def test_a_correlation_id_with_a_line_break_is_refused() -> None:
    with pytest.raises(InvalidHeaderError), correlation_id("a\r\nX-Evil: 1"):
        pass


async def test_tasks_inherit_the_id_and_log_records_carry_it() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", None, None)

    async def inner() -> str | None:
        return current_correlation_id()

    with correlation_id("abc"):
        assert await asyncio.create_task(inner()) == "abc"
        assert CorrelationIdLogFilter().filter(record)
    assert record.correlation_id == "abc"  # type: ignore[attr-defined]
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", None, None)
    CorrelationIdLogFilter().filter(bare)
    assert bare.correlation_id is None  # type: ignore[attr-defined]


async def test_attempts_and_retries_are_logged_with_structured_redacted_fields(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.script = [503]
    logger = logging.getLogger("tests.observability.attempts")
    caplog.set_level(logging.DEBUG, logger=logger.name)
    async with HTTPClient(QUICK_RETRY, observer=LoggingObserver(logger)) as client:
        with correlation_id("c-1"):
            await client.get(upstream.url_for("/ok?token=s3cret"), headers={"Authorization": "x"})
    records = [r for r in caplog.records if r.name == logger.name]
    assert [r.getMessage() for r in records] == [
        "http.client.attempt",
        "http.client.retry_scheduled",
        "http.client.attempt",
    ]
    first, retry, second = records
    assert first.http_status == 503  # type: ignore[attr-defined]
    assert first.http_url == f"{upstream.url}/ok?token=[REDACTED]"  # type: ignore[attr-defined]
    assert first.correlation_id == "c-1"  # type: ignore[attr-defined]
    assert retry.retry_reason == "503"  # type: ignore[attr-defined]
    assert second.attempt == 2  # type: ignore[attr-defined]
    assert all("s3cret" not in str(vars(r)) for r in records)


async def test_attempt_records_are_skipped_when_debug_is_off(upstream: Upstream) -> None:
    logger = logging.getLogger("tests.observability.quiet")
    logger.setLevel(logging.WARNING)
    context = RequestContext("GET", upstream.url_for("/ok"))
    assert LoggingObserver(logger).attempt_started(context, False) is None

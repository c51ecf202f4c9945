"""The per-attempt observation hook (``observer=``): what core reports, and when."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from lexigram.contracts.observability import (
    AttemptObservationProtocol,
    BaseHTTPObserver,
    HTTPObserverProtocol,
    InMemoryHTTPObserver,
    InMemoryMetricsRecorder,
    ObservedEvent,
    ObserverGroup,
)
from lexigram.contracts.web import (
    HTTPConnectionError,
    HTTPDecodeError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.result import Err
from tests.core.conftest import FakeClock, StubTransport
from tests.core.support import LocalServer

URL = "https://api.example.test/v1/items"


def _client(transport: StubTransport, observer: HTTPObserverProtocol, **kw: object) -> HTTPClient:
    clock = FakeClock()
    return HTTPClient(
        transport=transport,
        observer=observer,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_verb_attempt_is_started_answered_and_ended_in_order() -> None:
    observer = InMemoryHTTPObserver()
    client = _client(StubTransport(200), observer)
    result = await client.get(URL)
    assert result.is_ok()
    assert observer.events == [
        ObservedEvent("start", 1, "verb"),
        ObservedEvent("response", 1, 200),
        ObservedEvent("end", 1, None),
    ]


async def test_each_retry_is_its_own_attempt_and_the_waits_are_reported() -> None:
    observer = InMemoryHTTPObserver()
    client = _client(StubTransport(503, HTTPConnectionError("refused"), 200), observer)
    assert (await client.get(URL)).is_ok()
    names = observer.names()
    assert names == [
        "start", "response", "end", "retry",
        "start", "end", "retry",
        "start", "response", "end",
    ]  # fmt: skip
    retries = [event for event in observer.events if event.name == "retry"]
    assert [event.attempt for event in retries] == [1, 2]
    assert [event.detail[1] for event in retries] == ["503", "connection_error"]  # type: ignore[index]
    ended = [event for event in observer.events if event.name == "end"]
    assert isinstance(ended[1].detail, HTTPConnectionError)
    assert [event.attempt for event in observer.events if event.name == "start"] == [1, 2, 3]


async def test_giving_up_on_a_retryable_outcome_is_reported_as_refused() -> None:
    observer = InMemoryHTTPObserver()
    client = _client(StubTransport(503), observer, config=HTTPClientConfig(retry=RetryConfig()))
    with pytest.raises(HTTPRetryExhaustedError):
        await client.get(URL)
    assert observer.events[-1] == ObservedEvent("refused", 3, "exhausted")


async def test_a_failure_ends_the_attempt_with_the_error_and_its_phase() -> None:
    observer = InMemoryHTTPObserver()
    timeout = HTTPTimeoutError(phase=TimeoutPhase.CONNECT, timeout=1.0)
    disabled = HTTPClientConfig(retry=RetryConfig(enabled=False))
    client = _client(StubTransport(timeout), observer, config=disabled)
    result = await client.get(URL)
    assert isinstance(result, Err)
    assert observer.names() == ["start", "end"]
    error = observer.events[-1].detail
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.CONNECT


async def test_cancellation_ends_the_attempt() -> None:
    observer = InMemoryHTTPObserver()
    started = asyncio.Event()

    async def hang(context: RequestContext) -> HttpResponse:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    transport = StubTransport()
    transport.send = hang  # type: ignore[method-assign]
    client = _client(transport, observer)
    task = asyncio.create_task(client.get(URL))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert observer.names() == ["start", "end"]
    assert isinstance(observer.events[-1].detail, asyncio.CancelledError)


async def test_the_observer_may_add_headers_to_the_attempt() -> None:
    class Tagging(BaseHTTPObserver):
        def attempt_started(
            self, context: RequestContext, streaming: bool
        ) -> AttemptObservationProtocol | None:
            context.headers["traceparent"] = f"attempt-{context.attempt}"
            return None

    transport = StubTransport(503, 200)
    client = _client(transport, Tagging())
    assert (await client.get(URL)).is_ok()
    assert [sent.headers["traceparent"] for sent in transport.sent] == ["attempt-1", "attempt-2"]


async def test_metrics_recorder_signals_are_unchanged_beside_an_observer() -> None:
    recorder = InMemoryMetricsRecorder()
    observer = InMemoryHTTPObserver()
    client = _client(StubTransport(200), observer, metrics=recorder)
    await client.get(URL)
    assert [(r.kind, r.name, r.tags) for r in recorder.records] == [
        ("histogram", "http.request.duration", {"method": "GET"}),
        ("counter", "http.request.status", {"method": "GET", "status": "200"}),
    ]
    assert observer.names() == ["start", "response", "end"]


def test_without_an_observer_the_direct_path_stays() -> None:
    disabled = HTTPClientConfig(retry=RetryConfig(enabled=False))
    assert HTTPClient(disabled, transport=StubTransport())._direct
    observed = HTTPClient(disabled, transport=StubTransport(), observer=InMemoryHTTPObserver())
    assert not observed._direct


async def test_an_observer_group_fans_out() -> None:
    first, second = InMemoryHTTPObserver(), InMemoryHTTPObserver()
    client = _client(StubTransport(200), ObserverGroup([first, second, BaseHTTPObserver()]))
    await client.get(URL)
    assert first.names() == second.names() == ["start", "response", "end"]
    with pytest.raises(TypeError, match="HTTPObserverProtocol"):
        ObserverGroup([object()])  # type: ignore[list-item]


async def test_base_url_client_passes_the_observer_on() -> None:
    observer = InMemoryHTTPObserver()
    async with BaseURLHTTPClient(
        "https://api.example.test/v1", transport=StubTransport(200), observer=observer
    ) as client:
        await client.get("/items")
    assert observer.names() == ["start", "response", "end"]


async def test_a_stream_attempt_ends_when_the_stream_is_closed() -> None:
    observer = InMemoryHTTPObserver()
    async with (
        LocalServer() as server,
        HTTPClient(observer=observer) as client,
        client.stream("GET", server.url_for("/stream")) as response,
    ):
        assert observer.names() == ["start", "response"]
        assert observer.events[0].detail == "stream"
        chunks = response.iter_bytes()
        assert await anext(chunks) == b"chunk-1"
        assert observer.names() == ["start", "response", "first_byte"]
        server.release()
        async for _ in chunks:
            pass
    assert observer.names() == ["start", "response", "first_byte", "end"]
    assert observer.events[-1].detail is None


async def test_a_stream_left_early_ends_its_attempt_at_exit() -> None:
    observer = InMemoryHTTPObserver()
    async with LocalServer() as server, HTTPClient(observer=observer) as client:
        async with client.stream("GET", server.url_for("/stream")) as response:
            async for _ in response.iter_bytes():
                break
            assert "end" not in observer.names()
        assert observer.names()[-1] == "end"


async def test_a_broken_stream_ends_its_attempt_with_the_error() -> None:
    observer = InMemoryHTTPObserver()
    async with (
        LocalServer() as server,
        HTTPClient(observer=observer) as client,
        client.stream("GET", server.url_for("/drop")) as response,
    ):
        with pytest.raises(HTTPConnectionError):
            await response.aread()
    assert observer.names()[-1] == "end"
    assert isinstance(observer.events[-1].detail, HTTPConnectionError)


async def test_stream_retries_end_the_abandoned_attempts() -> None:
    observer = InMemoryHTTPObserver()
    calls = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=503 if calls == 1 else 200, text="ok")

    config = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001, backoff_max=0.001))
    async with (
        LocalServer(extra_routes=[web.get("/flaky", flaky)]) as server,
        HTTPClient(config, observer=observer) as client,
    ):
        async with client.stream("GET", server.url_for("/flaky")) as response:
            assert response.status == 200
            assert observer.names() == ["start", "response", "end", "retry", "start", "response"]
        assert observer.names()[-1] == "end"


async def test_a_decode_error_ends_the_stream_attempt_with_it() -> None:
    observer = InMemoryHTTPObserver()

    async def bad(request: web.Request) -> web.Response:
        return web.Response(body=b'{"ok": 1}\n{not json}\n')

    async with (
        LocalServer(extra_routes=[web.get("/bad", bad)]) as server,
        HTTPClient(observer=observer) as client,
        client.stream("GET", server.url_for("/bad")) as response,
    ):
        with pytest.raises(HTTPDecodeError):
            async for _ in response.ndjson():
                pass
    assert observer.names()[-1] == "end"
    error = observer.events[-1].detail
    assert isinstance(error, HTTPDecodeError)
    assert error.line == 2

"""``HTTPClient.stream()`` over a scripted transport: the request path, the head, the body.

The transport here plays chunks (with delays, on the injected sleep) and endings, like the
testing package's ``MockTransport`` (which lexigram-http-core's own tests cannot depend on).
Real sockets are in ``test_stream_integration.py``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricRecord
from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPConnectionError,
    HTTPDecodeError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    HTTPUsageError,
    InterceptorProtocol,
    RequestContext,
    ServerSentEvent,
    StreamingResponseProtocol,
    TimeoutPhase,
)
from lexigram.http import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    RetryConfig,
    SSEReconnect,
    StreamResponse,
)
from tests.core.conftest import FakeClock

URL = "https://llm.example.com/v1/chat"
NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class ScriptedStream:
    """A ``StreamingResponseProtocol`` playing ``(delay, bytes)`` chunks, then ``end``."""

    def __init__(
        self,
        context: RequestContext,
        status: int,
        chunks: Sequence[tuple[float, bytes]],
        headers: dict[str, str] | None,
        end: BaseException | None,
        sleep: Sleep,
    ) -> None:
        self.status = status
        self.url = context.url
        self.method = context.method
        self.headers = Headers(headers or {}, readonly=True)
        self._chunks = chunks
        self._end = end
        self._sleep = sleep
        self.sent = 0
        self.closed = False

    def iter_bytes(self) -> AsyncIterator[bytes]:
        return self._play()

    async def _play(self) -> AsyncIterator[bytes]:
        for delay, chunk in self._chunks:
            if delay:
                await self._sleep(delay)
            if self.closed:
                return
            self.sent += 1
            yield chunk
        self.closed = True
        if self._end is not None:
            raise self._end

    async def aread(self, limit: int | None = None) -> bytes:
        return b"".join([chunk async for chunk in self._play()])

    async def aclose(self) -> None:
        self.closed = True


Answer = tuple[int, Sequence[tuple[float, bytes]], dict[str, str] | None, BaseException | None]


def answer(
    *chunks: bytes | tuple[float, bytes],
    status: int = 200,
    headers: dict[str, str] | None = None,
    end: BaseException | None = None,
) -> Answer:
    timed = [chunk if isinstance(chunk, tuple) else (0.0, chunk) for chunk in chunks]
    if headers is None:
        # What an SSE producer sends; reconnection reads nothing else as events.
        headers = {"Content-Type": "text/event-stream"}
    return (status, timed, headers, end)


class ScriptedTransport:
    """``send_stream`` answers from a script (the last answer repeats); records contexts."""

    def __init__(self, *answers: Answer | BaseException, sleep: Sleep = asyncio.sleep) -> None:
        self.answers = list(answers)
        self.sleep = sleep
        self.contexts: list[RequestContext] = []
        self.attempts: list[int] = []
        self.streams: list[ScriptedStream] = []

    async def send(self, context: RequestContext) -> HttpResponse:
        raise AssertionError("stream() must use send_stream")

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        self.contexts.append(context)
        self.attempts.append(context.attempt)
        scripted = self.answers[min(len(self.contexts), len(self.answers)) - 1]
        if isinstance(scripted, BaseException):
            raise scripted
        status, chunks, headers, end = scripted
        stream = ScriptedStream(context, status, chunks, headers, end, self.sleep)
        self.streams.append(stream)
        return stream

    async def aclose(self) -> None:
        pass


def client_for(transport: ScriptedTransport, **kwargs: Any) -> HTTPClient:
    if "pipeline" not in kwargs and "retry_policy" not in kwargs:
        kwargs.setdefault("config", NO_RETRY)  # http.retry beside a pipeline is refused
    return HTTPClient(transport=transport, **kwargs)


def disconnected(received: bytes = b"") -> HTTPStreamDisconnectedError:
    return HTTPStreamDisconnectedError(received=received, method="GET", url=URL)


async def collect(items: AsyncIterator[T], into: list[T]) -> None:
    """Append what ``items`` yields to ``into`` (kept when it ends in an error)."""
    async for item in items:
        into.append(item)


# -- the forms of the body -------------------------------------------------------------------------


async def test_iterating_the_response_yields_decoded_lines() -> None:
    transport = ScriptedTransport(answer(b"first\r", b"\nsecond \xe2\x82", b"\xac\rthird"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        assert isinstance(response, StreamResponse)
        assert (response.status, response.method, response.url) == (200, "GET", URL)
        assert [line async for line in response] == ["first", "second €", "third"]
        assert response.is_closed
        assert response.bytes_received == 23


async def test_iter_bytes_and_its_alias_yield_raw_chunks() -> None:
    transport = ScriptedTransport(answer(b"a\r", b"\nb"))
    async with client_for(transport) as client:
        async with client.stream("GET", URL) as response:
            assert [chunk async for chunk in response.iter_bytes()] == [b"a\r", b"\nb"]
        async with client.stream("GET", URL) as response:
            assert [chunk async for chunk in response.bytes()] == [b"a\r", b"\nb"]
        async with client.stream("GET", URL) as response:
            assert await response.aread() == b"a\r\nb"


async def test_sse_yields_events_and_tracks_the_last_event_id() -> None:
    transport = ScriptedTransport(
        answer(b"retry: 1500\nid: 1\ndata: a\n", b"\nevent: done\nid: 2\ndata: b\n\n: bye\n")
    )
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        initial = response.last_event_id
        events = [event async for event in response.sse()]
    assert initial is None
    assert events == [
        ServerSentEvent(data="a", id="1", retry=1500),
        ServerSentEvent(data="b", event="done", id="2"),
    ]
    assert (response.last_event_id, response.retry) == ("2", 1500)


async def test_ndjson_yields_values() -> None:
    transport = ScriptedTransport(answer(b'{"a": 1}\n\n[2', b"]\r\n3"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        assert [value async for value in response.ndjson()] == [{"a": 1}, [2], 3]


async def test_a_bad_ndjson_line_names_the_line_and_the_request() -> None:
    transport = ScriptedTransport(answer(b"1\n2\n{bad\n4\n"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        with pytest.raises(HTTPDecodeError) as caught:
            async for _ in response.ndjson():
                pass
    assert (caught.value.line, caught.value.method, caught.value.url) == (3, "GET", URL)
    assert transport.streams[0].closed


async def test_the_body_can_be_read_once() -> None:
    transport = ScriptedTransport(answer(b"x\n"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        assert [line async for line in response.lines()] == ["x"]
        with pytest.raises(HTTPUsageError, match="already read"):
            response.sse()


async def test_reading_after_aclose_is_a_usage_error() -> None:
    transport = ScriptedTransport(answer(b"x\n"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        await response.aclose()
        await response.aclose()
        with pytest.raises(HTTPUsageError):
            response.iter_bytes()


async def test_aread_is_bounded_by_max_response_bytes() -> None:
    from lexigram.contracts.web import HTTPBodyTooLargeError

    transport = ScriptedTransport(answer(b"x" * 600, b"y" * 600))
    config = HTTPClientConfig(retry=RetryConfig(enabled=False), max_response_bytes=1000)
    async with (
        client_for(transport, config=config) as client,
        client.stream("GET", URL) as response,
    ):
        with pytest.raises(HTTPBodyTooLargeError):
            await response.aread()
    assert transport.streams[0].closed


# -- limits ----------------------------------------------------------------------------------------


async def test_an_endless_line_raises_the_typed_limit_error_and_releases() -> None:
    transport = ScriptedTransport(answer(*[b"z" * 1000] * 1000))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, max_line_bytes=10_000) as response,
    ):
        with pytest.raises(HTTPStreamLimitError) as caught:
            async for _ in response:
                pass
    assert (caught.value.limit_name, caught.value.limit) == ("max_line_bytes", 10_000)
    assert (caught.value.method, caught.value.url) == ("GET", URL)
    stream = transport.streams[0]
    assert stream.closed
    assert stream.sent == 11  # it stopped at the chunk that passed the limit


async def test_an_event_over_max_event_bytes() -> None:
    transport = ScriptedTransport(answer(b"data: 12345\n" * 10 + b"\n"))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, max_event_bytes=50) as response,
    ):
        with pytest.raises(HTTPStreamLimitError, match="max_event_bytes"):
            async for _ in response.sse():
                pass


# -- the head: status, errors ----------------------------------------------------------------------


async def test_raise_for_status_carries_a_bounded_error_body() -> None:
    body = b'{"error": "' + b"x" * 100_000 + b'"}'
    chunks = [body[i : i + 8192] for i in range(0, len(body), 8192)]
    transport = ScriptedTransport(answer(*chunks, status=429, headers={"Retry-After": "1"}))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        assert not response.ok
        assert response.reason == "Too Many Requests"
        with pytest.raises(HTTPStatusError) as caught:
            response.raise_for_status()
        error = caught.value
        assert error.status == 429
        assert error.response.body == body[: 64 * 1024]
        assert error.response.headers["retry-after"] == "1"
        # Reading it did not lose it: the whole body still streams.
        assert await response.aread() == body


async def test_raise_for_status_returns_the_response_when_ok() -> None:
    transport = ScriptedTransport(answer(b"ok"))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        assert response.raise_for_status() is response
        assert response.head.body == b""


async def test_connection_errors_and_timeouts_raise_on_entry() -> None:
    for error in (
        HTTPConnectionError("refused", method="GET", url=URL),
        HTTPTimeoutError(phase=TimeoutPhase.CONNECT, method="GET", url=URL),
    ):
        transport = ScriptedTransport(error)
        async with client_for(transport) as client:
            with pytest.raises(type(error)):
                async with client.stream("GET", URL):
                    raise AssertionError("not reached")


async def test_a_closed_client_refuses_to_stream() -> None:
    client = client_for(ScriptedTransport(answer(b"")))
    await client.aclose()
    with pytest.raises(ClientClosedError):
        async with client.stream("GET", URL):
            pass


# -- disconnects and retries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "body"),
    [
        ("lines", b"one\ntwo"),
        ("sse", b"data: 1\n\ndata: 2"),
        ("ndjson", b'{"n": 1}\n{"n"'),
        ("iter_bytes", b"raw"),
    ],
)
async def test_a_disconnect_mid_body_surfaces_in_every_form(form: str, body: bytes) -> None:
    transport = ScriptedTransport(answer(body, end=disconnected(body)))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        items: list[Any] = []
        with pytest.raises(HTTPStreamDisconnectedError) as caught:
            await collect(getattr(response, form)(), items)
    assert caught.value.received == body
    assert caught.value.bytes_received == len(body)
    assert items  # what arrived before the drop was delivered


async def test_a_stream_is_never_retried_once_the_body_started(clock: FakeClock) -> None:
    transport = ScriptedTransport(answer(b"data: a\n\n", end=disconnected()), sleep=clock.sleep)
    async with (
        HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client,
        client.stream("GET", URL) as response,
    ):  # GET: retryable by default
        with pytest.raises(HTTPStreamDisconnectedError):
            async for _ in response.sse():
                pass
    assert len(transport.contexts) == 1


async def test_a_503_before_the_body_is_retried_and_released(clock: FakeClock) -> None:
    transport = ScriptedTransport(
        answer(b"busy", status=503, headers={"Retry-After": "0"}),
        answer(b"data: ok\n\n"),
    )
    async with (
        HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client,
        client.stream("GET", URL) as response,
    ):
        assert response.status == 200
        assert [event.data async for event in response.sse()] == ["ok"]
    assert transport.attempts == [1, 2]
    assert transport.streams[0].closed


async def test_retries_exhausted_raise_and_release_every_response(clock: FakeClock) -> None:
    transport = ScriptedTransport(answer(b"busy", status=503))
    async with HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client:
        with pytest.raises(HTTPRetryExhaustedError) as caught:
            async with client.stream("GET", URL):
                pass
    assert caught.value.attempts == 3
    assert caught.value.last_response is not None
    assert caught.value.last_response.body == b"busy"
    assert all(stream.closed for stream in transport.streams)


async def test_post_is_not_retried_without_a_key(clock: FakeClock) -> None:
    transport = ScriptedTransport(answer(b"", status=503), answer(b"data: x\n\n"))
    async with (
        HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client,
        client.stream("POST", URL, json={"stream": True}) as response,
    ):
        assert response.status == 503
    assert len(transport.contexts) == 1
    assert transport.contexts[0].body == b'{"stream":true}'


# -- interceptors, resilience hooks ----------------------------------------------------------------


class Tagging(InterceptorProtocol):
    def __init__(self) -> None:
        self.heads: list[HttpResponse] = []

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Attempt"] = str(context.attempt)
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        self.heads.append(response)
        headers = Headers(response.headers)
        headers["X-Seen"] = "yes"
        return HttpResponse(response.status, response.url, response.method, headers, response.body)


async def test_interceptors_see_the_request_and_the_head() -> None:
    tagging = Tagging()
    transport = ScriptedTransport(answer(b"data: a\n\n", headers={"Content-Type": "x"}))
    async with (
        client_for(transport, interceptors=[tagging]) as client,
        client.stream("GET", URL) as response,
    ):
        assert response.headers["x-seen"] == "yes"  # what the interceptor returned
        assert [event.data async for event in response.sse()] == ["a"]
    assert transport.contexts[0].headers["X-Attempt"] == "1"
    (head,) = tagging.heads
    assert (head.status, head.body, head.headers["content-type"]) == (200, b"", "x")


class FallbackPipeline:
    """A pipeline whose fallback answers with a canned response when the call fails."""

    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        try:
            return await operation(1)
        except HTTPConnectionError:
            return HttpResponse(200, request.url, request.method, body=b"data: cached\n\n")


async def test_a_pipeline_fallback_head_streams_its_own_body() -> None:
    transport = ScriptedTransport(HTTPConnectionError("down"))
    async with (
        client_for(transport, pipeline=FallbackPipeline()) as client,
        client.stream("GET", URL) as response,
    ):
        assert [event.data async for event in response.sse()] == ["cached"]


# -- timeouts --------------------------------------------------------------------------------------


async def test_idle_timeout_during_the_body() -> None:
    transport = ScriptedTransport(answer(b"data: a\n\n", (0.5, b"data: b\n\n")))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, idle_timeout=0.05) as response,
    ):
        events: list[ServerSentEvent] = []
        with pytest.raises(HTTPTimeoutError) as caught:
            await collect(response.sse(), events)
    assert [event.data for event in events] == ["a"]
    assert caught.value.phase is TimeoutPhase.IDLE
    assert caught.value.timeout == 0.05
    assert transport.streams[0].closed


async def test_a_steady_stream_outlives_the_call_deadline() -> None:
    chunks = [(0.02, b"data: t\n\n")] * 15  # 0.3 s in all, never long without data
    transport = ScriptedTransport(answer(*chunks))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, timeout=0.1, idle_timeout=0.5) as response,
    ):
        assert len([event async for event in response.sse()]) == 15


async def test_the_idle_timeout_defaults_to_read_timeout() -> None:
    transport = ScriptedTransport(answer((0.3, b"late\n")))
    config = HTTPClientConfig(retry=RetryConfig(enabled=False), read_timeout=0.05)
    async with (
        client_for(transport, config=config) as client,
        client.stream("GET", URL) as response,
    ):
        with pytest.raises(HTTPTimeoutError) as caught:
            await response.aread()
    assert (caught.value.phase, caught.value.timeout) == (TimeoutPhase.IDLE, 0.05)


async def test_an_infinite_idle_timeout_never_fires() -> None:
    transport = ScriptedTransport(answer((0.1, b"late\n")))
    config = HTTPClientConfig(retry=RetryConfig(enabled=False), read_timeout=0.01)
    async with (
        client_for(transport, config=config) as client,
        client.stream("GET", URL, idle_timeout=math.inf) as response,
    ):
        assert await response.aread() == b"late\n"


async def test_an_outer_cancellation_is_not_an_idle_timeout() -> None:
    transport = ScriptedTransport(answer(b"a\n", (10.0, b"b\n")))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, idle_timeout=5.0) as response,
    ):
        lines: list[str] = []

        async def consume() -> None:
            async for line in response:
                lines.append(line)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert lines == ["a"]


async def test_the_idle_timer_is_not_reset_by_a_slow_consumer_alone() -> None:
    # The timer measures waiting for data, not time spent by the loop body.
    transport = ScriptedTransport(answer(b"a\n", b"b\n", b"c\n"))
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, idle_timeout=0.05) as response,
    ):
        seen = []
        async for line in response:
            seen.append(line)
            await asyncio.sleep(0.08)
    assert seen == ["a", "b", "c"]


# -- release ---------------------------------------------------------------------------------------


async def test_breaking_out_releases_on_exit() -> None:
    transport = ScriptedTransport(answer(*[b"data: x\n\n"] * 100))
    async with client_for(transport) as client:
        async with client.stream("GET", URL) as response:
            async for _ in response.sse():
                break
        assert response.is_closed
    stream = transport.streams[0]
    assert stream.closed
    assert stream.sent == 1


async def test_an_exception_in_the_loop_releases() -> None:
    transport = ScriptedTransport(answer(*[b"line\n"] * 100))

    async def fail_in_the_loop() -> None:
        async with client_for(transport) as client, client.stream("GET", URL) as response:
            async for _ in response:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_in_the_loop()
    assert transport.streams[0].closed


async def test_aclose_inside_the_loop_ends_it() -> None:
    transport = ScriptedTransport(answer(*[b"line\n"] * 100))
    async with client_for(transport) as client, client.stream("GET", URL) as response:
        seen = 0
        async for _ in response:
            seen += 1
            await response.aclose()
    assert seen == 1
    assert transport.streams[0].closed


async def test_the_context_can_be_entered_once() -> None:
    transport = ScriptedTransport(answer(b""))
    async with client_for(transport) as client:
        context = client.stream("GET", URL)
        async with context:
            pass
        with pytest.raises(HTTPUsageError):
            async with context:
                pass


# -- metrics ---------------------------------------------------------------------------------------


async def test_metrics_per_attempt_and_for_the_stream(clock: FakeClock) -> None:
    recorder = InMemoryMetricsRecorder()
    transport = ScriptedTransport(
        answer((0.25, b"data: a\n\n"), (1.0, b"data: b\n\n")), sleep=clock.sleep
    )
    async with (
        client_for(transport, metrics=recorder, clock=clock, sleep=clock.sleep) as client,
        client.stream("POST", URL) as response,
    ):
        assert [event.data async for event in response.sse()] == ["a", "b"]
    records = [record for record in recorder.records if record.name.startswith("http.stream")]
    assert records == [
        MetricRecord("histogram", "http.stream.ttfb", 0.25, {"method": "POST"}),
        MetricRecord("histogram", "http.stream.duration", 1.25, {"method": "POST"}),
    ]
    statuses = [record for record in recorder.records if record.name == "http.request.status"]
    assert statuses == [
        MetricRecord("counter", "http.request.status", 1.0, {"method": "POST", "status": "200"})
    ]


async def test_an_abandoned_stream_records_its_duration_once(clock: FakeClock) -> None:
    recorder = InMemoryMetricsRecorder()
    transport = ScriptedTransport(answer(*[(0.5, b"x\n")] * 10), sleep=clock.sleep)
    async with client_for(transport, metrics=recorder, clock=clock, sleep=clock.sleep) as client:
        async with client.stream("GET", URL) as response:
            async for _ in response:
                break
        await response.aclose()
    durations = [r.value for r in recorder.records if r.name == "http.stream.duration"]
    assert durations == [0.5]


# -- reconnection over the scripted transport ------------------------------------------------------


async def test_a_failed_reconnection_counts_and_waits_again(clock: FakeClock) -> None:
    transport = ScriptedTransport(
        answer(b"id: 1\ndata: a\n\n", end=disconnected()),
        HTTPConnectionError("refused", method="GET", url=URL),
        answer(b"data: b\n\n", end=disconnected()),
        answer(b"", status=204),
        sleep=clock.sleep,
    )
    reconnect = SSEReconnect(max_reconnects=2, jitter=0.0, default_retry=0.5)
    async with (
        client_for(transport, sleep=clock.sleep, clock=clock) as client,
        client.stream("GET", URL, reconnect=reconnect) as response,
    ):
        events = [event async for event in response.sse()]
        assert response.status == 204
    assert [(event.data, event.id) for event in events] == [("a", "1"), ("b", "1")]
    assert clock.sleeps == [0.5, 0.5, 0.5]
    assert [context.headers.get("Last-Event-ID") for context in transport.contexts] == [
        None,
        "1",
        "1",
        "1",
    ]
    assert response.reconnects == 2
    assert all(stream.closed for stream in transport.streams)


async def test_reconnection_gives_up_on_repeated_refusals(clock: FakeClock) -> None:
    refused = HTTPConnectionError("refused", method="GET", url=URL)
    transport = ScriptedTransport(answer(b"data: a\n\n"), refused, sleep=clock.sleep)
    reconnect = SSEReconnect(max_reconnects=3, jitter=0.0)
    async with (
        client_for(transport, sleep=clock.sleep, clock=clock) as client,
        client.stream("GET", URL, reconnect=reconnect) as response,
    ):
        with pytest.raises(HTTPConnectionError, match="refused"):
            async for _ in response.sse():
                pass
    assert len(transport.contexts) == 4
    assert clock.sleeps == [3.0, 3.0, 3.0]


async def test_reconnection_after_an_idle_timeout() -> None:
    transport = ScriptedTransport(
        answer(b"data: a\n\n", (1.0, b"data: never\n\n")),
        answer(b"data: b\n\n"),
        answer(b"", status=204),
    )
    reconnect = SSEReconnect(jitter=0.0, default_retry=0.0)
    async with (
        client_for(transport) as client,
        client.stream("GET", URL, reconnect=reconnect, idle_timeout=0.05) as r,
    ):
        assert [event.data async for event in r.sse()] == ["a", "b"]


# -- options and the other client ------------------------------------------------------------------


async def test_options_are_checked_at_the_call() -> None:
    client = client_for(ScriptedTransport(answer(b"")))
    with pytest.raises(ValueError, match="timeout"):
        client.stream("GET", URL, idle_timeout=0)
    with pytest.raises(ValueError, match="max_line_bytes"):
        client.stream("GET", URL, max_line_bytes=0)
    with pytest.raises(TypeError, match="max_event_bytes"):
        client.stream("GET", URL, max_event_bytes="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reconnect"):
        client.stream("GET", URL, reconnect=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword argument 'stream'"):
        client.stream("GET", URL, stream=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="max_reconnects"):
        SSEReconnect(max_reconnects=-1)
    await client.aclose()


async def test_base_url_client_streams_paths_with_its_default_headers() -> None:
    transport = ScriptedTransport(answer(b'data: {"token": "hi"}\n\n'))
    async with (
        BaseURLHTTPClient(
            "https://llm.example.com/v1",
            headers={"Authorization": "Bearer sk-1", "Accept": "application/json"},
            timeout=7.0,
            config=NO_RETRY,
            transport=transport,
        ) as client,
        client.stream(
            "POST", "/chat", json={"stream": True}, headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        tokens = [event.json()["token"] async for event in response.sse()]
    assert tokens == ["hi"]
    (context,) = transport.contexts
    assert context.url == URL
    assert context.headers["authorization"] == "Bearer sk-1"
    assert context.headers["accept"] == "text/event-stream"
    assert context.timeout == pytest.approx(7.0, abs=0.5)


async def test_a_base_url_client_refuses_another_origin() -> None:
    from lexigram.contracts.web import InvalidURLError

    async with BaseURLHTTPClient(
        "https://llm.example.com/v1", transport=ScriptedTransport(answer(b""))
    ) as client:
        with pytest.raises(InvalidURLError):
            client.stream("GET", "https://evil.example.com/x")

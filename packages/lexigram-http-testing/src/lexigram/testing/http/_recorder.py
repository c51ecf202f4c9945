"""``RecordingTransport``: any transport, with every exchange written into a :class:`Cassette`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Self

from lexigram.contracts.web import (
    Headers,
    HTTPClientError,
    HttpResponse,
    HTTPTransportProtocol,
    RequestBody,
    RequestContext,
    StreamingResponseProtocol,
    redact_url,
)
from lexigram.testing.http._cassette import (
    Cassette,
    Interaction,
    RecordedChunk,
    RecordedError,
    RecordedRequest,
    RecordedResponse,
    StreamEnd,
    is_closed_error,
)
from lexigram.testing.http._router import full_url
from lexigram.testing.http._scrub import Scrubber, content_type

__all__ = ["RecordingStreamingResponse", "RecordingTransport"]


def record_request(context: RequestContext, scrubber: Scrubber) -> RecordedRequest:
    """``context`` as it goes on the wire, redacted: secrets are learned first, then removed."""
    url = full_url(context)
    headers = list(context.headers.items())
    scrubber.learn_url(url)
    for name, value in headers:
        scrubber.learn_header(name, value)
    kind = content_type(context.headers)
    body = _body_bytes(context.body)
    scrubber.learn_body(body, kind)
    return RecordedRequest(
        context.method,
        scrubber.url(url),
        scrubber.headers(headers),
        None if body is None else scrubber.body(body, kind),
    )


def _body_bytes(body: bytes | RequestBody | None) -> bytes | None:
    """What the cassette keeps of a request body: a streamed body (a ``Multipart`` upload
    from disk) is not read twice, so it is kept as a one-line description of itself."""
    if body is None or isinstance(body, bytes):
        return body
    length = "unknown length" if body.length is None else f"{body.length} bytes"
    return f"<streamed body: {body.content_type or 'no content type'}, {length}>".encode()


def _record_headers(headers: Headers, scrubber: Scrubber) -> dict[str, str]:
    pairs = list(headers.items())
    for name, value in pairs:
        scrubber.learn_header(name, value)
    return scrubber.headers(pairs)


class RecordingTransport:
    """An ``HTTPTransportProtocol`` that sends through ``transport`` and records into ``cassette``.

    Every request (one per attempt: retries are separate interactions) is recorded with its
    response, read whole or chunk by chunk as the reader received it, or with the error the
    transport raised; secrets are removed (``cassette.redaction``) before anything is kept.
    The code under test gets exactly what ``transport`` returned. Cancelled requests and errors
    that are not the network's (bugs, a closed transport) are not recorded. ``clock`` times the
    exchange (``time.monotonic``). :meth:`aclose` closes ``transport``; write the cassette with
    ``cassette.save()``.
    """

    __slots__ = ("_cassette", "_clock", "_transport")

    def __init__(
        self,
        transport: HTTPTransportProtocol,
        cassette: Cassette,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(transport, HTTPTransportProtocol):
            raise TypeError(
                f"transport must implement HTTPTransportProtocol, not {type(transport).__name__}"
            )
        self._transport = transport
        self._cassette = cassette
        self._clock = clock

    @property
    def transport(self) -> HTTPTransportProtocol:
        """The transport requests are really sent through."""
        return self._transport

    @property
    def cassette(self) -> Cassette:
        """The cassette being recorded."""
        return self._cassette

    def _begin(self, context: RequestContext) -> Interaction:
        interaction = Interaction(record_request(context, self._cassette.scrubber))
        # Appended now, so concurrent requests keep the order they were sent in.
        self._cassette.interactions.append(interaction)
        return interaction

    def _failed(self, interaction: Interaction, error: BaseException, started: float) -> None:
        if isinstance(error, HTTPClientError) and not is_closed_error(error):
            interaction.error = RecordedError.of(
                error, self._clock() - started, self._cassette.scrubber
            )
        else:
            self._cassette.interactions.remove(interaction)

    def _head(self, status: int, url: str, headers: Headers) -> RecordedResponse:
        scrubber = self._cassette.scrubber
        return RecordedResponse(status, scrubber.url(url), _record_headers(headers, scrubber))

    async def send(self, context: RequestContext) -> HttpResponse:
        """Send through the wrapped transport and record the complete response."""
        interaction = self._begin(context)
        started = self._clock()
        try:
            response = await self._transport.send(context)
        except BaseException as exc:
            self._failed(interaction, exc, started)
            raise
        recorded = self._head(response.status, response.url or full_url(context), response.headers)
        scrubber = self._cassette.scrubber
        kind = content_type(recorded.headers)
        # A token handed out here (``{"access_token": ...}``) is scrubbed wherever it goes next.
        scrubber.learn_body(response.body, kind)
        recorded.body = scrubber.body(response.body, kind)
        recorded.elapsed = round(response.elapsed, 6)
        interaction.response = recorded
        return response

    async def send_stream(self, context: RequestContext) -> RecordingStreamingResponse:
        """Send through the wrapped transport; the body is recorded as it is read."""
        interaction = self._begin(context)
        started = self._clock()
        try:
            raw = await self._transport.send_stream(context)
        except BaseException as exc:
            self._failed(interaction, exc, started)
            raise
        recorded = self._head(raw.status, raw.url or full_url(context), raw.headers)
        recorded.headers_at = round(self._clock() - started, 6)
        recorded.chunks = []
        interaction.response = recorded
        return RecordingStreamingResponse(raw, recorded, started, self._clock, self._cassette)

    async def aclose(self) -> None:
        """Close the wrapped transport; the cassette stays as recorded."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<RecordingTransport {self._transport!r} -> {self._cassette!r}>"


class RecordingStreamingResponse:
    """A streaming response that records each chunk, with its time, as the reader gets it.

    How the stream ends is recorded too: the body's end, the transport's error (a disconnect,
    a read timeout), the reader giving up on a silent stream (its read cancelled: an idle
    timeout, recorded as a ``stall`` with how long it waited), or the reader closing it early.
    """

    __slots__ = ("_cassette", "_clock", "_last", "_raw", "_recorded", "_started")

    def __init__(
        self,
        raw: StreamingResponseProtocol,
        recorded: RecordedResponse,
        started: float,
        clock: Callable[[], float],
        cassette: Cassette,
    ) -> None:
        self._raw = raw
        self._recorded = recorded
        self._started = started
        self._clock = clock
        self._cassette = cassette
        self._last = started + recorded.headers_at

    @property
    def status(self) -> int:
        """The status code."""
        return self._raw.status

    @property
    def url(self) -> str:
        """The final URL (unredacted)."""
        return self._raw.url

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._raw.method

    @property
    def headers(self) -> Headers:
        """The response headers."""
        return self._raw.headers

    def set_read_timeout(self, timeout: float | None) -> None:
        """Pass the stream's silence bound to the wrapped response, if it has one."""
        setter = getattr(self._raw, "set_read_timeout", None)
        if setter is not None:
            setter(timeout)

    def _now(self) -> float:
        return round(self._clock() - self._started, 6)

    def _chunk(self, data: bytes) -> None:
        assert self._recorded.chunks is not None
        self._last = self._clock()
        self._recorded.chunks.append(RecordedChunk(self._now(), data))

    def _end(self, error: BaseException | None) -> None:
        if self._recorded.end is not None:
            return
        at = self._now()
        if error is None:
            self._recorded.end = StreamEnd("eof", at)
        elif isinstance(error, asyncio.CancelledError):
            waited = round(self._clock() - self._last, 6)
            self._recorded.end = StreamEnd("stall", at, waited=waited)
        elif isinstance(error, HTTPClientError) and not is_closed_error(error):
            recorded = RecordedError.of(error, at, self._cassette.scrubber)
            self._recorded.end = StreamEnd("error", at, recorded)
        else:
            self._recorded.end = StreamEnd("closed", at)

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the wrapped response's chunks, recording each."""
        return _RecordedChunks(self, self._raw.iter_bytes())

    async def aread(self, limit: int | None = None) -> bytes:
        """Read the rest of the body through the wrapped response; recorded as one chunk."""
        try:
            body = await self._raw.aread(limit)
        except BaseException as exc:
            self._end(exc)
            raise
        if body:
            self._chunk(body)
        self._end(None)
        return body

    async def aclose(self) -> None:
        """Close the wrapped response; a stream not read to its end is recorded as closed."""
        if self._recorded.end is None:
            self._recorded.end = StreamEnd("closed", self._now())
        await self._raw.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<RecordingStreamingResponse {self.status} {self.method} {redact_url(self.url)}>"


class _RecordedChunks:
    """The iterator of :meth:`RecordingStreamingResponse.iter_bytes` (a class, see
    ``_streaming._Chunks`` for why not an async generator)."""

    __slots__ = ("_chunks", "_response")

    def __init__(self, response: RecordingStreamingResponse, chunks: AsyncIterator[bytes]) -> None:
        self._response = response
        self._chunks = chunks

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._response._end(None)
            raise
        except BaseException as exc:
            self._response._end(exc)
            raise
        if chunk:
            self._response._chunk(chunk)
        return chunk

    async def aclose(self) -> None:
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            await closer()

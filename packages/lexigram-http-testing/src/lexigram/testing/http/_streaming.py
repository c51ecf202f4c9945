"""``MockStreamingResponse``: a scripted ``Stream`` answer, read chunk by chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self

from lexigram.contracts.web import (
    Headers,
    HTTPBodyTooLargeError,
    HTTPUsageError,
    redact_url,
)
from lexigram.testing.http._answers import Chunk

__all__ = ["MockStreamingResponse"]


class MockStreamingResponse:
    """A ``StreamingResponseProtocol`` that plays scripted chunks.

    Each chunk is yielded after its ``delay`` (awaited with the router's sleep); empty chunks
    only pause. After the last chunk the body ends, or the scripted ending is raised
    (``HTTPStreamDisconnectedError`` carrying what was sent, or another error). The body can
    be read once, by :meth:`iter_bytes` or :meth:`aread`; reaching its end, failing, or
    :meth:`aclose` closes the response. :attr:`is_closed` tells whether the code under test
    released it; :attr:`received` is what it was sent so far.
    """

    __slots__ = (
        "_chunks",
        "_closed",
        "_consumed",
        "_end",
        "_headers",
        "_index",
        "_method",
        "_sent",
        "_sleep",
        "_status",
        "_url",
    )

    def __init__(
        self,
        *,
        status: int,
        url: str,
        method: str,
        headers: Headers,
        chunks: Sequence[Chunk],
        end: Callable[[bytes], BaseException] | None,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._status = status
        self._url = url
        self._method = method
        self._headers = headers.as_readonly()
        self._chunks = tuple(chunks)
        self._end = end
        self._sleep = sleep
        self._index = 0
        self._sent: list[bytes] = []
        self._consumed = False
        self._closed = False

    @property
    def status(self) -> int:
        """The status code."""
        return self._status

    @property
    def url(self) -> str:
        """The URL of the request (unredacted)."""
        return self._url

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._method

    @property
    def headers(self) -> Headers:
        """The response headers (read-only)."""
        return self._headers

    @property
    def is_closed(self) -> bool:
        """Whether the body was read to its end, failed, or :meth:`aclose` was called."""
        return self._closed

    @property
    def received(self) -> bytes:
        """The bytes sent to the reader so far."""
        return b"".join(self._sent)

    def _take_body(self) -> None:
        if self._consumed or self._closed:
            raise HTTPUsageError(
                "the response body was already read or closed", method=self._method, url=self._url
            )
        self._consumed = True

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the scripted chunks as they "arrive"; may be called once."""
        self._take_body()
        return _Chunks(self)

    async def aread(self, limit: int | None = None) -> bytes:
        """Read the rest of the body; past ``limit`` bytes raise ``HTTPBodyTooLargeError``."""
        self._take_body()
        chunks: list[bytes] = []
        total = 0
        async for chunk in _Chunks(self):
            total += len(chunk)
            if limit is not None and total > limit:
                self._closed = True
                raise HTTPBodyTooLargeError(limit=limit, method=self._method, url=self._url)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _next(self) -> bytes:
        while not self._closed and self._index < len(self._chunks):
            chunk = self._chunks[self._index]
            self._index += 1
            if chunk.delay:
                await self._sleep(chunk.delay)
            if chunk.data and not self._closed:
                self._sent.append(chunk.data)
                return chunk.data
        if self._closed:
            raise StopAsyncIteration
        self._closed = True
        if self._end is not None:
            raise self._end(self.received)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Close the response; idempotent."""
        self._closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return (
            f"<MockStreamingResponse {self._status} {self._method} {redact_url(self._url)}{state}>"
        )


class _Chunks:
    """The iterator of :meth:`MockStreamingResponse.iter_bytes`.

    A class rather than an async generator: an abandoned generator is finalised by the event
    loop later, which can outlive the test; this needs no finalisation at all.
    """

    __slots__ = ("_response",)

    def __init__(self, response: MockStreamingResponse) -> None:
        self._response = response

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        return await self._response._next()

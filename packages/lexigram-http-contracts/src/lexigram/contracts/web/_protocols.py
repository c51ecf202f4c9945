"""The protocols application code and the implementations meet at.

Members with a default body are deliberately *not* abstract: mypy treats a protocol member
whose body is only ``...``, ``pass`` or ``raise NotImplementedError`` as abstract, and then
``class FakeHTTPClient(HTTPClientProtocol)`` defining only ``get`` could not be instantiated.
The verbs therefore delegate to ``request()``, and ``request()`` calls a helper that raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, NoReturn, Protocol, Self, Unpack, runtime_checkable

from lexigram.contracts.web._errors import HTTPClientError
from lexigram.contracts.web._headers import Headers
from lexigram.contracts.web._models import HttpResponse, RequestContext
from lexigram.contracts.web._options import RequestOptions, StreamOptions
from lexigram.contracts.web._sse import ServerSentEvent
from lexigram.result import Result

__all__ = [
    "HTTPClientProtocol",
    "HTTPTransportProtocol",
    "InterceptorChainProtocol",
    "InterceptorProtocol",
    "StreamResponseProtocol",
    "StreamingHTTPClientProtocol",
    "StreamingResponseProtocol",
]


def _not_implemented(obj: object, method: str) -> NoReturn:
    # A call (not a bare ``raise``) so that mypy does not consider the member abstract.
    raise NotImplementedError(
        f"{type(obj).__name__} does not implement {method}(); "
        f"implement {method}() or override the verbs you use"
    )


@runtime_checkable
class HTTPClientProtocol(Protocol):
    """An HTTP client whose verbs return ``Result[HttpResponse, HTTPClientError]``.

    A status below 400 is ``Ok``; 4xx/5xx are ``Err(HTTPStatusError)``; connection failures and
    timeouts are ``Err(HTTPConnectionError)`` / ``Err(HTTPTimeoutError)``. Infrastructure
    refusals (circuit open, retries exhausted, load shedding) and usage errors are raised.

    Subclass it to write a fake: define only the verbs you need; the others delegate to
    ``request()``, which raises ``NotImplementedError`` unless you define it. The keywords are
    :class:`RequestOptions`, so a misspelt one is a type error on the protocol too.
    """

    async def get(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a GET request."""
        return await self.request("GET", url, **kwargs)

    async def post(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a POST request."""
        return await self.request("POST", url, **kwargs)

    async def put(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PUT request."""
        return await self.request("PUT", url, **kwargs)

    async def delete(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a DELETE request."""
        return await self.request("DELETE", url, **kwargs)

    async def patch(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PATCH request."""
        return await self.request("PATCH", url, **kwargs)

    async def head(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a HEAD request."""
        return await self.request("HEAD", url, **kwargs)

    async def request(
        self, method: str, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a request with any method."""
        _not_implemented(self, "request")


@runtime_checkable
class InterceptorProtocol(Protocol):
    """Sees every attempt: edits the request before it is sent, the response after.

    Both hooks default to passing their argument through, so a subclass may override one.
    An exception raised here surfaces as ``HTTPInterceptorError`` naming the interceptor.
    """

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        """Return the (possibly edited) context of the attempt about to be sent."""
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        """Return the (possibly replaced) response of the attempt."""
        return response


@runtime_checkable
class InterceptorChainProtocol(InterceptorProtocol, Protocol):
    """An ordered list of interceptors that is itself an interceptor.

    ``intercept_request`` runs them in order, ``intercept_response`` in reverse, so the first
    interceptor is the outermost (it sees the request first and the response last).
    """

    @property
    def interceptors(self) -> Sequence[InterceptorProtocol]:
        """The interceptors, outermost first."""
        ...

    def add(self, interceptor: InterceptorProtocol) -> None:
        """Append ``interceptor`` (it becomes the innermost)."""
        ...


@runtime_checkable
class StreamingResponseProtocol(Protocol):
    """A response whose body has not been read yet.

    ``iter_bytes()`` yields raw body chunks as they arrive and may be consumed once.
    ``aread(limit)`` reads the rest, raising ``HTTPBodyTooLargeError`` past ``limit`` bytes.
    ``aclose()`` releases the connection and must be called (``async with`` does it).
    """

    # Read-only properties, so both plain attributes and properties satisfy the protocol.
    @property
    def status(self) -> int:
        """The status code."""
        ...

    @property
    def url(self) -> str:
        """The final URL (unredacted)."""
        ...

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        ...

    @property
    def headers(self) -> Headers:
        """The response headers."""
        ...

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in raw chunks."""
        ...

    async def aread(self, limit: int | None = None) -> bytes:
        """Read and return the rest of the body."""
        ...

    async def aclose(self) -> None:
        """Release the connection; idempotent."""
        ...


@runtime_checkable
class StreamResponseProtocol(Protocol):
    """A response read as it arrives, as ``stream()`` gives it (``lexigram.http.StreamResponse``).

    The body is read once, in one form: ``async for line in response`` (text lines),
    ``iter_bytes()``, ``sse()``, ``ndjson()`` or ``aread()``. A 4xx/5xx does not raise: call
    ``raise_for_status()``.
    """

    @property
    def status(self) -> int:
        """The status code."""
        ...

    @property
    def url(self) -> str:
        """The final URL."""
        ...

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        ...

    @property
    def headers(self) -> Headers:
        """The response headers."""
        ...

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        ...

    def raise_for_status(self) -> Self:
        """Raise ``HTTPStatusError`` for a 4xx/5xx status; return the response otherwise."""
        ...

    def __aiter__(self) -> AsyncIterator[str]:
        """The body as text lines."""
        ...

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body in raw chunks as they arrive."""
        ...

    def sse(self) -> AsyncIterator[ServerSentEvent]:
        """The body as Server-Sent Events."""
        ...

    def ndjson(self) -> AsyncIterator[Any]:
        """The body as one JSON value per line."""
        ...

    async def aread(self) -> bytes:
        """The rest of the body."""
        ...

    async def aclose(self) -> None:
        """Release the connection; idempotent (leaving ``async with`` does it)."""
        ...


@runtime_checkable
class StreamingHTTPClientProtocol(Protocol):
    """A client that streams responses; depend on it beside ``HTTPClientProtocol``.

    ``async with http.stream("POST", url, json=payload) as response:`` then iterate
    ``response`` (see :class:`StreamResponseProtocol`). Connection failures and timeouts
    raise on entry (a context manager has no ``Result`` to return). Implemented by
    ``HTTPClient``, ``BaseURLHTTPClient`` (``url`` is then a path) and the testing package's
    ``FakeHTTPClient``, whose streams are scripted on its router.
    """

    # Positional-only: BaseURLHTTPClient calls its second parameter ``path``.
    def stream(
        self, method: str, url: str, /, **kwargs: Unpack[StreamOptions]
    ) -> AbstractAsyncContextManager[StreamResponseProtocol]:
        """Send a request; the context's value is the response, its body not read yet."""
        ...


@runtime_checkable
class HTTPTransportProtocol(Protocol):
    """The seam between the client and the network (aiohttp in core, a mock in tests).

    Implementations send exactly the request described by ``context``, and map every backend
    failure to ``HTTPConnectionError`` / ``HTTPTimeoutError`` (and friends): no backend
    exception or type crosses this seam. Responses of any status are returned, not raised.
    """

    async def send(self, context: RequestContext) -> HttpResponse:
        """Send the request and read the full body."""
        ...

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        """Send the request and return once the headers are in; the body streams."""
        ...

    async def aclose(self) -> None:
        """Close the transport and its connections; idempotent."""
        ...

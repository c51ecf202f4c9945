"""``FakeHTTPClient``: ``HTTPClientProtocol`` answered by a router, for domain tests."""

from __future__ import annotations

import difflib
import json as _jsonlib
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, Unpack
from urllib.parse import urlencode, urlsplit

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBlockedAddressError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPRedirectError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    InvalidURLError,
    ParamsInput,
    RequestBody,
    RequestContext,
    RequestData,
    RequestOptions,
    StreamOptions,
    redact_url,
)
from lexigram.result import Err, Ok, Result
from lexigram.testing.http._matching import param_text
from lexigram.testing.http._router import CallList, Router

if TYPE_CHECKING:
    from lexigram.http import HTTPClient, StreamContext

__all__ = ["FakeHTTPClient"]

Params: TypeAlias = ParamsInput
Data: TypeAlias = RequestData
_KEYS: Final = RequestOptions.__optional_keys__

_JSON_ENCODER: Final = _jsonlib.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
)


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    result: list[tuple[str, str]] = []
    for name, value in items:
        if isinstance(value, list | tuple):
            result.extend((str(name), param_text(item)) for item in value)
        else:
            result.append((str(name), param_text(value)))
    return result


def _body(
    json: Any, data: Data | None, content: bytes | str | None, headers: Headers
) -> bytes | RequestBody | None:
    """The body as ``HTTPClient`` serialises it (same encoder, same default Content-Type)."""
    if sum(value is not None for value in (json, data, content)) > 1:
        raise TypeError("pass at most one of json=, data= and content=")
    if json is not None:
        headers.setdefault("Content-Type", "application/json")
        return _JSON_ENCODER.encode(json).encode()
    if isinstance(data, bytes | str):
        return data.encode() if isinstance(data, str) else data
    if isinstance(data, RequestBody):
        # Sent in chunks (``Multipart``): the router reads it into bytes before matching.
        if data.content_type is not None:
            headers.setdefault("Content-Type", data.content_type)
        if data.length is not None:
            headers["Content-Length"] = str(data.length)
        return data
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode(_pairs(data)).encode("ascii")
    if isinstance(content, str):
        return content.encode()
    return content


def _check_url(method: str, url: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        shown = redact_url(url) if isinstance(url, str) else type(url).__name__
        raise InvalidURLError(
            f"invalid URL {shown!r}: only absolute http:// and https:// URLs are sent",
            method=method,
            url=url if isinstance(url, str) else None,
        )


class FakeHTTPClient:
    """An ``HTTPClientProtocol`` whose answers come from a :class:`Router`.

    For domain tests: pass it where the code expects ``HTTPClientProtocol``. Requests are built
    as ``HTTPClient`` builds them (same keywords, same JSON and form encoding), matched by the
    router and mapped to a ``Result`` the same way: status < 400 is ``Ok``, 4xx/5xx
    ``Err(HTTPStatusError)``, connection failures and timeouts ``Err(HTTPConnectionError)`` /
    ``Err(HTTPTimeoutError)``; anything else the router raises (an unmatched request, a
    scripted ``HTTPCircuitOpenError``) propagates. There are no interceptors, retries, breaker
    or metrics: to test those, use the real client over :class:`MockTransport`.

    ``timeout`` is the default deadline of a call (``None``: none), bounding injected latency.

    :meth:`stream` implements ``StreamingHTTPClientProtocol``: script the body on the router
    (``router.post(url).stream("data: a\\n\\n", ...)``) and read it as from ``HTTPClient``
    (lines, ``sse()``, ``ndjson()``, ``iter_bytes()``), decoded by the same code.
    """

    __slots__ = ("_closed", "_router", "_streamer", "_timeout")

    def __init__(self, router: Router | None = None, *, timeout: float | None = None) -> None:
        self._router = router if router is not None else Router()
        self._timeout = timeout
        self._closed = False
        self._streamer: HTTPClient | None = None

    @property
    def router(self) -> Router:
        """The router answering the requests."""
        return self._router

    @property
    def calls(self) -> CallList:
        """Every request sent, oldest first (the router's history)."""
        return self._router.calls

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close the client; later calls raise ``ClientClosedError``. Idempotent."""
        self._closed = True
        if self._streamer is not None:
            await self._streamer.aclose()

    def stream(self, method: str, url: str, **kwargs: Unpack[StreamOptions]) -> StreamContext:
        """Stream the router's answer: ``async with fake.stream("GET", url) as response``.

        Keywords as ``HTTPClient.stream``; the request is recorded in :attr:`calls` like the
        others. Raises ``ClientClosedError`` once the client is closed.
        """
        method = method.upper()
        if self._closed:
            raise ClientClosedError(method=method, url=url)
        streamer = self._streamer
        if streamer is None:
            # The real client's streaming over the router, without retries: the same decoding
            # (lines, SSE, NDJSON) and the same errors as in production, and no duplicate.
            from lexigram.http import HTTPClient, HTTPClientConfig, PoolConfig, RetryConfig
            from lexigram.testing.http._transport import MockTransport

            pool = PoolConfig() if self._timeout is None else PoolConfig(timeout=self._timeout)
            config = HTTPClientConfig(pool=pool, retry=RetryConfig(enabled=False))
            streamer = self._streamer = HTTPClient(
                config, transport=MockTransport(self._router), sleep=self._router.sleep
            )
        return streamer.stream(method, url, **kwargs)

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
        return f"<FakeHTTPClient {self._router!r}>"

    # The keywords are RequestOptions (lexigram.contracts.web), as on HTTPClient.

    async def get(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a GET request."""
        return await self._call("GET", url, kwargs)

    async def post(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a POST request."""
        return await self._call("POST", url, kwargs)

    async def put(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PUT request."""
        return await self._call("PUT", url, kwargs)

    async def delete(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a DELETE request."""
        return await self._call("DELETE", url, kwargs)

    async def patch(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PATCH request."""
        return await self._call("PATCH", url, kwargs)

    async def head(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a HEAD request."""
        return await self._call("HEAD", url, kwargs)

    async def options(
        self, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send an OPTIONS request."""
        return await self._call("OPTIONS", url, kwargs)

    async def request(
        self, method: str, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a request with any method."""
        return await self._call(method, url, kwargs)

    async def _call(
        self, method: str, url: str, options: RequestOptions
    ) -> Result[HttpResponse, HTTPClientError]:
        unknown = options.keys() - _KEYS
        if unknown:
            name = sorted(unknown)[0]
            close = difflib.get_close_matches(name, list(_KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"unexpected keyword argument {name!r} for a {method} request{hint}")
        headers = options.get("headers")
        params = options.get("params")
        json = options.get("json")
        data = options.get("data")
        content = options.get("content")
        timeout = options.get("timeout")
        allow_redirects = options.get("allow_redirects", True)
        idempotency_key = options.get("idempotency_key")
        extensions = options.get("extensions")
        method = method.upper()
        if self._closed:
            raise ClientClosedError(method=method, url=url)
        _check_url(method, url)
        request_headers = Headers(headers)
        body = _body(json, data, content, request_headers)
        if idempotency_key is not None:
            request_headers["Idempotency-Key"] = idempotency_key
        context = RequestContext(
            method=method,
            url=url,
            headers=request_headers,
            params=[] if params is None else _pairs(params),
            body=body,
            timeout=self._timeout if timeout is None else timeout,
            attempt=1,
            extensions={} if extensions is None else dict(extensions),
            allow_redirects=allow_redirects,
            idempotency_key=idempotency_key,
        )
        try:
            response = await self._router.handle(context)
        except (
            HTTPConnectionError,
            HTTPTimeoutError,
            HTTPRedirectError,
            HTTPBlockedAddressError,
        ) as exc:
            return Err(exc)
        if response.status >= 400:
            return Err(HTTPStatusError(response=response))
        return Ok(response)

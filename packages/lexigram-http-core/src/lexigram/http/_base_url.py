"""``BaseURLHTTPClient``: an SDK-style client bound to one upstream."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from types import TracebackType
from typing import Final, Self, Unpack
from urllib.parse import urlsplit

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    Headers,
    HeadersInput,
    HttpResponse,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    InvalidURLError,
    RequestOptions,
    StreamOptions,
    redact_url,
)
from lexigram.http._client import ClientState, HTTPClient, _positive_timeout
from lexigram.http._config import HTTPClientConfig
from lexigram.http._request import _check_url, _headers
from lexigram.http._stream import StreamContext

__all__ = ["BaseURLHTTPClient"]

# Only these count as absolute; "v1:batchGet" or "/search?next=https://x" are paths.
_ABSOLUTE: Final = re.compile(r"(?:https?:|//)", re.IGNORECASE)


class BaseURLHTTPClient:
    """A client for one upstream: paths joined to ``base_url``, default headers, a timeout.

    Verbs take a path and return the :class:`HttpResponse` itself, whatever its status (call
    ``raise_for_status()``); connection failures and timeouts raise ``HTTPConnectionError`` /
    ``HTTPTimeoutError``, a redirect that cannot be followed ``HTTPRedirectError``. A redirect
    to another origin never carries the default headers' credentials. Paths are appended to
    the base path (``https://h/v1`` + ``/invoices`` -> ``https://h/v1/invoices``, with or
    without the leading slash, query strings kept). An absolute URL is accepted only for the
    base URL's origin: the default headers usually carry credentials, so another origin
    raises :class:`InvalidURLError`.

    ``headers`` are sent on every request; per-call headers override them by name.
    ``timeout`` is the default deadline of a call (else ``config.pool.timeout``). The other
    options are those of :class:`HTTPClient`, which does the work (see :attr:`client`).

    :meth:`stream` reads a response as it arrives (lines, SSE events, NDJSON, bytes).
    """

    __slots__ = (
        "_base_query",
        "_base_url",
        "_client",
        "_headers",
        "_origin",
        "_prefix",
        "_root",
        "_timeout",
    )

    def __init__(
        self,
        base_url: str,
        *,
        headers: HeadersInput | None = None,
        timeout: float | None = None,
        config: HTTPClientConfig | None = None,
        interceptors: Sequence[InterceptorProtocol] | InterceptorChainProtocol | None = None,
        pipeline: ResiliencePipelineProtocol | None = None,
        retry_policy: RetryPolicyProtocol | None = None,
        circuit_breaker: CircuitBreakerProtocol | None = None,
        metrics: MetricsRecorderProtocol | None = None,
        transport: HTTPTransportProtocol | None = None,
        observer: HTTPObserverProtocol | None = None,
    ) -> None:
        self._origin = _check_url("GET", base_url)
        parts = urlsplit(base_url)
        self._base_url = base_url
        self._prefix = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._root = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
        self._base_query = parts.query
        self._headers = Headers(headers, readonly=True)
        self._timeout = None if timeout is None else _positive_timeout(timeout)
        self._client = HTTPClient(
            config,
            transport=transport,
            interceptors=interceptors,
            pipeline=pipeline,
            retry_policy=retry_policy,
            circuit_breaker=circuit_breaker,
            metrics=metrics,
            observer=observer,
        )
        self._client._name = "BaseURLHTTPClient"

    @property
    def base_url(self) -> str:
        """The base URL, as given."""
        return self._base_url

    @property
    def headers(self) -> Headers:
        """The default headers (read-only)."""
        return self._headers

    @property
    def timeout(self) -> float:
        """The default deadline of a call, in seconds."""
        return self._client.config.pool.timeout if self._timeout is None else self._timeout

    @property
    def config(self) -> HTTPClientConfig:
        """The effective configuration."""
        return self._client.config

    @property
    def state(self) -> ClientState:
        """The lifecycle state (that of the underlying client)."""
        return self._client.state

    @property
    def client(self) -> HTTPClient:
        """The underlying :class:`HTTPClient` (absolute URLs, ``Result`` verbs, no defaults)."""
        return self._client

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def aclose(self) -> None:
        """Close the client and its transport; idempotent."""
        await self._client.aclose()

    def __repr__(self) -> str:
        # Header names only: their values are typically credentials.
        return (
            f"BaseURLHTTPClient(base_url={redact_url(self._base_url)!r}, "
            f"headers={list(self._headers)!r}, timeout={self.timeout!r}, "
            f"state={self._client.state.value!r})"
        )

    def url_for(self, path: str) -> str:
        """The absolute URL a call with ``path`` goes to; refuses other origins."""
        if not isinstance(path, str):
            raise TypeError(f"path must be a str, not {type(path).__name__}")
        if _ABSOLUTE.match(path) is not None:
            url = f"{self._prefix.partition(':')[0]}:{path}" if path.startswith("//") else path
            if _check_url("GET", url) != self._origin:
                raise InvalidURLError(
                    f"{redact_url(url)!r} is not on the origin of the base URL "
                    f"({self._origin}); use a separate client for other hosts",
                    url=url,
                )
            return url
        rest, hash_, fragment = path.partition("#")
        rest, question, query = rest.partition("?")
        rest = rest.lstrip("/")
        url = f"{self._prefix}/{rest}" if rest else self._root
        if self._base_query:
            query = f"{self._base_query}&{query}" if query else self._base_query
            question = "?"
        return f"{url}{question}{query}{hash_}{fragment}"

    # -- verbs ------------------------------------------------------------------------------
    # The keywords are RequestOptions (lexigram.contracts.web), as on HTTPClient.

    async def get(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a GET request to ``path``."""
        return await self._call("GET", path, kwargs)

    async def post(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a POST request to ``path`` (retried only with an ``idempotency_key``)."""
        return await self._call("POST", path, kwargs)

    async def put(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a PUT request to ``path``."""
        return await self._call("PUT", path, kwargs)

    async def delete(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a DELETE request to ``path``."""
        return await self._call("DELETE", path, kwargs)

    async def patch(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a PATCH request to ``path`` (retried only with an ``idempotency_key``)."""
        return await self._call("PATCH", path, kwargs)

    async def head(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send a HEAD request to ``path``."""
        return await self._call("HEAD", path, kwargs)

    async def options(self, path: str, **kwargs: Unpack[RequestOptions]) -> HttpResponse:
        """Send an OPTIONS request to ``path``."""
        return await self._call("OPTIONS", path, kwargs)

    async def request(
        self, method: str, path: str, **kwargs: Unpack[RequestOptions]
    ) -> HttpResponse:
        """Send a request with any method to ``path``; keywords as in ``HTTPClient.request``."""
        return await self._call(method, path, kwargs)

    def _call(self, method: str, path: str, options: RequestOptions) -> Awaitable[HttpResponse]:
        # Not a coroutine function: the verbs await the client's call directly, one
        # coroutine frame fewer per request.
        self._defaults(options)
        return self._client._perform(method, self.url_for(path), options)

    def stream(self, method: str, path: str, **kwargs: Unpack[StreamOptions]) -> StreamContext:
        """Stream the response of a request to ``path``: ``async with client.stream(...) as r``.

        The value is a :class:`StreamResponse`: ``status``, ``headers``, ``raise_for_status()``,
        and async-iterable over decoded lines; it also offers ``iter_bytes()``, ``sse()`` and
        ``ndjson()``. Keywords as in :meth:`HTTPClient.stream`; connection failures and
        timeouts raise on entry, a 4xx/5xx does not (call ``raise_for_status()``).
        """
        url = self.url_for(path)
        self._defaults(kwargs)
        return self._client._stream_context(method, url, kwargs)

    def _defaults(self, options: RequestOptions) -> None:
        """Add the default headers and timeout to ``options``, a call's own keywords dict."""
        if self._headers or "headers" in options:
            options["headers"] = self._merge(options.get("headers"))
        if self._timeout is not None and options.get("timeout") is None:
            options["timeout"] = self._timeout

    def _merge(self, headers: HeadersInput | None) -> Headers:
        if headers is None:
            return self._headers
        merged = _headers(self._headers)
        # By lower-case name, as Headers.__setitem__: a per-call header replaces a default.
        merged._store.update(_headers(headers)._store)
        return merged

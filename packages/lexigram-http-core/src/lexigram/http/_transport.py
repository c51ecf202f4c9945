"""``AiohttpTransport``: the network side of the transport seam, on aiohttp.

This module is the one place where aiohttp, asyncio, ``OSError`` and ``ssl`` exceptions become
lexigram errors (each ``raise Ours(...) from exc``); no aiohttp type leaves it.

Timeouts, per attempt unless said otherwise:

- ``connect_timeout``: getting a connection. aiohttp's ``connect`` budget (pool wait + connect)
  and ``sock_connect`` (TCP + TLS). Runs out as ``POOL`` when the attempt was still queued
  for a free slot (see ``_connector``), else ``CONNECT``.
- ``read_timeout``: aiohttp's ``sock_read``, the longest silence on the socket, for headers and
  body alike (``READ``), in full reads and streams.
- ``RequestContext.timeout``: what is left of the call's deadline; bounds the wait for the
  response headers only (``DEADLINE``), never the body, so long streams are not cut.

``trust_env`` is implemented here rather than by aiohttp's own ``trust_env``: aiohttp re-reads
the proxy variables and ``~/.netrc`` in a worker thread on every request (two thread hops,
about 5x the CPU of a plain request). The variables and ``.netrc`` are read once, when the
session opens; later changes to the environment are not seen by an open transport.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import ssl
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urlsplit
from urllib.request import getproxies

import aiohttp
from aiohttp.helpers import basicauth_from_netrc, netrc_from_env, proxies_from_env
from yarl import URL

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBodyTooLargeError,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidURLError,
    RequestContext,
    TimeoutPhase,
    redact_url,
)
from lexigram.http._config import HTTPClientConfig, TLSConfig
from lexigram.http._connector import make_connector, waiting_for_pool_slot
from lexigram.http._deadline import Deadline, DeadlineTimer

if TYPE_CHECKING:
    from netrc import netrc

    from aiohttp.abc import AbstractResolver
    from multidict import CIMultiDictProxy

__all__ = ["AiohttpStreamingResponse", "AiohttpTransport"]

_HTTP_PREFIXES: Final = ("http://", "https://")
# Statuses and methods whose responses carry no body whatever Content-Length says.
_NO_BODY_STATUSES: Final = frozenset({204, 304})
# How much of a broken stream HTTPStreamDisconnectedError keeps (its tail).
_KEEP_ON_DISCONNECT: Final = 64 * 1024
_ENV_PROXY_CACHE_SIZE: Final = 256
_URL_TEXT_CACHE_SIZE: Final = 256
# Present on every platform but missing from typeshed.
_proxy_bypass_environment: Callable[[str, dict[str, str]], bool] = (
    urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def _ssl_setting(tls: TLSConfig) -> ssl.SSLContext | bool:
    """What the connector's ``ssl=`` gets: built once per transport.

    ``True`` reuses aiohttp's verified default context (created at import, system CAs).
    """
    if not tls.verify:
        return False
    if tls.ca_bundle is None:
        return True
    context = ssl.create_default_context(cafile=str(tls.ca_bundle))
    context.set_alpn_protocols(("http/1.1",))
    return context


class _EnvProxies:
    """``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY`` as they were when the session opened."""

    __slots__ = ("_by_scheme", "_cache", "_environ")

    def __init__(self, by_scheme: dict[str, tuple[URL, dict[str, str] | None]]) -> None:
        self._by_scheme = by_scheme
        self._environ = getproxies()
        self._cache: dict[tuple[str, str], tuple[URL, dict[str, str] | None] | None] = {}

    @classmethod
    def load(cls) -> _EnvProxies | None:
        """Read the environment (and ``.netrc`` for proxy credentials); None if no proxy."""
        by_scheme: dict[str, tuple[URL, dict[str, str] | None]] = {}
        for scheme, info in proxies_from_env().items():
            if scheme in ("http", "https"):
                auth = info.proxy_auth
                headers = None if auth is None else {"Proxy-Authorization": auth.encode()}
                by_scheme[scheme] = (info.proxy, headers)
        return cls(by_scheme) if by_scheme else None

    def lookup(self, url: str) -> tuple[URL, dict[str, str] | None] | None:
        """The proxy (and its headers) for ``url``, or None to go direct."""
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.hostname or "")
        try:
            return self._cache[key]
        except KeyError:
            pass
        proxy = self._by_scheme.get(key[0])
        if proxy is not None and key[1] and _proxy_bypass_environment(key[1], self._environ):
            proxy = None
        if len(self._cache) >= _ENV_PROXY_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = proxy
        return proxy


def _basic_auth(login: str, password: str) -> str:
    # aiohttp.BasicAuth is deprecated in 3.14 and encode_basic_auth() is not in 3.10.
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def _strip_proxy_auth(proxy: str) -> tuple[URL, dict[str, str] | None]:
    """Move user-info of a configured proxy URL into a ``Proxy-Authorization`` header."""
    url = URL(proxy)
    if url.user is None:
        return url, None
    return url.with_user(None), {"Proxy-Authorization": _basic_auth(url.user, url.password or "")}


def _response_headers(raw: CIMultiDictProxy[str]) -> Headers:
    # aiohttp's parser already refused malformed header lines, so this skips Headers' per-pair
    # validation (a few regex runs per header: the largest cost of building a response).
    # Names come as multidict ``istr``; str() keeps that type from escaping to callers.
    store = {name.lower(): (str(name), value) for name, value in raw.items()}
    if len(store) != len(raw):
        # Repeated names: join them with ", " under the first spelling, as Headers.add does.
        store = {}
        for name, value in raw.items():
            lower = name.lower()
            seen = store.get(lower)
            store[lower] = (str(name), value) if seen is None else (seen[0], f"{seen[1]}, {value}")
    headers = Headers.__new__(Headers)
    headers._store = store
    headers._readonly = True
    return headers


def _describe(exc: BaseException) -> str:
    """A short, secret-free reason: aiohttp's messages can embed the full URL."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate verification failed"
    if isinstance(exc, (aiohttp.ClientSSLError, ssl.SSLError)):
        return "TLS handshake failed"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "response body broken off"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"proxy answered {exc.status}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "malformed response"
    os_error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror.lower()
    return type(exc).__name__


def _for(method: str, url: str) -> str:
    return f" for {method} {redact_url(url)}"


def _deadline_error(method: str, url: str, timeout: float | None) -> HTTPTimeoutError:
    return HTTPTimeoutError(
        f"deadline exceeded waiting for the response headers{_for(method, url)}",
        phase=TimeoutPhase.DEADLINE,
        timeout=timeout,
        method=method,
        url=url,
    )


def _map_error(
    exc: Exception, method: str, url: str, config: HTTPClientConfig
) -> HTTPClientError | None:
    """Translate a backend exception raised while sending ``method url`` into ours.

    None for exceptions that are not the network's (bugs): those propagate unchanged.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        if waiting_for_pool_slot():
            return HTTPTimeoutError(
                phase=TimeoutPhase.POOL, timeout=config.connect_timeout, method=method, url=url
            )
        return HTTPTimeoutError(
            phase=TimeoutPhase.CONNECT, timeout=config.connect_timeout, method=method, url=url
        )
    if isinstance(exc, asyncio.TimeoutError):  # SocketTimeoutError and any other read wait
        return HTTPTimeoutError(
            phase=TimeoutPhase.READ, timeout=config.read_timeout, method=method, url=url
        )
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        what = (
            "server redirected to an invalid URL"
            if isinstance(exc, aiohttp.RedirectClientError)
            else "invalid URL"
        )
        return InvalidURLError(f"{what}{_for(method, url)}", method=method, url=url)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return HTTPClientError(f"too many redirects{_for(method, url)}", method=method, url=url)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return HTTPConnectionError(
            f"connection failed ({_describe(exc)}){_for(method, url)}", method=method, url=url
        )
    if isinstance(exc, ValueError):  # yarl and aiohttp refusing what they were given
        return HTTPUsageError(f"invalid request{_for(method, url)}", method=method, url=url)
    return None


def _check_url(method: str, url: str) -> None:
    """Refuse non-HTTP URLs (aiohttp also accepts ws:// and wss://)."""
    if not url[:8].lower().startswith(_HTTP_PREFIXES):
        raise InvalidURLError(
            f"invalid URL{_for(method, url)}: only absolute http:// and https:// URLs are sent",
            method=method,
            url=url,
        )


def _body_too_large(limit: int, method: str, url: str) -> HTTPBodyTooLargeError:
    return HTTPBodyTooLargeError(limit=limit, method=method, url=url)


async def _read_capped(resp: aiohttp.ClientResponse, limit: int, method: str, url: str) -> bytes:
    """Read the whole body, counting; release the connection either way."""
    content = resp.content
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := await content.readany():
            total += len(chunk)
            if total > limit:
                raise _body_too_large(limit, method, url)
            chunks.append(chunk)
    except BaseException:
        resp.close()
        raise
    resp.release()
    return b"".join(chunks)


class AiohttpTransport:
    """The aiohttp implementation of ``HTTPTransportProtocol``.

    ``AiohttpTransport(config)`` honours every key of :class:`HTTPClientConfig` that concerns
    the network (pool limits, keep-alive cap, DNS cache, proxy, ``trust_env``, cookies,
    timeouts, body cap, TLS, ``User-Agent``). The aiohttp session is created on the first send,
    inside the running loop; :meth:`aclose` closes it and is idempotent, after which sending
    raises :class:`ClientClosedError`. ``resolver`` replaces DNS resolution (tests).
    """

    __slots__ = (
        "_config",
        "_deadlines",
        "_env_proxies",
        "_max_bytes",
        "_netrc",
        "_proxy",
        "_proxy_headers",
        "_resolver",
        "_session",
        "_ssl",
        "_state",
        "_timeout",
        "_url_text",
    )

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._config = config = config if config is not None else HTTPClientConfig()
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._state = _State.UNOPENED
        self._ssl = _ssl_setting(config.tls)
        # One timeout object for every request: aiohttp reads it, we never rebuild it.
        self._timeout = aiohttp.ClientTimeout(
            connect=config.connect_timeout,
            sock_connect=config.connect_timeout,
            sock_read=config.read_timeout,
        )
        self._max_bytes = config.max_response_bytes
        self._proxy: URL | None = None
        self._proxy_headers: dict[str, str] | None = None
        if config.proxy is not None:
            self._proxy, self._proxy_headers = _strip_proxy_auth(config.proxy)
        self._env_proxies: _EnvProxies | None = None
        self._netrc: netrc | None = None
        self._deadlines: DeadlineTimer
        # str() of the final URL objects seen (yarl builds the text anew on every str()).
        self._url_text: dict[URL, str] = {}

    @property
    def config(self) -> HTTPClientConfig:
        """The configuration this transport was built with."""
        return self._config

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._state is _State.CLOSED

    def _open(self, method: str, url: str) -> aiohttp.ClientSession:
        if self._state is _State.CLOSED:
            raise ClientClosedError(method=method, url=url)
        config = self._config
        pool = config.pool
        ttl = pool.ttl_dns_cache
        connector = make_connector(
            max_keepalive=pool.max_keepalive_connections,
            limit=pool.max_connections,
            limit_per_host=pool.max_connections_per_host,
            use_dns_cache=ttl != 0,
            ttl_dns_cache=ttl or None,
            force_close=pool.force_close,
            resolver=self._resolver,
            ssl=self._ssl,
        )
        self._deadlines = DeadlineTimer(asyncio.get_running_loop())
        if config.trust_env:
            # Blocking reads, once per transport (see the module docstring).
            if config.proxy is None:
                self._env_proxies = _EnvProxies.load()
            self._netrc = netrc_from_env()
        self._session = session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            trust_env=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True)
            if config.cookie_jar
            else aiohttp.DummyCookieJar(),
            headers=None if config.user_agent is None else {"User-Agent": config.user_agent},
        )
        self._state = _State.OPENED
        return session

    def _prepare(
        self, context: RequestContext
    ) -> tuple[Coroutine[Any, Any, aiohttp.ClientResponse], Deadline | None]:
        """The request's aiohttp coroutine (not started) and the call's deadline, armed.

        Await the coroutine at once, and stop the deadline when it ends, however it ends.
        """
        method = context.method
        url = context.url
        session = self._session
        if session is None:
            session = self._open(method, url)
        if not url.startswith(_HTTP_PREFIXES):
            _check_url(method, url)
        # The (name, value) pairs straight from the store: aiohttp builds its CIMultiDict from
        # a list in C, while a Mapping goes through the Python-level ItemsView.
        store = context.headers._store
        headers = list(store.values()) if store else None
        proxy = self._proxy
        proxy_headers = self._proxy_headers
        if proxy is None and self._env_proxies is not None:
            found = self._env_proxies.lookup(url)
            if found is not None:
                proxy, proxy_headers = found
        if proxy_headers is not None and url[:6].lower() != "https:":
            # aiohttp sends proxy_headers only on a CONNECT (https targets); a plain http
            # request goes to the proxy as it is, so it carries the credentials itself.
            headers = [*(headers or ()), *proxy_headers.items()]
        if self._netrc is not None:
            headers = self._netrc_auth(url, headers)
        timeout = context.timeout
        deadline: Deadline | None = None
        if timeout is not None:
            if timeout <= 0:
                raise HTTPTimeoutError(
                    phase=TimeoutPhase.DEADLINE, timeout=timeout, method=method, url=url
                )
            deadline = self._deadlines.start(timeout)
        # _request(), not request(): the public method only wraps the coroutine in a
        # context manager built through a typing alias (microseconds per call) that a
        # plain await does not need. Same arguments, same behaviour (aiohttp 3.10-3.14).
        request = session._request(
            method,
            url,
            params=context.params or None,
            headers=headers,
            data=context.body,
            allow_redirects=context.allow_redirects,
            proxy=proxy,
            proxy_headers=proxy_headers,
        )
        return request, deadline

    def _request_failed(
        self, exc: BaseException, deadline: Deadline | None, context: RequestContext
    ) -> HTTPClientError | None:
        """What to raise instead of ``exc``, raised while waiting for the response headers;
        None to let ``exc`` through (an outer cancellation, a bug)."""
        method = context.method
        url = context.url
        if isinstance(exc, asyncio.CancelledError):
            if deadline is not None and deadline.stop():
                return _deadline_error(method, url, context.timeout)
            return None
        expired = deadline is not None and deadline.stop()
        if not isinstance(exc, Exception):
            return None
        if self._state is _State.CLOSED:
            return ClientClosedError(method=method, url=url)
        if expired:
            return _deadline_error(method, url, context.timeout)
        return _map_error(exc, method, url, self._config)

    async def _start(self, context: RequestContext) -> aiohttp.ClientResponse:
        """Send the request; return once the response headers are in."""
        request, deadline = self._prepare(context)
        try:
            resp = await request
        except BaseException as exc:
            mapped = self._request_failed(exc, deadline, context)
            if mapped is None:
                raise
            raise mapped from exc
        if deadline is not None:
            deadline.stop()
        return resp

    def _netrc_auth(
        self, url: str, headers: list[tuple[str, str]] | None
    ) -> list[tuple[str, str]] | None:
        """``.netrc`` credentials for the host, unless the request brings its own."""
        if headers is not None and any(name.lower() == "authorization" for name, _ in headers):
            return headers
        parts = urlsplit(url)
        if parts.username is not None or not parts.hostname:
            return headers
        try:
            auth = basicauth_from_netrc(self._netrc, parts.hostname)
        except LookupError:
            return headers
        return [*(headers or ()), ("Authorization", auth.encode())]

    async def send(self, context: RequestContext) -> HttpResponse:
        """Send the request, read the body (up to ``max_response_bytes``), return it all."""
        started = perf_counter()
        # _start(), inlined: one coroutine frame fewer on the path every request takes.
        request, deadline = self._prepare(context)
        try:
            resp = await request
        except BaseException as exc:
            mapped = self._request_failed(exc, deadline, context)
            if mapped is None:
                raise
            raise mapped from exc
        if deadline is not None:
            deadline.stop()
        method = context.method
        limit = self._max_bytes
        try:
            raw_headers = resp.headers
            length = raw_headers.get("Content-Length")
            if length is None or "Content-Encoding" in raw_headers:
                # Unknown or compressed size: count the decoded bytes as they come.
                body = await _read_capped(resp, limit, method, context.url)
            elif int(length) <= limit or method == "HEAD" or resp.status in _NO_BODY_STATUSES:
                body = await resp.read()
            else:
                resp.close()
                raise _body_too_large(limit, method, context.url)
        except HTTPClientError:
            raise
        except Exception as exc:
            if self._state is _State.CLOSED:
                raise ClientClosedError(method=method, url=context.url) from exc
            mapped = _map_error(exc, method, context.url, self._config)
            if mapped is None:
                raise
            raise mapped from exc
        final = resp.url
        url = self._url_text.get(final)
        if url is None:
            if len(self._url_text) >= _URL_TEXT_CACHE_SIZE:
                self._url_text.clear()
            url = self._url_text[final] = str(final)
        return HttpResponse._from_transport(
            resp.status,
            url,
            method.upper(),
            partial(_response_headers, raw_headers),
            body,
            perf_counter() - started,
        )

    async def send_stream(self, context: RequestContext) -> AiohttpStreamingResponse:
        """Send the request; return once the headers are in, with the body unread."""
        resp = await self._start(context)
        return AiohttpStreamingResponse(resp, context.method, self._config)

    async def aclose(self) -> None:
        """Close the session and its connections; idempotent."""
        self._state = _State.CLOSED
        session, self._session = self._session, None
        if session is not None:
            await session.close()

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
        return f"<AiohttpTransport {self._state.value}>"

    def _abandon(self) -> bool:
        """Drop the connections of a client that was never closed; whether it had any open.

        Synchronous, for the client's finaliser (which warns): closes the connector's sockets
        as ``aclose`` would, so aiohttp adds no "Unclosed client session" / "Unclosed
        connector" warnings of its own.
        """
        self._state = _State.CLOSED
        session, self._session = self._session, None
        connector = None if session is None else session.connector
        if connector is None or connector.closed:
            return False
        connector._close()
        return True


class AiohttpStreamingResponse:
    """A response whose body is read on demand (``StreamingResponseProtocol``).

    Silence on the socket longer than ``read_timeout`` raises ``HTTPTimeoutError(READ)``;
    a connection lost mid-body raises ``HTTPStreamDisconnectedError`` with the tail of what
    arrived. :meth:`aclose` (or ``async with``) releases the connection: back to the pool when
    the body was read to its end, closed otherwise. Breaking out of :meth:`iter_bytes` closes
    it too, as soon as the iterator is finalised.
    """

    __slots__ = ("_closed", "_config", "_consumed", "_headers", "_method", "_resp", "_url")

    def __init__(self, resp: aiohttp.ClientResponse, method: str, config: HTTPClientConfig) -> None:
        self._resp = resp
        self._method = method
        self._url = str(resp.url)
        self._headers = _response_headers(resp.headers)
        self._config = config
        self._consumed = False
        self._closed = False

    @property
    def status(self) -> int:
        """The status code."""
        return self._resp.status

    @property
    def url(self) -> str:
        """The final URL (unredacted)."""
        return self._url

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._method

    @property
    def headers(self) -> Headers:
        """The response headers: case-insensitive and read-only."""
        return self._headers

    @property
    def is_closed(self) -> bool:
        """Whether the connection was released."""
        return self._closed

    def set_read_timeout(self, timeout: float | None) -> None:
        """Replace ``read_timeout`` as the longest silence for the rest of the body.

        ``None`` removes the bound: ``HTTPClient.stream()`` does so and enforces its own idle
        timeout instead (which may be longer, and is set per call).
        """
        connection = self._resp.connection
        protocol = None if connection is None else connection.protocol
        if protocol is not None:
            protocol.read_timeout = timeout
            # Re-arms (or drops) the timer aiohttp set when the last bytes arrived.
            protocol.start_timeout()

    def _take_body(self) -> None:
        if self._consumed or self._closed:
            raise HTTPUsageError(
                "the response body was already read or closed", method=self._method, url=self._url
            )
        self._consumed = True

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in raw chunks as they arrive; may be called once."""
        self._take_body()
        return self._iter_bytes()

    async def _iter_bytes(self) -> AsyncIterator[bytes]:
        content = self._resp.content
        tail: deque[bytes] = deque()
        kept = received = 0
        try:
            while True:
                try:
                    chunk = await content.readany()
                except Exception as exc:
                    raise self._read_error(exc, b"".join(tail), received) from exc
                if not chunk:
                    break
                received += len(chunk)
                tail.append(chunk)
                kept += len(chunk)
                while kept - len(tail[0]) >= _KEEP_ON_DISCONNECT:
                    kept -= len(tail.popleft())
                yield chunk
        finally:
            self._release()

    async def aread(self, limit: int | None = None) -> bytes:
        """Read the rest of the body; past ``limit`` (default ``max_response_bytes``) bytes,
        raise ``HTTPBodyTooLargeError`` and close the connection."""
        self._take_body()
        if limit is None:
            limit = self._config.max_response_bytes
        content = self._resp.content
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                try:
                    chunk = await content.readany()
                except Exception as exc:
                    raise self._read_error(exc, b"".join(chunks), total) from exc
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise _body_too_large(limit, self._method, self._url)
                chunks.append(chunk)
        finally:
            self._release()
        return b"".join(chunks)

    def _read_error(self, exc: Exception, received: bytes, count: int) -> HTTPClientError:
        if isinstance(exc, asyncio.TimeoutError):
            return HTTPTimeoutError(
                phase=TimeoutPhase.READ,
                timeout=self._config.read_timeout,
                method=self._method,
                url=self._url,
            )
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            return HTTPStreamDisconnectedError(
                f"stream disconnected after {count} bytes ({_describe(exc)})"
                f"{_for(self._method, self._url)}",
                received=received,
                bytes_received=count,
                method=self._method,
                url=self._url,
            )
        mapped = _map_error(exc, self._method, self._url, self._config)
        if mapped is None:
            raise exc
        return mapped

    def _release(self) -> None:
        # release() pools the connection if the body was read to its end and closes it
        # otherwise (aiohttp checks the parser state), so it is right in every case.
        if not self._closed:
            self._closed = True
            self._resp.release()

    async def aclose(self) -> None:
        """Release the connection; idempotent."""
        self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def __repr__(self) -> str:
        return f"<AiohttpStreamingResponse {self.status} {self._method} {redact_url(self._url)}>"

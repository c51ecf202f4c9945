"""``AiohttpTransport``: the network side of the transport seam, on aiohttp.

This module is the one place where aiohttp, asyncio, ``OSError`` and ``ssl`` exceptions become
lexigram errors; no aiohttp type leaves it. Ours are raised with a redacted stand-in of the
original as ``__cause__`` and outside the ``except`` block, so no ``__context__`` either: the
originals embed the raw URL, query secrets included (see ``_sanitize``).

Redirects are followed by ``_redirects.follow``, not by aiohttp (credentials must not reach
another origin); the call's deadline covers every hop.

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
    SENSITIVE_HEADERS,
    ClientClosedError,
    Headers,
    HTTPBlockedAddressError,
    HTTPBodyTooLargeError,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidURLError,
    RequestBody,
    RequestContext,
    TimeoutPhase,
    redact_url,
)
from lexigram.http._config import HTTPClientConfig, TLSConfig
from lexigram.http._connector import make_connector, waiting_for_pool_slot
from lexigram.http._deadline import Deadline, DeadlineTimer
from lexigram.http._encoding import decode_error
from lexigram.http._redirects import REDIRECT_STATUSES, follow
from lexigram.http._sanitize import redacted_cause
from lexigram.http._ssrf import BlockedAddress

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
    lines: dict[str, list[str]] | None = None
    if len(store) != len(raw):
        # Repeated names: join them with ", " under the first spelling, as Headers.add does,
        # and keep each field line for Headers.get_list (Set-Cookie).
        store = {}
        lines = {}
        for name, value in raw.items():
            lower = name.lower()
            seen = store.get(lower)
            if seen is None:
                store[lower] = (str(name), value)
            else:
                store[lower] = (seen[0], f"{seen[1]}, {value}")
                values = lines.get(lower)
                if values is None:
                    lines[lower] = [seen[1], value]
                else:
                    values.append(value)
    headers = Headers.__new__(Headers)
    headers._store = store
    headers._lines = lines
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
    if isinstance(exc, BlockedAddress):
        return HTTPBlockedAddressError(host=exc.host, address=exc.address, method=method, url=url)
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
    # Redirects are followed by _redirects.follow (aiohttp's own loop is off), so aiohttp's
    # redirect errors cannot arise: a bad Location is an HTTPRedirectError there.
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return InvalidURLError(f"invalid URL{_for(method, url)}", method=method, url=url)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        undecodable = decode_error(exc, method, url)
        if undecodable is not None:
            return undecodable
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


def _chunked(body: bytes | RequestBody) -> Any:
    """What aiohttp sends for a body given in chunks: an async iterable (its headers, such
    as Content-Length, were set when the request was built)."""
    return body.chunks() if isinstance(body, RequestBody) else body


def _not_cancelled() -> bool:
    """Whether a ``CancelledError`` came from inside (a cancelled future), not the task."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() == 0


def _one_request_per_attempt(session: aiohttp.ClientSession) -> None:
    """Turn off aiohttp's silent resend of idempotent requests (3.9+).

    ``ClientSession._request`` sends an idempotent request a second time when the connection
    is reset or closed before the response headers; an attempt of ours would then be two
    requests the retry policy, breaker, metrics and logs never see. aiohttp's own test client
    flips the same private switch; a version without it simply has no such resend.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class AiohttpTransport:
    """The aiohttp implementation of ``HTTPTransportProtocol``.

    ``AiohttpTransport(config)`` honours every key of :class:`HTTPClientConfig` that concerns
    the network (pool limits, keep-alive cap, DNS cache, proxy, ``trust_env``, cookies,
    timeouts, body cap, TLS, ``User-Agent``). The aiohttp session is created on the first send,
    inside the running loop; :meth:`aclose` closes it and is idempotent, after which sending
    raises :class:`ClientClosedError`. ``resolver`` replaces DNS resolution (tests);
    ``address_allowed`` replaces the SSRF guard's test of a resolved address (tests; used only
    when ``allow_private_networks`` is false). ``observer``: when it implements
    ``HTTPPoolObserverProtocol``, it hears the pool's connection states, connection durations
    and pool waits (:class:`HTTPClient` passes its own ``observer`` to the transport it builds).
    """

    __slots__ = (
        "_address_allowed",
        "_config",
        "_deadlines",
        "_env_proxies",
        "_max_bytes",
        "_netrc",
        "_observer",
        "_proxy",
        "_proxy_headers",
        "_resolver",
        "_sensitive",
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
        address_allowed: Callable[[str], bool] | None = None,
        observer: object = None,
    ) -> None:
        self._config = config = config if config is not None else HTTPClientConfig()
        self._resolver = resolver
        self._observer = observer
        self._address_allowed = address_allowed
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
        self._sensitive = SENSITIVE_HEADERS | {name.lower() for name in config.sensitive_headers}
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
            allow_private_networks=config.allow_private_networks,
            address_allowed=self._address_allowed,
            observer=self._observer,
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
        _one_request_per_attempt(session)
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
            data=body if (body := context.body) is None or type(body) is bytes else _chunked(body),
            allow_redirects=False,  # followed by _redirects.follow
            proxy=proxy,
            proxy_headers=proxy_headers,
        )
        return request, deadline

    def _hop(
        self,
        method: str,
        url: URL,
        headers: list[tuple[str, str]] | None,
        body: bytes | RequestBody | None,
    ) -> Coroutine[Any, Any, aiohttp.ClientResponse]:
        """One redirect hop: what ``_prepare`` sends, for ``url``, redirects not followed."""
        session = self._session
        text = str(url)
        if session is None:
            raise ClientClosedError(method=method, url=text)
        proxy = self._proxy
        proxy_headers = self._proxy_headers
        if proxy is None and self._env_proxies is not None:
            found = self._env_proxies.lookup(text)
            if found is not None:
                proxy, proxy_headers = found
        if proxy_headers is not None and url.scheme != "https":
            headers = [*(headers or ()), *proxy_headers.items()]
        if self._netrc is not None:
            headers = self._netrc_auth(text, headers)
        return session._request(
            method,
            url,
            headers=headers,
            # a 307/308 resends the body: a streamed one is read again (or refuses, naming it)
            data=body if body is None or type(body) is bytes else _chunked(body),
            allow_redirects=False,
            proxy=proxy,
            proxy_headers=proxy_headers,
        )

    def _follow(
        self, resp: aiohttp.ClientResponse, context: RequestContext
    ) -> Coroutine[Any, Any, aiohttp.ClientResponse]:
        return follow(
            resp,
            context,
            self._hop,
            max_redirects=self._config.max_redirects,
            sensitive_headers=self._sensitive,
        )

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
            if self._state is _State.CLOSED and _not_cancelled():
                # Queued for a pool slot when the session closed: aiohttp cancels the wait.
                return ClientClosedError(method=method, url=url)
            return None
        expired = deadline is not None and deadline.stop()
        if not isinstance(exc, Exception):
            return None
        if self._state is _State.CLOSED:
            return ClientClosedError(method=method, url=url)
        if expired:
            return _deadline_error(method, url, context.timeout)
        if isinstance(exc, HTTPClientError):  # ours, from the redirect steps
            return None
        return _map_error(exc, method, url, self._config)

    async def _start(self, context: RequestContext) -> aiohttp.ClientResponse:
        """Send the request; return once the response headers are in."""
        request, deadline = self._prepare(context)
        failure = None
        try:
            resp = await request
            if resp.status in REDIRECT_STATUSES and context.allow_redirects:
                resp = await self._follow(resp, context)
        except BaseException as exc:
            failure = self._request_failed(exc, deadline, context)
            if failure is None:
                raise
            failure.__cause__ = redacted_cause(exc)
        if failure is not None:
            raise failure  # outside the handler: no __context__ (see the module docstring)
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
        failure = None
        try:
            resp = await request
            if resp.status in REDIRECT_STATUSES and context.allow_redirects:
                resp = await self._follow(resp, context)
        except BaseException as exc:
            failure = self._request_failed(exc, deadline, context)
            if failure is None:
                raise
            failure.__cause__ = redacted_cause(exc)
        if failure is not None:
            raise failure  # outside the handler: no __context__ (see the module docstring)
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
                failure = ClientClosedError(method=method, url=context.url)
            else:
                failure = _map_error(exc, method, context.url, self._config)
                if failure is None:
                    raise
            failure.__cause__ = redacted_cause(exc)
        if failure is not None:
            raise failure
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
        failure = None
        try:
            while True:
                try:
                    chunk = await content.readany()
                except Exception as exc:
                    failure = self._read_error(exc, b"".join(tail), received)
                    break  # raised below, outside the handler (no __context__)
                if not chunk:
                    break
                received += len(chunk)
                tail.append(chunk)
                kept += len(chunk)
                while kept - len(tail[0]) >= _KEEP_ON_DISCONNECT:
                    kept -= len(tail.popleft())
                yield chunk
            if failure is not None:
                raise failure
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
        failure = None
        try:
            while True:
                try:
                    chunk = await content.readany()
                except Exception as exc:
                    failure = self._read_error(exc, b"".join(chunks), total)
                    break  # raised below, outside the handler (no __context__)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise _body_too_large(limit, self._method, self._url)
                chunks.append(chunk)
            if failure is not None:
                raise failure
        finally:
            self._release()
        return b"".join(chunks)

    def _read_error(self, exc: Exception, received: bytes, count: int) -> HTTPClientError:
        error = self._map_read_error(exc, received, count)
        error.__cause__ = redacted_cause(exc)
        return error

    def _map_read_error(self, exc: Exception, received: bytes, count: int) -> HTTPClientError:
        if isinstance(exc, asyncio.TimeoutError):
            return HTTPTimeoutError(
                phase=TimeoutPhase.READ,
                timeout=self._config.read_timeout,
                method=self._method,
                url=self._url,
            )
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            undecodable = decode_error(exc, self._method, self._url)
            if undecodable is not None:
                return undecodable
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

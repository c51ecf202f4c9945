"""``HTTPClient``: the request path from a verb to the transport and back to a ``Result``."""
# ruff: noqa: ASYNC109  (``timeout=`` is the per-call deadline, as in httpx and aiohttp)

from __future__ import annotations

import asyncio
import enum
import functools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Never, Self

from lexigram.contracts.observability import MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    ClientClosedError,
    HeadersInput,
    HTTPClientError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http._config import HTTPClientConfig
from lexigram.http._interceptors import InterceptorChain
from lexigram.http._observe import _log_error_response, _log_failure, _Observer
from lexigram.http._request import ParamsInput, RequestData, _build, _copy
from lexigram.http._retry import DefaultRetryPolicy
from lexigram.result import Err, Ok, Result

__all__ = ["ClientState", "HTTPClient"]


class ClientState(enum.Enum):
    """Lifecycle of a client: it opens on first use (or ``async with``) and closes once."""

    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def _unexpected(verb: str, names: Mapping[str, object]) -> TypeError:
    name = next(iter(names))
    return TypeError(f"{verb}() got an unexpected keyword argument {name!r}")


def _positive_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not timeout > 0:  # also refuses NaN
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    return float(timeout)


class HTTPClient:
    """The outbound HTTP client: verbs return ``Result[HttpResponse, HTTPClientError]``.

    Implements ``HTTPClientProtocol``. A status below 400 is ``Ok(response)``; 4xx/5xx are
    ``Err(HTTPStatusError)``; connection failures and timeouts are ``Err(HTTPConnectionError)``
    / ``Err(HTTPTimeoutError)``. Raised instead: ``HTTPCircuitOpenError``,
    ``HTTPRetryExhaustedError``, load-shedding rejections (``HTTPRejectedError``),
    ``HTTPInterceptorError`` (an interceptor is code of yours that failed, not the network),
    usage errors (``InvalidURLError``, ``InvalidHeaderError``, ``ClientClosedError``,
    ``TypeError`` for an unknown keyword) and cancellation.

    One call has one deadline (``timeout=`` or ``config.pool.timeout``) covering every attempt
    up to the response headers. Resilience, in order of precedence: ``pipeline``, else
    ``retry_policy``, else :class:`DefaultRetryPolicy` from ``config.retry`` (unless disabled).
    ``circuit_breaker`` wraps each attempt, keyed on the URL's origin.

    Use it as an async context manager or call :meth:`aclose`; it closes its transport, the
    one it built or the one it was given (as httpx does), so a transport is not shared between
    clients that close independently.
    """

    __slots__ = (
        "__weakref__",
        "_breaker",
        "_chain",
        "_clock",
        "_config",
        "_default_timeout",
        "_observer",
        "_resilience",
        "_send",
        "_state",
        "_transport",
    )

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        transport: HTTPTransportProtocol | None = None,
        interceptors: Sequence[InterceptorProtocol] | InterceptorChainProtocol | None = None,
        pipeline: ResiliencePipelineProtocol | None = None,
        retry_policy: RetryPolicyProtocol | None = None,
        circuit_breaker: CircuitBreakerProtocol | None = None,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config = config if config is not None else HTTPClientConfig()
        if transport is None:
            # Imported here: aiohttp is only loaded by clients that use it.
            from lexigram.http._transport import AiohttpTransport

            transport = AiohttpTransport(config)
        self._transport: HTTPTransportProtocol = transport
        self._send = transport.send  # bound once, not per attempt
        self._chain = _chain(interceptors)
        self._resilience: RetryPolicyProtocol | ResiliencePipelineProtocol | None
        if pipeline is not None:
            self._resilience = pipeline
        elif retry_policy is not None:
            self._resilience = retry_policy
        elif config.retry.enabled and config.retry.max_attempts > 1:
            self._resilience = DefaultRetryPolicy(config.retry, sleep=sleep, clock=clock)
        else:
            self._resilience = None
        self._breaker = circuit_breaker
        self._observer = None if metrics is None else _Observer(metrics, clock)
        self._clock = clock
        self._default_timeout = config.pool.timeout
        self._state = ClientState.UNOPENED

    @property
    def config(self) -> HTTPClientConfig:
        """The effective configuration."""
        return self._config

    @property
    def state(self) -> ClientState:
        """Unopened until first use, opened, then closed by :meth:`aclose`."""
        return self._state

    @property
    def transport(self) -> HTTPTransportProtocol:
        """The transport requests go through."""
        return self._transport

    @property
    def interceptors(self) -> InterceptorChainProtocol | None:
        """The interceptor chain, if any."""
        return self._chain

    async def __aenter__(self) -> Self:
        if self._state is ClientState.CLOSED:
            raise ClientClosedError("cannot reopen a closed HTTP client")
        self._state = ClientState.OPENED
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and its transport; idempotent."""
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        await self._transport.aclose()

    def __repr__(self) -> str:
        return f"<HTTPClient state={self._state.value}>"

    # -- verbs ------------------------------------------------------------------------------
    # Explicit keywords: typed for callers, and no dict unpacking on the hot path. The trailing
    # ``**unexpected: Never`` keeps HTTPClient assignable to HTTPClientProtocol (whose verbs
    # take ``**kwargs: Any``) while mypy still rejects unknown keywords at call sites; at run
    # time they raise TypeError.

    async def get(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a GET request."""
        if unexpected:
            raise _unexpected("get", unexpected)
        return await self._result(
            "GET",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def post(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a POST request (retried only with an ``idempotency_key``)."""
        if unexpected:
            raise _unexpected("post", unexpected)
        return await self._result(
            "POST",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def put(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PUT request."""
        if unexpected:
            raise _unexpected("put", unexpected)
        return await self._result(
            "PUT",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def delete(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a DELETE request."""
        if unexpected:
            raise _unexpected("delete", unexpected)
        return await self._result(
            "DELETE",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def patch(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a PATCH request (retried only with an ``idempotency_key``)."""
        if unexpected:
            raise _unexpected("patch", unexpected)
        return await self._result(
            "PATCH",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def head(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a HEAD request."""
        if unexpected:
            raise _unexpected("head", unexpected)
        return await self._result(
            "HEAD",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def options(
        self,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send an OPTIONS request."""
        if unexpected:
            raise _unexpected("options", unexpected)
        return await self._result(
            "OPTIONS",
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersInput | None = None,
        params: ParamsInput | None = None,
        json: Any = None,
        data: RequestData | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        idempotency_key: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        **unexpected: Never,
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a request with any method.

        ``headers``: extra request headers. ``params``: query parameters appended to the
        URL's query. At most one body: ``json`` (serialised, ``Content-Type:
        application/json``), ``data`` (a mapping is form-encoded; bytes/str are sent as they
        are) or ``content`` (raw bytes). ``timeout``: this call's deadline in seconds, retries
        included (default ``config.pool.timeout``). ``idempotency_key``: sent as
        ``Idempotency-Key``; makes POST and PATCH retryable. ``extensions``: copied into
        ``RequestContext.extensions`` for interceptors.
        """
        if unexpected:
            raise _unexpected("request", unexpected)
        return await self._result(
            method,
            url,
            headers,
            params,
            json,
            data,
            content,
            timeout,
            allow_redirects,
            idempotency_key,
            extensions,
        )

    # -- the request path -------------------------------------------------------------------

    async def _result(
        self,
        method: str,
        url: str,
        headers: HeadersInput | None,
        params: ParamsInput | None,
        json: Any,
        data: RequestData | None,
        content: bytes | str | None,
        timeout: float | None,
        allow_redirects: bool,
        idempotency_key: str | None,
        extensions: Mapping[str, Any] | None,
    ) -> Result[HttpResponse, HTTPClientError]:
        try:
            response = await self._perform(
                method,
                url,
                headers,
                params,
                json,
                data,
                content,
                timeout,
                allow_redirects,
                idempotency_key,
                extensions,
            )
        except (HTTPConnectionError, HTTPTimeoutError) as exc:
            return Err(exc)
        if response.status >= 400:
            return Err(HTTPStatusError(response=response))
        return Ok(response)

    async def _perform(
        self,
        method: str,
        url: str,
        headers: HeadersInput | None,
        params: ParamsInput | None,
        json: Any,
        data: RequestData | None,
        content: bytes | str | None,
        timeout: float | None,
        allow_redirects: bool,
        idempotency_key: str | None,
        extensions: Mapping[str, Any] | None,
    ) -> HttpResponse:
        """One logical call: the final response of any status, or the error raised."""
        if self._state is not ClientState.OPENED:
            if self._state is ClientState.CLOSED:
                raise ClientClosedError(method=method, url=url)
            self._state = ClientState.OPENED
        context, origin = _build(
            method,
            url,
            headers,
            params,
            json,
            data,
            content,
            allow_redirects,
            idempotency_key,
            extensions,
        )
        budget = self._default_timeout if timeout is None else _positive_timeout(timeout)
        context.timeout = budget
        resilience = self._resilience
        call = _Call(self, context, origin, self._clock() + budget, budget, resilience)
        if resilience is None:
            return await call(1)
        return await resilience.execute(context, call)


def _chain(
    interceptors: Sequence[InterceptorProtocol] | InterceptorChainProtocol | None,
) -> InterceptorChainProtocol | None:
    if interceptors is None:
        return None
    if isinstance(interceptors, InterceptorChainProtocol):
        # Kept even when empty: the owner may add() to it later.
        return interceptors
    if isinstance(interceptors, InterceptorProtocol) or not isinstance(interceptors, Sequence):
        raise TypeError(
            "interceptors must be a sequence of interceptors or an InterceptorChain, "
            f"not {type(interceptors).__name__}"
        )
    return InterceptorChain(interceptors) if interceptors else None


class _Call:
    """One logical call; calling it runs one attempt (it is the retry policy's operation).

    A slotted object instead of a closure: cheaper to build and it holds no cell, so a call
    leaves no reference cycle behind.
    """

    __slots__ = ("_budget", "_client", "_context", "_deadline", "_origin", "_pristine")

    def __init__(
        self,
        client: HTTPClient,
        context: RequestContext,
        origin: str,
        deadline: float,
        budget: float,
        resilience: object,
    ) -> None:
        self._client = client
        self._context = context
        self._origin = origin
        self._deadline = deadline
        self._budget = budget
        # Interceptors edit the context; with several attempts possible each one gets a
        # fresh copy of the request as built. Without interceptors nothing else edits it.
        self._pristine = resilience is not None and client._chain is not None

    async def __call__(self, attempt: int) -> HttpResponse:
        client = self._client
        context = self._context
        remaining = self._deadline - client._clock()
        if remaining <= 0:
            raise HTTPTimeoutError(
                phase=TimeoutPhase.DEADLINE,
                timeout=self._budget,
                method=context.method,
                url=context.url,
            )
        if self._pristine:
            context = _copy(context)
        context.attempt = attempt
        context.timeout = remaining
        breaker = client._breaker
        if breaker is None:
            return await self._attempt(context)
        operation: Callable[[], Awaitable[HttpResponse]] = functools.partial(self._attempt, context)
        return await breaker.call(self._origin, operation)

    async def _attempt(self, context: RequestContext) -> HttpResponse:
        client = self._client
        chain = client._chain
        if chain is not None:
            try:
                context = await chain.intercept_request(context)
            except HTTPInterceptorError:
                raise
            except Exception as exc:
                raise HTTPInterceptorError(
                    interceptor=type(chain).__name__,
                    phase="request",
                    method=context.method,
                    url=context.url,
                ) from exc
        # Metrics and logs describe the exchange on the wire, so they are taken before the
        # response interceptors run (one of them failing does not lose the record).
        observer = client._observer
        try:
            if observer is None:
                response = await client._send(context)
            else:
                response = await observer.send(client._send, context)
        except HTTPClientError as exc:
            _log_failure(context, exc)
            raise
        if response.status >= 400:
            _log_error_response(context, response)
        if chain is not None:
            try:
                response = await chain.intercept_response(response)
            except HTTPInterceptorError:
                raise
            except Exception as exc:
                raise HTTPInterceptorError(
                    interceptor=type(chain).__name__,
                    phase="response",
                    method=context.method,
                    url=context.url,
                ) from exc
        return response

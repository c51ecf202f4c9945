"""``HTTPClient``: the request path from a verb to the transport and back to a ``Result``."""

from __future__ import annotations

import asyncio
import difflib
import enum
import functools
import math
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, Unpack

from lexigram.contracts.observability import (
    AttemptObservationProtocol,
    HTTPObserverProtocol,
    MetricsRecorderProtocol,
)
from lexigram.contracts.resilience import (
    CircuitBreakerProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBlockedAddressError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HTTPRedirectError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    RequestContext,
    RequestOptions,
    SSEReconnect,
    StreamOptions,
    TimeoutPhase,
)
from lexigram.http._config import HTTPClientConfig
from lexigram.http._deadline import running_loop, task_of
from lexigram.http._decoders import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_LINE_BYTES, _check_limit
from lexigram.http._interceptors import InterceptorChain, _failure
from lexigram.http._observe import _log_error_response, _log_failure, _Observer
from lexigram.http._request import _build, _build_bare, _copy
from lexigram.http._retry import DefaultRetryPolicy
from lexigram.http._shutdown import InFlight
from lexigram.http._stream import (
    ERROR_BODY_BYTES,
    StreamContext,
    StreamResponse,
    _Opened,
    _StreamOptions,
    disable_read_timeout,
    read_error_body,
    static_stream,
)
from lexigram.result import Err, Ok, Result
from lexigram.result._result import _set_value as _set_ok

__all__ = ["ClientState", "HTTPClient"]

_new_ok: Final = object.__new__
_new_call: Final = object.__new__

# What the verbs return in Err (besides HTTPStatusError): the remote side's doing.
_RETURNED_ERRORS = (
    HTTPConnectionError,
    HTTPTimeoutError,
    HTTPRedirectError,
    HTTPBlockedAddressError,
)


class ClientState(enum.Enum):
    """Lifecycle of a client: it opens on first use (or ``async with``) and closes once."""

    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


_REQUEST_KEYS: Final = RequestOptions.__optional_keys__
_STREAM_KEYS: Final = StreamOptions.__optional_keys__


def _unexpected(method: str, names: Iterable[str], known: Iterable[str]) -> TypeError:
    name = sorted(names)[0]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(
        f"unexpected keyword argument {name!r} for a {method} request{hint} "
        f"(known: {', '.join(sorted(known))})"
    )


def _build_from(
    method: str, url: str, options: RequestOptions
) -> tuple[RequestContext, str, float | None]:
    """The context and origin of a request with ``options``, and its ``timeout`` keyword."""
    if not options:
        return *_build_bare(method, url), None
    if not options.keys() <= _REQUEST_KEYS:
        raise _unexpected(method, options.keys() - _REQUEST_KEYS, _REQUEST_KEYS)
    context, origin = _build(
        method,
        url,
        options.get("headers"),
        options.get("params"),
        options.get("json"),
        options.get("data"),
        options.get("content"),
        options.get("allow_redirects", True),
        options.get("idempotency_key"),
        options.get("extensions"),
    )
    return context, origin, options.get("timeout")


def _check_retry_unused(config: HTTPClientConfig, given: str) -> None:
    """Refuse ``http.retry`` keys that a pipeline or retry policy would silently override."""
    fields = sorted(config.retry.model_fields_set)
    if not fields:
        return
    keys = ", ".join(f"http.retry.{name}" for name in fields)
    alternatives = ", ".join(f"resilience.retry.{name}" for name in fields)
    raise ValueError(
        f"{keys} is set, but this client's retries come from its {given} "
        f"(ResiliencePipelineProtocol / RetryPolicyProtocol, e.g. ResilienceModule), not from "
        f"http.retry, which configures only the default retry policy: configure the retries "
        f"there instead (with ResilienceModule: {alternatives}) and remove {keys}"
    )


def _positive_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not timeout > 0:  # also refuses NaN
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    return float(timeout)


_Verb: TypeAlias = Callable[..., Coroutine[Any, Any, Result[HttpResponse, HTTPClientError]]]
"""A verb function: ``(client, url, **options)``."""


def _verb(method: str, name: str, doc: str) -> _Verb:
    """The verb ``name`` of :class:`HTTPClient`: the request path for ``method``, from the
    arguments to the ``Result``, in one coroutine frame (``request()`` uses one per method
    too, see :func:`_verb_for`)."""

    async def verb(
        self: HTTPClient, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        # _perform's body, inlined: one coroutine frame fewer on every call; and _context's.
        if self._state is not ClientState.OPENED:
            if self._state is ClientState.CLOSED:
                raise ClientClosedError(method=method, url=url)
            self._state = ClientState.OPENED
        if kwargs:
            context, origin, timeout = _build_from(method, url, kwargs)
            if timeout is not None:
                context.timeout = _positive_timeout(timeout)
            else:
                context.timeout = self._default_timeout
        else:  # the call most requests make: _build_from's first case, inlined
            context, origin = _build_bare(method, url, self._default_timeout)
        inflight = self._inflight
        tasks = inflight._tasks
        # InFlight.enter and leave, inlined (two method calls per request fewer).
        task = task_of(running_loop())
        if task is not None:
            tasks[task] = tasks.get(task, 0) + 1
        try:
            if self._direct:
                # Nothing around the transport (no retry, breaker, interceptor or recorder):
                # _exchange's body for that case, inlined, one coroutine frame fewer.
                try:
                    response = await self._send(context)
                except HTTPClientError as exc:
                    _log_failure(context, exc)
                    raise
                if response.status >= 400:
                    _log_error_response(context, response)
            elif self._resilience is None and self._breaker is None:
                # A single attempt: no call object needed.
                response = await _exchange(self, self._send, context, self._hook)
            else:
                # _call's body, inlined: one method call fewer; _Call(...) without its
                # Python-level __init__ call.
                budget = context.timeout
                assert budget is not None
                call: _Call = _new_call(_Call)
                call._client = self
                call._context = context
                call._origin = origin
                call._deadline = self._clock() + budget
                call._budget = budget
                stage = self._stage
                if stage is not None:
                    response = await stage(context, call, 1)
                elif self._resilience is None:
                    response = await call.first()
                else:
                    response = await self._resilience.execute(context, call)
        except _RETURNED_ERRORS as exc:
            return Err(exc)
        except asyncio.CancelledError:
            if inflight.closed_by_us(task):
                raise ClientClosedError(method=context.method, url=context.url) from None
            raise
        finally:
            if task is not None:
                count = tasks.pop(task, 0)
                if count > 1:
                    tasks[task] = count - 1
                elif inflight._cancelled:
                    inflight._cancelled.discard(task)
        if response.status >= 400:
            return Err(HTTPStatusError(response=response))
        # Ok(response) without the Python-level __init__ call (one per request).
        ok: Ok[HttpResponse] = _new_ok(Ok)
        _set_ok(ok, response)
        return ok

    verb.__name__ = name
    verb.__qualname__ = f"HTTPClient.{name}"
    verb.__doc__ = doc
    return verb


_VERBS: Final[dict[str, _Verb]] = {}
"""The verb function of each method ``request()`` was called with (bounded)."""
_VERBS_MAX: Final = 64


def _verb_for(method: str) -> _Verb:
    """The verb function for ``method`` (the verb validates it), cached while the cache is
    small: methods are few, and a caller inventing one per call must not grow it without
    bound. Anything but a str is not cached (the verb refuses it)."""
    verb = _verb(method, "request", "")
    if type(method) is str and len(_VERBS) < _VERBS_MAX:
        _VERBS[method] = verb
    return verb


class HTTPClient:
    """The outbound HTTP client: verbs return ``Result[HttpResponse, HTTPClientError]``.

    Implements ``HTTPClientProtocol``. A status below 400 is ``Ok(response)``; 4xx/5xx are
    ``Err(HTTPStatusError)``; connection failures and timeouts are ``Err(HTTPConnectionError)``
    / ``Err(HTTPTimeoutError)``; a redirect that cannot be followed (a loop, an invalid
    ``Location``) is ``Err(HTTPRedirectError)``, an address refused by the SSRF guard
    ``Err(HTTPBlockedAddressError)``. Raised instead: ``HTTPCircuitOpenError``,
    ``HTTPRetryExhaustedError``, load-shedding rejections (``HTTPRejectedError``),
    ``HTTPInterceptorError`` (an interceptor is code of yours that failed, not the network),
    usage errors (``InvalidURLError``, ``InvalidHeaderError``, ``ClientClosedError``,
    ``TypeError`` for an unknown keyword) and cancellation.

    One call has one deadline (``timeout=`` or ``config.pool.timeout``) covering every attempt
    up to the response headers. Resilience, in order of precedence: ``pipeline``, else
    ``retry_policy``, else :class:`DefaultRetryPolicy` from ``config.retry`` (unless disabled).
    ``circuit_breaker`` wraps each attempt, keyed on the URL's origin. ``metrics`` receives
    the two per-attempt signals; ``observer`` (``HTTPObserverProtocol``) sees each attempt's
    start, response, body or stream end and failure, and the default policy's retries (and,
    if it implements ``HTTPPoolObserverProtocol``, the pool of the transport the client builds).

    :meth:`stream` reads a response as it arrives (lines, SSE, NDJSON, bytes). Being a
    context manager, it cannot return a ``Result``: it **raises** connection failures and
    timeouts (``HTTPConnectionError`` / ``HTTPTimeoutError``) where the verbs return ``Err``.

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
        "_copies",
        "_default_timeout",
        "_direct",
        "_hook",
        "_inflight",
        "_name",
        "_observer",
        "_resilience",
        "_send",
        "_sleep",
        "_stage",
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
        observer: HTTPObserverProtocol | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config = config if config is not None else HTTPClientConfig()
        if transport is None:
            # Imported here: aiohttp is only loaded by clients that use it.
            from lexigram.http._transport import AiohttpTransport

            transport = AiohttpTransport(config, observer=observer)
        self._transport: HTTPTransportProtocol = transport
        self._send = transport.send  # bound once, not per attempt
        self._chain = _chain(interceptors)
        self._resilience: RetryPolicyProtocol | ResiliencePipelineProtocol | None
        if pipeline is not None or retry_policy is not None:
            _check_retry_unused(config, "pipeline" if pipeline is not None else "retry_policy")
        if pipeline is not None:
            self._resilience = pipeline
        elif retry_policy is not None:
            self._resilience = retry_policy
        elif config.retry.enabled and config.retry.max_attempts > 1:
            self._resilience = DefaultRetryPolicy(
                config.retry, sleep=sleep, clock=clock, observer=observer
            )
        else:
            self._resilience = None
        # A pipeline that can compose its stages once, here, is entered through them: its
        # execute() frame is skipped on every call (its stages run exactly as execute would).
        compose = getattr(self._resilience, "_compose_stage", None)
        self._stage: (
            Callable[
                [RequestContext, Callable[[int], Awaitable[HttpResponse]], int],
                Awaitable[HttpResponse],
            ]
            | None
        ) = compose() if callable(compose) else None
        self._breaker = circuit_breaker
        # Interceptors edit the context; with several attempts possible each one gets a
        # fresh copy of the request as built. Without interceptors nothing else edits it.
        self._copies = self._resilience is not None and self._chain is not None
        self._observer = None if metrics is None else _Observer(metrics, clock)
        self._hook = observer
        self._clock = clock
        self._sleep = sleep
        self._default_timeout = config.pool.timeout
        self._state = ClientState.UNOPENED
        self._inflight = InFlight()
        self._name = "HTTPClient"  # the class a user made, for the unclosed-client warning
        # Fixed at construction, as everything it looks at.
        self._direct = (
            self._resilience is None
            and self._breaker is None
            and self._chain is None
            and self._observer is None
            and observer is None
        )

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
        """Close the client and its transport; idempotent.

        Calls still in flight end with :class:`ClientClosedError` (queued for a connection,
        waiting for headers, reading a body, or sleeping before a retry), and so do open
        streams, at their next read or at once if a read is waiting.
        """
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        await self._inflight.close()
        await self._transport.aclose()

    def __repr__(self) -> str:
        return f"<HTTPClient state={self._state.value}>"

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        # One warning naming our class, instead of aiohttp's "Unclosed client session" and
        # "Unclosed connector": the transport drops its connections without warning again.
        # Only a transport holding connections counts (a mock one holds nothing).
        # getattr: a constructor that raised leaves the slots unset.
        if getattr(self, "_state", None) is not ClientState.OPENED:
            return
        abandon = getattr(self._transport, "_abandon", None)
        if abandon is not None and abandon():
            _warn(
                f"unclosed {self._name}: close it with `async with {self._name}(...) as client:` "
                "or `await client.aclose()`",
                ResourceWarning,
                source=self,
            )

    # -- verbs ------------------------------------------------------------------------------
    # The keywords are RequestOptions (lexigram.contracts.web), defined once for the protocols,
    # both clients and the fakes. Unknown ones are type errors, and TypeError at run time.

    # Each verb is its own function (made by _verb) running the whole request path in one
    # coroutine frame: `await client.get(url)` enters no second frame to reach it.
    if TYPE_CHECKING:

        async def get(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a GET request."""

        async def post(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a POST request (retried only with an ``idempotency_key``)."""

        async def put(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a PUT request."""

        async def delete(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a DELETE request."""

        async def patch(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a PATCH request (retried only with an ``idempotency_key``)."""

        async def head(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send a HEAD request."""

        async def options(
            self, url: str, **kwargs: Unpack[RequestOptions]
        ) -> Result[HttpResponse, HTTPClientError]:
            """Send an OPTIONS request."""

    else:
        get = _verb("GET", "get", "Send a GET request.")
        post = _verb(
            "POST", "post", "Send a POST request (retried only with an ``idempotency_key``)."
        )
        put = _verb("PUT", "put", "Send a PUT request.")
        delete = _verb("DELETE", "delete", "Send a DELETE request.")
        patch = _verb(
            "PATCH", "patch", "Send a PATCH request (retried only with an ``idempotency_key``)."
        )
        head = _verb("HEAD", "head", "Send a HEAD request.")
        options = _verb("OPTIONS", "options", "Send an OPTIONS request.")

    async def request(
        self, method: str, url: str, **kwargs: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send a request with any method.

        The keywords are :class:`~lexigram.contracts.web.RequestOptions`: ``headers``,
        ``params``, at most one body (``json``, ``data`` or ``content``), ``timeout`` (this
        call's deadline in seconds, retries included; default ``config.pool.timeout``;
        ``math.inf``: none),
        ``allow_redirects`` (up to ``config.max_redirects`` hops, dropping credentials on a hop
        to another origin), ``idempotency_key`` (makes POST and PATCH retryable) and
        ``extensions`` (for interceptors).
        """
        verb = _VERBS.get(method) if type(method) is str else None
        if verb is None:
            verb = _verb_for(method)
        return await verb(self, url, **kwargs)

    # -- streaming --------------------------------------------------------------------------

    def stream(self, method: str, url: str, **kwargs: Unpack[StreamOptions]) -> StreamContext:
        """Send a request and read the response body as it arrives.

        ``async with client.stream("POST", url, json=...) as response:`` then iterate
        ``response`` (text lines), ``response.sse()``, ``response.ndjson()`` or
        ``response.iter_bytes()`` (see :class:`StreamResponse`). Leaving the block releases
        the connection, however it ends.

        Unlike the verbs, this **raises** instead of returning a ``Result`` (a context
        manager has nothing to return it in): connection failures and timeouts raise
        ``HTTPConnectionError`` / ``HTTPTimeoutError`` on entry, besides what the verbs
        raise. A 4xx/5xx status does not raise; call ``response.raise_for_status()``.

        The keywords are :class:`~lexigram.contracts.web.StreamOptions`: those of
        :meth:`request`, and these. ``timeout`` is the deadline up to
        the response headers, retries included; retries (resilience, breaker) and request
        interceptors apply until then, never once the body has started. The body is bounded
        instead by ``idle_timeout``, the longest wait for data (default
        ``config.read_timeout``; ``math.inf`` for none): past it, ``HTTPTimeoutError`` with
        phase ``idle``. ``max_line_bytes`` (1 MiB) bounds a line, ``max_event_bytes``
        (16 MiB) the data of one SSE event: past them, ``HTTPStreamLimitError``.
        ``reconnect=SSEReconnect(...)`` makes :meth:`StreamResponse.sse` reconnect with
        ``Last-Event-ID`` when the stream drops, as an ``EventSource`` does. ``sse=True``
        (implied by ``reconnect=``) says the request is for an event stream: it is sent with
        ``Accept: text/event-stream`` and ``Cache-Control: no-cache`` unless already set.

        Response interceptors see the head of each attempt: an ``HttpResponse`` with the
        status and headers and an empty body (for a status >= 400, the first 64 KiB of the
        error body); the status and headers they return are those the stream reports.
        """
        return self._stream_context(method, url, kwargs)

    def _stream_context(self, method: str, url: str, options: StreamOptions) -> StreamContext:
        # Options are checked here, so a bad one fails at the call, not on entry.
        if not options.keys() <= _STREAM_KEYS:
            raise _unexpected(method, options.keys() - _STREAM_KEYS, _STREAM_KEYS)
        reconnect = options.pop("reconnect", None)
        if reconnect is not None and not isinstance(reconnect, SSEReconnect):
            raise TypeError(f"reconnect must be an SSEReconnect, not {type(reconnect).__name__}")
        idle_timeout = options.pop("idle_timeout", None)
        sse = options.pop("sse", False)
        idle = self._config.read_timeout if idle_timeout is None else idle_timeout
        idle = _positive_timeout(idle)
        stream_options = _StreamOptions(
            idle_timeout=idle if math.isfinite(idle) else None,
            max_line_bytes=_check_limit(
                options.pop("max_line_bytes", DEFAULT_MAX_LINE_BYTES), "max_line_bytes"
            ),
            max_event_bytes=_check_limit(
                options.pop("max_event_bytes", DEFAULT_MAX_EVENT_BYTES), "max_event_bytes"
            ),
            reconnect=reconnect,
            max_body_bytes=self._config.max_response_bytes,
            sse=bool(sse) or reconnect is not None,
        )
        return StreamContext(
            functools.partial(self._open_stream, method, url, options, stream_options)
        )

    async def _open_stream(
        self, method: str, url: str, request: RequestOptions, options: _StreamOptions
    ) -> StreamResponse:
        if self._state is not ClientState.OPENED:
            if self._state is ClientState.CLOSED:
                raise ClientClosedError(method=method, url=url)
            self._state = ClientState.OPENED
        context, origin, timeout = _build_from(method, url, request)
        if options.sse:
            _event_stream_headers(context.headers)
        budget = self._default_timeout if timeout is None else _positive_timeout(timeout)
        started = self._clock()
        reopen = None
        inflight = self._inflight
        task = inflight.enter()
        try:
            if options.reconnect is None:
                opened = await self._stream_call(context, origin, budget, options)
            else:
                # Reconnections resend the request as built, so the first attempt gets a copy.
                opened = await self._stream_call(_copy(context), origin, budget, options)
                reopen = functools.partial(self._reopen_stream, context, origin, budget, options)
        except asyncio.CancelledError:
            if inflight.closed_by_us(task):
                raise ClientClosedError(method=context.method, url=context.url) from None
            raise
        finally:
            inflight.leave(task)
        stream = StreamResponse(
            opened,
            options,
            request_method=context.method,
            started=started,
            observer=self._observer,
            reopen=reopen,
            sleep=self._sleep,
            last_event_id=context.headers.get("Last-Event-ID"),
        )
        if self._state is ClientState.CLOSED:
            # Closed while the stream opened (after the call left the in-flight set).
            await stream.aclose()
            raise ClientClosedError(method=context.method, url=context.url)
        inflight.add_stream(stream)
        return stream

    async def _reopen_stream(
        self,
        template: RequestContext,
        origin: str,
        budget: float,
        options: _StreamOptions,
        last_event_id: str | None,
    ) -> _Opened:
        """Send a stream's request again (an SSE reconnection)."""
        if self._state is ClientState.CLOSED:
            raise ClientClosedError(method=template.method, url=template.url)
        context = _copy(template)
        context.attempt = 1
        if last_event_id:
            context.headers["Last-Event-ID"] = last_event_id
        else:
            context.headers.pop("Last-Event-ID", None)
        return await self._stream_call(context, origin, budget, options)

    async def _stream_call(
        self, context: RequestContext, origin: str, budget: float, options: _StreamOptions
    ) -> _Opened:
        """One logical call up to the response headers, through resilience like the verbs."""
        context.timeout = budget
        resilience = self._resilience
        attempts = _StreamAttempts(self._transport, options.idle_timeout, self._hook)
        call = _StreamCall(self, context, origin, self._clock() + budget, budget, attempts)
        try:
            if resilience is None:
                head = await call(1)
            else:
                head = await resilience.execute(context, call)
        except BaseException:
            await attempts.release()
            raise
        return await attempts.take(head)

    # -- the request path -------------------------------------------------------------------

    async def _perform(self, method: str, url: str, options: RequestOptions) -> HttpResponse:
        """One logical call: the final response of any status, or the error raised."""
        context, origin = self._context(method, url, options)
        inflight = self._inflight
        task = inflight.enter()
        try:
            if self._resilience is None and self._breaker is None:
                return await _exchange(self, self._send, context, self._hook)
            return await self._call(context, origin)
        except asyncio.CancelledError:
            if inflight.closed_by_us(task):
                raise ClientClosedError(method=context.method, url=context.url) from None
            raise
        finally:
            inflight.leave(task)

    def _call(self, context: RequestContext, origin: str) -> Awaitable[HttpResponse]:
        """The attempts of a prepared call, through the resilience machinery if any."""
        budget = context.timeout
        assert budget is not None
        call = _Call(self, context, origin, self._clock() + budget, budget)
        resilience = self._resilience
        if resilience is None:
            return call.first()
        stage = self._stage
        if stage is not None:
            return stage(context, call, 1)
        return resilience.execute(context, call)

    def _context(
        self, method: str, url: str, options: RequestOptions
    ) -> tuple[RequestContext, str]:
        """Validate the arguments; the call's context (its deadline set) and URL origin."""
        if self._state is not ClientState.OPENED:
            if self._state is ClientState.CLOSED:
                raise ClientClosedError(method=method, url=url)
            self._state = ClientState.OPENED
        context, origin, timeout = _build_from(method, url, options)
        context.timeout = self._default_timeout if timeout is None else _positive_timeout(timeout)
        return context, origin


def _event_stream_headers(headers: Headers) -> None:
    """What an ``EventSource`` sends, unless the caller chose otherwise."""
    if "accept" not in headers:
        headers["Accept"] = "text/event-stream"
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-cache"


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

    __slots__ = ("_budget", "_client", "_context", "_deadline", "_origin")

    def __init__(
        self,
        client: HTTPClient,
        context: RequestContext,
        origin: str,
        deadline: float,
        budget: float,
    ) -> None:
        self._client = client
        self._context = context
        self._origin = origin
        self._deadline = deadline
        self._budget = budget

    def first(self) -> Awaitable[HttpResponse]:
        """The only attempt of a call without a retry policy: the deadline was just set and
        nothing else can have used the context, so this skips straight to the attempt."""
        context = self._context
        breaker = self._client._breaker
        if breaker is None:
            return self._attempt(context)
        return breaker.call(self._origin, functools.partial(self._attempt, context))

    def __call__(self, attempt: int) -> Awaitable[HttpResponse]:
        # Not a coroutine function: it returns the attempt's awaitable (one frame less on
        # every suspension); an exhausted deadline raises here, inside the caller's await.
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
        if client._copies:
            context = _copy(context)
        context.attempt = attempt
        context.timeout = remaining
        breaker = client._breaker
        if breaker is None:
            if type(self) is _Call:  # _attempt, inlined (a stream call tags its attempts)
                return _exchange(client, client._send, context, client._hook)
            return self._attempt(context)
        operation: Callable[[], Awaitable[HttpResponse]] = functools.partial(self._attempt, context)
        return breaker.call(self._origin, operation)

    def _attempt(self, context: RequestContext) -> Awaitable[HttpResponse]:
        client = self._client
        return _exchange(client, client._send, context, client._hook)


async def _exchange(
    client: HTTPClient,
    send: Callable[[RequestContext], Awaitable[HttpResponse]],
    context: RequestContext,
    hook: HTTPObserverProtocol | None,
) -> HttpResponse:
    """One attempt: request interceptors, the transport, metrics and logs, response
    interceptors. A function rather than a method so the single-attempt path needs no call
    object. ``hook``: the client's observer, ``None`` for streams (their attempts are observed
    by ``_StreamAttempts``, as they end with the stream)."""
    chain = client._chain
    own = type(chain) is InterceptorChain
    if own:
        # InterceptorChain.intercept_request, inlined: one coroutine frame fewer per attempt.
        for interceptor in chain._requesting:  # type: ignore[union-attr]
            try:
                result = await interceptor.intercept_request(context)
            except HTTPInterceptorError:
                raise
            except Exception as exc:
                raise _failure(interceptor, "request", context.method, context.url) from exc
            if not isinstance(result, RequestContext):
                raise _failure(
                    interceptor,
                    "request",
                    context.method,
                    context.url,
                    f"returned {type(result).__name__}, not a RequestContext",
                )
            context = result
    elif chain is not None:
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
    if hook is not None:
        response = await _observed_send(hook, observer, send, context)
    elif observer is None:
        try:
            response = await send(context)
        except HTTPClientError as exc:
            _log_failure(context, exc)
            raise
    else:
        # _Observer.send, inlined: one coroutine frame fewer per attempt.
        started = observer._clock()
        try:
            response = await send(context)
        except HTTPClientError as exc:
            observer.failed(context.method, started, exc)
            _log_failure(context, exc)
            raise
        observer.answered(context.method, started, response.status)
    if response.status >= 400:
        _log_error_response(context, response)
    if own:
        # InterceptorChain.intercept_response, inlined.
        for interceptor in chain._reversed:  # type: ignore[union-attr]
            try:
                answer = await interceptor.intercept_response(response)
            except HTTPInterceptorError:
                raise
            except Exception as exc:
                raise _failure(interceptor, "response", response.method, response.url) from exc
            if not isinstance(answer, HttpResponse):
                raise _failure(
                    interceptor,
                    "response",
                    response.method,
                    response.url,
                    f"returned {type(answer).__name__}, not an HttpResponse",
                )
            response = answer
    elif chain is not None:
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


async def _observed_send(
    hook: HTTPObserverProtocol,
    observer: _Observer | None,
    send: Callable[[RequestContext], Awaitable[HttpResponse]],
    context: RequestContext,
) -> HttpResponse:
    """The transport step of an attempt seen by an observation hook (and metrics, if any).

    The body of a verb's response is read by then, so the attempt ends here, however it ends.
    """
    observation = hook.attempt_started(context, False)
    started = 0.0 if observer is None else observer.now()
    try:
        response = await send(context)
    except BaseException as exc:
        if observation is not None:
            observation.end(exc)
        if isinstance(exc, HTTPClientError):
            if observer is not None:
                observer.failed(context.method, started, exc)
            _log_failure(context, exc)
        raise
    if observer is not None:
        observer.answered(context.method, started, response.status)
    if observation is not None:
        observation.response(response)
        observation.end(None)
    return response


class _StreamAttempts:
    """The streamed responses of one call's attempts, until one of them is the answer.

    Each attempt opens a stream and hands its head to the resilience machinery; an attempt
    that starts means the previous answer was not taken, so its response is released first.
    """

    __slots__ = ("_hook", "_idle", "_opened", "_transport")

    def __init__(
        self,
        transport: HTTPTransportProtocol,
        idle: float | None,
        hook: HTTPObserverProtocol | None = None,
    ) -> None:
        self._transport = transport
        self._idle = idle
        self._hook = hook
        self._opened: list[_Opened] = []

    async def open(self, context: RequestContext) -> HttpResponse:
        """The transport step of an attempt: send, and return the head once it is in."""
        await self.release()
        hook = self._hook
        observation: AttemptObservationProtocol | None = None
        if hook is not None:
            observation = hook.attempt_started(context, True)
        started = time.perf_counter()
        try:
            raw = await self._transport.send_stream(context)
        except BaseException as exc:
            if observation is not None:
                observation.end(exc)
            raise
        try:
            disable_read_timeout(raw)
            chunks = raw.iter_bytes()
            read: list[bytes] = []
            body = b""
            if raw.status >= 400:
                # Bounded, so an error (and HTTPRetryExhaustedError) can show what it says.
                read, body = await read_error_body(raw, chunks, self._idle)
            head = HttpResponse(
                raw.status,
                raw.url,
                raw.method,
                raw.headers,
                body,
                elapsed=time.perf_counter() - started,
            )
        except BaseException as exc:
            await raw.aclose()
            if observation is not None:
                observation.end(exc)
            raise
        if observation is not None:
            observation.response(head)
            if head.status >= 400 and sum(map(len, read)) < ERROR_BODY_BYTES:
                # An error body read to its end: the attempt is over (not after a back-off).
                observation.end(None)
                observation = None
            # Otherwise it stays open until its stream is released (``_Opened.aclose``).
        self._opened.append(_Opened(head, raw, chunks, read, observation))
        return head

    def tag(self, head: HttpResponse) -> None:
        """Record the head the response interceptors returned for the latest attempt."""
        if self._opened:
            self._opened[-1].head = head

    async def take(self, head: HttpResponse) -> _Opened:
        """The stream whose head the call returned; the others are released."""
        chosen = None
        for opened in self._opened:
            if opened.head is head:
                chosen = opened
        if chosen is not None:
            self._opened.remove(chosen)
        await self.release()
        # A head no attempt produced (a pipeline's fallback) streams its own body.
        return chosen if chosen is not None else static_stream(head)

    async def release(self) -> None:
        opened, self._opened = self._opened, []
        for stream in opened:
            await stream.aclose()


class _StreamCall(_Call):
    """A logical call whose attempts open streams (``HTTPClient.stream``)."""

    __slots__ = ("_attempts",)

    def __init__(
        self,
        client: HTTPClient,
        context: RequestContext,
        origin: str,
        deadline: float,
        budget: float,
        attempts: _StreamAttempts,
    ) -> None:
        super().__init__(client, context, origin, deadline, budget)
        self._attempts = attempts

    async def _attempt(self, context: RequestContext) -> HttpResponse:
        attempts = self._attempts
        # No hook: the attempt is observed by ``attempts``, until the stream ends.
        response = await _exchange(self._client, attempts.open, context, None)
        attempts.tag(response)
        return response

"""``Router``: routes, their answers, and the history of every call.

A request is matched against the routes in the order they were added; the first match answers.
No match raises :class:`UnmatchedRequestError`: the router never lets a request through unless a
route says ``pass_through()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, overload
from urllib.parse import urlencode

from lexigram.contracts.web import (
    Headers,
    HeadersInput,
    HttpResponse,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    RequestBody,
    RequestContext,
    StreamingResponseProtocol,
    TimeoutPhase,
    redact_headers,
    redact_url,
)
from lexigram.testing.http._answers import (
    Answer,
    Chunk,
    Handler,
    PassThrough,
    Raise,
    Reply,
    Resolved,
    Stream,
    build_error,
    coerce,
)
from lexigram.testing.http._errors import SequenceExhaustedError, UnmatchedRequestError
from lexigram.testing.http._matching import (
    MISSING,
    JSONPattern,
    Matcher,
    RequestView,
    body_bytes,
    describe_body,
)
from lexigram.testing.http._streaming import MockStreamingResponse

__all__ = ["Call", "CallList", "Route", "Router"]

Sleep = Callable[[float], Awaitable[None]]


def full_url(context: RequestContext) -> str:
    """The URL with ``params`` appended, as the transport puts it on the wire."""
    if not context.params:
        return context.url
    separator = "&" if "?" in context.url else "?"
    return f"{context.url}{separator}{urlencode(context.params)}"


async def _read_body(context: RequestContext) -> RequestContext:
    """``context`` with a body given in chunks (``Multipart``) read into bytes, as a server
    would receive it, so routes match and calls record the bytes."""
    body = context.body
    assert isinstance(body, RequestBody)
    return dataclasses.replace(context, body=await body.read())


def snapshot(context: RequestContext) -> RequestContext:
    """A copy of ``context`` as it was sent; later edits by the client do not reach it."""
    return RequestContext(
        method=context.method,
        url=context.url,
        headers=Headers(context.headers, readonly=True),
        params=list(context.params),
        body=context.body,
        timeout=context.timeout,
        attempt=context.attempt,
        extensions=dict(context.extensions),
        allow_redirects=context.allow_redirects,
        idempotency_key=context.idempotency_key,
    )


class Call:
    """One request the router received, and how it was answered.

    ``request`` is a snapshot of the ``RequestContext`` as the transport received it (method,
    URL, headers, params, serialised body, attempt number, ...); ``route`` the route that
    answered (``None`` if none matched); ``path_params`` the values of the route's ``{name}``
    placeholders or named regex groups. ``response`` is the ``HttpResponse`` (or the streaming
    response) returned, ``error`` the exception raised instead.
    """

    __slots__ = ("_error", "_response", "path_params", "request", "route")

    def __init__(
        self, request: RequestContext, route: Route | None, path_params: dict[str, str]
    ) -> None:
        self.request = request
        self.route = route
        self.path_params = path_params
        self._response: HttpResponse | StreamingResponseProtocol | None = None
        self._error: BaseException | None = None

    @property
    def method(self) -> str:
        """The request method."""
        return self.request.method

    @property
    def url(self) -> str:
        """The request URL as the client built it (``params`` not appended)."""
        return self.request.url

    @property
    def headers(self) -> Headers:
        """The request headers (read-only, case-insensitive)."""
        return self.request.headers

    @property
    def params(self) -> list[tuple[str, str]]:
        """The query parameters the client added to the URL."""
        return self.request.params

    @property
    def body(self) -> bytes | None:
        """The serialised request body."""
        return body_bytes(self.request.body)

    @property
    def json(self) -> Any:
        """The request body parsed as JSON (``None`` without a body)."""
        return HttpResponse(200, body=body_bytes(self.request.body) or b"").json

    @property
    def attempt(self) -> int:
        """The attempt number the client gave this request (1 for the first try)."""
        return self.request.attempt

    @property
    def response(self) -> HttpResponse | StreamingResponseProtocol | None:
        """What the router returned; ``None`` if it raised."""
        return self._response

    @property
    def error(self) -> BaseException | None:
        """What the router raised; ``None`` if it answered."""
        return self._error

    @property
    def status(self) -> int | None:
        """The status answered, ``None`` if the call raised."""
        return None if self._response is None else self._response.status

    def __repr__(self) -> str:
        outcome = (
            f"-> {self.status}"
            if self._response is not None
            else f"-> {type(self._error).__name__}"
            if self._error is not None
            else "(pending)"
        )
        return (
            f"<Call {self.method} {redact_url(full_url(self.request))} "
            f"attempt={self.attempt} {outcome}>"
        )


class CallList(Sequence[Call]):
    """Recorded calls, oldest first, with ``last`` for the newest."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: list[Call] = []

    @overload
    def __getitem__(self, index: int) -> Call: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Call]: ...

    def __getitem__(self, index: int | slice) -> Call | Sequence[Call]:
        return self._calls[index]

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls)

    @property
    def last(self) -> Call:
        """The newest call; ``AssertionError`` when there is none."""
        if not self._calls:
            raise AssertionError("no calls were recorded")
        return self._calls[-1]

    def __repr__(self) -> str:
        return f"CallList({self._calls!r})"


class Route:
    """A request pattern and its answer; built by :meth:`Router.route` and the verb helpers.

    The answer methods return the route, so a route is written on one line::

        router.get("https://api.example.com/v1/invoices/{id}").respond(json={"id": "inv_1"})

    A route without an answer replies ``200`` with an empty body. Setting an answer again
    replaces the previous one.
    """

    __slots__ = ("_answers", "_calls", "_matcher", "_name", "_repeat_last", "_router", "_served")

    def __init__(self, router: Router, matcher: Matcher, name: str | None) -> None:
        self._router = router
        self._matcher = matcher
        self._name = name
        self._answers: tuple[Resolved | Handler, ...] = (Reply(200),)
        self._repeat_last = True
        self._served = 0
        self._calls = CallList()

    @property
    def name(self) -> str | None:
        """The name given to the route, if any."""
        return self._name

    @property
    def label(self) -> str:
        """How messages refer to the route: its name, method and URL pattern (redacted)."""
        described = self._matcher.describe()
        return f"{self._name!r} {described}" if self._name else described

    @property
    def calls(self) -> CallList:
        """The calls this route answered (or failed to), oldest first."""
        return self._calls

    @property
    def called(self) -> bool:
        """Whether the route matched at least one request."""
        return bool(self._calls)

    @property
    def call_count(self) -> int:
        """How many requests the route matched."""
        return len(self._calls)

    # -- answers ------------------------------------------------------------------------------

    def _set(self, answers: tuple[Resolved | Handler, ...], repeat_last: bool) -> Route:
        self._answers = answers
        self._repeat_last = repeat_last
        self._served = 0
        return self

    def respond(
        self,
        status: int = 200,
        *,
        json: Any = MISSING,
        text: str | None = None,
        body: bytes = b"",
        headers: HeadersInput | None = None,
        delay: float = 0.0,
    ) -> Route:
        """Answer every request with this response (see :class:`Reply`)."""
        reply = Reply(status, json=json, text=text, body=body, headers=headers, delay=delay)
        return self._set((reply,), True)

    def raises(
        self, error: BaseException | type[BaseException], /, *, delay: float = 0.0, **kwargs: Any
    ) -> Route:
        """Raise ``error`` for every request (see :class:`Raise`).

        ``route.raises(HTTPConnectionError)``, ``route.raises(HTTPTimeoutError, phase="read")``.
        """
        return self._set((Raise(error, delay=delay, **kwargs),), True)

    def stream(
        self,
        *chunks: bytes | str | Chunk,
        status: int = 200,
        headers: HeadersInput | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        error: BaseException | type[BaseException] | None = None,
    ) -> Route:
        """Answer every request with a streamed body (see :class:`Stream`)."""
        scripted = Stream(
            *chunks,
            status=status,
            headers=headers,
            delay=delay,
            disconnect=disconnect,
            error=error,
        )
        return self._set((scripted,), True)

    def handle(self, handler: Handler) -> Route:
        """Answer with what ``handler(request)`` returns (sync or async; it may raise)."""
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        return self._set((handler,), True)

    def sequence(self, *answers: Answer, repeat_last: bool = False) -> Route:
        """Answer the n-th matching request with the n-th answer.

        Once they are used up, a further request raises :class:`SequenceExhaustedError`, so
        a test notices an unexpected extra attempt; ``repeat_last=True`` repeats the last
        answer instead. ``route.sequence(503, 503, 200)``.
        """
        if not answers:
            raise ValueError("sequence() needs at least one answer")
        return self._set(tuple(coerce(answer) for answer in answers), repeat_last)

    def pass_through(self) -> Route:
        """Send matching requests to the router's ``real_transport`` (the real network)."""
        if self._router.real_transport is None:
            raise ValueError(
                "pass_through() needs a real transport: Router(real_transport=AiohttpTransport())"
            )
        return self._set((PassThrough(),), True)

    def _next_answer(self) -> Resolved | Handler:
        index = self._served
        self._served += 1
        if index < len(self._answers):
            return self._answers[index]
        if self._repeat_last:
            return self._answers[-1]
        raise SequenceExhaustedError(
            f"route {self.label} scripted {len(self._answers)} answers but was called "
            f"{index + 1} times (sequence(..., repeat_last=True) repeats the last answer)",
            route=self,
            call_number=index + 1,
        )

    def reset(self) -> None:
        """Forget the calls and restart the sequence; the answer stays."""
        self._calls._calls.clear()
        self._served = 0

    def __repr__(self) -> str:
        return f"<Route {self.label}>"


class Router:
    """Routes requests to scripted answers; shared by :class:`MockTransport` and
    :class:`FakeHTTPClient`.

    ``base_url`` lets routes use relative URLs (joined as ``BaseURLHTTPClient`` joins paths).
    ``sleep`` is awaited for injected latency and chunk delays (give it ``FakeClock().sleep``
    so nothing really waits). ``real_transport`` serves routes that ``pass_through()``; the
    router does not close it. ``expect_all_called`` tells the pytest fixtures to call
    :meth:`assert_all_called` at teardown.

    Latency and the deadline: when a delay before the response headers is at least the time
    left of the call's deadline (``RequestContext.timeout``), the router sleeps that long and
    raises ``HTTPTimeoutError(phase="deadline")``, as the aiohttp transport does.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        sleep: Sleep = asyncio.sleep,
        real_transport: HTTPTransportProtocol | None = None,
        expect_all_called: bool = True,
    ) -> None:
        if base_url is not None and "://" not in base_url:
            raise ValueError(f"base_url must be an absolute URL, got {redact_url(base_url)!r}")
        self._base_url = base_url
        self._sleep = sleep
        self._real_transport = real_transport
        self.expect_all_called = expect_all_called
        """Whether the pytest fixtures check :meth:`assert_all_called` at teardown."""
        self._routes: list[Route] = []
        self._calls = CallList()

    @property
    def base_url(self) -> str | None:
        """The base of relative route URLs."""
        return self._base_url

    @property
    def sleep(self) -> Sleep:
        """The sleep awaited for injected latency."""
        return self._sleep

    @property
    def real_transport(self) -> HTTPTransportProtocol | None:
        """Where ``pass_through()`` routes send requests."""
        return self._real_transport

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes, in matching order."""
        return tuple(self._routes)

    @property
    def calls(self) -> CallList:
        """Every request received, matched or not, oldest first."""
        return self._calls

    # -- routes --------------------------------------------------------------------------------

    def route(
        self,
        method: str | None = None,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: JSONPattern = MISSING,
        content: bytes | str | None = None,
    ) -> Route:
        """Add a route; ``None`` for ``method`` or ``url`` matches any.

        ``url``: an exact URL, a template (``{id}`` is one path segment, ``{rest:path}`` the
        rest of the path), or a compiled regex searched in the URL without its query; a
        relative URL is joined to ``base_url``. ``params`` and ``headers`` match partially
        (header names in any case); ``json`` matches the parsed body partially; ``content``
        the raw body exactly. ``ANY`` matches any value. ``name`` labels the route in messages
        and ``router[name]``.
        """
        if name is not None and any(route.name == name for route in self._routes):
            raise ValueError(f"a route is already named {name!r}")
        if json is not MISSING and content is not None:
            raise TypeError("pass json= or content=, not both")
        matcher = Matcher(
            method,
            url,
            base_url=self._base_url,
            params=params,
            headers=headers,
            json=json,
            content=content,
        )
        route = Route(self, matcher, name)
        self._routes.append(route)
        return route

    def get(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Route:
        """Add a GET route (see :meth:`route`)."""
        return self.route("GET", url, name=name, params=params, headers=headers)

    def head(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Route:
        """Add a HEAD route (see :meth:`route`)."""
        return self.route("HEAD", url, name=name, params=params, headers=headers)

    def options(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> Route:
        """Add an OPTIONS route (see :meth:`route`)."""
        return self.route("OPTIONS", url, name=name, params=params, headers=headers)

    def post(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: JSONPattern = MISSING,
        content: bytes | str | None = None,
    ) -> Route:
        """Add a POST route (see :meth:`route`)."""
        return self.route(
            "POST", url, name=name, params=params, headers=headers, json=json, content=content
        )

    def put(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: JSONPattern = MISSING,
        content: bytes | str | None = None,
    ) -> Route:
        """Add a PUT route (see :meth:`route`)."""
        return self.route(
            "PUT", url, name=name, params=params, headers=headers, json=json, content=content
        )

    def patch(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: JSONPattern = MISSING,
        content: bytes | str | None = None,
    ) -> Route:
        """Add a PATCH route (see :meth:`route`)."""
        return self.route(
            "PATCH", url, name=name, params=params, headers=headers, json=json, content=content
        )

    def delete(
        self,
        url: str | re.Pattern[str] | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        json: JSONPattern = MISSING,
        content: bytes | str | None = None,
    ) -> Route:
        """Add a DELETE route (see :meth:`route`)."""
        return self.route(
            "DELETE", url, name=name, params=params, headers=headers, json=json, content=content
        )

    def __getitem__(self, name: str) -> Route:
        for route in self._routes:
            if route.name == name:
                return route
        raise KeyError(name)

    # -- checks --------------------------------------------------------------------------------

    def assert_all_called(self) -> None:
        """Raise ``AssertionError`` naming every route that matched no request."""
        uncalled = [route for route in self._routes if not route.called]
        if uncalled:
            names = "\n".join(f"  {route.label}" for route in uncalled)
            count = f"{len(uncalled)} route{'s were' if len(uncalled) > 1 else ' was'}"
            raise AssertionError(f"{count} never called:\n{names}")

    def reset(self) -> None:
        """Forget every call and restart every sequence; the routes stay."""
        self._calls._calls.clear()
        for route in self._routes:
            route.reset()

    # -- dispatch ------------------------------------------------------------------------------

    async def handle(self, context: RequestContext) -> HttpResponse:
        """Answer ``context`` with a complete response (what ``MockTransport.send`` does)."""
        if isinstance(context.body, RequestBody):
            context = await _read_body(context)
        result = await self._dispatch(context, stream=False)
        assert isinstance(result, HttpResponse)
        return result

    async def handle_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        """Answer ``context`` with a streaming response (``MockTransport.send_stream``)."""
        if isinstance(context.body, RequestBody):
            context = await _read_body(context)
        result = await self._dispatch(context, stream=True)
        assert not isinstance(result, HttpResponse)
        return result

    async def _dispatch(
        self, context: RequestContext, *, stream: bool
    ) -> HttpResponse | StreamingResponseProtocol:
        request = snapshot(context)
        view = RequestView(request)
        route: Route | None = None
        path_params: dict[str, str] = {}
        for candidate in self._routes:
            found = candidate._matcher.match(view)
            if found is not None:
                route, path_params = candidate, found
                break
        call = Call(request, route, path_params)
        self._calls._calls.append(call)
        try:
            if route is None:
                raise self._unmatched(request, view)
            route._calls._calls.append(call)
            result = await self._play(route._next_answer(), request, context, stream)
        except BaseException as exc:
            call._error = exc
            raise
        call._response = result
        return result

    def _unmatched(self, request: RequestContext, view: RequestView) -> UnmatchedRequestError:
        lines = [
            f"no route matches {request.method} {redact_url(full_url(request))}",
            f"  headers: {redact_headers(request.headers)}",
            f"  body: {describe_body(body_bytes(request.body), request.headers)}",
        ]
        closest: Route | None = None
        differences: tuple[str, ...] = ()
        if not self._routes:
            lines.append("no routes are registered")
        else:
            scored = [
                (route, route._matcher.differences(view)) for route in self._routes
            ]  # min() keeps the first of equals: the earliest route wins a tie.
            closest, found = min(scored, key=lambda pair: sum(weight for weight, _ in pair[1]))
            differences = tuple(text for _, text in found)
            total = len(self._routes)
            lines.append(
                f"closest route (of {total}): {closest.label}"
                if total > 1
                else f"the only route: {closest.label}"
            )
            lines.extend(f"  {text}" for text in differences)
        return UnmatchedRequestError(
            "\n".join(lines), request=request, closest=closest, differences=differences
        )

    async def _wait(self, delay: float, context: RequestContext) -> None:
        """Sleep ``delay`` before the response headers, bounded by the call's deadline."""
        if delay <= 0:
            return
        budget = context.timeout
        if budget is not None and delay >= budget:
            await self._sleep(budget)
            raise HTTPTimeoutError(
                f"deadline exceeded waiting for the response headers for {context.method} "
                f"{redact_url(context.url)}",
                phase=TimeoutPhase.DEADLINE,
                timeout=budget,
                method=context.method,
                url=context.url,
            )
        await self._sleep(delay)

    async def _play(
        self,
        answer: Resolved | Handler,
        request: RequestContext,
        context: RequestContext,
        stream: bool,
    ) -> HttpResponse | StreamingResponseProtocol:
        if not isinstance(answer, Reply | Stream | Raise | HttpResponse | PassThrough):
            produced = answer(request)
            if inspect.isawaitable(produced):
                produced = await produced
            answer = coerce(produced)
            if not isinstance(answer, Reply | Stream | Raise | HttpResponse | PassThrough):
                raise TypeError("a handler must return an answer, not another function")
        if isinstance(answer, PassThrough):
            transport = self._real_transport
            assert transport is not None  # checked by pass_through()
            if stream:
                return await transport.send_stream(context)
            return await transport.send(context)
        if isinstance(answer, Raise):
            await self._wait(answer.delay, context)
            raise answer.build(request)
        if isinstance(answer, HttpResponse):
            return self._streamed(answer, request) if stream else answer
        await self._wait(answer.delay, context)
        if isinstance(answer, Reply):
            response = self._response(answer, request)
            return self._streamed(response, request) if stream else response
        streaming = self._stream(answer, request)
        if stream:
            return streaming
        body = await streaming.aread()
        elapsed = answer.delay + sum(chunk.delay for chunk in answer.chunks)
        return HttpResponse(
            streaming.status,
            streaming.url,
            request.method,
            streaming.headers,
            body,
            elapsed=elapsed,
        )

    def _response(self, reply: Reply, request: RequestContext) -> HttpResponse:
        # HEAD answers carry the headers of the GET answer but no body.
        body = b"" if request.method == "HEAD" else reply.body
        return HttpResponse(
            reply.status,
            full_url(request),
            request.method,
            reply.headers,
            body,
            elapsed=reply.delay,
        )

    def _streamed(self, response: HttpResponse, request: RequestContext) -> MockStreamingResponse:
        return MockStreamingResponse(
            status=response.status,
            url=response.url or full_url(request),
            method=request.method,
            headers=response.headers,
            chunks=[Chunk(response.body)] if response.body else [],
            end=None,
            sleep=self._sleep,
        )

    def _stream(self, scripted: Stream, request: RequestContext) -> MockStreamingResponse:
        url = full_url(request)
        end: Callable[[bytes], BaseException] | None = None
        if scripted.disconnect:

            def end(received: bytes) -> BaseException:
                return HTTPStreamDisconnectedError(
                    received=received, method=request.method, url=url
                )

        elif scripted.error is not None:
            error = scripted.error

            def end(received: bytes) -> BaseException:
                return build_error(error, request)

        return MockStreamingResponse(
            status=scripted.status,
            url=url,
            method=request.method,
            headers=scripted.headers,
            chunks=scripted.chunks,
            end=end,
            sleep=self._sleep,
        )

    def __repr__(self) -> str:
        return f"<Router {len(self._routes)} routes, {len(self._calls)} calls>"

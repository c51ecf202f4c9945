"""``ReplayTransport``: a cassette played back at the transport seam, strictly."""

from __future__ import annotations

import asyncio
import json as _jsonlib
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HttpResponse,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    RequestContext,
    StreamingResponseProtocol,
    TimeoutPhase,
    redact_url,
)
from lexigram.testing.http._answers import Chunk
from lexigram.testing.http._cassette import (
    Cassette,
    CassetteError,
    Interaction,
    RecordedResponse,
)
from lexigram.testing.http._errors import UnmatchedRequestError
from lexigram.testing.http._matching import (
    MISSING,
    Check,
    Matcher,
    RequestView,
    _content_difference,
    _shown,
)
from lexigram.testing.http._recorder import record_request
from lexigram.testing.http._router import Call, CallList, Route, Router, full_url
from lexigram.testing.http._streaming import MockStreamingResponse

__all__ = ["BodyMatcher", "Pace", "ReplayTransport"]

BodyMatcher: TypeAlias = Literal["json", "exact", "ignore"] | Callable[[bytes, bytes], bool]
"""How request bodies are compared: ``"json"`` (parsed, when both are JSON; else exact),
``"exact"`` (bytes), ``"ignore"``, or a function ``(recorded, sent) -> bool``. Both bodies are
compared redacted, as the cassette stores them."""

Pace: TypeAlias = Literal["instant", "recorded"]
"""``"instant"``: no waiting; ``"recorded"``: latency and chunk gaps as recorded, slept on the
transport's ``sleep`` (a fake clock's sleep takes no real time)."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]

_BODY_MODES: Final = ("json", "exact", "ignore")
_PACES: Final = ("instant", "recorded")
_MAX_DIFFS: Final = 5


class _NotJSON:
    __slots__ = ()


_NOT_JSON: Final = _NotJSON()


def _json(body: bytes) -> Any:
    if not body.strip():
        return _NOT_JSON
    try:
        return _jsonlib.loads(body)
    except ValueError:
        return _NOT_JSON


def _same(expected: Any, actual: Any) -> bool:
    # True == 1 in Python, not in JSON.
    return isinstance(expected, bool) is isinstance(actual, bool) and expected == actual


def _json_diff(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    """Strict JSON comparison: every difference, with its path (up to a few)."""
    if len(found) >= _MAX_DIFFS:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{path}[{key!r}]: missing")
            else:
                _json_diff(value, actual[key], f"{path}[{key!r}]", found)
        found.extend(
            f"{path}[{key!r}]: not in the recorded body" for key in actual if key not in expected
        )
        return
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (item, other) in enumerate(zip(expected, actual, strict=True)):
            _json_diff(item, other, f"{path}[{index}]", found)
        return
    if not _same(expected, actual):
        found.append(f"{path}: expected {_shown(expected)}, got {_shown(actual)}")


def _body_check(recorded: bytes, mode: BodyMatcher) -> Check | None:
    if mode == "ignore":
        return None
    if callable(mode):
        matcher = mode

        def custom(view: RequestView) -> str | None:
            if matcher(recorded, view.body or b""):
                return None
            return "body: the body matcher rejected it"

        return custom
    recorded_json = _json(recorded) if mode == "json" else _NOT_JSON

    def check(view: RequestView) -> str | None:
        sent = view.body or b""
        if recorded_json is not _NOT_JSON:
            sent_json = _json(sent)
            if sent_json is not _NOT_JSON:
                found: list[str] = []
                _json_diff(recorded_json, sent_json, "body", found)
                return "; ".join(found) if found else None
        problem = _content_difference(recorded, sent)
        return None if problem is None else problem.replace("content:", "body:", 1)

    return check


def _without_userinfo(url: str) -> str:
    """``url`` without its user-info: never matched on, and ``[REDACTED]@`` is no valid host
    syntax for ``urlsplit``."""
    start = url.find("//")
    if start == -1:
        return url
    start += 2
    end = len(url)
    for mark in "/?#":
        found = url.find(mark, start)
        if found != -1:
            end = min(end, found)
    at = url.rfind("@", start, end)
    return url if at == -1 else url[:start] + url[at + 1 :]


def _query_check(expected: Iterable[tuple[str, str]]) -> Check:
    names = {name for name, _ in expected}

    def check(view: RequestView) -> str | None:
        extra = sorted({name for name, _ in view.query} - names)
        return f"query: params not in the recording: {', '.join(extra)}" if extra else None

    return check


def _absent_check(name: str) -> Check:
    def check(view: RequestView) -> str | None:
        if view.headers.get(name) is None:
            return None
        return f"header {name!r}: sent, but not in the recorded request"

    return check


class _Player:
    """What the transports replaying one cassette share: routes, what was played, history."""

    def __init__(
        self,
        cassette: Cassette,
        match_headers: tuple[str, ...],
        match_body: BodyMatcher,
        pace: Pace,
        sleep: Sleep,
    ) -> None:
        self.cassette = cassette
        self.pace = pace
        self.sleep = sleep
        self.router = Router(sleep=sleep, expect_all_called=False)
        # Live requests are redacted as the recording was, then compared with it.
        self.scrubber = cassette.redaction.scrubber()
        self.entries: list[tuple[Route, Interaction]] = []
        self.played: list[bool] = []
        for index, interaction in enumerate(cassette.interactions):
            route = self._route(index, interaction, match_headers, match_body)
            self.entries.append((route, interaction))
            self.played.append(False)

    def _route(
        self,
        index: int,
        interaction: Interaction,
        match_headers: tuple[str, ...],
        match_body: BodyMatcher,
    ) -> Route:
        request = interaction.request
        recorded_headers = Headers(request.headers)
        headers: dict[str, str] = {}
        checks: list[Check] = []
        for name in match_headers:
            value = recorded_headers.get(name)
            if value is None:
                checks.append(_absent_check(name))
            else:
                headers[name] = value
        matcher = Matcher(
            request.method,
            _without_userinfo(request.url),
            base_url=None,
            params=None,
            headers=headers,
            json=MISSING,
            content=None,
            literal_url=True,
        )
        checks.append(_query_check(matcher.url.query if matcher.url is not None else ()))
        body_check = _body_check(request.body or b"", match_body)
        if body_check is not None:
            checks.append(body_check)
        matcher.checks = tuple(checks)
        route = Route(self.router, matcher, f"#{index}")
        self.router._routes.append(route)
        return route

    @property
    def where(self) -> str:
        return f"cassette {self.cassette.path}" if self.cassette.path else "the cassette"

    def select(self, context: RequestContext) -> tuple[Call, int | None]:
        """Record the call; the index of the first unplayed interaction matching it, if any.

        ``None`` when nothing matches (the caller raises or falls back).
        """
        recorded = record_request(context, self.scrubber)
        request = RequestContext(
            method=recorded.method,
            url=_without_userinfo(recorded.url),
            headers=Headers(recorded.headers, readonly=True),
            body=recorded.body,
            timeout=context.timeout,
            attempt=context.attempt,
            extensions=dict(context.extensions),
            allow_redirects=context.allow_redirects,
            idempotency_key=context.idempotency_key,
        )
        view = RequestView(request)
        call = Call(request, None, {})
        self.router._calls._calls.append(call)
        for index, (route, _) in enumerate(self.entries):
            if not self.played[index] and route._matcher.match(view) is not None:
                self.played[index] = True
                call.route = route
                route._calls._calls.append(call)
                return call, index
        return call, None

    def unmatched(self, call: Call) -> AssertionError:
        request = call.request
        view = RequestView(request)
        played = [
            route
            for index, (route, _) in enumerate(self.entries)
            if self.played[index] and route._matcher.match(view) is not None
        ]
        if played:
            count = len(played)
            return CassetteError(
                f"{self.where}: {request.method} {request.url} was recorded {count} "
                f"time{'s' if count > 1 else ''}, and every one was already played; this is "
                f"request {count + 1} (an attempt the recording did not have?)"
            )
        error = self.router._unmatched(request, view)
        return UnmatchedRequestError(
            f"{self.where}: no recorded interaction matches this request "
            f"(record it with --record-mode=new_episodes, or again with all)\n{error}",
            request=error.request,
            closest=error.closest,
            differences=error.differences,
        )

    def unplayed(self) -> list[Interaction]:
        return [
            interaction
            for (_, interaction), played in zip(self.entries, self.played, strict=True)
            if not played
        ]

    async def play(
        self, index: int, context: RequestContext, stream: bool
    ) -> HttpResponse | StreamingResponseProtocol:
        interaction = self.entries[index][1]
        paced = self.pace == "recorded"
        if interaction.error is not None:
            if paced and interaction.error.at > 0:
                await self.sleep(interaction.error.at)
            raise interaction.error.build(context.method, context.url)
        response = interaction.response
        assert response is not None
        url = self._url(response, interaction, context)
        headers = Headers(response.headers, readonly=True)
        if response.chunks is None:
            body = response.body or b""
            if paced:
                await self.router._wait(response.elapsed, context)
            if stream:
                chunks = [Chunk(body)] if body else []
                return MockStreamingResponse(
                    status=response.status,
                    url=url,
                    method=context.method,
                    headers=headers,
                    chunks=chunks,
                    end=None,
                    sleep=self.sleep,
                )
            return HttpResponse(
                response.status, url, context.method, headers, body, elapsed=response.elapsed
            )
        if paced:
            await self.router._wait(response.headers_at, context)
        streaming = self._stream(index, response, url, headers, context.method, paced)
        if stream:
            return streaming
        body = await streaming.aread()
        end = response.end.at if response.end is not None else response.headers_at
        return HttpResponse(response.status, url, context.method, headers, body, elapsed=end)

    def _url(
        self, response: RecordedResponse, interaction: Interaction, context: RequestContext
    ) -> str:
        # Not redirected: the URL really requested (the recording keeps it redacted).
        if response.url == interaction.request.url:
            return full_url(context)
        return response.url

    def _stream(
        self,
        index: int,
        response: RecordedResponse,
        url: str,
        headers: Headers,
        method: str,
        paced: bool,
    ) -> MockStreamingResponse:
        assert response.chunks is not None
        chunks: list[Chunk] = []
        previous = response.headers_at
        for recorded in response.chunks:
            delay = max(0.0, recorded.at - previous) if paced else 0.0
            previous = recorded.at
            chunks.append(Chunk(recorded.data, delay=delay))
        end = response.end
        finish: Callable[[bytes], BaseException] | None = None
        if end is None or end.kind == "closed":
            where = self.where

            def finish(received: bytes) -> BaseException:
                return CassetteError(
                    f"{where}, interaction #{index}: the recording of this stream stops after "
                    f"{len(received)} bytes (the reader closed it then), but the code read on"
                )

        elif end.kind == "error":
            error = end.error
            assert error is not None

            def finish(received: bytes) -> BaseException:
                return error.build(method, url, received)

        elif end.kind == "stall":
            waited = end.waited or 0.0
            if paced and waited:
                chunks.append(Chunk(b"", delay=waited))

            def finish(received: bytes) -> BaseException:
                return HTTPTimeoutError(
                    f"idle timeout: no data for {waited:g} s for {method} {redact_url(url)} "
                    "(replayed from a cassette: the recorded stream went silent here)",
                    phase=TimeoutPhase.IDLE,
                    timeout=waited,
                    method=method,
                    url=url,
                )

        return MockStreamingResponse(
            status=response.status,
            url=url,
            method=method,
            headers=headers,
            chunks=chunks,
            end=finish,
            sleep=self.sleep,
        )


class ReplayTransport:
    """An ``HTTPTransportProtocol`` answering from a :class:`Cassette`, never the network.

    A request matches a recorded one on its method, its URL (query included, exactly: no
    parameter more or less), the headers named in ``match_headers`` and its body
    (``match_body``), all compared redacted; the first unplayed match answers, so a recorded
    503-then-200 retry plays back in order. A request that matches nothing raises
    :class:`UnmatchedRequestError` with the closest recorded request and what differs, unless
    ``fallback`` is given (``new_episodes``: unmatched requests go there, typically a
    :class:`RecordingTransport` into the same cassette). Responses come back as recorded:
    status, final URL, headers, body; streams chunk by chunk, ending as they ended (a
    disconnect, a read timeout, a stall past the reader's idle timeout). ``pace`` chooses
    instant replay or the recorded timing, slept on ``sleep``.

    :attr:`unplayed` lists the recorded interactions not played yet;
    :meth:`assert_all_played` fails on any. :attr:`calls` is the history of requests.
    """

    __slots__ = ("_closed", "_fallback", "_player")

    def __init__(
        self,
        cassette: Cassette,
        *,
        match_headers: Iterable[str] = (),
        match_body: BodyMatcher = "json",
        pace: Pace = "instant",
        sleep: Sleep = asyncio.sleep,
        fallback: HTTPTransportProtocol | None = None,
    ) -> None:
        if not isinstance(cassette, Cassette):
            raise TypeError(f"cassette must be a Cassette, not {type(cassette).__name__}")
        if isinstance(match_headers, str):
            raise TypeError("match_headers must be an iterable of header names, not a string")
        names = tuple(match_headers)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"match_headers must contain strings, got {type(name).__name__}")
        if not callable(match_body) and match_body not in _BODY_MODES:
            raise ValueError(
                f"match_body must be one of {list(_BODY_MODES)} or a function, got {match_body!r}"
            )
        if pace not in _PACES:
            raise ValueError(f"pace must be one of {list(_PACES)}, got {pace!r}")
        self._player = _Player(cassette, names, match_body, pace, sleep)
        self._fallback = fallback
        self._closed = False

    @classmethod
    def _sharing(cls, player: _Player, fallback: HTTPTransportProtocol | None) -> ReplayTransport:
        transport = cls.__new__(cls)
        transport._player = player
        transport._fallback = fallback
        transport._closed = False
        return transport

    def fork(self, *, fallback: HTTPTransportProtocol | None = None) -> ReplayTransport:
        """Another transport replaying the same cassette: what one plays, the other will not.

        For a second client in the same test (each client closes its own transport).
        """
        return self._sharing(self._player, fallback)

    @property
    def cassette(self) -> Cassette:
        """The cassette played."""
        return self._player.cassette

    @property
    def router(self) -> Router:
        """The router holding one route per recorded interaction (named ``#index``)."""
        return self._player.router

    @property
    def calls(self) -> CallList:
        """Every request received (redacted, as compared), oldest first."""
        return self._player.router.calls

    @property
    def unplayed(self) -> list[Interaction]:
        """The recorded interactions no request has matched yet."""
        return self._player.unplayed()

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def assert_all_played(self) -> None:
        """Raise :class:`CassetteError` listing every recorded interaction not played."""
        unplayed = self._player.unplayed()
        if not unplayed:
            return
        lines = "\n".join(
            f"  #{self._player.cassette.interactions.index(item)} {item.describe()}"
            for item in unplayed
        )
        count = len(unplayed)
        raise CassetteError(
            f"{self._player.where}: {count} recorded interaction"
            f"{'s were' if count > 1 else ' was'} never played:\n{lines}\n"
            "(the code no longer sends them? re-record with --record-mode=all, or opt out with "
            "allow_unplayed=True)"
        )

    async def _send(
        self, context: RequestContext, stream: bool
    ) -> HttpResponse | StreamingResponseProtocol:
        if self._closed:
            raise ClientClosedError(
                "the replay transport is closed (did another client close it?)",
                method=context.method,
                url=context.url,
            )
        player = self._player
        call, index = player.select(context)
        try:
            if index is None:
                if self._fallback is None:
                    raise player.unmatched(call)
                result: HttpResponse | StreamingResponseProtocol
                if stream:
                    result = await self._fallback.send_stream(context)
                else:
                    result = await self._fallback.send(context)
            else:
                result = await player.play(index, context, stream)
        except BaseException as exc:
            call._error = exc
            raise
        call._response = result
        return result

    async def send(self, context: RequestContext) -> HttpResponse:
        """Answer with the recorded response, read whole."""
        result = await self._send(context, stream=False)
        assert isinstance(result, HttpResponse)
        return result

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        """Answer with the recorded response, streamed chunk by chunk."""
        result = await self._send(context, stream=True)
        assert not isinstance(result, HttpResponse)
        return result

    async def aclose(self) -> None:
        """Mark the transport closed (and close ``fallback``); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._fallback is not None:
            await self._fallback.aclose()

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
        state = "closed" if self._closed else "open"
        played = sum(self._player.played)
        return (
            f"<ReplayTransport {state} {played}/{len(self._player.entries)} played "
            f"{self._player.cassette!r}>"
        )

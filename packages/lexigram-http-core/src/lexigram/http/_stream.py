"""``StreamResponse``: a response read as it arrives, as bytes, lines, SSE events or NDJSON.

``HTTPClient.stream()`` / ``BaseURLHTTPClient.stream()`` open it (see ``_client``): the
request goes through interceptors, resilience and per-attempt metrics up to the response
headers; from then on the body belongs to the caller and is never retried.

Timeouts: the call's deadline ends with the headers. The body is bounded by an idle timeout,
the longest wait for the next chunk, enforced here (not by the transport) so that it applies
to every transport and can differ per call. It is one timer per idle period, not per chunk:
each read only records when it started; the timer, when it fires, checks whether a read has
been waiting for the whole period, and re-arms itself otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBodyTooLargeError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPEventStreamError,
    HttpResponse,
    HTTPStatusError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    HTTPUsageError,
    ServerSentEvent,
    SSEReconnect,
    StreamingResponseProtocol,
    TimeoutPhase,
    redact_url,
)
from lexigram.http._decoders import LineDecoder, NDJSONDecoder, SSEDecoder

if TYPE_CHECKING:
    from lexigram.contracts.observability import AttemptObservationProtocol
    from lexigram.http._observe import _Observer

__all__ = ["SSEReconnect", "StreamContext", "StreamResponse"]

ERROR_BODY_BYTES: Final = 64 * 1024
"""How much of an error response's body (status >= 400) is read into ``head.body``."""

# A timer may run up to the loop's clock resolution early: closer than this to the due time
# counts as due, so the idle timer never re-arms itself for a few microseconds.
_SLACK: Final = 1e-3


@dataclass(frozen=True, slots=True)
class _StreamOptions:
    """The per-call stream settings (validated by the client)."""

    idle_timeout: float | None
    max_line_bytes: int
    max_event_bytes: int
    reconnect: SSEReconnect | None
    max_body_bytes: int
    sse: bool = False


class _Opened:
    """One connection's response: its head (after interceptors), the raw body, what of the
    body was already read (the start of an error body), and the attempt's observation (ended
    with the stream, with the error that ended it, if any)."""

    __slots__ = ("chunks", "error", "head", "observation", "pending", "raw")

    def __init__(
        self,
        head: HttpResponse,
        raw: StreamingResponseProtocol | None,
        chunks: AsyncIterator[bytes],
        pending: Iterable[bytes] = (),
        observation: AttemptObservationProtocol | None = None,
    ) -> None:
        self.head = head
        self.raw = raw
        self.chunks = chunks
        self.pending = deque(pending)
        self.observation = observation
        self.error: BaseException | None = None

    async def aclose(self) -> None:
        try:
            if self.raw is not None:
                await self.raw.aclose()
        finally:
            observation = self.observation
            if observation is not None:
                self.observation = None
                observation.end(self.error)


async def _replay(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def static_stream(head: HttpResponse) -> _Opened:
    """A stream over a complete response (e.g. a pipeline's fallback answer)."""
    return _Opened(head, None, _replay([head.body] if head.body else []))


def disable_read_timeout(raw: StreamingResponseProtocol) -> None:
    """Hand the body's silence bound to the stream's idle timer.

    The aiohttp transport bounds every socket read by ``read_timeout``; for a stream, the idle
    timeout replaces it (it may be longer, and it is per call). Other transports have no such
    bound, or enforce their own.
    """
    setter = getattr(raw, "set_read_timeout", None)
    if setter is not None:
        setter(None)


async def read_error_body(
    raw: StreamingResponseProtocol, chunks: AsyncIterator[bytes], idle: float | None
) -> tuple[list[bytes], bytes]:
    """Read the start of an error body: ``ERROR_BODY_BYTES`` at most, within ``idle``.

    Returns the chunks read (replayed to whoever iterates the body) and the bounded body.
    A body that ends within the bound has released its connection by then.
    """
    read: list[bytes] = []
    total = 0
    try:
        async with asyncio.timeout(idle if idle is not None and math.isfinite(idle) else None):
            async for chunk in chunks:
                read.append(chunk)
                total += len(chunk)
                if total >= ERROR_BODY_BYTES:
                    break
    except TimeoutError as exc:
        if isinstance(exc, HTTPClientError):
            raise
        raise HTTPTimeoutError(
            phase=TimeoutPhase.IDLE, timeout=idle, method=raw.method, url=raw.url
        ) from None
    return read, b"".join(read)[:ERROR_BODY_BYTES]


def _is_event_stream(content_type: str | None) -> bool:
    return (
        content_type is not None
        and content_type.partition(";")[0].strip().lower() == "text/event-stream"
    )


class _IdleWatch:
    """The idle timer of a stream: cancels a read that waited ``timeout`` seconds.

    The cancellation protocol is that of ``asyncio.timeout``: :meth:`expired` tells whether
    a ``CancelledError`` was ours (and withdraws it), so an outer cancellation is never
    turned into a timeout.
    """

    __slots__ = ("_cancelling", "_fired", "_handle", "_loop", "_since", "_task", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._since = 0.0
        self._fired = False
        self._cancelling = 0

    def begin(self) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - reads happen in tasks
            return
        self._task = task
        self._cancelling = task.cancelling()
        self._since = now = self._loop.time()
        if self._handle is None:
            self._handle = self._loop.call_at(now + self.timeout, self._check)

    def end(self) -> None:
        self._task = None

    def _check(self) -> None:
        self._handle = None
        task = self._task
        if task is None:
            return  # no read waiting: the next one re-arms the timer
        due = self._since + self.timeout
        if due - self._loop.time() > _SLACK:
            self._handle = self._loop.call_at(due, self._check)
            return
        self._fired = True
        task.cancel()

    def expired(self) -> bool:
        """After a ``CancelledError`` in a read: was it this timer's?"""
        if not self._fired:
            return False
        self._fired = False
        task = asyncio.current_task()
        return task is not None and task.uncancel() <= self._cancelling

    def close(self) -> None:
        self._task = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


Reopen = Callable[[str | None], Awaitable[_Opened]]
"""Sends the stream's request again with this ``Last-Event-ID`` (``None``: no header)."""


class StreamResponse:
    """A streamed response: the headers are in, the body is read as you iterate.

    ``status``, ``url``, ``method``, ``headers``, ``reason``, ``ok`` describe the response
    (as the response interceptors returned its head); :meth:`raise_for_status` raises the same
    :class:`HTTPStatusError` as the verbs, its ``response`` holding the first 64 KiB of the
    error body.

    The body can be read once, in one of these forms:

    - ``async for line in response`` or :meth:`lines`: text lines (LF, CRLF or CR; UTF-8);
    - :meth:`iter_bytes` (alias :meth:`bytes`): raw chunks as they arrive; :meth:`aread`: all;
    - :meth:`sse`: :class:`ServerSentEvent` objects (WHATWG parsing; :attr:`last_event_id`
      and :attr:`retry` follow the stream), reconnecting if the call asked for it;
    - :meth:`ndjson`: one parsed JSON value per line.

    A line longer than ``max_line_bytes`` or an event larger than ``max_event_bytes`` raises
    :class:`HTTPStreamLimitError`; a bad NDJSON line raises :class:`HTTPDecodeError` with its
    line number; a connection lost mid-body raises :class:`HTTPStreamDisconnectedError`
    (with the tail of what arrived); no data for the idle timeout raises
    :class:`HTTPTimeoutError` with phase ``idle``. Any of these, the end of the body,
    :meth:`aclose`, or leaving ``async with`` releases the connection.
    """

    __slots__ = (
        "__weakref__",
        "_anext",
        "_closed",
        "_consumed",
        "_decoder",
        "_finished",
        "_first_byte",
        "_iterator",
        "_last_event_id",
        "_observer",
        "_opened",
        "_options",
        "_pending",
        "_reader",
        "_received",
        "_reconnects",
        "_reopen",
        "_request_method",
        "_shut",
        "_sleep",
        "_started",
        "_watch",
    )

    def __init__(
        self,
        opened: _Opened,
        options: _StreamOptions,
        *,
        request_method: str,
        started: float,
        observer: _Observer | None = None,
        reopen: Reopen | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        last_event_id: str | None = None,
    ) -> None:
        self._opened = opened
        self._anext = opened.chunks.__anext__
        self._pending = opened.pending
        self._options = options
        self._request_method = request_method
        self._started = started
        self._observer = observer
        self._reopen = reopen
        self._sleep = sleep
        self._last_event_id = last_event_id
        idle = options.idle_timeout
        self._watch = _IdleWatch(idle) if idle is not None and math.isfinite(idle) else None
        self._decoder: SSEDecoder | None = None
        self._iterator: weakref.ref[AsyncIterator[Any]] | None = None
        self._received = 0
        self._reconnects = 0
        self._first_byte = observer is not None or opened.observation is not None
        self._consumed = False
        self._closed = False
        self._finished = False
        # The client closing (see _shutdown): _shut[0] is set, and the task waiting in a read
        # (or a reconnection) is cancelled; _shut[1] says that cancellation is still pending.
        self._shut = [False, False]
        self._reader: asyncio.Task[Any] | None = None

    # -- the head ---------------------------------------------------------------------------

    @property
    def head(self) -> HttpResponse:
        """The response head as interceptors returned it (body empty, or the start of an
        error body)."""
        return self._opened.head

    @property
    def status(self) -> int:
        """The status code."""
        return self._opened.head.status

    @property
    def url(self) -> str:
        """The final URL (unredacted)."""
        return self._opened.head.url

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._opened.head.method

    @property
    def headers(self) -> Headers:
        """The response headers: case-insensitive and read-only."""
        return self._opened.head.headers

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status."""
        return self._opened.head.reason

    @property
    def ok(self) -> bool:
        """``status < 400``."""
        return self._opened.head.status < 400

    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to its response headers (last attempt)."""
        return self._opened.head.elapsed

    @property
    def bytes_received(self) -> int:
        """Body bytes handed out so far (across reconnections)."""
        return self._received

    @property
    def last_event_id(self) -> str | None:
        """The SSE last event ID: the ``Last-Event-ID`` a reconnection would send."""
        decoder = self._decoder
        return self._last_event_id if decoder is None else decoder.last_event_id

    @property
    def retry(self) -> int | None:
        """The SSE reconnection time in milliseconds, if the server sent one."""
        decoder = self._decoder
        return None if decoder is None else decoder.retry

    @property
    def reconnects(self) -> int:
        """How many times :meth:`sse` reconnected."""
        return self._reconnects

    @property
    def is_closed(self) -> bool:
        """Whether the body ended or the connection was released."""
        return self._finished

    def raise_for_status(self) -> Self:
        """Raise :class:`HTTPStatusError` if ``status >= 400``; return ``self`` otherwise.

        The error's ``response`` carries the first 64 KiB of the error body.
        """
        head = self._opened.head
        if head.status >= 400:
            raise HTTPStatusError(response=head)
        return self

    # -- reading ----------------------------------------------------------------------------

    def _take(self, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if self._consumed or self._closed:
            raise HTTPUsageError(
                "the stream's body was already read or closed", method=self.method, url=self.url
            )
        self._consumed = True
        self._iterator = weakref.ref(iterator)
        return iterator

    def __aiter__(self) -> AsyncIterator[str]:
        return self.lines()

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in raw chunks, as they arrive."""
        return self._take(self._chunks())

    def lines(self) -> AsyncIterator[str]:
        """Yield the body's text lines (without line ends)."""
        decoder = LineDecoder(max_line_bytes=self._options.max_line_bytes)
        return self._take(self._items(decoder.feed, decoder.flush))

    def ndjson(self) -> AsyncIterator[Any]:
        """Yield one parsed JSON value per line; blank lines are skipped."""
        decoder = NDJSONDecoder(max_line_bytes=self._options.max_line_bytes)
        return self._take(self._items(decoder.iter_feed, decoder.flush))

    def sse(self) -> AsyncIterator[ServerSentEvent]:
        """Yield the server-sent events (reconnecting if the call passed ``reconnect=``)."""
        options = self._options
        decoder = SSEDecoder(
            max_line_bytes=options.max_line_bytes,
            max_event_bytes=options.max_event_bytes,
            last_event_id=self._last_event_id,
        )
        if options.reconnect is None:
            iterator = self._items(decoder.iter_feed, decoder.flush)
        else:
            iterator = self._reconnecting(decoder, options.reconnect)
        self._take(iterator)
        self._decoder = decoder
        return iterator

    async def aread(self) -> bytes:
        """Read the rest of the body (``max_response_bytes`` at most, else
        ``HTTPBodyTooLargeError``)."""
        limit = self._options.max_body_bytes
        chunks: list[bytes] = []
        total = 0
        async for chunk in self.iter_bytes():
            total += len(chunk)
            if total > limit:
                await self.aclose()
                raise HTTPBodyTooLargeError(limit=limit, method=self.method, url=self.url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _client_closed(self) -> None:
        """The client is closing: end a waiting read now, and any later one, with
        ``ClientClosedError``."""
        shut = self._shut
        if shut[0] or self._finished:
            return
        shut[0] = True
        reader = self._reader
        if reader is None:
            return
        try:
            current = asyncio.current_task()
        except RuntimeError:  # closed from a synchronous teardown
            current = None
        if reader is not current:
            shut[1] = True
            reader.cancel()

    def _closed_error(self) -> ClientClosedError:
        return ClientClosedError(method=self.method, url=self.url)

    def _ours(self, task: asyncio.Task[Any] | None) -> bool:
        """After a ``CancelledError`` in a read: was it only the client closing?"""
        shut = self._shut
        if task is None or not shut[1]:
            return False
        shut[1] = False
        return task.uncancel() == 0

    async def _read(self) -> bytes:
        """The next chunk of the body, ``b""`` at its end; idle-bounded."""
        pending = self._pending
        if pending:
            chunk = pending.popleft()
        else:
            if self._shut[0]:
                raise self._closed_error()
            # Kept for _client_closed(): the task to cancel if the client closes meanwhile.
            self._reader = task = asyncio.current_task()
            watch = self._watch
            try:
                while True:
                    if watch is None:
                        try:
                            chunk = await self._anext()
                        except StopAsyncIteration:
                            return b""
                    else:
                        watch.begin()
                        try:
                            chunk = await self._anext()
                        except StopAsyncIteration:
                            return b""
                        except asyncio.CancelledError:
                            if watch.expired():
                                raise HTTPTimeoutError(
                                    phase=TimeoutPhase.IDLE,
                                    timeout=watch.timeout,
                                    method=self.method,
                                    url=self.url,
                                ) from None
                            raise
                        finally:
                            watch.end()
                    if chunk:
                        break
            except asyncio.CancelledError:
                if self._ours(task):
                    raise self._closed_error() from None
                raise
            finally:
                self._reader = None
        self._received += len(chunk)
        if self._first_byte:
            self._first_byte = False
            observer = self._observer
            if observer is not None:
                observer.stream_ttfb(self._request_method, observer.elapsed(self._started))
            observation = self._opened.observation
            if observation is not None:
                observation.first_byte()
        return chunk

    async def _closable(self, awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` (a reconnection wait) so that the client closing ends it."""
        if self._shut[0]:
            raise self._closed_error()
        self._reader = task = asyncio.current_task()
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._ours(task):
                raise self._closed_error() from None
            raise
        finally:
            self._reader = None

    async def _chunks(self) -> AsyncIterator[bytes]:
        read = self._read
        try:
            while chunk := await read():
                yield chunk
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):  # GeneratorExit: the reader stopped
                self._opened.error = exc
            raise
        finally:
            await self._finish()

    async def _items(
        self, feed: Callable[[bytes], Iterable[Any]], flush: Callable[[], Iterable[Any]]
    ) -> AsyncIterator[Any]:
        read = self._read
        try:
            while chunk := await read():
                for item in feed(chunk):
                    yield item
            for item in flush():
                yield item
        except (HTTPStreamLimitError, HTTPDecodeError) as exc:
            located = self._opened.error = self._locate(exc)
            raise located from None
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):  # GeneratorExit: the reader stopped
                self._opened.error = exc
            raise
        finally:
            await self._finish()

    async def _reconnecting(
        self, decoder: SSEDecoder, reconnect: SSEReconnect
    ) -> AsyncIterator[ServerSentEvent]:
        read = self._read
        failures = 0
        try:
            if not self._usable():
                return
            while True:
                error: HTTPClientError | None = None
                try:
                    while chunk := await read():
                        for event in decoder.iter_feed(chunk):
                            failures = 0
                            yield event
                except (HTTPConnectionError, HTTPTimeoutError) as exc:
                    error = exc
                decoder.flush()
                self._opened.error = error
                await self._opened.aclose()
                if error is None and not reconnect.reconnect_on_end:
                    return
                while True:
                    failures += 1
                    if failures > reconnect.max_reconnects:
                        if error is not None:
                            raise error
                        return
                    await self._closable(self._sleep(reconnect.delay(decoder.retry)))
                    try:
                        await self._closable(self._switch(decoder.last_event_id))
                    except (HTTPConnectionError, HTTPTimeoutError) as exc:
                        error = exc
                        continue
                    break
                if not self._usable():
                    return
        except (HTTPStreamLimitError, HTTPDecodeError) as exc:
            located = self._opened.error = self._locate(exc)
            raise located from None
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):  # GeneratorExit: the reader stopped
                self._opened.error = exc
            raise
        finally:
            await self._finish()

    def _usable(self) -> bool:
        """For a reconnecting SSE stream: go on reading this response? (EventSource rules)

        Only a 200 ``text/event-stream`` response is an event stream; 204 means "stop" and
        ends the events quietly; anything else ends them with an error.
        """
        head = self._opened.head
        status = head.status
        if status >= 400:
            raise HTTPStatusError(response=head)
        if status == 204:
            return False
        content_type = head.headers.get("Content-Type")
        if status != 200 or not _is_event_stream(content_type):
            raise HTTPEventStreamError(
                status=status, content_type=content_type, method=head.method, url=head.url
            )
        return True

    async def _switch(self, last_event_id: str | None) -> None:
        reopen = self._reopen
        assert reopen is not None  # set whenever reconnect= is
        opened = await reopen(last_event_id)
        self._opened = opened
        self._anext = opened.chunks.__anext__
        self._pending = opened.pending
        self._reconnects += 1

    def _locate(self, exc: HTTPStreamLimitError | HTTPDecodeError) -> HTTPClientError:
        """The decoder's error, with this stream's method and URL."""
        method, url = self.method, self.url
        if isinstance(exc, HTTPStreamLimitError):
            return HTTPStreamLimitError(
                limit_name=exc.limit_name, limit=exc.limit, method=method, url=url
            )
        return HTTPDecodeError(
            what=exc.what,
            line=exc.line,
            position=exc.position,
            detail=exc.detail,
            method=method,
            url=url,
        )

    async def _finish(self) -> None:
        """The body is over (read, failed or abandoned): release and record, once."""
        if self._finished:
            return
        self._finished = True
        if self._watch is not None:
            self._watch.close()
        observer = self._observer
        if observer is not None:
            observer.stream_duration(self._request_method, observer.elapsed(self._started))
        await self._opened.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        ref = self._iterator
        iterator = None if ref is None else ref()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            # RuntimeError: another task is iterating it right now; releasing ends that read.
            with contextlib.suppress(RuntimeError):
                await aclose()
        await self._finish()

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
        state = " closed" if self._finished else ""
        return f"<StreamResponse {self.status} {self.method} {redact_url(self.url)}{state}>"

    # Last, so that ``bytes`` in the annotations above is still the builtin type.
    bytes = iter_bytes


class StreamContext:
    """What ``stream()`` returns: ``async with client.stream(...) as response``.

    The request is sent on entry (raising connection errors and timeouts); the response is
    closed on exit, however the block ends.
    """

    __slots__ = ("_open", "_response")

    def __init__(self, open_: Callable[[], Awaitable[StreamResponse]]) -> None:
        self._open: Callable[[], Awaitable[StreamResponse]] | None = open_
        self._response: StreamResponse | None = None

    async def __aenter__(self) -> StreamResponse:
        open_ = self._open
        if open_ is None:
            raise HTTPUsageError("a stream() context can be entered once")
        self._open = None
        self._response = response = await open_()
        return response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        response = self._response
        if response is not None:
            await response.aclose()

    def __repr__(self) -> str:
        return f"<StreamContext {'open' if self._response is not None else 'unopened'}>"

    if not TYPE_CHECKING:  # run-time hints only: type checkers keep flagging the misuse

        def __aiter__(self):
            raise TypeError(_USE_ASYNC_WITH)

        def __await__(self):
            raise TypeError(_USE_ASYNC_WITH)


_USE_ASYNC_WITH: Final = (
    "stream() returns an async context manager, not an iterator or an awaitable: "
    "`async with client.stream(method, url) as response:` then `async for line in response` "
    "(or response.sse(), response.ndjson(), response.iter_bytes())"
)

"""What a route answers: a response, a stream, an error, a function, or a sequence of those."""

from __future__ import annotations

import copy
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from lexigram.contracts.web import (
    Headers,
    HeadersInput,
    HTTPClientError,
    HttpResponse,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.testing.http._matching import MISSING

__all__ = ["Answer", "Chunk", "Handler", "HandlerResult", "Raise", "Reply", "Stream"]


def _delay(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"delay must be a number of seconds, not {type(value).__name__}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"delay must be >= 0 seconds, got {value!r}")
    return float(value)


class Reply:
    """A scripted response: ``status`` plus at most one of ``json``, ``text``, ``body``.

    ``json=`` and ``text=`` set a default ``Content-Type`` as ``HttpResponse`` does. ``delay``
    is the latency before the headers arrive, awaited with the router's ``sleep``. Answering a
    HEAD request drops the body, as a server does; through ``send_stream`` the body arrives as
    one chunk.
    """

    __slots__ = ("_response", "delay")

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = MISSING,
        text: str | None = None,
        body: bytes = b"",
        headers: HeadersInput | None = None,
        delay: float = 0.0,
    ) -> None:
        if json is MISSING:
            template = HttpResponse(status, headers=headers, body=body, text=text)
        else:
            template = HttpResponse(status, headers=headers, body=body, json=json, text=text)
        # Built once, so a bad combination fails where the test scripts it.
        self._response = template
        self.delay = _delay(delay)

    @property
    def status(self) -> int:
        """The status code."""
        return self._response.status

    @property
    def headers(self) -> Headers:
        """The response headers (read-only)."""
        return self._response.headers

    @property
    def body(self) -> bytes:
        """The encoded body."""
        return self._response.body

    def __repr__(self) -> str:
        delay = f", delay={self.delay:g}" if self.delay else ""
        return f"Reply({self.status}, <{len(self.body)} bytes>{delay})"


class Chunk:
    """One piece of a streamed body, sent ``delay`` seconds after the previous one."""

    __slots__ = ("data", "delay")

    def __init__(self, data: bytes | str, *, delay: float = 0.0) -> None:
        self.data = data.encode() if isinstance(data, str) else bytes(data)
        self.delay = _delay(delay)

    def __repr__(self) -> str:
        delay = f", delay={self.delay:g}" if self.delay else ""
        return f"Chunk({self.data!r}{delay})"


class Stream:
    """A scripted streamed response: headers first, then ``chunks`` one by one.

    ``chunks`` are ``bytes``, ``str`` (UTF-8) or :class:`Chunk` (to pause before one).
    ``delay`` is the latency before the headers. After the last chunk the stream ends cleanly,
    or, with ``disconnect=True``, raises ``HTTPStreamDisconnectedError`` carrying the bytes sent,
    or raises ``error`` (an instance, copied per call, or a class, built with the request's
    method and URL), e.g. ``HTTPTimeoutError(phase="idle")``. Read through ``send`` (a full
    read), the chunks are joined and the same ending applies.
    """

    __slots__ = ("chunks", "delay", "disconnect", "error", "headers", "status")

    def __init__(
        self,
        *chunks: bytes | str | Chunk,
        status: int = 200,
        headers: HeadersInput | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        error: BaseException | type[BaseException] | None = None,
    ) -> None:
        if disconnect and error is not None:
            raise TypeError("pass disconnect=True or error=, not both")
        self.chunks = tuple(chunk if isinstance(chunk, Chunk) else Chunk(chunk) for chunk in chunks)
        self.status = status
        self.headers = Headers(headers, readonly=True)
        self.delay = _delay(delay)
        self.disconnect = disconnect
        self.error = error

    def __repr__(self) -> str:
        size = sum(len(chunk.data) for chunk in self.chunks)
        end = ", disconnect=True" if self.disconnect else ""
        if self.error is not None:
            end = f", error={self.error!r}"
        return f"Stream({self.status}, {len(self.chunks)} chunks, {size} bytes{end})"


class Raise:
    """A scripted failure: raise ``error`` instead of answering.

    An exception instance is copied on each call (so tracebacks do not pile up); an exception
    class is instantiated on each call with ``kwargs`` and, for lexigram errors, the request's
    ``method`` and ``url``: ``Raise(HTTPTimeoutError, phase="connect")``. A timeout class
    without ``phase`` is a ``read`` timeout, as a silent server causes (the ``deadline`` phase
    is what latency past the call's deadline produces). ``delay`` is how long the failure
    takes to happen.
    """

    __slots__ = ("delay", "error", "kwargs")

    def __init__(
        self,
        error: BaseException | type[BaseException],
        /,
        *,
        delay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if isinstance(error, BaseException):
            if kwargs:
                raise TypeError("keyword arguments are only for an exception class")
        elif not (isinstance(error, type) and issubclass(error, BaseException)):
            raise TypeError(f"expected an exception or exception class, got {error!r}")
        self.error = error
        self.kwargs = kwargs
        self.delay = _delay(delay)

    def build(self, context: RequestContext) -> BaseException:
        """The exception to raise for ``context``."""
        return build_error(self.error, context, self.kwargs)

    def __repr__(self) -> str:
        error = self.error.__name__ if isinstance(self.error, type) else repr(self.error)
        return f"Raise({error})"


def build_error(
    error: BaseException | type[BaseException],
    context: RequestContext,
    kwargs: dict[str, Any] | None = None,
) -> BaseException:
    """A fresh exception: a copy of an instance, or a class built for ``context``."""
    if isinstance(error, BaseException):
        return copy.copy(error)
    arguments = dict(kwargs or {})
    if issubclass(error, HTTPClientError):
        arguments.setdefault("method", context.method)
        arguments.setdefault("url", context.url)
        if issubclass(error, HTTPTimeoutError):
            # What a silent server causes; "deadline" comes from latency past the deadline.
            arguments.setdefault("phase", TimeoutPhase.READ)
    return error(**arguments)


HandlerResult: TypeAlias = Reply | Stream | Raise | HttpResponse | int
"""What a handler function may return (it may also raise)."""

Handler: TypeAlias = Callable[[RequestContext], HandlerResult | Awaitable[HandlerResult]]
"""A function answering a request: sync or async, given a snapshot of the ``RequestContext``."""

Answer: TypeAlias = (
    Reply | Stream | Raise | HttpResponse | int | BaseException | type[BaseException] | Handler
)
"""Anything a route can answer with: an ``int`` is ``Reply(status)``, an exception (instance or
class) is ``Raise(error)``, a callable is a handler."""


class PassThrough:
    """Send the request to the router's real transport."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PassThrough()"


Resolved: TypeAlias = Reply | Stream | Raise | HttpResponse | PassThrough


def coerce(answer: Any) -> Resolved | Handler:
    """Normalise what a test passed as an answer; ``TypeError`` for anything else."""
    if isinstance(answer, Reply | Stream | Raise | HttpResponse | PassThrough):
        return answer
    if isinstance(answer, bool):
        raise TypeError(f"not an answer: {answer!r}")
    if isinstance(answer, int):
        return Reply(answer)
    if isinstance(answer, BaseException) or (
        isinstance(answer, type) and issubclass(answer, BaseException)
    ):
        return Raise(answer)
    if callable(answer):
        handler: Handler = answer
        return handler
    raise TypeError(
        "an answer is a Reply, Stream, Raise, HttpResponse, status code, exception or "
        f"function, not {type(answer).__name__}"
    )

"""The errors of lexigram-http.

```
HTTPClientError(Exception)               message, method, url (redacted)
├── HTTPStatusError                      status, response
├── HTTPConnectionError (+ConnectionError)
│   └── HTTPStreamDisconnectedError      received, bytes_received
├── HTTPTimeoutError (+TimeoutError)     phase: TimeoutPhase, timeout
├── HTTPRedirectError                    reason, location (redacted), max_redirects
├── HTTPBlockedAddressError              host, address (SSRF guard)
├── HTTPCircuitOpenError                 breaker, key, retry_after
├── HTTPRetryExhaustedError              attempts, last_error, last_response
├── HTTPRejectedError                    reason (load shedding)
│   ├── HTTPBulkheadFullError
│   └── HTTPRateLimitedError             retry_after
├── HTTPInterceptorError                 interceptor, phase (chained from the cause)
├── HTTPDecodeError (+ValueError)        what, line, position
├── HTTPStreamError                      streaming protocol errors
│   ├── HTTPStreamLimitError             limit_name, limit
│   └── HTTPEventStreamError             status, content_type (not an event stream)
├── HTTPBodyTooLargeError                limit
└── HTTPUsageError                       programming errors
    ├── InvalidURLError (+ValueError)
    ├── InvalidHeaderError (+ValueError) header
    └── ClientClosedError (+RuntimeError)
```

The verbs of ``HTTPClient`` return ``HTTPStatusError``, ``HTTPConnectionError``,
``HTTPTimeoutError``, ``HTTPRedirectError`` and ``HTTPBlockedAddressError`` inside ``Err``
(each one is caused by the remote side or the address it points to); the others are raised.
Subclassing the builtins means code that already catches ``ConnectionError`` /
``TimeoutError`` / ``ValueError`` keeps working.

Every constructor takes keyword arguments with defaults, every error pickles with all its
attributes (errors cross process boundaries in task queues), and URLs are redacted when
stored, so ``str()``, ``repr()`` and logs never show credentials. A pickled error carries a
*redacted* copy of its responses (``response``, ``last_response``): the URL redacted and the
values of sensitive headers (``Set-Cookie``...) replaced; the body is kept. ``__cause__`` is
not pickled (Python never pickles it).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from lexigram.contracts.web._redaction import redact_url

if TYPE_CHECKING:
    from lexigram.contracts.web._models import HttpResponse

__all__ = [
    "ClientClosedError",
    "HTTPBlockedAddressError",
    "HTTPBodyTooLargeError",
    "HTTPBulkheadFullError",
    "HTTPCircuitOpenError",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPDecodeError",
    "HTTPEventStreamError",
    "HTTPInterceptorError",
    "HTTPRateLimitedError",
    "HTTPRedirectError",
    "HTTPRejectedError",
    "HTTPRetryExhaustedError",
    "HTTPStatusError",
    "HTTPStreamDisconnectedError",
    "HTTPStreamError",
    "HTTPStreamLimitError",
    "HTTPTimeoutError",
    "HTTPUsageError",
    "InvalidHeaderError",
    "InvalidURLError",
    "TimeoutPhase",
]


class TimeoutPhase(enum.StrEnum):
    """Which time budget ran out."""

    CONNECT = "connect"
    """Establishing the TCP/TLS connection."""
    POOL = "pool"
    """Waiting for a free connection in the pool."""
    READ = "read"
    """Waiting for data on an open connection (per socket read)."""
    DEADLINE = "deadline"
    """The total budget of the logical call, retries included."""
    IDLE = "idle"
    """No data on a stream for too long."""


def _target(method: str | None, url: str | None) -> str:
    # ``url`` is already redacted by the time it gets here.
    parts = [part for part in (method, url) if part]
    return f" for {' '.join(parts)}" if parts else ""


def _redacted_state(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with every response replaced by its redacted copy (what pickles carry)."""
    from lexigram.contracts.web._models import HttpResponse

    return {
        name: value._redacted() if isinstance(value, HttpResponse) else value
        for name, value in state.items()
    }


def _restore(cls: type[HTTPClientError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    # Bypasses __init__: the keyword-only constructors cannot be replayed from ``args``.
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class HTTPClientError(Exception):
    """Base class of every lexigram-http error.

    ``method`` and ``url`` describe the request when known; ``url`` is stored redacted.
    """

    message: str
    method: str | None
    url: str | None

    def __init__(
        self, message: str = "", *, method: str | None = None, url: str | None = None
    ) -> None:
        self.method = method
        self.url = None if url is None else redact_url(url)
        self.message = message or self._default_message()
        super().__init__(self.message)

    def _default_message(self) -> str:
        return f"HTTP request failed{_target(self.method, self.url)}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Responses are pickled redacted: pickles end up in result stores and task queues.
        return (_restore, (type(self), self.args, _redacted_state(self.__dict__)))

    def __str__(self) -> str:
        return self.message


class HTTPStatusError(HTTPClientError):
    """The server answered with a status of 400 or more; ``response`` is that answer."""

    status: int
    response: HttpResponse

    def __init__(self, message: str = "", *, response: HttpResponse) -> None:
        self.status = response.status
        self.response = response
        super().__init__(message, method=response.method or None, url=response.url or None)

    def _default_message(self) -> str:
        reason = self.response.reason
        status = f"{self.status} {reason}" if reason else str(self.status)
        return f"HTTP {status}{_target(self.method, self.url)}"


class HTTPConnectionError(HTTPClientError, ConnectionError):
    """The connection could not be established or broke before a response was read."""

    def _default_message(self) -> str:
        return f"connection failed{_target(self.method, self.url)}"


class HTTPStreamDisconnectedError(HTTPConnectionError):
    """A streamed body stopped before its end.

    ``received`` holds what arrived before the drop (possibly only its tail, if the reader kept
    a bounded buffer); ``bytes_received`` counts every byte that arrived.
    """

    received: bytes
    bytes_received: int

    def __init__(
        self,
        message: str = "",
        *,
        received: bytes = b"",
        bytes_received: int | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.received = received
        self.bytes_received = len(received) if bytes_received is None else bytes_received
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        # The count, never the bytes: a body can carry secrets.
        return (
            f"stream disconnected after {self.bytes_received} bytes{_target(self.method, self.url)}"
        )


class HTTPTimeoutError(HTTPClientError, TimeoutError):
    """A time budget ran out; ``phase`` says which, ``timeout`` its length in seconds."""

    phase: TimeoutPhase
    timeout: float | None

    def __init__(
        self,
        message: str = "",
        *,
        phase: TimeoutPhase | str = TimeoutPhase.DEADLINE,
        timeout: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.phase = TimeoutPhase(phase)
        self.timeout = timeout
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        after = f" after {self.timeout:g}s" if self.timeout is not None else ""
        return f"{self.phase} timeout{after}{_target(self.method, self.url)}"


class HTTPCircuitOpenError(HTTPClientError):
    """The circuit breaker ``breaker`` refused the call for ``key`` (usually an origin)."""

    breaker: str
    key: str | None
    retry_after: float | None

    def __init__(
        self,
        message: str = "",
        *,
        breaker: str = "",
        key: str | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.breaker = breaker
        # Keys are origins in practice, but a caller may key on a full URL.
        self.key = None if key is None else redact_url(key)
        self.retry_after = retry_after
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        key = f" for {self.key}" if self.key else ""
        retry = f"; retry after {self.retry_after:g}s" if self.retry_after is not None else ""
        return f"circuit breaker {self.breaker!r} is open{key}{retry}"


class HTTPRedirectError(HTTPClientError):
    """A redirect could not be followed: too many hops (a loop), or a ``Location`` that is not
    a usable http(s) URL. The server's doing, so the verbs return it in ``Err``.

    ``reason`` says which; ``location`` is the offending ``Location`` (redacted, ``None`` for
    too many hops); ``max_redirects`` is the limit in force (``http.max_redirects``).
    """

    reason: str
    location: str | None
    max_redirects: int | None

    def __init__(
        self,
        message: str = "",
        *,
        reason: str = "",
        location: str | None = None,
        max_redirects: int | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.reason = reason or "redirect failed"
        self.location = None if location is None else redact_url(location)
        self.max_redirects = max_redirects
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        location = f" (Location: {self.location!r})" if self.location is not None else ""
        return f"{self.reason}{location}{_target(self.method, self.url)}"


class HTTPBlockedAddressError(HTTPClientError):
    """The SSRF guard refused to connect (``http.allow_private_networks: false``).

    ``host`` resolved to ``address``, a loopback, private, link-local, multicast or reserved
    address. Checked after DNS resolution, on every connection (redirects included).
    """

    host: str
    address: str

    def __init__(
        self,
        message: str = "",
        *,
        host: str = "",
        address: str = "",
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.host = host
        self.address = address
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        return (
            f"refused to connect to {self.host!r}: it resolves to the non-public address "
            f"{self.address} (http.allow_private_networks is false)"
            f"{_target(self.method, self.url)}"
        )


class HTTPRetryExhaustedError(HTTPClientError):
    """Every attempt allowed by the retry policy failed with a retryable outcome.

    ``last_error`` or ``last_response`` is the outcome of the final attempt.
    """

    attempts: int
    last_error: HTTPClientError | None
    last_response: HttpResponse | None

    def __init__(
        self,
        message: str = "",
        *,
        attempts: int = 0,
        last_error: HTTPClientError | None = None,
        last_response: HttpResponse | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.attempts = attempts
        self.last_error = last_error
        self.last_response = last_response
        if method is None and url is None:
            if last_response is not None:
                method, url = last_response.method or None, last_response.url or None
            elif last_error is not None:
                method, url = last_error.method, last_error.url
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        text = f"gave up after {self.attempts} attempts{_target(self.method, self.url)}"
        if self.last_error is not None:
            return f"{text}: {self.last_error}"
        if self.last_response is not None:
            return f"{text}: last response was HTTP {self.last_response.status}"
        return text


class HTTPRejectedError(HTTPClientError):
    """The call was shed before it was sent; ``reason`` says why."""

    reason: str

    def __init__(
        self,
        message: str = "",
        *,
        reason: str = "",
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.reason = reason or self._default_reason()
        super().__init__(message, method=method, url=url)

    def _default_reason(self) -> str:
        return "rejected"

    def _default_message(self) -> str:
        return f"request rejected ({self.reason}){_target(self.method, self.url)}"


class HTTPBulkheadFullError(HTTPRejectedError):
    """The bulkhead had no free slot (and no queue room) for the call."""

    def _default_reason(self) -> str:
        return "bulkhead full"


class HTTPRateLimitedError(HTTPRejectedError):
    """The client-side rate limiter refused the call; ``retry_after`` is a hint in seconds."""

    retry_after: float | None

    def __init__(
        self,
        message: str = "",
        *,
        reason: str = "",
        retry_after: float | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, reason=reason, method=method, url=url)

    def _default_reason(self) -> str:
        return "rate limited"


class HTTPInterceptorError(HTTPClientError):
    """An interceptor raised; raised ``from`` the original exception.

    ``interceptor`` is the interceptor's class name, ``phase`` is ``"request"`` or
    ``"response"``.
    """

    interceptor: str
    phase: str

    def __init__(
        self,
        message: str = "",
        *,
        interceptor: str = "",
        phase: str = "request",
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.interceptor = interceptor
        self.phase = phase
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        name = self.interceptor or "interceptor"
        return f"{name} failed in the {self.phase} phase{_target(self.method, self.url)}"


class HTTPDecodeError(HTTPClientError, ValueError):
    """A body (or a stream line or event) could not be decoded.

    ``what`` names what failed (``"JSON body"``, ``"NDJSON line"``...), ``line`` is the 1-based
    NDJSON line number, ``position`` the character offset reported by the decoder, ``detail``
    the decoder's own explanation.
    """

    what: str
    line: int | None
    position: int | None
    detail: str

    def __init__(
        self,
        message: str = "",
        *,
        what: str = "response body",
        line: int | None = None,
        position: int | None = None,
        detail: str = "",
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.what = what
        self.line = line
        self.position = position
        self.detail = detail
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        where = ""
        if self.line is not None:
            where += f" at line {self.line}"
        if self.position is not None:
            where += f" at position {self.position}"
        detail = f": {self.detail}" if self.detail else ""
        return f"could not decode {self.what}{where}{_target(self.method, self.url)}{detail}"


class HTTPStreamError(HTTPClientError):
    """Base class of errors in a streaming protocol (SSE, NDJSON, lines)."""

    def _default_message(self) -> str:
        return f"stream error{_target(self.method, self.url)}"


class HTTPStreamLimitError(HTTPStreamError):
    """A line or event outgrew its limit; ``limit_name`` is the setting, ``limit`` its bytes."""

    limit_name: str
    limit: int

    def __init__(
        self,
        message: str = "",
        *,
        limit_name: str = "",
        limit: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.limit_name = limit_name
        self.limit = limit
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        name = f" {self.limit_name}" if self.limit_name else ""
        return f"stream exceeded{name} ({self.limit} bytes){_target(self.method, self.url)}"


class HTTPEventStreamError(HTTPStreamError):
    """A response that should open an event stream is not one: its ``status`` is not 200 or
    its ``content_type`` is not ``text/event-stream`` (the ``EventSource`` rule); reconnecting
    stops there."""

    status: int
    content_type: str | None

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 0,
        content_type: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.content_type = content_type
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        kind = self.content_type if self.content_type is not None else "no Content-Type"
        return (
            f"not an event stream: HTTP {self.status} with {kind}"
            f"{_target(self.method, self.url)} (expected 200 text/event-stream)"
        )


class HTTPBodyTooLargeError(HTTPClientError):
    """A response body exceeded the configured ``limit`` in bytes."""

    limit: int

    def __init__(
        self,
        message: str = "",
        *,
        limit: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.limit = limit
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        return f"response body larger than {self.limit} bytes{_target(self.method, self.url)}"


class HTTPUsageError(HTTPClientError):
    """The client was used wrongly: a bug in the calling code, not a network condition."""

    def _default_message(self) -> str:
        return f"invalid use of the HTTP client{_target(self.method, self.url)}"


class InvalidURLError(HTTPUsageError, ValueError):
    """A URL is malformed, relative where an absolute one is needed, or of another origin."""

    def _default_message(self) -> str:
        return f"invalid URL{_target(self.method, self.url)}"


class InvalidHeaderError(HTTPUsageError, ValueError):
    """A header name is not a token, or a name or value contains CR, LF or NUL.

    ``header`` is the offending name; the value is never included.
    """

    header: str

    def __init__(
        self,
        message: str = "",
        *,
        header: str = "",
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.header = header
        super().__init__(message, method=method, url=url)

    def _default_message(self) -> str:
        return f"invalid header {self.header!r}"


class ClientClosedError(HTTPUsageError, RuntimeError):
    """The client was used after ``aclose()``."""

    def _default_message(self) -> str:
        return f"the HTTP client is closed{_target(self.method, self.url)}"

"""Per-attempt metrics and logs.

Nothing here runs unless it is wanted: the client only builds an ``_Observer`` when a
metrics recorder is given, and the log helpers are only called for failures and return
before formatting anything when the logger is disabled for their level.

Log records read on their own with the default formatter (event, method, redacted URL,
status or error, attempt); the same facts are in the record's ``extra`` fields for structured
handlers. The package logger has a ``NullHandler`` (``lexigram.http.__init__``), so nothing
is printed unless the application configures logging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from lexigram.contracts.observability import MetricsRecorderProtocol
from lexigram.contracts.web import (
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPTimeoutError,
    RequestContext,
    redact_url,
)

__all__: list[str] = []

_logger: Final = logging.getLogger("lexigram.http.client")

_DURATION: Final = "http.request.duration"
_STATUS: Final = "http.request.status"
_STREAM_DURATION: Final = "http.stream.duration"
_STREAM_TTFB: Final = "http.stream.ttfb"

# str(status) for the statuses of the standard (1xx-5xx), made once.
_STATUS_TEXT: Final = {code: str(code) for code in range(100, 600)}

# The tags of an attempt's two metrics, frozen and made once per method (and status): recording
# allocates nothing. Bounded: a method outside the cache gets fresh tags, as before.
_MAX_METHODS: Final = 32
_METHOD_TAGS: dict[str, Mapping[str, str]] = {}
_STATUS_TAGS: dict[str, dict[int | str, Mapping[str, str]]] = {}


def _method_tags(method: str) -> Mapping[str, str]:
    tags = _METHOD_TAGS.get(method)
    if tags is None:
        tags = MappingProxyType({"method": method})
        if len(_METHOD_TAGS) < _MAX_METHODS:
            _METHOD_TAGS[method] = tags
    return tags


def _status_tags(method: str, status: int | str, text: str) -> Mapping[str, str]:
    by_status = _STATUS_TAGS.get(method)
    if by_status is None:
        by_status = {}
        if len(_STATUS_TAGS) < _MAX_METHODS:
            _STATUS_TAGS[method] = by_status
    tags = by_status.get(status)
    if tags is None:
        tags = by_status[status] = MappingProxyType({"method": method, "status": text})
    return tags


_ERROR_RESPONSE: Final = "http.client.error_response"
_CONNECTION_ERROR: Final = "http.client.connection_error"
_TIMEOUT: Final = "http.client.timeout"


class _Observer:
    """Records attempts (the client times them: ``now()`` before, ``answered()`` or
    ``failed()`` after) and the stream figures."""

    __slots__ = ("_clock", "_recorder")

    def __init__(self, recorder: MetricsRecorderProtocol, clock: Callable[[], float]) -> None:
        self._recorder = recorder
        self._clock = clock

    def now(self) -> float:
        """The client's clock: the start of an attempt."""
        return self._clock()

    def answered(self, method: str, started: float, status: int) -> None:
        """Record an attempt that got a response with ``status``."""
        recorder = self._recorder
        method_tags = _METHOD_TAGS.get(method) or _method_tags(method)
        recorder.histogram(_DURATION, self._clock() - started, method_tags)
        by_status = _STATUS_TAGS.get(method)
        if by_status is not None and (tags := by_status.get(status)) is not None:
            recorder.increment(_STATUS, 1.0, tags)
            return
        # The first response of this method and status (or one outside the standard).
        text = _STATUS_TEXT.get(status)
        if text is None:  # not cached: the cache stays bounded
            tags = MappingProxyType({"method": method, "status": str(status)})
        else:
            tags = _status_tags(method, status, text)
        recorder.increment(_STATUS, 1.0, tags)

    def failed(self, method: str, started: float, error: HTTPClientError) -> None:
        """Record an attempt that failed without a usable response."""
        if isinstance(error, HTTPTimeoutError):
            status = "timeout"
        elif isinstance(error, HTTPConnectionError):
            status = "connection_error"
        else:
            # E.g. a body over the size cap: the attempt failed without a usable status.
            status = "error"
        recorder = self._recorder
        recorder.histogram(_DURATION, self._clock() - started, _method_tags(method))
        recorder.increment(_STATUS, 1.0, _status_tags(method, status, status))

    def elapsed(self, started: float) -> float:
        """Seconds since ``started`` on the client's clock."""
        return self._clock() - started

    def stream_ttfb(self, method: str, seconds: float) -> None:
        """``http.stream.ttfb``: from the start of a stream's call to its first body byte."""
        self._recorder.histogram(_STREAM_TTFB, seconds, {"method": method})

    def stream_duration(self, method: str, seconds: float) -> None:
        """``http.stream.duration``: from the start of a stream's call to its end."""
        self._recorder.histogram(_STREAM_DURATION, seconds, {"method": method})


def _log_error_response(context: RequestContext, response: HttpResponse) -> None:
    """Log ``http.client.error_response`` for an attempt answered with a status >= 400.

    A 4xx is an answer the caller handles (INFO); a 5xx is the server failing (WARNING).
    """
    status = response.status
    level = logging.WARNING if status >= 500 else logging.INFO
    if _logger.isEnabledFor(level):
        url = redact_url(context.url)
        _logger.log(
            level,
            "%s: %s %s answered %s (attempt %d)",
            _ERROR_RESPONSE,
            context.method,
            url,
            f"{status} {response.reason}".rstrip(),
            context.attempt,
            extra={
                "event": _ERROR_RESPONSE,
                "http_method": context.method,
                "http_url": url,
                "http_status": status,
                "attempt": context.attempt,
                "elapsed": response.elapsed,
            },
        )


def _log_failure(context: RequestContext, error: HTTPClientError) -> None:
    """Log ``http.client.timeout`` / ``http.client.connection_error`` for a failed attempt."""
    if isinstance(error, HTTPTimeoutError):
        event = _TIMEOUT
    elif isinstance(error, HTTPConnectionError):
        event = _CONNECTION_ERROR
    else:
        return
    if _logger.isEnabledFor(logging.WARNING):
        url = redact_url(context.url)
        # Messages of our errors carry redacted URLs only; never the request's headers.
        text = str(error)
        extra: dict[str, object] = {
            "event": event,
            "http_method": context.method,
            "http_url": url,
            "attempt": context.attempt,
            "error": text,
            "error_type": type(error).__name__,
        }
        if isinstance(error, HTTPTimeoutError):
            extra["timeout_phase"] = str(error.phase)
        _logger.warning(
            "%s: %s %s failed: %s (attempt %d)",
            event,
            context.method,
            url,
            text,
            context.attempt,
            extra=extra,
        )

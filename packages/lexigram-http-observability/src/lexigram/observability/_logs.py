"""Readable logs: a correlation id carried by a contextvar, and per-attempt log records.

Every field goes into ``extra`` (so a JSON formatter gets it as a key) and every URL through
the shared redactor; no header value is ever logged.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Final

from lexigram.contracts.observability import AttemptObservationProtocol
from lexigram.contracts.web import (
    HttpResponse,
    InterceptorProtocol,
    InvalidHeaderError,
    RequestContext,
    redact_url,
)
from lexigram.observability._target import error_type, safe_message, timeout_phase

__all__ = [
    "CORRELATION_HEADER",
    "CorrelationIdInterceptor",
    "CorrelationIdLogFilter",
    "LoggingObserver",
    "correlation_id",
    "current_correlation_id",
]

CORRELATION_HEADER: Final = "X-Correlation-ID"
"""The header :class:`CorrelationIdInterceptor` sends by default."""

_correlation: ContextVar[str | None] = ContextVar("lexigram_correlation_id", default=None)
_logger: Final = logging.getLogger("lexigram.observability.http")


def current_correlation_id() -> str | None:
    """The correlation id of the current context, if one is set."""
    return _correlation.get()


@contextlib.contextmanager
def correlation_id(value: str | None = None) -> Iterator[str]:
    """Set the correlation id for the block (a new UUID4 hex if ``value`` is None).

    Requests sent inside it carry the id (with :class:`CorrelationIdInterceptor`) and log
    records get it as ``record.correlation_id`` (with :class:`CorrelationIdLogFilter`).
    Tasks created inside the block inherit it, as they inherit every contextvar.
    """
    if value is None:
        value = uuid.uuid4().hex
    elif "\r" in value or "\n" in value:
        raise InvalidHeaderError(
            "correlation id must not contain CR or LF", header=CORRELATION_HEADER
        )
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


class CorrelationIdInterceptor(InterceptorProtocol):
    """Sends a correlation id in a header (``X-Correlation-ID`` by default).

    The id is, in order: the call's ``extensions={"correlation_id": ...}``, the current
    :func:`correlation_id` block's, else one made by ``generate`` (default: UUID4 hex) for the
    attempt (``generate=None``: no header then). Wrap a unit of work in ``correlation_id()``
    to give all its calls and their retries one id. A header the request already carries is
    left alone.
    """

    def __init__(
        self,
        header: str = CORRELATION_HEADER,
        *,
        generate: Callable[[], str] | None = lambda: uuid.uuid4().hex,
    ) -> None:
        self.header = header
        self.generate = generate

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        """Add the header."""
        if self.header in context.headers:
            return context
        value = context.extensions.get("correlation_id")
        if value is None:
            value = _correlation.get()
            if value is None:
                if self.generate is None:
                    return context
                value = self.generate()
        context.headers[self.header] = str(value)
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        """Pass the response through."""
        return response

    def __repr__(self) -> str:
        return f"CorrelationIdInterceptor(header={self.header!r})"


class CorrelationIdLogFilter(logging.Filter):
    """Adds ``correlation_id`` (the current one, or None) to every record it sees.

    Attach it to a handler: ``handler.addFilter(CorrelationIdLogFilter())``; then use
    ``%(correlation_id)s`` in a format, or read the attribute in a JSON formatter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``record.correlation_id``; never drops a record."""
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _correlation.get()
        return True


class LoggingObserver:
    """Logs each attempt's end (DEBUG, ``http.client.attempt``), each retry (INFO,
    ``http.client.retry_scheduled``), each refusal (INFO, ``http.client.retry_refused``) and
    breaker transitions (INFO, ``http.client.circuit``) on ``lexigram.observability.http``.

    Fields, in ``extra``: ``event``, ``http_method``, ``http_url`` (redacted), ``attempt``,
    ``http_status``, ``error_type``, ``error`` (our errors' redacted messages only),
    ``timeout_phase``, ``retry_delay``, ``retry_reason``, ``correlation_id``. Nothing is built
    when the logger is disabled for the level.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger if logger is not None else _logger

    def attempt_started(
        self, context: RequestContext, streaming: bool
    ) -> AttemptObservationProtocol | None:
        """Observe the attempt if DEBUG records would be emitted."""
        if not self._logger.isEnabledFor(logging.DEBUG):
            return None
        return _LoggedAttempt(self._logger, context, streaming)

    def retry_scheduled(
        self, context: RequestContext, attempt: int, delay: float, reason: str
    ) -> None:
        """Log ``http.client.retry_scheduled``."""
        if self._logger.isEnabledFor(logging.INFO):
            extra = _fields("http.client.retry_scheduled", context, attempt)
            extra["retry_delay"] = delay
            extra["retry_reason"] = reason
            self._logger.info("http.client.retry_scheduled", extra=extra)

    def retry_refused(self, context: RequestContext, attempt: int, reason: str) -> None:
        """Log ``http.client.retry_refused``."""
        if self._logger.isEnabledFor(logging.INFO):
            extra = _fields("http.client.retry_refused", context, attempt)
            extra["retry_reason"] = reason
            self._logger.info("http.client.retry_refused", extra=extra)

    def breaker_transition(self, breaker: str, key: str, previous: str, current: str) -> None:
        """Log ``http.client.circuit``."""
        if self._logger.isEnabledFor(logging.INFO):
            self._logger.info(
                "http.client.circuit",
                extra={
                    "event": "http.client.circuit",
                    "breaker": breaker,
                    "circuit_key": redact_url(key),
                    "from_state": previous,
                    "to_state": current,
                    "correlation_id": _correlation.get(),
                },
            )


def _fields(event: str, context: RequestContext, attempt: int) -> dict[str, object]:
    return {
        "event": event,
        "http_method": context.method,
        "http_url": redact_url(context.url),
        "attempt": attempt,
        "correlation_id": _correlation.get(),
    }


class _LoggedAttempt:
    __slots__ = ("_extra", "_logger")

    def __init__(self, logger: logging.Logger, context: RequestContext, streaming: bool) -> None:
        self._logger = logger
        self._extra = _fields("http.client.attempt", context, context.attempt)
        self._extra["streaming"] = streaming

    def response(self, response: HttpResponse) -> None:
        self._extra["http_status"] = response.status

    def first_byte(self) -> None:
        pass

    def end(self, error: BaseException | None = None) -> None:
        extra = self._extra
        if error is not None:
            extra["error_type"] = error_type(error)
            extra["error"] = safe_message(error)
            phase = timeout_phase(error)
            if phase is not None:
                extra["timeout_phase"] = phase
        self._logger.debug("http.client.attempt", extra=extra)

"""Contracts of lexigram-http: protocols, ``HttpResponse``, ``Headers``, errors, redaction.

Zero dependencies: domain code depends on these and installs nothing else. The
implementations live in ``lexigram.http`` (lexigram-http-core).
"""

from lexigram.contracts.web._body import RequestBody
from lexigram.contracts.web._errors import (
    ClientClosedError,
    HTTPBlockedAddressError,
    HTTPBodyTooLargeError,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPEventStreamError,
    HTTPInterceptorError,
    HTTPRateLimitedError,
    HTTPRedirectError,
    HTTPRejectedError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPStreamError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidHeaderError,
    InvalidURLError,
    TimeoutPhase,
)
from lexigram.contracts.web._headers import Headers, HeadersInput
from lexigram.contracts.web._models import HttpResponse, RequestContext
from lexigram.contracts.web._protocols import (
    HTTPClientProtocol,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    StreamingResponseProtocol,
)
from lexigram.contracts.web._redaction import (
    REDACTED,
    SENSITIVE_HEADERS,
    SENSITIVE_QUERY_PARAMS,
    Redactor,
    is_sensitive_header,
    redact_headers,
    redact_url,
)
from lexigram.contracts.web._sse import ServerSentEvent

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_PARAMS",
    "ClientClosedError",
    "HTTPBlockedAddressError",
    "HTTPBodyTooLargeError",
    "HTTPBulkheadFullError",
    "HTTPCircuitOpenError",
    "HTTPClientError",
    "HTTPClientProtocol",
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
    "HTTPTransportProtocol",
    "HTTPUsageError",
    "Headers",
    "HeadersInput",
    "HttpResponse",
    "InterceptorChainProtocol",
    "InterceptorProtocol",
    "InvalidHeaderError",
    "InvalidURLError",
    "Redactor",
    "RequestBody",
    "RequestContext",
    "ServerSentEvent",
    "StreamingResponseProtocol",
    "TimeoutPhase",
    "is_sensitive_header",
    "redact_headers",
    "redact_url",
]

"""Contracts of lexigram-http: protocols, ``HttpResponse``, ``Headers``, errors, redaction.

Zero dependencies: domain code depends on these and installs nothing else. The
implementations live in ``lexigram.http`` (lexigram-http-core).
"""

from lexigram.contracts.web._errors import (
    ClientClosedError,
    HTTPBodyTooLargeError,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPInterceptorError,
    HTTPRateLimitedError,
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
from lexigram.contracts.web._options import (
    ParamsInput,
    RequestData,
    RequestOptions,
    StreamOptions,
)
from lexigram.contracts.web._protocols import (
    HTTPClientProtocol,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    StreamingHTTPClientProtocol,
    StreamingResponseProtocol,
    StreamResponseProtocol,
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
from lexigram.contracts.web._sse import ServerSentEvent, SSEReconnect

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_PARAMS",
    "ClientClosedError",
    "HTTPBodyTooLargeError",
    "HTTPBulkheadFullError",
    "HTTPCircuitOpenError",
    "HTTPClientError",
    "HTTPClientProtocol",
    "HTTPConnectionError",
    "HTTPDecodeError",
    "HTTPInterceptorError",
    "HTTPRateLimitedError",
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
    "ParamsInput",
    "Redactor",
    "RequestContext",
    "RequestData",
    "RequestOptions",
    "SSEReconnect",
    "ServerSentEvent",
    "StreamOptions",
    "StreamResponseProtocol",
    "StreamingHTTPClientProtocol",
    "StreamingResponseProtocol",
    "TimeoutPhase",
    "is_sensitive_header",
    "redact_headers",
    "redact_url",
]

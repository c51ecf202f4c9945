"""lexigram.http: the aiohttp-backed outbound HTTP client.

``HTTPClient`` returns ``Result[HttpResponse, HTTPClientError]`` from its verbs;
``BaseURLHTTPClient`` is the SDK-style client for one upstream (paths, default headers).
``stream()`` on both reads a body as it arrives: lines, Server-Sent Events, NDJSON, bytes.
The contracts' response type and errors are re-exported for convenience.
"""

import logging

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBlockedAddressError,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPEventStreamError,
    HTTPInterceptorError,
    HTTPRedirectError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPStreamError,
    HTTPStreamLimitError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidHeaderError,
    InvalidURLError,
    RequestBody,
    RequestContext,
    ServerSentEvent,
    TimeoutPhase,
)
from lexigram.http._base_url import BaseURLHTTPClient
from lexigram.http._client import ClientState, HTTPClient
from lexigram.http._config import (
    BaseURLClientConfig,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
    TLSConfig,
)
from lexigram.http._decoders import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    LineDecoder,
    NDJSONDecoder,
    SSEDecoder,
)
from lexigram.http._interceptors import InterceptorChain
from lexigram.http._module import HTTPModule, HTTPProvider
from lexigram.http._multipart import FileContent, FileInput, Multipart, Readable
from lexigram.http._request import ParamsInput, RequestData
from lexigram.http._retry import DefaultRetryPolicy
from lexigram.http._speedups import fast_json_available, use_fast_json
from lexigram.http._stream import SSEReconnect, StreamContext, StreamResponse
from lexigram.http._transport import AiohttpStreamingResponse, AiohttpTransport

# Library practice: records go nowhere until the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "AiohttpStreamingResponse",
    "AiohttpTransport",
    "BaseURLClientConfig",
    "BaseURLHTTPClient",
    "ClientClosedError",
    "ClientState",
    "DefaultRetryPolicy",
    "FileContent",
    "FileInput",
    "HTTPBlockedAddressError",
    "HTTPCircuitOpenError",
    "HTTPClient",
    "HTTPClientConfig",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPDecodeError",
    "HTTPEventStreamError",
    "HTTPInterceptorError",
    "HTTPModule",
    "HTTPProvider",
    "HTTPRedirectError",
    "HTTPRetryExhaustedError",
    "HTTPStatusError",
    "HTTPStreamDisconnectedError",
    "HTTPStreamError",
    "HTTPStreamLimitError",
    "HTTPTimeoutError",
    "HTTPUsageError",
    "Headers",
    "HttpResponse",
    "InterceptorChain",
    "InvalidHeaderError",
    "InvalidURLError",
    "LineDecoder",
    "Multipart",
    "NDJSONDecoder",
    "ParamsInput",
    "PoolConfig",
    "Readable",
    "RequestBody",
    "RequestContext",
    "RequestData",
    "RetryConfig",
    "SSEDecoder",
    "SSEReconnect",
    "ServerSentEvent",
    "StreamContext",
    "StreamResponse",
    "TLSConfig",
    "TimeoutPhase",
    "fast_json_available",
    "use_fast_json",
]

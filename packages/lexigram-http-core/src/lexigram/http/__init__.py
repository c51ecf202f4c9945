"""lexigram.http: the aiohttp-backed outbound HTTP client.

``HTTPClient`` returns ``Result[HttpResponse, HTTPClientError]`` from its verbs;
``BaseURLHTTPClient`` is the SDK-style client for one upstream (paths, default headers).
The contracts' response type and errors are re-exported for convenience.
"""

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidHeaderError,
    InvalidURLError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http._base_url import BaseURLHTTPClient
from lexigram.http._client import ClientState, HTTPClient
from lexigram.http._config import HTTPClientConfig, PoolConfig, RetryConfig, TLSConfig
from lexigram.http._interceptors import InterceptorChain
from lexigram.http._module import HTTPModule, HTTPProvider
from lexigram.http._request import ParamsInput, RequestData
from lexigram.http._retry import DefaultRetryPolicy
from lexigram.http._transport import AiohttpStreamingResponse, AiohttpTransport

__all__ = [
    "AiohttpStreamingResponse",
    "AiohttpTransport",
    "BaseURLHTTPClient",
    "ClientClosedError",
    "ClientState",
    "DefaultRetryPolicy",
    "HTTPCircuitOpenError",
    "HTTPClient",
    "HTTPClientConfig",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPInterceptorError",
    "HTTPModule",
    "HTTPProvider",
    "HTTPRetryExhaustedError",
    "HTTPStatusError",
    "HTTPTimeoutError",
    "HTTPUsageError",
    "Headers",
    "HttpResponse",
    "InterceptorChain",
    "InvalidHeaderError",
    "InvalidURLError",
    "ParamsInput",
    "PoolConfig",
    "RequestContext",
    "RequestData",
    "RetryConfig",
    "TLSConfig",
    "TimeoutPhase",
]

"""``lexigram.http`` under ``mypy --strict``: what the client and its parts are assignable to.

``assert_type`` pins what mypy infers. Lines marked ``type: ignore[...]`` are calls mypy must
refuse: strict mode reports unused ignores, so the run fails if one is ever accepted.
"""

from __future__ import annotations

from typing import assert_type

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.resilience import RetryPolicyProtocol
from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HttpResponse,
    InterceptorChainProtocol,
    InterceptorProtocol,
)
from lexigram.http import (
    BaseURLHTTPClient,
    DefaultRetryPolicy,
    HTTPClient,
    HTTPClientConfig,
    InterceptorChain,
)
from lexigram.result import Result


def test_the_client_is_an_http_client_protocol() -> None:
    client: HTTPClientProtocol = HTTPClient()
    configured: HTTPClientProtocol = HTTPClient(
        HTTPClientConfig(),
        interceptors=[InterceptorChain()],
        retry_policy=DefaultRetryPolicy(),
        metrics=InMemoryMetricsRecorder(),
    )
    assert client is not configured


def test_the_parts_implement_their_protocols() -> None:
    chain: InterceptorChainProtocol = InterceptorChain()
    interceptor: InterceptorProtocol = chain
    policy: RetryPolicyProtocol = DefaultRetryPolicy()
    assert interceptor is chain
    assert policy is not None


async def _typed_calls(client: HTTPClient, base: BaseURLHTTPClient) -> None:
    # Never awaited by the tests: only mypy reads this.
    assert_type(
        await client.get("https://h/", params={"a": 1}), Result[HttpResponse, HTTPClientError]
    )
    assert_type(
        await client.post("https://h/", json={"a": 1}, timeout=5.0),
        Result[HttpResponse, HTTPClientError],
    )
    assert_type(await base.post("/invoices", json={"amount_cents": 4200}), HttpResponse)
    # Unknown keywords and wrong types are refused statically as well as at run time:
    await client.get("https://h/", jsn={})  # type: ignore[call-arg]
    await client.get("https://h/", timeout="5")  # type: ignore[arg-type]
    await base.get("/x", jsn={})  # type: ignore[call-arg]


def test_typed_calls_exist() -> None:
    assert callable(_typed_calls)

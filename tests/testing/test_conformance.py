"""The real client (over ``MockTransport``) and ``FakeHTTPClient`` both pass the contract."""

from __future__ import annotations

from typing import Any

import pytest

from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HttpResponse,
    HTTPStatusError,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.result import Err, Ok, Result
from lexigram.testing.http import FakeHTTPClient, MockTransport, Router
from lexigram.testing.http.conformance import HTTPClientConformance


class TestHTTPClientConforms(HTTPClientConformance):
    def make_client(self, router: Router) -> HTTPClientProtocol:
        # Single exchanges: retries are a policy, tested in test_real_client.py.
        config = HTTPClientConfig(retry=RetryConfig(enabled=False))
        return HTTPClient(config, transport=MockTransport(router))


class TestFakeHTTPClientConforms(HTTPClientConformance):
    async def make_client(self, router: Router) -> HTTPClientProtocol:
        return FakeHTTPClient(router)


class SwallowsStatusErrors(HTTPClientProtocol):
    """A buggy client: 4xx/5xx come back as Ok."""

    def __init__(self, router: Router) -> None:
        self._inner = FakeHTTPClient(router)

    async def request(
        self, method: str, url: str, **kwargs: Any
    ) -> Result[HttpResponse, HTTPClientError]:
        result = await self._inner.request(method, url, **kwargs)
        if isinstance(result, Err) and isinstance(result.error, HTTPStatusError):
            return Ok(result.error.response)
        return result


class BuggySuite(HTTPClientConformance):  # not collected: no "Test" prefix
    def make_client(self, router: Router) -> HTTPClientProtocol:
        return SwallowsStatusErrors(router)


def test_the_suite_catches_a_client_that_breaks_the_contract() -> None:
    suite = BuggySuite()
    suite.test_status_below_400_is_ok(200)
    with pytest.raises(AssertionError, match=r"expected Err\(HTTPClientError\), got Ok"):
        suite.test_status_from_400_is_err_status(404)


def test_make_client_must_be_implemented() -> None:
    with pytest.raises(NotImplementedError, match="must implement make_client"):
        HTTPClientConformance().test_headers_arrive()

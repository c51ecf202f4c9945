"""``HTTPClientConformance``: the contract of ``HTTPClientProtocol``, as tests to inherit.

Subclass it in a test module (the name must start with ``Test`` for pytest to collect it) and
build the client under test, wired so that its requests reach ``router``::

    class TestMyClient(HTTPClientConformance):
        def make_client(self, router: Router) -> HTTPClientProtocol:
            config = HTTPClientConfig(retry=RetryConfig(enabled=False))
            return HTTPClient(config, transport=MockTransport(router))

The suite checks single exchanges, so build the client **without retries**: with the default
retry policy a 503 or a connection error is retried and ends in ``HTTPRetryExhaustedError``
(raised by design), which is a policy, not this contract. The tests are plain functions that run
their own event loop, so they need no async plugin; ``make_client`` is called inside that loop
(it may be ``async``), and the client is closed afterwards if it has ``aclose()``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest

from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    TimeoutPhase,
)
from lexigram.result import Err, Ok, Result
from lexigram.testing.http._clock import FakeClock
from lexigram.testing.http._router import Router

__all__ = ["HTTPClientConformance"]

Scenario = Callable[[HTTPClientProtocol, Router], Awaitable[None]]

_VERBS = ["get", "post", "put", "delete", "patch", "head"]


def _ok(result: Result[HttpResponse, HTTPClientError]) -> HttpResponse:
    assert isinstance(result, Ok), f"expected Ok(HttpResponse), got {result!r}"
    return result.value


def _err(result: Result[HttpResponse, HTTPClientError]) -> HTTPClientError:
    assert isinstance(result, Err), f"expected Err(HTTPClientError), got {result!r}"
    return result.error


class HTTPClientConformance:
    """The behaviour every ``HTTPClientProtocol`` implementation shares.

    - a status below 400 (2xx, 3xx) is ``Ok(HttpResponse)`` with status, headers and body;
    - 4xx and 5xx are ``Err(HTTPStatusError)`` carrying ``status`` and the ``response``;
    - a connection failure is ``Err(HTTPConnectionError)``, a timeout ``Err(HTTPTimeoutError)``
      keeping its phase;
    - each of the seven methods sends its HTTP method, once; headers, query parameters and a
      JSON body arrive as given.
    """

    url: ClassVar[str] = "https://conformance.example/v1/items"
    """The URL the suite sends to."""

    def make_client(self, router: Router) -> HTTPClientProtocol | Awaitable[HTTPClientProtocol]:
        """Build the client under test so that its requests are answered by ``router``."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_client(router)")

    def run(self, scenario: Scenario) -> None:
        """Run ``scenario(client, router)`` in a fresh event loop, then close the client."""

        async def main() -> None:
            router = Router(sleep=FakeClock().sleep)
            made = self.make_client(router)
            client = await made if inspect.isawaitable(made) else made
            try:
                await scenario(client, router)
            finally:
                close: Callable[[], Awaitable[Any]] | None = getattr(client, "aclose", None)
                if close is not None:
                    await close()

        # A loop factory: the runner then leaves the thread's current loop alone.
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            runner.run(main())

    # -- Result mapping ------------------------------------------------------------------------

    @pytest.mark.parametrize("status", [200, 201, 204, 304])
    def test_status_below_400_is_ok(self, status: int) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            route = router.get(self.url)
            payload = None
            if status in (204, 304):  # no body
                route.respond(status, headers={"X-Conformance": "yes"})
            else:
                payload = {"status": status}
                route.respond(status, json=payload, headers={"X-Conformance": "yes"})
            response = _ok(await client.get(self.url))
            assert response.status == status
            assert response.headers["x-conformance"] == "yes"
            assert response.json == payload
            assert len(router.calls) == 1

        self.run(scenario)

    @pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 500, 502, 503])
    def test_status_from_400_is_err_status(self, status: int) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            router.get(self.url).respond(status, json={"error": "nope"})
            error = _err(await client.get(self.url))
            assert isinstance(error, HTTPStatusError)
            assert error.status == status
            assert error.response.status == status
            assert error.response.json == {"error": "nope"}
            assert len(router.calls) == 1

        self.run(scenario)

    def test_connection_failure_is_err_connection_error(self) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            router.get(self.url).raises(HTTPConnectionError)
            error = _err(await client.get(self.url))
            assert isinstance(error, HTTPConnectionError)
            assert isinstance(error, ConnectionError)
            assert len(router.calls) == 1

        self.run(scenario)

    @pytest.mark.parametrize("phase", [TimeoutPhase.CONNECT, TimeoutPhase.READ])
    def test_timeout_is_err_timeout_error(self, phase: TimeoutPhase) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            router.get(self.url).raises(HTTPTimeoutError, phase=phase)
            error = _err(await client.get(self.url))
            assert isinstance(error, HTTPTimeoutError)
            assert isinstance(error, TimeoutError)
            assert error.phase is phase
            assert len(router.calls) == 1

        self.run(scenario)

    # -- what is sent ----------------------------------------------------------------------------

    @pytest.mark.parametrize("verb", _VERBS)
    def test_each_verb_sends_its_method(self, verb: str) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            method = verb.upper()
            router.route(method, self.url).respond(200)
            send: Callable[..., Awaitable[Result[HttpResponse, HTTPClientError]]]
            send = getattr(client, verb)
            response = _ok(await send(self.url))
            assert response.status == 200
            assert [call.method for call in router.calls] == [method]

        self.run(scenario)

    def test_request_sends_any_method(self) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            router.route("OPTIONS", self.url).respond(204, headers={"Allow": "GET, POST"})
            response = _ok(await client.request("OPTIONS", self.url))
            assert response.headers["Allow"] == "GET, POST"
            assert [call.method for call in router.calls] == ["OPTIONS"]

        self.run(scenario)

    def test_headers_arrive(self) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            route = router.get(self.url, headers={"x-tenant": "acme"}).respond(200)
            _ok(await client.get(self.url, headers={"X-Tenant": "acme", "Accept": "text/plain"}))
            assert route.calls.last.headers["Accept"] == "text/plain"

        self.run(scenario)

    def test_params_arrive(self) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            route = router.get(self.url, params={"page": "2"}).respond(200)
            _ok(await client.get(self.url, params={"page": 2, "tag": ["a", "b"]}))
            assert route.calls.last.params == [("page", "2"), ("tag", "a"), ("tag", "b")]

        self.run(scenario)

    def test_json_body_arrives(self) -> None:
        async def scenario(client: HTTPClientProtocol, router: Router) -> None:
            payload = {"amount_cents": 4200, "lines": [{"sku": "a", "qty": 1}]}
            route = router.post(self.url, json=payload).respond(201, json={"id": "inv_1"})
            response = _ok(await client.post(self.url, json=payload))
            assert response.json == {"id": "inv_1"}
            call = route.calls.last
            assert call.json == payload
            assert call.headers["Content-Type"].startswith("application/json")

        self.run(scenario)

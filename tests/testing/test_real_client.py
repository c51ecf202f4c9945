"""The real client over ``MockTransport``: request building, interceptors, the default retry
policy, a circuit breaker and metrics all run; only the wire is scripted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from my_app.domain.models import Invoice

from lexigram import Application
from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.resilience import CircuitState
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientProtocol,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    InterceptorProtocol,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, HTTPModule
from lexigram.result import Err, Ok
from lexigram.testing.http import (
    FakeClock,
    MockTransport,
    Router,
    UnmatchedRequestError,
)
from tests.typing.test_seed_billing import BillingClient

API = "https://api.partner.example.com/v1"


async def no_sleep(seconds: float) -> None:
    pass


async def test_retries_show_in_the_call_history() -> None:
    router = Router()
    route = router.get(f"{API}/invoices/inv_1").sequence(503, 503, 200)
    async with HTTPClient(transport=MockTransport(router), sleep=no_sleep) as client:
        result = await client.get(f"{API}/invoices/inv_1")
    assert isinstance(result, Ok)
    assert [call.attempt for call in route.calls] == [1, 2, 3]
    assert [call.status for call in route.calls] == [503, 503, 200]


async def test_exhausted_retries_raise_and_the_sequence_proves_no_fourth_attempt() -> None:
    clock = FakeClock()
    router = Router()
    route = router.get(f"{API}/x").sequence(503, 502, 504)
    client = HTTPClient(transport=MockTransport(router), clock=clock, sleep=clock.sleep)
    with pytest.raises(HTTPRetryExhaustedError) as caught:
        await client.get(f"{API}/x")
    assert caught.value.attempts == 3
    assert route.call_count == 3
    assert len(clock.sleeps) == 2  # two back-offs, on the fake clock


async def test_non_idempotent_requests_are_sent_once() -> None:
    router = Router()
    route = router.post(f"{API}/invoices").sequence(503)
    client = HTTPClient(transport=MockTransport(router), sleep=no_sleep)
    result = await client.post(f"{API}/invoices", json={"amount_cents": 1})
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPStatusError)
    assert route.call_count == 1


async def test_retry_after_is_honoured_on_the_injected_sleep() -> None:
    clock = FakeClock()
    router = Router(sleep=clock.sleep)
    router.get(f"{API}/x").sequence(
        HttpResponse(429, headers={"Retry-After": "7"}), HTTPTimeoutError, 200
    )
    client = HTTPClient(transport=MockTransport(router), clock=clock, sleep=clock.sleep)
    assert (await client.get(f"{API}/x")).is_ok()
    assert clock.sleeps[0] == 7.0
    assert [call.attempt for call in router.calls] == [1, 2, 3]


async def test_injected_latency_counts_against_the_call_deadline() -> None:
    clock = FakeClock()
    router = Router(sleep=clock.sleep)
    router.get(f"{API}/slow").respond(200, delay=45.0)
    client = HTTPClient(transport=MockTransport(router), clock=clock, sleep=clock.sleep)
    result = await client.get(f"{API}/slow", timeout=30.0)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPTimeoutError)
    assert result.error.phase is TimeoutPhase.DEADLINE
    assert clock.sleeps == [30.0]


class AttemptHeader(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Attempt"] = str(context.attempt)
        return context


async def test_interceptors_run_on_every_attempt() -> None:
    router = Router()
    route = router.get(f"{API}/x").sequence(500, 200)
    client = HTTPClient(
        transport=MockTransport(router), interceptors=[AttemptHeader()], sleep=no_sleep
    )
    await client.get(f"{API}/x")
    assert [call.headers["X-Attempt"] for call in route.calls] == ["1", "2"]


async def test_metrics_are_recorded_per_attempt() -> None:
    router = Router()
    router.get(f"{API}/x").sequence(503, 200)
    metrics = InMemoryMetricsRecorder()
    client = HTTPClient(transport=MockTransport(router), metrics=metrics, sleep=no_sleep)
    await client.get(f"{API}/x")
    statuses = [r.tags["status"] for r in metrics.records if r.name == "http.request.status"]
    assert statuses == ["503", "200"]


class CountingBreaker:
    """A two-state breaker: opens after ``threshold`` failed attempts."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.failures = 0
        self.keys: list[str] = []

    @property
    def name(self) -> str:
        return "counting"

    def state(self, key: str = "") -> CircuitState:
        return CircuitState.OPEN if self.failures >= self.threshold else CircuitState.CLOSED

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.keys.append(key)
        if self.state(key) is CircuitState.OPEN:
            raise HTTPCircuitOpenError(breaker=self.name, key=key)
        response = await operation()
        if response.status >= 500:
            self.failures += 1
        return response

    def isolate(self) -> None:
        self.failures = self.threshold

    def reset(self) -> None:
        self.failures = 0


async def test_a_circuit_breaker_guards_each_attempt() -> None:
    router = Router()
    route = router.get(f"{API}/x").respond(503)
    breaker = CountingBreaker(threshold=2)
    client = HTTPClient(transport=MockTransport(router), circuit_breaker=breaker, sleep=no_sleep)
    with pytest.raises(HTTPCircuitOpenError):
        await client.get(f"{API}/x")
    assert route.call_count == 2  # the third attempt never reached the wire
    assert breaker.keys == ["https://api.partner.example.com"] * 3


async def test_an_unmatched_request_is_not_retried_nor_wrapped() -> None:
    router = Router()
    router.get(f"{API}/known")
    client = HTTPClient(transport=MockTransport(router), sleep=no_sleep)
    with pytest.raises(UnmatchedRequestError, match="url: expected"):
        await client.get(f"{API}/unknown")
    assert len(router.calls) == 1


async def test_base_url_client_over_the_mock() -> None:
    router = Router(base_url=API)
    route = router.post(
        "/invoices", json={"amount_cents": 4200}, headers={"Authorization": "Bearer t"}
    ).respond(201, json={"id": "inv_1"})
    async with BaseURLHTTPClient(
        API, headers={"Authorization": "Bearer t"}, transport=MockTransport(router)
    ) as client:
        response = await client.post("/invoices", json={"amount_cents": 4200})
    assert response.raise_for_status().json == {"id": "inv_1"}
    assert route.calls.last.url == f"{API}/invoices"


async def test_an_app_test_is_one_line_with_the_stub_module() -> None:
    router = Router()
    router.get(f"{API}/invoices/inv_1").respond(200, json={"id": "inv_1", "amount_cents": 4200})
    transport = MockTransport(router)

    async with Application.boot(modules=[HTTPModule.stub(transport=transport)], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        result = await BillingClient(http).fetch_invoice("inv_1")

    assert result == Ok(Invoice(id="inv_1", amount_cents=4200))
    assert router.calls.last.headers["Authorization"] == "Bearer test-token"
    assert transport.is_closed  # the application closed its client, and so the transport


async def test_a_closed_transport_refuses_to_send() -> None:
    transport = MockTransport()
    await transport.aclose()
    client = HTTPClient(HTTPClientConfig(), transport=transport)
    with pytest.raises(Exception, match="mock transport is closed"):
        await client.get(f"{API}/x")

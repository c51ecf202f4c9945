"""DefaultRetryPolicy: what is retried, how long it waits, when it gives up. No real sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from email.utils import formatdate
from typing import Any

import pytest

from lexigram.contracts.resilience import RetryPolicyProtocol
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import DefaultRetryPolicy, HTTPClient, RetryConfig
from tests.core.conftest import FakeClock, StubTransport

URL = "https://api.example.com/v1/things"
WALL = 1_700_000_000.0


class Script:
    """An attempt operation answering from a script; records the attempt numbers."""

    def __init__(self, *outcomes: int | HttpResponse | BaseException, clock: FakeClock) -> None:
        self.outcomes = outcomes
        self.attempts: list[int] = []
        self.clock = clock
        self.takes = 0.0

    async def __call__(self, attempt: int) -> HttpResponse:
        self.attempts.append(attempt)
        self.clock.advance(self.takes)
        outcome = self.outcomes[min(attempt, len(self.outcomes)) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, int):
            return HttpResponse(outcome, url=URL)
        return outcome


def policy(
    clock: FakeClock, random: Callable[[], float] = lambda: 1.0, **config: Any
) -> DefaultRetryPolicy:
    return DefaultRetryPolicy(
        RetryConfig(**config),
        sleep=clock.sleep,
        clock=clock,
        random=random,
        wall_clock=lambda: WALL,
    )


def request(
    method: str = "GET", *, timeout: float | None = 30.0, key: str | None = None
) -> RequestContext:
    return RequestContext(method, URL, timeout=timeout, idempotency_key=key)


def with_headers(status: int, headers: Sequence[tuple[str, str]]) -> HttpResponse:
    return HttpResponse(status, url=URL, headers=list(headers))


def test_it_is_a_retry_policy() -> None:
    assert isinstance(DefaultRetryPolicy(), RetryPolicyProtocol)
    assert DefaultRetryPolicy().config == RetryConfig()
    assert "max_attempts=3" in repr(DefaultRetryPolicy())


# -- what is retried -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(status: int, clock: FakeClock) -> None:
    operation = Script(status, status, 200, clock=clock)
    response = await policy(clock).execute(request(), operation)
    assert response.status == 200
    assert operation.attempts == [1, 2, 3]
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 409, 422, 501, 505])
async def test_other_statuses_are_returned_at_once(status: int, clock: FakeClock) -> None:
    operation = Script(status, 200, clock=clock)
    response = await policy(clock).execute(request(), operation)
    assert response.status == status
    assert operation.attempts == [1]
    assert clock.sleeps == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])
async def test_idempotent_methods_are_retried(method: str, clock: FakeClock) -> None:
    operation = Script(503, 200, clock=clock)
    await policy(clock).execute(request(method), operation)
    assert operation.attempts == [1, 2]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    "outcome",
    [503, HTTPConnectionError(), HTTPTimeoutError(phase=TimeoutPhase.READ)],
    ids=["503", "connection", "timeout"],
)
async def test_post_and_patch_are_never_retried_without_a_key(
    method: str, outcome: Any, clock: FakeClock
) -> None:
    operation = Script(outcome, 200, clock=clock)
    try:
        result: object = await policy(clock).execute(request(method), operation)
    except HTTPClientError as exc:
        result = exc
    assert result is outcome or getattr(result, "status", None) == outcome
    assert operation.attempts == [1]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_an_idempotency_key_makes_them_retryable(method: str, clock: FakeClock) -> None:
    operation = Script(503, HTTPConnectionError(), 201, clock=clock)
    response = await policy(clock).execute(request(method, key="k-1"), operation)
    assert response.status == 201
    assert operation.attempts == [1, 2, 3]


async def test_an_idempotency_key_header_counts_too(clock: FakeClock) -> None:
    context = request("POST")
    context.headers["Idempotency-Key"] = "k-2"
    operation = Script(503, 200, clock=clock)
    await policy(clock).execute(context, operation)
    assert operation.attempts == [1, 2]


@pytest.mark.parametrize(
    "error",
    [
        HTTPConnectionError(),
        HTTPTimeoutError(phase=TimeoutPhase.CONNECT),
        HTTPTimeoutError(phase=TimeoutPhase.POOL),
        HTTPTimeoutError(phase=TimeoutPhase.READ),
    ],
)
async def test_connection_errors_and_timeouts_are_retried(
    error: Exception, clock: FakeClock
) -> None:
    operation = Script(error, 200, clock=clock)
    assert (await policy(clock).execute(request(), operation)).status == 200
    assert operation.attempts == [1, 2]


@pytest.mark.parametrize(
    "error",
    [
        HTTPTimeoutError(phase=TimeoutPhase.DEADLINE),
        HTTPCircuitOpenError(breaker="b"),
        HTTPInterceptorError(interceptor="Signer"),
        HTTPClientError("other"),
        ValueError("a bug"),
    ],
)
async def test_other_errors_are_raised_as_they_are(error: Exception, clock: FakeClock) -> None:
    operation = Script(error, 200, clock=clock)
    with pytest.raises(type(error)) as info:
        await policy(clock).execute(request(), operation)
    assert info.value is error
    assert operation.attempts == [1]


async def test_cancellation_is_never_retried(clock: FakeClock) -> None:
    operation = Script(asyncio.CancelledError(), 200, clock=clock)
    with pytest.raises(asyncio.CancelledError):
        await policy(clock).execute(request(), operation)
    assert operation.attempts == [1]


async def test_cancellation_during_the_back_off_propagates(clock: FakeClock) -> None:
    async def cancelled(delay: float) -> None:
        raise asyncio.CancelledError

    retry = DefaultRetryPolicy(RetryConfig(), sleep=cancelled, clock=clock)
    operation = Script(503, 200, clock=clock)
    with pytest.raises(asyncio.CancelledError):
        await retry.execute(request(), operation)
    assert operation.attempts == [1]


@pytest.mark.parametrize("config", [{"max_attempts": 1}, {"enabled": False}])
async def test_a_single_attempt_configuration(config: dict[str, Any], clock: FakeClock) -> None:
    operation = Script(503, 200, clock=clock)
    assert (await policy(clock, **config).execute(request(), operation)).status == 503
    assert operation.attempts == [1]


# -- exhaustion ------------------------------------------------------------------------------


async def test_exhausted_on_responses_carries_the_last_response(clock: FakeClock) -> None:
    last = HttpResponse(503, url=URL, method="GET")
    operation = Script(500, 502, last, clock=clock)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock).execute(request(), operation)
    error = info.value
    assert error.attempts == 3
    assert error.last_response is last
    assert error.last_error is None
    assert str(error) == f"gave up after 3 attempts for GET {URL}: last response was HTTP 503"
    assert operation.attempts == [1, 2, 3]


async def test_exhausted_on_errors_carries_and_chains_the_last_error(clock: FakeClock) -> None:
    last = HTTPConnectionError("connection failed (refused)", method="GET", url=URL)
    operation = Script(HTTPTimeoutError(phase=TimeoutPhase.READ), 503, last, clock=clock)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock, max_attempts=3).execute(request(), operation)
    error = info.value
    assert error.attempts == 3
    assert error.last_error is last
    assert error.__cause__ is last
    assert error.last_response is None


async def test_max_attempts_counts_every_attempt(clock: FakeClock) -> None:
    operation = Script(503, clock=clock)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock, max_attempts=5).execute(request(), operation)
    assert info.value.attempts == 5
    assert operation.attempts == [1, 2, 3, 4, 5]
    assert len(clock.sleeps) == 4


# -- back-off --------------------------------------------------------------------------------


async def test_exponential_back_off_with_a_cap(clock: FakeClock) -> None:
    operation = Script(503, clock=clock)
    retry = policy(clock, max_attempts=6, backoff_base=1.0, backoff_max=3.0)
    with pytest.raises(HTTPRetryExhaustedError):
        await retry.execute(request(timeout=None), operation)
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999])
async def test_full_jitter_is_a_uniform_draw_below_the_ceiling(
    draw: float, clock: FakeClock
) -> None:
    operation = Script(503, 503, 503, 200, clock=clock)
    retry = policy(clock, random=lambda: draw, max_attempts=4, backoff_base=0.2)
    await retry.execute(request(), operation)
    assert clock.sleeps == pytest.approx([draw * 0.2, draw * 0.4, draw * 0.8])


async def test_the_default_jitter_stays_within_bounds(clock: FakeClock) -> None:
    retry = DefaultRetryPolicy(
        RetryConfig(max_attempts=20, backoff_base=0.5, backoff_max=4.0),
        sleep=clock.sleep,
        clock=clock,
    )
    with pytest.raises(HTTPRetryExhaustedError):
        await retry.execute(request(timeout=None), Script(503, clock=clock))
    ceilings = [min(4.0, 0.5 * 2**n) for n in range(19)]
    assert all(0 <= delay < ceiling for delay, ceiling in zip(clock.sleeps, ceilings, strict=True))


# -- server hints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "delay"),
    [
        ([("Retry-After", "7")], 7.0),
        ([("Retry-After", " 0 ")], 0.0),
        ([("retry-after", "2.5")], 2.5),
        ([("Retry-After", formatdate(WALL + 12, usegmt=True))], 12.0),
        ([("Retry-After", formatdate(WALL + 30))], 30.0),  # numeric zone
        ([("Retry-After", formatdate(WALL - 60, usegmt=True))], 0.0),  # in the past
        ([("retry-after-ms", "1500")], 1.5),
        ([("Retry-After-Ms", "250.5")], 0.2505),
        ([("retry-after-ms", "100"), ("Retry-After", "9")], 0.1),  # ms wins
        ([("retry-after-ms", "soon"), ("Retry-After", "9")], 9.0),
    ],
)
async def test_retry_after_is_honoured(
    headers: list[tuple[str, str]], delay: float, clock: FakeClock
) -> None:
    operation = Script(with_headers(503, headers), 200, clock=clock)
    await policy(clock).execute(request(timeout=None), operation)
    assert clock.sleeps == [pytest.approx(delay)]


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", "Mon, 99 Foo 2024", ""])
async def test_an_unreadable_retry_after_falls_back_to_the_back_off(
    value: str, clock: FakeClock
) -> None:
    operation = Script(with_headers(429, [("Retry-After", value)]), 200, clock=clock)
    await policy(clock, backoff_base=0.3).execute(request(), operation)
    assert clock.sleeps == [0.3]


async def test_a_retry_after_longer_than_the_cap_ends_the_retries(clock: FakeClock) -> None:
    answer = with_headers(429, [("Retry-After", "120")])
    operation = Script(answer, 200, clock=clock)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock, retry_after_max=60.0).execute(request(timeout=None), operation)
    assert info.value.attempts == 1
    assert info.value.last_response is answer
    assert clock.sleeps == []


async def test_a_retry_after_up_to_the_cap_is_honoured(clock: FakeClock) -> None:
    operation = Script(with_headers(503, [("Retry-After", "60")]), 200, clock=clock)
    await policy(clock, retry_after_max=60.0).execute(request(timeout=None), operation)
    assert clock.sleeps == [60.0]


# -- the deadline ----------------------------------------------------------------------------


async def test_never_sleeps_past_the_deadline_for_a_hint(clock: FakeClock) -> None:
    answer = with_headers(503, [("Retry-After", "10")])
    operation = Script(answer, 200, clock=clock)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock).execute(request(timeout=9.0), operation)
    assert info.value.attempts == 1
    assert info.value.last_response is answer
    assert clock.sleeps == []


async def test_never_sleeps_past_the_deadline_for_a_back_off(clock: FakeClock) -> None:
    error = HTTPConnectionError()
    operation = Script(error, 200, clock=clock)
    operation.takes = 4.5  # the attempt itself used most of the 5 s budget
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock, backoff_base=1.0).execute(request(timeout=5.0), operation)
    assert info.value.last_error is error
    assert operation.attempts == [1]
    assert clock.sleeps == []


async def test_delays_that_fit_in_the_budget_are_slept(clock: FakeClock) -> None:
    operation = Script(503, 503, 200, clock=clock)
    operation.takes = 1.0
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(clock, backoff_base=1.0).execute(request(timeout=5.0), operation)
    # t=1: 1 s back-off fits in the 4 s left; t=3: a 2 s back-off would use up the 2 s left.
    assert clock.sleeps == [1.0]
    assert info.value.attempts == 2


# -- through the client ----------------------------------------------------------------------


async def test_the_client_retries_with_its_injected_sleep(clock: FakeClock) -> None:
    transport = StubTransport(503, 429, 200)
    async with HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client:
        result = await client.get(URL)
    assert result.is_ok()
    assert [sent.attempt for sent in transport.sent] == [1, 2, 3]
    assert len(clock.sleeps) == 2
    assert all(0 <= delay <= 0.4 for delay in clock.sleeps)


async def test_the_client_honours_retry_after(clock: FakeClock) -> None:
    transport = StubTransport(with_headers(429, [("Retry-After", "3")]), 200)
    async with HTTPClient(transport=transport, sleep=clock.sleep, clock=clock) as client:
        assert (await client.get(URL)).is_ok()
    assert clock.sleeps == [3.0]


async def test_the_client_does_not_retry_post_without_a_key(clock: FakeClock) -> None:
    transport = StubTransport(503, 200)
    async with HTTPClient(transport=transport, sleep=clock.sleep) as client:
        assert (await client.post(URL, json={})).is_err()
    assert len(transport.sent) == 1
    transport = StubTransport(503, 200)
    async with HTTPClient(transport=transport, sleep=clock.sleep) as client:
        assert (await client.post(URL, json={}, idempotency_key="k")).is_ok()
    assert [sent.attempt for sent in transport.sent] == [1, 2]

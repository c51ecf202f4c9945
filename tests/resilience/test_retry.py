"""RetryPolicy: DESIGN §3's rules, jitter, Retry-After, deadline, cancellation, metrics."""

from __future__ import annotations

import asyncio
import email.utils
import random

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.resilience import RetryPolicyProtocol
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    TimeoutPhase,
)
from lexigram.resilience import (
    FakeClock,
    JitterKind,
    RetryBudget,
    RetryBudgetConfig,
    RetryConfig,
    RetryPolicy,
    parse_retry_after,
)
from tests.resilience._support import ORIGIN, OTHER_URL, Script, request, response, timeout_error

NO_BUDGET = RetryBudgetConfig(enabled=False)


def policy(
    clock: FakeClock,
    *,
    rand: float = 0.5,
    budget: RetryBudget | None = None,
    metrics: InMemoryMetricsRecorder | None = None,
    **config: object,
) -> RetryPolicy:
    config.setdefault("budget", NO_BUDGET)
    return RetryPolicy(
        RetryConfig.model_validate(config),
        budget=budget,
        metrics=metrics,
        clock=clock,
        sleep=clock.sleep,
        random=lambda: rand,
        wall_clock=clock.time,
    )


def test_implements_the_protocol() -> None:
    assert isinstance(RetryPolicy(), RetryPolicyProtocol)


async def test_success_is_one_attempt(clock: FakeClock) -> None:
    script = Script(200)
    result = await policy(clock).execute(request(), script)
    assert result.status == 200
    assert script.attempts == [1]
    assert clock.sleeps == []


async def test_recovers_by_retrying_with_attempt_numbers(clock: FakeClock) -> None:
    script = Script(503, "conn", 200)
    result = await policy(clock).execute(request(), script)
    assert result.status == 200
    assert script.attempts == [1, 2, 3]
    # full jitter with random() = 0.5: half of 0.2 then half of 0.4
    assert clock.sleeps == pytest.approx([0.1, 0.2])


async def test_default_is_three_attempts_then_exhausted_with_last_response(
    clock: FakeClock,
) -> None:
    script = Script(503)
    with pytest.raises(HTTPRetryExhaustedError) as caught:
        await policy(clock).execute(request(), script)
    assert script.calls == 3
    assert caught.value.attempts == 3
    assert caught.value.last_response is not None
    assert caught.value.last_response.status == 503
    assert caught.value.last_error is None


async def test_exhausted_on_errors_keeps_the_last_error_as_cause(clock: FakeClock) -> None:
    script = Script("conn", "timeout")
    with pytest.raises(HTTPRetryExhaustedError) as caught:
        await policy(clock).execute(request(), script)
    assert caught.value.attempts == 3
    assert isinstance(caught.value.last_error, HTTPTimeoutError)
    assert caught.value.__cause__ is caught.value.last_error


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses(clock: FakeClock, status: int) -> None:
    script = Script(status, 200)
    assert (await policy(clock).execute(request(), script)).status == 200
    assert script.calls == 2


@pytest.mark.parametrize("status", [200, 204, 301, 400, 401, 404, 409, 422, 501, 505])
async def test_other_statuses_are_returned_as_they_are(clock: FakeClock, status: int) -> None:
    script = Script(status, 200)
    assert (await policy(clock).execute(request(), script)).status == status
    assert script.calls == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])
async def test_idempotent_methods_are_retried(clock: FakeClock, method: str) -> None:
    script = Script(503, 200)
    await policy(clock).execute(request(method), script)
    assert script.calls == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_unsafe_methods_are_not_retried(clock: FakeClock, method: str) -> None:
    script = Script(503, 200)
    assert (await policy(clock).execute(request(method), script)).status == 503
    failing = Script("conn")
    with pytest.raises(HTTPConnectionError):
        await policy(clock).execute(request(method), failing)
    assert (script.calls, failing.calls) == (1, 1)


async def test_post_with_an_idempotency_key_is_retried(clock: FakeClock) -> None:
    script = Script(503, 200)
    await policy(clock).execute(request("POST", idempotency_key="k-1"), script)
    assert script.calls == 2
    with_header = request("POST")
    with_header.headers["Idempotency-Key"] = "k-2"
    script = Script(503, 200)
    await policy(clock).execute(with_header, script)
    assert script.calls == 2


async def test_methods_are_configurable(clock: FakeClock) -> None:
    script = Script(503, 200)
    await policy(clock, methods=["get", "post"]).execute(request("POST"), script)
    assert script.calls == 2
    script = Script(503, 200)
    await policy(clock, methods=["POST"]).execute(request("GET"), script)
    assert script.calls == 1


@pytest.mark.parametrize("phase", [TimeoutPhase.CONNECT, TimeoutPhase.POOL, TimeoutPhase.READ])
async def test_timeouts_are_retried(clock: FakeClock, phase: TimeoutPhase) -> None:
    script = Script(lambda: timeout_error(phase), 200)
    assert (await policy(clock).execute(request(), script)).status == 200


async def test_a_deadline_timeout_is_never_retried(clock: FakeClock) -> None:
    script = Script(lambda: timeout_error(TimeoutPhase.DEADLINE), 200)
    with pytest.raises(HTTPTimeoutError) as caught:
        await policy(clock).execute(request(), script)
    assert caught.value.phase is TimeoutPhase.DEADLINE
    assert script.calls == 1


@pytest.mark.parametrize(
    "error",
    [
        lambda: HTTPInterceptorError(interceptor="Auth"),
        lambda: HTTPCircuitOpenError(breaker="b", key=ORIGIN),
        lambda: ValueError("bug"),
    ],
)
async def test_other_errors_are_raised_as_they_are(clock: FakeClock, error: object) -> None:
    script = Script(error, 200)  # type: ignore[arg-type]
    with pytest.raises(Exception) as caught:  # noqa: PT011 - each case checks the type below
        await policy(clock).execute(request(), script)
    assert not isinstance(caught.value, HTTPRetryExhaustedError)
    assert script.calls == 1


async def test_errors_and_statuses_are_configurable(clock: FakeClock) -> None:
    strict = policy(
        clock, retry_on_connection_errors=False, retry_on_timeouts=False, retryable_statuses=[418]
    )
    with pytest.raises(HTTPConnectionError):
        await strict.execute(request(), Script("conn", 200))
    with pytest.raises(HTTPTimeoutError):
        await strict.execute(request(), Script("timeout", 200))
    assert (await strict.execute(request(), Script(503, 200))).status == 503
    assert (await strict.execute(request(), Script(418, 200))).status == 200


async def test_custom_retry_on_types(clock: FakeClock) -> None:
    retry = RetryPolicy(
        RetryConfig(budget=NO_BUDGET), retry_on=(ValueError,), clock=clock, sleep=clock.sleep
    )
    with pytest.raises(HTTPRetryExhaustedError) as caught:
        await retry.execute(request(), Script(lambda: ValueError("flaky")))
    assert caught.value.last_error is None
    assert "ValueError: flaky" in str(caught.value)
    with pytest.raises(HTTPConnectionError):
        await retry.execute(request(), Script("conn"))


def test_retry_on_refuses_base_exceptions() -> None:
    with pytest.raises(TypeError, match="Exception subclasses"):
        RetryPolicy(retry_on=(asyncio.CancelledError,))  # type: ignore[arg-type]


async def test_cancellation_from_the_operation_is_never_retried(clock: FakeClock) -> None:
    script = Script(asyncio.CancelledError(), 200)
    with pytest.raises(asyncio.CancelledError):
        await policy(clock).execute(request(), script)
    assert script.calls == 1


async def test_cancellation_during_a_back_off_stops_the_call() -> None:
    slept = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.set()
        await asyncio.Event().wait()  # forever

    script = Script(503, 200)
    retry = RetryPolicy(RetryConfig(budget=NO_BUDGET), sleep=sleep)
    task = asyncio.create_task(retry.execute(request(), script))
    await slept.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert script.calls == 1


async def test_disabled_means_one_attempt(clock: FakeClock) -> None:
    script = Script(503, 200)
    retry = policy(clock, enabled=False)
    assert retry.max_attempts == 1
    assert (await retry.execute(request(), script)).status == 503


async def test_max_attempts(clock: FakeClock) -> None:
    script = Script(503)
    with pytest.raises(HTTPRetryExhaustedError) as caught:
        await policy(clock, max_attempts=5).execute(request(), script)
    assert caught.value.attempts == script.calls == 5


# -- back-off and jitter ---------------------------------------------------------------------


async def test_exponential_back_off_is_capped(clock: FakeClock) -> None:
    retry = policy(clock, jitter="none", backoff_base=1.0, backoff_max=5.0, max_attempts=8)
    with pytest.raises(HTTPRetryExhaustedError):
        await retry.execute(request(), Script(503))
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


@pytest.mark.parametrize("kind", list(JitterKind))
@pytest.mark.parametrize("seed", range(5))
async def test_jitter_bounds(clock: FakeClock, kind: JitterKind, seed: int) -> None:
    base, cap = 0.2, 3.0
    rng = random.Random(seed)
    retry = RetryPolicy(
        RetryConfig(
            jitter=kind, backoff_base=base, backoff_max=cap, max_attempts=10, budget=NO_BUDGET
        ),
        clock=clock,
        sleep=clock.sleep,
        random=rng.random,
    )
    with pytest.raises(HTTPRetryExhaustedError):
        await retry.execute(request(), Script(503))
    assert len(clock.sleeps) == 9
    previous = base
    for n, delay in enumerate(clock.sleeps, start=1):
        ceiling = min(cap, base * 2 ** (n - 1))
        if kind is JitterKind.FULL:
            assert 0 <= delay < ceiling
        elif kind is JitterKind.EQUAL:
            assert ceiling / 2 <= delay < ceiling
        elif kind is JitterKind.NONE:
            assert delay == pytest.approx(ceiling)
        else:
            assert base <= delay <= min(cap, 3 * previous)
        previous = delay
    assert sum(clock.sleeps) <= retry.max_total_delay() + 1e-9


async def test_full_jitter_spans_its_range(clock: FakeClock) -> None:
    for rand, expected in [(0.0, 0.0), (0.999, 0.1998)]:
        fake = FakeClock()
        await policy(fake, rand=rand).execute(request(), Script(503, 200))
        assert fake.sleeps == [pytest.approx(expected)]


# -- Retry-After -----------------------------------------------------------------------------


async def test_retry_after_seconds_replaces_the_back_off(clock: FakeClock) -> None:
    script = Script(response(503, {"Retry-After": "7"}), 200)
    await policy(clock).execute(request(), script)
    assert clock.sleeps == [7.0]


async def test_retry_after_http_date(clock: FakeClock) -> None:
    date = email.utils.formatdate(clock.time() + 30, usegmt=True)
    script = Script(response(429, {"Retry-After": date}), 200)
    await policy(clock).execute(request(), script)
    assert clock.sleeps == [pytest.approx(30.0, abs=1.0)]


async def test_retry_after_ms_wins_over_retry_after(clock: FakeClock) -> None:
    script = Script(response(503, {"retry-after-ms": "1500", "Retry-After": "9"}), 200)
    await policy(clock).execute(request(), script)
    assert clock.sleeps == [1.5]


async def test_an_unreadable_retry_after_falls_back_to_the_back_off(clock: FakeClock) -> None:
    script = Script(response(503, {"Retry-After": "soon"}), 200)
    await policy(clock).execute(request(), script)
    assert clock.sleeps == pytest.approx([0.1])


async def test_retry_after_beyond_the_cap_ends_the_retries(clock: FakeClock) -> None:
    script = Script(response(503, {"Retry-After": "120"}), 200)
    with pytest.raises(HTTPRetryExhaustedError, match="retry_after_max") as caught:
        await policy(clock, retry_after_max=60).execute(request(), script)
    assert caught.value.attempts == 1
    assert clock.sleeps == []


async def test_retry_after_is_never_slept_past_the_deadline(clock: FakeClock) -> None:
    script = Script(response(503, {"Retry-After": "5"}), 200)
    with pytest.raises(HTTPRetryExhaustedError, match="deadline") as caught:
        await policy(clock).execute(request(timeout=4.0), script)
    assert caught.value.attempts == 1
    assert clock.sleeps == []
    fits = Script(response(503, {"Retry-After": "3"}), 200)
    assert (await policy(clock).execute(request(timeout=4.0), fits)).status == 200


async def test_back_offs_stop_at_the_deadline(clock: FakeClock) -> None:
    # Each attempt takes 1s; back-offs 1, 2, 4...: the budget of 6s fits two of them.
    script = Script(503, clock=clock, advance=1.0)
    retry = policy(clock, jitter="none", backoff_base=1.0, max_attempts=10)
    with pytest.raises(HTTPRetryExhaustedError, match="deadline") as caught:
        await retry.execute(request(timeout=6.0), script)
    assert clock.sleeps == [1.0, 2.0]
    assert caught.value.attempts == 3


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": " 12 "}, 12.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "x", "Retry-After": "2"}, 2.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(response(503, headers).headers) == expected


def test_parse_retry_after_future_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    seconds = parse_retry_after(response(503, {"Retry-After": date}).headers, lambda: now)
    assert seconds == pytest.approx(90.0)


# -- x-should-retry --------------------------------------------------------------------------


async def test_x_should_retry_is_ignored_by_default(clock: FakeClock) -> None:
    script = Script(response(400, {"x-should-retry": "true"}), 200)
    assert (await policy(clock).execute(request(), script)).status == 400


async def test_x_should_retry_when_honoured(clock: FakeClock) -> None:
    honour = policy(clock, honor_should_retry_header=True)
    script = Script(response(409, {"x-should-retry": "true"}), 200)
    assert (await honour.execute(request(), script)).status == 200
    script = Script(response(503, {"x-should-retry": "false"}), 200)
    assert (await honour.execute(request(), script)).status == 503
    script = Script(response(503, {"x-should-retry": "maybe"}), 200)
    assert (await honour.execute(request(), script)).status == 200
    # It never makes an unsafe request retryable.
    script = Script(response(409, {"x-should-retry": "true"}), 200)
    assert (await honour.execute(request("POST"), script)).status == 409


# -- budget ----------------------------------------------------------------------------------


async def test_the_budget_is_on_by_default_and_keyed_by_origin() -> None:
    retry = RetryPolicy()
    assert retry.budget is not None
    await retry.execute(request(), Script(200))
    assert retry.budget.available(ORIGIN) == pytest.approx(10.0 + 0.2)


async def test_an_empty_budget_raises_exhausted_with_the_attempts_made(clock: FakeClock) -> None:
    budget = RetryBudget(RetryBudgetConfig(min_retries_per_second=0, ratio=0.2), clock=clock)
    retry = policy(clock, budget=budget)
    for _ in range(5):
        await retry.execute(request(), Script(200))
    # Six requests so far (with the next one): 1.2 retries allowed, so exactly one.
    with pytest.raises(HTTPRetryExhaustedError, match="retry budget") as caught:
        await retry.execute(request(), Script(503))
    assert caught.value.attempts == 2
    with pytest.raises(HTTPRetryExhaustedError, match="retry budget") as caught:
        await retry.execute(request(), Script(503))
    assert caught.value.attempts == 1


async def test_the_budget_of_one_host_does_not_limit_another(clock: FakeClock) -> None:
    budget = RetryBudget(RetryBudgetConfig(min_retries_per_second=0, ratio=0.5), clock=clock)
    retry = policy(clock, budget=budget, max_attempts=2)
    for _ in range(3):
        await retry.execute(request(url=OTHER_URL), Script(200))
    # Had the budget been shared, the other host's requests would pay for this retry.
    with pytest.raises(HTTPRetryExhaustedError, match="budget"):
        await retry.execute(request(), Script(503, 200))
    other = Script(503, 200)
    assert (await retry.execute(request(url=OTHER_URL), other)).status == 200
    assert other.calls == 2


async def test_the_budget_caps_retries_during_an_outage(clock: FakeClock) -> None:
    retry = policy(clock, budget=RetryBudget(RetryBudgetConfig(), clock=clock), max_attempts=3)
    script = Script(503)
    calls = 200
    for _ in range(calls):
        with pytest.raises(HTTPRetryExhaustedError):
            await retry.execute(request(), script)
        clock.advance(0.01)  # 2 seconds in all: one window
    floor = 1.0 * 10.0
    assert script.calls <= calls * 1.2 + floor
    assert script.calls > calls  # the floor and the ratio still allow some


# -- metrics ---------------------------------------------------------------------------------


async def test_each_attempt_is_counted_with_its_outcome(clock: FakeClock) -> None:
    metrics = InMemoryMetricsRecorder()
    retry = policy(clock, metrics=metrics)
    await retry.execute(request(), Script(503, "conn", 200))
    with pytest.raises(HTTPRetryExhaustedError):
        await retry.execute(request(), Script(503))
    with pytest.raises(HTTPInterceptorError):
        await retry.execute(request(), Script(HTTPInterceptorError()))
    await retry.execute(request("POST"), Script(201))
    outcomes = [r.tags["outcome"] for r in metrics.records if r.name == "resilience.retry.attempt"]
    assert outcomes == ["retry", "retry", "ok", "retry", "retry", "exhausted", "error", "ok"]
    assert {r.kind for r in metrics.records} == {"counter"}


async def test_budget_exhaustion_is_its_own_outcome(clock: FakeClock) -> None:
    metrics = InMemoryMetricsRecorder()
    budget = RetryBudget(RetryBudgetConfig(min_retries_per_second=0, ratio=0), clock=clock)
    with pytest.raises(HTTPRetryExhaustedError):
        await policy(clock, metrics=metrics, budget=budget).execute(request(), Script(503))
    assert [r.tags["outcome"] for r in metrics.records] == ["budget_exhausted"]


def test_repr_names_the_settings() -> None:
    assert repr(RetryPolicy()).startswith("RetryPolicy(max_attempts=3, backoff_base=0.2")

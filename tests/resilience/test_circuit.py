"""CircuitBreaker: window, ratios, growing breaks, half-open probes, isolation, keys, metrics."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.resilience import CircuitBreakerProtocol, CircuitState
from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPInterceptorError,
    HttpResponse,
    HTTPStatusError,
    TimeoutPhase,
)
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitTransition,
    FakeClock,
    ResiliencePipeline,
)
from tests.resilience._support import (
    ORIGIN,
    OTHER_ORIGIN,
    OTHER_URL,
    Gate,
    Script,
    request,
    response,
    timeout_error,
)

CLOSED, OPEN, HALF_OPEN, ISOLATED = (
    CircuitState.CLOSED,
    CircuitState.OPEN,
    CircuitState.HALF_OPEN,
    CircuitState.ISOLATED,
)
KEY = ORIGIN


def breaker(
    clock: FakeClock, *, metrics: InMemoryMetricsRecorder | None = None, **config: object
) -> CircuitBreaker:
    config.setdefault("minimum_throughput", 4)
    config.setdefault("failure_ratio", 0.5)
    return CircuitBreaker(
        "test", CircuitBreakerConfig.model_validate(config), metrics=metrics, clock=clock
    )


async def outcome(cb: CircuitBreaker, *outcomes: object, key: str = KEY) -> None:
    """Send one call per outcome through ``cb``, swallowing what it raises."""
    for each in outcomes:
        try:
            await cb.call(key, Script(each).call)  # type: ignore[arg-type]
        except Exception:  # the outcomes are the point, not the errors
            continue


async def trip(cb: CircuitBreaker, key: str = KEY) -> None:
    await outcome(cb, *[503] * cb.config.minimum_throughput, key=key)
    assert cb.state(key) is OPEN


def test_implements_the_protocol() -> None:
    cb = CircuitBreaker()
    assert isinstance(cb, CircuitBreakerProtocol)
    assert cb.name == "http-default"


async def test_closed_calls_pass_and_are_counted(clock: FakeClock) -> None:
    cb = breaker(clock)
    assert (await cb.call(KEY, Script(200).call)).status == 200
    await outcome(cb, 200, 503)
    snapshot = cb.snapshot(KEY)
    assert (snapshot.state, snapshot.calls, snapshot.failures) == (CLOSED, 3, 1)
    assert snapshot.retry_after is None


async def test_minimum_throughput_comes_first(clock: FakeClock) -> None:
    cb = breaker(clock, minimum_throughput=4)
    await outcome(cb, 503, 503, 503)
    assert cb.state(KEY) is CLOSED  # 100 % failures, but only 3 calls
    await outcome(cb, 503)
    assert cb.state(KEY) is OPEN


async def test_failure_ratio(clock: FakeClock) -> None:
    cb = breaker(clock, minimum_throughput=10, failure_ratio=0.5)
    await outcome(cb, *[200] * 10, *[503] * 9)
    assert cb.state(KEY) is CLOSED  # 9 of 19
    await outcome(cb, 503)
    assert cb.state(KEY) is OPEN  # 10 of 20


async def test_failures_older_than_the_window_do_not_count(clock: FakeClock) -> None:
    cb = breaker(clock, sampling_duration=30, minimum_throughput=4)
    await outcome(cb, 503, 503, 503)
    clock.advance(31)
    await outcome(cb, 503, 503, 503)
    assert cb.state(KEY) is CLOSED
    assert cb.snapshot(KEY).calls == 3


async def test_the_window_slides_by_buckets(clock: FakeClock) -> None:
    cb = breaker(clock, sampling_duration=10, buckets=10, minimum_throughput=4)
    await outcome(cb, 503, 503)
    clock.advance(6)
    await outcome(cb, 200)
    clock.advance(5)  # the first two are 11s old, the success 5s
    assert cb.snapshot(KEY).calls == 1
    await outcome(cb, 503, 503, 503)
    assert cb.state(KEY) is OPEN  # 3 failures of 4 calls


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
async def test_4xx_are_never_failures(clock: FakeClock, status: int) -> None:
    cb = breaker(clock)
    await outcome(cb, *[status] * 20)
    assert cb.state(KEY) is CLOSED
    assert cb.snapshot(KEY).failures == 0


async def test_429_counts_when_configured(clock: FakeClock) -> None:
    cb = breaker(clock, count_429_as_failure=True)
    await outcome(cb, 429, 429, 429, 429)
    assert cb.state(KEY) is OPEN


@pytest.mark.parametrize(
    "failure",
    [
        500,
        503,
        599,
        "conn",
        "timeout",
        lambda: HTTPStatusError(response=HttpResponse(502)),
    ],
)
async def test_what_counts_as_failure(clock: FakeClock, failure: object) -> None:
    cb = breaker(clock)
    await outcome(cb, *[failure] * 4)
    assert cb.state(KEY) is OPEN


@pytest.mark.parametrize(
    "neither",
    [
        lambda: ValueError("bug"),
        lambda: HTTPInterceptorError(interceptor="Auth"),
        lambda: timeout_error(TimeoutPhase.DEADLINE),
    ],
)
async def test_what_counts_as_nothing(clock: FakeClock, neither: object) -> None:
    cb = breaker(clock)
    await outcome(cb, *[neither] * 10)
    assert cb.snapshot(KEY).calls == 0
    assert cb.state(KEY) is CLOSED


async def test_a_raised_4xx_status_error_is_a_success(clock: FakeClock) -> None:
    cb = breaker(clock)
    await outcome(cb, *[lambda: HTTPStatusError(response=HttpResponse(404))] * 10)
    snapshot = cb.snapshot(KEY)
    assert (snapshot.calls, snapshot.failures, snapshot.state) == (10, 0, CLOSED)


async def test_cancellation_counts_as_nothing(clock: FakeClock) -> None:
    cb = breaker(clock)
    gate = Gate()
    task = asyncio.create_task(cb.call(KEY, gate.call))
    await gate.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cb.snapshot(KEY).calls == 0


async def test_open_fails_fast_with_retry_after(clock: FakeClock) -> None:
    cb = breaker(clock, break_duration=5)
    await trip(cb)
    clock.advance(2)
    script = Script(200)
    with pytest.raises(HTTPCircuitOpenError) as caught:
        await cb.call(KEY, script.call)
    assert script.calls == 0
    assert caught.value.breaker == "test"
    assert caught.value.key == KEY
    assert caught.value.retry_after == pytest.approx(3.0)
    assert cb.snapshot(KEY).retry_after == pytest.approx(3.0)


async def test_half_open_probe_success_closes(clock: FakeClock) -> None:
    cb = breaker(clock, break_duration=5)
    await trip(cb)
    clock.advance(5)
    assert cb.state(KEY) is OPEN  # until a call comes
    assert (await cb.call(KEY, Script(200).call)).status == 200
    assert cb.state(KEY) is CLOSED
    assert cb.snapshot(KEY).calls == 0  # a fresh window


async def test_half_open_admits_one_probe_and_fails_the_rest_fast(clock: FakeClock) -> None:
    cb = breaker(clock, break_duration=5)
    await trip(cb)
    clock.advance(5)
    probe = Gate()
    task = asyncio.create_task(cb.call(KEY, probe.call))
    await probe.entered.wait()
    assert cb.state(KEY) is HALF_OPEN
    other = Script(200)
    with pytest.raises(HTTPCircuitOpenError) as caught:
        await cb.call(KEY, other.call)
    assert other.calls == 0
    assert caught.value.retry_after == pytest.approx(5.0)
    probe.release.set()
    await task
    assert cb.state(KEY) is CLOSED


async def test_several_probes_must_all_succeed(clock: FakeClock) -> None:
    cb = breaker(clock, half_open_max_calls=3)
    await trip(cb)
    clock.advance(5)
    gates = [Gate() for _ in range(3)]
    tasks = [asyncio.create_task(cb.call(KEY, gate.call)) for gate in gates]
    for gate in gates:
        await gate.entered.wait()
    with pytest.raises(HTTPCircuitOpenError):
        await cb.call(KEY, Script(200).call)
    gates[0].release.set()
    await tasks[0]
    assert cb.state(KEY) is HALF_OPEN
    gates[1].release.set()
    gates[2].release.set()
    await asyncio.gather(*tasks[1:])
    assert cb.state(KEY) is CLOSED


async def test_a_failed_probe_reopens_for_longer_until_a_close(clock: FakeClock) -> None:
    cb = breaker(clock, break_duration=5, max_break_duration=15, break_multiplier=2)
    breaks = []
    await trip(cb)
    for _ in range(4):
        breaks.append(cb.snapshot(KEY).retry_after)
        clock.advance(60)
        await outcome(cb, 503)  # the probe fails
        assert cb.state(KEY) is OPEN
    assert breaks == [5.0, 10.0, 15.0, 15.0]
    clock.advance(60)
    await outcome(cb, 200)  # the probe succeeds: closed, and the break length resets
    assert cb.state(KEY) is CLOSED
    await trip(cb)
    assert cb.snapshot(KEY).retry_after == 5.0


async def test_a_cancelled_probe_frees_its_slot(clock: FakeClock) -> None:
    cb = breaker(clock)
    await trip(cb)
    clock.advance(5)
    probe = Gate()
    task = asyncio.create_task(cb.call(KEY, probe.call))
    await probe.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cb.state(KEY) is HALF_OPEN
    assert (await cb.call(KEY, Script(200).call)).status == 200  # admitted as the probe
    assert cb.state(KEY) is CLOSED


async def test_calls_admitted_before_a_trip_do_not_count_as_probes(clock: FakeClock) -> None:
    cb = breaker(clock)
    slow = Gate()
    task = asyncio.create_task(cb.call(KEY, slow.call))
    await slow.entered.wait()
    await trip(cb)
    clock.advance(5)
    probe = Gate()
    probe_task = asyncio.create_task(cb.call(KEY, probe.call))
    await probe.entered.wait()
    slow.release.set()  # a success from before the trip: not a probe result
    await task
    assert cb.state(KEY) is HALF_OPEN
    probe.release.set()
    await probe_task
    assert cb.state(KEY) is CLOSED


async def test_slow_calls_open_the_circuit(clock: FakeClock) -> None:
    cb = breaker(clock, slow_call_duration=1.0, slow_call_ratio=0.5, minimum_throughput=4)
    slow = Script(200, clock=clock, advance=2.0)
    fast = Script(200)
    for script in (fast, slow, fast, slow):
        await cb.call(KEY, script.call)
    assert cb.state(KEY) is OPEN
    assert slow.calls == 2


async def test_a_slow_probe_fails(clock: FakeClock) -> None:
    cb = breaker(clock, slow_call_duration=1.0)
    await trip(cb)
    clock.advance(5)
    await cb.call(KEY, Script(200, clock=clock, advance=3.0).call)
    assert cb.state(KEY) is OPEN


async def test_slow_calls_are_not_tracked_by_default(clock: FakeClock) -> None:
    cb = breaker(clock)
    for _ in range(10):
        await cb.call(KEY, Script(200, clock=clock, advance=120.0).call)
    assert cb.snapshot(KEY).slow_calls == 0
    assert cb.state(KEY) is CLOSED


async def test_keys_are_isolated(clock: FakeClock) -> None:
    cb = breaker(clock)
    await trip(cb, KEY)
    assert cb.state(OTHER_ORIGIN) is CLOSED
    assert (await cb.call(OTHER_ORIGIN, Script(200).call)).status == 200
    with pytest.raises(HTTPCircuitOpenError):
        await cb.call(KEY, Script(200).call)


async def test_isolate_refuses_everything_until_reset(clock: FakeClock) -> None:
    cb = breaker(clock)
    await outcome(cb, 200)
    cb.isolate()
    assert cb.state(KEY) is ISOLATED
    assert cb.state("never-seen") is ISOLATED
    for key in (KEY, "never-seen"):
        with pytest.raises(HTTPCircuitOpenError) as caught:
            await cb.call(key, Script(200).call)
        assert caught.value.retry_after is None
    cb.reset()
    assert cb.state(KEY) is CLOSED
    assert (await cb.call(KEY, Script(200).call)).status == 200


async def test_reset_closes_and_forgets(clock: FakeClock) -> None:
    cb = breaker(clock)
    await trip(cb)
    await outcome(cb, 200, key=OTHER_ORIGIN)
    cb.reset()
    assert cb.state(KEY) is CLOSED
    assert cb.snapshot(OTHER_ORIGIN).calls == 0
    assert cb.keys() == []


async def test_calls_in_flight_during_a_reset_are_not_recorded(clock: FakeClock) -> None:
    cb = breaker(clock, minimum_throughput=1)
    gate = Gate(503)
    task = asyncio.create_task(cb.call(KEY, gate.call))
    await gate.entered.wait()
    cb.reset()
    gate.release.set()
    await task
    assert cb.state(KEY) is CLOSED
    assert cb.snapshot(KEY).calls == 0


async def test_disabled_never_opens_but_isolates(clock: FakeClock) -> None:
    cb = breaker(clock, enabled=False)
    await outcome(cb, *[503] * 50)
    assert cb.state(KEY) is CLOSED
    cb.isolate()
    with pytest.raises(HTTPCircuitOpenError):
        await cb.call(KEY, Script(200).call)


async def test_listeners_see_every_transition(clock: FakeClock) -> None:
    cb = breaker(clock)
    seen: list[CircuitTransition] = []
    unsubscribe = cb.on_transition(seen.append)
    await trip(cb)
    clock.advance(5)
    await outcome(cb, 503)
    clock.advance(10)
    await outcome(cb, 200)
    cb.isolate()
    cb.reset()
    assert [(t.previous, t.state, t.reason) for t in seen] == [
        (CLOSED, OPEN, "failure ratio"),
        (OPEN, HALF_OPEN, "break elapsed"),
        (HALF_OPEN, OPEN, "probe failed"),
        (OPEN, HALF_OPEN, "break elapsed"),
        (HALF_OPEN, CLOSED, "probes succeeded"),
        (CLOSED, ISOLATED, "isolate"),
        (ISOLATED, CLOSED, "reset"),
    ]
    assert {(t.breaker, t.key) for t in seen} == {("test", KEY)}
    assert seen[0].at == clock.now - 15
    unsubscribe()
    await trip(cb)
    assert len(seen) == 7


async def test_a_failing_listener_is_logged_and_harmless(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    cb = breaker(clock)

    def broken(transition: CircuitTransition) -> None:
        raise RuntimeError("listener bug")

    cb.on_transition(broken)
    with caplog.at_level(logging.ERROR, logger="lexigram.resilience.circuit"):
        await trip(cb)
    assert "listener" in caplog.text
    assert cb.state(KEY) is OPEN


async def test_metrics_when_a_recorder_is_set(clock: FakeClock) -> None:
    metrics = InMemoryMetricsRecorder()
    cb = breaker(clock, metrics=metrics)
    await outcome(cb, 200, 503, key=OTHER_ORIGIN)
    assert metrics.records == []  # nothing until a circuit changes state
    await trip(cb)
    await outcome(cb, 200)  # rejected
    clock.advance(5)
    await outcome(cb, 200)  # probe: closed
    assert metrics.values("resilience.circuit.state", "gauge") == [1.0, 2.0, 0.0]
    transitions = [r.tags for r in metrics.records if r.name == "resilience.circuit.transition"]
    assert transitions[0] == {"breaker": "test", "key": KEY, "from": "closed", "to": "open"}
    assert len(transitions) == 3
    rejected = [r.tags for r in metrics.records if r.name == "resilience.circuit.rejected"]
    assert rejected == [{"breaker": "test", "key": KEY}]


async def test_keys_are_bounded_least_recently_used_first(clock: FakeClock) -> None:
    cb = breaker(clock, max_keys=8, sampling_duration=10, buckets=10)
    for index in range(8):
        await outcome(cb, 200, key=f"k{index}")
        clock.advance(1.0)
    await trip(cb, "k0")  # k0 is the most recently used now
    await outcome(cb, 200, key="new")
    keys = cb.keys()
    assert len(keys) == 8
    assert "k1" not in keys
    assert {"k0", "new"} <= set(keys)
    assert cb.state("k0") is OPEN


# -- in a pipeline, with the client's own guard nested inside ------------------------------


async def test_the_pipeline_stage_keys_on_the_origin(clock: FakeClock) -> None:
    cb = breaker(clock)
    pipeline = ResiliencePipeline([cb])
    for _ in range(4):
        await pipeline.execute(request(), Script(503))
    assert cb.state(ORIGIN) is OPEN
    with pytest.raises(HTTPCircuitOpenError) as caught:
        await pipeline.execute(request(), Script(200))
    assert caught.value.method == "GET"
    assert (await pipeline.execute(request(url=OTHER_URL), Script(200))).status == 200


async def test_a_nested_call_of_the_same_breaker_counts_once(clock: FakeClock) -> None:
    """The HTTP client guards each attempt with "http-default", which the pipeline applies."""
    cb = breaker(clock, minimum_throughput=100)
    pipeline = ResiliencePipeline([cb])

    async def client_attempt(attempt: int) -> HttpResponse:
        return await cb.call(ORIGIN, Script(503).call)

    await pipeline.execute(request(), client_attempt)
    assert cb.snapshot(ORIGIN).calls == 1


async def test_a_nested_call_does_not_refuse_the_probe(clock: FakeClock) -> None:
    cb = breaker(clock)
    pipeline = ResiliencePipeline([cb])
    await trip(cb)
    clock.advance(5)

    async def client_attempt(attempt: int) -> HttpResponse:
        return await cb.call(ORIGIN, Script(200).call)

    assert (await pipeline.execute(request(), client_attempt)).status == 200
    assert cb.state(ORIGIN) is CLOSED


async def test_another_breaker_nested_is_not_bypassed(clock: FakeClock) -> None:
    outer, inner = breaker(clock), breaker(clock)
    inner.isolate()
    pipeline = ResiliencePipeline([outer])

    async def client_attempt(attempt: int) -> HttpResponse:
        return await inner.call(ORIGIN, Script(200).call)

    with pytest.raises(HTTPCircuitOpenError):
        await pipeline.execute(request(), client_attempt)


async def test_the_pipeline_stage_records_errors_and_statuses(clock: FakeClock) -> None:
    cb = breaker(clock, minimum_throughput=100)
    pipeline = ResiliencePipeline([cb])
    await pipeline.execute(request(), Script(200))
    await pipeline.execute(request(), Script(response(500)))
    with pytest.raises(ValueError, match="bug"):
        await pipeline.execute(request(), Script(ValueError("bug")))
    snapshot = cb.snapshot(ORIGIN)
    assert (snapshot.calls, snapshot.failures) == (2, 1)


def test_repr() -> None:
    assert repr(CircuitBreaker()) == "<CircuitBreaker 'http-default' circuits=0>"

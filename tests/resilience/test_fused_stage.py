"""A RetryPolicy directly around a CircuitBreaker runs as one stage, with the same behaviour.

``ResiliencePipeline`` fuses the two (the breaker's bookkeeping inlined in the retry loop, one
coroutine frame fewer per attempt). A subclass of ``CircuitBreaker`` is not fused, so the
same scripts run through both compositions here and must end in the same outcomes, attempt
counts, circuit snapshots and transitions.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPRetryExhaustedError,
)
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerConfig,
    FakeClock,
    ResiliencePipeline,
    RetryConfig,
    RetryPolicy,
)
from lexigram.resilience._retry import RetryPolicy as _RetryPolicy
from tests.resilience._support import ORIGIN, Outcome, Script, request


class _PlainBreaker(CircuitBreaker):
    """Not fused (the pipeline fuses the exact CircuitBreaker class only)."""


def _pipeline(
    clock: FakeClock, *, fused: bool
) -> tuple[ResiliencePipeline, CircuitBreaker, list[tuple[Any, ...]]]:
    kind = CircuitBreaker if fused else _PlainBreaker
    breaker = kind(
        "test",
        CircuitBreakerConfig(
            minimum_throughput=4, failure_ratio=0.5, break_duration=5.0, sampling_duration=30.0
        ),
        clock=clock,
    )
    transitions: list[tuple[Any, ...]] = []
    breaker.on_transition(
        lambda change: transitions.append((change.key, change.previous, change.state))
    )
    retry = RetryPolicy(
        RetryConfig(max_attempts=3, backoff_base=0.1, backoff_max=0.2),
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.5,
    )
    return ResiliencePipeline([retry, breaker]), breaker, transitions


async def _run(fused: bool, method: str, outcomes: list[Outcome]) -> list[Any]:
    clock = FakeClock()
    pipeline, breaker, transitions = _pipeline(clock, fused=fused)
    seen: list[Any] = []
    for _ in range(6):
        script = Script(*outcomes, clock=clock)
        try:
            answer = await pipeline.execute(request(method, timeout=30.0), script)
        except HTTPRetryExhaustedError as exc:
            seen.append(("exhausted", exc.attempts))
        except HTTPCircuitOpenError as exc:
            seen.append(("open", exc.key))
        except HTTPClientError as exc:
            seen.append(("raised", type(exc).__name__))
        else:
            seen.append(("ok", answer.status))
        seen.append(("attempts", script.attempts))
        seen.append(breaker.snapshot(ORIGIN))
        clock.advance(1.0)
    seen.append(transitions)
    return seen


def test_the_standard_composition_is_one_stage() -> None:
    pipeline = ResiliencePipeline.standard()
    stage = pipeline._first
    assert isinstance(stage, functools.partial)
    assert stage.func.__func__ is _RetryPolicy._run  # type: ignore[attr-defined]
    assert isinstance(stage.args[1], CircuitBreaker)  # the breaker, inlined
    unfused = ResiliencePipeline([RetryPolicy(), _PlainBreaker()])._first
    assert isinstance(unfused, functools.partial)
    assert unfused.args[1] is None  # the retry, around the breaker's own stage


@pytest.mark.parametrize(
    "outcomes",
    [
        [200],
        [503, 200],
        ["conn", "conn", 200],
        [503],
        ["timeout"],
        [429, 500, 502],
        [404],
    ],
    ids=["ok", "retry-then-ok", "conn-twice", "always-503", "timeouts", "mixed", "404"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_fused_and_unfused_end_alike(method: str, outcomes: list[Outcome]) -> None:
    assert await _run(True, method, outcomes) == await _run(False, method, outcomes)

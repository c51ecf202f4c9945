"""A bounded chaos soak: many calls through the standard resilience pipeline against a
fault-injecting loopback upstream (resets, FIN before headers, 503 bursts, stalls before and
after the headers, truncated bodies).

Asserts that every call ends as ``Ok``, a documented ``Err`` or a documented raised error;
that nothing is left behind (connections held, tasks, warnings); and that the upstream saw at
most ``1.2 x calls + floor`` requests (the retry budget's promise: a 20 % ratio plus
``min_retries_per_second`` over the window). Bounded in count (``CALLS``) and, through short
timeouts, in time; nothing asserts a duration.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
import warnings
from collections import Counter

import pytest

from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
)
from lexigram.http import HTTPClient, HTTPClientConfig
from lexigram.resilience import (
    CircuitBreakerConfig,
    ResilienceConfig,
    ResiliencePipeline,
    RetryBudgetConfig,
    RetryConfig,
)
from lexigram.result import Err, Ok
from tests.core.conftest import no_leftover_tasks  # noqa: F401  (the fixture, used below)
from tests.core.faults import Fault, FaultServer, Kind

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

CALLS = 2000
IN_FLIGHT = 50
SEED = 13
BUDGET = RetryBudgetConfig(ratio=0.2, min_retries_per_second=1.0, window=10.0)


class Chaos:
    """Which fault request *n* meets: a burst of 40 503s every 400 requests (from the 200th),
    otherwise at random."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.kinds: Counter[str] = Counter()

    def __call__(self, n: int, head: bytes) -> Fault:
        fault = self._pick(n)
        self.kinds[fault.kind.value if fault.status == 200 else str(fault.status)] += 1
        return fault

    def _pick(self, n: int) -> Fault:
        if 200 <= n % 400 < 240:
            return Fault(status=503, body=b"overloaded")
        roll = self._random.random()
        if roll < 0.04:
            return Fault(Kind.RESET)
        if roll < 0.06:
            return Fault(Kind.FIN)
        if roll < 0.07:
            return Fault(Kind.STALL)
        if roll < 0.08:
            return Fault(Kind.STALL_BODY, body=b"s" * 512)
        if roll < 0.11:
            return Fault(Kind.TRUNCATE, body=b"t" * 512)
        if roll < 0.13:
            return Fault(status=503, body=b"busy")
        return Fault(body=b'{"ok": true}')


async def _capped_sleep(delay: float) -> None:
    # The back-offs are real waits, kept short so the soak stays bounded.
    await asyncio.sleep(min(delay, 0.02))


@pytest.mark.filterwarnings("error")
async def test_chaos_soak_every_call_ends_documented_and_nothing_leaks() -> None:
    chaos = Chaos(SEED)
    config = HTTPClientConfig(trust_env=False, connect_timeout=2.0, read_timeout=0.25)
    resilience = ResilienceConfig(
        retry=RetryConfig(max_attempts=3, backoff_base=0.005, backoff_max=0.02, budget=BUDGET),
        # Opens only on a real outage, and briefly: the soak is about the calls it lets through.
        circuit_breaker=CircuitBreakerConfig(
            failure_ratio=0.9,
            minimum_throughput=100,
            sampling_duration=1.0,
            break_duration=0.05,
            break_multiplier=1.0,
            max_break_duration=0.05,
        ),
    )
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with FaultServer(chaos) as server:
            pipeline = ResiliencePipeline.standard(resilience, sleep=_capped_sleep)
            client = HTTPClient(config, pipeline=pipeline)
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def one(index: int) -> None:
                async with gate:
                    try:
                        result = await client.get(server.url_for(f"/item/{index}"), timeout=5.0)
                    except (HTTPRetryExhaustedError, HTTPCircuitOpenError) as exc:
                        outcomes[type(exc).__name__] += 1
                        return
                    except Exception as exc:  # pragma: no cover - the soak's failure case
                        unexpected.append(exc)
                        return
                match result:
                    case Ok(response):
                        assert response.status == 200
                        assert response.body == b'{"ok": true}'
                        outcomes["ok"] += 1
                    case Err(HTTPStatusError() as error):
                        assert error.status == 503
                        outcomes["err_status"] += 1
                    case Err(HTTPConnectionError() | HTTPTimeoutError() as error):
                        outcomes[f"err_{type(error).__name__}"] += 1
                    case _:  # pragma: no cover - the soak's failure case
                        unexpected.append(AssertionError(f"undocumented outcome {result!r}"))

            started = time.monotonic()
            try:
                async with asyncio.TaskGroup() as group:
                    for index in range(CALLS):
                        group.create_task(one(index))
                elapsed = time.monotonic() - started
                transport = client.transport
                session = transport._session  # type: ignore[attr-defined]
                # Nothing holds a connection once every call has ended.
                assert session is not None
                assert not session.connector._acquired
            finally:
                await client.aclose()
            requests = server.requests
        gc.collect()
    assert unexpected == []
    assert sum(outcomes.values()) == CALLS
    assert outcomes["ok"] > 0
    # The retry budget: 20 % of the calls plus its floor over the time the soak ran.
    floor = BUDGET.min_retries_per_second * (elapsed + BUDGET.window)
    assert requests <= 1.2 * CALLS + floor, (requests, dict(outcomes), dict(chaos.kinds))
    assert [str(warning.message) for warning in caught] == []
    # Every kind of fault was met.
    assert {"reset", "fin", "stall", "stall_body", "truncate", "503"} <= set(chaos.kinds)

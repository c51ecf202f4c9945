"""One fake clock: the same class in resilience, testing and the ``http_clock`` fixture."""

from __future__ import annotations

from email.utils import formatdate

import lexigram.resilience
import lexigram.testing.http
from lexigram.contracts.clock import FakeClock
from lexigram.http import HTTPClient
from lexigram.resilience import ResiliencePipeline
from lexigram.testing.http import MockTransport, Reply, Router


def test_resilience_and_testing_export_the_one_fake_clock() -> None:
    assert lexigram.resilience.FakeClock is FakeClock
    assert lexigram.testing.http.FakeClock is FakeClock


def test_the_wall_clock_moves_with_the_monotonic_one() -> None:
    clock = FakeClock(start=10.0, wall_start=1_000.0)
    clock.advance(2.5)
    assert (clock(), clock.time()) == (12.5, 1_002.5)


async def test_http_clock_drives_a_pipeline_with_wall_clock_time(
    http_clock: FakeClock, http_router: Router, http_mock: MockTransport
) -> None:
    # The resilience guide's pattern, with the fixture's clock: Retry-After as an HTTP date
    # is read against the fake wall clock, and the wait is slept on the fake clock.
    retry_at = formatdate(http_clock.time() + 7, usegmt=True)
    http_router.get("https://h.example/x").sequence(
        Reply(503, headers={"Retry-After": retry_at}), 200
    )
    pipeline = ResiliencePipeline.standard(
        clock=http_clock, sleep=http_clock.sleep, wall_clock=http_clock.time, random=lambda: 0.5
    )
    async with HTTPClient(
        transport=http_mock, pipeline=pipeline, clock=http_clock, sleep=http_clock.sleep
    ) as client:
        assert (await client.get("https://h.example/x")).is_ok()
    assert http_clock.sleeps == [7.0]

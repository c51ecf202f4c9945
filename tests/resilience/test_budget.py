"""RetryBudget: floor + ratio of requests over a sliding window, per key, bounded keys."""

from __future__ import annotations

import pytest

from lexigram.resilience import FakeClock, RetryBudget, RetryBudgetConfig


def budget(clock: FakeClock, **config: object) -> RetryBudget:
    return RetryBudget(RetryBudgetConfig.model_validate(config), clock=clock)


def spend_all(retries: RetryBudget, key: str = "k") -> int:
    granted = 0
    while retries.try_spend(key):
        granted += 1
        assert granted < 10_000
    return granted


def test_floor_alone(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=2, window=5, ratio=0)
    assert spend_all(retries) == 10
    assert retries.available("k") == 0


def test_ratio_of_requests(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=0, ratio=0.2)
    for _ in range(50):
        retries.record_request("k")
    assert spend_all(retries) == 10


def test_floor_plus_ratio(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=1, window=10, ratio=0.25)
    for _ in range(40):
        retries.record_request("k")
    assert retries.available("k") == pytest.approx(20)
    assert spend_all(retries) == 20


def test_the_window_slides_bucket_by_bucket(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=0, ratio=1, window=10)
    for _ in range(10):
        retries.record_request("k")  # t = 0
    clock.advance(5)
    for _ in range(10):
        retries.record_request("k")  # t = 5
    assert retries.available("k") == 20
    clock.advance(5.5)  # the first ten are now older than the window
    assert retries.available("k") == 10
    assert spend_all(retries) == 10
    clock.advance(10)  # everything has left the window, spent retries included
    assert retries.available("k") == 0
    retries.record_request("k")
    assert retries.available("k") == 1


def test_a_long_silence_clears_the_window(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=0, ratio=1)
    for _ in range(5):
        retries.record_request("k")
    clock.advance(3600)
    assert retries.available("k") == 0


def test_keys_are_independent(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=0, ratio=1)
    for _ in range(3):
        retries.record_request("a")
    assert retries.available("b") == 0
    assert spend_all(retries, "b") == 0
    assert spend_all(retries, "a") == 3


def test_keys_are_bounded_oldest_first(clock: FakeClock) -> None:
    retries = budget(clock, min_retries_per_second=0, ratio=1, max_keys=8, window=10)
    for index in range(8):
        retries.record_request(f"k{index}")
        clock.advance(1.0)  # one bucket apart
    retries.record_request("k0")  # k0 is the most recent now
    retries.record_request("new")  # evicts one eighth of 8: the oldest, k1
    assert retries.available("k1") == 0
    assert retries.available("k0") == 2
    assert retries.available("new") == 1


def test_repr() -> None:
    assert repr(RetryBudget()) == "RetryBudget(ratio=0.2, min_retries_per_second=1, window=10)"

"""``RetryBudget``: retries per host capped at a share of recent requests (Finagle-style)."""

from __future__ import annotations

import time
from typing import Final

from lexigram.resilience._config import RetryBudgetConfig
from lexigram.resilience._strategy import Clock

__all__ = ["RetryBudget"]

_BUCKETS: Final = 10


class _Window:
    """Requests and retries of one key: the current bucket, plus the rest of the window.

    The current bucket's counts live in plain attributes (one increment per call); they move
    into the ring only when the clock crosses ``bucket_end``.
    """

    __slots__ = (
        "bucket_end",
        "epoch",
        "past_requests",
        "past_retries",
        "requests",
        "retries",
        "ring_requests",
        "ring_retries",
    )

    def __init__(self) -> None:
        self.epoch = 0
        self.bucket_end = float("-inf")  # forces a rotation on first use
        self.requests = self.retries = 0
        self.past_requests = self.past_retries = 0
        self.ring_requests = [0] * _BUCKETS
        self.ring_retries = [0] * _BUCKETS

    def rotate(self, now: float, inverse_width: float) -> None:
        """Start the bucket ``now`` falls in, dropping those that left the window."""
        epoch = int(now * inverse_width)
        gap = epoch - self.epoch
        if gap >= _BUCKETS or gap < 0:
            self.ring_requests = [0] * _BUCKETS
            self.ring_retries = [0] * _BUCKETS
            self.past_requests = self.past_retries = 0
        elif gap > 0:
            ring_requests, ring_retries = self.ring_requests, self.ring_retries
            index = self.epoch % _BUCKETS
            ring_requests[index] = self.requests
            ring_retries[index] = self.retries
            self.past_requests += self.requests
            self.past_retries += self.retries
            for step in range(self.epoch + 1, epoch + 1):
                index = step % _BUCKETS
                self.past_requests -= ring_requests[index]
                self.past_retries -= ring_retries[index]
                ring_requests[index] = ring_retries[index] = 0
        else:
            # Still the same bucket: bucket_end was a rounding error short.
            self.bucket_end = (epoch + 1) / inverse_width
            return
        self.requests = self.retries = 0
        self.epoch = epoch
        self.bucket_end = (epoch + 1) / inverse_width


class RetryBudget:
    """Caps retries per key (the host origin) to ``floor + ratio * requests`` per window.

    ``record_request`` counts a call (its first attempt); ``try_spend`` asks for one retry and
    records it if granted. Over the last ``window`` seconds (ten buckets) a key gets at most
    ``min_retries_per_second * window + ratio * requests`` retries, so a failing host sees at
    most ``1 + ratio`` times the traffic it would without retries, plus the small floor. One
    budget may be shared by several policies. Beyond ``max_keys`` keys, the least recently used
    eighth is forgotten.
    """

    __slots__ = ("_clock", "_config", "_floor", "_inverse_width", "_max_keys", "_ratio", "_windows")

    def __init__(
        self, config: RetryBudgetConfig | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        config = config if config is not None else RetryBudgetConfig()
        self._config = config
        self._ratio = config.ratio
        self._floor = config.min_retries_per_second * config.window
        self._inverse_width = _BUCKETS / config.window
        self._max_keys = config.max_keys
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    @property
    def config(self) -> RetryBudgetConfig:
        """The settings in use."""
        return self._config

    def _new(self, key: str) -> _Window:
        windows = self._windows
        if len(windows) >= self._max_keys:
            # Evict in batches, oldest bucket first: O(n log n) once per n/8 new keys.
            by_age = sorted(windows, key=lambda name: windows[name].bucket_end)
            for name in by_age[: max(1, self._max_keys // 8)]:
                del windows[name]
        window = windows[key] = _Window()
        return window

    def record_request(self, key: str, now: float | None = None) -> None:
        """Count one call to ``key`` (``now``: a reading of the budget's clock, if at hand)."""
        if now is None:
            now = self._clock()
        window = self._windows.get(key)
        if window is None:
            window = self._new(key)
        if now >= window.bucket_end:
            window.rotate(now, self._inverse_width)
        window.requests += 1

    def try_spend(self, key: str, now: float | None = None) -> bool:
        """Take one retry for ``key`` if the budget allows it; ``False`` when it is empty."""
        if now is None:
            now = self._clock()
        window = self._windows.get(key)
        if window is None:
            window = self._new(key)
        if now >= window.bucket_end:
            window.rotate(now, self._inverse_width)
        requests = window.past_requests + window.requests
        retries = window.past_retries + window.retries
        if retries + 1 > self._floor + self._ratio * requests:
            return False
        window.retries += 1
        return True

    def available(self, key: str) -> float:
        """Retries ``key`` may still spend in the current window."""
        window = self._windows.get(key)
        if window is None:
            return self._floor
        now = self._clock()
        if now >= window.bucket_end:
            window.rotate(now, self._inverse_width)
        requests = window.past_requests + window.requests
        retries = window.past_retries + window.retries
        return max(0.0, self._floor + self._ratio * requests - retries)

    def __repr__(self) -> str:
        config = self._config
        return (
            f"RetryBudget(ratio={config.ratio:g}, "
            f"min_retries_per_second={config.min_retries_per_second:g}, "
            f"window={config.window:g})"
        )

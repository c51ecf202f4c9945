"""``FakeClock``: time that moves only when told, for tests that never really sleep."""

from __future__ import annotations

import asyncio

__all__ = ["FakeClock"]


class FakeClock:
    """A monotonic clock, an async sleep and a wall clock that share one fake time.

    Pass ``clock=fake``, ``sleep=fake.sleep`` and ``wall_clock=fake.time`` to any resilience
    strategy, ``clock=fake, sleep=fake.sleep`` to ``HTTPClient`` and ``sleep=fake.sleep`` to a
    test ``Router``: then nothing really waits, yet deadlines see the time that "passed".
    ``sleep(s)`` records ``s`` in :attr:`sleeps`, moves the time forward by ``s`` and yields to
    the event loop once, so a retry's back-off or a rate limiter's wait takes no real time.
    ``advance(s)`` moves the time without sleeping (the break of a circuit breaker elapsing).
    Tasks sleeping concurrently are not ordered by their durations.
    """

    __slots__ = ("now", "sleeps", "wall_offset")

    def __init__(self, start: float = 1000.0, *, wall_start: float = 1_700_000_000.0) -> None:
        self.now = start
        """The current reading of the monotonic clock."""
        self.sleeps: list[float] = []
        """Every ``sleep`` so far, in seconds, oldest first."""
        self.wall_offset = wall_start - start

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        """The fake wall-clock time (seconds since the epoch), moving with :attr:`now`."""
        return self.now + self.wall_offset

    def advance(self, seconds: float) -> None:
        """Move the time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds``, move the time forward by it, and let other tasks run once."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now!r}, sleeps={len(self.sleeps)})"

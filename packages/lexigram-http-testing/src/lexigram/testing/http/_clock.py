"""``FakeClock``: time that moves only when something sleeps, for tests that never wait."""

from __future__ import annotations

import asyncio

__all__ = ["FakeClock"]


class FakeClock:
    """A monotonic clock and an async sleep sharing one fake time.

    Give ``sleep=clock.sleep`` to a :class:`Router` (injected latency, streamed chunk delays)
    and ``clock=clock, sleep=clock.sleep`` to ``HTTPClient`` (back-off between retries, the
    call's deadline): then nothing really waits, yet deadlines see the time that "passed".
    ``sleep(s)`` records ``s`` in :attr:`sleeps`, moves the time forward by it and yields to the
    event loop once. Tasks sleeping concurrently are not ordered by their durations.
    """

    __slots__ = ("now", "sleeps")

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        """The current reading of the clock, in seconds."""
        self.sleeps: list[float] = []
        """Every ``sleep`` so far, in seconds, oldest first."""

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the time forward by ``seconds`` without sleeping."""
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

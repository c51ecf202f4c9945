"""Call deadlines for the transport, cheaper than ``asyncio.timeout`` on the hot path.

Every request carries a deadline (``pool.timeout``, 30 s by default), so its cost is paid per
request. ``asyncio.timeout`` costs about 7 us per use (pure-Python context manager plus one
timer handle pushed to and cancelled from the loop's heap), which is several percent of an
aiohttp request. Here, as in aiohttp's own ``ceil_timeout``, deadlines more than
``CEIL_THRESHOLD`` seconds away are rounded up to the next whole second of loop time and share
one timer per second, so a request only adds itself to a set and removes itself again.
Shorter deadlines get their own exact timer.

The cancellation protocol is the one of ``asyncio.timeout``: on expiry the task is cancelled;
the ``CancelledError`` becomes a timeout only if it was ours (``Task.uncancel()`` back to the
count seen at the start), so an outer cancellation is never swallowed.
"""

from __future__ import annotations

import asyncio
from math import ceil
from typing import Final

__all__ = ["CEIL_THRESHOLD", "Deadline", "DeadlineTimer"]

CEIL_THRESHOLD: Final = 5.0
"""Deadlines longer than this (seconds) are rounded up to a whole second (as aiohttp does)."""


class Deadline:
    """One armed deadline; :meth:`stop` it when the guarded wait ends, however it ends."""

    __slots__ = ("_bucket", "_cancelling", "_handle", "_task", "fired")

    def __init__(self, task: asyncio.Task[object]) -> None:
        self._task = task
        self._cancelling = task.cancelling()
        self._bucket: set[Deadline] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.fired = False

    def fire(self) -> None:
        """Cancel the guarded task (called by the loop when the deadline passes)."""
        if not self.fired:
            self.fired = True
            self._handle = None  # the handle's callback is this method: no cycle left behind
            self._task.cancel()

    def stop(self) -> bool:
        """Disarm; call exactly once when the guarded wait ends, however it ends.

        Returns True when the deadline fired and its cancellation was the only one pending
        (so a ``CancelledError`` from the wait is ours and may become a timeout). A fired
        deadline's cancellation request is withdrawn either way.
        """
        if self._bucket is not None:
            self._bucket.discard(self)
        elif self._handle is not None:
            self._handle.cancel()
        if not self.fired:
            return False
        return self._task.uncancel() <= self._cancelling


class DeadlineTimer:
    """Arms :class:`Deadline` objects for tasks of one event loop."""

    __slots__ = ("_buckets", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buckets: dict[int, set[Deadline]] = {}

    def start(self, delay: float) -> Deadline:
        """Arm a deadline ``delay`` seconds from now for the current task."""
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("a deadline needs a running task")
        deadline = Deadline(task)
        when = self._loop.time() + delay
        if delay > CEIL_THRESHOLD:
            second = ceil(when)
            bucket = self._buckets.get(second)
            if bucket is None:
                bucket = self._buckets[second] = set()
                self._loop.call_at(second, self._expire, second)
            bucket.add(deadline)
            deadline._bucket = bucket
        else:
            deadline._handle = self._loop.call_at(when, deadline.fire)
        return deadline

    def _expire(self, second: int) -> None:
        for deadline in self._buckets.pop(second, ()):
            deadline.fire()

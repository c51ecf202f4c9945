"""Call deadlines for the transport, cheaper than ``asyncio.timeout`` on the hot path.

Every request carries a deadline (``pool.timeout``, 30 s by default), so its cost is paid per
request. ``asyncio.timeout`` costs about 7 us per use (pure-Python context manager plus one
timer handle pushed to and cancelled from the loop's heap), which is several percent of an
aiohttp request. Here, as in aiohttp's own ``ceil_timeout``, deadlines more than
``CEIL_THRESHOLD`` seconds away are rounded up to the next whole second of loop time and share
one timer per second: arming one only records the task in that second's bucket (a dict
insert), and stopping it removes the task again. No object is built per request on that path.
Shorter deadlines get their own exact timer.

The cancellation protocol is the one of ``asyncio.timeout``: on expiry the task is cancelled;
the ``CancelledError`` becomes a timeout only if it was ours (``Task.uncancel()`` back to the
count seen at the start), so an outer cancellation is never swallowed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from math import ceil, inf
from typing import Any, Final, Protocol

__all__ = ["CEIL_THRESHOLD", "Deadline", "DeadlineTimer", "running_loop", "task_of"]

CEIL_THRESHOLD: Final = 5.0
"""Deadlines longer than this (seconds) are rounded up to a whole second (as aiohttp does)."""

running_loop: Final[Callable[[], asyncio.AbstractEventLoop | None]] = (
    asyncio.events._get_running_loop
)
"""The running loop or ``None`` (C, no exception when there is none)."""

task_of: Callable[[asyncio.AbstractEventLoop | None], asyncio.Task[Any] | None]
"""The task running in ``loop`` (``None`` for none): ``asyncio.current_task(loop)``.

On 3.11 ``asyncio.current_task`` is Python code around the ``_current_tasks`` mapping, read
here directly (two C calls per request instead of two Python frames); it is C from 3.12.
"""
if sys.version_info >= (3, 12):  # pragma: no cover - CI runs 3.11
    task_of = asyncio.current_task
else:
    task_of = asyncio.tasks._current_tasks.get  # type: ignore[attr-defined]


class Deadline(Protocol):
    """One armed deadline, as :meth:`DeadlineTimer.start` returns it."""

    def stop(self) -> bool:
        """Disarm; call exactly once, from the task that armed it, when the guarded wait ends.

        Returns True when the deadline fired and its cancellation was the only one pending
        (so a ``CancelledError`` from the wait is ours and may become a timeout). A fired
        deadline's cancellation request is withdrawn either way.
        """


class _Exact:
    """A deadline with a timer of its own (short deadlines)."""

    __slots__ = ("_cancelling", "_handle", "_task", "fired")

    def __init__(self, task: asyncio.Task[object]) -> None:
        self._task = task
        self._cancelling = task.cancelling()
        self._handle: asyncio.TimerHandle | None = None
        self.fired = False

    def fire(self) -> None:
        """Cancel the guarded task (called by the loop when the deadline passes)."""
        self.fired = True
        self._handle = None  # the handle's callback is this method: no cycle left behind
        self._task.cancel()

    def stop(self) -> bool:
        if not self.fired:
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
            return False
        return self._task.uncancel() <= self._cancelling


class _Never:
    """The deadline of a call without one (``timeout=math.inf``): never fires."""

    __slots__ = ()

    def stop(self) -> bool:
        return False


_NEVER: Final = _Never()


class _Bucket:
    """The deadlines of one whole second of loop time; the bucket is each one's handle.

    ``tasks`` maps each armed task to its ``cancelling()`` count when it armed. A task arms at
    most once per bucket at a time: a request's deadline is stopped before the task sends
    another request.
    """

    __slots__ = ("fired", "tasks")

    def __init__(self) -> None:
        self.tasks: dict[asyncio.Task[object], int] = {}
        self.fired = False

    def fire(self, buckets: dict[int, _Bucket], second: int) -> None:
        del buckets[second]
        self.fired = True
        for task in self.tasks:
            task.cancel()

    def stop(self) -> bool:
        task = task_of(running_loop())
        if task is None:  # pragma: no cover - stop() runs in the task that armed it
            raise RuntimeError("a deadline is stopped from the task that armed it")
        cancelling = self.tasks.pop(task)
        if not self.fired:
            return False
        return task.uncancel() <= cancelling


class DeadlineTimer:
    """Arms deadlines for tasks of one event loop."""

    __slots__ = ("_buckets", "_loop", "_now")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buckets: dict[int, _Bucket] = {}
        # The default loops' clock is time.monotonic; calling it directly skips a Python-level
        # method call. Other loops (uvloop) keep their own clock.
        self._now = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time

    def start(self, delay: float) -> Deadline:
        """Arm a deadline ``delay`` seconds from now for the current task."""
        task = task_of(self._loop)
        if task is None:
            if asyncio._get_running_loop() is self._loop:
                raise RuntimeError("a deadline needs a running task")
            raise RuntimeError(
                "this HTTP client was opened on another event loop, and its connections belong "
                "to that loop: create the client inside the loop that uses it (one per "
                "asyncio.run(), or per test), or close it there and make a new one"
            )
        if delay > CEIL_THRESHOLD:
            if delay == inf:  # ``timeout=math.inf``: no deadline at all
                return _NEVER
            second = ceil(self._now() + delay)
            bucket = self._buckets.get(second)
            if bucket is None:
                bucket = self._buckets[second] = _Bucket()
                self._loop.call_at(second, bucket.fire, self._buckets, second)
            bucket.tasks[task] = task.cancelling()
            return bucket
        deadline = _Exact(task)
        deadline._handle = self._loop.call_at(self._now() + delay, deadline.fire)
        return deadline

"""Graceful shutdown: ``HTTPClient.aclose()`` ends every call in flight with
``ClientClosedError``, whatever the call is doing.

A call may be queued for a pool slot, waiting for headers, reading a body, or sleeping
before a retry; aiohttp does not end all of these when its session closes (a body read has no
timeout left once the connection is closed, and a queued call gets a bare ``CancelledError``).
So the client keeps the tasks of its calls and, on close, cancels them the way
``asyncio.timeout`` does: the call catches the ``CancelledError``, checks it was ours
(:meth:`InFlight.closed_by_us`, which withdraws it with ``Task.uncancel``), and raises
``ClientClosedError`` instead. A cancellation from anyone else stays a cancellation.

Open streams (read in the caller's task, outside any call) are told to stop: a read waiting
for data is cancelled the same way, and later reads raise ``ClientClosedError``.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any, Final

from lexigram.http._deadline import running_loop, task_of

if TYPE_CHECKING:
    from lexigram.http._stream import StreamResponse

__all__ = ["InFlight"]

# How long aclose() waits for cancelled calls to unwind before closing the transport (they
# release their connections on the way out). Cancelled calls end in a few loop iterations;
# the bound only matters for code that swallows a cancellation.
_UNWIND_WAIT: Final = 1.0


class InFlight:
    """The tasks running calls of one client, and its open streams."""

    __slots__ = ("_cancelled", "_streams", "_tasks")

    def __init__(self) -> None:
        # task -> number of calls it runs (an interceptor may call the same client).
        self._tasks: dict[asyncio.Task[Any], int] = {}
        self._cancelled: set[asyncio.Task[Any]] = set()
        self._streams: weakref.WeakSet[StreamResponse] = weakref.WeakSet()

    def enter(self) -> asyncio.Task[Any] | None:
        """Record that the current task starts a call; returns it for :meth:`leave`.

        Every verb of ``HTTPClient`` (``_client._verb``) inlines this and :meth:`leave`: keep them
        alike.
        """
        task = task_of(running_loop())
        if task is not None:
            tasks = self._tasks
            tasks[task] = tasks.get(task, 0) + 1
        return task

    def leave(self, task: asyncio.Task[Any] | None) -> None:
        """The call started by :meth:`enter` is over, however it ended."""
        if task is None:
            return
        tasks = self._tasks
        count = tasks.pop(task, 0)
        if count > 1:
            tasks[task] = count - 1
            return
        cancelled = self._cancelled
        if cancelled:
            cancelled.discard(task)

    def closed_by_us(self, task: asyncio.Task[Any] | None) -> bool:
        """After a ``CancelledError`` in ``task``: was it the client closing (and only that)?

        If so the cancellation is withdrawn and the caller raises ``ClientClosedError``.
        """
        if task is None or task not in self._cancelled:
            return False
        self._cancelled.discard(task)
        return task.uncancel() == 0

    def add_stream(self, stream: StreamResponse) -> None:
        """Track an open stream until it is garbage (or closed by :meth:`close`)."""
        self._streams.add(stream)

    async def close(self) -> None:
        """Cancel every call in flight and stop every open stream; wait for the calls."""
        if not self._tasks and not self._streams:
            return  # nothing in flight; may run without an event loop (a sync teardown)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        current = None if loop is None else task_of(loop)
        for stream in list(self._streams):
            stream._client_closed()
        for task in self._tasks:
            if task is not current and task not in self._cancelled:
                self._cancelled.add(task)
                task.cancel()
        if loop is None:
            return
        until = loop.time() + _UNWIND_WAIT
        spins = 0
        # aclose() called from inside a call leaves the current task's own entry behind.
        while any(task is not current for task in self._tasks) and loop.time() < until:
            spins += 1
            await asyncio.sleep(0 if spins < 100 else 0.005)

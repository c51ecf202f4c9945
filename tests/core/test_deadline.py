"""DeadlineTimer: shared per-second buckets for long deadlines, exact timers for short ones."""

from __future__ import annotations

import asyncio

import pytest

from lexigram.http import _deadline
from lexigram.http._deadline import DeadlineTimer


async def _guarded(timer: DeadlineTimer, delay: float, wait: float) -> str:
    deadline = timer.start(delay)
    try:
        await asyncio.sleep(wait)
    except asyncio.CancelledError:
        if deadline.stop():
            return "timed out"
        raise
    deadline.stop()
    return "done"


@pytest.fixture
def short_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every deadline counts as "long" (bucketed), so the tests run in milliseconds.
    monkeypatch.setattr(_deadline, "CEIL_THRESHOLD", 0.0)


@pytest.mark.usefixtures("short_ceiling")
async def test_a_bucket_cancels_only_the_tasks_still_armed_in_it() -> None:
    timer = DeadlineTimer(asyncio.get_running_loop())

    # Both deadlines fall in the same whole second of loop time; one wait ends first.
    quick = asyncio.create_task(_guarded(timer, 0.001, 0))
    slow = asyncio.create_task(_guarded(timer, 0.001, 10))

    assert await quick == "done"
    assert await slow == "timed out"
    assert not quick.cancelled()
    assert slow.cancelling() == 0  # the timeout's cancellation was withdrawn
    assert timer._buckets == {}  # a fired bucket is dropped


@pytest.mark.usefixtures("short_ceiling")
async def test_a_stopped_bucketed_deadline_leaves_the_task_alone() -> None:
    timer = DeadlineTimer(asyncio.get_running_loop())
    deadline = timer.start(0.001)
    assert deadline.stop() is False

    await asyncio.sleep(1.1)  # past the bucket's second: it fires with nobody in it

    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


@pytest.mark.usefixtures("short_ceiling")
async def test_an_outer_cancel_during_a_bucketed_wait_is_not_a_timeout() -> None:
    timer = DeadlineTimer(asyncio.get_running_loop())
    task = asyncio.create_task(_guarded(timer, 30, 10))
    await asyncio.sleep(0)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


async def test_short_deadlines_have_exact_timers() -> None:
    timer = DeadlineTimer(asyncio.get_running_loop())

    assert await _guarded(timer, 0.01, 10) == "timed out"
    assert await _guarded(timer, 1.0, 0) == "done"
    assert timer._buckets == {}


async def test_a_deadline_needs_a_task() -> None:
    loop = asyncio.get_running_loop()
    timer = DeadlineTimer(loop)
    failure: list[BaseException] = []

    def outside_any_task() -> None:
        try:
            timer.start(1.0)
        except RuntimeError as exc:
            failure.append(exc)

    loop.call_soon(outside_any_task)
    await asyncio.sleep(0.01)

    assert len(failure) == 1
    assert "running task" in str(failure[0])

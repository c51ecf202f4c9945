"""Bulkhead: concurrency limit, bounded queue, queue timeout, no slot leaked on cancel."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from lexigram.contracts.resilience import BulkheadProtocol
from lexigram.contracts.web import HTTPBulkheadFullError
from lexigram.resilience import Bulkhead, BulkheadConfig, ResiliencePipeline
from tests.resilience._support import Gate, Script, request


def test_implements_the_protocol() -> None:
    assert isinstance(Bulkhead(1), BulkheadProtocol)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"max_concurrent": 1, "max_queue": -1}, "max_queue"),
        ({"max_concurrent": 1, "queue_timeout": 0}, "queue_timeout"),
    ],
)
def test_arguments_are_checked(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Bulkhead(**args)


async def test_returns_what_the_operation_returns() -> None:
    async def answer() -> int:
        return 42

    assert await Bulkhead(1).execute(answer) == 42


async def test_beyond_the_limit_without_queue_is_rejected_at_once() -> None:
    bulkhead = Bulkhead(2)
    gates = [Gate(), Gate()]
    tasks = [asyncio.create_task(bulkhead.execute(gate.call)) for gate in gates]
    for gate in gates:
        await gate.entered.wait()
    assert bulkhead.active == 2
    third = Script(200)
    with pytest.raises(HTTPBulkheadFullError, match="queue full"):
        await bulkhead.execute(third.call)
    assert third.calls == 0
    for gate in gates:
        gate.release.set()
    await asyncio.gather(*tasks)
    assert bulkhead.active == 0
    assert (await bulkhead.execute(third.call)).status == 200


async def test_the_queue_waits_in_order() -> None:
    bulkhead = Bulkhead(1, max_queue=2)
    holder = Gate()
    first = asyncio.create_task(bulkhead.execute(holder.call))
    await holder.entered.wait()
    order: list[str] = []

    async def mark(name: str) -> str:
        order.append(name)
        return name

    queued = [asyncio.create_task(bulkhead.execute(functools.partial(mark, name))) for name in "ab"]
    await asyncio.sleep(0)
    assert bulkhead.queued == 2
    with pytest.raises(HTTPBulkheadFullError):
        await bulkhead.execute(lambda: mark("c"))
    holder.release.set()
    assert await asyncio.gather(first, *queued) is not None
    assert order == ["a", "b"]
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


async def test_the_queue_wait_is_bounded() -> None:
    bulkhead = Bulkhead(1, max_queue=1, queue_timeout=0.01)
    holder = Gate()
    task = asyncio.create_task(bulkhead.execute(holder.call))
    await holder.entered.wait()
    with pytest.raises(HTTPBulkheadFullError, match=r"no slot within 0\.01s"):
        await bulkhead.execute(Script(200).call)
    assert bulkhead.queued == 0
    holder.release.set()
    await task
    assert bulkhead.active == 0


async def test_cancelled_while_queued_leaks_nothing() -> None:
    bulkhead = Bulkhead(1, max_queue=5)
    holder = Gate()
    task = asyncio.create_task(bulkhead.execute(holder.call))
    await holder.entered.wait()
    waiter = asyncio.create_task(bulkhead.execute(Script(200).call))
    await asyncio.sleep(0)
    assert bulkhead.queued == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert bulkhead.queued == 0
    holder.release.set()
    await task
    assert bulkhead.active == 0


async def test_cancelled_just_after_the_slot_was_handed_over_passes_it_on() -> None:
    bulkhead = Bulkhead(1, max_queue=5)
    holder = Gate()
    holding = asyncio.create_task(bulkhead.execute(holder.call))
    await holder.entered.wait()
    doomed = asyncio.create_task(bulkhead.execute(Script(200).call))
    after = Script(200)
    patient = asyncio.create_task(bulkhead.execute(after.call))
    await asyncio.sleep(0)
    holder.release.set()
    await asyncio.sleep(0)  # the holder finishes and hands its slot to ``doomed``...
    doomed.cancel()  # ...which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await asyncio.gather(holding, patient)
    assert after.calls == 1
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


async def test_as_a_pipeline_stage() -> None:
    bulkhead = Bulkhead.from_config(BulkheadConfig(max_concurrent=1))
    pipeline = ResiliencePipeline([bulkhead])
    gate = Gate()
    task = asyncio.create_task(pipeline.execute(request(), gate))
    await gate.entered.wait()
    with pytest.raises(HTTPBulkheadFullError) as caught:
        await pipeline.execute(request(), Script(200))
    assert caught.value.method == "GET"
    gate.release.set()
    await task
    assert bulkhead.active == 0


def test_from_config_needs_a_limit() -> None:
    with pytest.raises(ValueError, match="max_concurrent is not set"):
        Bulkhead.from_config(BulkheadConfig())

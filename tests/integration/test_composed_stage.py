"""HTTPClient enters a ResiliencePipeline / RetryPolicy through its composed stage, unless a
subclass redefines ``execute()``: then that ``execute()`` runs, as the protocol promises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lexigram.contracts.web import HttpResponse, RequestContext
from lexigram.http import HTTPClient, HTTPClientConfig
from lexigram.resilience import FakeClock, ResiliencePipeline, RetryPolicy
from tests.core.conftest import StubTransport

URL = "http://127.0.0.1:9/items"


class CountingPipeline(ResiliencePipeline):
    def __init__(self) -> None:
        clock = FakeClock()
        super().__init__([RetryPolicy(clock=clock, sleep=clock.sleep)])
        self.calls = 0

    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.calls += 1
        return await super().execute(request, operation)


class CountingRetry(RetryPolicy):
    calls = 0

    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.calls += 1
        return await super().execute(request, operation)


async def test_a_subclass_execute_is_not_bypassed() -> None:
    pipeline = CountingPipeline()
    retry = CountingRetry()
    assert pipeline._compose_stage() is None
    assert retry._compose_stage() is None
    async with HTTPClient(
        HTTPClientConfig(), transport=StubTransport(503, 200), pipeline=pipeline
    ) as client:
        assert (await client.get(URL)).unwrap().status == 200
    async with HTTPClient(
        HTTPClientConfig(), transport=StubTransport(200), retry_policy=retry
    ) as client:
        assert (await client.get(URL)).is_ok()
    assert (pipeline.calls, retry.calls) == (1, 1)


async def test_the_plain_classes_are_entered_through_their_stage() -> None:
    clock = FakeClock()
    for resilience in (
        ResiliencePipeline.standard(clock=clock, sleep=clock.sleep),
        RetryPolicy(clock=clock, sleep=clock.sleep),
    ):
        stage = resilience._compose_stage()
        assert stage is not None
        transport = StubTransport(503, 200)
        async with HTTPClient(HTTPClientConfig(), transport=transport, pipeline=resilience) as c:
            assert (await c.get(URL)).unwrap().status == 200
        assert len(transport.sent) == 2  # the retry ran through the composed stage

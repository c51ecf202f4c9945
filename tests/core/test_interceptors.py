"""InterceptorChain on its own and inside HTTPClient: order, attempts, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from lexigram.contracts.web import (
    HTTPInterceptorError,
    HttpResponse,
    HTTPStatusError,
    InterceptorChainProtocol,
    InterceptorProtocol,
    RequestBody,
    RequestContext,
)
from lexigram.http import HTTPClient, InterceptorChain
from tests.core.conftest import FakeClock, StubTransport
from tests.typing.test_seed_interceptor import CorrelationInterceptor

URL = "https://api.example.com/v1/items?token=sk-secret"


class Recorder(InterceptorProtocol):
    """Logs "<name>:req:<attempt>" and "<name>:resp:<status>" into a shared list."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        self.log.append(f"{self.name}:req:{context.attempt}")
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        self.log.append(f"{self.name}:resp:{response.status}")
        return response


class Boom(InterceptorProtocol):
    def __init__(self, phase: str, error: BaseException | None = None) -> None:
        self.phase = phase
        self.error = error if error is not None else RuntimeError("signing key missing")

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        if self.phase == "request":
            raise self.error
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        if self.phase == "response":
            raise self.error
        return response


class Stamp(InterceptorProtocol):
    """Adds to a header and an extension: edits that must not pile up across attempts."""

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers.add("X-Stamp", "s")
        context.extensions.setdefault("stamps", []).append(context.attempt)
        context.url += "&stamped=1"
        return context


# -- the chain alone -------------------------------------------------------------------------


def test_the_chain_is_an_interceptor_chain() -> None:
    chain = InterceptorChain()
    assert isinstance(chain, InterceptorChainProtocol)
    assert len(chain.interceptors) == 0
    first, second = Recorder("a", []), Recorder("b", [])
    chain.add(first)
    chain.add(second)
    assert list(chain.interceptors) == [first, second]
    assert repr(chain) == "InterceptorChain([Recorder, Recorder])"


async def test_requests_in_order_responses_in_reverse() -> None:
    log: list[str] = []
    chain = InterceptorChain([Recorder("a", log), Recorder("b", log)])
    chain.add(Recorder("c", log))
    context = RequestContext("GET", URL)
    assert await chain.intercept_request(context) is context
    response = HttpResponse(200)
    assert await chain.intercept_response(response) is response
    assert log == ["a:req:1", "b:req:1", "c:req:1", "c:resp:200", "b:resp:200", "a:resp:200"]


@pytest.mark.parametrize("phase", ["request", "response"])
async def test_a_failing_interceptor_is_named(phase: str) -> None:
    chain = InterceptorChain([Recorder("a", []), Boom(phase)])
    run = (
        chain.intercept_request(RequestContext("GET", URL))
        if phase == "request"
        else chain.intercept_response(HttpResponse(200, url=URL, method="GET"))
    )
    with pytest.raises(HTTPInterceptorError) as info:
        await run
    error = info.value
    assert error.interceptor == "Boom"
    assert error.phase == phase
    assert isinstance(error.__cause__, RuntimeError)
    assert "sk-secret" not in str(error)
    assert f"Boom failed in the {phase} phase" in str(error)


async def test_an_interceptor_returning_nothing_is_named() -> None:
    class Forgetful(InterceptorProtocol):
        async def intercept_request(self, context: RequestContext) -> RequestContext:
            context.headers["X"] = "y"
            return None  # type: ignore[return-value]

        async def intercept_response(self, response: HttpResponse) -> HttpResponse:
            return "nope"  # type: ignore[return-value]

    chain = InterceptorChain([Forgetful()])
    with pytest.raises(HTTPInterceptorError, match="returned NoneType, not a RequestContext"):
        await chain.intercept_request(RequestContext("GET", URL))
    with pytest.raises(HTTPInterceptorError, match="returned str, not an HttpResponse"):
        await chain.intercept_response(HttpResponse(200))


async def test_nested_chains_name_the_innermost_culprit() -> None:
    chain = InterceptorChain([InterceptorChain([Boom("request")])])
    with pytest.raises(HTTPInterceptorError) as info:
        await chain.intercept_request(RequestContext("GET", URL))
    assert info.value.interceptor == "Boom"


async def test_cancellation_passes_through_the_chain() -> None:
    chain = InterceptorChain([Boom("request", asyncio.CancelledError())])
    with pytest.raises(asyncio.CancelledError):
        await chain.intercept_request(RequestContext("GET", URL))


# -- inside the client -----------------------------------------------------------------------


async def test_the_seed_correlation_interceptor_works_as_written() -> None:
    transport = StubTransport()
    async with HTTPClient(transport=transport, interceptors=[CorrelationInterceptor()]) as client:
        assert (await client.get(URL)).is_ok()
        await client.get(URL, headers={"X-Correlation-Id": "upstream"})
    assert transport.sent[0].headers["X-Correlation-Id"] == "corr-123"
    assert transport.sent[1].headers["X-Correlation-Id"] == "upstream"


async def test_they_run_once_per_attempt_in_order(clock: FakeClock) -> None:
    log: list[str] = []
    transport = StubTransport(503, 502, 200)
    async with HTTPClient(
        transport=transport,
        interceptors=[Recorder("outer", log), Recorder("inner", log)],
        sleep=clock.sleep,
    ) as client:
        assert (await client.get(URL)).is_ok()
    assert log == [
        "outer:req:1",
        "inner:req:1",
        "inner:resp:503",
        "outer:resp:503",
        "outer:req:2",
        "inner:req:2",
        "inner:resp:502",
        "outer:resp:502",
        "outer:req:3",
        "inner:req:3",
        "inner:resp:200",
        "outer:resp:200",
    ]


async def test_each_attempt_starts_from_the_request_as_built(clock: FakeClock) -> None:
    transport = StubTransport(503, 503, 200)
    async with HTTPClient(transport=transport, interceptors=[Stamp()], sleep=clock.sleep) as client:
        await client.get(URL, headers={"X-Stamp": "caller"}, extensions={"k": "v"})
    assert [sent.headers["X-Stamp"] for sent in transport.sent] == ["caller, s"] * 3
    assert [sent.url for sent in transport.sent] == [f"{URL}&stamped=1"] * 3
    assert [sent.extensions for sent in transport.sent] == [
        {"k": "v", "stamps": [1]},
        {"k": "v", "stamps": [2]},
        {"k": "v", "stamps": [3]},
    ]


async def test_they_see_the_serialised_body() -> None:
    seen: list[bytes | None] = []

    class Signer(InterceptorProtocol):
        async def intercept_request(self, context: RequestContext) -> RequestContext:
            assert not isinstance(context.body, RequestBody)
            seen.append(context.body)
            context.headers["X-Signature"] = str(len(context.body or b""))
            return context

    transport = StubTransport()
    async with HTTPClient(transport=transport, interceptors=[Signer()]) as client:
        await client.post(URL, json={"a": 1})
    assert seen == [b'{"a":1}']
    assert transport.sent[0].headers["X-Signature"] == "7"


@pytest.mark.parametrize("phase", ["request", "response"])
async def test_a_failing_interceptor_is_raised_not_returned(phase: str) -> None:
    transport = StubTransport()
    async with HTTPClient(transport=transport, interceptors=[Boom(phase)]) as client:
        with pytest.raises(HTTPInterceptorError) as info:
            await client.get(URL)
    assert info.value.interceptor == "Boom"
    assert info.value.phase == phase
    assert len(transport.sent) == (0 if phase == "request" else 1)


async def test_a_failing_interceptor_is_not_retried(clock: FakeClock) -> None:
    transport = StubTransport(503)
    async with HTTPClient(
        transport=transport, interceptors=[Boom("response")], sleep=clock.sleep
    ) as client:
        with pytest.raises(HTTPInterceptorError):
            await client.get(URL)
    assert len(transport.sent) == 1


async def test_a_response_interceptor_can_replace_the_response() -> None:
    class Downgrade(InterceptorProtocol):
        async def intercept_response(self, response: HttpResponse) -> HttpResponse:
            return HttpResponse(418, url=response.url, method=response.method)

    async with HTTPClient(transport=StubTransport(200), interceptors=[Downgrade()]) as client:
        result = await client.get(URL)
    assert isinstance(result.error, HTTPStatusError)
    assert result.error.status == 418


async def test_a_chain_passed_in_is_used_and_can_grow() -> None:
    log: list[str] = []
    chain = InterceptorChain()
    transport = StubTransport()
    async with HTTPClient(transport=transport, interceptors=chain) as client:
        assert client.interceptors is chain
        await client.get(URL)
        chain.add(Recorder("late", log))
        await client.get(URL)
    assert log == ["late:req:1", "late:resp:200"]


async def test_a_foreign_chain_that_raises_is_named_by_its_class() -> None:
    class MyChain(InterceptorChainProtocol):
        @property
        def interceptors(self) -> Sequence[InterceptorProtocol]:
            return ()

        def add(self, interceptor: InterceptorProtocol) -> None:
            raise NotImplementedError

        async def intercept_request(self, context: RequestContext) -> RequestContext:
            raise KeyError("tenant")

    async with HTTPClient(transport=StubTransport(), interceptors=MyChain()) as client:
        with pytest.raises(HTTPInterceptorError) as info:
            await client.get(URL)
    assert info.value.interceptor == "MyChain"
    assert isinstance(info.value.__cause__, KeyError)


def test_no_interceptors_means_no_chain() -> None:
    assert HTTPClient(transport=StubTransport(), interceptors=[]).interceptors is None
    assert HTTPClient(transport=StubTransport()).interceptors is None


def test_a_single_interceptor_must_be_in_a_list() -> None:
    with pytest.raises(TypeError, match="sequence of interceptors"):
        HTTPClient(transport=StubTransport(), interceptors=Recorder("a", []))  # type: ignore[arg-type]


class _RequestOnly(InterceptorProtocol):
    """Overrides only intercept_request: its response hook is the protocol's default."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        self.log.append("request-only:req")
        return context


class _ResponseOnly(InterceptorProtocol):
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        self.log.append(f"response-only:resp:{response.status}")
        return response


async def test_pass_through_defaults_are_skipped_and_the_order_kept() -> None:
    log: list[str] = []
    first, second = _RequestOnly(log), _ResponseOnly(log)
    both = Recorder("both", log)
    chain = InterceptorChain([first, both, second])
    # Hooks left to InterceptorProtocol's default run nothing (no coroutine per attempt).
    assert chain._requesting == (first, both)
    assert chain._reversed == (second, both)
    assert chain.interceptors == (first, both, second)
    async with HTTPClient(transport=StubTransport(200), interceptors=chain) as client:
        assert (await client.get(URL)).is_ok()
    assert log == ["request-only:req", "both:req:1", "response-only:resp:200", "both:resp:200"]
    # The defaults still pass their argument through when called directly.
    context = RequestContext("GET", URL)
    assert await second.intercept_request(context) is context

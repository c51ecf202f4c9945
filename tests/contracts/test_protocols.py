"""Protocols of web, resilience and observability; the two small metrics recorders."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import pytest

from lexigram.contracts.observability import (
    InMemoryMetricsRecorder,
    MetricRecord,
    MetricsRecorderProtocol,
    NoopMetricsRecorder,
)
from lexigram.contracts.resilience import (
    BulkheadProtocol,
    CircuitBreakerProtocol,
    CircuitBreakerRegistryProtocol,
    CircuitState,
    RateLimiterProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    Headers,
    HTTPClientError,
    HTTPClientProtocol,
    HttpResponse,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    InterceptorProtocol,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.result import Ok, Result

_T = TypeVar("_T")

VERBS = ("get", "post", "put", "delete", "patch", "head")

# -- HTTPClientProtocol ------------------------------------------------------------------------


def _members(protocol: type) -> set[str]:
    return {
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def test_http_client_protocol_has_exactly_the_seven_methods() -> None:
    assert _members(HTTPClientProtocol) == {*VERBS, "request"}
    for name in (*VERBS, "request"):
        assert inspect.iscoroutinefunction(getattr(HTTPClientProtocol, name))


class _Recording(HTTPClientProtocol):
    """Defines only request(): the verbs must delegate to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def request(
        self, method: str, url: str, **kwargs: Any
    ) -> Result[HttpResponse, HTTPClientError]:
        self.calls.append((method, url, kwargs))
        return Ok(HttpResponse(200, url=url, method=method))


@pytest.mark.parametrize("verb", VERBS)
async def test_verbs_delegate_to_request(verb: str) -> None:
    client = _Recording()
    result = await getattr(client, verb)("https://h/x", headers={"A": "1"})
    assert result.is_ok()
    assert client.calls == [(verb.upper(), "https://h/x", {"headers": {"A": "1"}})]


class _OnlyGet(HTTPClientProtocol):
    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return Ok(HttpResponse(200, url=url))


async def test_subclass_defining_only_get_instantiates_and_works() -> None:
    client = _OnlyGet()
    assert (await client.get("https://h/")).is_ok()
    assert isinstance(client, HTTPClientProtocol)


async def test_unimplemented_request_raises_naming_the_class() -> None:
    with pytest.raises(NotImplementedError, match=r"_OnlyGet does not implement request\(\)"):
        await _OnlyGet().post("https://h/")


class _Duck:
    """Structural implementation: no inheritance."""

    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return Ok(HttpResponse(200))

    post = put = delete = patch = head = get

    async def request(
        self, method: str, url: str, **kwargs: Any
    ) -> Result[HttpResponse, HTTPClientError]:
        return Ok(HttpResponse(200))


def test_http_client_protocol_is_runtime_checkable() -> None:
    assert isinstance(_Duck(), HTTPClientProtocol)
    assert not isinstance(object(), HTTPClientProtocol)


# -- Interceptors -----------------------------------------------------------------------------


class _HeaderOnly(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Seen"] = "1"
        return context


async def test_interceptor_defaults_pass_through() -> None:
    interceptor = _HeaderOnly()
    context = RequestContext("GET", "https://h/")
    assert await interceptor.intercept_request(context) is context
    assert context.headers["x-seen"] == "1"
    response = HttpResponse(200)
    assert await interceptor.intercept_response(response) is response
    assert isinstance(interceptor, InterceptorProtocol)


class _Chain:
    def __init__(self) -> None:
        self._interceptors: list[InterceptorProtocol] = []

    @property
    def interceptors(self) -> Sequence[InterceptorProtocol]:
        return tuple(self._interceptors)

    def add(self, interceptor: InterceptorProtocol) -> None:
        self._interceptors.append(interceptor)

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        for interceptor in self._interceptors:
            context = await interceptor.intercept_request(context)
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        for interceptor in reversed(self._interceptors):
            response = await interceptor.intercept_response(response)
        return response


def test_interceptor_chain_protocol() -> None:
    chain = _Chain()
    assert isinstance(chain, InterceptorChainProtocol)
    assert isinstance(chain, InterceptorProtocol)
    assert not isinstance(_HeaderOnly(), InterceptorChainProtocol)


# -- Transport ---------------------------------------------------------------------------------


class _Streaming:
    def __init__(self) -> None:
        self.status = 200
        self.url = "https://h/"
        self.method = "GET"
        self.headers = Headers()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        yield b"chunk"

    async def aread(self, limit: int | None = None) -> bytes:
        return b"chunk"

    async def aclose(self) -> None:
        return None


class _Transport:
    async def send(self, context: RequestContext) -> HttpResponse:
        return HttpResponse(200, url=context.url, method=context.method)

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        return _Streaming()

    async def aclose(self) -> None:
        return None


async def test_transport_protocols() -> None:
    transport = _Transport()
    assert isinstance(transport, HTTPTransportProtocol)
    stream = await transport.send_stream(RequestContext("GET", "https://h/"))
    assert isinstance(stream, StreamingResponseProtocol)
    assert [chunk async for chunk in stream.iter_bytes()] == [b"chunk"]
    assert not isinstance(HttpResponse(200), StreamingResponseProtocol)


# -- Resilience --------------------------------------------------------------------------------


def test_circuit_state_values() -> None:
    assert [state.value for state in CircuitState] == ["closed", "open", "half_open", "isolated"]
    assert CircuitState("open") is CircuitState.OPEN
    assert isinstance(CircuitState.OPEN, str)


class _Policy:
    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        return await operation(1)


class _Breaker:
    @property
    def name(self) -> str:
        return "b"

    def state(self, key: str = "") -> CircuitState:
        return CircuitState.CLOSED

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        return await operation()

    def isolate(self) -> None:
        return None

    def reset(self) -> None:
        return None


class _Registry:
    def get(self, name: str) -> CircuitBreakerProtocol | None:
        return None

    def get_or_create(self, name: str) -> CircuitBreakerProtocol:
        return _Breaker()


class _Bulkhead:
    async def execute(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        return await operation()


class _Limiter:
    async def acquire(self, key: str = "") -> None:
        return None


async def test_resilience_protocols_are_runtime_checkable() -> None:
    assert isinstance(_Policy(), RetryPolicyProtocol)
    assert isinstance(_Policy(), ResiliencePipelineProtocol)
    assert isinstance(_Breaker(), CircuitBreakerProtocol)
    assert isinstance(_Registry(), CircuitBreakerRegistryProtocol)
    assert isinstance(_Bulkhead(), BulkheadProtocol)
    assert isinstance(_Limiter(), RateLimiterProtocol)
    assert not isinstance(_Limiter(), CircuitBreakerProtocol)

    async def attempt(number: int) -> HttpResponse:
        return HttpResponse(200 + number)

    response = await _Policy().execute(RequestContext("GET", "https://h/"), attempt)
    assert response.status == 201


# -- Observability -----------------------------------------------------------------------------


def test_recorders_satisfy_the_protocol() -> None:
    assert isinstance(NoopMetricsRecorder(), MetricsRecorderProtocol)
    assert isinstance(InMemoryMetricsRecorder(), MetricsRecorderProtocol)
    assert not isinstance(object(), MetricsRecorderProtocol)


def test_noop_recorder_accepts_calls() -> None:
    recorder = NoopMetricsRecorder()
    recorder.increment("x")
    recorder.histogram("x", 1.0, {"a": "b"})
    recorder.gauge("x", 2.0)
    assert not hasattr(recorder, "__dict__")


def test_in_memory_recorder_records_tuples() -> None:
    recorder = InMemoryMetricsRecorder()
    tags = {"method": "GET"}
    recorder.increment("http.request.status", tags=tags)
    recorder.histogram("http.request.duration", 0.25, tags)
    recorder.gauge("pool.size", 3)
    tags["method"] = "mutated"
    assert recorder.records == [
        ("counter", "http.request.status", 1.0, {"method": "GET"}),
        ("histogram", "http.request.duration", 0.25, {"method": "GET"}),
        ("gauge", "pool.size", 3, {}),
    ]
    assert recorder.records[0] == MetricRecord(
        "counter", "http.request.status", 1.0, {"method": "GET"}
    )
    assert recorder.records[1].kind == "histogram"
    assert recorder.values("http.request.duration") == [0.25]
    assert recorder.values("pool.size", kind="counter") == []
    recorder.clear()
    assert recorder.records == []

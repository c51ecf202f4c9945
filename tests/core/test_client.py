"""HTTPClient against a stub transport: verbs, keywords, validation, Result mapping, lifecycle."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any
from unittest.mock import create_autospec

import pytest

from lexigram.contracts.web import (
    ClientClosedError,
    Headers,
    HTTPBodyTooLargeError,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientProtocol,
    HTTPConnectionError,
    HTTPRateLimitedError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidHeaderError,
    InvalidURLError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import (
    ClientState,
    DefaultRetryPolicy,
    HTTPClient,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
)
from lexigram.result import Err, Ok
from tests.core.conftest import FakeBreaker, FakeClock, StubTransport

URL = "https://api.partner.example.com/v1/invoices/inv_1"
NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))

VERBS = ["get", "post", "put", "delete", "patch", "head", "options"]


def client_for(transport: StubTransport, **kwargs: Any) -> HTTPClient:
    kwargs.setdefault("config", NO_RETRY)
    return HTTPClient(transport=transport, **kwargs)


# -- verbs and keywords ----------------------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS)
async def test_every_verb_sends_its_method_and_returns_ok(verb: str) -> None:
    transport = StubTransport(200)
    async with client_for(transport) as client:
        result = await getattr(client, verb)(URL)
    assert result.is_ok()
    assert result.value.status == 200
    assert transport.sent[0].method == verb.upper()
    assert transport.sent[0].url == URL


async def test_request_takes_any_method_and_upper_cases_it() -> None:
    transport = StubTransport(200)
    async with client_for(transport) as client:
        assert (await client.request("trace", URL)).is_ok()
        assert (await client.request("PROPFIND", URL)).is_ok()
    assert [sent.method for sent in transport.sent] == ["TRACE", "PROPFIND"]


@pytest.mark.parametrize("method", ["", "GE T", "GET\r\n", "GÉT"])
async def test_request_refuses_a_method_that_is_not_a_token(method: str) -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(HTTPUsageError, match="invalid HTTP method"):
            await client.request(method, URL)


async def test_request_with_a_method_that_is_not_a_str_is_refused() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(HTTPUsageError, match="invalid HTTP method"):
            await client.request(42, URL)  # type: ignore[arg-type]


async def test_request_with_many_invented_methods_keeps_its_cache_bounded() -> None:
    from lexigram.http import _client

    transport = StubTransport(200)
    async with client_for(transport) as client:
        for n in range(_client._VERBS_MAX * 2):
            assert (await client.request(f"X-M{n}", URL)).is_ok()
        assert (await client.request("x-m0", URL)).is_ok()
    assert len(_client._VERBS) <= _client._VERBS_MAX
    assert [sent.method for sent in transport.sent[:2]] == ["X-M0", "X-M1"]
    assert transport.sent[-1].method == "X-M0"


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_is_a_documented_coroutine_function_of_its_own(verb: str) -> None:
    # The verbs are made by one factory (each runs the request path in its own frame):
    # introspection, mocks and the documentation see ordinary methods.
    function = getattr(HTTPClient, verb)
    assert inspect.iscoroutinefunction(function)
    assert function.__name__ == verb
    assert function.__qualname__ == f"HTTPClient.{verb}"
    assert function.__doc__.startswith("Send a")
    assert f" {verb.upper()} request" in function.__doc__
    parameters = inspect.signature(function).parameters
    assert list(parameters) == ["self", "url", "kwargs"]
    assert parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD


async def test_an_autospec_mock_of_the_client_has_awaitable_verbs() -> None:
    mock = create_autospec(HTTPClient, instance=True)
    mock.get.return_value = Ok(HttpResponse(204))
    result = await mock.get(URL, timeout=1.0)
    assert result.value.status == 204
    mock.get.assert_awaited_once_with(URL, timeout=1.0)
    with pytest.raises(TypeError):
        mock.get()  # the signature is checked: url is required


async def test_json_is_serialised_with_a_content_type() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.post(URL, json={"amount_cents": 4200, "note": "café"})
    sent = transport.sent[0]
    assert isinstance(sent.body, bytes)
    assert json.loads(sent.body) == {"amount_cents": 4200, "note": "café"}
    assert sent.headers["Content-Type"] == "application/json"


async def test_json_keeps_a_content_type_given_by_the_caller() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.post(URL, json=[1], headers={"content-type": "application/merge-patch+json"})
    assert transport.sent[0].headers == {"content-type": "application/merge-patch+json"}


async def test_json_refuses_nan() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(ValueError, match="JSON compliant"):
            await client.post(URL, json={"x": float("nan")})


async def test_data_mapping_is_form_encoded() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.post(URL, data={"a": "1 2", "tags": ["x", "y"], "flag": True})
    sent = transport.sent[0]
    assert sent.body == b"a=1+2&tags=x&tags=y&flag=true"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"data": b"\x00raw"}, b"\x00raw"),
        ({"data": "text é"}, "text é".encode()),
        ({"content": b"bytes"}, b"bytes"),
        ({"content": bytearray(b"ba")}, b"ba"),
        ({"content": "str"}, b"str"),
        ({}, None),
    ],
)
async def test_raw_bodies_are_sent_as_they_are(kwargs: dict[str, Any], body: bytes | None) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.put(URL, **kwargs)
    assert transport.sent[0].body == body
    assert "Content-Type" not in transport.sent[0].headers


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {}, "data": {}},
        {"json": {}, "content": b""},
        {"data": b"", "content": b""},
    ],
)
async def test_at_most_one_body(kwargs: dict[str, Any]) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        with pytest.raises(TypeError, match="at most one of json=, data= and content="):
            await client.post(URL, **kwargs)
    assert transport.sent == []


async def test_content_of_another_type_is_refused() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(TypeError, match="content must be bytes or str"):
            await client.post(URL, content=123)  # type: ignore[arg-type]


async def test_params_become_text_pairs_in_the_context() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.get(URL, params={"page": 2, "tag": ["a", "b"], "all": False, "q": None})
        await client.get(URL, params=[("x", "1"), ("x", "2")])
    assert transport.sent[0].params == [
        ("page", "2"),
        ("tag", "a"),
        ("tag", "b"),
        ("all", "false"),
        ("q", ""),
    ]
    assert transport.sent[1].params == [("x", "1"), ("x", "2")]
    assert transport.sent[0].url == URL  # the transport appends the params to the query


async def test_params_as_a_string_are_refused() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(TypeError, match="params must be a mapping"):
            await client.get(URL, params="a=1")  # type: ignore[arg-type]


async def test_headers_from_a_mapping_or_pairs() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.get(URL, headers={"Accept": "application/json"})
        await client.get(URL, headers=[("X-A", "1"), ("x-a", "2")])
    assert transport.sent[0].headers == {"Accept": "application/json"}
    assert transport.sent[1].headers == {"X-A": "1, 2"}


async def test_idempotency_key_is_sent_as_a_header() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.post(URL, json={}, idempotency_key="key-1")
    sent = transport.sent[0]
    assert sent.idempotency_key == "key-1"
    assert sent.headers["Idempotency-Key"] == "key-1"


async def test_extensions_are_copied_into_the_context() -> None:
    transport = StubTransport()
    extensions = {"trace": "t-1"}
    async with client_for(transport) as client:
        await client.get(URL, extensions=extensions)
    assert transport.contexts[0].extensions == {"trace": "t-1"}
    assert transport.contexts[0].extensions is not extensions


async def test_allow_redirects_is_passed_on() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.get(URL)
        await client.get(URL, allow_redirects=False)
    assert [sent.allow_redirects for sent in transport.sent] == [True, False]


async def test_the_context_carries_the_deadline_left(clock: FakeClock) -> None:
    transport = StubTransport()
    config = HTTPClientConfig(pool=PoolConfig(timeout=12.5), retry=RetryConfig(enabled=False))
    async with HTTPClient(config, transport=transport, clock=clock) as client:
        await client.get(URL)
        await client.get(URL, timeout=3)
    assert [sent.timeout for sent in transport.sent] == [12.5, 3.0]


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)],
)
async def test_a_bad_timeout_is_refused(value: Any, error: type[Exception]) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        with pytest.raises(error, match="timeout"):
            await client.get(URL, timeout=value)
    assert transport.sent == []


@pytest.mark.parametrize("verb", [*VERBS, "request"])
async def test_an_unknown_keyword_is_a_type_error_naming_it(verb: str) -> None:
    transport = StubTransport()
    args = ("GET", URL) if verb == "request" else (URL,)
    async with client_for(transport) as client:
        method = "GET" if verb == "request" else verb.upper()
        with pytest.raises(
            TypeError,
            match=rf"^unexpected keyword argument 'jsn' for a {method} request; "
            "did you mean 'json'\\? \\(known: allow_redirects, content, ",
        ):
            await getattr(client, verb)(*args, jsn={})
    assert transport.sent == []


def test_it_satisfies_the_protocol_at_run_time() -> None:
    assert isinstance(HTTPClient(transport=StubTransport()), HTTPClientProtocol)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/v1/invoices", "no scheme"),
        ("api.example.com/v1", "no scheme"),
        ("ftp://files.example.com/x", "unsupported scheme 'ftp'"),
        ("ws://h/x", "unsupported scheme 'ws'"),
        ("https:///path", "no host"),
        ("https://h:99999/", "Port out of range"),
        ("https://h:port/", "Port could not be cast"),
        ("https://h/\r\nX-Injected: 1", "control character"),
        ("https://h/\x00", "control character"),
    ],
)
async def test_bad_urls_are_refused_before_anything_is_sent(url: str, reason: str) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        with pytest.raises(InvalidURLError, match=reason):
            await client.get(url)
    assert transport.sent == []


async def test_a_refused_url_does_not_show_its_secrets() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(InvalidURLError) as info:
            await client.get("ftp://user:hunter2@h/x?api_key=sk-secret")
    text = f"{info.value} {info.value!r} {info.value.url}"
    assert "hunter2" not in text
    assert "sk-secret" not in text


async def test_a_url_that_is_not_a_string_is_a_type_error() -> None:
    async with client_for(StubTransport()) as client:
        with pytest.raises(TypeError, match="url must be a str"):
            await client.get(b"https://h/")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nSet-Cookie: x=1"}, {"X-Evil": "a\nb"}, {"Bad Name": "v"}, {"X": "\x00"}],
)
async def test_header_injection_is_refused(headers: dict[str, str]) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        with pytest.raises(InvalidHeaderError):
            await client.get(URL, headers=headers)
        with pytest.raises(InvalidHeaderError):
            await client.post(URL, idempotency_key="k\r\nX: y")
    assert transport.sent == []


# -- Result mapping --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 301, 304, 399])
async def test_statuses_below_400_are_ok(status: int) -> None:
    async with client_for(StubTransport(status)) as client:
        result = await client.get(URL)
    assert isinstance(result, Ok)
    assert result.value.status == status


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 429, 500, 503, 599])
async def test_statuses_from_400_are_err_status_errors(status: int) -> None:
    async with client_for(StubTransport(status)) as client:
        result = await client.get(URL)
    assert isinstance(result, Err)
    error = result.error
    assert isinstance(error, HTTPStatusError)
    assert error.status == status
    assert error.response.status == status
    assert error.method == "GET"


@pytest.mark.parametrize(
    "error",
    [
        HTTPConnectionError("refused", method="GET", url=URL),
        HTTPTimeoutError(phase=TimeoutPhase.READ, timeout=1.0, method="GET", url=URL),
        HTTPTimeoutError(phase=TimeoutPhase.CONNECT),
        HTTPTimeoutError(phase=TimeoutPhase.DEADLINE),
    ],
)
async def test_connection_failures_and_timeouts_are_err(error: Exception) -> None:
    async with client_for(StubTransport(error)) as client:
        result = await client.get(URL)
    assert isinstance(result, Err)
    assert result.error is error


@pytest.mark.parametrize(
    "error",
    [
        HTTPCircuitOpenError(breaker="b"),
        HTTPBulkheadFullError(),
        HTTPRateLimitedError(retry_after=1.0),
        HTTPBodyTooLargeError(limit=10),
        ClientClosedError(),
    ],
)
async def test_other_client_errors_are_raised(error: Exception) -> None:
    async with client_for(StubTransport(error)) as client:
        with pytest.raises(type(error)) as info:
            await client.get(URL)
    assert info.value is error


async def test_retry_exhaustion_is_raised() -> None:
    transport = StubTransport(503)
    async with HTTPClient(transport=transport, sleep=FakeClock().sleep) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.get(URL)
    assert info.value.attempts == 3
    assert info.value.last_response is not None
    assert info.value.last_response.status == 503


async def test_cancellation_propagates() -> None:
    async with client_for(StubTransport(asyncio.CancelledError())) as client:
        with pytest.raises(asyncio.CancelledError):
            await client.get(URL)


# -- deadline --------------------------------------------------------------------------------


async def test_each_attempt_gets_what_is_left_of_the_deadline(clock: FakeClock) -> None:
    def slow(context: RequestContext) -> int:
        clock.advance(4.0)
        return 503 if context.attempt < 3 else 200

    transport = StubTransport(handler=slow)
    config = HTTPClientConfig(retry=RetryConfig(backoff_base=1.0))
    async with HTTPClient(config, transport=transport, clock=clock, sleep=clock.sleep) as client:
        result = await client.get(URL, timeout=20.0)
    assert result.is_ok()
    timeouts = [sent.timeout for sent in transport.sent]
    assert timeouts[0] == 20.0
    assert timeouts[1] == pytest.approx(20.0 - 4.0 - clock.sleeps[0])
    assert timeouts[2] == pytest.approx(20.0 - 8.0 - sum(clock.sleeps))


class _Twice:
    """A policy that always makes two attempts (to reach the client's own deadline check)."""

    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        await operation(1)
        return await operation(2)


async def test_an_attempt_after_the_deadline_is_a_deadline_timeout(clock: FakeClock) -> None:
    def slow(context: RequestContext) -> int:
        clock.advance(5.0)
        return 200

    transport = StubTransport(handler=slow)
    async with HTTPClient(transport=transport, retry_policy=_Twice(), clock=clock) as client:
        result = await client.get(URL, timeout=5.0)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPTimeoutError)
    assert result.error.phase is TimeoutPhase.DEADLINE
    assert result.error.timeout == 5.0
    assert len(transport.sent) == 1


# -- resilience precedence -------------------------------------------------------------------


class _Recording:
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = name
        self.calls = calls

    async def execute(
        self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.calls.append(self.name)
        return await operation(1)


async def test_a_pipeline_takes_precedence_over_a_retry_policy() -> None:
    calls: list[str] = []
    async with HTTPClient(
        transport=StubTransport(503),
        pipeline=_Recording("pipeline", calls),
        retry_policy=_Recording("retry", calls),
    ) as client:
        result = await client.get(URL)
    assert calls == ["pipeline"]
    assert isinstance(result.error, HTTPStatusError)


async def test_a_retry_policy_replaces_the_default_one() -> None:
    calls: list[str] = []
    transport = StubTransport(503)
    async with HTTPClient(transport=transport, retry_policy=_Recording("retry", calls)) as client:
        await client.get(URL)
    assert calls == ["retry"]
    assert len(transport.sent) == 1


async def test_the_pipeline_sees_the_whole_budget(clock: FakeClock) -> None:
    seen: list[float | None] = []

    class Peek:
        async def execute(
            self, request: RequestContext, operation: Callable[[int], Awaitable[HttpResponse]]
        ) -> HttpResponse:
            seen.append(request.timeout)
            return await operation(1)

    async with HTTPClient(transport=StubTransport(), pipeline=Peek(), clock=clock) as client:
        await client.get(URL, timeout=7.0)
    assert seen == [7.0]


async def test_the_default_retry_policy_follows_the_config() -> None:
    config = HTTPClientConfig(retry=RetryConfig(max_attempts=5, backoff_base=0.5))
    client = HTTPClient(config, transport=StubTransport())
    policy = client._resilience
    assert isinstance(policy, DefaultRetryPolicy)
    assert policy.config.max_attempts == 5
    assert HTTPClient(NO_RETRY, transport=StubTransport())._resilience is None


async def test_without_retries_a_503_is_sent_once() -> None:
    transport = StubTransport(503, 200)
    async with client_for(transport) as client:
        result = await client.get(URL)
    assert isinstance(result.error, HTTPStatusError)
    assert len(transport.sent) == 1


# -- circuit breaker -------------------------------------------------------------------------


async def test_the_breaker_wraps_each_attempt_keyed_on_the_origin() -> None:
    breaker = FakeBreaker()
    transport = StubTransport(503, 503, 200)
    async with HTTPClient(
        transport=transport, circuit_breaker=breaker, sleep=FakeClock().sleep
    ) as client:
        result = await client.get("https://user:pw@API.example.com:443/v1?token=t")
    assert result.is_ok()
    assert breaker.keys == ["https://api.example.com"] * 3


async def test_an_open_breaker_raises_and_sends_nothing() -> None:
    transport = StubTransport()
    async with HTTPClient(transport=transport, circuit_breaker=FakeBreaker(open_=True)) as client:
        with pytest.raises(HTTPCircuitOpenError) as info:
            await client.get("http://h:8080/x")
    assert info.value.key == "http://h:8080"
    assert transport.sent == []


# -- lifecycle -------------------------------------------------------------------------------


def state_of(client: HTTPClient) -> ClientState:
    return client.state  # a call, so mypy does not keep narrowing across awaits


async def test_state_moves_from_unopened_to_opened_to_closed() -> None:
    transport = StubTransport()
    client = HTTPClient(transport=transport)
    assert state_of(client) is ClientState.UNOPENED
    await client.get(URL)
    assert state_of(client) is ClientState.OPENED
    await client.aclose()
    assert state_of(client) is ClientState.CLOSED
    await client.aclose()
    assert transport.closed == 1


async def test_async_with_opens_and_closes() -> None:
    transport = StubTransport()
    async with HTTPClient(transport=transport) as client:
        assert state_of(client) is ClientState.OPENED
    assert state_of(client) is ClientState.CLOSED
    assert transport.closed == 1


async def test_closing_an_unused_client_closes_its_transport() -> None:
    transport = StubTransport()
    await HTTPClient(transport=transport).aclose()
    assert transport.closed == 1


@pytest.mark.parametrize("verb", VERBS)
async def test_a_closed_client_refuses_every_verb(verb: str) -> None:
    transport = StubTransport()
    client = HTTPClient(transport=transport)
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await getattr(client, verb)(URL)
    assert transport.sent == []


async def test_a_closed_client_cannot_be_reopened() -> None:
    client = HTTPClient(transport=StubTransport())
    await client.aclose()
    with pytest.raises(ClientClosedError):
        async with client:
            pass


async def test_the_default_transport_is_aiohttp_and_unused_clients_leave_nothing_open() -> None:
    from lexigram.http import AiohttpTransport

    client = HTTPClient()
    assert isinstance(client.transport, AiohttpTransport)
    assert client.config == HTTPClientConfig()
    async with HTTPClient():
        pass
    await client.aclose()


def test_repr() -> None:
    assert repr(HTTPClient(transport=StubTransport())) == "<HTTPClient state=unopened>"


# -- hot path hygiene ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome", [200, 404, HTTPConnectionError("refused")], ids=["ok", "status", "error"]
)
async def test_a_call_leaves_no_reference_cycles(outcome: Any) -> None:
    transport = StubTransport(outcome)
    # The default client (retries on); errors through POST, which is not retried.
    async with HTTPClient(transport=transport) as client:
        send = client.post if isinstance(outcome, Exception) else client.get
        await send(URL)  # warm up caches
        transport.sent.clear()
        transport.contexts.clear()
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                await send(URL, headers={"A": "b"}, params={"p": 1})
                transport.sent.clear()
                transport.contexts.clear()
            unreachable = gc.collect()
        finally:
            gc.enable()
    assert unreachable == 0


async def test_interceptor_free_calls_reuse_the_context_across_attempts() -> None:
    transport = StubTransport(503, 200)
    async with HTTPClient(transport=transport, sleep=FakeClock().sleep) as client:
        await client.get(URL)
    assert transport.contexts[0] is transport.contexts[1]
    assert [sent.attempt for sent in transport.sent] == [1, 2]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "a"},
        {"X-A": "1", "x-a": "2", "X-a": "3"},
        {"Authorization": "Bearer t", "Content-Type": "application/json", "X-Empty": ""},
        [("X-A", "1"), ("x-a", "2")],
        Headers({"X-Copied": "1"}),
    ],
)
async def test_headers_are_taken_exactly_as_headers_would(headers: Any) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.get(URL, headers=headers)
    sent = transport.contexts[0].headers
    expected = Headers(headers)
    assert list(sent.items()) == list(expected.items())
    assert not sent.readonly
    assert sent is not headers


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"X": 5}, TypeError),
        ({5: "x"}, TypeError),
        ({"Good": "ok", "Bad:Name": "v"}, InvalidHeaderError),
        ({"Good": "ok", "X": "a\rb"}, InvalidHeaderError),
    ],
)
async def test_bad_headers_fail_as_headers_fails(headers: Any, error: type[Exception]) -> None:
    async with client_for(StubTransport()) as client:
        # A name seen before must still have its value checked.
        await client.get(URL, headers={"Good": "ok", "X": "fine"})
        with pytest.raises(error):
            await client.get(URL, headers=headers)

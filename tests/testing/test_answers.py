"""Each kind of answer: responses, errors, handlers, sequences, latency, pass-through."""

from __future__ import annotations

import pytest

from lexigram.contracts.web import (
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.result import Err, Ok, Result
from lexigram.testing.http import (
    FakeClock,
    FakeHTTPClient,
    MockTransport,
    Raise,
    Reply,
    Router,
    SequenceExhaustedError,
    Stream,
)

URL = "https://api.example.com/v1/invoices"


def ok(result: Result[HttpResponse, HTTPClientError]) -> HttpResponse:
    assert isinstance(result, Ok), result
    return result.value


def err(result: Result[HttpResponse, HTTPClientError]) -> HTTPClientError:
    assert isinstance(result, Err), result
    return result.error


def status_of(result: Result[HttpResponse, HTTPClientError]) -> int:
    if isinstance(result, Ok):
        return result.value.status
    assert isinstance(result.error, HTTPStatusError), result
    return result.error.status


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def router(clock: FakeClock) -> Router:
    return Router(sleep=clock.sleep)


@pytest.fixture
def client(router: Router) -> FakeHTTPClient:
    return FakeHTTPClient(router)


async def test_default_answer_is_an_empty_200(router: Router, client: FakeHTTPClient) -> None:
    router.get(URL)
    response = ok(await client.get(URL))
    assert (response.status, response.body) == (200, b"")


async def test_respond_with_json_text_bytes_and_headers(
    router: Router, client: FakeHTTPClient
) -> None:
    router.get(f"{URL}/json").respond(200, json={"id": "inv_1"}, headers={"ETag": '"v1"'})
    router.get(f"{URL}/text").respond(200, text="héllo")
    router.get(f"{URL}/bytes").respond(200, body=b"\x00\x01", headers={"Content-Type": "x/y"})

    response = ok(await client.get(f"{URL}/json"))
    assert response.json == {"id": "inv_1"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["etag"] == '"v1"'
    assert response.method == "GET"
    assert response.url == f"{URL}/json"
    assert ok(await client.get(f"{URL}/text")).text == "héllo"
    assert ok(await client.get(f"{URL}/bytes")).body == b"\x00\x01"
    with pytest.raises(TypeError, match="at most one"):
        Reply(200, json={}, text="x")


async def test_response_url_carries_the_params(router: Router, client: FakeHTTPClient) -> None:
    router.get(URL).respond(200)
    response = ok(await client.get(URL, params={"page": 2}))
    assert response.url == f"{URL}?page=2"


async def test_head_answers_drop_the_body(router: Router, client: FakeHTTPClient) -> None:
    router.head(URL).respond(200, json={"big": "body"})
    response = ok(await client.head(URL))
    assert response.body == b""
    assert response.headers["Content-Type"] == "application/json"


async def test_status_errors_map_to_err(router: Router, client: FakeHTTPClient) -> None:
    router.get(URL).respond(404, json={"error": "not found"})
    error = err(await client.get(URL))
    assert isinstance(error, HTTPStatusError)
    assert error.response.json == {"error": "not found"}


async def test_raises_a_connection_error_built_for_the_request(
    router: Router, client: FakeHTTPClient
) -> None:
    router.get(URL).raises(HTTPConnectionError)
    error = err(await client.get(URL, params={"token": "s3cret"}))
    assert isinstance(error, HTTPConnectionError)
    assert (error.method, error.url) == ("GET", URL)


async def test_raises_a_timeout_with_its_phase(router: Router, client: FakeHTTPClient) -> None:
    router.get(URL).raises(HTTPTimeoutError, phase="connect", timeout=10.0)
    error = err(await client.get(URL))
    assert isinstance(error, HTTPTimeoutError)
    assert (error.phase, error.timeout) == (TimeoutPhase.CONNECT, 10.0)
    assert str(error) == f"connect timeout after 10s for GET {URL}"

    router.get(f"{URL}/silent").raises(HTTPTimeoutError)
    error = err(await client.get(f"{URL}/silent"))
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.READ  # deadline timeouts come from latency


async def test_raises_a_copy_of_an_instance_each_time(
    router: Router, client: FakeHTTPClient
) -> None:
    given = HTTPTimeoutError(phase=TimeoutPhase.READ)
    router.get(URL).raises(given)
    first, second = err(await client.get(URL)), err(await client.get(URL))
    assert first is not given
    assert second is not first
    assert isinstance(second, HTTPTimeoutError)
    assert second.phase is TimeoutPhase.READ


async def test_infrastructure_errors_are_raised_not_wrapped(
    router: Router, client: FakeHTTPClient
) -> None:
    router.get(URL).raises(HTTPCircuitOpenError, breaker="http-default")
    with pytest.raises(HTTPCircuitOpenError, match="'http-default' is open"):
        await client.get(URL)


def test_raise_refuses_what_is_not_an_exception() -> None:
    with pytest.raises(TypeError, match="exception"):
        Raise("boom")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="only for an exception class"):
        Raise(HTTPConnectionError(), phase="x")


async def test_sync_handler_gets_the_request(router: Router, client: FakeHTTPClient) -> None:
    seen: list[RequestContext] = []

    def handler(request: RequestContext) -> Reply:
        seen.append(request)
        return Reply(201, json={"echo": request.headers["X-Echo"]})

    router.post(URL).handle(handler)
    response = ok(await client.post(URL, headers={"X-Echo": "hi"}))
    assert response.json == {"echo": "hi"}
    assert seen[0].method == "POST"


async def test_async_handler_may_return_a_status_a_response_or_raise(
    router: Router, client: FakeHTTPClient
) -> None:
    async def handler(request: RequestContext) -> HttpResponse | int:
        if "fail" in request.url:
            raise HTTPConnectionError(method=request.method, url=request.url)
        if "status" in request.url:
            return 418
        return HttpResponse(200, url=request.url, method=request.method, text="built")

    router.route(url=f"{URL}/{{kind}}").handle(handler)
    assert ok(await client.get(f"{URL}/response")).text == "built"
    assert status_of(await client.get(f"{URL}/status")) == 418
    assert isinstance(err(await client.get(f"{URL}/fail")), HTTPConnectionError)


async def test_sequence_plays_in_order_then_fails(router: Router, client: FakeHTTPClient) -> None:
    route = router.get(URL, name="flaky").sequence(
        503, HTTPConnectionError, Reply(200, json={"ok": True})
    )
    assert status_of(await client.get(URL)) == 503
    assert isinstance(err(await client.get(URL)), HTTPConnectionError)
    assert ok(await client.get(URL)).json == {"ok": True}
    with pytest.raises(SequenceExhaustedError, match=r"'flaky'.*3 answers but was called 4 times"):
        await client.get(URL)
    assert route.call_count == 4
    assert isinstance(route.calls.last.error, SequenceExhaustedError)


async def test_sequence_can_repeat_its_last_answer(router: Router, client: FakeHTTPClient) -> None:
    router.get(URL).sequence(500, 200, repeat_last=True)
    assert [status_of(await client.get(URL)) for _ in range(4)] == [500, 200, 200, 200]


async def test_sequence_restarts_after_reset(router: Router, client: FakeHTTPClient) -> None:
    route = router.get(URL).sequence(201)
    await client.get(URL)
    router.reset()
    assert ok(await client.get(URL)).status == 201
    assert route.call_count == 1
    assert len(router.calls) == 1


def test_sequence_validates_its_answers(router: Router) -> None:
    with pytest.raises(ValueError, match="at least one"):
        router.get(URL).sequence()
    with pytest.raises(TypeError, match="not str"):
        router.get(URL).sequence("200")  # type: ignore[arg-type]


async def test_latency_is_awaited_on_the_injected_sleep(
    router: Router, client: FakeHTTPClient, clock: FakeClock
) -> None:
    router.get(URL).respond(200, delay=1.5)
    router.post(URL).raises(HTTPConnectionError, delay=0.25)
    response = ok(await client.get(URL))
    assert response.elapsed == 1.5
    await client.post(URL)
    assert clock.sleeps == [1.5, 0.25]


async def test_latency_past_the_deadline_is_a_deadline_timeout(
    router: Router, clock: FakeClock
) -> None:
    router.get(URL).respond(200, delay=5.0)
    client = FakeHTTPClient(router, timeout=2.0)
    error = err(await client.get(URL))
    assert isinstance(error, HTTPTimeoutError)
    assert (error.phase, error.timeout) == (TimeoutPhase.DEADLINE, 2.0)
    assert clock.sleeps == [2.0]
    assert ok(await client.get(URL, timeout=10.0)).status == 200


async def test_pass_through_sends_to_the_real_transport(clock: FakeClock) -> None:
    # The "real" transport is another mock here: nothing in this suite touches the network.
    upstream = Router()
    upstream.get(URL).respond(200, text="from upstream")
    router = Router(real_transport=MockTransport(upstream))
    router.get(URL).pass_through()

    response = ok(await FakeHTTPClient(router).get(URL))
    assert response.text == "from upstream"
    assert router.calls.last.response is response
    assert upstream.calls.last.url == URL
    with pytest.raises(ValueError, match="real transport"):
        Router().get(URL).pass_through()


def test_answers_have_readable_reprs() -> None:
    assert repr(Reply(201, json={"a": 1}, delay=0.5)) == "Reply(201, <7 bytes>, delay=0.5)"
    assert repr(Stream("ab", "c", disconnect=True)) == (
        "Stream(200, 2 chunks, 3 bytes, disconnect=True)"
    )
    assert repr(Raise(HTTPConnectionError)) == "Raise(HTTPConnectionError)"
    with pytest.raises(ValueError, match="delay"):
        Reply(200, delay=-1)

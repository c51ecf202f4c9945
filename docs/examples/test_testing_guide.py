"""The testing guide's other examples: latency on a fake clock, retries through the real client,
a scripted stream, the pytest fixtures and the conformance suite.

Run them: ``uv run --frozen pytest docs/examples/test_testing_guide.py``.
"""

import pytest

from lexigram.contracts.web import HTTPClientProtocol, HTTPStreamDisconnectedError, RequestContext
from lexigram.http import HTTPClient, HTTPClientConfig, HTTPTimeoutError, RetryConfig, TimeoutPhase
from lexigram.result import Err
from lexigram.testing.http import Chunk, FakeClock, FakeHTTPClient, MockTransport, Router
from lexigram.testing.http.conformance import HTTPClientConformance


async def test_a_slow_partner_hits_the_deadline() -> None:
    clock = FakeClock()
    router = Router(sleep=clock.sleep)
    router.get("https://api.example.com/slow").respond(200, delay=45.0)
    client = HTTPClient(transport=MockTransport(router), clock=clock, sleep=clock.sleep)

    result = await client.get("https://api.example.com/slow", timeout=30.0)

    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPTimeoutError)
    assert result.error.phase is TimeoutPhase.DEADLINE
    assert clock.sleeps == [30.0]
    await client.aclose()


async def no_sleep(seconds: float) -> None:
    pass


async def test_a_flaky_partner_is_retried() -> None:
    router = Router()
    route = router.get("https://api.example.com/v1/invoices/inv_1").sequence(503, 503, 200)

    async with HTTPClient(transport=MockTransport(router), sleep=no_sleep) as client:
        result = await client.get("https://api.example.com/v1/invoices/inv_1")

    assert result.is_ok()
    assert [call.attempt for call in route.calls] == [1, 2, 3]
    assert [call.status for call in route.calls] == [503, 503, 200]


async def test_a_stream_broken_off_mid_event() -> None:
    router = Router(sleep=FakeClock().sleep)
    router.post("https://llm.example.com/v1/chat").stream(
        "data: hel",
        Chunk("lo\r", delay=0.5),
        "\n\r\n",
        'data: {"partial',
        headers={"Content-Type": "text/event-stream"},
        disconnect=True,
    )
    transport = MockTransport(router)

    response = await transport.send_stream(
        RequestContext("POST", "https://llm.example.com/v1/chat")
    )
    chunks = response.iter_bytes()
    assert await anext(chunks) == b"data: hel"
    with pytest.raises(HTTPStreamDisconnectedError) as caught:
        async for _ in chunks:
            pass
    assert caught.value.received.endswith(b'data: {"partial')
    await transport.aclose()


async def test_retry_with_fixtures(http_router: Router, http_client: HTTPClient) -> None:
    route = http_router.get("https://h.example/x").sequence(503, 200)
    assert (await http_client.get("https://h.example/x")).is_ok()
    assert [call.attempt for call in route.calls] == [1, 2]


@pytest.mark.http_mock(assert_all_called=False, base_url="https://api.example.com/v1")
async def test_with_optional_routes(http_router: Router, fake_http_client: FakeHTTPClient) -> None:
    http_router.get("/items").respond(200, json=[])
    http_router.get("/maybe")  # not called: fine, the check is off
    await fake_http_client.get("https://api.example.com/v1/items")


class TestHTTPClientConforms(HTTPClientConformance):
    def make_client(self, router: Router) -> HTTPClientProtocol:
        config = HTTPClientConfig(retry=RetryConfig(enabled=False))
        return HTTPClient(config, transport=MockTransport(router))


class TestFakeHTTPClientConforms(HTTPClientConformance):
    def make_client(self, router: Router) -> HTTPClientProtocol:
        return FakeHTTPClient(router)

"""``StreamingHTTPClientProtocol``: one streaming service, three clients (issue 18)."""

from __future__ import annotations

import pytest

from lexigram.contracts.web import (
    ClientClosedError,
    StreamingHTTPClientProtocol,
    StreamResponseProtocol,
)
from lexigram.http import BaseURLHTTPClient, HTTPClient
from lexigram.testing.http import FakeHTTPClient, MockTransport, Router

URL = "https://llm.example.com/v1/chat"


class ChatService:
    """Domain code: depends on the protocol, not on a concrete client."""

    def __init__(self, http: StreamingHTTPClientProtocol, url: str = URL) -> None:
        self._http = http
        self._url = url

    async def tokens(self, prompt: str) -> list[str]:
        async with self._http.stream("POST", self._url, json={"prompt": prompt}) as response:
            response.raise_for_status()
            return [event.data async for event in response.sse() if event.data != "[DONE]"]


def scripted() -> Router:
    router = Router()
    router.post(URL).stream("data: Hel\n\n", "data: lo\n\n", "data: [DONE]\n\n")
    return router


async def test_the_fake_streams_scripted_bodies() -> None:
    router = scripted()
    async with FakeHTTPClient(router) as fake:
        assert isinstance(fake, StreamingHTTPClientProtocol)
        assert await ChatService(fake).tokens("hi") == ["Hel", "lo"]
    assert router.calls.last.json == {"prompt": "hi"}


async def test_the_fake_reads_lines_ndjson_and_bytes_as_the_real_client() -> None:
    router = Router()
    router.get("https://h.example/lines").stream("a\nb", "\nc\n")
    router.get("https://h.example/ndjson").stream('{"n": 1}\n{"n": 2}\n')
    async with FakeHTTPClient(router) as fake:
        async with fake.stream("GET", "https://h.example/lines") as response:
            checked: StreamResponseProtocol = response
            assert [line async for line in checked] == ["a", "b", "c"]
        async with fake.stream("GET", "https://h.example/ndjson") as response:
            assert [item async for item in response.ndjson()] == [{"n": 1}, {"n": 2}]


async def test_a_closed_fake_refuses_to_stream() -> None:
    fake = FakeHTTPClient(scripted())
    await fake.aclose()
    with pytest.raises(ClientClosedError):
        fake.stream("POST", URL)
    fake.router.expect_all_called = False


async def test_the_real_clients_implement_the_protocol() -> None:
    async with HTTPClient(transport=MockTransport(scripted())) as client:
        assert isinstance(client, StreamingHTTPClientProtocol)
        assert await ChatService(client).tokens("hi") == ["Hel", "lo"]
    base = BaseURLHTTPClient("https://llm.example.com/v1", transport=MockTransport(scripted()))
    async with base:
        assert isinstance(base, StreamingHTTPClientProtocol)
        assert await ChatService(base, "/chat").tokens("hi") == ["Hel", "lo"]

"""``StreamingHTTPClientProtocol`` under ``mypy --strict``: the clients satisfy it, and its
keywords are checked (lines with ``type: ignore[...]`` are calls mypy must refuse)."""

from __future__ import annotations

from typing import assert_type

from lexigram.contracts.web import StreamingHTTPClientProtocol, StreamResponseProtocol
from lexigram.http import BaseURLHTTPClient, HTTPClient


def test_both_clients_are_streaming_clients() -> None:
    clients: list[StreamingHTTPClientProtocol] = [HTTPClient(), BaseURLHTTPClient("https://h.x")]
    assert len(clients) == 2


async def consume(http: StreamingHTTPClientProtocol) -> None:
    async with http.stream("GET", "https://h.x/", idle_timeout=5.0) as response:
        assert_type(response, StreamResponseProtocol)
        async for line in response:
            assert_type(line, str)
    http.stream("GET", "https://h.x/", idle_timout=5.0)  # type: ignore[call-arg]
    http.stream("GET", "https://h.x/", max_line_bytes="1")  # type: ignore[arg-type]

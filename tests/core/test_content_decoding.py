"""A body whose Content-Encoding cannot be decoded is ``HTTPDecodeError``: one request, no
retry, not a connection failure. Raw server, request counts taken at the server."""

from __future__ import annotations

import gzip

import pytest
from aiohttp import compression_utils

from lexigram.contracts.web import HTTPDecodeError
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.http._encoding import decodable_codings
from tests.core.conftest import FakeClock
from tests.core.faults import Fault, FaultServer

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

CONFIG = HTTPClientConfig(trust_env=False, retry=RetryConfig(max_attempts=3))


def encoded(coding: str, body: bytes) -> Fault:
    return Fault(body=body, headers=(("Content-Encoding", coding),))


async def test_gzip_garbage_is_a_decode_error_sent_once(clock: FakeClock) -> None:
    async with FaultServer(lambda n, head: encoded("gzip", b"not gzip at all")) as server:
        async with HTTPClient(CONFIG, sleep=clock.sleep, clock=clock) as client:
            with pytest.raises(HTTPDecodeError) as caught:
                await client.get(server.url_for("/gzip"))
        assert server.requests == 1
    error = caught.value
    assert not isinstance(error, ConnectionError)
    assert "gzip" in str(error)
    assert error.url == server.url_for("/gzip")


async def test_brotli_is_decoded_with_speedups_or_named_as_missing(clock: FakeClock) -> None:
    text = b'{"brotli": true}'
    if compression_utils.HAS_BROTLI:
        import brotli  # type: ignore[import-not-found, import-untyped, unused-ignore]

        body = brotli.compress(text)
    else:
        body = b"\x1b\x0f\x00\xf8\xa5garbage"
    async with FaultServer(lambda n, head: encoded("br", body)) as server:
        async with HTTPClient(CONFIG, sleep=clock.sleep, clock=clock) as client:
            if compression_utils.HAS_BROTLI:
                response = (await client.get(server.url_for("/brotli"))).unwrap()
                assert response.body == text
            else:
                with pytest.raises(HTTPDecodeError) as caught:
                    await client.get(server.url_for("/brotli"))
                assert "lexigram-http-core[speedups]" in str(caught.value)
        assert server.requests == 1


async def test_a_stream_with_an_undecodable_body_is_a_decode_error() -> None:
    config = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
    async with FaultServer(lambda n, head: encoded("gzip", b"x" * 64)) as server:
        async with (
            HTTPClient(config) as client,
            client.stream("GET", server.url_for("/gzip")) as response,
        ):
            with pytest.raises(HTTPDecodeError):
                await response.aread()
        assert server.requests == 1


async def test_accept_encoding_offers_only_what_can_be_decoded() -> None:
    payload = gzip.compress(b"zipped")
    async with (
        FaultServer(lambda n, head: encoded("gzip", payload)) as server,
        HTTPClient(CONFIG) as client,
    ):
        response = (await client.get(server.url_for("/"))).unwrap()
    assert response.body == b"zipped"
    (head,) = server.heads
    offered = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"accept-encoding:")
    )
    assert [coding.strip() for coding in offered.split(",")] == list(decodable_codings())
    assert ("br" in offered) == compression_utils.HAS_BROTLI
    assert ("zstd" in offered) == compression_utils.HAS_ZSTD


def test_the_speedups_extra_pulls_aiohttp_speedups() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "packages/lexigram-http-core/pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    assert any(spec.startswith("aiohttp[speedups]") for spec in extras["speedups"])

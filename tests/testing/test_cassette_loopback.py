"""Record against loopback servers, stop them, replay: identical results, attempts and metrics."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.web import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPTransportProtocol,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import AiohttpTransport, HTTPClient
from lexigram.testing.http import (
    Cassette,
    FakeClock,
    RecordingTransport,
    ReplayTransport,
)

BINARY = bytes(range(256)) * 4
GZIPPED_TEXT = "compressed " * 50
SSE_FIRST = b"data: hel"  # the first write ends in the middle of an event
SSE_REST = b'lo\n\nevent: done\ndata: {"ok": true}\n\n'


async def no_sleep(seconds: float) -> None:
    pass


class Servers:
    """Loopback handlers; ``flaky`` answers 503 once, then 200."""

    def __init__(self) -> None:
        self.flaky_calls = 0
        self.gate = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/json", self.json),
                web.post("/form", self.form),
                web.get("/binary", self.binary),
                web.get("/gzip", self.gzip),
                web.get("/redirect", self.redirect),
                web.get("/flaky", self.flaky),
                web.get("/sse", self.sse),
                web.get("/drop", self.drop),
                web.get("/stall", self.stall),
            ]
        )
        return app

    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({"id": 7, "name": "Zoë", "page": request.query.get("page")})

    async def form(self, request: web.Request) -> web.Response:
        fields = await request.post()
        return web.json_response({name: str(value) for name, value in fields.items()})

    async def binary(self, request: web.Request) -> web.Response:
        return web.Response(body=BINARY, content_type="application/octet-stream")

    async def gzip(self, request: web.Request) -> web.Response:
        body = gzip.compress(GZIPPED_TEXT.encode())
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"}
        )

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/json?page=2")

    async def flaky(self, request: web.Request) -> web.Response:
        self.flaky_calls += 1
        if self.flaky_calls == 1:
            return web.Response(status=503, text="busy", headers={"Retry-After": "0"})
        return web.json_response({"attempt": self.flaky_calls})

    async def sse(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(SSE_FIRST)
        await asyncio.sleep(0.05)  # the client reads the first part on its own
        await response.write(SSE_REST)
        await response.write_eof()
        return response

    async def drop(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"0123456789")
        await asyncio.sleep(0.01)  # let the bytes leave before the connection drops
        assert request.transport is not None
        request.transport.close()
        return response

    async def stall(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        await self.gate.wait()  # silent until the test ends
        return response


@asynccontextmanager
async def serve(servers: Servers) -> AsyncIterator[str]:
    runner = web.AppRunner(servers.app(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        servers.gate.set()
        await runner.cleanup()


async def read_events(
    client: HTTPClient, url: str, **options: Any
) -> tuple[list[tuple[str, str]], BaseException | None]:
    """The SSE events of a stream, and the error that ended it (``None``: it ended cleanly)."""
    events: list[tuple[str, str]] = []
    try:
        async with client.stream("GET", url, **options) as response:
            async for event in response.sse():
                events.append((event.event, event.data))
    except HTTPClientError as exc:
        return events, exc
    return events, None


async def read_chunks(client: HTTPClient, url: str) -> tuple[list[bytes], BaseException | None]:
    """The raw chunks of a stream, and the error that ended it."""
    chunks: list[bytes] = []
    try:
        async with client.stream("GET", url) as response:
            async for chunk in response.iter_bytes():
                chunks.append(chunk)
    except HTTPClientError as exc:
        return chunks, exc
    return chunks, None


def outcome(result: Any) -> Any:
    """What the caller sees of a verb's result, as plain data."""
    if result.is_ok():
        response = result.value
        return ("ok", response.status, response.url, dict(response.headers), response.body)
    error = result.error
    return ("err", type(error).__name__, str(error))


async def exercise(base: str, transport: HTTPTransportProtocol) -> dict[str, Any]:
    """Everything the issue lists, through the real client; returns what the code saw."""
    metrics = InMemoryMetricsRecorder()
    seen: dict[str, Any] = {}
    async with HTTPClient(transport=transport, metrics=metrics, sleep=no_sleep) as client:
        seen["json"] = outcome(await client.get(f"{base}/json", params={"page": "1"}))
        seen["form"] = outcome(await client.post(f"{base}/form", data={"a": "1", "b": "two"}))
        seen["binary"] = outcome(await client.get(f"{base}/binary"))
        seen["gzip"] = outcome(await client.get(f"{base}/gzip"))
        seen["redirect"] = outcome(await client.get(f"{base}/redirect"))
        seen["flaky"] = outcome(await client.get(f"{base}/flaky"))

        seen["sse"] = await read_events(client, f"{base}/sse")
        assert seen["sse"][1] is None
        # The same stream as raw chunks: replay keeps the boundaries, mid-event split included.
        seen["sse_chunks"], _ = await read_chunks(client, f"{base}/sse")
        assert seen["sse_chunks"][0] == SSE_FIRST

        drop, dropped = await read_chunks(client, f"{base}/drop")
        assert isinstance(dropped, HTTPStreamDisconnectedError)
        seen["drop"] = (drop, dropped.bytes_received, str(dropped))

        stalled, idle = await read_events(client, f"{base}/stall", idle_timeout=0.2)
        assert isinstance(idle, HTTPTimeoutError)
        seen["stall"] = (stalled, idle.phase)
    seen["statuses"] = [
        (record.tags["method"], record.tags["status"])
        for record in metrics.records
        if record.name == "http.request.status"
    ]
    seen["durations"] = [
        record.tags["method"]
        for record in metrics.records
        if record.name == "http.request.duration"
    ]
    return seen


async def test_record_then_replay_with_the_servers_stopped(tmp_path: Path) -> None:
    path = tmp_path / "loopback.json"
    servers = Servers()
    async with serve(servers) as base:
        cassette = Cassette(path=path)
        recorded = await exercise(base, RecordingTransport(AiohttpTransport(), cassette))
        cassette.save()
    assert servers.flaky_calls == 2

    # The servers are gone: the network would refuse.
    async with AiohttpTransport() as transport:
        with pytest.raises(HTTPConnectionError):
            await transport.send(RequestContext("GET", f"{base}/json"))

    replay = ReplayTransport(Cassette.load(path))
    replayed = await exercise(base, replay)

    assert replayed == recorded
    replay.assert_all_played()
    # Two attempts of the flaky call, both in the cassette and in the replay.
    flaky = [call for call in replay.calls if call.url.endswith("/flaky")]
    assert [(call.attempt, call.status) for call in flaky] == [(1, 503), (2, 200)]
    assert ("GET", "503") in replayed["statuses"]


async def test_what_the_cassette_holds(tmp_path: Path) -> None:
    path = tmp_path / "loopback.json"
    servers = Servers()
    async with serve(servers) as base:
        cassette = Cassette(path=path)
        seen = await exercise(base, RecordingTransport(AiohttpTransport(), cassette))
        cassette.save()
    document = json.loads(path.read_text())
    assert (document["format"], document["version"]) == ("lexigram-http-cassette", 1)
    by_path: dict[str, list[dict[str, Any]]] = {}
    for item in document["interactions"]:
        by_path.setdefault(item["request"]["url"].split("?")[0].rsplit("/", 1)[1], []).append(item)

    json_request = by_path["json"][0]["request"]
    assert json_request["url"] == f"{base}/json?page=1"
    body = by_path["json"][0]["response"]["body"]
    assert body["encoding"] == "utf-8"  # readable, not base64
    assert json.loads(body["data"])["name"] == "Zoë"
    assert by_path["form"][0]["request"]["body"] == {"encoding": "utf-8", "data": "a=1&b=two"}
    binary = by_path["binary"][0]["response"]["body"]
    assert binary["encoding"] == "base64"
    assert Cassette.load(path).interactions[2].response.body == BINARY  # type: ignore[union-attr]
    # gzip: the decoded body, with the header the server sent.
    assert by_path["gzip"][0]["response"]["body"]["data"] == GZIPPED_TEXT
    assert by_path["gzip"][0]["response"]["headers"]["Content-Encoding"] == "gzip"
    # The redirect is one exchange, ending at the final URL.
    assert by_path["redirect"][0]["response"]["url"] == f"{base}/json?page=2"
    assert [item["response"]["status"] for item in by_path["flaky"]] == [503, 200]

    sse = by_path["sse"][0]["response"]
    assert sse["chunks"][0]["data"] == SSE_FIRST.decode()  # split mid-event, kept as it came
    assert "".join(chunk["data"] for chunk in sse["chunks"]) == (SSE_FIRST + SSE_REST).decode()
    assert sse["end"]["kind"] == "eof"
    times = [sse["headers_at"]] + [chunk["at"] for chunk in sse["chunks"]]
    assert times == sorted(times)

    drop = by_path["drop"][0]["response"]
    assert drop["end"]["kind"] == "error"
    assert drop["end"]["error"]["type"] == "HTTPStreamDisconnectedError"
    assert drop["end"]["error"]["bytes_received"] == 10

    stall = by_path["stall"][0]["response"]
    assert stall["end"]["kind"] == "stall"
    assert stall["end"]["waited"] > 0
    assert seen["stall"] == ([("message", "first")], TimeoutPhase.IDLE)


async def test_streams_replay_at_the_recorded_pace_on_a_fake_clock(tmp_path: Path) -> None:
    path = tmp_path / "sse.json"
    servers = Servers()
    async with serve(servers) as base:
        cassette = Cassette(path=path)
        async with HTTPClient(transport=RecordingTransport(AiohttpTransport(), cassette)) as c:
            recorded = await read_events(c, f"{base}/sse")
        cassette.save()
    stream = Cassette.load(path).interactions[0].response
    assert stream is not None
    assert stream.chunks is not None
    marks = [stream.headers_at] + [chunk.at for chunk in stream.chunks]
    gaps = [later - earlier for earlier, later in itertools.pairwise(marks)]

    clock = FakeClock()
    replay = ReplayTransport(Cassette.load(path), pace="recorded", sleep=clock.sleep)
    async with HTTPClient(transport=replay, clock=clock, sleep=clock.sleep) as client:
        assert await read_events(client, f"{base}/sse") == recorded
    # The latency to the headers, then each recorded gap between chunks, on the fake clock.
    assert clock.sleeps == pytest.approx([stream.headers_at, *[g for g in gaps if g > 0]])


async def test_instant_replay_of_a_stall_raises_the_idle_timeout_without_waiting(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stall.json"
    servers = Servers()
    async with serve(servers) as base:
        cassette = Cassette(path=path)
        async with HTTPClient(transport=RecordingTransport(AiohttpTransport(), cassette)) as c:
            _, error = await read_events(c, f"{base}/stall", idle_timeout=0.1)
        assert isinstance(error, HTTPTimeoutError)
        cassette.save()
    # A huge idle timeout: only the replayed stall can end this stream.
    async with HTTPClient(transport=ReplayTransport(Cassette.load(path))) as client:
        events, error = await read_events(client, f"{base}/stall", idle_timeout=3600)
    assert events == [("message", "first")]
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.IDLE

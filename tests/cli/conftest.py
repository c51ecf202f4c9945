"""A loopback aiohttp server in a thread of its own, for the command's tests.

The command runs its own event loop (``asyncio.run``), in-process through typer's runner or as a
subprocess, so the server cannot share the test's loop: it runs one in a background thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web
from typer.testing import CliRunner

SECRET_TOKEN = "s3cr3t-token-value"
"""A bearer token the tests send; it must never be printed unless --show-secrets."""
SECRET_KEY = "k3y-in-the-query"
SESSION = "session-cookie-value"


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """The running server: its URL, what it saw, gates the tests open."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    loop: asyncio.AbstractEventLoop | None = None
    gates: dict[str, asyncio.Event] = field(default_factory=dict)

    def gate(self, name: str) -> asyncio.Event:
        event = self.gates.get(name)
        if event is None:
            event = self.gates[name] = asyncio.Event()
        return event

    def open_gate(self, name: str) -> None:
        """Let a gated handler go on (called from the test's thread)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(lambda: self.gate(name).set())


async def _record(server: Server, request: web.Request) -> bytes:
    body = await request.read()
    server.seen.append(
        Seen(
            request.method,
            request.path,
            list(request.query.items()),
            dict(request.headers),
            body,
        )
    )
    return body


def _app(server: Server) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await _record(server, request)
        return web.json_response(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "query": list(request.query.items()),
                "body": body.decode("utf-8", "replace"),
                "access_token": "issued-access-token",
            },
            headers={"Set-Cookie": f"sid={SESSION}; Path=/", "X-Echo": "yes"},
        )

    async def status(request: web.Request) -> web.Response:
        await _record(server, request)
        code = int(request.match_info["code"])
        if code in (204, 304):
            return web.Response(status=code)
        return web.json_response({"status": code}, status=code)

    async def flaky(request: web.Request) -> web.Response:
        """503s first (with ``Retry-After`` when ``hint``), then 200; per ``key``."""
        await _record(server, request)
        key = request.match_info["key"]
        server.counters[key] += 1
        if server.counters[key] <= int(request.query.get("fail", "2")):
            headers = {"Retry-After": "0.01"} if request.query.get("hint") else {}
            return web.json_response({"error": "busy"}, status=503, headers=headers)
        return web.json_response({"ok": True, "attempt": server.counters[key]})

    async def reset(request: web.Request) -> web.Response:
        """Drops the connection on the first two requests of ``key``: aiohttp itself resends
        an idempotent request once when the connection drops, inside one of our attempts."""
        await _record(server, request)
        key = request.match_info["key"]
        server.counters[key] += 1
        if server.counters[key] <= 2 and request.transport is not None:
            request.transport.abort()
        return web.json_response({"ok": True})

    async def slow(request: web.Request) -> web.Response:
        await _record(server, request)
        await asyncio.sleep(float(request.query.get("delay", "5")))
        return web.json_response({"late": True})

    async def upload(request: web.Request) -> web.Response:
        # Not recorded: _record would consume the body the multipart reader needs.
        reader = await request.multipart()
        parts: list[dict[str, Any]] = []
        while True:
            part = await reader.next()
            if part is None:
                break
            assert isinstance(part, BodyPartReader)
            data = await part.read()
            parts.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "type": part.headers.get("Content-Type"),
                    "data": bytes(data).decode(),
                }
            )
        return web.json_response({"parts": parts})

    async def sse(request: web.Request) -> web.StreamResponse:
        """Events; with ``gate``, the second one waits until the test opens the gate."""
        await _record(server, request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'event: token\nid: 1\ndata: {"text": "first"}\n\n')
        gate = request.query.get("gate")
        if gate:
            await asyncio.wait_for(server.gate(gate).wait(), timeout=30)
        await response.write(b"data: second\n\n")
        await response.write(f"data: echo {request.headers.get('Authorization')}\n\n".encode())
        await response.write_eof()
        return response

    async def ndjson(request: web.Request) -> web.StreamResponse:
        await _record(server, request)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        await response.write(b'{"n": 1}\n')
        gate = request.query.get("gate")
        if gate:
            await asyncio.wait_for(server.gate(gate).wait(), timeout=30)
        await response.write(b'{"n": 2, "password": "hunter22"}\n')
        await response.write_eof()
        return response

    async def lines(request: web.Request) -> web.StreamResponse:
        await _record(server, request)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"line one\nline two\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/flaky/{key}", flaky)
    app.router.add_get("/reset/{key}", reset)
    app.router.add_get("/slow", slow)
    app.router.add_post("/upload", upload)
    app.router.add_get("/sse", sse)
    app.router.add_get("/ndjson", ndjson)
    app.router.add_get("/lines", lines)
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The server, started once per test module on 127.0.0.1 and a free port."""
    state = Server()
    loop = asyncio.new_event_loop()
    state.loop = loop
    ready = threading.Event()
    runner = web.AppRunner(_app(state), access_log=None, handle_signals=False)

    async def start() -> None:
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="cli-test-server", daemon=True)
    thread.start()
    assert ready.wait(30), "the test server did not start"
    try:
        yield state
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """typer's runner, in an empty working directory with no LEX_* variable set."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LEX_"):
            monkeypatch.delenv(name)
    return CliRunner()


def body_json(output: str) -> Any:
    """The JSON document that ends ``output`` (the response body the command printed)."""
    start = output.index("\n{") + 1 if not output.startswith("{") else 0
    return json.loads(output[start:])

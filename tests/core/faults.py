"""A raw asyncio HTTP/1.1 server whose answers are scripted per request, for malformed and
faulty behaviour that ``aiohttp.web`` cannot produce (resets, FIN before the headers, stalls,
truncated bodies). Loopback only; every request head it reads is counted at the server.

``async with FaultServer(script) as server:`` where ``script(n, head)`` returns the fault for
the ``n``-th request (1-based) as a :class:`Fault`; ``server.requests`` counts request heads.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Fault", "FaultServer", "Kind"]

_LOOPBACK: Final = "127.0.0.1"


class Kind(enum.Enum):
    """What the server does with a request."""

    OK = "ok"
    """Answer ``status`` with ``body`` and ``headers``; keep the connection."""
    RESET = "reset"
    """Read the request, then reset the connection (RST) before any header."""
    FIN = "fin"
    """Read the request, then close the connection cleanly before any header."""
    STALL = "stall"
    """Read the request and never answer (until the server stops)."""
    STALL_BODY = "stall_body"
    """Send the headers and part of the body, then never send more."""
    TRUNCATE = "truncate"
    """Promise ``len(body)`` bytes, send half of them, then close."""


@dataclass(frozen=True)
class Fault:
    """One scripted answer."""

    kind: Kind = Kind.OK
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = field(default=())


Script = Callable[[int, bytes], Fault]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class FaultServer:
    """The scripted server; see the module docstring."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self.requests = 0
        self.heads: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._stop = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, _LOOPBACK, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{_LOOPBACK}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(self._handlers)
        await self._server.wait_closed()

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"{self.url}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            length = 0
            chunked = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
                elif name.strip().lower() == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
            if chunked:
                while True:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0].strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await reader.readexactly(length)
            self.requests += 1
            self.heads.append(head)
            fault = self._script(self.requests, head)
            if not await self._answer(fault, writer):
                return

    async def _answer(self, fault: Fault, writer: asyncio.StreamWriter) -> bool:
        """Act out ``fault``; whether the connection stays usable."""
        kind = fault.kind
        if kind is Kind.RESET:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if kind is Kind.FIN:
            writer.close()
            return False
        if kind is Kind.STALL:
            await self._stop.wait()
            return False
        body = fault.body
        lines = [f"HTTP/1.1 {fault.status} {_reason(fault.status)}"]
        lines += [f"{name}: {value}" for name, value in fault.headers]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if kind is Kind.TRUNCATE:
            writer.write(head + body[: len(body) // 2])
            await writer.drain()
            writer.close()
            return False
        if kind is Kind.STALL_BODY:
            writer.write(head + body[: len(body) // 2])
            await writer.drain()
            await self._stop.wait()
            return False
        writer.write(head + body)
        await writer.drain()
        return True

"""Local servers and doubles for integration tests of the HTTP stack.

Everything listens on loopback only (127.0.0.0/8; 127.0.0.2 serves as a second host on Linux)
and nothing resolves real names: hand a :class:`StaticResolver` to the transport instead.

- :func:`serve`: run any ``aiohttp.web`` app, yield its base URL.
- :class:`LocalServer`: a tracking server with a few built-in routes (echo, hold, stall,
  stream, drop, cookies, sized bodies). It counts open TCP connections, client ports and
  concurrent requests; routes that wait are released by :meth:`LocalServer.release`.
- :class:`ForwardProxy`: a minimal HTTP forward proxy (absolute-form requests) that records
  what it saw and forwards to loopback addresses only.
- :func:`unresponsive_listener`: a port whose accept queue is full, so a TCP connect hangs.
- :func:`closed_port`: a port nothing listens on (connection refused).
- :class:`StaticResolver`: an aiohttp resolver from a dict, counting lookups.
- :func:`eventually`: poll a condition for a bounded number of loop iterations.
- :func:`echo_of`: the parsed JSON of an ``/echo`` answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = [
    "LOOPBACK",
    "SECOND_LOOPBACK",
    "ForwardProxy",
    "LocalServer",
    "StaticResolver",
    "closed_port",
    "echo_of",
    "eventually",
    "serve",
    "unresponsive_listener",
]

LOOPBACK: Final = "127.0.0.1"
SECOND_LOOPBACK: Final = "127.0.0.2"
"""A second loopback address: a different host for per-host limits (Linux routes 127/8)."""

_SHUTDOWN_TIMEOUT: Final = 0.2


def _require_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"tests only listen on and connect to loopback addresses, not {host}")


@asynccontextmanager
async def _run(
    app: web.Application, host: str, ssl_context: ssl.SSLContext | None
) -> AsyncIterator[tuple[web.AppRunner, str]]:
    _require_loopback(host)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0, ssl_context=ssl_context)
        await site.start()
        port = runner.addresses[0][1]
        scheme = "http" if ssl_context is None else "https"
        yield runner, f"{scheme}://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve(
    app: web.Application, *, host: str = LOOPBACK, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host`` and a free port; yield the base URL (``http://127.0.0.1:N``)."""
    async with _run(app, host, ssl_context) as (_, url):
        yield url


async def eventually(condition: Callable[[], bool], *, attempts: int = 200) -> bool:
    """Poll ``condition`` once per 10 ms (at most ``attempts`` times); return its last value.

    For effects that land a few loop iterations later (a closed socket seen by the server).
    """
    for _ in range(attempts):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


class LocalServer:
    """A loopback ``aiohttp.web`` server that tracks connections and concurrency.

    ``async with LocalServer() as server:`` then ``server.url_for("/echo")``. Built-in routes:

    ``/``             200 ``ok``
    ``/echo``         any method; JSON ``{method, path, query, headers, body}`` of the request
    ``/hold``         waits until :meth:`release`, then 200 ``released``
    ``/stall``        sends the headers and ``first`` at once, then waits until :meth:`release`
    ``/stream``       sends ``chunk-1``, waits until :meth:`release`, then sends ``chunk-2``
    ``/drop``         promises 100 bytes, sends ``0123456789`` and closes the connection
    ``/bytes/{n}``    ``n`` bytes with a Content-Length; ``?chunked=1`` streams them without one
    ``/set-cookie``   sets ``session=abc``
    ``/redirect``     302 to ``/echo``

    ``extra_routes`` adds more. Every request is counted: :attr:`requests`,
    :attr:`client_ports` (peer port per request, in order), :attr:`in_flight`,
    :attr:`max_in_flight`; :attr:`open_connections` is the number of TCP connections the
    server holds right now. Waiting routes are released at exit, so nothing dangles.
    """

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        ssl_context: ssl.SSLContext | None = None,
        extra_routes: Iterable[web.RouteDef] = (),
    ) -> None:
        _require_loopback(host)
        self.host = host
        self.url = ""
        self.requests = 0
        self.client_ports: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._transports: set[asyncio.BaseTransport] = set()
        self._ssl_context = ssl_context
        self._gate = asyncio.Event()
        self._context: Any = None
        self._app = web.Application(middlewares=[self._track])
        self._app.add_routes(
            [
                web.get("/", self._ok),
                web.route("*", "/echo", self._echo),
                web.get("/hold", self._hold),
                web.get("/stall", self._stall),
                web.get("/stream", self._stream),
                web.get("/drop", self._drop),
                web.get("/bytes/{n}", self._bytes),
                web.get("/set-cookie", self._set_cookie),
                web.get("/redirect", self._redirect),
                *extra_routes,
            ]
        )

    async def __aenter__(self) -> LocalServer:
        self._context = _run(self._app, self.host, self._ssl_context)
        _, self.url = await self._context.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
        await self._context.__aexit__(*exc_info)

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"{self.url}{path}"

    @property
    def port(self) -> int:
        """The listening port."""
        return urlsplit(self.url).port or 0

    @property
    def open_connections(self) -> int:
        """TCP connections open right now, among those that carried at least one request.

        A connection counts as closed as soon as the server saw the peer close it, even while
        a handler on it still waits.
        """
        return sum(not transport.is_closing() for transport in self._transports)

    def release(self) -> None:
        """Let the waiting routes (``/hold``, ``/stall``, ``/stream``) go on."""
        self._gate.set()

    @web.middleware
    async def _track(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        self.requests += 1
        transport = request.transport
        if transport is not None:
            self._transports.add(transport)
            self.client_ports.append(transport.get_extra_info("peername")[1])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.in_flight -= 1

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": list(request.query.items()),
                "headers": dict(request.headers),
                "body": body.decode("latin-1"),
            }
        )

    async def _hold(self, request: web.Request) -> web.Response:
        await self._gate.wait()
        return web.Response(text="released")

    async def _stall(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first")
        await self._gate.wait()
        await response.write_eof()
        return response

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"chunk-1")
        await self._gate.wait()
        await response.write(b"chunk-2")
        await response.write_eof()
        return response

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"0123456789")
        await asyncio.sleep(0.01)  # let the bytes leave before the connection drops
        assert request.transport is not None
        request.transport.close()
        return response

    async def _bytes(self, request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["n"])
        if request.query.get("chunked"):
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, size, 1000):
                await response.write(b"x" * min(1000, size - start))
            await response.write_eof()
            return response
        return web.Response(body=b"x" * size)

    async def _set_cookie(self, request: web.Request) -> web.Response:
        response = web.Response(text="set")
        response.set_cookie("session", "abc")
        return response

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")


class ForwardProxy:
    """A minimal HTTP forward proxy for absolute-form requests (``GET http://h:p/x``).

    Records every target URL in :attr:`seen` and the ``Proxy-Authorization`` header in
    :attr:`authorizations`, forwards to loopback targets only (others get 502), and marks
    responses with ``Via: 1.1 test-proxy``. Origin-form requests get 400.
    """

    def __init__(self) -> None:
        self.url = ""
        self.seen: list[str] = []
        self.authorizations: list[str | None] = []
        self._session: aiohttp.ClientSession | None = None
        self._context: Any = None
        self._app = web.Application()
        self._app.router.add_route("*", "/{tail:.*}", self._forward)

    async def __aenter__(self) -> ForwardProxy:
        self._session = aiohttp.ClientSession(trust_env=False, auto_decompress=False)
        self._context = _run(self._app, LOOPBACK, None)
        _, self.url = await self._context.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._context.__aexit__(*exc_info)
        assert self._session is not None
        await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        target = request.raw_path
        if not target.startswith(("http://", "https://")):
            return web.Response(status=400, text="not a proxy request")
        self.seen.append(target)
        self.authorizations.append(request.headers.get("Proxy-Authorization"))
        host = urlsplit(target).hostname or ""
        try:
            _require_loopback(host)
        except ValueError:
            return web.Response(status=502, text="this proxy only reaches loopback addresses")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in {"proxy-authorization", "proxy-connection", "host"}
        }
        assert self._session is not None
        async with self._session.request(
            request.method, target, headers=headers, data=await request.read()
        ) as upstream:
            body = await upstream.read()
            passed = {
                name: value
                for name, value in upstream.headers.items()
                if name.lower() in {"content-type", "set-cookie", "location"}
            }
            passed["Via"] = "1.1 test-proxy"
            return web.Response(status=upstream.status, body=body, headers=passed)


@contextmanager
def unresponsive_listener(host: str = LOOPBACK) -> Iterator[int]:
    """Yield a port on ``host`` where a TCP connect hangs (no SYN-ACK until closed).

    Linux drops SYNs to a listener whose accept queue is full: ``listen(0)`` and a few
    connections that are never accepted fill it.
    """
    _require_loopback(host)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((host, 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            fillers.append(filler)
            with suppress(BlockingIOError):
                filler.connect((host, port))
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def closed_port(host: str = LOOPBACK) -> int:
    """A port on ``host`` that nothing listens on (bound, then released)."""
    _require_loopback(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


class StaticResolver(AbstractResolver):
    """Resolves names from ``hosts`` (name -> loopback address) and counts lookups.

    Unknown names fail like a DNS miss (``socket.gaierror``). Never touches real DNS.
    """

    def __init__(self, hosts: dict[str, str]) -> None:
        for address in hosts.values():
            _require_loopback(address)
        self.hosts = dict(hosts)
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        address = self.hosts.get(host)
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def echo_of(body: bytes) -> dict[str, Any]:
    """Parse the JSON a ``/echo`` route returned."""
    data: dict[str, Any] = json.loads(body)
    return data

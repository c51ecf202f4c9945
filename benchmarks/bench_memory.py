"""Memory per idle client and per in-flight request, measured with tracemalloc.

A loopback aiohttp server runs in a child process (so none of its memory is counted): ``/json``
answers a small JSON object at once, ``/hold`` after ``HOLD`` seconds. In this process:

- idle client: ``CLIENTS`` clients are built, opened and used for one request each (session,
  connector, one pooled keep-alive connection), then left idle; the growth of traced memory
  divided by ``CLIENTS``;
- in flight: one client (pool of ``IN_FLIGHT``) sends ``IN_FLIGHT`` requests to ``/hold``;
  while they wait for their answers, the growth of traced memory divided by ``IN_FLIGHT``;
- after: what is left once they are all answered and collected, per request (the target of
  issue 20 is 0: no per-request allocation survives the request; ``tests/core/test_memory.py``
  checks it over lexigram's own frames).

Raw aiohttp is measured the same way, for reference. Every figure follows a full collection.

Run: ``uv run python benchmarks/bench_memory.py [--clients 20] [--in-flight 100]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import tracemalloc
from multiprocessing.connection import Connection
from typing import Any, Final

import aiohttp
from aiohttp import web

from lexigram.contracts.observability import NoopMetricsRecorder
from lexigram.contracts.web import HttpResponse, InterceptorProtocol, RequestContext
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, PoolConfig
from lexigram.resilience import ResiliencePipeline

HOLD: Final = 3.0
_SETTLE: Final = 1.5  # seconds for the held requests to reach the server


def _serve(ready: Connection) -> None:
    async def small(request: web.Request) -> web.Response:
        return web.json_response({"id": "inv_1", "amount_cents": 4200, "lines": [1, 2]})

    async def hold(request: web.Request) -> web.Response:
        await asyncio.sleep(HOLD)
        return await small(request)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/json", small)
        app.router.add_get("/hold", hold)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class _Stamp(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Bench"] = "1"
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        return response


def _config(connections: int) -> HTTPClientConfig:
    return HTTPClientConfig(
        pool=PoolConfig(
            max_connections=connections,
            max_connections_per_host=connections,
            max_keepalive_connections=connections,
        )
    )


class _Client:
    """One client kind: ``get(url)`` and ``close()``."""

    def __init__(self, kind: str, base: str, connections: int) -> None:
        self.kind = kind
        self._client: Any
        if kind == "aiohttp":
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
            )
        elif kind == "bare":
            self._client = HTTPClient(_config(connections))
        elif kind == "full":
            self._client = HTTPClient(
                _config(connections),
                interceptors=[_Stamp()],
                metrics=NoopMetricsRecorder(),
                pipeline=ResiliencePipeline.standard(),
            )
        else:
            self._client = BaseURLHTTPClient(base, config=_config(connections))
        self._base = base

    async def get(self, path: str) -> None:
        if self.kind == "aiohttp":
            async with self._client.get(self._base + path) as resp:
                await resp.read()
                resp.raise_for_status()
        elif self.kind == "baseurl":
            (await self._client.get(path)).raise_for_status()
        else:
            (await self._client.get(self._base + path)).unwrap()

    async def close(self) -> None:
        if self.kind == "aiohttp":
            await self._client.close()
        else:
            await self._client.aclose()


KINDS: Final = {
    "aiohttp": "aiohttp ClientSession (raw)",
    "bare": "HTTPClient bare",
    "full": "HTTPClient full stack",
    "baseurl": "BaseURLHTTPClient",
}


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def _idle(kind: str, base: str, count: int) -> float:
    # One client of the kind first: its imports and first-use caches are not per client.
    first = _Client(kind, base, 1)
    await first.get("/json")
    before = _traced()
    clients = [_Client(kind, base, 1) for _ in range(count)]
    for client in clients:
        await client.get("/json")
    grown = _traced() - before
    for client in [first, *clients]:
        await client.close()
    return grown / count


async def _in_flight(kind: str, base: str, count: int) -> tuple[float, float]:
    client = _Client(kind, base, count)
    # Warm: the pool holds ``count`` connections, as it will while the requests wait.
    await asyncio.gather(*(client.get("/json") for _ in range(count)))
    before = _traced()
    tasks = [asyncio.ensure_future(client.get("/hold")) for _ in range(count)]
    await asyncio.sleep(_SETTLE)
    during = _traced() - before
    await asyncio.gather(*tasks)
    del tasks
    after = _traced() - before
    await client.close()
    return during / count, after / count


async def _run(base: str, clients: int, in_flight: int) -> None:
    print(f"tracemalloc, bytes; {clients} idle clients, {in_flight} requests in flight")
    print(f"  {'client':<30} {'idle client':>12} {'in flight':>12} {'left after':>12}")
    for kind, label in KINDS.items():
        idle = await _idle(kind, base, clients)
        during, after = await _in_flight(kind, base, in_flight)
        print(f"  {label:<30} {idle:>12,.0f} {during:>12,.0f} {after:>12,.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=100)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    server = context.Process(target=_serve, args=(sender,), daemon=True)
    server.start()
    try:
        if not receiver.poll(30):
            raise RuntimeError("the loopback server did not start within 30 s")
        port = receiver.recv()
        tracemalloc.start()
        asyncio.run(_run(f"http://127.0.0.1:{port}", args.clients, args.in_flight))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()

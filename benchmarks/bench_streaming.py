"""Streaming decode throughput: lexigram ``stream()`` vs httpx (+ httpx-sse) vs aiohttp.

Every contender reads the same body from the same local server (a bare asyncio HTTP/1.1
server in a child process, so the client has a core to itself; the body is framed in 16 KiB
chunked-encoding chunks ahead of time, so the server costs next to nothing), in interleaved
rounds within one run. Reported: the median over rounds of the wall time and of the client
process's CPU time, and each peer's median divided by ours (``x2.0`` = we are twice as fast).
The CPU ratio is the steadier figure on a machine shared with other work, as preemption adds
wall time to everyone alike and so flattens wall-time ratios.

SSE (LLM-style ``data: {json}`` events, one per token; then the same data with ``id:`` and
``event:`` lines before it, as Anthropic-style streams name their events):
- lexigram: ``async with client.stream("GET", url) as r: async for event in r.sse()``
- httpx-sse: ``async with aconnect_sse(client, "GET", url) as s: async for e in s.aiter_sse()``
- aiohttp: ``async for line in resp.content``, counting ``data:`` lines (no SSE parsing: a
  floor, not a peer)

NDJSON (the same JSON objects, one per line), every contender parses each line:
- lexigram: ``r.ndjson()``; httpx: ``aiter_lines()`` + ``json.loads``; aiohttp: ``resp.content``
  lines + ``json.loads``.

Lines (the NDJSON body as text lines, no parsing): lexigram ``async for line in r`` vs httpx
``aiter_lines()`` vs aiohttp ``resp.content`` (bytes, undecoded).

Run: ``uv run python benchmarks/bench_streaming.py [--mb 16] [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import aiohttp
import httpx
from httpx_sse import aconnect_sse

from lexigram.http import HTTPClient, HTTPClientConfig, PoolConfig

_FRAME = 16 * 1024


def _event(index: int) -> bytes:
    payload = {
        "id": "chatcmpl-9zL1",
        "object": "chat.completion.chunk",
        "created": 1718000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": f" token{index % 1000}"}}],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def build_bodies(megabytes: float) -> dict[str, tuple[bytes, int]]:
    """``path -> (body, items)``: an SSE stream and an NDJSON stream of about ``megabytes``."""
    sse: list[bytes] = []
    named: list[bytes] = []
    ndjson: list[bytes] = []
    size = 0
    count = 0
    while size < megabytes * 1_000_000:
        data = _event(count)
        sse.append(b"data: " + data + b"\n\n")
        named.append(b"id: %d\nevent: content_block_delta\ndata: %s\n\n" % (count, data))
        ndjson.append(data + b"\n")
        size += len(data) + 8
        count += 1
    sse.append(b"data: [DONE]\n\n")
    return {
        "/sse": (b"".join(sse), count + 1),
        "/sse-named": (b"".join(named), count),
        "/ndjson": (b"".join(ndjson), count),
    }


def _framed(body: bytes, content_type: str) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Type: {content_type}\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Cache-Control: no-cache\r\n\r\n"
    ).encode()
    parts = [head]
    for start in range(0, len(body), _FRAME):
        piece = body[start : start + _FRAME]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def _serve(megabytes: float, ready: Connection) -> None:
    bodies = build_bodies(megabytes)
    responses = {
        "/sse": _framed(bodies["/sse"][0], "text/event-stream"),
        "/sse-named": _framed(bodies["/sse-named"][0], "text/event-stream"),
        "/ndjson": _framed(bodies["/ndjson"][0], "application/x-ndjson"),
    }

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode()
                response = responses[path]
                view = memoryview(response)
                for start in range(0, len(view), 1 << 20):
                    writer.write(view[start : start + (1 << 20)])
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- contenders: each returns (items, bytes) -------------------------------------------------


async def lexigram_sse(client: HTTPClient, url: str) -> tuple[int, int]:
    async with client.stream("GET", url) as response:
        count = 0
        async for _event in response.sse():
            count += 1
        return count, response.bytes_received


async def httpx_sse(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    async with aconnect_sse(client, "GET", url) as source:
        count = 0
        async for _event in source.aiter_sse():
            count += 1
        return count, source.response.num_bytes_downloaded


async def aiohttp_sse(session: aiohttp.ClientSession, url: str) -> tuple[int, int]:
    async with session.get(url) as response:
        count = 0
        size = 0
        async for line in response.content:
            size += len(line)
            if line.startswith(b"data:"):
                count += 1
        return count, size


async def aiohttp_lines(session: aiohttp.ClientSession, url: str) -> tuple[int, int]:
    async with session.get(url) as response:
        count = 0
        size = 0
        async for line in response.content:
            count += 1
            size += len(line)
        return count, size


async def lexigram_ndjson(client: HTTPClient, url: str) -> tuple[int, int]:
    async with client.stream("GET", url) as response:
        count = 0
        async for _value in response.ndjson():
            count += 1
        return count, response.bytes_received


async def httpx_ndjson(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    async with client.stream("GET", url) as response:
        count = 0
        loads = json.loads
        async for line in response.aiter_lines():
            if line:
                loads(line)
                count += 1
        return count, response.num_bytes_downloaded


async def aiohttp_ndjson(session: aiohttp.ClientSession, url: str) -> tuple[int, int]:
    async with session.get(url) as response:
        count = 0
        size = 0
        loads = json.loads
        async for line in response.content:
            size += len(line)
            if line.strip():
                loads(line)
                count += 1
        return count, size


async def lexigram_lines(client: HTTPClient, url: str) -> tuple[int, int]:
    async with client.stream("GET", url) as response:
        count = 0
        async for _line in response:
            count += 1
        return count, response.bytes_received


async def httpx_lines(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    async with client.stream("GET", url) as response:
        count = 0
        async for _line in response.aiter_lines():
            count += 1
        return count, response.num_bytes_downloaded


# -- the run ---------------------------------------------------------------------------------

Contender = Callable[[], Awaitable[tuple[int, int]]]


Run = tuple[float, float, int, int]
"""Wall seconds, client CPU seconds, items, body bytes."""


async def _measure(contender: Contender) -> Run:
    started, cpu = time.perf_counter(), time.process_time()
    items, size = await contender()
    return time.perf_counter() - started, time.process_time() - cpu, items, size


def _report(title: str, unit: str, results: dict[str, list[Run]], body: int) -> None:
    _, _, items, _ = results["lexigram"][0]
    print(f"\n{title} ({items:,} {unit}, {body / 1e6:.1f} MB)")
    ours = statistics.median(run[0] for run in results["lexigram"])
    ours_cpu = statistics.median(run[1] for run in results["lexigram"])
    for name, runs in results.items():
        seconds = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        items = runs[0][2]
        ratio = (
            ""
            if name == "lexigram"
            else f"  lexigram x{seconds / ours:.2f} (CPU x{cpu / ours_cpu:.2f})"
        )
        print(
            f"  {name:<20} {body / seconds / 1e6:6.1f} MB/s {items / seconds:10,.0f} {unit}/s"
            f"  {seconds * 1e3:6.1f} ms (CPU {cpu * 1e3:6.1f} ms){ratio}"
        )


async def run(base: str, rounds: int, expected: dict[str, int], bodies: dict[str, int]) -> None:
    config = HTTPClientConfig(pool=PoolConfig(timeout=60.0), read_timeout=60.0)
    async with (
        HTTPClient(config) as ours,
        httpx.AsyncClient(timeout=60.0) as theirs,
        aiohttp.ClientSession() as session,
    ):
        sse_url, ndjson_url = f"{base}/sse", f"{base}/ndjson"
        named_url = f"{base}/sse-named"
        suites: list[tuple[str, str, dict[str, Contender]]] = [
            (
                "SSE events",
                "events",
                {
                    "lexigram": lambda: lexigram_sse(ours, sse_url),
                    "httpx + httpx-sse": lambda: httpx_sse(theirs, sse_url),
                    "aiohttp data: lines": lambda: aiohttp_sse(session, sse_url),
                },
            ),
            (
                "SSE events with id + event + data lines",
                "events",
                {
                    "lexigram": lambda: lexigram_sse(ours, named_url),
                    "httpx + httpx-sse": lambda: httpx_sse(theirs, named_url),
                    "aiohttp data: lines": lambda: aiohttp_sse(session, named_url),
                },
            ),
            (
                "NDJSON objects",
                "objects",
                {
                    "lexigram": lambda: lexigram_ndjson(ours, ndjson_url),
                    "httpx aiter_lines": lambda: httpx_ndjson(theirs, ndjson_url),
                    "aiohttp content": lambda: aiohttp_ndjson(session, ndjson_url),
                },
            ),
            (
                "text lines (the NDJSON body)",
                "lines",
                {
                    "lexigram": lambda: lexigram_lines(ours, ndjson_url),
                    "httpx aiter_lines": lambda: httpx_lines(theirs, ndjson_url),
                    "aiohttp content": lambda: aiohttp_lines(session, ndjson_url),
                },
            ),
        ]
        results: list[dict[str, list[Run]]] = [
            {name: [] for name in contenders} for _, _, contenders in suites
        ]
        # Warm-up (connections, caches), then interleaved rounds: every contender once per
        # round, the order rotated, so drift in the machine's speed hits them all alike.
        for _, _, contenders in suites:
            for contender in contenders.values():
                await contender()
        for round_ in range(rounds):
            for (_, _, contenders), store in zip(suites, results, strict=True):
                names = list(contenders)
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    store[name].append(await _measure(contenders[name]))
        sizes = [bodies["/sse"], bodies["/sse-named"], bodies["/ndjson"], bodies["/ndjson"]]
        for (title, unit, _), store, size in zip(suites, results, sizes, strict=True):
            _report(title, unit, store, size)
        sse_events = results[0]["lexigram"][0][2]
        if sse_events != expected["/sse"]:
            raise SystemExit(f"lexigram saw {sse_events} SSE events, expected {expected['/sse']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=16.0, help="body size in MB (default 16)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    args = parser.parse_args()
    built = build_bodies(args.mb)
    expected = {path: items for path, (_, items) in built.items()}
    bodies = {path: len(body) for path, (body, _) in built.items()}
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(args.mb, child), daemon=True
    )
    server.start()
    try:
        port = parent.recv()
        print(
            f"python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}, "
            f"httpx {httpx.__version__}; body ~{args.mb:g} MB, {args.rounds} interleaved rounds, "
            f"medians; server in a child process on 127.0.0.1:{port}"
        )
        asyncio.run(run(f"http://127.0.0.1:{port}", args.rounds, expected, bodies))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()

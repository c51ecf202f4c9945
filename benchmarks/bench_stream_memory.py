"""Memory while streaming a ~100 MB NDJSON body through ``stream().ndjson()``.

A local server (a bare asyncio HTTP/1.1 server in a child process, generating the body as it
goes, so neither side ever holds it) sends ``--mb`` megabytes of NDJSON; a fresh client process
consumes it with ``async for value in response.ndjson()`` and reports how much its peak RSS
grew.

What is measured, honestly: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak
resident set, as the kernel counts it) right before the stream, after importing everything and
warming the client up with a short stream of the same kind, and again after the last value.
The difference is the peak RSS growth caused by streaming the body. ``--tracemalloc`` instead
reports the peak of Python allocations during the stream (slower, and blind to memory that is
not allocated through Python's allocator).

For contrast, ``--read-all`` reads the body with ``aread()`` and parses it with ``json.loads``
per line, as code without a streaming API would.

Run: ``uv run python benchmarks/bench_stream_memory.py [--mb 100] [--tracemalloc]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from multiprocessing.connection import Connection

_BLOCK_LINES = 4096
_TARGET_MB = 20.0


def _block(seed: int) -> bytes:
    lines = []
    for index in range(_BLOCK_LINES):
        value = {
            "id": f"evt_{seed}_{index}",
            "type": "message.delta",
            "index": index,
            "delta": {"text": f"token {index % 97} of block {seed} — ✓"},
            "usage": {"input_tokens": 12, "output_tokens": index},
        }
        lines.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _serve(megabytes: float, ready: Connection) -> None:
    blocks = [_block(seed) for seed in range(4)]
    frames = [
        b"".join(_chunk(block[i : i + 65536]) for i in range(0, len(block), 65536))
        for block in blocks
    ]
    total = int(megabytes * 1_000_000)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                size = total if b" /big " in request else len(blocks[0])
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                sent = lines = 0
                index = 0
                while sent < size:
                    writer.write(frames[index % 4])
                    sent += len(blocks[index % 4])
                    lines += _BLOCK_LINES
                    index += 1
                    await writer.drain()
                writer.write(_chunk(b'{"lines": %d}\n' % lines) + b"0\r\n\r\n")
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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _client(base: str, mode: str) -> None:
    import tracemalloc

    from lexigram.http import HTTPClient, HTTPClientConfig

    config = HTTPClientConfig(max_response_bytes=1 << 30, read_timeout=60.0)
    async with HTTPClient(config) as client:

        async def consume(path: str) -> tuple[int, int, int]:
            count = 0
            last: dict[str, int] = {}
            async with client.stream("GET", f"{base}{path}") as response:
                if mode == "read-all":
                    body = await response.aread()
                    for line in body.split(b"\n"):
                        if line:
                            last = json.loads(line)
                            count += 1
                else:
                    async for value in response.ndjson():
                        last = value
                        count += 1
                return count, last.get("lines", -1), response.bytes_received

        await consume("/small")  # warm-up: imports, connection, first allocations
        if mode == "tracemalloc":
            tracemalloc.start()
        before = _peak_mb()
        started = time.perf_counter()
        count, announced, size = await consume("/big")
        seconds = time.perf_counter() - started
        after = _peak_mb()
        if count - 1 != announced:
            raise SystemExit(f"saw {count - 1} values, the server sent {announced}")
        print(f"  values parsed:        {count:,} ({size / 1e6:.1f} MB in {seconds:.1f} s)")
        print(f"  peak RSS before:      {before:8.1f} MB (ru_maxrss, after warm-up)")
        print(f"  peak RSS after:       {after:8.1f} MB")
        print(f"  peak RSS growth:      {after - before:8.1f} MB")
        if mode == "tracemalloc":
            _, peak = tracemalloc.get_traced_memory()
            print(
                f"  tracemalloc peak:     {peak / 1e6:8.1f} MB (Python allocations in the stream)"
            )
        elif mode == "ndjson":
            verdict = "OK" if after - before < _TARGET_MB else "OVER"
            print(f"  target < {_TARGET_MB:g} MB:        {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="body size in MB (default 100)")
    parser.add_argument("--tracemalloc", action="store_true", help="report tracemalloc's peak")
    parser.add_argument("--read-all", action="store_true", help="contrast: aread() + splitlines")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: the measured process
    parser.add_argument("--mode", default="ndjson", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client(args.client, args.mode))
        return
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(args.mb, child), daemon=True
    )
    server.start()
    try:
        port = parent.recv()
        modes = ["ndjson"]
        if args.tracemalloc:
            modes.append("tracemalloc")
        if args.read_all:
            modes.append("read-all")
        print(f"python {sys.version.split()[0]}; ~{args.mb:g} MB of NDJSON from 127.0.0.1:{port}")
        for mode in modes:
            title = {
                "ndjson": "stream().ndjson(), fresh process",
                "tracemalloc": "stream().ndjson() under tracemalloc, fresh process",
                "read-all": "contrast: aread() then json.loads per line, fresh process",
            }[mode]
            print(f"\n{title}")
            # A fresh interpreter per measurement: ru_maxrss never goes down.
            subprocess.run(
                [sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", "--mode", mode],
                check=True,
            )
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()

"""Micro-benchmark: per-call overhead of the fleet rate limiter, with and without leases.

Starts its own ``redis-server`` (Debian package ``redis-server``) on a free 127.0.0.1 port with
no persistence, and stops it at the end. Each variant acquires one permit per call from a quota
far above the call rate (so nothing ever waits): what is measured is the decision itself.
Compared: the local ``RateLimiter`` (in memory), ``RedisRateLimiter`` with one round trip per
call, and with leases of 10 and 100 permits per round trip. Round trips per call are counted by
Redis itself (``INFO commandstats``: EVALSHA calls). Figures are medians over interleaved
rounds, in microseconds per call. Run with ``uv run python benchmarks/bench_fleet_limit.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from lexigram.resilience import RateLimiter, RedisRateLimiter

ROUNDS = 7
LOCAL_CALLS = 20_000
REDIS_CALLS = 2_000
RATE = 1e9  # never waits


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(directory: str) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: apt-get install -y redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("redis-server did not start")
        time.sleep(0.02)


async def _evalsha_calls(url: str) -> int:
    client = Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        process, port = _start_redis(directory)
        try:
            await _run(f"redis://127.0.0.1:{port}/0")
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


async def _run(url: str) -> None:
    local = RateLimiter(RATE, burst=1_000_000)
    fleet = {
        "redis, no lease": RedisRateLimiter(url, RATE, burst=1_000_000, key_prefix="bench:1:"),
        "redis, lease 10": RedisRateLimiter(
            url, RATE, burst=1_000_000, key_prefix="bench:10:", lease=10, lease_ttl=60
        ),
        "redis, lease 100": RedisRateLimiter(
            url, RATE, burst=1_000_000, key_prefix="bench:100:", lease=100, lease_ttl=60
        ),
    }
    variants: dict[str, tuple[Callable[[str], Awaitable[None]], int]] = {
        "local RateLimiter": (local.acquire, LOCAL_CALLS),
        **{name: (limiter.acquire, REDIS_CALLS) for name, limiter in fleet.items()},
    }
    for limiter in fleet.values():
        await limiter.acquire("warm-up")  # loads the script, opens the connection
    samples: dict[str, list[float]] = {name: [] for name in variants}
    trips: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, (acquire, calls) in variants.items():
            before = await _evalsha_calls(url)
            start = time.perf_counter()
            for _ in range(calls):
                await acquire("https://api.example.com")
            samples[name].append((time.perf_counter() - start) / calls * 1e6)
            # The INFO call itself is not an EVALSHA: the difference is the limiter's.
            trips[name].append((await _evalsha_calls(url) - before) / calls)
    for limiter in fleet.values():
        await limiter.aclose()
    print(f"{'variant':<20} {'µs/call':>9} {'round trips/call':>17}")
    for name in variants:
        print(
            f"{name:<20} {statistics.median(samples[name]):>9.2f} "
            f"{statistics.median(trips[name]):>17.3f}"
        )


if __name__ == "__main__":
    asyncio.run(main())

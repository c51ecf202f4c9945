"""A fleet of 4 worker processes sharing one partner quota through a real redis-server.

The partner is a stub on 127.0.0.1 that records the wall-clock arrival of every request. Each
worker (``tests/resilience/_fleet_worker.py``) starts at the same wall-clock instant and calls
it for a fixed ``DURATION`` through a ``RedisRateLimiter`` in ``wait`` mode.

Tolerance, stated once: the limiter admits at most ``Q + burst`` units in any 1 s window; the
arrivals may bunch by the scheduling jitter of four processes on a busy machine, so a window may
hold up to ``JITTER`` more units than that, and the stub's own bucket (rate ``Q``) has that
much room. Throughput must reach 90 % of ``Q``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("redis")  # the `redis` extra; every isolation run installs it (dev group)

from tests.resilience._redis_server import RedisServer, _find_redis_server
from tests.resilience._redis_server import redis_server as redis_server

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
DURATION = 2.0


@dataclass
class Arrival:
    at: float
    cost: int
    status: int


@dataclass
class Stub:
    """A partner on loopback; ``respond(cost, now)`` returns the status and headers."""

    respond: Callable[[int, float], tuple[int, dict[str, str]]]
    arrivals: list[Arrival] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        now = time.time()
        cost = 1
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "x-cost":
                cost = int(value)
        status, headers = self.respond(cost, now)
        self.arrivals.append(Arrival(now, cost, status))
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n{lines}\r\n".encode()
        )
        try:
            await writer.drain()
        finally:
            writer.close()


class Bucket:
    """The partner's enforcement: ``rate`` units per second, ``capacity`` at once."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.updated = capacity, 0.0

    def take(self, cost: int, now: float) -> bool:
        if self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class Fleet:
    """Four worker processes, started once for this module (starting them is the slow part)."""

    def __init__(self, directory: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.logs = [directory / f"worker-{index}.log" for index in range(WORKERS)]
        self.processes: list[subprocess.Popen[str]] = []
        for log in self.logs:
            with log.open("w") as stderr:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tests.resilience._fleet_worker"],
                        cwd=ROOT,
                        env=env,
                        text=True,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=stderr,
                    )
                )
        for process, log in zip(self.processes, self.logs, strict=True):
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line == "ready\n", f"{line!r}: {log.read_text()[-3000:]}"

    def _report(self, index: int) -> dict[str, Any]:
        stdout = self.processes[index].stdout
        assert stdout is not None
        line = stdout.readline()
        assert line, f"worker {index} died: {self.logs[index].read_text()[-3000:]}"
        report: dict[str, Any] = json.loads(line)
        return report

    async def run(
        self,
        stub: Stub,
        redis_url: str,
        during: Callable[[float], Awaitable[None]] | None = None,
        **settings: Any,
    ) -> list[dict[str, Any]]:
        """Serve the stub while every worker runs one scenario; ``during(start_at)`` meanwhile."""
        server = await asyncio.start_server(stub.handle, "127.0.0.1", 0)
        stub.port = server.sockets[0].getsockname()[1]
        start_at = time.time() + 0.3
        common = {
            "redis_url": redis_url,
            "port": stub.port,
            "prefix": f"fleet:{uuid.uuid4().hex}:",
            "duration": DURATION,
            "start_at": start_at,
            **settings,
        }
        try:
            for index, process in enumerate(self.processes):
                assert process.stdin is not None
                process.stdin.write(json.dumps({**common, "seed": index}) + "\n")
                process.stdin.flush()
            reports = asyncio.gather(
                *(asyncio.to_thread(self._report, index) for index in range(WORKERS))
            )
            if during is not None:
                await during(start_at)
            async with asyncio.timeout(DURATION + 60):  # a hung worker fails the test
                return await reports
        finally:
            server.close()
            await server.wait_closed()

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    started = Fleet(tmp_path_factory.mktemp("fleet"))
    try:
        yield started
    finally:
        started.close()


def windows(stub: Stub, start_at: float, seconds: int) -> list[int]:
    """Units arrived in each 1 s window from ``start_at``."""
    totals = [0] * seconds
    for arrival in stub.arrivals:
        index = int(arrival.at - start_at)
        if 0 <= index < seconds:
            totals[index] += arrival.cost
    return totals


def start_of(stub: Stub) -> float:
    return min(arrival.at for arrival in stub.arrivals)


@pytest.mark.parametrize("unit", ["requests", "requests-leased", "tokens"])
async def test_four_processes_share_one_quota(
    fleet: Fleet, redis_server: RedisServer, unit: str
) -> None:
    lease, lease_ttl = 1, 0.0
    if unit == "requests":
        quota, burst, jitter, concurrency = 30, 2, 4, 3
    elif unit == "requests-leased":
        # Leased permits are used up to lease_ttl after Redis counted them: a window may also
        # hold the quota * lease_ttl permits leased just before it.
        quota, burst, jitter, concurrency = 30, 2, 4 + 3, 3
        lease, lease_ttl = 5, 0.1
    else:  # costs of 10 to 90 tokens, reserved at 100 and settled to the actual use
        quota, burst, jitter, concurrency = 1500, 100, 250, 1
    bucket = Bucket(quota, burst + jitter)

    def respond(cost: int, now: float) -> tuple[int, dict[str, str]]:
        if bucket.take(cost, now):
            return 200, {"x-used": str(cost)}
        return 429, {"retry-after": "1", "x-used": "0"}

    stub = Stub(respond)
    reports = await fleet.run(
        stub,
        redis_server.url,
        rate=quota,
        burst=burst,
        concurrency=concurrency,
        tokens=unit == "tokens",
        lease=lease,
        lease_ttl=lease_ttl,
    )
    assert all(report["outcome"] == {} for report in reports), reports
    per_window = windows(stub, start_of(stub), int(DURATION))
    assert [a.status for a in stub.arrivals].count(429) == 0, per_window
    assert max(per_window) <= quota + burst + jitter, per_window
    assert sum(per_window) >= 0.9 * quota * len(per_window), per_window
    assert all(report["statuses"].get("200", 0) > 0 for report in reports), reports


def openai(remaining: int, reset_at: float, now: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": "12",
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-reset-requests": f"{max(0.0, reset_at - now):.3f}s",
    }


def anthropic(remaining: int, reset_at: float, now: float) -> dict[str, str]:
    moment = datetime.fromtimestamp(reset_at, UTC).isoformat().replace("+00:00", "Z")
    return {
        "anthropic-ratelimit-requests-limit": "12",
        "anthropic-ratelimit-requests-remaining": str(remaining),
        "anthropic-ratelimit-requests-reset": moment,
    }


@pytest.mark.parametrize("style", [openai, anthropic], ids=["openai", "anthropic"])
async def test_an_exhaustion_signal_holds_the_whole_fleet_until_the_reset(
    fleet: Fleet, redis_server: RedisServer, style: Callable[[int, float, float], dict[str, str]]
) -> None:
    # The partner allows 12 requests per 0.8 s window; the fleet's own limit is far higher, so
    # only the partner's headers can hold it. After the response that says "0 remaining", at
    # most the requests already in flight (one per worker task) may still arrive in that window.
    limit, width = 12, 0.8
    state: dict[str, float] = {"window_end": 0.0, "used": 0.0, "signalled": 0.0}
    late: list[float] = []

    def respond(cost: int, now: float) -> tuple[int, dict[str, str]]:
        if now >= state["window_end"]:
            state.update(window_end=now + width, used=0.0, signalled=0.0)
        if state["signalled"]:
            late.append(now)
        if state["used"] >= limit:
            headers = style(0, state["window_end"], now)
            headers["retry-after-ms"] = str(int((state["window_end"] - now) * 1000) + 1)
            return 429, headers
        state["used"] += 1
        remaining = int(limit - state["used"])
        if remaining == 0:
            state["signalled"] = now
        return 200, style(remaining, state["window_end"], now)

    stub = Stub(respond)
    reports = await fleet.run(stub, redis_server.url, rate=500, burst=20, concurrency=1)
    assert all(report["outcome"] == {} for report in reports), reports
    statuses = [a.status for a in stub.arrivals]
    windows_seen = statuses.count(200) / limit
    assert windows_seen >= 2  # the fleet went on after each reset
    # Without sharing, each of 4 workers at 500/s would send hundreds of calls into a spent
    # window; with it, only those in flight when the signal came (one per worker).
    assert len(late) <= WORKERS * (windows_seen + 1), (len(late), statuses.count(429))
    assert sum(r["metrics"].get("resilience.rate_limit.partner_exhausted", 0) for r in reports)


async def test_redis_killed_mid_run_then_restarted(fleet: Fleet, tmp_path: Path) -> None:
    server = RedisServer(_find_redis_server(), tmp_path)
    server.start()
    quota = 30
    bucket = Bucket(quota, 100)  # the partner's limit is not the subject here

    def respond(cost: int, now: float) -> tuple[int, dict[str, str]]:
        bucket.take(cost, now)
        return 200, {}

    marks: dict[str, float] = {}

    duration = 3.0

    async def outage(start_at: float) -> None:
        marks["end"] = start_at + duration
        await asyncio.sleep(max(0.0, start_at - time.time()) + 0.6)
        marks["down"] = time.time()
        await asyncio.to_thread(server.stop)  # off the loop: the stub keeps serving
        await asyncio.sleep(0.6)
        await asyncio.to_thread(server.start)
        marks["up"] = time.time()

    stub = Stub(respond)
    try:
        reports = await fleet.run(
            stub,
            server.url,
            during=outage,
            rate=quota,
            burst=2,
            concurrency=3,
            on_backend_error="local",
            local_share=0.5,
            duration=duration,
        )
    finally:
        server.stop()
    for report in reports:
        assert report["outcome"] == {}, report  # no exception reached a caller
        assert report["events"] == {
            "resilience.rate_limit.backend_down": 1,
            "resilience.rate_limit.backend_restored": 1,
        }, report  # one line per outage, not one per call
        assert report["metrics"].get("resilience.rate_limit.backend_outage") == 1, report
        assert report["backend_available"], report

    # While Redis was down each worker kept half of the quota; afterwards the fleet shares it.
    # Half a second is left on each side for the switch: calls admitted in one mode that
    # arrive in the other, and the reconnection back-off.
    def arrivals(start: float, end: float) -> float:
        return sum(1 for a in stub.arrivals if start <= a.at < end)

    down_from, down_to = marks["down"] + 0.3, marks["up"]
    assert arrivals(down_from, down_to) > quota * 1.2 * (down_to - down_from)  # 4 local halves
    after_from, after_to = marks["up"] + 0.5, marks["end"]
    assert after_to - after_from > 0.5, marks  # the restart took too long to judge
    assert arrivals(after_from, after_to) > 0, "the workers did not go on after the restart"
    assert arrivals(after_from, after_to) <= quota * (after_to - after_from) + 2 + 4  # + burst

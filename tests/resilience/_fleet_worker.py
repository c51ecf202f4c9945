"""One process of a fleet: calls the partner stub through a RedisRateLimiter, then reports.

Run as ``python -m tests.resilience._fleet_worker`` from the repository root. It prints
``ready`` once imported, then reads one JSON line of settings per scenario from stdin: it waits
for ``start_at`` (wall clock), then ``concurrency`` tasks call the stub one request after
another until ``start_at + duration``. Each request is plain HTTP/1.1 over a fresh loopback
connection (the resilience member has no HTTP client of its own). It prints one JSON line per
scenario: statuses seen, rate-limit rejections, other errors, the limiter's log events and
metrics.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import redis.asyncio  # noqa: F401  (imported before "ready": the slow part of starting up)

from lexigram.contracts.web import HTTPRateLimitedError, HttpResponse, RequestContext
from lexigram.resilience import RedisRateLimiter, ResiliencePipeline


class _Events(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[record.getMessage()] += 1


class _Metrics:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def increment(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        self.counts[name] += int(value)

    def histogram(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        pass

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        pass


async def _http_get(port: int, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"GET /v1/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Connection: close\r\n{lines}\r\n".encode()
        )
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields


async def run(settings: dict[str, Any]) -> dict[str, Any]:
    events = _Events()
    logger = logging.getLogger("lexigram.resilience.rate_limit")
    logger.addHandler(events)
    logger.setLevel(logging.INFO)
    metrics = _Metrics()
    tokens = settings.get("tokens", False)
    limiter = RedisRateLimiter(
        settings["redis_url"],
        settings["rate"],
        burst=settings["burst"],
        mode="wait",
        max_wait=settings.get("max_wait", 5.0),
        name="partner",
        key_prefix=settings["prefix"],
        unit="tokens" if tokens else "requests",
        cost=(lambda request: int(request.headers["x-estimate"])) if tokens else None,
        usage=(lambda response: int(response.headers["x-used"])) if tokens else None,
        lease=settings.get("lease", 1),
        lease_ttl=settings.get("lease_ttl", 0.25),
        on_backend_error=settings.get("on_backend_error", "local"),
        local_share=settings.get("local_share", 0.25),
        timeout=0.2,
        reconnect_min=0.05,
        reconnect_max=0.3,
        metrics=metrics,
    )
    pipeline = ResiliencePipeline([limiter])
    port = settings["port"]
    statuses: Counter[int] = Counter()
    outcome: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rng = random.Random(settings["seed"])
    url = f"http://127.0.0.1:{port}/v1/chat"

    async def call(cost: int, attempt: int) -> HttpResponse:
        status, fields = await _http_get(port, {"x-cost": str(cost)})
        return HttpResponse(status, url, "GET", fields)

    end = settings["start_at"] + settings["duration"]

    async def loop() -> None:
        while time.time() < end:
            cost = rng.randint(10, 90) if tokens else 1
            request = RequestContext("GET", url, timeout=settings.get("deadline", 5.0))
            request.headers["x-estimate"] = "100"
            try:
                response = await pipeline.execute(request, functools.partial(call, cost))
            except HTTPRateLimitedError as exc:
                outcome["rate_limited"] += 1
                reasons[str(exc)[:120]] += 1
            except Exception as exc:  # reported, so that the test can show what it was
                outcome[f"error:{type(exc).__name__}"] += 1
            else:
                statuses[response.status] += 1

    await asyncio.sleep(max(0.0, settings["start_at"] - time.time()))
    late = time.time() - settings["start_at"]
    await asyncio.gather(*(loop() for _ in range(settings["concurrency"])))
    available = limiter.backend_available
    await limiter.aclose()
    return {
        "statuses": {str(k): v for k, v in statuses.items()},
        "outcome": dict(outcome),
        "events": dict(events.seen),
        "metrics": dict(metrics.counts),
        "backend_available": available,
        "late_start": late,
        "reasons": dict(reasons.most_common(3)),
    }


def main() -> None:
    # Imports done (the slow part of starting up): say so, then run one scenario per line of
    # settings read from stdin, printing one line of results each, until stdin closes.
    print("ready", flush=True)
    for line in sys.stdin:
        print(json.dumps(asyncio.run(run(json.loads(line)))), flush=True)


if __name__ == "__main__":
    main()

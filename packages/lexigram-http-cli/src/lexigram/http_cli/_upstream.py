"""The demo's upstream: an aiohttp server on 127.0.0.1 that misbehaves on a fixed script.

Stateless: what a request gets depends only on the call number and the attempt number the
client's interceptor sends (``X-Demo-Call``, ``X-Demo-Attempt``), so a seed replays exactly.
Two listening sockets: the API (``/v1/items/{n}``, ``/v1/search``) and the LLM endpoint
(``/v1/chat/completions``, Server-Sent Events), so the API's outage leaves the LLM's circuit alone.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

__all__: list[str] = []

OK: Final = "ok"
BURST: Final = "burst"
"""503 with ``Retry-After: 1`` on the first one or two attempts."""
RESET: Final = "reset"
"""The connection is dropped on the first attempt."""
SLOW: Final = "slow"
"""Answers after the call's deadline."""
OUTAGE: Final = "outage"
"""503 on every attempt, no hint: the outage that opens the breaker."""

OUTAGE_CALLS: Final = 45
RECOVERY_CALLS: Final = 60
SEARCH_EVERY: Final = 10
"""Every tenth call is a search, with a tight deadline."""

ANSWER: Final = (
    "Retries are safe when the request is idempotent; a budget keeps them from multiplying "
    "an outage, and a circuit breaker stops calling a host that is down until it recovers."
)


@dataclass(frozen=True, slots=True)
class Script:
    """What each call meets: one behaviour per call number (from 0)."""

    behaviours: tuple[str, ...]
    burst_sizes: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, calls: int, seed: int) -> Script:
        """A script for ``calls`` calls: sprinkled faults, one outage, a few slow searches."""
        rng = random.Random(seed)
        behaviours = [OK] * calls
        bursts: dict[int, int] = {}
        outage_start = int(calls * 0.35)
        outage = range(outage_start, min(calls, outage_start + OUTAGE_CALLS))
        # After the outage, a quiet stretch: the breaker's probes meet a host that recovered.
        recovery = range(outage.stop, outage.stop + RECOVERY_CALLS)
        slow_left = 3
        for call in range(calls):
            if call in outage:
                behaviours[call] = OUTAGE
                continue
            if call in recovery:
                continue
            draw = rng.random()
            if call % SEARCH_EVERY == 0:
                if slow_left and draw < 0.25 and call > 0:
                    behaviours[call] = SLOW
                    slow_left -= 1
            elif draw < 0.04:
                behaviours[call] = BURST
                bursts[call] = 1 + rng.randrange(2)
            elif draw < 0.08:
                behaviours[call] = RESET
        return cls(tuple(behaviours), bursts)

    def counts(self) -> dict[str, int]:
        """Calls per behaviour."""
        return dict(Counter(self.behaviours))


class Upstream:
    """The server; ``async with Upstream(script) as upstream`` listens on two free ports."""

    def __init__(
        self, script: Script, *, slow_seconds: float = 1.5, token_delay: float = 0.03
    ) -> None:
        self.script = script
        self.slow_seconds = slow_seconds
        self.token_delay = token_delay
        self.requests: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.api_url = ""
        self.llm_url = ""

    async def __aenter__(self) -> Upstream:
        app = web.Application()
        app.router.add_route("*", "/v1/items/{item}", self._item)
        app.router.add_route("*", "/v1/search", self._item)
        app.router.add_post("/v1/chat/completions", self._chat)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runner = runner
        urls = []
        for _ in range(2):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            site = web.SockSite(runner, sock)
            await site.start()
            urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
        self.api_url, self.llm_url = urls
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _item(self, request: web.Request) -> web.StreamResponse:
        call = int(request.headers.get("X-Demo-Call", "0"))
        attempt = int(request.headers.get("X-Demo-Attempt", "1"))
        behaviour = self.script.behaviours[call] if call < len(self.script.behaviours) else OK
        self.requests[behaviour] += 1
        if behaviour == OUTAGE:
            return web.json_response({"error": "upstream outage"}, status=503)
        if behaviour == BURST and attempt <= self.script.burst_sizes.get(call, 1):
            return web.json_response(
                {"error": "overloaded"}, status=503, headers={"Retry-After": "1"}
            )
        if behaviour == RESET and attempt == 1:
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        if behaviour == SLOW:
            await asyncio.sleep(self.slow_seconds)
        return web.json_response({"call": call, "attempt": attempt, "status": "ok"})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        attempt = int(request.headers.get("X-Demo-Attempt", "1"))
        self.requests["stream"] += 1
        if attempt == 1:
            # The LLM is busy at first: the client waits as told, then streams.
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "1"})
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for index, token in enumerate(_tokens(ANSWER)):
            chunk = {"id": f"tok-{index}", "choices": [{"delta": {"content": token}}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _tokens(text: str) -> list[str]:
    """Word-sized tokens, spaces kept, as an LLM streams them."""
    words = text.split(" ")
    return [words[0], *(f" {word}" for word in words[1:])]

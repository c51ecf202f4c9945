"""A stand-in for the partner's API on 127.0.0.1, so that every example runs offline.

In production the examples' base URL is the partner's (``https://api.partner.example.com``);
here ``partner_api()`` serves the same paths on a free loopback port and yields its base URL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

INVOICES = {"inv_1": {"id": "inv_1", "amount_cents": 4200}}


async def _invoice(request: web.Request) -> web.Response:
    invoice = INVOICES.get(request.match_info["invoice_id"])
    if invoice is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(invoice)


async def _create_invoice(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"id": "inv_2", "amount_cents": body["amount_cents"]}, status=201)


async def _unavailable(request: web.Request) -> web.Response:
    return web.json_response({"error": "try later"}, status=503)


async def _chat(request: web.Request) -> web.StreamResponse:
    """An OpenAI-style chat completion stream: one SSE event per token, then ``[DONE]``."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for token in ("Bytes ", "cross ", "the ", "wire"):
        chunk = {"choices": [{"delta": {"content": token}}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


@asynccontextmanager
async def partner_api() -> AsyncIterator[str]:
    """Serves the partner's paths on 127.0.0.1 (a free port); yields the base URL."""
    app = web.Application()
    app.router.add_get("/v1/invoices/{invoice_id}", _invoice)
    app.router.add_post("/v1/invoices", _create_invoice)
    app.router.add_get("/v1/unavailable", _unavailable)
    app.router.add_post("/v1/chat/completions", _chat)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()

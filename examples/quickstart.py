"""Quick start: the documentation's BillingClient on the real stack, against a local server.

The application registers ``HTTPModule`` as the documentation shows, resolves
``HTTPClientProtocol`` from the container and hands it to ``BillingClient``, which turns
HTTP failures into ``Err`` values instead of exceptions. Then ``BaseURLHTTPClient`` posts
JSON the SDK way. aiohttp is imported only for the demo server: the client side never
touches it. Run: ``uv run --frozen examples/quickstart.py``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from lexigram import Application
from lexigram.contracts.web import HTTPClientProtocol
from lexigram.di.module import Module, module
from lexigram.http import BaseURLHTTPClient, HTTPClientConfig, HTTPModule
from lexigram.result import Err, Ok, Result

TOKEN = "demo-token"


@dataclass(frozen=True)
class Invoice:
    id: str
    amount_cents: int


class BillingClient:
    """The documentation's partner-billing client, with the base URL and token injected."""

    def __init__(self, http: HTTPClientProtocol, base_url: str, token: str) -> None:
        self._http = http
        self._base_url = base_url
        self._token = token

    async def fetch_invoice(self, invoice_id: str) -> Result[Invoice, str]:
        result = await self._http.get(
            f"{self._base_url}/v1/invoices/{invoice_id}",
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if result.is_err():
            return Err(f"billing fetch failed: {result.error}")
        body = result.value.json
        return Ok(Invoice(id=body["id"], amount_cents=body["amount_cents"]))


@module(imports=[HTTPModule.configure(HTTPClientConfig())])
class AppModule(Module):
    pass


# -- the partner's API, served locally --------------------------------------------------------


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {TOKEN}"


async def _get_invoice(request: web.Request) -> web.Response:
    if not _authorized(request):
        return web.json_response({"error": "unauthorized"}, status=401)
    invoice_id = request.match_info["invoice_id"]
    if invoice_id != "inv_1":
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response({"id": invoice_id, "amount_cents": 4200})


async def _create_invoice(request: web.Request) -> web.Response:
    if not _authorized(request):
        return web.json_response({"error": "unauthorized"}, status=401)
    body = await request.json()
    return web.json_response({"id": "inv_2", "amount_cents": body["amount_cents"]}, status=201)


async def start_partner_api() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/v1/invoices/{invoice_id}", _get_invoice)
    app.router.add_post("/v1/invoices", _create_invoice)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


# -- the demo ---------------------------------------------------------------------------------


async def main() -> None:
    runner, base_url = await start_partner_api()
    try:
        async with Application.boot(modules=[AppModule]) as app:
            http = await app.container.resolve(HTTPClientProtocol)
            billing = BillingClient(http, base_url, TOKEN)
            for invoice_id in ("inv_1", "inv_404"):
                match await billing.fetch_invoice(invoice_id):
                    case Ok(invoice):
                        print(f"{invoice_id}: {invoice}")
                    case Err(message):
                        print(f"{invoice_id}: {message}")

        async with BaseURLHTTPClient(
            base_url=f"{base_url}/v1",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60.0,
        ) as client:
            resp = await client.post("/invoices", json={"amount_cents": 4200})
            resp.raise_for_status()
            print(f"created: {resp.status} {resp.json}")
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    # The client logs failed attempts (here the 404) as events under ``lexigram.http``.
    logging.basicConfig(format="log: %(levelname)s %(name)s %(message)s")
    asyncio.run(main())

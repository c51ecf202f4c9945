"""Quick start: the seed's BillingClient, protocol-first, against a local server.

Interim version: until ``lexigram.http.HTTPClient`` lands, a 20-line adapter over aiohttp
stands in for it, to show the contract the real client fulfils (``Result`` instead of
exceptions for HTTP failures). Run: ``uv run --frozen examples/quickstart.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
)
from lexigram.result import Err, Ok, Result


@dataclass(frozen=True)
class Invoice:
    id: str
    amount_cents: int


class BillingClient:
    """The seed's partner-billing client: it depends on the protocol, not on a transport."""

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


class InterimClient(HTTPClientProtocol):
    """Stand-in for HTTPClient: GET only, 4xx/5xx and connection failures become Err."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        try:
            async with self._session.get(url, headers=kwargs.get("headers")) as raw:
                response = HttpResponse(
                    raw.status, str(raw.url), "GET", list(raw.headers.items()), await raw.read()
                )
        except aiohttp.ClientConnectionError as exc:
            return Err(HTTPConnectionError(str(exc), method="GET", url=url))
        if response.status >= 400:
            return Err(HTTPStatusError(response=response))
        return Ok(response)


async def _invoice(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Bearer demo-token":
        return web.json_response({"error": "unauthorized"}, status=401)
    invoice_id = request.match_info["invoice_id"]
    if invoice_id != "inv_1":
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response({"id": invoice_id, "amount_cents": 4200})


async def main() -> None:
    app = web.Application()
    app.router.add_get("/v1/invoices/{invoice_id}", _invoice)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            billing = BillingClient(
                InterimClient(session), f"http://127.0.0.1:{port}", "demo-token"
            )
            for invoice_id in ("inv_1", "inv_404"):
                match await billing.fetch_invoice(invoice_id):
                    case Ok(invoice):
                        print(f"{invoice_id}: {invoice}")
                    case Err(message):
                        print(f"{invoice_id}: {message}")
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

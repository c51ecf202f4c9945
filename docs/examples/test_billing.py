"""Tests of ``BillingClient`` at each level: a hand-written fake, the ready-made fake on a
router, and the whole application on a mock transport. No test opens a socket.

Run them: ``uv run --frozen pytest docs/examples/test_billing.py``.
"""

from typing import Any

from billing import BillingClient, Invoice

from lexigram import Application
from lexigram.contracts.web import HTTPClientError, HTTPClientProtocol, HttpResponse
from lexigram.http import HTTPModule
from lexigram.result import Ok, Result
from lexigram.testing.http import FakeHTTPClient, MockTransport, Router

INVOICE_URL = "https://api.partner.example.com/v1/invoices/inv_1"


class OneInvoice(HTTPClientProtocol):
    """A hand-written fake: it defines the one verb BillingClient uses."""

    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        return Ok(
            HttpResponse(
                status=200, url=url, method="GET", json={"id": "inv_1", "amount_cents": 4200}
            )
        )


async def test_fetch_invoice_with_a_hand_written_fake() -> None:
    client = BillingClient(OneInvoice(), token="test-token")
    result = await client.fetch_invoice("inv_1")
    assert result == Ok(Invoice(id="inv_1", amount_cents=4200))


async def test_fetch_invoice() -> None:
    router = Router()
    invoice = router.get(
        "https://api.partner.example.com/v1/invoices/{id}",
        headers={"Authorization": "Bearer test-token"},
    ).respond(200, json={"id": "inv_1", "amount_cents": 4200})

    client = BillingClient(FakeHTTPClient(router), token="test-token")
    result = await client.fetch_invoice("inv_1")

    assert result == Ok(Invoice(id="inv_1", amount_cents=4200))
    assert invoice.calls.last.path_params == {"id": "inv_1"}


async def test_fetch_invoice_when_the_partner_is_down() -> None:
    router = Router()
    router.get("https://api.partner.example.com/v1/invoices/{id}").respond(503)

    result = await BillingClient(FakeHTTPClient(router), token="t").fetch_invoice("inv_1")

    assert result.is_err()
    assert result.error.startswith("billing fetch failed: HTTP 503 Service Unavailable")


async def test_billing_through_the_application() -> None:
    router = Router()
    router.get(INVOICE_URL).respond(200, json={"id": "inv_1", "amount_cents": 4200})

    async with Application.boot(
        modules=[HTTPModule.stub(transport=MockTransport(router))], environ={}
    ) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        result = await BillingClient(http, token="test-token").fetch_invoice("inv_1")

    assert result.is_ok()
    assert router.calls.last.headers["Authorization"] == "Bearer test-token"

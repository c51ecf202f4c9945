"""A complete ``BillingClient``: the domain code the testing guide tests.

It depends on ``HTTPClientProtocol`` only (``lexigram-http-contracts``), so tests hand it a fake
and the application hands it the real client. HTTP failures come back as ``Err(message)``; what
the client raises (retries used up, an open circuit, see the client guide) propagates.
"""

from dataclasses import dataclass

from lexigram.contracts.web import HTTPClientProtocol
from lexigram.result import Err, Ok, Result

PARTNER = "https://api.partner.example.com/v1"


@dataclass(frozen=True)
class Invoice:
    """An invoice as the billing partner reports it."""

    id: str
    amount_cents: int


class BillingClient:
    """The billing partner's API, as the domain needs it."""

    def __init__(self, http: HTTPClientProtocol, *, token: str, base_url: str = PARTNER) -> None:
        self._http = http
        self._token = token
        self._base_url = base_url

    async def fetch_invoice(self, invoice_id: str) -> Result[Invoice, str]:
        result = await self._http.get(
            f"{self._base_url}/invoices/{invoice_id}",
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if result.is_err():
            return Err(f"billing fetch failed: {result.error}")
        body = result.value.json
        return Ok(Invoice(id=body["id"], amount_cents=body["amount_cents"]))

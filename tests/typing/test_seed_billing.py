"""The documentation's ``BillingClient``, verbatim (indentation restored), then its tests.

Type-checked by ``mypy --strict`` unchanged: this is the proof that ``Result`` narrows the way
the documentation uses it (``result.error`` after ``is_err()``, ``result.value.json``).
"""
# ruff: noqa: I001  (the seed's import order is kept verbatim)

from lexigram.contracts.web import HTTPClientProtocol
from lexigram.result import Result, Ok, Err
from my_app.domain.models import Invoice


class BillingClient:
    _token: str = "test-token"  # not in the seed: it elides where the token comes from

    def __init__(self, http: HTTPClientProtocol) -> None:
        self._http = http

    async def fetch_invoice(self, invoice_id: str) -> Result[Invoice, str]:
        result = await self._http.get(
            f"https://api.partner.example.com/v1/invoices/{invoice_id}",
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if result.is_err():
            return Err(f"billing fetch failed: {result.error}")
        body = result.value.json
        return Ok(Invoice(id=body["id"], amount_cents=body["amount_cents"]))


# -- Tests (not part of the seed) --------------------------------------------------------------

from typing import Any  # noqa: E402

from lexigram.contracts.web import HTTPClientError, HttpResponse, HTTPStatusError  # noqa: E402


class _ScriptedHTTP(HTTPClientProtocol):
    """Answers every GET with one scripted response and records the calls."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
        self.calls.append((url, kwargs))
        if self.response.ok:
            return Ok(self.response)
        return Err(HTTPStatusError(response=self.response))


async def test_fetch_invoice_ok() -> None:
    http = _ScriptedHTTP(HttpResponse(200, json={"id": "inv_1", "amount_cents": 4200}))
    result = await BillingClient(http).fetch_invoice("inv_1")
    assert result == Ok(Invoice(id="inv_1", amount_cents=4200))
    url, kwargs = http.calls[0]
    assert url == "https://api.partner.example.com/v1/invoices/inv_1"
    assert kwargs == {"headers": {"Authorization": "Bearer test-token"}}


async def test_fetch_invoice_error_is_mapped_to_a_message() -> None:
    response = HttpResponse(503, url="https://api.partner.example.com/v1/invoices/inv_1")
    result = await BillingClient(_ScriptedHTTP(response)).fetch_invoice("inv_1")
    assert result == Err(
        "billing fetch failed: HTTP 503 Service Unavailable "
        "for GET https://api.partner.example.com/v1/invoices/inv_1"
    )

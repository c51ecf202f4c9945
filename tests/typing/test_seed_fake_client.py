"""The documentation's ``FakeHTTPClient`` and ``test_fetch_invoice``, verbatim.

The seed leaves ``get``'s parameters unannotated, as users write fakes. ``allow-untyped-defs``
lets that through in this file only; ``check_untyped_defs`` (part of strict) still checks the
bodies. The point under test: a subclass of ``HTTPClientProtocol`` defining only ``get``
instantiates, at runtime and for mypy (the protocol's members are not abstract).
"""
# mypy: allow-untyped-defs
# ruff: noqa: I001  (the seed's import order is kept verbatim)

import pytest

from lexigram.contracts.web import HTTPClientProtocol, HttpResponse
from lexigram.result import Ok

from tests.typing.test_seed_billing import BillingClient


class FakeHTTPClient(HTTPClientProtocol):
    async def get(self, url, **kwargs):
        return Ok(HttpResponse(status=200, url=url, method="GET", json={"id": "inv_1"}))

    # ... other verbs as needed


# The seed's fake answers {"id": "inv_1"} but its BillingClient also reads body["amount_cents"],
# so the seed's own test raises KeyError. Kept verbatim and pinned as a known seed bug; the
# corrected variant below is what passes.
@pytest.mark.xfail(raises=KeyError, strict=True, reason="seed fake omits amount_cents")
async def test_fetch_invoice() -> None:
    client = BillingClient(http=FakeHTTPClient())
    result = await client.fetch_invoice("inv_1")
    assert result.is_ok()


# -- Not in the seed ---------------------------------------------------------------------------


class CompleteFakeHTTPClient(HTTPClientProtocol):
    async def get(self, url, **kwargs):
        return Ok(
            HttpResponse(
                status=200, url=url, method="GET", json={"id": "inv_1", "amount_cents": 4200}
            )
        )


async def test_fetch_invoice_with_a_complete_payload() -> None:
    client = BillingClient(http=CompleteFakeHTTPClient())
    result = await client.fetch_invoice("inv_1")
    assert result.is_ok()
    assert result.value.amount_cents == 4200


async def test_verbatim_fake_instantiates_and_answers_get() -> None:
    # Called through the protocol type, as BillingClient does (the override itself is untyped).
    client: HTTPClientProtocol = FakeHTTPClient()
    result = await client.get("https://api.partner.example.com/v1/invoices/inv_1")
    assert result.is_ok()
    assert result.value.json == {"id": "inv_1"}
    assert result.value.url == "https://api.partner.example.com/v1/invoices/inv_1"


async def test_verbs_the_fake_does_not_define_raise_not_implemented() -> None:
    client: HTTPClientProtocol = FakeHTTPClient()
    with pytest.raises(NotImplementedError, match="FakeHTTPClient does not implement request"):
        await client.post("https://h/")

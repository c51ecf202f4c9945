"""``FakeHTTPClient``: the protocol-level fake, next to the seed's hand-written one."""

from __future__ import annotations

import pytest
from my_app.domain.models import Invoice

from lexigram.contracts.web import (
    ClientClosedError,
    HTTPClientProtocol,
    HTTPConnectionError,
    HTTPStatusError,
    InvalidURLError,
)
from lexigram.result import Err, Ok
from lexigram.testing.http import FakeHTTPClient, Router
from tests.typing.test_seed_billing import BillingClient
from tests.typing.test_seed_fake_client import FakeHTTPClient as SeedFakeHTTPClient

INVOICE_URL = "https://api.partner.example.com/v1/invoices/{id}"


async def test_a_domain_test_with_the_fake() -> None:
    router = Router()
    route = router.get(INVOICE_URL, headers={"Authorization": "Bearer test-token"})
    route.respond(200, json={"id": "inv_1", "amount_cents": 4200})

    result = await BillingClient(http=FakeHTTPClient(router)).fetch_invoice("inv_1")

    assert result == Ok(Invoice(id="inv_1", amount_cents=4200))
    assert route.calls.last.path_params == {"id": "inv_1"}


async def test_error_statuses_and_connection_failures_reach_the_domain_as_err() -> None:
    router = Router()
    router.get(INVOICE_URL).sequence(503, HTTPConnectionError)
    billing = BillingClient(http=FakeHTTPClient(router))
    assert await billing.fetch_invoice("inv_1") == Err(
        "billing fetch failed: HTTP 503 Service Unavailable "
        "for GET https://api.partner.example.com/v1/invoices/inv_1"
    )
    assert await billing.fetch_invoice("inv_1") == Err(
        "billing fetch failed: connection failed "
        "for GET https://api.partner.example.com/v1/invoices/inv_1"
    )


async def test_no_retries_one_call_per_request() -> None:
    router = Router()
    route = router.get("https://h.example/x").sequence(503, 200)
    result = await FakeHTTPClient(router).get("https://h.example/x")
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPStatusError)
    assert route.call_count == 1


async def test_requests_are_built_as_the_real_client_builds_them() -> None:
    router = Router()
    route = router.post("https://h.example/x")
    await FakeHTTPClient(router).post(
        "https://h.example/x",
        json={"name": "Åsa", "n": 1},
        params={"flag": True, "none": None},
        idempotency_key="key-1",
        extensions={"trace": "t"},
    )
    call = route.calls.last
    assert call.body == '{"name":"Åsa","n":1}'.encode()
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Idempotency-Key"] == "key-1"
    assert call.params == [("flag", "true"), ("none", "")]
    assert call.request.extensions == {"trace": "t"}
    assert call.attempt == 1


async def test_usage_errors_are_raised() -> None:
    client = FakeHTTPClient()
    with pytest.raises(InvalidURLError):
        await client.get("/relative")
    with pytest.raises(TypeError, match="at most one"):
        await client.post("https://h.example/", json={}, content=b"")
    with pytest.raises(TypeError, match="unexpected keyword argument 'jsn'"):
        await client.post("https://h.example/", jsn={})  # type: ignore[call-arg]
    async with client:
        pass
    with pytest.raises(ClientClosedError):
        await client.get("https://h.example/")


async def test_the_seed_fake_still_works_next_to_this_one() -> None:
    seed_fake: HTTPClientProtocol = SeedFakeHTTPClient()
    ours: HTTPClientProtocol = FakeHTTPClient()
    assert isinstance(seed_fake, HTTPClientProtocol)
    assert isinstance(ours, HTTPClientProtocol)
    result = await seed_fake.get("https://api.partner.example.com/v1/invoices/inv_1")
    assert result.is_ok()

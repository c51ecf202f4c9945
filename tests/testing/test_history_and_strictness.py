"""Strictness (the unmatched-request message, ``assert_all_called``) and the call history."""

from __future__ import annotations

import pytest

from lexigram.contracts.web import Headers, RequestContext
from lexigram.testing.http import (
    FakeHTTPClient,
    MockTransport,
    Router,
    UnmatchedRequestError,
)

API = "https://api.example.com/v1"
SECRET = "sk-live-0123456789"


async def test_unmatched_message_shows_the_request_redacted_and_the_closest_route() -> None:
    router = Router()
    router.get(f"{API}/invoices/{{id}}", name="invoice").respond(200)
    router.post(
        f"{API}/invoices",
        name="create",
        headers={"Idempotency-Key": "k-1", "Authorization": f"Bearer {SECRET}"},
        json={"amount_cents": 4200, "customer": {"id": "c1"}},
    ).respond(201)
    client = FakeHTTPClient(router)

    with pytest.raises(UnmatchedRequestError) as caught:
        await client.post(
            f"https://user:{SECRET}@api.example.com/v1/invoices",
            params={"api_key": SECRET, "dry_run": "1"},
            headers={"Authorization": "Bearer wrong-" + SECRET, "Idempotency-Key": "k-1"},
            json={"amount_cents": 4300, "customer": {"id": "c1"}, "password": SECRET},
        )
    error = caught.value
    message = str(error)
    assert SECRET not in message
    assert message.splitlines() == [
        "no route matches POST https://[REDACTED]@api.example.com/v1/invoices"
        "?api_key=[REDACTED]&dry_run=1",
        "  headers: {'Authorization': '[REDACTED]', 'Idempotency-Key': 'k-1', "
        "'Content-Type': 'application/json'}",
        "  body: 76 bytes (application/json), a JSON object with keys amount_cents, customer, "
        "password",
        "closest route (of 2): 'create' POST https://api.example.com/v1/invoices "
        "(+headers Idempotency-Key, Authorization; json)",
        "  header 'Authorization': differs (value hidden)",
        "  json['amount_cents']: expected 4200, got 4300",
    ]
    assert error.closest is router["create"]
    assert error.differences == (
        "header 'Authorization': differs (value hidden)",
        "json['amount_cents']: expected 4200, got 4300",
    )
    assert isinstance(error, AssertionError)
    assert router.calls.last.error is error
    assert router.calls.last.route is None


async def test_the_closest_route_prefers_the_same_url_then_the_same_method() -> None:
    router = Router()
    router.get(f"{API}/other", name="same-method")
    router.put(f"{API}/invoices", name="same-url")
    client = FakeHTTPClient(router)
    with pytest.raises(UnmatchedRequestError) as caught:
        await client.get(f"{API}/invoices")
    assert caught.value.closest is router["same-url"]
    assert caught.value.differences == ("method: expected PUT, got GET",)


async def test_secret_params_and_json_values_are_hidden_in_differences() -> None:
    router = Router()
    router.post(f"{API}/login", params={"token": "a"}, json={"auth": {"password": "p1"}})
    with pytest.raises(UnmatchedRequestError) as caught:
        await FakeHTTPClient(router).post(
            f"{API}/login", params={"token": "b"}, json={"auth": {"password": "p2"}}
        )
    assert caught.value.differences == (
        "param 'token': differs (value hidden)",
        "json['auth']['password']: differs (value hidden)",
    )


async def test_unmatched_without_routes_says_so() -> None:
    with pytest.raises(UnmatchedRequestError, match="no routes are registered") as caught:
        await FakeHTTPClient().get(f"{API}/x")
    assert caught.value.closest is None


async def test_unmatched_body_summary_never_shows_raw_bytes() -> None:
    router = Router()
    router.put(f"{API}/blob", content=b"expected")
    with pytest.raises(UnmatchedRequestError) as caught:
        await FakeHTTPClient(router).put(f"{API}/blob", content=SECRET)
    assert "  body: 18 bytes" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_assert_all_called_names_the_uncalled_routes() -> None:
    router = Router()
    router.get(f"{API}/a", name="a").respond(200)
    router.post(f"{API}/b?token={SECRET}")
    with pytest.raises(AssertionError) as caught:
        router.assert_all_called()
    assert str(caught.value) == (
        "2 routes were never called:\n"
        "  'a' GET https://api.example.com/v1/a\n"
        "  POST https://api.example.com/v1/b?token=[REDACTED] (+params token)"
    )


async def test_assert_all_called_passes_once_every_route_was_used() -> None:
    router = Router()
    router.get(f"{API}/a")
    await FakeHTTPClient(router).get(f"{API}/a")
    router.assert_all_called()


async def test_history_records_snapshots_per_route_and_overall() -> None:
    router = Router()
    invoices = router.get(f"{API}/invoices/{{id}}").respond(200, json={"id": "x"})
    create = router.post(f"{API}/invoices").respond(201)
    transport = MockTransport(router)

    context = RequestContext(
        "GET",
        f"{API}/invoices/inv_1",
        Headers({"Accept": "application/json"}),
        [("expand", "lines")],
        attempt=2,
        extensions={"trace": "t-1"},
    )
    response = await transport.send(context)
    context.headers["X-Later"] = "edited after sending"  # the record is a copy
    context.attempt = 3
    await transport.send(RequestContext("POST", f"{API}/invoices", body=b'{"a":1}'))

    assert not create.calls[0].path_params
    assert [call.method for call in router.calls] == ["GET", "POST"]
    assert (invoices.called, invoices.call_count, create.call_count) == (True, 1, 1)
    call = invoices.calls.last
    assert call.route is invoices
    assert call.url == f"{API}/invoices/inv_1"
    assert call.params == [("expand", "lines")]
    assert dict(call.headers) == {"Accept": "application/json"}
    assert call.attempt == 2
    assert call.request.extensions == {"trace": "t-1"}
    assert call.path_params == {"id": "inv_1"}
    assert call.response is response
    assert call.status == 200
    assert call.error is None
    assert call.body is None
    assert call.json is None
    assert create.calls.last.json == {"a": 1}
    assert repr(call) == (
        "<Call GET https://api.example.com/v1/invoices/inv_1?expand=lines attempt=2 -> 200>"
    )
    with pytest.raises(TypeError):
        call.headers["X"] = "records are read-only"


def test_last_of_an_empty_history_fails_clearly() -> None:
    with pytest.raises(AssertionError, match="no calls were recorded"):
        _ = Router().get(f"{API}/a").calls.last

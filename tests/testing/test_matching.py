"""Each matcher of a route: method, URL (exact, template, prefix, regex, base URL), query
parameters, headers, JSON body (partial, ``ANY``) and raw body; first match wins."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lexigram.contracts.web import HTTPClientError, HttpResponse
from lexigram.result import Ok, Result
from lexigram.testing.http import ANY, FakeHTTPClient, Router, UnmatchedRequestError

API = "https://api.example.com/v1"


def ok(result: Result[HttpResponse, HTTPClientError]) -> HttpResponse:
    assert isinstance(result, Ok), result
    return result.value


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
def client(router: Router) -> FakeHTTPClient:
    return FakeHTTPClient(router)


async def test_method_must_match(router: Router, client: FakeHTTPClient) -> None:
    router.post(f"{API}/invoices").respond(201)
    with pytest.raises(UnmatchedRequestError, match="method: expected POST, got GET"):
        await client.get(f"{API}/invoices")
    assert ok(await client.post(f"{API}/invoices")).status == 201


async def test_route_without_method_or_url_matches_anything(
    router: Router, client: FakeHTTPClient
) -> None:
    route = router.route().respond(204)
    await client.delete("https://a.example/x")
    await client.request("options", "http://b.example:8080/")
    assert [call.method for call in route.calls] == ["DELETE", "OPTIONS"]


async def test_exact_url_normalises_scheme_host_and_default_port(
    router: Router, client: FakeHTTPClient
) -> None:
    router.get("HTTPS://API.Example.com:443/v1/invoices").respond(200)
    assert ok(await client.get("https://api.example.com/v1/invoices")).status == 200
    with pytest.raises(UnmatchedRequestError, match="url: expected"):
        await client.get("https://api.example.com/v1/invoices/")  # the path is exact
    with pytest.raises(UnmatchedRequestError):
        await client.get("https://api.example.com:8443/v1/invoices")


async def test_template_captures_one_segment(router: Router, client: FakeHTTPClient) -> None:
    route = router.get(f"{API}/invoices/{{invoice_id}}/lines/{{line}}").respond(200)
    await client.get(f"{API}/invoices/inv_1/lines/3")
    assert route.calls.last.path_params == {"invoice_id": "inv_1", "line": "3"}
    with pytest.raises(UnmatchedRequestError):
        await client.get(f"{API}/invoices/inv_1/x/lines/3")


async def test_path_template_is_a_prefix(router: Router, client: FakeHTTPClient) -> None:
    route = router.route(url=f"{API}/{{rest:path}}").respond(200)
    await client.get(f"{API}/a/b/c")
    await client.get(f"{API}/")
    assert [call.path_params for call in route.calls] == [{"rest": "a/b/c"}, {"rest": ""}]
    with pytest.raises(UnmatchedRequestError):
        await client.get("https://api.example.com/v2/a")


async def test_regex_is_searched_in_the_url_without_query(
    router: Router, client: FakeHTTPClient
) -> None:
    route = router.get(re.compile(r"/invoices/(?P<id>inv_\d+)$")).respond(200)
    await client.get(f"{API}/invoices/inv_42?expand=lines")
    assert route.calls.last.path_params == {"id": "inv_42"}
    with pytest.raises(UnmatchedRequestError, match="url: expected re:"):
        await client.get(f"{API}/invoices/draft")


async def test_relative_routes_join_the_base_url(client: FakeHTTPClient) -> None:
    router = Router(base_url=f"{API}/")
    route = router.get("/invoices/{id}").respond(200)
    await FakeHTTPClient(router).get(f"{API}/invoices/inv_1")
    assert route.called
    with pytest.raises(ValueError, match="relative"):
        Router().get("/invoices")
    with pytest.raises(ValueError, match="templates are allowed in the path only"):
        Router().get("https://{tenant}.example.com/")


async def test_params_match_partially_from_url_query_and_params(
    router: Router, client: FakeHTTPClient
) -> None:
    route = router.get(f"{API}/search?q=shoes", params={"page": 2, "tag": ["a", "b"]})
    await client.get(f"{API}/search?q=shoes&sort=asc", params={"page": 2, "tag": ["a", "b"]})
    await client.get(f"{API}/search", params={"q": "shoes", "page": "2", "tag": ["a", "b"]})
    assert route.call_count == 2
    with pytest.raises(UnmatchedRequestError, match=r"param 'page': expected '2', got '3'"):
        await client.get(f"{API}/search?q=shoes", params={"page": 3, "tag": ["a", "b"]})
    with pytest.raises(UnmatchedRequestError, match="param 'tag': expected"):
        await client.get(f"{API}/search?q=shoes", params={"page": 2, "tag": "a"})


async def test_param_any_requires_presence_only(router: Router, client: FakeHTTPClient) -> None:
    router.get(f"{API}/search", params={"cursor": ANY}).respond(200)
    await client.get(f"{API}/search", params={"cursor": "abc"})
    with pytest.raises(UnmatchedRequestError, match="param 'cursor': missing"):
        await client.get(f"{API}/search")


async def test_headers_match_case_insensitively_and_partially(
    router: Router, client: FakeHTTPClient
) -> None:
    router.get(f"{API}/me", headers={"x-tenant": "acme", "Authorization": ANY}).respond(200)
    await client.get(
        f"{API}/me", headers={"X-TENANT": "acme", "authorization": "Bearer t", "Accept": "*/*"}
    )
    with pytest.raises(UnmatchedRequestError, match="header 'x-tenant': expected 'acme'"):
        await client.get(f"{API}/me", headers={"X-Tenant": "other", "Authorization": "x"})
    with pytest.raises(UnmatchedRequestError, match="header 'Authorization': missing"):
        await client.get(f"{API}/me", headers={"X-Tenant": "acme"})


async def test_json_matches_partially_at_any_depth_with_any(
    router: Router, client: FakeHTTPClient
) -> None:
    pattern = {"customer": {"id": "c1"}, "lines": [{"sku": "a", "qty": ANY}], "note": ANY}
    route = router.post(f"{API}/orders", json=pattern).respond(201)
    body: dict[str, Any] = {
        "customer": {"id": "c1", "name": "Ada"},
        "lines": [{"sku": "a", "qty": 3, "price": 10}],
        "note": None,
        "extra": True,
    }
    await client.post(f"{API}/orders", json=body)
    assert route.calls.last.json == {**body, "customer": ANY}

    body["customer"]["id"] = "c2"
    with pytest.raises(UnmatchedRequestError, match=r"json\['customer'\]\['id'\]: expected 'c1'"):
        await client.post(f"{API}/orders", json=body)
    body["customer"]["id"] = "c1"
    body["lines"].append({"sku": "b"})
    with pytest.raises(UnmatchedRequestError, match=r"json\['lines'\]: expected 1 items, got 2"):
        await client.post(f"{API}/orders", json=body)
    del body["note"]
    with pytest.raises(UnmatchedRequestError, match=r"json\['note'\]: missing"):
        await client.post(f"{API}/orders", json={**body, "lines": body["lines"][:1]})


async def test_json_booleans_are_not_numbers(router: Router, client: FakeHTTPClient) -> None:
    router.post(f"{API}/flags", json={"on": 1}).respond(200)
    with pytest.raises(UnmatchedRequestError, match=r"json\['on'\]: expected 1, got True"):
        await client.post(f"{API}/flags", json={"on": True})


async def test_json_route_refuses_non_json_bodies(router: Router, client: FakeHTTPClient) -> None:
    router.post(f"{API}/x", json=ANY).respond(200)
    with pytest.raises(UnmatchedRequestError, match="got a body that is not JSON"):
        await client.post(f"{API}/x", content=b"\x00raw")
    with pytest.raises(UnmatchedRequestError, match="got no body"):
        await client.post(f"{API}/x")


async def test_raw_body_matches_exactly(router: Router, client: FakeHTTPClient) -> None:
    router.put(f"{API}/blob", content=b"hello").respond(204)
    await client.put(f"{API}/blob", content="hello")
    with pytest.raises(UnmatchedRequestError, match="content: expected 5 bytes, got 6 bytes"):
        await client.put(f"{API}/blob", content=b"hello!")
    with pytest.raises(UnmatchedRequestError, match="differ from byte 4"):
        await client.put(f"{API}/blob", content=b"hellO")


async def test_form_data_can_be_matched_as_content(router: Router, client: FakeHTTPClient) -> None:
    router.post(f"{API}/token", content="grant_type=client_credentials&scope=a+b").respond(200)
    await client.post(f"{API}/token", data={"grant_type": "client_credentials", "scope": "a b"})


async def test_first_matching_route_answers(router: Router, client: FakeHTTPClient) -> None:
    specific = router.get(f"{API}/invoices/inv_1").respond(200, json={"special": True})
    general = router.get(f"{API}/invoices/{{id}}").respond(200, json={"special": False})
    assert ok(await client.get(f"{API}/invoices/inv_1")).json == {"special": True}
    assert ok(await client.get(f"{API}/invoices/inv_2")).json == {"special": False}
    assert (specific.call_count, general.call_count) == (1, 1)


def test_routes_are_named_and_looked_up(router: Router) -> None:
    route = router.get(f"{API}/a", name="list")
    assert router["list"] is route
    assert router.routes == (route,)
    with pytest.raises(ValueError, match="already named 'list'"):
        router.get(f"{API}/b", name="list")
    with pytest.raises(KeyError):
        router["missing"]
    with pytest.raises(TypeError, match="json= or content="):
        router.post(f"{API}/a", json={}, content=b"")

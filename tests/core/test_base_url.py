"""BaseURLHTTPClient against a stub transport: joining, origins, defaults, plain responses."""

from __future__ import annotations

from typing import Any

import pytest

from lexigram.contracts.web import (
    ClientClosedError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    InvalidHeaderError,
    InvalidURLError,
    TimeoutPhase,
)
from lexigram.http import (
    BaseURLHTTPClient,
    ClientState,
    DefaultRetryPolicy,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
)
from tests.core.conftest import FakeClock, StubTransport

BASE = "https://api.partner.example.com/v1"
TOKEN = "sk-live-abc123"

VERBS = ["get", "post", "put", "delete", "patch", "head", "options"]


def client_for(transport: StubTransport, base: str = BASE, **kwargs: Any) -> BaseURLHTTPClient:
    return BaseURLHTTPClient(base, transport=transport, **kwargs)


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        (BASE, "/invoices", f"{BASE}/invoices"),
        (BASE, "invoices", f"{BASE}/invoices"),
        (BASE, "/invoices/inv_1/lines", f"{BASE}/invoices/inv_1/lines"),
        (BASE, "/invoices?status=open&page=2", f"{BASE}/invoices?status=open&page=2"),
        (BASE, "invoices#frag", f"{BASE}/invoices#frag"),
        (BASE, "", BASE),
        (BASE, "/", BASE),
        (f"{BASE}/", "/invoices", f"{BASE}/invoices"),
        (f"{BASE}/", "", f"{BASE}/"),
        ("https://h", "/x", "https://h/x"),
        ("https://h", "", "https://h/"),
        ("https://h/", "x", "https://h/x"),
        ("https://h:8443/api", "x", "https://h:8443/api/x"),
        (BASE, "models/gemini:generateContent", f"{BASE}/models/gemini:generateContent"),
        (BASE, "batch:run", f"{BASE}/batch:run"),
        (BASE, "/search?next=https://evil.example/x", f"{BASE}/search?next=https://evil.example/x"),
        (BASE, "@evil.example/x", f"{BASE}/@evil.example/x"),
        (
            "https://h/openai?api-version=2024-06-01",
            "/chat?x=1",
            "https://h/openai/chat?api-version=2024-06-01&x=1",
        ),
        ("https://h/openai?api-version=1", "chat", "https://h/openai/chat?api-version=1"),
    ],
)
async def test_paths_are_appended_to_the_base(base: str, path: str, url: str) -> None:
    transport = StubTransport()
    async with client_for(transport, base) as client:
        assert client.url_for(path) == url
        await client.get(path)
    assert transport.sent[0].url == url


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/invoices",
        "https://api.partner.example.com/other",
        "https://API.partner.example.com:443/v2",
        "HTTPS://api.partner.example.com/v1/x",
        "//api.partner.example.com/v1/x",
    ],
)
async def test_absolute_urls_of_the_same_origin_are_allowed(url: str) -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.get(url)
    assert transport.sent[0].url.endswith(url.removeprefix("HTTPS:").removeprefix("https:"))


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/steal",
        "http://api.partner.example.com/v1/x",  # another scheme is another origin
        "https://api.partner.example.com:8443/v1",
        "https://api.partner.example.com.evil.example/v1",
        "https://api.partner.example.com@evil.example/v1",
        "//evil.example/v1",
        "https:evil.example",
        "https:/evil.example",
    ],
)
async def test_other_origins_are_refused(url: str) -> None:
    transport = StubTransport()
    async with client_for(transport, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        with pytest.raises(InvalidURLError) as info:
            await client.post(url, json={})
    assert transport.sent == []
    assert TOKEN not in str(info.value)


async def test_every_verb_sends_its_method_to_the_path() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        for verb in VERBS:
            response = await getattr(client, verb)(f"/{verb}")
            assert isinstance(response, HttpResponse)
        await client.request("TRACE", "/trace")
    assert [(sent.method, sent.url) for sent in transport.sent] == [
        *((verb.upper(), f"{BASE}/{verb}") for verb in VERBS),
        ("TRACE", f"{BASE}/trace"),
    ]


async def test_default_headers_are_merged_under_per_call_headers() -> None:
    transport = StubTransport()
    defaults = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    async with client_for(transport, headers=defaults) as client:
        await client.get("/a")
        await client.get("/b", headers={"accept": "text/csv", "X-Extra": "1"})
        await client.get("/c", headers=[("X-Pair", "1")])
    assert transport.sent[0].headers == defaults
    assert transport.sent[1].headers == {
        "Authorization": f"Bearer {TOKEN}",
        "accept": "text/csv",
        "X-Extra": "1",
    }
    assert transport.sent[2].headers == {**defaults, "X-Pair": "1"}
    assert dict(client.headers) == defaults  # untouched by the calls


async def test_keywords_are_passed_through() -> None:
    transport = StubTransport()
    async with client_for(transport) as client:
        await client.post(
            "/invoices",
            json={"amount_cents": 4200},
            params={"dry_run": True},
            idempotency_key="k-1",
            extensions={"x": 1},
            allow_redirects=False,
        )
        await client.put("/raw", content=b"raw")
        await client.patch("/form", data={"a": "b"})
    first = transport.sent[0]
    assert first.body == b'{"amount_cents":4200}'
    assert first.params == [("dry_run", "true")]
    assert first.headers["Idempotency-Key"] == "k-1"
    assert first.extensions == {"x": 1}
    assert first.allow_redirects is False
    assert transport.sent[1].body == b"raw"
    assert transport.sent[2].body == b"a=b"


async def test_the_timeout_is_the_default_deadline() -> None:
    # One attempt per call: the transport gets the whole deadline, exactly. (With a retry
    # policy each attempt gets what is left of it on the real clock, which moves between the
    # call and its first attempt: comparing that with the budget is what made this test flaky
    # on a loaded machine.)
    single = RetryConfig(enabled=False)
    transport = StubTransport()
    async with client_for(transport, timeout=60.0, config=HTTPClientConfig(retry=single)) as client:
        assert client.timeout == 60.0
        await client.get("/a")
        await client.get("/b", timeout=5.0)
    config = HTTPClientConfig(pool=PoolConfig(timeout=12.0), retry=single)
    async with client_for(transport, config=config) as client:
        assert client.timeout == 12.0
        await client.get("/c")
    assert [sent.timeout for sent in transport.sent] == [60.0, 5.0, 12.0]


async def test_with_retries_the_first_attempt_gets_what_is_left_of_the_deadline() -> None:
    transport = StubTransport()
    async with client_for(transport, timeout=60.0) as client:
        await client.get("/a")
    (sent,) = transport.sent
    assert sent.timeout is not None
    assert 0 < sent.timeout <= 60.0


@pytest.mark.parametrize("status", [400, 404, 429, 500])
async def test_error_statuses_are_returned_as_responses(status: int) -> None:
    async with client_for(StubTransport(status), config=_no_retry()) as client:
        response = await client.get("/x")
    assert response.status == status
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.response is response


@pytest.mark.parametrize(
    "error",
    [HTTPConnectionError("refused"), HTTPTimeoutError(phase=TimeoutPhase.READ)],
)
async def test_connection_errors_and_timeouts_are_raised(error: Exception) -> None:
    async with client_for(StubTransport(error), config=_no_retry()) as client:
        with pytest.raises(type(error)) as info:
            await client.get("/x")
    assert info.value is error


async def test_retries_apply(clock: FakeClock) -> None:
    transport = StubTransport(503, 200)
    retry = DefaultRetryPolicy(sleep=clock.sleep, clock=clock)
    async with BaseURLHTTPClient(BASE, transport=transport, retry_policy=retry) as client:
        assert (await client.get("/x")).status == 200
    assert len(transport.sent) == 2


async def test_the_seed_example_works_as_written() -> None:
    transport = StubTransport(201)
    token = TOKEN
    # The seed's snippet, plus only the stub transport:
    async with BaseURLHTTPClient(
        base_url="https://api.partner.example.com/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60.0,
        transport=transport,
    ) as client:
        resp = await client.post("/invoices", json={"amount_cents": 4200})
        resp.raise_for_status()
    sent = transport.sent[0]
    assert (sent.method, sent.url) == ("POST", f"{BASE}/invoices")
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


def test_repr_hides_header_values_and_url_secrets() -> None:
    client = BaseURLHTTPClient(
        "https://user:pw@h/v1?api_key=sk-1",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "k-2"},
        transport=StubTransport(),
    )
    text = repr(client)
    assert TOKEN not in text
    assert "k-2" not in text
    assert "pw" not in text
    assert "sk-1" not in text
    assert "Authorization" in text
    assert text.startswith(
        "BaseURLHTTPClient(base_url='https://[REDACTED]@h/v1?api_key=[REDACTED]'"
    )


async def test_lifecycle() -> None:
    transport = StubTransport()
    client = client_for(transport)
    assert client.state is ClientState.UNOPENED
    assert client.base_url == BASE
    assert client.config == HTTPClientConfig()
    async with client:
        await client.get("/x")
    assert transport.closed == 1
    await client.aclose()
    assert transport.closed == 1
    with pytest.raises(ClientClosedError):
        await client.get("/x")


@pytest.mark.parametrize("base", ["/v1", "api.example.com", "ftp://h/", "https://"])
def test_a_bad_base_url_is_refused(base: str) -> None:
    with pytest.raises(InvalidURLError):
        BaseURLHTTPClient(base, transport=StubTransport())


def test_bad_default_headers_are_refused() -> None:
    with pytest.raises(InvalidHeaderError):
        BaseURLHTTPClient(BASE, headers={"Authorization": "x\r\ny"}, transport=StubTransport())


def test_a_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        BaseURLHTTPClient(BASE, timeout=0, transport=StubTransport())


def _no_retry() -> HTTPClientConfig:
    return HTTPClientConfig(retry=RetryConfig(enabled=False))

"""HTTPClient and BaseURLHTTPClient with the real AiohttpTransport against aiohttp servers.

Servers listen on 127.0.0.1, port 0. Retries are counted where they matter, at the server.
Sleeps between retries are faked; no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lexigram.contracts.observability import InMemoryMetricsRecorder
from lexigram.contracts.web import (
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    InvalidURLError,
    TimeoutPhase,
)
from lexigram.http import (
    AiohttpTransport,
    BaseURLHTTPClient,
    ClientState,
    HTTPClient,
    HTTPClientConfig,
    RetryConfig,
)
from tests.core.conftest import FakeClock
from tests.typing.test_seed_interceptor import CorrelationInterceptor

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

NO_RETRY = HTTPClientConfig(retry=RetryConfig(enabled=False))


class Upstream:
    """The server's state: hits per path, scripted statuses, a gate for slow answers."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.scripts: dict[str, list[int]] = {}
        self.retry_after: dict[str, str] = {}
        self.release = asyncio.Event()
        self.requests: list[dict[str, object]] = []

    async def echo(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        body = await request.read()
        seen: dict[str, object] = {
            "method": request.method,
            "path": request.path,
            "query": list(request.query.items()),
            # Lower-cased: aiohttp may respell names on the wire ("X-Correlation-ID").
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": body.decode(),
        }
        self.requests.append(seen)
        return web.json_response(seen)

    async def scripted(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        script = self.scripts[path]
        status = script[min(self.hits[path], len(script)) - 1]
        headers = {}
        if status >= 400 and path in self.retry_after:
            headers["Retry-After"] = self.retry_after[path]
        return web.json_response({"hit": self.hits[path]}, status=status, headers=headers)

    async def slow(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        await self.release.wait()
        return web.Response(text="late")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    state = Upstream()
    app = web.Application()
    app.router.add_route("*", "/echo", state.echo)
    app.router.add_route("*", "/v1/{tail:.*}", state.echo)
    app.router.add_route("*", "/scripted/{name}", state.scripted)
    app.router.add_get("/slow", state.slow)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield state, f"http://127.0.0.1:{server.port}"
    finally:
        state.release.set()
        await server.close()


def refused_url() -> str:
    """A URL on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing"


@pytest.mark.parametrize("verb", ["get", "post", "put", "delete", "patch", "head", "options"])
async def test_every_verb_round_trips(verb: str, upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    async with HTTPClient() as client:
        result = await getattr(client, verb)(f"{url}/echo")
    assert result.is_ok()
    response = result.value
    assert response.status == 200
    assert response.method == verb.upper()
    assert state.requests[0]["method"] == verb.upper()
    if verb != "head":
        assert response.json["method"] == verb.upper()


async def test_keywords_reach_the_server(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    async with HTTPClient() as client:
        result = await client.post(
            f"{url}/echo?fixed=1",
            params={"page": 2, "tag": ["a", "b"]},
            headers={"X-Trace": "t-1"},
            json={"amount_cents": 4200},
            idempotency_key="key-7",
        )
        form = await client.put(f"{url}/echo", data={"a": "1 2"})
    assert result.is_ok()
    seen = state.requests[0]
    assert seen["query"] == [("fixed", "1"), ("page", "2"), ("tag", "a"), ("tag", "b")]
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["x-trace"] == "t-1"
    assert headers["idempotency-key"] == "key-7"
    assert headers["content-type"] == "application/json"
    assert json.loads(str(seen["body"])) == {"amount_cents": 4200}
    assert form.is_ok()
    assert state.requests[1]["body"] == "a=1+2"


async def test_status_errors_are_err_with_the_response(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    state.scripts["/scripted/missing"] = [404]
    async with HTTPClient() as client:
        result = await client.get(f"{url}/scripted/missing")
    assert isinstance(result.error, HTTPStatusError)
    assert result.error.status == 404
    assert result.error.response.json == {"hit": 1}


async def test_retries_are_counted_at_the_server(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/scripted/flaky"] = [503, 503, 200]
    async with HTTPClient(sleep=clock.sleep) as client:
        result = await client.get(f"{url}/scripted/flaky")
    assert result.is_ok()
    assert result.value.json == {"hit": 3}
    assert state.hits["/scripted/flaky"] == 3
    assert len(clock.sleeps) == 2


async def test_post_is_sent_once_without_a_key(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/scripted/once"] = [503, 200]
    state.scripts["/scripted/keyed"] = [503, 200]
    async with HTTPClient(sleep=clock.sleep) as client:
        result = await client.post(f"{url}/scripted/once", json={})
        keyed = await client.post(f"{url}/scripted/keyed", json={}, idempotency_key="k")
    assert isinstance(result.error, HTTPStatusError)
    assert state.hits["/scripted/once"] == 1
    assert keyed.is_ok()
    assert state.hits["/scripted/keyed"] == 2


async def test_exhaustion_is_raised_after_every_attempt(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    state.scripts["/scripted/down"] = [503]
    async with HTTPClient(sleep=FakeClock().sleep) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.get(f"{url}/scripted/down")
    assert info.value.attempts == 3
    assert state.hits["/scripted/down"] == 3


async def test_retry_after_is_honoured(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    clock = FakeClock()
    state.scripts["/scripted/limited"] = [429, 200]
    state.retry_after["/scripted/limited"] = "2"
    async with HTTPClient(sleep=clock.sleep) as client:
        assert (await client.get(f"{url}/scripted/limited")).is_ok()
    assert clock.sleeps == [2.0]
    assert state.hits["/scripted/limited"] == 2


async def test_connection_refused_is_err() -> None:
    async with HTTPClient(NO_RETRY) as client:
        result = await client.get(refused_url())
    assert isinstance(result.error, HTTPConnectionError)
    assert isinstance(result.error, ConnectionError)


async def test_connection_refused_is_retried_then_exhausted() -> None:
    clock = FakeClock()
    async with HTTPClient(sleep=clock.sleep) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.get(refused_url())
    assert info.value.attempts == 3
    assert isinstance(info.value.last_error, HTTPConnectionError)
    assert len(clock.sleeps) == 2


async def test_the_deadline_is_a_timeout_err(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    async with HTTPClient() as client:
        result = await client.get(f"{url}/slow", timeout=0.05)
    assert isinstance(result.error, HTTPTimeoutError)
    assert result.error.phase is TimeoutPhase.DEADLINE
    assert state.hits["/slow"] == 1  # the deadline is spent: not retried


async def test_interceptors_and_metrics_with_the_real_transport(
    upstream: tuple[Upstream, str],
) -> None:
    state, url = upstream
    recorder = InMemoryMetricsRecorder()
    async with HTTPClient(interceptors=[CorrelationInterceptor()], metrics=recorder) as client:
        assert (await client.get(f"{url}/echo")).is_ok()
    headers = state.requests[0]["headers"]
    assert isinstance(headers, dict)
    assert headers["x-correlation-id"] == "corr-123"
    assert [record.tags for record in recorder.records if record.kind == "counter"] == [
        {"method": "GET", "status": "200"}
    ]
    assert len(recorder.values("http.request.duration", "histogram")) == 1


async def test_the_client_closes_the_transport_it_built(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    client = HTTPClient()
    transport = client.transport
    assert isinstance(transport, AiohttpTransport)
    assert (await client.get(f"{url}/echo")).is_ok()
    await client.aclose()
    assert transport.is_closed
    assert client.state is ClientState.CLOSED


async def test_a_transport_passed_in_is_closed_too(upstream: tuple[Upstream, str]) -> None:
    _, url = upstream
    transport = AiohttpTransport()
    async with HTTPClient(transport=transport) as client:
        assert (await client.get(f"{url}/echo")).is_ok()
    assert transport.is_closed


async def test_the_seed_base_url_example(upstream: tuple[Upstream, str]) -> None:
    state, url = upstream
    token = "sk-live-abc"
    async with BaseURLHTTPClient(
        base_url=f"{url}/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60.0,
    ) as client:
        resp = await client.post("/invoices", json={"amount_cents": 4200})
        resp.raise_for_status()
        with pytest.raises(InvalidURLError):
            await client.get("http://localhost:1/v1/steal")
    seen = state.requests[0]
    assert seen["path"] == "/v1/invoices"
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["authorization"] == f"Bearer {token}"
    assert len(state.requests) == 1


async def test_base_url_client_returns_errors_and_raises_failures(
    upstream: tuple[Upstream, str],
) -> None:
    state, url = upstream
    state.scripts["/scripted/gone"] = [410]
    async with BaseURLHTTPClient(url, config=NO_RETRY) as client:
        response = await client.get("scripted/gone")
        assert response.status == 410
        with pytest.raises(HTTPTimeoutError):
            await client.get("/slow", timeout=0.05)
    async with BaseURLHTTPClient(refused_url(), config=NO_RETRY) as client:
        with pytest.raises(HTTPConnectionError):
            await client.get("/")

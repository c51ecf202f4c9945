"""Every network key of HTTPClientConfig has an effect a local server can observe."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from lexigram.contracts.web import (
    Headers,
    HTTPBodyTooLargeError,
    HTTPConnectionError,
    HttpResponse,
    RequestContext,
)
from lexigram.http._config import HTTPClientConfig, PoolConfig, TLSConfig
from lexigram.http._transport import AiohttpTransport
from tests.core.support import (
    SECOND_LOOPBACK,
    ForwardProxy,
    LocalServer,
    StaticResolver,
    echo_of,
    eventually,
)

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as local:
        yield local


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the machine running the tests; set your own."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")
    return monkeypatch


def config(**overrides: object) -> HTTPClientConfig:
    values: dict[str, object] = {"trust_env": False}
    values.update(overrides)
    return HTTPClientConfig.model_validate(values)


def pool(**overrides: object) -> PoolConfig:
    return PoolConfig.model_validate(overrides)


async def get(transport: AiohttpTransport, url: str, **headers: str) -> HttpResponse:
    return await transport.send(RequestContext("GET", url, headers=Headers(headers)))


async def fire_and_hold(
    transport: AiohttpTransport, servers: list[LocalServer], per_server: int, settled: int
) -> None:
    """Send ``per_server`` held requests to each server; once ``settled`` are in, release all."""
    sending = [
        asyncio.create_task(get(transport, server.url_for("/hold")))
        for server in servers
        for _ in range(per_server)
    ]
    assert await eventually(lambda: sum(server.in_flight for server in servers) >= settled)
    await asyncio.sleep(0.1)  # room for any request the pool should have held back
    for server in servers:
        server.release()
    responses = await asyncio.gather(*sending)
    assert {response.status for response in responses} == {200}


# --- pool -----------------------------------------------------------------------------------


async def test_max_connections_caps_concurrent_requests(server: LocalServer) -> None:
    limits = pool(max_connections=2, max_connections_per_host=2)
    async with AiohttpTransport(config(pool=limits)) as transport:
        await fire_and_hold(transport, [server], per_server=6, settled=2)

    assert server.max_in_flight == 2
    assert server.requests == 6


async def test_max_connections_per_host_caps_each_host(server: LocalServer) -> None:
    limits = pool(max_connections=10, max_connections_per_host=1)
    async with (
        LocalServer(host=SECOND_LOOPBACK) as other,
        AiohttpTransport(config(pool=limits)) as transport,
    ):
        await fire_and_hold(transport, [server, other], per_server=3, settled=2)

    assert (server.max_in_flight, other.max_in_flight) == (1, 1)


async def test_max_connections_across_hosts(server: LocalServer) -> None:
    limits = pool(max_connections=2, max_connections_per_host=2)
    async with (
        LocalServer(host=SECOND_LOOPBACK) as other,
        AiohttpTransport(config(pool=limits)) as transport,
    ):
        sending = [
            asyncio.create_task(get(transport, target.url_for("/hold")))
            for target in (server, other)
            for _ in range(2)
        ]
        assert await eventually(lambda: server.in_flight + other.in_flight == 2)
        await asyncio.sleep(0.1)
        in_flight = server.in_flight + other.in_flight
        server.release()
        other.release()
        await asyncio.gather(*sending)

    assert in_flight == 2


@pytest.mark.parametrize(("cap", "kept"), [(2, 2), (0, 0), (10, 4)])
async def test_max_keepalive_connections_caps_idle_connections(
    server: LocalServer, cap: int, kept: int
) -> None:
    limits = pool(max_keepalive_connections=cap)
    async with AiohttpTransport(config(pool=limits)) as transport:
        await fire_and_hold(transport, [server], per_server=4, settled=4)

        assert await eventually(lambda: server.open_connections == kept)
        await asyncio.sleep(0.05)
        assert server.open_connections == kept


async def test_max_keepalive_connections_is_per_host(server: LocalServer) -> None:
    limits = pool(max_keepalive_connections=1)
    async with (
        LocalServer(host=SECOND_LOOPBACK) as other,
        AiohttpTransport(config(pool=limits)) as transport,
    ):
        await fire_and_hold(transport, [server, other], per_server=3, settled=6)

        assert await eventually(lambda: (server.open_connections, other.open_connections) == (1, 1))


async def test_kept_alive_connections_are_reused(server: LocalServer) -> None:
    limits = pool(max_keepalive_connections=1)
    async with AiohttpTransport(config(pool=limits)) as transport:
        for _ in range(3):
            await get(transport, server.url_for("/"))

    assert len(set(server.client_ports)) == 1


@pytest.mark.parametrize(("force_close", "ports"), [(True, 3), (False, 1)])
async def test_force_close(server: LocalServer, force_close: bool, ports: int) -> None:
    async with AiohttpTransport(config(pool=pool(force_close=force_close))) as transport:
        for _ in range(3):
            await get(transport, server.url_for("/"))

    assert len(set(server.client_ports)) == ports


@pytest.mark.parametrize(("ttl", "lookups"), [(None, 1), (300, 1), (0, 3)])
async def test_ttl_dns_cache(server: LocalServer, ttl: int | None, lookups: int) -> None:
    resolver = StaticResolver({"service.test": "127.0.0.1"})
    limits = pool(ttl_dns_cache=ttl, force_close=True)  # a new connection, so a lookup, each time
    async with AiohttpTransport(config(pool=limits), resolver=resolver) as transport:
        for _ in range(3):
            response = await get(transport, f"http://service.test:{server.port}/")
            assert response.body == b"ok"

    assert resolver.lookups == ["service.test"] * lookups


# --- proxies --------------------------------------------------------------------------------


async def test_proxy(server: LocalServer) -> None:
    async with ForwardProxy() as proxy, AiohttpTransport(config(proxy=proxy.url)) as transport:
        response = await get(transport, server.url_for("/echo?q=1"))

    assert response.headers["Via"] == "1.1 test-proxy"
    assert proxy.seen == [server.url_for("/echo?q=1")]
    assert echo_of(response.body)["path"] == "/echo"


async def test_proxy_credentials_become_proxy_authorization(server: LocalServer) -> None:
    async with ForwardProxy() as proxy:
        with_credentials = proxy.url.replace("http://", "http://user:pa%3Ass@")
        async with AiohttpTransport(config(proxy=with_credentials)) as transport:
            await get(transport, server.url_for("/"))

    expected = "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert proxy.authorizations == [expected]


async def test_trust_env_uses_http_proxy(
    server: LocalServer, clean_env: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        clean_env.setenv("HTTP_PROXY", proxy.url)
        async with AiohttpTransport(config(trust_env=True)) as transport:
            response = await get(transport, server.url_for("/"))

    assert response.headers.get("Via") == "1.1 test-proxy"
    assert proxy.seen == [server.url_for("/")]


async def test_trust_env_proxy_credentials(
    server: LocalServer, clean_env: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        clean_env.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://bob:secret@"))
        async with AiohttpTransport(config(trust_env=True)) as transport:
            await get(transport, server.url_for("/"))

    assert proxy.authorizations == ["Basic " + base64.b64encode(b"bob:secret").decode()]


async def test_trust_env_honours_no_proxy(
    server: LocalServer, clean_env: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy, LocalServer(host=SECOND_LOOPBACK) as other:
        clean_env.setenv("HTTP_PROXY", proxy.url)
        clean_env.setenv("NO_PROXY", "127.0.0.1")
        async with AiohttpTransport(config(trust_env=True)) as transport:
            direct = await get(transport, server.url_for("/"))
            proxied = await get(transport, other.url_for("/"))

    assert "Via" not in direct.headers
    assert proxied.headers.get("Via") == "1.1 test-proxy"
    assert proxy.seen == [other.url_for("/")]


async def test_trust_env_false_ignores_proxy_variables(
    server: LocalServer, clean_env: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        clean_env.setenv("HTTP_PROXY", proxy.url)
        async with AiohttpTransport(config(trust_env=False)) as transport:
            response = await get(transport, server.url_for("/"))

    assert "Via" not in response.headers
    assert proxy.seen == []


async def test_trust_env_reads_netrc_credentials(
    server: LocalServer, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password wonder\n")
    netrc.chmod(0o600)
    clean_env.setenv("NETRC", str(netrc))
    async with AiohttpTransport(config(trust_env=True)) as transport:
        from_netrc = echo_of((await get(transport, server.url_for("/echo"))).body)
        explicit = echo_of(
            (await get(transport, server.url_for("/echo"), Authorization="Bearer t")).body
        )

    assert (
        from_netrc["headers"]["Authorization"]
        == "Basic " + base64.b64encode(b"alice:wonder").decode()
    )
    assert explicit["headers"]["Authorization"] == "Bearer t"


# --- cookies --------------------------------------------------------------------------------


@pytest.mark.parametrize(("enabled", "cookie"), [(True, "session=abc"), (False, None)])
async def test_cookie_jar(server: LocalServer, enabled: bool, cookie: str | None) -> None:
    async with AiohttpTransport(config(cookie_jar=enabled)) as transport:
        await get(transport, server.url_for("/set-cookie"))
        echo = echo_of((await get(transport, server.url_for("/echo"))).body)

    assert echo["headers"].get("Cookie") == cookie


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[LocalServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    async with LocalServer(ssl_context=context) as local:
        yield local


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def test_tls_verification_rejects_an_unknown_ca(tls_server: LocalServer) -> None:
    async with AiohttpTransport(config()) as transport:
        with pytest.raises(HTTPConnectionError) as caught:
            await get(transport, tls_server.url_for("/"))

    assert "certificate" in str(caught.value)


async def test_tls_ca_bundle_is_trusted(tls_server: LocalServer, ca_bundle: Path) -> None:
    tls = TLSConfig(ca_bundle=ca_bundle)
    async with AiohttpTransport(config(tls=tls)) as transport:
        response = await get(transport, tls_server.url_for("/"))

    assert response.body == b"ok"


async def test_tls_verify_false_accepts_any_certificate(tls_server: LocalServer) -> None:
    async with AiohttpTransport(config(tls=TLSConfig(verify=False))) as transport:
        response = await get(transport, tls_server.url_for("/"))

    assert response.body == b"ok"


# --- response size --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/bytes/5000", "/bytes/5000?chunked=1"])
async def test_max_response_bytes(server: LocalServer, path: str) -> None:
    limits = pool(max_connections=1, max_connections_per_host=1)
    async with AiohttpTransport(config(max_response_bytes=1000, pool=limits)) as transport:
        with pytest.raises(HTTPBodyTooLargeError) as caught:
            await get(transport, server.url_for(path))
        # The connection went back: with one slot, this would otherwise wait forever.
        under = await transport.send(
            RequestContext("GET", server.url_for("/bytes/1000"), timeout=5.0)
        )

    assert caught.value.limit == 1000
    assert caught.value.url == server.url_for(path)
    assert len(under.body) == 1000


async def test_max_response_bytes_ignores_content_length_of_head(server: LocalServer) -> None:
    async with AiohttpTransport(config(max_response_bytes=1000)) as transport:
        response = await transport.send(RequestContext("HEAD", server.url_for("/bytes/5000")))

    assert (response.status, response.body) == (200, b"")


# --- User-Agent -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "sent", "expected"),
    [
        ("lexigram-http", None, "lexigram-http"),
        ("billing/2.1", None, "billing/2.1"),
        ("billing/2.1", "custom/1.0", "custom/1.0"),
        (None, None, "aiohttp"),
    ],
)
async def test_user_agent(
    server: LocalServer, user_agent: str | None, sent: str | None, expected: str
) -> None:
    headers = {} if sent is None else {"user-agent": sent}
    async with AiohttpTransport(config(user_agent=user_agent)) as transport:
        echo = echo_of((await get(transport, server.url_for("/echo"), **headers)).body)

    assert expected in echo["headers"]["User-Agent"]
    assert sum(name.lower() == "user-agent" for name in echo["headers"]) == 1


@pytest.mark.parametrize("bad", ["agent\r\nX-Injected: 1", "agent\n", "agent\x00"])
def test_user_agent_cannot_inject_headers(bad: str) -> None:
    with pytest.raises(ValueError, match="user_agent"):
        HTTPClientConfig(user_agent=bad)


async def test_default_config_user_agent(server: LocalServer) -> None:
    async with AiohttpTransport(config()) as transport:
        echo = echo_of((await get(transport, server.url_for("/echo"))).body)

    assert echo["headers"]["User-Agent"] == HTTPClientConfig().user_agent

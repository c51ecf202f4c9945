"""Security at the edges (issue 12), against real loopback servers.

Redirects (credentials dropped across origins, body headers dropped when the method becomes
GET, typed redirect errors, ``http.max_redirects``, one deadline for the chain), exception
chains and pickles without secrets, redacted config, bad input refused before anything is
sent, and the SSRF guard.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import ssl
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pydantic
import pytest
import trustme
from aiohttp import web

from lexigram import Application
from lexigram.contracts.web import (
    REDACTED,
    HTTPBlockedAddressError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPRedirectError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    InvalidURLError,
    TimeoutPhase,
)
from lexigram.di import BootError, Module, module
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPModule
from lexigram.http._config import HTTPClientConfig, PoolConfig, RetryConfig, TLSConfig
from lexigram.http._transport import AiohttpTransport
from lexigram.result import Err
from tests.core.support import (
    LOOPBACK,
    SECOND_LOOPBACK,
    LocalServer,
    StaticResolver,
    closed_port,
    echo_of,
    eventually,
)

CREDENTIALS = {
    "Authorization": "Bearer auth-secret",
    "Cookie": "sid=cookie-secret",
    "X-Api-Key": "xapikey-secret",
    "Api-Key": "apikey-secret",
    "X-Auth-Token": "xauthtoken-secret",
    "X-Partner-Secret": "partner-secret",  # made sensitive by config
}
PLAIN = {"X-Trace": "trace-1"}
SECRET_QUERY = "?api_key=query-secret-1&token=query-secret-2&page=2"
SECRETS = (
    "query-secret-1",
    "query-secret-2",
    "userinfo-secret",
    "cookie-secret",
    "auth-secret",
    "setcookie-secret",
)


def config(**kwargs: Any) -> HTTPClientConfig:
    kwargs.setdefault("trust_env", False)
    kwargs.setdefault("sensitive_headers", ("X-Partner-Secret",))
    kwargs.setdefault("retry", RetryConfig(enabled=False))
    return HTTPClientConfig(**kwargs)


def client(*, resolver: StaticResolver | None = None, **kwargs: Any) -> HTTPClient:
    cfg = config(**kwargs)
    return HTTPClient(cfg, transport=AiohttpTransport(cfg, resolver=resolver))


def hop(server: LocalServer, to: str, status: int = 302) -> str:
    """A URL on ``server`` that redirects to ``to`` with ``status``."""
    return server.url_for(f"/hop?status={status}&to={quote(to, safe='')}")


async def _hop(request: web.Request) -> web.Response:
    status = int(request.query.get("status", "302"))
    return web.Response(status=status, headers={"Location": request.query["to"]})


async def _chain(request: web.Request) -> web.Response:
    left = int(request.match_info["n"])
    if request.query.get("slow"):
        await asyncio.sleep(float(request.query["slow"]))
    if left == 0:
        return web.Response(text="done")
    query = f"?{request.query_string}" if request.query_string else ""
    return web.Response(status=302, headers={"Location": f"/chain/{left - 1}{query}"})


async def _loop(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": request.path_qs})


async def _raw_location(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": request.query["loc"]})


async def _error_with_cookie(request: web.Request) -> web.Response:
    return web.Response(
        status=int(request.query.get("status", "500")),
        text="failed",
        headers={"Set-Cookie": "session=setcookie-secret; Path=/"},
    )


ROUTES = [
    web.route("*", "/hop", _hop),
    web.get("/chain/{n}", _chain),
    web.get("/loop", _loop),
    web.get("/raw-location", _raw_location),
    web.get("/fail", _error_with_cookie),
]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(extra_routes=ROUTES) as local:
        yield local


@pytest.fixture
async def other() -> AsyncIterator[LocalServer]:
    """Another origin: same address, another port."""
    async with LocalServer() as local:
        yield local


@pytest.fixture
async def other_host() -> AsyncIterator[LocalServer]:
    """Another origin: another loopback address."""
    async with LocalServer(host=SECOND_LOOPBACK) as local:
        yield local


def leaked(text: str, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    return [secret for secret in secrets if secret in text]


def reachable_text(error: BaseException) -> str:
    """Everything reachable from ``error``: str, repr, args and attributes of it and of its
    causes and contexts, recursively, and what ``traceback.format_exception`` prints."""
    parts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        parts += [repr(value) for value in getattr(current, "__dict__", {}).values()]
        stack += [current.__cause__, current.__context__]
    return "\n".join(parts)


def error_of(result: object) -> HTTPClientError:
    assert isinstance(result, Err), result
    error = result.error
    assert isinstance(error, HTTPClientError)
    return error


def sent_headers(response: HttpResponse) -> dict[str, str]:
    headers: dict[str, str] = echo_of(response.body)["headers"]
    return headers


# --- 1. credentials never follow a redirect to another origin -------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["other-port", "other-host", "localhost"])
async def test_cross_origin_redirects_drop_every_sensitive_header(
    server: LocalServer, other: LocalServer, other_host: LocalServer, status: int, target: str
) -> None:
    destination = {
        "other-port": other.url_for("/echo"),
        "other-host": other_host.url_for("/echo"),
        "localhost": f"http://localhost:{server.port}/echo",
    }[target]
    resolver = StaticResolver({"localhost": LOOPBACK})
    async with client(resolver=resolver) as http:
        result = await http.get(hop(server, destination, status), headers={**CREDENTIALS, **PLAIN})

    response = result.unwrap()
    assert response.url == destination
    headers = sent_headers(response)
    assert not set(CREDENTIALS) & set(headers), headers
    assert headers["X-Trace"] == "trace-1"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_same_origin_redirects_keep_the_credentials(server: LocalServer, status: int) -> None:
    async with client() as http:
        result = await http.get(
            hop(server, server.url_for("/echo"), status), headers={**CREDENTIALS, **PLAIN}
        )

    headers = sent_headers(result.unwrap())
    assert {name: headers[name] for name in CREDENTIALS} == CREDENTIALS


async def test_credentials_stay_dropped_when_the_chain_comes_back(server: LocalServer) -> None:
    async with LocalServer(extra_routes=ROUTES) as bouncer:
        back = hop(bouncer, server.url_for("/echo"))
        async with client() as http:
            result = await http.get(hop(server, back), headers=CREDENTIALS)

    assert not set(CREDENTIALS) & set(sent_headers(result.unwrap()))


async def test_stream_drops_credentials_across_origins(
    server: LocalServer, other: LocalServer
) -> None:
    async with (
        client() as http,
        http.stream(
            "GET", hop(server, other.url_for("/echo"), 307), headers=CREDENTIALS
        ) as response,
    ):
        body = b"".join([chunk async for chunk in response.iter_bytes()])

    assert not set(CREDENTIALS) & set(echo_of(body)["headers"])


async def test_base_url_client_default_headers_do_not_follow_a_redirect(
    server: LocalServer, other: LocalServer
) -> None:
    async with BaseURLHTTPClient(server.url, headers=CREDENTIALS, config=config()) as api:
        response = await api.get(f"/hop?to={quote(other.url_for('/echo'), safe='')}")
        async with api.stream(
            "GET", f"/hop?status=308&to={quote(other.url_for('/echo'), safe='')}"
        ) as streamed:
            body = b"".join([chunk async for chunk in streamed.iter_bytes()])
        same = await api.get(f"/hop?to={quote(server.url_for('/echo'), safe='')}")

    assert not set(CREDENTIALS) & set(sent_headers(response))
    assert not set(CREDENTIALS) & set(echo_of(body)["headers"])
    assert sent_headers(same)["X-Api-Key"] == "xapikey-secret"


async def test_https_to_http_downgrade_drops_credentials(
    other: LocalServer, tmp_path: Path
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(LOOPBACK).configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with (
        LocalServer(ssl_context=context, extra_routes=ROUTES) as tls_server,
        client(tls=TLSConfig(ca_bundle=bundle)) as http,
    ):
        result = await http.get(hop(tls_server, other.url_for("/echo")), headers=CREDENTIALS)

    response = result.unwrap()
    assert response.url.startswith("http://")
    assert not set(CREDENTIALS) & set(sent_headers(response))


# --- issue 13: a redirect that turns the request into a GET drops the body's headers ----------


@pytest.mark.parametrize(
    ("status", "method"), [(303, "POST"), (303, "PUT"), (301, "POST"), (302, "POST")]
)
async def test_a_redirect_to_get_drops_the_body_and_its_headers(
    server: LocalServer, status: int, method: str
) -> None:
    async with client() as http:
        result = await http.request(
            method,
            hop(server, server.url_for("/echo"), status),
            json={"a": 1},
            headers={"Content-Language": "en", **PLAIN},
        )

    echo = echo_of(result.unwrap().body)
    assert echo["method"] == "GET"
    assert echo["body"] == ""
    sent = {name.lower() for name in echo["headers"]}
    assert not sent & {"content-type", "content-length", "content-language"}, sent
    assert echo["headers"]["X-Trace"] == "trace-1"


@pytest.mark.parametrize("status", [307, 308])
async def test_307_and_308_resend_the_method_and_the_body(server: LocalServer, status: int) -> None:
    async with client() as http:
        result = await http.post(hop(server, server.url_for("/echo"), status), json={"a": 1})

    echo = echo_of(result.unwrap().body)
    assert (echo["method"], echo["body"]) == ("POST", '{"a":1}')
    assert echo["headers"]["Content-Type"] == "application/json"


# --- 6. redirect outcomes: typed errors returned as Err, http.max_redirects ------------------


async def test_a_redirect_loop_is_an_err_of_a_redirect_error(server: LocalServer) -> None:
    async with client() as http:
        result = await http.get(server.url_for("/loop" + SECRET_QUERY))

    error = error_of(result)
    assert isinstance(error, HTTPRedirectError)
    assert error.max_redirects == 20
    assert "too many redirects" in str(error)
    assert server.requests == 21
    assert not leaked(reachable_text(error))


async def test_twenty_redirects_are_followed_by_default(server: LocalServer) -> None:
    async with client() as http:
        followed = await http.get(server.url_for("/chain/20"))
        refused = await http.get(server.url_for("/chain/21"))

    assert followed.unwrap().body == b"done"
    assert isinstance(error_of(refused), HTTPRedirectError)


async def test_max_redirects_is_configurable(server: LocalServer) -> None:
    async with client(max_redirects=2) as http:
        followed = await http.get(server.url_for("/chain/2"))
        refused = await http.get(server.url_for("/chain/3"))

    assert followed.unwrap().body == b"done"
    error = error_of(refused)
    assert isinstance(error, HTTPRedirectError)
    assert error.max_redirects == 2


@pytest.mark.parametrize(
    "location", ["http://exa mple.test/", "ftp://files.example/x", "http://[::1", "http://:80/"]
)
async def test_an_invalid_location_is_an_err_of_a_redirect_error(
    server: LocalServer, location: str
) -> None:
    resolver = StaticResolver({})
    async with client(resolver=resolver) as http:
        result = await http.get(server.url_for(f"/raw-location?loc={quote(location, safe='')}"))

    error = error_of(result)
    assert isinstance(error, HTTPRedirectError)
    assert not isinstance(error, InvalidURLError)
    assert "invalid URL" in str(error)
    assert resolver.lookups == []


async def test_the_redirect_error_is_raised_by_base_url_clients_and_streams(
    server: LocalServer,
) -> None:
    async with BaseURLHTTPClient(server.url, config=config(max_redirects=1)) as api:
        with pytest.raises(HTTPRedirectError):
            await api.get("/chain/2")
        with pytest.raises(HTTPRedirectError):
            async with api.stream("GET", "/loop"):
                pass


async def test_intermediate_responses_are_released(server: LocalServer) -> None:
    # One connection in the pool: a hop that kept its predecessor's would wait for it forever.
    pool = PoolConfig(max_connections=1, max_connections_per_host=1)
    async with client(pool=pool, connect_timeout=1.0) as http:
        for _ in range(3):
            assert (await http.get(server.url_for("/chain/5"))).unwrap().body == b"done"


async def test_one_deadline_covers_the_whole_redirect_chain(server: LocalServer) -> None:
    # Each hop takes 0.15 s, well inside the 0.4 s deadline; five of them are not.
    async with client() as http:
        result = await http.get(server.url_for("/chain/5?slow=0.15"), timeout=0.4)

    error = error_of(result)
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.DEADLINE


async def test_redirects_are_not_followed_when_disabled(server: LocalServer) -> None:
    async with client() as http:
        result = await http.get(server.url_for("/loop"), allow_redirects=False)

    assert result.unwrap().status == 302


# --- 2. nothing reachable from our errors holds a secret -------------------------------------


@asynccontextmanager
async def raw_server(reply: bytes) -> AsyncIterator[str]:
    """A TCP server on loopback that reads a request head and answers ``reply`` verbatim."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, LOOPBACK, 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"http://user:userinfo-secret@{LOOPBACK}:{port}/x{SECRET_QUERY}"
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 abc Broken\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 9000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"garbage\r\n\r\n",
    ],
    ids=["malformed-status-line", "oversized-header", "not-http"],
)
async def test_malformed_responses_leave_no_secret_in_the_chain(reply: bytes) -> None:
    async with raw_server(reply) as url, client() as http:
        result = await http.get(url, headers={"X-Api-Key": "auth-secret"})

    error = error_of(result)
    assert isinstance(error, HTTPConnectionError)
    assert error.__cause__ is not None  # the cause is kept, redacted
    assert "aiohttp" in str(error.__cause__)
    assert not leaked(reachable_text(error))


async def test_a_pool_wait_timeout_leaves_no_secret_in_the_chain(server: LocalServer) -> None:
    pool = PoolConfig(max_connections=1, max_connections_per_host=1)
    secret_url = server.url_for("/" + SECRET_QUERY).replace("http://", "http://u:userinfo-secret@")
    async with client(pool=pool, connect_timeout=0.1) as http:
        holding = asyncio.create_task(http.get(server.url_for("/hold")))
        assert await eventually(lambda: server.in_flight == 1)
        result = await http.get(secret_url)
        server.release()
        await holding

    error = error_of(result)
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase is TimeoutPhase.POOL
    assert not leaked(reachable_text(error))


async def test_a_refused_connection_leaves_no_secret_in_the_chain() -> None:
    url = f"http://u:userinfo-secret@{LOOPBACK}:{closed_port()}/{SECRET_QUERY}"
    async with client() as http:
        result = await http.get(url)

    error = error_of(result)
    assert isinstance(error, HTTPConnectionError)
    assert not leaked(reachable_text(error))


async def test_a_stream_disconnect_leaves_no_secret_in_the_chain(server: LocalServer) -> None:
    async with (
        client() as http,
        http.stream("GET", server.url_for("/drop" + SECRET_QUERY)) as response,
    ):
        with pytest.raises(HTTPStreamDisconnectedError) as caught:
            async for _ in response.iter_bytes():
                pass

    assert not leaked(reachable_text(caught.value))


# --- 3. pickled errors carry a redacted response ---------------------------------------------


async def test_a_pickled_status_error_is_redacted(server: LocalServer) -> None:
    url = server.url_for("/fail" + SECRET_QUERY).replace("http://", "http://u:userinfo-secret@")
    async with client() as http:
        result = await http.get(url)

    error = error_of(result)
    assert isinstance(error, HTTPStatusError)
    assert "setcookie-secret" in error.response.headers["Set-Cookie"]  # live: untouched
    data = pickle.dumps(error)
    assert not leaked(repr(data))
    restored = pickle.loads(data)
    assert restored.response.status == 500
    assert restored.response.headers["Set-Cookie"] == REDACTED
    assert "api_key=[REDACTED]" in restored.response.url
    assert restored.response.body == b"failed"


async def test_a_pickled_retry_exhausted_error_is_redacted(server: LocalServer) -> None:
    async def no_sleep(delay: float) -> None:
        return None

    cfg = config(retry=RetryConfig(max_attempts=2))
    async with HTTPClient(cfg, transport=AiohttpTransport(cfg), sleep=no_sleep) as http:
        with pytest.raises(HTTPRetryExhaustedError) as caught:
            await http.get(server.url_for("/fail" + SECRET_QUERY + "&status=503"))

    data = pickle.dumps(caught.value)
    assert not leaked(repr(data))
    restored = pickle.loads(data)
    assert restored.last_response is not None
    assert restored.last_response.headers["Set-Cookie"] == REDACTED


# --- 4. the configuration does not show secrets ----------------------------------------------


def test_config_repr_and_str_hide_the_proxy_password() -> None:
    cfg = HTTPClientConfig(proxy="http://user:PASSWORD-secret@proxy.internal:3128")

    for text in (repr(cfg), str(cfg)):
        assert "PASSWORD-secret" not in text
        assert "proxy.internal:3128" in text
    assert cfg.proxy == "http://user:PASSWORD-secret@proxy.internal:3128"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"proxy": "ftp://u:PASSWORD-secret@p"},
        {"user_agent": "agent PASSWORD-secret\r\nX-Injected: 1"},
        {"proxy": 12345},
    ],
)
def test_config_validation_errors_built_in_code_do_not_echo_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        HTTPClientConfig(**kwargs)

    text = str(caught.value)
    assert "PASSWORD-secret" not in text
    assert "12345" not in text
    assert next(iter(kwargs)) in text  # the key is named


# --- 5. bad input is refused clearly, before anything is sent --------------------------------


async def test_a_space_in_the_host_is_an_invalid_url_before_any_lookup() -> None:
    resolver = StaticResolver({})
    async with client(resolver=resolver) as http:
        with pytest.raises(InvalidURLError, match="host"):
            await http.get("http://exa mple.test/")
        async with BaseURLHTTPClient("http://ok.test/", config=config()) as api:
            with pytest.raises(InvalidURLError):
                await api.get("http://exa mple.test/x")

    assert resolver.lookups == []


async def test_an_infinite_timeout_means_no_deadline(server: LocalServer) -> None:
    async with client() as http:
        assert (await http.get(server.url_for("/"), timeout=math.inf)).unwrap().body == b"ok"
        async with http.stream("GET", server.url_for("/"), timeout=math.inf) as response:
            assert await response.aread() == b"ok"
    async with BaseURLHTTPClient(server.url, timeout=math.inf, config=config()) as api:
        assert (await api.get("/")).body == b"ok"
        assert api.timeout == math.inf
    cfg = HTTPClientConfig(trust_env=False)  # with the default retry policy too
    async with HTTPClient(cfg) as http:
        assert (await http.get(server.url_for("/"), timeout=math.inf)).unwrap().status == 200


CallFactory = Callable[[HTTPClient, str], Awaitable[object]]


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda http, url: http.post(url, data=123), "data"),
        (lambda http, url: http.get(url, headers={"X-Count": 5}), "X-Count"),
        (lambda http, url: http.get(url, headers="X-A: 1"), "headers"),
        (lambda http, url: http.get(url, params=5), "params"),
        (lambda http, url: http.get(url, params=[("a",)]), "params"),
        (lambda http, url: http.post(url, data=[1, 2]), "data"),
    ],
    ids=[
        "data-int",
        "header-value-int",
        "headers-str",
        "params-int",
        "params-bad-pair",
        "data-list",
    ],
)
async def test_wrong_argument_types_name_the_argument(
    server: LocalServer, call: CallFactory, named: str
) -> None:
    async with client() as http:
        with pytest.raises(TypeError, match=named):
            await call(http, server.url_for("/echo"))

    assert server.requests == 0


def test_base_url_client_default_headers_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match="X-Count"):
        BaseURLHTTPClient("http://api.test/", headers={"X-Count": 5})  # type: ignore[arg-type]


@pytest.fixture
def not_pem(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.pem"
    path.write_text("this is not a certificate\n")
    return path


def test_a_ca_bundle_that_is_not_pem_fails_validation(not_pem: Path) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        TLSConfig(ca_bundle=not_pem)

    assert "ca_bundle" in str(caught.value)
    assert str(not_pem) in str(caught.value)


async def test_a_ca_bundle_that_is_not_pem_fails_the_boot_naming_the_key(
    not_pem: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "application.yaml").write_text(f"http:\n  tls:\n    ca_bundle: {not_pem}\n")

    @module(imports=[HTTPModule.configure()])
    class AppModule(Module):
        pass

    with pytest.raises(BootError) as caught:
        await Application(modules=[AppModule], environ={}).start()

    text = str(caught.value)
    assert "http.tls.ca_bundle" in text
    assert str(not_pem) in text
    assert "application.yaml" in text


# --- the SSRF guard --------------------------------------------------------------------------


def guarded(
    resolver: StaticResolver | None = None,
    address_allowed: Callable[[str], bool] | None = None,
    **kwargs: Any,
) -> HTTPClient:
    cfg = config(allow_private_networks=False, **kwargs)
    transport = AiohttpTransport(cfg, resolver=resolver, address_allowed=address_allowed)
    return HTTPClient(cfg, transport=transport)


async def test_the_guard_refuses_a_name_that_resolves_to_loopback(server: LocalServer) -> None:
    resolver = StaticResolver({"internal.test": LOOPBACK})
    url = f"http://internal.test:{server.port}/"
    async with guarded(resolver) as http:
        result = await http.get(url)

    error = error_of(result)
    assert isinstance(error, HTTPBlockedAddressError)
    assert (error.host, error.address) == ("internal.test", LOOPBACK)
    assert "allow_private_networks" in str(error)
    assert resolver.lookups == ["internal.test"]
    assert server.requests == 0


async def test_the_guard_refuses_ip_literals_and_streams(server: LocalServer) -> None:
    async with guarded() as http:
        result = await http.get(server.url_for("/"))
        with pytest.raises(HTTPBlockedAddressError):
            async with http.stream("GET", server.url_for("/")):
                pass

    assert isinstance(error_of(result), HTTPBlockedAddressError)
    assert server.requests == 0


async def test_private_networks_are_allowed_by_default(server: LocalServer) -> None:
    resolver = StaticResolver({"internal.test": LOOPBACK})
    async with client(resolver=resolver) as http:
        result = await http.get(f"http://internal.test:{server.port}/")

    assert result.unwrap().body == b"ok"


def only_first_loopback(address: str) -> bool:
    """The guard's test for these tests: 127.0.0.1 plays a public address, nothing else is."""
    return address == LOOPBACK


async def test_the_guard_checks_every_redirect_hop(
    server: LocalServer, other_host: LocalServer
) -> None:
    resolver = StaticResolver({"public.test": LOOPBACK, "internal.test": SECOND_LOOPBACK})
    target = f"http://internal.test:{other_host.port}/echo"
    async with guarded(resolver, only_first_loopback) as http:
        allowed = await http.get(f"http://public.test:{server.port}/")
        result = await http.get(hop(server, target).replace(LOOPBACK, "public.test"))

    assert allowed.unwrap().body == b"ok"
    error = error_of(result)
    assert isinstance(error, HTTPBlockedAddressError)
    assert error.address == SECOND_LOOPBACK
    assert other_host.requests == 0


class RebindingResolver(StaticResolver):
    """Answers a public address on the first lookup and a private one afterwards."""

    def __init__(self) -> None:
        super().__init__({"rebind.test": LOOPBACK})

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> Any:
        answer = await super().resolve(host, port)
        if len(self.lookups) > 1:
            answer[0]["host"] = SECOND_LOOPBACK
        return answer


async def test_the_guard_checks_after_every_resolution_dns_rebinding(
    server: LocalServer,
) -> None:
    resolver = RebindingResolver()
    url = f"http://rebind.test:{server.port}/"
    pool = PoolConfig(ttl_dns_cache=0, force_close=True)
    async with guarded(resolver, only_first_loopback, pool=pool) as http:
        first = await http.get(url)
        second = await http.get(url)

    assert first.unwrap().body == b"ok"
    assert isinstance(error_of(second), HTTPBlockedAddressError)


def test_is_public() -> None:
    from lexigram.http._ssrf import is_public

    for address in ("8.8.8.8", "2606:4700::1111", "1.1.1.1"):
        assert is_public(address), address
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::",
        "not an address",
    ):
        assert not is_public(address), address


async def test_the_new_keys_have_an_environment_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    @module(imports=[HTTPModule.configure()])
    class AppModule(Module):
        pass

    environ = {
        "LEX_HTTP__MAX_REDIRECTS": "5",
        "LEX_HTTP__SENSITIVE_HEADERS": "X-Partner-Secret, X-Other",
        "LEX_HTTP__ALLOW_PRIVATE_NETWORKS": "false",
    }
    async with Application(modules=[AppModule], environ=environ) as app:
        cfg = (await app.container.resolve(HTTPClient)).config

    assert cfg.max_redirects == 5
    assert cfg.sensitive_headers == ("X-Partner-Secret", "X-Other")
    assert cfg.allow_private_networks is False

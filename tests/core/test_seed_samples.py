"""The documentation's samples, executed against the real stack and a server on 127.0.0.1.

The module registration is at the top of this file exactly as the documentation shows it
(indentation restored); ``application.yaml`` is ``data/application.yaml``, verbatim. The
``BillingClient`` and the ``CorrelationInterceptor`` are the verbatim copies type-checked in
``tests/typing``, imported from there.

``BillingClient`` hard-codes ``https://api.partner.example.com``. Tests never leave
127.0.0.1, so the application registers one more interceptor, :class:`RouteToLocal`, which
rewrites that origin to the local server's before the transport sees the request. It is the
same seam an application would use to point a client at a sandbox; the code under test (the
BillingClient, the client, the transport) runs unchanged and no DNS lookup of the partner
host is ever made.
"""
# ruff: noqa: I001  (the documentation's import order is kept verbatim)

from lexigram import Application
from lexigram.di.module import Module, module
from lexigram.http import HTTPModule, HTTPClientConfig


@module(imports=[HTTPModule.configure(HTTPClientConfig())])
class AppModule(Module):
    pass


# -- Tests (not part of the documentation) ------------------------------------------------------

import asyncio  # noqa: E402
import shutil  # noqa: E402
from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from aiohttp import web  # noqa: E402
from my_app.domain.models import Invoice  # noqa: E402

from lexigram.contracts.observability import (  # noqa: E402
    InMemoryMetricsRecorder,
    MetricsRecorderProtocol,
)
from lexigram.contracts.resilience import (  # noqa: E402
    CircuitBreakerProtocol,
    CircuitBreakerRegistryProtocol,
    CircuitState,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (  # noqa: E402
    HTTPClientProtocol,
    HttpResponse,
    InterceptorChainProtocol,
    InterceptorProtocol,
    RequestContext,
)
from lexigram.di import BootError, ConfigError, provide  # noqa: E402
from lexigram.http import (  # noqa: E402
    ClientState,
    HTTPClient,
    InterceptorChain,
    PoolConfig,
)
from lexigram.result import Err, Ok  # noqa: E402
from tests.typing.test_seed_billing import BillingClient  # noqa: E402
from tests.typing.test_seed_interceptor import CorrelationInterceptor  # noqa: E402

DATA = Path(__file__).parent / "data"
PARTNER = "https://api.partner.example.com"


class LocalServer:
    """An aiohttp server on 127.0.0.1 that serves the partner's invoices and records requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.base = ""
        app = web.Application()
        app.router.add_get("/v1/invoices/{invoice_id}", self._invoice)
        app.router.add_post("/v1/invoices", self._create)
        app.router.add_get("/echo", self._echo)
        self._runner = web.AppRunner(app)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def close(self) -> None:
        await self._runner.cleanup()

    def _record(self, request: web.Request) -> None:
        # Lower-cased names: aiohttp re-spells some on the wire (X-Correlation-Id -> -ID).
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append((request.method, request.path, headers))

    async def _invoice(self, request: web.Request) -> web.Response:
        self._record(request)
        invoice_id = request.match_info["invoice_id"]
        if invoice_id != "inv_1":
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response({"id": invoice_id, "amount_cents": 4200})

    async def _create(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.json_response({"id": "inv_2", **await request.json()}, status=201)

    async def _echo(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.json_response({"ok": True})


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    local = LocalServer()
    await local.start()
    yield local
    await local.close()


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No application.yaml from the repository, no proxy from the developer's shell.
    monkeypatch.chdir(tmp_path)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def state_of(client: HTTPClient) -> ClientState:
    """A call, so that mypy does not carry ``client.state`` narrowing across awaits."""
    return client.state


class RouteToLocal(InterceptorProtocol):
    """Sends what is addressed to the partner to the local server instead (see the docstring)."""

    def __init__(self, local_base: str) -> None:
        self.local_base = local_base

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        if not context.url.startswith(f"{PARTNER}/"):
            raise AssertionError(f"unexpected destination {context.url}")
        context.url = self.local_base + context.url[len(PARTNER) :]
        return context


# -- 1. the module registration ----------------------------------------------------------------


async def test_the_registered_module_serves_a_real_request(server: LocalServer) -> None:
    async with Application.boot(modules=[AppModule], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert isinstance(http, HTTPClient)
        result = await http.get(f"{server.base}/echo")
        assert isinstance(result, Ok)
        assert result.value.status == 200
        assert result.value.json == {"ok": True}
    assert state_of(http) is ClientState.CLOSED
    assert [(method, path) for method, path, _ in server.requests] == [("GET", "/echo")]


async def test_the_module_can_be_booted_again(server: LocalServer) -> None:
    # The module's provider is one object shared by every application built from AppModule.
    for _ in range(2):
        async with Application.boot(modules=[AppModule], environ={}) as app:
            http = await app.container.resolve(HTTPClientProtocol)
            assert (await http.get(f"{server.base}/echo")).is_ok()
    assert len(server.requests) == 2


# -- 2. application.yaml ---------------------------------------------------------------------


async def _effective(**kwargs: Any) -> HTTPClientConfig:
    kwargs.setdefault("environ", {})
    async with Application.boot(modules=[AppModule], **kwargs) as app:
        return (await app.container.resolve(HTTPClient)).config


async def test_the_documented_yaml_gives_the_documented_values(tmp_path: Path) -> None:
    path = tmp_path / "application.yaml"
    shutil.copy(DATA / "application.yaml", path)
    for config in (await _effective(config_file=path), await _effective()):  # file=, then cwd
        assert config.pool == PoolConfig(
            max_connections=100,
            max_keepalive_connections=50,
            max_connections_per_host=20,
            timeout=30.0,
            ttl_dns_cache=300,
            force_close=False,
        )
        assert config.proxy is None
        assert config.trust_env is True
        assert config.cookie_jar is True


async def test_values_changed_in_the_yaml_take_effect(tmp_path: Path) -> None:
    text = (DATA / "application.yaml").read_text()
    for old, new in [
        ("max_connections: 100", "max_connections: 120"),
        ("max_keepalive_connections: 50", "max_keepalive_connections: 5"),
        ("max_connections_per_host: 20", "max_connections_per_host: 10"),
        ("timeout: 30.0", "timeout: 12.5"),
        ("ttl_dns_cache: 300", "ttl_dns_cache: 60"),
        ("force_close: false", "force_close: true"),
        ("proxy: null", 'proxy: "http://proxy.example.com:8080"'),
        ("trust_env: true", "trust_env: false"),
        ("cookie_jar: true", "cookie_jar: false"),
    ]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "custom.yaml"
    path.write_text(text)
    config = await _effective(config_file=path)
    assert config.pool == PoolConfig(
        max_connections=120,
        max_keepalive_connections=5,
        max_connections_per_host=10,
        timeout=12.5,
        ttl_dns_cache=60,
        force_close=True,
    )
    assert config.proxy == "http://proxy.example.com:8080"
    assert config.trust_env is False
    assert config.cookie_jar is False


# -- 3. the environment and precedence --------------------------------------------------------


async def test_the_documented_environment_variable() -> None:
    config = await _effective(environ={"LEX_HTTP__POOL__TIMEOUT": "15.0"})
    assert config.pool.timeout == 15.0


async def test_the_environment_variable_from_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEX_HTTP__POOL__TIMEOUT", "15.0")
    async with Application.boot(modules=[AppModule]) as app:
        assert (await app.container.resolve(HTTPClient)).config.pool.timeout == 15.0


async def test_precedence_defaults_yaml_environment_code(tmp_path: Path) -> None:
    (tmp_path / "application.yaml").write_text(
        "http:\n"
        "  pool:\n"
        "    max_connections: 80\n"  # file only
        "    timeout: 20.0\n"  # file, then environment
        "  connect_timeout: 5.0\n"  # file, environment, then code
    )
    environ = {"LEX_HTTP__POOL__TIMEOUT": "15.0", "LEX_HTTP__CONNECT_TIMEOUT": "6.0"}

    @module(imports=[HTTPModule.configure(HTTPClientConfig(connect_timeout=7.0))])
    class CodeModule(Module):
        pass

    async with Application.boot(modules=[CodeModule], environ=environ) as app:
        config = (await app.container.resolve(HTTPClient)).config
    assert config.cookie_jar is True  # default
    assert config.pool.max_connections == 80  # yaml over default
    assert config.pool.timeout == 15.0  # environment over yaml
    assert config.connect_timeout == 7.0  # code over environment and yaml


async def test_an_unknown_yaml_key_fails_the_boot(tmp_path: Path) -> None:
    (tmp_path / "application.yaml").write_text("http:\n  pool:\n    max_conections: 5\n")
    with pytest.raises(ConfigError) as caught:
        await _effective()
    assert str(caught.value) == (
        "http.pool.max_conections: Unknown key (from application.yaml line 3)"
    )


async def test_a_bad_environment_value_fails_the_boot() -> None:
    with pytest.raises(ConfigError) as caught:
        await _effective(environ={"LEX_HTTP__POOL__TIMEOUT": "soon"})
    message = str(caught.value)
    assert message.startswith("http.pool.timeout: ")
    assert message.endswith("(from environment variable LEX_HTTP__POOL__TIMEOUT)")


# -- 4. BillingClient on the real client ------------------------------------------------------


async def test_billing_client_against_the_real_client(server: LocalServer) -> None:
    routing = provide(InterceptorChainProtocol, InterceptorChain([RouteToLocal(server.base)]))
    async with Application.boot(modules=[AppModule], providers=[routing], environ={}) as app:
        billing = BillingClient(await app.container.resolve(HTTPClientProtocol))
        found = await billing.fetch_invoice("inv_1")
        missing = await billing.fetch_invoice("inv_404")

    assert found == Ok(Invoice(id="inv_1", amount_cents=4200))
    assert [path for _, path, _ in server.requests] == [
        "/v1/invoices/inv_1",
        "/v1/invoices/inv_404",
    ]
    assert all(headers["authorization"] == "Bearer test-token" for *_, headers in server.requests)

    assert isinstance(missing, Err)
    assert missing.error == (
        f"billing fetch failed: HTTP 404 Not Found for GET {server.base}/v1/invoices/inv_404"
    )
    assert "test-token" not in missing.error


# -- 5. CorrelationInterceptor ----------------------------------------------------------------


async def test_correlation_interceptor_passed_to_the_constructor(server: LocalServer) -> None:
    async with HTTPClient(interceptors=[CorrelationInterceptor()]) as client:
        assert (await client.get(f"{server.base}/echo")).is_ok()
    assert server.requests[0][2]["x-correlation-id"] == "corr-123"


async def test_correlation_interceptor_registered_in_the_container(server: LocalServer) -> None:
    chain = provide(InterceptorChainProtocol, InterceptorChain([CorrelationInterceptor()]))
    async with Application.boot(modules=[AppModule], providers=[chain], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert (await http.get(f"{server.base}/echo")).is_ok()
    assert server.requests[0][2]["x-correlation-id"] == "corr-123"


# -- 6. HTTPModule.stub() ---------------------------------------------------------------------


async def test_stub_opens_no_connection_unless_exercised(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    connections: list[object] = []
    sessions: list[object] = []
    real_connect, real_session = loop.create_connection, aiohttp.ClientSession

    async def counting_connect(*args: Any, **kwargs: Any) -> Any:
        connections.append(args)
        return await real_connect(*args, **kwargs)

    def counting_session(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        sessions.append(args)
        return real_session(*args, **kwargs)

    monkeypatch.setattr(loop, "create_connection", counting_connect)
    monkeypatch.setattr(aiohttp, "ClientSession", counting_session)

    @module(imports=[HTTPModule.stub()])
    class TestModule(Module):
        pass

    async with Application.boot(modules=[TestModule], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert isinstance(http, HTTPClient)
        assert http.config == HTTPClientConfig()
        assert http.state is ClientState.UNOPENED
    assert state_of(http) is ClientState.CLOSED
    assert (connections, sessions) == ([], [])

    # Exercised, it is a real client.
    async with Application.boot(modules=[TestModule], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert (await http.get(f"{server.base}/echo")).is_ok()
    assert len(connections) == len(sessions) == 1


# -- the resilience and metrics wiring, end to end --------------------------------------------

Operation = Callable[[int], Awaitable[HttpResponse]]


class CountingPipeline:
    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, request: RequestContext, operation: Operation) -> HttpResponse:
        self.calls += 1
        return await operation(1)


class CountingPolicy(CountingPipeline):
    pass


class Breaker:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return "http-default"

    def state(self, key: str = "") -> CircuitState:
        return CircuitState.CLOSED

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.calls.append(key)
        return await operation()

    def isolate(self) -> None:
        pass

    def reset(self) -> None:
        pass


class Registry:
    def __init__(self) -> None:
        self.breaker = Breaker()
        self.names: list[str] = []

    def get(self, name: str) -> CircuitBreakerProtocol | None:
        return self.breaker if name == "http-default" else None

    def get_or_create(self, name: str) -> CircuitBreakerProtocol:
        self.names.append(name)
        return self.breaker


async def test_registered_resilience_and_metrics_are_used(server: LocalServer) -> None:
    pipeline, policy, registry = CountingPipeline(), CountingPolicy(), Registry()
    recorder = InMemoryMetricsRecorder()
    providers = [
        provide(ResiliencePipelineProtocol, pipeline),
        provide(RetryPolicyProtocol, policy),
        provide(CircuitBreakerRegistryProtocol, registry),
        provide(MetricsRecorderProtocol, recorder),
    ]
    async with Application.boot(modules=[AppModule], providers=providers, environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert (await http.get(f"{server.base}/echo")).is_ok()
        assert (await http.post(f"{server.base}/v1/invoices", json={"amount_cents": 1})).is_ok()
        assert (await http.get(f"{server.base}/v1/invoices/inv_9")).is_err()

    assert pipeline.calls == 3
    assert policy.calls == 0  # the pipeline takes precedence
    assert registry.names == []  # ... and is the whole stack: its breaker is its own
    assert recorder.values("http.request.duration", "histogram") != []
    statuses = [r.tags for r in recorder.records if r.name == "http.request.status"]
    assert statuses == [
        {"method": "GET", "status": "200"},
        {"method": "POST", "status": "201"},
        {"method": "GET", "status": "404"},
    ]


async def test_a_retry_policy_is_used_when_no_pipeline(server: LocalServer) -> None:
    policy = CountingPolicy()
    providers = [provide(RetryPolicyProtocol, policy)]
    async with Application.boot(modules=[AppModule], providers=providers, environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        assert (await http.get(f"{server.base}/echo")).is_ok()
    assert policy.calls == 1


async def test_a_broken_registration_fails_the_boot_naming_it() -> None:
    not_a_recorder: Any = "not a recorder"
    broken = provide(MetricsRecorderProtocol, lambda _: not_a_recorder)
    with pytest.raises(BootError) as caught:
        await Application(modules=[AppModule], providers=[broken], environ={}).start()
    assert str(caught.value).startswith(
        "HTTPProvider failed to boot: TypeError: MetricsRecorderProtocol is registered, "
        "but resolves to a str, which does not implement it"
    )

"""``HTTPModule`` / ``HTTPProvider``: registration, boot-time wiring, lifecycle, failures.

No network here: every client gets a small in-memory transport (the seed samples in
``test_seed_samples.py`` talk to a real local server).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lexigram import Application
from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerProtocol,
    CircuitBreakerRegistryProtocol,
    CircuitState,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HttpResponse,
    InterceptorChainProtocol,
    RequestContext,
    StreamingResponseProtocol,
)
from lexigram.di import BootError, Container, DynamicModule, Provider, provide
from lexigram.di.module import Module, module
from lexigram.http import (
    ClientState,
    HTTPClient,
    HTTPClientConfig,
    HTTPModule,
    HTTPProvider,
    InterceptorChain,
    PoolConfig,
    RetryConfig,
)
from lexigram.result import Ok, Result

# -- doubles ------------------------------------------------------------------------------------


class MiniTransport:
    """The smallest ``HTTPTransportProtocol``: answers with scripted statuses, records sends."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.sent: list[tuple[str, str, int, dict[str, str]]] = []
        self.closed = False

    async def send(self, context: RequestContext) -> HttpResponse:
        self.sent.append((context.method, context.url, context.attempt, dict(context.headers)))
        status = self.statuses[min(len(self.sent), len(self.statuses)) - 1]
        return HttpResponse(status, url=context.url, method=context.method)

    async def send_stream(self, context: RequestContext) -> StreamingResponseProtocol:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


Operation = Callable[[int], Awaitable[HttpResponse]]


class CountingPipeline:
    """A ``ResiliencePipelineProtocol`` that runs one attempt and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def execute(self, request: RequestContext, operation: Operation) -> HttpResponse:
        self.calls.append(request.url)
        return await operation(1)


class TwiceRetryPolicy:
    """A ``RetryPolicyProtocol`` that always runs two attempts and keeps the second."""

    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, request: RequestContext, operation: Operation) -> HttpResponse:
        self.calls += 1
        await operation(1)
        return await operation(2)


class CountingBreaker:
    """A ``CircuitBreakerProtocol`` that admits everything and records each guarded attempt."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.keys: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    def state(self, key: str = "") -> CircuitState:
        return CircuitState.CLOSED

    async def call(
        self, key: str, operation: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        self.keys.append(key)
        return await operation()

    def isolate(self) -> None:
        pass

    def reset(self) -> None:
        pass


class Registry:
    """A ``CircuitBreakerRegistryProtocol`` that remembers which names were asked for."""

    def __init__(self) -> None:
        self.breakers: dict[str, CountingBreaker] = {}

    def get(self, name: str) -> CircuitBreakerProtocol | None:
        return self.breakers.get(name)

    def get_or_create(self, name: str) -> CircuitBreakerProtocol:
        return self.breakers.setdefault(name, CountingBreaker(name))


class Tagging:
    """An interceptor that adds a header."""

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Tag"] = "on"
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        return response


def stub_app(
    transport: MiniTransport,
    *providers: Provider,
    config: HTTPClientConfig | None = None,
) -> Application:
    @module(imports=[HTTPModule.stub(config, transport=transport)])
    class TestModule(Module):
        pass

    return Application(modules=[TestModule], providers=providers, environ={})


@pytest.fixture(autouse=True)
def _no_application_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Application reads application.yaml from the working directory: keep the repo's out.
    monkeypatch.chdir(tmp_path)


URL = "http://service.test/v1/items"


def state_of(client: HTTPClient) -> ClientState:
    """A call, so that mypy does not carry ``client.state`` narrowing across awaits."""
    return client.state


# -- registration and lifecycle ---------------------------------------------------------------


async def test_registers_one_client_under_both_keys() -> None:
    transport = MiniTransport()
    async with stub_app(transport) as app:
        client = await app.container.resolve(HTTPClient)
        assert await app.container.resolve(HTTPClientProtocol) is client
        assert isinstance(client, HTTPClientProtocol)
        assert client.transport is transport
        assert (await client.get(URL)).value.status == 200
    assert state_of(client) is ClientState.CLOSED
    assert transport.closed


async def test_the_client_is_built_at_boot_and_closed_at_shutdown() -> None:
    app = stub_app(MiniTransport())
    await app.start()
    provider = next(p for p in app.providers if isinstance(p, HTTPProvider))
    # Built during boot, before anyone resolved it: a broken registration fails the boot.
    (client,) = provider._clients
    assert client.state is ClientState.UNOPENED
    assert await app.container.resolve(HTTPClient) is client
    await app.stop()
    assert state_of(client) is ClientState.CLOSED
    assert provider._clients == []


async def test_configure_reads_file_and_environment_and_code_wins(tmp_path: Path) -> None:
    (tmp_path / "application.yaml").write_text(
        "http:\n  pool:\n    max_connections: 64\n    timeout: 20.0\n  proxy: http://file:1\n"
    )

    @module(imports=[HTTPModule.configure(HTTPClientConfig(proxy=None))])
    class AppModule(Module):
        pass

    environ = {"LEX_HTTP__POOL__TIMEOUT": "15.0"}
    async with Application(modules=[AppModule], environ=environ) as app:
        config = (await app.container.resolve(HTTPClient)).config
    assert config.pool.max_connections == 64  # file
    assert config.pool.timeout == 15.0  # environment over file
    assert config.proxy is None  # set explicitly in code: wins over the file
    assert config.trust_env is True  # default


async def test_stub_uses_its_config_only(tmp_path: Path) -> None:
    (tmp_path / "application.yaml").write_text("http:\n  pool:\n    timeout: 20.0\n")
    stub_config = HTTPClientConfig(pool=PoolConfig(max_connections=7, max_connections_per_host=7))

    @module(imports=[HTTPModule.stub(stub_config)])
    class TestModule(Module):
        pass

    environ = {"LEX_HTTP__TRUST_ENV": "false"}
    async with Application(modules=[TestModule], environ=environ) as app:
        config = (await app.container.resolve(HTTPClient)).config
    assert config == stub_config
    assert config.pool.timeout == 30.0
    assert config.trust_env is True


async def test_stub_still_validates_the_section(tmp_path: Path) -> None:
    (tmp_path / "application.yaml").write_text("http:\n  pool:\n    timeout: soon\n")

    @module(imports=[HTTPModule.stub()])
    class TestModule(Module):
        pass

    with pytest.raises(BootError, match=r"http\.pool\.timeout: .*application\.yaml line 3"):
        await Application(modules=[TestModule], environ={}).start()


async def test_stub_opens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions: list[object] = []
    real_session = aiohttp.ClientSession

    def counting_session(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        sessions.append(args)
        return real_session(*args, **kwargs)

    monkeypatch.setattr(aiohttp, "ClientSession", counting_session)

    @module(imports=[HTTPModule.stub()])
    class TestModule(Module):
        pass

    async with Application(modules=[TestModule], environ={}) as app:
        client = await app.container.resolve(HTTPClientProtocol)
        assert isinstance(client, HTTPClient)
        assert client.state is ClientState.UNOPENED
    assert state_of(client) is ClientState.CLOSED
    assert sessions == []


async def test_a_module_instance_serves_applications_one_after_another() -> None:
    transport_config = HTTPClientConfig()

    @module(imports=[HTTPModule.stub(transport_config)])
    class TestModule(Module):
        pass

    clients = []
    for _ in range(2):
        async with Application(modules=[TestModule], environ={}) as app:
            clients.append(await app.container.resolve(HTTPClient))
    first, second = clients
    assert first is not second
    assert state_of(first) is state_of(second) is ClientState.CLOSED


async def test_override_in_tests_replaces_the_protocol() -> None:
    class Fake(HTTPClientProtocol):
        async def get(self, url: str, **kwargs: Any) -> Result[HttpResponse, HTTPClientError]:
            return Ok(HttpResponse(299, url=url))

    async with stub_app(MiniTransport()) as app:
        app.container.override(HTTPClientProtocol, Fake())
        http = await app.container.resolve(HTTPClientProtocol)
        assert (await http.get(URL)).value.status == 299


async def test_a_failing_later_boot_closes_the_client() -> None:
    class Broken(Provider):
        async def boot(self, container: Container) -> None:
            raise RuntimeError("database down")

    transport = MiniTransport()
    app = stub_app(transport, Broken())
    with pytest.raises(BootError, match="Broken failed to boot"):
        await app.start()
    assert transport.closed


# -- module identity ---------------------------------------------------------------------------


def test_equal_configurations_are_one_import() -> None:
    assert HTTPModule.configure() == HTTPModule.configure(HTTPClientConfig())
    timeout = HTTPClientConfig(pool=PoolConfig(timeout=5.0))
    assert HTTPModule.configure(timeout) == HTTPModule.configure(
        HTTPClientConfig(pool=PoolConfig(timeout=5.0))
    )
    assert HTTPModule.configure(timeout) != HTTPModule.configure()
    # Equal for pydantic, yet the second overrides the file's proxy: not the same import.
    assert HTTPModule.configure(HTTPClientConfig()) != HTTPModule.configure(
        HTTPClientConfig(proxy=None)
    )
    assert HTTPModule.stub() != HTTPModule.configure()
    assert isinstance(HTTPModule.configure(), DynamicModule)
    assert repr(HTTPModule.configure(timeout)) == "HTTPModule(config=configure(pool.timeout=5.0))"


async def test_two_configurations_in_one_application_fail() -> None:
    @module(imports=[HTTPModule.configure(HTTPClientConfig(trust_env=False))])
    class A(Module):
        pass

    with pytest.raises(BootError, match="two different configurations"):
        await Application(modules=[A, HTTPModule.stub()], environ={}).start()


async def test_the_bare_class_registers_nothing_and_says_so() -> None:
    with pytest.raises(BootError, match="HTTPModule exports HTTPClient, but no provider"):
        await Application(modules=[HTTPModule], environ={}).start()


def test_provider_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="HTTPClientConfig"):
        HTTPProvider({"pool": {}})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="HTTPTransportProtocol"):
        HTTPProvider(transport=object())  # type: ignore[arg-type]
    assert HTTPProvider.config_key == "http"
    assert HTTPProvider.config_model is HTTPClientConfig


# -- what boot resolves ------------------------------------------------------------------------


async def test_nothing_registered_means_the_default_retry_policy() -> None:
    transport = MiniTransport(503, 200)
    config = HTTPClientConfig(retry=RetryConfig(backoff_base=0.001))
    async with stub_app(transport, config=config) as app:
        client = await app.container.resolve(HTTPClientProtocol)
        assert (await client.get(URL)).is_ok()
    assert [attempt for _, _, attempt, _ in transport.sent] == [1, 2]


async def test_a_pipeline_takes_every_request_and_wins_over_a_retry_policy() -> None:
    pipeline, policy = CountingPipeline(), TwiceRetryPolicy()
    transport = MiniTransport(503, 200)
    app = stub_app(
        transport,
        provide(ResiliencePipelineProtocol, pipeline),
        provide(RetryPolicyProtocol, policy),
    )
    async with app:
        client = await app.container.resolve(HTTPClientProtocol)
        assert (await client.get(URL)).is_err()  # one attempt: the pipeline does not retry
        assert (await client.post(URL)).is_ok()
    assert pipeline.calls == [URL, URL]
    assert policy.calls == 0
    assert len(transport.sent) == 2


async def test_a_retry_policy_is_used_without_a_pipeline() -> None:
    policy = TwiceRetryPolicy()
    transport = MiniTransport()
    async with stub_app(transport, provide(RetryPolicyProtocol, policy)) as app:
        client = await app.container.resolve(HTTPClientProtocol)
        assert (await client.post(URL)).is_ok()
    assert policy.calls == 1
    assert [attempt for _, _, attempt, _ in transport.sent] == [1, 2]


@pytest.mark.parametrize("with_pipeline", [False, True])
async def test_the_registry_gives_the_http_default_breaker_unless_a_pipeline_is_set(
    with_pipeline: bool,
) -> None:
    registry = Registry()
    extra = [provide(ResiliencePipelineProtocol, CountingPipeline())] if with_pipeline else []
    transport = MiniTransport(503, 200)
    # http.retry beside a pipeline would fail the boot (it would have no effect).
    config = None if with_pipeline else HTTPClientConfig(retry=RetryConfig(backoff_base=0.001))
    app = stub_app(
        transport, provide(CircuitBreakerRegistryProtocol, registry), *extra, config=config
    )
    async with app:
        client = await app.container.resolve(HTTPClientProtocol)
        await client.get(URL)
    if with_pipeline:
        # A pipeline is the whole stack: the registry is not consulted, so an attempt is never
        # counted twice by the same breaker (the pipeline's own and the client's).
        assert list(registry.breakers) == []
    else:
        assert list(registry.breakers) == ["http-default"]
        # Per attempt: two with the default retry policy.
        assert registry.breakers["http-default"].keys == ["http://service.test"] * 2


async def test_metrics_and_interceptors_are_wired() -> None:
    recorder = InMemoryMetricsRecorder()
    chain = InterceptorChain([Tagging()])
    transport = MiniTransport()
    app = stub_app(
        transport,
        provide(MetricsRecorderProtocol, recorder),
        provide(InterceptorChainProtocol, chain),
    )
    async with app:
        client = await app.container.resolve(HTTPClient)
        assert client.interceptors is chain
        await client.get(URL)
    assert transport.sent[0][3]["X-Tag"] == "on"
    names = {(record.kind, record.name) for record in recorder.records}
    assert names == {("histogram", "http.request.duration"), ("counter", "http.request.status")}
    status = next(r for r in recorder.records if r.name == "http.request.status")
    assert status.tags == {"method": "GET", "status": "200"}


async def test_registrations_are_resolved_from_factories_too() -> None:
    recorder = InMemoryMetricsRecorder()

    async def make_recorder(container: Container) -> MetricsRecorderProtocol:
        await asyncio.sleep(0)
        return recorder

    async with stub_app(MiniTransport(), provide(MetricsRecorderProtocol, make_recorder)) as app:
        await (await app.container.resolve(HTTPClient)).get(URL)
    assert recorder.values("http.request.status") == [1.0]


# -- broken registrations fail the boot --------------------------------------------------------


def _raising(container: Container) -> Any:
    raise ValueError("bad settings")


BROKEN: list[tuple[type[Any], Any]] = [
    (ResiliencePipelineProtocol, _raising),
    (RetryPolicyProtocol, _raising),
    (CircuitBreakerRegistryProtocol, _raising),
    (MetricsRecorderProtocol, _raising),
    (InterceptorChainProtocol, _raising),
]


@pytest.mark.parametrize(("key", "factory"), BROKEN, ids=lambda v: getattr(v, "__name__", ""))
async def test_a_raising_registration_fails_the_boot(key: type[Any], factory: Any) -> None:
    transport = MiniTransport()
    with pytest.raises(BootError) as caught:
        await stub_app(transport, provide(key, factory)).start()
    message = str(caught.value)
    assert message.startswith("HTTPProvider failed to boot: RuntimeError: ")
    assert f"{key.__name__} is registered, but resolving it failed: ValueError: bad settings" in (
        message
    )
    assert isinstance(caught.value.provider, HTTPProvider)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert isinstance(caught.value.__cause__.__cause__, ValueError)


class NotARecorder:
    def increment(self, name: str) -> None:
        pass


@pytest.mark.parametrize(
    ("key", "value", "missing"),
    [
        (ResiliencePipelineProtocol, object(), "execute"),
        (RetryPolicyProtocol, "retry", "execute"),
        (CircuitBreakerRegistryProtocol, object(), "get, get_or_create"),
        (MetricsRecorderProtocol, NotARecorder(), "gauge, histogram"),
        (InterceptorChainProtocol, [Tagging()], "add, intercept_request"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
async def test_a_registration_of_the_wrong_shape_fails_the_boot(
    key: type[Any], value: object, missing: str
) -> None:
    # Wrapped in a factory: provide() would take a callable value for a factory itself.
    with pytest.raises(BootError) as caught:
        await stub_app(MiniTransport(), provide(key, lambda _: value)).start()
    message = str(caught.value)
    assert f"TypeError: {key.__name__} is registered, but resolves to a {type(value).__name__}" in (
        message
    )
    assert f"(missing: {missing}" in message


async def test_a_registry_returning_a_non_breaker_fails_the_boot() -> None:
    class BadRegistry(Registry):
        def get_or_create(self, name: str) -> CircuitBreakerProtocol:
            return "breaker"  # type: ignore[return-value]

    with pytest.raises(BootError, match=r"get_or_create\('http-default'\) returned a str"):
        await stub_app(
            MiniTransport(), provide(CircuitBreakerRegistryProtocol, BadRegistry())
        ).start()


async def test_a_missing_dependency_of_a_registration_fails_the_boot() -> None:
    class Settings:
        pass

    async def pipeline(container: Container) -> ResiliencePipelineProtocol:
        await container.resolve(Settings)
        return CountingPipeline()

    with pytest.raises(BootError) as caught:
        await stub_app(MiniTransport(), provide(ResiliencePipelineProtocol, pipeline)).start()
    assert "ResiliencePipelineProtocol is registered, but resolving it failed: ResolutionError" in (
        str(caught.value)
    )
    assert "No provider for Settings" in str(caught.value)

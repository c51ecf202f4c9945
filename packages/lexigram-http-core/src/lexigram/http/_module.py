"""``HTTPModule`` and ``HTTPProvider``: the client in the DI container.

The provider registers one :class:`HTTPClient` under both ``HTTPClient`` and
``HTTPClientProtocol`` and builds it at boot, from what the container holds:

1. ``ResiliencePipelineProtocol`` (passed as ``pipeline=``), else ``RetryPolicyProtocol``
   (``retry_policy=``), else nothing: the client then runs its default retry policy
   (``http.retry``);
2. ``CircuitBreakerRegistryProtocol``, when no pipeline is registered: its ``"http-default"``
   breaker guards every attempt. A pipeline is the whole resilience stack (the seed: "retry +
   circuit breaker + bulkhead + timeout", taking precedence), so with one the registry is not
   consulted: wrapping each attempt again would count it twice in the same breaker;
3. ``MetricsRecorderProtocol`` (``metrics=``), ``HTTPObserverProtocol`` (``observer=``, e.g.
   from ``ObservabilityModule``) and ``InterceptorChainProtocol`` (``interceptors=``).

Named base-URL clients (``clients={KEY: BaseURLClientConfig(...)}``, ``http.clients.<name>``)
are built from the same registrations and closed at shutdown with the client.

Only absence falls back. A registration that raises when resolved, or resolves to an object
that does not implement its protocol, fails the boot with an error naming the protocol: a
misconfigured resilience stack must not silently turn into "no resilience".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerProtocol,
    CircuitBreakerRegistryProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import (
    HTTPClientProtocol,
    HttpResponse,
    HTTPTransportProtocol,
    InterceptorChainProtocol,
    RequestContext,
    StreamingResponseProtocol,
    is_sensitive_header,
    redact_url,
)
from lexigram.di import Container, DynamicModule, Key, Module, Provider, module
from lexigram.di.module import fields_set_in_code
from lexigram.http._base_url import BaseURLHTTPClient
from lexigram.http._client import HTTPClient
from lexigram.http._config import BaseURLClientConfig, HTTPClientConfig

__all__ = ["DEFAULT_BREAKER_NAME", "HTTPModule", "HTTPProvider"]

DEFAULT_BREAKER_NAME = "http-default"
"""The breaker the provider takes from a registered ``CircuitBreakerRegistryProtocol``."""

T = TypeVar("T")


class HTTPProvider(Provider):
    """Registers :class:`HTTPClient` (also as ``HTTPClientProtocol``) and owns its lifecycle.

    ``config`` fields set explicitly win over ``application.yaml`` and ``LEX_HTTP__*``; the
    others come from there (section ``http``). ``stub=True`` builds the client from ``config``
    (or the defaults) alone: the section is validated but not used. ``transport`` replaces
    the aiohttp transport (a mock in tests). The client opens no connection before its first
    request; ``shutdown`` closes it.
    """

    config_key = "http"
    config_model = HTTPClientConfig
    config: HTTPClientConfig | None

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        stub: bool = False,
        transport: HTTPTransportProtocol | None = None,
        clients: Mapping[Key[BaseURLHTTPClient], BaseURLClientConfig | None] | None = None,
    ) -> None:
        if config is not None and not isinstance(config, HTTPClientConfig):
            raise TypeError(f"config must be an HTTPClientConfig, got {type(config).__name__}")
        self.clients = _client_keys(clients)
        """The keys of the named base-URL clients, by name (``http.clients.<name>``)."""
        config = _with_clients(config, clients)
        if transport is not None and not isinstance(transport, HTTPTransportProtocol):
            raise TypeError(
                f"transport must implement HTTPTransportProtocol, got {type(transport).__name__}"
            )
        self.config = config
        # self.config becomes the effective section at start; a stub uses the code's alone.
        self._code_config = config
        self.stub = stub
        self.transport = transport
        # Clients built by boots of this provider and not shut down yet, newest last. A list,
        # not one slot: a provider declared in a module is shared by every Application built
        # from that module, and applications may nest (one per test inside a session one).
        self._clients: list[HTTPClient] = []
        # The named base-URL clients of each boot not shut down yet, newest last.
        self._named: list[list[BaseURLHTTPClient]] = []

    def register(self, container: Container) -> None:
        """Register the client's factory under ``HTTPClient`` and ``HTTPClientProtocol``."""
        if self.stub:
            config = self._code_config if self._code_config is not None else HTTPClientConfig()
        else:
            # The effective section: defaults < file < environment < fields set in code.
            config = self.config if self.config is not None else HTTPClientConfig()

        async def build(container: Container) -> HTTPClient:
            return await self._build(container, config)

        async def same_client(container: Container) -> HTTPClientProtocol:
            return await container.resolve(HTTPClient)

        container.singleton(HTTPClient, factory=build)
        container.singleton(HTTPClientProtocol, factory=same_client)
        unknown = sorted(set(config.clients) - set(self.clients))
        if unknown:
            raise ValueError(
                f"http.clients.{unknown[0]} is configured, but no key of that name is given: "
                f"pass clients={{Key[BaseURLHTTPClient]({unknown[0]!r}): ...}} to "
                "HTTPModule.configure() (or remove the section)"
            )
        for name, key in self.clients.items():
            container.singleton(key, factory=self._named_factory(name, config))

    def _named_factory(
        self, name: str, config: HTTPClientConfig
    ) -> Callable[[Container], Awaitable[BaseURLHTTPClient]]:
        settings = config.clients.get(name, BaseURLClientConfig())
        if settings.base_url is None:
            env = f"LEX_HTTP__CLIENTS__{name.upper()}__BASE_URL"
            raise ValueError(
                f"http.clients.{name}.base_url is required: set it in code "
                f"(BaseURLClientConfig(base_url=...)), in application.yaml or in {env}"
            )
        base_url = settings.base_url
        # The client's own pool and timeouts, as HTTPClient's; not its section of clients.
        shared = config.model_copy(update={"clients": {}})

        async def build(container: Container) -> BaseURLHTTPClient:
            kwargs = await self._wiring(container)
            if "transport" in kwargs:
                kwargs["transport"] = _Borrowed(kwargs["transport"])
            return BaseURLHTTPClient(
                base_url,
                headers=settings.headers,
                timeout=settings.timeout,
                config=shared,
                **kwargs,
            )

        return build

    async def boot(self, container: Container) -> None:
        """Build the clients now, so that a broken registration fails the boot, not a request."""
        await container.resolve(HTTPClient)
        named: list[BaseURLHTTPClient] = []
        self._named.append(named)
        for key in self.clients.values():
            named.append(await container.resolve(key))

    async def shutdown(self) -> None:
        """Close the clients built by the latest boot (their pools and connections)."""
        if self._named:
            for named in reversed(self._named.pop()):
                await named.aclose()
        if self._clients:
            await self._clients.pop().aclose()

    async def _build(self, container: Container, config: HTTPClientConfig) -> HTTPClient:
        kwargs = await self._wiring(container)
        client = HTTPClient(config, **kwargs)
        self._clients.append(client)
        return client

    async def _wiring(self, container: Container) -> dict[str, Any]:
        """The keyword arguments every client of this provider gets from the container."""
        kwargs: dict[str, Any] = {}
        pipeline = await _optional(container, ResiliencePipelineProtocol)
        if pipeline is not None:
            kwargs["pipeline"] = pipeline
        else:
            retry_policy = await _optional(container, RetryPolicyProtocol)
            if retry_policy is not None:
                kwargs["retry_policy"] = retry_policy
            registry = await _optional(container, CircuitBreakerRegistryProtocol)
            if registry is not None:
                kwargs["circuit_breaker"] = _breaker(registry)
        metrics = await _optional(container, MetricsRecorderProtocol)
        if metrics is not None:
            kwargs["metrics"] = metrics
        observer = await _optional(container, HTTPObserverProtocol)
        if observer is not None:
            kwargs["observer"] = observer
        interceptors = await _optional(container, InterceptorChainProtocol)
        if interceptors is not None:
            kwargs["interceptors"] = interceptors
        if self.transport is not None:
            kwargs["transport"] = self.transport
        return kwargs

    def __repr__(self) -> str:
        return f"HTTPProvider(stub={self.stub!r})" if self.stub else "HTTPProvider()"


async def _optional(container: Container, key: type[T] | Key[T]) -> T | None:
    """``key``'s registration if there is one; raises if it exists but is broken."""
    name = getattr(key, "__name__", repr(key))
    try:
        found = await container.resolve_optional(key)
    except Exception as exc:
        raise RuntimeError(
            f"{name} is registered, but resolving it failed: {type(exc).__name__}: {exc}"
        ) from exc
    if found is not None and isinstance(key, type) and not isinstance(found, key):
        raise TypeError(
            f"{name} is registered, but resolves to a {type(found).__name__}, which does not "
            f"implement it{_missing_members(found, key)}"
        )
    return found


def _breaker(registry: CircuitBreakerRegistryProtocol) -> CircuitBreakerProtocol:
    name = "CircuitBreakerRegistryProtocol"
    try:
        breaker = registry.get_or_create(DEFAULT_BREAKER_NAME)
    except Exception as exc:
        raise RuntimeError(
            f"{name}.get_or_create({DEFAULT_BREAKER_NAME!r}) failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(breaker, CircuitBreakerProtocol):
        raise TypeError(
            f"{name}.get_or_create({DEFAULT_BREAKER_NAME!r}) returned a "
            f"{type(breaker).__name__}, which does not implement CircuitBreakerProtocol"
            f"{_missing_members(breaker, CircuitBreakerProtocol)}"
        )
    return breaker


def _missing_members(obj: object, protocol: type) -> str:
    members: set[str] = set()
    for base in protocol.__mro__:
        if not getattr(base, "_is_protocol", False):
            continue
        names = (*vars(base), *getattr(base, "__annotations__", {}))
        members.update(name for name in names if not name.startswith("_"))
    missing = sorted(member for member in members if not hasattr(obj, member))
    return f" (missing: {', '.join(missing)})" if missing else ""


class _Borrowed:
    """A transport shared with the module's main client, which closes it: the named clients'
    ``aclose`` leaves it open (``HTTPModule.stub(transport=...)`` with named clients)."""

    __slots__ = ("_transport",)

    def __init__(self, transport: HTTPTransportProtocol) -> None:
        self._transport = transport

    def send(self, context: RequestContext) -> Awaitable[HttpResponse]:
        return self._transport.send(context)

    def send_stream(self, context: RequestContext) -> Awaitable[StreamingResponseProtocol]:
        return self._transport.send_stream(context)

    async def aclose(self) -> None:
        pass


def _client_keys(
    clients: Mapping[Key[BaseURLHTTPClient], BaseURLClientConfig | None] | None,
) -> dict[str, Key[BaseURLHTTPClient]]:
    keys: dict[str, Key[BaseURLHTTPClient]] = {}
    for key, settings in (clients or {}).items():
        if not isinstance(key, Key):
            raise TypeError(
                f"clients keys must be Key[BaseURLHTTPClient](name) objects, not {key!r}"
            )
        if settings is not None and not isinstance(settings, BaseURLClientConfig):
            raise TypeError(
                f"clients[{key!r}] must be a BaseURLClientConfig or None, "
                f"not {type(settings).__name__}"
            )
        if key.name in keys:
            raise ValueError(f"two client keys are named {key.name!r}")
        keys[key.name] = key
    return keys


def _with_clients(
    config: HTTPClientConfig | None,
    clients: Mapping[Key[BaseURLHTTPClient], BaseURLClientConfig | None] | None,
) -> HTTPClientConfig | None:
    """``config`` with the code's settings of the named clients under ``clients``.

    Only the fields set in code are carried, so the file and environment fill in the rest.
    """
    if not clients:
        return config
    data = {} if config is None else config.model_dump(exclude_unset=True)
    named = data.setdefault("clients", {})
    for key, settings in clients.items():
        named[key.name] = {} if settings is None else settings.model_dump(exclude_unset=True)
    return HTTPClientConfig.model_validate(data)


@dataclass(frozen=True, slots=True)
class _Identity:
    """What tells two ``HTTPModule`` configurations apart: the fields set in code.

    Not the config model itself: pydantic compares values only, so ``HTTPClientConfig()`` and
    ``HTTPClientConfig(proxy=None)`` are equal, yet the second overrides the file's proxy.
    """

    kind: str
    fields: tuple[tuple[str, object], ...]
    transport: object = None
    keys: tuple[object, ...] = ()

    def __repr__(self) -> str:
        args = [f"{path}={_shown(path, value)!r}" for path, value in self.fields]
        if self.transport is not None:
            args.append(f"transport={self.transport!r}")
        return f"{self.kind}({', '.join(args)})"


def _shown(path: str, value: object) -> object:
    """A configuration value as a repr may show it: credentials redacted."""
    parts = path.split(".")
    if len(parts) >= 2 and parts[-2] == "headers" and is_sensitive_header(parts[-1]):
        return "[REDACTED]"
    if isinstance(value, str) and (parts[-1] in ("base_url", "proxy")):
        return redact_url(value)
    return value


def _identity(
    kind: str,
    config: HTTPClientConfig | None,
    transport: object = None,
    keys: Mapping[str, object] | None = None,
) -> _Identity:
    return _Identity(kind, fields_set_in_code(config), transport, tuple((keys or {}).values()))


@module(exports=[HTTPClient, HTTPClientProtocol])
class HTTPModule(Module):
    """The HTTP client as a module: ``@module(imports=[HTTPModule.configure(...)])``.

    Exports ``HTTPClient`` and ``HTTPClientProtocol``. Import a configuration of it
    (``configure()`` or ``stub()``), not the bare class: the class alone registers nothing,
    and the boot fails saying so. Two configurations count as one import when they set the
    same fields to the same values.
    """

    @classmethod
    def configure(
        cls,
        config: HTTPClientConfig | None = None,
        *,
        clients: Mapping[Key[BaseURLHTTPClient], BaseURLClientConfig | None] | None = None,
    ) -> DynamicModule:
        """The client with ``config``; its explicitly set fields win over file and env.

        ``clients`` adds named base-URL clients: ``{OPENAI: BaseURLClientConfig(base_url=...)}``
        with ``OPENAI = Key[BaseURLHTTPClient]("openai")``; their settings also come from
        ``http.clients.openai`` (file, ``LEX_HTTP__CLIENTS__OPENAI__...``), code winning field
        by field (``None``: all from there). Each one is built with the same resilience,
        metrics and interceptors as the main client, resolved by its key, and closed at
        shutdown.
        """
        provider = HTTPProvider(config, clients=clients)
        identity = _identity("configure", provider._code_config, keys=provider.clients)
        return DynamicModule(cls, providers=[provider], config=identity)

    @classmethod
    def stub(
        cls,
        config: HTTPClientConfig | None = None,
        *,
        transport: HTTPTransportProtocol | None = None,
        clients: Mapping[Key[BaseURLHTTPClient], BaseURLClientConfig | None] | None = None,
    ) -> DynamicModule:
        """The client for tests: ``config`` (default: the defaults) and no outbound traffic.

        Values from ``application.yaml`` and the environment are not used (the ``http``
        section is still validated, so a broken file fails here too). Nothing is opened
        until a request is made; ``transport`` (a mock) keeps even those off the network.
        The client closes ``transport`` at shutdown: give each application its own.
        Interceptors, resilience and metrics registered in the container are wired as usual.
        Named ``clients`` (as in :meth:`configure`, from code only) send through
        ``transport`` too.
        """
        provider = HTTPProvider(config, stub=True, transport=transport, clients=clients)
        identity = _identity("stub", provider._code_config, transport, provider.clients)
        return DynamicModule(cls, providers=[provider], config=identity)

"""``ResilienceModule`` and ``ResilienceProvider``: the resilience stack in the DI container.

The provider owns the ``resilience:`` configuration section and registers, built once per
container at boot:

- ``ResiliencePipelineProtocol`` (and ``ResiliencePipeline``): the standard pipeline;
- ``RetryPolicyProtocol`` (and ``RetryPolicy``): the pipeline's own retry policy;
- ``CircuitBreakerRegistryProtocol`` (and ``CircuitBreakerRegistry``): holds the pipeline's
  breaker as ``"http-default"``.

``HTTPProvider`` then picks the pipeline up (it takes precedence over the retry policy) and
guards each attempt with the ``"http-default"`` breaker, which recognises it is already inside
its pipeline stage and counts each attempt once. A ``MetricsRecorderProtocol`` and an
``HTTPObserverProtocol`` in the container are used when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lexigram.contracts.observability import HTTPObserverProtocol, MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerRegistryProtocol,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.contracts.web import redact_url
from lexigram.di import Container, DynamicModule, Factory, Key, Module, Provider, module
from lexigram.di.module import fields_set_in_code
from lexigram.resilience._circuit import (
    DEFAULT_BREAKER_NAME,
    CircuitBreakerRegistry,
)
from lexigram.resilience._config import CircuitBreakerConfig, ResilienceConfig, RetryConfig
from lexigram.resilience._pipeline import ResiliencePipeline
from lexigram.resilience._redis_limit import RedisRateLimiter
from lexigram.resilience._retry import RetryPolicy

__all__ = ["ResilienceModule", "ResilienceProvider"]


@dataclass(frozen=True, slots=True)
class _Stack:
    pipeline: ResiliencePipeline
    retry_policy: RetryPolicy
    registry: CircuitBreakerRegistry


_STACK: Final = Key[_Stack]("lexigram.resilience.stack")


class ResilienceProvider(Provider):
    """Registers the standard pipeline, its retry policy and a breaker registry.

    ``config`` fields set explicitly win over ``application.yaml`` and ``LEX_RESILIENCE__*``;
    the others come from there (section ``resilience``). A ``MetricsRecorderProtocol``
    registered in the container is resolved when the stack is built, at boot.
    """

    config_key = "resilience"
    config_model = ResilienceConfig
    config: ResilienceConfig | None

    def __init__(self, config: ResilienceConfig | None = None) -> None:
        if config is not None and not isinstance(config, ResilienceConfig):
            raise TypeError(f"config must be a ResilienceConfig, got {type(config).__name__}")
        self.config = config
        self._stack: _Stack | None = None

    def register(self, container: Container) -> None:
        """Register the factories; nothing is built before boot."""
        config = self.config if self.config is not None else ResilienceConfig()

        async def build(container: Container) -> _Stack:
            metrics = await container.resolve_optional(MetricsRecorderProtocol)
            observer = await container.resolve_optional(HTTPObserverProtocol)
            registry = CircuitBreakerRegistry(
                config.circuit_breaker, metrics=metrics, observer=observer
            )
            breaker = registry.get_or_create(DEFAULT_BREAKER_NAME)
            pipeline = ResiliencePipeline.standard(
                config, breaker=breaker, metrics=metrics, observer=observer
            )
            retry = next(
                (s for s in pipeline.strategies if isinstance(s, RetryPolicy)), None
            ) or RetryPolicy(config.retry.model_copy(update={"enabled": False}), metrics=metrics)
            return _Stack(pipeline, retry, registry)

        _register_stack(container, build)

    async def boot(self, container: Container) -> None:
        """Build the stack now, so that a problem fails the boot rather than a request."""
        self._stack = await container.resolve(_STACK)

    async def shutdown(self) -> None:
        """Close what the stack opened (the fleet limiter's Redis client)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            for strategy in stack.pipeline.strategies:
                if isinstance(strategy, RedisRateLimiter):
                    await strategy.aclose()

    def __repr__(self) -> str:
        return "ResilienceProvider()"


class _StubProvider(Provider):
    """``ResilienceModule.stub()``: pass-through pipeline, single attempt, inert breakers."""

    def register(self, container: Container) -> None:
        def build(container: Container) -> _Stack:
            inert = CircuitBreakerConfig(enabled=False)
            registry = CircuitBreakerRegistry(inert)
            registry.get_or_create(DEFAULT_BREAKER_NAME)
            return _Stack(ResiliencePipeline(), RetryPolicy(RetryConfig(enabled=False)), registry)

        _register_stack(container, build)

    def __repr__(self) -> str:
        return "ResilienceProvider(stub=True)"


def _register_stack(container: Container, build: Factory[_Stack]) -> None:
    container.singleton(_STACK, factory=build)

    async def pipeline(container: Container) -> ResiliencePipeline:
        return (await container.resolve(_STACK)).pipeline

    async def retry_policy(container: Container) -> RetryPolicy:
        return (await container.resolve(_STACK)).retry_policy

    async def registry(container: Container) -> CircuitBreakerRegistry:
        return (await container.resolve(_STACK)).registry

    container.singleton(ResiliencePipeline, factory=pipeline)
    container.singleton(ResiliencePipelineProtocol, factory=pipeline)
    container.singleton(RetryPolicy, factory=retry_policy)
    container.singleton(RetryPolicyProtocol, factory=retry_policy)
    container.singleton(CircuitBreakerRegistry, factory=registry)
    container.singleton(CircuitBreakerRegistryProtocol, factory=registry)


@dataclass(frozen=True, slots=True)
class _Identity:
    """What tells two configurations apart: the fields set in code (not pydantic equality,
    which would make ``ResilienceConfig()`` equal to one that pins a field to its default)."""

    kind: str
    fields: tuple[tuple[str, object], ...]

    def __repr__(self) -> str:
        # A Redis URL may carry a password: shown redacted.
        args = ", ".join(f"{path}={_shown(path, value)!r}" for path, value in self.fields)
        return f"{self.kind}({args})"


def _shown(path: str, value: object) -> object:
    return redact_url(value) if path.endswith("url") and isinstance(value, str) else value


def _identity(config: ResilienceConfig | None) -> _Identity:
    return _Identity("configure", fields_set_in_code(config))


@module(exports=[ResiliencePipelineProtocol, RetryPolicyProtocol, CircuitBreakerRegistryProtocol])
class ResilienceModule(Module):
    """The resilience stack as a module: ``imports=[ResilienceModule.configure()]``.

    Exports ``ResiliencePipelineProtocol``, ``RetryPolicyProtocol`` and
    ``CircuitBreakerRegistryProtocol``. Import a configuration of it (``configure()`` or
    ``stub()``), not the bare class, which registers nothing.
    """

    @classmethod
    def configure(cls, config: ResilienceConfig | None = None) -> DynamicModule:
        """The standard pipeline for ``config``; its explicitly set fields win over file and env."""
        return DynamicModule(cls, providers=[ResilienceProvider(config)], config=_identity(config))

    @classmethod
    def stub(cls) -> DynamicModule:
        """For tests: a pipeline that passes through (one attempt, no breaker, no sleeps)."""
        return DynamicModule(cls, providers=[_StubProvider()], config="stub")

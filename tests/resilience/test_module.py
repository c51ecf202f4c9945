"""ResilienceModule / ResilienceProvider: registration, configuration, stub, metrics."""

from __future__ import annotations

import pytest

from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricsRecorderProtocol
from lexigram.contracts.resilience import (
    CircuitBreakerRegistryProtocol,
    CircuitState,
    ResiliencePipelineProtocol,
    RetryPolicyProtocol,
)
from lexigram.di import Application, BootError, ConfigError, Module, module, provide
from lexigram.resilience import (
    CircuitBreaker,
    CircuitBreakerRegistry,
    ResilienceConfig,
    ResilienceModule,
    ResiliencePipeline,
    RetryConfig,
    RetryPolicy,
    TimeoutConfig,
)
from tests.resilience._support import ORIGIN, Script, request


def boot(*modules: object, environ: dict[str, str] | None = None, **kwargs: object) -> Application:
    return Application.boot(
        modules=modules,  # type: ignore[arg-type]
        environ=environ or {},
        **kwargs,  # type: ignore[arg-type]
    )


async def test_boot_resolves_the_three_protocols() -> None:
    async with boot(ResilienceModule.configure()) as app:
        pipeline = await app.container.resolve(ResiliencePipelineProtocol)
        retry = await app.container.resolve(RetryPolicyProtocol)
        registry = await app.container.resolve(CircuitBreakerRegistryProtocol)
        assert isinstance(pipeline, ResiliencePipeline)
        assert isinstance(retry, RetryPolicy)
        assert isinstance(registry, CircuitBreakerRegistry)
        # One stack: the pipeline's retry and breaker are the registered ones.
        breaker = registry.get("http-default")
        assert isinstance(breaker, CircuitBreaker)
        assert pipeline.strategies == (retry, breaker)
        assert await app.container.resolve(ResiliencePipeline) is pipeline
        assert await app.container.resolve(RetryPolicy) is retry
        assert await app.container.resolve(CircuitBreakerRegistry) is registry


async def test_the_environment_configures_the_section() -> None:
    environ = {
        "LEX_RESILIENCE__RETRY__MAX_ATTEMPTS": "5",
        "LEX_RESILIENCE__CIRCUIT_BREAKER__FAILURE_RATIO": "0.25",
    }
    async with boot(ResilienceModule.configure(), environ=environ) as app:
        retry = await app.container.resolve(RetryPolicy)
        assert retry.max_attempts == 5
        registry = await app.container.resolve(CircuitBreakerRegistry)
        breaker = registry.get_or_create("http-default")
        assert breaker.config.failure_ratio == 0.25


async def test_the_config_file_configures_the_section(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "application.yaml"
    path.write_text("resilience:\n  timeout:\n    total: 20\n    attempt: 5\n")
    async with boot(ResilienceModule.configure(), config_file=path) as app:
        pipeline = await app.container.resolve(ResiliencePipeline)
        names = [type(s).__name__ for s in pipeline.strategies]
        assert names == ["TotalTimeout", "RetryPolicy", "CircuitBreaker", "AttemptTimeout"]


async def test_fields_set_in_code_win_over_the_environment() -> None:
    environ = {"LEX_RESILIENCE__RETRY__MAX_ATTEMPTS": "5", "LEX_RESILIENCE__RETRY__JITTER": "none"}
    config = ResilienceConfig(retry=RetryConfig(max_attempts=2))
    async with boot(ResilienceModule.configure(config), environ=environ) as app:
        retry = await app.container.resolve(RetryPolicy)
        assert retry.max_attempts == 2
        assert retry.config.jitter == "none"


async def test_bad_configuration_fails_the_boot_with_the_key_path() -> None:
    environ = {"LEX_RESILIENCE__RETRY__MAX_ATTEMPTS": "many"}
    with pytest.raises(ConfigError, match=r"resilience\.retry\.max_attempts"):
        async with boot(ResilienceModule.configure(), environ=environ):
            pass
    environ = {"LEX_RESILIENCE__TIMEOUT__TOTAL": "5", "LEX_RESILIENCE__TIMEOUT__ATTEMPT": "10"}
    with pytest.raises(ConfigError, match=r"exceeds timeout\.total"):
        async with boot(ResilienceModule.configure(), environ=environ):
            pass


async def test_a_metrics_recorder_in_the_container_is_used() -> None:
    metrics = InMemoryMetricsRecorder()
    config = ResilienceConfig.model_validate(
        {"circuit_breaker": {"minimum_throughput": 1}, "retry": {"max_attempts": 1}}
    )
    async with boot(
        ResilienceModule.configure(config),
        providers=[provide(MetricsRecorderProtocol, metrics)],
    ) as app:
        pipeline = await app.container.resolve(ResiliencePipelineProtocol)
        await pipeline.execute(request(), Script(503))
    assert metrics.values("resilience.circuit.state") == [1.0]


async def test_the_stub_passes_through() -> None:
    async with boot(ResilienceModule.stub()) as app:
        pipeline = await app.container.resolve(ResiliencePipelineProtocol)
        server = Script(503)
        for _ in range(50):
            assert (await pipeline.execute(request(), server)).status == 503
        assert server.calls == 50  # one attempt each, and no breaker opened
        retry = await app.container.resolve(RetryPolicyProtocol)
        assert (await retry.execute(request(), Script(503, 200))).status == 503
        registry = await app.container.resolve(CircuitBreakerRegistryProtocol)
        breaker = registry.get("http-default")
        assert breaker is not None
        for _ in range(50):
            await breaker.call(ORIGIN, Script(503).call)
        assert breaker.state(ORIGIN) is CircuitState.CLOSED


async def test_the_stub_ignores_the_environment() -> None:
    environ = {"LEX_RESILIENCE__RETRY__MAX_ATTEMPTS": "not a number"}
    async with boot(ResilienceModule.stub(), environ=environ):
        pass


async def test_a_module_can_import_it() -> None:
    @module(imports=[ResilienceModule.configure()])
    class AppModule(Module):
        pass

    async with boot(AppModule) as app:
        assert app.container.has(ResiliencePipelineProtocol)


async def test_two_different_configurations_conflict() -> None:
    other = ResilienceConfig(timeout=TimeoutConfig(total=10))

    @module(imports=[ResilienceModule.configure(other)])
    class AppModule(Module):
        pass

    with pytest.raises(BootError, match="two different configurations"):
        async with boot(AppModule, ResilienceModule.configure()):
            pass
    async with boot(AppModule, ResilienceModule.configure(other)):
        pass  # equal configurations count once


async def test_the_conflict_message_redacts_a_redis_password() -> None:
    from lexigram.resilience import RedisConfig

    secret = ResilienceConfig(redis=RedisConfig(url="redis://user:hunter2pass@127.0.0.1:1/0"))

    @module(imports=[ResilienceModule.configure(secret)])
    class AppModule(Module):
        pass

    with pytest.raises(BootError, match="two different configurations") as caught:
        async with boot(AppModule, ResilienceModule.configure()):
            pass
    assert "hunter2pass" not in str(caught.value)
    assert "redis.url=" in str(caught.value)


async def test_the_bare_class_registers_nothing() -> None:
    with pytest.raises(BootError, match="exports ResiliencePipelineProtocol"):
        async with boot(ResilienceModule):
            pass


def test_the_provider_checks_its_config() -> None:
    from lexigram.resilience import ResilienceProvider

    with pytest.raises(TypeError, match="ResilienceConfig"):
        ResilienceProvider({"retry": {}})  # type: ignore[arg-type]
    assert ResilienceProvider.config_key == "resilience"
    assert ResilienceProvider.config_model is ResilienceConfig

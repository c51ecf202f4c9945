"""Configuration: layers, precedence, and errors that name the key path and the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from lexigram.di import Application, BootError, ConfigError, Container, Provider


class PoolSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    max_connections: int = Field(default=100, ge=1)
    timeout: float = 30.0


class HttpSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    pool: PoolSettings = PoolSettings()
    proxy: str | None = None
    trust_env: bool = True
    region: str = "eu"


@pytest.fixture(autouse=True)
def _empty_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # application.yaml is looked up in the working directory: never read a stray one.
    monkeypatch.chdir(tmp_path)


class HttpProvider(Provider):
    config_key = "http"
    config_model = HttpSettings

    def __init__(self, config: HttpSettings | None = None) -> None:
        self.config = config
        self.seen_in_register: Any = None

    def register(self, container: Container) -> None:
        self.seen_in_register = self.config
        container.singleton(HttpSettings, self.config)


class RawProvider(Provider):
    config_key = "feature"


async def _settings(tmp_path: Path, provider: HttpProvider | None = None, **kwargs: Any) -> Any:
    provider = provider or HttpProvider()
    kwargs.setdefault("environ", {})
    async with Application.boot(providers=[provider], **kwargs) as app:
        settings = await app.container.resolve(HttpSettings)
        assert provider.seen_in_register is settings  # the config is set before register()
        return settings


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert await _settings(tmp_path) == HttpSettings()


async def test_application_yaml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "application.yaml", "http:\n  pool:\n    timeout: 12.5\n")
    monkeypatch.chdir(tmp_path)
    settings = await _settings(tmp_path)
    assert settings.pool == PoolSettings(timeout=12.5)


async def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "application.yaml",
        "http:\n"
        "  pool:\n"
        "    max_connections: 10\n"
        "    timeout: 20.0\n"
        "  proxy: http://file.proxy:8080\n"
        "  region: file\n"
        "  trust_env: false\n",
    )
    _write(tmp_path / "application.prod.yaml", "http:\n  region: profile\n  proxy: null\n")
    environ = {"LEX_HTTP__REGION": "env", "LEX_HTTP__POOL__TIMEOUT": "15.0"}
    provider = HttpProvider(HttpSettings(pool=PoolSettings(timeout=5.0)))
    settings = await _settings(
        tmp_path, provider, config_file=config, profile="prod", environ=environ
    )
    assert settings == HttpSettings(
        pool=PoolSettings(max_connections=10, timeout=5.0),  # file, then code
        proxy=None,  # file, then profile
        region="env",  # file, profile, then environment
        trust_env=False,  # file only
    )


async def test_code_fields_win_only_where_set(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http:\n  region: file\n")
    environ = {"LEX_HTTP__POOL__MAX_CONNECTIONS": "7"}
    provider = HttpProvider(HttpSettings(region="code", pool=PoolSettings()))
    settings = await _settings(tmp_path, provider, config_file=config, environ=environ)
    # pool=PoolSettings() sets no pool field explicitly: the environment still applies.
    assert settings == HttpSettings(region="code", pool=PoolSettings(max_connections=7))


async def test_profile_from_lex_profile(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http:\n  region: base\n")
    _write(tmp_path / "application.staging.yaml", "http:\n  region: staging\n")
    environ = {"LEX_PROFILE": "staging"}
    app = Application(providers=[HttpProvider()], config_file=config, environ=environ)
    async with app:
        settings = await app.container.resolve(HttpSettings)
    assert settings.region == "staging"
    assert app.profile == "staging"


async def test_missing_profile_file_is_fine(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http:\n  region: base\n")
    settings = await _settings(tmp_path, config_file=config, profile="nowhere")
    assert settings.region == "base"


async def test_environment_values_are_yaml_scalars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEX_HTTP__POOL__TIMEOUT", "15.0")
    monkeypatch.setenv("LEX_HTTP__TRUST_ENV", "false")
    monkeypatch.setenv("LEX_HTTP__PROXY", "null")
    monkeypatch.setenv("LEX_HTTP__REGION", "no")  # YAML 1.2 booleans: stays a string
    app = Application(providers=[HttpProvider()])  # environ=None reads os.environ
    async with app:
        settings = await app.container.resolve(HttpSettings)
    assert settings == HttpSettings(
        pool=PoolSettings(timeout=15.0), trust_env=False, proxy=None, region="no"
    )
    assert app.config["http"]["pool"] == {"timeout": 15.0}


async def test_raw_section_without_a_model(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "feature:\n  flags: [a, b]\n")
    provider = RawProvider()
    environ = {"LEX_FEATURE__LEVEL": "3", "LEX_FEATURE__WHEN": "2024-01-01", "LEX_PROFILE": "x"}
    async with Application.boot(providers=[provider], config_file=config, environ=environ) as app:
        assert provider.config == {"flags": ["a", "b"], "level": 3, "when": "2024-01-01"}
        assert "profile" not in app.config


async def test_bad_value_names_key_path_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "application.yaml",
        "# HTTP client\nhttp:\n  region: eu\n  pool:\n    max_connections: 10\n    timeout: fast\n",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        await _settings(tmp_path)
    assert str(info.value) == (
        "http.pool.timeout: Input should be a valid number, unable to parse string as a number "
        "(from application.yaml line 6)"
    )
    assert isinstance(info.value, BootError)
    assert isinstance(info.value, ValueError)


async def test_bad_value_in_the_profile_file_names_that_file(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http:\n  pool:\n    max_connections: 5\n")
    profile_file = _write(
        tmp_path / "application.prod.yaml", "\nhttp:\n  pool:\n    max_connections: 0\n"
    )
    with pytest.raises(ConfigError) as info:
        await _settings(tmp_path, config_file=config, profile="prod")
    assert str(info.value) == (
        "http.pool.max_connections: Input should be greater than or equal to 1 "
        f"(from {profile_file} line 4)"
    )


async def test_bad_value_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http:\n  pool:\n    timeout: 3.0\n")
    environ = {"LEX_HTTP__POOL__TIMEOUT": "soon"}
    with pytest.raises(ConfigError) as info:
        await _settings(tmp_path, config_file=config, environ=environ)
    assert str(info.value).startswith("http.pool.timeout: Input should be a valid number")
    assert str(info.value).endswith("(from environment variable LEX_HTTP__POOL__TIMEOUT)")


async def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "application.yaml", "http:\n  pool:\n    timeout: 1.0\n    tiemout: 2.0\n"
    )
    environ = {"LEX_HTTP__COLOUR": "blue"}
    with pytest.raises(ConfigError) as info:
        await _settings(tmp_path, config_file=config, environ=environ)
    assert info.value.errors == (
        f"http.pool.tiemout: Unknown key (from {config} line 4)",
        "http.colour: Unknown key (from environment variable LEX_HTTP__COLOUR)",
    )
    assert str(info.value) == "\n".join(info.value.errors)


async def test_code_source_is_named(tmp_path: Path) -> None:
    provider = HttpProvider()
    provider.config = {"pool": {"timeout": "never"}}  # a mapping counts as set in code
    with pytest.raises(ConfigError, match=r"^http.pool.timeout: .* \(set in code\)$"):
        await _settings(tmp_path, provider)


async def test_config_of_the_wrong_type(tmp_path: Path) -> None:
    provider = HttpProvider()
    provider.config = 42
    with pytest.raises(ConfigError, match=r"^HttpProvider.config: expected a HttpSettings"):
        await _settings(tmp_path, provider)


async def test_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "http: 5\n")
    with pytest.raises(ConfigError, match=rf"^http: Input should be .* \(from {config} line 1\)$"):
        await _settings(tmp_path, config_file=config)


async def test_yaml_syntax_error_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "application.yaml", "http:\n  pool:\n    timeout: [1.0\n  proxy: x\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        await _settings(tmp_path)
    assert str(info.value).startswith("application.yaml line 4: invalid YAML: ")


async def test_yaml_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "- http\n- db\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        await _settings(tmp_path, config_file=config)


async def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        await _settings(tmp_path, config_file=tmp_path / "missing.yaml")


async def test_empty_file_and_unclaimed_sections_are_fine(tmp_path: Path) -> None:
    config = _write(tmp_path / "application.yaml", "")
    assert await _settings(tmp_path, config_file=config) == HttpSettings()
    config = _write(tmp_path / "application.yaml", "database:\n  url: x\n")
    assert await _settings(tmp_path, config_file=config) == HttpSettings()


async def test_config_errors_come_before_any_register(tmp_path: Path) -> None:
    provider = HttpProvider()
    environ = {"LEX_HTTP__POOL__MAX_CONNECTIONS": "0"}
    app = Application(providers=[provider], environ=environ)
    with pytest.raises(ConfigError):
        await app.start()
    assert provider.seen_in_register is None


async def test_a_shared_provider_instance_keeps_only_its_code_fields(tmp_path: Path) -> None:
    # Module-level provider instances are shared by every application built from the module:
    # the first application's file and environment must not leak into the next one as "code".
    provider = HttpProvider(HttpSettings(region="code"))
    first = await _settings(tmp_path, provider, environ={"LEX_HTTP__POOL__TIMEOUT": "1.0"})
    assert first == HttpSettings(region="code", pool=PoolSettings(timeout=1.0))
    second = await _settings(tmp_path, provider, environ={})
    assert second == HttpSettings(region="code")

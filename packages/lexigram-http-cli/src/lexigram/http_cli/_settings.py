"""The ``http:`` and ``resilience:`` sections, read exactly as an application reads them.

The layers (``application.yaml`` or ``--config``, the ``application.{profile}.yaml`` overlay,
``LEX_*`` variables) come from lexigram-di's loader, and each section is validated by the same
provider code the application boots, so values, sources and errors are the application's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lexigram import Application
from lexigram.di import ConfigError
from lexigram.di._config import DEFAULT_CONFIG_FILE, Layers, load, resolve_section
from lexigram.http import HTTPClientConfig, HTTPModule, HTTPProvider
from lexigram.http_cli._redact import Scrubber
from lexigram.resilience import ResilienceConfig, ResilienceModule, ResilienceProvider

__all__: list[str] = []

_PROFILE_VAR = "LEX_PROFILE"


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective sections and the layers they were read from."""

    http: HTTPClientConfig
    resilience: ResilienceConfig
    layers: Layers


def load_settings(
    config_file: str | os.PathLike[str] | None,
    environ: Mapping[str, str],
    *,
    retries: int | None = None,
) -> Settings:
    """Read and validate both sections; :class:`ConfigError` lists every problem.

    ``retries`` (the ``--retries`` option) replaces ``resilience.retry.max_attempts - 1``.
    """
    # No --config: the working directory's application.yaml, as the application's default.
    file = DEFAULT_CONFIG_FILE if config_file is None else config_file
    layers = load(file, environ.get(_PROFILE_VAR) or None, environ)
    http = HTTPProvider()
    resilience = ResilienceProvider()
    errors = [*resolve_section(http, layers), *resolve_section(resilience, layers)]
    if errors:
        raise ConfigError("\n".join(errors), errors=errors)
    assert isinstance(http.config, HTTPClientConfig)
    assert isinstance(resilience.config, ResilienceConfig)
    resilience_config = resilience.config
    if retries is not None:
        if retries < 0:
            raise ConfigError(f"--retries: must be 0 or more, got {retries}")
        data = resilience_config.model_dump()
        data["retry"]["max_attempts"] = retries + 1
        data["retry"]["enabled"] = retries > 0
        try:
            resilience_config = ResilienceConfig.model_validate(data)
        except ValueError as exc:
            raise ConfigError(f"--retries {retries}: {exc}") from exc
    return Settings(http.config, resilience_config, layers)


async def validate_by_booting(config_file: str | os.PathLike[str]) -> None:
    """Boot an application with the HTTP and resilience modules on ``config_file``.

    Raises what the boot raises (``ConfigError`` for bad configuration); the client opens no
    connection, and everything started is shut down again.
    """
    app = Application(
        modules=[HTTPModule.configure(), ResilienceModule.configure()], config_file=config_file
    )
    await app.start()
    await app.stop()


@dataclass(frozen=True, slots=True)
class Row:
    """One effective value and where it came from."""

    key: str
    value: str
    source: str


def rows(settings: Settings, scrubber: Scrubber) -> list[Row]:
    """Every leaf value of both sections with its source, secrets redacted."""
    found: list[Row] = []
    for section, model in (("http", settings.http), ("resilience", settings.resilience)):
        data = model.model_dump(mode="json")
        for path, value in _leaves(data, (section,)):
            found.append(
                Row(
                    ".".join(map(str, path)),
                    _show(path, value, scrubber),
                    _source(settings.layers, path),
                )
            )
    return found


def _leaves(data: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, str(key)))
    else:
        yield path, data


def _show(path: tuple[str, ...], value: Any, scrubber: Scrubber) -> str:
    if isinstance(value, list):
        value = sorted(value, key=str)
    if value is not None and scrubber.enabled and scrubber.is_sensitive_name(path[-1]):
        return "[REDACTED]"
    if isinstance(value, str):
        return repr(scrubber.url(value)) if "://" in value else repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _source(layers: Layers, path: tuple[str, ...]) -> str:
    """``file:line``, ``env NAME`` or ``default``; a value whose parent was replaced whole
    (not a mapping in the file) takes the parent's source."""
    found = layers.sources.get(path)
    if found is None:
        node: Any = layers.data
        for end in range(1, len(path)):
            node = node.get(path[end - 1]) if isinstance(node, dict) else None
            if node is not None and not isinstance(node, dict):
                found = layers.sources.get(path[:end])
                break
    if found is None:
        return "default"
    prefix = "environment variable "
    if found.startswith(prefix):
        return f"env {found[len(prefix) :]}"
    where, sep, line = found.rpartition(" line ")
    if sep and line.isdigit():
        return f"{where}:{line}"
    return found

"""The documentation's module registration, verbatim (indentation restored), then its checks.

Type-checked by ``mypy --strict`` unchanged; ``tests/core/test_seed_samples.py`` boots the
same declaration against a local server.
"""
# ruff: noqa: I001  (the seed's import order is kept verbatim)

from lexigram import Application
from lexigram.di.module import Module, module
from lexigram.http import HTTPModule, HTTPClientConfig


@module(imports=[HTTPModule.configure(HTTPClientConfig())])
class AppModule(Module):
    pass


# -- Tests (not part of the seed) --------------------------------------------------------------

from pathlib import Path  # noqa: E402
from typing import assert_type  # noqa: E402

import pytest  # noqa: E402

from lexigram.contracts.web import HTTPClientProtocol  # noqa: E402
from lexigram.di import DynamicModule  # noqa: E402
from lexigram.http import HTTPClient, HTTPProvider  # noqa: E402


async def test_the_declaration_imports_one_configured_http_module() -> None:
    (imported,) = AppModule.imports
    assert isinstance(imported, DynamicModule)
    assert imported.module is HTTPModule
    (provider,) = imported.providers
    assert isinstance(provider, HTTPProvider)
    assert imported == HTTPModule.configure()  # nothing set in code: file and env decide


async def test_the_booted_module_resolves_typed_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no application.yaml but the defaults
    async with Application.boot(modules=[AppModule], environ={}) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        client = await app.container.resolve(HTTPClient)
        assert_type(http, HTTPClientProtocol)
        assert_type(client, HTTPClient)
        assert_type(client.config, HTTPClientConfig)
        assert http is client

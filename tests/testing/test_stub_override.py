"""The one-line test override of the app's ``HTTPModule.configure()`` (issue 18)."""

from __future__ import annotations

import pytest

from lexigram import Application
from lexigram.contracts.web import HTTPClientProtocol
from lexigram.di import BootError, Module, module
from lexigram.http import HTTPClientConfig, HTTPModule, PoolConfig
from lexigram.testing.http import MockTransport, Router


@module(imports=[HTTPModule.configure(HTTPClientConfig(pool=PoolConfig(timeout=5.0)))])
class AppModule(Module):
    pass


async def test_the_stub_overrides_the_apps_configuration(http_router: Router) -> None:
    http_router.get("https://api.example.com/ping").respond(200, json={"ok": True})
    async with Application.boot(
        [AppModule],
        config_file=None,
        overrides=[HTTPModule.stub(transport=MockTransport(http_router))],
    ) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        result = await http.get("https://api.example.com/ping")
    assert result.unwrap().json == {"ok": True}


async def test_next_to_the_app_module_the_stub_conflicts() -> None:
    # What the issue saw: modules=[AppModule, HTTPModule.stub()] is two configurations.
    with pytest.raises(BootError, match="two different configurations"):
        await Application([AppModule, HTTPModule.stub()], config_file=None).start()

"""One source of truth for retries: ``http.retry`` is never silently overridden (issue 18).

``http.retry`` configures the client's default retry policy. With a pipeline or a retry policy
(``ResilienceModule``) the retries are configured there, under ``resilience.retry``; setting
``http.retry`` as well fails the boot naming both keys instead of being ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lexigram.contracts.web import HTTPClientProtocol, HTTPRetryExhaustedError, HTTPStatusError
from lexigram.di import Application, BootError
from lexigram.http import HTTPClient, HTTPClientConfig, HTTPModule, RetryConfig
from lexigram.resilience import ResilienceModule, ResiliencePipeline, RetryPolicy


@pytest.fixture
async def failing() -> AsyncIterator[tuple[list[str], str]]:
    """A server that always answers 503, recording each hit."""
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/x", handler)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield hits, f"http://127.0.0.1:{server.port}/x"
    finally:
        await server.close()


@pytest.fixture
def no_file(tmp_path: Path) -> Path:
    empty = tmp_path / "application.yaml"
    empty.write_text("")
    return empty


async def test_http_retry_alone_configures_the_default_policy(
    failing: tuple[list[str], str], no_file: Path
) -> None:
    hits, url = failing
    env = {"LEX_HTTP__RETRY__MAX_ATTEMPTS": "1"}
    async with Application.boot([HTTPModule.configure()], config_file=no_file, environ=env) as app:
        http = await app.container.resolve(HTTPClientProtocol)
        result = await http.get(url)
    assert isinstance(result.error, HTTPStatusError)
    assert len(hits) == 1


async def test_http_retry_beside_the_resilience_module_fails_the_boot_naming_both_keys(
    failing: tuple[list[str], str], no_file: Path
) -> None:
    hits, _ = failing
    env = {"LEX_HTTP__RETRY__MAX_ATTEMPTS": "1"}
    app = Application(
        [ResilienceModule.configure(), HTTPModule.configure()], config_file=no_file, environ=env
    )
    with pytest.raises(BootError) as caught:
        await app.start()
    message = str(caught.value)
    assert "http.retry.max_attempts is set" in message
    assert "resilience.retry.max_attempts" in message
    assert hits == []


async def test_resilience_retry_is_the_one_key_with_the_module(
    failing: tuple[list[str], str], no_file: Path
) -> None:
    hits, url = failing
    env = {"LEX_RESILIENCE__RETRY__MAX_ATTEMPTS": "2"}
    modules = [ResilienceModule.configure(), HTTPModule.configure()]
    async with Application.boot(modules, config_file=no_file, environ=env) as app:
        http = await app.container.resolve(HTTPClient)
        with pytest.raises(HTTPRetryExhaustedError):
            await http.get(url)
    assert len(hits) == 2


def test_the_constructor_refuses_http_retry_with_a_pipeline_or_a_policy() -> None:
    config = HTTPClientConfig(retry=RetryConfig(enabled=False, backoff_max=1.0))
    expected = r"http\.retry\.backoff_max, http\.retry\.enabled is set, but .* pipeline"
    with pytest.raises(ValueError, match=expected):
        HTTPClient(config, pipeline=ResiliencePipeline())
    with pytest.raises(ValueError, match=r"resilience\.retry\.enabled"):
        HTTPClient(config, retry_policy=RetryPolicy())
    # Defaults are not "set": a pipeline with the default config is fine.
    HTTPClient(HTTPClientConfig(), pipeline=ResiliencePipeline())

"""Logs a person can read: silent by default, levels that fit, messages that stand alone."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

import lexigram.http
from lexigram.contracts.web import HTTPStatusError
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from tests.core.support import serve

NO_RETRY = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
LOGGER = "lexigram.http.client"


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="no")


@pytest.fixture
async def base() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/status/{code}", _status)
    async with serve(app) as url:
        yield url


def test_the_package_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger(lexigram.http.__name__).handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)


def test_a_script_without_logging_configured_prints_nothing() -> None:
    # A fresh interpreter: Python's last-resort handler prints WARNING records to stderr
    # unless the library's logger has a handler of its own.
    script = textwrap.dedent(
        """
        import asyncio
        from aiohttp import web
        from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig

        async def status(request):
            return web.Response(status=int(request.match_info["code"]))

        async def main():
            app = web.Application()
            app.router.add_get("/status/{code}", status)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            config = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
            async with HTTPClient(config) as client:
                for code in (404, 503):
                    result = await client.get(f"http://127.0.0.1:{port}/status/{code}")
                    assert result.is_err()
            await runner.cleanup()

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


async def test_a_handled_4xx_is_info_and_a_5xx_a_warning(
    base: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lexigram.http")
    async with HTTPClient(NO_RETRY) as client:
        not_found = await client.get(f"{base}/status/404")
        unavailable = await client.get(f"{base}/status/503")
    assert isinstance(not_found.error, HTTPStatusError)
    assert isinstance(unavailable.error, HTTPStatusError)
    info, warning = (record for record in caplog.records if record.name == LOGGER)
    assert info.levelno == logging.INFO
    assert warning.levelno == logging.WARNING


async def test_the_default_formatter_shows_a_whole_message(
    base: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lexigram.http")
    url = f"{base}/status/404?api_key=s3cret"
    async with HTTPClient(NO_RETRY) as client:
        await client.get(url)
    (record,) = (record for record in caplog.records if record.name == LOGGER)
    line = logging.Formatter(logging.BASIC_FORMAT).format(record)
    assert line == (
        f"INFO:{LOGGER}:http.client.error_response: GET {base}/status/404?api_key=[REDACTED]"
        " answered 404 Not Found (attempt 1)"
    )
    # The structured fields stay available to structured handlers.
    assert record.__dict__["event"] == "http.client.error_response"
    assert record.__dict__["http_status"] == 404
    assert "s3cret" not in line

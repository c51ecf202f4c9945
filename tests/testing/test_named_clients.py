"""Named base-URL clients built by the container (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from lexigram import Application
from lexigram.contracts.observability import InMemoryMetricsRecorder, MetricsRecorderProtocol
from lexigram.contracts.web import InterceptorChainProtocol, InterceptorProtocol, RequestContext
from lexigram.di import BootError, ConfigError, Key, provide
from lexigram.http import (
    BaseURLClientConfig,
    BaseURLHTTPClient,
    ClientState,
    HTTPClient,
    HTTPModule,
    InterceptorChain,
    RetryConfig,
)
from lexigram.http import HTTPClientConfig as Config
from lexigram.testing.http import MockTransport, Router

OPENAI: Final = Key[BaseURLHTTPClient]("openai")
BILLING: Final = Key[BaseURLHTTPClient]("billing")


class Stamp(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Stamp"] = str(context.attempt)
        return context


async def test_a_named_client_is_wired_like_the_main_one_and_closed_at_shutdown() -> None:
    router = Router()
    route = router.get("https://llm.example.com/v1/models").sequence(503, 200)
    recorder = InMemoryMetricsRecorder()
    settings = BaseURLClientConfig(
        base_url="https://llm.example.com/v1",
        headers={"Authorization": "Bearer sk-test"},
        timeout=12.0,
    )
    module = HTTPModule.stub(
        Config(retry=RetryConfig(backoff_base=0.001)),
        transport=MockTransport(router),
        clients={OPENAI: settings},
    )
    async with Application.boot(
        [module],
        providers=[
            provide(MetricsRecorderProtocol, recorder),
            provide(InterceptorChainProtocol, InterceptorChain([Stamp()])),
        ],
        config_file=None,
        environ={},
    ) as app:
        llm: BaseURLHTTPClient = await app.container.resolve(OPENAI)
        main = await app.container.resolve(HTTPClient)
        assert llm.timeout == 12.0
        response = await llm.get("/models")
        assert response.status == 200
        # Default retry policy (two attempts), interceptors per attempt, default headers.
        assert [call.headers["X-Stamp"] for call in route.calls] == ["1", "2"]
        assert route.calls.last.headers["Authorization"] == "Bearer sk-test"
        # Metrics per attempt, through the container's recorder.
        statuses = [r.tags["status"] for r in recorder.records if r.name == "http.request.status"]
        assert statuses == ["503", "200"]
    assert llm.state is ClientState.CLOSED
    assert main.state is ClientState.CLOSED


async def test_settings_come_from_code_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "application.yaml"
    config.write_text(
        "http:\n"
        "  clients:\n"
        "    openai:\n"
        "      base_url: https://file.example.com/v1\n"
        "      headers: {OpenAI-Beta: assistants=v2}\n"
        "      timeout: 5\n"
        "    billing:\n"
        "      base_url: https://billing.example.com\n"
    )
    env = {"LEX_HTTP__CLIENTS__OPENAI__TIMEOUT": "60"}
    clients = {OPENAI: BaseURLClientConfig(headers={"Authorization": "Bearer k"}), BILLING: None}
    async with Application.boot(
        [HTTPModule.configure(clients=clients)], config_file=config, environ=env
    ) as app:
        llm = await app.container.resolve(OPENAI)
        billing = await app.container.resolve(BILLING)
        assert llm.base_url == "https://file.example.com/v1"
        assert llm.timeout == 60.0  # environment over file
        # Code wins field by field: its header joins the file's (merged by name).
        assert dict(llm.headers) == {"OpenAI-Beta": "assistants=v2", "Authorization": "Bearer k"}
        assert billing.base_url == "https://billing.example.com"


async def test_a_named_client_without_a_base_url_fails_the_boot() -> None:
    module = HTTPModule.configure(clients={OPENAI: None})
    with pytest.raises(BootError, match=r"http\.clients\.openai\.base_url is required") as caught:
        await Application([module], config_file=None, environ={}).start()
    assert "LEX_HTTP__CLIENTS__OPENAI__BASE_URL" in str(caught.value)


async def test_a_configured_client_without_a_key_fails_the_boot() -> None:
    env = {"LEX_HTTP__CLIENTS__OPNEAI__BASE_URL": "https://x.example.com"}
    module = HTTPModule.configure(clients={OPENAI: BaseURLClientConfig(base_url="https://a.b")})
    with pytest.raises(BootError, match=r"http\.clients\.opneai is configured, but no key"):
        await Application([module], config_file=None, environ=env).start()


async def test_bad_client_settings_name_the_key() -> None:
    env = {"LEX_HTTP__CLIENTS__OPENAI__BASE_URL": "ftp://x.example.com"}
    module = HTTPModule.configure(clients={OPENAI: None})
    with pytest.raises(
        ConfigError, match=r"http\.clients\.openai\.base_url: .*http:// or https://"
    ):
        await Application([module], config_file=None, environ=env).start()


def test_credentials_never_show_in_reprs_or_conflicts() -> None:
    settings = BaseURLClientConfig(
        base_url="https://user:pw@llm.example.com/v1?api_key=k1",
        headers={"Authorization": "Bearer sk-secret", "OpenAI-Beta": "v2"},
    )
    shown = repr(settings)
    for secret in ("sk-secret", "pw", "k1"):
        assert secret not in shown
    assert "v2" in shown
    identity = repr(HTTPModule.configure(clients={OPENAI: settings}))
    for secret in ("sk-secret", ":pw@", "k1"):
        assert secret not in identity

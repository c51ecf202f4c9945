"""Property test: a secret put anywhere in a request or a response never leaks.

Hypothesis generates secrets and where they go (sensitive headers, query parameters, URL
user-info, a ``Set-Cookie`` answer, form and JSON body keys named like secrets) and how the
call fails (error status, refused connection, malformed response, redirect loop, invalid
redirect, exhausted retries, a dropped stream). Each example runs against real loopback
servers, then checks that no secret appears in: the log records of every logger at DEBUG
(message and structured fields), ``str`` / ``repr`` of the error and of any response it
carries, ``traceback.format_exception`` and everything reachable through ``__cause__`` /
``__context__``, and the error's pickle.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import SENSITIVE_HEADERS, HTTPClientError
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from lexigram.http._transport import AiohttpTransport
from lexigram.result import Err
from tests.core.support import LOOPBACK, LocalServer, closed_port
from tests.core.test_security_edges import raw_server, reachable_text

MODES = (
    "status",
    "refused",
    "malformed",
    "redirect-loop",
    "invalid-location",
    "retry-exhausted",
    "stream-drop",
)
QUERY_NAMES = ("api_key", "token", "signature", "access_token", "client_secret", "sig")
BODY_KEYS = ("password", "api_key", "secret", "token")
# The servers below are test infrastructure: their own logs are not the client's.
SERVER_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web")

secrets = st.text(alphabet=string.ascii_letters + string.digits, min_size=10, max_size=20).map(
    lambda tail: f"Zq{tail}"
)


@dataclass
class Plan:
    mode: str
    header: str | None
    header_secret: str
    query: str | None
    query_secret: str
    userinfo_secret: str | None
    cookie_secret: str
    body: str | None
    body_secret: str

    @property
    def secrets(self) -> list[str]:
        found = [self.header_secret, self.query_secret, self.cookie_secret, self.body_secret]
        if self.userinfo_secret is not None:
            found.append(self.userinfo_secret)
        return found


plans = st.builds(
    Plan,
    mode=st.sampled_from(MODES),
    header=st.none() | st.sampled_from(sorted(SENSITIVE_HEADERS - {"set-cookie"})),
    header_secret=secrets,
    query=st.none() | st.sampled_from(QUERY_NAMES),
    query_secret=secrets,
    userinfo_secret=st.none() | secrets,
    cookie_secret=secrets,
    body=st.none() | st.sampled_from(("form", "json")),
    body_secret=secrets,
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(SERVER_LOGGERS):
            return
        # The message and every field, structured ``extra`` included.
        self.texts.append(f"{record.getMessage()} {record.__dict__!r}")


@contextmanager
def captured_logs() -> Iterator[_Records]:
    root = logging.getLogger()
    handler = _Records()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _url(base: str, path: str, plan: Plan) -> str:
    url = f"{base}{path}"
    if plan.userinfo_secret is not None:
        url = url.replace("://", f"://user:{plan.userinfo_secret}@", 1)
    if plan.query is not None:
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}{plan.query}={plan.query_secret}&page=2"
    return url


async def _scenario(plan: Plan) -> list[Any]:
    """Run the failing call; return what must be checked (errors and responses)."""

    async def fail(request: web.Request) -> web.Response:
        return web.Response(
            status=int(request.query.get("status", "500")),
            text="failed",
            headers={"Set-Cookie": f"session={plan.cookie_secret}; Path=/"},
        )

    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.path_qs})

    async def bad_location(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://exa mple.test/"})

    routes = [web.get("/fail", fail), web.get("/loop", loop), web.get("/bad", bad_location)]
    headers = {} if plan.header is None else {plan.header: plan.header_secret}
    body: dict[str, Any] = {}
    key = BODY_KEYS[len(plan.body_secret) % len(BODY_KEYS)]
    if plan.body == "form":
        body["data"] = {key: plan.body_secret}
    elif plan.body == "json":
        body["json"] = {key: plan.body_secret}

    async def no_sleep(delay: float) -> None:
        return None

    retry = RetryConfig(max_attempts=2 if plan.mode == "retry-exhausted" else 1)
    config = HTTPClientConfig(trust_env=False, retry=retry)
    found: list[Any] = []
    async with LocalServer(extra_routes=routes) as server:
        path = {
            "status": "/fail",
            "redirect-loop": "/loop",
            "invalid-location": "/bad",
            "retry-exhausted": "/fail?status=503",
            "stream-drop": "/drop",
        }.get(plan.mode, "/")
        url = _url(server.url, path, plan)
        if plan.mode == "refused":
            url = _url(f"http://{LOOPBACK}:{closed_port()}", "/", plan)
        async with HTTPClient(config, transport=AiohttpTransport(config), sleep=no_sleep) as http:
            try:
                if plan.mode == "malformed":
                    async with raw_server(b"HTTP/1.1 abc Broken\r\n\r\n") as raw:
                        base = "http://" + raw.split("@")[1].split("/")[0]
                        result = await http.request(
                            "PUT", _url(base, "/x", plan), headers=headers, **body
                        )
                elif plan.mode == "stream-drop":
                    async with http.stream("GET", url, headers=headers, **body) as response:
                        found.append(response)
                        await response.aread()
                    result = None
                else:
                    result = await http.request("PUT", url, headers=headers, **body)
            except HTTPClientError as exc:
                found.append(exc)
            else:
                if isinstance(result, Err):
                    found.append(result.error)
                elif result is not None:
                    found.append(result.value)
    for item in list(found):
        for name in ("response", "last_response", "last_error"):
            value = getattr(item, name, None)
            if value is not None:
                found.append(value)
    return found


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(plan=plans)
def test_no_secret_leaks_anywhere(plan: Plan) -> None:
    with captured_logs() as logs:
        found = asyncio.run(_scenario(plan))

    assert found, plan
    assert any(isinstance(item, HTTPClientError) for item in found), (plan, found)
    texts = list(logs.texts)
    for item in found:
        texts += [str(item), repr(item)]
        if isinstance(item, BaseException):
            texts.append(reachable_text(item))
            if isinstance(item, HTTPClientError):
                texts.append(repr(pickle.dumps(item)))
    everything = "\n".join(texts)
    for secret in plan.secrets:
        assert secret not in everything, (plan, secret)
        assert quote(secret) not in everything, (plan, secret)

"""Repeated response headers keep each field line: ``headers.get_list(name)``.

Two ``Set-Cookie`` lines whose dates contain commas cannot be split back out of the joined
value; a real aiohttp server sends them, and every response type the client hands out keeps
them apart (the testing package's responses are checked in ``tests/testing``).
"""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from multidict import CIMultiDict

from lexigram.contracts.web import Headers, HttpResponse
from lexigram.http import BaseURLHTTPClient, HTTPClient, HTTPClientConfig, RetryConfig
from tests.core.support import serve

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

CONFIG = HTTPClientConfig(trust_env=False, cookie_jar=False, retry=RetryConfig(enabled=False))
COOKIES = [
    "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/",
    "b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT; HttpOnly",
]


async def _cookies(request: web.Request) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for cookie in COOKIES:
        headers.add("Set-Cookie", cookie)
    headers.add("Vary", "Accept")
    headers.add("vary", "Accept-Encoding, Origin")
    return web.Response(text="ok", headers=headers)


@pytest.fixture
async def base() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/cookies", _cookies)
    async with serve(app) as url:
        yield url


def _check(headers: Headers) -> None:
    assert headers.get_list("set-cookie") == COOKIES
    assert headers["Set-Cookie"] == ", ".join(COOKIES)  # the joined view is unchanged
    assert headers.get_list("Vary") == ["Accept", "Accept-Encoding, Origin"]
    assert headers.get_list("Content-Type") == ["text/plain; charset=utf-8"]
    assert headers.get_list("X-Absent") == []


async def test_verbs_keep_each_field_line(base: str) -> None:
    async with HTTPClient(CONFIG) as client:
        response = (await client.get(f"{base}/cookies")).unwrap()
    _check(response.headers)
    assert [value for name, value in response.headers.multi_items() if name == "Set-Cookie"] == (
        COOKIES
    )


async def test_streams_keep_each_field_line(base: str) -> None:
    async with (
        HTTPClient(CONFIG) as client,
        client.stream("GET", f"{base}/cookies") as response,
    ):
        _check(response.headers)
        _check(response.head.headers)


async def test_base_url_clients_keep_each_field_line(base: str) -> None:
    async with BaseURLHTTPClient(base, config=CONFIG) as client:
        response = await client.get("/cookies")
    _check(response.headers)


def test_headers_built_from_pairs_keep_lines_through_copies_and_pickles() -> None:
    headers = Headers([("Set-Cookie", COOKIES[0]), ("set-cookie", COOKIES[1]), ("X", "1")])
    assert headers.get_list("Set-Cookie") == COOKIES
    assert headers.copy().get_list("Set-Cookie") == COOKIES
    assert headers.as_readonly().get_list("Set-Cookie") == COOKIES
    assert pickle.loads(pickle.dumps(headers)).get_list("Set-Cookie") == COOKIES
    response = HttpResponse(200, headers=headers)
    assert response.headers.get_list("set-cookie") == COOKIES
    # Setting a name replaces all of its lines; deleting removes them.
    headers["Set-Cookie"] = "c=3"
    assert headers.get_list("Set-Cookie") == ["c=3"]
    headers.add("Set-Cookie", "d=4")
    assert headers.get_list("Set-Cookie") == ["c=3", "d=4"]
    del headers["set-cookie"]
    assert headers.get_list("Set-Cookie") == []

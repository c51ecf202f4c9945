"""``lexigram.http`` exports its public surface, sorted, and nothing is forgotten."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import lexigram.http

# Private modules whose public names are the package's API. The transport's helpers
# (_connector, _deadline) are internals; _module joins with the DI integration.
API_MODULES = [
    "_base_url",
    "_client",
    "_config",
    "_decoders",
    "_interceptors",
    "_multipart",
    "_observe",
    "_request",
    "_retry",
    "_speedups",
    "_stream",
    "_transport",
]

# Re-exported from lexigram.contracts.web for convenience (httpx-style: one import).
FROM_CONTRACTS = {
    "ClientClosedError",
    "HTTPBlockedAddressError",
    "HTTPCircuitOpenError",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPDecodeError",
    "HTTPEventStreamError",
    "HTTPInterceptorError",
    "HTTPRedirectError",
    "HTTPRetryExhaustedError",
    "HTTPStatusError",
    "HTTPStreamDisconnectedError",
    "HTTPStreamError",
    "HTTPStreamLimitError",
    "HTTPTimeoutError",
    "HTTPUsageError",
    "Headers",
    "HttpResponse",
    "InvalidHeaderError",
    "InvalidURLError",
    "RequestBody",
    "RequestContext",
    "ServerSentEvent",
    "TimeoutPhase",
}


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 enforces: CONSTANTS, then Classes, then functions.
    if re.fullmatch(r"[A-Z0-9_]+", name) and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_and_unique() -> None:
    exported = lexigram.http.__all__
    assert exported == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)


def test_all_is_complete() -> None:
    defined: set[str] = set()
    for name in API_MODULES:
        defined |= set(importlib.import_module(f"lexigram.http.{name}").__all__)
    exported = set(lexigram.http.__all__)
    assert defined <= exported
    # HTTPModule / HTTPProvider are exported once lexigram.http._module is wired in.
    assert exported - defined - {"HTTPModule", "HTTPProvider"} == FROM_CONTRACTS


@pytest.mark.parametrize("name", lexigram.http.__all__)
def test_every_export_resolves_and_has_a_docstring(name: str) -> None:
    obj = getattr(lexigram.http, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), name


@pytest.mark.parametrize(
    "cls",
    [
        lexigram.http.BaseURLHTTPClient,
        lexigram.http.DefaultRetryPolicy,
        lexigram.http.HTTPClient,
        lexigram.http.InterceptorChain,
        lexigram.http.LineDecoder,
        lexigram.http.NDJSONDecoder,
        lexigram.http.SSEDecoder,
        lexigram.http.SSEReconnect,
        lexigram.http.StreamResponse,
    ],
)
def test_public_members_have_docstrings(cls: type) -> None:
    for name, member in vars(cls).items():
        public = not name.startswith("_")
        if public and (inspect.isfunction(member) or isinstance(member, property)):
            assert inspect.getdoc(member), f"{cls.__name__}.{name}"


def test_the_seed_imports_that_concern_the_client() -> None:
    from lexigram.http import BaseURLHTTPClient, HTTPClientConfig

    assert BaseURLHTTPClient.__module__ == "lexigram.http._base_url"
    assert HTTPClientConfig().pool.timeout == 30.0


def test_the_package_has_a_docstring() -> None:
    assert lexigram.http.__doc__

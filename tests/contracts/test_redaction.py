"""Redaction of URLs and headers."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lexigram.contracts.web import (
    REDACTED,
    SENSITIVE_HEADERS,
    SENSITIVE_QUERY_PARAMS,
    Headers,
    Redactor,
    is_sensitive_header,
    redact_headers,
    redact_url,
)


def test_constants() -> None:
    assert REDACTED == "[REDACTED]"
    assert {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    } == SENSITIVE_HEADERS
    assert {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "signature",
        "sig",
        "secret",
        "client_secret",
        "password",
        "auth",
    } == SENSITIVE_QUERY_PARAMS
    assert all(name == name.lower() for name in SENSITIVE_HEADERS | SENSITIVE_QUERY_PARAMS)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@h/x", f"https://{REDACTED}@h/x"),
        ("https://token@github.com/o/r.git", f"https://{REDACTED}@github.com/o/r.git"),
        ("https://u:p@ss@h:8443/x", f"https://{REDACTED}@h:8443/x"),
        ("//u:p@h/x", f"//{REDACTED}@h/x"),
        ("https://h/x?token=abc", f"https://h/x?token={REDACTED}"),
        ("https://h/x?page=2&api_key=k&q=a", f"https://h/x?page=2&api_key={REDACTED}&q=a"),
        ("https://h/x?TOKEN=abc&Sig=1", f"https://h/x?TOKEN={REDACTED}&Sig={REDACTED}"),
        ("https://h/x?api%5Fkey=k", f"https://h/x?api%5Fkey={REDACTED}"),
        ("https://h/x?a=1;secret=s", f"https://h/x?a=1;secret={REDACTED}"),
        ("https://h/cb#access_token=t&x=1", f"https://h/cb#access_token={REDACTED}&x=1"),
        ("https://h/x?q=1#token=t", f"https://h/x?q=1#token={REDACTED}"),
        (
            "https://u:p@h/p?password=pw&keep=yes#frag",
            f"https://{REDACTED}@h/p?password={REDACTED}&keep=yes#frag",
        ),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://h/path",
        "https://h/x?page=2&q=caf%C3%A9+x",
        "https://h/x?token=",  # nothing to hide
        "https://h/x?token",  # a flag without a value
        "https://h/@scope/pkg",  # "@" in the path is not user-info
        "https://h/x?next=a@b",  # "@" in the query is not user-info
        "mailto:someone@example.com",
        "https://h/x?keys=1&tokens=2",  # similar names are not sensitive
        "https://h/x#section-2",
        "",
    ],
)
def test_redact_url_leaves_harmless_urls_byte_identical(url: str) -> None:
    assert redact_url(url) == url


def test_fast_path_returns_the_same_object() -> None:
    url = "https://api.example.com/v1/invoices/inv_1"
    assert redact_url(url) is url


def test_leading_whitespace_does_not_hide_user_info() -> None:
    assert redact_url("  https://u:p@h/") == f"  https://{REDACTED}@h/"


@pytest.mark.parametrize(
    "garbage",
    [
        "http://[::1",
        "://@",
        "@@@",
        "?&&==;;",
        "http://%zz@h",
        "\x00@\x00?\x00",
        "#?@",
        "a" * 10_000,
    ],
)
def test_redact_url_never_raises_on_garbage(garbage: str) -> None:
    assert isinstance(redact_url(garbage), str)


def test_redact_url_fails_closed_on_non_strings() -> None:
    assert redact_url(b"https://u:p@h") == REDACTED  # type: ignore[arg-type]
    assert redact_url(None) == REDACTED  # type: ignore[arg-type]


@given(st.text())
def test_redact_url_never_raises_property(url: str) -> None:
    assert isinstance(redact_url(url), str)


@given(st.text(alphabet=st.characters(blacklist_characters="@?#")))
def test_urls_without_markers_are_unchanged_property(url: str) -> None:
    assert redact_url(url) is url


@given(st.text(min_size=1, alphabet=st.characters(blacklist_characters="@/?#&;=")))
def test_user_info_never_survives_property(password: str) -> None:
    redacted = redact_url(f"https://user:{password}@host/path")
    assert redacted == f"https://{REDACTED}@host/path"


def test_redaction_is_idempotent() -> None:
    once = redact_url("https://u:p@h/x?token=t")
    assert redact_url(once) == once


@pytest.mark.parametrize("name", ["Authorization", "authorization", "X-API-KEY", "Set-Cookie"])
def test_is_sensitive_header(name: str) -> None:
    assert is_sensitive_header(name)


def test_is_not_sensitive_header() -> None:
    assert not is_sensitive_header("Accept")
    assert not is_sensitive_header("X-Request-Id")


def test_redact_headers_from_mapping_pairs_and_headers() -> None:
    expected = {"Authorization": REDACTED, "Accept": "*/*"}
    assert redact_headers({"Authorization": "Bearer t", "Accept": "*/*"}) == expected
    assert redact_headers([("Authorization", "Bearer t"), ("Accept", "*/*")]) == expected
    assert redact_headers(Headers({"Authorization": "Bearer t", "Accept": "*/*"})) == expected


def test_redact_headers_redacts_urls_in_location_headers() -> None:
    redacted = redact_headers({"Location": "https://h/cb?code=1&token=t"})
    assert redacted == {"Location": f"https://h/cb?code=1&token={REDACTED}"}


def test_redact_headers_does_not_mutate_input() -> None:
    source = {"Cookie": "a=1"}
    redact_headers(source)
    assert source == {"Cookie": "a=1"}


def test_custom_redactor_extends_defaults() -> None:
    redactor = Redactor(extra_headers={"X-Partner-Secret"}, extra_query_params=["Session"])
    assert redactor.is_sensitive_header("x-partner-secret")
    assert redactor.is_sensitive_header("authorization")
    assert redactor.redact_url("https://h/?session=s&token=t") == (
        f"https://h/?session={REDACTED}&token={REDACTED}"
    )
    assert redactor.redact_headers({"X-Partner-Secret": "s"}) == {"X-Partner-Secret": REDACTED}
    # The module-level defaults are unaffected.
    assert redact_url("https://h/?session=s") == "https://h/?session=s"
    assert not is_sensitive_header("X-Partner-Secret")


def test_redactor_is_frozen_hashable_and_picklable() -> None:
    redactor = Redactor(extra_headers={"X-A"})
    with pytest.raises(AttributeError):
        redactor.header_names = frozenset()  # type: ignore[misc]
    assert redactor == Redactor(extra_headers=["x-a"])
    assert hash(redactor) == hash(Redactor(extra_headers=["x-a"]))
    assert pickle.loads(pickle.dumps(redactor)) == redactor
    assert "x-a" in repr(redactor)

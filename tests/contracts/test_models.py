"""``HttpResponse``, ``RequestContext`` and ``ServerSentEvent``."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from lexigram.contracts.web import (
    REDACTED,
    Headers,
    HTTPDecodeError,
    HttpResponse,
    HTTPStatusError,
    RequestContext,
    ServerSentEvent,
)

# -- HttpResponse ------------------------------------------------------------------------------


def test_seed_style_construction() -> None:
    response = HttpResponse(status=200, url="https://h/x", method="GET", json={"id": "inv_1"})
    assert response.status == 200
    assert response.url == "https://h/x"
    assert response.method == "GET"
    assert response.json == {"id": "inv_1"}


def test_defaults() -> None:
    response = HttpResponse(204)
    assert response.url == ""
    assert response.method == "GET"
    assert response.body == b""
    assert response.elapsed == 0.0
    assert dict(response.headers) == {}


def test_method_is_upper_cased() -> None:
    assert HttpResponse(200, method="post").method == "POST"


def test_json_argument_becomes_compact_body_with_content_type() -> None:
    response = HttpResponse(200, json={"a": [1, 2], "b": "é"})
    assert response.body == '{"a":[1,2],"b":"é"}'.encode()
    assert response.headers["content-type"] == "application/json"


def test_json_none_is_json_null_not_missing() -> None:
    response = HttpResponse(200, json=None)
    assert response.body == b"null"
    assert response.json is None


def test_json_argument_does_not_override_given_content_type() -> None:
    response = HttpResponse(200, headers={"Content-Type": "application/problem+json"}, json={})
    assert response.headers["Content-Type"] == "application/problem+json"


def test_json_is_parsed_like_a_real_body() -> None:
    # Not the very object given: what a server would send back.
    payload: dict[Any, Any] = {1: (1, 2)}
    response = HttpResponse(200, json=payload)
    assert response.json == {"1": [1, 2]}


def test_text_argument_becomes_utf8_body() -> None:
    response = HttpResponse(200, text="héllo")
    assert response.body == "héllo".encode()
    assert response.text == "héllo"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_text_argument_uses_declared_charset() -> None:
    response = HttpResponse(200, headers={"Content-Type": "text/plain; charset=latin-1"}, text="é")
    assert response.body == b"\xe9"


def test_at_most_one_body_source() -> None:
    with pytest.raises(TypeError):
        HttpResponse(200, body=b"x", json={})
    with pytest.raises(TypeError):
        HttpResponse(200, text="x", json={})


def test_json_parsed_lazily_and_cached() -> None:
    response = HttpResponse(200, body=b'{"a": 1}')
    first = response.json
    assert first == {"a": 1}
    assert response.json is first


def test_json_not_parsed_until_accessed() -> None:
    # Invalid JSON must not fail construction, only access.
    response = HttpResponse(200, body=b"not json")
    assert response.body == b"not json"
    with pytest.raises(HTTPDecodeError):
        _ = response.json


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body_json_is_none(body: bytes) -> None:
    assert HttpResponse(204, body=body).json is None


def test_invalid_json_error_names_url_and_position() -> None:
    response = HttpResponse(
        200, url="https://api.example.com/x?token=secret", method="GET", body=b'{"a": }'
    )
    with pytest.raises(HTTPDecodeError) as info:
        _ = response.json
    error = info.value
    assert error.position == 6
    assert error.url == f"https://api.example.com/x?token={REDACTED}"
    assert "position 6" in str(error)
    assert "https://api.example.com/x" in str(error)
    assert "secret" not in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error.__cause__, json.JSONDecodeError)


def test_invalid_utf8_json_is_a_decode_error() -> None:
    with pytest.raises(HTTPDecodeError):
        _ = HttpResponse(200, body=b'"\xff\xfe\xfa"').json


def test_json_accepts_utf8_bom() -> None:
    assert HttpResponse(200, body=b'\xef\xbb\xbf{"a":1}').json == {"a": 1}


def test_text_decodes_with_content_type_charset() -> None:
    response = HttpResponse(
        200, headers={"Content-Type": 'text/plain; charset="ISO-8859-1"'}, body=b"\xe9"
    )
    assert response.text == "é"


def test_text_defaults_to_utf8_with_replacement() -> None:
    assert HttpResponse(200, body="é".encode()).text == "é"
    assert HttpResponse(200, body=b"a\xffb").text == "a\ufffdb"


def test_text_unknown_charset_falls_back_to_utf8() -> None:
    response = HttpResponse(200, headers={"Content-Type": "text/plain; charset=nope"}, body=b"ok")
    assert response.text == "ok"


def test_text_cached() -> None:
    response = HttpResponse(200, body=b"abc")
    assert response.text is response.text


def test_headers_are_read_only_and_case_insensitive() -> None:
    response = HttpResponse(200, headers=[("X-Request-Id", "1")])
    assert response.headers["x-request-id"] == "1"
    assert isinstance(response.headers, Headers)
    with pytest.raises(TypeError):
        response.headers["X-New"] = "2"


def test_headers_are_copied_from_input() -> None:
    source = Headers({"A": "1"})
    response = HttpResponse(200, headers=source)
    source["A"] = "2"
    assert response.headers["A"] == "1"


def test_immutable() -> None:
    response = HttpResponse(200)
    with pytest.raises(AttributeError):
        response.status = 500  # type: ignore[misc]
    with pytest.raises(AttributeError):
        object.__getattribute__(response, "__dict__")


@pytest.mark.parametrize(
    ("status", "ok", "success"),
    [
        (200, True, True),
        (204, True, True),
        (302, True, False),
        (404, False, False),
        (503, False, False),
    ],
)
def test_ok_and_is_success(status: int, ok: bool, success: bool) -> None:
    response = HttpResponse(status)
    assert response.ok is ok
    assert response.is_success is success


def test_reason() -> None:
    assert HttpResponse(404).reason == "Not Found"
    assert HttpResponse(599).reason == ""


def test_elapsed() -> None:
    assert HttpResponse(200, elapsed=1.5).elapsed == 1.5


def test_raise_for_status_returns_self_below_400() -> None:
    response = HttpResponse(302)
    assert response.raise_for_status() is response


def test_raise_for_status_raises_status_error() -> None:
    response = HttpResponse(503, url="https://user:pw@host/path", method="GET")
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    error = info.value
    assert error.status == 503
    assert error.response is response
    assert str(error) == f"HTTP 503 Service Unavailable for GET https://{REDACTED}@host/path"


def test_repr_redacts_url() -> None:
    response = HttpResponse(200, url="https://h/path?token=abc&page=2", method="GET")
    assert repr(response) == f"<HttpResponse 200 GET https://h/path?token={REDACTED}&page=2>"


def test_pickle_round_trip() -> None:
    response = HttpResponse(
        201, url="https://h/x", method="POST", headers={"X": "1"}, body=b"{}", elapsed=0.25
    )
    restored = pickle.loads(pickle.dumps(response))
    assert (restored.status, restored.url, restored.method) == (201, "https://h/x", "POST")
    assert restored.headers == {"x": "1"}
    assert restored.headers.readonly
    assert restored.body == b"{}"
    assert restored.elapsed == 0.25


# -- RequestContext ----------------------------------------------------------------------------


def test_transport_built_response_builds_its_headers_on_first_access() -> None:
    built: list[int] = []

    def headers() -> Headers:
        built.append(1)
        return Headers({"Content-Type": "text/plain; charset=latin-1"}, readonly=True)

    response = HttpResponse._from_transport(
        200, "https://api.example.com/x", "GET", headers, "caf\xe9".encode("latin-1"), 0.25
    )
    assert built == []
    assert (response.status, response.method, response.elapsed) == (200, "GET", 0.25)

    assert response.text == "caf\xe9"  # the charset comes from the headers, built now
    assert response.headers["content-type"] == "text/plain; charset=latin-1"
    assert response.headers is response.headers
    assert built == [1]
    with pytest.raises(AttributeError):
        response.headers = Headers()  # type: ignore[misc]


def test_transport_built_response_pickles_with_its_headers() -> None:
    response = HttpResponse._from_transport(
        404, "https://x.test/", "GET", lambda: Headers({"X-A": "1"}, readonly=True), b"no", 0.0
    )

    copy = pickle.loads(pickle.dumps(response))

    assert copy.headers["x-a"] == "1"
    assert (copy.status, copy.body, copy.url) == (404, b"no", "https://x.test/")


def test_context_defaults() -> None:
    context = RequestContext("get", "https://h/")
    assert context.method == "GET"
    assert isinstance(context.headers, Headers)
    assert context.params == []
    assert context.body is None
    assert context.timeout is None
    assert context.attempt == 1
    assert context.extensions == {}
    assert context.allow_redirects is True
    assert context.idempotency_key is None


def test_context_is_mutable_and_slotted() -> None:
    context = RequestContext("GET", "https://h/")
    context.attempt = 2
    context.headers["X-A"] = "1"
    context.extensions["k"] = "v"
    assert context.attempt == 2
    assert not hasattr(context, "__dict__")


def test_context_defaults_are_not_shared() -> None:
    one = RequestContext("GET", "https://h/")
    two = RequestContext("GET", "https://h/")
    one.headers["A"] = "1"
    one.params.append(("a", "1"))
    one.extensions["a"] = 1
    assert dict(two.headers) == {}
    assert two.params == []
    assert two.extensions == {}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", True),
        ("HEAD", True),
        ("OPTIONS", True),
        ("PUT", True),
        ("DELETE", True),
        ("TRACE", True),
        ("POST", False),
        ("PATCH", False),
    ],
)
def test_is_idempotent_by_method(method: str, expected: bool) -> None:
    assert RequestContext(method, "https://h/").is_idempotent is expected


def test_is_idempotent_with_key_header_or_field() -> None:
    assert RequestContext(
        "POST", "https://h/", headers=Headers({"idempotency-key": "k"})
    ).is_idempotent
    assert RequestContext("POST", "https://h/", idempotency_key="k").is_idempotent


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://api.example.com/v1/x?y=1", "https://api.example.com"),
        ("HTTPS://API.Example.com:443/", "https://api.example.com"),
        ("http://h:80/", "http://h"),
        ("http://h:8080/x", "http://h:8080"),
        ("https://user:pw@h:8443/", "https://h:8443"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("/relative", ""),
        ("http://[::1", ""),
        ("http://h:notaport/", ""),
    ],
)
def test_origin(url: str, origin: str) -> None:
    assert RequestContext("GET", url).origin == origin


def test_context_repr_redacts() -> None:
    context = RequestContext(
        "POST",
        "https://user:pw@h/x?api_key=k1",
        headers=Headers({"Authorization": "Bearer t0ken", "Accept": "*/*"}),
        params=[("token", "p4ram"), ("page", "2")],
        body=b"secret-body",
        extensions={"trace": object()},
    )
    text = repr(context)
    for secret in ("pw", "k1", "t0ken", "p4ram", "secret-body"):
        assert secret not in text
    assert "page" in text
    assert "<11 bytes>" in text
    assert "'trace'" in text


# -- ServerSentEvent ---------------------------------------------------------------------------


def test_sse_defaults_and_frozen() -> None:
    event = ServerSentEvent()
    assert (event.data, event.event, event.id, event.retry) == ("", "message", None, None)
    with pytest.raises(AttributeError):
        event.data = "x"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")


def test_sse_json() -> None:
    assert ServerSentEvent(data='{"delta": "hi"}').json() == {"delta": "hi"}


def test_sse_invalid_json() -> None:
    with pytest.raises(HTTPDecodeError) as info:
        ServerSentEvent(data="[DONE]").json()
    assert info.value.what == "SSE event data"


def test_sse_equality_and_pickle() -> None:
    event = ServerSentEvent(data="x", event="delta", id="7", retry=1000)
    assert event == ServerSentEvent(data="x", event="delta", id="7", retry=1000)
    assert pickle.loads(pickle.dumps(event)) == event

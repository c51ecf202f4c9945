"""The JSON fast path (msgspec, the ``speedups`` extra) and the stdlib path agree.

Every parser entry point (``HttpResponse.json``, ``ServerSentEvent.json()``, ``ndjson()``'s
decoder) runs on the same inputs with ``use_fast_json(True)`` and ``use_fast_json(False)``;
both must give what ``json.loads`` gives: the same value (compared by ``repr``, so ``1``,
``1.0`` and ``True``, key order and ``nan`` are told apart) or the same error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import (
    HTTPDecodeError,
    HttpResponse,
    ServerSentEvent,
)
from lexigram.contracts.web import _json as json_backend
from lexigram.http import NDJSONDecoder, fast_json_available, use_fast_json

# Documents on which a fast parser could differ from json.loads.
EDGE_TEXTS: list[str] = [
    '{"a":1,"a":2,"b":3}',  # duplicate keys: the last wins, in the first one's place
    '{"a":1,"b":2,"a":3}',
    "123456789012345678901234567890",  # past 64 bits (orjson would give a float)
    "-123456789012345678901234567890",
    "[18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809]",
    "9" * 4300,  # the longest integer int() converts
    "9" * 4301,  # past it: ValueError from json.loads
    "NaN",
    "[NaN,Infinity,-Infinity]",
    '{"x":-Infinity}',
    "1e400",
    "-1e400",
    "1.7976931348623157e309",
    "123.456e-789",
    "-0",
    "-0.0",
    "0.1",
    "1E5",
    "1e-7",
    "2.2250738585072011e-308",
    "0.30000000000000004",
    "12345678901234567890.123456789e3",
    '"\\ud800"',  # lone surrogate escapes
    '"\\udc00x"',
    '"\\ud800\\udc00"',
    '"\\u2028\\u2029"',
    '"\u2028 and \u2029 raw"',
    '"\\u0000"',
    '"\x01"',  # a raw control character: refused by both
    '"\t"',
    '"\x7f"',
    "\ufeff{}",  # a BOM in text: refused by json.loads
    ' {"a" : 1 } \r',
    "\t[1 ,\n2]\n",
    "\x0c1",
    "[1,]",
    '{"a":1,}',
    '{"a":1}x',
    "[1] [2]",
    "",
    "   ",
    "01",
    "1.",
    ".5",
    "+1",
    "-",
    "TRUE",
    "nul",
    "'a'",
    '{"a"}',
    "{1:2}",
    '"abc',
    "[" * 50 + "]" * 50,
    "[" * 100_000 + "]" * 100_000,  # far too deep for either: RecursionError
    '{"émoji":"😀","k":[true,false,null]}',
]

EDGE_BYTES: list[bytes] = [
    *(text.encode("utf-8", "surrogatepass") for text in EDGE_TEXTS),
    b'"\xff"',  # invalid UTF-8
    b'{"a":"\xed\xa0\x80"}',  # an encoded surrogate: not UTF-8
    b"\xef\xbb\xbf{}",  # a UTF-8 BOM: json.loads(bytes) accepts it
    '{"a":1}'.encode("utf-16"),
    '{"a":1}'.encode("utf-32-le"),
    b'["\xc3\xa9"]',
]


@pytest.fixture(params=["fast", "stdlib"])
def json_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test runs with the fast parser and with the standard library only."""
    if request.param == "fast" and not fast_json_available():
        pytest.fail("msgspec (the speedups extra) must be installed for the tests")
    previous = use_fast_json(request.param == "fast")
    yield request.param
    use_fast_json(previous)


def _outcome(function: Any, *args: Any) -> tuple[str, str]:
    """``("ok", repr(value))`` or ``(error type, message)``: compared exactly."""
    try:
        value = function(*args)
    except RecursionError:
        return ("RecursionError", "")
    except Exception as exc:
        cause = exc.__cause__
        detail = "" if cause is None else f" <- {type(cause).__name__}: {cause}"
        return (type(exc).__name__, f"{exc}{detail}")
    return ("ok", repr(value))


def _response_oracle(body: bytes) -> tuple[str, str]:
    """What HttpResponse.json gave before the fast path: json.loads, errors wrapped."""
    if not body.strip():
        return ("ok", "None")
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        error = HTTPDecodeError(what="JSON body", position=exc.pos, detail=exc.msg, method="GET")
        return ("HTTPDecodeError", f"{error} <- JSONDecodeError: {exc}")
    except UnicodeDecodeError as exc:
        error = HTTPDecodeError(
            what="JSON body", position=exc.start, detail=f"invalid {exc.encoding}", method="GET"
        )
        return ("HTTPDecodeError", f"{error} <- UnicodeDecodeError: {exc}")
    except RecursionError:
        return ("RecursionError", "")
    except ValueError as exc:
        return (type(exc).__name__, str(exc))
    return ("ok", repr(value))


def _event_oracle(data: str) -> tuple[str, str]:
    try:
        value = json.loads(data)
    except json.JSONDecodeError as exc:
        error = HTTPDecodeError(what="SSE event data", position=exc.pos, detail=exc.msg)
        return ("HTTPDecodeError", f"{error} <- JSONDecodeError: {exc}")
    except RecursionError:
        return ("RecursionError", "")
    except ValueError as exc:  # past the int() digit limit
        return (type(exc).__name__, str(exc))
    return ("ok", repr(value))


def test_the_speedups_extra_is_installed_for_the_tests() -> None:
    # Without it the "fast" runs below would test the stdlib path twice.
    assert fast_json_available()


@pytest.mark.usefixtures("json_path")
@pytest.mark.parametrize("text", EDGE_TEXTS, ids=range(len(EDGE_TEXTS)))
def test_loads_text_equals_json_loads(text: str) -> None:
    expected = _outcome(json.loads, text)
    assert _outcome(json_backend._loads_text, text) == expected
    assert _outcome(json_backend._loads, text) == expected


@pytest.mark.usefixtures("json_path")
@pytest.mark.parametrize("body", EDGE_BYTES, ids=range(len(EDGE_BYTES)))
def test_response_json_equals_the_stdlib(body: bytes) -> None:
    response = HttpResponse(200, body=body, method="GET")
    assert _outcome(lambda: response.json) == _response_oracle(body)


@pytest.mark.usefixtures("json_path")
@pytest.mark.parametrize("text", EDGE_TEXTS, ids=range(len(EDGE_TEXTS)))
def test_event_json_equals_the_stdlib(text: str) -> None:
    assert _outcome(ServerSentEvent(data=text).json) == _event_oracle(text)


def _ndjson(body: bytes, chunk: int) -> tuple[str, str]:
    decoder = NDJSONDecoder(max_line_bytes=1 << 22)

    def run() -> list[Any]:
        values: list[Any] = []
        for start in range(0, len(body), chunk):
            values.extend(decoder.feed(body[start : start + chunk]))
        values.extend(decoder.flush())
        return values

    return _outcome(run)


def _lines_of(body: bytes) -> list[bytes]:
    return [line for line in body.split(b"\n") if b"\n" not in line]


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_ndjson_paths_agree(chunk: int) -> None:
    # Every edge document on a line of its own (those without a LF inside), between valid
    # lines; then each one alone, so each error is compared too.
    lines = [line for body in EDGE_BYTES for line in _lines_of(body) if b"\r" not in line]
    lines = [line for line in lines if len(line) < 10_000]
    for line in lines:
        body = b'{"before":1}\n' + line + b'\n\n  \n{"after":[1,2.5,"\xc3\xa9"]}\r\n'
        fast_before = use_fast_json(True)
        try:
            fast = _ndjson(body, chunk)
        finally:
            use_fast_json(False)
        stdlib = _ndjson(body, chunk)
        use_fast_json(fast_before)
        assert fast == stdlib, line


def test_ndjson_errors_name_the_same_line_on_both_paths() -> None:
    body = b'{"a":1}\n[2]\n\n{"b":NaN}\n{"c":1}}\n'
    outcomes = []
    for enabled in (True, False):
        previous = use_fast_json(enabled)
        try:
            outcomes.append(_ndjson(body, 1 << 20))
        finally:
            use_fast_json(previous)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "HTTPDecodeError"
    assert "line 5" in outcomes[0][1]


def test_ndjson_invalid_utf8_reported_alike_on_both_paths() -> None:
    body = b'{"a":1}\n{"b":"\xff"}\n{"c":[1,}\n'
    outcomes = []
    for enabled in (True, False):
        previous = use_fast_json(enabled)
        try:
            outcomes.append(_ndjson(body, 1 << 20))
        finally:
            use_fast_json(previous)
    assert outcomes[0] == outcomes[1]
    assert "invalid UTF-8" in outcomes[0][1]


def test_use_fast_json_returns_the_previous_setting_and_checks_its_argument() -> None:
    previous = use_fast_json(False)
    try:
        assert use_fast_json(True) is False
        assert use_fast_json(True) is True
        with pytest.raises(TypeError, match="enabled must be a bool"):
            use_fast_json("yes")  # type: ignore[arg-type]
    finally:
        use_fast_json(previous)


# Arbitrary JSON values, dumped with the escapes and numbers that matter, then compared.
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)
_json_alphabet = st.sampled_from(list('{}[],:"\\ u0123456789.eE+-truefalsnNIiy\t\n\r\x00é\u2028'))


@settings(max_examples=300, deadline=None)
@given(value=_json_values, ascii_only=st.booleans())
def test_generated_documents_agree(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    _agree(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(_json_alphabet, max_size=24))
def test_generated_fragments_agree(text: str) -> None:
    _agree(text)


def _agree(text: str) -> None:
    expected = _outcome(json.loads, text)
    body = text.encode("utf-8", "surrogatepass")
    for enabled in (True, False):
        previous = use_fast_json(enabled)
        try:
            assert _outcome(json_backend._loads_text, text) == expected
            assert _outcome(json_backend._loads, body) == _outcome(json.loads, body)
            assert _outcome(ServerSentEvent(data=text).json) == _event_oracle(text)
        finally:
            use_fast_json(previous)


def test_a_nan_value_parses_on_both_paths() -> None:
    # repr() compares it above; here the value itself.
    for enabled in (True, False):
        previous = use_fast_json(enabled)
        try:
            assert math.isnan(HttpResponse(200, body=b"[NaN]").json[0])
        finally:
            use_fast_json(previous)

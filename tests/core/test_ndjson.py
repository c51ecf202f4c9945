"""``NDJSONDecoder``: one JSON value per LF-ended line, from bytes split anywhere."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import HTTPDecodeError, HTTPStreamLimitError
from lexigram.http import NDJSONDecoder


def decode(chunks: list[bytes], **options: int) -> list[Any]:
    decoder = NDJSONDecoder(**options)
    values: list[Any] = []
    for chunk in chunks:
        values += decoder.feed(chunk)
    return values + decoder.flush()


def both(body: bytes) -> list[Any]:
    """Decode in one chunk and byte by byte; they must agree."""
    whole = decode([body])
    assert decode([body[i : i + 1] for i in range(len(body))]) == whole
    return whole


def test_one_value_per_line() -> None:
    body = b'{"a": 1}\n[1, 2]\n"s"\n3.5\ntrue\nnull\n'
    assert both(body) == [{"a": 1}, [1, 2], "s", 3.5, True, None]


def test_crlf_line_ends_and_padding() -> None:
    assert both(b'{"a": 1}\r\n  [2]  \r\n\t3\n') == [{"a": 1}, [2], 3]


def test_blank_lines_are_skipped() -> None:
    assert both(b"\n1\n\n \r\n\t\n2\n\n") == [1, 2]


def test_the_last_line_needs_no_lf() -> None:
    assert both(b"1\n2") == [1, 2]


def test_only_lf_ends_a_line() -> None:
    # U+2028 / U+2029 are legal inside JSON strings, and a CR or other separators never end
    # an NDJSON line: a line reader that splits on them would cut these values in half.
    values = [{"text": "a\u2028b\u2029c"}, {"text": "x\x85y\x0bz"}]
    body = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode()
    assert both(body) == values
    assert both(b'[1,\r2]\n{"a":\r"b"}\n') == [[1, 2], {"a": "b"}]


def test_bom_is_removed() -> None:
    assert both(b'\xef\xbb\xbf{"a": 1}\n') == [{"a": 1}]


def test_a_value_split_across_chunks() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"greeting": "h\xc3') == []
    assert decoder.feed(b'\xa9llo"}\n{"n"') == [{"greeting": "héllo"}]
    assert decoder.feed(b": 2}\n") == [{"n": 2}]


def test_a_bad_line_reports_its_number() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b"1\n\n2\n") == [1, 2]
    with pytest.raises(HTTPDecodeError) as caught:
        decoder.feed(b"3\n{oops}\n4\n")
    assert caught.value.line == 5  # blank lines count
    assert caught.value.what == "NDJSON line"
    assert "line 5" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("line", [b"1 2", b"{} x", b"[1,", b"'x'", b"nul", b'"\xff"'])
def test_bad_lines(line: bytes) -> None:
    with pytest.raises(HTTPDecodeError) as caught:
        decode([b"0\n0\n" + line + b"\n0\n"])
    assert caught.value.line == 3


def test_a_bad_last_line_without_lf() -> None:
    with pytest.raises(HTTPDecodeError) as caught:
        decode([b"1\n{"])
    assert caught.value.line == 2


def test_a_repeated_bad_line_reports_the_first() -> None:
    with pytest.raises(HTTPDecodeError) as caught:
        decode([b"1\nx\n2\nx\n"])
    assert caught.value.line == 2


def test_limits() -> None:
    assert decode([b"[1,1,1,11]\n"], max_line_bytes=10) == [[1, 1, 1, 11]]  # 10 bytes
    with pytest.raises(HTTPStreamLimitError) as caught:
        decode([b"1\n", b'"' + b"x" * 10 + b'"\n'], max_line_bytes=10)
    assert (caught.value.limit_name, caught.value.limit) == ("max_line_bytes", 10)


def test_an_endless_line_fails_without_buffering_past_the_limit() -> None:
    decoder = NDJSONDecoder(max_line_bytes=5000)
    for _ in range(5):
        assert decoder.feed(b"9" * 1000) == []
    with pytest.raises(HTTPStreamLimitError):
        decoder.feed(b"9")
    assert len(decoder._tail) <= 5000


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    values=st.lists(_JSON, max_size=12),
    ascii_=st.booleans(),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\n\n", " \n"]), min_size=12, max_size=12),
    data=st.data(),
)
def test_any_split_gives_the_same_values(
    values: list[Any], ascii_: bool, ends: list[str], data: st.DataObject
) -> None:
    body = "".join(
        json.dumps(value, ensure_ascii=ascii_) + end
        for value, end in zip(values, ends, strict=False)
    ).encode()
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=10))))
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert decode(chunks) == decode([body]) == values

"""``LineDecoder``: CR / LF / CRLF lines from bytes split anywhere, UTF-8, bounded."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import HTTPStreamLimitError
from lexigram.http import LineDecoder


def reference(body: bytes) -> list[str]:
    """WHATWG "UTF-8 decode" (BOM removed, errors replaced), then lines at CRLF, LF or CR."""
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()  # the body ended with a line end
    return lines


def decode(chunks: list[bytes], **options: int) -> list[str]:
    decoder = LineDecoder(**options)
    lines: list[str] = []
    for chunk in chunks:
        lines += decoder.feed(chunk)
    return lines + decoder.flush()


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\r\nb\r\n", ["a", "b"]),
        (b"a\rb\r", ["a", "b"]),
        (b"a\n\nb", ["a", "", "b"]),
        (b"a\r\r\nb\n\r", ["a", "", "b", ""]),
        (b"", []),
        (b"\n", [""]),
        (b"last line without an end", ["last line without an end"]),
        (b"\xef\xbb\xbfbom\n", ["bom"]),
        (b"\xef\xbb\xbf\xef\xbb\xbfbom\n", ["\ufeffbom"]),
        (b"bad \xff utf-8\n", ["bad \ufffd utf-8"]),
        ("a\u2028b\x0bc\x0cd\x1ce\x85f\n".encode(), ["a\u2028b\x0bc\x0cd\x1ce\x85f"]),
    ],
)
def test_lines(body: bytes, lines: list[str]) -> None:
    assert decode([body]) == lines
    assert decode([body[i : i + 1] for i in range(len(body))]) == lines
    assert reference(body) == lines


def test_crlf_split_across_chunks() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == ["a"]
    assert decoder.feed(b"\nb\r") == ["b"]  # the LF belonged to the CR before it
    assert decoder.feed(b"\r\n") == [""]
    assert decoder.flush() == []


def test_a_character_split_across_chunks_decodes_whole() -> None:
    body = "€ 世界 🎉\n".encode()
    decoder = LineDecoder()
    out: list[str] = []
    for index in range(len(body)):
        out += decoder.feed(body[index : index + 1])
    assert out == ["€ 世界 🎉"]


def test_long_lines_within_the_limit() -> None:
    # Readers elsewhere stop at 64 or 128 KiB; the limit here is the caller's (1 MiB default).
    line = b"x" * 300_000
    chunks = [line[i : i + 7000] for i in range(0, len(line), 7000)] + [b"\nend"]
    assert decode(chunks) == ["x" * 300_000, "end"]


def test_a_line_over_the_limit_raises() -> None:
    with pytest.raises(HTTPStreamLimitError) as caught:
        decode([b"ok\n" + b"x" * 11 + b"\n"], max_line_bytes=10)
    assert (caught.value.limit_name, caught.value.limit) == ("max_line_bytes", 10)


def test_an_endless_line_fails_once_past_the_limit_without_buffering_more() -> None:
    decoder = LineDecoder(max_line_bytes=10_000)
    for _ in range(10):
        assert decoder.feed(b"y" * 1000) == []
    with pytest.raises(HTTPStreamLimitError):
        decoder.feed(b"y")  # the byte that would pass the limit
    assert len(decoder._splitter._tail) <= 10_000


def test_an_unterminated_last_line_is_bounded_too() -> None:
    with pytest.raises(HTTPStreamLimitError):
        decode([b"a\n", b"b" * 11], max_line_bytes=10)


@settings(max_examples=400)
@given(
    parts=st.lists(
        st.one_of(
            st.text(alphabet="ab é世🎉\u2028\x0b", max_size=6).map(str.encode),
            st.sampled_from([b"\n", b"\r", b"\r\n", b"\xff", b"\xe2\x82", b"\xef\xbb\xbf"]),
        ),
        max_size=30,
    ),
    data=st.data(),
)
def test_any_split_gives_the_same_lines(parts: list[bytes], data: st.DataObject) -> None:
    body = b"".join(parts)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=10))))
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert decode(chunks) == decode([body]) == reference(body)

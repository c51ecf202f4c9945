"""The decoders' fast paths against their exact slow paths.

- ``SSEDecoder`` builds the events of a run whose events all have the same lines (``data: X``,
  with ``event: T`` / ``id: N`` / comment lines around it) column by column
  (``SSEDecoder._columns``); anything else goes through its per-event and line-by-line paths.
  Each case here checks the events, ``last_event_id`` and ``retry`` against the transcription
  of the standard in ``test_sse_conformance``, and which path ran.
- The shared line splitter decodes a run straight from the chunk (a ``memoryview``) or from
  the unfinished tail joined with it, and skips the CR normalisation when the chunk holds no
  CR; ``NDJSONDecoder`` cuts its runs the same way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import HTTPDecodeError, HTTPStreamLimitError, ServerSentEvent
from lexigram.http import LineDecoder, NDJSONDecoder, SSEDecoder, _decoders
from tests.core.test_sse_conformance import reference

E = ServerSentEvent


def sse(
    chunks: list[bytes], **options: Any
) -> tuple[list[ServerSentEvent], str | None, int | None]:
    decoder = SSEDecoder(**options)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.flush()
    return events, decoder.last_event_id, decoder.retry


def pieces(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.fixture
def columns(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call of ``SSEDecoder._columns`` took the run (``True``) or left it."""
    taken: list[bool] = []
    original = SSEDecoder._columns

    def spy(self: SSEDecoder, text: str) -> Any:
        result = original(self, text)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(SSEDecoder, "_columns", spy)
    return taken


# -- SSE: runs of events of one shape ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"data: a\n\ndata: b\n\ndata: \n\n",
        b"event: t\ndata: a\n\nevent: u\ndata: b\n\n",
        b"id: 1\nevent: t\ndata: a\n\nid: 2\nevent: t\ndata: b\n\n",
        b"data: a\nid: 1\n\ndata: b\nid: 2\n\n",  # id after data: set before the dispatch
        b": c\ndata: a\n\n: d\ndata: b\n\n",  # comments
        b"event: \ndata: a\n\nevent: t\ndata: b\n\n",  # an empty type is "message"
        b"event: a\nevent: b\ndata: x\n\nevent: c\nevent: \ndata: y\n\n",  # the last wins
        b"id: 1\nid: 2\ndata: x\n\nid: 3\nid: \ndata: y\n\n",
        b"id:  1\ndata:  x\n\n",  # one space removed, the next one kept
        "data: é\u2028世\n\ndata: 🎉\x00\n\n".encode(),
        b"data: a\r\n\r\ndata: b\r\n\r\n",
        b"data: a\r\rdata: b\r\r",
        b"id: 7\ndata: a\n\nid: 8\ndata: b\n\nid: 9\ndata: partial\n",  # then a pending event
    ],
)
def test_runs_of_one_shape_take_the_column_path(body: bytes, columns: list[bool]) -> None:
    assert sse([body]) == reference(body)
    assert columns == [True]


@pytest.mark.parametrize(
    "body",
    [
        b"data: a\n\ndata: b\ndata: c\n\n",  # a second data line in one event
        b"data: a\ndata: b\n\ndata: c\ndata: d\n\n",  # two data lines in every event
        b"data:a\n\ndata:b\n\n",  # no space after the colon
        b"data\n\ndata\n\n",
        b"id: 1\ndata: a\n\nid: \x00\ndata: b\n\n",  # an ID with NUL is ignored
        b"retry: 10\ndata: a\n\nretry: 20\ndata: b\n\n",
        b"event: t\n\nevent: u\n\n",  # no data: nothing dispatched
        b"data: a\n\n\ndata: b\n\n",  # two blank lines in a row
        b"\ndata: a\n\n",  # a blank line first
        b"data: a\n\nevent: t\ndata: b\n\n",  # shapes differ
        b"event: t\ndata: a\n\ndata: b\n\n",
        b"foo: x\ndata: a\n\nfoo: y\ndata: b\n\n",  # an unknown field
        b"Data: a\n\nData: b\n\n",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n",  # a second BOM is part of the field name
        # Two events merged (a line where the blank line was), the line count still even.
        b"event: a\ndata: x\n: c\nevent: b\ndata: y\n\nevent: c\ndata: z\n\n",
        b"id: 1\ndata: a\n\nid: 2\n: c\n\nid: 3\ndata: b\n\n",  # a data line missing
        b"id: 1\ndata: a\n\nid: 2\ndata:b\n\nid: 3\ndata: c\n\n",
    ],
)
def test_other_runs_fall_back_to_the_exact_paths(body: bytes, columns: list[bool]) -> None:
    assert sse([body]) == reference(body)
    assert True not in columns


def test_a_pending_event_is_ended_first_then_the_run_takes_the_column_path(
    columns: list[bool],
) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: t\nretry: 5\ndata: a") == []
    assert decoder.feed(b"\n\ndata: b\n\ndata: c\n\n") == [
        E(data="a", event="t", retry=5),
        E(data="b"),
        E(data="c"),
    ]
    assert decoder.retry == 5
    assert columns[-1]
    assert decoder.feed(b"event: u\n") == []
    # The blank line that ends the pending event is the first line of this run.
    assert decoder.feed(b"\ndata: d\n\n") == [E(data="d")]
    assert decoder.feed(b"id: 4\n") == []
    # An ID line does not make an event pending: it is the ID buffer the next events carry.
    assert decoder.feed(b"data: e\n\ndata: f\n\n") == [E(data="e", id="4"), E(data="f", id="4")]
    assert decoder.last_event_id == "4"
    assert columns.count(True) == 3


def test_a_run_that_starts_inside_an_event_still_takes_the_column_path(
    columns: list[bool],
) -> None:
    # A chunk cut after an event's id line (as a socket read cuts anywhere): the next run
    # begins with that event's data line. Only that event goes to the line parser; the rest
    # of the run must not fall back to the per-event path.
    events = b"".join(b'id: %d\ndata: {"n": %d}\n\n' % (n, n) for n in range(50))
    cut = events.index(b"id: 20\n") + len(b"id: 20\n")
    body = events[:cut], events[cut:]

    assert sse(list(body)) == reference(events)
    assert columns == [True, True]


def test_the_last_event_id_follows_the_events_handed_out() -> None:
    decoder = SSEDecoder(last_event_id="0")
    events = decoder.iter_feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n")
    assert next(events) == E(data="a", id="1")
    assert decoder.last_event_id == "1"
    assert next(events) == E(data="b", id="2")
    assert decoder.last_event_id == "2"
    assert list(events) == [E(data="c", id="3")]
    assert decoder.last_event_id == "3"
    # Without id lines, the events carry the ID in effect.
    assert decoder.feed(b"data: d\n\ndata: e\n\n") == [E(data="d", id="3"), E(data="e", id="3")]


def test_column_built_events_are_real_server_sent_events() -> None:
    (event, _) = SSEDecoder().feed(b"id: 1\nevent: t\ndata: x\n\nid: 2\nevent: t\ndata: y\n\n")
    assert type(event) is ServerSentEvent
    assert event == E(data="x", event="t", id="1")
    assert hash(event) == hash(E(data="x", event="t", id="1"))


def test_the_line_parser_alone_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"id: 1\nevent: t\ndata: a\n\nid: 2\nevent: t\ndata: b\n\ndata: c\n\ndata: d\n\n"
    fast = sse(pieces(body, [30, 61]))
    monkeypatch.setattr(_decoders, "_DRAFTS", False)
    assert sse(pieces(body, [30, 61])) == fast == reference(body)


def test_max_event_bytes_routes_big_events_to_the_exact_count() -> None:
    # Past a quarter of the limit, the size of each event is counted in bytes, one by one:
    # the events before the one that is too big are dispatched, then the error.
    decoder = SSEDecoder(max_line_bytes=1000, max_event_bytes=12)
    body = "data: ab\n\ndata: ééééé\n\ndata: éééééé\n\ndata: z\n\n".encode()
    events = decoder.iter_feed(body)
    assert next(events) == E(data="ab")
    assert next(events) == E(data="ééééé")  # 10 bytes and a LF
    with pytest.raises(HTTPStreamLimitError) as caught:
        next(events)  # 12 bytes and a LF
    assert caught.value.limit_name == "max_event_bytes"


_KINDS = st.lists(st.sampled_from(["event", "id", "comment"]), max_size=2)
_ODD_SHAPES = st.lists(st.sampled_from(["data", "event", "id", "comment"]), min_size=1, max_size=4)
_ODD_LINES = st.sampled_from(
    ["", "retry: 7", "retry: x", "data:y", "data", "data: z", "event", "id: \x00", ": c", "x: y"]
)
_VALUE = st.text(
    alphabet=st.sampled_from(["a", " ", ":", "é", "世", "🎉", "\u2028", "\x00", "\ufeff", "1"]),
    max_size=5,
)
_PREFIX = {"data": "data: ", "event": "event: ", "id": "id: ", "comment": ":"}


@st.composite
def uniform_streams(draw: st.DrawFn) -> bytes:
    """Events of one shape, sometimes one of them changed (or two merged), then a pending
    event, with any line end."""
    if draw(st.integers(0, 7)):
        shape = [
            *draw(_KINDS),
            "data",
            *draw(st.lists(st.sampled_from(["event", "id"]), max_size=1)),
        ]
    else:
        shape = draw(_ODD_SHAPES)  # maybe no data line, or two
    events = [
        [_PREFIX[kind] + draw(_VALUE) for kind in shape] for _ in range(draw(st.integers(1, 12)))
    ]
    index = draw(st.integers(0, len(events) - 1))
    event = events[index]
    change = draw(st.sampled_from(["none", "none", "nul", "add", "remove", "replace", "merge"]))
    if change == "nul" and "id" in shape:
        event[shape.index("id")] += "\x00"  # an ID with NUL is ignored
    elif change == "add":
        event.insert(draw(st.integers(0, len(event))), draw(_ODD_LINES))
    elif change == "remove":
        del event[draw(st.integers(0, len(event) - 1))]
    elif change == "replace":
        event[draw(st.integers(0, len(event) - 1))] = draw(_ODD_LINES)
    elif change == "merge" and index + 1 < len(events):
        # A line where the blank line between two events was: one event of twice the lines.
        events[index : index + 2] = [event + [draw(_ODD_LINES.filter(bool))] + events[index + 1]]
    end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = "".join(end.join(lines) + end + end for lines in events)
    if draw(st.booleans()):
        text += "data: pending" + end  # an event without its blank line
    body = text.encode()
    if draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body
    return body


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(body=uniform_streams(), data=st.data())
def test_streams_of_one_shape_split_anywhere(body: bytes, data: st.DataObject) -> None:
    expected = reference(body)
    assert sse([body]) == expected
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=8))
    assert sse(pieces(body, cuts)) == expected
    # A small max_event_bytes: the events near it take the exact count; none passes it here
    # (nor the pending "data: pending", 8 bytes with its LF, counted although discarded).
    limit = max([len(event.data.encode()) + 1 for event in expected[0]] + [8])
    assert sse(pieces(body, cuts), max_event_bytes=limit) == expected


@settings(max_examples=100)
@given(body=uniform_streams(), cut=st.integers(0, 200))
def test_the_line_parser_agrees_on_streams_of_one_shape(body: bytes, cut: int) -> None:
    fast = sse(pieces(body, [cut]))
    with mock.patch.object(_decoders, "_DRAFTS", False):
        assert sse(pieces(body, [cut])) == fast


# -- the line splitter ------------------------------------------------------------------------


def lines_of(chunks: list[bytes], **options: int) -> list[str]:
    decoder = LineDecoder(**options)
    out: list[str] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out + decoder.flush()


def reference_lines(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    return lines


@pytest.mark.parametrize(
    "chunks",
    [
        [b"ab", b"c\nd", b"e\n"],  # tail joined with the chunk up to its last line end
        [b"ab", b"c\rd", b"e\r\n"],  # a CR in the chunk: normalised
        [b"ab\r", b"cd\n"],  # no CR in this chunk, but the run started after one
        [b"ab", b"\r", b"\ncd\r\n"],
        [b"a\xc3", b"\xa9b\nc\xe2\x82", b"\xac\n"],  # characters split across chunks
        [b"a\xc3\n", b"\xa9\n"],  # invalid: replaced
        [b"no line end", b" at all"],
        [b"\n\n", b"\r\r\n"],
    ],
)
def test_splitter_chunks(chunks: list[bytes]) -> None:
    assert lines_of(chunks) == reference_lines(b"".join(chunks))


def test_splitter_limits_count_the_tail() -> None:
    # 10 bytes in the tail + 1 in the chunk: 11, past the limit, whether or not the chunk
    # ends a line.
    with pytest.raises(HTTPStreamLimitError):
        lines_of([b"x" * 10, b"y"], max_line_bytes=10)
    with pytest.raises(HTTPStreamLimitError):
        lines_of([b"x" * 10, b"y\n"], max_line_bytes=10)
    with pytest.raises(HTTPStreamLimitError):
        lines_of([b"x" * 6, b"yyyy\n" + b"z" * 11], max_line_bytes=10)
    assert lines_of([b"x" * 6, b"yyyy\n" + b"z" * 10], max_line_bytes=10) == [
        "x" * 6 + "yyyy",
        "z" * 10,
    ]
    # A run longer than the limit, its long line in the middle.
    with pytest.raises(HTTPStreamLimitError):
        lines_of([b"a\n" + b"b" * 11 + b"\nc\n"], max_line_bytes=10)
    assert lines_of([b"a\n" + b"b" * 10 + b"\nc\n"], max_line_bytes=10) == ["a", "b" * 10, "c"]


@settings(max_examples=300)
@given(
    parts=st.lists(
        st.one_of(
            st.text(alphabet="ab é\u2028", max_size=8).map(str.encode),
            st.sampled_from([b"\n", b"\r", b"\r\n", b"\xff", b"\xe2\x82"]),
        ),
        max_size=30,
    ),
    data=st.data(),
    limit=st.integers(1, 12),
)
def test_splitter_limit_is_exact_for_any_split(
    parts: list[bytes], data: st.DataObject, limit: int
) -> None:
    body = b"".join(parts)
    chunks = pieces(body, data.draw(st.lists(st.integers(0, len(body)), max_size=8)))
    longest = max(map(len, re.split(rb"\r\n|\r|\n", body)))
    if longest > limit:
        with pytest.raises(HTTPStreamLimitError):
            lines_of(chunks, max_line_bytes=limit)
    else:
        assert lines_of(chunks, max_line_bytes=limit) == reference_lines(body)


# -- NDJSON runs ------------------------------------------------------------------------------


def ndjson(chunks: list[bytes], **options: int) -> list[Any]:
    decoder = NDJSONDecoder(**options)
    values: list[Any] = []
    for chunk in chunks:
        values += decoder.feed(chunk)
    return values + decoder.flush()


def test_ndjson_runs_with_a_tail() -> None:
    assert ndjson([b'{"a": ', b"1}\n[2", b"]\n3\n", b"4"]) == [{"a": 1}, [2], 3, 4]
    assert ndjson([b'"\xc3', b'\xa9"\n"\xe2\x82', b'\xac"\n']) == ["é", "€"]


def test_ndjson_invalid_utf8_across_chunks_reports_its_line() -> None:
    with pytest.raises(HTTPDecodeError) as caught:
        ndjson([b'1\n2\n"\xc3', b'"\n3\n'])
    assert caught.value.line == 3
    assert caught.value.detail == "invalid UTF-8"


def test_ndjson_limits_count_the_tail() -> None:
    with pytest.raises(HTTPStreamLimitError):
        ndjson([b"1" * 10, b"1"], max_line_bytes=10)
    with pytest.raises(HTTPStreamLimitError):
        ndjson([b"1" * 10, b"1\n"], max_line_bytes=10)
    assert ndjson([b"1" * 6, b"1111\n" + b"2" * 10], max_line_bytes=10) == [
        1111111111,
        2222222222,
    ]


def test_ndjson_values_do_not_keep_the_chunk() -> None:
    # The run is decoded when fed: the caller may reuse its buffer at once.
    decoder = NDJSONDecoder()
    buffer = bytearray(b'{"a": 1}\n{"b": 2}\n{"c"')
    values: Iterator[Any] = decoder.iter_feed(buffer)  # type: ignore[arg-type]
    buffer[:] = b"garbage"
    assert list(values) == [{"a": 1}, {"b": 2}]
    assert decoder.feed(b": 3}\n") == [{"c": 3}]

"""``SSEDecoder`` against the WHATWG HTML standard, "9.2.6 Interpreting an event stream".

Each rule of the algorithm has a test here, and the standard's own examples are replayed. Every
stream is also decoded fed one byte at a time, so no rule depends on where chunks happen to
split. The property tests compare any split of generated streams with a line-by-line
transcription of the standard (:func:`reference`).
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import HTTPStreamLimitError, ServerSentEvent
from lexigram.http import SSEDecoder

E = ServerSentEvent


def reference(body: bytes) -> tuple[list[ServerSentEvent], str | None, int | None]:
    """The standard, transcribed: events, then the last event ID and reconnection time."""
    text = body.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # an unterminated last line cannot complete an event: discarded at the end
    data, type_, id_buffer = "", "", None
    last_id: str | None = None
    retry: int | None = None
    event_retry: int | None = None
    events: list[ServerSentEvent] = []
    for line in lines:
        if line == "":
            last_id = id_buffer
            if data:
                data = data.removesuffix("\n")
                events.append(E(data=data, event=type_ or "message", id=last_id, retry=event_retry))
            data, type_, event_retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
        else:
            field, value = line, ""
        if field == "event":
            type_ = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\x00" not in value:
                id_buffer = value
        elif field == "retry" and value and all(char in "0123456789" for char in value):
            retry = event_retry = int(value)
    return events, last_id, retry


def decode(body: bytes, *, step: int | None = None) -> list[ServerSentEvent]:
    """Decode ``body`` in one chunk, and in chunks of ``step`` bytes; check both agree."""
    whole = SSEDecoder()
    events = whole.feed(body) + whole.flush()
    pieces = SSEDecoder()
    size = step or 1
    chunked: list[ServerSentEvent] = []
    for start in range(0, len(body), size):
        chunked += pieces.feed(body[start : start + size])
    chunked += pieces.flush()
    assert chunked == events
    assert (pieces.last_event_id, pieces.retry) == (whole.last_event_id, whole.retry)
    assert (events, whole.last_event_id, whole.retry) == reference(body)
    return events


# -- the standard's examples ------------------------------------------------------------------


def test_example_multi_line_data() -> None:
    body = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert decode(body) == [E(data="YHOO\n+2\n10")]


def test_example_comment_ids_and_leading_space() -> None:
    body = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n"
    )
    assert decode(body) == [
        E(data="first event", id="1"),
        E(data="second event", id=""),  # "id" without a value resets the last event ID
        E(data=" third event", id=""),  # one space is removed, not two
    ]


def test_example_empty_data_and_discarded_last_block() -> None:
    body = b"data\n\ndata\ndata\n\ndata:"
    assert decode(body) == [E(data=""), E(data="\n")]


def test_example_space_after_colon_is_optional() -> None:
    assert decode(b"data:test\n\ndata: test\n\n") == [E(data="test"), E(data="test")]


# -- decoding and line ends -----------------------------------------------------------------


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_each_line_end(end: bytes) -> None:
    body = end.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert decode(body) == [E(data="a\nb", event="e"), E(data="c")]


def test_mixed_line_ends() -> None:
    assert decode(b"data: a\r\ndata: b\rdata: c\n\r\n") == [E(data="a\nb\nc")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF pairs with the CR: no blank line yet
    assert decoder.feed(b"\r") == [E(data="a")]


def test_cr_at_a_chunk_end_then_another_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"data: b\r\r") == [E(data="a\nb")]


def test_cr_cr_is_a_blank_line_even_split() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [E(data="a")]


def test_utf8_split_across_chunks() -> None:
    body = "data: héllo → 世界 🎉\n\n".encode()
    assert decode(body, step=1) == [E(data="héllo → 世界 🎉")]


def test_invalid_utf8_is_replaced() -> None:
    assert decode(b"data: a\xffb\xe2\x82\n\n") == [E(data="a\ufffdb\ufffd")]


def test_u2028_and_other_unicode_separators_do_not_end_lines() -> None:
    body = "data: a\u2028b\u2029c\x85d\x0be\x1cf\n\n".encode()
    assert decode(body) == [E(data="a\u2028b\u2029c\x85d\x0be\x1cf")]


def test_leading_bom_is_removed() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n") == [E(data="a")]


def test_leading_bom_split_across_chunks() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: a\n\n") == [E(data="a")]


def test_only_one_bom_is_removed() -> None:
    # The second BOM starts the field name, so "\ufeffdata" is an unknown field.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == [E(data="b")]


def test_a_bom_later_in_the_stream_is_data() -> None:
    assert decode(b"data: \xef\xbb\xbfa\n\n") == [E(data="\ufeffa")]


# -- fields ---------------------------------------------------------------------------------


def test_comments_are_ignored() -> None:
    assert decode(b":\n: hello\ndata: a\n:data: b\n\n") == [E(data="a")]


def test_a_comment_only_block_dispatches_nothing() -> None:
    assert decode(b": keep-alive\n\n: keep-alive\n\n") == []


def test_only_one_leading_space_is_removed() -> None:
    assert decode(b"data:  a \n\nevent:  t\ndata:x\n\n") == [
        E(data=" a "),
        E(data="x", event=" t"),
    ]


def test_a_line_without_colon_is_a_field_with_an_empty_value() -> None:
    assert decode(b"data\n\nevent\ndata: x\n\n") == [E(data=""), E(data="x")]


def test_the_value_keeps_further_colons() -> None:
    assert decode(b'data: {"a": "b:c"}\n\n') == [E(data='{"a": "b:c"}')]


def test_unknown_fields_are_ignored() -> None:
    assert decode(b"foo: bar\ndata: a\nDATA: b\nData: c\n data: d\n\n") == [E(data="a")]


def test_event_sets_the_type_and_resets_after_dispatch() -> None:
    body = b"event: add\ndata: 1\n\ndata: 2\n\nevent: x\nevent: remove\ndata: 3\n\n"
    assert decode(body) == [E(data="1", event="add"), E(data="2"), E(data="3", event="remove")]


def test_an_empty_event_type_means_message() -> None:
    assert decode(b"event:\ndata: a\n\nevent: \ndata: b\n\n") == [E(data="a"), E(data="b")]


def test_data_lines_join_with_lf_and_lose_one_trailing_lf() -> None:
    assert decode(b"data: a\ndata:\ndata: b\ndata:\n\n") == [E(data="a\n\nb\n")]


def test_empty_data_is_an_event() -> None:
    assert decode(b"data:\n\ndata\n\n") == [E(data=""), E(data="")]


def test_no_data_no_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: ping\n\nid: 7\n\nretry: 10\n\n") == []
    assert decoder.feed(b"data: after\n\n") == [E(data="after", id="7")]  # type was reset


def test_id_persists_across_events_until_set_again() -> None:
    body = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid:\ndata: d\n\n"
    assert decode(body) == [
        E(data="a", id="1"),
        E(data="b", id="1"),
        E(data="c", id="2"),
        E(data="d", id=""),
    ]


def test_id_with_nul_is_ignored() -> None:
    body = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid: \x00\ndata: c\n\n"
    assert decode(body) == [E(data="a", id="1"), E(data="b", id="1"), E(data="c", id="1")]


def test_id_may_hold_anything_else() -> None:
    assert decode("id: ⟨é:1 2⟩\ndata: a\n\n".encode()) == [E(data="a", id="⟨é:1 2⟩")]


def test_the_last_event_id_is_set_on_every_blank_line() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 5\n")
    assert decoder.last_event_id is None  # not before the blank line
    decoder.feed(b"\n")  # nothing dispatched, but the ID is now the last event ID
    assert decoder.last_event_id == "5"


def test_last_event_id_can_start_from_a_previous_connection() -> None:
    decoder = SSEDecoder(last_event_id="41")
    assert decoder.feed(b"data: a\n\nid: 42\ndata: b\n\n") == [
        E(data="a", id="41"),
        E(data="b", id="42"),
    ]


def test_retry_with_ascii_digits_sets_the_reconnection_time() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 2500\ndata: a\n\ndata: b\n\n") == [
        E(data="a", retry=2500),
        E(data="b"),  # an event's retry is the one it carried
    ]
    assert decoder.retry == 2500
    decoder.feed(b"retry: 0010\n\n")  # set even without a dispatch
    assert decoder.retry == 10


@pytest.mark.parametrize(
    "value",
    ["", " ", "12a", "-1", "+1", "1.5", "1e3", " 12", "12 ", "١٢", "²", "0x10", "1_000"],
)
def test_retry_with_anything_but_ascii_digits_is_ignored(value: str) -> None:
    decoder = SSEDecoder()
    body = f"retry: 100\n\nretry: {value}\ndata: a\n\n".encode()
    assert decoder.feed(body) == [E(data="a")]
    assert decoder.retry == 100


def test_an_unterminated_last_event_is_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\nid: 9\ndata: b\n") == [E(data="a")]
    assert decoder.flush() == []
    assert decoder.last_event_id is None  # the ID never reached a blank line


def test_the_end_of_the_stream_is_not_a_blank_line() -> None:
    assert decode(b"data: a\n") == []
    assert decode(b"data: a") == []
    assert decode(b"data: a\r") == []


def test_flush_readies_the_decoder_for_a_reconnection() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 50\nid: 3\ndata: a\n\ndata: partial\n")
    decoder.flush()
    # A new connection: its BOM is removed again; ID and reconnection time carry over.
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [E(data="b", id="3")]
    assert (decoder.last_event_id, decoder.retry) == ("3", 50)


def test_events_of_the_usual_shapes_match_the_line_parser() -> None:
    # The decoder builds these straight from their block; the reference decides.
    body = (
        b"data: a\n\nevent: t\ndata: b\n\nevent: \ndata: c\n\nevent: t\ndata: d\ndata: e\n\n"
        b"event: t\nid: 1\ndata: f\n\nid: 2\n\ndata: g\n\nevent: u\ndata:h\n\n\n\ndata: i\n\n"
        b"id: 3\ndata: j\n\ndata: k\n\nid: \x00\ndata: l\n\nid: \ndata: m\n\nid:  4\ndata: n\n\n"
        b"id: 5\nevent: u\ndata: o\n\nevent: v\nevent: \nid: 6\ndata: p\n\n: c\n\ndata: q\n\n"
    )
    assert decode(body) == [
        E(data="a"),
        E(data="b", event="t"),
        E(data="c"),
        E(data="d\ne", event="t"),
        E(data="f", event="t", id="1"),
        E(data="g", id="2"),
        E(data="h", event="u", id="2"),
        E(data="i", id="2"),
        E(data="j", id="3"),
        E(data="k", id="3"),
        E(data="l", id="3"),
        E(data="m", id=""),
        E(data="n", id=" 4"),
        E(data="o", event="u", id="5"),
        E(data="p", id="6"),
        E(data="q", id="6"),
    ]


def test_a_pending_event_continues_across_feeds() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: t\n") == []
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [E(data="a", event="t"), E(data="b")]


def test_fast_built_events_are_real_server_sent_events() -> None:
    import dataclasses
    import pickle

    (event,) = SSEDecoder().feed(b"event: t\ndata: x\n\n")
    assert type(event) is ServerSentEvent
    assert event == E(data="x", event="t")
    assert hash(event) == hash(E(data="x", event="t"))
    assert pickle.loads(pickle.dumps(event)) == event
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]


def test_without_the_fast_path_the_line_parser_gives_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lexigram.http import _decoders

    body = b"data: a\n\nevent: t\ndata: b\n\nid: 1\ndata: c\ndata: d\n\n"
    fast = SSEDecoder().feed(body)
    monkeypatch.setattr(_decoders, "_DRAFTS", False)
    assert SSEDecoder().feed(body) == fast == reference(body)[0]


# -- limits -----------------------------------------------------------------------------------


def test_a_line_over_max_line_bytes_raises() -> None:
    decoder = SSEDecoder(max_line_bytes=16)
    assert decoder.feed(b"data: " + b"x" * 10 + b"\n") == []  # 16 bytes: at the limit
    with pytest.raises(HTTPStreamLimitError) as caught:
        decoder.feed(b"data: " + b"x" * 11 + b"\n")
    assert (caught.value.limit_name, caught.value.limit) == ("max_line_bytes", 16)


def test_an_endless_line_fails_without_buffering_past_the_limit() -> None:
    decoder = SSEDecoder(max_line_bytes=1000)
    decoder.feed(b"data: ")
    for _ in range(9):
        decoder.feed(b"x" * 100)
    with pytest.raises(HTTPStreamLimitError):
        decoder.feed(b"x" * 100)  # 6 + 1000 bytes
    assert len(decoder._splitter._tail) <= 1000


def test_an_event_over_max_event_bytes_raises() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 1234\ndata: 1234\n\n") == [E(data="1234\n1234")]  # 10 bytes
    with pytest.raises(HTTPStreamLimitError) as caught:
        decoder.feed(b"data: 1234\ndata: 12345\n\n")
    assert (caught.value.limit_name, caught.value.limit) == ("max_event_bytes", 10)


def test_max_event_bytes_counts_utf8_bytes_not_characters() -> None:
    decoder = SSEDecoder(max_event_bytes=40)
    assert decoder.feed(("data: " + "é" * 19 + "\n\n").encode()) == [E(data="é" * 19)]  # 39
    with pytest.raises(HTTPStreamLimitError):
        decoder.feed(("data: " + "é" * 20 + "\n\n").encode())  # 41 bytes with its LF
    with pytest.raises(HTTPStreamLimitError):
        SSEDecoder(max_event_bytes=40).feed(("data: " + "🎉" * 10 + "\n\n").encode())


def test_limits_must_be_positive_ints() -> None:
    with pytest.raises(ValueError, match="max_line_bytes"):
        SSEDecoder(max_line_bytes=0)
    with pytest.raises(TypeError, match="max_event_bytes"):
        SSEDecoder(max_event_bytes=1.5)  # type: ignore[arg-type]


# -- properties: any split gives the same events ------------------------------------------

_VALUES = st.text(
    alphabet=st.sampled_from(
        ["a", "b", " ", ":", "é", "世", "🎉", "\u2028", "\x00", "\ufeff", "1", "0", "{", '"']
    ),
    max_size=8,
)
_NAMES = st.sampled_from(["data", "event", "id", "retry", "", "foo", "Data", " data", "\ufeff"])
_LINES = st.one_of(
    st.builds(lambda n, v: f"{n}:{v}", _NAMES, _VALUES),
    st.builds(lambda n, v: f"{n}: {v}", _NAMES, _VALUES),
    st.builds(lambda v: f"retry: {v}", st.from_regex(r"[0-9]{0,4}x?", fullmatch=True)),
    _NAMES,
    st.just(""),
    st.builds(lambda v: f":{v}", _VALUES),
)
_ENDS = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(_LINES, _ENDS), max_size=24))
    text = "".join(line + end for line, end in lines)
    if draw(st.booleans()):
        text += draw(_LINES)  # an unterminated tail
    body = text.encode()
    if draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body
    if draw(st.booleans()):
        # Some bytes that are not UTF-8, anywhere.
        at = draw(st.integers(0, len(body)))
        body = (
            body[:at] + draw(st.sampled_from([b"\xff", b"\xe2\x82", b"\xc3", b"\x80"])) + body[at:]
        )
    return body


@st.composite
def splits(draw: st.DrawFn, body: bytes) -> list[bytes]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(body)), max_size=12))))
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), body=streams())
def test_any_split_gives_the_events_of_the_standard(data: st.DataObject, body: bytes) -> None:
    expected = reference(body)
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in data.draw(splits(body)):
        events += decoder.feed(chunk)
    events += decoder.flush()
    assert (events, decoder.last_event_id, decoder.retry) == expected


@settings(max_examples=150)
@given(body=streams())
def test_byte_by_byte_gives_the_events_of_the_standard(body: bytes) -> None:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for index in range(len(body)):
        events += decoder.feed(body[index : index + 1])
    events += decoder.flush()
    assert (events, decoder.last_event_id, decoder.retry) == reference(body)


@settings(max_examples=200)
@given(
    tokens=st.lists(st.text(min_size=0, max_size=12), max_size=20),
    end=_ENDS,
    data=st.data(),
)
def test_llm_shaped_streams_split_anywhere(
    tokens: list[str], end: str, data: st.DataObject
) -> None:
    # Mostly the shapes the decoder builds without its line parser, with CRLF and
    # multi-byte characters falling on the splits.
    heads = [
        "",
        "event: delta",
        "id: 7",
        "event: ",
        "id: ",
        "id: a\x00b",
        "event:x",
        "id:9",
        "id: 8{end}event: e",
        "event: a{end}id: 9{end}event: b",
        "event: c{end}id: \x00",
        "event: d{end}: note",
    ]
    text = "".join(
        (heads[index % len(heads)].format(end=end) + end if index % len(heads) else "")
        + f"data: {token.replace(chr(13), '').replace(chr(10), '')}{end}{end}"
        for index, token in enumerate(tokens)
    )
    body = text.encode()
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in data.draw(splits(body)):
        events += decoder.feed(chunk)
    assert (events, decoder.last_event_id, decoder.retry) == reference(body)

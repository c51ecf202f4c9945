"""Incremental, bounded decoders for streamed bodies: lines, Server-Sent Events, NDJSON.

Each decoder is fed raw ``bytes`` chunks as they arrive, split anywhere (inside a CRLF, inside
a UTF-8 sequence, inside a BOM), and returns what became complete. A chunk is cut after its
last line end; only the unfinished tail is kept, in a ``bytearray`` that never grows past
``max_line_bytes``. The complete lines before it are decoded as one run (never a chunk that ends
inside a character) and split with ``str`` methods: no per-byte or per-line Python loop runs.

- :class:`LineDecoder`: lines ending in LF, CRLF or CR (a CR at the end of a chunk waits for
  the next chunk before the decoder decides whether an LF belongs to it). UTF-8, invalid bytes
  replaced, a leading BOM removed (the WHATWG "UTF-8 decode").
- :class:`SSEDecoder`: the WHATWG HTML "event stream interpretation", exactly. A run whose
  events all have the same lines (``data: X``, with ``event:`` / ``id:`` / comment lines) is
  read column by column; other events take a per-event path, or the line-by-line parser.
- :class:`NDJSONDecoder`: one JSON text per line; lines end with LF only (a CR before it is JSON
  whitespace), so U+2028, U+2029 or a lone CR inside a line never split it; blank lines are
  skipped; a bad line raises :class:`HTTPDecodeError` with its 1-based number. With msgspec
  installed (the ``speedups`` extra) it parses the lines, with the values and errors of the
  standard library's ``json`` (see ``lexigram.contracts.web._json``).

Past a limit they raise :class:`HTTPStreamLimitError` instead of buffering more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat as _repeat
from json import JSONDecodeError
from json import loads as _json_loads
from json.decoder import JSONDecoder
from typing import Any, Final

from lexigram.contracts.web import HTTPDecodeError, HTTPStreamLimitError, ServerSentEvent, _json

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "LineDecoder",
    "NDJSONDecoder",
    "SSEDecoder",
]

DEFAULT_MAX_LINE_BYTES: Final = 1024 * 1024
"""Longest line (without its line end) a stream decoder accepts: 1 MiB."""
DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024
"""Most ``data`` one server-sent event may accumulate: 16 MiB."""

_BOM: Final = b"\xef\xbb\xbf"
_LF: Final = 10
_CR: Final = 13
_COLON: Final = 58

# The C scanner behind json.loads, without its per-call type checks, encoding detection and
# two whitespace regex runs: about 3x faster on typical NDJSON lines. Anything it does not
# accept outright (leading whitespace, trailing garbage, errors) goes through json.loads, which
# gives the exact answer or error.
_scan_once: Final[Callable[[str, int], tuple[Any, int]]] = JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE: Final = " \t\r\n"

# Building events is most of the per-event cost of an SSE stream. ServerSentEvent is a frozen
# dataclass: its generated __init__ sets each field through object.__setattr__ (0.7 us an
# event on the reference machine). The line parser sets the slots through their descriptors
# instead (0.45 us). The fast path fills a plain object with the same slots and then gives it
# its class (0.18 us): CPython allows the switch between classes of identical layout, and the
# object is then a ServerSentEvent in every respect (type, equality, hash, pickling). Checked
# once here; if the layout ever differs, the fast path is off and the line parser does it all.
_new_event: Final = object.__new__
_set_data: Final = ServerSentEvent.__dict__["data"].__set__
_set_type: Final = ServerSentEvent.__dict__["event"].__set__
_set_id: Final = ServerSentEvent.__dict__["id"].__set__
_set_retry: Final = ServerSentEvent.__dict__["retry"].__set__


class _Draft:
    """A ServerSentEvent being built (see above)."""

    __slots__ = ("data", "event", "id", "retry")


def _drafts_work() -> bool:
    try:
        draft: Any = _Draft()
        draft.data, draft.event, draft.id, draft.retry = "d", "e", "i", 1
        draft.__class__ = ServerSentEvent
    except (TypeError, AttributeError):
        return False
    return type(draft) is ServerSentEvent and draft == ServerSentEvent("d", "e", "i", 1)


_DRAFTS: Final = _drafts_work()


def _check_limit(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return value


def _too_long(name: str, limit: int) -> HTTPStreamLimitError:
    return HTTPStreamLimitError(limit_name=name, limit=limit)


class _Splitter:
    """Cuts a byte stream after its last line end (CR, LF or CRLF); keeps the unfinished tail.

    :meth:`text` returns the complete lines a chunk finished as one ``str``, every line end
    turned into LF (empty if none): the decoders split that run at once. One decode for the
    whole run: decoding line by line would give the same text (line ends are ASCII, and the
    UTF-8 decoder never swallows an ASCII byte into a replacement), at a fraction of the cost.
    The run is decoded straight from the chunk (a ``memoryview``), or from the unfinished tail
    joined with it, and CRs are looked for in the text only if the chunk holds one.
    """

    __slots__ = ("_cr", "_limit", "_start", "_tail")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tail = bytearray()
        self._cr = False  # the last run ended with CR: an LF first in the next chunk is its pair
        self._start = True  # the BOM is not decided yet

    def text(self, chunk: bytes) -> str:
        if self._start:
            chunk = self._strip_bom(chunk)
        if not chunk:
            return ""
        if self._cr:
            self._cr = False
            if chunk[0] == _LF:
                chunk = chunk[1:]
                if not chunk:
                    return ""
        tail = self._tail
        limit = self._limit
        size = len(chunk)
        last = chunk[-1]
        if last in (_LF, _CR):
            end = size
            self._cr = last == _CR
            cr = 0  # not looked for
        else:
            cr = chunk.rfind(b"\r")
            end = max(chunk.rfind(b"\n"), cr) + 1
            if size - end + (0 if end else len(tail)) > limit:
                raise _too_long("max_line_bytes", limit)
        run: bytes | bytearray | memoryview
        if tail:
            if not end:
                tail += chunk
                return ""
            run = b"".join((tail, memoryview(chunk)[:end] if end < size else chunk))
            tail.clear()
        elif end < size:
            run = memoryview(chunk)[:end]
        else:
            run = chunk
        if end < size:
            tail += memoryview(chunk)[end:]
        # Only a run longer than the limit can hold a line longer than it.
        if len(run) > limit and max(map(len, bytes(run).splitlines())) > limit:
            raise _too_long("max_line_bytes", limit)
        if not run:
            return ""
        text = str(run, "utf-8", "replace")
        # ``cr < 0``: the chunk holds no CR (nor does the tail, which holds no line end).
        if cr >= 0 and "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def _strip_bom(self, chunk: bytes) -> bytes:
        tail = self._tail
        if tail:
            chunk = b"".join((tail, chunk))
            tail.clear()
        if len(chunk) < 3 and _BOM.startswith(chunk):
            tail += chunk  # maybe the start of a BOM: wait for more
            return b""
        self._start = False
        return chunk[3:] if chunk.startswith(_BOM) else chunk

    def flush(self) -> bytes | None:
        """The unterminated last line at the end of the stream, if any; then ready for a new
        stream (whose BOM is removed again)."""
        self._cr = False
        self._start = True
        if not self._tail:
            return None
        line = bytes(self._tail)
        self._tail.clear()
        return line


class LineDecoder:
    """Splits a byte stream into text lines (without their line ends).

    ``feed(chunk)`` returns the lines completed by ``chunk``; ``flush()`` at the end of the
    stream returns the last line if it had no line end. Lines end with LF, CRLF or CR; the
    text is UTF-8 with invalid bytes replaced by U+FFFD and a leading BOM removed (the WHATWG
    "UTF-8 decode"). A line longer than ``max_line_bytes`` raises
    :class:`HTTPStreamLimitError`.
    """

    __slots__ = ("_splitter",)

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._splitter = _Splitter(_check_limit(max_line_bytes, "max_line_bytes"))

    def feed(self, chunk: bytes) -> list[str]:
        """Add ``chunk``; return the lines it completed."""
        text = self._splitter.text(chunk)
        if not text:
            return []
        lines = text.split("\n")
        lines.pop()  # the run ends with a line end: the last piece is empty
        return lines

    def flush(self) -> list[str]:
        """End of stream: the last line if it had no line end."""
        line = self._splitter.flush()
        return [] if line is None else [line.decode("utf-8", "replace")]


class SSEDecoder:
    """The WHATWG HTML event-stream parser: bytes in, :class:`ServerSentEvent` out.

    Exactly as the HTML standard's "interpreting an event stream": UTF-8 decoded with
    replacement and a leading BOM removed once; lines end with CRLF, LF or CR; an empty line
    dispatches; a line starting with ``:`` is a comment; ``name:value`` loses one space after
    the colon; a line without a colon is a field with an empty value. ``event`` sets the type,
    ``data`` appends its value and a LF, ``id`` sets the last event ID unless the value holds
    NUL, ``retry`` sets the reconnection time if the value is ASCII digits only; other fields
    are ignored. On dispatch the last event ID is updated; an event with no data is not
    dispatched; one trailing LF is removed from the data; the type defaults to ``"message"``.
    At the end of the stream an event without its closing empty line is discarded.

    :attr:`last_event_id` and :attr:`retry` (the reconnection time in ms) persist across
    events, as an ``EventSource`` keeps them; an event's ``retry`` is set only if that event
    carried a valid ``retry`` field. ``max_line_bytes`` bounds a line and ``max_event_bytes``
    the data of one event (UTF-8 bytes, a LF per line included); past either,
    :class:`HTTPStreamLimitError`.
    """

    __slots__ = (
        "_data",
        "_event_retry",
        "_fast_watch",
        "_id_buffer",
        "_last_id",
        "_max_event",
        "_open",
        "_retry",
        "_size",
        "_splitter",
        "_type",
        "_watch",
    )

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        last_event_id: str | None = None,
    ) -> None:
        self._splitter = _Splitter(_check_limit(max_line_bytes, "max_line_bytes"))
        self._max_event = _check_limit(max_event_bytes, "max_event_bytes")
        # Data is counted in characters, a lower bound of its UTF-8 size; past a quarter of the
        # limit (where 4-byte characters could pass it) the count switches to exact bytes.
        self._watch = self._max_event // 4
        # An event of one data line is bounded by the line limit already: when that is the
        # smaller one, such events need no size check at all.
        line_limit = self._splitter._limit
        self._fast_watch = sys.maxsize if line_limit <= self._max_event else self._watch
        self._data: list[str] = []
        self._size = 0
        self._type = ""
        self._id_buffer = last_event_id
        self._last_id = last_event_id
        self._event_retry: int | None = None
        self._retry: int | None = None
        # Lines of an event were parsed and its blank line has not come yet (the run ended
        # inside it): the next run must not be read as starting at an event boundary.
        self._open = False

    @property
    def last_event_id(self) -> str | None:
        """The last event ID string (``None`` until an ``id`` field reached a dispatch)."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds set by the latest valid ``retry`` field."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Add ``chunk``; return the events it dispatched."""
        return list(self.iter_feed(chunk))

    def iter_feed(self, chunk: bytes) -> Iterator[ServerSentEvent]:
        """Add ``chunk``; yield the events it dispatched, one at a time (consume them all).

        Lazier than :meth:`feed`: a large chunk never holds all its events at once, which
        spares the garbage collector most of its work on a fast stream.
        """
        text = self._splitter.text(chunk)
        if not text:
            return
        event: Any
        if self._open:
            # An event is pending: the run's first blank line ends it, through the line parser.
            if text[0] == "\n":
                end = 1
            else:
                end = text.find("\n\n") + 2
                if end == 1:
                    yield from self._parse(text[:-1].split("\n"))
                    return
            yield from self._parse(text[: end - 1].split("\n"))
            text = text[end:]
            if not text:
                return
        if _DRAFTS:
            # The usual case: every event of the run has the same lines (see _columns).
            columns = self._columns(text)
            if columns is not None:
                datas, types, ids, cut = columns
                draft, cls = _Draft, ServerSentEvent
                if ids is None:
                    id_ = self._last_id = self._id_buffer
                    for value, type_ in zip(datas, types, strict=False):
                        event = draft()
                        event.data = value
                        event.event = type_
                        event.id = id_
                        event.retry = None
                        event.__class__ = cls
                        yield event
                else:
                    for value, type_, id_ in zip(datas, types, ids, strict=False):
                        # Before the event leaves: the state is that of its dispatch.
                        self._id_buffer = self._last_id = id_
                        event = draft()
                        event.data = value
                        event.event = type_
                        event.id = id_
                        event.retry = None
                        event.__class__ = cls
                        yield event
                if cut < len(text):
                    # Complete lines, no blank line after them yet: buffered until one comes.
                    yield from self._parse(text[cut:-1].split("\n"))
                return
        # The run, cut at its blank lines: each piece but the last is one event's lines (its
        # blank line is the separator), the last is the start of the next event. Events of
        # the usual shapes, one ``data: X`` line alone or after ``event: T`` / ``id: N`` lines,
        # are built straight from their piece (comment-only pieces skipped); any other piece goes
        # through the line-by-line parser, which is the reference. Both give the same result
        # (the property tests check it).
        blocks = text.split("\n\n")
        rest = blocks.pop()
        # Lines for the line parser, gathered over consecutive pieces so that it runs once per
        # stretch of them rather than once per event.
        general: list[str] = []
        if blocks:
            id_ = self._id_buffer
            # Every piece ends with a dispatch, which sets the last event ID to the ID buffer;
            # only the line parser and the ``id: N`` shape below change that buffer.
            self._last_id = id_
            simple = _DRAFTS and not (self._data or self._type or self._event_retry is not None)
            watch = self._fast_watch
            draft, cls = _Draft, ServerSentEvent
            for block in blocks:
                if simple:
                    type_ = ""
                    new_id = None
                    if block.startswith("data: "):
                        if "\n" not in block:
                            type_ = "message"
                            value = block[6:]
                    elif block.startswith(":"):
                        if "\n" not in block:
                            continue  # a comment, then a blank line: nothing to dispatch
                    else:
                        # ``data: X`` last, after ``event: T`` and / or ``id: N`` lines.
                        head, newline, last = block.rpartition("\n")
                        if newline and last.startswith("data: "):
                            type_ = "message"
                            for field in head.split("\n") if "\n" in head else (head,):
                                if field.startswith("event: "):
                                    type_ = field[7:] or "message"
                                elif field.startswith("id: ") and "\x00" not in field:
                                    new_id = field[4:]
                                else:
                                    type_ = ""  # anything else: the line parser decides
                                    break
                            value = last[6:]
                    if type_:
                        if general:
                            yield from self._parse(general)
                            general = []
                            id_ = self._id_buffer
                        if new_id is not None:
                            id_ = self._id_buffer = self._last_id = new_id
                        if len(value) >= watch:
                            self._grow(0, value)
                        event = draft()
                        event.data = value
                        event.event = type_
                        event.id = id_
                        event.retry = None
                        event.__class__ = cls
                        yield event
                        continue
                general.extend(block.split("\n"))
                general.append("")  # the blank line that ended the piece
                simple = _DRAFTS  # once those lines are parsed, no event is pending
        if rest:
            # Complete lines, no blank line after them yet: buffered until one comes.
            general.extend(rest[:-1].split("\n"))
        if general:
            yield from self._parse(general)

    def _columns(self, text: str) -> tuple[list[str], Iterable[str], list[str] | None, int] | None:
        """The complete events of ``text`` (a run, no event pending) if they all have the
        same lines, else ``None``: ``(data, types, ids, cut)``, ``ids`` ``None`` when the
        events carry no ``id`` line, ``cut`` where the lines after the last blank line start.

        Each event must consist of the same number of lines, each kind at the same place in
        every event: one ``data: X`` line, any ``event: T`` and ``id: N`` lines (no NUL in
        any ID), comments; exactly one blank line after each event. Checked on whole columns
        at once (the i-th lines of all events), with ``str`` methods only: joined with LF, a
        column whose first line starts with the prefix and which splits at LF + prefix into
        one piece per event has that prefix on every line, since its lines hold no LF. The
        pieces are the values. Anything else (``data:X``, ``retry``, several ``data`` lines,
        blank lines in a row, an event too big for the cheap size check) is left to the
        per-event path, which gives the same events, as the property tests check.
        """
        first = text.find("\n\n")
        if first < 0:
            return None
        last = text.rfind("\n\n")
        width = text.count("\n", 0, first) + 1  # lines per event, blank line excluded
        if width == 1:
            # One ``data: X`` line per event (else nothing to dispatch: left to the parser).
            # The events, cut at LF LF "data: ", are one line each if no piece holds a LF.
            if not text.startswith("data: "):
                return None
            pieces = text[6:last].split("\n\ndata: ")
            if "\n" in "".join(pieces):
                return None
            return self._sized(pieces, _repeat("message"), None, last + 2)
        stride = width + 1
        lines = text[:last].split("\n")
        count, odd = divmod(len(lines) + 1, stride)
        if odd or any(lines[width::stride]):
            return None  # not the same number of lines in every event
        datas: list[str] | None = None
        types: Iterable[str] = _repeat("message")
        ids: list[str] | None = None
        for column in range(width):
            values = lines[column::stride]
            top = values[0]
            if top.startswith("data: "):
                prefix = "data: "
            elif top.startswith("event: "):
                prefix = "event: "
            elif top.startswith("id: "):
                prefix = "id: "
            elif top.startswith(":"):
                prefix = ":"
            else:
                return None
            joined = "\n".join(values)
            values = joined[len(prefix) :].split("\n" + prefix)
            if len(values) != count:
                return None
            if prefix == "data: ":
                if datas is not None:
                    return None  # several data lines: joined per event, by the parser
                datas = values
            elif prefix == "event: ":
                types = [value or "message" for value in values] if "" in values else values
            elif prefix == "id: ":
                if "\x00" in joined:
                    return None
                ids = values
        if datas is None:
            return None
        return self._sized(datas, types, ids, last + 2)

    def _sized(
        self, datas: list[str], types: Iterable[str], ids: list[str] | None, cut: int
    ) -> tuple[list[str], Iterable[str], list[str] | None, int] | None:
        """The result of :meth:`_columns`, unless an event may be too big for the cheap check
        (then its exact size accounting is left to the per-event path)."""
        watch = self._fast_watch
        if watch != sys.maxsize and max(map(len, datas)) >= watch:
            return None
        return datas, types, ids, cut

    def _parse(self, lines: list[str]) -> Iterator[ServerSentEvent]:
        """The event-stream algorithm, line by line, as the standard states it."""
        # The buffers live in locals for the loop (attribute traffic is most of its cost)
        # and are written back whenever an event leaves, and at the end.
        data = self._data
        size = self._size
        type_ = self._type
        id_buffer = self._id_buffer
        event_retry = self._event_retry
        watch = self._watch
        drafts = _DRAFTS
        event: Any
        try:
            for line in lines:
                if line.startswith("data: "):
                    value = line[6:]
                elif not line:
                    # Dispatch; the last event ID is set even when nothing is dispatched.
                    self._last_id = id_buffer
                    if data:
                        value = data[0] if len(data) == 1 else "\n".join(data)
                        if drafts:
                            event = _Draft()
                            event.data = value
                            event.event = type_ or "message"
                            event.id = id_buffer
                            event.retry = event_retry
                            event.__class__ = ServerSentEvent
                        else:
                            event = _new_event(ServerSentEvent)
                            _set_data(event, value)
                            _set_type(event, type_ or "message")
                            _set_id(event, id_buffer)
                            _set_retry(event, event_retry)
                        data = self._data = []
                        size = 0
                        yield event
                    type_ = ""
                    event_retry = None
                    continue
                elif line[0] == ":":
                    continue  # a comment
                elif line.startswith("event: "):  # the usual spellings, without partition()
                    type_ = line[7:]
                    continue
                elif line.startswith("id: "):
                    if "\x00" not in line:
                        id_buffer = line[4:]
                    continue
                else:
                    name, _, value = line.partition(":")
                    if value[:1] == " ":
                        value = value[1:]
                    if name != "data":  # "data" without a colon is a data line too
                        if name == "event":
                            type_ = value
                        elif name == "id":
                            if "\x00" not in value:
                                id_buffer = value
                        elif name == "retry" and value.isascii() and value.isdigit():
                            self._retry = event_retry = int(value)
                        continue
                size += len(value) + 1
                if size > watch:
                    size = self._grow(size, value)
                data.append(value)
        finally:
            self._size = size
            self._type = type_
            self._id_buffer = id_buffer
            self._event_retry = event_retry
            # Lines after the last blank line (an id, an event type, a comment, data) mean the
            # next run starts inside an event.
            self._open = bool(lines) and lines[-1] != ""

    def _grow(self, size: int, value: str) -> int:
        """Exact byte accounting for an event whose data nears the limit; the new size."""
        size -= len(value) + 1
        if size <= self._watch:
            # Just crossed into exact counting: recount what is buffered, in bytes.
            size = sum(len(part.encode()) + 1 for part in self._data)
        size += len(value.encode()) + 1
        if size > self._max_event:
            raise _too_long("max_event_bytes", self._max_event)
        return size

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: an event without its closing empty line is discarded, all of its
        fields (``id`` included: the ID buffer goes back to the last dispatched ID).

        The decoder is then ready for another stream (a reconnection); :attr:`last_event_id`
        and :attr:`retry` carry over, as they do for an ``EventSource``.
        """
        self._splitter.flush()
        self._id_buffer = self._last_id
        self._data = []
        self._size = 0
        self._type = ""
        self._event_retry = None
        self._open = False
        return []


class NDJSONDecoder:
    """Splits a byte stream into JSON values, one per line (NDJSON / JSON Lines).

    Lines end with LF only; a CR before it is JSON whitespace, and U+2028 / U+2029 or a CR
    inside a line stay in it. Blank lines (only JSON whitespace) are skipped, a last line
    without a LF is parsed at the end of the stream, a leading BOM is removed. A line that is
    not one JSON text, or not UTF-8, raises :class:`HTTPDecodeError` with its 1-based ``line``
    number; a line longer than ``max_line_bytes`` raises :class:`HTTPStreamLimitError`.
    """

    __slots__ = ("_limit", "_line", "_start", "_tail")

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._limit = _check_limit(max_line_bytes, "max_line_bytes")
        self._tail = bytearray()
        self._line = 0  # lines completed so far
        self._start = True

    @property
    def line_number(self) -> int:
        """How many lines were completed so far (blank ones included)."""
        return self._line

    def feed(self, chunk: bytes) -> list[Any]:
        """Add ``chunk``; return the values of the lines it completed."""
        return list(self.iter_feed(chunk))

    def iter_feed(self, chunk: bytes) -> Iterator[Any]:
        """Add ``chunk``; yield the values of the lines it completed, one at a time (consume
        them all): a large chunk never holds all its values at once."""
        if self._start:
            chunk = self._strip_bom(chunk)
        if not chunk:
            return iter(())
        tail = self._tail
        limit = self._limit
        size = len(chunk)
        end = chunk.rfind(b"\n")  # the run: the tail and the chunk up to its last LF
        if size - end - 1 + (0 if end >= 0 else len(tail)) > limit:
            raise _too_long("max_line_bytes", limit)
        if end < 0:
            tail += chunk
            return iter(())
        run: bytes | memoryview = memoryview(chunk)[:end]
        if tail:
            run = b"".join((tail, run))
            tail.clear()
        if end < size - 1:
            tail += memoryview(chunk)[end + 1 :]
        if len(run) > limit and max(map(len, bytes(run).split(b"\n"))) > limit:
            raise _too_long("max_line_bytes", limit)
        return self._parse(run)

    def flush(self) -> list[Any]:
        """End of stream: the value of the last line if it had no LF."""
        self._start = True  # ready for another stream
        if not self._tail:
            return []
        run = bytes(self._tail)
        self._tail.clear()
        return list(self._parse(run))

    def _strip_bom(self, chunk: bytes) -> bytes:
        tail = self._tail
        if tail:
            chunk = b"".join((tail, chunk))
            tail.clear()
        if len(chunk) < 3 and _BOM.startswith(chunk):
            tail += chunk
            return b""
        self._start = False
        return chunk[3:] if chunk.startswith(_BOM) else chunk

    def _parse(self, run: bytes | memoryview) -> Iterator[Any]:
        """The values of ``run`` (complete lines, the last LF cut off)."""
        decode = _json._fast
        if decode is None:
            return self._values(self._lines(run))
        data = bytes(run)
        if data.isascii():
            # Valid UTF-8 as it is: msgspec parses each line's bytes, no text is built.
            return self._fast_values(data.split(b"\n"), decode)
        return self._fast_values(self._lines(data), decode)

    def _lines(self, run: bytes | memoryview) -> list[str]:
        """The text lines of ``run`` (complete lines, the last LF cut off), decoded at once."""
        try:
            return str(run, "utf-8").split("\n")
        except UnicodeDecodeError:
            return self._check_utf8(bytes(run).split(b"\n"))

    def _values(self, lines: list[str]) -> Iterator[Any]:
        """The values of ``lines``, the next lines of the stream."""
        number = self._line
        scan = _scan_once
        try:
            for line in lines:
                number += 1
                try:
                    value, stop = scan(line, 0)
                except (StopIteration, ValueError):
                    # Blank (skipped), padded (parsed below) or wrong (raises).
                    if line.strip(_JSON_WHITESPACE):
                        yield _loads(line, number)
                    continue
                if stop != len(line) and line[stop:].strip(_JSON_WHITESPACE):
                    _loads(line, number)  # raises: extra data after the value
                yield value
        finally:
            self._line = number

    def _fast_values(
        self, lines: list[bytes] | list[str], decode: Callable[[bytes | str], Any]
    ) -> Iterator[Any]:
        """:meth:`_values` through msgspec; a line it refuses goes to ``json.loads``, which
        gives the standard value or error (blank lines are skipped)."""
        number = self._line
        try:
            for line in lines:
                number += 1
                try:
                    value = decode(line)
                except Exception:
                    text = line if isinstance(line, str) else line.decode("ascii")
                    if text.strip(_JSON_WHITESPACE):
                        yield _loads(text, number)
                    continue
                yield value
        finally:
            self._line = number

    def _check_utf8(self, lines: list[bytes]) -> list[str]:
        """Decode line by line, to report the line that is not UTF-8."""
        texts: list[str] = []
        for index, line in enumerate(lines):
            try:
                texts.append(line.decode())
            except UnicodeDecodeError as exc:
                raise HTTPDecodeError(
                    what="NDJSON line",
                    line=self._line + index + 1,
                    position=exc.start,
                    detail="invalid UTF-8",
                ) from None
        return texts


def _loads(line: str, number: int) -> Any:
    try:
        return _json_loads(line)
    except JSONDecodeError as exc:
        raise HTTPDecodeError(
            what="NDJSON line", line=number, position=exc.pos, detail=exc.msg
        ) from None

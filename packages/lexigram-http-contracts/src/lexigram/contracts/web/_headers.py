"""``Headers``: a validated, case-insensitive mapping of HTTP headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Final, TypeAlias, TypeVar, overload

from lexigram.contracts.web._errors import InvalidHeaderError
from lexigram.contracts.web._redaction import redact_headers

__all__ = ["Headers", "HeadersInput"]

_T = TypeVar("_T")

HeadersInput: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""What every API that takes headers accepts: a mapping or an iterable of ``(name, value)``."""

# RFC 9110 §5.6.2 token characters.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NOT_TOKEN: Final = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")
# CR and LF would let a value start a new header (response splitting); NUL truncates in C code.
_FORBIDDEN_IN_VALUE: Final = re.compile(r"[\r\n\x00]")
# Names already checked, to their lower case: code sets the same few names over and over
# (interceptors once per attempt), and the regex is most of the cost of a set.
_CHECKED_NAMES: Final[dict[str, str]] = {}
_CHECKED_NAMES_MAX: Final = 1024


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"headers: a header name must be a str, not {type(name).__name__}")
    if _TOKEN.fullmatch(name) is None:
        bad = _NOT_TOKEN.search(name)
        index = bad.start() if bad is not None else 0
        # Only the valid prefix is shown: callers sometimes pass a whole "Name: secret" line.
        shown = name[:index]
        raise InvalidHeaderError(
            f"invalid header name {shown!r}: not an HTTP token (bad character at index {index})",
            header=shown,
        )


def _check_value(name: str, value: str) -> None:
    if not isinstance(value, str):
        # The type only: the value may be a credential.
        raise TypeError(
            f"headers: the value of header {name!r} must be a str, not {type(value).__name__}"
        )
    if _FORBIDDEN_IN_VALUE.search(value) is not None:
        raise InvalidHeaderError(
            f"invalid value for header {name!r}: contains CR, LF or NUL", header=name
        )


class Headers(MutableMapping[str, str]):
    """Case-insensitive HTTP headers that keep the original case and insertion order.

    Names must be HTTP tokens and values must not contain CR, LF or NUL, otherwise
    :class:`InvalidHeaderError` is raised: header injection is refused where headers are built.
    Setting an existing name (in any case) replaces its value in place and keeps the newest
    spelling of the name (as httpx and requests do). Repeated names in iterable input are
    combined with ``", "`` under the first spelling (see :meth:`add`); :meth:`get_list` still
    returns each field line on its own (``Set-Cookie`` values cannot be split at commas), and
    :meth:`multi_items` every ``(name, value)`` line in order of arrival.

    ``Headers(..., readonly=True)`` (as on ``HttpResponse.headers``) raises ``TypeError`` on any
    mutation; :meth:`copy` returns a mutable copy. The repr hides sensitive values.
    """

    __slots__ = ("_lines", "_readonly", "_store")

    _store: dict[str, tuple[str, str]]
    _readonly: bool
    # Only for names that came in more than one field line: lower name -> each line's value.
    # Fast constructors (transports) may leave the slot unset when no name repeats.
    _lines: dict[str, list[str]] | None

    def __init__(self, headers: HeadersInput | None = None, *, readonly: bool = False) -> None:
        self._readonly = False
        self._lines = None
        if headers is None:
            self._store = {}
        elif isinstance(headers, Headers):
            # Already validated: copy the store instead of re-checking every pair.
            self._store = dict(headers._store)
            lines = headers._multi()
            if lines:
                self._lines = {name: list(values) for name, values in lines.items()}
        else:
            self._store = {}
            if isinstance(headers, Mapping):
                pairs: Iterable[Any] = headers.items()
            elif isinstance(headers, str | bytes) or not isinstance(headers, Iterable):  # type: ignore[unreachable]  # typed callers cannot
                raise TypeError(
                    "headers must be a mapping or an iterable of (name, value) pairs, "
                    f"not {type(headers).__name__}"
                )
            else:
                pairs = headers
            for pair in pairs:
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise TypeError(
                        "headers must be a mapping or an iterable of (name, value) pairs; "
                        f"got an item of type {type(pair).__name__}"
                        + (f" and length {len(pair)}" if isinstance(pair, tuple | list) else "")
                    )
                self.add(pair[0], pair[1])
        self._readonly = readonly

    @property
    def readonly(self) -> bool:
        """Whether mutation raises ``TypeError``."""
        return self._readonly

    def _check_writable(self) -> None:
        if self._readonly:
            raise TypeError("these Headers are read-only; use .copy() for a mutable copy")

    def __getitem__(self, name: str) -> str:
        return self._store[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        if self._readonly:
            self._check_writable()
        lower = _CHECKED_NAMES.get(name)
        if lower is None:
            _check_name(name)
            lower = name.lower()
            if len(_CHECKED_NAMES) < _CHECKED_NAMES_MAX:
                _CHECKED_NAMES[name] = lower
        # Three substring tests beat the regex on header-sized strings; anything unusual
        # (not a str, or refused) goes through _check_value for its exact error.
        if type(value) is not str or "\r" in value or "\n" in value or "\x00" in value:
            _check_value(name, value)
        self._store[lower] = (name, value)
        try:  # inlined _multi(): this is on the path of every header set
            lines = self._lines
        except AttributeError:
            return
        if lines:
            lines.pop(lower, None)

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        lower = name.lower()
        del self._store[lower]
        lines = self._multi()
        if lines:
            lines.pop(lower, None)

    def _multi(self) -> dict[str, list[str]] | None:
        try:
            return self._lines
        except AttributeError:
            return None

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str | _T) -> str | _T: ...
    def get(self, key: str, default: object = None) -> object:
        """The value of ``key`` (any case), or ``default``."""
        # Mapping.get goes through __getitem__ and a caught KeyError on a miss; the retry
        # policies look up absent headers (Retry-After) on every retryable response.
        item = self._store.get(key.lower())
        return default if item is None else item[1]

    def add(self, name: str, value: str) -> None:
        """Add a value, joining it to an existing one with ``", "`` (RFC 9110 §5.3)."""
        _check_name(name)
        lower = name.lower()
        existing = self._store.get(lower)
        if existing is None:
            self[name] = value
        else:
            _check_value(name, value)
            lines = self._multi()
            values = None if lines is None else lines.get(lower)
            values = [existing[1]] if values is None else values
            # Appending keeps the spelling the header was first given.
            self[existing[0]] = f"{existing[1]}, {value}"
            values.append(f"{value}")
            lines = self._multi()
            if lines is None:
                lines = self._lines = {}
            lines[lower] = values

    def get_list(self, name: str) -> list[str]:
        """Every value of ``name`` (any case), one per field line as received; ``[]`` if absent.

        Unlike ``headers[name]`` (the lines joined with ``", "``), this keeps values that
        contain commas intact, e.g. each ``Set-Cookie``.
        """
        lower = name.lower()
        lines = self._multi()
        if lines:
            values = lines.get(lower)
            if values is not None:
                return list(values)
        item = self._store.get(lower)
        return [] if item is None else [item[1]]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` field line, a repeated name once per line."""
        lines = self._multi()
        if not lines:
            return list(self._store.values())
        items: list[tuple[str, str]] = []
        for lower, (name, value) in self._store.items():
            values = lines.get(lower)
            if values is None:
                items.append((name, value))
            else:
                items.extend((name, line) for line in values)
        return items

    def copy(self) -> Headers:
        """Return a mutable copy."""
        return Headers(self)

    def as_readonly(self) -> Headers:
        """Return a read-only version: ``self`` if already read-only, else a read-only copy."""
        return self if self._readonly else Headers(self, readonly=True)

    def lower_items(self) -> list[tuple[str, str]]:
        """Return ``(lower-case name, value)`` pairs, e.g. for canonical signing."""
        return [(key, value) for key, (_, value) in self._store.items()]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return dict(self.lower_items()) == dict(other.lower_items())
        if isinstance(other, Mapping):
            theirs = {str(name).lower(): value for name, value in other.items()}
            return dict(self.lower_items()) == theirs
        return NotImplemented

    def __repr__(self) -> str:
        flag = ", readonly=True" if self._readonly else ""
        return f"Headers({redact_headers(self)!r}{flag})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_headers, (self.multi_items(), self._readonly))


def _rebuild_headers(items: list[tuple[str, str]], readonly: bool) -> Headers:
    return Headers(items, readonly=readonly)

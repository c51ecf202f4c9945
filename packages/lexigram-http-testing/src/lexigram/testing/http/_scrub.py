"""``CassetteRedaction``: what is removed from a request or response before it is recorded.

Three layers, all applied before an interaction is kept in memory, and once more over the whole
cassette when it is written:

1. by name, through the shared :class:`~lexigram.contracts.web.Redactor`: sensitive headers,
   query parameters and URL user-info, plus JSON body keys and form fields named like sensitive
   query parameters (or listed in ``body_keys``);
2. by value: every secret value found by name in step 1 is *learned* and scrubbed wherever else
   it appears (a server echoing the ``Authorization`` header in its body, a token repeated in a
   URL path, a key in a streamed chunk, even split across two chunks). Values shorter than
   ``min_learned_length`` are not learned (they would match by accident); they are still
   redacted by name;
3. by value, always: the ``secrets`` given explicitly (an API key read from the environment).
"""

from __future__ import annotations

import json as _jsonlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

from lexigram.contracts.web import REDACTED, Redactor

__all__ = ["CassetteRedaction", "Scrubber"]

_MARK: Final = REDACTED.encode()
_FORM: Final = "application/x-www-form-urlencoded"


class CassetteRedaction:
    """The redaction rules of a cassette (see the module docstring for the layers).

    ``headers`` and ``query_params`` extend the shared redactor's sensitive names;
    ``body_keys`` adds JSON keys and form fields (the sensitive query parameter names are body
    keys already: ``password``, ``api_key``, ``access_token``...); ``secrets`` are literal
    values scrubbed everywhere, whatever their length. ``drop_headers`` leaves headers out of
    the cassette altogether (noise such as ``Date``), by name or by prefix (``"cf-*"``), in
    any case. Immutable and shareable.
    """

    __slots__ = ("_body_keys", "_drop", "_min_learned_length", "_redactor", "_secrets")

    def __init__(
        self,
        *,
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        body_keys: Iterable[str] = (),
        secrets: Iterable[str] = (),
        drop_headers: Iterable[str] = (),
        min_learned_length: int = 8,
    ) -> None:
        headers = _names("headers", headers)
        query_params = _names("query_params", query_params)
        self._redactor = Redactor(extra_headers=headers, extra_query_params=query_params)
        self._body_keys = frozenset(key.lower() for key in _names("body_keys", body_keys))
        values = _names("secrets", secrets)
        if any(not value for value in values):
            raise ValueError("secrets must not contain an empty string")
        self._secrets = tuple(values)
        drop = [name.strip().lower() for name in _names("drop_headers", drop_headers)]
        if any(not name.rstrip("*") for name in drop):
            raise ValueError("drop_headers must not contain an empty name or a bare '*'")
        self._drop = tuple(drop)
        if isinstance(min_learned_length, bool) or not isinstance(min_learned_length, int):
            raise TypeError(
                f"min_learned_length must be an int, not {type(min_learned_length).__name__}"
            )
        if min_learned_length < 1:
            raise ValueError(f"min_learned_length must be at least 1, got {min_learned_length}")
        self._min_learned_length = min_learned_length

    @property
    def redactor(self) -> Redactor:
        """The shared redactor with the extra header and query parameter names."""
        return self._redactor

    @property
    def body_keys(self) -> frozenset[str]:
        """The extra sensitive JSON keys and form fields, lower-case."""
        return self._body_keys

    @property
    def min_learned_length(self) -> int:
        """The shortest secret value learned from a request or response."""
        return self._min_learned_length

    def is_dropped_header(self, name: str) -> bool:
        """Whether header ``name`` is left out of the cassette."""
        lowered = name.strip().lower()
        return any(
            lowered.startswith(rule[:-1]) if rule.endswith("*") else lowered == rule
            for rule in self._drop
        )

    def is_sensitive_key(self, key: str) -> bool:
        """Whether a JSON key or form field named ``key`` holds a secret."""
        return key.strip().lower() in self._body_keys or self._redactor.is_sensitive_query_param(
            key
        )

    def scrubber(self) -> Scrubber:
        """A fresh scrubber applying these rules (it learns values as it goes)."""
        return Scrubber(self)

    def __repr__(self) -> str:
        secrets = f", {len(self._secrets)} secrets" if self._secrets else ""
        return (
            f"<CassetteRedaction {self._redactor!r}, body_keys={sorted(self._body_keys)}{secrets}>"
        )


def _names(argument: str, names: Iterable[str]) -> list[str]:
    if isinstance(names, str | bytes):
        raise TypeError(f"{argument} must be an iterable of strings, not a single string")
    result = list(names)
    for name in result:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must contain strings, got {type(name).__name__}")
    return result


class Scrubber:
    """Applies a :class:`CassetteRedaction` and remembers the secret values it has seen."""

    __slots__ = ("_learned", "_rules", "_values")

    def __init__(self, rules: CassetteRedaction) -> None:
        self._rules = rules
        self._learned: set[str] = set()
        self._values: list[bytes] = []
        for secret in rules._secrets:
            self._add(secret)

    @property
    def rules(self) -> CassetteRedaction:
        """The rules applied."""
        return self._rules

    # -- learning ------------------------------------------------------------------------------

    def _add(self, value: str) -> None:
        if value in self._learned:
            return
        self._learned.add(value)
        # As written, percent-encoded (in URLs and forms), and escaped inside JSON strings.
        variants = {
            value,
            quote(value, safe=""),
            quote_plus(value, safe=""),
            _jsonlib.dumps(value)[1:-1],
            _jsonlib.dumps(value, ensure_ascii=False)[1:-1],
        }
        known = set(self._values)
        self._values.extend(v.encode() for v in variants if v and v.encode() not in known)
        # Longest first, so a secret containing another one is replaced whole.
        self._values.sort(key=len, reverse=True)

    def learn(self, value: str) -> None:
        """Scrub ``value`` (and each of its words) from now on, if it is long enough."""
        minimum = self._rules._min_learned_length
        for candidate in {value.strip(), *value.split()}:
            if len(candidate) >= minimum and candidate != REDACTED:
                self._add(candidate)

    def learn_header(self, name: str, value: str) -> None:
        """Learn the secret in a sensitive header (cookie values one by one)."""
        if not self._rules._redactor.is_sensitive_header(name):
            return
        lowered = name.strip().lower()
        if lowered in ("cookie", "set-cookie"):
            pairs = value.split(";") if lowered == "cookie" else value.split(";")[:1]
            for pair in pairs:
                self.learn(pair.partition("=")[2])
            return
        self.learn(value)

    def learn_url(self, url: str) -> None:
        """Learn the user-info and the values of sensitive query parameters of ``url``."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return
        netloc = parts.netloc
        if "@" in netloc:
            userinfo = netloc.rpartition("@")[0]
            self.learn(userinfo)
            self.learn(unquote(userinfo))
            password = userinfo.partition(":")[2]
            if password:
                self.learn(password)
                self.learn(unquote(password))
        for text in (parts.query, parts.fragment):
            self._learn_pairs(text)

    def _learn_pairs(self, text: str) -> None:
        for pair in text.replace(";", "&").split("&"):
            name, sep, value = pair.partition("=")
            if sep and value and self._rules.is_sensitive_key(unquote_plus(name)):
                self.learn(value)
                self.learn(unquote_plus(value))

    def _learn_json(self, value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                self._learn_json(item, secret or self._rules.is_sensitive_key(str(key)))
        elif isinstance(value, list):
            for item in value:
                self._learn_json(item, secret)
        elif secret and value is not None and not isinstance(value, bool):
            self.learn(str(value))

    def learn_body(self, body: bytes | None, content_type: str | None) -> None:
        """Learn the values of sensitive JSON keys or form fields in ``body``."""
        if not body:
            return
        parsed = _parse_json(body)
        if parsed is not _NOT_JSON:
            self._learn_json(parsed, False)
        elif _is_form(content_type):
            self._learn_pairs(body.decode("latin-1"))

    # -- redacting -----------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced."""
        if not self._values or not text:
            return text
        return self.data(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")

    def data(self, data: bytes) -> bytes:
        """``data`` with every known secret value replaced."""
        for value in self._values:
            if value in data:
                data = data.replace(value, _MARK)
        return data

    def url(self, url: str) -> str:
        """``url`` redacted by the shared redactor, then scrubbed of known values."""
        return self.text(self._rules._redactor.redact_url(url))

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers redacted by name (URL-valued ones redacted as URLs), then by value; dropped
        headers left out."""
        rules = self._rules
        redactor = rules._redactor
        return {
            name: self.text(redactor.redact_header_value(name, value))
            for name, value in headers
            if not (rules._drop and rules.is_dropped_header(name))
        }

    def body(self, body: bytes, content_type: str | None) -> bytes:
        """A complete body: sensitive JSON keys or form fields replaced, then known values."""
        if not body:
            return body
        parsed = _parse_json(body)
        if parsed is not _NOT_JSON:
            redacted, changed = self._redact_json(parsed, False)
            if changed:
                body = _jsonlib.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()
        elif _is_form(content_type):
            body = self._redact_form(body)
        return self.data(body)

    def _redact_json(self, value: Any, secret: bool) -> tuple[Any, bool]:
        if isinstance(value, dict):
            changed = False
            result: dict[str, Any] = {}
            for key, item in value.items():
                if self._rules.is_sensitive_key(str(key)) and item is not None:
                    result[key] = REDACTED
                    changed = True
                else:
                    result[key], item_changed = self._redact_json(item, secret)
                    changed = changed or item_changed
            return result, changed
        if isinstance(value, list):
            items = [self._redact_json(item, secret) for item in value]
            return [item for item, _ in items], any(changed for _, changed in items)
        return value, False

    def _redact_form(self, body: bytes) -> bytes:
        pieces = body.split(b"&")
        for index, piece in enumerate(pieces):
            name, sep, value = piece.partition(b"=")
            if sep and value and self._rules.is_sensitive_key(unquote_plus(name.decode("latin-1"))):
                pieces[index] = name + b"=" + _MARK
        return b"&".join(pieces)

    def chunks(self, chunks: Sequence[bytes]) -> list[bytes]:
        """Streamed chunks scrubbed of known values, even a value split across chunks.

        The chunk count stays: a secret is replaced in the chunk where it starts, and the part
        of it in the following chunks is removed.
        """
        chunks = list(chunks)
        if not self._values or not chunks:
            return chunks
        whole = b"".join(chunks)
        spans = _find_spans(whole, self._values)
        if not spans:
            return chunks
        result: list[bytes] = []
        position = 0
        span_index = 0
        for chunk in chunks:
            start, end = position, position + len(chunk)
            position = end
            out = bytearray()
            cursor = start
            while span_index < len(spans) and spans[span_index][0] < end:
                span_start, span_end = spans[span_index]
                if span_start >= cursor:
                    out += whole[cursor:span_start]
                    out += _MARK
                cursor = max(cursor, min(span_end, end))
                if span_end <= end:
                    span_index += 1
                else:
                    break
            if cursor < end:
                out += whole[cursor:end]
            result.append(bytes(out))
        return result


def _find_spans(data: bytes, values: Sequence[bytes]) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` of the known values in ``data``, longest value first."""
    taken: list[tuple[int, int]] = []
    for value in values:
        start = data.find(value)
        while start != -1:
            end = start + len(value)
            if all(end <= other_start or start >= other_end for other_start, other_end in taken):
                taken.append((start, end))
            start = data.find(value, start + 1)
    return sorted(taken)


class _NotJSON:
    __slots__ = ()


_NOT_JSON: Final = _NotJSON()


def _parse_json(body: bytes) -> Any:
    stripped = body.lstrip()
    if not stripped or stripped[:1] not in b'{["':
        return _NOT_JSON
    try:
        return _jsonlib.loads(body)
    except ValueError:
        return _NOT_JSON


def _is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == _FORM


def content_type(headers: Mapping[str, str]) -> str | None:
    """The Content-Type of ``headers`` (any case)."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return None

"""httpie-style request items: ``Header:value``, ``param==value``, ``field=value``, ...

=================  ===============================================================
``Name:value``     request header (``Name;`` sends it with an empty value)
``name==value``    query parameter (repeatable)
``field=value``    string field of the JSON body (``--form``: of the form body)
``field:=json``    raw JSON field (numbers, booleans, null, arrays, objects)
``field@path``     file upload: the body becomes ``multipart/form-data``
``field=@path``    string field read from a file
``field:=@path``   raw JSON field read from a file
=================  ===============================================================

A backslash escapes a separator character (``a\\:b=c`` is the field ``a:b``).
"""

from __future__ import annotations

import json
import mimetypes
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__: list[str] = []

# Longest first at a given position: ``:=@`` before ``:=`` before ``:``.
_SEPARATORS: Final = (":=@", "==", ":=", "=@", "=", "@", ":", ";")


class RequestItemError(ValueError):
    """A request item that cannot be used; the message names the item and what is wrong."""


@dataclass(slots=True)
class Upload:
    """One ``field@path`` upload."""

    field: str
    path: Path
    content_type: str


@dataclass(slots=True)
class ParsedItems:
    """What the request items of one command line add up to."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)

    @property
    def has_body(self) -> bool:
        """Whether data fields or uploads make a body."""
        return bool(self.data or self.uploads)


def _split(item: str) -> tuple[str, str, str]:
    """``(key, separator, value)`` at the first unescaped separator."""
    key: list[str] = []
    index = 0
    while index < len(item):
        char = item[index]
        if char == "\\" and index + 1 < len(item):
            key.append(item[index + 1])
            index += 2
            continue
        for sep in _SEPARATORS:
            if item.startswith(sep, index):
                return "".join(key), sep, item[index + len(sep) :]
        key.append(char)
        index += 1
    raise RequestItemError(
        f"request item {item!r}: no separator; use Header:value, param==value, field=value, "
        "field:=json or field@file"
    )


def _read_text(item: str, path_text: str) -> str:
    path = Path(path_text).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RequestItemError(f"request item {item!r}: cannot read {path}: {exc}") from exc


def _json_value(item: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RequestItemError(f"request item {item!r}: invalid JSON: {exc}") from exc


def parse_items(items: Sequence[str]) -> ParsedItems:
    """Parse the request items, in order; :class:`RequestItemError` names a bad one."""
    parsed = ParsedItems()
    for item in items:
        key, sep, value = _split(item)
        if not key:
            raise RequestItemError(f"request item {item!r}: the name before {sep!r} is empty")
        if sep == ":":
            parsed.headers.append((key, value.strip()))
        elif sep == ";":
            if value:
                raise RequestItemError(
                    f"request item {item!r}: 'Name;' sends an empty header; "
                    "nothing may follow the ';'"
                )
            parsed.headers.append((key, ""))
        elif sep == "==":
            parsed.params.append((key, value))
        elif sep == "=":
            parsed.data[key] = value
        elif sep == "=@":
            parsed.data[key] = _read_text(item, value)
        elif sep == ":=":
            parsed.data[key] = _json_value(item, value)
        elif sep == ":=@":
            parsed.data[key] = _json_value(item, _read_text(item, value))
        else:  # "@": an upload
            path_text, _, type_text = value.partition(";type=")
            path = Path(path_text).expanduser()
            if not path.is_file():
                raise RequestItemError(f"request item {item!r}: file not found: {path}")
            content_type = type_text or mimetypes.guess_type(path.name)[0]
            parsed.uploads.append(Upload(key, path, content_type or "application/octet-stream"))
    return parsed


def multipart(parsed: ParsedItems, boundary: str | None = None) -> tuple[bytes, str]:
    """The ``multipart/form-data`` body of the fields and uploads, and its content type."""
    boundary = boundary or f"lexigram-{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for name, value in parsed.data.items():
        text = value if isinstance(value, str) else json.dumps(value)
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        parts.append(head.encode() + text.encode() + b"\r\n")
    for upload in parsed.uploads:
        try:
            content = upload.path.read_bytes()
        except OSError as exc:
            raise RequestItemError(
                f"request item '{upload.field}@{upload.path}': cannot read: {exc}"
            ) from exc
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(upload.field)}"; '
            f'filename="{_quote(upload.path.name)}"\r\nContent-Type: {upload.content_type}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")

"""``Multipart``: ``multipart/form-data`` request bodies, files streamed from disk.

``client.post(url, data=Multipart(fields={"title": "Q3"}, files={"report": Path("q3.pdf")}))``

Files are read in chunks (in a worker thread, ``chunk_size`` bytes at a time) while the body
is sent, never whole into memory. The body's length is known in advance whenever every part's
size is (bytes, paths, seekable file objects), so it goes out with ``Content-Length``.

Retries resend the whole body: paths are reopened, seekable file objects rewound to where they
were when the ``Multipart`` was built. A file object that cannot seek is read once: the call is
then not retried (``RequestContext.is_idempotent`` is false) and reading the body a second time
raises ``HTTPUsageError`` naming the field.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TypeAlias, runtime_checkable

from lexigram.contracts.web import HTTPUsageError, RequestBody

__all__ = ["FileContent", "FileInput", "Multipart", "Readable"]


@runtime_checkable
class Readable(Protocol):
    """A binary file object: ``read(size)`` returns bytes (``b""`` at the end). If it also
    has ``seekable()``, ``seek()`` and ``tell()`` and can seek, a retry rewinds it."""

    def read(self, size: int, /) -> bytes | None: ...


FileContent: TypeAlias = bytes | os.PathLike[str] | Readable
"""A file's content: bytes, a path (read from disk when sent), or a binary file object."""

FileInput: TypeAlias = (
    FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]
)
"""A file part: its content, or ``(filename, content)``, or ``(filename, content, content_type)``.

The filename defaults to the path's name (or the file object's ``name``); the content type to
a guess from the filename, else ``application/octet-stream``."""

_CRLF: Final = b"\r\n"
DEFAULT_CHUNK_SIZE: Final = 64 * 1024


def _quote(value: str) -> str:
    # The HTML standard's escaping of names and filenames in Content-Disposition.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(slots=True)
class _Part:
    name: str
    head: bytes
    data: bytes | None = None
    path: Path | None = None
    file: Any = None
    start: int = 0
    size: int | None = None
    used: bool = False


def _file_part(name: str, value: FileInput) -> _Part:
    filename: str | None
    content_type: str | None = None
    if isinstance(value, tuple):
        if len(value) == 2:
            filename, content = value
        elif len(value) == 3:
            filename, content, content_type = value
        else:
            raise TypeError(f"files[{name!r}]: a tuple must be (filename, content[, type])")
    else:
        filename, content = None, value
    part = _Part(name, b"")
    if isinstance(content, bytes | bytearray | memoryview):
        part.data = bytes(content)
        part.size = len(part.data)
    elif isinstance(content, os.PathLike):
        part.path = Path(content)
        try:
            part.size = part.path.stat().st_size
        except OSError as exc:
            raise HTTPUsageError(
                f"files[{name!r}]: cannot read {part.path}: {exc.strerror or exc}"
            ) from None
        if filename is None:
            filename = part.path.name
    elif isinstance(content, Readable):
        part.file = content
        if filename is None:
            own = getattr(content, "name", None)
            filename = os.path.basename(own) if isinstance(own, str) else None
        if _seekable(content):
            handle: Any = content
            part.start = handle.tell()
            part.size = handle.seek(0, os.SEEK_END) - part.start
            handle.seek(part.start)
    else:
        raise TypeError(
            f"files[{name!r}] must be bytes, a path or a binary file object, "
            f"not {type(content).__name__}"
        )
    if content_type is None:
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        content_type = guessed or "application/octet-stream"
    disposition = f'form-data; name="{_quote(name)}"'
    if filename is not None:
        disposition += f'; filename="{_quote(filename)}"'
    part.head = (
        f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    return part


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _pairs(
    values: Mapping[str, object] | Iterable[tuple[str, object]] | None,
) -> list[tuple[str, object]]:
    if values is None:
        return []
    pairs = values.items() if isinstance(values, Mapping) else values
    result: list[tuple[str, object]] = []
    for name, value in pairs:
        if not isinstance(name, str):
            raise TypeError(f"multipart field names must be str, not {type(name).__name__}")
        result.append((name, value))
    return result


class Multipart(RequestBody):
    """A ``multipart/form-data`` body: text ``fields`` and ``files`` (see :data:`FileInput`).

    Both take a mapping or ``(name, value)`` pairs (a name may repeat); a field value that is a
    list or tuple repeats the field. Pass it as ``data=``; the request gets ``Content-Type:
    multipart/form-data; boundary=...`` and, when every size is known, ``Content-Length``.
    """

    __slots__ = ("_boundary", "_chunk_size", "_length", "_parts", "_tail")

    def __init__(
        self,
        fields: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
        files: Mapping[str, FileInput] | Iterable[tuple[str, FileInput]] | None = None,
        *,
        boundary: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        self._boundary = boundary if boundary is not None else secrets.token_hex(16)
        self._chunk_size = chunk_size
        parts: list[_Part] = []
        for name, value in _pairs(fields):
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                text = item if isinstance(item, str) else "" if item is None else str(item)
                head = f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
                data = text.encode()
                parts.append(_Part(name, head, data=data, size=len(data)))
        for name, value in _pairs(files):
            parts.append(_file_part(name, value))  # type: ignore[arg-type]
        self._parts = parts
        delimiter = f"--{self._boundary}\r\n".encode()
        self._tail = f"--{self._boundary}--\r\n".encode()
        length: int | None = len(self._tail)
        for part in parts:
            part.head = delimiter + part.head
            if length is not None:
                length = None if part.size is None else length + len(part.head) + part.size + 2
        self._length = length

    @property
    def content_type(self) -> str:
        """``multipart/form-data; boundary=...``."""
        return f"multipart/form-data; boundary={self._boundary}"

    @property
    def length(self) -> int | None:
        """The size of the encoded body, ``None`` when a part's size is unknown."""
        return self._length

    @property
    def replayable(self) -> bool:
        """False when a part is a file object that cannot seek."""
        return all(part.file is None or part.size is not None for part in self._parts)

    def chunks(self) -> AsyncIterator[bytes]:
        """The encoded body from its start; files are read as it is sent."""
        for part in self._parts:
            if part.file is not None and part.size is None and part.used:
                raise HTTPUsageError(
                    f"the multipart body cannot be sent again: files[{part.name!r}] is a file "
                    "object that cannot seek, so it was read once; pass a path or bytes to "
                    "allow retries"
                )
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        size = self._chunk_size
        for part in self._parts:
            if part.data is not None:
                yield part.head + part.data + _CRLF
                continue
            yield part.head
            if part.path is not None:
                async for chunk in _read_path(part, size):
                    yield chunk
            else:
                assert part.file is not None
                part.used = True
                async for chunk in _read_file(part.file, part.start, part.size, size):
                    yield chunk
            yield _CRLF
        yield self._tail

    def __repr__(self) -> str:
        names = [part.name for part in self._parts]
        return f"<Multipart {names!r}, {self._length} bytes>"


async def _read_path(part: _Part, size: int) -> AsyncIterator[bytes]:
    path = part.path
    assert path is not None
    loop = asyncio.get_running_loop()
    try:
        file = await loop.run_in_executor(None, path.open, "rb")
    except OSError as exc:
        raise HTTPUsageError(
            f"files[{part.name!r}]: cannot read {path}: {exc.strerror or exc}"
        ) from None
    try:
        left = part.size
        assert left is not None
        while left > 0:
            chunk = await loop.run_in_executor(None, file.read, min(size, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
        if left:
            # Content-Length was promised from the size at build time.
            raise HTTPUsageError(f"files[{part.name!r}]: {path} shrank while being sent")
    finally:
        file.close()


async def _read_file(file: Any, start: int, length: int | None, size: int) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    if length is not None:
        file.seek(start)
    left = length
    while left is None or left > 0:
        want = size if left is None else min(size, left)
        chunk = await loop.run_in_executor(None, file.read, want)
        if not chunk:
            break
        if left is not None:
            left -= len(chunk)
        yield chunk

"""Content codings: which ones this installation decodes, and what a decoding failure is.

aiohttp decodes ``gzip`` and ``deflate`` always, ``br`` with Brotli and ``zstd`` with
``backports.zstd`` (Python < 3.14) installed: ``pip install "lexigram-http-core[speedups]"``
pulls them (with ``aiodns``) through ``aiohttp[speedups]``. It advertises exactly those in its
default ``Accept-Encoding``, so a server is never invited to send a coding that cannot be read.

A body that cannot be decoded is not a connection failure: it becomes
:class:`HTTPDecodeError` (raised, never retried: the server would send the same bytes again).
"""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError

from lexigram.contracts.web import HTTPDecodeError

__all__ = ["decodable_codings", "decode_error"]

_PREFIX: Final = "can not decode content-encoding"
_HINT: Final = 'install "lexigram-http-core[speedups]" to decode br and zstd'


def decodable_codings() -> tuple[str, ...]:
    """The content codings this installation decodes (what ``Accept-Encoding`` offers)."""
    from aiohttp import compression_utils

    codings = ["gzip", "deflate"]
    if getattr(compression_utils, "HAS_BROTLI", False):
        codings.append("br")
    if getattr(compression_utils, "HAS_ZSTD", False):
        codings.append("zstd")
    return tuple(codings)


def _encoding_message(exc: BaseException) -> str | None:
    """aiohttp's own text when ``exc`` is a failure to decode the body's coding."""
    causes: list[BaseException] = [exc]
    if exc.__cause__ is not None:
        causes.append(exc.__cause__)
    for cause in causes:
        if isinstance(cause, ContentEncodingError):
            return str(cause.message)
        if isinstance(cause, HttpProcessingError | aiohttp.ClientResponseError):
            message = str(cause.message)
            if message.lower().startswith(_PREFIX):
                return message
    return None


def decode_error(exc: BaseException, method: str, url: str) -> HTTPDecodeError | None:
    """:class:`HTTPDecodeError` if ``exc`` means the body's coding could not be decoded."""
    message = _encoding_message(exc)
    if message is None:
        return None
    # aiohttp's text ("... Please install `Brotli`") names its own packages; ours is the extra.
    detail = message.split(". Please install", 1)[0].replace("Can not", "cannot")
    if "gzip" not in detail and "deflate" not in detail:
        detail = f"{detail}; {_HINT}"
    return HTTPDecodeError(what="response body", detail=detail, method=method, url=url)

"""``RequestBody``: a request body produced on demand and sent in chunks.

``RequestContext.body`` is either bytes (``json=``, ``data=`` forms, ``content=``) or a
``RequestBody`` such as core's ``Multipart``, whose parts may be files streamed from disk.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

__all__ = ["RequestBody"]


class RequestBody(abc.ABC):
    """A body sent in chunks, from its start, each time ``chunks()`` is called.

    ``content_type`` is sent as ``Content-Type`` unless the request sets one; ``length`` (bytes)
    as ``Content-Length`` when known, else the body goes out with chunked transfer encoding.
    ``replayable`` says whether ``chunks()`` can be called again (a retried attempt resends
    the whole body): a call whose body is not replayable is never retried
    (``RequestContext.is_idempotent`` is false) and a second ``chunks()`` raises
    ``HTTPUsageError`` naming the part that cannot be read twice.
    """

    __slots__ = ()

    @property
    @abc.abstractmethod
    def content_type(self) -> str | None:
        """The media type of the body (with its parameters)."""

    @property
    @abc.abstractmethod
    def length(self) -> int | None:
        """The size in bytes, ``None`` if unknown until sent."""

    @property
    @abc.abstractmethod
    def replayable(self) -> bool:
        """Whether the body can be sent more than once."""

    @abc.abstractmethod
    def chunks(self) -> AsyncIterator[bytes]:
        """The body from its start, in chunks."""

    async def read(self) -> bytes:
        """The whole body in memory (for tests and mocks; sending streams it instead)."""
        return b"".join([chunk async for chunk in self.chunks()])

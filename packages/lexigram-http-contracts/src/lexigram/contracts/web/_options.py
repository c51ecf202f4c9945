"""The request keywords, defined once: the protocols, both clients and the fakes use these.

``http.get(url, timout=3)`` is then the same type error everywhere (``Unexpected keyword
argument "timout" ...; did you mean "timeout"?``), and a new keyword is one edit here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias, TypedDict

from lexigram.contracts.web._body import RequestBody
from lexigram.contracts.web._headers import HeadersInput
from lexigram.contracts.web._sse import SSEReconnect

__all__ = ["ParamsInput", "RequestData", "RequestOptions", "StreamOptions"]

ParamsInput: TypeAlias = Mapping[str, Any] | Iterable[tuple[str, Any]]
"""Query parameters: a mapping (a list or tuple value repeats the name) or ``(name, value)``
pairs. Values are sent as text: ``True``/``False`` as ``true``/``false``, ``None`` as empty."""

RequestData: TypeAlias = Mapping[str, Any] | Iterable[tuple[str, Any]] | bytes | str | RequestBody
"""``data=``: a mapping or pairs (form-encoded), raw ``bytes`` / ``str`` (UTF-8), or a
``RequestBody`` sent in chunks such as ``Multipart`` (file uploads)."""


class RequestOptions(TypedDict, total=False):
    """The keywords of every request method: ``**kwargs: Unpack[RequestOptions]``.

    ``headers``: extra request headers. ``params``: query parameters appended to the URL's
    query. At most one body: ``json`` (serialised, ``Content-Type: application/json``),
    ``data`` (a mapping is form-encoded; bytes/str are sent as they are) or ``content`` (raw
    bytes). ``timeout``: the call's deadline in seconds, retries included. ``allow_redirects``
    (default true). ``idempotency_key``: sent as ``Idempotency-Key``; makes POST and PATCH
    retryable. ``extensions``: copied into ``RequestContext.extensions`` for interceptors.
    """

    headers: HeadersInput | None
    params: ParamsInput | None
    json: Any
    data: RequestData | None
    content: bytes | str | None
    timeout: float | None
    allow_redirects: bool
    idempotency_key: str | None
    extensions: Mapping[str, Any] | None


class StreamOptions(RequestOptions, total=False):
    """The keywords of ``stream()``: those of :class:`RequestOptions` and these.

    ``idle_timeout``: the longest wait for body data (``math.inf`` for none).
    ``max_line_bytes`` / ``max_event_bytes``: bounds of a line / of one SSE event's data.
    ``reconnect``: :class:`SSEReconnect` settings for ``sse()``. ``sse``: the request is for an
    event stream (sends ``Accept: text/event-stream`` and ``Cache-Control: no-cache`` unless
    set; implied by ``reconnect``).
    """

    idle_timeout: float | None
    max_line_bytes: int
    max_event_bytes: int
    reconnect: SSEReconnect | None
    sse: bool

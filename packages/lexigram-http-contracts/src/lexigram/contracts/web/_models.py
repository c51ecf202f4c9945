"""``HttpResponse`` (what a call returns) and ``RequestContext`` (what interceptors edit)."""

from __future__ import annotations

import codecs
import json as _jsonlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self
from urllib.parse import urlsplit

from lexigram.contracts.web._body import RequestBody
from lexigram.contracts.web._errors import HTTPDecodeError, HTTPStatusError
from lexigram.contracts.web._headers import Headers, HeadersInput
from lexigram.contracts.web._json import _loads as _json_loads
from lexigram.contracts.web._redaction import _DEFAULT_REDACTOR, redact_url

__all__ = ["HttpResponse", "RequestContext"]


class _Missing:
    """Type of the "not given / not computed yet" sentinel (``None`` is valid JSON)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()

_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _charset(content_type: str | None) -> str:
    """The charset parameter of a Content-Type, if Python knows it, else UTF-8."""
    if content_type:
        for param in content_type.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip("\"'")
                try:
                    return codecs.lookup(charset).name
                except LookupError:
                    break
    return "utf-8"


class HttpResponse:
    """A complete HTTP response: status, headers and the body, fully read.

    Immutable. ``headers`` is read-only and case-insensitive. ``text`` and ``json`` are
    computed on first access and cached. Build one directly in tests::

        HttpResponse(status=200, url=url, method="GET", json={"id": "inv_1"})

    ``json=`` or ``text=`` (given instead of ``body``) are encoded into ``body`` and set a
    default ``Content-Type``, so the response looks exactly like one read from the network.
    """

    # ``status`` is a slot read directly (no property call): it is read several times per
    # attempt on the request path. ``__setattr__`` keeps it read-only like the rest.
    __slots__ = {  # noqa: RUF023 - the order of the slots is the order of the fields
        "status": "The status code.",
        "_url": None,
        "_method": None,
        "_headers": None,
        "_header_source": None,
        "_body": None,
        "_elapsed": None,
        "_json": None,
        "_text": None,
    }

    if TYPE_CHECKING:
        # Read-only for type checkers too (at run time ``__setattr__`` refuses it).
        @property
        def status(self) -> int:
            """The status code."""
            ...

    _url: str
    _method: str
    _headers: Headers | None
    _header_source: Callable[[], Headers] | None
    _body: bytes
    _elapsed: float
    _json: Any
    _text: str | None

    def __init__(
        self,
        status: int,
        url: str = "",
        method: str = "GET",
        headers: HeadersInput | None = None,
        body: bytes = b"",
        *,
        json: Any = _MISSING,
        text: str | None = None,
        elapsed: float = 0.0,
    ) -> None:
        if json is _MISSING and text is None:
            # What transports build: nothing to encode, and read-only Headers (immutable, so
            # shared rather than copied).
            if type(headers) is Headers and headers._readonly:
                final_headers = headers
            else:
                final_headers = Headers(headers, readonly=True)
        else:
            if body or (json is not _MISSING and text is not None):
                raise TypeError("pass at most one of body, json= and text=")
            final_headers = Headers(headers)
            if text is not None:
                final_headers.setdefault("Content-Type", "text/plain; charset=utf-8")
                body = text.encode(_charset(final_headers.get("Content-Type")))
            else:
                final_headers.setdefault("Content-Type", "application/json")
                body = _jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
            final_headers = final_headers.as_readonly()
        _set_status(self, status)
        _set_url(self, url)
        _set_method(self, method.upper())
        _set_headers(self, final_headers)
        _set_header_source(self, None)
        _set_body(self, body if type(body) is bytes else bytes(body))
        _set_elapsed(self, elapsed if type(elapsed) is float else float(elapsed))
        # json= is not cached as given: parsing the encoded body gives what a real server
        # would (tuples become lists, int keys become strings), so fakes cannot lie.
        _set_json(self, _MISSING)
        _set_text(self, text)

    @classmethod
    def _from_transport(
        cls,
        status: int,
        url: str,
        method: str,
        headers: Callable[[], Headers],
        body: bytes,
        elapsed: float,
    ) -> HttpResponse:
        """What a transport builds: arguments already checked and normalised (``method``
        upper-case, ``body`` bytes, ``elapsed`` float), headers built on first access.

        ``headers()`` is called at most once and must return read-only ``Headers``. Most
        callers read the status and the body only, so a response does not pay for copying
        the headers it never looks at.
        """
        if cls is HttpResponse and _DRAFTS_WORK:
            # Plain attribute stores on a draft of the same layout, then the class switch:
            # less than half the cost of ten slot-setter calls.
            draft = _new_draft(_ResponseDraft)
            draft.status = status
            draft._url = url
            draft._method = method
            draft._headers = None
            draft._header_source = headers
            draft._body = body
            draft._elapsed = elapsed
            draft._json = _MISSING
            draft._text = None
            draft.__class__ = HttpResponse  # type: ignore[assignment]
            return draft  # type: ignore[return-value]
        response = cls.__new__(cls)
        _set_status(response, status)
        _set_url(response, url)
        _set_method(response, method)
        _set_headers(response, None)
        _set_header_source(response, headers)
        _set_body(response, body)
        _set_elapsed(response, elapsed)
        _set_json(response, _MISSING)
        _set_text(response, None)
        return response

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("HttpResponse is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("HttpResponse is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_response,
            (
                self.status,
                self._url,
                self._method,
                list(self.headers.items()),
                self._body,
                self._elapsed,
            ),
        )

    def _redacted(self) -> HttpResponse:
        """A copy with the URL redacted and sensitive header values replaced (what errors
        pickle); the body is kept."""
        return HttpResponse(
            self.status,
            redact_url(self._url),
            self._method,
            list(_DEFAULT_REDACTOR.redact_headers(self.headers.items()).items()),
            self._body,
            elapsed=self._elapsed,
        )

    @property
    def url(self) -> str:
        """The final URL (after redirects), unredacted: use ``redact_url`` before logging it."""
        return self._url

    @property
    def method(self) -> str:
        """The request method, upper-case."""
        return self._method

    @property
    def headers(self) -> Headers:
        """The response headers: case-insensitive and read-only."""
        headers = self._headers
        if headers is None:
            source = self._header_source
            assert source is not None
            headers = source()
            _set_headers(self, headers)
            _set_header_source(self, None)
        return headers

    @property
    def body(self) -> bytes:
        """The raw body."""
        return self._body

    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to reading the full body."""
        return self._elapsed

    @property
    def ok(self) -> bool:
        """``status < 400``."""
        return self.status < 400

    @property
    def is_success(self) -> bool:
        """``200 <= status < 300``."""
        return 200 <= self.status < 300

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status (``""`` for unknown codes)."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def text(self) -> str:
        """The body decoded with the Content-Type charset (default UTF-8), errors replaced."""
        text = self._text
        if text is None:
            charset = _charset(self.headers.get("Content-Type"))
            text = self._body.decode(charset, errors="replace")
            _set_text(self, text)
        return text

    @property
    def json(self) -> Any:
        """The body parsed as JSON on first access, then cached; ``None`` for an empty body.

        Raises :class:`HTTPDecodeError` (a ``ValueError``) when the body is not valid JSON.
        """
        value = self._json
        if value is _MISSING:
            value = self._parse_json()
            _set_json(self, value)
        return value

    def _parse_json(self) -> Any:
        if not self._body.strip():
            return None
        try:
            # From bytes: json detects UTF-8/16/32 (RFC 8259 allows nothing else). msgspec
            # first when installed, with the same result (see _json).
            return _json_loads(self._body)
        except _jsonlib.JSONDecodeError as exc:
            raise HTTPDecodeError(
                what="JSON body",
                position=exc.pos,
                detail=exc.msg,
                method=self._method,
                url=self._url or None,
            ) from exc
        except UnicodeDecodeError as exc:
            raise HTTPDecodeError(
                what="JSON body",
                position=exc.start,
                detail=f"invalid {exc.encoding}",
                method=self._method,
                url=self._url or None,
            ) from exc

    def raise_for_status(self) -> Self:
        """Raise :class:`HTTPStatusError` if ``status >= 400``; return ``self`` otherwise."""
        if self.status >= 400:
            raise HTTPStatusError(response=self)
        return self

    def __repr__(self) -> str:
        parts = [str(self.status), self._method, redact_url(self._url)]
        return f"<HttpResponse {' '.join(part for part in parts if part)}>"


def _slot_setter(name: str) -> Callable[[HttpResponse, Any], None]:
    setter: Callable[[HttpResponse, Any], None] = vars(HttpResponse)[name].__set__
    return setter


# The slots' own setters. ``__setattr__`` refuses every assignment, and calling these is
# several times cheaper than ``object.__setattr__`` (a response is built per attempt).
_set_status: Final = _slot_setter("status")
_set_url: Final = _slot_setter("_url")
_set_method: Final = _slot_setter("_method")
_set_headers: Final = _slot_setter("_headers")
_set_header_source: Final = _slot_setter("_header_source")
_set_body: Final = _slot_setter("_body")
_set_elapsed: Final = _slot_setter("_elapsed")
_set_json: Final = _slot_setter("_json")
_set_text: Final = _slot_setter("_text")


class _ResponseDraft:
    """The slots of :class:`HttpResponse` without its immutability, for ``_from_transport``."""

    __slots__ = tuple(HttpResponse.__slots__)

    status: int
    _url: str
    _method: str
    _headers: Headers | None
    _header_source: Callable[[], Headers] | None
    _body: bytes
    _elapsed: float
    _json: Any
    _text: str | None


_new_draft: Final = object.__new__


def _drafts_work() -> bool:
    """Whether this interpreter lets a draft become an HttpResponse (CPython does)."""
    try:
        draft = _new_draft(_ResponseDraft)
        draft.__class__ = HttpResponse  # type: ignore[assignment]
    except TypeError:  # pragma: no cover - other interpreters
        return False
    return True


_DRAFTS_WORK: Final = _drafts_work()


def _rebuild_response(
    status: int,
    url: str,
    method: str,
    headers: list[tuple[str, str]],
    body: bytes,
    elapsed: float,
) -> HttpResponse:
    return HttpResponse(status, url, method, headers, body, elapsed=elapsed)


@dataclass(slots=True, repr=False)
class RequestContext:
    """One attempt of an outgoing request, as interceptors see and edit it.

    Mutable on purpose: interceptors add headers, sign ``body``, stash data in ``extensions``.
    ``body`` is already serialised (``json=`` and ``data=`` are encoded before interceptors run)
    so signing interceptors see the exact bytes. ``timeout`` is what is left, in seconds, of
    the logical call's deadline when this attempt starts (the client sets it before every
    attempt; the transport bounds the wait for the response headers by it; ``None``: no
    deadline); ``attempt`` counts from 1. When ``idempotency_key`` is set the client also
    sends it as the ``Idempotency-Key`` header.
    """

    method: str
    url: str
    headers: Headers = field(default_factory=Headers)
    params: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | RequestBody | None = None
    timeout: float | None = None
    attempt: int = 1
    extensions: dict[str, Any] = field(default_factory=dict)
    allow_redirects: bool = True
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()

    @property
    def is_idempotent(self) -> bool:
        """Whether a retry is safe: an idempotent method, or an idempotency key is present,
        and a body that can be sent again (see ``RequestBody.replayable``)."""
        body = self.body
        if (
            body is not None
            and type(body) is not bytes
            and isinstance(body, RequestBody)
            and not body.replayable
        ):
            return False
        return (
            self.method.upper() in _IDEMPOTENT_METHODS
            or self.idempotency_key is not None
            or "Idempotency-Key" in self.headers
        )

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of ``url`` (default ports omitted), or ``""`` if unparsable.

        Credentials, path and query are dropped, so this is safe to use as a metric tag or a
        circuit-breaker key.
        """
        try:
            parts = urlsplit(self.url.strip())
            host = parts.hostname
            port = parts.port
        except ValueError:
            return ""
        if not parts.scheme or not host:
            return ""
        scheme = parts.scheme.lower()
        if ":" in host:
            host = f"[{host}]"
        if port is None or port == _DEFAULT_PORTS.get(scheme):
            return f"{scheme}://{host}"
        return f"{scheme}://{host}:{port}"

    def __repr__(self) -> str:
        params = [
            (name, "[REDACTED]" if _DEFAULT_REDACTOR.is_sensitive_query_param(name) else value)
            for name, value in self.params
        ]
        body = self.body
        if isinstance(body, RequestBody):
            shown = f"<{type(body).__name__}, {body.length} bytes>"
        else:
            shown = "None" if body is None else f"<{len(body)} bytes>"
        return (
            f"RequestContext(method={self.method!r}, url={redact_url(self.url)!r}, "
            f"headers={self.headers!r}, params={params!r}, body={shown}, "
            f"timeout={self.timeout!r}, attempt={self.attempt!r}, "
            f"extensions={sorted(self.extensions)!r}, allow_redirects={self.allow_redirects!r}, "
            f"idempotency_key={self.idempotency_key!r})"
        )

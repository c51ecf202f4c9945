"""Turning the verbs' keyword arguments into a validated ``RequestContext``."""

from __future__ import annotations

import functools
import json as _jsonlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from lexigram.contracts.web import (
    Headers,
    HeadersInput,
    HTTPUsageError,
    InvalidURLError,
    ParamsInput,
    RequestBody,
    RequestContext,
    RequestData,
    redact_url,
)

__all__ = ["ParamsInput", "RequestData"]

_JSON_ENCODER: Final = _jsonlib.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
)
_FORM: Final = "application/x-www-form-urlencoded"
# Control characters would let a URL end the request line early (request splitting).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Characters no host name can hold (WHATWG's forbidden host code points that survive
# urlsplit): refused before any DNS lookup rather than reported as a lookup failure.
_BAD_HOST: Final = re.compile(r"[\s<>\\^|\"`{}]")
_KNOWN_METHODS: Final = frozenset(
    {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# Header names already checked (name -> lower-case): callers send the same few names.
_GOOD_NAMES: Final[dict[str, str]] = {}
_GOOD_NAMES_MAX: Final = 1024
_new_headers: Final = Headers.__new__


def _headers(headers: HeadersInput | None) -> Headers:
    """A fresh, mutable ``Headers`` holding ``headers``, validated as ``Headers()`` does.

    ``Headers()`` runs two regexes and two ABC checks per pair (several microseconds for a
    couple of headers); a call pays that on every request. Plain dicts (and ``Headers``) are
    taken on a fast path with the same rules: names must be tokens (checked once per name),
    values must be strings without CR, LF or NUL. Anything unusual, including every invalid
    input, goes through ``Headers()`` itself, so errors are exactly its own.
    """
    cls = type(headers)
    if cls is Headers:
        store = dict(headers._store)  # type: ignore[union-attr]
    elif headers is None:
        store = {}
    elif cls is dict:
        store = {}
        for name, value in headers.items():  # type: ignore[union-attr]
            lower = _GOOD_NAMES.get(name)
            if lower is None:
                if type(name) is not str or _TOKEN.fullmatch(name) is None:
                    return Headers(headers)  # raises InvalidHeaderError
                lower = name.lower()
                if len(_GOOD_NAMES) < _GOOD_NAMES_MAX:
                    _GOOD_NAMES[name] = lower
            if type(value) is not str or "\r" in value or "\n" in value or "\x00" in value:
                return Headers(headers)  # raises InvalidHeaderError (or TypeError)
            existing = store.get(lower)
            # Same spelling and joining rules as Headers.add.
            store[lower] = (
                (name, value) if existing is None else (existing[0], f"{existing[1]}, {value}")
            )
    else:
        return Headers(headers)
    result = _new_headers(Headers)
    result._store = store
    result._readonly = False
    result._lines = None  # left unset, every __setitem__ would catch an AttributeError
    return result


@functools.lru_cache(maxsize=1024)
def _origin(url: str) -> str:
    """Validate an absolute http(s) URL and return its origin; ``ValueError`` says why not.

    Cached: clients call the same few endpoints over and over.
    """
    if _CONTROL.search(url) is not None:
        raise ValueError("contains a control character")
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in _DEFAULT_PORTS:
        if not scheme:
            raise ValueError("not an absolute URL (no scheme)")
        raise ValueError(f"unsupported scheme {scheme!r} (http and https only)")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    bad = _BAD_HOST.search(host)
    if bad is not None:
        raise ValueError(f"the host contains {bad.group()!r}, which no host name can hold")
    port = parts.port  # ValueError when out of range or not a number
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _check_url(method: str, url: str) -> str:
    """The origin of ``url``; raises :class:`InvalidURLError` unless it is usable."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    try:
        return _origin(url)
    except ValueError as exc:
        raise InvalidURLError(
            f"invalid URL {redact_url(url)!r}: {exc}", method=method, url=url
        ) from None


def _check_method(method: str) -> str:
    if method in _KNOWN_METHODS:
        return method
    upper = method.upper() if isinstance(method, str) else method
    if upper in _KNOWN_METHODS or (isinstance(upper, str) and _TOKEN.fullmatch(upper)):
        return upper
    raise HTTPUsageError(f"invalid HTTP method {method!r}")


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _pairs(argument: str, given: object) -> Iterable[Any]:
    """The ``(name, value)`` items of a mapping or an iterable of pairs; a ``TypeError``
    naming ``argument`` otherwise (checked before anything is sent)."""
    if isinstance(given, Mapping):
        return given.items()
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise TypeError(
            f"{argument} must be a mapping or an iterable of (name, value) pairs, "
            f"not {type(given).__name__}"
        )
    return given


def _bad_pair(argument: str, pair: object) -> TypeError:
    size = f" of length {len(pair)}" if isinstance(pair, tuple | list) else ""
    return TypeError(
        f"{argument} must be a mapping or an iterable of (name, value) pairs; "
        f"got an item of type {type(pair).__name__}{size}"
    )


def _params(params: ParamsInput, argument: str = "params") -> list[tuple[str, str]]:
    pairs = _pairs(argument, params)
    result: list[tuple[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise _bad_pair(argument, pair)
        name, value = pair
        if isinstance(value, list | tuple):
            result.extend((str(name), _param_text(item)) for item in value)
        else:
            result.append((str(name), _param_text(value)))
    return result


def _body(
    json: Any, data: RequestData | None, content: bytes | str | None, headers: Headers
) -> bytes | RequestBody | None:
    """Encode the one body argument given; set a default ``Content-Type`` for JSON and forms."""
    if json is not None:
        if data is not None or content is not None:
            raise TypeError("pass at most one of json=, data= and content=")
        if "content-type" not in headers:
            headers["Content-Type"] = "application/json"
        return _JSON_ENCODER.encode(json).encode()
    if data is not None:
        if content is not None:
            raise TypeError("pass at most one of json=, data= and content=")
        if isinstance(data, bytes | bytearray | memoryview):
            return bytes(data)
        if isinstance(data, str):
            return data.encode()
        if isinstance(data, RequestBody):
            return _streamed(data, headers)
        if not isinstance(data, Mapping | Iterable):
            raise TypeError(
                "data must be a mapping or (name, value) pairs (form-encoded), bytes or str, "
                f"not {type(data).__name__}"
            )
        pairs = _params(data, "data")
        if "content-type" not in headers:
            headers["Content-Type"] = _FORM
        return urlencode(pairs).encode("ascii")
    if content is None:
        return None
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    if isinstance(content, str):
        return content.encode()
    raise TypeError(f"content must be bytes or str, not {type(content).__name__}")


def _streamed(body: RequestBody, headers: Headers) -> RequestBody:
    """A body sent in chunks: its Content-Type (unless set) and, when known, Content-Length."""
    content_type = body.content_type
    if content_type is not None and "content-type" not in headers:
        headers["Content-Type"] = content_type
    length = body.length
    if length is not None:
        headers["Content-Length"] = str(length)
    return body


def _build(
    method: str,
    url: str,
    headers: HeadersInput | None,
    params: ParamsInput | None,
    json: Any,
    data: RequestData | None,
    content: bytes | str | None,
    allow_redirects: bool,
    idempotency_key: str | None,
    extensions: Mapping[str, Any] | None,
) -> tuple[RequestContext, str]:
    """The context of a call and the origin of its URL, everything validated."""
    method = _check_method(method)
    origin = _check_url(method, url)
    # Validated as Headers() does (CR/LF/NUL -> InvalidHeaderError), and copied.
    request_headers = _headers(headers)
    body = None
    if json is not None or data is not None or content is not None:
        body = _body(json, data, content, request_headers)
    if idempotency_key is not None:
        request_headers["Idempotency-Key"] = idempotency_key
    return (
        _make_context(
            method,
            url,
            request_headers,
            [] if params is None else _params(params),
            body,
            None,
            1,
            {} if extensions is None else dict(extensions),
            allow_redirects,
            idempotency_key,
        ),
        origin,
    )


_new_context: Final = object.__new__


def _build_bare(method: str, url: str, timeout: float | None = None) -> tuple[RequestContext, str]:
    """``_build(method, url)`` with no other argument (the call most requests make), the
    context's ``timeout`` set to ``timeout``."""
    if method not in _KNOWN_METHODS:
        method = _check_method(method)
    if type(url) is str:
        try:
            origin = _origin(url)
        except ValueError:
            origin = _check_url(method, url)  # raises InvalidURLError, saying why
    else:
        origin = _check_url(method, url)  # raises TypeError
    headers = _new_headers(Headers)
    headers._store = {}
    headers._readonly = False
    headers._lines = None  # left unset, every __setitem__ would catch an AttributeError
    # _make_context, inlined: this runs on every call without keywords.
    context: RequestContext = _new_context(RequestContext)
    context.method = method
    context.url = url
    context.headers = headers
    context.params = []
    context.body = None
    context.timeout = timeout
    context.attempt = 1
    context.extensions = {}
    context.allow_redirects = True
    context.idempotency_key = None
    return context, origin


def _make_context(
    method: str,
    url: str,
    headers: Headers,
    params: list[tuple[str, str]],
    body: bytes | RequestBody | None,
    timeout: float | None,
    attempt: int,
    extensions: dict[str, Any],
    allow_redirects: bool,
    idempotency_key: str | None,
) -> RequestContext:
    """``RequestContext(...)`` for arguments already checked (``method`` upper-case): plain
    slot stores, without the dataclass ``__init__`` and ``__post_init__`` calls (a context is
    built per call, and copied per attempt when interceptors and retries meet)."""
    context: RequestContext = _new_context(RequestContext)
    context.method = method
    context.url = url
    context.headers = headers
    context.params = params
    context.body = body
    context.timeout = timeout
    context.attempt = attempt
    context.extensions = extensions
    context.allow_redirects = allow_redirects
    context.idempotency_key = idempotency_key
    return context


def _copy(context: RequestContext) -> RequestContext:
    """A fresh copy for one attempt: interceptors' edits must not pile up across attempts.

    Built as ``_make_context`` builds (plain slot stores), inlined: it runs once per attempt
    when interceptors and retries meet."""
    source = context.headers
    if type(source) is Headers:
        # _headers() for a Headers, inlined (its store was validated when it was filled).
        headers = _new_headers(Headers)
        headers._store = source._store.copy()
        headers._readonly = False
        headers._lines = None  # left unset, every __setitem__ would catch an AttributeError
    else:
        headers = _headers(source)
    copy: RequestContext = _new_context(RequestContext)
    copy.method = context.method.upper()
    copy.url = context.url
    copy.headers = headers
    copy.params = list(context.params)
    copy.body = context.body
    copy.timeout = context.timeout
    copy.attempt = context.attempt
    copy.extensions = dict(context.extensions)
    copy.allow_redirects = context.allow_redirects
    copy.idempotency_key = context.idempotency_key
    return copy

"""What the adapters say about a request: bounded, secret-free descriptions of its target."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode, urlsplit

from lexigram.contracts.web import HTTPClientError, HTTPTimeoutError, RequestContext, redact_url

__all__ = ["DURATION_BUCKETS"]

KNOWN_METHODS: Final = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
"""The methods semantic conventions know; any other is reported as ``_OTHER``."""
OTHER: Final = "_OTHER"
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
"""The advisory bucket boundaries (seconds) of ``http.client.request.duration``."""
CONNECTION_BUCKETS: Final = (
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)
"""The advisory bucket boundaries (seconds) of ``http.client.connection.duration``."""
CIRCUIT_CODES: Final = {"closed": 0, "open": 1, "half_open": 2, "isolated": 3}
"""The value of the circuit-state gauges for each state."""
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CACHE_SIZE: Final = 256


class Target:
    """The scheme, host and port of a URL (``host`` is ``""`` when it has none)."""

    __slots__ = ("host", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int | None) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port


_targets: dict[str, Target] = {}


def target_of(url: str) -> Target:
    """The scheme, host and port of ``url``; cached by the text before the path."""
    # scheme://authority is all that matters: cache on it, so paths do not fill the cache.
    end = url.find("/", url.find("//") + 2) if "//" in url else -1
    key = url if end < 0 else url[:end]
    found = _targets.get(key)
    if found is not None:
        return found
    try:
        parts = urlsplit(key)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        host, port, parts = "", None, urlsplit("")
    scheme = parts.scheme.lower()
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    target = Target(scheme, host, port)
    if len(_targets) >= _CACHE_SIZE:
        _targets.clear()
    _targets[key] = target
    return target


def method_of(method: str) -> str:
    """``method`` if semantic conventions know it, else ``_OTHER``."""
    return method if method in KNOWN_METHODS else OTHER


def full_url(context: RequestContext) -> str:
    """The URL as sent (``params`` appended), redacted."""
    url = context.url
    if context.params:
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}{urlencode(context.params)}"
    return redact_url(url)


def error_type(error: BaseException) -> str:
    """A low-cardinality name for what went wrong: the exception's class name."""
    return type(error).__name__


def safe_message(error: BaseException) -> str:
    """The error's message if it is one of ours (their URLs are redacted), else nothing:
    other exceptions (a backend's, a bug's) may quote a URL or a header as they are."""
    if isinstance(error, HTTPClientError):
        return str(error)
    return ""


def timeout_phase(error: BaseException) -> str | None:
    """The phase of a timeout (``connect``, ``pool``, ``read``, ``deadline``, ``idle``)."""
    if isinstance(error, HTTPTimeoutError):
        return str(error.phase)
    return None

"""Redaction of credentials in URLs and headers.

Every repr, error message, log field and metric tag that can contain a URL or a header goes
through these helpers, so secrets are hidden by default rather than by discipline.

Rules:

- URL user-info (``https://user:pass@host``) becomes ``https://[REDACTED]@host``.
- Values of sensitive query parameters (and of ``key=value`` pairs in the fragment, where
  OAuth implicit flows put tokens) become ``[REDACTED]``; names are matched case-insensitively
  after percent-decoding, so ``?API%5FKEY=x`` is caught too.
- Everything else is kept byte for byte: no re-quoting, no normalisation, so a redacted URL is
  still recognisable in logs.
- Garbage never raises: redaction runs inside error handling and logging, where a second
  exception would hide the first. If parsing fails anyway, the whole URL is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, NoReturn
from urllib.parse import unquote_plus

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_PARAMS",
    "Redactor",
    "is_sensitive_header",
    "redact_headers",
    "redact_url",
]

REDACTED: Final = "[REDACTED]"
"""The placeholder that replaces a secret."""

SENSITIVE_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)
"""Header names (lower-case) whose values are always redacted."""

SENSITIVE_QUERY_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "signature",
        "sig",
        "secret",
        "client_secret",
        "password",
        "auth",
    }
)
"""Query parameter names (lower-case) whose values are always redacted."""

# Headers whose values are URLs: redact those URLs instead of hiding the whole value.
_URL_HEADERS: Final = frozenset({"location", "content-location", "referer"})

# Optional scheme then "//": where an authority (and so possibly user-info) starts.
_AUTHORITY_START: Final = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//")
_AUTHORITY_END: Final = re.compile(r"[/?#]")
# Both separators: ";" is obsolete but still honoured by some servers.
_PARAM_SPLIT: Final = re.compile(r"([&;])")


def _lower_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip().lower() for name in names)


class Redactor:
    """Redaction rules: the defaults plus extra header and query parameter names.

    The module-level :func:`redact_url`, :func:`redact_headers` and :func:`is_sensitive_header`
    use ``Redactor()``; build your own to hide more, e.g.
    ``Redactor(extra_headers={"X-Partner-Secret"}, extra_query_params={"session"})``.
    """

    __slots__ = ("_header_names", "_query_param_names")

    _header_names: frozenset[str]
    _query_param_names: frozenset[str]

    def __init__(
        self,
        *,
        extra_headers: Iterable[str] = (),
        extra_query_params: Iterable[str] = (),
    ) -> None:
        object.__setattr__(self, "_header_names", SENSITIVE_HEADERS | _lower_set(extra_headers))
        object.__setattr__(
            self, "_query_param_names", SENSITIVE_QUERY_PARAMS | _lower_set(extra_query_params)
        )

    @property
    def header_names(self) -> frozenset[str]:
        """All sensitive header names, lower-case."""
        return self._header_names

    @property
    def query_param_names(self) -> frozenset[str]:
        """All sensitive query parameter names, lower-case."""
        return self._query_param_names

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Redactor is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Redactor is immutable")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_redactor, (self.header_names, self.query_param_names))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Redactor):
            return (self.header_names, self.query_param_names) == (
                other.header_names,
                other.query_param_names,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.header_names, self.query_param_names))

    def __repr__(self) -> str:
        extra_headers = sorted(self.header_names - SENSITIVE_HEADERS)
        extra_params = sorted(self.query_param_names - SENSITIVE_QUERY_PARAMS)
        return f"Redactor(extra_headers={extra_headers!r}, extra_query_params={extra_params!r})"

    def is_sensitive_header(self, name: str) -> bool:
        """Whether the value of header ``name`` must be hidden."""
        return name.strip().lower() in self._header_names

    def is_sensitive_query_param(self, name: str) -> bool:
        """Whether the value of query parameter ``name`` (already decoded) must be hidden."""
        return name.strip().lower() in self._query_param_names

    def redact_header_value(self, name: str, value: str) -> str:
        """Return ``value`` as it may be shown for header ``name``."""
        lowered = name.strip().lower()
        if lowered in self._header_names:
            return REDACTED
        if lowered in _URL_HEADERS:
            return self.redact_url(value)
        return value

    def redact_headers(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> dict[str, str]:
        """Return a plain ``dict`` copy of ``headers`` with sensitive values replaced."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        return {name: self.redact_header_value(name, value) for name, value in pairs}

    def redact_url(self, url: str) -> str:
        """Return ``url`` with user-info and sensitive parameter values replaced.

        Never raises; returns ``url`` itself (no copy) when it has no ``@``, ``?`` or ``#``.
        """
        try:
            if "@" not in url and "?" not in url and "#" not in url:
                return url
            return self._redact_url(url)
        except Exception:
            # Fail closed: a URL we cannot parse may still hold a secret.
            return REDACTED

    def _redact_url(self, url: str) -> str:
        # Leading whitespace is ignored by URL parsers, so it must not hide the authority.
        start = len(url) - len(url.lstrip())
        rest = auth_start = start
        at = -1
        authority = _AUTHORITY_START.match(url, start)
        if authority is not None:
            auth_start = authority.end()
            end_match = _AUTHORITY_END.search(url, auth_start)
            auth_end = end_match.start() if end_match is not None else len(url)
            # rfind: a password may itself contain "@" (unencoded, but seen in the wild).
            at = url.rfind("@", auth_start, auth_end)
            rest = auth_end
        fragment = url.find("#", rest)
        query = url.find("?", rest, fragment if fragment != -1 else len(url))

        # Built right to left so earlier indices stay valid.
        parts: list[str] = []
        end = len(url)
        if fragment != -1:
            parts += (self._redact_params(url[fragment + 1 :]), "#")
            end = fragment
        if query != -1:
            parts += (self._redact_params(url[query + 1 : end]), "?")
            end = query
        if at != -1:
            parts += (url[at:end], REDACTED, url[:auth_start])
        else:
            parts.append(url[:end])
        return "".join(reversed(parts))

    def _redact_params(self, text: str) -> str:
        if "=" not in text:
            return text
        pieces = _PARAM_SPLIT.split(text)
        # Even indices are "name=value" pieces, odd ones the separators between them.
        for index in range(0, len(pieces), 2):
            name, sep, value = pieces[index].partition("=")
            if sep and value and self.is_sensitive_query_param(unquote_plus(name)):
                pieces[index] = f"{name}={REDACTED}"
        return "".join(pieces)


def _rebuild_redactor(header_names: frozenset[str], query_param_names: frozenset[str]) -> Redactor:
    return Redactor(
        extra_headers=header_names - SENSITIVE_HEADERS,
        extra_query_params=query_param_names - SENSITIVE_QUERY_PARAMS,
    )


_DEFAULT_REDACTOR: Final = Redactor()


def redact_url(url: str) -> str:
    """Return ``url`` with user-info and sensitive query parameter values replaced.

    >>> redact_url("https://user:pw@api.example.com/v1?token=abc&page=2")
    'https://[REDACTED]@api.example.com/v1?token=[REDACTED]&page=2'
    """
    return _DEFAULT_REDACTOR.redact_url(url)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a ``dict`` copy of ``headers`` with the values of sensitive headers replaced."""
    return _DEFAULT_REDACTOR.redact_headers(headers)


def is_sensitive_header(name: str) -> bool:
    """Whether header ``name`` (any case) is one whose value is always redacted."""
    return _DEFAULT_REDACTOR.is_sensitive_header(name)

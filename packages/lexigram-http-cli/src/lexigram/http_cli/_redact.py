"""What the command prints goes through here: secrets hidden unless ``--show-secrets``.

Structure first, with the shared :class:`~lexigram.contracts.web.Redactor`: sensitive header
values, URL user-info and sensitive query parameters, and JSON members whose name is a
sensitive header or parameter name (``access_token``, ``password``...). Then, in any text, the
secret values this command knows of (those it sent: an ``Authorization`` value, a token in the
query string) are replaced wherever they appear, so a server that echoes them back (in a body, a
header, an error message) does not print them either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from lexigram.contracts.web import REDACTED, Redactor

__all__: list[str] = []

# Shorter values would blank out ordinary words of a body.
_MIN_SECRET: Final = 4


class Scrubber:
    """Redacts URLs, headers, JSON values and text; a no-op when ``enabled`` is false."""

    __slots__ = ("_enabled", "_redactor", "_secrets")

    def __init__(self, *, enabled: bool = True, redactor: Redactor | None = None) -> None:
        self._enabled = enabled
        self._redactor = redactor if redactor is not None else Redactor()
        self._secrets: set[str] = set()

    @property
    def enabled(self) -> bool:
        """Whether secrets are hidden."""
        return self._enabled

    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Remember the values of sensitive headers (and their credential part)."""
        for name, value in headers:
            if self._redactor.is_sensitive_header(name):
                self._remember(value)
                scheme, _, credential = value.partition(" ")
                if credential and scheme.isalpha():
                    self._remember(credential.strip())
                if name.strip().lower() in {"cookie", "set-cookie"}:
                    for crumb in value.split(";"):
                        self._remember(crumb.partition("=")[2].strip())

    def learn_url(self, url: str) -> None:
        """Remember the user-info and the sensitive query parameter values of ``url``."""
        try:
            parts = urlsplit(url)
            if parts.password:
                self._remember(parts.password)
                self._remember(unquote(parts.password))
            query = [*parse_qsl(parts.query), *parse_qsl(parts.fragment)]
        except ValueError:
            return
        for name, value in query:
            if self._redactor.is_sensitive_query_param(name):
                self._remember(value)

    def learn_params(self, params: Iterable[tuple[str, str]]) -> None:
        """Remember the values of sensitive query parameters given apart from the URL."""
        for name, value in params:
            if self._redactor.is_sensitive_query_param(name):
                self._remember(value)

    def learn_fields(self, fields: Mapping[str, Any]) -> None:
        """Remember the values of body fields with a sensitive name (``password=...``)."""
        for name, value in fields.items():
            if isinstance(value, str) and self.is_sensitive_name(name):
                self._remember(value)

    def _remember(self, value: str) -> None:
        if len(value) >= _MIN_SECRET:
            self._secrets.add(value)

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced."""
        if not self._enabled:
            return text
        # Longest first, so a value that contains another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def url(self, url: str) -> str:
        """``url`` with user-info and sensitive parameters redacted."""
        if not self._enabled:
            return url
        return self.text(self._redactor.redact_url(url))

    def header(self, name: str, value: str) -> str:
        """The printable value of header ``name``."""
        if not self._enabled:
            return value
        return self.text(self._redactor.redact_header_value(name, value))

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, values made printable."""
        return [(name, self.header(name, value)) for name, value in headers]

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with sensitive members and known secrets redacted."""
        if not self._enabled:
            return value
        if isinstance(value, dict):
            return {
                key: REDACTED
                if isinstance(key, str) and self.is_sensitive_name(key) and item is not None
                else self.json(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def is_sensitive_name(self, name: str) -> bool:
        """Whether a field named ``name`` holds a secret (a sensitive header or parameter)."""
        lowered = name.strip().lower()
        return (
            self._redactor.is_sensitive_header(lowered)
            or self._redactor.is_sensitive_query_param(lowered)
            or self._redactor.is_sensitive_query_param(lowered.replace("-", "_"))
        )

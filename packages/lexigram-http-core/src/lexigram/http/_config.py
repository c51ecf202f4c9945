"""HTTPClientConfig: the ``http:`` configuration section.

Every key has an environment form: ``LEX_HTTP__`` followed by the key path in upper case with
``__`` between levels (``pool.timeout`` -> ``LEX_HTTP__POOL__TIMEOUT``). Precedence, when the
client is built by ``HTTPModule``: defaults < ``application.yaml`` < environment < code.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lexigram.contracts.web import redact_headers, redact_url

__all__ = ["BaseURLClientConfig", "HTTPClientConfig", "PoolConfig", "RetryConfig", "TLSConfig"]

# hide_input_in_errors: a ValidationError of a config built in code must not echo a proxy URL
# with its password (or any other value): the messages name the key, as the file/env path does.
_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, hide_input_in_errors=True)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class PoolConfig(BaseModel):
    """Connection pool limits and the call deadline (``http.pool``)."""

    model_config = _FROZEN

    max_connections: int = Field(default=100, ge=1)
    """Total concurrent connections across all hosts."""
    max_keepalive_connections: int = Field(default=50, ge=0)
    """Idle keep-alive connections kept per host; more are closed when released (0: none)."""
    max_connections_per_host: int = Field(default=20, ge=1)
    """Concurrent connections to one host (scheme, host, port)."""
    timeout: PositiveSeconds = 30.0
    """Deadline of one logical call in seconds, retries included, up to the response headers."""
    ttl_dns_cache: int | None = Field(default=300, ge=0)
    """Seconds a DNS answer is cached; ``null`` caches forever, 0 disables the cache."""
    force_close: bool = False
    """Close every connection after its response (no keep-alive)."""

    @model_validator(mode="after")
    def _per_host_within_total(self) -> PoolConfig:
        if self.max_connections_per_host > self.max_connections:
            raise ValueError(
                f"max_connections_per_host ({self.max_connections_per_host}) cannot exceed "
                f"max_connections ({self.max_connections})"
            )
        return self


class TLSConfig(BaseModel):
    """TLS settings (``http.tls``): verification is on by default."""

    model_config = _FROZEN

    verify: bool = True
    """Verify server certificates. Turning this off is for local development only."""
    ca_bundle: Path | None = None
    """A PEM file of CA certificates to trust instead of the system store."""

    @field_validator("ca_bundle")
    @classmethod
    def _bundle_exists(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"CA bundle file not found: {value}")
        # Loaded once here so a file that is not PEM certificates fails validation (naming
        # the key and the file) instead of the first request or the boot with a bare SSLError.
        try:
            ssl.create_default_context(cafile=str(value))
        except (ssl.SSLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise ValueError(
                f"CA bundle {value} is not a readable PEM file of CA certificates ({reason})"
            ) from None
        return value


class RetryConfig(BaseModel):
    """The default retry policy (``http.retry``), used when no policy or pipeline is registered."""

    model_config = _FROZEN

    enabled: bool = True
    max_attempts: int = Field(default=3, ge=1, le=20)
    """Attempts in all, the first one included."""
    backoff_base: PositiveSeconds = 0.2
    """First back-off ceiling; it doubles per attempt (full jitter: a uniform draw below it)."""
    backoff_max: PositiveSeconds = 10.0
    """Cap of one back-off."""
    retry_after_max: PositiveSeconds = 60.0
    """Longest ``Retry-After`` / ``retry-after-ms`` honoured; longer ones end the retries."""


_CLIENT_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")


class BaseURLClientConfig(BaseModel):
    """One named base-URL client of ``HTTPModule`` (``http.clients.<name>``).

    Set in code (``HTTPModule.configure(clients={KEY: BaseURLClientConfig(...)})``), in
    ``application.yaml`` or in ``LEX_HTTP__CLIENTS__<NAME>__...``, field by field with the
    usual precedence; ``base_url`` must come from one of them. Header values are redacted in
    the repr: they usually carry the credentials.
    """

    model_config = _FROZEN

    base_url: str | None = None
    """The upstream's base URL (``https://api.example.com/v1``); required in the end."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Default headers sent on every request (credentials, API version)."""
    timeout: PositiveSeconds | None = None
    """Default deadline of a call (``None``: ``http.pool.timeout``)."""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_a_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("base_url must be an http:// or https:// URL with a host")
        return value

    @field_validator("headers")
    @classmethod
    def _header_values_are_single_lines(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if any(char in f"{name}{text}" for char in "\r\n\x00"):
                raise ValueError(f"header {name!r} must not contain CR, LF or NUL")
        return value

    def __repr__(self) -> str:
        url = None if self.base_url is None else redact_url(self.base_url)
        headers = redact_headers(self.headers)
        return (
            f"BaseURLClientConfig(base_url={url!r}, headers={headers!r}, timeout={self.timeout!r})"
        )

    __str__ = __repr__


class HTTPClientConfig(BaseModel):
    """Configuration of :class:`~lexigram.http.HTTPClient` (the ``http:`` section).

    The seed's keys and defaults (``pool``, ``proxy``, ``trust_env``, ``cookie_jar``) plus the
    per-attempt timeouts, a response size cap, TLS and the default retry policy.
    """

    model_config = _FROZEN

    pool: PoolConfig = Field(default_factory=PoolConfig)
    proxy: str | None = None
    """Proxy URL for every request, e.g. ``http://proxy.internal:8080``."""
    trust_env: bool = True
    """Honour ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY`` (and ``.netrc``)."""
    cookie_jar: bool = True
    """Keep an in-memory cookie jar per client; false ignores ``Set-Cookie``."""
    connect_timeout: PositiveSeconds = 10.0
    """Per attempt: time to get a connection (pool wait and TCP/TLS connect)."""
    read_timeout: PositiveSeconds = 30.0
    """Per attempt: longest silence while reading from the socket."""
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    """Largest response body read into memory; larger ones fail with HTTPBodyTooLargeError."""
    tls: TLSConfig = Field(default_factory=TLSConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    user_agent: str | None = "lexigram-http"
    """Default ``User-Agent`` header (``null`` sends aiohttp's own)."""
    max_redirects: int = Field(default=20, ge=0)
    """Redirects followed per request (as httpx and Fetch); one more is an
    ``HTTPRedirectError``. 0 returns the first redirect response as it is."""
    sensitive_headers: tuple[str, ...] = ()
    """Header names treated as credentials besides the built-in list (``Authorization``,
    ``Cookie``, ``X-Api-Key``...): dropped, like them, when a redirect leaves the origin."""
    allow_private_networks: bool = True
    """False turns on the SSRF guard: connections to loopback, private, link-local,
    multicast and reserved addresses are refused after DNS resolution
    (``HTTPBlockedAddressError``), redirects and proxies included."""

    clients: dict[str, BaseURLClientConfig] = Field(default_factory=dict)
    """Named base-URL clients ``HTTPModule`` builds (``http.clients.<name>``); each one is
    resolved by its ``Key[BaseURLHTTPClient](name)``. ``HTTPClient`` itself ignores it."""

    @field_validator("clients")
    @classmethod
    def _client_names(cls, value: dict[str, BaseURLClientConfig]) -> dict[str, BaseURLClientConfig]:
        for name in value:
            if _CLIENT_NAME.fullmatch(name) is None:
                raise ValueError(
                    f"client name {name!r} must be lower-case letters, digits and _ "
                    "(it is also an environment variable part)"
                )
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The proxy URL may carry user:password; repr() and str() show it redacted.
        for name, value in super().__repr_args__():
            if name == "proxy" and isinstance(value, str):
                value = redact_url(value)
            yield name, value

    @field_validator("proxy")
    @classmethod
    def _proxy_is_a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("proxy must be an http:// or https:// URL with a host")
        return value

    @field_validator("sensitive_headers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # The environment form is one scalar: LEX_HTTP__SENSITIVE_HEADERS="X-A, X-B".
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("sensitive_headers")
    @classmethod
    def _header_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid header name")
        return value

    @field_validator("user_agent")
    @classmethod
    def _user_agent_is_one_header_value(cls, value: str | None) -> str | None:
        # Sent as a header on every request: CR/LF would inject headers, NUL truncates.
        if value is not None and any(char in value for char in "\r\n\x00"):
            raise ValueError("user_agent must not contain CR, LF or NUL")
        return value

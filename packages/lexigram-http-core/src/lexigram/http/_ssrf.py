"""The SSRF guard (``http.allow_private_networks: false``): only public addresses are reached.

For applications that fetch URLs their users supply. The check runs in the connector, on the
addresses a host name resolved to (``_resolve_host``, which also serves IP literals and the DNS
cache), right before connecting. Checking the URL's host name instead would be useless: a name
may resolve to ``127.0.0.1``, or to a public address first and a private one on the next lookup
(DNS rebinding). Every connection goes through it: redirect hops and proxies included.

Refused: every address that is not globally routable (loopback, private, link-local, shared,
reserved, unspecified, documentation ranges...) and multicast, for IPv4 and IPv6, IPv4-mapped
IPv6 addresses judged by their IPv4 address. When a name resolves to several addresses, one
refused address refuses the name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lexigram.http._connector import LimitedConnector, PoolConnector

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult
    from aiohttp.tracing import Trace

__all__ = ["BlockedAddress", "GuardedLimitedConnector", "GuardedPoolConnector", "is_public"]


class BlockedAddress(Exception):
    """Raised by the guard inside aiohttp; the transport maps it to HTTPBlockedAddressError.

    Not an ``OSError``, so aiohttp lets it through instead of wrapping it as a DNS error.
    """

    def __init__(self, host: str, address: str) -> None:
        super().__init__(host, address)
        self.host = host
        self.address = address


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address as text) may be reached with the guard on."""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _Guard:
    """Connector mixin: refuse hosts that resolve to an address ``address_allowed`` refuses."""

    _address_allowed: Callable[[str], bool]

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        resolved: list[ResolveResult] = await super()._resolve_host(  # type: ignore[misc]
            host, port, traces=traces
        )
        for result in resolved:
            if not self._address_allowed(result["host"]):
                raise BlockedAddress(host, result["host"])
        return resolved


class GuardedPoolConnector(_Guard, PoolConnector):
    """A :class:`PoolConnector` with the SSRF guard."""

    def __init__(self, *, address_allowed: Callable[[str], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._address_allowed = address_allowed


class GuardedLimitedConnector(_Guard, LimitedConnector):
    """A :class:`LimitedConnector` with the SSRF guard."""

    def __init__(self, *, address_allowed: Callable[[str], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._address_allowed = address_allowed

"""The aiohttp connector of :class:`AiohttpTransport`: idle keep-alive cap and pool-wait marker.

Two things aiohttp does not offer, added by overriding private ``BaseConnector`` hooks of
aiohttp 3.10-3.14 (``_release``, ``_wait_for_available_connection``, ``_create_connection``;
read ``aiohttp/connector.py``). Both overrides are off the hot path or cost one dict lookup.

- ``max_keepalive_connections``: aiohttp pools every released connection. ``_release`` is the
  one place a connection goes back to the pool, so when that host (connection key) already has
  ``max_keepalive`` idle connections the released one is closed instead. The cap can only bind
  when it is below ``max_connections_per_host`` (a host never has more connections than
  that), so :func:`make_connector` builds the capping class only then: with the default
  configuration (50 idle, 20 per host) a release costs what it costs in aiohttp.
- The POOL timeout phase: aiohttp raises the same ``ConnectionTimeoutError`` whether the
  ``connect`` budget ran out while queued for a free slot or while connecting. The connector
  sets a task-local marker when it starts queueing and clears it when the wait ends or a new
  connection starts being created, so the transport can tell the two apart after the fact.
  Queueing is the only path that touches it: a request that finds a slot pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest, ConnectionKey
    from aiohttp.tracing import Trace

__all__ = ["LimitedConnector", "PoolConnector", "make_connector", "waiting_for_pool_slot"]

# True while the current task is queued for a connection slot (and left True when that wait
# is cut short, which is exactly what the transport asks about once the timeout surfaces).
_QUEUED: ContextVar[bool] = ContextVar("lexigram_http_pool_queued", default=False)


def waiting_for_pool_slot() -> bool:
    """Whether the current task's last connector step was queueing for a pool slot.

    Read (and reset) by the transport when a connect timeout surfaces, to report
    ``TimeoutPhase.POOL`` instead of ``CONNECT``.
    """
    queued = _QUEUED.get()
    if queued:
        _QUEUED.set(False)
    return queued


class PoolConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that marks the time a task spends queued for a pool slot."""

    async def _wait_for_available_connection(self, key: ConnectionKey, traces: list[Trace]) -> None:
        _QUEUED.set(True)
        await super()._wait_for_available_connection(key, traces)
        _QUEUED.set(False)

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> ResponseHandler:
        # A previous pool wait of this task may have been cancelled; this attempt is past it.
        _QUEUED.set(False)
        return await super()._create_connection(req, traces, timeout)


class LimitedConnector(PoolConnector):
    """A :class:`PoolConnector` that keeps at most ``max_keepalive`` idle connections per host."""

    def __init__(self, *, max_keepalive: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_keepalive = max_keepalive

    def _release(
        self,
        key: ConnectionKey,
        protocol: ResponseHandler,
        *,
        should_close: bool = False,
    ) -> None:
        if not should_close:
            idle = self._conns.get(key)
            if (len(idle) if idle else 0) >= self._max_keepalive:
                should_close = self._prune_idle(key) >= self._max_keepalive
        super()._release(key, protocol, should_close=should_close)

    def _prune_idle(self, key: ConnectionKey) -> int:
        """Drop idle connections the peer already closed; return how many idle ones remain.

        Only runs at the cap, so a dead connection never makes us close a live one.
        """
        idle = self._conns.get(key)
        if not idle:
            return 0
        alive = [(proto, used) for proto, used in idle if proto.is_connected()]
        if len(alive) != len(idle):
            for proto, _ in idle:
                if not proto.is_connected():
                    proto.close()
            idle.clear()
            idle.extend(alive)
        return len(alive)


def make_connector(
    *,
    max_keepalive: int,
    limit_per_host: int,
    allow_private_networks: bool = True,
    address_allowed: Callable[[str], bool] | None = None,
    **kwargs: Any,
) -> PoolConnector:
    """The connector for a pool: :class:`LimitedConnector` only when the keep-alive cap can
    bind (``max_keepalive < limit_per_host``), else a plain :class:`PoolConnector`; the
    guarded variants (``lexigram.http._ssrf``) when private networks are not allowed."""
    limited = max_keepalive < limit_per_host
    if not allow_private_networks:
        from lexigram.http._ssrf import GuardedLimitedConnector, GuardedPoolConnector, is_public

        allowed = is_public if address_allowed is None else address_allowed
        if limited:
            return GuardedLimitedConnector(
                address_allowed=allowed,
                max_keepalive=max_keepalive,
                limit_per_host=limit_per_host,
                **kwargs,
            )
        return GuardedPoolConnector(
            address_allowed=allowed, limit_per_host=limit_per_host, **kwargs
        )
    if limited:
        return LimitedConnector(
            max_keepalive=max_keepalive, limit_per_host=limit_per_host, **kwargs
        )
    return PoolConnector(limit_per_host=limit_per_host, **kwargs)

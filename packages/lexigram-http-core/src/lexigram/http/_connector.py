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
- ``read_timeout`` (aiohttp's ``sock_read``) with one lazy timer per connection. aiohttp
  cancels its read timer and schedules a new one at the start of every response and on every
  chunk received (two or more timer handles pushed onto the loop's heap per request, several
  percent of a small request's CPU). :class:`LazyReadTimeoutHandler` only records the time
  of the last activity and keeps at most one timer per connection: when it comes due, it
  fires the timeout if the connection has been silent for the whole ``read_timeout``, else
  re-arms for the last activity plus ``read_timeout``. Same semantics (the timeout fires
  ``read_timeout`` after the last bytes, not later), no timer handle per request or chunk.
  It overrides ``ResponseHandler._reschedule_timeout`` / ``_drop_timeout`` (aiohttp
  3.10-3.14) and is the protocol of every connector :func:`make_connector` builds.
- Pool events for an ``HTTPPoolObserverProtocol`` (:func:`make_connector` with ``observer``):
  an observing subclass of the chosen class, built only when an observer takes pool events,
  reports each connection's state (``None -> active`` when created, ``active -> idle`` when
  released to the pool, ``idle -> active`` when reused, ``... -> None`` when its socket is
  gone: ``connection_lost`` of the protocol, whoever closed it), its open duration, and the
  time a request queued for a slot. Without an observer the classes above are used as they
  are: no extra step per request.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler

from lexigram.contracts.observability import (
    ConnectionOrigin,
    ConnectionState,
    HTTPPoolObserverProtocol,
    wants_pool_events,
)

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest, ConnectionKey
    from aiohttp.tracing import Trace

__all__ = [
    "LazyReadTimeoutHandler",
    "LimitedConnector",
    "PoolConnector",
    "make_connector",
    "waiting_for_pool_slot",
]

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


class LazyReadTimeoutHandler(ResponseHandler):
    """aiohttp's protocol with ``sock_read`` kept by one lazy timer (see the module docstring).

    ``_read_timeout_handle`` is the pending check, ``_lex_due`` when it runs, ``_lex_last``
    the time of the last activity (the request sent, bytes received) while ``_lex_active``.
    """

    _lex_active = False
    _lex_last = 0.0
    _lex_due = 0.0

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        # The default loops' clock is time.monotonic: called directly, it skips a
        # Python-level method call on every chunk. Other loops (uvloop) keep their own.
        self._lex_now: Callable[[], float] = (
            time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        )

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._lex_active = False
            return
        self._lex_active = True
        self._lex_last = now = self._lex_now()
        due = now + timeout
        handle = self._read_timeout_handle
        if handle is None or self._lex_due > due:
            # No check pending, or the pending one is too late (read_timeout was lowered).
            if handle is not None:
                handle.cancel()
            self._lex_due = due
            self._read_timeout_handle = self._loop.call_at(due, self._lex_check)

    def _drop_timeout(self) -> None:
        # The pending check, if any, stays: it finds the connection inactive and ends, or
        # finds it in use again by then and re-arms. No timer handle is cancelled per request.
        self._lex_active = False

    def _lex_check(self) -> None:
        self._read_timeout_handle = None
        timeout = self._read_timeout
        if not self._lex_active or not timeout:
            return
        due = self._lex_last + timeout
        if self._lex_now() >= due:
            self._lex_active = False
            self._on_read_timeout()
        else:
            self._lex_due = due
            self._read_timeout_handle = self._loop.call_at(due, self._lex_check)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        handle = self._read_timeout_handle
        if handle is not None:  # the socket is gone: let the protocol go now
            handle.cancel()
            self._read_timeout_handle = None


class PoolConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that marks the time a task spends queued for a pool slot, with
    :class:`LazyReadTimeoutHandler` as its protocol."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # What TCPConnector builds its protocols with (aiohttp 3.10-3.14).
        self._factory = cast(
            "functools.partial[ResponseHandler]",
            functools.partial(LazyReadTimeoutHandler, loop=self._loop),
        )

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


class _ObservedHandler(LazyReadTimeoutHandler):
    """aiohttp's protocol, telling the observer when its socket is gone (however closed)."""

    # Set by the connector once the connection is made (None until then: not reported).
    _lex_observer: HTTPPoolObserverProtocol | None = None
    _lex_origin: ConnectionOrigin
    _lex_state: ConnectionState | None = None
    _lex_opened: float = 0.0

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        observer = self._lex_observer
        if observer is not None:
            self._lex_observer = None
            origin = self._lex_origin
            observer.connection_state(origin, self._lex_state, None)
            observer.connection_closed(origin, perf_counter() - self._lex_opened)


def _origin(key: ConnectionKey, peer: str | None = None) -> ConnectionOrigin:
    return ConnectionOrigin(
        "https" if key.is_ssl else "http", key.host, key.port or (443 if key.is_ssl else 80), peer
    )


def _move(proto: ResponseHandler, current: ConnectionState) -> None:
    if isinstance(proto, _ObservedHandler):
        observer = proto._lex_observer
        previous = proto._lex_state
        if observer is not None and previous != current:
            proto._lex_state = current
            observer.connection_state(proto._lex_origin, previous, current)


class _PoolObserving(PoolConnector):
    """Reports the pool's events to ``observer`` (mixed in before the chosen class)."""

    def __init__(self, *, observer: HTTPPoolObserverProtocol, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._observer = observer
        # What TCPConnector builds its protocols with (an _ObservedHandler is a ResponseHandler).
        self._factory = cast(
            "functools.partial[ResponseHandler]",
            functools.partial(_ObservedHandler, loop=self._loop),
        )

    async def _wait_for_available_connection(self, key: ConnectionKey, traces: list[Trace]) -> None:
        started = perf_counter()
        try:
            await super()._wait_for_available_connection(key, traces)
        finally:
            self._observer.pool_wait(_origin(key), perf_counter() - started)

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> ResponseHandler:
        proto = await super()._create_connection(req, traces, timeout)
        if isinstance(proto, _ObservedHandler) and proto.transport is not None:
            peer = proto.transport.get_extra_info("peername")
            address = peer[0] if isinstance(peer, tuple) and peer else None
            proto._lex_origin = origin = _origin(req.connection_key, address)
            proto._lex_opened = perf_counter()
            proto._lex_state = "active"
            proto._lex_observer = self._observer
            self._observer.connection_state(origin, None, "active")
        return proto

    async def _get(
        self, key: ConnectionKey, traces: list[Trace]
    ) -> aiohttp.connector.Connection | None:
        connection = await super()._get(key, traces)
        if connection is not None and connection.protocol is not None:
            _move(connection.protocol, "active")
        return connection

    def _release(
        self,
        key: ConnectionKey,
        protocol: ResponseHandler,
        *,
        should_close: bool = False,
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        # Still holding its transport: it went back to the pool (closed ones lose it).
        if protocol.transport is not None and not self._closed:
            _move(protocol, "idle")


_OBSERVING: dict[type[PoolConnector], type[PoolConnector]] = {}


def _observing(cls: type[PoolConnector]) -> type[PoolConnector]:
    """``cls`` with the pool events reported (one subclass per class, made once)."""
    found = _OBSERVING.get(cls)
    if found is None:
        found = _OBSERVING[cls] = type(f"Observed{cls.__name__}", (_PoolObserving, cls), {})
    return found


def make_connector(
    *,
    max_keepalive: int,
    limit_per_host: int,
    allow_private_networks: bool = True,
    address_allowed: Callable[[str], bool] | None = None,
    observer: object = None,
    **kwargs: Any,
) -> PoolConnector:
    """The connector for a pool: :class:`LimitedConnector` only when the keep-alive cap can
    bind (``max_keepalive < limit_per_host``), else a plain :class:`PoolConnector`; the
    guarded variants (``lexigram.http._ssrf``) when private networks are not allowed; with
    the pool events reported when ``observer`` wants them (``wants_pool_events``)."""
    limited = max_keepalive < limit_per_host
    cls: type[PoolConnector]
    if not allow_private_networks:
        from lexigram.http._ssrf import GuardedLimitedConnector, GuardedPoolConnector, is_public

        kwargs["address_allowed"] = is_public if address_allowed is None else address_allowed
        cls = GuardedLimitedConnector if limited else GuardedPoolConnector
    else:
        cls = LimitedConnector if limited else PoolConnector
    if limited:
        kwargs["max_keepalive"] = max_keepalive
    if wants_pool_events(observer):
        cls = _observing(cls)
        kwargs["observer"] = observer
    return cls(limit_per_host=limit_per_host, **kwargs)

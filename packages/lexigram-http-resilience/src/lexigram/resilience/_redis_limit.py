"""``RedisRateLimiter``: one quota shared by every process of a fleet, kept in Redis.

The decision is GCRA (the generic cell rate algorithm): per key, Redis holds one number, the
theoretical arrival time (TAT) of the next permit, in microseconds of the Redis server's own
clock (``TIME``), so client clocks never matter. A call costing ``c`` units is allowed when
``max(TAT, now) + c * T - burst * T <= now`` (``T = 1 / rate``), which then moves the TAT by
``c * T``. A second key of the same ``{hash tag}`` holds the time until which the partner said
the quota is spent. One Lua script reads both, decides, reserves (now or at a future time, for a
waiting call), applies a pending refund and returns in one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random as _random
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from lexigram.contracts.observability import MetricsRecorderProtocol
from lexigram.contracts.resilience import AttemptOperation
from lexigram.contracts.web import (
    HTTPRateLimitedError,
    HttpResponse,
    RequestContext,
    redact_url,
)
from lexigram.resilience._config import RateLimitConfig, RedisConfig
from lexigram.resilience._partner import exhausted_for
from lexigram.resilience._strategy import Clock, NextStage, Sleep, _origin_of

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = [
    "BackendErrorMode",
    "RateLimitBackendError",
    "RedisRateLimiter",
    "Reservation",
]

BackendErrorMode = Literal["local", "allow", "deny"]
"""What a Redis outage means: a local limiter, no limit, or refusing every call."""

_logger: Final = logging.getLogger("lexigram.resilience.rate_limit")
_INSTALL_HINT: Final = (
    'RedisRateLimiter needs redis-py: pip install "lexigram-http-resilience[redis]"'
)
_OUTAGE_METRIC: Final = "resilience.rate_limit.backend_outage"
_UP_METRIC: Final = "resilience.rate_limit.backend_up"
_PARTNER_METRIC: Final = "resilience.rate_limit.partner_exhausted"
_TAGS: Final = MappingProxyType({"backend": "redis"})
_US: Final = 1_000_000.0
_NOTHING: Final = (0.0, 0.0)

# KEYS[1]: TAT (us, server clock); KEYS[2]: partner block-until (us) for this unit; KEYS[3]:
# partner block-until for every unit (a 429's Retry-After, IETF fields).
# ARGV: interval_us, tolerance_us, cost, want, max_wait_us (-1: reject), adjust (units given
# back; negative charges more), block_us for this unit, block_us for every unit (0: nothing).
# Returns {granted units, wait_us, reason (0 ok, 1 quota, 2 partner)}.
_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local max_wait = tonumber(ARGV[5])
local adjust = tonumber(ARGV[6])
local unit_for = tonumber(ARGV[7])
local all_for = tonumber(ARGV[8])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local dirty = false
if adjust ~= 0 then
  tat = tat - adjust * interval
  if tat < now then tat = now end
  dirty = true
end
local block = 0
for i = 2, 3 do
  local held = tonumber(redis.call('GET', KEYS[i]) or '0')
  local learned = unit_for
  if i == 3 then learned = all_for end
  if learned > 0 and now + learned > held then
    held = now + learned
    redis.call('SET', KEYS[i], string.format('%.0f', held), 'PX', math.ceil(learned / 1000) + 1)
  end
  if held > block then block = held end
end
local start = now
local reason = 0
if block > now then
  start = block
  reason = 2
end
local base = tat
if base < start then base = start end
local granted = 0
local wait = 0
if cost > 0 then
  local allow_at = base + cost * interval - tolerance
  if allow_at < start then allow_at = start end
  wait = allow_at - now
  if wait <= 0 then
    wait = 0
    granted = cost
    if want > cost then
      local extra = math.floor((now + tolerance - base - cost * interval) / interval)
      if extra > want - cost then extra = want - cost end
      if extra > 0 then granted = granted + extra end
    end
  elseif max_wait >= 0 and wait <= max_wait then
    granted = cost
  end
  if reason == 0 and wait > 0 then reason = 1 end
  if granted > 0 then
    tat = base + granted * interval
    dirty = true
  end
end
if dirty then
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return {granted, math.ceil(wait), reason}
"""


class RateLimitBackendError(HTTPRateLimitedError):
    """The fleet limiter's backend (Redis) is unreachable and ``on_backend_error="deny"``.

    A rate-limit rejection (it subclasses ``HTTPRateLimitedError``); ``retry_after`` is when the
    limiter next tries to reconnect. ``__cause__`` is the backend's error, when there is one.
    """

    def _default_reason(self) -> str:
        return "the rate-limit backend is unavailable"


class _Unavailable(Exception):
    """Internal: Redis is down (or being retried later); use the fallback."""


class _LocalGcra:
    """The same algorithm in process memory: the ``local`` fallback during an outage."""

    __slots__ = ("_interval", "_max_keys", "_tats", "_tolerance")

    def __init__(self, rate: float, burst: float, max_keys: int) -> None:
        self._interval = 1.0 / rate
        self._tolerance = burst * self._interval
        self._max_keys = max_keys
        self._tats: dict[str, float] = {}

    def take(self, key: str, cost: int, now: float, max_wait: float | None) -> float:
        """Reserve ``cost`` units; the wait (0: at once), or ``-wait`` when refused."""
        tats = self._tats
        tat = max(tats.get(key, now), now)
        wait = tat + cost * self._interval - self._tolerance - now
        if wait > 0 and (max_wait is None or wait > max_wait):
            return -wait
        if key not in tats and len(tats) >= self._max_keys:
            del tats[next(iter(tats))]
        tats[key] = tat + cost * self._interval
        return max(wait, 0.0)


class Reservation:
    """Units taken from a fleet quota for one call; settle them with what the call really used.

    ``await reservation.settle(actual)`` gives back ``cost - actual`` units (or charges the
    difference when the call used more), so an estimate that was too high does not waste the
    quota. Settling twice, or after :meth:`cancel`, does nothing.
    """

    __slots__ = ("_done", "_limiter", "_remote", "cost", "key")

    def __init__(self, limiter: RedisRateLimiter, key: str, cost: int, remote: bool) -> None:
        self._limiter = limiter
        self._remote = remote
        self._done = False
        self.key = key
        """The quota's key."""
        self.cost = cost
        """Units reserved."""

    async def settle(self, actual: int) -> None:
        """Record that the call used ``actual`` units (the estimate was ``cost``)."""
        if actual < 0:
            raise ValueError(f"actual usage cannot be negative, got {actual!r}")
        if self._done:
            return
        self._done = True
        if self._remote and actual != self.cost:
            await self._limiter._adjust(self.key, self.cost - actual)

    async def cancel(self) -> None:
        """The call did not happen: give every reserved unit back."""
        await self.settle(0)

    def __repr__(self) -> str:
        return f"Reservation(key={self.key!r}, cost={self.cost}, settled={self._done})"


class RedisRateLimiter:
    """A rate limit shared by every process through Redis; implements ``RateLimiterProtocol``.

    ``rate`` units per second with ``burst`` units at once, per key: the request's origin in a
    pipeline, or one ``name`` shared by every origin (a named quota, such as one partner account
    reached through several hosts). A unit is a request, or whatever ``cost(request)`` counts
    (tokens: pass ``unit="tokens"``, ``cost`` an estimate made before the call and ``usage`` the
    actual count read from the response; the difference is settled after the call).

    - One round trip per decision (a Lua script on the server's clock); ``lease=N`` takes up to
      N permits in one round trip and serves the next calls of this process from them for at
      most ``lease_ttl`` seconds (unused ones go back with the next round trip).
    - ``mode="wait"`` waits for a permit up to ``max_wait`` and the call's deadline
      (``request.timeout``); ``"reject"`` (or a longer wait) raises ``HTTPRateLimitedError``
      with ``retry_after``.
    - ``learn_from_headers``: a response saying the partner's quota of this ``unit`` is spent
      (OpenAI, Anthropic, IETF ``RateLimit`` headers; a 429's ``Retry-After``) holds every
      process's calls until the reset.
    - ``on_backend_error``: when Redis fails or does not answer within ``timeout`` seconds,
      ``"local"`` limits this process to ``local_share`` of the quota in memory, ``"allow"``
      lets calls through, ``"deny"`` raises :class:`RateLimitBackendError`. An outage logs one
      warning (``resilience.rate_limit.backend_down``) and increments
      ``resilience.rate_limit.backend_outage`` once; Redis is tried again after a back-off
      (``reconnect_min`` doubling to ``reconnect_max``), meanwhile calls never wait on it.

    ``redis`` is a URL (the limiter owns the client it makes: call :meth:`aclose`) or a
    ``redis.asyncio.Redis`` client of yours. ``clock``, ``sleep``, ``wall_clock`` and ``random``
    are injectable; the quota itself runs on the Redis server's clock.
    """

    def __init__(
        self,
        redis: str | Redis,
        rate: float,
        *,
        burst: int | None = None,
        mode: Literal["wait", "reject"] = "wait",
        max_wait: float = 5.0,
        name: str | None = None,
        key_prefix: str = "lexigram:rl:",
        unit: Literal["requests", "tokens"] = "requests",
        cost: Callable[[RequestContext], int] | None = None,
        usage: Callable[[HttpResponse], int | None] | None = None,
        lease: int = 1,
        lease_ttl: float = 0.25,
        learn_from_headers: bool = True,
        on_backend_error: BackendErrorMode = "local",
        local_share: float = 0.25,
        timeout: float = 0.25,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
        max_keys: int = 1024,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if not 0 < rate < float("inf"):
            raise ValueError(f"rate must be a positive number of units per second, got {rate!r}")
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        if mode not in ("wait", "reject"):
            raise ValueError(f"mode must be 'wait' or 'reject', got {mode!r}")
        if unit not in ("requests", "tokens"):
            raise ValueError(f"unit must be 'requests' or 'tokens', got {unit!r}")
        if on_backend_error not in ("local", "allow", "deny"):
            raise ValueError(
                f"on_backend_error must be 'local', 'allow' or 'deny', got {on_backend_error!r}"
            )
        for label, value in (
            ("max_wait", max_wait),
            ("lease_ttl", lease_ttl),
            ("timeout", timeout),
            ("reconnect_min", reconnect_min),
            ("reconnect_max", reconnect_max),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{label} must be a finite number of seconds >= 0, got {value!r}")
        if timeout == 0:
            raise ValueError("timeout must be more than 0 seconds")
        if not 0 < local_share <= 1:
            raise ValueError(f"local_share must be in (0, 1], got {local_share!r}")
        if lease < 1:
            raise ValueError(f"lease must be at least 1 permit, got {lease!r}")
        if name is not None and not name:
            raise ValueError("name cannot be empty (None: one quota per origin)")
        self._rate = float(rate)
        self._burst = float(burst if burst is not None else max(1, math.ceil(rate)))
        self._interval_us = _US / self._rate
        self._tolerance_us = self._burst * self._interval_us
        self._mode = mode
        self._max_wait = max_wait
        self._name = name
        self._prefix = key_prefix
        self._unit = unit
        self._cost = cost
        self._usage = usage
        self._lease = lease
        self._lease_ttl = lease_ttl
        self._learn = learn_from_headers
        self._on_error = on_backend_error
        self._timeout = timeout
        self._reconnect_min = reconnect_min
        self._reconnect_max = max(reconnect_max, reconnect_min)
        self._max_keys = max_keys
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._random = random
        self._local = _LocalGcra(
            self._rate * local_share, max(1.0, self._burst * local_share), max_keys
        )
        self._leases: dict[str, list[float]] = {}
        self._keys: dict[str, list[str]] = {}
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._backoff = reconnect_min
        self._last_error: BaseException | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._owned: Redis | None
        try:
            from redis.asyncio import Redis as _Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - the tests run with the extra
            raise ImportError(_INSTALL_HINT) from exc
        if isinstance(redis, str):
            # No retries inside redis-py: the limiter has its own back-off, and a retry
            # would multiply the time a call can spend on a dead server.
            self._client: Redis = _Redis.from_url(
                redis,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._owned = self._client
            self._where = redact_url(redis)
        elif isinstance(redis, _Redis):
            self._client = redis
            self._owned = None
            kwargs = redis.connection_pool.connection_kwargs
            self._where = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
        else:
            raise TypeError(
                f"redis must be a URL or a redis.asyncio.Redis client, got {type(redis).__name__}"
            )
        self._script: AsyncScript = self._client.register_script(_SCRIPT)

    @classmethod
    def from_config(
        cls,
        config: RateLimitConfig,
        redis: RedisConfig,
        *,
        metrics: MetricsRecorderProtocol | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> RedisRateLimiter:
        """A fleet limiter from ``resilience.rate_limit`` (``rate`` set) and ``.redis``."""
        if config.rate is None:
            raise ValueError("rate_limit.rate is not set: there is no rate limiter to build")
        return cls(
            redis.url,
            config.rate,
            burst=config.effective_burst(),
            mode=config.mode,
            max_wait=config.max_wait,
            name=config.name,
            key_prefix=redis.key_prefix,
            lease=config.lease,
            lease_ttl=config.lease_ttl,
            learn_from_headers=config.learn_from_headers,
            on_backend_error=config.on_backend_error,
            local_share=config.local_share,
            timeout=redis.timeout,
            reconnect_min=redis.reconnect_min,
            reconnect_max=redis.reconnect_max,
            max_keys=config.max_keys,
            metrics=metrics,
            clock=clock,
            sleep=sleep,
            wall_clock=wall_clock,
        )

    # -- properties -----------------------------------------------------------------------------

    @property
    def rate(self) -> float:
        """Units per second per key, for the whole fleet."""
        return self._rate

    @property
    def burst(self) -> int:
        """Units allowed at once after a quiet period."""
        return int(self._burst)

    @property
    def unit(self) -> str:
        """What a unit is: ``"requests"`` or ``"tokens"`` (which partner headers apply)."""
        return self._unit

    @property
    def backend_available(self) -> bool:
        """Whether the last exchange with Redis worked."""
        return self._down_since is None

    # -- the protocol ---------------------------------------------------------------------------

    async def acquire(self, key: str = "", cost: int = 1) -> None:
        """Return when ``cost`` units of ``key``'s quota are granted; raise if they are not."""
        await self._take(key, cost, None, None)

    async def reserve(self, key: str = "", cost: int = 1) -> Reservation:
        """Take ``cost`` units now (waiting per ``mode``) and settle them after the call."""
        remote = await self._take(key, cost, None, None)
        return Reservation(self, key, cost, remote)

    async def learn(self, key: str, status: int, headers: Mapping[str, str]) -> float:
        """Share what a partner's response says; the seconds every process now holds (0: none)."""
        block = self._exhausted(status, headers)
        if block != _NOTHING:
            await self._adjust(key, 0, block)
        return max(block)

    def bind(self, next: NextStage) -> NextStage:
        """The limiter as a pipeline stage, keyed on ``name`` or ``request.origin``."""
        return functools.partial(self._stage, next)

    async def aclose(self) -> None:
        """Wait for refunds in flight; close the Redis client when the limiter made it."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._owned is not None:
            await self._owned.aclose()

    # -- the stage ------------------------------------------------------------------------------

    async def _stage(
        self,
        next: NextStage,
        request: RequestContext,
        operation: AttemptOperation,
        attempt: int = 1,
    ) -> HttpResponse:
        key = self._name or _origin_of(request)
        cost = 1 if self._cost is None else self._cost(request)
        remote = await self._take(key, cost, request, request.timeout)
        response = await next(request, operation, attempt)
        adjust = 0
        if self._usage is not None and remote:
            actual = self._usage(response)
            if actual is not None and actual >= 0:
                adjust = cost - actual
        block = self._exhausted(response.status, response.headers) if self._learn else _NOTHING
        if adjust or block != _NOTHING:
            await self._adjust(key, adjust, block)
        return response

    # -- decisions ------------------------------------------------------------------------------

    async def _take(
        self, key: str, cost: int, request: RequestContext | None, deadline: float | None
    ) -> bool:
        """Grant ``cost`` units (waiting if allowed); whether Redis granted them."""
        if cost < 0:
            raise ValueError(f"cost cannot be negative, got {cost!r}")
        if cost == 0:
            return True
        max_wait = self._max_wait if self._mode == "wait" else 0.0
        if deadline is not None and deadline < max_wait:
            max_wait = max(0.0, deadline)
        leased = self._lease > 1 and cost == 1
        refund = 0
        if leased:
            lease = self._leases.get(key)
            if lease is not None:
                if lease[0] >= 1 and self._clock() < lease[1]:
                    lease[0] -= 1
                    return True
                refund = int(lease[0])
                del self._leases[key]
        want = self._lease if leased else cost
        try:
            granted, wait_us, reason = await self._eval(
                key,
                cost=cost,
                want=want,
                max_wait=max_wait if self._mode == "wait" else -1.0,
                adjust=refund,
            )
        except _Unavailable:
            await self._fallback(key, cost, request, max_wait)
            return False
        wait = wait_us / _US
        if not granted:
            self._reject(key, wait, reason, request)
        if granted > cost:
            if len(self._leases) >= self._max_keys:
                del self._leases[next(iter(self._leases))]
            self._leases[key] = [float(granted - cost), self._clock() + self._lease_ttl]
        if wait > 0:
            try:
                await self._sleep(wait)
            except BaseException:
                self._refund_later(key, cost)  # cancelled while waiting: give the units back
                raise
        return True

    def _reject(self, key: str, wait: float, reason: int, request: RequestContext | None) -> None:
        where = key or "this client"
        if reason == 2:
            text = f"the partner's {self._unit} quota for {where} is spent (shared by the fleet)"
        elif reason == 3:
            text = (
                f"this process's share of the rate limit for {where} "
                f"(the rate-limit backend {self._where} is unavailable)"
            )
        else:
            text = f"fleet rate limit of {self._rate:g} {self._unit}/s for {where}"
        if request is None:
            raise HTTPRateLimitedError(reason=text, retry_after=wait)
        raise HTTPRateLimitedError(
            reason=text, retry_after=wait, method=request.method, url=request.url
        )

    async def _fallback(
        self, key: str, cost: int, request: RequestContext | None, max_wait: float
    ) -> None:
        mode = self._on_error
        if mode == "allow":
            return
        if mode == "deny":
            retry_after = max(0.0, self._retry_at - self._clock())
            reason = f"the rate-limit backend {self._where} is unavailable"
            error = (
                RateLimitBackendError(reason=reason, retry_after=retry_after)
                if request is None
                else RateLimitBackendError(
                    reason=reason,
                    retry_after=retry_after,
                    method=request.method,
                    url=request.url,
                )
            )
            raise error from self._last_error
        wait = self._local.take(key, cost, self._clock(), max_wait)
        if wait < 0:
            self._reject(key, -wait, 3, request)
        if wait > 0:
            await self._sleep(wait)

    def _exhausted(self, status: int, headers: Mapping[str, str]) -> tuple[float, float]:
        """How long this unit's quota, and every unit's, is spent (seconds; 0: not)."""
        if not self._learn:
            return _NOTHING
        found = exhausted_for(status, headers, self._wall_clock)
        if not found:
            return _NOTHING
        return found.get(self._unit, 0.0), found.get("*", 0.0)

    async def _adjust(self, key: str, adjust: int, block: tuple[float, float] = (0.0, 0.0)) -> None:
        """Give back (or charge) units and/or share a partner block, in one round trip."""
        if block != _NOTHING and self._metrics is not None:
            self._metrics.increment(_PARTNER_METRIC, tags={"unit": self._unit})
        if block != _NOTHING:
            lease = self._leases.pop(key, None)  # our leased permits are void too
            if lease is not None:
                adjust += int(lease[0])
        # During an outage (already logged once) there is nothing to settle against.
        with contextlib.suppress(_Unavailable):
            await self._eval(key, cost=0, want=0, max_wait=-1.0, adjust=adjust, block=block)

    def _refund_later(self, key: str, cost: int) -> None:
        task = asyncio.get_running_loop().create_task(self._adjust(key, cost))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- Redis ----------------------------------------------------------------------------------

    def _redis_keys(self, key: str) -> list[str]:
        keys = self._keys.get(key)
        if keys is None:
            # The hash tag keeps both keys of a quota in one cluster slot; braces inside the
            # key would end the tag early, so they are replaced.
            tag = key.replace("{", "(").replace("}", ")")
            base = f"{self._prefix}{{{tag}}}"
            unit = self._unit
            keys = [f"{base}:{unit}:tat", f"{base}:{unit}:block", f"{base}:block"]
            if len(self._keys) >= self._max_keys:
                self._keys.clear()
            self._keys[key] = keys
        return keys

    async def _eval(
        self,
        key: str,
        *,
        cost: int,
        want: int,
        max_wait: float,
        adjust: int,
        block: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[int, int, int]:
        if self._down_since is not None:
            now = self._clock()
            if now < self._retry_at:
                raise _Unavailable
            # This call probes; the others keep using the fallback until it answers.
            self._retry_at = now + self._next_backoff()
        args = (
            f"{self._interval_us:.3f}",
            f"{self._tolerance_us:.3f}",
            cost,
            want,
            -1 if max_wait < 0 else math.floor(max_wait * _US),
            adjust,
            math.ceil(block[0] * _US),
            math.ceil(block[1] * _US),
        )
        try:
            async with asyncio.timeout(self._timeout):
                result: Any = await self._script(keys=self._redis_keys(key), args=args)
        except Exception as exc:  # redis errors, OSError, TimeoutError: all mean "down"
            self._went_down(exc)
            raise _Unavailable from exc
        if self._down_since is not None:
            self._came_back()
        return int(result[0]), int(result[1]), int(result[2])

    def _next_backoff(self) -> float:
        delay = self._backoff
        self._backoff = min(self._reconnect_max, self._backoff * 2)
        return delay * (0.5 + self._random() / 2)

    def _went_down(self, exc: BaseException) -> None:
        self._last_error = exc
        if self._down_since is not None:
            return
        now = self._clock()
        self._down_since = now
        self._backoff = self._reconnect_min
        self._retry_at = now + self._next_backoff()
        self._leases.clear()
        _logger.warning(
            "resilience.rate_limit.backend_down",
            extra={
                "backend": self._where,
                "error": type(exc).__name__,
                "detail": str(exc)[:200],
                "on_backend_error": self._on_error,
            },
        )
        if self._metrics is not None:
            self._metrics.increment(_OUTAGE_METRIC, tags=_TAGS)
            self._metrics.gauge(_UP_METRIC, 0.0, tags=_TAGS)

    def _came_back(self) -> None:
        assert self._down_since is not None
        outage = self._clock() - self._down_since
        self._down_since = None
        self._last_error = None
        self._backoff = self._reconnect_min
        _logger.info(
            "resilience.rate_limit.backend_restored",
            extra={"backend": self._where, "outage_seconds": round(outage, 3)},
        )
        if self._metrics is not None:
            self._metrics.gauge(_UP_METRIC, 1.0, tags=_TAGS)

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter({self._where!r}, rate={self._rate:g}, burst={int(self._burst)}, "
            f"unit={self._unit!r}, mode={self._mode!r}, name={self._name!r}, "
            f"lease={self._lease}, on_backend_error={self._on_error!r})"
        )

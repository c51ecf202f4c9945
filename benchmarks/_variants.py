"""The clients under test, each wrapped as a :class:`Variant`: run ``n`` operations, close.

Every variant of a group does the same work against the same nginx URL, through the same
driver (``concurrency`` tasks pulling from one counter), and checks its outcome the way an
application would (status or ``Result``), so the differences are the clients' own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Final, TypeAlias

import aiohttp
import aiohttp_retry
import httpx
import httpx_sse
import niquests
import tenacity
from pyreqwest.client import ClientBuilder

from lexigram.contracts.observability import NoopMetricsRecorder
from lexigram.contracts.web import (
    HTTPRetryExhaustedError,
    InterceptorProtocol,
    RequestContext,
)
from lexigram.http import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    PoolConfig,
    RetryConfig,
)
from lexigram.resilience import ResiliencePipeline

__all__ = [
    "MEMORY_PROBES",
    "REQUEST_VARIANTS",
    "RETRY_ATTEMPTS",
    "Variant",
    "body_variants",
    "has_stream",
    "memory_probe",
    "ndjson_variants",
    "request_variants",
    "retry_variants",
    "sse_variants",
    "warm",
]

RETRY_ATTEMPTS: Final = 3
Close: TypeAlias = Callable[[], Awaitable[None]]
_RETRYABLE: Final = frozenset({408, 429, 500, 502, 503, 504})
_STREAM: Final = "stream"


@dataclass(slots=True)
class Variant:
    """One client doing one kind of work.

    ``run(n)`` performs ``n`` operations and returns the units done (requests, bytes, lines or
    events); ``close()`` releases the client. ``once``, when set, is one operation (the
    request variants): ``bench_icount`` drives it itself.
    """

    name: str
    run: Callable[[int], Awaitable[int]]
    close: Close
    once: Callable[[], Awaitable[object]] | None = None


def has_stream() -> bool:
    """Whether ``HTTPClient.stream()`` exists in the installed lexigram-http-core (it was
    written alongside this suite; without it the streaming variants are skipped)."""
    return hasattr(HTTPClient, _STREAM)


async def _drive(once: Callable[[], Awaitable[object]], n: int, concurrency: int) -> int:
    """Call ``once`` ``n`` times with ``concurrency`` calls in flight; return ``n``."""
    if concurrency == 1:
        for _ in range(n):
            await once()
        return n
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await once()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n


def pool_config(connections: int, *, retry: bool) -> HTTPClientConfig:
    """Our configuration with the pool sized to ``connections`` (keep-alive included)."""
    return HTTPClientConfig(
        pool=PoolConfig(
            max_connections=connections,
            max_connections_per_host=connections,
            max_keepalive_connections=connections,
        ),
        # Left unset with retries on: http.retry beside a pipeline is refused (it does nothing).
        retry=RetryConfig() if retry else RetryConfig(enabled=False),
    )


class StampInterceptor(InterceptorProtocol):
    """The trivial interceptor of the full stack: adds one header to every attempt (its
    ``intercept_response`` is the protocol's pass-through default)."""

    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers["X-Bench"] = "1"
        return context


async def _no_sleep(delay: float) -> None:
    """The retry path's injected sleep: retries back-to-back, no timer."""


def _aiohttp_session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    )


def _httpx_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=60.0,
    )


def _full_stack(connections: int) -> HTTPClient:
    return HTTPClient(
        pool_config(connections, retry=True),
        interceptors=[StampInterceptor()],
        metrics=NoopMetricsRecorder(),
        pipeline=ResiliencePipeline.standard(),
    )


# -- small JSON requests ---------------------------------------------------------------------


REQUEST_VARIANTS: Final = (
    "aiohttp",
    "aiohttp-timeouts",
    "bare",
    "full",
    "baseurl",
    "tenacity",
    "aiohttp-retry",
    "niquests",
    "httpx",
    "pyreqwest",
)
"""Keys of :func:`request_variants`, in the order they run (raw aiohttp, the baseline, first)."""


async def request_variants(
    url: str, base: str, path: str, concurrency: int, only: Collection[str]
) -> list[Variant]:
    """GET a small JSON body with the variants named in ``only`` (see REQUEST_VARIANTS)."""
    variants: list[Variant] = []

    def add(name: str, once: Callable[[], Awaitable[object]], close: Close) -> None:
        variants.append(Variant(name, lambda n: _drive(once, n, concurrency), close, once))

    session = _aiohttp_session(concurrency)

    async def aiohttp_once() -> None:
        async with session.get(url) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"unexpected status {resp.status}")

    add("aiohttp ClientSession (raw)", aiohttp_once, session.close)

    if "aiohttp-timeouts" in only:
        # Raw aiohttp with the timeouts our transport always sets (connect 10 s, socket read
        # 30 s), for reference: aiohttp re-arms its read timer for every chunk.
        timed = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency),
            timeout=aiohttp.ClientTimeout(connect=10.0, sock_connect=10.0, sock_read=30.0),
        )

        async def timed_once() -> None:
            async with timed.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"unexpected status {resp.status}")

        add("aiohttp, our timeouts (ref)", timed_once, timed.close)

    if "bare" in only:
        bare = HTTPClient(pool_config(concurrency, retry=False))

        async def bare_once() -> None:
            (await bare.get(url)).unwrap()

        add("HTTPClient bare", bare_once, bare.aclose)

    if "full" in only:
        full = _full_stack(concurrency)

        async def full_once() -> None:
            (await full.get(url)).unwrap()

        add("HTTPClient full stack", full_once, full.aclose)

    if "baseurl" in only:
        based = BaseURLHTTPClient(base, config=pool_config(concurrency, retry=False))

        async def based_once() -> None:
            (await based.get(path)).raise_for_status()

        add("BaseURLHTTPClient", based_once, based.aclose)

    if "tenacity" in only:
        # As tenacity's @retry is commonly used: 3 attempts, random exponential back-off.
        retrying = tenacity.retry(
            stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
            wait=tenacity.wait_random_exponential(multiplier=0.2, max=10),
            retry=tenacity.retry_if_exception_type(aiohttp.ClientError),
            reraise=True,
        )
        add("aiohttp + tenacity @retry", retrying(aiohttp_once), _noop_close)

    if "aiohttp-retry" in only:
        # aiohttp-retry's RetryClient around its own session: 3 attempts, exponential back-off.
        retry_client = aiohttp_retry.RetryClient(
            client_session=_aiohttp_session(concurrency),
            retry_options=aiohttp_retry.ExponentialRetry(attempts=RETRY_ATTEMPTS),
        )

        async def retry_once() -> None:
            async with retry_client.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"unexpected status {resp.status}")

        add("aiohttp + aiohttp-retry", retry_once, retry_client.close)

    if "niquests" in only:
        niquests_session = niquests.AsyncSession(
            pool_connections=1, pool_maxsize=concurrency, disable_http3=True
        )

        async def niquests_once() -> None:
            (await niquests_session.get(url)).raise_for_status()

        add("niquests AsyncSession", niquests_once, niquests_session.close)

    if "httpx" in only:
        client = _httpx_client(concurrency)

        async def httpx_once() -> None:
            (await client.get(url)).raise_for_status()

        add("httpx AsyncClient", httpx_once, client.aclose)

    if "pyreqwest" in only:
        reqwest = ClientBuilder().max_connections(concurrency).error_for_status(True).build()

        async def reqwest_once() -> None:
            response = await reqwest.get(url).build().send()
            await response.bytes()

        add("pyreqwest Client (Rust)", reqwest_once, reqwest.close)
    return variants


async def _noop_close() -> None:
    """Closing a variant that shares another's session."""


# -- 1 MiB bodies ----------------------------------------------------------------------------


async def body_variants(url: str, concurrency: int) -> list[Variant]:
    """GET a 1 MiB body; units are bytes read."""
    session = _aiohttp_session(concurrency)
    ours = HTTPClient(pool_config(concurrency, retry=False))
    full = _full_stack(concurrency)
    client = _httpx_client(concurrency)

    def bytes_of(fetch: Callable[[], Awaitable[int]]) -> Callable[[int], Awaitable[int]]:
        async def run(n: int) -> int:
            total = 0

            async def once() -> None:
                nonlocal total
                total += await fetch()

            await _drive(once, n, concurrency)
            return total

        return run

    async def aiohttp_fetch() -> int:
        async with session.get(url) as resp:
            return len(await resp.read())

    async def bare_fetch() -> int:
        return len((await ours.get(url)).unwrap().body)

    async def full_fetch() -> int:
        return len((await full.get(url)).unwrap().body)

    async def httpx_fetch() -> int:
        return len((await client.get(url)).raise_for_status().content)

    return [
        Variant("aiohttp ClientSession (raw)", bytes_of(aiohttp_fetch), session.close),
        Variant("HTTPClient bare", bytes_of(bare_fetch), ours.aclose),
        Variant("HTTPClient full stack", bytes_of(full_fetch), full.aclose),
        Variant("httpx AsyncClient", bytes_of(httpx_fetch), client.aclose),
    ]


# -- streams ---------------------------------------------------------------------------------


def _repeat(stream_once: Callable[[], Awaitable[int]]) -> Callable[[int], Awaitable[int]]:
    async def run(n: int) -> int:
        total = 0
        for _ in range(n):
            total += await stream_once()
        return total

    return run


async def _aiohttp_lines(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for line in resp.content:
        yield line


async def ndjson_variants(url: str, *, decode: bool) -> list[Variant]:
    """Read the NDJSON stream once per operation; units are lines (objects when ``decode``).

    ``decode``: ours ``ndjson()`` against ``json.loads`` on each of the peers' lines; else
    ours ``lines()`` against the peers' line iterators, text lines on every side.
    """
    session = _aiohttp_session(1)
    client = _httpx_client(1)
    loads = json.loads

    async def aiohttp_once() -> int:
        count = 0
        async with session.get(url) as resp:
            async for line in resp.content:
                if decode:
                    if line.strip():
                        loads(line)
                        count += 1
                else:
                    line.decode()
                    count += 1
        return count

    async def httpx_once() -> int:
        count = 0
        async with client.stream("GET", url) as resp:
            async for line in resp.aiter_lines():
                if decode:
                    if line:
                        loads(line)
                        count += 1
                else:
                    count += 1
        return count

    variants = [
        Variant("aiohttp resp.content lines", _repeat(aiohttp_once), session.close),
        Variant("httpx aiter_lines", _repeat(httpx_once), client.aclose),
    ]
    if has_stream():
        ours = HTTPClient(pool_config(1, retry=False))

        async def ours_once() -> int:
            count = 0
            async with ours.stream("GET", url) as resp:
                items = resp.ndjson() if decode else resp.lines()
                async for _ in items:
                    count += 1
            return count

        name = "HTTPClient stream().ndjson()" if decode else "HTTPClient stream().lines()"
        variants.insert(1, Variant(name, _repeat(ours_once), ours.aclose))
    return variants


async def sse_variants(url: str) -> list[Variant]:
    """Read the SSE stream once per operation; units are events dispatched."""
    session = _aiohttp_session(1)
    client = _httpx_client(1)

    async def aiohttp_once() -> int:
        # A minimal event splitter over aiohttp's lines (a floor: not the full WHATWG rules).
        count = 0
        data: list[bytes] = []
        async with session.get(url) as resp:
            async for line in resp.content:
                if line == b"\n":
                    if data:
                        b"\n".join(data).decode()
                        data.clear()
                        count += 1
                elif line.startswith(b"data:"):
                    data.append(line[5:].strip())
        return count

    async def httpx_once() -> int:
        count = 0
        async with httpx_sse.aconnect_sse(client, "GET", url) as source:
            async for _ in source.aiter_sse():
                count += 1
        return count

    variants = [
        Variant("aiohttp lines + minimal parse", _repeat(aiohttp_once), session.close),
        Variant("httpx-sse aconnect_sse", _repeat(httpx_once), client.aclose),
    ]
    if has_stream():
        ours = HTTPClient(pool_config(1, retry=False))

        async def ours_once() -> int:
            count = 0
            async with ours.stream("GET", url) as resp:
                async for _ in resp.sse():
                    count += 1
            return count

        variants.insert(1, Variant("HTTPClient stream().sse()", _repeat(ours_once), ours.aclose))
    return variants


MEMORY_PROBES: Final = ("lexigram", "httpx", "aiohttp-read")
"""Memory probe clients: ours ``stream().ndjson()``, httpx ``aiter_lines`` + ``json.loads``,
and a control that reads the whole body into memory (proves the probe sees growth)."""


async def warm(url: str, which: str) -> None:
    """One small request through a client of the kind ``which`` (loads its code)."""
    if which == "lexigram":
        async with HTTPClient() as ours:
            (await ours.get(url)).unwrap()
    elif which == "httpx":
        async with httpx.AsyncClient() as client:
            (await client.get(url)).raise_for_status()
    else:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            await resp.read()


async def memory_probe(url: str, which: str) -> int:
    """Read the NDJSON stream once with ``which`` (see :data:`MEMORY_PROBES`); return the
    objects decoded (lines, for the control)."""
    count = 0
    if which == "lexigram":
        async with (
            HTTPClient(pool_config(1, retry=False)) as ours,
            ours.stream("GET", url) as resp,
        ):
            async for _ in resp.ndjson():
                count += 1
        return count
    if which == "httpx":
        async with _httpx_client(1) as client, client.stream("GET", url) as response:
            async for line in response.aiter_lines():
                if line:
                    json.loads(line)
                    count += 1
        return count
    async with _aiohttp_session(1) as session, session.get(url) as raw:
        return (await raw.read()).count(b"\n")


# -- the retry path --------------------------------------------------------------------------


async def retry_variants(url: str, concurrency: int) -> list[Variant]:
    """GET a 503 endpoint: 3 attempts per call, back to back (no back-off sleep).

    Units are calls; the runner counts the HTTP requests nginx served.
    """
    session = _aiohttp_session(concurrency)

    async def aiohttp_attempt() -> int:
        async with session.get(url) as resp:
            await resp.read()
            return resp.status

    async def loop_once() -> None:
        for _ in range(RETRY_ATTEMPTS):
            if await aiohttp_attempt() not in _RETRYABLE:
                return

    retrying = tenacity.retry(
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
        wait=tenacity.wait_none(),
        retry=tenacity.retry_if_result(lambda status: status in _RETRYABLE),
        sleep=_no_sleep,
    )
    tenacity_attempt = retrying(aiohttp_attempt)

    # try/except rather than contextlib.suppress, which would add its own cost per call.
    async def tenacity_once() -> None:
        try:  # noqa: SIM105
            await tenacity_attempt()
        except tenacity.RetryError:
            pass

    ours = HTTPClient(pool_config(concurrency, retry=True), sleep=_no_sleep)

    async def ours_once() -> None:
        try:  # noqa: SIM105
            await ours.get(url)
        except HTTPRetryExhaustedError:
            pass

    return [
        Variant(
            "aiohttp, 3-attempt loop (raw)",
            lambda n: _drive(loop_once, n, concurrency),
            session.close,
        ),
        Variant(
            "HTTPClient default retry", lambda n: _drive(ours_once, n, concurrency), ours.aclose
        ),
        Variant(
            "aiohttp + tenacity @retry",
            lambda n: _drive(tenacity_once, n, concurrency),
            _noop_close,
        ),
    ]

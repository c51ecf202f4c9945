"""One attempt is one request on the wire: aiohttp's own silent resend is turned off.

aiohttp (``ClientSession._request``) resends an idempotent request once when the connection is
reset or closed before the response headers. Counted at a raw server, for the verbs and
``stream()``, with and without retries.
"""

from __future__ import annotations

import pytest

from lexigram.contracts.web import (
    HTTPConnectionError,
    HTTPRetryExhaustedError,
)
from lexigram.http import HTTPClient, HTTPClientConfig, RetryConfig
from tests.core.conftest import FakeClock
from tests.core.faults import Fault, FaultServer, Kind

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

NO_RETRY = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
THREE_ATTEMPTS = HTTPClientConfig(trust_env=False, retry=RetryConfig(max_attempts=3))


@pytest.mark.parametrize("kind", [Kind.RESET, Kind.FIN])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
async def test_a_single_attempt_is_one_request(kind: Kind, method: str) -> None:
    async with FaultServer(lambda n, head: Fault(kind)) as server:
        async with HTTPClient(NO_RETRY) as client:
            result = await client.request(method, server.url_for("/x"))
        assert isinstance(result.error, HTTPConnectionError)
        assert server.requests == 1


@pytest.mark.parametrize("kind", [Kind.RESET, Kind.FIN])
async def test_three_attempts_are_three_requests(kind: Kind, clock: FakeClock) -> None:
    async with FaultServer(lambda n, head: Fault(kind)) as server:
        async with HTTPClient(THREE_ATTEMPTS, sleep=clock.sleep, clock=clock) as client:
            with pytest.raises(HTTPRetryExhaustedError) as caught:
                await client.get(server.url_for("/x"))
        assert caught.value.attempts == 3
        assert server.requests == 3


@pytest.mark.parametrize("kind", [Kind.RESET, Kind.FIN])
async def test_a_reused_connection_that_drops_is_not_resent(kind: Kind) -> None:
    # The first request leaves a pooled keep-alive connection; the second goes over it.
    script = {1: Fault(), 2: Fault(kind)}
    async with FaultServer(lambda n, head: script.get(n, Fault())) as server:
        async with HTTPClient(NO_RETRY) as client:
            assert (await client.get(server.url_for("/a"))).is_ok()
            result = await client.get(server.url_for("/b"))
        assert isinstance(result.error, HTTPConnectionError)
        assert server.requests == 2


@pytest.mark.parametrize("kind", [Kind.RESET, Kind.FIN])
async def test_stream_attempts_are_requests(kind: Kind, clock: FakeClock) -> None:
    async with FaultServer(lambda n, head: Fault(kind)) as server:
        async with HTTPClient(THREE_ATTEMPTS, sleep=clock.sleep, clock=clock) as client:
            with pytest.raises(HTTPRetryExhaustedError):
                async with client.stream("GET", server.url_for("/s")):
                    pass  # pragma: no cover - never entered
        assert server.requests == 3

"""pytest plugin of lexigram-http-testing, loaded automatically (entry point ``pytest11``).

Fixtures (function scope):

- ``http_clock``: a :class:`FakeClock` (the one of ``lexigram.contracts.clock``: a clock, a
  wall clock ``.time`` and a sleep); the fixtures below sleep on it, so injected latency and
  retry back-off take no real time, and resilience strategies take it too.
- ``http_router``: a strict :class:`Router`. At teardown it fails the test if a route was
  never called, unless the test opted out: ``http_router.expect_all_called = False`` or
  ``@pytest.mark.http_mock(assert_all_called=False)``. The marker also takes ``base_url=``.
- ``http_mock``: a :class:`MockTransport` on ``http_router``.
- ``http_client``: a real ``HTTPClient`` on ``http_mock`` (default config: the default retry
  policy runs, on the fake clock), closed at teardown.
- ``fake_http_client``: a :class:`FakeHTTPClient` on ``http_router``.

The plugin only adds these fixtures and the marker. It imports nothing but pytest up front:
the package (and ``lexigram.http``, for ``http_client``) load when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lexigram.http import HTTPClient
    from lexigram.testing.http import FakeClock, FakeHTTPClient, MockTransport, Router

_MARKER_OPTIONS = frozenset({"assert_all_called", "base_url"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "http_mock(assert_all_called=True, base_url=None): options of the http_router fixture "
        "(lexigram-http-testing)",
    )


@pytest.fixture
def http_clock() -> FakeClock:
    """A fake clock shared by ``http_router`` (latency) and ``http_client`` (back-off)."""
    from lexigram.testing.http import FakeClock

    return FakeClock()


@pytest.fixture
def http_router(request: pytest.FixtureRequest, http_clock: FakeClock) -> Iterator[Router]:
    """A strict router; every route must be called unless the test opts out."""
    from lexigram.testing.http import Router

    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("http_mock")
    if marker is not None:
        if marker.args:
            raise TypeError("@pytest.mark.http_mock takes keyword arguments only")
        unknown = set(marker.kwargs) - _MARKER_OPTIONS
        if unknown:
            raise TypeError(
                f"@pytest.mark.http_mock got unknown options {sorted(unknown)}; "
                f"known: {sorted(_MARKER_OPTIONS)}"
            )
        options = dict(marker.kwargs)
    router = Router(
        base_url=options.get("base_url"),
        sleep=http_clock.sleep,
        expect_all_called=bool(options.get("assert_all_called", True)),
    )
    yield router
    if router.expect_all_called:
        router.assert_all_called()


@pytest.fixture
def http_mock(http_router: Router) -> MockTransport:
    """A mock transport answering from ``http_router``."""
    from lexigram.testing.http import MockTransport

    return MockTransport(http_router)


@pytest.fixture
def http_client(http_mock: MockTransport, http_clock: FakeClock) -> Iterator[HTTPClient]:
    """The real ``HTTPClient`` over ``http_mock``; closed at teardown."""
    from lexigram.http import HTTPClient

    client = HTTPClient(transport=http_mock, clock=http_clock, sleep=http_clock.sleep)
    yield client
    _run_to_completion(client.aclose())


@pytest.fixture
def fake_http_client(http_router: Router) -> FakeHTTPClient:
    """A ``FakeHTTPClient`` answering from ``http_router``."""
    from lexigram.testing.http import FakeHTTPClient

    return FakeHTTPClient(http_router)


def _run_to_completion(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never suspends, without an event loop.

    Closing a client over a mock transport does no I/O, so a sync fixture can close it and
    work under any async plugin (or none), in any loop scope.
    """
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("closing the client had to wait for I/O; close it inside the test")

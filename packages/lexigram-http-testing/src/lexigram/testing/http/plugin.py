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
- ``http_cassette``: a :class:`CassetteSession` recording or replaying the test's cassette,
  ``cassettes/<test module>/<name>.json`` next to the test module; the name is the test's
  unless ``@pytest.mark.http_cassette("name", ...)`` gives one. ``--record-mode`` (also
  ``--http-record-mode``; ini ``http_record_mode``) is ``none`` (default), ``once``,
  ``new_episodes`` or ``all``. The marker takes ``allow_unplayed``, ``match_headers``,
  ``match_body``, ``pace``, ``redaction`` and ``path``; the ``http_cassette_options`` fixture
  (override it in a ``conftest.py``) gives defaults for a whole folder.

The plugin only adds these fixtures and the marker. It imports nothing but pytest up front:
the package (and ``lexigram.http``, for ``http_client``) load when a fixture is first used.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lexigram.http import HTTPClient
    from lexigram.testing.http import (
        CassetteSession,
        FakeClock,
        FakeHTTPClient,
        MockTransport,
        Router,
    )

_MARKER_OPTIONS = frozenset({"assert_all_called", "base_url"})
_CASSETTE_OPTIONS = frozenset(
    {"allow_unplayed", "match_body", "match_headers", "pace", "path", "redaction"}
)
_RECORD_MODES = ("none", "once", "new_episodes", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lexigram-http", "lexigram-http cassettes")
    help_text = (
        "when http_cassette records: none (replay only, the default), once (record missing "
        "cassettes), new_episodes (record requests a cassette lacks), all (record again)"
    )
    # pytest-recording (vcrpy) owns --record-mode when installed: two plugins adding one option
    # would stop pytest, so ours is then only --http-record-mode.
    names = ["--http-record-mode"]
    if importlib.util.find_spec("pytest_recording") is None:
        names.insert(0, "--record-mode")
    group.addoption(
        *names,
        dest="http_record_mode",
        choices=_RECORD_MODES,
        default=None,
        help=help_text,
    )
    parser.addini(
        "http_record_mode", "default --record-mode of http_cassette (none)", default="none"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "http_mock(assert_all_called=True, base_url=None): options of the http_router fixture "
        "(lexigram-http-testing)",
    )
    config.addinivalue_line(
        "markers",
        "http_cassette(name=None, *, allow_unplayed=False, match_headers=(), match_body='json', "
        "pace='instant', redaction=None, path=None): the cassette of the http_cassette fixture "
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


@pytest.fixture
def http_cassette_options() -> dict[str, Any]:
    """Defaults of the ``http_cassette`` marker's options; override it in a ``conftest.py``."""
    return {}


@pytest.fixture
def http_cassette(
    request: pytest.FixtureRequest,
    http_clock: FakeClock,
    http_cassette_options: dict[str, Any],
) -> Iterator[CassetteSession]:
    """The test's cassette, recorded or replayed per ``--record-mode``; checked at teardown."""
    from lexigram.testing.http import CassetteSession

    options = dict(http_cassette_options)
    name: str | None = None
    marker = request.node.get_closest_marker("http_cassette")
    if marker is not None:
        if len(marker.args) > 1:
            raise TypeError("@pytest.mark.http_cassette takes one positional argument, the name")
        if marker.args:
            name = marker.args[0]
            if not isinstance(name, str) or not name.strip():
                raise TypeError(f"the cassette name must be a non-empty string, got {name!r}")
        options.update(marker.kwargs)
    unknown = set(options) - _CASSETTE_OPTIONS
    if unknown:
        raise TypeError(
            f"http_cassette got unknown options {sorted(unknown)}; "
            f"known: {sorted(_CASSETTE_OPTIONS)}"
        )
    module = Path(request.node.path)
    path = options.pop("path", None)
    if path is None:
        stem = name if name is not None else _default_name(request.node.nodeid)
        file_name = stem if stem.endswith(".json") else f"{stem}.json"
        path = module.parent / "cassettes" / module.stem / file_name
    else:
        path = module.parent / Path(path)
    mode = request.config.getoption("http_record_mode") or request.config.getini("http_record_mode")
    if mode not in _RECORD_MODES:
        raise ValueError(
            f"ini option http_record_mode must be one of {list(_RECORD_MODES)}, got {mode!r}"
        )
    session = CassetteSession(path, mode, sleep=http_clock.sleep, **options)
    yield session
    session.finish()


def _default_name(nodeid: str) -> str:
    """``test_mod.py::TestX::test_y[a-1]`` -> ``TestX.test_y-a-1-``: a safe file name."""
    test = nodeid.split("::", 1)[-1].replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]", "-", test)


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

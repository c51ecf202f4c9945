"""The pytest plugin, run in inner pytest sessions (``pytester``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Hypothesis is blocked: its plugin costs about a second per inner session.
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_fixtures_drive_the_real_client_and_the_fake(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from lexigram.http import ClientState, HTTPClient
        from lexigram.testing.http import FakeClock, FakeHTTPClient, MockTransport, Router

        clients = []

        async def test_real_client(http_router, http_mock, http_client, http_clock):
            assert isinstance(http_router, Router) and isinstance(http_clock, FakeClock)
            assert isinstance(http_mock, MockTransport) and http_mock.router is http_router
            assert isinstance(http_client, HTTPClient)
            route = http_router.get("https://h.example/x").sequence(503, 200)
            assert (await http_client.get("https://h.example/x")).is_ok()
            assert [call.attempt for call in route.calls] == [1, 2]
            assert len(http_clock.sleeps) == 1  # the back-off took no real time
            clients.append(http_client)

        def test_the_client_was_closed_at_teardown():
            assert clients[0].state is ClientState.CLOSED

        async def test_fake(http_router, fake_http_client):
            assert isinstance(fake_http_client, FakeHTTPClient)
            http_router.post("https://h.example/y").respond(201)
            assert (await fake_http_client.post("https://h.example/y")).value.status == 201
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=3)


def test_an_unused_route_fails_the_test_at_teardown(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        async def test_forgets_a_route(http_router, fake_http_client):
            http_router.get("https://h.example/used")
            http_router.post("https://h.example/unused?token=s3cret", name="create")
            await fake_http_client.get("https://h.example/used")
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_forgets_a_route*",
            "*1 route was never called:*",
            "*'create' POST https://h.example/unused?token=[[]REDACTED[]] (+params token)*",
        ]
    )
    assert "s3cret" not in result.stdout.str()


def test_tests_can_opt_out_of_the_unused_route_check(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        def test_by_attribute(http_router):
            http_router.get("https://h.example/optional")
            http_router.expect_all_called = False

        @pytest.mark.http_mock(assert_all_called=False)
        def test_by_marker(http_router):
            http_router.get("https://h.example/optional")

        @pytest.mark.http_mock(assert_all_called=False)
        class TestAClass:
            def test_inherits_the_marker(self, http_router):
                http_router.get("https://h.example/optional")
        """
    )
    inner.runpytest().assert_outcomes(passed=3)


def test_the_marker_sets_a_base_url_and_rejects_unknown_options(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.http_mock(base_url="https://api.example.com/v1")
        async def test_relative_routes(http_router, http_client):
            http_router.get("/items").respond(200, json=[1])
            assert (await http_client.get("https://api.example.com/v1/items")).value.json == [1]

        @pytest.mark.http_mock(strict=False)
        def test_typo(http_router):
            pass
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unknown options [[]'strict'[]]*"])


def test_an_unmatched_request_fails_the_test_with_the_closest_route(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        async def test_typo_in_the_path(http_router, http_client):
            http_router.get("https://h.example/invoices/{id}")
            await http_client.get("https://h.example/invoice/inv_1")
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(failed=1, errors=1)  # the failure, then the unused route
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: no route matches GET https://h.example/invoice/inv_1",
            "*the only route: GET https://h.example/invoices/{id}",
            "*url: expected https://h.example/invoices/{id}, got https://h.example/invoice/inv_1",
        ]
    )


def test_the_marker_is_registered(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.http_mock(assert_all_called=True, base_url=None)*"])


def test_loading_the_plugin_imports_neither_aiohttp_nor_the_client() -> None:
    code = (
        "import sys\n"
        "import lexigram.testing.http.plugin\n"
        "import lexigram.testing.http\n"
        "import lexigram.testing.http.conformance\n"
        "heavy = sorted(m for m in ('aiohttp', 'lexigram.http') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

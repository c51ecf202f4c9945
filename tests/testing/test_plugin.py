"""The pytest plugin, run in inner pytest sessions (``pytester``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Loaded here, so they outlive each inner run: pytester drops the modules an inner run imported,
# while the package (imported for the plugin) keeps the names it resolved lazily; a class from
# a dropped module would then differ from its fresh copy in the next inner run.
from lexigram.testing.http import MockTransport, Reply, Router  # noqa: F401

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


# -- http_cassette ------------------------------------------------------------------------------

CASSETTE_TEST = """
import pytest
from lexigram.http import HTTPClient
from lexigram.testing.http import MockTransport, Reply, Router  # noqa: F401

SENT = []
URLS = {urls!r}


def real():
    # The "network" of these inner tests: counts what really goes out.
    router = Router()

    def answer(request):
        SENT.append(request.url)
        return Reply(200, json={{"url": request.url, "n": len(SENT)}})

    router.route().handle(answer)
    return MockTransport(router)


@pytest.mark.http_cassette("billing"{options})
async def test_invoice(http_cassette):
    async with HTTPClient(transport=http_cassette.transport(real)) as client:
        for url in URLS:
            headers = {{"Authorization": "Bearer sk-test-0123456789"}}
            result = await client.get(url, headers=headers)
            assert result.value.json["url"] == url
    print(f"NETWORK {{len(SENT)}} RECORDING {{http_cassette.recording}}")
"""

INVOICE = "https://api.example.com/v1/invoices/inv_1"
OTHER = "https://api.example.com/v1/invoices/inv_2"


def cassette_test(inner: pytest.Pytester, *urls: str, options: str = "") -> None:
    inner.makepyfile(test_billing=CASSETTE_TEST.format(urls=list(urls), options=options))


def test_cassettes_are_recorded_and_replayed_per_record_mode(inner: pytest.Pytester) -> None:
    cassette = inner.path / "cassettes" / "test_billing" / "billing.json"
    cassette_test(inner, INVOICE)

    # none (the default) never records: a missing cassette fails the test at setup.
    result = inner.runpytest("-s")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cassette not found: *billing.json*--record-mode=once*"])
    assert not cassette.exists()

    result = inner.runpytest("-s", "--record-mode=once")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*NETWORK 1 RECORDING True*"])
    text = cassette.read_text()
    assert INVOICE in text
    assert "sk-test-0123456789" not in text

    for mode in ("none", "once"):  # the cassette exists: replayed, nothing goes out
        result = inner.runpytest("-s", f"--record-mode={mode}")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*NETWORK 0 RECORDING False*"])

    # new_episodes: what the cassette has is replayed, the rest recorded and appended.
    cassette_test(inner, INVOICE, OTHER)
    result = inner.runpytest("-s", "--http-record-mode=new_episodes")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*NETWORK 1 RECORDING True*"])
    assert [
        item["request"]["url"] for item in json.loads(cassette.read_text())["interactions"]
    ] == [
        INVOICE,
        OTHER,
    ]
    inner.runpytest("-s").assert_outcomes(passed=1)

    # all: everything recorded again, the cassette replaced.
    cassette_test(inner, OTHER)
    result = inner.runpytest("-s", "--record-mode=all")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*NETWORK 1 RECORDING True*"])
    assert [
        item["request"]["url"] for item in json.loads(cassette.read_text())["interactions"]
    ] == [OTHER]


def test_an_unplayed_interaction_fails_the_test_unless_it_opts_out(
    inner: pytest.Pytester,
) -> None:
    cassette_test(inner, INVOICE, OTHER)
    inner.runpytest("--record-mode=once").assert_outcomes(passed=1)

    cassette_test(inner, INVOICE)
    result = inner.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_invoice*",
            "*CassetteError: cassette *billing.json: 1 recorded interaction was never played:",
            f"*#1 GET {OTHER} -> 200",
        ]
    )

    cassette_test(inner, INVOICE, options=", allow_unplayed=True")
    inner.runpytest().assert_outcomes(passed=1)


def test_an_unrecorded_request_fails_with_the_closest_recorded_one(
    inner: pytest.Pytester,
) -> None:
    cassette_test(inner, INVOICE)
    inner.runpytest("--record-mode=once").assert_outcomes(passed=1)
    cassette_test(inner, f"{INVOICE}?expand=lines")
    result = inner.runpytest()
    result.assert_outcomes(failed=1, errors=1)  # the request, then the unplayed interaction
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: cassette *billing.json: no recorded interaction matches*",
            f"*the only route: '#0' GET {INVOICE}",
            "*query: params not in the recording: expand",
        ]
    )


def test_the_default_cassette_is_named_after_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_names="""
        import pytest
        from lexigram.http import HTTPClient
        from lexigram.testing.http import MockTransport, Router

        class TestGroup:
            @pytest.mark.parametrize("n", [1])
            async def test_one(self, http_cassette, n):
                router = Router()
                router.get("https://h.example/x").respond(204)
                transport = http_cassette.transport(MockTransport(router))
                async with HTTPClient(transport=transport) as c:
                    assert (await c.get("https://h.example/x")).value.status == 204

        @pytest.mark.http_cassette(allow_unplayed=True, colour="red")
        def test_typo(http_cassette):
            pass
        """
    )
    result = inner.runpytest("--record-mode=once")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*http_cassette got unknown options [[]'colour'[]]*"])
    assert (inner.path / "cassettes" / "test_names" / "TestGroup.test_one-1-.json").exists()


def test_the_cassette_marker_is_registered(inner: pytest.Pytester) -> None:
    result = inner.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.http_cassette(name=None, *"])
    result = inner.runpytest("--help")
    result.stdout.fnmatch_lines(["*--record-mode*none*"])

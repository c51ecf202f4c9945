"""Cassettes over a scripted "real" transport: matching, redaction, the file format, modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lexigram.contracts.web import (
    REDACTED,
    ClientClosedError,
    HttpResponse,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    RequestContext,
    TimeoutPhase,
)
from lexigram.http import HTTPClient
from lexigram.testing.http import (
    Cassette,
    CassetteError,
    CassetteFormatError,
    CassetteRedaction,
    CassetteSession,
    Chunk,
    MockTransport,
    RecordingTransport,
    ReplayTransport,
    Router,
    UnmatchedRequestError,
)

API = "https://api.example.com/v1"


async def no_sleep(seconds: float) -> None:
    pass


def client(transport: Any) -> HTTPClient:
    return HTTPClient(transport=transport, sleep=no_sleep)


async def record(router: Router, path: Path, *requests: tuple[str, str, dict[str, Any]]) -> None:
    cassette = Cassette(path=path)
    async with client(RecordingTransport(MockTransport(router), cassette)) as c:
        for method, url, options in requests:
            await c.request(method, url, **options)
    cassette.save()


# -- matching ---------------------------------------------------------------------------------


async def test_an_unmatched_request_fails_with_the_closest_recorded_one(tmp_path: Path) -> None:
    router = Router()
    router.post(f"{API}/invoices").respond(201, json={"id": "inv_1"})
    router.get(f"{API}/invoices").respond(json=[])
    path = tmp_path / "c.json"
    await record(
        router,
        path,
        ("POST", f"{API}/invoices", {"json": {"amount": 10, "currency": "EUR"}}),
        ("GET", f"{API}/invoices", {"params": {"page": "1"}}),
    )
    replay = ReplayTransport(Cassette.load(path))
    async with client(replay) as c:
        with pytest.raises(UnmatchedRequestError) as caught:
            await c.post(f"{API}/invoices", json={"amount": 20, "currency": "EUR"})
    message = str(caught.value)
    assert f"cassette {path}" in message
    assert "closest route (of 2): '#0' POST https://api.example.com/v1/invoices" in message
    assert "body['amount']: expected 10, got 20" in message
    assert caught.value.differences == ("body['amount']: expected 10, got 20",)

    async with client(replay.fork()) as c:
        with pytest.raises(UnmatchedRequestError) as caught:
            await c.get(f"{API}/invoices", params={"page": "1", "extra": "x"})
    assert "query: params not in the recording: extra" in str(caught.value)


async def test_identical_requests_play_in_recorded_order_and_not_once_more(
    tmp_path: Path,
) -> None:
    router = Router()
    router.get(f"{API}/x").sequence(503, 200)
    path = tmp_path / "c.json"
    await record(router, path, ("GET", f"{API}/x", {}))  # the client retries once
    replay = ReplayTransport(Cassette.load(path))
    async with client(replay) as c:
        assert (await c.get(f"{API}/x")).value.status == 200
        with pytest.raises(CassetteError, match="recorded 2 times, and every one was already"):
            await c.get(f"{API}/x")
    assert [(call.attempt, call.status) for call in replay.calls[:2]] == [(1, 503), (2, 200)]


async def test_unplayed_interactions_are_listed(tmp_path: Path) -> None:
    router = Router()
    router.get(f"{API}/a").respond(200)
    router.get(f"{API}/b").respond(404)
    path = tmp_path / "c.json"
    await record(router, path, ("GET", f"{API}/a", {}), ("GET", f"{API}/b", {}))
    replay = ReplayTransport(Cassette.load(path))
    async with client(replay) as c:
        await c.get(f"{API}/a")
    assert [item.request.url for item in replay.unplayed] == [f"{API}/b"]
    with pytest.raises(CassetteError, match=r"1 recorded interaction was never played:\n  #1 GET"):
        replay.assert_all_played()


async def test_headers_are_matched_only_when_named(tmp_path: Path) -> None:
    router = Router()
    router.get(f"{API}/x").respond(200)
    path = tmp_path / "c.json"
    await record(router, path, ("GET", f"{API}/x", {"headers": {"Accept-Language": "fr"}}))

    lenient = ReplayTransport(Cassette.load(path))
    async with client(lenient) as c:
        assert (await c.get(f"{API}/x", headers={"Accept-Language": "de"})).is_ok()

    strict = ReplayTransport(Cassette.load(path), match_headers=["accept-language", "X-Trace"])
    async with client(strict) as c:
        with pytest.raises(UnmatchedRequestError) as caught:
            await c.get(f"{API}/x", headers={"Accept-Language": "de", "X-Trace": "1"})
        assert caught.value.differences == (
            "header 'accept-language': expected 'fr', got 'de'",
            "header 'X-Trace': sent, but not in the recorded request",
        )
        assert (await c.get(f"{API}/x", headers={"Accept-Language": "fr"})).is_ok()


async def test_body_matchers(tmp_path: Path) -> None:
    router = Router()
    router.post(f"{API}/x").respond(200)
    path = tmp_path / "c.json"
    await record(router, path, ("POST", f"{API}/x", {"content": b'{"a": 1, "b": [true]}'}))

    # json (default): parsed, so spacing and key order do not matter; types do.
    async with client(ReplayTransport(Cassette.load(path))) as c:
        assert (await c.post(f"{API}/x", content=b'{"b":[true],"a":1}')).is_ok()
    async with client(ReplayTransport(Cassette.load(path))) as c:
        with pytest.raises(UnmatchedRequestError) as caught:
            await c.post(f"{API}/x", content=b'{"a": 1, "b": [1], "c": 2}')
    assert caught.value.differences == (
        "body['b'][0]: expected True, got 1; body['c']: not in the recorded body",
    )
    # exact: bytes.
    async with client(ReplayTransport(Cassette.load(path), match_body="exact")) as c:
        with pytest.raises(UnmatchedRequestError, match="body: 21 bytes as expected, but"):
            await c.post(f"{API}/x", content=b'{"a": 1, "b": [tru3]}')
    # ignore, and a function.
    async with client(ReplayTransport(Cassette.load(path), match_body="ignore")) as c:
        assert (await c.post(f"{API}/x", content=b"anything")).is_ok()
    same_size = ReplayTransport(
        Cassette.load(path), match_body=lambda recorded, sent: len(recorded) == len(sent)
    )
    async with client(same_size) as c:
        with pytest.raises(UnmatchedRequestError, match="the body matcher rejected it"):
            await c.post(f"{API}/x", content=b"short")
        assert (await c.post(f"{API}/x", content=b"x" * 21)).is_ok()


def test_bad_replay_options_are_refused(tmp_path: Path) -> None:
    cassette = Cassette()
    with pytest.raises(ValueError, match="match_body must be one of"):
        ReplayTransport(cassette, match_body="loose")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pace must be one of"):
        ReplayTransport(cassette, pace="fast")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a string"):
        ReplayTransport(cassette, match_headers="Accept")


async def test_a_closed_replay_transport_refuses_requests() -> None:
    replay = ReplayTransport(Cassette())
    await replay.aclose()
    with pytest.raises(ClientClosedError, match="replay transport is closed"):
        await replay.send(RequestContext("GET", f"{API}/x"))


# -- streams and errors -----------------------------------------------------------------------


async def test_streams_and_errors_replay_through_send_and_send_stream(tmp_path: Path) -> None:
    router = Router()
    router.get(f"{API}/sse").stream("data: a\n", Chunk("\ndata: b\n\n"), disconnect=True)
    router.get(f"{API}/timeout").raises(HTTPTimeoutError, phase="connect")
    router.get(f"{API}/plain").respond(text="whole")
    cassette = Cassette()
    recorder = RecordingTransport(MockTransport(router), cassette)
    stream = await recorder.send_stream(RequestContext("GET", f"{API}/sse"))
    received = [chunk async for chunk in _until_error(stream.iter_bytes())]
    with pytest.raises(HTTPTimeoutError):
        await recorder.send(RequestContext("GET", f"{API}/timeout"))
    await recorder.send(RequestContext("GET", f"{API}/plain"))
    assert [item.describe() for item in cassette.interactions] == [
        f"GET {API}/sse -> 200 (stream error)",
        f"GET {API}/timeout -> HTTPTimeoutError",
        f"GET {API}/plain -> 200",
    ]

    replay = ReplayTransport(Cassette(cassette.interactions))
    # A stream read whole: the chunks joined, then the recorded ending.
    with pytest.raises(HTTPStreamDisconnectedError) as caught:
        await replay.send(RequestContext("GET", f"{API}/sse"))
    assert caught.value.received == b"data: a\n\ndata: b\n\n"
    with pytest.raises(HTTPTimeoutError) as timed_out:
        await replay.send_stream(RequestContext("GET", f"{API}/timeout"))
    assert timed_out.value.phase is TimeoutPhase.CONNECT
    # A response recorded whole, streamed.
    plain = await replay.send_stream(RequestContext("GET", f"{API}/plain"))
    assert await plain.aread() == b"whole"
    assert received == [b"data: a\n", b"\ndata: b\n\n"]


async def _until_error(chunks: Any) -> Any:
    try:
        async for chunk in chunks:
            yield chunk
    except HTTPStreamDisconnectedError:
        return


async def test_a_stream_closed_early_cannot_be_read_further_in_replay() -> None:
    router = Router()
    router.get(f"{API}/s").stream("one", "two", "three")
    cassette = Cassette()
    recorder = RecordingTransport(MockTransport(router), cassette)
    stream = await recorder.send_stream(RequestContext("GET", f"{API}/s"))
    chunks = stream.iter_bytes()
    assert await chunks.__anext__() == b"one"
    await stream.aclose()

    replay = ReplayTransport(Cassette(cassette.interactions))
    replayed = await replay.send_stream(RequestContext("GET", f"{API}/s"))
    chunks = replayed.iter_bytes()
    assert await chunks.__anext__() == b"one"
    with pytest.raises(CassetteError, match=r"stops after 3 bytes \(the reader closed it then\)"):
        await chunks.__anext__()


# -- redaction --------------------------------------------------------------------------------


async def test_secrets_are_redacted_and_matching_still_works(tmp_path: Path) -> None:
    key = "sk-live-0123456789abcdef"

    def echo(request: RequestContext) -> HttpResponse:
        # A server that echoes what it got, and hands out a token.
        return HttpResponse(
            200,
            headers={"Set-Cookie": "sid=cookie-value-123456; Path=/"},
            json={"seen": request.headers.get("Authorization"), "access_token": "tok-abcdef-123"},
        )

    router = Router()
    router.post(f"{API}/login").handle(echo)
    path = tmp_path / "c.json"
    cassette = Cassette(path=path, redaction=CassetteRedaction(body_keys={"pin"}))
    url = f"https://user:pa55w0rd-xyz@api.example.com/v1/login?api_key={key}&page=1"
    async with client(RecordingTransport(MockTransport(router), cassette)) as c:
        live = await c.post(
            url,
            headers={"Authorization": f"Bearer {key}", "X-Partner": "p"},
            json={"user": "ann", "password": "hunter2-secret", "pin": "1234"},
        )
    assert live.value.json["seen"] == f"Bearer {key}"  # the code under test saw the real thing
    cassette.save()
    text = path.read_text()
    for secret in (key, "pa55w0rd-xyz", "hunter2-secret", "tok-abcdef-123", "cookie-value-123456"):
        assert secret not in text
    interaction = json.loads(text)["interactions"][0]
    assert json.loads(interaction["request"]["body"]["data"]) == {
        "user": "ann",
        "password": REDACTED,
        "pin": REDACTED,
    }
    assert interaction["request"]["url"] == (
        f"https://{REDACTED}@api.example.com/v1/login?api_key={REDACTED}&page=1"
    )
    assert interaction["request"]["headers"]["Authorization"] == REDACTED
    assert interaction["request"]["headers"]["X-Partner"] == "p"
    assert interaction["response"]["headers"]["Set-Cookie"] == REDACTED
    # The echoed key was learned from the header and scrubbed from the body too.
    assert json.loads(interaction["response"]["body"]["data"]) == {
        "seen": REDACTED,
        "access_token": REDACTED,
    }

    # Replay: the live request is redacted the same way before it is compared.
    replay = ReplayTransport(Cassette.load(path, redaction=CassetteRedaction(body_keys={"pin"})))
    async with client(replay) as c:
        result = await c.post(
            url,
            headers={"Authorization": f"Bearer {key}", "X-Partner": "p"},
            json={"user": "ann", "password": "hunter2-secret", "pin": "1234"},
        )
    assert result.value.status == 200
    replay.assert_all_played()


def test_a_secret_split_across_chunks_is_scrubbed_and_the_chunk_count_kept() -> None:
    scrubber = CassetteRedaction(secrets=["SECRET-VALUE"]).scrubber()
    chunks = scrubber.chunks([b"data: SEC", b"RET-VAL", b"UE!\n", b"SECRET-VALUE"])
    assert chunks == [b"data: [REDACTED]", b"", b"!\n", b"[REDACTED]"]


def test_redaction_options_are_checked() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        CassetteRedaction(headers="X-Secret")
    with pytest.raises(ValueError, match="empty string"):
        CassetteRedaction(secrets=[""])
    with pytest.raises(ValueError, match="at least 1"):
        CassetteRedaction(min_learned_length=0)


# -- the file ---------------------------------------------------------------------------------


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_bad_files_are_refused_with_the_place_of_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with pytest.raises(CassetteError, match="cassette not found"):
        Cassette.load(path)
    path.write_text("{")
    with pytest.raises(CassetteFormatError, match="not valid JSON"):
        Cassette.load(path)
    base = {"format": "lexigram-http-cassette", "version": 1}
    _write(path, {**base, "version": 2})
    with pytest.raises(CassetteFormatError, match=r"version: unsupported version 2"):
        Cassette.load(path)
    request: dict[str, Any] = {"method": "GET", "url": f"{API}/x", "headers": {}, "body": None}
    _write(path, {**base, "interactions": [{"request": request, "response": {"status": "200"}}]})
    with pytest.raises(
        CassetteFormatError, match=r"interactions\[0\]\.response\.status: expected an integer"
    ):
        Cassette.load(path)
    bad_body = {"status": 200, "url": "u", "body": {"encoding": "base64", "data": "%%"}}
    _write(path, {**base, "interactions": [{"request": request, "response": bad_body}]})
    with pytest.raises(CassetteFormatError, match=r"response\.body\.data: invalid base64"):
        Cassette.load(path)
    _write(path, {**base, "interactions": [{"request": request, "error": {"type": "Boom"}}]})
    with pytest.raises(CassetteFormatError, match=r"error\.type: unknown error type 'Boom'"):
        Cassette.load(path)


def _echo(request: RequestContext) -> HttpResponse:
    body = request.body
    return HttpResponse(200, body=body if isinstance(body, bytes) else b"")


async def test_bodies_round_trip_byte_for_byte(tmp_path: Path) -> None:
    bodies = [b"", b"plain text \xc3\xa9", bytes(range(256)), b"\xff\xfe", "😀".encode()[:3]]
    router = Router()
    router.post(f"{API}/x").handle(_echo)
    cassette = Cassette(path=tmp_path / "c.json")
    recorder = RecordingTransport(MockTransport(router), cassette)
    for body in bodies:
        await recorder.send(RequestContext("POST", f"{API}/x", body=body))
    cassette.save()
    loaded = Cassette.load(tmp_path / "c.json")
    assert [item.request.body for item in loaded.interactions] == bodies
    assert [item.response.body for item in loaded.interactions if item.response] == bodies
    encodings = [
        item["request"]["body"]["encoding"]
        for item in json.loads((tmp_path / "c.json").read_text())["interactions"]
    ]
    assert encodings == ["utf-8", "utf-8", "base64", "base64", "base64"]


# -- sessions (what the pytest fixture drives) -------------------------------------------------


async def test_record_modes(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "c.json"
    router = Router()
    router.get(f"{API}/a").respond(text="a")
    router.get(f"{API}/b").respond(text="b")
    real = MockTransport(router)

    with pytest.raises(CassetteError, match="--record-mode=once"):
        CassetteSession(path, "none")

    once = CassetteSession(path, "once")
    assert once.recording
    async with client(once.transport(real)) as c:
        await c.get(f"{API}/a")
    once.finish()
    assert len(Cassette.load(path).interactions) == 1

    replaying = CassetteSession(path, "once")
    assert replaying.replaying
    assert not replaying.recording
    async with client(replaying.transport(real)) as c:
        assert (await c.get(f"{API}/a")).value.text == "a"
    replaying.finish()
    assert len(router.calls) == 1  # nothing new went out

    episodes = CassetteSession(path, "new_episodes")
    async with client(episodes.transport(lambda: MockTransport(router))) as c:
        assert (await c.get(f"{API}/a")).value.text == "a"
        assert (await c.get(f"{API}/b")).value.text == "b"
    episodes.finish()
    assert [i.request.url for i in Cassette.load(path).interactions] == [f"{API}/a", f"{API}/b"]
    assert len(router.calls) == 2

    again = CassetteSession(path, "all")
    async with client(again.transport(MockTransport(router))) as c:
        await c.get(f"{API}/b")
    again.finish()
    assert [i.request.url for i in Cassette.load(path).interactions] == [f"{API}/b"]

    unplayed = CassetteSession(path, "none")
    with pytest.raises(CassetteError, match="never played"):
        unplayed.finish()
    CassetteSession(path, "none", allow_unplayed=True).finish()
    with pytest.raises(ValueError, match="record mode must be one of"):
        CassetteSession(path, "sometimes")  # type: ignore[arg-type]


async def test_two_clients_share_one_replay(tmp_path: Path) -> None:
    router = Router()
    router.get(f"{API}/x").sequence(200, 201)
    path = tmp_path / "c.json"
    await record(router, path, ("GET", f"{API}/x", {}), ("GET", f"{API}/x", {}))
    session = CassetteSession(path, "none")
    async with client(session.transport()) as first:
        assert (await first.get(f"{API}/x")).value.status == 200
    async with client(session.transport()) as second:
        assert (await second.get(f"{API}/x")).value.status == 201
    session.finish()


async def test_a_token_handed_out_in_a_response_is_scrubbed_where_it_goes_next() -> None:
    token = 'tok"en-\u00e9-0123456789'
    router = Router()
    router.post(f"{API}/login").respond(json={"access_token": token})
    router.post(f"{API}/echo").handle(_echo)
    cassette = Cassette()
    async with client(RecordingTransport(MockTransport(router), cassette)) as c:
        await c.post(f"{API}/login")
        # Sent under a name that is not sensitive, inside JSON (escaped) and in a path.
        await c.post(f"{API}/echo", json={"session": token, "note": f"a {token} b"})
    text = cassette.dumps()
    assert token not in text
    assert json.dumps(token)[1:-1] not in text
    assert json.dumps(token, ensure_ascii=False)[1:-1] not in text
    echoed = cassette.interactions[1].response
    assert echoed is not None
    assert json.loads(echoed.body or b"") == {"session": REDACTED, "note": f"a {REDACTED} b"}


async def test_dropped_headers_stay_out_of_the_cassette_and_out_of_matching() -> None:
    router = Router()
    router.get(f"{API}/x").respond(headers={"Date": "today", "CF-Ray": "1", "X-Kept": "k"})
    redaction = CassetteRedaction(drop_headers={"date", "cf-*", "X-Request-Id"})
    cassette = Cassette(redaction=redaction)
    async with client(RecordingTransport(MockTransport(router), cassette)) as c:
        live = await c.get(f"{API}/x", headers={"X-Request-Id": "r1", "Accept": "a"})
    assert live.value.headers["Date"] == "today"  # the code under test still sees them
    interaction = cassette.interactions[0]
    assert interaction.request.headers == {"Accept": "a"}
    assert interaction.response is not None
    assert interaction.response.headers == {"X-Kept": "k"}
    replay = ReplayTransport(
        Cassette(cassette.interactions, redaction=redaction), match_headers=["X-Request-Id"]
    )
    async with client(replay) as c:
        assert (await c.get(f"{API}/x", headers={"X-Request-Id": "r2"})).is_ok()
    with pytest.raises(ValueError, match="bare"):
        CassetteRedaction(drop_headers=["*"])

"""Property: a secret placed anywhere in requests and responses never reaches the cassette file.

"Anywhere" is every place a credential travels by name (headers, cookies, query parameters,
URL user-info, JSON keys at any depth, form fields, ``Set-Cookie``, ``Location``), every place a
server may echo one it was sent (bodies, streamed chunks split at any byte), and, for a secret
configured by value, any header, path or binary body at all.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexigram.contracts.web import (
    SENSITIVE_QUERY_PARAMS,
    HTTPConnectionError,
    HttpResponse,
    RequestContext,
)
from lexigram.testing.http import (
    Cassette,
    CassetteRedaction,
    Chunk,
    MockTransport,
    RecordingTransport,
    Router,
    Stream,
)

HOST = "api.example.com"

# Where the request carries the secret under a sensitive name (the recorder learns it there).
REQUEST_PLACES = ("authorization", "key_header", "cookie", "query", "userinfo", "json", "form")
# Where only the response carries it, under a sensitive name.
RESPONSE_PLACES = ("set_cookie", "response_json", "location")
# Free text: found only because the value was learned (or configured).
ECHO_PLACES = ("echo_body", "echo_header", "echo_stream", "echo_error_body", "transport_error")
# Anywhere at all, for a secret configured by value.
CONFIGURED_PLACES = ("plain_header", "path", "binary_body")

secrets = st.text(
    alphabet="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789_", min_size=4, max_size=24
).map(lambda tail: f"SECRET-{tail}")  # "-" never occurs in base64, so no false alarm there


def mixed_case(name: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda flags: "".join(c.upper() if up else c for c, up in zip(name, flags, strict=True))
    )


sensitive_keys = st.sampled_from(sorted(SENSITIVE_QUERY_PARAMS)).flatmap(mixed_case)
key_headers = st.sampled_from(["X-Api-Key", "api-key", "X-Auth-Token"]).flatmap(mixed_case)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    configured = draw(st.booleans())
    places = set(draw(st.lists(st.sampled_from(REQUEST_PLACES), unique=True)))
    places |= set(draw(st.lists(st.sampled_from(RESPONSE_PLACES), unique=True)))
    echoes = set(draw(st.lists(st.sampled_from(ECHO_PLACES), unique=True)))
    if echoes and not (places & set(REQUEST_PLACES)) and not configured:
        places.add("authorization")  # an echo is scrubbed by value: the value must be known
    places |= echoes
    if configured:
        places |= set(draw(st.lists(st.sampled_from(CONFIGURED_PLACES), unique=True)))
    if not places:
        places.add("authorization")
    secret = draw(secrets)
    echo_text = f"you sent {secret} and {secret}!\n"
    return {
        "secret": secret,
        "configured": configured,
        "places": places,
        "key_header": draw(key_headers),
        "param": draw(sensitive_keys),
        "json_key": draw(sensitive_keys),
        "depth": draw(st.integers(min_value=0, max_value=3)),
        "cuts": sorted(set(draw(st.lists(st.integers(1, len(echo_text) - 1), max_size=6)))),
        "echo_text": echo_text,
    }


def nest(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = {"level": level, "items": [value]} if level % 2 else {"inner": value}
    return value


def build_request(s: dict[str, Any]) -> RequestContext:
    secret, places = s["secret"], s["places"]
    authority = f"bob:{secret}@{HOST}" if "userinfo" in places else HOST
    path = f"/v1/items/{secret}" if "path" in places else "/v1/items"
    context = RequestContext("POST", f"https://{authority}{path}")
    if "query" in places:
        context.params = [("page", "2"), (s["param"], secret)]
    if "authorization" in places:
        context.headers["Authorization"] = f"Bearer {secret}"
    if "key_header" in places:
        context.headers[s["key_header"]] = secret
    if "cookie" in places:
        context.headers["Cookie"] = f"theme=dark; session={secret}"
    if "plain_header" in places:
        context.headers["X-Note"] = f"note {secret}"
    if "json" in places:
        context.headers["Content-Type"] = "application/json"
        document = nest({"name": "n", s["json_key"]: secret}, s["depth"])
        context.body = json.dumps(document).encode()
    elif "form" in places:
        context.headers["Content-Type"] = "application/x-www-form-urlencoded"
        context.body = urlencode({"user": "bob", s["param"]: secret}).encode()
    elif "binary_body" in places:
        context.body = b"\xff\x00" + secret.encode() + b"\xfe"
    return context


def respond(s: dict[str, Any], request: RequestContext) -> HttpResponse:
    secret, places = s["secret"], s["places"]
    if "transport_error" in places:
        # The message names the URL (its path too) and what the server said.
        raise HTTPConnectionError(
            f"connection failed for POST {request.url} (server said: {s['echo_text'].strip()})",
            method="POST",
            url=request.url,
        )
    headers: dict[str, str] = {}
    if "set_cookie" in places:
        headers["Set-Cookie"] = f"sid={secret}; Path=/; HttpOnly"
    if "location" in places:
        headers["Location"] = f"https://{HOST}/next?token={secret}"
    if "echo_header" in places:
        headers["X-Echo"] = s["echo_text"].strip()
    status = 500 if "echo_error_body" in places else 200
    if "response_json" in places:
        return HttpResponse(
            status, headers=headers, json=nest({s["json_key"]: secret, "ok": True}, s["depth"])
        )
    if "echo_body" in places or "echo_error_body" in places:
        return HttpResponse(status, headers=headers, text=s["echo_text"])
    return HttpResponse(status, headers=headers)


def stream_answer(s: dict[str, Any]) -> Stream:
    text = s["echo_text"].encode()
    bounds = [0, *s["cuts"], len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    return Stream(*[Chunk(piece) for piece in pieces], headers={"Content-Type": "text/plain"})


async def record(s: dict[str, Any], path: Path) -> None:
    router = Router()
    router.route().handle(lambda request: respond(s, request))
    redaction = CassetteRedaction(secrets=[s["secret"]] if s["configured"] else ())
    cassette = Cassette(path=path, redaction=redaction)
    recorder = RecordingTransport(MockTransport(router), cassette)
    try:
        await recorder.send(build_request(s))
    except HTTPConnectionError:
        assert "transport_error" in s["places"]
    if "echo_stream" in s["places"]:
        streaming = Router()
        streaming.route().stream(*stream_answer(s).chunks, headers={"Content-Type": "text/plain"})
        echo = RecordingTransport(MockTransport(streaming), cassette)
        response = await echo.send_stream(build_request(s))
        received = b"".join([chunk async for chunk in response.iter_bytes()])
        assert received == s["echo_text"].encode()  # the code under test saw it all
    cassette.save()


def everything_decoded(cassette: Cassette) -> list[bytes]:
    found: list[bytes] = []
    for interaction in cassette.interactions:
        if interaction.error is not None:
            found.append(interaction.error.message.encode())
        request = interaction.request
        found += [request.url.encode(), request.body or b""]
        found += [f"{k}: {v}".encode() for k, v in request.headers.items()]
        response = interaction.response
        if response is not None:
            found += [response.url.encode(), response.body or b""]
            found += [f"{k}: {v}".encode() for k, v in response.headers.items()]
            found += [chunk.data for chunk in response.chunks or ()]
            found.append(b"".join(chunk.data for chunk in response.chunks or ()))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_secrets_never_reach_the_cassette_file(s: dict[str, Any]) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "cassette.json"
        asyncio.run(record(s, path))
        text = path.read_text(encoding="utf-8")
        secret = s["secret"]
        assert secret not in text
        loaded = Cassette.load(path)
        assert loaded.interactions  # something was recorded
        for data in everything_decoded(loaded):
            assert secret.encode() not in data

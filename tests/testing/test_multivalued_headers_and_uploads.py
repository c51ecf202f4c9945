"""The testing package with multi-valued headers and ``Multipart`` upload bodies."""

from __future__ import annotations

from lexigram.contracts.web import RequestContext
from lexigram.http import HTTPClient, HTTPClientConfig, Multipart, RetryConfig
from lexigram.testing.http import MockTransport, Router

CONFIG = HTTPClientConfig(trust_env=False, retry=RetryConfig(enabled=False))
COOKIES = [
    "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/",
    "b=2; Expires=Thu, 22 Oct 2026 07:28:00 GMT; HttpOnly",
]


async def test_responses_keep_each_field_line() -> None:
    url = "https://api.example.com/login"
    pairs = [("Set-Cookie", COOKIES[0]), ("Set-Cookie", COOKIES[1])]
    router = Router()
    router.get(url).respond(200, headers=pairs)
    router.post(url).stream(b"data: x\n\n", headers=pairs)
    transport = MockTransport(router)
    response = await transport.send(RequestContext("GET", url))
    assert response.headers.get_list("Set-Cookie") == COOKIES
    streamed = await transport.send_stream(RequestContext("POST", url))
    assert streamed.headers.get_list("Set-Cookie") == COOKIES
    await streamed.aclose()
    async with (
        HTTPClient(CONFIG, transport=MockTransport(router)) as client,
        client.stream("POST", url) as stream,
    ):
        assert stream.headers.get_list("Set-Cookie") == COOKIES


async def test_the_mock_transport_sees_the_encoded_multipart_body() -> None:
    router = Router()
    route = router.post("https://api.example.com/upload").respond(201)
    body = Multipart(fields={"a": "1"}, files={"f": ("f.txt", b"data")}, boundary="b0")
    async with HTTPClient(CONFIG, transport=MockTransport(router)) as client:
        assert (await client.post("https://api.example.com/upload", data=body)).is_ok()
    sent = route.calls[0].body
    assert sent is not None
    assert sent.startswith(b'--b0\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n')
    assert sent.endswith(b"data\r\n--b0--\r\n")
    assert len(sent) == body.length


async def test_the_fake_client_takes_a_multipart_body_as_the_real_one_does() -> None:
    from lexigram.testing.http import FakeHTTPClient

    router = Router()
    route = router.post("https://api.example.com/upload").respond(201)
    body = Multipart(files={"f": ("f.txt", b"data")}, boundary="b1")
    client = FakeHTTPClient(router)
    assert (await client.post("https://api.example.com/upload", data=body)).is_ok()
    call = route.calls[0]
    assert call.body is not None
    assert call.body.endswith(b"data\r\n--b1--\r\n")
    assert call.request.headers["Content-Type"] == "multipart/form-data; boundary=b1"

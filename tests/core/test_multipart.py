"""Multipart uploads: ``data=Multipart(fields=..., files=...)`` against a real aiohttp server
that parses ``multipart/form-data``. Files are streamed from disk in chunks; retried attempts
resend the whole body; a body that cannot be replayed is sent once, never retried."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web

from lexigram.contracts.web import HTTPStatusError, HTTPUsageError, RequestContext
from lexigram.http import FileInput, HTTPClient, HTTPClientConfig, Multipart, RetryConfig
from tests.core.conftest import FakeClock
from tests.core.support import serve

pytestmark = pytest.mark.usefixtures("no_leftover_tasks")

CONFIG = HTTPClientConfig(trust_env=False, retry=RetryConfig(max_attempts=3))
BIG = 3 * 1024 * 1024 + 17  # several chunks, not a round number


class Receiver:
    """Parses each upload; answers 503 to the first ``fail_first`` requests."""

    def __init__(self) -> None:
        self.uploads: list[dict[str, Any]] = []
        self.fail_first = 0

    async def upload(self, request: web.Request) -> web.Response:
        seen: dict[str, Any] = {
            "content_length": request.content_length,
            "chunked": "chunked" in request.headers.get("Transfer-Encoding", ""),
            "content_type": request.headers["Content-Type"],
            "parts": [],
        }
        reader = await request.multipart()
        async for part in reader:
            assert isinstance(part, BodyPartReader)
            data = await part.read()
            seen["parts"].append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "type": part.headers.get("Content-Type"),
                    "size": len(data),
                    "sha": hashlib.sha256(data).hexdigest(),
                    "text": data.decode() if len(data) < 100 else None,
                }
            )
        self.uploads.append(seen)
        if len(self.uploads) <= self.fail_first:
            return web.Response(status=503, text="try again")
        return web.json_response({"parts": len(seen["parts"])})


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/upload", receiver.upload)
    async with serve(app) as url:
        yield receiver, f"{url}/upload"


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(bytes(range(256)) * (BIG // 256) + b"x" * (BIG % 256))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_fields_and_files_of_every_kind(
    upstream: tuple[Receiver, str], big_file: Path
) -> None:
    receiver, url = upstream
    files: dict[str, FileInput] = {
        "report": big_file,
        "notes": ("notes.txt", b"hello", "text/plain; charset=utf-8"),
        "blob": io.BytesIO(b"\x00\x01\x02"),
    }
    body = Multipart(fields={"title": 'Q3 "final"', "tags": ["a", "b"]}, files=files)
    async with HTTPClient(CONFIG) as client:
        response = (await client.post(url, data=body)).unwrap()
    assert response.json == {"parts": 6}
    (upload,) = receiver.uploads
    assert upload["content_type"].startswith("multipart/form-data; boundary=")
    assert upload["content_length"] == body.length  # sized in advance, not chunked
    assert not upload["chunked"]
    parts = {(part["name"], part["filename"]): part for part in upload["parts"]}
    assert [p["text"] for p in upload["parts"] if p["name"] == "tags"] == ["a", "b"]
    assert parts[("title", None)]["text"] == 'Q3 "final"'
    report = parts[("report", "report.pdf")]
    assert (report["size"], report["sha"]) == (BIG, sha(big_file.read_bytes()))  # noqa: ASYNC240
    assert report["type"] == "application/pdf"
    notes = parts[("notes", "notes.txt")]
    assert (notes["text"], notes["type"]) == ("hello", "text/plain; charset=utf-8")
    assert parts[("blob", None)]["type"] == "application/octet-stream"
    assert parts[("blob", None)]["size"] == 3


async def test_a_file_is_streamed_in_chunks_never_whole(big_file: Path) -> None:
    body = Multipart(files={"report": big_file}, chunk_size=64 * 1024)
    sizes = [len(chunk) async for chunk in body.chunks()]
    assert sum(sizes) == body.length
    assert max(sizes) <= 64 * 1024 + 200  # a chunk of the file, or a part's head
    assert len(sizes) > BIG // (64 * 1024)


@pytest.mark.parametrize("kind", ["path", "seekable file"])
async def test_a_retried_attempt_resends_the_whole_body(
    upstream: tuple[Receiver, str], big_file: Path, clock: FakeClock, kind: str
) -> None:
    receiver, url = upstream
    receiver.fail_first = 2
    with big_file.open("rb") as handle:
        content: Any = big_file if kind == "path" else handle
        body = Multipart(fields={"n": "1"}, files={"report": content})
        async with HTTPClient(CONFIG, sleep=clock.sleep, clock=clock) as client:
            result = await client.post(url, data=body, idempotency_key="upload-1")
    assert result.is_ok()
    assert len(receiver.uploads) == 3
    expected = sha(big_file.read_bytes())  # noqa: ASYNC240
    for upload in receiver.uploads:
        (_, report) = upload["parts"]
        assert (report["size"], report["sha"]) == (BIG, expected)


class Pipe(io.RawIOBase):
    """A readable stream that cannot seek (a pipe, a socket, a generator's output)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


async def test_a_body_that_cannot_be_replayed_is_sent_once(
    upstream: tuple[Receiver, str], clock: FakeClock
) -> None:
    receiver, url = upstream
    receiver.fail_first = 5
    body = Multipart(files={"stream": ("data.bin", Pipe(b"p" * 100_000))})
    assert not body.replayable
    assert body.length is None
    async with HTTPClient(CONFIG, sleep=clock.sleep, clock=clock) as client:
        result = await client.post(url, data=body, idempotency_key="upload-2")
    assert isinstance(result.error, HTTPStatusError)
    assert len(receiver.uploads) == 1  # not retried
    assert receiver.uploads[0]["chunked"]
    assert receiver.uploads[0]["parts"][0]["size"] == 100_000
    context = RequestContext("PUT", url, body=body)
    assert not context.is_idempotent
    with pytest.raises(HTTPUsageError, match=r"files\['stream'\].*cannot seek"):
        body.chunks()


def test_bad_file_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(HTTPUsageError, match=r"files\['f'\]: cannot read .*missing"):
        Multipart(files={"f": tmp_path / "missing"})
    with pytest.raises(TypeError, match=r"files\['f'\] must be bytes, a path"):
        Multipart(files={"f": 42})  # type: ignore[arg-type]

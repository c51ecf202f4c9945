"""``Cassette``: recorded interactions, and their versioned JSON file.

The file is meant to be read by people and reviewed in pull requests::

    {
      "format": "lexigram-http-cassette",
      "version": 1,
      "interactions": [
        {
          "request": {"method": "GET", "url": "https://h/v1/x?token=[REDACTED]",
                      "headers": {"Authorization": "[REDACTED]"}, "body": null},
          "response": {"status": 200, "url": "https://h/v1/x?token=[REDACTED]",
                       "headers": {"Content-Type": "application/json"}, "elapsed": 0.012,
                       "body": {"encoding": "utf-8", "data": "{\\"id\\":1}"}}
        },
        {
          "request": {...},
          "response": {"status": 200, "url": "...", "headers": {...}, "headers_at": 0.004,
                       "chunks": [{"at": 0.005, "encoding": "utf-8", "data": "data: a\\n"}],
                       "end": {"kind": "error", "at": 0.3, "error": {...}}}
        },
        {"request": {...}, "error": {"type": "HTTPConnectionError", "message": "...", "at": 0.01}}
      ]
    }

Bodies and chunks are UTF-8 text when they decode as UTF-8, base64 otherwise (``encoding``).
Times (``elapsed``, ``headers_at``, ``at``) are seconds since the request was sent. A stream
ends with ``eof`` (the body ended), ``error`` (the transport raised: disconnect, read timeout),
``stall`` (the reader stopped waiting after ``waited`` seconds of silence: its idle timeout),
or ``closed`` (the reader closed it early; replay cannot go further).
"""

from __future__ import annotations

import base64
import binascii
import json as _jsonlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

from lexigram.contracts.web import (
    ClientClosedError,
    HTTPBodyTooLargeError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPStreamDisconnectedError,
    HTTPTimeoutError,
    HTTPUsageError,
    InvalidURLError,
    TimeoutPhase,
)
from lexigram.testing.http._scrub import CassetteRedaction, Scrubber, content_type

__all__ = [
    "FORMAT",
    "VERSION",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "Interaction",
    "RecordedChunk",
    "RecordedError",
    "RecordedRequest",
    "RecordedResponse",
    "StreamEnd",
]

FORMAT: Final = "lexigram-http-cassette"
VERSION: Final = 1

EndKind: TypeAlias = Literal["eof", "error", "stall", "closed"]
_END_KINDS: Final = ("eof", "error", "stall", "closed")

# The transport's errors a cassette can replay; others are recorded as their nearest base.
_ERRORS: Final[dict[str, type[HTTPClientError]]] = {
    cls.__name__: cls
    for cls in (
        HTTPClientError,
        HTTPConnectionError,
        HTTPStreamDisconnectedError,
        HTTPTimeoutError,
        HTTPBodyTooLargeError,
        HTTPUsageError,
        InvalidURLError,
    )
}


class CassetteError(AssertionError):
    """A cassette cannot serve what the test asked for (missing, exhausted, unplayed).

    An ``AssertionError``: it reports a test setup that no longer matches the recording, not a
    network condition, so the client never turns it into a ``Result``.
    """


class CassetteFormatError(ValueError):
    """A cassette file is not valid: names the file and the path of the bad value in it."""


@dataclass(slots=True)
class RecordedRequest:
    """A request as recorded: redacted URL (``params`` included), headers and body."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(slots=True)
class RecordedError:
    """An error the transport raised: its type name, (redacted) message and attributes."""

    type: str
    message: str
    at: float = 0.0
    phase: str | None = None
    timeout: float | None = None
    limit: int | None = None
    bytes_received: int | None = None

    @classmethod
    def of(cls, error: HTTPClientError, at: float, scrubber: Scrubber) -> RecordedError:
        """Record ``error`` (its message scrubbed of known secrets)."""
        kind = next(klass for klass in type(error).__mro__ if klass.__name__ in _ERRORS)
        recorded = cls(kind.__name__, scrubber.text(error.message), round(at, 6))
        if isinstance(error, HTTPTimeoutError):
            recorded.phase = error.phase.value
            recorded.timeout = error.timeout
        if isinstance(error, HTTPBodyTooLargeError):
            recorded.limit = error.limit
        if isinstance(error, HTTPStreamDisconnectedError):
            recorded.bytes_received = error.bytes_received
        return recorded

    def build(self, method: str, url: str, received: bytes = b"") -> HTTPClientError:
        """A fresh exception like the recorded one, for ``method url``."""
        cls = _ERRORS.get(self.type, HTTPClientError)
        if issubclass(cls, HTTPTimeoutError):
            return cls(
                self.message,
                phase=TimeoutPhase(self.phase or TimeoutPhase.READ),
                timeout=self.timeout,
                method=method,
                url=url,
            )
        if issubclass(cls, HTTPStreamDisconnectedError):
            return cls(
                self.message,
                received=received,
                bytes_received=self.bytes_received,
                method=method,
                url=url,
            )
        if issubclass(cls, HTTPBodyTooLargeError):
            return cls(self.message, limit=self.limit or 0, method=method, url=url)
        return cls(self.message, method=method, url=url)


@dataclass(slots=True)
class RecordedChunk:
    """One chunk of a streamed body, ``at`` seconds after the request was sent."""

    at: float
    data: bytes


@dataclass(slots=True)
class StreamEnd:
    """How a recorded stream ended (see the module docstring for the kinds)."""

    kind: EndKind
    at: float
    error: RecordedError | None = None
    waited: float | None = None


@dataclass(slots=True)
class RecordedResponse:
    """A response: ``body`` for one read whole, ``chunks`` and ``end`` for a stream."""

    status: int
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    elapsed: float = 0.0
    headers_at: float = 0.0
    chunks: list[RecordedChunk] | None = None
    end: StreamEnd | None = None

    @property
    def streamed(self) -> bool:
        """Whether the body was recorded chunk by chunk."""
        return self.chunks is not None


@dataclass(slots=True)
class Interaction:
    """A request and its outcome: a response or an error (``None`` while in flight)."""

    request: RecordedRequest
    response: RecordedResponse | None = None
    error: RecordedError | None = None

    @property
    def complete(self) -> bool:
        """Whether the outcome is known."""
        return self.response is not None or self.error is not None

    def describe(self) -> str:
        """``METHOD url -> outcome``, redacted (as recorded)."""
        if self.response is not None:
            outcome = str(self.response.status)
            if self.response.end is not None and self.response.end.kind != "eof":
                outcome += f" (stream {self.response.end.kind})"
        elif self.error is not None:
            outcome = self.error.type
        else:
            outcome = "(in flight)"
        return f"{self.request.method} {self.request.url} -> {outcome}"


@dataclass(slots=True)
class Cassette:
    """Interactions in the order their requests were sent, and the rules that redacted them.

    Build one empty to record into, or :meth:`load` a file to replay. :meth:`save` writes the
    JSON file (creating its folder), scrubbing every value learned during the recording once
    more, so a secret seen late is not left in an early interaction.
    """

    interactions: list[Interaction] = field(default_factory=list)
    path: Path | None = None
    redaction: CassetteRedaction = field(default_factory=CassetteRedaction)
    scrubber: Scrubber = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            self.path = Path(self.path)
        self.scrubber = self.redaction.scrubber()

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, redaction: CassetteRedaction | None = None
    ) -> Cassette:
        """Read a cassette file; :class:`CassetteFormatError` names what is wrong and where."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CassetteError(f"cassette not found: {path}") from None
        try:
            data = _jsonlib.loads(text)
        except ValueError as exc:
            raise CassetteFormatError(f"cassette {path}: not valid JSON ({exc})") from None
        interactions = _Reader(path).cassette(data)
        return cls(interactions, path=path, redaction=redaction or CassetteRedaction())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: every complete interaction, scrubbed with all learned values."""
        scrub = self.scrubber
        return {
            "format": FORMAT,
            "version": VERSION,
            "interactions": [
                _interaction(interaction, scrub)
                for interaction in self.interactions
                if interaction.complete
            ],
        }

    def dumps(self) -> str:
        """The JSON text of the cassette."""
        return _jsonlib.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the cassette (atomically) to ``path`` or to its own ``path``; return where."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the cassette has no path: pass save(path)")
        text = self.dumps()
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; a cassette is a test fixture
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.path = target
        return target

    def __repr__(self) -> str:
        where = f" {self.path}" if self.path is not None else ""
        return f"<Cassette{where} {len(self.interactions)} interactions>"


# -- writing ----------------------------------------------------------------------------------


def encode_bytes(data: bytes) -> dict[str, str]:
    """UTF-8 text when ``data`` decodes as UTF-8 (readable), base64 otherwise."""
    try:
        return {"encoding": "utf-8", "data": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "data": base64.b64encode(data).decode("ascii")}


def _request(request: RecordedRequest, scrub: Scrubber) -> dict[str, Any]:
    body = request.body
    if body is not None:
        body = scrub.body(body, content_type(request.headers))
    return {
        "method": request.method,
        "url": scrub.text(request.url),
        "headers": {name: scrub.text(value) for name, value in request.headers.items()},
        "body": None if body is None else encode_bytes(body),
    }


def _error(error: RecordedError, scrub: Scrubber) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": error.type,
        "message": scrub.text(error.message),
        "at": error.at,
    }
    for name in ("phase", "timeout", "limit", "bytes_received"):
        value = getattr(error, name)
        if value is not None:
            data[name] = value
    return data


def _response(response: RecordedResponse, scrub: Scrubber) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": response.status,
        "url": scrub.text(response.url),
        "headers": {name: scrub.text(value) for name, value in response.headers.items()},
    }
    if response.chunks is None:
        body = scrub.body(response.body or b"", content_type(response.headers))
        data["elapsed"] = response.elapsed
        data["body"] = encode_bytes(body)
        return data
    data["headers_at"] = response.headers_at
    scrubbed = scrub.chunks([chunk.data for chunk in response.chunks])
    data["chunks"] = [
        {"at": chunk.at, **encode_bytes(text)}
        for chunk, text in zip(response.chunks, scrubbed, strict=True)
    ]
    end = response.end or StreamEnd("closed", response.chunks[-1].at if response.chunks else 0.0)
    ending: dict[str, Any] = {"kind": end.kind, "at": end.at}
    if end.waited is not None:
        ending["waited"] = end.waited
    if end.error is not None:
        ending["error"] = _error(end.error, scrub)
    data["end"] = ending
    return data


def _interaction(interaction: Interaction, scrub: Scrubber) -> dict[str, Any]:
    data: dict[str, Any] = {"request": _request(interaction.request, scrub)}
    if interaction.response is not None:
        data["response"] = _response(interaction.response, scrub)
    elif interaction.error is not None:
        data["error"] = _error(interaction.error, scrub)
    return data


# -- reading ----------------------------------------------------------------------------------


class _Reader:
    """Validates a cassette document, naming the file and the path of anything wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> CassetteFormatError:
        return CassetteFormatError(f"cassette {self.path}: {where}: {problem}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    def field(
        self, data: dict[str, Any], name: str, where: str, kind: type | tuple[type, ...]
    ) -> Any:
        if name not in data:
            raise self.fail(f"{where}.{name}", "missing")
        value = data[name]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(f"{where}.{name}", f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(
                f"{where}.{name}", f"expected {_kind_name(kind)}, got {type(value).__name__}"
            )
        return value

    def number(self, data: dict[str, Any], name: str, where: str, default: float = 0.0) -> float:
        if name not in data:
            return default
        return float(self.field(data, name, where, (int, float)))

    def cassette(self, data: Any) -> list[Interaction]:
        document = self.obj(data, "the document")
        if document.get("format") != FORMAT:
            raise self.fail("format", f"expected {FORMAT!r}, got {document.get('format')!r}")
        version = document.get("version")
        if version != VERSION:
            raise self.fail(
                "version",
                f"unsupported version {version!r} (this lexigram-http-testing reads {VERSION})",
            )
        items = self.field(document, "interactions", "the document", list)
        return [
            self.interaction(item, f"interactions[{index}]") for index, item in enumerate(items)
        ]

    def headers(self, data: dict[str, Any], where: str) -> dict[str, str]:
        headers = self.obj(data.get("headers", {}), f"{where}.headers")
        for name, value in headers.items():
            if not isinstance(value, str):
                raise self.fail(f"{where}.headers[{name!r}]", "expected a string")
        return dict(headers)

    def body(self, value: Any, where: str) -> bytes:
        data = self.obj(value, where)
        encoding = data.get("encoding")
        text: str = self.field(data, "data", where, str)
        if encoding == "utf-8":
            return text.encode("utf-8", "surrogatepass")
        if encoding == "base64":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise self.fail(f"{where}.data", "invalid base64") from None
        raise self.fail(f"{where}.encoding", f"expected 'utf-8' or 'base64', got {encoding!r}")

    def error(self, value: Any, where: str) -> RecordedError:
        data = self.obj(value, where)
        kind = self.field(data, "type", where, str)
        if kind not in _ERRORS:
            raise self.fail(
                f"{where}.type", f"unknown error type {kind!r}; known: {sorted(_ERRORS)}"
            )
        phase = data.get("phase")
        if phase is not None and phase not in {p.value for p in TimeoutPhase}:
            raise self.fail(f"{where}.phase", f"unknown timeout phase {phase!r}")
        timeout = data.get("timeout")
        limit = data.get("limit")
        count = data.get("bytes_received")
        return RecordedError(
            kind,
            self.field(data, "message", where, str),
            self.number(data, "at", where),
            phase,
            None if timeout is None else self.number(data, "timeout", where),
            None if limit is None else int(self.field(data, "limit", where, int)),
            None if count is None else int(self.field(data, "bytes_received", where, int)),
        )

    def interaction(self, value: Any, where: str) -> Interaction:
        data = self.obj(value, where)
        request_data = self.obj(data.get("request"), f"{where}.request")
        body = request_data.get("body")
        request = RecordedRequest(
            self.field(request_data, "method", f"{where}.request", str).upper(),
            self.field(request_data, "url", f"{where}.request", str),
            self.headers(request_data, f"{where}.request"),
            None if body is None else self.body(body, f"{where}.request.body"),
        )
        if "error" in data:
            return Interaction(request, error=self.error(data["error"], f"{where}.error"))
        if "response" not in data:
            raise self.fail(where, "needs a 'response' or an 'error'")
        return Interaction(request, response=self.response(data["response"], f"{where}.response"))

    def response(self, value: Any, where: str) -> RecordedResponse:
        data = self.obj(value, where)
        status = self.field(data, "status", where, int)
        if not 100 <= status <= 999:
            raise self.fail(f"{where}.status", f"not an HTTP status: {status}")
        response = RecordedResponse(
            status, self.field(data, "url", where, str), self.headers(data, where)
        )
        if "chunks" not in data:
            response.body = self.body(data.get("body"), f"{where}.body")
            response.elapsed = self.number(data, "elapsed", where)
            return response
        response.headers_at = self.number(data, "headers_at", where)
        response.chunks = []
        for index, item in enumerate(self.field(data, "chunks", where, list)):
            at = f"{where}.chunks[{index}]"
            response.chunks.append(
                RecordedChunk(self.number(self.obj(item, at), "at", at), self.body(item, at))
            )
        end_where = f"{where}.end"
        end = self.obj(data.get("end"), end_where)
        kind = end.get("kind")
        if kind not in _END_KINDS:
            raise self.fail(
                f"{end_where}.kind", f"expected one of {list(_END_KINDS)}, got {kind!r}"
            )
        error = None
        if kind == "error":
            error = self.error(end.get("error"), f"{end_where}.error")
        waited = end.get("waited")
        response.end = StreamEnd(
            kind,
            self.number(end, "at", end_where),
            error,
            None if waited is None else self.number(end, "waited", end_where),
        )
        return response


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def is_closed_error(error: BaseException) -> bool:
    """Whether ``error`` says the transport was closed (a usage error, never recorded)."""
    return isinstance(error, ClientClosedError)

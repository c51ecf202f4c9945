"""lexigram.testing.http: test lexigram-http code at the level you choose, off the network.

- :class:`Router`: routes matched on method, URL (exact, ``{param}`` template, prefix, regex),
  query parameters, headers, JSON body (partial, with :data:`ANY`) or raw body, answering with
  a :class:`Reply`, a :class:`Stream` of chunks, a :class:`Raise`, a function, or a sequence.
  Strict: an unmatched request raises :class:`UnmatchedRequestError`. Every call is recorded.
- :class:`MockTransport`: the router behind the real ``HTTPClient`` / ``BaseURLHTTPClient`` /
  ``HTTPModule.stub(transport=...)``, so interceptors, retries, breaker and metrics run.
- :class:`FakeHTTPClient`: ``HTTPClientProtocol`` on the router, for domain code.
- :class:`FakeClock`: a clock, a wall clock (``.time``) and a sleep that take no real time
  (the one ``lexigram.contracts.clock.FakeClock``, also exported by ``lexigram.resilience``).
- ``lexigram.testing.http.conformance.HTTPClientConformance``: the protocol's contract as tests.
- Cassettes: :class:`RecordingTransport` wraps any transport and records every exchange
  (streams chunk by chunk, with their timing and how they ended) into a :class:`Cassette`,
  redacted by :class:`CassetteRedaction` before it is kept; :class:`ReplayTransport` plays it
  back strictly. :class:`CassetteSession` picks one per ``--record-mode``.
- The pytest plugin (``http_router``, ``http_mock``, ``http_client``, ``fake_http_client``,
  ``http_clock``, ``http_cassette`` fixtures, ``http_mock`` and ``http_cassette`` markers) loads
  automatically.

Importing this package does not import aiohttp or ``lexigram.http``, and its names load on
first use: pytest imports the package for its plugin in every run, whether a test uses it or not.
"""

from typing import TYPE_CHECKING

__all__ = [
    "ANY",
    "Answer",
    "BodyMatcher",
    "Call",
    "CallList",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteRedaction",
    "CassetteSession",
    "Chunk",
    "FakeClock",
    "FakeHTTPClient",
    "Handler",
    "HandlerResult",
    "Interaction",
    "MockStreamingResponse",
    "MockTransport",
    "Pace",
    "Raise",
    "RecordMode",
    "RecordedChunk",
    "RecordedError",
    "RecordedRequest",
    "RecordedResponse",
    "RecordingStreamingResponse",
    "RecordingTransport",
    "ReplayTransport",
    "Reply",
    "Route",
    "Router",
    "SequenceExhaustedError",
    "Stream",
    "StreamEnd",
    "UnmatchedRequestError",
]

if TYPE_CHECKING:
    from lexigram.testing.http._answers import (
        Answer,
        Chunk,
        Handler,
        HandlerResult,
        Raise,
        Reply,
        Stream,
    )
    from lexigram.testing.http._cassette import (
        Cassette,
        CassetteError,
        CassetteFormatError,
        Interaction,
        RecordedChunk,
        RecordedError,
        RecordedRequest,
        RecordedResponse,
        StreamEnd,
    )
    from lexigram.testing.http._clock import FakeClock
    from lexigram.testing.http._errors import SequenceExhaustedError, UnmatchedRequestError
    from lexigram.testing.http._fake_client import FakeHTTPClient
    from lexigram.testing.http._matching import ANY
    from lexigram.testing.http._recorder import RecordingStreamingResponse, RecordingTransport
    from lexigram.testing.http._replayer import BodyMatcher, Pace, ReplayTransport
    from lexigram.testing.http._router import Call, CallList, Route, Router
    from lexigram.testing.http._scrub import CassetteRedaction
    from lexigram.testing.http._session import CassetteSession, RecordMode
    from lexigram.testing.http._streaming import MockStreamingResponse
    from lexigram.testing.http._transport import MockTransport
else:
    import importlib

    _HOMES = {
        "ANY": "_matching",
        "Answer": "_answers",
        "BodyMatcher": "_replayer",
        "Call": "_router",
        "CallList": "_router",
        "Cassette": "_cassette",
        "CassetteError": "_cassette",
        "CassetteFormatError": "_cassette",
        "CassetteRedaction": "_scrub",
        "CassetteSession": "_session",
        "Chunk": "_answers",
        "FakeClock": "_clock",
        "FakeHTTPClient": "_fake_client",
        "Handler": "_answers",
        "HandlerResult": "_answers",
        "Interaction": "_cassette",
        "MockStreamingResponse": "_streaming",
        "MockTransport": "_transport",
        "Pace": "_replayer",
        "Raise": "_answers",
        "RecordMode": "_session",
        "RecordedChunk": "_cassette",
        "RecordedError": "_cassette",
        "RecordedRequest": "_cassette",
        "RecordedResponse": "_cassette",
        "RecordingStreamingResponse": "_recorder",
        "RecordingTransport": "_recorder",
        "ReplayTransport": "_replayer",
        "Reply": "_answers",
        "Route": "_router",
        "Router": "_router",
        "SequenceExhaustedError": "_errors",
        "Stream": "_answers",
        "StreamEnd": "_cassette",
        "UnmatchedRequestError": "_errors",
    }

    # Hidden from type checkers, so that a misspelt import stays a type error.
    def __getattr__(name: str) -> object:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})

"""``CassetteSession``: one test's cassette, recorded or replayed as the record mode says."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, Literal, TypeAlias, get_args

from lexigram.contracts.web import HTTPTransportProtocol
from lexigram.testing.http._cassette import Cassette, CassetteError
from lexigram.testing.http._recorder import RecordingTransport
from lexigram.testing.http._replayer import BodyMatcher, Pace, ReplayTransport, Sleep
from lexigram.testing.http._scrub import CassetteRedaction

__all__ = ["RECORD_MODES", "CassetteSession", "RecordMode"]

RecordMode: TypeAlias = Literal["none", "once", "new_episodes", "all"]
"""When a cassette is recorded:

- ``none``: never; the cassette must exist, and is replayed (the default: no test reaches the
  network unless asked);
- ``once``: record if the cassette does not exist yet, replay otherwise;
- ``new_episodes``: replay, and send requests the cassette does not have to the network,
  appending them;
- ``all``: record everything again, replacing the cassette.
"""

RECORD_MODES: Final[tuple[str, ...]] = get_args(RecordMode)

TransportSource: TypeAlias = HTTPTransportProtocol | Callable[[], HTTPTransportProtocol] | None


def _default_transport() -> HTTPTransportProtocol:
    from lexigram.http import AiohttpTransport

    return AiohttpTransport()


class CassetteSession:
    """A cassette and the mode it is used in, for one test (what ``http_cassette`` gives).

    Call :meth:`transport` to get the transport for the client under test: a
    :class:`RecordingTransport` around the real one when recording, a :class:`ReplayTransport`
    otherwise (with the recorder as its fallback in ``new_episodes``). :meth:`finish` writes
    what was recorded and fails on recorded interactions that were never played (unless
    ``allow_unplayed``). A missing cassette in mode ``none`` raises :class:`CassetteError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: RecordMode = "none",
        *,
        redaction: CassetteRedaction | None = None,
        match_headers: Iterable[str] = (),
        match_body: BodyMatcher = "json",
        pace: Pace = "instant",
        sleep: Sleep = asyncio.sleep,
        allow_unplayed: bool = False,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"record mode must be one of {list(RECORD_MODES)}, got {mode!r}")
        if redaction is not None and not isinstance(redaction, CassetteRedaction):
            raise TypeError(
                f"redaction must be a CassetteRedaction, not {type(redaction).__name__}"
            )
        self.path = Path(path)
        self.mode: RecordMode = mode
        self.allow_unplayed = allow_unplayed
        redaction = redaction or CassetteRedaction()
        exists = self.path.exists()
        if mode == "none" and not exists:
            raise CassetteError(
                f"cassette not found: {self.path} (record mode 'none' never records; "
                "run pytest with --record-mode=once to record it)"
            )
        self.replaying = exists and mode != "all"
        self.recording = mode != "none" and (mode == "new_episodes" or not self.replaying)
        if self.replaying:
            self.cassette = Cassette.load(self.path, redaction=redaction)
        else:
            self.cassette = Cassette(path=self.path, redaction=redaction)
        self._recorded_before = len(self.cassette.interactions)
        self._replay: ReplayTransport | None = None
        if self.replaying:
            # Built now, so that bad matcher options fail the setup, not the first request.
            self._replay = ReplayTransport(
                self.cassette,
                match_headers=match_headers,
                match_body=match_body,
                pace=pace,
                sleep=sleep,
            )

    @property
    def replay(self) -> ReplayTransport | None:
        """The replay state shared by the transports handed out (``None`` when recording from
        scratch): its ``unplayed``, ``calls`` and ``router`` cover them all."""
        return self._replay

    def transport(self, real: TransportSource = None) -> HTTPTransportProtocol:
        """The transport for a client: records through ``real`` or replays the cassette.

        ``real`` is the transport requests really go through when recording: an instance, or
        a function building one (only called when needed); by default lexigram-http's
        ``AiohttpTransport()``. Each call returns a new transport (clients close theirs), all
        sharing the cassette.
        """

        def build() -> HTTPTransportProtocol:
            if real is None:
                return _default_transport()
            if isinstance(real, HTTPTransportProtocol):
                return real
            if callable(real):
                return real()
            raise TypeError(
                f"real must be a transport or a function returning one, not {type(real).__name__}"
            )

        if not self.replaying:
            return RecordingTransport(build(), self.cassette)
        fallback = RecordingTransport(build(), self.cassette) if self.recording else None
        assert self._replay is not None
        return self._replay.fork(fallback=fallback)

    @property
    def new_interactions(self) -> int:
        """How many interactions were recorded in this session."""
        return sum(
            1 for item in self.cassette.interactions[self._recorded_before :] if item.complete
        )

    def finish(self) -> None:
        """Write what was recorded; then fail on unplayed interactions (unless allowed)."""
        if self.recording and (not self.replaying or self.new_interactions):
            self.cassette.save(self.path)
        if self._replay is not None and not self.allow_unplayed:
            self._replay.assert_all_played()

    def __repr__(self) -> str:
        what = "recording" if not self.replaying else "replaying"
        return f"<CassetteSession {what} {self.path} mode={self.mode}>"

"""``ServerSentEvent``: one dispatched event of a ``text/event-stream``; ``SSEReconnect``."""

from __future__ import annotations

import json as _jsonlib
import math
import random as _random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lexigram.contracts.web._errors import HTTPDecodeError
from lexigram.contracts.web._json import _loads_text

__all__ = ["SSEReconnect", "ServerSentEvent"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """A server-sent event, as dispatched by the WHATWG event-stream algorithm.

    ``data`` joins the event's ``data:`` lines with ``"\\n"``; ``id`` is the last event ID in
    effect (``None`` if never set); ``retry`` is the reconnection time in milliseconds, when the
    event carried a valid one.
    """

    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """Parse ``data`` as JSON; raises :class:`HTTPDecodeError` when it is not JSON.

        The value ``json.loads`` gives, parsed by msgspec when installed (the ``speedups``
        extra of lexigram-http-core), else by the C scanner behind ``json.loads``.
        """
        try:
            return _loads_text(self.data)
        except _jsonlib.JSONDecodeError as exc:
            raise HTTPDecodeError(what="SSE event data", position=exc.pos, detail=exc.msg) from exc


@dataclass(frozen=True, slots=True)
class SSEReconnect:
    """Opt-in ``EventSource``-style reconnection for ``StreamResponse.sse()``.

    When the body ends, breaks off (``HTTPStreamDisconnectedError``) or goes idle
    (``HTTPTimeoutError``), the request is sent again with a ``Last-Event-ID`` header (the
    last event ID, if not empty) after the server's ``retry`` time (else ``default_retry``
    seconds), capped at ``max_retry`` and lengthened by up to ``jitter`` of itself at random.
    A failed reconnection (connection error, timeout) counts and waits again. It gives up
    after ``max_reconnects`` reconnections in a row without an event (an event resets the
    count), re-raising the last error, or ending quietly if the server had ended cleanly.
    Only a 200 ``text/event-stream`` response is read as events (the ``EventSource`` rule),
    the first one and every reconnection alike: a 204 answer ends the events quietly; a status
    of 400 or more raises ``HTTPStatusError``; any other status or Content-Type raises
    ``HTTPEventStreamError``, and nothing is reconnected. ``reconnect_on_end=False`` ends with
    the body instead (only failures reconnect).
    """

    max_reconnects: int = 5
    default_retry: float = 3.0
    max_retry: float = 60.0
    jitter: float = 0.1
    reconnect_on_end: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.max_reconnects, bool) or not isinstance(self.max_reconnects, int):
            raise TypeError("max_reconnects must be an int")
        if self.max_reconnects < 0:
            raise ValueError(f"max_reconnects must be >= 0, got {self.max_reconnects!r}")
        for name in ("default_retry", "max_retry", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number")
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be >= 0 and finite, got {value!r}")

    def delay(self, retry_ms: int | None, random: Callable[[], float] = _random.random) -> float:
        """Seconds to wait before the next reconnection, given the server's ``retry``."""
        base = self.default_retry if retry_ms is None else retry_ms / 1000
        base = min(base, self.max_retry)
        return base * (1 + self.jitter * random())

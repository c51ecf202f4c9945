"""``ServerSentEvent``: one dispatched event of a ``text/event-stream``."""

from __future__ import annotations

import json as _jsonlib
from dataclasses import dataclass
from typing import Any

from lexigram.contracts.web._errors import HTTPDecodeError
from lexigram.contracts.web._json import _loads_text

__all__ = ["ServerSentEvent"]


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

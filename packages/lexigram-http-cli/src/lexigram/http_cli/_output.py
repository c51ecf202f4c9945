"""Printing requests, responses, stream items and timelines, redacted and coloured."""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from rich.console import Console
from rich.text import Text

from lexigram.contracts.web import RequestContext, ServerSentEvent
from lexigram.http_cli._redact import Scrubber
from lexigram.http_cli._timeline import Attempt, Timeline

__all__: list[str] = []

_BINARY_NOTE: Final = (
    "+-----------------------------------------+\n"
    "| NOTE: binary data not shown in terminal |\n"
    "+-----------------------------------------+"
)


def make_console(*, no_color: bool, stderr: bool = False) -> Console:
    """A console that never wraps long lines (headers, URLs) and honours ``--no-color``."""
    return Console(
        stderr=stderr,
        no_color=no_color,
        highlight=False,
        soft_wrap=True,
        emoji=False,
        markup=False,
    )


def reason(status: int) -> str:
    """The standard reason phrase of ``status`` (empty when there is none)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def status_style(status: int) -> str:
    """Green for 2xx, yellow for 3xx, red for 4xx/5xx."""
    if status < 300:
        return "bold green"
    if status < 400:
        return "bold yellow"
    return "bold red"


class Printer:
    """Writes the parts of an exchange to a console, through a :class:`Scrubber`."""

    __slots__ = ("console", "scrubber")

    def __init__(self, console: Console, scrubber: Scrubber) -> None:
        self.console = console
        self.scrubber = scrubber

    def line(self, text: str = "", style: str | None = None) -> None:
        """One line of plain text (no markup), redacted."""
        self.console.print(Text(self.scrubber.text(text), style=style or ""))

    def _headers(self, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in self.scrubber.headers(headers):
            text = Text()
            text.append(name, style="cyan")
            text.append(": ")
            text.append(value)
            self.console.print(text)

    def request_head(self, context: RequestContext, user_agent: str | None = None) -> None:
        """``GET /path?query HTTP/1.1``, ``Host`` and the request headers (``user_agent``:
        the one the transport adds when the request has none)."""
        parts = urlsplit(context.url)
        target = parts.path or "/"
        query = parts.query
        if context.params:
            extra = urlencode(context.params)
            query = f"{query}&{extra}" if query else extra
        if query:
            target = f"{target}?{query}"
        text = Text()
        text.append(context.method, style="bold")
        text.append(" ")
        text.append(self.scrubber.url(target), style="underline")
        text.append(" HTTP/1.1")
        self.console.print(text)
        host = parts.netloc.rpartition("@")[2]
        headers = [("Host", host), *context.headers.items()]
        if user_agent is not None and "User-Agent" not in context.headers:
            headers.insert(1, ("User-Agent", user_agent))
        self._headers(headers)
        self.console.print()

    def response_head(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        """``HTTP/1.1 200 OK`` and the response headers."""
        self.console.print(Text(f"HTTP/1.1 {status} {reason(status)}", style=status_style(status)))
        self._headers(headers)
        self.console.print()

    def body(self, body: bytes, content_type: str | None) -> None:
        """A body: JSON formatted and coloured, text as it is, binary as a note."""
        if not body:
            return
        if b"\x00" in body[:1024]:
            self.console.print(Text(_BINARY_NOTE))
            return
        text = body.decode("utf-8", errors="replace")
        if content_type is not None and content_type.partition(";")[0].strip().lower() in {
            "application/x-www-form-urlencoded"
        }:
            self.line(text)
            return
        try:
            value = json.loads(text)
        except ValueError:
            self.line(text.rstrip("\n"))
            return
        self.json(value)

    def json(self, value: Any, *, compact: bool = False) -> None:
        """A JSON value, redacted, indented (or on one line) and coloured."""
        data = self.scrubber.json(value)
        if compact:
            self.console.print_json(data=data, indent=None, ensure_ascii=False)
        else:
            self.console.print_json(data=data, indent=2, ensure_ascii=False)

    def event(self, event: ServerSentEvent, *, show_id: bool = True) -> None:
        """One Server-Sent Event, as it is written on the wire."""
        if event.event != "message":
            self.line(f"event: {event.event}", style="cyan")
        if show_id and event.id is not None:
            self.line(f"id: {event.id}", style="cyan")
        for data_line in event.data.split("\n"):
            self.line(f"data: {data_line}")
        self.console.print()

    def timeline(self, timeline: Timeline, *, title: str) -> None:
        """Each attempt: when it started, how long it took, its outcome, and what came next."""
        self.console.print(Text(f"Timeline: {self.scrubber.text(title)}", style="bold"))
        for attempt in timeline.attempts:
            self.console.print(self._attempt(attempt, timeline))
        for at, transition in timeline.transitions:
            self.line(
                f"  +{at:.3f}s  breaker {transition.breaker}: {transition.previous.value} -> "
                f"{transition.state.value} ({transition.reason})",
                style="magenta",
            )
        self.console.print()

    def _attempt(self, attempt: Attempt, timeline: Timeline) -> Text:
        text = Text("  ")
        text.append(f"#{attempt.number}", style="bold")
        text.append(f"  +{attempt.started:.3f}s  ")
        if attempt.refused is not None:
            text.append(attempt.refused, style="bold magenta")
            return text
        if attempt.duration is not None:
            text.append(f"{attempt.duration * 1000:6.1f} ms  ")
        if attempt.status is not None:
            text.append(
                f"{attempt.status} {reason(attempt.status)}", style=status_style(attempt.status)
            )
        elif attempt.error is not None:
            text.append(self.scrubber.text(attempt.error), style="bold red")
        if attempt.wait is not None:
            text.append(f"  -> wait {attempt.wait:.3f}s: {attempt.wait_reason}", style="yellow")
        elif attempt.decision == "budget_exhausted":
            text.append("  -> no retry: the retry budget is spent", style="yellow")
        elif attempt.decision == "exhausted":
            why = (
                f"all {timeline.max_attempts} attempts used"
                if attempt.number >= timeline.max_attempts
                else "the wait would pass the call's deadline, or the server asked for too long"
            )
            text.append(f"  -> no retry: {why}", style="yellow")
        elif attempt.decision == "error":
            text.append("  -> no retry: not retryable", style="yellow")
        return text

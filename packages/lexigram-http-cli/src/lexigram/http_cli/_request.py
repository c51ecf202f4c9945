"""``lexigram-http get|post|... URL [ITEMS...]``: one call through the full client stack."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lexigram.contracts.web import (
    HTTPClientError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
)
from lexigram.di import ConfigError
from lexigram.http import AiohttpTransport, HTTPClient, StreamResponse
from lexigram.http_cli._items import RequestItemError, multipart, parse_items
from lexigram.http_cli._output import Printer, reason
from lexigram.http_cli._settings import load_settings
from lexigram.http_cli._timeline import RecordingTransport, Timeline, TimelineRecorder
from lexigram.resilience import CircuitBreaker, ResiliencePipeline
from lexigram.result import Err, Ok

__all__: list[str] = []

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_TIMEOUT: Final = 2
"""As httpie: 1 for an error, 2 for a timeout, 3/4/5 with ``--check-status``."""

_JSON_ACCEPT: Final = "application/json, */*;q=0.5"
_NDJSON_TYPES: Final = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
PRINT_LETTERS: Final = frozenset("HBhb")


class UsageError(ValueError):
    """A bad option or item: printed as it is, exit status 2 (as a usage error)."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Everything the request commands take."""

    method: str
    url: str
    items: Sequence[str] = ()
    print_what: str = "hb"
    stream: bool = False
    timeline: bool = False
    timeout: float | None = None
    retries: int | None = None
    config_file: Path | None = None
    check_status: bool = False
    show_secrets: bool = False
    form: bool = False
    stdin_body: bytes | None = None


@dataclass(slots=True)
class _Prepared:
    headers: list[tuple[str, str]]
    params: list[tuple[str, str]]
    json: Any = None
    data: dict[str, str] | None = None
    content: bytes | None = None


def _url(url: str) -> str:
    """httpie's shorthands: ``:8080/x`` is localhost, a bare host gets ``http://``."""
    if url.startswith(":"):
        rest = url[1:]
        return f"http://localhost{':' if rest[:1].isdigit() else ''}{rest}"
    if "://" not in url:
        return f"http://{url}"
    return url


def _prepare(options: RequestOptions) -> _Prepared:
    parsed = parse_items(options.items)
    prepared = _Prepared(headers=list(parsed.headers), params=list(parsed.params))
    names = {name.lower() for name, _ in parsed.headers}
    if options.stdin_body is not None:
        if parsed.has_body:
            raise UsageError(
                "request body: data from stdin and data items (field=value...) cannot be "
                "combined; pass --ignore-stdin to ignore stdin"
            )
        prepared.content = options.stdin_body
    elif parsed.uploads:
        body, content_type = multipart(parsed)
        prepared.content = body
        if "content-type" not in names:
            prepared.headers.append(("Content-Type", content_type))
    elif parsed.data and options.form:
        bad = [key for key, value in parsed.data.items() if not isinstance(value, str)]
        if bad:
            raise UsageError(
                f"request item {bad[0]!r}: a raw JSON field (:=) cannot be sent in a form"
            )
        prepared.data = {key: str(value) for key, value in parsed.data.items()}
    elif parsed.data:
        prepared.json = parsed.data
        if "accept" not in names:
            prepared.headers.append(("Accept", _JSON_ACCEPT))
    return prepared


def _stream_kind(content_type: str | None) -> str:
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    if media in _NDJSON_TYPES:
        return "ndjson"
    return "lines"


def exit_for_status(status: int) -> int:
    """httpie's ``--check-status`` codes: 3 for 3xx, 4 for 4xx, 5 for 5xx, else 0."""
    if 300 <= status < 600:
        return status // 100
    return EXIT_OK


async def run_request(
    options: RequestOptions, printer: Printer, errors: Printer, environ: Mapping[str, str]
) -> int:
    """Send the request, print what ``--print`` selects; the exit status."""
    bad = set(options.print_what) - PRINT_LETTERS
    if bad:
        raise UsageError(
            f"--print {options.print_what!r}: unknown part(s) {''.join(sorted(bad))!r}; "
            "use H (request headers), B (request body), h (response headers), b (response body)"
        )
    try:
        prepared = _prepare(options)
    except RequestItemError as exc:
        raise UsageError(str(exc)) from None
    url = _url(options.url)
    scrubber = printer.scrubber
    scrubber.learn_headers(prepared.headers)
    scrubber.learn_url(url)
    scrubber.learn_params(prepared.params)
    scrubber.learn_fields(prepared.json or prepared.data or {})
    if options.timeout is not None and not options.timeout > 0:
        raise UsageError(f"--timeout: must be > 0 seconds, got {options.timeout:g}")
    try:
        settings = load_settings(options.config_file, environ, retries=options.retries)
    except ConfigError as exc:
        errors.line(f"lexigram-http: configuration error:\n{exc}", style="bold red")
        return EXIT_ERROR

    timeline = Timeline(
        max_attempts=settings.resilience.retry.max_attempts
        if settings.resilience.retry.enabled
        else 1,
        user_agent=settings.http.user_agent,
    )
    recorder = TimelineRecorder(timeline)
    pipeline = ResiliencePipeline.standard(
        settings.resilience, metrics=recorder, sleep=timeline.sleep
    )
    for strategy in pipeline.strategies:
        if isinstance(strategy, CircuitBreaker):
            strategy.on_transition(timeline.on_transition)
    transport = RecordingTransport(AiohttpTransport(settings.http), timeline)
    title = f"{options.method} {url}"
    kwargs: dict[str, Any] = {
        "headers": prepared.headers,
        "params": prepared.params,
        "json": prepared.json,
        "data": prepared.data,
        "content": prepared.content,
        "timeout": options.timeout,
    }
    timeline.start()
    async with HTTPClient(settings.http, transport=transport, pipeline=pipeline) as client:
        try:
            if options.stream:
                return await _streamed(client, options, url, kwargs, printer, errors, timeline)
            result = await client.request(options.method, url, **kwargs)
        except (HTTPClientError, ValueError, TypeError) as exc:
            return _failed(exc, options, printer, errors, timeline, title)
        match result:
            case Ok(response):
                pass
            case Err(HTTPStatusError() as status_error):
                response = status_error.response
            case Err(error):
                return _failed(error, options, printer, errors, timeline, title)
    _print_request(options, printer, timeline)
    if options.timeline:
        printer.timeline(timeline, title=title)
    return _print_response(options, printer, errors, response)


def _print_request(options: RequestOptions, printer: Printer, timeline: Timeline) -> None:
    if not timeline.sent:
        return
    context = timeline.sent[0]
    if "H" in options.print_what:
        printer.request_head(context, timeline.user_agent)
    body = context.body
    if "B" in options.print_what and body:
        if not isinstance(body, bytes):  # a streamed upload is not read twice
            length = "unknown length" if body.length is None else f"{body.length} bytes"
            body = f"<streamed body: {length}>".encode()
        printer.body(body, context.headers.get("Content-Type"))
        printer.console.print()


def _print_response(
    options: RequestOptions, printer: Printer, errors: Printer, response: HttpResponse
) -> int:
    if "h" in options.print_what:
        printer.response_head(response.status, response.headers.items())
    if "b" in options.print_what:
        printer.body(response.body, response.headers.get("Content-Type"))
    return _status_exit(options, errors, response.status)


def _status_exit(options: RequestOptions, errors: Printer, status: int) -> int:
    if not options.check_status:
        return EXIT_OK
    code = exit_for_status(status)
    if code != EXIT_OK:
        errors.line(f"lexigram-http: warning: HTTP {status} {reason(status)}", style="yellow")
    return code


def _failed(
    error: BaseException,
    options: RequestOptions,
    printer: Printer,
    errors: Printer,
    timeline: Timeline,
    title: str,
) -> int:
    if not timeline.shown:
        _print_request(options, printer, timeline)
        if options.timeline:
            printer.timeline(timeline, title=title)
    if isinstance(error, HTTPRetryExhaustedError) and error.last_response is not None:
        errors.line(f"lexigram-http: {error}", style="yellow")
        return _print_response(options, printer, errors, error.last_response)
    errors.line(f"lexigram-http: error: {type(error).__name__}: {error}", style="bold red")
    last = error.last_error if isinstance(error, HTTPRetryExhaustedError) else error
    if isinstance(last, HTTPTimeoutError):
        return EXIT_TIMEOUT
    return EXIT_ERROR


async def _streamed(
    client: HTTPClient,
    options: RequestOptions,
    url: str,
    kwargs: dict[str, Any],
    printer: Printer,
    errors: Printer,
    timeline: Timeline,
) -> int:
    async with client.stream(options.method, url, **kwargs) as response:
        _print_request(options, printer, timeline)
        if options.timeline:
            printer.timeline(timeline, title=f"{options.method} {url}")
        timeline.shown = True
        if "h" in options.print_what:
            printer.response_head(response.status, response.headers.items())
        if "b" in options.print_what:
            await _print_stream(response, printer)
        status = response.status
    return _status_exit(options, errors, status)


async def _print_stream(response: StreamResponse, printer: Printer) -> None:
    kind = _stream_kind(response.headers.get("Content-Type"))
    if kind == "sse":
        last_id: str | None = None
        async for event in response.sse():
            # ``id`` stays in effect for the events after it: print it when it changes.
            printer.event(event, show_id=event.id != last_id)
            last_id = event.id
    elif kind == "ndjson":
        async for value in response.ndjson():
            printer.json(value, compact=True)
    else:
        async for line in response:
            printer.line(line)


def read_stdin(stream: Any, *, ignore: bool) -> bytes | None:
    """The body piped on stdin, or ``None`` (a terminal, ``--ignore-stdin``, nothing piped)."""
    if ignore or stream is None:
        return None
    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    buffer = getattr(stream, "buffer", stream)
    data = buffer.read()
    if isinstance(data, str):
        data = data.encode()
    return data or None


def environ() -> Mapping[str, str]:
    """The process environment (a function, so tests can see when it is read)."""
    return os.environ

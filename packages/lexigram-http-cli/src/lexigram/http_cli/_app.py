"""The ``lexigram-http`` command (typer): demo, httpie-style requests, config."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.live import Live
from rich.text import Text

from lexigram.di import BootError
from lexigram.http_cli._output import Printer, make_console
from lexigram.http_cli._redact import Scrubber
from lexigram.http_cli._request import (
    EXIT_ERROR,
    RequestOptions,
    UsageError,
    environ,
    read_stdin,
    run_request,
)
from lexigram.http_cli._settings import load_settings, rows, validate_by_booting

# Bounds of --calls, repeated here so that only `demo` imports the demo's modules.
MIN_CALLS: Final = 150
MAX_CALLS: Final = 2000

__all__ = ["app", "main"]

_EXIT_USAGE: Final = 2

app = typer.Typer(
    name="lexigram-http",
    help=(
        "The lexigram-http command: a live demo of the full client stack, httpie-style "
        "requests with a retry timeline, and the effective configuration with its sources."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(
    help="Show or validate the http: and resilience: configuration, as the application reads it.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")
app.__doc__ = (
    "The typer application behind the ``lexigram-http`` command (``lexigram-http --help``)."
)

NoColor = Annotated[
    bool, typer.Option("--no-color", help="No colours or styles (also when NO_COLOR is set).")
]


def _quiet_logs() -> None:
    # The command prints what matters itself: the library's warnings (one per failed attempt)
    # would otherwise reach stderr through logging's last-resort handler.
    for name in ("lexigram", "aiohttp"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


# -- demo -------------------------------------------------------------------------------------


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the upstream's script and of the jitter.")] = 7,
    calls: Annotated[
        int,
        typer.Option(help=f"Calls to make ({MIN_CALLS} to {MAX_CALLS}; 300 take about 9 s)."),
    ] = 250,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the summary, as JSON (for scripts).")
    ] = False,
    fast: Annotated[
        bool,
        typer.Option(
            "--fast",
            help=(
                "Run on a fake clock: no real waits, calls one at a time, the same outcomes "
                "for the same seed on any machine (for tests)."
            ),
        ),
    ] = False,
    no_color: NoColor = False,
) -> None:
    """Run the full stack against a misbehaving local upstream, live.

    An embedded server on 127.0.0.1 answers with 503 bursts carrying Retry-After, connection
    resets, slow answers past the deadline, an outage long enough to open the circuit breaker,
    then recovery, and finally an LLM-style Server-Sent Events stream. The client runs the
    resilience standard pipeline (retry, retry budget, circuit breaker), an interceptor and a
    metrics recorder. At the end: outcomes by type, attempts and retries, retry-budget
    refusals, breaker transitions with their times, p50/p95/p99 latency.
    """
    if not MIN_CALLS <= calls <= MAX_CALLS:
        raise typer.BadParameter(
            f"must be between {MIN_CALLS} and {MAX_CALLS}, got {calls}", param_hint="'--calls'"
        )
    from lexigram.http_cli._demo import DemoState, run_demo
    from lexigram.http_cli._view import live, summary

    _quiet_logs()
    console = make_console(no_color=no_color)
    state = DemoState(calls=calls, seed=seed, fast=fast)
    if as_json:
        asyncio.run(run_demo(state))
        sys.stdout.write(json.dumps(state.summary(), indent=2) + "\n")
        return

    def on_token(token: str) -> None:
        console.print(Text(token), end="")

    view: Live | None = None
    last = 0.0

    def on_progress(current: DemoState) -> None:
        nonlocal last
        now = time.monotonic()
        if view is not None and (now - last >= 0.1 or current.done == current.calls):
            last = now
            view.update(live(current))

    def on_stream() -> None:
        if view is not None:
            view.update(live(state))
            view.stop()
        console.print(Text("Streamed answer (token by token, as it arrives):", style="bold"))

    if console.is_terminal:
        view = Live(live(state), console=console, refresh_per_second=8)
        view.start()
    try:
        asyncio.run(
            run_demo(state, on_progress=on_progress, on_token=on_token, on_stream=on_stream)
        )
    finally:
        if view is not None:
            view.stop()
    console.print()
    console.print()
    console.print(summary(state.summary()))


# -- requests ---------------------------------------------------------------------------------

_PRINT_HELP: Final = (
    "What to print: H request headers, B request body, h response headers, b response body "
    "(default hb)."
)


def _request_command(method: str) -> None:
    def command(
        url: Annotated[
            str,
            typer.Argument(
                help="The URL; ':8080/x' means http://localhost:8080/x, a bare host gets http://."
            ),
        ],
        items: Annotated[
            list[str] | None,
            typer.Argument(
                help=(
                    "Request items: 'Header:value', 'Header;' (empty), 'param==value', "
                    "'field=value' (JSON string field; form field with --form), "
                    "'field:=json' (raw JSON), 'field@path' (file upload, multipart), "
                    "'field=@path' / 'field:=@path' (value read from a file). "
                    "A backslash escapes a separator."
                ),
                show_default=False,
            ),
        ] = None,
        print_what: Annotated[str, typer.Option("--print", "-p", help=_PRINT_HELP)] = "hb",
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="Print the request too (--print HBhb).")
        ] = False,
        headers_only: Annotated[
            bool, typer.Option("--headers", help="Print the response headers only (--print h).")
        ] = False,
        body_only: Annotated[
            bool, typer.Option("--body", "-b", help="Print the response body only (--print b).")
        ] = False,
        form: Annotated[
            bool,
            typer.Option("--form", "-f", help="Send data fields form-encoded instead of JSON."),
        ] = False,
        stream: Annotated[
            bool,
            typer.Option(
                "--stream",
                "-S",
                help="Print the body as it arrives: SSE events, NDJSON objects or text lines.",
            ),
        ] = False,
        timeline: Annotated[
            bool,
            typer.Option(
                "--timeline",
                help=(
                    "Print every attempt: start, duration, status or error, and the wait "
                    "before the next with its reason (back-off, Retry-After), or why there "
                    "was none (retry budget, breaker, not retryable)."
                ),
            ),
        ] = False,
        timeout: Annotated[
            float | None,
            typer.Option(
                help=(
                    "Deadline of the call in seconds, retries included (default http.pool.timeout)."
                )
            ),
        ] = None,
        retries: Annotated[
            int | None,
            typer.Option(
                help="Retries after the first attempt (default from resilience.retry; 0: none)."
            ),
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option(
                help=(
                    "Configuration file (default ./application.yaml if present); LEX_* "
                    "environment variables apply on top, as in the application."
                ),
            ),
        ] = None,
        check_status: Annotated[
            bool,
            typer.Option(
                "--check-status", help="Exit 3, 4 or 5 for a 3xx, 4xx or 5xx response (as httpie)."
            ),
        ] = False,
        show_secrets: Annotated[
            bool,
            typer.Option(
                "--show-secrets",
                help=(
                    "Do not redact credentials (Authorization, cookies, API keys, tokens in URLs)."
                ),
            ),
        ] = False,
        ignore_stdin: Annotated[
            bool, typer.Option("--ignore-stdin", help="Do not read a request body from stdin.")
        ] = False,
        no_color: NoColor = False,
    ) -> None:
        what = print_what
        if verbose:
            what = "HBhb"
        elif headers_only:
            what = "h"
        elif body_only:
            what = "b"
        _quiet_logs()
        options = RequestOptions(
            method=method,
            url=url,
            items=tuple(items or ()),
            print_what=what,
            stream=stream,
            timeline=timeline,
            timeout=timeout,
            retries=retries,
            config_file=config,
            check_status=check_status,
            show_secrets=show_secrets,
            form=form,
            stdin_body=read_stdin(sys.stdin, ignore=ignore_stdin),
        )
        scrubber = Scrubber(enabled=not show_secrets)
        printer = Printer(make_console(no_color=no_color), scrubber)
        errors = Printer(make_console(no_color=no_color, stderr=True), scrubber)
        try:
            code = asyncio.run(run_request(options, printer, errors, environ()))
        except UsageError as exc:
            errors.line(f"lexigram-http: error: {exc}", style="bold red")
            raise typer.Exit(_EXIT_USAGE) from None
        if code:
            raise typer.Exit(code)

    command.__doc__ = (
        f"Send {'an' if method == 'OPTIONS' else 'a'} {method} request, httpie-style, "
        "through the full client stack.\n\n"
        "Secrets are redacted in everything printed unless --show-secrets. A body piped on "
        "stdin is sent as it is. Exit status: 0, 1 on an error, 2 on a timeout, 3/4/5 with "
        "--check-status."
    )
    app.command(name=method.lower())(command)


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
    _request_command(_method)


# -- config -----------------------------------------------------------------------------------


@config_app.command("show")
def config_show(
    config: Annotated[
        Path | None,
        typer.Option(help="Configuration file (default ./application.yaml if present)."),
    ] = None,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Do not redact credentials.")
    ] = False,
    no_color: NoColor = False,
) -> None:
    """Print the effective http: and resilience: configuration and the source of each value.

    Sources: 'default', 'FILE:LINE' (application.yaml, its profile overlay, or --config),
    'env LEX_...' (environment variables win over files). Secrets are redacted.
    """
    console = make_console(no_color=no_color)
    errors = make_console(no_color=no_color, stderr=True)
    scrubber = Scrubber(enabled=not show_secrets)
    try:
        settings = load_settings(config, environ())
    except BootError as exc:
        errors.print(Text(f"lexigram-http: configuration error:\n{exc}", style="bold red"))
        raise typer.Exit(EXIT_ERROR) from None
    found = rows(settings, scrubber)
    key_width = max(len(row.key) for row in found)
    value_width = min(40, max(len(row.value) for row in found))
    for row in found:
        line = Text()
        line.append(row.key.ljust(key_width), style="cyan")
        line.append("  ")
        line.append(row.value.ljust(value_width))
        line.append("  ")
        line.append(row.source, style="dim" if row.source == "default" else "bold")
        console.print(line)


@config_app.command("validate")
def config_validate(
    file: Annotated[Path, typer.Argument(help="The configuration file to check.")],
    no_color: NoColor = False,
) -> None:
    """Check a configuration file as the application's boot does; non-zero exit on errors.

    The file (with LEX_* environment variables on top) is loaded by an application with the
    HTTP and resilience modules, which then boots and shuts down: the errors are those the
    application would raise, each with its key path and source.
    """
    console = make_console(no_color=no_color)
    errors = make_console(no_color=no_color, stderr=True)
    _quiet_logs()
    try:
        asyncio.run(validate_by_booting(file))
    except BootError as exc:
        errors.print(Text(f"{file}: invalid\n{exc}", style="bold red"))
        raise typer.Exit(EXIT_ERROR) from None
    console.print(Text(f"{file}: valid", style="bold green"))


def main() -> None:
    """The console script's entry point."""
    app()

"""``--timeline`` (each attempt, the waits and their reasons) and ``--stream``, in-process."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner, Result

from lexigram.http_cli import app
from tests.cli.conftest import SECRET_TOKEN, Server


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, [*args, "--ignore-stdin"])


def _attempts(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if re.match(r"\s+#\d+ ", line)]


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "resilience.yaml"
    path.write_text(text)
    return str(path)


FAST_BACKOFF = "resilience:\n  retry:\n    backoff_base: 0.01\n    backoff_max: 0.02\n"


def test_timeline_shows_retry_after_waits(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/flaky/ra?fail=2&hint=1", "--timeline", "-b")
    assert result.exit_code == 0, result.output
    attempts = _attempts(result.stdout)
    assert len(attempts) == 3
    assert re.match(r"#1\s+\+\d+\.\d{3}s\s+\d+\.\d ms  503 Service Unavailable", attempts[0])
    assert attempts[0].endswith("-> wait 0.010s: Retry-After from the server")
    assert attempts[1].endswith("-> wait 0.010s: Retry-After from the server")
    assert re.match(r"#3\s+\+\d+\.\d{3}s\s+\d+\.\d ms  200 OK$", attempts[2])
    assert result.stdout.index("Timeline: GET") < result.stdout.index('"ok": true')


def test_timeline_shows_back_off_and_connection_errors(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = _config(tmp_path, FAST_BACKOFF)
    backoff = invoke(
        runner, "get", f"{server.url}/flaky/bo?fail=1", "--timeline", "--config", config
    )
    attempts = _attempts(backoff.stdout)
    assert "503 Service Unavailable  -> wait" in attempts[0]
    assert attempts[0].endswith("back-off (exponential, jittered)")
    assert attempts[1].endswith("200 OK")

    reset = invoke(runner, "get", f"{server.url}/reset/rs", "--timeline", "--config", config)
    assert reset.exit_code == 0, reset.output
    attempts = _attempts(reset.stdout)
    assert "connection error" in attempts[0]
    assert "back-off" in attempts[0]
    assert attempts[-1].endswith("200 OK")


def test_timeline_says_when_the_attempts_are_used_up(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = _config(tmp_path, FAST_BACKOFF)
    result = invoke(
        runner, "get", f"{server.url}/flaky/up?fail=9", "--timeline", "--config", config
    )
    # The last response is printed; the retries gave up.
    assert result.exit_code == 0, result.output
    attempts = _attempts(result.stdout)
    assert len(attempts) == 3
    assert attempts[2].endswith("no retry: all 3 attempts used")
    assert "gave up after 3 attempts" in result.stderr
    assert "HTTP/1.1 503 Service Unavailable" in result.stdout


def test_timeline_shows_a_retry_budget_refusal(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        FAST_BACKOFF
        + "    budget:\n      ratio: 0\n      min_retries_per_second: 0.01\n      window: 1.0\n",
    )
    result = invoke(
        runner, "get", f"{server.url}/flaky/budget?fail=9", "--timeline", "--config", config
    )
    attempts = _attempts(result.stdout)
    assert len(attempts) == 1
    assert attempts[0].endswith("no retry: the retry budget is spent")
    assert "retry budget" in result.stderr


def test_timeline_shows_the_breaker_opening_and_refusing(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        FAST_BACKOFF + "  circuit_breaker:\n    minimum_throughput: 1\n    failure_ratio: 0.5\n",
    )
    result = invoke(
        runner, "get", f"{server.url}/flaky/breaker?fail=9", "--timeline", "--config", config
    )
    assert result.exit_code == 1
    attempts = _attempts(result.stdout)
    assert "503 Service Unavailable  -> wait" in attempts[0]
    assert attempts[1].startswith("#2  ")
    assert attempts[1].endswith("refused by the circuit breaker (open)")
    assert "breaker http-default: closed -> open (failure ratio)" in result.stdout
    assert "HTTPCircuitOpenError" in result.stderr
    assert server.counters["breaker"] == 1


def test_timeline_shows_a_deadline_timeout(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/slow?delay=5", "--timeline", "--timeout", "0.3")
    assert result.exit_code == 2
    attempts = _attempts(result.stdout)
    assert len(attempts) == 1
    assert "timeout (deadline" in attempts[0]


def test_retries_zero_makes_one_attempt(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "get", f"{server.url}/flaky/once?fail=9", "--timeline", "--retries", "0"
    )
    assert len(_attempts(result.stdout)) == 1
    assert server.counters["once"] == 1


# -- streaming ---------------------------------------------------------------------------------


def test_stream_prints_sse_events(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "get", f"{server.url}/sse", f"Authorization:Bearer {SECRET_TOKEN}", "--stream"
    )
    assert result.exit_code == 0, result.output
    body = result.stdout.split("\n\n", 1)[1]
    assert body == (
        'event: token\nid: 1\ndata: {"text": "first"}\n\ndata: second\n\ndata: echo [REDACTED]\n\n'
    )


def test_stream_prints_ndjson_objects_redacted(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/ndjson", "--stream", "-b")
    assert result.exit_code == 0, result.output
    assert result.stdout == '{"n": 1}\n{"n": 2, "password": "[REDACTED]"}\n'


def test_stream_prints_lines(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/lines", "--stream", "-b")
    assert result.stdout == "line one\nline two\n"


def test_stream_with_timeline_retries_up_to_the_headers(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "get", f"{server.url}/flaky/stream?fail=1&hint=1", "--stream", "--timeline"
    )
    assert result.exit_code == 0, result.output
    attempts = _attempts(result.stdout)
    assert attempts[0].endswith("Retry-After from the server")
    assert attempts[1].endswith("200 OK")
    assert result.stdout.index("Timeline:") < result.stdout.index("HTTP/1.1 200 OK")


def test_stream_check_status(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "get", f"{server.url}/status/404", "--stream", "--check-status", "--retries", "0"
    )
    assert result.exit_code == 4

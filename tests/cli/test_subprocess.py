"""The command as a user runs it: a separate process, its stdout a pipe."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import SECRET_TOKEN, Server

SCRIPT = Path(sys.executable).parent / "lexigram-http"
LIMIT = 60.0  # seconds any one read may wait: a bound, not an expectation


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEX_")}
    env["NO_COLOR"] = "1"
    return env


def run(tmp_path: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lexigram.http_cli", *args],
        input=input.decode() if input is not None else None,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=120,
        check=False,
    )


def _lines(process: subprocess.Popen[bytes]) -> Iterator[str]:
    """The process's stdout, line by line, each read bounded by LIMIT."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        while True:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line.decode()
            if not selector.select(LIMIT):
                raise AssertionError(f"no output for {LIMIT}s; so far: {buffer!r}")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                if buffer:
                    yield buffer.decode()
                return
            buffer += chunk
    finally:
        selector.close()


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        ("sse?gate=sse-proc", 'data: {"text": "first"}', "data: second"),
        ("ndjson?gate=nd-proc", '{"n": 1}', '{"n": 2, "password": "[REDACTED]"}'),
    ],
    ids=["sse", "ndjson"],
)
def test_stream_output_arrives_before_the_stream_ends(
    server: Server, tmp_path: Path, path: str, first: str, last: str
) -> None:
    gate = path.partition("gate=")[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "lexigram.http_cli", "get", f"{server.url}/{path}", "--stream"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        lines = _lines(process)
        seen: list[str] = []
        for line in lines:
            seen.append(line)
            if line == first:
                break
        # The server holds the rest until now: the first item was printed on its own.
        assert last not in seen
        server.open_gate(gate)
        seen.extend(lines)
        assert last in seen
        assert process.wait(timeout=LIMIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()
        assert process.stdout is not None
        process.stdout.close()


def test_stdin_body_redaction_and_exit_code(server: Server, tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "post",
        f"{server.url}/echo",
        f"Authorization:Bearer {SECRET_TOKEN}",
        "-v",
        input=b'{"piped": true}',
    )
    assert result.returncode == 0, result.stderr
    assert server.seen[-1].body == b'{"piped": true}'
    assert SECRET_TOKEN not in result.stdout + result.stderr
    assert "Authorization: [REDACTED]" in result.stdout
    assert '"piped": true' in result.stdout

    missing = run(tmp_path, "get", f"{server.url}/status/404", "--check-status")
    assert missing.returncode == 4
    assert "warning: HTTP 404 Not Found" in missing.stderr


def test_the_console_script_runs_the_fast_demo(tmp_path: Path) -> None:
    assert SCRIPT.is_file(), "the lexigram-http console script is not installed"
    result = subprocess.run(
        [str(SCRIPT), "demo", "--fast", "--json", "--calls", "150", "--seed", "3"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sum(summary["outcomes"].values()) == 150
    assert summary["breaker"]["opened"] >= 1
    assert summary["breaker"]["closed"] >= 1
    assert summary["stream"]["complete"] is True
    assert result.stderr == ""

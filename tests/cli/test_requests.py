"""``lexigram-http get|post|...``, in-process: request items, bodies, printing, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lexigram.http_cli import app
from tests.cli.conftest import SECRET_KEY, SECRET_TOKEN, SESSION, Server, body_json


def invoke(runner: CliRunner, *args: str, input: str | None = None) -> Result:
    # --ignore-stdin unless the test pipes a body: the runner's stdin is never a terminal.
    extra = () if input is not None else ("--ignore-stdin",)
    return runner.invoke(app, [*args, *extra], input=input)


# -- request items -----------------------------------------------------------------------------


def test_header_items_and_query_params_are_sent(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "get", f"{server.url}/echo", "X-Trace:abc 1", "X-Empty;", "q==1", "q==2"
    )
    assert result.exit_code == 0, result.output
    seen = server.seen[-1]
    assert seen.headers["X-Trace"] == "abc 1"
    assert seen.headers["X-Empty"] == ""
    assert seen.query == [("q", "1"), ("q", "2")]


def test_data_fields_and_raw_json_fields_make_a_json_body(
    runner: CliRunner, server: Server
) -> None:
    result = invoke(
        runner, "post", f"{server.url}/echo", "name=ann", "age:=42", 'tags:=["a",1]', "ok:=true"
    )
    assert result.exit_code == 0, result.output
    seen = server.seen[-1]
    assert json.loads(seen.body) == {"name": "ann", "age": 42, "tags": ["a", 1], "ok": True}
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json, */*;q=0.5"


def test_a_backslash_escapes_a_separator(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "post", f"{server.url}/echo", r"a\:b=c=d")
    assert result.exit_code == 0, result.output
    assert json.loads(server.seen[-1].body) == {"a:b": "c=d"}


def test_form_flag_sends_the_fields_form_encoded(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "post", "--form", f"{server.url}/echo", "a=1", "b=x y")
    assert result.exit_code == 0, result.output
    seen = server.seen[-1]
    assert seen.body == b"a=1&b=x+y"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_raw_json_field_in_a_form_is_refused_by_name(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "post", "--form", f"{server.url}/echo", "n:=1")
    assert result.exit_code == 2
    assert "'n'" in result.stderr
    assert "form" in result.stderr


def test_fields_read_from_files(runner: CliRunner, server: Server, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("hello from a file")
    (tmp_path / "meta.json").write_text('{"k": [1, 2]}')
    result = invoke(runner, "put", f"{server.url}/echo", "note=@note.txt", "meta:=@meta.json")
    assert result.exit_code == 0, result.output
    assert json.loads(server.seen[-1].body) == {"note": "hello from a file", "meta": {"k": [1, 2]}}


def test_file_uploads_are_sent_as_multipart(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    (tmp_path / "report.csv").write_text("a,b\n1,2\n")
    (tmp_path / "blob.bin").write_bytes(b"raw")
    result = invoke(
        runner,
        "post",
        f"{server.url}/upload",
        "title=Q3",
        "report@report.csv",
        "blob@blob.bin;type=application/x-custom",
    )
    assert result.exit_code == 0, result.output
    parts = body_json(result.stdout)["parts"]
    assert parts == [
        {"name": "title", "filename": None, "type": None, "data": "Q3"},
        {"name": "report", "filename": "report.csv", "type": "text/csv", "data": "a,b\n1,2\n"},
        {"name": "blob", "filename": "blob.bin", "type": "application/x-custom", "data": "raw"},
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("nonsense", "'nonsense': no separator"),
        ("=value", "the name before '=' is empty"),
        ("n:={bad", "invalid JSON"),
        ("f@missing.txt", "file not found: missing.txt"),
        ("f=@missing.txt", "cannot read missing.txt"),
    ],
)
def test_a_bad_item_fails_with_its_name_and_the_problem(
    runner: CliRunner, server: Server, item: str, expected: str
) -> None:
    before = len(server.seen)
    result = invoke(runner, "post", f"{server.url}/echo", item)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert len(server.seen) == before  # nothing was sent


# -- bodies from stdin -------------------------------------------------------------------------


def test_a_body_piped_on_stdin_is_sent_as_it_is(runner: CliRunner, server: Server) -> None:
    result = invoke(
        runner, "post", f"{server.url}/echo", "Content-Type:text/csv", input="x,y\n1,2\n"
    )
    assert result.exit_code == 0, result.output
    seen = server.seen[-1]
    assert seen.body == b"x,y\n1,2\n"
    assert seen.headers["Content-Type"] == "text/csv"


def test_stdin_and_data_items_together_are_refused(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "post", f"{server.url}/echo", "a=1", input='{"b": 2}')
    assert result.exit_code == 2
    assert "stdin" in result.stderr


def test_ignore_stdin_sends_no_body(runner: CliRunner, server: Server) -> None:
    result = runner.invoke(app, ["post", f"{server.url}/echo", "--ignore-stdin"], input="ignored")
    assert result.exit_code == 0, result.output
    assert server.seen[-1].body == b""


# -- what is printed ---------------------------------------------------------------------------


def test_json_bodies_are_formatted(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/echo", "-b")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('{\n  "method": "GET",\n')
    assert "HTTP/1.1" not in result.stdout


def test_default_print_is_response_headers_and_body(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/echo")
    assert result.stdout.startswith("HTTP/1.1 200 OK\n")
    assert "X-Echo: yes" in result.stdout
    assert '"method": "GET"' in result.stdout
    assert "GET /echo HTTP/1.1" not in result.stdout


def test_print_selects_the_parts(runner: CliRunner, server: Server) -> None:
    url = f"{server.url}/echo"
    request_only = invoke(runner, "post", url, "a=1", "-p", "HB")
    assert request_only.stdout.startswith("POST /echo HTTP/1.1\n")
    assert "User-Agent: lexigram-http" in request_only.stdout
    assert '"a": "1"' in request_only.stdout
    assert "HTTP/1.1 200" not in request_only.stdout

    headers_only = invoke(runner, "post", url, "a=1", "--headers")
    assert headers_only.stdout.startswith("HTTP/1.1 200 OK\n")
    assert "{" not in headers_only.stdout

    everything = invoke(runner, "post", url, "a=1", "-v")
    out = everything.stdout
    assert out.index("POST /echo") < out.index('"a": "1"') < out.index("HTTP/1.1 200")
    assert out.index("HTTP/1.1 200") < out.index('"method": "POST"')


def test_an_unknown_print_letter_is_refused(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/echo", "-p", "hx")
    assert result.exit_code == 2
    assert "unknown part(s) 'x'" in result.stderr


def test_no_color_prints_no_escape_codes(runner: CliRunner, server: Server) -> None:
    result = runner.invoke(
        app, ["get", f"{server.url}/echo", "--ignore-stdin", "--no-color"], color=True
    )
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout


# -- exit codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(200, 0), (304, 3), (404, 4), (500, 5), (503, 5)])
def test_check_status_exits_by_status_class(
    runner: CliRunner, server: Server, status: int, code: int
) -> None:
    result = invoke(
        runner, "get", f"{server.url}/status/{status}", "--check-status", "--retries", "0"
    )
    assert result.exit_code == code, result.output
    if code:
        assert f"warning: HTTP {status}" in result.stderr


def test_without_check_status_an_error_status_exits_zero(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/status/404")
    assert result.exit_code == 0
    assert result.stdout.startswith("HTTP/1.1 404 Not Found")


def test_a_connection_failure_exits_1_and_a_timeout_exits_2(
    runner: CliRunner, server: Server
) -> None:
    refused = invoke(runner, "get", "http://127.0.0.1:9/nothing", "--retries", "0")
    assert refused.exit_code == 1
    assert "HTTPConnectionError" in refused.stderr
    late = invoke(runner, "get", f"{server.url}/slow?delay=5", "--timeout", "0.3")
    assert late.exit_code == 2
    assert "HTTPTimeoutError" in late.stderr


def test_a_bad_url_and_a_bad_timeout_are_reported(runner: CliRunner) -> None:
    bad_url = invoke(runner, "get", "ftp://example.invalid/x")
    assert bad_url.exit_code == 1
    assert "unsupported scheme 'ftp'" in bad_url.stderr
    bad_timeout = invoke(runner, "get", "http://127.0.0.1:9/", "--timeout", "0")
    assert bad_timeout.exit_code == 2
    assert "--timeout: must be > 0" in bad_timeout.stderr


# -- configuration -----------------------------------------------------------------------------


def test_config_file_and_environment_apply_to_requests(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = tmp_path / "application.yaml"
    config.write_text("http:\n  user_agent: from-file\n")
    from_file = invoke(runner, "get", f"{server.url}/echo", "--config", str(config))
    assert from_file.exit_code == 0, from_file.output
    assert server.seen[-1].headers["User-Agent"] == "from-file"
    from_env = runner.invoke(
        app,
        ["get", f"{server.url}/echo", "--config", str(config), "--ignore-stdin"],
        env={"LEX_HTTP__USER_AGENT": "from-env"},
    )
    assert from_env.exit_code == 0, from_env.output
    assert server.seen[-1].headers["User-Agent"] == "from-env"


def test_application_yaml_in_the_working_directory_is_read(
    runner: CliRunner, server: Server
) -> None:
    Path("application.yaml").write_text("http:\n  user_agent: from-cwd\n")
    result = invoke(runner, "get", f"{server.url}/echo")
    assert result.exit_code == 0, result.output
    assert server.seen[-1].headers["User-Agent"] == "from-cwd"


def test_a_bad_configuration_stops_the_request_with_key_and_source(
    runner: CliRunner, server: Server, tmp_path: Path
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("http:\n  pool:\n    timeout: soon\n")
    before = len(server.seen)
    result = invoke(runner, "get", f"{server.url}/echo", "--config", str(config))
    assert result.exit_code == 1
    assert "http.pool.timeout: Input should be a valid number" in result.stderr
    assert f"(from {config} line 3)" in result.stderr
    assert len(server.seen) == before


def test_retries_option_sets_the_attempts(runner: CliRunner, server: Server) -> None:
    result = invoke(runner, "get", f"{server.url}/flaky/retries-opt?fail=5", "--retries", "1")
    assert result.exit_code == 0
    assert server.counters["retries-opt"] == 2
    negative = invoke(runner, "get", f"{server.url}/echo", "--retries", "-1")
    assert negative.exit_code == 1
    assert "--retries: must be 0 or more" in negative.stderr


# -- redaction ---------------------------------------------------------------------------------


def _secret_request(runner: CliRunner, server: Server, *extra: str) -> Result:
    return invoke(
        runner,
        "post",
        f"{server.url}/echo?api_key={SECRET_KEY}&page=2",
        f"Authorization:Bearer {SECRET_TOKEN}",
        f"Cookie:sid={SESSION}",
        "password=hunter2-pass",
        "-v",
        "--timeline",
        *extra,
    )


def test_secrets_are_redacted_in_every_printed_part(runner: CliRunner, server: Server) -> None:
    result = _secret_request(runner, server)
    assert result.exit_code == 0, result.output
    printed = result.stdout + result.stderr
    for secret in (SECRET_TOKEN, SECRET_KEY, SESSION, "hunter2-pass", "issued-access-token"):
        assert secret not in printed
    # The request line, the request headers, the request body, the timeline title, the
    # response headers (Set-Cookie) and the echoed body all show the placeholder.
    assert "/echo?api_key=[REDACTED]&page=2 HTTP/1.1" in printed
    assert "Authorization: [REDACTED]" in printed
    assert "Cookie: [REDACTED]" in printed
    assert '"password": "[REDACTED]"' in printed
    assert "Timeline: POST http://127.0.0.1" in printed
    assert "Set-Cookie: [REDACTED]" in printed
    assert '"Authorization": "[REDACTED]"' in printed
    assert '"access_token": "[REDACTED]"' in printed
    # The server did receive the real values.
    assert server.seen[-1].headers["Authorization"] == f"Bearer {SECRET_TOKEN}"


def test_show_secrets_prints_them(runner: CliRunner, server: Server) -> None:
    result = _secret_request(runner, server, "--show-secrets")
    assert result.exit_code == 0, result.output
    assert f"Authorization: Bearer {SECRET_TOKEN}" in result.stdout
    assert f"api_key={SECRET_KEY}" in result.stdout
    assert "issued-access-token" in result.stdout


def test_secrets_are_redacted_in_errors(runner: CliRunner) -> None:
    result = invoke(
        runner,
        "get",
        f"http://user:{SECRET_TOKEN}@127.0.0.1:9/x?token={SECRET_KEY}",
        "--retries",
        "0",
        "--timeline",
    )
    assert result.exit_code == 1
    printed = result.stdout + result.stderr
    assert SECRET_TOKEN not in printed
    assert SECRET_KEY not in printed
    assert "token=[REDACTED]" in printed

"""``lexigram-http config show|validate``: sources of every value, the boot's own errors."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lexigram import Application
from lexigram.di import ConfigError
from lexigram.http import HTTPModule
from lexigram.http_cli import app
from lexigram.resilience import ResilienceModule


def _table(output: str) -> dict[str, tuple[str, str]]:
    """``key -> (value, source)`` from the printed table."""
    rows: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) == 3:
            rows[parts[0]] = (parts[1], parts[2])
    return rows


def test_show_defaults_everywhere_without_a_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    rows = _table(result.stdout)
    assert rows["http.pool.timeout"] == ("30.0", "default")
    assert rows["http.user_agent"] == ("'lexigram-http'", "default")
    assert rows["resilience.retry.max_attempts"] == ("3", "default")
    assert rows["resilience.circuit_breaker.break_duration"] == ("5.0", "default")
    assert rows["resilience.retry.retryable_statuses"][0] == "[408, 429, 500, 502, 503, 504]"
    assert all(source == "default" for _, source in rows.values())


def test_show_names_file_lines_and_environment_variables(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text(
        "http:\n"
        "  pool:\n"
        "    timeout: 12.5\n"
        "  read_timeout: 4\n"
        "resilience:\n"
        "  retry:\n"
        "    max_attempts: 5\n"
    )
    result = runner.invoke(
        app,
        ["config", "show", "--config", str(config)],
        env={"LEX_HTTP__READ_TIMEOUT": "7", "LEX_RESILIENCE__CIRCUIT_BREAKER__ENABLED": "false"},
    )
    assert result.exit_code == 0, result.output
    rows = _table(result.stdout)
    assert rows["http.pool.timeout"] == ("12.5", f"{config}:3")
    assert rows["resilience.retry.max_attempts"] == ("5", f"{config}:7")
    # The environment wins over the file, and says so.
    assert rows["http.read_timeout"] == ("7.0", "env LEX_HTTP__READ_TIMEOUT")
    assert rows["resilience.circuit_breaker.enabled"] == (
        "false",
        "env LEX_RESILIENCE__CIRCUIT_BREAKER__ENABLED",
    )
    assert rows["http.pool.max_connections"] == ("100", "default")


def test_show_reads_application_yaml_and_its_profile_overlay(runner: CliRunner) -> None:
    Path("application.yaml").write_text("http:\n  connect_timeout: 3\n")
    Path("application.prod.yaml").write_text("http:\n  connect_timeout: 2\n")
    result = runner.invoke(app, ["config", "show"], env={"LEX_PROFILE": "prod"})
    assert result.exit_code == 0, result.output
    assert _table(result.stdout)["http.connect_timeout"] == ("2.0", "application.prod.yaml:2")


def test_show_redacts_secrets_unless_asked(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text('http:\n  proxy: "http://ops:pr0xy-pass@proxy.internal:3128"\n')
    result = runner.invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "pr0xy-pass" not in result.stdout
    assert _table(result.stdout)["http.proxy"] == (
        "'http://[REDACTED]@proxy.internal:3128'",
        f"{config}:2",
    )
    shown = runner.invoke(app, ["config", "show", "--config", str(config), "--show-secrets"])
    assert "pr0xy-pass" in shown.stdout


def test_show_reports_a_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("resilience:\n  retry:\n    max_attempts: lots\n")
    result = runner.invoke(app, ["config", "show", "--config", str(config)])
    assert result.exit_code == 1
    assert "resilience.retry.max_attempts" in result.stderr
    assert f"(from {config} line 3)" in result.stderr


def _boot_errors(config: Path) -> list[str]:
    application = Application(
        modules=[HTTPModule.configure(), ResilienceModule.configure()], config_file=config
    )
    with pytest.raises(ConfigError) as caught:
        asyncio.run(application.start())
    return list(caught.value.errors)


@pytest.mark.parametrize(
    "text",
    [
        "http:\n  pool:\n    timeout: soon\n  colour: blue\n",
        "resilience:\n  timeout:\n    total: 1\n    attempt: 2\n",
        "http: [1, 2]\n",
        "http:\n  pool: {max_connections: 0\n",
    ],
    ids=["bad-value-and-unknown-key", "inconsistent-sections", "not-a-mapping", "invalid-yaml"],
)
def test_validate_fails_with_the_errors_of_the_boot(
    runner: CliRunner, tmp_path: Path, text: str
) -> None:
    config = tmp_path / "application.yaml"
    config.write_text(text)
    expected = _boot_errors(config)
    result = runner.invoke(app, ["config", "validate", str(config)])
    assert result.exit_code == 1
    assert f"{config}: invalid" in result.stderr
    for line in expected:
        assert line in result.stderr


def test_validate_honours_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "application.yaml"
    config.write_text("http:\n  pool:\n    timeout: 5\n")
    result = runner.invoke(
        app, ["config", "validate", str(config)], env={"LEX_HTTP__POOL__TIMEOUT": "-1"}
    )
    assert result.exit_code == 1
    assert "http.pool.timeout" in result.stderr
    assert "environment variable LEX_HTTP__POOL__TIMEOUT" in result.stderr


def test_validate_accepts_a_good_file(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "application.yaml"
    config.write_text(
        "http:\n  pool:\n    timeout: 5\nresilience:\n  retry:\n    max_attempts: 4\n"
    )
    result = runner.invoke(app, ["config", "validate", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{config}: valid"


def test_validate_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "configuration file not found" in result.stderr

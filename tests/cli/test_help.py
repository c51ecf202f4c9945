"""``--help`` of every command: a description and every parameter with its help."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from lexigram.http_cli import app

COMMANDS = [
    [],
    ["demo"],
    ["get"],
    ["post"],
    ["put"],
    ["patch"],
    ["delete"],
    ["head"],
    ["options"],
    ["config"],
    ["config", "show"],
    ["config", "validate"],
]


def _command(path: list[str]) -> typer.models.CommandInfo | object:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "lexigram-http")
def test_help_is_complete(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    command = _command(path)
    assert command.help, path  # type: ignore[attr-defined]
    first_line = command.help.strip().splitlines()[0]  # type: ignore[attr-defined]
    assert first_line in result.stdout
    for param in command.params:  # type: ignore[attr-defined]
        if param.name == "help":
            continue
        assert param.help, f"{path} {param.name} has no help"
        for opt in param.opts if param.param_type_name == "option" else []:
            assert opt in result.stdout, (path, opt)
    if hasattr(command, "commands"):
        for name in command.commands:
            assert name in result.stdout


def test_the_request_verbs_share_their_options() -> None:
    names = {
        verb: sorted(p.name for p in _command([verb]).params)  # type: ignore[attr-defined]
        for verb in ("get", "post", "put", "patch", "delete", "head", "options")
    }
    assert len({tuple(value) for value in names.values()}) == 1
    for expected in ("print_what", "stream", "timeline", "timeout", "retries", "config"):
        assert expected in names["get"]
    for expected in ("check_status", "show_secrets", "no_color", "items", "url"):
        assert expected in names["get"]

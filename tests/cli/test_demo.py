"""``lexigram-http demo``, in fast mode (a fake clock), asserted through ``--json``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from lexigram.http_cli import app
from lexigram.http_cli._upstream import ANSWER, OUTAGE_CALLS


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["demo", "--fast", "--json", "--seed", "7"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_every_call_has_one_outcome(summary: dict[str, Any]) -> None:
    assert summary["calls"] == summary["completed"] == 250
    assert sum(summary["outcomes"].values()) == 250


def test_the_outcomes_cover_the_upstream_script(summary: dict[str, Any]) -> None:
    outcomes = summary["outcomes"]
    script = summary["upstream"]["script"]
    # Sprinkled 503 bursts and resets recover through retries: most calls succeed.
    assert outcomes["ok"] > 150
    # Each slow answer hits its deadline.
    assert outcomes["timeout"] == script["slow"] > 0
    # The outage ends in refusals by the open breaker, and in retries that gave up.
    assert outcomes["circuit_open"] > 0
    assert outcomes["retries_exhausted"] > 0
    assert script["outage"] == OUTAGE_CALLS
    assert script["burst"] > 0
    assert script["reset"] > 0


def test_attempts_retries_and_budget(summary: dict[str, Any]) -> None:
    assert summary["retries"] > 0
    assert summary["retry_budget_refusals"] > 0
    # Calls refused by the breaker send nothing; the others send one attempt or more.
    sent_calls = summary["calls"] - summary["outcomes"]["circuit_open"]
    assert summary["attempts"] >= sent_calls + summary["retries"] - 1
    statuses = summary["attempt_statuses"]
    assert statuses["503"] > 0
    assert statuses["connection_error"] > 0
    assert statuses["timeout"] == summary["outcomes"]["timeout"]
    # The interceptor sees every attempt that reaches the transport.
    assert summary["interceptor"]["requests"] == summary["attempts"]


def test_the_breaker_opened_and_closed_again(summary: dict[str, Any]) -> None:
    breaker = summary["breaker"]
    assert breaker["opened"] >= 1
    assert breaker["closed"] >= 1
    assert breaker["final_state"] == "closed"
    assert breaker["rejected"] == summary["outcomes"]["circuit_open"]
    states = [(t["from"], t["to"]) for t in breaker["transitions"]]
    assert states[0] == ("closed", "open")
    assert states[-1] == ("half_open", "closed")
    times = [t["at"] for t in breaker["transitions"]]
    assert times == sorted(times)
    assert breaker["transitions"][0]["reason"] == "failure ratio"


def test_latency_percentiles_are_ordered(summary: dict[str, Any]) -> None:
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]


def test_the_stream_is_complete(summary: dict[str, Any]) -> None:
    stream = summary["stream"]
    assert stream["complete"] is True
    assert stream["error"] is None
    assert stream["text"] == ANSWER
    assert stream["tokens"] == len(ANSWER.split(" "))
    # The LLM endpoint answered 503 + Retry-After first: the stream was retried once.
    assert summary["upstream"]["requests"]["stream"] == 2


def test_a_seed_replays_the_same_outcomes(summary: dict[str, Any]) -> None:
    again = CliRunner().invoke(app, ["demo", "--fast", "--json", "--seed", "7"])
    data = json.loads(again.stdout)
    for key in ("outcomes", "attempts", "retries", "retry_budget_refusals", "attempt_statuses"):
        assert data[key] == summary[key]
    assert data["breaker"]["transitions"] == summary["breaker"]["transitions"]


def test_calls_out_of_range_are_refused() -> None:
    result = CliRunner().invoke(app, ["demo", "--fast", "--calls", "10"])
    assert result.exit_code == 2
    assert "must be between 150 and 2000, got 10" in result.output


def test_the_human_summary_and_the_streamed_answer(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["demo", "--fast", "--calls", "150", "--no-color"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Streamed answer (token by token, as it arrives):" in out
    assert ANSWER in out
    for title in ("Outcomes by type", "Attempts, retries, latency", "Breaker transitions"):
        assert title in out
    for figure in ("retry-budget refusals", "latency p50", "latency p95", "latency p99"):
        assert figure in out
    assert "stream: 30 tokens, complete" in out
    assert out.index(ANSWER) < out.index("Outcomes by type")
    assert "\x1b[" not in out

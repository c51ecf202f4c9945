"""The demo's live view and final summary (rich)."""

from __future__ import annotations

from typing import Any, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from lexigram.http_cli._demo import DemoState

__all__: list[str] = []

_STATE_STYLES: Final = {
    "closed": "bold green",
    "open": "bold red",
    "half_open": "bold yellow",
    "isolated": "bold magenta",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


def live(state: DemoState) -> RenderableType:
    """One frame of the live view: progress, outcomes, retries, breaker, latency."""
    recorder = state.recorder
    width = 30
    filled = width * state.done // max(1, state.calls)
    bar = Text("[" + "#" * filled + "." * (width - filled) + "]", style="cyan")
    bar.append(f" {state.done}/{state.calls} calls")
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(state.outcomes.items()))
    retries = (
        f"{recorder.retry_outcomes.get('retry', 0)} retried, "
        f"{recorder.retry_outcomes.get('budget_exhausted', 0)} refused by the retry budget"
    )
    breaker = Text("breaker   ")
    breaker.append(state.breaker_state, style=_STATE_STYLES.get(state.breaker_state, ""))
    breaker.append(f"  ({recorder.rejected} calls refused)")
    latency = f"p50 {_ms(state.percentile(0.5))}  p95 {_ms(state.percentile(0.95))}"
    lines = [
        Text(f"outcomes  {outcomes or '-'}"),
        Text(f"retries   {retries}"),
        breaker,
        Text(f"latency   {latency}"),
    ]
    return Group(Text("lexigram-http demo", style="bold"), bar, *lines)


def summary(data: dict[str, Any]) -> RenderableType:
    """The final summary tables."""
    outcomes = Table(title="Outcomes by type", title_justify="left", header_style="bold")
    outcomes.add_column("outcome")
    outcomes.add_column("calls", justify="right")
    for name, count in data["outcomes"].items():
        outcomes.add_row(name, str(count))
    outcomes.add_row(Text("total", style="bold"), Text(str(data["completed"]), style="bold"))

    figures = Table(title="Attempts, retries, latency", title_justify="left", header_style="bold")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    figures.add_row("attempts sent", str(data["attempts"]))
    figures.add_row("retries", str(data["retries"]))
    figures.add_row("retry-budget refusals", str(data["retry_budget_refusals"]))
    figures.add_row("gave up (attempts or deadline)", str(data["retries_exhausted"]))
    figures.add_row("refused by the breaker", str(data["breaker"]["rejected"]))
    for name, value in data["latency_ms"].items():
        figures.add_row(f"latency {name}", "-" if value is None else f"{value:.1f} ms")

    transitions = Table(title="Breaker transitions", title_justify="left", header_style="bold")
    transitions.add_column("at", justify="right")
    transitions.add_column("from")
    transitions.add_column("to")
    transitions.add_column("why")
    for item in data["breaker"]["transitions"]:
        transitions.add_row(
            f"{item['at']:.2f} s",
            item["from"],
            Text(item["to"], style=_STATE_STYLES.get(item["to"], "")),
            item["reason"],
        )
    stream = data["stream"]
    note = Text(
        f"stream: {stream['tokens']} tokens, "
        + ("complete" if stream["complete"] else f"incomplete ({stream['error']})"),
        style="green" if stream["complete"] else "red",
    )
    return Group(outcomes, figures, transitions, note)

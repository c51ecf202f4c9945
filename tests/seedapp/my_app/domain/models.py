"""Domain models of the stand-in application."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice as the billing partner reports it."""

    id: str
    amount_cents: int

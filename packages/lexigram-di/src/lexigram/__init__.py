"""Lexigram: the root of the ``lexigram`` namespace.

Only the ``lexigram-di`` distribution ships this file. It extends ``__path__`` pkgutil-style so
that the other members (``lexigram.http``, ``lexigram.contracts.web``, ...) installed in other
folders stay importable, and it exports :class:`Application`, which the docs import as
``from lexigram import Application``.
"""

from __future__ import annotations

from pkgutil import extend_path
from typing import TYPE_CHECKING, Any

__path__ = extend_path(__path__, __name__)

if TYPE_CHECKING:
    from lexigram.di.application import Application

__all__ = ["Application"]


def __getattr__(name: str) -> Any:
    # Lazy: every ``import lexigram.<member>`` runs this file, and Application pulls in
    # pydantic and yaml; code that only uses the contracts should not pay for them.
    if name == "Application":
        from lexigram.di.application import Application

        return Application
    raise AttributeError(f"module 'lexigram' has no attribute {name!r}")

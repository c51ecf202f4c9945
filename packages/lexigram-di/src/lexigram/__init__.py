"""Lexigram: the root of the ``lexigram`` namespace.

Only the ``lexigram-di`` distribution ships this file. It extends ``__path__`` pkgutil-style so
that the other members (``lexigram.http``, ``lexigram.contracts.web``, ...) installed in other
folders stay importable, and it exports :class:`Application`, which the docs import as
``from lexigram import Application``.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from lexigram.di.application import Application

__all__ = ["Application"]

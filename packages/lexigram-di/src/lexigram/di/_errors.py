"""The errors of lexigram.di.

LookupError
 └── ResolutionError        nothing registered for a key; names the chain that asked for it
      └── CycleError        a dependency cycle, named in full: A -> B -> A
Exception
 ├── BootError              Application.start() failed; names the provider when there is one
 │    └── ConfigError       a bad configuration value, unknown key or unreadable file
 │                          (also a ValueError); names the key path and its source
 └── ShutdownError          one or more providers failed to shut down (all were attempted)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lexigram.di._provider import Provider

__all__ = ["BootError", "ConfigError", "CycleError", "ResolutionError", "ShutdownError"]


def key_name(key: object) -> str:
    """How a key shows in messages: a class by its qualified name, anything else by repr."""
    if isinstance(key, type):
        # Classes defined in functions would read "f.<locals>.Name": keep what follows.
        return key.__qualname__.rpartition("<locals>.")[2]
    return repr(key)


def _path(keys: Sequence[object]) -> str:
    return " -> ".join(key_name(key) for key in keys)


class ResolutionError(LookupError):
    """Nothing is registered for ``key``.

    ``chain`` is every key being resolved when it was asked for, ending with ``key`` itself:
    ``No provider for PaymentGateway (required by BillingService -> PaymentGateway)``.
    """

    def __init__(self, key: object, chain: Sequence[object] = (), message: str | None = None):
        """``chain`` holds the keys being resolved when ``key`` was asked for, outermost first."""
        self.key = key
        self.chain = (*chain, key)
        if message is None:
            message = f"No provider for {key_name(key)}"
            if chain:
                message += f" (required by {_path(self.chain)})"
        super().__init__(message)


class CycleError(ResolutionError):
    """Resolving a key needs the key itself; ``cycle`` starts and ends with the same key."""

    def __init__(self, cycle: Sequence[object]):
        self.cycle = tuple(cycle)
        super().__init__(cycle[-1], cycle[:-1], f"Dependency cycle: {_path(cycle)}")


class BootError(Exception):
    """``Application.start()`` failed; ``provider`` is the provider at fault, if one is."""

    def __init__(self, message: str, *, provider: Provider | None = None):
        super().__init__(message)
        self.provider = provider


class ConfigError(BootError, ValueError):
    """The configuration is invalid: each line of the message names a key path and its source.

    ``http.pool.timeout: Input should be a valid number (from application.yaml line 7)``
    """

    def __init__(self, message: str, *, errors: Sequence[str] = ()):
        super().__init__(message)
        self.errors = tuple(errors) or (message,)


class ShutdownError(Exception):
    """Providers failed to shut down; ``errors`` pairs each one with its exception.

    Every provider's ``shutdown`` was still awaited: one failure never skips the others.
    """

    def __init__(self, errors: Sequence[tuple[Provider, BaseException]]):
        from lexigram.di._provider import describe

        self.errors = tuple(errors)
        details = "; ".join(
            f"{describe(provider)} ({type(exc).__name__}: {exc})" for provider, exc in errors
        )
        super().__init__(f"{len(errors)} provider(s) failed to shut down: {details}")

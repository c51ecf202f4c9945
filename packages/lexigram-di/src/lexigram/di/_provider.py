"""Providers: the unit that registers services and owns their lifecycle."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from lexigram.di._errors import key_name

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lexigram.di._container import Container, Factory, Key

__all__ = ["Provider", "describe", "provide"]

T = TypeVar("T")


class Provider:
    """Registers services in the container, then starts and stops what they need.

    The application calls, in this order: ``register(container)`` on every provider, then
    ``await boot(container)`` on each (imports before importers), and at the end
    ``await shutdown()`` in reverse order. All three do nothing by default.

    A provider with a ``config_key`` owns that section of the configuration. Before
    ``register`` runs, ``self.config`` is replaced by the effective section: validated by
    ``config_model`` when there is one (a plain ``dict`` otherwise). A provider may set
    ``self.config`` to a ``config_model`` instance in its constructor: the fields that instance
    sets explicitly win over the file and the environment.
    """

    config_key: ClassVar[str | None] = None
    """The top-level configuration section this provider reads (``"http"``), if any."""
    config_model: ClassVar[type[BaseModel] | None] = None
    """The pydantic model that validates the section."""
    config: Any = None
    """Fields set in code before start; the effective, validated section after."""

    def register(self, container: Container) -> None:
        """Register services. Synchronous: build nothing here, register factories."""

    async def boot(self, container: Container) -> None:
        """Start what the services need (pools, connections); may resolve from ``container``."""

    async def shutdown(self) -> None:
        """Release what ``boot`` started. Called in reverse boot order, only after ``boot``."""


class _Provided(Provider):
    """What :func:`provide` returns."""

    def __init__(self, key: object, value: object) -> None:
        self.key = key
        self.value = value
        # A callable is a factory unless it already is an instance of the key (a callable
        # service); protocols that are not runtime-checkable make isinstance() raise TypeError.
        self.is_factory = callable(value)
        if self.is_factory and isinstance(key, type):
            with contextlib.suppress(TypeError):
                self.is_factory = not isinstance(value, key)

    def register(self, container: Container) -> None:
        if self.is_factory:
            container.singleton(self.key, factory=self.value)  # type: ignore[arg-type]
        else:
            container.singleton(self.key, self.value)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"provide({key_name(self.key)})"


def provide(key: type[T] | Key[T], value_or_factory: T | Factory[T]) -> Provider:
    """A provider that registers ``key`` as a singleton: a value, or a factory's result.

    A callable is taken as a factory (called with the container, sync or async, on first
    resolution) unless it is an instance of ``key``. To register a callable object under a
    protocol, wrap it: ``provide(Handler, lambda _: handler)``.
    """
    return _Provided(key, value_or_factory)


def describe(provider: Provider) -> str:
    """A provider's name in messages: its class name, or ``provide(Key)``."""
    if isinstance(provider, _Provided):
        return repr(provider)
    return key_name(type(provider))

"""Type-checked usage: mypy --strict runs over this file (see the root pyproject).

Protocols and abstract classes are keys like any class: ``resolve`` returns the key's type.
At runtime these tests only check the values; ``assert_type`` is mypy's part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, assert_type

from lexigram.di import Container, Key, provide


class Greeter(Protocol):
    def greet(self, name: str) -> str: ...


class Store(ABC):
    @abstractmethod
    def get(self, key: str) -> bytes | None: ...


class English:
    def greet(self, name: str) -> str:
        return f"Hello, {name}"


class MemoryStore(Store):
    def get(self, key: str) -> bytes | None:
        return None


async def make_store(container: Container) -> MemoryStore:
    return MemoryStore()


async def test_protocol_and_abstract_keys_type_check() -> None:
    container = Container()
    container.singleton(Greeter, English())
    container.singleton(Store, factory=make_store)
    container.transient(English, lambda _: English())

    greeter = await container.resolve(Greeter)
    assert_type(greeter, Greeter)
    assert greeter.greet("Ada") == "Hello, Ada"

    store = await container.resolve(Store)
    assert_type(store, Store)
    assert store.get("x") is None

    assert_type(await container.resolve_optional(Greeter), Greeter | None)
    assert_type(await container.resolve(English), English)

    container.override(Greeter, English())
    assert container.has(Greeter)


async def test_named_keys_and_provide_type_check() -> None:
    container = Container()
    timeout = Key[float]("timeout")
    container.singleton(timeout, 1.5)
    assert_type(await container.resolve(timeout), float)

    providers = [provide(Greeter, English()), provide(Store, make_store)]
    for provider in providers:
        provider.register(container)
    assert_type(await container.resolve(Store), Store)
    assert isinstance(await container.resolve(Store), MemoryStore)

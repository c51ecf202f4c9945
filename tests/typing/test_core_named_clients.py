"""Named base-URL clients resolve by a typed key (``mypy --strict``)."""

from __future__ import annotations

from typing import Final, assert_type

from lexigram.di import Container, Key
from lexigram.http import BaseURLClientConfig, BaseURLHTTPClient, HTTPModule

OPENAI: Final = Key[BaseURLHTTPClient]("openai")


async def resolve(container: Container) -> None:
    assert_type(await container.resolve(OPENAI), BaseURLHTTPClient)


def test_configure_takes_typed_keys() -> None:
    HTTPModule.configure(clients={OPENAI: BaseURLClientConfig(base_url="https://h.example")})
    wrong = Key[str]("wrong")
    HTTPModule.configure(clients={wrong: None})  # type: ignore[dict-item]

"""Messages that say what to do (issue 18): unstarted applications, reprs."""

from __future__ import annotations

import pytest

from lexigram.di import Application, Container, Key, Module, Provider, ResolutionError, module

NAME = Key[str]("name")


class NameProvider(Provider):
    def register(self, container: Container) -> None:
        container.singleton(NAME, "x")


@module(providers=[NameProvider], exports=[NAME])
class AppModule(Module):
    pass


async def test_resolving_from_an_application_that_was_not_entered_says_how_to_start_it() -> None:
    app = Application.boot(modules=[AppModule], config_file=None)  # no `async with`
    with pytest.raises(ResolutionError) as caught:
        await app.container.resolve(NAME)
    message = str(caught.value)
    assert message.startswith("No provider for Key('name'): the Application has not started")
    assert "async with Application.boot(modules=[...]) as app:" in message
    async with app:
        assert await app.container.resolve(NAME) == "x"
    # Once started, a missing key is the plain error.
    with pytest.raises(ResolutionError) as caught:
        await app.container.resolve(Key[int]("other"))
    assert str(caught.value) == "No provider for Key('other')"


async def test_application_and_container_reprs() -> None:
    app = Application(modules=[AppModule], config_file=None, profile="test")
    assert repr(app) == "<Application new modules=[AppModule] profile='test'>"
    async with app:
        assert repr(app) == "<Application started modules=[AppModule] providers=1 profile='test'>"
        await app.container.resolve(NAME)
        # Keys: Application and NAME; both built.
        assert repr(app.container) == "<Container keys=2 built=2 overridden=0>"
    assert repr(Container()) == "<Container keys=0 built=0 overridden=0>"

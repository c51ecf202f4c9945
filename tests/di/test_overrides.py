"""``overrides=`` replaces a module's imports; ``config_file=None`` reads no file (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexigram.di import Application, BootError, DynamicModule, Key, Module, Provider, module

NAME = Key[str]("name")


class NameProvider(Provider):
    def __init__(self, name: str) -> None:
        self.name = name

    def register(self, container: object) -> None:
        from lexigram.di import Container

        assert isinstance(container, Container)
        container.singleton(NAME, self.name)


@module(exports=[NAME])
class NameModule(Module):
    @classmethod
    def configure(cls, name: str = "real") -> DynamicModule:
        return DynamicModule(cls, providers=[NameProvider(name)], config=name)

    @classmethod
    def stub(cls) -> DynamicModule:
        return DynamicModule(cls, providers=[NameProvider("stub")], config="stub")


@module(imports=[NameModule.configure("production")])
class Inner(Module):
    pass


@module(imports=[Inner, NameModule.configure("production")])
class AppModule(Module):
    pass


async def test_an_override_replaces_every_import_of_its_module_class() -> None:
    async with Application.boot(
        [AppModule], config_file=None, overrides=[NameModule.stub()]
    ) as app:
        assert await app.container.resolve(NAME) == "stub"


async def test_without_the_override_the_two_configurations_conflict() -> None:
    with pytest.raises(BootError, match="two different configurations"):
        await Application([AppModule, NameModule.stub()], config_file=None).start()


async def test_an_override_that_nothing_imports_is_an_error() -> None:
    @module()
    class Lonely(Module):
        pass

    with pytest.raises(BootError, match=r"no module imports NameModule: list it in modules="):
        await Application([Lonely], config_file=None, overrides=[NameModule.stub()]).start()


async def test_two_overrides_of_one_module_are_an_error() -> None:
    overrides = [NameModule.stub(), NameModule.configure("other")]
    with pytest.raises(BootError, match="overrides= lists NameModule twice"):
        await Application([AppModule], config_file=None, overrides=overrides).start()


class Section(Provider):
    config_key = "section"


async def test_config_file_none_reads_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "application.yaml").write_text("section: {from: cwd}\n")
    (tmp_path / "application.test.yaml").write_text("section: {profile: cwd}\n")
    monkeypatch.chdir(tmp_path)
    provider = Section()
    env = {"LEX_SECTION__FROM": "env"}
    async with Application.boot(
        providers=[provider], config_file=None, profile="test", environ=env
    ) as app:
        assert app.config == {"section": {"from": "env"}}
    # The default still reads the working directory's file (and its profile overlay).
    async with Application.boot(providers=[Section()], profile="test", environ={}) as app:
        assert app.config == {"section": {"from": "cwd", "profile": "cwd"}}

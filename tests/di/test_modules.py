"""Modules: the decorator, flattening (depth-first, imports first), de-duplication, conflicts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from lexigram.di import (
    Application,
    BootError,
    Container,
    DynamicModule,
    Module,
    Provider,
    module,
    provide,
)


class Recorder(Provider):
    """Records its lifecycle in a shared list under its name."""

    def __init__(self, name: str, events: list[str]) -> None:
        self.name = name
        self.events = events

    def register(self, container: Container) -> None:
        self.events.append(f"register {self.name}")

    async def boot(self, container: Container) -> None:
        self.events.append(f"boot {self.name}")

    async def shutdown(self) -> None:
        self.events.append(f"shutdown {self.name}")


def test_module_decorator_records_its_arguments() -> None:
    pa = provide(int, 1)

    @module(providers=[pa], exports=[int])
    class Base(Module):
        pass

    @module(imports=[Base])
    class App(Module):
        pass

    assert Base.providers == (pa,)
    assert Base.exports == (int,)
    assert App.imports == (Base,)
    assert App.providers == ()


def test_module_decorator_refuses_other_classes() -> None:
    with pytest.raises(TypeError, match="Module subclasses"):
        module()(int)  # type: ignore[type-var]


async def test_depth_first_imports_before_importers_and_once_each() -> None:
    events: list[str] = []

    @module(providers=[Recorder("a", events)])
    class ModA(Module):
        pass

    @module(imports=[ModA], providers=[Recorder("b", events)])
    class ModB(Module):
        pass

    @module(imports=[ModA], providers=[Recorder("c", events)])
    class ModC(Module):
        pass

    @module(imports=[ModB, ModC, ModA], providers=[Recorder("d", events)])
    class ModD(Module):
        pass

    app = Application(modules=[ModD, ModA], providers=[Recorder("explicit", events)], environ={})
    async with app:
        pass
    assert events == [
        *(f"register {n}" for n in ["a", "b", "c", "d", "explicit"]),
        *(f"boot {n}" for n in ["a", "b", "c", "d", "explicit"]),
        *(f"shutdown {n}" for n in ["explicit", "d", "c", "b", "a"]),
    ]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)
    url: str = "https://example.test"


class Client:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class ClientModule(Module):
    """A module with settings, shaped like the seed's HTTPModule."""

    @classmethod
    def configure(cls, settings: Settings | None = None) -> DynamicModule:
        settings = settings or Settings()
        return DynamicModule(
            cls, providers=[provide(Client, Client(settings))], exports=[Client], config=settings
        )

    @classmethod
    def stub(cls) -> DynamicModule:
        fake = Client(Settings(url="http://stub.invalid"))
        return DynamicModule(cls, providers=[provide(Client, fake)], config="stub")


async def test_seed_shape_module_with_configured_import() -> None:
    @module(imports=[ClientModule.configure(Settings())])
    class AppModule(Module):
        pass

    async with Application.boot(modules=[AppModule], environ={}) as app:
        client = await app.container.resolve(Client)
        assert client.settings.url == "https://example.test"


async def test_equal_dynamic_modules_count_once() -> None:
    @module(imports=[ClientModule.configure(Settings(url="https://a.test"))])
    class First(Module):
        pass

    @module(imports=[ClientModule.configure(Settings(url="https://a.test"))])
    class Second(Module):
        pass

    async with Application.boot(modules=[First, Second], environ={}) as app:
        assert len(app.providers) == 1
        client = await app.container.resolve(Client)
        assert client.settings.url == "https://a.test"


async def test_two_configurations_of_one_module_is_an_error_naming_both() -> None:
    @module(imports=[ClientModule.configure(Settings(url="https://a.test"))])
    class First(Module):
        pass

    @module(imports=[ClientModule.stub()])
    class Second(Module):
        pass

    app = Application(modules=[First, Second], environ={})
    with pytest.raises(BootError) as info:
        await app.start()
    message = str(info.value)
    assert message.startswith("ClientModule is imported with two different configurations: ")
    assert "ClientModule(config=Settings(url='https://a.test')) via Application -> First" in message
    assert "ClientModule(config='stub') via Application -> Second -> ClientModule" in message


async def test_bare_import_and_configured_import_are_different_configurations() -> None:
    app = Application(modules=[ClientModule, ClientModule.configure(Settings())], environ={})
    with pytest.raises(BootError, match="two different configurations"):
        await app.start()


def test_dynamic_module_identity() -> None:
    one = ClientModule.configure(Settings())
    two = ClientModule.configure(Settings())
    assert one == two
    assert one.providers != two.providers  # not part of the identity
    assert one != ClientModule.stub()
    assert DynamicModule(ClientModule) == DynamicModule(ClientModule, providers=[provide(int, 1)])
    assert repr(DynamicModule(ClientModule)) == "ClientModule"
    with pytest.raises(TypeError, match="Module subclass"):
        DynamicModule(int)  # type: ignore[arg-type]


def test_base_configure_and_stub() -> None:
    class Plain(Module):
        pass

    assert Plain.configure() == DynamicModule(Plain)
    assert Plain.stub() == DynamicModule(Plain)
    with pytest.raises(TypeError, match=r"Plain.configure\(\) takes no arguments"):
        Plain.configure(1)


async def test_dynamic_providers_and_imports_add_to_the_class_ones() -> None:
    events: list[str] = []

    @module(providers=[Recorder("dep", events)])
    class Dep(Module):
        pass

    @module(providers=[Recorder("static", events)])
    class Mod(Module):
        pass

    dynamic = DynamicModule(Mod, providers=[Recorder("dynamic", events)], imports=[Dep])
    async with Application.boot(modules=[dynamic], environ={}):
        pass
    assert events[:3] == ["register dep", "register static", "register dynamic"]


async def test_module_import_cycle_is_an_error() -> None:
    class Left(Module):
        pass

    @module(imports=[Left])
    class Right(Module):
        pass

    Left.imports = (Right,)
    with pytest.raises(BootError, match=r"^Module import cycle: Left -> Right -> Left$"):
        await Application(modules=[Left], environ={}).start()


async def test_import_of_something_that_is_not_a_module() -> None:
    @module(imports=[int])  # type: ignore[list-item]
    class Odd(Module):
        pass

    with pytest.raises(BootError, match="Application -> Odd imports <class 'int'>"):
        await Application(modules=[Odd], environ={}).start()


async def test_exports_must_be_registered() -> None:
    @module(exports=[Client])
    class Promise(Module):
        pass

    with pytest.raises(BootError, match=r"^Promise exports Client, but no provider registers it$"):
        await Application(modules=[Promise], environ={}).start()


class Counted(Provider):
    instances = 0

    def __init__(self) -> None:
        type(self).instances += 1


async def test_provider_classes_are_instantiated_per_application_and_once() -> None:
    @module(providers=[Counted, Counted])
    class Mod(Module):
        pass

    Counted.instances = 0
    async with Application.boot(modules=[Mod], providers=[Counted], environ={}) as first:
        assert len(first.providers) == 1
    async with Application.boot(modules=[Mod], environ={}):
        pass
    assert Counted.instances == 2


async def test_provider_specs_that_cannot_be_used() -> None:
    class NeedsArgs(Provider):
        def __init__(self, value: int) -> None:
            self.value = value

    @module(providers=[NeedsArgs])
    class Mod(Module):
        pass

    with pytest.raises(BootError, match=r"Mod lists provider class NeedsArgs, which could not"):
        await Application(modules=[Mod], environ={}).start()
    with pytest.raises(BootError, match="Application lists 42, which is not a Provider"):
        await Application(providers=[42], environ={}).start()  # type: ignore[list-item]


def test_fields_set_in_code_tell_a_pinned_default_from_an_unset_one() -> None:
    from pydantic import BaseModel

    from lexigram.di.module import fields_set_in_code

    class Inner(BaseModel):
        size: int = 1

    class Outer(BaseModel):
        name: str = "a"
        inner: Inner = Inner()
        named: dict[str, Inner] = {}

    assert Outer() == Outer(name="a")
    assert fields_set_in_code(Outer()) == ()
    assert fields_set_in_code(Outer(name="a")) == (("name", "a"),)
    assert fields_set_in_code(Outer(inner=Inner(size=2), named={"x": Inner(size=3)})) == (
        ("inner.size", 2),
        ("named.x.size", 3),
    )
    assert fields_set_in_code(None) == ()

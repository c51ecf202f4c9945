"""Application lifecycle: register, boot in order, shutdown in reverse, failures named."""

from __future__ import annotations

import asyncio
import logging

import pytest

import lexigram
from lexigram.di import (
    Application,
    BootError,
    Container,
    Provider,
    ResolutionError,
    ShutdownError,
    provide,
)


class Step(Provider):
    """Appends its lifecycle to ``events``; fails where told to."""

    def __init__(
        self,
        name: str,
        events: list[str],
        *,
        fail_register: bool = False,
        fail_boot: bool = False,
        fail_shutdown: bool = False,
    ) -> None:
        self.name = name
        self.events = events
        self.fail_register = fail_register
        self.fail_boot = fail_boot
        self.fail_shutdown = fail_shutdown

    def register(self, container: Container) -> None:
        self.events.append(f"register {self.name}")
        if self.fail_register:
            raise ValueError(f"{self.name} cannot register")

    async def boot(self, container: Container) -> None:
        self.events.append(f"boot {self.name}")
        if self.fail_boot:
            raise RuntimeError(f"{self.name} cannot boot")

    async def shutdown(self) -> None:
        self.events.append(f"shutdown {self.name}")
        if self.fail_shutdown:
            raise OSError(f"{self.name} cannot shut down")


class PaymentGateway:
    pass


class Billing(Provider):
    async def boot(self, container: Container) -> None:
        await container.resolve(PaymentGateway)


async def test_start_and_stop_in_order() -> None:
    events: list[str] = []
    app = Application(providers=[Step("one", events), Step("two", events)], environ={})
    await app.start()
    assert events == ["register one", "register two", "boot one", "boot two"]
    await app.stop()
    assert events[4:] == ["shutdown two", "shutdown one"]
    await app.stop()  # a second stop does nothing
    assert len(events) == 6


async def test_boot_classmethod_is_an_async_context_manager() -> None:
    events: list[str] = []
    async with Application.boot(providers=[Step("one", events)], environ={}) as app:
        assert isinstance(app, Application)
        assert events == ["register one", "boot one"]
    assert events[-1] == "shutdown one"


async def test_the_application_is_in_its_container() -> None:
    class MyApp(Application):
        pass

    async with MyApp(environ={}) as app:
        assert await app.container.resolve(Application) is app
        assert await app.container.resolve(MyApp) is app
        assert await app.container.resolve(Container) is app.container
    assert lexigram.Application is Application


async def test_an_application_starts_once() -> None:
    app = Application(environ={})
    await app.start()
    with pytest.raises(RuntimeError, match="starts once"):
        await app.start()
    await app.stop()
    with pytest.raises(RuntimeError, match="starts once"):
        await app.start()


async def test_shutdown_in_reverse_when_the_body_raises() -> None:
    events: list[str] = []
    with pytest.raises(KeyError, match="body"):
        async with Application.boot(
            providers=[Step("one", events), Step("two", events)], environ={}
        ):
            raise KeyError("body")
    assert events[-2:] == ["shutdown two", "shutdown one"]


async def test_boot_failure_names_the_provider_and_shuts_down_the_booted_in_reverse() -> None:
    events: list[str] = []
    failing = Step("three", events, fail_boot=True)
    app = Application(
        providers=[
            Step("one", events),
            Step("two", events),
            failing,
            Step("four", events),
        ],
        environ={},
    )
    with pytest.raises(BootError) as info:
        await app.start()
    assert str(info.value) == "Step failed to boot: RuntimeError: three cannot boot"
    assert info.value.provider is failing
    assert isinstance(info.value.__cause__, RuntimeError)
    assert events[4:] == [
        "boot one",
        "boot two",
        "boot three",
        "shutdown two",
        "shutdown one",
    ]
    await app.stop()  # nothing left to shut down
    assert events[-1] == "shutdown one"


async def test_boot_failure_from_a_missing_dependency() -> None:
    app = Application(providers=[Billing()], environ={})
    with pytest.raises(BootError, match=r"^Billing failed to boot: ResolutionError: No provider"):
        await app.start()


async def test_boot_failure_via_async_with_does_not_run_the_body() -> None:
    events: list[str] = []
    with pytest.raises(BootError, match="three cannot boot"):
        async with Application.boot(
            providers=[Step("one", events), Step("three", events, fail_boot=True)], environ={}
        ):
            events.append("body")
    assert "body" not in events
    assert events[-1] == "shutdown one"


async def test_register_failure_names_the_provider() -> None:
    events: list[str] = []
    app = Application(
        providers=[Step("one", events), Step("two", events, fail_register=True)], environ={}
    )
    with pytest.raises(BootError, match=r"^Step failed to register: ValueError: two cannot"):
        await app.start()
    assert not any(event.startswith("boot") for event in events)


async def test_shutdown_errors_do_not_stop_the_other_shutdowns() -> None:
    events: list[str] = []
    one = Step("one", events, fail_shutdown=True)
    three = Step("three", events, fail_shutdown=True)
    app = Application(providers=[one, Step("two", events), three], environ={})
    await app.start()
    with pytest.raises(ShutdownError) as info:
        await app.stop()
    assert events[-3:] == ["shutdown three", "shutdown two", "shutdown one"]
    assert [provider for provider, _ in info.value.errors] == [three, one]
    assert str(info.value) == (
        "2 provider(s) failed to shut down: Step (OSError: three cannot shut down); "
        "Step (OSError: one cannot shut down)"
    )
    assert isinstance(info.value.__cause__, OSError)


async def test_shutdown_errors_after_a_body_exception_are_logged_and_noted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    with caplog.at_level(logging.ERROR, logger="lexigram.di"), pytest.raises(KeyError) as info:
        async with Application.boot(
            providers=[Step("one", events), Step("two", events, fail_shutdown=True)],
            environ={},
        ):
            raise KeyError("body")
    assert events[-2:] == ["shutdown two", "shutdown one"]
    assert info.value.__notes__ == ["Step also failed to shut down: OSError: two cannot shut down"]
    assert "Step failed to shut down" in caplog.text


async def test_shutdown_errors_during_a_failed_boot_are_noted() -> None:
    events: list[str] = []
    app = Application(
        providers=[
            Step("one", events, fail_shutdown=True),
            Step("two", events, fail_boot=True),
        ],
        environ={},
    )
    with pytest.raises(BootError) as info:
        await app.start()
    assert info.value.__notes__ == ["Step also failed to shut down: OSError: one cannot shut down"]


async def test_cancelled_boot_shuts_down_and_stays_cancelled() -> None:
    events: list[str] = []
    started = asyncio.Event()

    class Slow(Provider):
        async def boot(self, container: Container) -> None:
            started.set()
            await asyncio.Event().wait()

    app = Application(providers=[Step("one", events), Slow()], environ={})
    task = asyncio.create_task(app.start())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1] == "shutdown one"


async def test_providers_and_container_after_start() -> None:
    gateway = PaymentGateway()
    async with Application.boot(providers=[provide(PaymentGateway, gateway)], environ={}) as app:
        assert await app.container.resolve(PaymentGateway) is gateway
        assert [repr(p) for p in app.providers] == ["provide(PaymentGateway)"]


async def test_override_in_a_test_after_boot() -> None:
    # The seed's "one-line provider override": the fake wins even though a real registration
    # exists and was already resolved during boot.
    class Real(PaymentGateway):
        pass

    class Fake(PaymentGateway):
        pass

    async with Application.boot(
        providers=[provide(PaymentGateway, lambda _: Real()), Billing()], environ={}
    ) as app:
        assert isinstance(await app.container.resolve(PaymentGateway), Real)
        app.container.override(PaymentGateway, Fake())
        assert isinstance(await app.container.resolve(PaymentGateway), Fake)


def test_resolution_error_is_a_lookup_error() -> None:
    assert issubclass(ResolutionError, LookupError)

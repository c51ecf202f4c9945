"""Container: registrations, resolution, overrides, failures with their chains, concurrency."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest

from lexigram.di import Container, CycleError, Key, ResolutionError

T = TypeVar("T")


class Database:
    pass


class Repository:
    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo


class PaymentGateway:
    pass


class BillingService:
    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway


class A:
    pass


class B:
    pass


class C:
    pass


async def test_singleton_instance_is_returned_as_is() -> None:
    container = Container()
    db = Database()
    container.singleton(Database, db)
    assert await container.resolve(Database) is db
    assert container.has(Database)


async def test_singleton_factory_builds_once_and_receives_the_container() -> None:
    container = Container()
    seen: list[Container] = []

    def make(c: Container) -> Database:
        seen.append(c)
        return Database()

    container.singleton(Database, factory=make)
    first = await container.resolve(Database)
    assert await container.resolve(Database) is first
    assert seen == [container]


async def test_async_factories_and_dependencies() -> None:
    container = Container()

    async def make_repo(c: Container) -> Repository:
        await asyncio.sleep(0)
        return Repository(await c.resolve(Database))

    container.singleton(Database, factory=lambda _: Database())
    container.singleton(Repository, factory=make_repo)
    container.transient(Service, lambda c: _service(c))
    service = await container.resolve(Service)
    assert service.repo is await container.resolve(Repository)
    assert service.repo.db is await container.resolve(Database)


async def _service(c: Container) -> Service:
    return Service(await c.resolve(Repository))


async def test_transient_builds_every_time() -> None:
    container = Container()
    container.transient(Database, lambda _: Database())
    assert await container.resolve(Database) is not await container.resolve(Database)


async def test_the_container_resolves_itself() -> None:
    container = Container()
    assert await container.resolve(Container) is container


async def test_later_registration_replaces_earlier_one_even_after_resolution() -> None:
    container = Container()
    container.singleton(Database, factory=lambda _: Database())
    first = await container.resolve(Database)
    container.singleton(Database, factory=lambda _: Database())
    assert await container.resolve(Database) is not first
    replacement = Database()
    container.singleton(Database, replacement)
    assert await container.resolve(Database) is replacement
    container.transient(Database, lambda _: Database())
    assert await container.resolve(Database) is not replacement


def test_singleton_needs_exactly_one_of_instance_and_factory() -> None:
    container = Container()
    with pytest.raises(TypeError, match="exactly one"):
        container.singleton(Database)
    with pytest.raises(TypeError, match="exactly one"):
        container.singleton(Database, Database(), factory=lambda _: Database())
    with pytest.raises(TypeError, match="not callable"):
        container.transient(Database, Database())  # type: ignore[arg-type]


async def test_missing_direct_request_names_the_type() -> None:
    container = Container()
    with pytest.raises(ResolutionError) as info:
        await container.resolve(PaymentGateway)
    assert str(info.value) == "No provider for PaymentGateway"
    assert info.value.key is PaymentGateway
    assert info.value.chain == (PaymentGateway,)
    assert isinstance(info.value, LookupError)


async def test_missing_dependency_names_the_chain_that_asked_for_it() -> None:
    container = Container()

    async def make_billing(c: Container) -> BillingService:
        return BillingService(await c.resolve(PaymentGateway))

    container.singleton(BillingService, factory=make_billing)
    with pytest.raises(ResolutionError) as info:
        await container.resolve(BillingService)
    assert str(info.value) == (
        "No provider for PaymentGateway (required by BillingService -> PaymentGateway)"
    )
    assert info.value.chain == (BillingService, PaymentGateway)
    # A failed build leaves nothing half-registered: it fails the same way again.
    with pytest.raises(ResolutionError, match="required by BillingService -> PaymentGateway"):
        await container.resolve(BillingService)


async def test_missing_deep_in_the_graph_shows_the_full_chain() -> None:
    container = Container()
    container.singleton(A, factory=lambda c: _resolve_then(c, B, A()))
    container.transient(B, lambda c: _resolve_then(c, C, B()))
    with pytest.raises(ResolutionError, match=r"^No provider for C \(required by A -> B -> C\)$"):
        await container.resolve(A)


async def _resolve_then(c: Container, key: type[object], result: T) -> T:
    await c.resolve(key)
    return result


async def test_cycle_is_named_not_a_hang_or_recursion_error() -> None:
    container = Container()
    container.singleton(A, factory=lambda c: _resolve_then(c, B, A()))
    container.singleton(B, factory=lambda c: _resolve_then(c, A, B()))
    with pytest.raises(CycleError) as info:
        await container.resolve(A)
    assert str(info.value) == "Dependency cycle: A -> B -> A"
    assert info.value.cycle == (A, B, A)
    assert isinstance(info.value, ResolutionError)


async def test_self_cycle_and_transient_cycle() -> None:
    container = Container()
    container.transient(A, lambda c: _resolve_then(c, A, A()))
    with pytest.raises(CycleError, match=r"^Dependency cycle: A -> A$"):
        await container.resolve(A)
    container.transient(B, lambda c: _resolve_then(c, C, B()))
    container.transient(C, lambda c: _resolve_then(c, B, C()))
    with pytest.raises(CycleError, match=r"^Dependency cycle: C -> B -> C$"):
        await container.resolve(C)


async def test_cycle_across_concurrent_tasks_is_detected() -> None:
    # Task 1 builds A and waits for B; task 2 builds B and waits for A. Neither chain alone
    # holds the cycle; a plain per-key lock would deadlock here.
    container = Container()

    async def make(c: Container, needs: type[object], result: T) -> T:
        await asyncio.sleep(0)  # let the other task start its own build
        await c.resolve(needs)
        return result

    container.singleton(A, factory=lambda c: make(c, B, A()))
    container.singleton(B, factory=lambda c: make(c, A, B()))
    async with asyncio.timeout(5):
        results = await asyncio.gather(
            container.resolve(A), container.resolve(B), return_exceptions=True
        )
    assert all(isinstance(result, CycleError) for result in results)
    messages = {str(result) for result in results}
    assert messages <= {"Dependency cycle: A -> B -> A", "Dependency cycle: B -> A -> B"}


async def test_task_spawned_by_a_factory_inherits_the_chain() -> None:
    container = Container()

    async def make_a(c: Container) -> A:
        await asyncio.gather(c.resolve(B))  # runs in a child task
        return A()

    container.singleton(A, factory=make_a)
    container.singleton(B, factory=lambda c: _resolve_then(c, A, B()))
    async with asyncio.timeout(5):
        with pytest.raises(CycleError, match=r"^Dependency cycle: A -> B -> A$"):
            await container.resolve(A)


async def test_concurrent_resolutions_in_different_tasks_are_not_cycles() -> None:
    container = Container()

    async def make_db(c: Container) -> Database:
        for _ in range(3):
            await asyncio.sleep(0)
        return Database()

    container.singleton(Database, factory=make_db)
    container.transient(Repository, lambda c: _repository(c))
    repos = await asyncio.gather(*(container.resolve(Repository) for _ in range(10)))
    assert len({id(repo) for repo in repos}) == 10
    assert len({id(repo.db) for repo in repos}) == 1


async def _repository(c: Container) -> Repository:
    return Repository(await c.resolve(Database))


async def test_concurrent_first_resolution_builds_the_singleton_once() -> None:
    container = Container()
    calls = 0

    async def make(c: Container) -> Database:
        nonlocal calls
        calls += 1
        for _ in range(5):
            await asyncio.sleep(0)
        return Database()

    container.singleton(Database, factory=make)
    results = await asyncio.gather(*(container.resolve(Database) for _ in range(100)))
    assert calls == 1
    assert all(result is results[0] for result in results)


async def test_concurrent_waiters_share_a_failed_build() -> None:
    container = Container()
    calls = 0

    async def make(c: Container) -> Database:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("database unreachable")

    container.singleton(Database, factory=make)
    results = await asyncio.gather(
        *(container.resolve(Database) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1
    assert all(isinstance(result, RuntimeError) for result in results)
    # Not cached: the next resolution tries again.
    with pytest.raises(RuntimeError):
        await container.resolve(Database)
    assert calls == 2


async def test_cancelled_builder_hands_the_build_to_a_waiter() -> None:
    container = Container()
    release = asyncio.Event()
    calls = 0

    async def make(c: Container) -> Database:
        nonlocal calls
        calls += 1
        await release.wait()
        return Database()

    container.singleton(Database, factory=make)
    builder = asyncio.create_task(container.resolve(Database))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(container.resolve(Database))
    await asyncio.sleep(0)
    builder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await builder
    release.set()
    db = await waiter
    assert calls == 2
    assert await container.resolve(Database) is db


async def test_cancelled_waiter_does_not_cancel_the_build() -> None:
    container = Container()
    release = asyncio.Event()

    async def make(c: Container) -> Database:
        await release.wait()
        return Database()

    container.singleton(Database, factory=make)
    builder = asyncio.create_task(container.resolve(Database))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(container.resolve(Database))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    assert isinstance(await builder, Database)


async def test_factory_errors_propagate_with_a_note_on_where() -> None:
    container = Container()

    def broken(c: Container) -> Database:
        raise ValueError("bad dsn")

    container.singleton(Database, factory=broken)
    container.singleton(Repository, factory=lambda c: _repo_from(c))
    with pytest.raises(ValueError, match="bad dsn") as info:
        await container.resolve(Repository)
    assert info.value.__notes__ == ["while resolving Repository -> Database"]


async def _repo_from(c: Container) -> Repository:
    return Repository(await c.resolve(Database))


async def test_resolve_optional() -> None:
    container = Container()
    assert await container.resolve_optional(Database) is None
    container.singleton(Database, factory=lambda _: Database())
    assert isinstance(await container.resolve_optional(Database), Database)
    # Present but broken is not absent: the failure surfaces.
    container.singleton(BillingService, factory=lambda c: _billing(c))
    with pytest.raises(ResolutionError, match="required by BillingService -> PaymentGateway"):
        await container.resolve_optional(BillingService)


async def _billing(c: Container) -> BillingService:
    return BillingService(await c.resolve(PaymentGateway))


async def test_override_wins_after_resolution_and_over_later_registrations() -> None:
    container = Container()
    container.singleton(PaymentGateway, factory=lambda _: PaymentGateway())
    real = await container.resolve(PaymentGateway)
    fake = PaymentGateway()
    container.override(PaymentGateway, fake)
    assert await container.resolve(PaymentGateway) is fake
    container.singleton(PaymentGateway, PaymentGateway())
    container.singleton(PaymentGateway, factory=lambda _: real)
    container.transient(PaymentGateway, lambda _: real)
    assert await container.resolve(PaymentGateway) is fake
    assert await container.resolve_optional(PaymentGateway) is fake


async def test_override_of_a_transient_and_of_an_unregistered_key() -> None:
    container = Container()
    container.transient(Database, lambda _: Database())
    fake = Database()
    container.override(Database, fake)
    assert await container.resolve(Database) is fake
    gateway = PaymentGateway()
    container.override(PaymentGateway, gateway)
    assert container.has(PaymentGateway)
    assert await container.resolve(PaymentGateway) is gateway


async def test_override_during_a_build_wins() -> None:
    container = Container()
    fake = Database()

    async def make(c: Container) -> Database:
        c.override(Database, fake)
        return Database()

    container.singleton(Database, factory=make)
    assert await container.resolve(Database) is fake
    assert await container.resolve(Database) is fake


async def test_named_keys() -> None:
    container = Container()
    dsn = Key[str]("dsn")
    other = Key[str]("dsn")
    container.singleton(dsn, "postgres://db")
    assert await container.resolve(dsn) == "postgres://db"
    assert not container.has(other)  # keys compare by identity
    with pytest.raises(ResolutionError, match=r"^No provider for Key\('dsn'\)$"):
        await container.resolve(other)
    assert repr(dsn) == "Key('dsn')"


async def test_has() -> None:
    container = Container()
    assert not container.has(Database)
    container.transient(Database, lambda _: Database())
    assert container.has(Database)


async def test_errors_do_not_chain_an_internal_key_error() -> None:
    container = Container()
    with pytest.raises(ResolutionError) as info:
        await container.resolve(Database)
    assert info.value.__context__ is None

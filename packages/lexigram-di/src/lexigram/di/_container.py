"""The container: keys to singletons, transients and overrides, resolved asynchronously."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Final, Generic, TypeAlias, TypeVar, final

from lexigram.di._errors import CycleError, ResolutionError, key_name

__all__ = ["Container", "Factory", "Key"]

T = TypeVar("T")

Factory: TypeAlias = Callable[["Container"], T | Awaitable[T]]
"""Builds an instance; called with the container, may be sync or async."""

_MISSING: Final = object()
_NOTE: Final = "while resolving "

# The keys this task is resolving, outermost first. A context variable because the chain
# belongs to one asyncio task: two tasks resolving the same key at once is not a cycle, while a
# task spawned inside a factory inherits the chain of the resolution that spawned it.
_CHAIN: ContextVar[tuple[object, ...]] = ContextVar("lexigram.di.chain", default=())


@final
class Key(Generic[T]):
    """A named key for a value that has no type of its own: ``Key[str]("database_url")``.

    Keys compare by identity, so two libraries never collide on a name. Types (classes and
    protocols alike) are the usual keys; ``Key`` is for the rest.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"


class Container:
    """Maps keys (types, protocols, :class:`Key`) to instances.

    ``singleton`` values are built once, ``transient`` ones on every ``resolve``. Factories are
    called with the container as their one argument and may be sync or async. ``override``
    replaces a key for tests and wins over every registration, before or after resolution.
    """

    __slots__ = ("_building", "_factories", "_hint", "_instances", "_overridden", "_waiting")

    def __init__(self) -> None:
        # Built singletons and overrides: the only thing the fast path of resolve() reads.
        self._instances: dict[object, Any] = {Container: self}
        self._factories: dict[object, tuple[Factory[Any], bool]] = {}
        self._overridden: set[object] = set()
        # Singletons under construction, so that concurrent first resolutions build once.
        self._building: dict[object, asyncio.Future[Any]] = {}
        # (chain of a task, key it awaits): who waits for whom, to detect cross-task cycles.
        self._waiting: list[tuple[tuple[object, ...], object]] = []
        # Added to "No provider" errors while set: the Application's "not started" hint.
        self._hint: str | None = None

    def __repr__(self) -> str:
        keys = {*self._instances, *self._factories} - {Container}
        built = sum(key in self._instances for key in keys)
        return f"<Container keys={len(keys)} built={built} overridden={len(self._overridden)}>"

    def singleton(
        self,
        key: type[T] | Key[T],
        instance: T | None = None,
        *,
        factory: Factory[T] | None = None,
    ) -> None:
        """Register one shared instance for ``key``: given, or built by ``factory`` on first use.

        A later registration of the same key replaces the earlier one.
        """
        if (instance is None) == (factory is None):
            raise TypeError(f"singleton({key_name(key)}) needs exactly one of instance or factory")
        if factory is None:
            self._factories.pop(key, None)
            if key not in self._overridden:
                self._instances[key] = instance
            return
        self._register(key, factory, singleton=True)

    def transient(self, key: type[T] | Key[T], factory: Factory[T]) -> None:
        """Register ``factory`` to build a new instance of ``key`` on every ``resolve``."""
        self._register(key, factory, singleton=False)

    def override(self, key: type[T] | Key[T], instance: T) -> None:
        """Make ``key`` resolve to ``instance`` from now on, whatever is or will be registered.

        Meant for tests: ``app.container.override(HTTPClientProtocol, FakeHTTPClient())``.
        Instances built earlier keep what they were given; override before resolving them.
        """
        self._overridden.add(key)
        self._instances[key] = instance

    def has(self, key: object) -> bool:
        """Whether ``key`` is registered or overridden."""
        return key in self._instances or key in self._factories

    async def resolve(self, key: type[T] | Key[T]) -> T:
        """The instance for ``key``; raises :class:`ResolutionError` when none is registered."""
        # Fast path: a built singleton or an override is one dict lookup, with no lock and no
        # context variable. try/except beats dict.get() on a hit (measured, ~20 ns); a miss
        # builds something anyway, which costs far more than the KeyError.
        try:
            instance: T = self._instances[key]
        except KeyError:
            pass  # build outside the handler, or every error would chain this KeyError
        else:
            return instance
        built: T = await self._create(key)
        return built

    async def resolve_optional(self, key: type[T] | Key[T]) -> T | None:
        """Like :meth:`resolve`, but ``None`` when ``key`` is not registered at all.

        A registration that exists but fails (a missing dependency, a raising factory) still
        raises: only absence means ``None``.
        """
        instance: T = self._instances.get(key, _MISSING)
        if instance is not _MISSING:
            return instance
        if key not in self._factories:
            return None
        instance = await self._create(key)
        return instance

    def _register(self, key: object, factory: Factory[Any], *, singleton: bool) -> None:
        if not callable(factory):
            raise TypeError(f"the factory for {key_name(key)} is not callable: {factory!r}")
        self._factories[key] = (factory, singleton)
        if key not in self._overridden:
            # Drop an instance built from an earlier registration of the same key.
            self._instances.pop(key, None)

    async def _create(self, key: object) -> Any:
        chain = _CHAIN.get()
        entry = self._factories.get(key)
        if entry is None:
            error = ResolutionError(key, chain)
            if self._hint is not None:
                error = ResolutionError(key, chain, f"{error}: {self._hint}")
            raise error
        if key in chain:
            raise CycleError((*chain[chain.index(key) :], key))
        factory, singleton = entry
        if not singleton:
            return await self._call(factory, key, chain)

        while (pending := self._building.get(key)) is not None:
            cycle = self._wait_cycle(chain, key)
            if cycle is not None:
                raise CycleError(cycle)
            record = (chain, key)
            self._waiting.append(record)
            try:
                # shield(): a waiter being cancelled must not cancel the build the others share.
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The task building it was cancelled, not this one: build it here instead.
            finally:
                self._waiting.remove(record)
        instance = self._instances.get(key, _MISSING)
        if instance is not _MISSING:
            return instance

        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            instance = await self._call(factory, key, chain)
        except BaseException as exc:
            del self._building[key]
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # marks it retrieved: maybe nobody was waiting for it
            raise
        del self._building[key]
        # An override made during the build wins over what was built.
        instance = self._instances.setdefault(key, instance)
        future.set_result(instance)
        return instance

    async def _call(self, factory: Factory[Any], key: object, chain: tuple[object, ...]) -> Any:
        token = _CHAIN.set((*chain, key))
        try:
            result = factory(self)
            if inspect.isawaitable(result):
                result = await result
            return result
        except ResolutionError:
            raise
        except Exception as exc:
            # Say where it happened once, at the innermost factory; outer ones re-raise as is.
            if not any(note.startswith(_NOTE) for note in getattr(exc, "__notes__", ())):
                exc.add_note(f"{_NOTE}{' -> '.join(map(key_name, (*chain, key)))}")
            raise
        finally:
            _CHAIN.reset(token)

    def _wait_cycle(self, chain: tuple[object, ...], key: object) -> tuple[object, ...] | None:
        """The cycle that waiting for ``key`` (built by another task) would close, if any.

        Follows "the task building K waits for K2" edges from ``key``; reaching a key this task
        is itself building means neither side can finish.
        """
        if not chain:
            return None
        paths: list[tuple[object, ...]] = [(key,)]
        seen = {id(key)}
        while paths:
            path = paths.pop()
            last = path[-1]
            for waiter_chain, target in self._waiting:
                if last not in waiter_chain:
                    continue
                step = (*path, *waiter_chain[waiter_chain.index(last) + 1 :], target)
                if target in chain:
                    return (*chain[chain.index(target) :], *step)
                if id(target) not in seen:
                    seen.add(id(target))
                    paths.append(step)
        return None

"""Modules: named groups of providers that import other modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar

from pydantic import BaseModel

from lexigram.di._errors import BootError, key_name
from lexigram.di._provider import Provider

__all__ = [
    "DynamicModule",
    "Module",
    "ModuleSpec",
    "ProviderSpec",
    "fields_set_in_code",
    "flatten",
    "instantiate",
    "module",
]

ProviderSpec: TypeAlias = "Provider | type[Provider]"
"""A provider instance, or a provider class the application instantiates with no arguments."""
ModuleSpec: TypeAlias = "type[Module] | DynamicModule"
"""A module class, or one configuration of it."""

M = TypeVar("M", bound="type[Module]")


class Module:
    """A named group of providers, declared with :func:`module` and never instantiated.

    ``imports`` come before the importer: their providers register and boot first. ``exports``
    lists the keys the module promises to register; boot fails if one is missing.
    Subclasses with settings override :meth:`configure` (and :meth:`stub` for tests) to return
    a :class:`DynamicModule`.
    """

    imports: ClassVar[Sequence[ModuleSpec]] = ()
    providers: ClassVar[Sequence[ProviderSpec]] = ()
    exports: ClassVar[Sequence[object]] = ()

    @classmethod
    def configure(cls, *args: Any, **kwargs: Any) -> DynamicModule:
        """This module with settings. The base version takes none and adds nothing.

        Overrides return ``DynamicModule(cls, providers=[...], config=settings)``: ``config``
        is what tells configurations apart, so two equal ones count as one import.
        """
        if args or kwargs:
            raise TypeError(
                f"{key_name(cls)}.configure() takes no arguments; override it to accept some"
            )
        return DynamicModule(cls)

    @classmethod
    def stub(cls, *args: Any, **kwargs: Any) -> DynamicModule:
        """This module for tests: no outside traffic. The base version is ``configure()``."""
        return cls.configure(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class DynamicModule:
    """One configuration of a module: its class, extra providers and imports, and an identity.

    Two dynamic modules are equal when their ``module`` and ``config`` are; an application
    keeps one of equal imports and refuses two unequal ones of the same module class. The
    providers and imports here come in addition to those the class declares.
    """

    module: type[Module]
    providers: Sequence[ProviderSpec] = field(default=(), compare=False)
    imports: Sequence[ModuleSpec] = field(default=(), compare=False)
    exports: Sequence[object] = field(default=(), compare=False)
    config: object = None
    """What makes this configuration distinct (settings, or a marker such as ``"stub"``)."""

    def __post_init__(self) -> None:
        if not (isinstance(self.module, type) and issubclass(self.module, Module)):
            raise TypeError(f"DynamicModule needs a Module subclass, got {self.module!r}")
        for name in ("providers", "imports", "exports"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def __repr__(self) -> str:
        if self.config is None:
            return key_name(self.module)
        return f"{key_name(self.module)}(config={self.config!r})"


def module(
    *,
    imports: Iterable[ModuleSpec] = (),
    providers: Iterable[ProviderSpec] = (),
    exports: Iterable[object] = (),
) -> Callable[[M], M]:
    """Declare a :class:`Module` subclass's imports, providers and exported keys.

    ``@module(imports=[HTTPModule.configure(HTTPClientConfig())]) class AppModule(Module): ...``
    """
    imported, provided, exported = tuple(imports), tuple(providers), tuple(exports)

    def decorate(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"@module decorates Module subclasses, not {cls!r}")
        cls.imports, cls.providers, cls.exports = imported, provided, exported
        return cls

    return decorate


def flatten(
    roots: Iterable[ModuleSpec], overrides: Iterable[ModuleSpec] = ()
) -> list[DynamicModule]:
    """Every module reachable from ``roots``, depth-first, imports before importers.

    Equal imports count once; two unequal configurations of one module class, or an import
    cycle, raise :class:`BootError`. A module in ``overrides`` replaces every import of its
    module class (``HTTPModule.stub()`` for the app's ``HTTPModule.configure()``); one that
    nothing imports, or two of the same class, raise :class:`BootError`.
    """
    replacing: dict[type[Module], DynamicModule] = {}
    for spec in overrides:
        dynamic = _dynamic(spec, "Application overrides=")
        if dynamic.module in replacing:
            raise BootError(
                f"overrides= lists {key_name(dynamic.module)} twice: "
                f"{replacing[dynamic.module]!r} and {dynamic!r}"
            )
        replacing[dynamic.module] = dynamic
    chosen: dict[type[Module], tuple[DynamicModule, tuple[str, ...]]] = {}
    visiting: list[type[Module]] = []
    order: list[DynamicModule] = []

    def visit(spec: ModuleSpec, via: tuple[str, ...]) -> None:
        dynamic = _dynamic(spec, f"{' -> '.join(via)} imports")
        dynamic = replacing.get(dynamic.module, dynamic)
        cls = dynamic.module
        if cls in visiting:
            cycle = [*visiting[visiting.index(cls) :], cls]
            raise BootError(f"Module import cycle: {' -> '.join(map(key_name, cycle))}")
        path = (*via, key_name(cls))
        previous = chosen.get(cls)
        if previous is not None:
            if previous[0] == dynamic:
                return
            raise BootError(
                f"{key_name(cls)} is imported with two different configurations: "
                f"{previous[0]!r} via {' -> '.join(previous[1])}, "
                f"and {dynamic!r} via {' -> '.join(path)}"
            )
        chosen[cls] = (dynamic, path)
        visiting.append(cls)
        for imported in (*cls.imports, *dynamic.imports):
            visit(imported, path)
        visiting.pop()
        order.append(dynamic)

    for root in roots:
        visit(root, ("Application",))
    unused = [dynamic for cls, dynamic in replacing.items() if cls not in chosen]
    if unused:
        raise BootError(
            f"overrides= lists {', '.join(map(repr, unused))}, but no module imports "
            f"{', '.join(key_name(dynamic.module) for dynamic in unused)}: "
            "list it in modules= instead"
        )
    return order


def _dynamic(spec: ModuleSpec, where: str) -> DynamicModule:
    if isinstance(spec, DynamicModule):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return DynamicModule(spec)
    raise BootError(f"{where} {spec!r}, which is not a Module")


def instantiate(specs: Iterable[tuple[ProviderSpec, str]]) -> list[Provider]:
    """Provider instances for ``(spec, owner)`` pairs, each instance or class once.

    Classes are instantiated with no arguments, once per application.
    """
    out: list[Provider] = []
    seen: set[int] = set()
    for spec, owner in specs:
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        if isinstance(spec, Provider):
            out.append(spec)
        elif isinstance(spec, type) and issubclass(spec, Provider):
            try:
                out.append(spec())
            except Exception as exc:
                raise BootError(
                    f"{owner} lists provider class {key_name(spec)}, which could not be "
                    f"instantiated with no arguments: {exc}"
                ) from exc
        else:
            raise BootError(f"{owner} lists {spec!r}, which is not a Provider")
    return out


def fields_set_in_code(config: BaseModel | None) -> tuple[tuple[str, object], ...]:
    """The ``(dotted.path, value)`` of every field set explicitly in ``config``, sorted.

    What tells two ``Module.configure(config)`` calls apart: pydantic compares values only,
    so ``Config()`` equals ``Config(x=<its default>)``, yet the second pins ``x`` over the
    file and the environment. Nested models and mappings of models are walked.
    """
    fields: list[tuple[str, object]] = []

    def walk(model: BaseModel, prefix: str) -> None:
        for name in sorted(model.model_fields_set):
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                walk(value, f"{prefix}{name}.")
            elif isinstance(value, Mapping):
                for item_name, item in sorted(value.items()):
                    if isinstance(item, BaseModel):
                        walk(item, f"{prefix}{name}.{item_name}.")
                    else:
                        fields.append((f"{prefix}{name}.{item_name}", item))
            else:
                fields.append((f"{prefix}{name}", value))

    if config is not None:
        walk(config, "")
    return tuple(fields)

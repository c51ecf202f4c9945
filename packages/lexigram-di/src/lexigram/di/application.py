"""The application: modules and providers, configured, registered, booted and shut down."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self

from lexigram.di._config import DEFAULT_CONFIG_FILE, PROFILE_VAR, load, resolve_section
from lexigram.di._container import Container
from lexigram.di._errors import BootError, ConfigError, ShutdownError, key_name
from lexigram.di._module import ModuleSpec, ProviderSpec, flatten, instantiate
from lexigram.di._provider import Provider, describe

__all__ = ["Application"]

logger = logging.getLogger("lexigram.di")

_State = Literal["new", "starting", "started", "failed", "stopped"]

_NOT_STARTED = (
    "the Application has not started; enter it first: "
    "`async with Application.boot(modules=[...]) as app:` (or `await app.start()`)"
)


class Application:
    """Runs modules and providers: ``async with Application.boot(modules=[AppModule]) as app``.

    ``start()`` collects the providers (imports before importers, then ``providers=``),
    reads the configuration (``config_file``, by default ``application.yaml`` in the working
    directory, ``None`` for no file; its ``.{profile}`` overlay; ``LEX_*`` variables), gives each
    provider its section, calls every ``register``, then every ``boot`` in that same order.
    ``stop()`` shuts the booted providers down in reverse. ``app.container`` resolves services;
    it also holds the application itself under :class:`Application`.

    ``profile`` defaults to the ``LEX_PROFILE`` variable; ``environ`` (default ``os.environ``)
    replaces the process environment, for tests. ``overrides`` are modules that replace every
    import of their module class, for tests: ``overrides=[HTTPModule.stub(transport=mock)]``
    stands in for the ``HTTPModule.configure(...)`` that ``AppModule`` imports.
    """

    def __init__(
        self,
        modules: Iterable[ModuleSpec] = (),
        providers: Iterable[ProviderSpec] = (),
        config_file: str | os.PathLike[str] | None = DEFAULT_CONFIG_FILE,
        *,
        profile: str | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Iterable[ModuleSpec] = (),
    ) -> None:
        self.container = Container()
        self.providers: tuple[Provider, ...] = ()
        """Every provider, in boot order (filled by ``start``)."""
        self.config: Mapping[str, Any] = MappingProxyType({})
        """The merged configuration data, all sections, before validation (filled by ``start``)."""
        self.profile = profile
        self._modules = tuple(modules)
        self._provider_specs = tuple(providers)
        self._overrides = tuple(overrides)
        self._config_file = config_file
        self._environ = environ
        self._state: _State = "new"
        self._booted: list[Provider] = []
        self.container._hint = _NOT_STARTED

    def __repr__(self) -> str:
        modules = ", ".join(key_name(getattr(spec, "module", spec)) for spec in self._modules)
        # Module class names only: a configuration's repr may hold values from the config.
        booted = f" providers={len(self.providers)}" if self.providers else ""
        return (
            f"<{type(self).__name__} {self._state} modules=[{modules}]{booted} "
            f"profile={self.profile!r}>"
        )

    @classmethod
    def boot(
        cls,
        modules: Iterable[ModuleSpec] = (),
        providers: Iterable[ProviderSpec] = (),
        config_file: str | os.PathLike[str] | None = DEFAULT_CONFIG_FILE,
        *,
        profile: str | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Iterable[ModuleSpec] = (),
    ) -> Self:
        """An application to enter with ``async with``: started on entry, stopped on exit."""
        return cls(
            modules,
            providers,
            config_file,
            profile=profile,
            environ=environ,
            overrides=overrides,
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.stop()
            return
        # The body's exception is the one to see: shutdown failures become notes on it.
        self._mark_stopped()
        _report(await self._shutdown(), exc)

    async def start(self) -> None:
        """Configure, register and boot every provider; an application starts once.

        Raises :class:`ConfigError` for bad configuration, :class:`BootError` naming the
        provider whose ``register`` or ``boot`` failed (after shutting down, in reverse, the
        providers already booted).
        """
        if self._state != "new":
            raise RuntimeError(f"this Application is {self._state}; an application starts once")
        self._state = "starting"
        self.container._hint = None
        try:
            await self._start()
        except BaseException:
            self._state = "failed"
            raise
        self._state = "started"

    async def stop(self) -> None:
        """Shut the booted providers down in reverse boot order; safe to call twice.

        Every ``shutdown`` is awaited even if one fails; then :class:`ShutdownError` lists the
        failures.
        """
        self._mark_stopped()
        failures = await self._shutdown()
        if failures:
            raise ShutdownError(failures) from failures[0][1]

    async def _start(self) -> None:
        modules = flatten(self._modules, self._overrides)
        specs = [
            (spec, key_name(dynamic.module))
            for dynamic in modules
            for spec in (*dynamic.module.providers, *dynamic.providers)
        ]
        specs.extend((spec, "Application") for spec in self._provider_specs)
        providers = instantiate(specs)
        self.providers = tuple(providers)

        environ = os.environ if self._environ is None else self._environ
        if self.profile is None:
            self.profile = environ.get(PROFILE_VAR) or None
        layers = load(self._config_file, self.profile, environ)
        self.config = MappingProxyType(layers.data)
        errors = [line for provider in providers for line in resolve_section(provider, layers)]
        if errors:
            errors = list(dict.fromkeys(errors))  # two providers may share a section
            raise ConfigError("\n".join(errors), errors=errors)

        container = self.container
        container.singleton(Application, self)
        if type(self) is not Application:
            container.singleton(type(self), self)
        for provider in providers:
            try:
                provider.register(container)
            except Exception as exc:
                raise BootError(
                    f"{describe(provider)} failed to register: {type(exc).__name__}: {exc}",
                    provider=provider,
                ) from exc
        for dynamic in modules:
            for key in (*dynamic.module.exports, *dynamic.exports):
                if not container.has(key):
                    raise BootError(
                        f"{key_name(dynamic.module)} exports {key_name(key)}, "
                        "but no provider registers it"
                    )

        for provider in providers:
            try:
                await provider.boot(container)
            except BaseException as exc:
                failures = await self._shutdown()
                if not isinstance(exc, Exception):  # cancellation: shut down, then let it through
                    _report(failures, exc)
                    raise
                error = BootError(
                    f"{describe(provider)} failed to boot: {type(exc).__name__}: {exc}",
                    provider=provider,
                )
                _report(failures, error)
                raise error from exc
            self._booted.append(provider)

    def _mark_stopped(self) -> None:
        if self._state == "started":
            self._state = "stopped"

    async def _shutdown(self) -> list[tuple[Provider, BaseException]]:
        failures: list[tuple[Provider, BaseException]] = []
        # Pop one at a time: if this task is cancelled midway, a later stop() finishes the job.
        while self._booted:
            provider = self._booted.pop()
            try:
                await provider.shutdown()
            except Exception as exc:
                failures.append((provider, exc))
        return failures


def _report(failures: list[tuple[Provider, BaseException]], onto: BaseException) -> None:
    """Shutdown failures that cannot be raised: logged, and noted on the exception that is."""
    for provider, exc in failures:
        logger.error("%s failed to shut down", describe(provider), exc_info=exc)
        onto.add_note(f"{describe(provider)} also failed to shut down: {type(exc).__name__}: {exc}")

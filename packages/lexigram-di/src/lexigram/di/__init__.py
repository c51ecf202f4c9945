"""lexigram.di: a small, strict async DI kernel.

A :class:`Container` maps keys (types, protocols, :class:`Key`) to singletons, transients and
test overrides. :class:`Provider` objects register services and own their lifecycle;
:class:`Module` classes group providers and import each other; an :class:`Application` loads
the layered configuration, registers and boots everything, and shuts it down in reverse.
"""

# The submodule lexigram.di.module shares its name with the decorator. Loading a submodule sets
# the package attribute of that name, so load it first and bind the decorator after it.
from lexigram.di import module as _module_submodule  # noqa: F401
from lexigram.di._container import Container, Factory, Key
from lexigram.di._errors import (
    BootError,
    ConfigError,
    CycleError,
    ResolutionError,
    ShutdownError,
)
from lexigram.di._module import DynamicModule, Module, module
from lexigram.di._provider import Provider, provide
from lexigram.di.application import Application

__all__ = [
    "Application",
    "BootError",
    "ConfigError",
    "Container",
    "CycleError",
    "DynamicModule",
    "Factory",
    "Key",
    "Module",
    "Provider",
    "ResolutionError",
    "ShutdownError",
    "module",
    "provide",
]

"""The public surface: a sorted, complete ``__all__``, and the import paths the docs use."""

from __future__ import annotations

import importlib
import types

import pytest

import lexigram
import lexigram.di


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_all_is_sorted_and_complete() -> None:
    assert lexigram.di.__all__ == sorted(lexigram.di.__all__)
    assert set(lexigram.di.__all__) == _public_names(lexigram.di)


def test_every_public_object_has_a_docstring() -> None:
    for name in lexigram.di.__all__:
        if name == "Factory":  # a type alias: documented in its module and in docs/di.md
            continue
        assert (getattr(lexigram.di, name).__doc__ or "").strip(), name


def test_seed_import_paths() -> None:
    from lexigram import Application
    from lexigram.di.module import DynamicModule, Module, module

    assert Application is lexigram.di.Application
    assert Module is lexigram.di.Module
    assert DynamicModule is lexigram.di.DynamicModule
    assert lexigram.__all__ == ["Application"]
    submodule = importlib.import_module("lexigram.di.module")
    assert submodule.__all__ == sorted(submodule.__all__)
    # The submodule shares its name with the decorator; the package attribute stays the
    # decorator whatever the import order.
    assert lexigram.di.module is module
    assert callable(module)
    assert not isinstance(vars(lexigram.di)["module"], types.ModuleType)


def test_the_root_package_loads_application_lazily() -> None:
    # Every ``import lexigram.<member>`` runs lexigram/__init__.py: it must not drag in
    # pydantic and yaml for code that only uses the contracts.
    import subprocess
    import sys

    code = (
        "import sys, lexigram.result\n"
        "assert 'pydantic' not in sys.modules and 'yaml' not in sys.modules, 'eager'\n"
        "from lexigram import Application\n"
        "assert Application.__module__ == 'lexigram.di.application'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_root_package_names_unknown_attributes() -> None:
    import lexigram

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = lexigram.nope

"""The public package: a sorted ``__all__`` that is the union of its modules' ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import lexigram.http_cli


def test_all_is_sorted_complete_and_documented() -> None:
    exported = lexigram.http_cli.__all__
    assert exported == sorted(exported)
    declared: set[str] = set()
    for info in pkgutil.iter_modules(lexigram.http_cli.__path__):
        if info.name.startswith("_") and info.name != "__main__":
            declared |= set(importlib.import_module(f"lexigram.http_cli.{info.name}").__all__)
    assert set(exported) == declared
    for name in exported:
        value = getattr(lexigram.http_cli, name)
        assert value is not None
        if inspect.isfunction(value):
            assert inspect.getdoc(value), name


def test_the_library_distributions_never_import_the_cli_libraries() -> None:
    import lexigram.contracts.web
    import lexigram.di
    import lexigram.http
    import lexigram.resilience

    for package in (lexigram.http, lexigram.resilience, lexigram.contracts.web, lexigram.di):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            source = inspect.getsource(module)
            for library in ("typer", "rich"):
                assert f"import {library}" not in source, module
                assert f"from {library}" not in source, module

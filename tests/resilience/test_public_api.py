"""The public package exports everything its private modules define, in sorted order."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re

import lexigram.resilience


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 enforces: CONSTANTS, then Classes, then functions.
    if re.fullmatch(r"[A-Z0-9_]+", name) and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def _defined(module_name: str) -> set[str]:
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_all_is_sorted_and_unique() -> None:
    exported = lexigram.resilience.__all__
    assert exported == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)


def test_all_is_complete_and_resolvable() -> None:
    defined: set[str] = set()
    for info in pkgutil.iter_modules(lexigram.resilience.__path__):
        if info.name.startswith("_"):
            defined |= _defined(f"lexigram.resilience.{info.name}")
    # Re-exported from the contracts: the one fake clock, shared with lexigram.testing.http.
    reexported = {"FakeClock"}
    assert set(lexigram.resilience.__all__) == defined | reexported
    for name in lexigram.resilience.__all__:
        assert getattr(lexigram.resilience, name) is not None


def test_every_public_class_and_function_is_documented() -> None:
    for name in lexigram.resilience.__all__:
        value = getattr(lexigram.resilience, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name


def test_the_package_never_imports_the_http_client() -> None:
    for info in pkgutil.iter_modules(lexigram.resilience.__path__):
        source = inspect.getsource(importlib.import_module(f"lexigram.resilience.{info.name}"))
        assert "lexigram.http" not in source.replace("lexigram.http-", "")
        assert "aiohttp" not in source

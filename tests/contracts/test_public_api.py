"""Each public package exports everything its private modules define, in sorted order."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

PACKAGES = [
    "lexigram.result",
    "lexigram.contracts.web",
    "lexigram.contracts.clock",
    "lexigram.contracts.resilience",
    "lexigram.contracts.observability",
]


def _private_modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("_")
    ]


def _top_level_public_names(module: ModuleType) -> set[str]:
    """Names a module defines at top level (classes, functions, assignments), not imports."""
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 enforces: CONSTANTS, then Classes, then functions.
    if re.fullmatch(r"[A-Z0-9_]+", name) and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert exported == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_complete(name: str) -> None:
    package = importlib.import_module(name)
    modules = _private_modules(package)
    assert modules, f"{name} has no private modules"
    defined: set[str] = set()
    for module in modules:
        public = _top_level_public_names(module)
        # Each private module lists its own public names ...
        assert set(module.__all__) == public, module.__name__
        defined |= public
    # ... and the package re-exports all of them, and nothing else.
    assert set(package.__all__) == defined


@pytest.mark.parametrize("name", PACKAGES)
def test_every_export_resolves_and_has_a_docstring(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__doc__
    for export in package.__all__:
        obj = getattr(package, export)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), export
            for member_name, member in vars(obj).items():
                if member_name.startswith("_") or not (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    continue
                assert inspect.getdoc(member), f"{export}.{member_name}"


def test_no_third_party_imports() -> None:
    # The contracts distribution is stdlib-only; every module it imports must be stdlib or ours.
    import sys

    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in [package, *_private_modules(package)]:
            tree = ast.parse(inspect.getsource(module))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    roots = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    roots = [node.module.split(".")[0]]
                else:
                    continue
                for root in roots:
                    assert root == "lexigram" or root in sys.stdlib_module_names, (
                        module.__name__,
                        root,
                    )


@pytest.mark.parametrize(
    "name", ["lexigram.result", "lexigram.result._result", "lexigram.contracts.web._redaction"]
)
def test_doctests(name: str) -> None:
    import doctest

    results = doctest.testmod(importlib.import_module(name))
    assert results.failed == 0

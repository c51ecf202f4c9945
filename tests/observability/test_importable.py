"""The package imports without its extras' names loaded, and its public API is complete."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import lexigram.observability as package


def test_member_imports_without_loading_opentelemetry_or_prometheus() -> None:
    code = (
        "import sys, lexigram.observability\n"
        "assert not [m for m in sys.modules if m.startswith(('opentelemetry', 'prometheus'))]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_all_is_sorted_and_every_private_modules_exports_are_in_it() -> None:
    exported = package.__all__
    assert len(set(exported)) == len(exported)
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        assert set(module.__all__) <= set(exported), module.__name__


@pytest.mark.parametrize("name", package.__all__)
def test_every_export_resolves_and_has_a_docstring(name: str) -> None:
    obj = getattr(package, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), name
        for member_name, member in vars(obj).items():
            if member_name.startswith("_") or not inspect.isfunction(member):
                continue
            assert inspect.getdoc(member), f"{name}.{member_name}"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = package.Nope

"""The public surface: a sorted, complete ``__all__`` and the namespace layout."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import lexigram.testing.http as testing_http

SRC = Path(__file__).parents[2] / "packages" / "lexigram-http-testing" / "src"
PRIVATE = [
    "_answers",
    "_cassette",
    "_clock",
    "_errors",
    "_fake_client",
    "_matching",
    "_recorder",
    "_replayer",
    "_router",
    "_scrub",
    "_session",
    "_streaming",
]


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert testing_http.__all__ == sorted(testing_http.__all__)
    for name in testing_http.__all__:
        assert getattr(testing_http, name) is not None
    assert set(testing_http.__all__) <= set(dir(testing_http))


def test_the_private_modules_public_names_are_exported_where_meant() -> None:
    exported = set(testing_http.__all__)
    internal = {
        "Check",
        "FORMAT",
        "JSONPattern",
        "MISSING",
        "Matcher",
        "RECORD_MODES",
        "RequestView",
        "Scrubber",
        "VERSION",
        "param_text",
    }
    for module_name in [*PRIVATE, "_transport"]:
        module = importlib.import_module(f"lexigram.testing.http.{module_name}")
        for name in getattr(module, "__all__", []):
            assert name in exported or name in internal, f"{module_name}.{name}"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = testing_http.Nope  # type: ignore[attr-defined]


def test_namespace_levels_have_no_init_files() -> None:
    assert not (SRC / "lexigram" / "__init__.py").exists()
    assert not (SRC / "lexigram" / "testing" / "__init__.py").exists()
    assert not (SRC / "lexigram" / "testing" / "py.typed").exists()
    assert (SRC / "lexigram" / "testing" / "http" / "py.typed").exists()

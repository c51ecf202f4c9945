"""The member installs and imports on its own (its features arrive with their own issue)."""

import importlib


def test_member_imports_alone() -> None:
    mod = importlib.import_module("lexigram.testing.http")
    assert mod.__doc__

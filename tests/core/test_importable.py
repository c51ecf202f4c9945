"""The member installs and imports on its own."""

import importlib


def test_member_imports_alone() -> None:
    mod = importlib.import_module("lexigram.http")
    assert mod.__doc__

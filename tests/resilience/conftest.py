"""Fixtures of the resilience tests: a fake clock that everything shares."""

from __future__ import annotations

import pytest

from lexigram.resilience import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
